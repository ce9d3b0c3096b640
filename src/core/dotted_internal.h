/*
 * dotted_internal.h — what the files of the orset/mvreg implementation
 * share.  Internal to the core (not part of its API in crdt_core.h).
 *
 *   dotted.c         contexts, dots, reading and validating values, keys
 *   dotted_merge.c   merge and delta of two values
 *   dotted_build.c   the builder: a value from loose parts
 *   dotted_text.c    text input and output
 *   dotted_mutate.c  orset add/remove, mvreg set
 *   dotted_log.c     the crdt_merge aggregate state (CrdtDotLog)
 *
 * Both types follow the optimized, tombstone-free OR-Set (Bieniusa et al.
 * 2012) and its delta form (Almeida, Shoker, Baquero 2018): a key is
 * present while it carries a dot; every operation is "merge this small
 * delta", so local updates and replication share one code path, the merge.
 */
#ifndef CRDT_DOTTED_INTERNAL_H
#define CRDT_DOTTED_INTERNAL_H

#include "crdt_core.h"

/* ------------------------------------------------------- ranges, dots */

/* Counters lo..hi of one replica, 1 <= lo <= hi <= INT64_MAX. */
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

static inline CrdtKeyStyle
dotted_key_style(CrdtDottedKind kind)
{
	return kind == CRDT_ORSET ? CRDT_KEYS_FRONT_CODED : CRDT_KEYS_PLAIN;
}

static inline CrdtStatus
dotted_malformed(CrdtError *err, long at, const char *what)
{
	return crdt_fail(err, CRDT_ERR_BINARY, at, "%s", what);
}

/* -1, 0 or 1 as a is below, equal to or above b. */
static inline int
dotted_order(uint64_t a, uint64_t b)
{
	return a < b ? -1 : (a > b);
}

/*
 * Defines name, a qsort comparator of T by its unsigned fields f1, f2, f3
 * in order of significance (DOTTED_ORDER2: by f1, f2).
 */
#define DOTTED_ORDER3(name, T, f1, f2, f3) \
static inline int \
name(const void *x, const void *y) \
{ \
	const T    *a = x; \
	const T    *b = y; \
\
	if (a->f1 != b->f1) \
		return dotted_order(a->f1, b->f1); \
	return a->f2 != b->f2 ? dotted_order(a->f2, b->f2) : dotted_order(a->f3, b->f3); \
}
#define DOTTED_ORDER2(name, T, f1, f2) DOTTED_ORDER3(name, T, f1, f2, f2)

/* Dots by (replica, counter). */
DOTTED_ORDER2(dotted_compare_dots, Dot, replica, counter)

/*
 * A count of varint pairs (ranges, dots) at *pos: read and checked to be
 * at least 1 and at most what the remaining bytes can hold.
 */
static inline bool
dotted_read_count(const uint8_t **pos, const uint8_t *end, uint64_t *n)
{
	return crdt_varint_decode(pos, end, n) == CRDT_VARINT_OK && *n != 0 &&
		*n <= (uint64_t) (end - *pos) / 2;
}

/*
 * Decodes range k of a replica's range payload (after range count), given
 * the previous range's hi; 0, or 1 for a malformed varint, 2 for a range
 * outside 1..INT64_MAX.
 */
int			crdt_range_decode(const uint8_t **pos, const uint8_t *end, uint64_t k,
							  uint64_t prev_hi, Range *range);

/* Appends ranges (sorted by lo) to out, joining overlapping and adjacent ones. */
void		crdt_ranges_coalesce(CrdtBuf *out, const Range *in, size_t n);

/* Writes a replica's range payload: the count, then (gap, width) per range. */
void		crdt_ranges_write(CrdtBuf *out, const Range *r, size_t n);

/*
 * Reads a dots payload at *pos into out (Dot[]), translating replica
 * indexes through map (NULL: keep them), checking order and bounds.
 */
CrdtStatus	crdt_dots_read(const uint8_t **pos, const uint8_t *end, size_t nreplicas,
						   const uint32_t *map, CrdtBuf *out, CrdtError *err);
void		crdt_dots_write(CrdtBuf *out, const Dot *dots, size_t n, const uint32_t *remap);

/*
 * Sorts dots and looks for one that occurs twice (a dot names one write,
 * so it belongs to one key): true with it in *twice.
 */
bool		crdt_dots_find_twice(Dot *dots, size_t n, Dot *twice);

/* --------------------------------------------------------------- context */

/* A decoded causal context: replica ids in byte order, each with its ranges. */
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
/* the ranges of replica i, and how many */
#define CTX_RANGES_OF(c, i) (CTX_RANGES(c) + CTX_FIRST(c, i))
#define CTX_NRANGES(c, i) (CTX_FIRST(c, (i) + 1) - CTX_FIRST(c, i))

#define U32(buf) ((uint32_t *) (buf).data)
#define I64(buf) ((int64_t *) (buf).data)

void		crdt_context_init(Context *c, const CrdtAllocator *alloc);
void		crdt_context_free(Context *c);

static inline bool
crdt_context_failed(const Context *c)
{
	return crdt_bufs_failed(&c->ids, &c->id_at, &c->first, &c->ranges, NULL);
}

/* Adds replica id (after every earlier one) with ranges already coalesced. */
void		crdt_context_add(Context *c, const uint8_t *id, size_t len, const Range *r,
							 size_t nr);
CrdtStatus	crdt_context_decode(Context *c, const uint8_t *bytes, size_t len, size_t offset,
								CrdtError *err);
bool		crdt_context_contains(const Context *c, uint32_t replica, uint64_t counter);
void		crdt_context_write(const Context *c, CrdtBuf *out);

/* ------------------------------------------------------- reading a value */

/*
 * A value read key by key: its context is decoded when it is opened, and
 * each key comes with its dots (replica indexes translated through remap
 * when that is set).  Close it whatever open returned.
 */
typedef struct DottedReader
{
	Context		context;
	CrdtKeyReader *keys;		/* allocated: it holds a 4 kB key buffer */
	CrdtBuf		dots;			/* Dot[]: the current key's */
	const uint32_t *remap;
	bool		check_keys;		/* check each key's contents (validation) */
	CrdtDottedKind kind;
	const CrdtAllocator *alloc;
} DottedReader;

CrdtStatus	crdt_dotted_reader_open(DottedReader *r, CrdtDottedKind kind, CrdtSlice value,
									const CrdtAllocator *alloc, CrdtError *err);

/* 1 with the next key and its dots, 0 after the last key, -1 on error. */
int			crdt_dotted_reader_next(DottedReader *r, const uint8_t **key, size_t *len,
									CrdtError *err);
void		crdt_dotted_reader_close(DottedReader *r);

static inline const Dot *
dotted_reader_dots(const DottedReader *r)
{
	return (const Dot *) r->dots.data;
}

static inline size_t
dotted_reader_ndots(const DottedReader *r)
{
	return r->dots.len / sizeof(Dot);
}

/* --------------------------------------------------------------- builder
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

typedef struct Builder
{
	CrdtBuf		bytes;			/* ids and keys */
	CrdtBuf		names;			/* NameRef[] */
	CrdtBuf		ranges;			/* BuildRange[] */
	CrdtBuf		keys;			/* BuildKey[] */
	CrdtBuf		dots;			/* BuildDot[] */
	const CrdtAllocator *alloc;
} Builder;

void		crdt_builder_init(Builder *b, const CrdtAllocator *alloc);
void		crdt_builder_free(Builder *b);

/* A mention of a replica id; returns its number for ranges and dots. */
size_t		crdt_builder_name(Builder *b, const uint8_t *id, size_t len, NameRole role,
							  long position);
void		crdt_builder_range(Builder *b, size_t name, uint64_t lo, uint64_t hi);

/* A key; returns its number for dots. */
size_t		crdt_builder_key(Builder *b, const uint8_t *key, size_t len, long position);
size_t		crdt_builder_keys(const Builder *b);
void		crdt_builder_dot(Builder *b, size_t key, size_t name, uint64_t counter,
							 long position);

/*
 * Writes the value.  Problems are syntax errors at their text position
 * when from_text, else argument errors.
 */
CrdtStatus	crdt_builder_write(Builder *b, CrdtDottedKind kind, bool from_text, CrdtBuf *out,
							   CrdtError *err);

#endif							/* CRDT_DOTTED_INTERNAL_H */
