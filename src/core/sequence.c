/*
 * sequence.c — the stored form of rtext and rlist: decoding with full
 * validation, canonical encoding in segments, and the Fugue tree walk.
 *
 * Layout (docs/FORMAT.md): version byte, varint replica count, then per
 * replica in byte order: varint id length, id bytes, varint segment count
 * (>= 1), segments in counter order.  Segment: varint head =
 * (len - 1) << 4 | gap flag << 3 | link << 1 | deleted; varint gap when
 * flagged; for a left/right link varint parent replica index and varint
 * parent counter; when live the content (rtext: len UTF-8 characters;
 * rlist: len times varint length, canonical JSON).
 */
#include "sequence_internal.h"

#include <stdlib.h>

void
seq_doc_init(SeqDoc *d, CrdtSeqKind kind, const CrdtAllocator *alloc)
{
	d->kind = kind;
	d->alloc = alloc;
	d->detached = 0;
	crdt_buf_init(&d->replicas, alloc, 0);
	crdt_buf_init(&d->nodes, alloc, 0);
	crdt_buf_init(&d->arena, alloc, 0);
}

void
seq_doc_free(SeqDoc *d)
{
	crdt_buf_free(&d->replicas);
	crdt_buf_free(&d->nodes);
	crdt_buf_free(&d->arena);
}

bool
seq_push(SeqDoc *d, const SeqNode *node)
{
	crdt_buf_put(&d->nodes, node, sizeof(SeqNode));
	return !d->nodes.failed;
}

static int
node_cmp(const void *a, const void *b)
{
	const SeqNode *x = a;
	const SeqNode *y = b;

	if (x->replica != y->replica)
		return x->replica < y->replica ? -1 : 1;
	if (x->counter != y->counter)
		return x->counter < y->counter ? -1 : 1;
	return 0;
}

void
seq_sort_nodes(SeqDoc *d)
{
	if (seq_count(d) > 1)
		qsort(seq_nodes(d), seq_count(d), sizeof(SeqNode), node_cmp);
}

long
seq_find(const SeqDoc *d, uint32_t replica, uint32_t counter)
{
	SeqNode		key;

	key.replica = replica;
	key.counter = counter;
	return crdt_bsearch(&key, seq_nodes(d), seq_count(d), sizeof(SeqNode), node_cmp);
}

long
seq_find_replica(const SeqDoc *d, const uint8_t *id, size_t len)
{
	CrdtSlice	key;

	key.data = id;
	key.len = len;
	return crdt_bsearch(&key, seq_replicas(d), seq_nreplicas(d), sizeof(CrdtSlice), crdt_slice_cmp);
}

/*
 * map[i] := 0 for each replica that has an element or is named as a
 * parent (a delta may name a parent it does not hold), else SEQ_ROOT.
 */
static void
mark_replicas_used(const SeqDoc *d, uint32_t *map)
{
	const SeqNode *nodes = seq_nodes(d);

	for (size_t i = 0; i < seq_nreplicas(d); i++)
		map[i] = SEQ_ROOT;
	for (size_t i = 0; i < seq_count(d); i++)
	{
		map[nodes[i].replica] = 0;
		if (nodes[i].p_replica != SEQ_ROOT)
			map[nodes[i].p_replica] = 0;
	}
}

CrdtStatus
seq_compact_replicas(SeqDoc *d, CrdtError *err)
{
	size_t		nr = seq_nreplicas(d);
	CrdtSlice  *r = seq_replicas(d);
	SeqNode    *nodes = seq_nodes(d);
	size_t		n = seq_count(d);
	uint32_t   *map = d->alloc->alloc(d->alloc->ctx, (nr + 1) * sizeof(uint32_t));
	size_t		kept = 0;

	if (map == NULL)
		return crdt_nomem(err);
	mark_replicas_used(d, map);
	for (size_t i = 0; i < nr; i++)
		if (map[i] == 0)
		{
			r[kept] = r[i];
			map[i] = (uint32_t) kept++;
		}
	for (size_t i = 0; i < n; i++)
	{
		nodes[i].replica = map[nodes[i].replica];
		if (nodes[i].p_replica != SEQ_ROOT)
			nodes[i].p_replica = map[nodes[i].p_replica];
	}
	d->replicas.len = kept * sizeof(CrdtSlice);
	d->alloc->release(d->alloc->ctx, map);
	return CRDT_OK;
}

/* b continues a's run: the next counter, its right child, same status */
static bool
continues(const SeqNode *a, const SeqNode *b)
{
	return b->replica == a->replica && b->counter == a->counter + 1 &&
		b->p_replica == a->replica && b->p_counter == a->counter && b->side == 1 &&
		b->deleted == a->deleted;
}

bool
seq_next_segment(const SeqDoc *d, size_t *i, SeqSegment *seg)
{
	const SeqNode *nodes = seq_nodes(d);
	size_t		n = seq_count(d);
	const SeqNode *first;
	uint32_t	prev_end;

	if (*i >= n)
		return false;
	first = &nodes[*i];
	prev_end = (*i > 0 && nodes[*i - 1].replica == first->replica) ? nodes[*i - 1].counter : 0;
	seg->start = *i;
	seg->gap = first->counter - prev_end - 1;
	if (first->p_replica == SEQ_ROOT)
		seg->link = SEQ_LINK_ROOT;
	else if (seg->gap == 0 && prev_end != 0 && first->p_replica == first->replica &&
			 first->side == 1 && first->p_counter + 1 == first->counter)
		seg->link = SEQ_LINK_CONT;
	else
		seg->link = first->side ? SEQ_LINK_RIGHT : SEQ_LINK_LEFT;
	for ((*i)++; *i < n && continues(&nodes[*i - 1], &nodes[*i]); (*i)++)
		;
	seg->len = *i - seg->start;
	return true;
}

CrdtStatus
seq_encode(const SeqDoc *d, CrdtBuf *out, CrdtError *err)
{
	const SeqNode *nodes = seq_nodes(d);
	const CrdtSlice *r = seq_replicas(d);
	size_t		nr = seq_nreplicas(d);
	size_t		i = 0;

	crdt_buf_put_byte(out, CRDT_FORMAT_V1);
	crdt_buf_put_varint(out, nr);
	for (size_t ri = 0; ri < nr; ri++)
	{
		size_t		segs = 0;
		size_t		j = i;
		SeqSegment	seg;

		while (j < seq_count(d) && nodes[j].replica == ri && seq_next_segment(d, &j, &seg))
			segs++;
		crdt_buf_put_varint(out, r[ri].len);
		crdt_buf_put(out, r[ri].data, r[ri].len);
		crdt_buf_put_varint(out, segs);
		while (i < j && seq_next_segment(d, &i, &seg))
		{
			const SeqNode *f = &nodes[seg.start];

			crdt_buf_put_varint(out, ((uint64_t) (seg.len - 1) << 4) | (seg.gap ? 8u : 0u) |
								((unsigned) seg.link << 1) | f->deleted);
			if (seg.gap)
				crdt_buf_put_varint(out, seg.gap);
			if (seg.link == SEQ_LINK_LEFT || seg.link == SEQ_LINK_RIGHT)
			{
				crdt_buf_put_varint(out, f->p_replica);
				crdt_buf_put_varint(out, f->p_counter);
			}
			for (size_t k = seg.start; !f->deleted && k < seg.start + seg.len; k++)
			{
				if (d->kind == CRDT_RLIST)
					crdt_buf_put_varint(out, nodes[k].len);
				crdt_buf_put(out, nodes[k].data, nodes[k].len);
			}
		}
	}
	return crdt_buf_status(out, err);
}

/* ---------------------------------------------------------------- decode */

size_t
seq_utf8_len(uint8_t b)
{
	if (b < 0x80)
		return 1;
	if (b >= 0xC2 && b <= 0xDF)
		return 2;
	if (b >= 0xE0 && b <= 0xEF)
		return 3;
	if (b >= 0xF0 && b <= 0xF4)
		return 4;
	return 0;
}

bool
seq_char_valid(const uint8_t *c, size_t len)
{
	return len >= 1 && len == seq_utf8_len(c[0]) && c[0] != 0 && crdt_utf8_valid(c, len);
}

typedef struct Reader
{
	const uint8_t *start;
	const uint8_t *p;
	const uint8_t *end;
	CrdtError  *err;
} Reader;

static CrdtStatus
bad(Reader *r, const char *what)
{
	return crdt_fail(r->err, CRDT_ERR_BINARY, (long) (r->p - r->start), "invalid sequence value: %s", what);
}

static CrdtStatus
read_num(Reader *r, uint64_t *v, uint64_t max, const char *what)
{
	if (crdt_varint_decode(&r->p, r->end, v) != CRDT_VARINT_OK || *v > max)
		return bad(r, what);
	return CRDT_OK;
}

/* the content of one live element at r->p */
static CrdtStatus
read_content(Reader *r, CrdtSeqKind kind, SeqNode *node)
{
	uint64_t	len;
	CrdtStatus	st;

	if (kind == CRDT_RTEXT)
	{
		if (r->p >= r->end)
			return bad(r, "text ends early");
		len = seq_utf8_len(r->p[0]);
		if (len == 0 || len > (uint64_t) (r->end - r->p) || !seq_char_valid(r->p, len))
			return bad(r, "invalid UTF-8 or NUL in the text");
	}
	else
	{
		if ((st = read_num(r, &len, CRDT_VALUE_MAX, "bad value length")) != CRDT_OK)
			return st;
		if (len == 0 || len > (uint64_t) (r->end - r->p))
			return bad(r, "value length past the end");
		if (crdt_json_check_canonical(r->p, len, r->err) != CRDT_OK)
			return bad(r, "a value is not canonical JSON");
	}
	node->data = r->p;
	node->len = (uint32_t) len;
	r->p += len;
	return CRDT_OK;
}

/* one segment of replica ri; *prev_end is the last counter so far */
static CrdtStatus
read_segment(Reader *r, SeqDoc *d, uint32_t ri, uint64_t nr, uint64_t *prev_end, int *prev_deleted)
{
	uint64_t	head;
	uint64_t	gap = 0;
	uint64_t	len;
	SeqNode		node;
	int			link;
	CrdtStatus	st;

	if ((st = read_num(r, &head, UINT64_MAX, "bad segment header")) != CRDT_OK)
		return st;
	len = (head >> 4) + 1;
	link = (int) ((head >> 1) & 3);
	memset(&node, 0, sizeof(node));
	node.deleted = head & 1;
	node.replica = ri;
	if ((head & 8) && (st = read_num(r, &gap, CRDT_SEQ_MAX_COUNTER, "bad gap")) != CRDT_OK)
		return st;
	if ((head & 8) && gap == 0)
		return bad(r, "zero gap");
	if (len > CRDT_SEQ_MAX_ELEMENTS || *prev_end + gap + len > CRDT_SEQ_MAX_COUNTER)
		return crdt_fail(r->err, CRDT_ERR_TOO_LARGE, (long) (r->p - r->start),
						 "sequence segment too long");
	if (seq_count(d) + len > CRDT_SEQ_MAX_ELEMENTS)
		return crdt_fail(r->err, CRDT_ERR_TOO_LARGE, (long) (r->p - r->start),
						 "sequence has more than %d elements", CRDT_SEQ_MAX_ELEMENTS);
	node.counter = (uint32_t) (*prev_end + gap + 1);
	node.side = link != SEQ_LINK_LEFT;
	if (link == SEQ_LINK_ROOT)
		node.p_replica = SEQ_ROOT;
	else if (link == SEQ_LINK_CONT)
	{
		if (gap != 0 || *prev_end == 0 || *prev_deleted == node.deleted)
			return bad(r, "a continuing segment that is not one");
		node.p_replica = ri;
		node.p_counter = node.counter - 1;
	}
	else
	{
		uint64_t	pr;
		uint64_t	pc;

		if ((st = read_num(r, &pr, nr - 1, "bad parent replica")) != CRDT_OK ||
			(st = read_num(r, &pc, CRDT_SEQ_MAX_COUNTER, "bad parent counter")) != CRDT_OK)
			return st;
		/* naming the counter before is link 0, unless that counter is absent */
		if (pc == 0 || (link == SEQ_LINK_RIGHT && pr == ri && pc + 1 == node.counter &&
						gap == 0 && *prev_end != 0))
			return bad(r, "bad parent");
		node.p_replica = (uint32_t) pr;
		node.p_counter = (uint32_t) pc;
	}
	for (uint64_t k = 0; k < len; k++)
	{
		if (k > 0)
		{
			node.counter++;
			node.p_replica = ri;
			node.p_counter = node.counter - 1;
			node.side = 1;
		}
		if (!node.deleted && (st = read_content(r, d->kind, &node)) != CRDT_OK)
			return st;
		if (!seq_push(d, &node))
			return crdt_nomem(r->err);
	}
	*prev_end = node.counter;
	*prev_deleted = node.deleted;
	return CRDT_OK;
}

static CrdtStatus
read_replica(Reader *r, SeqDoc *d, uint32_t ri, uint64_t nr)
{
	uint64_t	len;
	uint64_t	segs;
	uint64_t	prev_end = 0;
	int			prev_deleted = -1;
	CrdtSlice	id;
	CrdtStatus	st;

	if ((st = read_num(r, &len, CRDT_REPLICA_ID_MAX, "bad replica id length")) != CRDT_OK)
		return st;
	if (len > (uint64_t) (r->end - r->p) || crdt_replica_id_check(r->p, len) != NULL)
		return bad(r, "invalid replica id");
	id.data = r->p;
	id.len = len;
	if (ri > 0 && crdt_bytes_cmp(seq_replicas(d)[ri - 1].data, seq_replicas(d)[ri - 1].len,
								 id.data, id.len) >= 0)
		return bad(r, "replica ids out of order");
	crdt_buf_put(&d->replicas, &id, sizeof(id));
	r->p += len;
	if ((st = read_num(r, &segs, CRDT_SEQ_MAX_ELEMENTS, "bad segment count")) != CRDT_OK)
		return st;
	for (uint64_t s = 0; s < segs; s++)
		if ((st = read_segment(r, d, ri, nr, &prev_end, &prev_deleted)) != CRDT_OK)
			return st;
	return CRDT_OK;
}

/* a replica without segments must at least be named as a parent */
static CrdtStatus
check_replicas_used(Reader *r, const SeqDoc *d)
{
	uint32_t   *map = d->alloc->alloc(d->alloc->ctx, (seq_nreplicas(d) + 1) * sizeof(uint32_t));
	bool		unused = false;

	if (map == NULL)
		return crdt_nomem(r->err);
	mark_replicas_used(d, map);
	for (size_t i = 0; i < seq_nreplicas(d); i++)
		unused |= map[i] != 0;
	d->alloc->release(d->alloc->ctx, map);
	return unused ? bad(r, "a replica without segments that no element names") : CRDT_OK;
}

CrdtStatus
seq_decode(CrdtSeqKind kind, CrdtSlice value, SeqDoc *d, CrdtError *err)
{
	Reader		r;
	uint64_t	nr;
	CrdtStatus	st;
	SeqTree		t;

	d->kind = kind;
	if ((st = crdt_check_version(value, err)) != CRDT_OK)
		return st;
	r.start = value.data;
	r.p = value.data + 1;
	r.end = value.data + value.len;
	r.err = err;
	if ((st = read_num(&r, &nr, (uint64_t) (r.end - r.p), "bad replica count")) != CRDT_OK)
		return st;
	for (uint64_t i = 0; i < nr; i++)
		if ((st = read_replica(&r, d, (uint32_t) i, nr)) != CRDT_OK)
			return st;
	if (r.p != r.end)
		return bad(&r, "bytes after the end");
	if (d->nodes.failed || d->replicas.failed)
		return crdt_nomem(err);
	if ((st = check_replicas_used(&r, d)) != CRDT_OK ||
		(st = seq_tree_build(d, &t, CRDT_ERR_BINARY, err)) != CRDT_OK)
		return st;
	d->detached = t.n - t.placed;
	seq_tree_free(&t);
	return CRDT_OK;
}

/* ------------------------------------------------------------------ tree */

void
seq_tree_free(SeqTree *t)
{
	const CrdtAllocator *a = t->alloc;

	a->release(a->ctx, t->parent);
	a->release(a->ctx, t->first);
	a->release(a->ctx, t->child);
	a->release(a->ctx, t->order);
}

/*
 * The in-order walk below node start (the root n, or the detached root
 * n + 1), appended to t->order; every node reached once at most.  stack
 * has room for 2n + 2 entries: a node is pushed once to expand, once to emit.
 */
static void
tree_walk(SeqTree *t, size_t start, uint64_t *stack)
{
	size_t		top = 0;

	stack[top++] = (uint64_t) start << 1;
	while (top > 0)
	{
		uint64_t	e = stack[--top];
		size_t		p = (size_t) (e >> 1);

		if (e & 1)
		{
			t->order[t->ordered++] = (uint32_t) p;
			continue;
		}
		/* pushed in reverse: right children, the node, left children */
		for (uint32_t k = t->first[2 * p + 2]; k > t->first[2 * p + 1]; k--)
			stack[top++] = (uint64_t) t->child[k - 1] << 1;
		if (p < t->n)
			stack[top++] = (uint64_t) p << 1 | 1;
		for (uint32_t k = t->first[2 * p + 1]; k > t->first[2 * p]; k--)
			stack[top++] = (uint64_t) t->child[k - 1] << 1;
	}
}

/* the document, then the detached elements; false when a cycle leaves some out */
static CrdtStatus
walk_both(SeqTree *t, CrdtError *err)
{
	uint64_t   *stack = t->alloc->alloc(t->alloc->ctx, (2 * t->n + 2) * sizeof(uint64_t));

	if (stack == NULL)
		return crdt_nomem(err);
	t->ordered = 0;
	tree_walk(t, t->n, stack);
	t->placed = t->ordered;
	tree_walk(t, t->n + 1, stack);
	t->alloc->release(t->alloc->ctx, stack);
	return CRDT_OK;
}

CrdtStatus
seq_tree_build(const SeqDoc *d, SeqTree *t, CrdtStatus bad_status, CrdtError *err)
{
	const SeqNode *nodes = seq_nodes(d);
	size_t		n = seq_count(d);
	size_t		slots = 2 * (n + 2) + 1;
	CrdtStatus	st;

	t->n = n;
	t->alloc = d->alloc;
	t->parent = d->alloc->alloc(d->alloc->ctx, (n + 1) * sizeof(uint32_t));
	t->first = d->alloc->alloc(d->alloc->ctx, slots * sizeof(uint32_t));
	t->child = d->alloc->alloc(d->alloc->ctx, (n + 1) * sizeof(uint32_t));
	t->order = d->alloc->alloc(d->alloc->ctx, (n + 1) * sizeof(uint32_t));
	if (!t->parent || !t->first || !t->child || !t->order)
	{
		seq_tree_free(t);
		return crdt_nomem(err);
	}
	memset(t->first, 0, slots * sizeof(uint32_t));
	for (size_t i = 0; i < n; i++)
	{
		long		p;

		if (nodes[i].p_replica == SEQ_ROOT)
			p = (long) n;
		else if (i > 0 && nodes[i].p_replica == nodes[i - 1].replica &&
				 nodes[i].p_counter == nodes[i - 1].counter)
			p = (long) i - 1;
		else if ((p = seq_find(d, nodes[i].p_replica, nodes[i].p_counter)) < 0)
			p = (long) n + 1;	/* detached: its parent is not here (a delta) */
		t->parent[i] = (uint32_t) p;
		t->first[2 * (size_t) p + nodes[i].side + 1]++;
	}
	for (size_t s = 1; s < slots; s++)
		t->first[s] += t->first[s - 1];
	/* fill in id order: each slot's children end up sorted */
	for (size_t i = n; i-- > 0;)
		t->child[--t->first[2 * (size_t) t->parent[i] + nodes[i].side + 1]] = (uint32_t) i;
	/* after the decrements first[s + 1] is where slot s starts: shift back */
	memmove(t->first, t->first + 1, (slots - 1) * sizeof(uint32_t));
	t->first[slots - 1] = (uint32_t) n;
	if ((st = walk_both(t, err)) != CRDT_OK)
	{
		seq_tree_free(t);
		return st;
	}
	if (t->ordered != n)
	{
		seq_tree_free(t);
		return crdt_fail(err, bad_status, -1, "invalid sequence value: elements do not form a tree");
	}
	return CRDT_OK;
}

CrdtStatus
seq_visible(const SeqDoc *d, SeqTree *t, uint32_t **vis, size_t *nvis, CrdtError *err)
{
	CrdtStatus	st = seq_tree_build(d, t, CRDT_ERR_BINARY, err);

	if (st != CRDT_OK)
		return st;
	*vis = d->alloc->alloc(d->alloc->ctx, (t->n + 1) * sizeof(uint32_t));
	if (*vis == NULL)
	{
		seq_tree_free(t);
		return crdt_nomem(err);
	}
	*nvis = 0;
	for (size_t k = 0; k < t->placed; k++)
		if (!seq_nodes(d)[t->order[k]].deleted)
			(*vis)[(*nvis)++] = t->order[k];
	return CRDT_OK;
}

