/*
 * dotted_compact.c — compaction of orset and mvreg values, the dotted
 * part of crdt_retire_compact (crdt_dotted_compact in crdt_retire.h,
 * docs/RETIREMENT.md "Compacting the dots").
 *
 * The members R1 < ... < Rm (by bytes) of a group ~N are renamed in one
 * value: with c_i the value's context counter of Ri (its final counter,
 * the contexts contiguous from 1) and base_i = c_1 + ... + c_(i-1), every
 * dot (Ri, k) becomes (~N, base_i + k), and the context entries of the
 * members become the one entry ~N: 1..(c_1 + ... + c_m).  Every copy
 * holding the final counters computes the same renaming, so renamed dots
 * meet renamed dots; a copy whose counters are smaller is told apart by
 * its smaller total (contexts only grow).
 */
#include "dotted_internal.h"

#include <stdlib.h>
#include <string.h>

static CrdtDottedKind
shape_kind(const CrdtRetireShape *shape)
{
	return shape == &crdt_shape_orset ? CRDT_ORSET : CRDT_MVREG;
}

/* The counter c when replica i's context is 1..c, else 0 (not contiguous). */
static uint64_t
contiguous_top(const Context *c, size_t i)
{
	const Range *r = CTX_RANGES_OF(c, i);

	return CTX_NRANGES(c, i) == 1 && r[0].lo == 1 ? r[0].hi : 0;
}

/*
 * What the context says: per context replica its member index (or -1),
 * the members' counters and bases, the group's total, whether everything
 * is contiguous.
 */
typedef struct Plan
{
	CrdtBuf		member;			/* long[context n] */
	CrdtBuf		base;			/* uint64_t[members] */
	long		group_at;		/* context index of the group, or -1 */
	uint64_t	group_total;	/* its counter, when contiguous */
	uint64_t	members_total;	/* the sum of the members' counters */
	bool		named;			/* a member has a context entry */
	bool		ready;
} Plan;

static CrdtStatus
plan_make(Plan *p, const Context *c, const CrdtSlice *sorted, size_t n, const uint8_t *group,
		  size_t group_len, CrdtError *err)
{
	uint64_t   *count;

	p->ready = true;
	for (size_t m = 0; m < n; m++)
		crdt_buf_put(&p->base, &p->members_total, sizeof(uint64_t));
	if (crdt_bufs_failed(&p->base, &p->member, NULL))
		return crdt_nomem(err);
	count = (uint64_t *) p->base.data;
	for (size_t i = 0; i < c->n; i++)
	{
		long		m = crdt_slice_index(sorted, n, CTX_ID(c, i), CTX_ID_LEN(c, i));
		uint64_t	top = contiguous_top(c, i);

		crdt_buf_put(&p->member, &m, sizeof(m));
		if (p->member.failed)
			return crdt_nomem(err);
		if (m >= 0)
		{
			p->named = true;
			p->ready = p->ready && top > 0;
			count[m] = top;
		}
		else if (crdt_bytes_cmp(CTX_ID(c, i), CTX_ID_LEN(c, i), group, group_len) == 0)
		{
			p->group_at = (long) i;
			p->group_total = top;
			p->ready = p->ready && top > 0;
		}
	}
	/* a value holding the group and a member (an unlifted merge) cannot be renamed */
	if (p->named && p->group_at >= 0)
		p->ready = false;
	/* counts become bases: the sum of the earlier members' counts */
	for (size_t m = 0; m < n && p->ready; m++)
	{
		uint64_t	cm = count[m];

		if (cm > (uint64_t) INT64_MAX - p->members_total)
			return crdt_fail(err, CRDT_ERR_OVERFLOW, -1, "compacted dot counter out of range");
		count[m] = p->members_total;
		p->members_total += cm;
	}
	return CRDT_OK;
}

/* The body with the members renamed into group (plan p, ready and named). */
static CrdtStatus
rename_body(DottedReader *r, const Plan *p, const uint8_t *group, size_t group_len,
			CrdtBuf *out, CrdtError *err)
{
	const Context *c = &r->context;
	const long *member = (const long *) p->member.data;
	const uint64_t *base = (const uint64_t *) p->base.data;
	Builder		b;
	CrdtBuf		names;
	size_t		gname;
	const uint8_t *key;
	size_t		len;
	int			rc;
	CrdtStatus	st = CRDT_OK;

	crdt_builder_init(&b, r->alloc);
	crdt_buf_init(&names, r->alloc, 0);
	gname = crdt_builder_name(&b, group, group_len, NAME_CONTEXT_RANGE, -1);
	crdt_builder_range(&b, gname, 1, p->members_total);
	for (size_t i = 0; i < c->n; i++)
	{
		size_t		name = gname;

		if (member[i] < 0)
		{
			name = crdt_builder_name(&b, CTX_ID(c, i), CTX_ID_LEN(c, i), NAME_CONTEXT_RANGE, -1);
			for (size_t k = 0; k < CTX_NRANGES(c, i); k++)
				crdt_builder_range(&b, name, CTX_RANGES_OF(c, i)[k].lo, CTX_RANGES_OF(c, i)[k].hi);
		}
		crdt_buf_put(&names, &name, sizeof(name));
	}
	while ((rc = crdt_dotted_reader_next(r, &key, &len, err)) > 0)
	{
		size_t		kn = crdt_builder_key(&b, key, len, -1);
		const Dot  *d = dotted_reader_dots(r);

		for (size_t k = 0; k < dotted_reader_ndots(r); k++)
		{
			long		m = member[d[k].replica];

			crdt_builder_dot(&b, kn, ((size_t *) names.data)[d[k].replica],
							 m < 0 ? d[k].counter : base[m] + d[k].counter, -1);
		}
	}
	if (rc < 0)
		st = err->status;
	else if ((st = crdt_buf_status(&names, err)) == CRDT_OK)
		st = crdt_builder_write(&b, r->kind, false, out, err);
	crdt_buf_free(&names);
	crdt_builder_free(&b);
	return st;
}

CrdtStatus
crdt_dotted_compact(const CrdtRetireShape *shape, CrdtSlice value, CrdtSlice markers,
					CrdtSlice body, const uint8_t *group, size_t group_len, const CrdtSlice *ids,
					size_t n, CrdtBuf *out, CrdtCompaction *res, CrdtError *err)
{
	CrdtSlice  *sorted = NULL;
	CrdtBuf		sorted_buf;
	CrdtBuf		renamed;
	DottedReader r;
	Plan		p;
	bool		marked = false;
	CrdtStatus	st;

	crdt_bufs_init(out->alloc, &sorted_buf, &renamed, &p.member, &p.base, NULL);
	p.group_at = -1;
	p.group_total = p.members_total = 0;
	p.named = p.ready = false;
	crdt_buf_put(&sorted_buf, ids, n * sizeof(CrdtSlice));
	if ((st = crdt_buf_status(&sorted_buf, err)) != CRDT_OK)
		goto done;
	sorted = (CrdtSlice *) sorted_buf.data;
	if (n > 1)
		qsort(sorted, n, sizeof(CrdtSlice), crdt_slice_cmp);
	st = crdt_dotted_reader_open(&r, shape_kind(shape), body, out->alloc, err);
	if (st == CRDT_OK)
		st = plan_make(&p, &r.context, sorted, n, group, group_len, err);
	res->ready = st == CRDT_OK && p.ready;
	res->named = st == CRDT_OK && p.named;
	res->total = p.named ? p.members_total : p.group_total;
	if (st == CRDT_OK && res->ready && p.named)
	{
		st = rename_body(&r, &p, group, group_len, &renamed, err);
		body = (CrdtSlice) {renamed.data, renamed.len};
	}
	crdt_dotted_reader_close(&r);
	if (st != CRDT_OK)
		goto done;
	if (res->ready)
	{
		CrdtBuf		regrouped;

		crdt_buf_init(&regrouped, out->alloc, 0);
		st = crdt_retire_regroup(shape, markers, group, group_len, sorted, n, body, &regrouped,
								 &marked, err);
		res->changed = st == CRDT_OK && (p.named || marked);
		if (res->changed)
			crdt_buf_put(out, regrouped.data, regrouped.len);
		crdt_buf_free(&regrouped);
		if (st != CRDT_OK)
			goto done;
	}
	/* not ready, or naming none of ids: the value as it is */
	if (!res->changed)
		crdt_buf_put(out, value.data, value.len);
	st = crdt_buf_status(out, err);
done:
	crdt_bufs_free(&sorted_buf, &renamed, &p.member, &p.base, NULL);
	return st;
}

CrdtStatus
crdt_dotted_names_any(const CrdtRetireShape *shape, CrdtSlice body, const CrdtSlice *ids,
					  size_t n, bool *any, CrdtError *err)
{
	Context		c;
	CrdtStatus	st;

	*any = false;
	crdt_context_init(&c, crdt_default_allocator());
	if ((st = crdt_check_version(body, err)) == CRDT_OK &&
		(st = crdt_context_decode(&c, body.data + 1, body.len - 1, 1, err)) == CRDT_OK)
		for (size_t i = 0; i < c.n && !*any; i++)
			*any = crdt_slice_index(ids, n, CTX_ID(&c, i), CTX_ID_LEN(&c, i)) >= 0;
	crdt_context_free(&c);
	(void) shape;
	return st;
}
