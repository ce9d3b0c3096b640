/*
 * test_table_log.c — the counter table's log against a model.
 *
 * Entries are put in the orders rows really come in: sorted (rows in
 * (key, replica) order), reversed, cycles of the sorted pool (replicas
 * interleaving keys), random, sorted with a few swaps, and a sorted start
 * followed by random ones; with repeats, short, shared-prefix, long (past
 * 16 bytes) and random UTF-8 ids, and the fold threshold lowered so that
 * folds happen at every size.  Whatever the order, the written value must
 * be the model's canonical bytes (also half-way, also after combining two
 * tables and after the serialized round trip), and the log must stay
 * within twice the merged map plus the threshold.
 */
#include "unit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define POOL_MAX 400
#define PUTS_MAX 3000
/* the longest entry of a log: two length bytes, an id, two counts */
#define ENTRY_MAX (2 + CRDT_REPLICA_ID_MAX + 2 * CRDT_VARINT_MAX)

typedef enum PutOrder
{
	ORDER_SORTED,
	ORDER_REVERSED,
	ORDER_CYCLES,
	ORDER_RANDOM,
	ORDER_SWAPS,
	ORDER_SORTED_THEN_RANDOM,
	ORDERS
} PutOrder;

typedef struct LogPut
{
	uint8_t		id[CRDT_REPLICA_ID_MAX];
	size_t		len;
	int			half;
	uint64_t	count;
} LogPut;

typedef struct LogCase
{
	CrdtCounterKind kind;
	PutOrder	order;
	uint16_t	fold_min;
	ModelEntry	pool[POOL_MAX];
	size_t		npool;
	LogPut		puts[PUTS_MAX];
	size_t		n;
	Model		want;
	Model		half_way;
	size_t		half_at;		/* the model after this many puts */
	CrdtBuf		expected;
	CrdtBuf		out;
	CrdtBuf		serial;
} LogCase;

CRDT_DEFINE_BYTES_COMPARATOR(compare_pool, ModelEntry, id, len)

/* One id of a style: short, "agent-NNN", long with shared prefixes, UTF-8, or anything. */
static void
pool_id(Rng *rng, int style, size_t k, uint8_t *id, size_t *len)
{
	char		text[CRDT_REPLICA_ID_MAX + 1];
	int			n;

	switch (style)
	{
		case 0:
			n = snprintf(text, sizeof(text), "r%llx", (unsigned long long) rng_below(rng, 4096));
			break;
		case 1:
			n = snprintf(text, sizeof(text), "agent-%03zu", k);
			break;
		case 2:
			/* 17..64 bytes: ids that differ only after their first 16 bytes */
			n = snprintf(text, sizeof(text), "eu-west-1/tenant-%04x/node-%llu%.*s",
						 (unsigned) rng_below(rng, 3), (unsigned long long) rng_below(rng, 100000),
						 (int) rng_below(rng, 30), "..............................");
			break;
		case 3:
			{
				/* UTF-8 next to ASCII: key bytes on both sides of 0x80 */
				static const char *const wide[] = {"\xC3\xA9", "\xC3\xBF", "Ca", "\xC3\x9F",
				"\xE2\x82\xAC", "\xF0\x9F\x98\x80", "a", "~"};
				int			parts = rng_percent(rng, 50) ? 2 : 4;

				memcpy(id, "n/", 2);
				*len = 2;
				for (int k = 0; k < parts; k++)
				{
					/* two parts: a 2-byte character then an ASCII one (few varying bytes) */
					const char *part = parts == 4 ? wide[rng_below(rng, 8)]
						: k == 0 ? wide[rng_below(rng, 4)] : wide[6 + rng_below(rng, 2)];

					memcpy(id + *len, part, strlen(part));
					*len += strlen(part);
				}
				return;
			}
		default:
			random_replica_id(rng, id, len);
			return;
	}
	*len = (size_t) n;
	memcpy(id, text, *len);
}

/* A pool of distinct ids, sorted. */
static void
make_pool(LogCase *c, Rng *rng)
{
	int			style = (int) rng_below(rng, 5);
	size_t		want = 1 + (size_t) rng_below(rng, rng_percent(rng, 70) ? 40 : POOL_MAX);
	size_t		n = 0;

	for (; n < want; n++)
		pool_id(rng, style, n, c->pool[n].id, &c->pool[n].len);
	qsort(c->pool, n, sizeof(ModelEntry), compare_pool);
	c->npool = 0;
	for (size_t k = 0; k < n; k++)
		if (c->npool == 0 ||
			compare_pool(&c->pool[c->npool - 1], &c->pool[k]) != 0)
			c->pool[c->npool++] = c->pool[k];
}

static uint64_t
put_count(Rng *rng)
{
	uint64_t	count = rng_percent(rng, 90) ? 1 + rng_below(rng, 300) : random_count(rng);

	return count == 0 ? 1 : count;
}

static void
add_put(LogCase *c, Rng *rng, size_t pool_index)
{
	const ModelEntry *e = &c->pool[pool_index];
	int			halves = kind_halves(c->kind);
	/* pncounter rows: mostly both maps of a replica, one after the other */
	int			both = halves == 2 && rng_percent(rng, 60);

	for (int h = 0; h < (both ? 2 : 1) && c->n < PUTS_MAX; h++)
	{
		LogPut	   *p = &c->puts[c->n++];

		memcpy(p->id, e->id, e->len);
		p->len = e->len;
		p->half = both ? h : (int) rng_below(rng, (uint64_t) halves);
		p->count = put_count(rng);
	}
}

/* The puts of a case, in its order; each id repeated now and then. */
static void
make_puts(LogCase *c, Rng *rng)
{
	size_t		target = 1 + (size_t) rng_below(rng, PUTS_MAX);
	size_t		sorted_part = (size_t) rng_below(rng, c->npool + 1);
	size_t		k = 0;

	c->n = 0;
	while (c->n < target)
	{
		size_t		at;

		switch (c->order)
		{
			case ORDER_SORTED:
			case ORDER_SWAPS:
				if (k >= c->npool)
					return;
				at = k++;
				break;
			case ORDER_REVERSED:
				if (k >= c->npool)
					return;
				at = c->npool - 1 - k++;
				break;
			case ORDER_CYCLES:
				at = k++ % c->npool;
				break;
			case ORDER_SORTED_THEN_RANDOM:
				at = k < sorted_part ? k++ : (size_t) rng_below(rng, c->npool);
				break;
			default:
				at = (size_t) rng_below(rng, c->npool);
				break;
		}
		add_put(c, rng, at);
		/* a repeat of the same id right after: raises the last count or not */
		if (rng_percent(rng, 10) && c->n < PUTS_MAX)
		{
			c->puts[c->n] = c->puts[c->n - 1];
			c->puts[c->n].count = put_count(rng);
			c->n++;
		}
	}
	if (c->order == ORDER_SWAPS && c->n > 1)
		for (int s = 0; s < 3; s++)
		{
			size_t		i = (size_t) rng_below(rng, c->n);
			size_t		j = (size_t) rng_below(rng, c->n);
			LogPut		t = c->puts[i];

			c->puts[i] = c->puts[j];
			c->puts[j] = t;
		}
}

static void
table_start(LogCase *c, CrdtCounterTable *t)
{
	CrdtError	err;

	CHECK_OK(crdt_table_init(t, c->kind, &crdt_malloc_allocator, &err), &err);
	t->fold_min = c->fold_min;
}

/* Puts puts[from, to) into t; false at the first failure. */
static bool
table_puts(LogCase *c, CrdtCounterTable *t, size_t from, size_t to)
{
	CrdtError	err;

	for (size_t k = from; k < to; k++)
	{
		const LogPut *p = &c->puts[k];

		if (!CHECK_OK(crdt_table_put(t, p->id, p->len, p->half, p->count, &err), &err))
			return false;
	}
	return true;
}

/* write(t) is the model's value */
static bool
check_writes(LogCase *c, const CrdtCounterTable *t, const Model *m, const char *what)
{
	CrdtError	err;

	buf_reset(&c->expected);
	model_encode(m, &c->expected);
	buf_reset(&c->out);
	if (CHECK_OK(crdt_table_write(t, c->kind, &c->out, &err), &err) &&
		CHECK_EQ_BYTES(buf_slice(&c->out), buf_slice(&c->expected)))
		return true;
	unit_note("%s: %s", what, show_value(c->kind, buf_slice(&c->out)));
	unit_note("model: %s", show_value(c->kind, buf_slice(&c->expected)));
	return false;
}

static size_t
varint_size(uint64_t v)
{
	size_t		n = 1;

	for (; v >= 0x80; v >>= 7)
		n++;
	return n;
}

/*
 * The size of the merged log, the model's ids in order with their counts
 * (both counts of a pncounter, 0 where a map lacks the id), front-coded.
 */
static size_t
merged_log_size(const Model *m)
{
	int			maps = kind_halves(m->kind);
	size_t		i = 0;
	size_t		j = 0;
	size_t		size = 0;
	const ModelEntry *prev = NULL;

	while (i < m->n[0] || (maps == 2 && j < m->n[1]))
	{
		const ModelEntry *a = i < m->n[0] ? &m->half[0][i] : NULL;
		const ModelEntry *b = maps == 2 && j < m->n[1] ? &m->half[1][j] : NULL;
		int			c = a == NULL ? 1 : b == NULL ? -1
			: crdt_bytes_cmp(a->id, a->len, b->id, b->len);
		const ModelEntry *e = c <= 0 ? a : b;
		size_t		shared = 0;

		while (prev != NULL && shared < prev->len && shared < e->len &&
			   prev->id[shared] == e->id[shared])
			shared++;
		size += 2 + e->len - shared + varint_size(c <= 0 ? a->count : 0);
		if (maps == 2)
			size += varint_size(c >= 0 ? b->count : 0);
		i += c <= 0;
		j += c >= 0;
		prev = e;
	}
	return size;
}

/* The log holds at most twice the merged log, plus the threshold and an entry. */
static void
check_size(LogCase *c, const CrdtCounterTable *t)
{
	size_t		merged = merged_log_size(&c->want);

	CHECK_MSG(t->len <= 2 * merged + c->fold_min + ENTRY_MAX,
			  "log holds %u bytes for a %zu-byte merged log (fold threshold %u)", t->len, merged,
			  c->fold_min);
}

static void
check_log_case(LogCase *c, Rng *rng, long index)
{
	static const uint32_t fold_mins[] = {0, 1, 16, 64, 256, 1024};
	CrdtCounterTable t;
	CrdtCounterTable left;
	CrdtCounterTable right;
	CrdtCounterTable restored;
	CrdtError	err;
	long		failures = unit_run.failures;
	size_t		split;

	c->order = (PutOrder) (index % ORDERS);
	c->fold_min = fold_mins[rng_below(rng, sizeof(fold_mins) / sizeof(fold_mins[0]))];
	make_pool(c, rng);
	make_puts(c, rng);
	c->half_at = (size_t) rng_below(rng, c->n + 1);
	model_clear(&c->want);
	for (size_t k = 0; k < c->n; k++)
	{
		if (k == c->half_at)
			model_copy(&c->half_way, &c->want);
		model_max(&c->want, c->puts[k].half, c->puts[k].id, c->puts[k].len, c->puts[k].count);
	}
	if (c->half_at == c->n)
		model_copy(&c->half_way, &c->want);

	/* all at once, checked half-way; writing changes nothing */
	table_start(c, &t);
	if (table_puts(c, &t, 0, c->half_at) &&
		check_writes(c, &t, &c->half_way, "half-way") &&
		table_puts(c, &t, c->half_at, c->n))
	{
		check_writes(c, &t, &c->want, "all puts");
		check_writes(c, &t, &c->want, "written again");
		check_size(c, &t);

		/* merging a table with itself changes nothing */
		CHECK_OK(crdt_table_absorb_table(&t, &t, &err), &err);
		check_writes(c, &t, &c->want, "absorbed itself");

		/* the serialized form (a pncounter) read back */
		buf_reset(&c->serial);
		CHECK_OK(crdt_table_write(&t, CRDT_PNCOUNTER, &c->serial, &err), &err);
		table_start(c, &restored);
		CHECK_OK(crdt_table_absorb(&restored, CRDT_PNCOUNTER, buf_slice(&c->serial), &err), &err);
		check_writes(c, &restored, &c->want, "serialized and read back");
		crdt_table_free(&restored);
	}

	/* two partial tables, combined either way round */
	split = (size_t) rng_below(rng, c->n + 1);
	table_start(c, &left);
	table_start(c, &right);
	if (table_puts(c, &left, 0, split) && table_puts(c, &right, split, c->n))
	{
		CHECK_OK(crdt_table_absorb_table(&left, &right, &err), &err);
		check_writes(c, &left, &c->want, "combined left");
		CHECK_OK(crdt_table_absorb_table(&right, &left, &err), &err);
		check_writes(c, &right, &c->want, "combined right");
	}

	if (unit_run.failures != failures)
		unit_note("%s log case %ld (seed %llu): order %d, fold threshold %u, %zu ids, %zu puts, "
				  "checked after %zu", crdt_counter_kind_name(c->kind), index,
				  (unsigned long long) unit_run.seed, (int) c->order, c->fold_min, c->npool, c->n,
				  c->half_at);
	crdt_table_free(&t);
	crdt_table_free(&left);
	crdt_table_free(&right);
}

void
test_table_log(void)
{
	uint64_t	stream = rng_stream("table log");
	LogCase    *c = malloc(sizeof(LogCase));

	if (c == NULL)
		abort();
	buf_open(&c->expected);
	buf_open(&c->out);
	buf_open(&c->serial);
	for (int kind = CRDT_VCLOCK; kind <= CRDT_PNCOUNTER; kind++)
	{
		c->kind = (CrdtCounterKind) kind;
		model_init(&c->want, c->kind, 2 * PUTS_MAX);
		model_init(&c->half_way, c->kind, 2 * PUTS_MAX);
		for (long i = 0; i < unit_cases_div(500); i++)
		{
			Rng			rng = rng_for_case(stream + (uint64_t) kind, (uint64_t) i);

			check_log_case(c, &rng, i);
		}
		model_free(&c->want);
		model_free(&c->half_way);
	}
	crdt_buf_free(&c->expected);
	crdt_buf_free(&c->out);
	crdt_buf_free(&c->serial);
	free(c);
}

/*
 * Id families that the tail's sort treats apart, each put in random order
 * (with repeats) into one table with the fold threshold as shipped: a few
 * varying bytes, some above 0x7f and some below at the same place (the
 * radix sort); ids sharing long prefixes pairwise, past the 8 bytes the
 * sort keys hold (equal keys, decided by the whole ids); numbers.
 */
static void
sort_family_id(int family, uint64_t r, uint8_t *id, size_t *len)
{
	static const char *const first[] = {"Ca", "\xC3\xA9", "\xC3\xBF", "\xC3\x9F", "za"};
	static const char *const second[] = {"a", "~", "b"};
	char		text[CRDT_REPLICA_ID_MAX + 1];
	int			n;

	switch (family)
	{
		case 0:
			n = snprintf(text, sizeof(text), "n/%s%s", first[r % 5], second[r / 5 % 3]);
			break;
		case 1:
			n = snprintf(text, sizeof(text), "%s-0123456789abcdef-%llu", r % 2 ? "alpha" : "beta",
						 (unsigned long long) (r / 2));
			break;
		default:
			n = snprintf(text, sizeof(text), "agent-%03llu", (unsigned long long) r);
			break;
	}
	*len = (size_t) n;
	memcpy(id, text, *len);
}

void
test_table_log_sorts(void)
{
	Rng			rng = rng_for_case(rng_stream("table log sorts"), 0);
	LogCase    *c = malloc(sizeof(LogCase));

	if (c == NULL)
		abort();
	buf_open(&c->expected);
	buf_open(&c->out);
	c->kind = CRDT_GCOUNTER;
	c->fold_min = 1024;
	model_init(&c->want, c->kind, 2 * PUTS_MAX);
	for (long i = 0; i < unit_cases_div(2000); i++)
	{
		int			family = (int) (i % 3);
		uint64_t	ids = family == 0 ? 15 : 20 + rng_below(&rng, 200);
		CrdtCounterTable t;

		model_clear(&c->want);
		c->n = 64 + (size_t) rng_below(&rng, PUTS_MAX - 64);
		for (size_t k = 0; k < c->n; k++)
		{
			LogPut	   *p = &c->puts[k];

			sort_family_id(family, rng_below(&rng, ids), p->id, &p->len);
			p->half = 0;
			p->count = put_count(&rng);
			model_max(&c->want, 0, p->id, p->len, p->count);
		}
		table_start(c, &t);
		if (table_puts(c, &t, 0, c->n) && !check_writes(c, &t, &c->want, "sorted"))
			unit_note("sort family %d, %zu puts of %llu ids", family, c->n,
					  (unsigned long long) ids);
		crdt_table_free(&t);
	}
	model_free(&c->want);
	crdt_buf_free(&c->expected);
	crdt_buf_free(&c->out);
	free(c);
}

/*
 * One huge group in random order, the fold threshold as shipped: every id
 * once, then every id again with a larger count, the log folded many
 * times on the way; the result holds every id with its larger count.
 */
void
test_table_log_huge(void)
{
	enum
	{
		IDS = 200000
	};
	Rng			rng = rng_for_case(rng_stream("table log huge"), 0);
	uint32_t   *order = malloc(IDS * sizeof(uint32_t));
	CrdtCounterTable t;
	CrdtCounterReader r;
	CrdtMapEntry e;
	CrdtBuf		out;
	CrdtError	err;
	int			half;
	long		wrong = 0;
	size_t		seen = 0;

	for (uint32_t i = 0; i < IDS; i++)
		order[i] = i;
	rng_shuffle(&rng, order, IDS, sizeof(uint32_t));
	CHECK_OK(crdt_table_init(&t, CRDT_GCOUNTER, &crdt_malloc_allocator, &err), &err);
	for (int pass = 0; pass < 2; pass++)
		for (uint32_t k = 0; k < IDS; k++)
		{
			char		id[32];
			int			n = snprintf(id, sizeof(id), "agent-%08x", order[k] * 2654435761u);

			if (!CHECK_OK(crdt_table_put(&t, (const uint8_t *) id, (size_t) n, 0,
										 order[k] + 1 + (uint64_t) pass, &err), &err))
				break;
		}
	buf_open(&out);
	CHECK_OK(crdt_table_write(&t, CRDT_GCOUNTER, &out, &err), &err);
	if (CHECK_OK(crdt_counter_reader_init(&r, CRDT_GCOUNTER, buf_slice(&out), &err), &err))
	{
		int			rc;

		while ((rc = crdt_counter_reader_next(&r, &e, &half, &err)) > 0)
		{
			unsigned	v;

			seen++;
			if (sscanf((const char *) e.id + 6, "%8x", &v) != 1 ||
				e.count != (uint64_t) (uint32_t) (v * 244002641u) + 2)	/* 2654435761^-1 mod 2^32 */
				wrong++;
		}
		CHECK_EQ_INT(rc, 0);
	}
	CHECK_EQ_INT(seen, IDS);
	CHECK_EQ_INT(wrong, 0);
	crdt_buf_free(&out);
	crdt_table_free(&t);
	free(order);
}

/*
 * Many replicas of one group put in id order, in reverse and in random
 * order (each replica's P and N, or only one of them) give the same bytes:
 * the unsorted tail's one-pass write of both maps, and where the tail's
 * ids start to differ (found from their first 16 bytes as integers, past
 * them byte by byte) for ids like agent-NNN, ids that differ only past
 * their first 16 bytes, ids that are prefixes of each other, and ids of
 * exactly 16 bytes.
 */
static void
order_family_id(int family, size_t k, uint8_t *id, size_t *len)
{
	char		text[CRDT_REPLICA_ID_MAX + 1];
	int			n;

	switch (family)
	{
		case 0:
			n = snprintf(text, sizeof(text), "agent-%03zu", k);
			break;
		case 1:
			n = snprintf(text, sizeof(text), "eu-west-1/tenant-0042/node-%05zu%s", k,
						 k % 3 ? "" : "/x");
			break;
		case 2:
			/* "a", "aa", "aaa", ... then "b", "bb", ...: prefixes of each other */
			n = snprintf(text, sizeof(text), "%.*s", (int) (1 + k % 40),
						 k / 40 % 2 ? "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
						 : "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
			break;
		default:
			n = snprintf(text, sizeof(text), "0123456789ab%04zu", k);	/* 16 bytes */
			break;
	}
	*len = (size_t) n;
	memcpy(id, text, *len);
}

void
test_table_log_orders(void)
{
	Rng			rng = rng_for_case(rng_stream("table log orders"), 0);
	enum
	{
		IDS = 80
	};
	uint32_t	order[IDS];
	CrdtBuf		want;
	CrdtBuf		got;
	CrdtError	err;

	buf_open(&want);
	buf_open(&got);
	for (int kind = CRDT_GCOUNTER; kind <= CRDT_PNCOUNTER; kind++)
		for (int family = 0; family < 4; family++)
			for (int arrange = 0; arrange < 3; arrange++)	/* sorted, reversed, random */
			{
				CrdtCounterTable t;
				uint8_t		id[CRDT_REPLICA_ID_MAX];
				size_t		len;

				for (uint32_t k = 0; k < IDS; k++)
					order[k] = arrange == 1 ? IDS - 1 - k : k;
				if (arrange == 2)
					rng_shuffle(&rng, order, IDS, sizeof(uint32_t));
				CHECK_OK(crdt_table_init(&t, (CrdtCounterKind) kind, &crdt_malloc_allocator,
										 &err), &err);
				for (uint32_t k = 0; k < IDS; k++)
				{
					uint32_t	r = order[k];

					order_family_id(family, r, id, &len);
					/* every third replica only P, every fifth only N */
					if (r % 5 != 0)
						CHECK_OK(crdt_table_put(&t, id, len, 0, 1 + r * 7, &err), &err);
					if (r % 3 != 0)
						CHECK_OK(crdt_table_put(&t, id, len, 1, 2 + r, &err), &err);
				}
				buf_reset(&got);
				CHECK_OK(crdt_table_write(&t, (CrdtCounterKind) kind, &got, &err), &err);
				if (arrange == 0)
				{
					buf_reset(&want);
					crdt_buf_put(&want, got.data, got.len);
					CHECK_OK(crdt_counter_validate((CrdtCounterKind) kind, buf_slice(&got), &err),
							 &err);
				}
				else if (!CHECK_EQ_BYTES(buf_slice(&got), buf_slice(&want)))
					unit_note("kind %d, id family %d, %s", kind, family,
							  arrange == 1 ? "reversed" : "random order");
				crdt_table_free(&t);
			}
	crdt_buf_free(&want);
	crdt_buf_free(&got);
}
