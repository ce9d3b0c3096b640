/*
 * test_table.c — the aggregate transition table: absorbing values in any
 * order equals folding them with merge, partial tables combine, the
 * serialized state round-trips, it grows, and it rejects what validate does.
 */
#include "unit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FOLD_MAX_VALUES 40

static void
table_open(CrdtCounterTable *t, CrdtCounterKind kind)
{
	CrdtError	err;

	if (!CHECK_OK(crdt_table_init(t, kind, &crdt_malloc_allocator, &err), &err))
		abort();
}

/* write(t, kind) is want */
static bool
check_table_writes(const CrdtCounterTable *t, CrdtCounterKind kind, CrdtSlice want,
				   CrdtBuf *out, const char *what)
{
	CrdtError	err;

	buf_reset(out);
	if (CHECK_OK(crdt_table_write(t, kind, out, &err), &err) &&
		CHECK_EQ_BYTES(buf_slice(out), want))
		return true;
	unit_note("%s %s: table gives %s, expected %s", crdt_counter_kind_name(kind), what,
			  show_value(kind, buf_slice(out)), show_value(kind, want));
	return false;
}

/*
 * How the values reach the table: shuffled (the hash mode at once), one
 * entry each in id order with repeats (the run mode throughout, as rows
 * sorted by replica), or that order with two values swapped (a spill from
 * the run mode part-way).
 */
typedef enum FoldOrder
{
	FOLD_SHUFFLED,
	FOLD_SORTED_ROWS,
	FOLD_ALMOST_SORTED,
	FOLD_ORDERS
} FoldOrder;

typedef struct FoldCase
{
	CrdtCounterKind kind;
	FoldOrder	how;
	CrdtBuf		values[FOLD_MAX_VALUES];
	size_t		n;
	size_t		order[FOLD_MAX_VALUES];
	CrdtBuf		fold;
	CrdtBuf		tmp;
	CrdtBuf		out;
	CrdtBuf		state;
	Model		m;
	Model		all;
} FoldCase;

static void
absorb_range(FoldCase *f, CrdtCounterTable *t, size_t from, size_t to)
{
	CrdtError	err;

	for (size_t k = from; k < to; k++)
		CHECK_OK(crdt_table_absorb(t, f->kind, buf_slice(&f->values[f->order[k]]), &err), &err);
}

/* Rows: one entry each, sorted by id, every id a run of repeats. */
static void
make_sorted_rows(FoldCase *f, Rng *rng)
{
	model_random(&f->all, rng, FOLD_MAX_VALUES / 2);
	f->n = 0;
	for (int h = 0; h < 2; h++)
		for (size_t k = 0; k < f->all.n[h] && f->n < FOLD_MAX_VALUES; k++)
		{
			const ModelEntry *e = &f->all.half[h][k];
			size_t		repeats = 1 + (size_t) rng_below(rng, 3);

			/* repeats with smaller counts, the largest one anywhere in the run */
			for (size_t r = 0; r < repeats && f->n < FOLD_MAX_VALUES; r++)
			{
				uint64_t	count = r == 0 ? e->count : 1 + rng_below(rng, e->count);

				model_clear(&f->m);
				model_max(&f->m, h, e->id, e->len, count);
				buf_reset(&f->values[f->n]);
				model_encode(&f->m, &f->values[f->n]);
				f->n++;
			}
			if (repeats > 1)
				rng_shuffle(rng, &f->values[f->n - repeats], repeats, sizeof(CrdtBuf));
		}
	/* P rows, then N rows: each map's entries arrive in id order */
	for (size_t k = 0; k < f->n; k++)
		f->order[k] = k;
}

static void
make_random_values(FoldCase *f, Rng *rng)
{
	f->n = 1 + (size_t) rng_below(rng, FOLD_MAX_VALUES);
	for (size_t k = 0; k < f->n; k++)
	{
		buf_reset(&f->values[k]);
		if (k > 0 && rng_percent(rng, 20))
		{
			CrdtBuf    *earlier = &f->values[rng_below(rng, k)];

			crdt_buf_put(&f->values[k], earlier->data, earlier->len);
		}
		else
		{
			model_random(&f->m, rng, 8);
			model_encode(&f->m, &f->values[k]);
		}
		f->order[k] = k;
	}
	rng_shuffle(rng, f->order, f->n, sizeof(f->order[0]));
}

/* f->fold = merge of all values, cross-checked with the model */
static void
fold_values(FoldCase *f)
{
	CrdtError	err;
	CrdtError	merr;

	model_clear(&f->all);
	buf_reset(&f->fold);
	crdt_counter_write_empty(f->kind, &f->fold);
	for (size_t k = 0; k < f->n; k++)
	{
		buf_reset(&f->tmp);
		CHECK_OK(crdt_counter_merge(f->kind, buf_slice(&f->fold), buf_slice(&f->values[k]),
									&f->tmp, &err), &err);
		buf_reset(&f->fold);
		crdt_buf_put(&f->fold, f->tmp.data, f->tmp.len);
		if (CHECK(model_decode(&f->m, buf_slice(&f->values[k]), &merr)))
			model_merge_into(&f->all, &f->m);
	}
	buf_reset(&f->tmp);
	model_encode(&f->all, &f->tmp);
	CHECK_EQ_BYTES(buf_slice(&f->fold), buf_slice(&f->tmp));
}

static void
check_fold_case(FoldCase *f, Rng *rng, long index)
{
	CrdtCounterTable whole;
	CrdtCounterTable left;
	CrdtCounterTable right;
	CrdtCounterTable restored;
	CrdtError	err;
	size_t		split;
	long		failures = unit_run.failures;

	if (f->how == FOLD_SHUFFLED)
		make_random_values(f, rng);
	else
		make_sorted_rows(f, rng);
	if (f->how == FOLD_ALMOST_SORTED && f->n > 1)
	{
		size_t		i = (size_t) rng_below(rng, f->n);
		size_t		j = (size_t) rng_below(rng, f->n);
		size_t		t = f->order[i];

		f->order[i] = f->order[j];
		f->order[j] = t;
	}
	fold_values(f);

	/* all at once; writing twice gives the same and changes nothing */
	table_open(&whole, f->kind);
	absorb_range(f, &whole, 0, f->n);
	check_table_writes(&whole, f->kind, buf_slice(&f->fold), &f->out, "absorb all");
	check_table_writes(&whole, f->kind, buf_slice(&f->fold), &f->out, "write again");

	/* two partial tables combined, either way round; each was written first */
	split = (size_t) rng_below(rng, f->n + 1);
	table_open(&left, f->kind);
	table_open(&right, f->kind);
	absorb_range(f, &left, 0, split);
	absorb_range(f, &right, split, f->n);
	buf_reset(&f->out);
	CHECK_OK(crdt_table_write(&left, f->kind, &f->out, &err), &err);
	CHECK_OK(crdt_table_absorb_table(&left, &right, &err), &err);
	check_table_writes(&left, f->kind, buf_slice(&f->fold), &f->out, "combine left");
	CHECK_OK(crdt_table_absorb_table(&right, &left, &err), &err);
	check_table_writes(&right, f->kind, buf_slice(&f->fold), &f->out, "combine right");
	/* absorbing everything again changes nothing */
	absorb_range(f, &right, 0, f->n);
	check_table_writes(&right, f->kind, buf_slice(&f->fold), &f->out, "absorb twice");

	/* the parallel-aggregate state: serialized as a pncounter, read back */
	buf_reset(&f->state);
	CHECK_OK(crdt_table_write(&whole, CRDT_PNCOUNTER, &f->state, &err), &err);
	CHECK_OK(crdt_counter_validate(CRDT_PNCOUNTER, buf_slice(&f->state), &err), &err);
	table_open(&restored, f->kind);
	CHECK_OK(crdt_table_absorb(&restored, CRDT_PNCOUNTER, buf_slice(&f->state), &err), &err);
	check_table_writes(&restored, f->kind, buf_slice(&f->fold), &f->out, "serialize");
	CHECK_OK(crdt_table_absorb_table(&restored, &whole, &err), &err);
	check_table_writes(&restored, f->kind, buf_slice(&f->fold), &f->out, "serialize, combine");

	if (unit_run.failures != failures)
	{
		unit_note("%s fold case %ld, order %d (seed %llu), %zu values, absorbed in this order:",
				  crdt_counter_kind_name(f->kind), index, (int) f->how,
				  (unsigned long long) unit_run.seed, f->n);
		for (size_t k = 0; k < f->n; k++)
			unit_note("  %s", show_value(f->kind, buf_slice(&f->values[f->order[k]])));
	}
	crdt_table_free(&whole);
	crdt_table_free(&left);
	crdt_table_free(&right);
	crdt_table_free(&restored);
}

/*
 * Direct puts: a count of 0 changes nothing, in either mode.  (Values never
 * carry zeros, but the put contract is "by maximum".)  Stops at the first
 * failed put: a table is not promised to be usable after an error.
 */
static void
check_zero_puts(void)
{
	static const struct
	{
		const char *id;
		int			half;
		uint64_t	count;
	}			puts_[] = {
		{"b", 0, 5}, {"c", 0, 0}, {"a", 0, 1},	/* "a" after a zero: out of order */
		{"a", 1, 0}, {"z", 1, 0}, {"b", 1, 0}, {"d", 0, 0},
	};
	CrdtCounterTable t;
	CrdtBuf		out;
	CrdtBuf		want;
	CrdtError	err;
	bool		ok = true;

	buf_open(&out);
	buf_open(&want);
	table_open(&t, CRDT_PNCOUNTER);
	for (size_t k = 0; ok && k < sizeof(puts_) / sizeof(puts_[0]); k++)
	{
		ok = CHECK_OK(crdt_table_put(&t, (const uint8_t *) puts_[k].id, strlen(puts_[k].id),
									 puts_[k].half, puts_[k].count, &err), &err);
		if (!ok)
			unit_note("put %zu: \"%s\" in map %d, count %llu", k, puts_[k].id,
					  puts_[k].half, (unsigned long long) puts_[k].count);
	}
	if (ok)
		check_table_writes(&t, CRDT_PNCOUNTER,
						   value_from_json(CRDT_PNCOUNTER, "{\"p\":{\"a\":1,\"b\":5}}", &want),
						   &out, "zero puts");
	crdt_table_free(&t);
	crdt_buf_free(&out);
	crdt_buf_free(&want);
}

void
test_table_fold(void)
{
	uint64_t	stream = rng_stream("table fold");

	check_zero_puts();
	for (int kind = CRDT_VCLOCK; kind <= CRDT_PNCOUNTER; kind++)
	{
		FoldCase	f;
		CrdtCounterTable empty;

		f.kind = (CrdtCounterKind) kind;
		for (size_t k = 0; k < FOLD_MAX_VALUES; k++)
			buf_open(&f.values[k]);
		crdt_bufs_init(&crdt_malloc_allocator, &f.fold, &f.tmp, &f.out, &f.state, NULL);
		model_init(&f.m, f.kind, 64);
		model_init(&f.all, f.kind, 1024);

		/* nothing absorbed: the empty value */
		table_open(&empty, f.kind);
		buf_reset(&f.tmp);
		crdt_counter_write_empty(f.kind, &f.tmp);
		check_table_writes(&empty, f.kind, buf_slice(&f.tmp), &f.out, "empty");
		crdt_table_free(&empty);

		for (long i = 0; i < unit_cases_div(300); i++)
		{
			Rng			rng = rng_for_case(stream + (uint64_t) kind, (uint64_t) i);

			f.how = (FoldOrder) (i % FOLD_ORDERS);
			check_fold_case(&f, &rng, i);
		}

		for (size_t k = 0; k < FOLD_MAX_VALUES; k++)
			crdt_buf_free(&f.values[k]);
		crdt_bufs_free(&f.fold, &f.tmp, &f.out, &f.state, NULL);
		model_free(&f.m);
		model_free(&f.all);
	}
}

/* ------------------------------------------------------------ growth */

#define GROWTH_IDS 100000

static void
growth_id(char *id, size_t size, int i)
{
	snprintf(id, size, "id-%06d", i);
}

/* The P count of id i, and its N count (only every third id has one). */
static uint64_t
growth_count(int i, int half)
{
	if (half == 0)
		return (uint64_t) i + 1;
	return i % 3 == 0 ? (uint64_t) i / 3 + 1 : 0;
}

/* Reads v back: ids in order, every id with the expected counts. */
static void
check_growth_value(CrdtCounterKind kind, CrdtSlice v)
{
	CrdtCounterReader r;
	CrdtMapEntry e;
	CrdtError	err;
	int			half;
	int			rc;
	int			next[2] = {0, 0};
	long		wrong = 0;

	if (!CHECK_OK(crdt_counter_reader_init(&r, kind, v, &err), &err))
		return;
	while ((rc = crdt_counter_reader_next(&r, &e, &half, &err)) > 0)
	{
		char		id[16];

		/* the next id with a count in this half */
		while (next[half] < GROWTH_IDS && growth_count(next[half], half) == 0)
			next[half]++;
		growth_id(id, sizeof(id), next[half]);
		if (next[half] >= GROWTH_IDS || e.len != strlen(id) || memcmp(e.id, id, e.len) != 0 ||
			e.count != growth_count(next[half], half))
			wrong++;
		next[half]++;
	}
	CHECK_EQ_INT(rc, 0);
	CHECK_EQ_INT(wrong, 0);
	CHECK_EQ_INT(next[0], GROWTH_IDS);
	if (kind == CRDT_PNCOUNTER)
		CHECK_EQ_INT(next[1], GROWTH_IDS);	/* the last with N is 99999 */
}

/*
 * Puts every id, in the given order, with the final counts; when "low" is
 * set, first with half the P count so that the final puts must raise it.
 * Zero counts are not put (check_zero_puts covers them).
 */
static void
growth_fill(CrdtCounterTable *t, const int *order, bool low)
{
	CrdtError	err;

	for (int pass = low ? 0 : 1; pass < 2; pass++)
		for (int k = 0; k < GROWTH_IDS; k++)
		{
			char		id[16];
			int			i = order[k];

			growth_id(id, sizeof(id), i);
			for (int h = 0; h < (pass == 0 ? 1 : 2); h++)
			{
				uint64_t	count = pass == 0 ? growth_count(i, h) / 2 : growth_count(i, h);

				if (count > 0)
					CHECK_OK(crdt_table_put(t, (const uint8_t *) id, strlen(id), h, count,
											&err), &err);
			}
			/* a smaller count changes nothing */
			if (pass == 1)
				CHECK_OK(crdt_table_put(t, (const uint8_t *) id, strlen(id), 0, 1, &err), &err);
		}
}

/* Both writes of t hold every id, sorted, with its counts. */
static void
check_growth_table(const CrdtCounterTable *t, const char *what)
{
	CrdtBuf		out;
	CrdtError	err;
	long		failures = unit_run.failures;

	buf_open(&out);
	CHECK_OK(crdt_table_write(t, CRDT_PNCOUNTER, &out, &err), &err);
	CHECK_OK(crdt_counter_validate(CRDT_PNCOUNTER, buf_slice(&out), &err), &err);
	check_growth_value(CRDT_PNCOUNTER, buf_slice(&out));
	buf_reset(&out);
	CHECK_OK(crdt_table_write(t, CRDT_GCOUNTER, &out, &err), &err);
	check_growth_value(CRDT_GCOUNTER, buf_slice(&out));
	if (unit_run.failures != failures)
		unit_note("growth: %s", what);
	crdt_buf_free(&out);
}

void
test_table_growth(void)
{
	Rng			rng = rng_for_case(rng_stream("table growth"), 0);
	int		   *order = malloc(GROWTH_IDS * sizeof(int));
	CrdtCounterTable t;
	CrdtCounterTable copy;
	CrdtError	err;

	for (int i = 0; i < GROWTH_IDS; i++)
		order[i] = i;

	/* in id order: the run mode all the way */
	table_open(&t, CRDT_PNCOUNTER);
	growth_fill(&t, order, false);
	check_growth_table(&t, "in order");
	crdt_table_free(&t);

	/* in random order, raised later: the hash table grows and sorts */
	rng_shuffle(&rng, order, GROWTH_IDS, sizeof(int));
	table_open(&t, CRDT_PNCOUNTER);
	growth_fill(&t, order, true);
	check_growth_table(&t, "shuffled");

	/* a big table absorbed into an empty one */
	table_open(&copy, CRDT_PNCOUNTER);
	CHECK_OK(crdt_table_absorb_table(&copy, &t, &err), &err);
	check_growth_table(&copy, "absorbed");

	crdt_table_free(&copy);
	crdt_table_free(&t);
	free(order);
}

/* ------------------------------------------------------------ hostile input */

typedef struct TableHostile
{
	CrdtCounterKind kind;
	CrdtBuf		out;
} TableHostile;

/* absorb accepts and rejects exactly what validate does, at the same place */
static void
table_hostile_visit(void *arg, CrdtSlice bad)
{
	TableHostile *h = arg;
	CrdtCounterTable t;
	CrdtError	verr;
	CrdtError	aerr;
	CrdtStatus	vst = crdt_counter_validate(h->kind, bad, &verr);
	CrdtStatus	ast;

	table_open(&t, h->kind);
	ast = crdt_table_absorb(&t, h->kind, bad, &aerr);
	if (!CHECK_MSG(ast == vst && (ast == CRDT_OK || aerr.position == verr.position),
				   "absorb gives %s at %ld, validate %s at %ld", unit_status_name(ast),
				   ast == CRDT_OK ? -1L : aerr.position, unit_status_name(vst),
				   vst == CRDT_OK ? -1L : verr.position))
		unit_note("%s [%s]", crdt_counter_kind_name(h->kind), show_hex(bad));
	else if (ast == CRDT_OK)
		/* an accepted value is canonical: the table writes it back unchanged */
		check_table_writes(&t, h->kind, bad, &h->out, "hostile");
	crdt_table_free(&t);
}

static void
table_hostile_case(void *arg, Model *m, CrdtSlice value, Rng *rng, long index)
{
	TableHostile *h = arg;

	(void) index;
	h->kind = m->kind;
	hostile_each(value, rng, 200, table_hostile_visit, h);
}

void
test_table_hostile(void)
{
	TableHostile h;

	buf_open(&h.out);
	counter_for_cases("table hostile", unit_cases_div(2000), table_hostile_case, &h);
	crdt_buf_free(&h.out);
}

/*
 * A row's id is checked only past the prefix it shares with the log's last
 * id when that prefix ends in ASCII: ids that differ from the last one in
 * a few bytes (control, DEL, stray or cut UTF-8 continuations, after an
 * ASCII or a multi-byte prefix) are accepted and rejected exactly as
 * crdt_replica_id_problem does.
 */
static const uint8_t id_tail_bytes[] = {
	0x00, 0x1f, 0x20, '-', '0', '9', 'a', 0x7e, 0x7f, 0x80, 0xa9, 0xbf, 0xc3, 0xe2, 0xf0, 0xff
};

static size_t
id_random_valid(Rng *rng, uint8_t *id)
{
	static const char *const pieces[] = {"a", "-", "0", "7", "\xc3\xa9", "\xe2\x82\xac", " "};
	size_t		len = 0;
	size_t		n = 1 + (size_t) rng_below(rng, 12);

	for (size_t k = 0; k < n; k++)
	{
		const char *piece = pieces[rng_below(rng, sizeof(pieces) / sizeof(pieces[0]))];

		memcpy(id + len, piece, strlen(piece));
		len += strlen(piece);
	}
	return len;
}

/* a gcounter (or vclock) value of one entry */
static void
single_entry_value(CrdtBuf *out, const uint8_t *id, size_t len, uint64_t count)
{
	uint8_t		head[3] = {CRDT_FORMAT_V1, (uint8_t) len, 0};
	uint8_t		varint[CRDT_VARINT_MAX];

	buf_reset(out);
	crdt_buf_put(out, head, sizeof(head));
	crdt_buf_put(out, id, len);
	crdt_buf_put(out, varint, crdt_varint_encode(varint, count));
	crdt_buf_put(out, (const uint8_t *) "", 1);
}

/*
 * A table holding "last" absorbs a row of id, which shares a prefix with
 * it: accepted exactly when the id is valid (and validate agrees), and
 * then the table holds both entries.
 */
static void
check_id_after_last(Rng *rng, CrdtBuf *value, CrdtBuf *out)
{
	uint8_t		last[CRDT_REPLICA_ID_MAX + 16];
	uint8_t		id[CRDT_REPLICA_ID_MAX + 16];
	size_t		last_len = id_random_valid(rng, last);
	size_t		keep = (size_t) rng_below(rng, last_len + 1);
	size_t		len = keep + 1 + (size_t) rng_below(rng, 9);
	CrdtCounterKind kind = rng_percent(rng, 50) ? CRDT_GCOUNTER : CRDT_VCLOCK;
	CrdtCounterTable t;
	CrdtError	err;
	CrdtError	verr;
	CrdtStatus	st;
	CrdtStatus	vst;
	bool		valid;

	memcpy(id, last, keep);
	for (size_t k = keep; k < len; k++)
		id[k] = rng_percent(rng, 60) ? (uint8_t) ('a' + rng_below(rng, 26))
			: id_tail_bytes[rng_below(rng, sizeof(id_tail_bytes))];
	valid = crdt_replica_id_problem(id, len) == NULL;
	table_open(&t, kind);
	single_entry_value(value, last, last_len, 1);
	CHECK_OK(crdt_table_absorb(&t, kind, buf_slice(value), &err), &err);
	single_entry_value(value, id, len, 2);
	st = crdt_table_absorb(&t, kind, buf_slice(value), &err);
	vst = crdt_counter_validate(kind, buf_slice(value), &verr);
	if (!CHECK_MSG((st == CRDT_OK) == valid && st == vst,
				   "absorb gives %s, validate %s, id %s", unit_status_name(st),
				   unit_status_name(vst), valid ? "valid" : "invalid"))
		unit_note("last [%s] id [%s]", show_hex(slice_of(last, last_len)),
				  show_hex(slice_of(id, len)));
	else if (valid)
	{
		/* the table holds both entries */
		CrdtBuf		first;

		buf_open(&first);
		single_entry_value(&first, last, last_len, 1);
		buf_reset(out);
		CHECK_OK(crdt_counter_merge(kind, buf_slice(&first), buf_slice(value), out, &err),
				 &err);
		check_table_writes(&t, kind, buf_slice(out), &first, "id after last");
		crdt_buf_free(&first);
	}
	crdt_table_free(&t);
}

void
test_table_id_after_last(void)
{
	long		cases = unit_cases_div(10);
	CrdtBuf		value;
	CrdtBuf		out;

	buf_open(&value);
	buf_open(&out);
	for (long index = 0; index < cases; index++)
	{
		Rng			rng = rng_for_case(rng_stream("table id after last"), (uint64_t) index);

		check_id_after_last(&rng, &value, &out);
	}
	crdt_buf_free(&value);
	crdt_buf_free(&out);
}

/*
 * A replica's own pncounter row (P and N entries of one id) takes a path
 * of its own (absorb_own_pn_row): every byte of such a row replaced, a
 * byte of its id replaced in both copies, every truncation and a byte
 * appended are accepted or rejected exactly as validate does, into an
 * empty table and after another row.
 */
static void
pn_row_value(CrdtBuf *out, const uint8_t *id, size_t len, uint64_t p, uint64_t n)
{
	CrdtBuf		half;

	buf_open(&half);
	single_entry_value(out, id, len, p);
	single_entry_value(&half, id, len, n);
	crdt_buf_put(out, half.data + 1, half.len - 1);	/* N's map, without its version byte */
	crdt_buf_free(&half);
}

static void
check_pn_row(const CrdtBuf *before, CrdtSlice row, CrdtBuf *scratch)
{
	for (int with_before = 0; with_before < 2; with_before++)
	{
		CrdtCounterTable t;
		CrdtError	err;
		CrdtError	verr;
		CrdtStatus	vst = crdt_counter_validate(CRDT_PNCOUNTER, row, &verr);
		CrdtStatus	st;

		table_open(&t, CRDT_PNCOUNTER);
		if (with_before)
			CHECK_OK(crdt_table_absorb(&t, CRDT_PNCOUNTER, buf_slice(before), &err), &err);
		st = crdt_table_absorb(&t, CRDT_PNCOUNTER, row, &err);
		if (!CHECK_MSG(st == vst, "absorb gives %s, validate %s", unit_status_name(st),
					   unit_status_name(vst)))
			unit_note("row [%s]%s", show_hex(row), with_before ? " after another" : "");
		else if (st == CRDT_OK && !with_before)
			check_table_writes(&t, CRDT_PNCOUNTER, row, scratch, "pncounter row");
		crdt_table_free(&t);
	}
}

void
test_table_pncounter_rows(void)
{
	static const uint8_t replacements[] = {0x00, 0x01, 0x02, 0x08, 0x1f, 0x41, 0x7f, 0x80, 0xc3, 0xff};
	long		cases = unit_cases_div(200);
	CrdtBuf		row;
	CrdtBuf		bad;
	CrdtBuf		before;
	CrdtBuf		scratch;

	buf_open(&row);
	buf_open(&bad);
	buf_open(&before);
	buf_open(&scratch);
	for (long index = 0; index < cases; index++)
	{
		Rng			rng = rng_for_case(rng_stream("table pncounter rows"), (uint64_t) index);
		uint8_t		id[CRDT_REPLICA_ID_MAX + 16];
		uint8_t		other[CRDT_REPLICA_ID_MAX + 16];
		size_t		len = id_random_valid(&rng, id);
		size_t		other_len = id_random_valid(&rng, other);
		uint64_t	p = 1 + rng_below(&rng, rng_percent(&rng, 50) ? 100 : 1000000);
		uint64_t	n = 1 + rng_below(&rng, p);
		uint8_t		varint[CRDT_VARINT_MAX];
		/* where N's id starts: after P's entry, its map's end and N's two length bytes */
		size_t		n_id = 3 + len + crdt_varint_encode(varint, p) + 3;

		pn_row_value(&row, id, len, p, n);
		pn_row_value(&before, other, other_len, 5, 3);
		check_pn_row(&before, buf_slice(&row), &scratch);
		for (size_t at = 0; at < row.len; at++)
			for (size_t r = 0; r < sizeof(replacements); r++)
			{
				if (replacements[r] == row.data[at])
					continue;
				buf_reset(&bad);
				crdt_buf_put(&bad, row.data, row.len);
				bad.data[at] = replacements[r];
				check_pn_row(&before, buf_slice(&bad), &scratch);
			}
		/* a byte of the id replaced in both of its copies: N's id still matches P's */
		for (size_t at = 0; at < len; at++)
			for (size_t r = 0; r < sizeof(replacements); r++)
			{
				buf_reset(&bad);
				crdt_buf_put(&bad, row.data, row.len);
				bad.data[3 + at] = replacements[r];
				bad.data[n_id + at] = replacements[r];
				check_pn_row(&before, buf_slice(&bad), &scratch);
			}
		for (size_t cut = 0; cut < row.len; cut++)
			check_pn_row(&before, slice_of(row.data, cut), &scratch);
		/* a byte after the end */
		for (size_t r = 0; r < sizeof(replacements); r++)
		{
			buf_reset(&bad);
			crdt_buf_put(&bad, row.data, row.len);
			crdt_buf_put(&bad, &replacements[r], 1);
			check_pn_row(&before, buf_slice(&bad), &scratch);
		}
	}
	crdt_buf_free(&row);
	crdt_buf_free(&bad);
	crdt_buf_free(&before);
	crdt_buf_free(&scratch);
}
