/*
 * sequence_internal.h — the in-memory form of a sequence value, shared by
 * the files of the sequence CRDTs.  Internal to the core.
 *
 * A SeqDoc is the element set of a value, sorted by id (replica index,
 * counter), each element naming its parent by id.  The replica table is
 * sorted by bytes, so index order is byte order.  Element contents and
 * replica ids point into the values and arguments being worked on (or the
 * doc's arena, for parsed text); nothing is copied.
 */
#ifndef SEQUENCE_INTERNAL_H
#define SEQUENCE_INTERNAL_H

#include "crdt_core.h"

#define SEQ_ROOT UINT32_MAX		/* p_replica of a child of the root */

/* link of a segment's first element, in the header varint */
enum
{
	SEQ_LINK_CONT = 0,			/* right child of the previous counter */
	SEQ_LINK_ROOT = 1,			/* right child of the root */
	SEQ_LINK_LEFT = 2,			/* left child of the id that follows */
	SEQ_LINK_RIGHT = 3			/* right child of the id that follows */
};

typedef struct SeqNode
{
	uint32_t	replica;
	uint32_t	counter;
	uint32_t	p_replica;		/* SEQ_ROOT for the root */
	uint32_t	p_counter;
	uint8_t		side;			/* 0 left, 1 right */
	uint8_t		deleted;
	uint32_t	len;			/* content bytes (0 when deleted) */
	const uint8_t *data;
} SeqNode;

typedef struct SeqDoc
{
	CrdtSeqKind kind;
	CrdtBuf		replicas;		/* CrdtSlice[] */
	CrdtBuf		nodes;			/* SeqNode[] */
	CrdtBuf		arena;			/* bytes the doc owns (parsed text) */
	size_t		detached;		/* after seq_decode: elements not in the document */
	const CrdtAllocator *alloc;
} SeqDoc;

/* the nodes and the replica table of a doc, as arrays, and their lengths */
#define seq_nodes(d) ((SeqNode *) (d)->nodes.data)
#define seq_count(d) ((d)->nodes.len / sizeof(SeqNode))
#define seq_replicas(d) ((CrdtSlice *) (d)->replicas.data)
#define seq_nreplicas(d) ((d)->replicas.len / sizeof(CrdtSlice))

void		seq_doc_init(SeqDoc *d, CrdtSeqKind kind, const CrdtAllocator *alloc);
void		seq_doc_free(SeqDoc *d);

/* Decodes and validates a whole value (22P03 for anything wrong). */
CrdtStatus	seq_decode(CrdtSeqKind kind, CrdtSlice value, SeqDoc *d, CrdtError *err);

/* Writes the canonical value: nodes sorted by id, every replica used. */
CrdtStatus	seq_encode(const SeqDoc *d, CrdtBuf *out, CrdtError *err);

/* Index of element (replica, counter), or -1. */
long		seq_find(const SeqDoc *d, uint32_t replica, uint32_t counter);

/* Index of replica id in the table, or -1. */
long		seq_find_replica(const SeqDoc *d, const uint8_t *id, size_t len);

/* Sorts the nodes by id (qsort). */
void		seq_sort_nodes(SeqDoc *d);

/* Drops replicas no node uses and renumbers. */
CrdtStatus	seq_compact_replicas(SeqDoc *d, CrdtError *err);

/*
 * The tree of a doc: parent index of each node, children per (node, side)
 * in id order (CSR), and the walk.  The root is node index n.  An element
 * whose parent the doc lacks (a delta names parents it does not carry)
 * hangs from a detached root, n + 1: it and its subtree are not part of
 * the document until a merge brings the parent.
 */
typedef struct SeqTree
{
	size_t		n;
	uint32_t   *parent;			/* n: parent index, n for the root */
	uint32_t   *first;			/* 2(n+1)+1 offsets into child, slot 2p+side */
	uint32_t   *child;			/* n */
	uint32_t   *order;			/* n: the document's nodes in order, then the detached ones */
	size_t		placed;			/* how many of order are the document's */
	size_t		ordered;		/* how many the walk reached (n unless a cycle) */
	const CrdtAllocator *alloc;
} SeqTree;

/*
 * Builds the tree; CRDT_ERR_BINARY (or bad_status) when the nodes do not
 * all hang from the root or the detached root (a cycle).
 */
CrdtStatus	seq_tree_build(const SeqDoc *d, SeqTree *t, CrdtStatus bad_status, CrdtError *err);
void		seq_tree_free(SeqTree *t);

/*
 * Builds the tree and lists the live elements of the document in order:
 * (*vis)[0..*nvis), node indexes; the caller frees *vis and the tree.
 */
CrdtStatus	seq_visible(const SeqDoc *d, SeqTree *t, uint32_t **vis, size_t *nvis, CrdtError *err);

static inline size_t
seq_tree_children(const SeqTree *t, size_t p, int side)
{
	return t->first[2 * p + side + 1] - t->first[2 * p + side];
}

/* A segment: a run of nodes [start, start + len) of one replica. */
typedef struct SeqSegment
{
	size_t		start;
	size_t		len;
	uint32_t	gap;			/* counters skipped before it */
	int			link;
} SeqSegment;

/* The segment at node *i (advancing *i past it); false at the end. */
bool		seq_next_segment(const SeqDoc *d, size_t *i, SeqSegment *seg);

/* Appends node; false when out of memory. */
bool		seq_push(SeqDoc *d, const SeqNode *node);

/* Checks rtext content: one character, valid UTF-8, not NUL. */
bool		seq_char_valid(const uint8_t *c, size_t len);

/* The byte length of the UTF-8 character that starts with byte b (1..4, 0 invalid). */
size_t		seq_utf8_len(uint8_t b);

#endif							/* SEQUENCE_INTERNAL_H */
