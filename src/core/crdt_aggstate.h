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
 * The in-memory state of crdt_merge(T): a log of the entries merged into
 * it — (id, count), or (id, P count, N count) for a pncounter — each
 * front-coded against the one before it, in arrival order.  While the ids
 * arrive in strictly increasing order (rows in (key, replica) order, or
 * keys interleaved replica by replica) the log is the encoded map: a row
 * costs a decode, a compare and an append, a repeat of the last id only
 * raises its counts, and the final function copies it.  Entries out of
 * order are appended just the same, as an unsorted tail that is sorted,
 * merged and de-duplicated (by maximum) when written, or folded into the
 * sorted head once it outgrows both fold_min bytes and the head: the log
 * stays within about twice the merged log plus fold_min and the cost
 * O(n log n), whatever the order.  Its last entries are kept in the table
 * itself, the rest in chunks of doubling size that are never moved, so
 * groups growing side by side leave no buffers behind.
 */

/*
 * Bytes of the log kept in the table itself: a row writes its entry next
 * to the fields it reads, and the chunks are written a stage at a time
 * (bench/RESULTS.md, tenth session).  At least the largest entry; the
 * table is then 256 bytes.
 */
#define CRDT_TABLE_STAGE 128

/* A piece of a table's log: whole entries, never moved. */
typedef struct CrdtTableChunk
{
	struct CrdtTableChunk *next;
	uint32_t	used;			/* bytes of entries (the last chunk's end at pos) */
	uint32_t	cap;
	uint8_t		data[];
} CrdtTableChunk;

typedef struct CrdtCounterTable
{
	/* what every row reads, first */
	uint32_t	len;			/* bytes of entries, the staged ones included */
	uint32_t	sorted_len;		/* the head: bytes of strictly increasing entries */
	uint32_t	sorted_entries; /* entries in the head */
	uint32_t	tail_entries;	/* entries after it */
	uint16_t	fold_min;		/* tail bytes kept unsorted (1024; tests lower it) */
	uint8_t		kind;			/* CrdtCounterKind */
	uint8_t		maps;			/* counts per entry: 1, or 2 for a pncounter */
	uint8_t		absent;			/* bit h: an entry has no count in map h */
	uint8_t		counts_back;	/* the last entry's counts start this far before its end */
	uint8_t		prev_len;
	uint8_t		staged;			/* bytes of entries in stage */
	uint8_t		prev[CRDT_REPLICA_ID_MAX];	/* the last entry's id */
	/* the log's last entries, the last one among them unless the log is empty */
	uint8_t		stage[CRDT_TABLE_STAGE];
	/* read when the stage is moved to the chunks */
	uint8_t    *pos;			/* the end of the chunks' entries, in last */
	uint32_t	room;			/* bytes free at pos */
	CrdtTableChunk *first;		/* the log before the stage */
	CrdtTableChunk *last;
	const CrdtAllocator *alloc;
} CrdtCounterTable;

/*
 * A table for values of kind (and their serialized form, a pncounter
 * value: a vclock or gcounter table ignores its N map).
 */
CrdtStatus	crdt_table_init(CrdtCounterTable *t, CrdtCounterKind kind,
							const CrdtAllocator *alloc, CrdtError *err);
void		crdt_table_free(CrdtCounterTable *t);

/* Merges one count into map half (0 or 1) of id, by maximum (one map: half 1 is ignored). */
CrdtStatus	crdt_table_put(CrdtCounterTable *t, const uint8_t *id, size_t len,
						   int half, uint64_t count, CrdtError *err);

/* Merges a whole value of the given kind (validated while read). */
CrdtStatus	crdt_table_absorb(CrdtCounterTable *t, CrdtCounterKind kind,
							  CrdtSlice value, CrdtError *err);

/*
 * The fast path of crdt_table_absorb: merges value when each of its maps
 * holds at most one entry (a replica's own row), checked as the general
 * path checks it, and returns true with *st its status; returns false,
 * having changed nothing, for any other shape or invalid bytes.
 */
bool		crdt_table_absorb_single(CrdtCounterTable *t, CrdtCounterKind kind,
									 CrdtSlice value, CrdtStatus *st, CrdtError *err);

/* Merges every entry of src into t. */
CrdtStatus	crdt_table_absorb_table(CrdtCounterTable *t, const CrdtCounterTable *src,
									CrdtError *err);

/* Writes the canonical value of the given kind (sorted by id). */
CrdtStatus	crdt_table_write(const CrdtCounterTable *t, CrdtCounterKind kind,
							 CrdtBuf *out, CrdtError *err);

/*
 * For table.c, from tablesort.c: a log entry decoded for sorting (its id's
 * first 16 bytes as two big-endian integers, zero-padded, the rest in an
 * arena) and the tail's sort keys.
 */
typedef struct CrdtTableItem
{
	uint64_t	w0;
	uint64_t	w1;
	uint64_t	count[2];
	uint32_t	rest;			/* ids over 16 bytes: bytes 16.. in the arena */
	uint32_t	len;
} CrdtTableItem;

typedef struct CrdtTableKey
{
	uint64_t	key;			/* 8 id bytes from where the tail's ids differ */
	uint32_t	len;
	uint32_t	item;
} CrdtTableKey;

/* padded: the id, zero-padded to at least 16 bytes */
void		crdt_table_item_set(CrdtTableItem *it, const uint8_t *padded, size_t len,
								CrdtBuf *arena);
void		crdt_table_item_id(const CrdtTableItem *it, const uint8_t *arena, uint8_t *id);
int			crdt_table_item_cmp(const CrdtTableItem *a, const CrdtTableItem *b,
								const uint8_t *arena);

/*
 * Sorts n items whose ids share their first common bytes: keys holds 2n;
 * returns the sorted keys, somewhere in it.
 */
const CrdtTableKey *crdt_table_sort(const CrdtTableItem *items, size_t n, CrdtTableKey *keys,
									const uint8_t *arena, size_t common);

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
