/*
 * sequence_ops.c — what rtext and rlist do: merge (one sort of all
 * elements), delta, reading the document and editing it (Fugue's insert
 * rule, docs/SEQUENCES.md).
 */
#include "sequence_internal.h"
#include "crdt_type_def.h"

#include <stdlib.h>

CRDT_DEFINE_TYPE(rtext, seq, CRDT_RTEXT);
CRDT_DEFINE_TYPE(rlist, seq, CRDT_RLIST);

const char *
crdt_seq_kind_name(CrdtSeqKind kind)
{
	return kind == CRDT_RTEXT ? "rtext" : "rlist";
}

void
crdt_seq_write_empty(CrdtSeqKind kind, CrdtBuf *out)
{
	(void) kind;
	crdt_write_empty_value(out, 1);
}

CrdtStatus
crdt_seq_validate(CrdtSeqKind kind, CrdtSlice value, CrdtError *err)
{
	SeqDoc		d;
	CrdtStatus	st;

	seq_doc_init(&d, kind, crdt_default_allocator());
	st = seq_decode(kind, value, &d, err);
	seq_doc_free(&d);
	return st;
}

CrdtStatus
crdt_seq_compare(CrdtSeqKind kind, CrdtSlice a, CrdtSlice b, int *result, CrdtError *err)
{
	int			c = crdt_slice_cmp(&a, &b);

	(void) kind;
	(void) err;
	*result = (c > 0) - (c < 0);
	return CRDT_OK;
}

/* ----------------------------------------------------------------- merge */

/* m's replica table: every replica of the n docs, sorted, once each */
static void
union_replicas(SeqDoc *m, const SeqDoc *docs, size_t n)
{
	size_t		kept = 0;
	CrdtSlice  *r;

	for (size_t k = 0; k < n; k++)
		crdt_buf_put(&m->replicas, docs[k].replicas.data, docs[k].replicas.len);
	if (m->replicas.failed)
		return;
	r = seq_replicas(m);
	qsort(r, seq_nreplicas(m), sizeof(CrdtSlice), crdt_slice_cmp);
	for (size_t i = 0; i < seq_nreplicas(m); i++)
		if (kept == 0 || crdt_slice_cmp(&r[kept - 1], &r[i]) != 0)
			r[kept++] = r[i];
	m->replicas.len = kept * sizeof(CrdtSlice);
}

/* joins equal ids of m's sorted nodes; two different elements of one id are refused */
static CrdtStatus
join_equal_ids(SeqDoc *m, CrdtError *err)
{
	SeqNode    *nodes = seq_nodes(m);
	size_t		w = 0;

	for (size_t i = 0; i < seq_count(m); i++)
	{
		SeqNode    *a = w > 0 ? &nodes[w - 1] : NULL;
		const SeqNode *b = &nodes[i];

		if (a == NULL || a->replica != b->replica || a->counter != b->counter)
		{
			nodes[w++] = *b;
			continue;
		}
		if (a->p_replica != b->p_replica || a->p_counter != b->p_counter || a->side != b->side ||
			(!a->deleted && !b->deleted &&
			 (a->len != b->len || memcmp(a->data, b->data, a->len) != 0)))
		{
			char		id[CRDT_REPLICA_ID_MAX * 4 + 8];
			const CrdtSlice *r = &seq_replicas(m)[a->replica];

			crdt_describe_bytes(id, sizeof(id), r->data, r->len);
			return crdt_fail(err, CRDT_ERR_ARGUMENT, -1,
							 "element (%s, %u) differs between the states: replica id %s was used by two writers",
							 id, (unsigned) a->counter, id);
		}
		if (b->deleted)
		{
			a->deleted = 1;
			a->data = NULL;
			a->len = 0;
		}
	}
	m->nodes.len = w * sizeof(SeqNode);
	return CRDT_OK;
}

static bool
id_before(const SeqNode *a, const SeqNode *b)
{
	return a->replica < b->replica || (a->replica == b->replica && a->counter < b->counter);
}

/* out := the two runs sorted by id, joined (equal ids side by side) */
static void
merge_two(const SeqNode *a, size_t na, const SeqNode *b, size_t nb, SeqNode *out)
{
	size_t		i = 0;
	size_t		j = 0;

	while (i < na && j < nb)
		*out++ = id_before(&b[j], &a[i]) ? b[j++] : a[i++];
	memcpy(out, a + i, (na - i) * sizeof(SeqNode));
	memcpy(out + (na - i), b + j, (nb - j) * sizeof(SeqNode));
}

/*
 * Sorts m's nodes, made of k runs already sorted by id (bounds[0..k] are
 * their starts): adjacent runs joined pairwise, round after round,
 * O(N log k).
 */
static CrdtStatus
merge_runs(SeqDoc *m, size_t *bounds, size_t k, CrdtError *err)
{
	size_t		n = seq_count(m);
	SeqNode    *src = seq_nodes(m);
	SeqNode    *dst = m->alloc->alloc(m->alloc->ctx, (n + 1) * sizeof(SeqNode));
	SeqNode    *spare = dst;

	if (dst == NULL)
		return crdt_nomem(err);
	while (k > 1)
	{
		size_t		runs = 0;
		SeqNode    *t;

		for (size_t r = 0; r < k; r += 2)
		{
			size_t		mid = bounds[r + 1];
			size_t		end = r + 2 <= k ? bounds[r + 2] : mid;

			merge_two(src + bounds[r], mid - bounds[r], src + mid, end - mid, dst + bounds[r]);
			bounds[runs++] = bounds[r];
		}
		bounds[runs] = n;
		k = runs;
		t = src;
		src = dst;
		dst = t;
	}
	if (src != seq_nodes(m))
		memcpy(seq_nodes(m), src, n * sizeof(SeqNode));
	m->alloc->release(m->alloc->ctx, spare);
	return CRDT_OK;
}

/* renumbers doc's nodes into m's replica table (which keeps their order) */
static CrdtStatus
renumber(const SeqDoc *m, SeqDoc *doc, CrdtError *err)
{
	const CrdtSlice *r = seq_replicas(doc);
	size_t		nr = seq_nreplicas(doc);
	uint32_t   *map = m->alloc->alloc(m->alloc->ctx, (nr + 1) * sizeof(uint32_t));

	if (map == NULL)
		return crdt_nomem(err);
	for (size_t i = 0; i < nr; i++)
		map[i] = (uint32_t) seq_find_replica(m, r[i].data, r[i].len);
	for (size_t i = 0; i < seq_count(doc); i++)
	{
		SeqNode    *node = &seq_nodes(doc)[i];

		node->replica = map[node->replica];
		if (node->p_replica != SEQ_ROOT)
			node->p_replica = map[node->p_replica];
	}
	m->alloc->release(m->alloc->ctx, map);
	return CRDT_OK;
}

/* m := the union of the n decoded docs (whose nodes it renumbers and frees) */
static CrdtStatus
union_docs(SeqDoc *m, SeqDoc *docs, size_t n, CrdtError *err)
{
	size_t	   *bounds = m->alloc->alloc(m->alloc->ctx, (n + 2) * sizeof(size_t));
	size_t		total = 0;
	CrdtStatus	st = CRDT_OK;

	if (bounds == NULL)
		return crdt_nomem(err);
	union_replicas(m, docs, n);
	for (size_t k = 0; k < n && st == CRDT_OK; k++)
	{
		bounds[k] = total;
		total += seq_count(&docs[k]);
		st = renumber(m, &docs[k], err);
	}
	bounds[n] = total;
	if (st == CRDT_OK && total > 4 * (size_t) CRDT_SEQ_MAX_ELEMENTS)
		st = crdt_fail(err, CRDT_ERR_TOO_LARGE, -1, "merging more than %d elements at once",
					   4 * CRDT_SEQ_MAX_ELEMENTS);
	if (st == CRDT_OK && (m->replicas.failed || !crdt_buf_reserve(&m->nodes, total * sizeof(SeqNode))))
		st = crdt_nomem(err);
	if (st == CRDT_OK)
	{
		/* two inputs (a binary merge): one pass straight into m */
		if (n == 2)
			merge_two(seq_nodes(&docs[0]), seq_count(&docs[0]), seq_nodes(&docs[1]),
					  seq_count(&docs[1]), seq_nodes(m));
		else
			for (size_t k = 0; k < n; k++)
				memcpy(seq_nodes(m) + bounds[k], seq_nodes(&docs[k]), docs[k].nodes.len);
		m->nodes.len = total * sizeof(SeqNode);
		for (size_t k = 0; k < n; k++)
			crdt_buf_free(&docs[k].nodes);
		if (n != 2)
			st = merge_runs(m, bounds, n, err);
	}
	m->alloc->release(m->alloc->ctx, bounds);
	if (st != CRDT_OK || join_equal_ids(m, err) != CRDT_OK)
		return err->status;
	if (seq_count(m) > CRDT_SEQ_MAX_ELEMENTS)
		return crdt_fail(err, CRDT_ERR_TOO_LARGE, -1,
						 "merged sequence has more than %d elements", CRDT_SEQ_MAX_ELEMENTS);
	return CRDT_OK;
}

CrdtStatus
crdt_seq_merge_many(CrdtSeqKind kind, const CrdtSlice *values, size_t n, CrdtBuf *out,
					CrdtError *err)
{
	const CrdtAllocator *alloc = crdt_default_allocator();
	SeqDoc	   *docs = alloc->alloc(alloc->ctx, (n + 1) * sizeof(SeqDoc));
	SeqDoc		m;
	size_t		decoded = 0;
	CrdtStatus	st = CRDT_OK;

	if (docs == NULL)
		return crdt_nomem(err);
	seq_doc_init(&m, kind, alloc);
	for (; decoded < n && st == CRDT_OK; decoded++)
	{
		seq_doc_init(&docs[decoded], kind, alloc);
		st = seq_decode(kind, values[decoded], &docs[decoded], err);
	}
	if (st == CRDT_OK && (st = union_docs(&m, docs, n, err)) == CRDT_OK)
		st = seq_encode(&m, out, err);
	for (size_t k = 0; k < decoded; k++)
		seq_doc_free(&docs[k]);
	seq_doc_free(&m);
	alloc->release(alloc->ctx, docs);
	return st;
}

CrdtStatus
crdt_seq_merge(CrdtSeqKind kind, CrdtSlice a, CrdtSlice b, CrdtBuf *out, CrdtError *err)
{
	CrdtSlice	both[2] = {a, b};

	return crdt_seq_merge_many(kind, both, 2, out, err);
}

/* ----------------------------------------------------------------- delta */

/*
 * The elements of a that b lacks, or has live where a has them deleted
 * (those as tombstones): nothing else.  A new element whose parent b has
 * names it without carrying it (a detached element in the delta, placed
 * again when merged into b).
 */
static CrdtStatus
delta_of(const SeqDoc *a, const SeqDoc *b, SeqDoc *sub, CrdtBuf *out, CrdtError *err)
{
	const SeqNode *nodes = seq_nodes(a);
	size_t		n = seq_count(a);
	uint8_t    *mark = a->alloc->alloc(a->alloc->ctx, n + 1);
	CrdtStatus	st;

	if (mark == NULL)
		return crdt_nomem(err);
	for (size_t i = 0; i < n; i++)
	{
		const CrdtSlice *r = &seq_replicas(a)[nodes[i].replica];
		long		br = seq_find_replica(b, r->data, r->len);
		long		j = br < 0 ? -1 : seq_find(b, (uint32_t) br, nodes[i].counter);

		mark[i] = j < 0 || (nodes[i].deleted && !seq_nodes(b)[j].deleted);
	}
	crdt_buf_put(&sub->replicas, a->replicas.data, a->replicas.len);
	for (size_t i = 0; i < n; i++)
		if (mark[i])
			seq_push(sub, &nodes[i]);
	a->alloc->release(a->alloc->ctx, mark);
	if (sub->nodes.failed || sub->replicas.failed)
		return crdt_nomem(err);
	if ((st = seq_compact_replicas(sub, err)) != CRDT_OK)
		return st;
	return seq_encode(sub, out, err);
}

CrdtStatus
crdt_seq_delta(CrdtSeqKind kind, CrdtSlice newer, CrdtSlice since, CrdtBuf *out, CrdtError *err)
{
	SeqDoc		doc[3];			/* newer, since, the delta */
	CrdtStatus	st;

	for (int k = 0; k < 3; k++)
		seq_doc_init(&doc[k], kind, crdt_default_allocator());
	if ((st = seq_decode(kind, newer, &doc[0], err)) == CRDT_OK &&
		(st = seq_decode(kind, since, &doc[1], err)) == CRDT_OK)
		st = delta_of(&doc[0], &doc[1], &doc[2], out, err);
	for (int k = 0; k < 3; k++)
		seq_doc_free(&doc[k]);
	return st;
}

/* --------------------------------------------------------------- reading */

CrdtStatus
crdt_seq_length(CrdtSeqKind kind, CrdtSlice value, size_t *length, CrdtError *err)
{
	SeqDoc		d;
	SeqTree		t;
	uint32_t   *vis;
	CrdtStatus	st;

	seq_doc_init(&d, kind, crdt_default_allocator());
	*length = 0;
	st = seq_decode(kind, value, &d, err);
	/* every live element is in the document, unless some are detached */
	for (size_t i = 0; st == CRDT_OK && d.detached == 0 && i < seq_count(&d); i++)
		*length += !seq_nodes(&d)[i].deleted;
	if (st == CRDT_OK && d.detached > 0 && (st = seq_visible(&d, &t, &vis, length, err)) == CRDT_OK)
	{
		d.alloc->release(d.alloc->ctx, vis);
		seq_tree_free(&t);
	}
	seq_doc_free(&d);
	return st;
}

/* elements [from, to) of the document, as text or a JSON array */
static void
put_elements(const SeqDoc *d, const uint32_t *vis, size_t from, size_t to, bool array, CrdtBuf *out)
{
	if (array)
		crdt_buf_put_byte(out, '[');
	for (size_t k = from; k < to; k++)
	{
		const SeqNode *node = &seq_nodes(d)[vis[k]];

		if (array && k > from)
			crdt_buf_put_byte(out, ',');
		crdt_buf_put(out, node->data, node->len);
	}
	if (array)
		crdt_buf_put_byte(out, ']');
}

static CrdtStatus
read_elements(CrdtSeqKind kind, CrdtSlice value, bool one, size_t pos, CrdtBuf *out,
			  CrdtError *err)
{
	SeqDoc		d;
	SeqTree		t;
	uint32_t   *vis;
	size_t		nvis = 0;
	CrdtStatus	st;

	seq_doc_init(&d, kind, crdt_default_allocator());
	if ((st = seq_decode(kind, value, &d, err)) == CRDT_OK &&
		(st = seq_visible(&d, &t, &vis, &nvis, err)) == CRDT_OK)
	{
		if (!one)
			put_elements(&d, vis, 0, nvis, kind == CRDT_RLIST, out);
		else if (pos < nvis)
			put_elements(&d, vis, pos, pos + 1, false, out);
		else
			st = crdt_fail(err, CRDT_ERR_ARGUMENT, -1, "position %zu is past the end", pos);
		if (st == CRDT_OK)
			st = crdt_buf_status(out, err);
		d.alloc->release(d.alloc->ctx, vis);
		seq_tree_free(&t);
	}
	seq_doc_free(&d);
	return st;
}

CrdtStatus
crdt_seq_value(CrdtSeqKind kind, CrdtSlice value, CrdtBuf *out, CrdtError *err)
{
	return read_elements(kind, value, false, 0, out, err);
}

CrdtStatus
crdt_seq_get(CrdtSeqKind kind, CrdtSlice value, size_t pos, CrdtBuf *out, CrdtError *err)
{
	return read_elements(kind, value, true, pos, out, err);
}
