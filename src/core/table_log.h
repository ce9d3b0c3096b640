/*
 * table_log.h — the log of a counter table, for table.c (appending,
 * absorbing) and table_merge.c (merging an unsorted tail, writing): its
 * chunks, walking them, and the format of one entry.  Private to the
 * core; the struct is in crdt_aggstate.h.
 */
#ifndef CRDT_TABLE_LOG_H
#define CRDT_TABLE_LOG_H

#include "crdt_core.h"

#include <string.h>

static inline CrdtStatus
table_too_many(CrdtError *err)
{
	return crdt_fail(err, CRDT_ERR_TOO_LARGE, -1,
					 "more than %d entries in one map", CRDT_MAX_ENTRIES);
}

/* Bytes of entries in chunk c (the last one's end at pos); the stage's follow the last. */
static inline size_t
chunk_used(const CrdtCounterTable *t, const CrdtTableChunk *c)
{
	return c == t->last ? (size_t) (t->pos - c->data) : c->used;
}

/* Adds a chunk of at least need bytes to the log (false: out of memory or past 4 GB). */
bool		crdt_table_add_chunk(CrdtCounterTable *t, size_t need);

/* Replaces the log by its merged form: sorted, each id once (table_merge.c). */
CrdtStatus	crdt_table_fold(CrdtCounterTable *t, CrdtError *err);

/* Empties t's log without freeing its chunks: freed already, or another table's. */
static inline void
log_forget(CrdtCounterTable *t)
{
	t->first = t->last = NULL;
	t->pos = NULL;
	t->room = t->len = t->sorted_len = t->sorted_entries = t->tail_entries = 0;
	t->prev_len = t->staged = 0;
	t->absent = 0;
}

/* Moves the stage's entries to the chunks (false: out of memory or past 4 GB). */
bool		crdt_table_unstage(CrdtCounterTable *t);

/*
 * Room for an entry of up to need bytes (at most the stage) at the end of
 * the stage, which is emptied into the chunks when short of it.
 */
static CRDT_ALWAYS_INLINE bool
stage_reserve(CrdtCounterTable *t, size_t need)
{
	return CRDT_TABLE_STAGE - t->staged >= need || crdt_table_unstage(t);
}

/* Walks a log's entries: chunk after chunk, then the stage. */
typedef struct LogWalk
{
	const CrdtCounterTable *t;
	const CrdtTableChunk *c;
	bool		in_stage;
	const uint8_t *p;			/* the next entry */
	const uint8_t *end;			/* of c's entries, or the stage's */
} LogWalk;

static inline void
walk_start(LogWalk *w, const CrdtCounterTable *t)
{
	w->t = t;
	w->c = t->first;
	w->in_stage = false;
	w->p = w->end = NULL;
	if (w->c != NULL)
	{
		w->p = w->c->data;
		w->end = w->p + chunk_used(t, w->c);
	}
}

/* True with w->p at the next entry, false after the last. */
static inline bool
walk_more(LogWalk *w)
{
	while (w->p == w->end)
	{
		if (w->in_stage)
			return false;
		if (w->c != NULL && w->c->next != NULL)
		{
			w->c = w->c->next;
			w->p = w->c->data;
			w->end = w->p + chunk_used(w->t, w->c);
			continue;
		}
		w->in_stage = true;
		w->p = w->t->stage;
		w->end = w->p + w->t->staged;
	}
	return true;
}

/* An entry's size at most, its counts at their longest (raise_last needs that room). */
static inline size_t
entry_room(const CrdtCounterTable *t, size_t len, size_t shared)
{
	return 2 + (len - shared) + (size_t) t->maps * CRDT_VARINT_MAX;
}

/*
 * Appends an entry sharing exactly "shared" bytes with the last one to
 * the stage, entry_room being free there (stage_reserve): both lengths
 * are at most 64, one varint byte each; then the counts, 0 for a map
 * without the id.
 */
static CRDT_ALWAYS_INLINE void
append_entry(CrdtCounterTable *t, const uint8_t *id, size_t len, size_t shared,
			 const uint64_t count[2])
{
	uint8_t    *start = t->stage + t->staged;
	uint8_t    *p = start;
	uint8_t    *counts;

	*p++ = (uint8_t) (len - shared);
	*p++ = (uint8_t) shared;
	crdt_copy_short(p, id + shared, len - shared);
	p += len - shared;
	counts = p;
	p += crdt_varint_encode(p, count[0]);
	if (t->maps == 2)
	{
		p += crdt_varint_encode(p, count[1]);
		t->absent |= (uint8_t) ((count[0] == 0) | (count[1] == 0) << 1);
	}
	t->counts_back = (uint8_t) (p - counts);
	t->len += (uint32_t) (p - start);
	t->staged = (uint8_t) (p - t->stage);
	crdt_copy_short(t->prev + shared, id + shared, len - shared);
	t->prev_len = (uint8_t) len;
}

/* Reads the counts at *p (written by append_entry) and steps over them. */
static inline void
read_counts(const uint8_t **p, const uint8_t *end, int maps, uint64_t count[2])
{
	count[1] = 0;
	(void) crdt_varint_decode(p, end, &count[0]);
	if (maps == 2)
		(void) crdt_varint_decode(p, end, &count[1]);
}

#endif							/* CRDT_TABLE_LOG_H */
