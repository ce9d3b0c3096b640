/*
 * sequence_edit.c — editing rtext and rlist: delete by position, and
 * Fugue's insert rule (docs/SEQUENCES.md): the new run becomes the right
 * child of its left origin L when L has none, else the left child of its
 * right origin R, the element after L in the walk.
 */
#include "sequence_internal.h"

/* The index of replica id in d's table, added (and the nodes renumbered) if new. */
static long
replica_index(SeqDoc *d, const uint8_t *id, size_t len)
{
	long		at = seq_find_replica(d, id, len);
	CrdtSlice	s = {id, len};
	size_t		nr = seq_nreplicas(d);
	size_t		pos = 0;
	CrdtSlice  *r;

	if (at >= 0)
		return at;
	crdt_buf_put(&d->replicas, &s, sizeof(s));
	if (d->replicas.failed)
		return -1;
	r = seq_replicas(d);
	while (pos < nr && crdt_bytes_cmp(r[pos].data, r[pos].len, id, len) < 0)
		pos++;
	memmove(&r[pos + 1], &r[pos], (nr - pos) * sizeof(CrdtSlice));
	r[pos] = s;
	for (size_t i = 0; i < seq_count(d); i++)
	{
		SeqNode    *node = &seq_nodes(d)[i];

		node->replica += node->replica >= pos;
		if (node->p_replica != SEQ_ROOT)
			node->p_replica += node->p_replica >= pos;
	}
	return (long) pos;
}

/* the elements an insert adds: one per character, or the one JSON value */
static CrdtStatus
count_items(CrdtSeqKind kind, const uint8_t *insert, size_t len, size_t *count, CrdtError *err)
{
	*count = 0;
	if (kind == CRDT_RLIST)
	{
		*count = insert != NULL;
		if (insert != NULL && crdt_json_check_canonical(insert, len, err) != CRDT_OK)
			return crdt_fail(err, CRDT_ERR_ARGUMENT, -1, "the inserted value is not canonical JSON");
		return CRDT_OK;
	}
	for (size_t i = 0; i < len;)
	{
		size_t		c = seq_utf8_len(insert[i]);

		if (c == 0 || c > len - i || !seq_char_valid(insert + i, c))
			return crdt_fail(err, CRDT_ERR_ARGUMENT, (long) i,
							 "inserted text is not valid UTF-8 or contains NUL");
		i += c;
		(*count)++;
	}
	return CRDT_OK;
}

/*
 * Adds the inserted run: its first element (parent and side in first),
 * then a chain of right children.  Its counters are the replica's largest,
 * so it goes right after the replica's last element: the order by id holds.
 */
static CrdtStatus
push_run(SeqDoc *d, uint32_t ri, SeqNode first, const uint8_t *insert, size_t len,
		 size_t count, CrdtError *err)
{
	size_t		n = seq_count(d);
	size_t		at = 0;
	uint32_t	top = 0;
	SeqNode    *nodes;

	while (at < n && seq_nodes(d)[at].replica <= ri)
	{
		if (seq_nodes(d)[at].replica == ri)
			top = seq_nodes(d)[at].counter;
		at++;
	}
	if (count > CRDT_SEQ_MAX_COUNTER - top)
		return crdt_fail(err, CRDT_ERR_OVERFLOW, -1, "the replica's element counter would overflow");
	if (n + count > CRDT_SEQ_MAX_ELEMENTS)
		return crdt_fail(err, CRDT_ERR_TOO_LARGE, -1,
						 "sequence would have more than %d elements", CRDT_SEQ_MAX_ELEMENTS);
	if (!crdt_buf_reserve(&d->nodes, count * sizeof(SeqNode)))
		return crdt_nomem(err);
	nodes = seq_nodes(d);
	memmove(&nodes[at + count], &nodes[at], (n - at) * sizeof(SeqNode));
	d->nodes.len += count * sizeof(SeqNode);
	first.replica = ri;
	first.counter = top + 1;
	first.deleted = 0;
	for (size_t i = 0, k = 0; k < count; k++)
	{
		size_t		c = d->kind == CRDT_RTEXT ? seq_utf8_len(insert[i]) : len;

		if (k > 0)
		{
			first.p_replica = ri;
			first.p_counter = first.counter;
			first.side = 1;
			first.counter++;
		}
		first.data = insert + i;
		first.len = (uint32_t) c;
		i += c;
		nodes[at + k] = first;
	}
	return CRDT_OK;
}

/* where an insert after visible element pos - 1 hangs: parent and side in *first */
static void
place(const SeqDoc *d, const SeqTree *t, const uint32_t *vis, size_t pos, SeqNode *first)
{
	size_t		n = seq_count(d);
	size_t		left = pos == 0 ? n : vis[pos - 1];
	size_t		rank = 0;
	size_t		right;

	if (seq_tree_children(t, left, 1) == 0)
	{
		first->side = 1;
		if (left == n)
			first->p_replica = SEQ_ROOT;
		else
		{
			first->p_replica = seq_nodes(d)[left].replica;
			first->p_counter = seq_nodes(d)[left].counter;
		}
		return;
	}
	/* L has a right subtree, so an element follows it in the walk */
	if (left != n)
		while (t->order[rank] != left)
			rank++;
	right = t->order[left == n ? 0 : rank + 1];
	first->side = 0;
	first->p_replica = seq_nodes(d)[right].replica;
	first->p_counter = seq_nodes(d)[right].counter;
}

static CrdtStatus
edit(SeqDoc *d, size_t pos, size_t del, const uint8_t *insert, size_t insert_len,
	 const uint8_t *replica, size_t replica_len, CrdtError *err)
{
	SeqTree		t;
	uint32_t   *vis;
	size_t		nvis = 0;
	size_t		count;
	SeqNode		first;
	long		ri;
	CrdtStatus	st;

	if ((st = count_items(d->kind, insert, insert_len, &count, err)) != CRDT_OK)
		return st;
	/* first, as a new replica renumbers the others */
	ri = count > 0 ? replica_index(d, replica, replica_len) : 0;
	if (ri < 0)
		return crdt_nomem(err);
	if ((st = seq_visible(d, &t, &vis, &nvis, err)) != CRDT_OK)
		return st;
	memset(&first, 0, sizeof(first));
	if (pos > nvis || del > nvis - pos)
		st = crdt_fail(err, CRDT_ERR_ARGUMENT, -1, "position %zu and count %zu pass the end (%zu)",
					   pos, del, nvis);
	else
	{
		for (size_t k = pos; k < pos + del; k++)
		{
			SeqNode    *node = &seq_nodes(d)[vis[k]];

			node->deleted = 1;
			node->data = NULL;
			node->len = 0;
		}
		if (count > 0)
			place(d, &t, vis, pos, &first);
	}
	d->alloc->release(d->alloc->ctx, vis);
	seq_tree_free(&t);
	if (st != CRDT_OK || count == 0)
		return st;
	return push_run(d, (uint32_t) ri, first, insert, insert_len, count, err);
}

CrdtStatus
crdt_seq_splice(CrdtSeqKind kind, CrdtSlice value, size_t pos, size_t del,
				const uint8_t *insert, size_t insert_len,
				const uint8_t *replica, size_t replica_len, CrdtBuf *out, CrdtError *err)
{
	SeqDoc		d;
	CrdtStatus	st;

	if ((st = crdt_check_replica_argument(replica, replica_len, err)) != CRDT_OK)
		return st;
	seq_doc_init(&d, kind, crdt_default_allocator());
	if ((st = seq_decode(kind, value, &d, err)) == CRDT_OK &&
		(st = edit(&d, pos, del, insert, insert_len, replica, replica_len, err)) == CRDT_OK &&
		(st = seq_compact_replicas(&d, err)) == CRDT_OK)
		st = seq_encode(&d, out, err);
	seq_doc_free(&d);
	return st;
}
