/*
 * laws.c — fuzz target for the laws every type promises (test/unit/
 * test_laws.c states them for generated values; here the values are any
 * the fuzzer finds that validate).
 *
 * Input: a selector byte choosing the type, then chunks a, b and c
 * (fuzz_common.h); a chunk whose bytes or text do not validate is run as
 * an operation program instead (always valid); c defaults to a.
 * Checked, each failure an abort():
 *   merge: valid, commutative, idempotent, associative, empty its identity;
 *   delta(a, b): valid, merge(b, delta(a, b)) = merge(b, a) (crdt_types.h:
 *     the smallest d with that property), delta(a, a) = empty,
 *     delta(b, merge(b, a)) = empty, delta(delta(a, b), b) = delta(a, b);
 *   text: parse(print(x)) = x for a, b and the results, also with the
 *     non-ASCII characters escaped;
 *   compare: a total order (-1/0/1, antisymmetric, 0 exactly on equal
 *     bytes, transitive), the empty value first;
 *   and per family what its merge is defined to be: pointwise max
 *   (counters; and the delta: the entries where a is ahead; for sets the
 *   delta is what b lacks and would keep), the union minus the removed (sets), the surviving dots
 *   under the union of the contexts (orset, mvreg), the greater write
 *   (lwwreg); for vclock the causal order agrees with merge; with
 *   retirement markers, that unfolding them commutes with merge.
 */
#include "fuzz_common.h"
#include "../order_laws.h"

#include <stdlib.h>
#include <string.h>

typedef struct Laws
{
	const CrdtType *t;
	CrdtSlice	a;
	CrdtSlice	b;
	CrdtSlice	c;
	CrdtSlice	empty;
} Laws;

typedef CrdtStatus (*BinOp) (CrdtSlice x, CrdtSlice y, CrdtBuf *out, CrdtError *err);

/* op(x, y), checked to succeed and (unless trusted later by equality) to validate */
static CrdtSlice
run(Laws *l, BinOp op, const char *what, CrdtSlice x, CrdtSlice y)
{
	CrdtBuf		b;
	CrdtError	err;
	CrdtStatus	st;
	CrdtSlice	r;

	fuzz_buf_open(&b);
	st = op(x, y, &b, &err);
	FUZZ_CHECK(st == CRDT_OK, "%s %s of valid values: %s: %s", l->t->name, what,
			   fuzz_status_name(st), err.message);
	r = fuzz_exact_buf(&b);
	crdt_buf_free(&b);
	st = l->t->validate(r, &err);
	fuzz_note_value(what, r);
	FUZZ_CHECK(st == CRDT_OK, "%s %s gives an invalid value: %s: %s", l->t->name, what,
			   fuzz_status_name(st), err.message);
	return r;
}

#define LAW(l, cond, law_name) \
	FUZZ_CHECK((cond), "%s law fails: %s", (l)->t->name, (law_name))

static CrdtSlice
merge(Laws *l, CrdtSlice x, CrdtSlice y)
{
	return run(l, l->t->merge, "merge", x, y);
}

static CrdtSlice
delta(Laws *l, CrdtSlice newer, CrdtSlice since)
{
	return run(l, l->t->delta, "delta", newer, since);
}

/* order_laws.h's hooks, with the Laws as context: compare(x, y), checked; a law */
static int
order_hook(void *ctx, CrdtSlice x, CrdtSlice y)
{
	Laws	   *l = ctx;
	CrdtError	err;
	int			r = 2;
	CrdtStatus	st = l->t->compare(x, y, &r, &err);

	FUZZ_CHECK(st == CRDT_OK, "%s compare of valid values: %s: %s", l->t->name,
			   fuzz_status_name(st), err.message);
	LAW(l, r == -1 || r == 0 || r == 1, "compare gives -1, 0 or 1");
	return r;
}

static void
law_hook(void *l, bool holds, const char *name)
{
	LAW((Laws *) l, holds, name);
}

static void
text_law(Laws *l, const char *name, CrdtSlice x)
{
	CrdtBuf		text;
	CrdtBuf		ascii;
	CrdtBuf		back;
	CrdtError	err;
	CrdtStatus	st;

	crdt_bufs_init(&crdt_malloc_allocator, &text, &ascii, &back, NULL);
	fuzz_print(l->t, x, &text);
	st = l->t->parse((const char *) fuzz_exact_buf(&text).data, text.len, &back, &err);
	FUZZ_CHECK(st == CRDT_OK, "%s: the text of %s does not parse: %s: %s", l->t->name, name,
			   fuzz_status_name(st), err.message);
	FUZZ_CHECK(fuzz_slice_equal(fuzz_exact_buf(&back), x), "%s: parse(print(%s)) differs",
			   l->t->name, name);
	if (!fuzz_escape_round_trips(l->t, x))
		goto done;
	crdt_json_escape_non_ascii((const char *) fuzz_exact_buf(&text).data, text.len, &ascii);
	fuzz_buf_reset(&back);
	st = l->t->parse((const char *) fuzz_exact_buf(&ascii).data, ascii.len, &back, &err);
	FUZZ_CHECK(st == CRDT_OK, "%s: the escaped text of %s does not parse: %s: %s", l->t->name,
			   name, fuzz_status_name(st), err.message);
	FUZZ_CHECK(fuzz_slice_equal(fuzz_exact_buf(&back), x),
			   "%s: parse(escape(print(%s))) differs", l->t->name, name);
done:
	crdt_bufs_free(&text, &ascii, &back, NULL);
}

/* ------------------------------------------------------------ counters */

/*
 * The counter operations, map by map: merge(a, b) has every id of either
 * side with the larger count; delta(a, b) exactly a's entries that b
 * lacks or has smaller, with a's count.
 */
static void
counter_model(Laws *l, CrdtCounterKind kind, CrdtSlice got, bool delta)
{
	const char *name = delta ? "delta(a,b) has each entry where a is ahead, with a's count"
		: "merge is the pointwise maximum";
	const char *extra = delta ? "delta(a,b) has only entries where a is ahead"
		: "merge has no entry of its own";
	CrdtSlice	ha[2];
	CrdtSlice	hb[2];
	CrdtSlice	hg[2];
	CrdtError	err;

	FUZZ_CHECK(crdt_counter_halves(kind, l->a, ha, &err) == CRDT_OK &&
			   crdt_counter_halves(kind, l->b, hb, &err) == CRDT_OK &&
			   crdt_counter_halves(kind, got, hg, &err) == CRDT_OK, "halves of valid values");
	for (int h = 0; h < (kind == CRDT_PNCOUNTER ? 2 : 1); h++)
	{
		CrdtMapPairWalk w;
		CrdtMapReader r;
		CrdtMapEntry e;
		const uint8_t *id;
		size_t		len;
		uint64_t	ca;
		uint64_t	cb;
		int			rc;

		FUZZ_CHECK(crdt_map_pair_init(&w, ha[h], hb[h], &err) == CRDT_OK, "pair init");
		crdt_map_reader_init(&r, hg[h].data, hg[h].len, 0);
		while ((rc = crdt_map_pair_next(&w, &id, &len, &ca, &cb, &err)) > 0)
		{
			uint64_t	want = ca > cb ? ca : (delta ? 0 : cb);

			if (want == 0)
				continue;
			LAW(l, crdt_map_reader_next(&r, &e, &err) == 1 && e.len == len &&
				memcmp(e.id, id, len) == 0 && e.count == want, name);
		}
		FUZZ_CHECK(rc == 0, "pair walk of valid values: %s", err.message);
		LAW(l, crdt_map_reader_next(&r, &e, &err) == 0, extra);
	}
}

/* The marker layer of l's type, or NULL (docs/RETIREMENT.md). */
static const CrdtRetireShape *
shape_of(const CrdtType *t)
{
	static const CrdtRetireShape *const shapes[] = {
		&crdt_shape_vclock, &crdt_shape_gcounter, &crdt_shape_pncounter,
		&crdt_shape_orset, &crdt_shape_mvreg
	};

	for (size_t i = 0; i < sizeof(shapes) / sizeof(shapes[0]); i++)
		if (shapes[i]->plain->name == t->name || strcmp(shapes[i]->plain->name, t->name) == 0)
			return shapes[i];
	return NULL;
}

static CrdtSlice
unfolded(const CrdtRetireShape *shape, CrdtSlice v, CrdtBuf *out)
{
	CrdtError	err;

	FUZZ_CHECK(crdt_retire_unfold(shape, v, out, &err) == CRDT_OK, "unfold: %s", err.message);
	return (CrdtSlice) {out->data, out->len};
}

/*
 * With retirement markers on either side, the family models read the
 * unfolded values: unfold(merge(a, b)) = merge(unfold(a), unfold(b)),
 * whatever the markers.  True when a or b had markers (then done).
 */
static bool
marked_laws(Laws *l, CrdtSlice ab)
{
	const CrdtRetireShape *shape = shape_of(l->t);
	CrdtBuf		ua;
	CrdtBuf		ub;
	CrdtBuf		uab;
	CrdtBuf		want;
	CrdtError	err;

	if (shape == NULL || (!crdt_value_marked(l->a) && !crdt_value_marked(l->b)))
		return false;
	crdt_bufs_init(&crdt_malloc_allocator, &ua, &ub, &uab, &want, NULL);
	FUZZ_CHECK(shape->plain->merge(unfolded(shape, l->a, &ua), unfolded(shape, l->b, &ub),
								   &want, &err) == CRDT_OK, "merge of unfolded values");
	LAW(l, fuzz_slice_equal(unfolded(shape, ab, &uab), (CrdtSlice) {want.data, want.len}),
		"unfold(merge(a,b)) = merge(unfold(a), unfold(b))");
	crdt_bufs_free(&ua, &ub, &uab, &want, NULL);
	return true;
}

static void
vclock_laws(Laws *l, CrdtSlice ab, CrdtSlice d)
{
	static const CrdtOrder mirror[] = {
		CRDT_ORDER_EQUAL, CRDT_ORDER_AFTER, CRDT_ORDER_BEFORE, CRDT_ORDER_CONCURRENT
	};
	CrdtOrder	o;
	CrdtOrder	ob;
	CrdtError	err;
	bool		same = fuzz_slice_equal(l->a, l->b);
	int64_t		dab = 0;
	int64_t		dba = 0;
	CrdtStatus	sab;
	CrdtStatus	sba;

	FUZZ_CHECK(crdt_vclock_compare(l->a, l->b, &o, &err) == CRDT_OK &&
			   crdt_vclock_compare(l->b, l->a, &ob, &err) == CRDT_OK, "vclock compare");
	LAW(l, ob == mirror[o], "compare(b,a) mirrors compare(a,b)");
	LAW(l, (o == CRDT_ORDER_EQUAL) == same, "equal exactly when the bytes are");
	LAW(l, (o == CRDT_ORDER_BEFORE) == (!same && fuzz_slice_equal(ab, l->b)),
		"before exactly when merge(a,b) = b != a");
	LAW(l, (o == CRDT_ORDER_AFTER) == (!same && fuzz_slice_equal(ab, l->a)),
		"after exactly when merge(a,b) = a != b");
	/* d = delta(a, b): empty exactly when a <= b */
	LAW(l, (o == CRDT_ORDER_EQUAL || o == CRDT_ORDER_BEFORE) == fuzz_slice_equal(d, l->empty),
		"delta(a,b) is empty exactly when a <= b");
	sab = crdt_vclock_distance(l->a, l->b, &dab, &err);
	sba = crdt_vclock_distance(l->b, l->a, &dba, &err);
	FUZZ_CHECK((sab == CRDT_OK || sab == CRDT_ERR_OVERFLOW) &&
			   (sba == CRDT_OK || sba == CRDT_ERR_OVERFLOW), "vclock distance");
	LAW(l, sab == sba && (sab != CRDT_OK || dab == dba), "distance is symmetric");
	if (sab == CRDT_OK)
		LAW(l, (dab == 0) == same && dab >= 0, "distance is 0 exactly between equals");
}

/* ------------------------------------------------------------ key lists */

typedef struct Key
{
	uint8_t    *bytes;
	size_t		len;
	int			list;			/* sets: 0 present, 1 removed */
	/* dotted: the dot */
	const uint8_t *replica;
	size_t		replica_len;
	uint64_t	counter;
} Key;

typedef struct Keys
{
	Key		   *k;
	size_t		n;
	size_t		cap;
} Keys;

static void
keys_push(Keys *ks, const Key *k)
{
	if (ks->n == ks->cap)
	{
		size_t		cap = ks->cap < 16 ? 16 : 2 * ks->cap;
		Key		   *grown = realloc(ks->k, cap * sizeof(Key));

		FUZZ_CHECK(grown != NULL, "out of memory");
		ks->k = grown;
		ks->cap = cap;
	}
	ks->k[ks->n++] = *k;
}

static void
keys_free(Keys *ks)
{
	for (size_t i = 0; i < ks->n; i++)
		free(ks->k[i].bytes);
	free(ks->k);
	ks->k = NULL;
	ks->n = ks->cap = 0;
}

static uint8_t *
copy_bytes(const uint8_t *p, size_t len)
{
	uint8_t    *c = malloc(len + 1);

	FUZZ_CHECK(c != NULL, "out of memory");
	if (len > 0)
		memcpy(c, p, len);
	return c;
}

static int
bytes_cmp(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
	int			c = memcmp(a, b, alen < blen ? alen : blen);

	if (c != 0)
		return c < 0 ? -1 : 1;
	return alen == blen ? 0 : (alen < blen ? -1 : 1);
}

/* by key, then (dotted) replica and counter, then list */
static int
key_cmp(const void *x, const void *y)
{
	const Key  *a = x;
	const Key  *b = y;
	int			c = bytes_cmp(a->bytes, a->len, b->bytes, b->len);

	if (c == 0)
		c = bytes_cmp(a->replica, a->replica_len, b->replica, b->replica_len);
	if (c == 0 && a->counter != b->counter)
		c = a->counter < b->counter ? -1 : 1;
	if (c == 0 && a->list != b->list)
		c = a->list < b->list ? -1 : 1;
	return c;
}

static void
keys_sort(Keys *ks)
{
	if (ks->n > 1)
		qsort(ks->k, ks->n, sizeof(Key), key_cmp);
}

static bool
keys_equal(const Keys *x, const Keys *y)
{
	if (x->n != y->n)
		return false;
	for (size_t i = 0; i < x->n; i++)
		if (key_cmp(&x->k[i], &y->k[i]) != 0)
			return false;
	return true;
}

static const uint8_t empty_replica[1] = {0};

/* The elements of a valid set value, each with its list, sorted. */
static void
set_read(CrdtSetKind kind, CrdtSlice v, Keys *out)
{
	CrdtSlice	lists[2];
	CrdtError	err;

	FUZZ_CHECK(crdt_set_lists(kind, v, lists, &err) == CRDT_OK, "set lists of a valid value");
	for (int i = 0; i < (kind == CRDT_TWOPSET ? 2 : 1); i++)
	{
		CrdtKeyReader *r = malloc(sizeof(CrdtKeyReader));
		const uint8_t *key;
		size_t		len;
		int			rc;

		FUZZ_CHECK(r != NULL, "out of memory");
		crdt_keys_reader_init(r, CRDT_KEYS_FRONT_CODED, lists[i].data, lists[i].len, 0);
		while ((rc = crdt_keys_reader_next(r, &key, &len, &err)) > 0)
		{
			Key			k = {copy_bytes(key, len), len, i, empty_replica, 0, 0};

			keys_push(out, &k);
		}
		FUZZ_CHECK(rc == 0, "reading a valid set: %s", err.message);
		free(r);
	}
	keys_sort(out);
}

static bool
set_has(const Keys *ks, const Key *k, int list)
{
	Key			probe = *k;

	probe.list = list;
	return ks->n > 0 && bsearch(&probe, ks->k, ks->n, sizeof(Key), key_cmp) != NULL;
}

/* merge(a, b): removed is the union; present the union of the present minus the removed */
static void
set_merge_want(const Keys *a, const Keys *b, Keys *want)
{
	for (int side = 0; side < 2; side++)
	{
		const Keys *s = side == 0 ? a : b;
		const Keys *o = side == 0 ? b : a;

		for (size_t i = 0; i < s->n; i++)
		{
			const Key  *k = &s->k[i];
			bool		removed = set_has(a, k, 1) || set_has(b, k, 1);

			/* each element once: from a, or from b when a lacks it */
			if (side == 1 && (set_has(o, k, 0) || set_has(o, k, 1)))
				continue;
			if (side == 0 && k->list == 0 && set_has(s, k, 1))
				continue;
			keys_push(want, &(Key) {copy_bytes(k->bytes, k->len), k->len, removed ? 1 : 0,
									 empty_replica, 0, 0});
		}
	}
	keys_sort(want);
}

/* delta(a, b): a's removed that b has not removed; a's present that b has in neither list */
static void
set_delta_want(const Keys *a, const Keys *b, Keys *want)
{
	for (size_t i = 0; i < a->n; i++)
	{
		const Key  *k = &a->k[i];

		if (set_has(b, k, 1) || (k->list == 0 && set_has(b, k, 0)))
			continue;
		keys_push(want, &(Key) {copy_bytes(k->bytes, k->len), k->len, k->list, empty_replica,
								 0, 0});
	}
}

static void
set_model(Laws *l, CrdtSetKind kind, CrdtSlice ab, CrdtSlice d)
{
	Keys		a = {0},
				b = {0},
				got = {0},
				want = {0};

	set_read(kind, l->a, &a);
	set_read(kind, l->b, &b);
	set_read(kind, ab, &got);
	set_merge_want(&a, &b, &want);
	LAW(l, keys_equal(&got, &want), "set merge is the union minus the removed");
	keys_free(&got);
	keys_free(&want);
	set_read(kind, d, &got);
	set_delta_want(&a, &b, &want);
	LAW(l, keys_equal(&got, &want), "set delta(a,b) is what b lacks and would keep");
	keys_free(&a);
	keys_free(&b);
	keys_free(&got);
	keys_free(&want);
}

/* ------------------------------------------------------------ dotted */

typedef struct Range
{
	uint64_t	lo;
	uint64_t	hi;
} Range;

typedef struct Replica
{
	const uint8_t *id;			/* copy */
	size_t		len;
	Range	   *ranges;
	size_t		n;
} Replica;

typedef struct Dotted
{
	Replica    *r;
	size_t		nr;
	Keys		dots;			/* one Key per dot, sorted */
} Dotted;

static uint64_t
varint(const uint8_t **p, const uint8_t *end)
{
	uint64_t	v = 0;

	FUZZ_CHECK(crdt_varint_decode(p, end, &v) == CRDT_VARINT_OK, "varint of a valid value");
	return v;
}

/* Reads the layout of crdt_types.h ("dotted stores") from a valid value. */
static void
dotted_read(CrdtDottedKind kind, CrdtSlice v, Dotted *d)
{
	CrdtKeyReader *r = malloc(sizeof(CrdtKeyReader));
	CrdtError	err;
	const uint8_t *key;
	size_t		len;
	int			rc;

	FUZZ_CHECK(r != NULL, "out of memory");
	memset(d, 0, sizeof(*d));
	crdt_keys_reader_init(r, CRDT_KEYS_FRONT_CODED, v.data + 1, v.len - 1, 1);
	while ((rc = crdt_keys_reader_next(r, &key, &len, &err)) > 0)
	{
		Replica    *rep;
		uint64_t	hi = 0;

		d->r = realloc(d->r, (d->nr + 1) * sizeof(Replica));
		FUZZ_CHECK(d->r != NULL, "out of memory");
		rep = &d->r[d->nr++];
		rep->id = copy_bytes(key, len);
		rep->len = len;
		rep->n = (size_t) varint(&r->pos, r->end);
		FUZZ_CHECK(rep->n <= v.len, "range count of a valid value");
		rep->ranges = malloc((rep->n + 1) * sizeof(Range));
		FUZZ_CHECK(rep->ranges != NULL, "out of memory");
		for (size_t k = 0; k < rep->n; k++)
		{
			uint64_t	gap = varint(&r->pos, r->end);
			uint64_t	width = varint(&r->pos, r->end);

			rep->ranges[k].lo = (k == 0 ? 1 : hi + 2) + gap;
			rep->ranges[k].hi = rep->ranges[k].lo + width;
			hi = rep->ranges[k].hi;
		}
	}
	FUZZ_CHECK(rc == 0, "reading a valid context: %s", err.message);
	crdt_keys_reader_init(r, kind == CRDT_ORSET ? CRDT_KEYS_FRONT_CODED : CRDT_KEYS_PLAIN,
						  r->pos, (size_t) (v.data + v.len - r->pos), 0);
	while ((rc = crdt_keys_reader_next(r, &key, &len, &err)) > 0)
	{
		uint64_t	n = varint(&r->pos, r->end);

		for (uint64_t k = 0; k < n; k++)
		{
			uint64_t	index = varint(&r->pos, r->end);
			Key			dot;

			FUZZ_CHECK(index < d->nr, "dot replica index of a valid value");
			dot.bytes = copy_bytes(key, len);
			dot.len = len;
			dot.list = 0;
			dot.replica = d->r[index].id;
			dot.replica_len = d->r[index].len;
			dot.counter = varint(&r->pos, r->end);
			keys_push(&d->dots, &dot);
		}
	}
	FUZZ_CHECK(rc == 0, "reading valid keys: %s", err.message);
	free(r);
	keys_sort(&d->dots);
}

static void
dotted_free(Dotted *d)
{
	for (size_t i = 0; i < d->nr; i++)
	{
		free((void *) d->r[i].id);
		free(d->r[i].ranges);
	}
	free(d->r);
	keys_free(&d->dots);
}

static const Replica *
find_replica(const Dotted *d, const uint8_t *id, size_t len)
{
	for (size_t i = 0; i < d->nr; i++)
		if (bytes_cmp(d->r[i].id, d->r[i].len, id, len) == 0)
			return &d->r[i];
	return NULL;
}

static bool
seen(const Dotted *d, const uint8_t *id, size_t len, uint64_t counter)
{
	const Replica *r = find_replica(d, id, len);

	if (r != NULL)
		for (size_t k = 0; k < r->n; k++)
			if (r->ranges[k].lo <= counter && counter <= r->ranges[k].hi)
				return true;
	return false;
}

static bool
has_dot(const Dotted *d, const Key *dot)
{
	return d->dots.n > 0 && bsearch(dot, d->dots.k, d->dots.n, sizeof(Key), key_cmp) != NULL;
}

static int
range_cmp(const void *x, const void *y)
{
	const Range *a = x;
	const Range *b = y;

	return a->lo < b->lo ? -1 : (a->lo > b->lo);
}

/* m's ranges for id are exactly the union of a's and b's, joined */
static bool
ranges_are_union(const Replica *mr, const Replica *ar, const Replica *br)
{
	size_t		n = (ar ? ar->n : 0) + (br ? br->n : 0);
	Range	   *all = malloc((n + 1) * sizeof(Range));
	size_t		k = 0;
	size_t		out = 0;
	bool		ok = true;

	FUZZ_CHECK(all != NULL, "out of memory");
	if (ar)
		for (size_t i = 0; i < ar->n; i++)
			all[k++] = ar->ranges[i];
	if (br)
		for (size_t i = 0; i < br->n; i++)
			all[k++] = br->ranges[i];
	if (n > 1)
		qsort(all, n, sizeof(Range), range_cmp);
	for (size_t i = 0; i < n; i++)
	{
		if (out > 0 && all[i].lo <= all[out - 1].hi + 1)
		{
			if (all[i].hi > all[out - 1].hi)
				all[out - 1].hi = all[i].hi;
		}
		else
			all[out++] = all[i];
	}
	if (mr == NULL || mr->n != out)
		ok = false;
	for (size_t i = 0; ok && i < out; i++)
		ok = mr->ranges[i].lo == all[i].lo && mr->ranges[i].hi == all[i].hi;
	free(all);
	return ok;
}

static bool
context_is_union(const Dotted *m, const Dotted *a, const Dotted *b)
{
	for (size_t i = 0; i < m->nr; i++)
		if (find_replica(a, m->r[i].id, m->r[i].len) == NULL &&
			find_replica(b, m->r[i].id, m->r[i].len) == NULL)
			return false;
	for (int side = 0; side < 2; side++)
	{
		const Dotted *s = side == 0 ? a : b;

		for (size_t i = 0; i < s->nr; i++)
			if (!ranges_are_union(find_replica(m, s->r[i].id, s->r[i].len),
								  find_replica(a, s->r[i].id, s->r[i].len),
								  find_replica(b, s->r[i].id, s->r[i].len)))
				return false;
	}
	return true;
}

/* a dot survives when both have it, or one has it and the other has not seen it */
static void
dotted_model(Laws *l, CrdtDottedKind kind, CrdtSlice ab)
{
	Dotted		a,
				b,
				m;
	Keys		want = {0};

	dotted_read(kind, l->a, &a);
	dotted_read(kind, l->b, &b);
	dotted_read(kind, ab, &m);
	LAW(l, context_is_union(&m, &a, &b), "the merged context is the union of the contexts");
	for (int side = 0; side < 2; side++)
	{
		const Dotted *s = side == 0 ? &a : &b;
		const Dotted *o = side == 0 ? &b : &a;

		for (size_t i = 0; i < s->dots.n; i++)
		{
			const Key  *dot = &s->dots.k[i];
			bool		both = has_dot(o, dot);
			Key			w;

			if (side == 1 && both)
				continue;		/* taken from a */
			if (!both && seen(o, dot->replica, dot->replica_len, dot->counter))
				continue;
			w = *dot;
			w.bytes = copy_bytes(dot->bytes, dot->len);
			keys_push(&want, &w);
		}
	}
	keys_sort(&want);
	LAW(l, keys_equal(&m.dots, &want),
		"a merged dot is one both have, or one has and the other has not seen");
	keys_free(&want);
	dotted_free(&a);
	dotted_free(&b);
	dotted_free(&m);
}

/* ------------------------------------------------------------ the laws */

static void
check_laws(Laws *l)
{
	CrdtCounterKind ck;
	CrdtSetKind sk;
	CrdtDottedKind dk;
	CrdtSlice	ab = merge(l, l->a, l->b);
	CrdtSlice	ba = merge(l, l->b, l->a);
	CrdtSlice	bc;
	CrdtSlice	d;
	OrderLaws	o = {order_hook, law_hook, l};
	int			oab;

	LAW(l, fuzz_slice_equal(ab, ba), "merge(a,b) = merge(b,a)");
	LAW(l, fuzz_slice_equal(merge(l, l->a, l->a), l->a), "merge(a,a) = a");
	LAW(l, fuzz_slice_equal(merge(l, l->a, l->empty), l->a), "merge(a,empty) = a");
	LAW(l, fuzz_slice_equal(merge(l, l->empty, l->b), l->b), "merge(empty,b) = b");
	bc = merge(l, l->b, l->c);
	LAW(l, fuzz_slice_equal(merge(l, ab, l->c), merge(l, l->a, bc)),
		"merge(merge(a,b),c) = merge(a,merge(b,c))");

	d = delta(l, l->a, l->b);
	fuzz_note_value("delta(a,b)", d);
	LAW(l, fuzz_slice_equal(merge(l, l->b, d), ba), "merge(b, delta(a,b)) = merge(b,a)");
	LAW(l, fuzz_slice_equal(delta(l, l->a, l->a), l->empty), "delta(a,a) = empty");
	LAW(l, fuzz_slice_equal(delta(l, l->b, ba), l->empty), "delta(b, merge(b,a)) = empty");
	LAW(l, fuzz_slice_equal(delta(l, d, l->b), d), "delta(delta(a,b), b) = delta(a,b)");

	text_law(l, "a", l->a);
	text_law(l, "b", l->b);
	text_law(l, "merge(a,b)", ab);
	text_law(l, "delta(a,b)", d);

	oab = order_laws_check(&o, l->a, l->b, l->c, l->empty);

	if (marked_laws(l, ab))
		return;
	if (fuzz_is_counter(l->t, &ck))
	{
		counter_model(l, ck, ab, false);
		counter_model(l, ck, d, true);
		if (ck == CRDT_VCLOCK)
			vclock_laws(l, ab, d);
	}
	else if (fuzz_is_set(l->t, &sk))
	{
		set_model(l, sk, ab, d);
	}
	else if (fuzz_is_dotted(l->t, &dk))
		dotted_model(l, dk, ab);
	else
		LAW(l, fuzz_slice_equal(ab, oab >= 0 ? l->a : l->b),
			"merge keeps the greater write (compare's order)");
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	Laws		l;
	FuzzCursor	cur;
	FuzzChunk	chunk;
	CrdtBuf		value;
	CrdtSlice	v[3];
	int			n = 0;

	if (size < 1)
		return 0;
	fuzz_notes_clear();
	l.t = fuzz_type_of(data[0]);
	l.empty = fuzz_empty(l.t);
	fuzz_buf_open(&value);
	cur.pos = data + 1;
	cur.end = data + size;
	while (n < 3 && fuzz_next_chunk(&cur, &chunk))
	{
		CrdtSlice	prev = n > 0 ? v[n - 1] : (CrdtSlice) {NULL, 0};

		/* refused bytes or text run as a program, so that every input checks laws */
		fuzz_chunk_value_or_ops(l.t, &chunk, prev, &value);
		v[n++] = fuzz_exact_buf(&value);
	}
	if (n < 2)
		goto done;
	l.a = v[0];
	l.b = v[1];
	l.c = n > 2 ? v[2] : v[0];
	fuzz_note_value("a", l.a);
	fuzz_note_value("b", l.b);
	fuzz_note_value("c", l.c);
	check_laws(&l);
done:
	crdt_buf_free(&value);
	fuzz_exact_release_all();
	return 0;
}
