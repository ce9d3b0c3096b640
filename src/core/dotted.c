/*
 * dotted.c — orset and mvreg: dotted keys with a causal context.
 *
 * Both follow the optimized, tombstone-free OR-Set (Bieniusa et al. 2012)
 * and its delta form (Almeida, Shoker, Baquero 2018): a key is present
 * while it carries a dot; every operation is "merge this small delta":
 *   orset add(e):     ({e: [new dot]}, {new dot} ∪ dots(e))
 *   orset remove(e):  ({}, dots(e))
 *   mvreg set(v):     ({v: [new dot]}, {new dot} ∪ every dot)
 * so local updates and replication share one code path, the merge.
 *
 * Decoding a value means decoding its context into arrays (replica ids and
 * their counter ranges); keys and dots are then read in one pass.
 */
#include "crdt_type_def.h"
#include "jsonlex.h"

#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------- helpers */

typedef struct Range
{
	uint64_t	lo;
	uint64_t	hi;
} Range;

typedef struct Dot
{
	uint32_t	replica;		/* index into a context's replicas */
	uint64_t	counter;
} Dot;

static CrdtKeyStyle
key_style(CrdtDottedKind kind)
{
	return kind == CRDT_ORSET ? CRDT_KEYS_FRONT_CODED : CRDT_KEYS_PLAIN;
}

const char *
crdt_dotted_kind_name(CrdtDottedKind kind)
{
	return kind == CRDT_ORSET ? "orset" : "mvreg";
}

static CrdtStatus
binary(CrdtError *err, long at, const char *what)
{
	return crdt_fail(err, CRDT_ERR_BINARY, at, "%s", what);
}

static int
compare_dots(const void *x, const void *y)
{
	const Dot  *a = x;
	const Dot  *b = y;

	if (a->replica != b->replica)
		return a->replica < b->replica ? -1 : 1;
	return a->counter < b->counter ? -1 : (a->counter > b->counter);
}

static int
compare_ranges(const void *x, const void *y)
{
	const Range *a = x;
	const Range *b = y;

	return a->lo < b->lo ? -1 : (a->lo > b->lo);
}

/* Appends ranges (sorted by lo) to out, joining overlapping and adjacent ones. */
static void
coalesce_into(CrdtBuf *out, const Range *in, size_t n)
{
	Range		cur;

	if (n == 0)
		return;
	cur = in[0];
	for (size_t k = 1; k < n; k++)
	{
		if (in[k].lo <= cur.hi || in[k].lo - cur.hi == 1)
		{
			if (in[k].hi > cur.hi)
				cur.hi = in[k].hi;
		}
		else
		{
			crdt_buf_put(out, &cur, sizeof(cur));
			cur = in[k];
		}
	}
	crdt_buf_put(out, &cur, sizeof(cur));
}

static void
write_ranges(CrdtBuf *out, const Range *r, size_t n)
{
	crdt_buf_put_varint(out, n);
	for (size_t k = 0; k < n; k++)
	{
		crdt_buf_put_varint(out, k == 0 ? r[k].lo - 1 : r[k].lo - r[k - 1].hi - 2);
		crdt_buf_put_varint(out, r[k].hi - r[k].lo);
	}
}

/* ------------------------------------------------------------- context */

typedef struct Context
{
	size_t		n;				/* replicas, sorted by id bytes */
	CrdtBuf		ids;			/* their bytes, back to back */
	CrdtBuf		id_at;			/* size_t[n + 1]: offsets into ids */
	CrdtBuf		first;			/* size_t[n + 1]: range indexes */
	CrdtBuf		ranges;			/* Range[] */
	size_t		span;			/* bytes of the encoded context */
} Context;

#define CTX_ID(c, i) ((c)->ids.data + ((size_t *) (c)->id_at.data)[i])
#define CTX_ID_LEN(c, i) (((size_t *) (c)->id_at.data)[(i) + 1] - ((size_t *) (c)->id_at.data)[i])
#define CTX_FIRST(c, i) (((size_t *) (c)->first.data)[i])
#define CTX_RANGES(c) ((Range *) (c)->ranges.data)

static void
context_init(Context *c, const CrdtAllocator *alloc)
{
	c->n = 0;
	c->span = 0;
	crdt_buf_init(&c->ids, alloc, 0);
	crdt_buf_init(&c->id_at, alloc, 0);
	crdt_buf_init(&c->first, alloc, 0);
	crdt_buf_init(&c->ranges, alloc, 0);
	crdt_buf_put(&c->id_at, &c->span, sizeof(size_t));
	crdt_buf_put(&c->first, &c->span, sizeof(size_t));
}

static void
context_free(Context *c)
{
	crdt_buf_free(&c->ids);
	crdt_buf_free(&c->id_at);
	crdt_buf_free(&c->first);
	crdt_buf_free(&c->ranges);
}

static bool
context_failed(const Context *c)
{
	return c->ids.failed || c->id_at.failed || c->first.failed || c->ranges.failed;
}

/* Adds replica id (after every earlier one) with ranges already coalesced. */
static void
context_add(Context *c, const uint8_t *id, size_t len, const Range *r, size_t nr)
{
	size_t		at;

	crdt_buf_put(&c->ids, id, len);
	at = c->ids.len;
	crdt_buf_put(&c->id_at, &at, sizeof(at));
	crdt_buf_put(&c->ranges, r, nr * sizeof(Range));
	at = c->ranges.len / sizeof(Range);
	crdt_buf_put(&c->first, &at, sizeof(at));
	c->n++;
}

static CrdtStatus
context_decode(Context *c, const uint8_t *bytes, size_t len, size_t offset, CrdtError *err)
{
	CrdtKeyReader r;
	const uint8_t *id;
	size_t		id_len;
	int			rc;

	crdt_keys_reader_init(&r, CRDT_KEYS_FRONT_CODED, bytes, len, offset);
	while ((rc = crdt_keys_reader_next(&r, &id, &id_len, err)) > 0)
	{
		const uint8_t *entry = r.pos;
		uint64_t	nranges;
		uint64_t	prev_hi = 0;
		const char *problem = crdt_replica_id_check(id, id_len);

		if (problem != NULL)
			return crdt_fail(err, CRDT_ERR_BINARY, (long) (offset + (size_t) (entry - bytes)),
							 "context replica id %s", problem);
		if (crdt_varint_decode(&r.pos, r.end, &nranges) != CRDT_VARINT_OK || nranges == 0 ||
			nranges > (uint64_t) (r.end - r.pos) / 2)
			return binary(err, (long) (offset + (size_t) (entry - bytes)), "malformed context ranges");
		crdt_buf_put(&c->ids, id, id_len);
		{
			size_t		at = c->ids.len;

			crdt_buf_put(&c->id_at, &at, sizeof(at));
		}
		for (uint64_t k = 0; k < nranges; k++)
		{
			uint64_t	gap;
			uint64_t	width;
			Range		range;

			if (crdt_varint_decode(&r.pos, r.end, &gap) != CRDT_VARINT_OK ||
				crdt_varint_decode(&r.pos, r.end, &width) != CRDT_VARINT_OK)
				return binary(err, (long) (offset + (size_t) (entry - bytes)), "malformed context range");
			/* lo = 1 + gap first, prev_hi + 2 + gap after; all within 1..INT64_MAX */
			if (gap > (uint64_t) INT64_MAX - (k == 0 ? 1 : prev_hi + 2) ||
				width > (uint64_t) INT64_MAX - ((k == 0 ? 1 : prev_hi + 2) + gap))
				return binary(err, (long) (offset + (size_t) (entry - bytes)),
							  "context counter exceeds the bigint range");
			range.lo = (k == 0 ? 1 : prev_hi + 2) + gap;
			range.hi = range.lo + width;
			prev_hi = range.hi;
			crdt_buf_put(&c->ranges, &range, sizeof(range));
		}
		{
			size_t		at = c->ranges.len / sizeof(Range);

			crdt_buf_put(&c->first, &at, sizeof(at));
		}
		c->n++;
		if (context_failed(c))
			return crdt_nomem(err);
	}
	if (rc < 0)
		return err->status;
	c->span = (size_t) (r.pos - bytes);
	return CRDT_OK;
}

static bool
context_contains(const Context *c, uint32_t replica, uint64_t counter)
{
	const Range *ranges = CTX_RANGES(c);
	size_t		lo = CTX_FIRST(c, replica);
	size_t		hi = CTX_FIRST(c, replica + 1);

	while (lo < hi)
	{
		size_t		mid = lo + (hi - lo) / 2;

		if (counter < ranges[mid].lo)
			hi = mid;
		else if (counter > ranges[mid].hi)
			lo = mid + 1;
		else
			return true;
	}
	return false;
}

static void
context_write(const Context *c, CrdtBuf *out)
{
	CrdtKeyWriter w;

	crdt_keys_writer_init(&w, CRDT_KEYS_FRONT_CODED, out);
	for (size_t i = 0; i < c->n; i++)
	{
		crdt_keys_writer_add(&w, CTX_ID(c, i), CTX_ID_LEN(c, i));
		write_ranges(out, CTX_RANGES(c) + CTX_FIRST(c, i), CTX_FIRST(c, i + 1) - CTX_FIRST(c, i));
	}
	crdt_keys_writer_finish(&w);
}

/*
 * The union of two contexts, with for each merged replica its index in a
 * and in b (or -1), so dots of either side can be translated and tested.
 */
typedef struct Union
{
	Context		merged;
	CrdtBuf		from_a;			/* uint32[a.n]: merged index of a's replica */
	CrdtBuf		from_b;
	CrdtBuf		in_a;			/* int64[merged.n]: a's index, or -1 */
	CrdtBuf		in_b;
} Union;

#define U32(buf) ((uint32_t *) (buf).data)
#define I64(buf) ((int64_t *) (buf).data)

static void
union_free(Union *u)
{
	context_free(&u->merged);
	crdt_buf_free(&u->from_a);
	crdt_buf_free(&u->from_b);
	crdt_buf_free(&u->in_a);
	crdt_buf_free(&u->in_b);
}

static CrdtStatus
union_build(Union *u, const Context *a, const Context *b, const CrdtAllocator *alloc,
			CrdtError *err)
{
	size_t		i = 0;
	size_t		j = 0;
	CrdtBuf		scratch;

	context_init(&u->merged, alloc);
	crdt_buf_init(&u->from_a, alloc, 0);
	crdt_buf_init(&u->from_b, alloc, 0);
	crdt_buf_init(&u->in_a, alloc, 0);
	crdt_buf_init(&u->in_b, alloc, 0);
	crdt_buf_init(&scratch, alloc, 0);
	while (i < a->n || j < b->n)
	{
		int			c = i >= a->n ? 1 : j >= b->n ? -1
			: crdt_bytes_cmp(CTX_ID(a, i), CTX_ID_LEN(a, i), CTX_ID(b, j), CTX_ID_LEN(b, j));
		uint32_t	m = (uint32_t) u->merged.n;
		int64_t		ia = c <= 0 ? (int64_t) i : -1;
		int64_t		ib = c >= 0 ? (int64_t) j : -1;
		size_t		na = ia < 0 ? 0 : CTX_FIRST(a, i + 1) - CTX_FIRST(a, i);
		size_t		nb = ib < 0 ? 0 : CTX_FIRST(b, j + 1) - CTX_FIRST(b, j);
		const Range *ra = ia < 0 ? NULL : CTX_RANGES(a) + CTX_FIRST(a, i);
		const Range *rb = ib < 0 ? NULL : CTX_RANGES(b) + CTX_FIRST(b, j);
		size_t		x = 0;
		size_t		y = 0;

		/* both range lists are sorted: merge them by lo, then coalesce */
		scratch.len = 0;
		while (x < na || y < nb)
		{
			if (y >= nb || (x < na && ra[x].lo <= rb[y].lo))
				crdt_buf_put(&scratch, &ra[x++], sizeof(Range));
			else
				crdt_buf_put(&scratch, &rb[y++], sizeof(Range));
		}
		coalesce_into(&u->merged.ranges, (const Range *) scratch.data, na + nb);
		{
			size_t		at = u->merged.ranges.len / sizeof(Range);

			crdt_buf_put(&u->merged.ids, c <= 0 ? CTX_ID(a, i) : CTX_ID(b, j),
						 c <= 0 ? CTX_ID_LEN(a, i) : CTX_ID_LEN(b, j));
			crdt_buf_put(&u->merged.first, &at, sizeof(at));
			at = u->merged.ids.len;
			crdt_buf_put(&u->merged.id_at, &at, sizeof(at));
		}
		u->merged.n++;
		if (ia >= 0)
			crdt_buf_put(&u->from_a, &m, sizeof(m));
		if (ib >= 0)
			crdt_buf_put(&u->from_b, &m, sizeof(m));
		crdt_buf_put(&u->in_a, &ia, sizeof(ia));
		crdt_buf_put(&u->in_b, &ib, sizeof(ib));
		if (c <= 0)
			i++;
		if (c >= 0)
			j++;
	}
	crdt_buf_free(&scratch);
	if (context_failed(&u->merged) || u->from_a.failed || u->from_b.failed ||
		u->in_a.failed || u->in_b.failed || scratch.failed)
		return crdt_nomem(err);
	return CRDT_OK;
}

/* Does side's context (seen through the union) contain a merged-index dot? */
static bool
side_contains(const Context *side, const CrdtBuf *in_side, Dot d)
{
	int64_t		i = I64(*in_side)[d.replica];

	return i >= 0 && context_contains(side, (uint32_t) i, d.counter);
}

/* --------------------------------------------------------------- dots */

/*
 * Reads the dots payload at *pos into out (Dot[]), translating replica
 * indexes through map (NULL: keep them), checking order and bounds.
 */
static CrdtStatus
read_dots(const uint8_t **pos, const uint8_t *end, size_t nreplicas, const uint32_t *map,
		  CrdtBuf *out, CrdtError *err)
{
	uint64_t	ndots;
	Dot			prev = {0, 0};

	out->len = 0;
	if (crdt_varint_decode(pos, end, &ndots) != CRDT_VARINT_OK || ndots == 0 ||
		ndots > (uint64_t) (end - *pos) / 2)
		return binary(err, -1, "malformed dot list");
	for (uint64_t k = 0; k < ndots; k++)
	{
		uint64_t	replica;
		Dot			d;

		if (crdt_varint_decode(pos, end, &replica) != CRDT_VARINT_OK ||
			crdt_varint_decode(pos, end, &d.counter) != CRDT_VARINT_OK)
			return binary(err, -1, "malformed dot");
		if (replica >= nreplicas)
			return binary(err, -1, "dot names a replica the context does not have");
		if (d.counter == 0 || d.counter > (uint64_t) INT64_MAX)
			return binary(err, -1, "dot counter out of range");
		d.replica = (uint32_t) replica;
		if (k > 0 && compare_dots(&prev, &d) >= 0)
			return binary(err, -1, "dots are not in increasing order");
		prev = d;
		if (map != NULL)
			d.replica = map[d.replica];
		crdt_buf_put(out, &d, sizeof(d));
	}
	return out->failed ? crdt_nomem(err) : CRDT_OK;
}

static void
write_dots(CrdtBuf *out, const Dot *dots, size_t n, const uint32_t *remap)
{
	crdt_buf_put_varint(out, n);
	for (size_t k = 0; k < n; k++)
	{
		crdt_buf_put_varint(out, remap != NULL ? remap[dots[k].replica] : dots[k].replica);
		crdt_buf_put_varint(out, dots[k].counter);
	}
}

/* ------------------------------------------------------------- reading */

/* Decodes the context of value and positions a key reader after it. */
static CrdtStatus
open_value(CrdtDottedKind kind, CrdtSlice value, Context *c, CrdtKeyReader *keys,
		   const CrdtAllocator *alloc, CrdtError *err)
{
	CrdtStatus	st;

	context_init(c, alloc);
	if ((st = crdt_check_version(value, err)) != CRDT_OK ||
		(st = context_decode(c, value.data + 1, value.len - 1, 1, err)) != CRDT_OK)
		return st;
	crdt_keys_reader_init(keys, key_style(kind), value.data + 1 + c->span,
						  value.len - 1 - c->span, 1 + c->span);
	return CRDT_OK;
}

static CrdtStatus
check_key(CrdtDottedKind kind, const uint8_t *key, size_t len, CrdtError *err)
{
	if (kind == CRDT_ORSET)
	{
		const char *problem = crdt_element_problem(key, len);

		return problem == NULL ? CRDT_OK
			: crdt_fail(err, CRDT_ERR_BINARY, -1, "element %s", problem);
	}
	return crdt_json_check_canonical(key, len, err);
}

CrdtStatus
crdt_dotted_validate(CrdtDottedKind kind, CrdtSlice value, CrdtError *err)
{
	const CrdtAllocator *alloc = crdt_default_allocator();
	Context		c;
	CrdtKeyReader *keys = alloc->alloc(alloc->ctx, sizeof(CrdtKeyReader));
	CrdtBuf		dots;
	CrdtBuf		all;
	const uint8_t *key;
	size_t		len;
	CrdtStatus	st;
	int			rc = 0;

	crdt_buf_init(&dots, alloc, 0);
	crdt_buf_init(&all, alloc, 0);
	if (keys == NULL)
		return crdt_nomem(err);
	if ((st = open_value(kind, value, &c, keys, alloc, err)) != CRDT_OK)
		goto done;
	while ((rc = crdt_keys_reader_next(keys, &key, &len, err)) > 0)
	{
		const Dot  *d;

		if ((st = check_key(kind, key, len, err)) != CRDT_OK ||
			(st = read_dots(&keys->pos, keys->end, c.n, NULL, &dots, err)) != CRDT_OK)
			goto done;
		d = (const Dot *) dots.data;
		for (size_t k = 0; k < dots.len / sizeof(Dot); k++)
			if (!context_contains(&c, d[k].replica, d[k].counter))
			{
				st = binary(err, -1, "a dot lies outside the context");
				goto done;
			}
		crdt_buf_put(&all, dots.data, dots.len);
	}
	if (rc < 0)
	{
		st = err->status;
		goto done;
	}
	if (keys->pos != keys->end)
	{
		st = crdt_fail(err, CRDT_ERR_BINARY, (long) (value.len - (size_t) (keys->end - keys->pos)),
					   "unexpected trailing bytes (%zu)", (size_t) (keys->end - keys->pos));
		goto done;
	}
	if (all.failed)
	{
		st = crdt_nomem(err);
		goto done;
	}
	/* a dot names one write, so it belongs to one key */
	{
		Dot		   *d = (Dot *) all.data;
		size_t		n = all.len / sizeof(Dot);

		if (n > 1)
			qsort(d, n, sizeof(Dot), compare_dots);
		for (size_t k = 1; k < n; k++)
			if (compare_dots(&d[k - 1], &d[k]) == 0)
			{
				st = binary(err, -1, "the same dot belongs to two keys");
				goto done;
			}
	}
	st = CRDT_OK;

done:
	context_free(&c);
	crdt_buf_free(&dots);
	crdt_buf_free(&all);
	alloc->release(alloc->ctx, keys);
	return st;
}

void
crdt_dotted_write_empty(CrdtDottedKind kind, CrdtBuf *out)
{
	(void) kind;
	crdt_buf_put_byte(out, CRDT_FORMAT_V1);
	crdt_buf_put_byte(out, 0);	/* no context */
	crdt_buf_put_byte(out, 0);	/* no keys */
}

/* --------------------------------------------------------- merge, delta */

/*
 * Walks the keys of two values together.  For each key, fills da/db with
 * its dots (merged indexes) and calls visit; absent sides have no dots.
 */
typedef CrdtStatus (*PairVisit) (void *ctx, const uint8_t *key, size_t len,
								 const Dot *da, size_t na, const Dot *db, size_t nb,
								 CrdtError *err);

typedef struct TwoValues
{
	Context		ca;
	Context		cb;
	Union		u;
	CrdtKeyReader *ka;
	CrdtKeyReader *kb;
	CrdtBuf		da;
	CrdtBuf		db;
	const CrdtAllocator *alloc;
} TwoValues;

static void
two_free(TwoValues *t)
{
	context_free(&t->ca);
	context_free(&t->cb);
	union_free(&t->u);
	crdt_buf_free(&t->da);
	crdt_buf_free(&t->db);
	if (t->ka != NULL)
		t->alloc->release(t->alloc->ctx, t->ka);
	if (t->kb != NULL)
		t->alloc->release(t->alloc->ctx, t->kb);
}

static CrdtStatus
two_open(TwoValues *t, CrdtDottedKind kind, CrdtSlice a, CrdtSlice b,
		 const CrdtAllocator *alloc, CrdtError *err)
{
	CrdtStatus	st;

	/* zeroed buffers are safe to free, so two_free works from any point */
	memset(t, 0, sizeof(*t));
	t->alloc = alloc;
	crdt_buf_init(&t->da, alloc, 0);
	crdt_buf_init(&t->db, alloc, 0);
	t->ka = alloc->alloc(alloc->ctx, sizeof(CrdtKeyReader));
	t->kb = alloc->alloc(alloc->ctx, sizeof(CrdtKeyReader));
	if (t->ka == NULL || t->kb == NULL)
		return crdt_nomem(err);
	if ((st = open_value(kind, a, &t->ca, t->ka, alloc, err)) != CRDT_OK ||
		(st = open_value(kind, b, &t->cb, t->kb, alloc, err)) != CRDT_OK)
		return st;
	return union_build(&t->u, &t->ca, &t->cb, alloc, err);
}

static CrdtStatus
two_walk(TwoValues *t, PairVisit visit, void *ctx, CrdtError *err)
{
	const uint8_t *key_a = NULL;
	const uint8_t *key_b = NULL;
	size_t		len_a = 0;
	size_t		len_b = 0;
	int			has_a;
	int			has_b;
	CrdtStatus	st;

#define ADVANCE(side, rc_var, key_var, len_var, ctxv, map, dots) \
	do { \
		if ((rc_var = crdt_keys_reader_next(t->k##side, &key_var, &len_var, err)) < 0) \
			return err->status; \
		if (rc_var > 0 && (st = read_dots(&t->k##side->pos, t->k##side->end, ctxv.n, \
										  U32(map), &dots, err)) != CRDT_OK) \
			return st; \
	} while (0)

	ADVANCE(a, has_a, key_a, len_a, t->ca, t->u.from_a, t->da);
	ADVANCE(b, has_b, key_b, len_b, t->cb, t->u.from_b, t->db);
	while (has_a || has_b)
	{
		int			c = !has_a ? 1 : !has_b ? -1 : crdt_bytes_cmp(key_a, len_a, key_b, len_b);

		st = visit(ctx, c <= 0 ? key_a : key_b, c <= 0 ? len_a : len_b,
				   (const Dot *) t->da.data, c <= 0 ? t->da.len / sizeof(Dot) : 0,
				   (const Dot *) t->db.data, c >= 0 ? t->db.len / sizeof(Dot) : 0, err);
		if (st != CRDT_OK)
			return st;
		if (c <= 0)
			ADVANCE(a, has_a, key_a, len_a, t->ca, t->u.from_a, t->da);
		if (c >= 0)
			ADVANCE(b, has_b, key_b, len_b, t->cb, t->u.from_b, t->db);
	}
#undef ADVANCE
	return CRDT_OK;
}

/*
 * The merge rule for one key: a dot survives when both sides have it, or
 * one has it and the other's context has not seen it.  Writes the
 * survivors to kept (merged indexes, sorted) and returns how many there
 * are; optionally collects b's dots that a's context removed (b_killed)
 * and a's surviving dots that b lacks (a_new).
 */
static size_t
merge_dots(const TwoValues *t, const Dot *da, size_t na, const Dot *db, size_t nb,
		   CrdtBuf *kept, CrdtBuf *b_killed, CrdtBuf *a_new)
{
	size_t		x = 0;
	size_t		y = 0;

	kept->len = 0;
	while (x < na || y < nb)
	{
		int			c = x >= na ? 1 : y >= nb ? -1 : compare_dots(&da[x], &db[y]);

		if (c == 0)
		{
			crdt_buf_put(kept, &da[x], sizeof(Dot));
			x++;
			y++;
		}
		else if (c < 0)
		{
			if (!side_contains(&t->cb, &t->u.in_b, da[x]))
			{
				crdt_buf_put(kept, &da[x], sizeof(Dot));
				if (a_new != NULL)
					crdt_buf_put(a_new, &da[x], sizeof(Dot));
			}
			x++;
		}
		else
		{
			if (!side_contains(&t->ca, &t->u.in_a, db[y]))
				crdt_buf_put(kept, &db[y], sizeof(Dot));
			else if (b_killed != NULL)
				crdt_buf_put(b_killed, &db[y], sizeof(Dot));
			y++;
		}
	}
	return kept->len / sizeof(Dot);
}

typedef struct MergeCtx
{
	TwoValues  *t;
	CrdtKeyWriter *w;
	CrdtBuf    *out;
	CrdtBuf		kept;
} MergeCtx;

static CrdtStatus
merge_visit(void *ctx, const uint8_t *key, size_t len, const Dot *da, size_t na,
			const Dot *db, size_t nb, CrdtError *err)
{
	MergeCtx   *m = ctx;
	size_t		n = merge_dots(m->t, da, na, db, nb, &m->kept, NULL, NULL);

	if (n > 0)
	{
		crdt_keys_writer_add(m->w, key, len);
		write_dots(m->out, (const Dot *) m->kept.data, n, NULL);
	}
	return m->kept.failed || m->out->failed ? crdt_nomem(err) : CRDT_OK;
}

CrdtStatus
crdt_dotted_merge(CrdtDottedKind kind, CrdtSlice a, CrdtSlice b, CrdtBuf *out,
				  CrdtError *err)
{
	TwoValues	t;
	MergeCtx	m;
	CrdtStatus	st;

	m.w = out->alloc->alloc(out->alloc->ctx, sizeof(CrdtKeyWriter));
	if (m.w == NULL)
		return crdt_nomem(err);
	crdt_buf_init(&m.kept, out->alloc, 0);
	if ((st = two_open(&t, kind, a, b, out->alloc, err)) == CRDT_OK)
	{
		m.t = &t;
		m.out = out;
		crdt_buf_put_byte(out, CRDT_FORMAT_V1);
		context_write(&t.u.merged, out);
		crdt_keys_writer_init(m.w, key_style(kind), out);
		if ((st = two_walk(&t, merge_visit, &m, err)) == CRDT_OK)
		{
			crdt_keys_writer_finish(m.w);
			if (out->failed)
				st = crdt_nomem(err);
		}
	}
	two_free(&t);
	crdt_buf_free(&m.kept);
	out->alloc->release(out->alloc->ctx, m.w);
	return st;
}

/*
 * Delta: one walk collects, per key, the dots of newer that merge(since,
 * newer) keeps and since lacks (new), and the dots of since that newer's
 * context removes (killed).  The delta's context is newer's context minus
 * since's, plus the killed dots; it is only known after the walk, so the
 * keys go to a scratch list first and are re-indexed when written.
 */
typedef struct DeltaCtx
{
	TwoValues  *t;
	CrdtKeyWriter *w;			/* into scratch, merged indexes */
	CrdtBuf		scratch;
	CrdtBuf		kept;
	CrdtBuf		fresh;
	CrdtBuf		killed;			/* Dot[] over all keys */
} DeltaCtx;

static CrdtStatus
delta_visit(void *ctx, const uint8_t *key, size_t len, const Dot *da, size_t na,
			const Dot *db, size_t nb, CrdtError *err)
{
	DeltaCtx   *d = ctx;

	d->fresh.len = 0;
	merge_dots(d->t, da, na, db, nb, &d->kept, &d->killed, &d->fresh);
	if (d->fresh.len > 0)
	{
		crdt_keys_writer_add(d->w, key, len);
		write_dots(&d->scratch, (const Dot *) d->fresh.data, d->fresh.len / sizeof(Dot), NULL);
	}
	return d->scratch.failed || d->killed.failed || d->fresh.failed ? crdt_nomem(err) : CRDT_OK;
}

/* a minus b for sorted, coalesced range lists, appended to out. */
static void
range_difference(CrdtBuf *out, const Range *a, size_t na, const Range *b, size_t nb)
{
	size_t		y = 0;

	for (size_t x = 0; x < na; x++)
	{
		uint64_t	lo = a[x].lo;
		uint64_t	hi = a[x].hi;

		while (y < nb && b[y].hi < lo)
			y++;
		for (size_t k = y; k < nb && b[k].lo <= hi && lo <= hi; k++)
		{
			if (b[k].lo > lo)
			{
				Range		part = {lo, b[k].lo - 1};

				crdt_buf_put(out, &part, sizeof(part));
			}
			if (b[k].hi >= hi)
			{
				lo = hi + 1;	/* nothing left */
				break;
			}
			lo = b[k].hi + 1;
		}
		if (lo <= hi && lo != 0)
		{
			Range		rest = {lo, hi};

			crdt_buf_put(out, &rest, sizeof(rest));
		}
	}
}

CrdtStatus
crdt_dotted_delta(CrdtDottedKind kind, CrdtSlice newer, CrdtSlice since, CrdtBuf *out,
				  CrdtError *err)
{
	const CrdtAllocator *alloc = out->alloc;
	TwoValues	t;
	DeltaCtx	d;
	Context		dc;
	CrdtBuf		remap;			/* uint32[merged.n]: index in dc */
	CrdtBuf		scratch;
	CrdtStatus	st;

	memset(&d, 0, sizeof(d));
	context_init(&dc, alloc);
	crdt_buf_init(&remap, alloc, 0);
	crdt_buf_init(&scratch, alloc, 0);
	crdt_buf_init(&d.scratch, alloc, 0);
	crdt_buf_init(&d.kept, alloc, 0);
	crdt_buf_init(&d.fresh, alloc, 0);
	crdt_buf_init(&d.killed, alloc, 0);
	d.w = alloc->alloc(alloc->ctx, sizeof(CrdtKeyWriter));
	if (d.w == NULL)
		return crdt_nomem(err);
	if ((st = two_open(&t, kind, newer, since, alloc, err)) != CRDT_OK)
		goto done;
	d.t = &t;
	crdt_keys_writer_init(d.w, key_style(kind), &d.scratch);
	if ((st = two_walk(&t, delta_visit, &d, err)) != CRDT_OK)
		goto done;
	crdt_keys_writer_finish(d.w);

	/* the delta context, replica by replica (merged order) */
	{
		Dot		   *killed = (Dot *) d.killed.data;
		size_t		nkilled = d.killed.len / sizeof(Dot);
		size_t		k = 0;

		if (nkilled > 1)
			qsort(killed, nkilled, sizeof(Dot), compare_dots);
		for (uint32_t m = 0; m < t.u.merged.n; m++)
		{
			int64_t		in_new = I64(t.u.in_a)[m];
			int64_t		in_old = I64(t.u.in_b)[m];
			uint32_t	none = UINT32_MAX;
			size_t		start;

			scratch.len = 0;
			if (in_new >= 0)
			{
				const Range *rn = CTX_RANGES(&t.ca) + CTX_FIRST(&t.ca, in_new);
				size_t		nn = CTX_FIRST(&t.ca, in_new + 1) - CTX_FIRST(&t.ca, in_new);

				if (in_old >= 0)
					range_difference(&scratch, rn, nn, CTX_RANGES(&t.cb) + CTX_FIRST(&t.cb, in_old),
									 CTX_FIRST(&t.cb, in_old + 1) - CTX_FIRST(&t.cb, in_old));
				else
					crdt_buf_put(&scratch, rn, nn * sizeof(Range));
			}
			start = scratch.len;
			for (; k < nkilled && killed[k].replica == m; k++)
			{
				Range		point = {killed[k].counter, killed[k].counter};

				crdt_buf_put(&scratch, &point, sizeof(point));
			}
			if (scratch.len == 0)
			{
				crdt_buf_put(&remap, &none, sizeof(none));
				continue;
			}
			/* ranges and killed points are each sorted: sort them together */
			if (start > 0 && scratch.len > start)
				qsort(scratch.data, scratch.len / sizeof(Range), sizeof(Range), compare_ranges);
			{
				uint32_t	index = (uint32_t) dc.n;
				CrdtBuf		joined;

				crdt_buf_init(&joined, alloc, 0);
				coalesce_into(&joined, (const Range *) scratch.data, scratch.len / sizeof(Range));
				context_add(&dc, CTX_ID(&t.u.merged, m), CTX_ID_LEN(&t.u.merged, m),
							(const Range *) joined.data, joined.len / sizeof(Range));
				crdt_buf_free(&joined);
				crdt_buf_put(&remap, &index, sizeof(index));
			}
		}
	}
	if (context_failed(&dc) || remap.failed || scratch.failed)
	{
		st = crdt_nomem(err);
		goto done;
	}

	/* write: version, context, keys re-indexed into dc */
	crdt_buf_put_byte(out, CRDT_FORMAT_V1);
	context_write(&dc, out);
	{
		CrdtKeyReader *r = alloc->alloc(alloc->ctx, sizeof(CrdtKeyReader));
		const uint8_t *key;
		size_t		len;
		int			rc;

		if (r == NULL)
		{
			st = crdt_nomem(err);
			goto done;
		}
		crdt_keys_reader_init(r, key_style(kind), d.scratch.data, d.scratch.len, 0);
		crdt_keys_writer_init(d.w, key_style(kind), out);
		while ((rc = crdt_keys_reader_next(r, &key, &len, err)) > 0)
		{
			if ((st = read_dots(&r->pos, r->end, t.u.merged.n, NULL, &d.fresh, err)) != CRDT_OK)
				break;
			crdt_keys_writer_add(d.w, key, len);
			write_dots(out, (const Dot *) d.fresh.data, d.fresh.len / sizeof(Dot), U32(remap));
		}
		alloc->release(alloc->ctx, r);
		if (rc < 0)
			st = err->status;
		if (st != CRDT_OK)
			goto done;
		crdt_keys_writer_finish(d.w);
	}
	st = out->failed ? crdt_nomem(err) : CRDT_OK;

done:
	two_free(&t);
	context_free(&dc);
	crdt_buf_free(&remap);
	crdt_buf_free(&scratch);
	crdt_buf_free(&d.scratch);
	crdt_buf_free(&d.kept);
	crdt_buf_free(&d.fresh);
	crdt_buf_free(&d.killed);
	alloc->release(alloc->ctx, d.w);
	return st;
}

/* ------------------------------------------------------------- builder
 *
 * Text input and the mutators describe a value as loose parts — context
 * ranges, keys, dots naming replicas by id — and the builder sorts,
 * joins, checks (every dot in the context, no dot twice, no key twice)
 * and writes the canonical value.
 */

typedef enum NameRole
{
	NAME_IN_DOT,				/* a dot's replica */
	NAME_CONTEXT_KEY,			/* a key of the text "context" object: once each */
	NAME_CONTEXT_RANGE			/* a range added by a mutator: may repeat */
} NameRole;

typedef struct NameRef
{
	const uint8_t *id;			/* resolved before sorting */
	size_t		offset;
	size_t		len;
	long		position;
	NameRole	role;
	size_t		rank;			/* index among distinct ids, once sorted */
} NameRef;

typedef struct BuildRange
{
	size_t		name;			/* NameRef index */
	Range		range;
} BuildRange;

typedef struct BuildKey
{
	const uint8_t *key;
	size_t		offset;
	size_t		len;
	long		position;
	size_t		index;			/* arrival order, for its dots */
} BuildKey;

typedef struct BuildDot
{
	size_t		key;			/* BuildKey arrival index */
	size_t		name;
	uint64_t	counter;
	long		position;
	uint32_t	replica;		/* context index, once resolved */
} BuildDot;

typedef struct Builder
{
	CrdtBuf		bytes;			/* ids and keys */
	CrdtBuf		names;			/* NameRef[] */
	CrdtBuf		ranges;			/* BuildRange[] */
	CrdtBuf		keys;			/* BuildKey[] */
	CrdtBuf		dots;			/* BuildDot[] */
	const CrdtAllocator *alloc;
} Builder;

static void
builder_init(Builder *b, const CrdtAllocator *alloc)
{
	b->alloc = alloc;
	crdt_buf_init(&b->bytes, alloc, 0);
	crdt_buf_init(&b->names, alloc, 0);
	crdt_buf_init(&b->ranges, alloc, 0);
	crdt_buf_init(&b->keys, alloc, 0);
	crdt_buf_init(&b->dots, alloc, 0);
}

static void
builder_free(Builder *b)
{
	crdt_buf_free(&b->bytes);
	crdt_buf_free(&b->names);
	crdt_buf_free(&b->ranges);
	crdt_buf_free(&b->keys);
	crdt_buf_free(&b->dots);
}

static bool
builder_failed(const Builder *b)
{
	return b->bytes.failed || b->names.failed || b->ranges.failed || b->keys.failed ||
		b->dots.failed;
}

static size_t
builder_name(Builder *b, const uint8_t *id, size_t len, NameRole role, long position)
{
	NameRef		n = {NULL, b->bytes.len, len, position, role, 0};

	crdt_buf_put(&b->bytes, id, len);
	crdt_buf_put(&b->names, &n, sizeof(n));
	return b->names.len / sizeof(NameRef) - 1;
}

static void
builder_range(Builder *b, size_t name, uint64_t lo, uint64_t hi)
{
	BuildRange	r = {name, {lo, hi}};

	crdt_buf_put(&b->ranges, &r, sizeof(r));
}

static size_t
builder_key(Builder *b, const uint8_t *key, size_t len, long position)
{
	size_t		index = b->keys.len / sizeof(BuildKey);
	BuildKey	k = {NULL, b->bytes.len, len, position, index};

	crdt_buf_put(&b->bytes, key, len);
	crdt_buf_put(&b->keys, &k, sizeof(k));
	return index;
}

static void
builder_dot(Builder *b, size_t key, size_t name, uint64_t counter, long position)
{
	BuildDot	d = {key, name, counter, position, 0};

	crdt_buf_put(&b->dots, &d, sizeof(d));
}

static int
compare_name_refs(const void *x, const void *y)
{
	const NameRef *a = *(const NameRef *const *) x;
	const NameRef *b = *(const NameRef *const *) y;
	int			c = crdt_bytes_cmp(a->id, a->len, b->id, b->len);

	if (c != 0)
		return c;
	return a->position < b->position ? -1 : (a->position > b->position);
}

static int
compare_build_keys(const void *x, const void *y)
{
	const BuildKey *a = x;
	const BuildKey *b = y;
	int			c = crdt_bytes_cmp(a->key, a->len, b->key, b->len);

	if (c != 0)
		return c;
	return a->position < b->position ? -1 : (a->position > b->position);
}

/* by key (arrival index), then replica, then counter */
static int
compare_build_dots(const void *x, const void *y)
{
	const BuildDot *a = x;
	const BuildDot *b = y;

	if (a->key != b->key)
		return a->key < b->key ? -1 : 1;
	if (a->replica != b->replica)
		return a->replica < b->replica ? -1 : 1;
	return a->counter < b->counter ? -1 : (a->counter > b->counter);
}

static int
compare_build_ranges(const void *x, const void *y)
{
	const BuildRange *a = x;
	const BuildRange *b = y;

	if (a->name != b->name)		/* here: context index, see builder_write */
		return a->name < b->name ? -1 : 1;
	return a->range.lo < b->range.lo ? -1 : (a->range.lo > b->range.lo);
}

static CrdtStatus
build_error(CrdtError *err, bool from_text, long position, const char *fmt, const uint8_t *id,
			size_t len)
{
	char		shown[96];

	crdt_describe_bytes(shown, sizeof(shown), id, len);
	return crdt_fail(err, from_text ? CRDT_ERR_SYNTAX : CRDT_ERR_ARGUMENT,
					 from_text ? position : -1, fmt, shown);
}

static CrdtStatus
builder_write(Builder *b, CrdtDottedKind kind, bool from_text, CrdtBuf *out, CrdtError *err)
{
	NameRef    *names = (NameRef *) b->names.data;
	BuildRange *ranges = (BuildRange *) b->ranges.data;
	BuildKey   *keys = (BuildKey *) b->keys.data;
	BuildDot   *dots = (BuildDot *) b->dots.data;
	size_t		nnames = b->names.len / sizeof(NameRef);
	size_t		nranges = b->ranges.len / sizeof(BuildRange);
	size_t		nkeys = b->keys.len / sizeof(BuildKey);
	size_t		ndots = b->dots.len / sizeof(BuildDot);
	CrdtBuf		order;			/* NameRef *[] sorted, then int64 context index per rank */
	CrdtBuf		ctx_index;		/* int64[ranks]: index in the context, or -1 */
	CrdtBuf		rank_ref;		/* NameRef *[ranks]: one name of each rank */
	CrdtBuf		key_rank;		/* size_t[nkeys]: arrival index -> sorted position */
	Context		c;
	CrdtStatus	st = CRDT_OK;
	size_t		ranks = 0;

	if (builder_failed(b))
		return crdt_nomem(err);
	crdt_buf_init(&order, b->alloc, 0);
	crdt_buf_init(&ctx_index, b->alloc, 0);
	crdt_buf_init(&rank_ref, b->alloc, 0);
	crdt_buf_init(&key_rank, b->alloc, 0);
	context_init(&c, b->alloc);

	/* distinct replica ids in byte order; which of them the context has */
	for (size_t i = 0; i < nnames; i++)
	{
		NameRef    *p = &names[i];

		p->id = b->bytes.data + p->offset;
		crdt_buf_put(&order, &p, sizeof(p));
	}
	if (order.failed)
	{
		st = crdt_nomem(err);
		goto done;
	}
	if (nnames > 1)
		qsort(order.data, nnames, sizeof(NameRef *), compare_name_refs);
	for (size_t i = 0; i < nnames; i++)
	{
		NameRef    *p = ((NameRef **) order.data)[i];
		NameRef    *q = i > 0 ? ((NameRef **) order.data)[i - 1] : NULL;
		bool		same = q != NULL && crdt_bytes_cmp(p->id, p->len, q->id, q->len) == 0;
		int64_t		none = -1;

		if (!same)
		{
			ranks++;
			crdt_buf_put(&ctx_index, &none, sizeof(none));
			crdt_buf_put(&rank_ref, &p, sizeof(p));
		}
		p->rank = ranks - 1;
		if (same && p->role == NAME_CONTEXT_KEY && q->role == NAME_CONTEXT_KEY)
		{
			st = build_error(err, from_text, p->position, "duplicate replica id %s in the context",
							 p->id, p->len);
			goto done;
		}
		if (p->role != NAME_IN_DOT)
			I64(ctx_index)[p->rank] = 0;	/* marked; numbered below */
	}
	if (ctx_index.failed || rank_ref.failed)
	{
		st = crdt_nomem(err);
		goto done;
	}
	{
		/* ranks marked 0 are in the context: number them in order */
		int64_t		next = 0;

		for (size_t r = 0; r < ranks; r++)
			if (I64(ctx_index)[r] == 0)
				I64(ctx_index)[r] = next++;
	}

	/* the context: each replica's ranges sorted and joined */
	for (size_t i = 0; i < nranges; i++)
		ranges[i].name = (size_t) I64(ctx_index)[names[ranges[i].name].rank];
	if (nranges > 1)
		qsort(ranges, nranges, sizeof(BuildRange), compare_build_ranges);
	{
		size_t		i = 0;
		CrdtBuf		joined;

		crdt_buf_init(&joined, b->alloc, 0);
		for (size_t r = 0; r < ranks; r++)
		{
			int64_t		ci = I64(ctx_index)[r];
			size_t		start;
			CrdtBuf		plain;

			if (ci < 0)
				continue;
			crdt_buf_init(&plain, b->alloc, 0);
			for (start = i; i < nranges && ranges[i].name == (size_t) ci; i++)
				crdt_buf_put(&plain, &ranges[i].range, sizeof(Range));
			joined.len = 0;
			coalesce_into(&joined, (const Range *) plain.data, i - start);
			crdt_buf_free(&plain);
			{
				/* this rank's id, through the first of its refs */
				const NameRef *ref = ((NameRef **) rank_ref.data)[r];

				context_add(&c, ref->id, ref->len, (const Range *) joined.data, joined.len / sizeof(Range));
			}
		}
		crdt_buf_free(&joined);
	}

	/* dots: in the context, never twice */
	for (size_t i = 0; i < ndots; i++)
	{
		NameRef    *n = &names[dots[i].name];
		int64_t		ci = I64(ctx_index)[n->rank];

		if (ci < 0 || !context_contains(&c, (uint32_t) ci, dots[i].counter))
		{
			st = build_error(err, from_text, dots[i].position,
							 "a dot of replica %s lies outside the context", n->id, n->len);
			goto done;
		}
		dots[i].replica = (uint32_t) ci;
	}
	{
		/* uniqueness over all keys: sort a copy by (replica, counter) */
		CrdtBuf		flat;
		Dot		   *d;

		crdt_buf_init(&flat, b->alloc, 0);
		for (size_t i = 0; i < ndots; i++)
		{
			Dot			x = {dots[i].replica, dots[i].counter};

			crdt_buf_put(&flat, &x, sizeof(x));
		}
		d = (Dot *) flat.data;
		if (!flat.failed && ndots > 1)
			qsort(d, ndots, sizeof(Dot), compare_dots);
		for (size_t i = 1; i < ndots && !flat.failed; i++)
			if (compare_dots(&d[i - 1], &d[i]) == 0)
			{
				for (size_t k = 0; k < ndots; k++)
					if (dots[k].replica == d[i].replica && dots[k].counter == d[i].counter)
					{
						NameRef    *n = &names[dots[k].name];

						st = build_error(err, from_text, dots[k].position,
										 "duplicate dot of replica %s", n->id, n->len);
					}
				break;
			}
		if (flat.failed)
			st = crdt_nomem(err);
		crdt_buf_free(&flat);
		if (st != CRDT_OK)
			goto done;
	}

	/* keys in byte order, never twice, each with its dots */
	for (size_t i = 0; i < nkeys; i++)
		keys[i].key = b->bytes.data + keys[i].offset;
	if (nkeys > 1)
		qsort(keys, nkeys, sizeof(BuildKey), compare_build_keys);
	for (size_t i = 1; i < nkeys; i++)
		if (crdt_bytes_cmp(keys[i].key, keys[i].len, keys[i - 1].key, keys[i - 1].len) == 0)
		{
			st = build_error(err, from_text, keys[i].position,
							 kind == CRDT_ORSET ? "duplicate element %s" : "duplicate value %s",
							 keys[i].key, keys[i].len);
			goto done;
		}
	if (ndots > 1)
		qsort(dots, ndots, sizeof(BuildDot), compare_build_dots);

	crdt_buf_put_byte(out, CRDT_FORMAT_V1);
	context_write(&c, out);
	{
		CrdtKeyWriter *w = b->alloc->alloc(b->alloc->ctx, sizeof(CrdtKeyWriter));
		size_t	   *first;

		/* dots are grouped by key arrival index: find each group */
		for (size_t i = 0; i <= nkeys; i++)
		{
			size_t		zero = 0;

			crdt_buf_put(&key_rank, &zero, sizeof(zero));
		}
		if (w == NULL || key_rank.failed)
		{
			if (w != NULL)
				b->alloc->release(b->alloc->ctx, w);
			st = crdt_nomem(err);
			goto done;
		}
		first = (size_t *) key_rank.data;
		for (size_t i = 0; i < ndots; i++)
			first[dots[i].key + 1]++;
		for (size_t i = 0; i < nkeys; i++)
			first[i + 1] += first[i];
		crdt_keys_writer_init(w, key_style(kind), out);
		for (size_t i = 0; i < nkeys; i++)
		{
			size_t		from = first[keys[i].index];
			size_t		to = first[keys[i].index + 1];

			if (from == to)
			{
				st = build_error(err, from_text, keys[i].position,
								 kind == CRDT_ORSET ? "element %s has no dots" : "value %s has no dots",
								 keys[i].key, keys[i].len);
				break;
			}
			crdt_keys_writer_add(w, keys[i].key, keys[i].len);
			crdt_buf_put_varint(out, to - from);
			for (size_t k = from; k < to; k++)
			{
				crdt_buf_put_varint(out, dots[k].replica);
				crdt_buf_put_varint(out, dots[k].counter);
			}
		}
		if (st == CRDT_OK)
			crdt_keys_writer_finish(w);
		b->alloc->release(b->alloc->ctx, w);
	}
	if (st == CRDT_OK && (out->failed || context_failed(&c)))
		st = crdt_nomem(err);

done:
	crdt_buf_free(&order);
	crdt_buf_free(&ctx_index);
	crdt_buf_free(&rank_ref);
	crdt_buf_free(&key_rank);
	context_free(&c);
	return st;
}

/* ---------------------------------------------------------------- text */

/* [["replica", counter], ...] for key (arrival index) */
static CrdtStatus
parse_dots(JsonLex *lex, Builder *b, size_t key)
{
	CrdtStatus	st;
	bool		more = true;

	if ((st = crdt_json_expect(lex, '[', "\"[\" (a list of dots)")) != CRDT_OK)
		return st;
	if (crdt_json_accept(lex, ']'))
		return CRDT_OK;			/* the builder reports the key without dots */
	while (more)
	{
		uint8_t		id[CRDT_REPLICA_ID_MAX + 1];
		size_t		len;
		size_t		at;
		uint64_t	counter;
		const char *problem;

		crdt_json_skip_ws(lex);
		at = lex->i;
		if ((st = crdt_json_expect(lex, '[', "\"[\" (a dot: [replica, counter])")) != CRDT_OK ||
			(st = crdt_json_string(lex, "a replica id in double quotes", id, sizeof(id), &len)) != CRDT_OK)
			return st;
		problem = len > CRDT_REPLICA_ID_MAX ? "is longer than 64 bytes" : crdt_replica_id_check(id, len);
		if (problem != NULL)
			return crdt_fail(lex->err, CRDT_ERR_SYNTAX, (long) at, "replica id of a dot %s", problem);
		if ((st = crdt_json_expect(lex, ',', "\",\"")) != CRDT_OK ||
			(st = crdt_json_positive(lex, "the dot counter", &counter)) != CRDT_OK ||
			(st = crdt_json_expect(lex, ']', "\"]\"")) != CRDT_OK)
			return st;
		builder_dot(b, key, builder_name(b, id, len, NAME_IN_DOT, (long) at), counter, (long) at);
		if ((st = crdt_json_next_member(lex, ']', &more)) != CRDT_OK)
			return st;
	}
	return CRDT_OK;
}

/* {"replica": n | [[lo, hi], ...], ...} */
static CrdtStatus
parse_context(JsonLex *lex, Builder *b)
{
	CrdtStatus	st;
	bool		more = true;

	if ((st = crdt_json_expect(lex, '{', "\"{\" (the context)")) != CRDT_OK)
		return st;
	if (crdt_json_accept(lex, '}'))
		return CRDT_OK;
	while (more)
	{
		uint8_t		id[CRDT_REPLICA_ID_MAX + 1];
		size_t		len;
		size_t		at;
		size_t		name;
		const char *problem;

		crdt_json_skip_ws(lex);
		at = lex->i;
		if ((st = crdt_json_string(lex, "a replica id in double quotes", id, sizeof(id), &len)) != CRDT_OK)
			return st;
		problem = len > CRDT_REPLICA_ID_MAX ? "is longer than 64 bytes" : crdt_replica_id_check(id, len);
		if (problem != NULL)
			return crdt_fail(lex->err, CRDT_ERR_SYNTAX, (long) at, "replica id %s", problem);
		name = builder_name(b, id, len, NAME_CONTEXT_KEY, (long) at);
		if ((st = crdt_json_expect(lex, ':', "\":\"")) != CRDT_OK)
			return st;
		if (crdt_json_accept(lex, '['))
		{
			bool		more_ranges = true;

			if (crdt_json_accept(lex, ']'))
				return crdt_json_syntax(lex, lex->i - 1, "expected %s", "at least one range");
			while (more_ranges)
			{
				uint64_t	lo;
				uint64_t	hi;
				size_t		range_at;

				crdt_json_skip_ws(lex);
				range_at = lex->i;
				if ((st = crdt_json_expect(lex, '[', "\"[\" (a range: [first, last])")) != CRDT_OK ||
					(st = crdt_json_positive(lex, "the first counter of a range", &lo)) != CRDT_OK ||
					(st = crdt_json_expect(lex, ',', "\",\"")) != CRDT_OK ||
					(st = crdt_json_positive(lex, "the last counter of a range", &hi)) != CRDT_OK ||
					(st = crdt_json_expect(lex, ']', "\"]\"")) != CRDT_OK)
					return st;
				if (hi < lo)
					return crdt_json_syntax(lex, range_at, "a range ends before it starts%s", "");
				builder_range(b, name, lo, hi);
				if ((st = crdt_json_next_member(lex, ']', &more_ranges)) != CRDT_OK)
					return st;
			}
		}
		else
		{
			uint64_t	n;

			if ((st = crdt_json_positive(lex, "a context entry", &n)) != CRDT_OK)
				return st;
			builder_range(b, name, 1, n);
		}
		if ((st = crdt_json_next_member(lex, '}', &more)) != CRDT_OK)
			return st;
	}
	return CRDT_OK;
}

/* orset: {"element": [dots], ...} */
static CrdtStatus
parse_elements(JsonLex *lex, Builder *b)
{
	CrdtStatus	st;
	bool		more = true;

	if ((st = crdt_json_expect(lex, '{', "\"{\" (the elements)")) != CRDT_OK)
		return st;
	if (crdt_json_accept(lex, '}'))
		return CRDT_OK;
	while (more)
	{
		uint8_t		element[CRDT_ELEMENT_MAX + 1];
		size_t		len;
		size_t		at;

		if ((st = crdt_json_element(lex, element, &len, &at)) != CRDT_OK)
			return st;
		if ((st = crdt_json_expect(lex, ':', "\":\"")) != CRDT_OK ||
			(st = parse_dots(lex, b, builder_key(b, element, len, (long) at))) != CRDT_OK ||
			(st = crdt_json_next_member(lex, '}', &more)) != CRDT_OK)
			return st;
	}
	return CRDT_OK;
}

/* mvreg: [{"value": <json>, "dots": [dots]}, ...] */
static CrdtStatus
parse_values(JsonLex *lex, Builder *b, CrdtBuf *scratch)
{
	CrdtStatus	st;
	bool		more = true;

	if ((st = crdt_json_expect(lex, '[', "\"[\" (the values)")) != CRDT_OK)
		return st;
	if (crdt_json_accept(lex, ']'))
		return CRDT_OK;
	while (more)
	{
		bool		seen_value = false;
		bool		seen_dots = false;
		bool		more_fields = true;
		size_t		key = 0;
		size_t		entry_at;
		size_t		dots_start = 0;

		crdt_json_skip_ws(lex);
		entry_at = lex->i;
		if ((st = crdt_json_expect(lex, '{', "\"{\" (a value with its dots)")) != CRDT_OK)
			return st;
		/* the value must be known before its dots are recorded: read dots later */
		while (more_fields)
		{
			uint8_t		field[8];
			size_t		len;
			size_t		at;

			crdt_json_skip_ws(lex);
			at = lex->i;
			if ((st = crdt_json_string(lex, "\"value\" or \"dots\"", field, sizeof(field), &len)) != CRDT_OK ||
				(st = crdt_json_expect(lex, ':', "\":\"")) != CRDT_OK)
				return st;
			if (len == 5 && memcmp(field, "value", 5) == 0 && !seen_value)
			{
				size_t		start;
				size_t		end;

				seen_value = true;
				if ((st = crdt_json_value(lex, &start, &end)) != CRDT_OK)
					return st;
				scratch->len = 0;
				if ((st = crdt_json_canonical((const char *) lex->s + start, end - start,
											  scratch, lex->err)) != CRDT_OK)
				{
					lex->err->position = (long) start;
					return st;
				}
				key = builder_key(b, scratch->data, scratch->len, (long) entry_at);
			}
			else if (len == 4 && memcmp(field, "dots", 4) == 0 && !seen_dots)
			{
				size_t		start;
				size_t		end;

				seen_dots = true;
				crdt_json_skip_ws(lex);
				dots_start = lex->i;
				if ((st = crdt_json_value(lex, &start, &end)) != CRDT_OK)
					return st;
			}
			else
				return crdt_json_syntax(lex, at, "expected %s", seen_value || seen_dots
								   ? "\"value\" and \"dots\" once each" : "\"value\" or \"dots\"");
			if ((st = crdt_json_next_member(lex, '}', &more_fields)) != CRDT_OK)
				return st;
		}
		if (!seen_value || !seen_dots)
			return crdt_json_syntax(lex, entry_at, "expected %s", "both \"value\" and \"dots\"");
		{
			size_t		resume = lex->i;

			lex->i = dots_start;
			if ((st = parse_dots(lex, b, key)) != CRDT_OK)
				return st;
			lex->i = resume;
		}
		if ((st = crdt_json_next_member(lex, ']', &more)) != CRDT_OK)
			return st;
	}
	return CRDT_OK;
}

CrdtStatus
crdt_dotted_parse(CrdtDottedKind kind, const char *text, size_t len, CrdtBuf *out,
				  CrdtError *err)
{
	const char *names[2] = {kind == CRDT_ORSET ? "elements" : "values", "context"};
	JsonLex		lex;
	Builder		b;
	CrdtBuf		scratch;
	CrdtStatus	st;
	bool		seen[2] = {false, false};
	bool		more = true;

	crdt_json_lex_init(&lex, text, len, err);
	builder_init(&b, out->alloc);
	crdt_buf_init(&scratch, out->alloc, 0);
	if ((st = crdt_json_expect(&lex, '{', "\"{\"")) != CRDT_OK)
		goto done;
	if (crdt_json_accept(&lex, '}'))
		more = false;
	while (more)
	{
		uint8_t		name[16];
		size_t		name_len;
		size_t		at;
		int			which = -1;

		crdt_json_skip_ws(&lex);
		at = lex.i;
		if ((st = crdt_json_string(&lex, kind == CRDT_ORSET ? "\"elements\" or \"context\"" : "\"values\" or \"context\"",
							  name, sizeof(name), &name_len)) != CRDT_OK)
			goto done;
		for (int i = 0; i < 2; i++)
			if (name_len == strlen(names[i]) && memcmp(name, names[i], name_len) == 0)
				which = i;
		if (which < 0 || seen[which])
		{
			st = crdt_json_syntax(&lex, at, which < 0 ? "unknown key: expected %s" : "duplicate key %s",
							 kind == CRDT_ORSET ? "\"elements\" or \"context\"" : "\"values\" or \"context\"");
			goto done;
		}
		seen[which] = true;
		if ((st = crdt_json_expect(&lex, ':', "\":\"")) != CRDT_OK)
			goto done;
		if (which == 1)
			st = parse_context(&lex, &b);
		else
			st = kind == CRDT_ORSET ? parse_elements(&lex, &b) : parse_values(&lex, &b, &scratch);
		if (st != CRDT_OK || (st = crdt_json_next_member(&lex, '}', &more)) != CRDT_OK)
			goto done;
	}
	if ((st = crdt_json_end(&lex)) == CRDT_OK)
	{
		if (b.keys.len / sizeof(BuildKey) >= CRDT_MAX_ENTRIES)
			st = crdt_fail(err, CRDT_ERR_TOO_LARGE, -1, "more than %d keys", CRDT_MAX_ENTRIES);
		else
			st = builder_write(&b, kind, true, out, err);
	}
done:
	builder_free(&b);
	crdt_buf_free(&scratch);
	return st;
}

static void
print_dots(CrdtBuf *out, const Context *c, const Dot *d, size_t n)
{
	crdt_buf_put_byte(out, '[');
	for (size_t k = 0; k < n; k++)
	{
		if (k > 0)
			crdt_buf_put_byte(out, ',');
		crdt_buf_put_byte(out, '[');
		crdt_json_put_string(out, CTX_ID(c, d[k].replica), CTX_ID_LEN(c, d[k].replica));
		crdt_buf_put_byte(out, ',');
		crdt_buf_put_u64_decimal(out, d[k].counter);
		crdt_buf_put_byte(out, ']');
	}
	crdt_buf_put_byte(out, ']');
}

/* A replica's ranges: n for [1, n] (a plain version vector), else [[lo,hi],...]. */
static void
print_context(CrdtBuf *out, const Context *c)
{
	crdt_buf_put_byte(out, '{');
	for (size_t i = 0; i < c->n; i++)
	{
		const Range *r = CTX_RANGES(c) + CTX_FIRST(c, i);
		size_t		n = CTX_FIRST(c, i + 1) - CTX_FIRST(c, i);

		if (i > 0)
			crdt_buf_put_byte(out, ',');
		crdt_json_put_string(out, CTX_ID(c, i), CTX_ID_LEN(c, i));
		crdt_buf_put_byte(out, ':');
		if (n == 1 && r[0].lo == 1)
			crdt_buf_put_u64_decimal(out, r[0].hi);
		else
		{
			crdt_buf_put_byte(out, '[');
			for (size_t k = 0; k < n; k++)
			{
				if (k > 0)
					crdt_buf_put_byte(out, ',');
				crdt_buf_put_byte(out, '[');
				crdt_buf_put_u64_decimal(out, r[k].lo);
				crdt_buf_put_byte(out, ',');
				crdt_buf_put_u64_decimal(out, r[k].hi);
				crdt_buf_put_byte(out, ']');
			}
			crdt_buf_put_byte(out, ']');
		}
	}
	crdt_buf_put_byte(out, '}');
}

CrdtStatus
crdt_dotted_print(CrdtDottedKind kind, CrdtSlice value, CrdtBuf *out, CrdtError *err)
{
	Context		c;
	CrdtKeyReader *keys = out->alloc->alloc(out->alloc->ctx, sizeof(CrdtKeyReader));
	CrdtBuf		dots;
	const uint8_t *key;
	size_t		len;
	CrdtStatus	st;
	int			rc = 0;

	if (keys == NULL)
		return crdt_nomem(err);
	crdt_buf_init(&dots, out->alloc, 0);
	if ((st = open_value(kind, value, &c, keys, out->alloc, err)) != CRDT_OK)
		goto done;
	crdt_buf_put_byte(out, '{');
	while ((rc = crdt_keys_reader_next(keys, &key, &len, err)) > 0)
	{
		if ((st = read_dots(&keys->pos, keys->end, c.n, NULL, &dots, err)) != CRDT_OK)
			goto done;
		if (keys->entries == 1)
			crdt_buf_put_str(out, kind == CRDT_ORSET ? "\"elements\":{" : "\"values\":[");
		else
			crdt_buf_put_byte(out, ',');
		if (kind == CRDT_ORSET)
		{
			crdt_json_put_string(out, key, len);
			crdt_buf_put_byte(out, ':');
		}
		else
		{
			crdt_buf_put_str(out, "{\"value\":");
			crdt_buf_put(out, key, len);
			crdt_buf_put_str(out, ",\"dots\":");
		}
		print_dots(out, &c, (const Dot *) dots.data, dots.len / sizeof(Dot));
		if (kind == CRDT_MVREG)
			crdt_buf_put_byte(out, '}');
	}
	if (rc < 0)
	{
		st = err->status;
		goto done;
	}
	if (keys->entries > 0)
		crdt_buf_put_byte(out, kind == CRDT_ORSET ? '}' : ']');
	if (c.n > 0)
	{
		if (keys->entries > 0)
			crdt_buf_put_byte(out, ',');
		crdt_buf_put_str(out, "\"context\":");
		print_context(out, &c);
	}
	crdt_buf_put_byte(out, '}');
	st = out->failed || dots.failed ? crdt_nomem(err) : CRDT_OK;
done:
	context_free(&c);
	crdt_buf_free(&dots);
	out->alloc->release(out->alloc->ctx, keys);
	return st;
}

/* ----------------------------------------------------------- mutators */

/*
 * Builds the delta of an operation and merges it in.  dots_of selects whose
 * dots the delta's context must cover: the key's (orset add/remove) or all
 * (mvreg set).  new_key, when not NULL, gets the new dot of replica.
 */
static CrdtStatus
apply_operation(CrdtDottedKind kind, CrdtSlice value, const uint8_t *key, size_t key_len,
				bool all_dots, const uint8_t *new_key, size_t new_key_len,
				const uint8_t *replica, size_t replica_len, CrdtBuf *out, CrdtError *err)
{
	const CrdtAllocator *alloc = out->alloc;
	Context		c;
	CrdtKeyReader *keys = alloc->alloc(alloc->ctx, sizeof(CrdtKeyReader));
	CrdtBuf		dots;
	CrdtBuf		delta;
	Builder		b;
	const uint8_t *k;
	size_t		len;
	size_t		covered = 0;
	CrdtStatus	st;
	int			rc = 0;

	if (keys == NULL)
		return crdt_nomem(err);
	crdt_buf_init(&dots, alloc, 0);
	crdt_buf_init(&delta, alloc, 0);
	builder_init(&b, alloc);
	if ((st = open_value(kind, value, &c, keys, alloc, err)) != CRDT_OK)
		goto done;

	/* the dots the operation observes and removes */
	while ((rc = crdt_keys_reader_next(keys, &k, &len, err)) > 0)
	{
		const Dot  *d;

		if ((st = read_dots(&keys->pos, keys->end, c.n, NULL, &dots, err)) != CRDT_OK)
			goto done;
		if (!all_dots && crdt_bytes_cmp(k, len, key, key_len) != 0)
			continue;
		d = (const Dot *) dots.data;
		for (size_t i = 0; i < dots.len / sizeof(Dot); i++)
		{
			size_t		name = builder_name(&b, CTX_ID(&c, d[i].replica), CTX_ID_LEN(&c, d[i].replica),
											NAME_CONTEXT_RANGE, -1);

			builder_range(&b, name, d[i].counter, d[i].counter);
			covered++;
		}
		if (!all_dots)
			break;
	}
	if (rc < 0)
	{
		st = err->status;
		goto done;
	}

	if (new_key != NULL)
	{
		uint64_t	next = 1;
		size_t		name;

		/* the next counter: one past the highest this replica has seen */
		for (size_t i = 0; i < c.n; i++)
			if (crdt_bytes_cmp(CTX_ID(&c, i), CTX_ID_LEN(&c, i), replica, replica_len) == 0)
			{
				uint64_t	highest = CTX_RANGES(&c)[CTX_FIRST(&c, i + 1) - 1].hi;

				if (highest >= (uint64_t) INT64_MAX)
				{
					char		shown[96];

					crdt_describe_bytes(shown, sizeof(shown), replica, replica_len);
					st = crdt_fail(err, CRDT_ERR_OVERFLOW, -1,
								   "the dot counter of replica %s would exceed the bigint range", shown);
					goto done;
				}
				next = highest + 1;
			}
		name = builder_name(&b, replica, replica_len, NAME_CONTEXT_RANGE, -1);
		builder_range(&b, name, next, next);
		builder_dot(&b, builder_key(&b, new_key, new_key_len, -1), name, next, -1);
	}
	else if (covered == 0)
	{
		/* removing what is not there changes nothing */
		crdt_buf_put(out, value.data, value.len);
		st = out->failed ? crdt_nomem(err) : CRDT_OK;
		goto done;
	}

	if ((st = builder_write(&b, kind, false, &delta, err)) == CRDT_OK)
	{
		CrdtSlice	d = {delta.data, delta.len};

		st = crdt_dotted_merge(kind, value, d, out, err);
	}

done:
	context_free(&c);
	crdt_buf_free(&dots);
	crdt_buf_free(&delta);
	builder_free(&b);
	alloc->release(alloc->ctx, keys);
	return st;
}

static CrdtStatus
check_replica(const uint8_t *replica, size_t len, CrdtError *err)
{
	const char *problem = crdt_replica_id_problem(replica, len);

	if (problem != NULL)
	{
		char		shown[96];

		crdt_describe_bytes(shown, sizeof(shown), replica, len);
		return crdt_fail(err, CRDT_ERR_ARGUMENT, -1, "replica id %s %s", shown, problem);
	}
	return CRDT_OK;
}

static CrdtStatus
check_element(const uint8_t *element, size_t len, CrdtError *err)
{
	const char *problem = crdt_element_problem(element, len);

	return problem == NULL ? CRDT_OK
		: crdt_fail(err, CRDT_ERR_ARGUMENT, -1, "a set element %s", problem);
}

CrdtStatus
crdt_orset_add(CrdtSlice value, const uint8_t *element, size_t len, const uint8_t *replica,
			   size_t replica_len, CrdtBuf *out, CrdtError *err)
{
	CrdtStatus	st;

	if ((st = check_element(element, len, err)) != CRDT_OK ||
		(st = check_replica(replica, replica_len, err)) != CRDT_OK)
		return st;
	return apply_operation(CRDT_ORSET, value, element, len, false, element, len,
						   replica, replica_len, out, err);
}

CrdtStatus
crdt_orset_remove(CrdtSlice value, const uint8_t *element, size_t len, CrdtBuf *out,
				  CrdtError *err)
{
	CrdtStatus	st;

	if ((st = check_element(element, len, err)) != CRDT_OK)
		return st;
	return apply_operation(CRDT_ORSET, value, element, len, false, NULL, 0, NULL, 0, out, err);
}

CrdtStatus
crdt_mvreg_set(CrdtSlice value, const uint8_t *json, size_t len, const uint8_t *replica,
			   size_t replica_len, CrdtBuf *out, CrdtError *err)
{
	CrdtStatus	st;

	if ((st = check_replica(replica, replica_len, err)) != CRDT_OK)
		return st;
	if (len > CRDT_VALUE_MAX)
		return crdt_fail(err, CRDT_ERR_TOO_LARGE, -1, "a register value over 16 MB");
	if ((st = crdt_json_check_canonical(json, len, err)) != CRDT_OK)
	{
		err->status = st = CRDT_ERR_ARGUMENT;
		return st;
	}
	return apply_operation(CRDT_MVREG, value, NULL, 0, true, json, len, replica, replica_len,
						   out, err);
}

/* ------------------------------------------------------- keys, compare */

/* Steps over the encoded context (ids and their ranges) without decoding it. */
static CrdtStatus
context_skip(const uint8_t *bytes, size_t len, size_t offset, size_t *span, CrdtError *err)
{
	CrdtKeyReader *r = crdt_default_allocator()->alloc(crdt_default_allocator()->ctx,
														 sizeof(CrdtKeyReader));
	const uint8_t *id;
	size_t		id_len;
	int			rc;
	CrdtStatus	st = CRDT_OK;

	if (r == NULL)
		return crdt_nomem(err);
	crdt_keys_reader_init(r, CRDT_KEYS_FRONT_CODED, bytes, len, offset);
	while ((rc = crdt_keys_reader_next(r, &id, &id_len, err)) > 0)
	{
		uint64_t	n;

		if (crdt_varint_decode(&r->pos, r->end, &n) != CRDT_VARINT_OK || n == 0 ||
			n > (uint64_t) (r->end - r->pos) / 2)
		{
			st = binary(err, -1, "malformed context ranges");
			break;
		}
		for (uint64_t k = 0; k < 2 * n && st == CRDT_OK; k++)
		{
			uint64_t	ignored;

			if (crdt_varint_decode(&r->pos, r->end, &ignored) != CRDT_VARINT_OK)
				st = binary(err, -1, "malformed context range");
		}
		if (st != CRDT_OK)
			break;
	}
	if (st == CRDT_OK && rc < 0)
		st = err->status;
	*span = (size_t) (r->pos - bytes);
	crdt_default_allocator()->release(crdt_default_allocator()->ctx, r);
	return st;
}

CrdtStatus
crdt_dotted_keys_init(CrdtDottedKeys *it, CrdtDottedKind kind, CrdtSlice value, CrdtError *err)
{
	CrdtStatus	st;
	size_t		span = 0;

	it->kind = kind;
	if ((st = crdt_check_version(value, err)) != CRDT_OK ||
		(st = context_skip(value.data + 1, value.len - 1, 1, &span, err)) != CRDT_OK)
		return st;
	crdt_keys_reader_init(&it->keys, key_style(kind), value.data + 1 + span,
						  value.len - 1 - span, 1 + span);
	return CRDT_OK;
}

int
crdt_dotted_keys_next(CrdtDottedKeys *it, const uint8_t **key, size_t *len, CrdtError *err)
{
	uint64_t	ndots;
	int			rc = crdt_keys_reader_next(&it->keys, key, len, err);

	if (rc <= 0)
		return rc;
	if (crdt_varint_decode(&it->keys.pos, it->keys.end, &ndots) != CRDT_VARINT_OK ||
		ndots == 0 || ndots > (uint64_t) (it->keys.end - it->keys.pos) / 2)
	{
		binary(err, -1, "malformed dot list");
		return -1;
	}
	for (uint64_t k = 0; k < 2 * ndots; k++)
	{
		uint64_t	ignored;

		if (crdt_varint_decode(&it->keys.pos, it->keys.end, &ignored) != CRDT_VARINT_OK)
		{
			binary(err, -1, "malformed dot");
			return -1;
		}
	}
	return 1;
}

/* The btree order: the canonical bytes (a fixed order, no causal meaning). */
CrdtStatus
crdt_dotted_compare(CrdtDottedKind kind, CrdtSlice a, CrdtSlice b, int *result, CrdtError *err)
{
	(void) kind;
	(void) err;
	*result = crdt_bytes_cmp(a.data, a.len, b.data, b.len);
	return CRDT_OK;
}


CRDT_DEFINE_TYPE(orset, dotted, CRDT_ORSET);
CRDT_DEFINE_TYPE(mvreg, dotted, CRDT_MVREG);

/* ---------------------------------------------------- aggregate: the log */

#define LOG_MERGE_MIN (4 * 1024 * 1024)

typedef struct LogRange
{
	uint64_t	lo;
	uint64_t	hi;
	uint32_t	replica;		/* number in the merge's replica dictionary */
} LogRange;

/* 16 bytes, so that the big sorts move little memory and compare integers */
typedef struct LogDot
{
	uint64_t	counter;
	uint32_t	replica;		/* number in the replica dictionary */
	uint32_t	key;			/* its key occurrence's index, then the key's rank */
} LogDot;

/* One occurrence of a key in one logged value. */
typedef struct LogKey
{
	CrdtSortKey sort;			/* bytes: set once decoding is over */
	size_t		offset;			/* into the key arena while decoding */
	uint32_t	index;			/* its place in the occurrence array */
} LogKey;

/* A surviving dot in output order: (key rank, replica rank, counter). */
typedef struct Survivor
{
	uint32_t	key_rank;
	uint32_t	replica_rank;
	uint64_t	counter;
} Survivor;

CrdtStatus
crdt_dotlog_init(CrdtDotLog *log, CrdtDottedKind kind, const CrdtAllocator *alloc,
				 CrdtError *err)
{
	(void) err;
	log->kind = kind;
	log->alloc = alloc;
	log->merged = 0;
	memset(&log->values, 0, sizeof(CrdtBuf));
	log->values.alloc = alloc;
	return CRDT_OK;
}

void
crdt_dotlog_free(CrdtDotLog *log)
{
	crdt_buf_free(&log->values);
}

static int
compare_log_ranges(const void *x, const void *y)
{
	const LogRange *a = x;
	const LogRange *b = y;

	if (a->replica != b->replica)
		return a->replica < b->replica ? -1 : 1;
	return a->lo < b->lo ? -1 : (a->lo > b->lo);
}

static int
compare_log_ends(const void *x, const void *y)
{
	const LogRange *a = x;
	const LogRange *b = y;

	if (a->replica != b->replica)
		return a->replica < b->replica ? -1 : 1;
	return a->hi < b->hi ? -1 : (a->hi > b->hi);
}

/* by (replica, counter, key rank): see the grouping in log_merge */
static int
compare_log_dots(const void *x, const void *y)
{
	const LogDot *a = x;
	const LogDot *b = y;

	if (a->replica != b->replica)
		return a->replica < b->replica ? -1 : 1;
	if (a->counter != b->counter)
		return a->counter < b->counter ? -1 : 1;
	return a->key < b->key ? -1 : (a->key > b->key);
}

static int
compare_log_keys(const void *x, const void *y)
{
	return crdt_sort_key_cmp(&((const LogKey *) x)->sort, &((const LogKey *) y)->sort);
}

static int
compare_survivors(const void *x, const void *y)
{
	const Survivor *a = x;
	const Survivor *b = y;

	if (a->key_rank != b->key_rank)
		return a->key_rank < b->key_rank ? -1 : 1;
	if (a->replica_rank != b->replica_rank)
		return a->replica_rank < b->replica_rank ? -1 : 1;
	return a->counter < b->counter ? -1 : (a->counter > b->counter);
}

typedef struct RankItem
{
	const uint8_t *bytes;
	size_t		len;
	uint32_t	number;
} RankItem;

static int
compare_rank_items(const void *x, const void *y)
{
	const RankItem *a = x;
	const RankItem *b = y;

	return crdt_bytes_cmp(a->bytes, a->len, b->bytes, b->len);
}

/* rank[number]: the place of each id of s in byte order (NULL: no memory). */
static uint32_t *
byte_ranks(const CrdtKeySet *s, const CrdtAllocator *alloc)
{
	RankItem   *items = alloc->alloc(alloc->ctx, (s->used + 1) * sizeof(RankItem));
	uint32_t   *rank = alloc->alloc(alloc->ctx, (s->used + 1) * sizeof(uint32_t));

	if (items == NULL || rank == NULL)
	{
		if (items != NULL)
			alloc->release(alloc->ctx, items);
		if (rank != NULL)
			alloc->release(alloc->ctx, rank);
		return NULL;
	}
	for (size_t k = 0; k < s->used; k++)
	{
		items[k].bytes = s->bytes.data + s->entries[k].offset;
		items[k].len = s->entries[k].len;
		items[k].number = (uint32_t) k;
	}
	if (s->used > 1)
		qsort(items, s->used, sizeof(RankItem), compare_rank_items);
	for (size_t k = 0; k < s->used; k++)
		rank[items[k].number] = (uint32_t) k;
	alloc->release(alloc->ctx, items);
	return rank;
}

typedef struct Decoded
{
	CrdtKeySet	replicas;		/* ids -> numbers */
	CrdtBuf		ranges;			/* LogRange[] */
	CrdtBuf		dots;			/* LogDot[] */
	CrdtBuf		keys;			/* LogKey[]: key occurrences */
	CrdtBuf		arena;			/* key bytes */
} Decoded;

/* Reads one value's context and dots into d. */
static CrdtStatus
decode_one(CrdtDottedKind kind, CrdtSlice value, Decoded *d, CrdtKeyReader *r,
		   CrdtBuf *numbers, CrdtError *err)
{
	const uint8_t *p;
	const uint8_t *end = value.data + value.len;
	const uint8_t *key;
	size_t		len;
	int			rc;
	CrdtStatus	st;

	if ((st = crdt_check_version(value, err)) != CRDT_OK)
		return st;
	numbers->len = 0;
	/* the context: replica ids (numbered through the dictionary) and ranges */
	crdt_keys_reader_init(r, CRDT_KEYS_FRONT_CODED, value.data + 1, value.len - 1, 1);
	while ((rc = crdt_keys_reader_next(r, &key, &len, err)) > 0)
	{
		size_t		number;
		uint64_t	nranges;
		uint64_t	prev_hi = 0;

		if ((st = crdt_keyset_put(&d->replicas, key, len, 0, &number, err)) != CRDT_OK)
			return st;
		{
			uint32_t	n32 = (uint32_t) number;

			crdt_buf_put(numbers, &n32, sizeof(n32));
		}
		if (crdt_varint_decode(&r->pos, r->end, &nranges) != CRDT_VARINT_OK || nranges == 0 ||
			nranges > (uint64_t) (r->end - r->pos) / 2)
			return binary(err, -1, "malformed context ranges");
		for (uint64_t k = 0; k < nranges; k++)
		{
			uint64_t	gap;
			uint64_t	width;
			uint64_t	base = k == 0 ? 1 : prev_hi + 2;
			LogRange	range;

			if (crdt_varint_decode(&r->pos, r->end, &gap) != CRDT_VARINT_OK ||
				crdt_varint_decode(&r->pos, r->end, &width) != CRDT_VARINT_OK ||
				gap > (uint64_t) INT64_MAX - base || width > (uint64_t) INT64_MAX - (base + gap))
				return binary(err, -1, "malformed context range");
			range.lo = base + gap;
			range.hi = range.lo + width;
			range.replica = (uint32_t) number;
			prev_hi = range.hi;
			crdt_buf_put(&d->ranges, &range, sizeof(range));
		}
	}
	if (rc < 0)
		return err->status;

	/* the keys and their dots, with the dots' replicas renumbered */
	p = r->pos;
	crdt_keys_reader_init(r, key_style(kind), p, (size_t) (end - p), (size_t) (p - value.data));
	while ((rc = crdt_keys_reader_next(r, &key, &len, err)) > 0)
	{
		LogKey		occurrence;
		uint64_t	ndots;

		crdt_sort_key_init(&occurrence.sort, key, len);
		occurrence.sort.key = NULL;
		occurrence.offset = d->arena.len;
		occurrence.index = (uint32_t) (d->keys.len / sizeof(LogKey));
		crdt_buf_put(&d->keys, &occurrence, sizeof(occurrence));
		crdt_buf_put(&d->arena, key, len);
		if (crdt_varint_decode(&r->pos, r->end, &ndots) != CRDT_VARINT_OK || ndots == 0 ||
			ndots > (uint64_t) (r->end - r->pos) / 2)
			return binary(err, -1, "malformed dot list");
		for (uint64_t k = 0; k < ndots; k++)
		{
			uint64_t	index;
			LogDot		dot;

			if (crdt_varint_decode(&r->pos, r->end, &index) != CRDT_VARINT_OK ||
				crdt_varint_decode(&r->pos, r->end, &dot.counter) != CRDT_VARINT_OK ||
				index >= numbers->len / sizeof(uint32_t))
				return binary(err, -1, "malformed dot");
			dot.replica = U32(*numbers)[index];
			dot.key = occurrence.index;
			crdt_buf_put(&d->dots, &dot, sizeof(dot));
		}
	}
	if (rc < 0)
		return err->status;
	if (d->ranges.failed || d->dots.failed || d->keys.failed || d->arena.failed || numbers->failed)
		return crdt_nomem(err);
	return CRDT_OK;
}

/* Merges every logged value (see the header comment) into out. */
static CrdtStatus
log_merge(const CrdtDotLog *log, CrdtBuf *out, CrdtError *err)
{
	const CrdtAllocator *alloc = log->alloc;
	Decoded		d;
	CrdtBuf		numbers;
	CrdtBuf		ends;
	CrdtBuf		survivors;
	CrdtBuf		joined;
	CrdtKeyReader *r = alloc->alloc(alloc->ctx, sizeof(CrdtKeyReader));
	CrdtKeyWriter *w = alloc->alloc(alloc->ctx, sizeof(CrdtKeyWriter));
	uint32_t   *rank = NULL;
	uint32_t   *by_rank = NULL;
	uint32_t   *key_rank = NULL;
	CrdtStatus	st;

	crdt_buf_init(&d.ranges, alloc, 0);
	crdt_buf_init(&d.dots, alloc, 0);
	crdt_buf_init(&d.keys, alloc, 0);
	crdt_buf_init(&d.arena, alloc, 0);
	crdt_buf_init(&numbers, alloc, 0);
	crdt_buf_init(&ends, alloc, 0);
	crdt_buf_init(&survivors, alloc, 0);
	crdt_buf_init(&joined, alloc, 0);
	if ((st = crdt_keyset_init(&d.replicas, alloc, err)) != CRDT_OK)
		goto done;
	if (r == NULL || w == NULL)
	{
		st = crdt_nomem(err);
		goto done;
	}

	/* decode everything */
	{
		const uint8_t *p = log->values.data;
		/* nothing absorbed yet: data is NULL, and NULL + 0 is undefined */
		const uint8_t *end = p == NULL ? NULL : p + log->values.len;

		while (p < end)
		{
			uint64_t	len;

			if (crdt_varint_decode(&p, end, &len) != CRDT_VARINT_OK || len > (uint64_t) (end - p))
			{
				st = binary(err, -1, "corrupt aggregate log");
				goto done;
			}
			if ((st = decode_one(log->kind, (CrdtSlice) {p, (size_t) len}, &d, r, &numbers, err)) != CRDT_OK)
				goto done;
			p += len;
		}
	}
	rank = byte_ranks(&d.replicas, alloc);
	by_rank = alloc->alloc(alloc->ctx, (d.replicas.used + 1) * sizeof(uint32_t));
	crdt_buf_put(&ends, d.ranges.data, d.ranges.len);
	if (rank == NULL || by_rank == NULL || ends.failed)
	{
		st = crdt_nomem(err);
		goto done;
	}
	for (size_t k = 0; k < d.replicas.used; k++)
		by_rank[rank[k]] = (uint32_t) k;

	{
		LogDot	   *dots = (LogDot *) d.dots.data;
		size_t		ndots = d.dots.len / sizeof(LogDot);
		LogRange   *starts = (LogRange *) d.ranges.data;
		LogRange   *stops = (LogRange *) ends.data;
		size_t		nranges = d.ranges.len / sizeof(LogRange);
		size_t		si = 0;
		size_t		ei = 0;

		LogKey	   *keys = (LogKey *) d.keys.data;
		size_t		nkeys = d.keys.len / sizeof(LogKey);

		/* rank the key occurrences by bytes; equal keys share a rank */
		key_rank = alloc->alloc(alloc->ctx, (nkeys + 1) * sizeof(uint32_t));
		if (key_rank == NULL)
		{
			st = crdt_nomem(err);
			goto done;
		}
		for (size_t k = 0; k < nkeys; k++)
			keys[k].sort.key = d.arena.data + keys[k].offset;
		if (nkeys > 1)
			qsort(keys, nkeys, sizeof(LogKey), compare_log_keys);
		for (size_t k = 0, r = 0; k < nkeys; k++)
		{
			if (k > 0 && crdt_sort_key_cmp(&keys[k - 1].sort, &keys[k].sort) != 0)
				r++;
			key_rank[keys[k].index] = (uint32_t) r;
		}
		for (size_t k = 0; k < ndots; k++)
			dots[k].key = key_rank[dots[k].key];
		if (ndots > 1)
			qsort(dots, ndots, sizeof(LogDot), compare_log_dots);
		if (nranges > 1)
		{
			qsort(starts, nranges, sizeof(LogRange), compare_log_ranges);
			qsort(stops, nranges, sizeof(LogRange), compare_log_ends);
		}

		/*
		 * Each group of equal (dot, key) is the states holding that dot
		 * for that key; the ranges started at or before its counter minus
		 * those ended before it are the states whose context has seen it.
		 * Grouping by key too keeps the merge independent of row order
		 * even for invalid input that gives one dot to two keys: like
		 * pairwise merges, it then keeps neither.
		 */
		for (size_t k = 0; k < ndots;)
		{
			size_t		group = k + 1;
			uint32_t	rep = dots[k].replica;
			uint64_t	c = dots[k].counter;

			while (group < ndots && dots[group].replica == rep && dots[group].counter == c &&
				   dots[group].key == dots[k].key)
				group++;
			while (si < nranges && (starts[si].replica < rep ||
									(starts[si].replica == rep && starts[si].lo <= c)))
				si++;
			while (ei < nranges && (stops[ei].replica < rep ||
									(stops[ei].replica == rep && stops[ei].hi < c)))
				ei++;
			if (group - k == si - ei)
			{
				Survivor	v = {dots[k].key, rank[rep], c};

				crdt_buf_put(&survivors, &v, sizeof(v));
			}
			k = group;
		}
		if (survivors.failed)
		{
			st = crdt_nomem(err);
			goto done;
		}

		/* the merged context, replicas in byte order, each one's ranges joined */
		crdt_buf_put_byte(out, CRDT_FORMAT_V1);
		crdt_keys_writer_init(w, CRDT_KEYS_FRONT_CODED, out);
		for (size_t rk = 0; rk < d.replicas.used; rk++)
		{
			uint32_t	number = by_rank[rk];
			const CrdtKeySetEntry *id = &d.replicas.entries[number];
			size_t		first = 0;
			size_t		last = nranges;

			while (first < last)
			{
				size_t		mid = first + (last - first) / 2;

				if (starts[mid].replica < number)
					first = mid + 1;
				else
					last = mid;
			}
			joined.len = 0;
			for (size_t k = first; k < nranges && starts[k].replica == number; k++)
			{
				Range		x = {starts[k].lo, starts[k].hi};
				Range	   *cur = joined.len > 0 ? (Range *) (joined.data + joined.len - sizeof(Range)) : NULL;

				if (cur != NULL && (x.lo <= cur->hi || x.lo - cur->hi == 1))
				{
					if (x.hi > cur->hi)
						cur->hi = x.hi;
				}
				else
					crdt_buf_put(&joined, &x, sizeof(x));
			}
			crdt_keys_writer_add(w, d.replicas.bytes.data + id->offset, id->len);
			write_ranges(out, (const Range *) joined.data, joined.len / sizeof(Range));
		}
		crdt_keys_writer_finish(w);
	}

	/* the surviving dots, key by key (keys are sorted: rank r is found in order) */
	{
		Survivor   *v = (Survivor *) survivors.data;
		size_t		n = survivors.len / sizeof(Survivor);
		const LogKey *keys = (const LogKey *) d.keys.data;
		size_t		nkeys = d.keys.len / sizeof(LogKey);
		size_t		at = 0;		/* the sorted occurrence holding the current rank */

		if (n > 1)
			qsort(v, n, sizeof(Survivor), compare_survivors);
		crdt_keys_writer_init(w, key_style(log->kind), out);
		for (size_t k = 0; k < n;)
		{
			size_t		end = k;

			while (end < n && v[end].key_rank == v[k].key_rank)
				end++;
			while (at < nkeys && key_rank[keys[at].index] < v[k].key_rank)
				at++;
			crdt_keys_writer_add(w, keys[at].sort.key, keys[at].sort.len);
			crdt_buf_put_varint(out, end - k);
			for (; k < end; k++)
			{
				crdt_buf_put_varint(out, v[k].replica_rank);
				crdt_buf_put_varint(out, v[k].counter);
			}
		}
		crdt_keys_writer_finish(w);
	}
	st = out->failed || joined.failed ? crdt_nomem(err) : CRDT_OK;

done:
	crdt_keyset_free(&d.replicas);
	crdt_buf_free(&d.ranges);
	crdt_buf_free(&d.dots);
	crdt_buf_free(&d.keys);
	crdt_buf_free(&d.arena);
	crdt_buf_free(&numbers);
	crdt_buf_free(&ends);
	crdt_buf_free(&survivors);
	crdt_buf_free(&joined);
	if (rank != NULL)
		alloc->release(alloc->ctx, rank);
	if (by_rank != NULL)
		alloc->release(alloc->ctx, by_rank);
	if (key_rank != NULL)
		alloc->release(alloc->ctx, key_rank);
	if (r != NULL)
		alloc->release(alloc->ctx, r);
	if (w != NULL)
		alloc->release(alloc->ctx, w);
	return st;
}

CrdtStatus
crdt_dotlog_write(const CrdtDotLog *log, CrdtBuf *out, CrdtError *err)
{
	return log_merge(log, out, err);
}

CrdtStatus
crdt_dotlog_absorb(CrdtDotLog *log, CrdtSlice value, CrdtError *err)
{
	CrdtBuf		merged;
	CrdtStatus	st;

	crdt_buf_put_varint(&log->values, value.len);
	crdt_buf_put(&log->values, value.data, value.len);
	if (log->values.failed)
		return crdt_nomem(err);
	if (log->values.len <= LOG_MERGE_MIN || log->values.len <= 2 * log->merged)
		return CRDT_OK;

	/* the log has doubled since the last merge: replace it by its merge */
	crdt_buf_init(&merged, log->alloc, 0);
	if ((st = log_merge(log, &merged, err)) == CRDT_OK)
	{
		log->values.len = 0;
		crdt_buf_put_varint(&log->values, merged.len);
		crdt_buf_put(&log->values, merged.data, merged.len);
		log->merged = log->values.len;
		if (log->values.failed)
			st = crdt_nomem(err);
	}
	crdt_buf_free(&merged);
	return st;
}
