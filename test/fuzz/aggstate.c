/*
 * aggstate.c — fuzz target for the crdt_merge aggregate states: the counter
 * table (table.c), the set runs (runs.c), the dot log (dotted_log.c), the lwwreg
 * winner, and the key set that builds a gset or twopset from elements
 * (keyset.c).
 *
 * Input: a selector byte choosing the type, then chunks (fuzz_common.h).
 * Each chunk is fed as the aggregate's deserialize function feeds outside
 * bytes: the counter table reads raw bytes itself and must accept and
 * refuse exactly what validate does, at the same position; the other
 * families validate first.  The valid values go, by a header bit, into a
 * left or a right state, as in a parallel aggregate; then the right state
 * is combined into the left, and the result, written (twice: a final
 * function may run more than once) and written again after a round trip
 * through the serialized form, must be the merge of all the values.
 * For gset and twopset, each chunk's bytes are also offered as an element
 * to the key set (array input), which must build the set of those elements.
 * The selector's top five bits set the counter tables' fold threshold
 * (unsorted tail bytes before the log is sorted in place): 0 (the seeds:
 * a fold whenever the tail outgrows the sorted head) up to 120 bytes, or,
 * at 31, the 1 KB the aggregates use.
 */
#include "fuzz_common.h"

#include <string.h>

#define MAX_CHUNKS 16

typedef struct Agg
{
	const CrdtType *t;
	CrdtCounterKind ck;
	CrdtSetKind sk;
	CrdtDottedKind dk;
	int			family;			/* 0 counters, 1 sets, 2 dotted, 3 lww */
	int			fold_min;		/* for the counter tables; -1: as initialized */
	CrdtCounterTable table[2];
	CrdtSetRuns runs[2];
	CrdtDotLog	log[2];
	CrdtBuf		best[2];		/* lwwreg: the winner so far (empty: none yet) */
} Agg;

static void
table_open(Agg *a, int side)
{
	CrdtError	err;

	FUZZ_CHECK(crdt_table_init(&a->table[side], a->family == 0 ? a->ck : CRDT_GCOUNTER,
							   &crdt_malloc_allocator, &err) == CRDT_OK,
			   "table init");
	if (a->fold_min >= 0)
		a->table[side].fold_min = (uint16_t) a->fold_min;
}

static void
agg_open(Agg *a)
{
	CrdtError	err;

	for (int i = 0; i < 2; i++)
	{
		table_open(a, i);
		crdt_setruns_init(&a->runs[i], a->family == 1 ? a->sk : CRDT_GSET,
						  &crdt_malloc_allocator);
		FUZZ_CHECK(crdt_dotlog_init(&a->log[i], a->family == 2 ? a->dk : CRDT_ORSET,
									&crdt_malloc_allocator, &err) == CRDT_OK, "dotlog init");
		fuzz_buf_open(&a->best[i]);
	}
}

static void
agg_close(Agg *a)
{
	for (int i = 0; i < 2; i++)
	{
		crdt_table_free(&a->table[i]);
		crdt_setruns_free(&a->runs[i]);
		crdt_dotlog_free(&a->log[i]);
		crdt_buf_free(&a->best[i]);
	}
}

/* lwwreg: keeps value when it beats the winner so far (as the glue does). */
static void
lww_keep(CrdtBuf *best, CrdtSlice value)
{
	CrdtError	err;
	int			c = 1;

	if (best->len > 0)
		FUZZ_CHECK(crdt_type_lwwreg.compare(value, fuzz_exact_buf(best), &c, &err) == CRDT_OK,
				   "lwwreg compare of valid values: %s", err.message);
	if (c > 0)
	{
		best->len = 0;
		crdt_buf_put(best, value.data, value.len);
	}
}

/* Absorbs a valid value into state side. */
static void
absorb(Agg *a, int side, CrdtSlice v)
{
	CrdtError	err;
	CrdtStatus	st = CRDT_OK;

	switch (a->family)
	{
		case 0:
			st = crdt_table_absorb(&a->table[side], a->ck, v, &err);
			break;
		case 1:
			st = crdt_setruns_absorb(&a->runs[side], v, &err);
			break;
		case 2:
			st = crdt_dotlog_absorb(&a->log[side], v, &err);
			break;
		default:
			lww_keep(&a->best[side], v);
			break;
	}
	FUZZ_CHECK(st == CRDT_OK, "%s: absorbing a valid value: %s: %s", a->t->name,
			   fuzz_status_name(st), err.message);
}

/* Writes the merged value of side (serial: the serialized form). */
static void
write_state(Agg *a, int side, bool serial, CrdtBuf *out)
{
	CrdtError	err;
	CrdtStatus	st = CRDT_OK;

	fuzz_buf_reset(out);
	switch (a->family)
	{
		case 0:
			st = crdt_table_write(&a->table[side], serial ? CRDT_PNCOUNTER : a->ck, out, &err);
			break;
		case 1:
			st = crdt_setruns_write(&a->runs[side], out, &err);
			break;
		case 2:
			st = crdt_dotlog_write(&a->log[side], out, &err);
			break;
		default:
			if (a->best[side].len == 0)
				a->t->write_empty(out);
			else
				crdt_buf_put(out, a->best[side].data, a->best[side].len);
			break;
	}
	FUZZ_CHECK(st == CRDT_OK, "%s: writing the state: %s: %s", a->t->name,
			   fuzz_status_name(st), err.message);
}

/* Merges the right state into the left, as the combine function does. */
static void
combine(Agg *a)
{
	CrdtError	err;
	CrdtStatus	st = CRDT_OK;

	switch (a->family)
	{
		case 0:
			st = crdt_table_absorb_table(&a->table[0], &a->table[1], &err);
			break;
		case 1:
			st = crdt_setruns_absorb_runs(&a->runs[0], &a->runs[1], &err);
			if (st == CRDT_OK)	/* with itself: no change */
				st = crdt_setruns_absorb_runs(&a->runs[0], &a->runs[0], &err);
			break;
		case 2:
			{
				CrdtBuf		right;

				fuzz_buf_open(&right);
				write_state(a, 1, true, &right);
				st = crdt_dotlog_absorb(&a->log[0], fuzz_exact_buf(&right), &err);
				crdt_buf_free(&right);
			}
			break;
		default:
			if (a->best[1].len > 0)
				lww_keep(&a->best[0], fuzz_exact_buf(&a->best[1]));
			break;
	}
	FUZZ_CHECK(st == CRDT_OK, "%s: combining states: %s: %s", a->t->name,
			   fuzz_status_name(st), err.message);
}

/*
 * The deserialize path of the serialized left state, into side 1 (reset):
 * checked in full, then absorbed.
 */
static void
deserialize(Agg *a, CrdtSlice serial)
{
	CrdtError	err;
	CrdtStatus	st;

	switch (a->family)
	{
		case 0:
			crdt_table_free(&a->table[1]);
			table_open(a, 1);
			st = crdt_table_absorb(&a->table[1], CRDT_PNCOUNTER, serial, &err);
			break;
		case 1:
			crdt_setruns_free(&a->runs[1]);
			crdt_setruns_init(&a->runs[1], a->sk, &crdt_malloc_allocator);
			if ((st = crdt_set_validate(a->sk, serial, &err)) == CRDT_OK)
				st = crdt_setruns_absorb(&a->runs[1], serial, &err);
			break;
		case 2:
			crdt_dotlog_free(&a->log[1]);
			FUZZ_CHECK(crdt_dotlog_init(&a->log[1], a->dk, &crdt_malloc_allocator, &err) ==
					   CRDT_OK, "dotlog init");
			if ((st = crdt_dotted_validate(a->dk, serial, &err)) == CRDT_OK)
				st = crdt_dotlog_absorb(&a->log[1], serial, &err);
			break;
		default:
			a->best[1].len = 0;
			if ((st = crdt_type_lwwreg.validate(serial, &err)) == CRDT_OK)
				lww_keep(&a->best[1], serial);
			break;
	}
	FUZZ_CHECK(st == CRDT_OK, "%s: deserializing a serialized state: %s: %s", a->t->name,
			   fuzz_status_name(st), err.message);
}

/*
 * The counter table reads outside bytes itself: it must accept and refuse
 * exactly what validate does, at the same position, and write an accepted
 * value back unchanged.
 */
static void
table_raw(CrdtCounterKind kind, CrdtSlice raw)
{
	CrdtCounterTable t;
	CrdtError	verr;
	CrdtError	aerr;
	CrdtStatus	vst = crdt_counter_validate(kind, raw, &verr);
	CrdtStatus	ast;
	CrdtBuf		out;

	FUZZ_CHECK(crdt_table_init(&t, kind, &crdt_malloc_allocator, &aerr) == CRDT_OK, "table init");
	ast = crdt_table_absorb(&t, kind, raw, &aerr);
	FUZZ_CHECK(ast == vst, "%s: table absorb gives %s (%s), validate %s (%s)",
			   crdt_counter_kind_name(kind), fuzz_status_name(ast),
			   ast == CRDT_OK ? "" : aerr.message, fuzz_status_name(vst),
			   vst == CRDT_OK ? "" : verr.message);
	if (ast != CRDT_OK)
		FUZZ_CHECK(aerr.position == verr.position,
				   "%s: table absorb refuses at %ld (%s), validate at %ld (%s)",
				   crdt_counter_kind_name(kind), aerr.position, aerr.message, verr.position,
				   verr.message);
	else
	{
		fuzz_buf_open(&out);
		FUZZ_CHECK(crdt_table_write(&t, kind, &out, &aerr) == CRDT_OK, "table write: %s",
				   aerr.message);
		FUZZ_CHECK(fuzz_slice_equal(fuzz_exact_buf(&out), raw),
				   "%s: a table that absorbed one valid value writes other bytes",
				   crdt_counter_kind_name(kind));
		crdt_buf_free(&out);
	}
	crdt_table_free(&t);
}

/* A set value with one element, in list 0 (present) or 1 (removed, twopset). */
static CrdtSlice
singleton(CrdtSetKind kind, const uint8_t *key, size_t len, int list)
{
	CrdtBuf		b;
	CrdtKeyWriter w;
	CrdtSlice	s;

	fuzz_buf_open(&b);
	crdt_buf_put_byte(&b, CRDT_FORMAT_V1);
	for (int i = 0; i < (kind == CRDT_TWOPSET ? 2 : 1); i++)
	{
		crdt_keys_writer_init(&w, CRDT_KEYS_FRONT_CODED, &b);
		if (i == list)
			crdt_keys_writer_add(&w, key, len);
		crdt_keys_writer_finish(&w);
	}
	s = fuzz_exact_buf(&b);
	crdt_buf_free(&b);
	return s;
}

static void
merge_into(const CrdtType *t, CrdtSlice *acc, CrdtSlice v)
{
	CrdtBuf		b;
	CrdtError	err;
	CrdtStatus	st;

	fuzz_buf_open(&b);
	st = t->merge(*acc, v, &b, &err);
	FUZZ_CHECK(st == CRDT_OK, "%s merge of valid values: %s: %s", t->name,
			   fuzz_status_name(st), err.message);
	*acc = fuzz_exact_buf(&b);
	crdt_buf_free(&b);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	Agg			a;
	FuzzCursor	cur;
	FuzzChunk	chunk;
	CrdtSlice	prev = {NULL, 0};
	CrdtSlice	expected;
	CrdtSlice	expected_keys;
	CrdtKeySet	keys;
	CrdtBuf		value;
	CrdtBuf		out;
	CrdtBuf		again;
	CrdtError	err;
	int			chunks = 0;

	if (size < 1)
		return 0;
	fuzz_notes_clear();
	memset(&a, 0, sizeof(a));
	a.t = fuzz_type_of(data[0]);
	a.fold_min = (data[0] >> 3) == 31 ? -1 : (data[0] >> 3) * 4;
	a.family = fuzz_is_counter(a.t, &a.ck) ? 0 : fuzz_is_set(a.t, &a.sk) ? 1
		: fuzz_is_dotted(a.t, &a.dk) ? 2 : 3;
	agg_open(&a);
	FUZZ_CHECK(crdt_keyset_init(&keys, &crdt_malloc_allocator, &err) == CRDT_OK, "keyset init");
	crdt_bufs_init(&crdt_malloc_allocator, &value, &out, &again, NULL);
	expected = fuzz_empty(a.t);
	expected_keys = fuzz_empty(a.t);

	cur.pos = data + 1;
	cur.end = data + size;
	while (chunks++ < MAX_CHUNKS && fuzz_next_chunk(&cur, &chunk))
	{
		CrdtSlice	raw = fuzz_exact(chunk.data, chunk.len);
		CrdtSlice	v;

		if (a.family == 0 && FUZZ_CHUNK_MODE(chunk.header) == FUZZ_MODE_BINARY)
		{
			table_raw(a.ck, raw);
			table_raw(CRDT_PNCOUNTER, raw);		/* the serialized form */
		}
		if (a.family == 1 && crdt_element_problem(raw.data, raw.len) == NULL)
		{
			int			list = a.sk == CRDT_TWOPSET ? (chunk.header >> 6) & 1 : 0;
			size_t		entry;
			CrdtStatus	st = crdt_keyset_put(&keys, raw.data, raw.len, (uint32_t) list,
											 &entry, &err);

			FUZZ_CHECK(st == CRDT_OK, "keyset put: %s: %s", fuzz_status_name(st), err.message);
			merge_into(a.t, &expected_keys, singleton(a.sk, raw.data, raw.len, list));
		}
		if (!fuzz_chunk_value(a.t, &chunk, prev, &value))
			continue;
		v = fuzz_exact_buf(&value);
		prev = v;
		absorb(&a, (chunk.header >> 5) & 1, v);
		merge_into(a.t, &expected, v);
	}
	fuzz_note_value("expected", expected);

	combine(&a);
	write_state(&a, 0, false, &out);
	fuzz_note_value("aggregate", fuzz_exact_buf(&out));
	FUZZ_CHECK(fuzz_slice_equal(fuzz_exact_buf(&out), expected),
			   "%s: the aggregate differs from the merge of its inputs", a.t->name);
	write_state(&a, 0, false, &again);
	FUZZ_CHECK(fuzz_slice_equal(fuzz_exact_buf(&again), expected),
			   "%s: writing the state twice gives different values", a.t->name);

	/* serialize, deserialize (checked in full), write */
	write_state(&a, 0, true, &again);
	deserialize(&a, fuzz_exact_buf(&again));
	write_state(&a, 1, false, &out);
	FUZZ_CHECK(fuzz_slice_equal(fuzz_exact_buf(&out), expected),
			   "%s: the aggregate differs after serialize and deserialize", a.t->name);

	if (a.family == 1)
	{
		fuzz_buf_reset(&out);
		FUZZ_CHECK(crdt_keyset_write_set(&keys, a.sk, &out, &err) == CRDT_OK, "keyset write: %s",
				   err.message);
		fuzz_note_value("keyset", fuzz_exact_buf(&out));
		fuzz_note_value("expected keys", expected_keys);
		FUZZ_CHECK(fuzz_slice_equal(fuzz_exact_buf(&out), expected_keys),
				   "%s: the key set differs from the merge of its elements", a.t->name);
	}

	crdt_keyset_free(&keys);
	agg_close(&a);
	crdt_bufs_free(&value, &out, &again, NULL);
	fuzz_exact_release_all();
	return 0;
}
