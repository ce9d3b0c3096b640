/*
 * dotted_merge.c — merge and delta of two orset or mvreg values.
 *
 * Both decode the two contexts, build their union (with each side's
 * replicas translated into it), then walk the keys of both values in
 * order, applying the merge rule to each key's dots.
 */
#include "dotted_internal.h"

#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------- union of contexts */

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

static void
union_free(Union *u)
{
	crdt_context_free(&u->merged);
	crdt_bufs_free(&u->from_a, &u->from_b, &u->in_a, &u->in_b, NULL);
}

/* Appends the ranges of a and b (each sorted) to out, sorted by lo. */
static void
merge_range_lists(CrdtBuf *out, const Range *ra, size_t na, const Range *rb, size_t nb)
{
	size_t		x = 0;
	size_t		y = 0;

	while (x < na || y < nb)
	{
		if (y >= nb || (x < na && ra[x].lo <= rb[y].lo))
			crdt_buf_put(out, &ra[x++], sizeof(Range));
		else
			crdt_buf_put(out, &rb[y++], sizeof(Range));
	}
}

static CrdtStatus
union_build(Union *u, const Context *a, const Context *b, const CrdtAllocator *alloc,
			CrdtError *err)
{
	size_t		i = 0;
	size_t		j = 0;
	CrdtBuf		scratch;

	crdt_context_init(&u->merged, alloc);
	crdt_bufs_init(alloc, &u->from_a, &u->from_b, &u->in_a, &u->in_b, &scratch, NULL);
	while (i < a->n || j < b->n)
	{
		int			c = i >= a->n ? 1 : j >= b->n ? -1
			: crdt_bytes_cmp(CTX_ID(a, i), CTX_ID_LEN(a, i), CTX_ID(b, j), CTX_ID_LEN(b, j));
		uint32_t	m = (uint32_t) u->merged.n;
		int64_t		ia = c <= 0 ? (int64_t) i : -1;
		int64_t		ib = c >= 0 ? (int64_t) j : -1;

		/* both range lists are sorted: merge them by lo, then coalesce */
		scratch.len = 0;
		merge_range_lists(&scratch, ia < 0 ? NULL : CTX_RANGES_OF(a, i), ia < 0 ? 0 : CTX_NRANGES(a, i),
						  ib < 0 ? NULL : CTX_RANGES_OF(b, j), ib < 0 ? 0 : CTX_NRANGES(b, j));
		crdt_ranges_coalesce(&u->merged.ranges, (const Range *) scratch.data,
							 scratch.len / sizeof(Range));
		crdt_context_add(&u->merged, c <= 0 ? CTX_ID(a, i) : CTX_ID(b, j),
						 c <= 0 ? CTX_ID_LEN(a, i) : CTX_ID_LEN(b, j), NULL, 0);
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
	if (crdt_context_failed(&u->merged) ||
		crdt_bufs_failed(&u->from_a, &u->from_b, &u->in_a, &u->in_b, &scratch, NULL))
		return crdt_nomem(err);
	return CRDT_OK;
}

/* Does side's context (seen through the union) contain a merged-index dot? */
static bool
side_contains(const Context *side, const CrdtBuf *in_side, Dot d)
{
	int64_t		i = I64(*in_side)[d.replica];

	return i >= 0 && crdt_context_contains(side, (uint32_t) i, d.counter);
}

/* ------------------------------------------------------ two values' keys */

/*
 * Walks the keys of two values together.  For each key, gives visit its
 * dots on each side (merged indexes); absent sides have no dots.
 */
typedef CrdtStatus (*PairVisit) (void *ctx, const uint8_t *key, size_t len,
								 const Dot *da, size_t na, const Dot *db, size_t nb,
								 CrdtError *err);

typedef struct TwoValues
{
	DottedReader a;
	DottedReader b;
	Union		u;
} TwoValues;

static void
two_free(TwoValues *t)
{
	crdt_dotted_reader_close(&t->a);
	crdt_dotted_reader_close(&t->b);
	union_free(&t->u);
}

/* Opens both values; two_free works whatever this returns. */
static CrdtStatus
two_open(TwoValues *t, CrdtDottedKind kind, CrdtSlice a, CrdtSlice b,
		 const CrdtAllocator *alloc, CrdtError *err)
{
	CrdtStatus	st;

	/* zeroed readers and buffers are safe to free */
	memset(t, 0, sizeof(*t));
	if ((st = crdt_dotted_reader_open(&t->a, kind, a, alloc, err)) != CRDT_OK ||
		(st = crdt_dotted_reader_open(&t->b, kind, b, alloc, err)) != CRDT_OK ||
		(st = union_build(&t->u, &t->a.context, &t->b.context, alloc, err)) != CRDT_OK)
		return st;
	t->a.remap = U32(t->u.from_a);
	t->b.remap = U32(t->u.from_b);
	return CRDT_OK;
}

static CrdtStatus
two_walk(TwoValues *t, PairVisit visit, void *ctx, CrdtError *err)
{
	const uint8_t *key_a = NULL;
	const uint8_t *key_b = NULL;
	size_t		len_a = 0;
	size_t		len_b = 0;
	int			has_a;
	int			has_b = 0;

	if ((has_a = crdt_dotted_reader_next(&t->a, &key_a, &len_a, err)) < 0 ||
		(has_b = crdt_dotted_reader_next(&t->b, &key_b, &len_b, err)) < 0)
		return err->status;
	while (has_a || has_b)
	{
		int			c = !has_a ? 1 : !has_b ? -1 : crdt_bytes_cmp(key_a, len_a, key_b, len_b);
		CrdtStatus	st;

		st = visit(ctx, c <= 0 ? key_a : key_b, c <= 0 ? len_a : len_b,
				   dotted_reader_dots(&t->a), c <= 0 ? dotted_reader_ndots(&t->a) : 0,
				   dotted_reader_dots(&t->b), c >= 0 ? dotted_reader_ndots(&t->b) : 0, err);
		if (st != CRDT_OK)
			return st;
		if ((c <= 0 && (has_a = crdt_dotted_reader_next(&t->a, &key_a, &len_a, err)) < 0) ||
			(c >= 0 && (has_b = crdt_dotted_reader_next(&t->b, &key_b, &len_b, err)) < 0))
			return err->status;
	}
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
		int			c = x >= na ? 1 : y >= nb ? -1 : dotted_compare_dots(&da[x], &db[y]);

		if (c == 0)
		{
			crdt_buf_put(kept, &da[x], sizeof(Dot));
			x++;
			y++;
		}
		else if (c < 0)
		{
			if (!side_contains(&t->b.context, &t->u.in_b, da[x]))
			{
				crdt_buf_put(kept, &da[x], sizeof(Dot));
				if (a_new != NULL)
					crdt_buf_put(a_new, &da[x], sizeof(Dot));
			}
			x++;
		}
		else
		{
			if (!side_contains(&t->a.context, &t->u.in_a, db[y]))
				crdt_buf_put(kept, &db[y], sizeof(Dot));
			else if (b_killed != NULL)
				crdt_buf_put(b_killed, &db[y], sizeof(Dot));
			y++;
		}
	}
	return kept->len / sizeof(Dot);
}

/* ----------------------------------------------------------------- merge */

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
		crdt_dots_write(m->out, (const Dot *) m->kept.data, n, NULL);
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
		crdt_context_write(&t.u.merged, out);
		crdt_keys_writer_init(m.w, dotted_key_style(kind), out);
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

/* ----------------------------------------------------------------- delta */

/*
 * Delta: one walk collects, per key, the dots of newer that merge(since,
 * newer) keeps and since lacks (fresh), and the dots of since that newer's
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
	Context		context;		/* the delta's */
	CrdtBuf		remap;			/* uint32[merged.n]: index in context, or UINT32_MAX */
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
		crdt_dots_write(&d->scratch, (const Dot *) d->fresh.data, d->fresh.len / sizeof(Dot), NULL);
	}
	return crdt_bufs_failed(&d->scratch, &d->killed, &d->fresh, NULL) ? crdt_nomem(err) : CRDT_OK;
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

DOTTED_ORDER2(compare_ranges, Range, lo, hi)

/*
 * The delta context, replica by replica in merged order: what newer has
 * seen and since has not, plus the killed dots (sorted here).
 */
static CrdtStatus
delta_context(DeltaCtx *d, const CrdtAllocator *alloc, CrdtError *err)
{
	const TwoValues *t = d->t;
	const Context *cn = &t->a.context;
	const Context *cs = &t->b.context;
	Dot		   *killed = (Dot *) d->killed.data;
	size_t		nkilled = d->killed.len / sizeof(Dot);
	size_t		k = 0;
	CrdtBuf		scratch;
	CrdtBuf		joined;

	crdt_bufs_init(alloc, &scratch, &joined, NULL);
	if (nkilled > 1)
		qsort(killed, nkilled, sizeof(Dot), dotted_compare_dots);
	for (uint32_t m = 0; m < t->u.merged.n; m++)
	{
		int64_t		in_new = I64(t->u.in_a)[m];
		int64_t		in_old = I64(t->u.in_b)[m];
		uint32_t	index = UINT32_MAX;
		size_t		start;

		scratch.len = 0;
		if (in_new >= 0 && in_old >= 0)
			range_difference(&scratch, CTX_RANGES_OF(cn, in_new), CTX_NRANGES(cn, in_new),
							 CTX_RANGES_OF(cs, in_old), CTX_NRANGES(cs, in_old));
		else if (in_new >= 0)
			crdt_buf_put(&scratch, CTX_RANGES_OF(cn, in_new), CTX_NRANGES(cn, in_new) * sizeof(Range));
		start = scratch.len;
		for (; k < nkilled && killed[k].replica == m; k++)
		{
			Range		point = {killed[k].counter, killed[k].counter};

			crdt_buf_put(&scratch, &point, sizeof(point));
		}
		if (scratch.len > 0)
		{
			/* ranges and killed points are each sorted: sort them together */
			if (start > 0 && scratch.len > start)
				qsort(scratch.data, scratch.len / sizeof(Range), sizeof(Range), compare_ranges);
			index = (uint32_t) d->context.n;
			joined.len = 0;
			crdt_ranges_coalesce(&joined, (const Range *) scratch.data, scratch.len / sizeof(Range));
			crdt_context_add(&d->context, CTX_ID(&t->u.merged, m), CTX_ID_LEN(&t->u.merged, m),
							 (const Range *) joined.data, joined.len / sizeof(Range));
		}
		crdt_buf_put(&d->remap, &index, sizeof(index));
	}
	crdt_bufs_free(&joined, &scratch, NULL);
	if (crdt_context_failed(&d->context) || crdt_bufs_failed(&d->remap, &scratch, &joined, NULL))
		return crdt_nomem(err);
	return CRDT_OK;
}

/* Copies the keys of the scratch list to out, their dots re-indexed into the delta context. */
static CrdtStatus
delta_write_keys(DeltaCtx *d, CrdtDottedKind kind, CrdtBuf *out, const CrdtAllocator *alloc,
				 CrdtError *err)
{
	CrdtKeyReader *r = alloc->alloc(alloc->ctx, sizeof(CrdtKeyReader));
	const uint8_t *key;
	size_t		len;
	int			rc;
	CrdtStatus	st = CRDT_OK;

	if (r == NULL)
		return crdt_nomem(err);
	crdt_keys_reader_init(r, dotted_key_style(kind), d->scratch.data, d->scratch.len, 0);
	crdt_keys_writer_init(d->w, dotted_key_style(kind), out);
	while ((rc = crdt_keys_reader_next(r, &key, &len, err)) > 0)
	{
		if ((st = crdt_dots_read(&r->pos, r->end, d->t->u.merged.n, NULL, &d->fresh,
								 err)) != CRDT_OK)
			break;
		crdt_keys_writer_add(d->w, key, len);
		crdt_dots_write(out, (const Dot *) d->fresh.data, d->fresh.len / sizeof(Dot),
						U32(d->remap));
	}
	alloc->release(alloc->ctx, r);
	if (rc < 0)
		st = err->status;
	if (st == CRDT_OK)
		crdt_keys_writer_finish(d->w);
	return st;
}

CrdtStatus
crdt_dotted_delta(CrdtDottedKind kind, CrdtSlice newer, CrdtSlice since, CrdtBuf *out,
				  CrdtError *err)
{
	const CrdtAllocator *alloc = out->alloc;
	TwoValues	t;
	DeltaCtx	d;
	CrdtStatus	st;

	memset(&t, 0, sizeof(t));
	memset(&d, 0, sizeof(d));
	d.t = &t;
	crdt_context_init(&d.context, alloc);
	crdt_bufs_init(alloc, &d.remap, &d.scratch, &d.kept, &d.fresh, &d.killed, NULL);
	d.w = alloc->alloc(alloc->ctx, sizeof(CrdtKeyWriter));
	st = d.w == NULL ? crdt_nomem(err) : two_open(&t, kind, newer, since, alloc, err);
	if (st == CRDT_OK)
	{
		crdt_keys_writer_init(d.w, dotted_key_style(kind), &d.scratch);
		if ((st = two_walk(&t, delta_visit, &d, err)) == CRDT_OK)
			crdt_keys_writer_finish(d.w);
	}
	if (st == CRDT_OK && (st = delta_context(&d, alloc, err)) == CRDT_OK)
	{
		/* version, context, keys re-indexed into it */
		crdt_buf_put_byte(out, CRDT_FORMAT_V1);
		crdt_context_write(&d.context, out);
		st = delta_write_keys(&d, kind, out, alloc, err);
	}
	if (st == CRDT_OK && out->failed)
		st = crdt_nomem(err);
	two_free(&t);
	if (d.w != NULL)
		alloc->release(alloc->ctx, d.w);
	crdt_context_free(&d.context);
	crdt_bufs_free(&d.remap, &d.scratch, &d.kept, &d.fresh, &d.killed, NULL);
	return st;
}
