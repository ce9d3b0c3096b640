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
 * their counter ranges); keys and dots are then read in one pass.  This
 * file holds that reading, validation, the key iterator and the type
 * descriptors; dotted_internal.h lists the other files.
 */
#include "crdt_type_def.h"
#include "dotted_internal.h"

#include <stdlib.h>
#include <string.h>

const char *
crdt_dotted_kind_name(CrdtDottedKind kind)
{
	return kind == CRDT_ORSET ? "orset" : "mvreg";
}

/* ------------------------------------------------------- ranges, dots */

int
crdt_range_decode(const uint8_t **pos, const uint8_t *end, uint64_t k, uint64_t prev_hi,
				  Range *range)
{
	/* lo = 1 + gap first, prev_hi + 2 + gap after; all within 1..INT64_MAX */
	uint64_t	base = k == 0 ? 1 : prev_hi + 2;
	uint64_t	gap;
	uint64_t	width;

	if (crdt_varint_decode(pos, end, &gap) != CRDT_VARINT_OK ||
		crdt_varint_decode(pos, end, &width) != CRDT_VARINT_OK)
		return 1;
	if (gap > (uint64_t) INT64_MAX - base || width > (uint64_t) INT64_MAX - (base + gap))
		return 2;
	range->lo = base + gap;
	range->hi = range->lo + width;
	return 0;
}

void
crdt_ranges_coalesce(CrdtBuf *out, const Range *in, size_t n)
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

void
crdt_ranges_write(CrdtBuf *out, const Range *r, size_t n)
{
	crdt_buf_put_varint(out, n);
	for (size_t k = 0; k < n; k++)
	{
		crdt_buf_put_varint(out, k == 0 ? r[k].lo - 1 : r[k].lo - r[k - 1].hi - 2);
		crdt_buf_put_varint(out, r[k].hi - r[k].lo);
	}
}

CrdtStatus
crdt_dots_read(const uint8_t **pos, const uint8_t *end, size_t nreplicas, const uint32_t *map,
			   CrdtBuf *out, CrdtError *err)
{
	uint64_t	ndots;
	Dot			prev = {0, 0};

	out->len = 0;
	if (!dotted_read_count(pos, end, &ndots))
		return dotted_malformed(err, -1, "malformed dot list");
	for (uint64_t k = 0; k < ndots; k++)
	{
		uint64_t	replica;
		Dot			d;

		if (crdt_varint_decode(pos, end, &replica) != CRDT_VARINT_OK ||
			crdt_varint_decode(pos, end, &d.counter) != CRDT_VARINT_OK)
			return dotted_malformed(err, -1, "malformed dot");
		if (replica >= nreplicas)
			return dotted_malformed(err, -1, "dot names a replica the context does not have");
		if (d.counter == 0 || d.counter > (uint64_t) INT64_MAX)
			return dotted_malformed(err, -1, "dot counter out of range");
		d.replica = (uint32_t) replica;
		if (k > 0 && dotted_compare_dots(&prev, &d) >= 0)
			return dotted_malformed(err, -1, "dots are not in increasing order");
		prev = d;
		if (map != NULL)
			d.replica = map[d.replica];
		crdt_buf_put(out, &d, sizeof(d));
	}
	return out->failed ? crdt_nomem(err) : CRDT_OK;
}

void
crdt_dots_write(CrdtBuf *out, const Dot *dots, size_t n, const uint32_t *remap)
{
	crdt_buf_put_varint(out, n);
	for (size_t k = 0; k < n; k++)
	{
		crdt_buf_put_varint(out, remap != NULL ? remap[dots[k].replica] : dots[k].replica);
		crdt_buf_put_varint(out, dots[k].counter);
	}
}

bool
crdt_dots_find_twice(Dot *dots, size_t n, Dot *twice)
{
	if (n > 1)
		qsort(dots, n, sizeof(Dot), dotted_compare_dots);
	for (size_t k = 1; k < n; k++)
		if (dotted_compare_dots(&dots[k - 1], &dots[k]) == 0)
		{
			*twice = dots[k];
			return true;
		}
	return false;
}

/* ------------------------------------------------------------- context */

void
crdt_context_init(Context *c, const CrdtAllocator *alloc)
{
	c->n = 0;
	c->span = 0;
	crdt_bufs_init(alloc, &c->ids, &c->id_at, &c->first, &c->ranges, NULL);
	crdt_buf_put(&c->id_at, &c->span, sizeof(size_t));
	crdt_buf_put(&c->first, &c->span, sizeof(size_t));
}

void
crdt_context_free(Context *c)
{
	crdt_bufs_free(&c->ids, &c->id_at, &c->first, &c->ranges, NULL);
}

/* Ends replica id, whose ranges are the ones appended since the last. */
static void
context_end_replica(Context *c, const uint8_t *id, size_t len)
{
	size_t		at;

	crdt_buf_put(&c->ids, id, len);
	at = c->ids.len;
	crdt_buf_put(&c->id_at, &at, sizeof(at));
	at = c->ranges.len / sizeof(Range);
	crdt_buf_put(&c->first, &at, sizeof(at));
	c->n++;
}

void
crdt_context_add(Context *c, const uint8_t *id, size_t len, const Range *r, size_t nr)
{
	crdt_buf_put(&c->ranges, r, nr * sizeof(Range));
	context_end_replica(c, id, len);
}

CrdtStatus
crdt_context_decode(Context *c, const uint8_t *bytes, size_t len, size_t offset, CrdtError *err)
{
	CrdtKeyReader r;
	const uint8_t *id;
	size_t		id_len;
	int			rc;

	crdt_keys_reader_init(&r, CRDT_KEYS_FRONT_CODED, bytes, len, offset);
	while ((rc = crdt_keys_reader_next(&r, &id, &id_len, err)) > 0)
	{
		long		at = (long) (offset + (size_t) (r.pos - bytes));
		uint64_t	nranges;
		Range		range = {0, 0};
		const char *problem = crdt_replica_id_check(id, id_len);

		if (problem != NULL)
			return crdt_fail(err, CRDT_ERR_BINARY, at, "context replica id %s", problem);
		if (!dotted_read_count(&r.pos, r.end, &nranges))
			return dotted_malformed(err, at, "malformed context ranges");
		for (uint64_t k = 0; k < nranges; k++)
		{
			int			bad = crdt_range_decode(&r.pos, r.end, k, range.hi, &range);

			if (bad)
				return dotted_malformed(err, at, bad == 1 ? "malformed context range"
										: "context counter exceeds the bigint range");
			crdt_buf_put(&c->ranges, &range, sizeof(range));
		}
		context_end_replica(c, id, id_len);
		if (crdt_context_failed(c))
			return crdt_nomem(err);
	}
	if (rc < 0)
		return err->status;
	c->span = (size_t) (r.pos - bytes);
	return CRDT_OK;
}

bool
crdt_context_contains(const Context *c, uint32_t replica, uint64_t counter)
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

void
crdt_context_write(const Context *c, CrdtBuf *out)
{
	CrdtKeyWriter w;

	crdt_keys_writer_init(&w, CRDT_KEYS_FRONT_CODED, out);
	for (size_t i = 0; i < c->n; i++)
	{
		crdt_keys_writer_add(&w, CTX_ID(c, i), CTX_ID_LEN(c, i));
		crdt_ranges_write(out, CTX_RANGES_OF(c, i), CTX_NRANGES(c, i));
	}
	crdt_keys_writer_finish(&w);
}

/* ------------------------------------------------------------- reading */

CrdtStatus
crdt_dotted_reader_open(DottedReader *r, CrdtDottedKind kind, CrdtSlice value,
						const CrdtAllocator *alloc, CrdtError *err)
{
	CrdtStatus	st;

	r->kind = kind;
	r->alloc = alloc;
	r->remap = NULL;
	r->check_keys = false;
	crdt_context_init(&r->context, alloc);
	crdt_buf_init(&r->dots, alloc, 0);
	r->keys = alloc->alloc(alloc->ctx, sizeof(CrdtKeyReader));
	if (r->keys == NULL)
		return crdt_nomem(err);
	if ((st = crdt_check_version(value, err)) != CRDT_OK ||
		(st = crdt_context_decode(&r->context, value.data + 1, value.len - 1, 1, err)) != CRDT_OK)
		return st;
	crdt_keys_reader_init(r->keys, dotted_key_style(kind), value.data + 1 + r->context.span,
						  value.len - 1 - r->context.span, 1 + r->context.span);
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

int
crdt_dotted_reader_next(DottedReader *r, const uint8_t **key, size_t *len, CrdtError *err)
{
	int			rc = crdt_keys_reader_next(r->keys, key, len, err);

	if (rc > 0 &&
		((r->check_keys && check_key(r->kind, *key, *len, err) != CRDT_OK) ||
		 crdt_dots_read(&r->keys->pos, r->keys->end, r->context.n, r->remap, &r->dots,
						err) != CRDT_OK))
		return -1;
	return rc;
}

void
crdt_dotted_reader_close(DottedReader *r)
{
	crdt_context_free(&r->context);
	crdt_buf_free(&r->dots);
	if (r->keys != NULL)
		r->alloc->release(r->alloc->ctx, r->keys);
}

/* The checks validation adds to reading: dots in the context, nothing after the keys. */
static CrdtStatus
check_dots_seen(const DottedReader *r, CrdtError *err)
{
	const Dot  *d = dotted_reader_dots(r);

	for (size_t k = 0; k < dotted_reader_ndots(r); k++)
		if (!crdt_context_contains(&r->context, d[k].replica, d[k].counter))
			return dotted_malformed(err, -1, "a dot lies outside the context");
	return CRDT_OK;
}

static CrdtStatus
check_read_to_end(const DottedReader *r, CrdtSlice value, CrdtError *err)
{
	size_t		left = (size_t) (r->keys->end - r->keys->pos);

	if (left != 0)
		return crdt_fail(err, CRDT_ERR_BINARY, (long) (value.len - left),
						 "unexpected trailing bytes (%zu)", left);
	return CRDT_OK;
}

CrdtStatus
crdt_dotted_validate(CrdtDottedKind kind, CrdtSlice value, CrdtError *err)
{
	const CrdtAllocator *alloc = crdt_default_allocator();
	DottedReader r;
	CrdtBuf		all;			/* Dot[] of every key */
	const uint8_t *key;
	size_t		len;
	Dot			twice;
	CrdtStatus	st;
	int			rc = 0;

	crdt_buf_init(&all, alloc, 0);
	st = crdt_dotted_reader_open(&r, kind, value, alloc, err);
	r.check_keys = true;
	while (st == CRDT_OK && (rc = crdt_dotted_reader_next(&r, &key, &len, err)) > 0)
	{
		st = check_dots_seen(&r, err);
		crdt_buf_put(&all, r.dots.data, r.dots.len);
	}
	if (st == CRDT_OK && rc < 0)
		st = err->status;
	if (st == CRDT_OK)
		st = check_read_to_end(&r, value, err);
	if (st == CRDT_OK && all.failed)
		st = crdt_nomem(err);
	if (st == CRDT_OK && crdt_dots_find_twice((Dot *) all.data, all.len / sizeof(Dot), &twice))
		st = dotted_malformed(err, -1, "the same dot belongs to two keys");
	crdt_dotted_reader_close(&r);
	crdt_buf_free(&all);
	return st;
}

void
crdt_dotted_write_empty(CrdtDottedKind kind, CrdtBuf *out)
{
	(void) kind;
	crdt_write_empty_value(out, 2);	/* no context, no keys */
}

/* ------------------------------------------------------- keys, compare */

/*
 * Steps over a payload that is a list of varint pairs (a replica's
 * ranges, a key's dots); list and item name them in errors.
 */
static CrdtStatus
skip_pairs(const uint8_t **pos, const uint8_t *end, const char *list, const char *item,
		   CrdtError *err)
{
	uint64_t	n;

	if (!dotted_read_count(pos, end, &n))
		return dotted_malformed(err, -1, list);
	for (uint64_t k = 0; k < 2 * n; k++)
	{
		uint64_t	ignored;

		if (crdt_varint_decode(pos, end, &ignored) != CRDT_VARINT_OK)
			return dotted_malformed(err, -1, item);
	}
	return CRDT_OK;
}

static CrdtStatus
skip_ranges(const uint8_t **pos, const uint8_t *end, CrdtError *err)
{
	return skip_pairs(pos, end, "malformed context ranges", "malformed context range", err);
}

/* The key iterator steps over the context (ids and their ranges) without decoding it. */
CrdtStatus
crdt_dotted_keys_init(CrdtDottedKeys *it, CrdtDottedKind kind, CrdtSlice value, CrdtError *err)
{
	CrdtStatus	st;
	size_t		span = 0;

	it->kind = kind;
	if ((st = crdt_check_version(value, err)) != CRDT_OK ||
		(st = crdt_keys_span(CRDT_KEYS_FRONT_CODED, value.data + 1, value.len - 1, 1,
							 skip_ranges, &span, err)) != CRDT_OK)
		return st;
	crdt_keys_reader_init(&it->keys, dotted_key_style(kind), value.data + 1 + span,
						  value.len - 1 - span, 1 + span);
	return CRDT_OK;
}

int
crdt_dotted_keys_next(CrdtDottedKeys *it, const uint8_t **key, size_t *len, CrdtError *err)
{
	int			rc = crdt_keys_reader_next(&it->keys, key, len, err);

	if (rc > 0 && skip_pairs(&it->keys.pos, it->keys.end, "malformed dot list", "malformed dot",
							 err) != CRDT_OK)
		return -1;
	return rc;
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


CRDT_DEFINE_RETIRABLE_TYPE(orset, dotted, CRDT_ORSET, 0);
CRDT_DEFINE_RETIRABLE_TYPE(mvreg, dotted, CRDT_MVREG, 0);
