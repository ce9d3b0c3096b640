/*
 * dotted_build.c — the builder: an orset or mvreg value from loose parts.
 *
 * Text input and the mutators describe a value as context ranges, keys
 * and dots naming replicas by id, in any order.  crdt_builder_write
 * numbers the replica ids in byte order, builds the context (each
 * replica's ranges sorted and joined), checks every dot against it and
 * for repeats, sorts the keys, and writes the canonical value.
 */
#include "dotted_internal.h"

#include <stdlib.h>
#include <string.h>

/* A mention of a replica id: in a dot, as a context key, or by a mutator. */
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
	size_t		name;			/* NameRef index, then context index */
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

#define NAMES(b) ((NameRef *) (b)->names.data)
#define NNAMES(b) ((b)->names.len / sizeof(NameRef))
#define RANGES(b) ((BuildRange *) (b)->ranges.data)
#define NRANGES(b) ((b)->ranges.len / sizeof(BuildRange))
#define KEYS(b) ((BuildKey *) (b)->keys.data)
#define NKEYS(b) ((b)->keys.len / sizeof(BuildKey))
#define DOTS(b) ((BuildDot *) (b)->dots.data)
#define NDOTS(b) ((b)->dots.len / sizeof(BuildDot))

void
crdt_builder_init(Builder *b, const CrdtAllocator *alloc)
{
	b->alloc = alloc;
	crdt_bufs_init(alloc, &b->bytes, &b->names, &b->ranges, &b->keys, &b->dots, NULL);
}

void
crdt_builder_free(Builder *b)
{
	crdt_bufs_free(&b->bytes, &b->names, &b->ranges, &b->keys, &b->dots, NULL);
}

static bool
builder_failed(const Builder *b)
{
	return crdt_bufs_failed(&b->bytes, &b->names, &b->ranges, &b->keys, &b->dots, NULL);
}

size_t
crdt_builder_name(Builder *b, const uint8_t *id, size_t len, NameRole role, long position)
{
	NameRef		n = {NULL, b->bytes.len, len, position, role, 0};

	crdt_buf_put(&b->bytes, id, len);
	crdt_buf_put(&b->names, &n, sizeof(n));
	return NNAMES(b) - 1;
}

void
crdt_builder_range(Builder *b, size_t name, uint64_t lo, uint64_t hi)
{
	BuildRange	r = {name, {lo, hi}};

	crdt_buf_put(&b->ranges, &r, sizeof(r));
}

size_t
crdt_builder_key(Builder *b, const uint8_t *key, size_t len, long position)
{
	size_t		index = NKEYS(b);
	BuildKey	k = {NULL, b->bytes.len, len, position, index};

	crdt_buf_put(&b->bytes, key, len);
	crdt_buf_put(&b->keys, &k, sizeof(k));
	return index;
}

size_t
crdt_builder_keys(const Builder *b)
{
	return NKEYS(b);
}

void
crdt_builder_dot(Builder *b, size_t key, size_t name, uint64_t counter, long position)
{
	BuildDot	d = {key, name, counter, position, 0};

	crdt_buf_put(&b->dots, &d, sizeof(d));
}

/* ------------------------------------------------------------ the checks */

/* bytes, then position: of equal ids or keys, the later one is reported */
static int
compare_bytes_at(const uint8_t *a, size_t alen, long apos, const uint8_t *b, size_t blen,
				 long bpos)
{
	int			c = crdt_bytes_cmp(a, alen, b, blen);

	return c != 0 ? c : (apos < bpos ? -1 : (apos > bpos));
}

static int
compare_name_refs(const void *x, const void *y)
{
	const NameRef *a = *(const NameRef *const *) x;
	const NameRef *b = *(const NameRef *const *) y;

	return compare_bytes_at(a->id, a->len, a->position, b->id, b->len, b->position);
}

static int
compare_build_keys(const void *x, const void *y)
{
	const BuildKey *a = x;
	const BuildKey *b = y;

	return compare_bytes_at(a->key, a->len, a->position, b->key, b->len, b->position);
}

/* dots by key (arrival index), replica, counter; ranges by context index (see build_context), lo */
DOTTED_ORDER3(compare_build_dots, BuildDot, key, replica, counter)
DOTTED_ORDER2(compare_build_ranges, BuildRange, name, range.lo)

static CrdtStatus
build_error(CrdtError *err, bool from_text, long position, const char *fmt, const uint8_t *id,
			size_t len)
{
	char		shown[96];

	crdt_describe_bytes(shown, sizeof(shown), id, len);
	return crdt_fail(err, from_text ? CRDT_ERR_SYNTAX : CRDT_ERR_ARGUMENT,
					 from_text ? position : -1, fmt, shown);
}

/* What crdt_builder_write learns about the replica ids before it writes. */
typedef struct Resolved
{
	bool		from_text;
	CrdtBuf		order;			/* NameRef *[]: every name, sorted by id */
	CrdtBuf		ctx_index;		/* int64[ranks]: index in the context, or -1 */
	CrdtBuf		rank_ref;		/* NameRef *[ranks]: one name of each rank */
	size_t		ranks;			/* distinct ids */
	Context		c;
} Resolved;

/*
 * Ranks the distinct replica ids in byte order and numbers, in the same
 * order, the ones the context has (those named by a range).
 */
static CrdtStatus
rank_names(Builder *b, Resolved *rs, CrdtError *err)
{
	NameRef   **order;
	int64_t		next = 0;

	for (size_t i = 0; i < NNAMES(b); i++)
	{
		NameRef    *p = &NAMES(b)[i];

		p->id = b->bytes.data + p->offset;
		crdt_buf_put(&rs->order, &p, sizeof(p));
	}
	if (rs->order.failed)
		return crdt_nomem(err);
	order = (NameRef **) rs->order.data;
	if (NNAMES(b) > 1)
		qsort(order, NNAMES(b), sizeof(NameRef *), compare_name_refs);
	for (size_t i = 0; i < NNAMES(b); i++)
	{
		NameRef    *p = order[i];
		NameRef    *q = i > 0 ? order[i - 1] : NULL;
		bool		same = q != NULL && crdt_bytes_cmp(p->id, p->len, q->id, q->len) == 0;
		int64_t		none = -1;

		if (!same)
		{
			rs->ranks++;
			crdt_buf_put(&rs->ctx_index, &none, sizeof(none));
			crdt_buf_put(&rs->rank_ref, &p, sizeof(p));
		}
		p->rank = rs->ranks - 1;
		if (same && p->role == NAME_CONTEXT_KEY && q->role == NAME_CONTEXT_KEY)
			return build_error(err, rs->from_text, p->position,
							   "duplicate replica id %s in the context", p->id, p->len);
		if (p->role != NAME_IN_DOT)
			I64(rs->ctx_index)[p->rank] = 0;	/* marked; numbered below */
	}
	if (rs->ctx_index.failed || rs->rank_ref.failed)
		return crdt_nomem(err);
	for (size_t r = 0; r < rs->ranks; r++)
		if (I64(rs->ctx_index)[r] == 0)
			I64(rs->ctx_index)[r] = next++;
	return CRDT_OK;
}

/* The context: each replica's ranges sorted and joined. */
static void
build_context(Builder *b, Resolved *rs)
{
	BuildRange *ranges = RANGES(b);
	size_t		nranges = NRANGES(b);
	size_t		i = 0;
	CrdtBuf		plain;
	CrdtBuf		joined;

	for (size_t k = 0; k < nranges; k++)
		ranges[k].name = (size_t) I64(rs->ctx_index)[NAMES(b)[ranges[k].name].rank];
	if (nranges > 1)
		qsort(ranges, nranges, sizeof(BuildRange), compare_build_ranges);
	crdt_bufs_init(b->alloc, &plain, &joined, NULL);
	for (size_t r = 0; r < rs->ranks; r++)
	{
		int64_t		ci = I64(rs->ctx_index)[r];
		/* this rank's id, through the first of its refs */
		const NameRef *ref = ((NameRef **) rs->rank_ref.data)[r];

		if (ci < 0)
			continue;
		plain.len = 0;
		for (; i < nranges && ranges[i].name == (size_t) ci; i++)
			crdt_buf_put(&plain, &ranges[i].range, sizeof(Range));
		joined.len = 0;
		crdt_ranges_coalesce(&joined, (const Range *) plain.data, plain.len / sizeof(Range));
		crdt_context_add(&rs->c, ref->id, ref->len, (const Range *) joined.data,
						 joined.len / sizeof(Range));
	}
	if (plain.failed || joined.failed)
		rs->c.ranges.failed = true;
	crdt_bufs_free(&plain, &joined, NULL);
}

/* Every dot lies in the context, and no dot is given twice. */
static CrdtStatus
resolve_dots(Builder *b, Resolved *rs, CrdtError *err)
{
	BuildDot   *dots = DOTS(b);
	size_t		ndots = NDOTS(b);
	CrdtBuf		flat;
	Dot			twice;
	CrdtStatus	st = CRDT_OK;

	for (size_t i = 0; i < ndots; i++)
	{
		NameRef    *n = &NAMES(b)[dots[i].name];
		int64_t		ci = I64(rs->ctx_index)[n->rank];

		if (ci < 0 || !crdt_context_contains(&rs->c, (uint32_t) ci, dots[i].counter))
			return build_error(err, rs->from_text, dots[i].position,
							   "a dot of replica %s lies outside the context", n->id, n->len);
		dots[i].replica = (uint32_t) ci;
	}
	/* uniqueness over all keys: sort a copy by (replica, counter) */
	crdt_buf_init(&flat, b->alloc, 0);
	for (size_t i = 0; i < ndots; i++)
	{
		Dot			x = {dots[i].replica, dots[i].counter};

		crdt_buf_put(&flat, &x, sizeof(x));
	}
	if (flat.failed)
		st = crdt_nomem(err);
	else if (crdt_dots_find_twice((Dot *) flat.data, ndots, &twice))
	{
		/* the last of the dots equal to it is reported */
		for (size_t k = 0; k < ndots; k++)
			if (dots[k].replica == twice.replica && dots[k].counter == twice.counter)
			{
				NameRef    *n = &NAMES(b)[dots[k].name];

				st = build_error(err, rs->from_text, dots[k].position,
								 "duplicate dot of replica %s", n->id, n->len);
			}
	}
	crdt_buf_free(&flat);
	return st;
}

/* Keys in byte order, never twice; dots grouped by key. */
static CrdtStatus
sort_keys(Builder *b, CrdtDottedKind kind, bool from_text, CrdtError *err)
{
	BuildKey   *keys = KEYS(b);
	size_t		nkeys = NKEYS(b);

	for (size_t i = 0; i < nkeys; i++)
		keys[i].key = b->bytes.data + keys[i].offset;
	if (nkeys > 1)
		qsort(keys, nkeys, sizeof(BuildKey), compare_build_keys);
	for (size_t i = 1; i < nkeys; i++)
		if (crdt_bytes_cmp(keys[i].key, keys[i].len, keys[i - 1].key, keys[i - 1].len) == 0)
			return build_error(err, from_text, keys[i].position,
							   kind == CRDT_ORSET ? "duplicate element %s" : "duplicate value %s",
							   keys[i].key, keys[i].len);
	if (NDOTS(b) > 1)
		qsort(DOTS(b), NDOTS(b), sizeof(BuildDot), compare_build_dots);
	return CRDT_OK;
}

/* The key list: each key (sorted) with its dots (grouped by arrival index). */
static CrdtStatus
write_keys(Builder *b, CrdtDottedKind kind, bool from_text, CrdtBuf *out, CrdtError *err)
{
	const BuildKey *keys = KEYS(b);
	const BuildDot *dots = DOTS(b);
	size_t		nkeys = NKEYS(b);
	CrdtKeyWriter *w = b->alloc->alloc(b->alloc->ctx, sizeof(CrdtKeyWriter));
	size_t	   *first = b->alloc->alloc(b->alloc->ctx, (nkeys + 1) * sizeof(size_t));
	CrdtStatus	st = CRDT_OK;

	if (w == NULL || first == NULL)
		st = crdt_nomem(err);
	else
	{
		/* first[i]: where the dots of the key that arrived i-th start */
		memset(first, 0, (nkeys + 1) * sizeof(size_t));
		for (size_t i = 0; i < NDOTS(b); i++)
			first[dots[i].key + 1]++;
		for (size_t i = 0; i < nkeys; i++)
			first[i + 1] += first[i];
		crdt_keys_writer_init(w, dotted_key_style(kind), out);
	}
	for (size_t i = 0; i < nkeys && st == CRDT_OK; i++)
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
	if (w != NULL)
		b->alloc->release(b->alloc->ctx, w);
	if (first != NULL)
		b->alloc->release(b->alloc->ctx, first);
	return st;
}

CrdtStatus
crdt_builder_write(Builder *b, CrdtDottedKind kind, bool from_text, CrdtBuf *out,
				   CrdtError *err)
{
	Resolved	rs;
	CrdtStatus	st;

	if (builder_failed(b))
		return crdt_nomem(err);
	rs.from_text = from_text;
	rs.ranks = 0;
	crdt_bufs_init(b->alloc, &rs.order, &rs.ctx_index, &rs.rank_ref, NULL);
	crdt_context_init(&rs.c, b->alloc);
	if ((st = rank_names(b, &rs, err)) == CRDT_OK)
	{
		build_context(b, &rs);
		if ((st = resolve_dots(b, &rs, err)) == CRDT_OK &&
			(st = sort_keys(b, kind, from_text, err)) == CRDT_OK)
		{
			crdt_buf_put_byte(out, CRDT_FORMAT_V1);
			crdt_context_write(&rs.c, out);
			st = write_keys(b, kind, from_text, out, err);
		}
	}
	if (st == CRDT_OK && (out->failed || crdt_context_failed(&rs.c)))
		st = crdt_nomem(err);
	crdt_bufs_free(&rs.order, &rs.ctx_index, &rs.rank_ref, NULL);
	crdt_context_free(&rs.c);
	return st;
}
