/*
 * crdt_aggstate.h — the in-memory states of the crdt_merge aggregates.
 *
 * Their structs are public only so that the glue can embed them in its
 * aggregate states; their fields are the core's business.  Included
 * through crdt_core.h.
 */
#ifndef CRDT_AGGSTATE_H
#define CRDT_AGGSTATE_H

#include "crdt_types.h"

/* --------------------------------------------- aggregate transition table
 *
 * The in-memory state of crdt_merge(T).  It starts in run mode: while the
 * entries of each map arrive in increasing id order (typical when rows
 * come in (key, replica) order), each is appended to the encoded map being
 * built, so a row costs a decode, a compare and an append, the state is as
 * compact as the stored value, and the final function sorts nothing; a
 * repeat of the last id only raises its count.  The first entry that
 * arrives out of order moves everything
 * into a hash table from (map, id) to count (16 bytes per entry, a 4-byte
 * index slot, the id bytes once), which takes any order at O(1) expected
 * per entry and sorts once at the end.
 */

typedef struct CrdtTableEntry
{
	uint64_t	count;
	uint32_t	id_offset;		/* into CrdtCounterTable.ids */
	uint8_t		len;
	uint8_t		half;			/* 0: the map of vclock/gcounter or P; 1: N */
} CrdtTableEntry;

typedef struct CrdtTableRun
{
	CrdtBuf		body;			/* encoded entries, without the terminator */
	CrdtMapWriter writer;		/* appends to body; remembers the last id */
} CrdtTableRun;

typedef struct CrdtCounterTable
{
	bool		run_mode;
	CrdtTableRun run[2];		/* one per map, in run mode */
	/* hash mode */
	uint32_t   *index;			/* 0 empty, else hash tag << 25 | entry + 1 */
	size_t		index_size;		/* a power of two, at most 3/4 used */
	CrdtTableEntry *entries;
	size_t		used;
	size_t		capacity;
	uint8_t    *ids;
	size_t		ids_len;
	size_t		ids_capacity;
	bool		in_order;		/* entries still sorted: no final sort */
	size_t		per_half[2];	/* entries in each map, for the size limit */
	const CrdtAllocator *alloc;
} CrdtCounterTable;

CrdtStatus	crdt_table_init(CrdtCounterTable *t, const CrdtAllocator *alloc,
							CrdtError *err);
void		crdt_table_free(CrdtCounterTable *t);

/* Merges one count into map half (0 or 1) of id, by maximum. */
CrdtStatus	crdt_table_put(CrdtCounterTable *t, const uint8_t *id, size_t len,
						   int half, uint64_t count, CrdtError *err);

/* Merges a whole value of the given kind (validated while read). */
CrdtStatus	crdt_table_absorb(CrdtCounterTable *t, CrdtCounterKind kind,
							  CrdtSlice value, CrdtError *err);

/* Merges every entry of src into t. */
CrdtStatus	crdt_table_absorb_table(CrdtCounterTable *t, const CrdtCounterTable *src,
									CrdtError *err);

/* Writes the canonical value of the given kind (sorted by id). */
CrdtStatus	crdt_table_write(const CrdtCounterTable *t, CrdtCounterKind kind,
							 CrdtBuf *out, CrdtError *err);

/* ------------------------------------------ set and dotted aggregates
 *
 * crdt_merge over orset/mvreg: a log of the input values.  A dot survives
 * the merge of many states exactly when every state whose context has seen
 * it also has it, so the merge counts, per dot, the states holding it (a
 * sort of all dots) and the context ranges covering it (a sweep over the
 * sorted ranges), and keeps the dots whose two counts agree.  That is
 * O(n log n) in the total size of the input however much the states
 * overlap; the log is merged early whenever it has doubled, so memory
 * follows the merged state, not the number of rows.
 */

typedef struct CrdtKeySetEntry
{
	uint32_t	offset;			/* into CrdtKeySet.bytes */
	uint32_t	len;
	uint32_t	hash;
	uint32_t	extra;			/* the list (sets), or the caller's data */
} CrdtKeySetEntry;

typedef struct CrdtKeySet
{
	uint32_t   *index;			/* 0 empty, else entry + 1 */
	size_t		index_size;
	CrdtKeySetEntry *entries;
	size_t		used;
	size_t		capacity;
	CrdtBuf		bytes;
	const CrdtAllocator *alloc;
} CrdtKeySet;

CrdtStatus	crdt_keyset_init(CrdtKeySet *s, const CrdtAllocator *alloc, CrdtError *err);
void		crdt_keyset_free(CrdtKeySet *s);

/* Finds or inserts (key, tag); *entry is its index. */
CrdtStatus	crdt_keyset_put(CrdtKeySet *s, const uint8_t *key, size_t len, uint32_t tag,
							size_t *entry, CrdtError *err);

/* An entry of a key set as it sorts: by key bytes, then tag. */
typedef struct CrdtKeySetItem
{
	const uint8_t *key;
	size_t		len;
	uint32_t	tag;
	uint32_t	entry;			/* its index in the set */
} CrdtKeySetItem;

/* The entries in order, in memory of s's allocator; NULL when there is none. */
CrdtKeySetItem *crdt_keyset_sorted(const CrdtKeySet *s);

/* Writes the keys (tag = list) as a gset or twopset value, sorted. */
CrdtStatus	crdt_keyset_write_set(const CrdtKeySet *s, CrdtSetKind kind, CrdtBuf *out,
								  CrdtError *err);

/*
 * The gset/twopset aggregate state: the rows' encoded element lists,
 * appended as they come (a row costs a copy), merged at the end by one
 * sort of all elements; merged early whenever the lists have doubled, so
 * memory follows the merged set rather than the number of rows.
 */
typedef struct CrdtSetRuns
{
	CrdtSetKind kind;
	CrdtBuf		lists[2];		/* terminated key lists, back to back: P (or all), R */
	size_t		merged[2];		/* their size right after the last merge */
	const CrdtAllocator *alloc;
} CrdtSetRuns;

void		crdt_setruns_init(CrdtSetRuns *r, CrdtSetKind kind, const CrdtAllocator *alloc);
void		crdt_setruns_free(CrdtSetRuns *r);
CrdtStatus	crdt_setruns_absorb(CrdtSetRuns *r, CrdtSlice value, CrdtError *err);
CrdtStatus	crdt_setruns_absorb_runs(CrdtSetRuns *r, const CrdtSetRuns *src, CrdtError *err);
CrdtStatus	crdt_setruns_write(const CrdtSetRuns *r, CrdtBuf *out, CrdtError *err);

typedef struct CrdtDotLog
{
	CrdtDottedKind kind;
	CrdtBuf		values;			/* absorbed values, each after its varint length */
	size_t		merged;			/* bytes right after the last early merge */
	const CrdtAllocator *alloc;
} CrdtDotLog;

CrdtStatus	crdt_dotlog_init(CrdtDotLog *log, CrdtDottedKind kind, const CrdtAllocator *alloc,
							 CrdtError *err);
void		crdt_dotlog_free(CrdtDotLog *log);
CrdtStatus	crdt_dotlog_absorb(CrdtDotLog *log, CrdtSlice value, CrdtError *err);
CrdtStatus	crdt_dotlog_write(const CrdtDotLog *log, CrdtBuf *out, CrdtError *err);

#endif							/* CRDT_AGGSTATE_H */
