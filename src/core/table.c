/*
 * table.c — the transition state of the crdt_merge aggregates.
 *
 * The state is one log of entries (id, count) — (id, P count, N count) for
 * a pncounter, 0 where a map lacks the id — each front-coded against the
 * entry before it, in arrival order.  While ids arrive in strictly
 * increasing order the log is the encoded map (or both maps, entry by
 * entry): a repeat of the last id only raises its counts in place, and
 * writing is a copy.  An entry out of order is appended the same way,
 * starting an unsorted tail; the tail is sorted (tablesort.c), merged with
 * the sorted head and de-duplicated by maximum (table_merge.c) when the
 * state is written, and folded into the head in place once it outgrows
 * both fold_min bytes and the head.  That keeps the log within about twice the merged log plus
 * fold_min bytes (its chunks within twice that), and the cost O(n log n)
 * in the entries absorbed, in any order.
 *
 * The log's last entries are kept in the table itself, its stage, where
 * a row writes next to the fields it has just read; when an entry does
 * not fit, the stage is moved to the end of the chunks in one copy.  The
 * chunks each hold twice the bytes of the one before (up to 64 kB), none
 * ever moved or freed until the log is: groups that grow side by side
 * (rows in random order, or keys interleaved) would otherwise leave
 * behind every smaller buffer they outgrew, as many bytes again as they
 * hold.  An entry is never split between chunks or the stage, so each is
 * a run of whole entries.
 */
#include "table_log.h"

#include <stdlib.h>

/* an unsorted tail of up to this many bytes is sorted only when written */
#define LOG_FOLD_MIN 1024
/* palloc sizes of chunks, header included: the first, and the largest */
#define CHUNK_FIRST 64
#define CHUNK_MAX 65536

/* an empty stage takes any entry, and its size fits staged */
typedef char stage_size_fits[CRDT_TABLE_STAGE >= 2 + CRDT_REPLICA_ID_MAX + 2 * CRDT_VARINT_MAX &&
							 CRDT_TABLE_STAGE <= UINT8_MAX ? 1 : -1];

CrdtStatus
crdt_table_init(CrdtCounterTable *t, CrdtCounterKind kind, const CrdtAllocator *alloc,
				CrdtError *err)
{
	(void) err;
	memset(t, 0, sizeof(*t));	/* no allocation until the first entry */
	t->alloc = alloc;
	t->fold_min = LOG_FOLD_MIN;
	t->kind = (uint8_t) kind;
	t->maps = kind == CRDT_PNCOUNTER ? 2 : 1;
	return CRDT_OK;
}

void
crdt_table_free(CrdtCounterTable *t)
{
	for (CrdtTableChunk *c = t->first, *next; c != NULL; c = next)
	{
		next = c->next;
		t->alloc->release(t->alloc->ctx, c);
	}
	log_forget(t);
}

/* ------------------------------------------------------------- the log */

bool
crdt_table_add_chunk(CrdtCounterTable *t, size_t need)
{
	size_t		size;
	CrdtTableChunk *c;

	size = t->last == NULL ? CHUNK_FIRST
		: 2 * (offsetof(CrdtTableChunk, data) + t->last->cap);
	if (size > CHUNK_MAX)
		size = CHUNK_MAX;
	while (size - offsetof(CrdtTableChunk, data) < need)
		size *= 2;				/* a first entry with a long id */
	if ((uint64_t) t->len + size > UINT32_MAX)
		return false;
	c = t->alloc->alloc(t->alloc->ctx, size);
	if (c == NULL)
		return false;
	c->next = NULL;
	c->used = 0;
	c->cap = (uint32_t) (size - offsetof(CrdtTableChunk, data));
	if (t->last == NULL)
		t->first = c;
	else
	{
		t->last->used = (uint32_t) (t->pos - t->last->data);
		t->last->next = c;
	}
	t->last = c;
	t->pos = c->data;
	t->room = c->cap;
	return true;
}

/* Bytes of the stage's first entries, whole, that fit in limit (less than staged). */
static size_t
staged_within(const CrdtCounterTable *t, size_t limit)
{
	const uint8_t *p = t->stage;
	size_t		fit = 0;

	for (;;)
	{
		const uint8_t *next = p + 2 + p[0];
		uint64_t	count[2];

		read_counts(&next, t->stage + t->staged, t->maps, count);
		if ((size_t) (next - t->stage) > limit)
			return fit;
		fit = (size_t) (next - t->stage);
		p = next;
	}
}

static void
chunk_put(CrdtCounterTable *t, const uint8_t *bytes, size_t n)
{
	memcpy(t->pos, bytes, n);
	t->pos += n;
	t->room -= (uint32_t) n;
}

/*
 * The stage's entries fill the last chunk, whole, and the rest go to a
 * new chunk: a chunk is left with less than an entry's room unused, as
 * when entries went to it one by one.  Changes nothing when it fails.
 */
bool
crdt_table_unstage(CrdtCounterTable *t)
{
	if (t->room >= t->staged)
		chunk_put(t, t->stage, t->staged);
	else
	{
		CrdtTableChunk *full = t->last;
		uint8_t    *full_end = t->pos;
		size_t		head = staged_within(t, t->room);

		if (!crdt_table_add_chunk(t, t->staged - head))
			return false;
		if (head > 0)
		{
			memcpy(full_end, t->stage, head);
			full->used += (uint32_t) head;
		}
		chunk_put(t, t->stage + head, t->staged - head);
	}
	t->staged = 0;
	return true;
}

/*
 * The last entry's id is the id: keep the larger counts, in place.  The
 * last entry is in the stage: only stage_reserve empties it, right before
 * an append.
 */
static void
raise_last(CrdtCounterTable *t, const uint64_t count[2])
{
	uint8_t    *end = t->stage + t->staged;
	uint8_t    *counts = end - t->counts_back;
	const uint8_t *p = counts;
	uint64_t	last[2];
	bool		in_head = t->sorted_len == t->len;
	uint8_t    *w = counts;

	read_counts(&p, end, t->maps, last);
	if (count[0] <= last[0] && count[1] <= last[1])
		return;
	/* room for the longest counts: entry_room left it */
	w += crdt_varint_encode(w, count[0] > last[0] ? count[0] : last[0]);
	if (t->maps == 2)
		w += crdt_varint_encode(w, count[1] > last[1] ? count[1] : last[1]);
	t->len = t->len - t->counts_back + (uint32_t) (w - counts);
	t->counts_back = (uint8_t) (w - counts);
	t->staged = (uint8_t) (w - t->stage);
	if (in_head)
		t->sorted_len = t->len;
}

/*
 * Merges (id, counts) into the log, shared being the length of the prefix
 * id has in common with the last id: what every input row costs.
 */
static CRDT_ALWAYS_INLINE CrdtStatus
log_put_shared(CrdtCounterTable *t, const uint8_t *id, size_t len, size_t shared,
			   const uint64_t count[2], CrdtError *err)
{
	bool		in_order = t->sorted_len == t->len;
	uint32_t	tail;

	if (count[0] == 0 && count[1] == 0)
		return CRDT_OK;			/* max with 0 changes nothing */
	if (shared == len && len == t->prev_len && t->len > 0)
	{
		raise_last(t, count);
		return CRDT_OK;
	}
	/* the first entry, or one after the last id (not a prefix of it) */
	if (in_order && t->len > 0 &&
		(shared == len || (shared < t->prev_len && id[shared] < t->prev[shared])))
		in_order = false;
	/* each map is checked exactly when written; this only bounds memory */
	if (in_order && t->sorted_entries >= (uint32_t) t->maps * CRDT_MAX_ENTRIES)
		return table_too_many(err);
	if (!stage_reserve(t, entry_room(t, len, shared)))
		return crdt_nomem(err);
	append_entry(t, id, len, shared, count);
	if (in_order)
	{
		t->sorted_len = t->len;
		t->sorted_entries++;
		return CRDT_OK;
	}
	t->tail_entries++;
	tail = t->len - t->sorted_len;
	if (tail > t->fold_min && tail > t->sorted_len)
		return crdt_table_fold(t, err);
	return CRDT_OK;
}

static CRDT_ALWAYS_INLINE CrdtStatus
log_put(CrdtCounterTable *t, const uint8_t *id, size_t len, const uint64_t count[2],
		CrdtError *err)
{
	return log_put_shared(t, id, len, crdt_common_prefix(t->prev, t->prev_len, id, len),
						  count, err);
}

/*
 * Whether id (1 to 64 bytes) is a valid replica id, given the length of
 * the prefix it shares with the last id of the log.  Every id in the log
 * was checked on its way in, so when that prefix ends in an ASCII byte it
 * is whole UTF-8 without controls, and only the rest needs reading: the
 * byte or two in which replica ids like agent-041 and agent-042 differ.
 */
static CRDT_ALWAYS_INLINE bool
id_valid_after_last(const CrdtCounterTable *t, const uint8_t *id, size_t len, size_t shared)
{
	if (shared > 0 && t->prev[shared - 1] < 0x80 && len - shared <= 8)
	{
		for (size_t i = shared; i < len; i++)
			if (id[i] < 0x20 || id[i] >= 0x7f)
				return crdt_replica_id_check(id, len) == NULL;
		return true;
	}
	return crdt_replica_id_check(id, len) == NULL;
}

/* ----------------------------------------------------------- absorbing */

CrdtStatus
crdt_table_put(CrdtCounterTable *t, const uint8_t *id, size_t len, int half,
			   uint64_t count, CrdtError *err)
{
	uint64_t	counts[2] = {0, 0};

	/* the log holds valid ids only: absorbing relies on its last one */
	if (crdt_replica_id_check(id, len) != NULL || half < 0 || half > 1)
		return crdt_fail(err, CRDT_ERR_ARGUMENT, -1, "invalid table entry");
	if (half >= t->maps)
		return CRDT_OK;			/* a vclock or gcounter has no N map */
	counts[half] = count;
	return log_put(t, id, len, counts, err);
}

/*
 * The count of a single-entry map's entry (a varint from 1 to INT64_MAX)
 * and the map's end, at *p, stepped over.
 */
static CRDT_ALWAYS_INLINE bool
read_single_count(const uint8_t **p, const uint8_t *end, uint64_t *count)
{
	if (crdt_varint_decode(p, end, count) != CRDT_VARINT_OK ||
		*count == 0 || *count > (uint64_t) INT64_MAX || *p >= end || **p != 0)
		return false;
	(*p)++;
	return true;
}

/*
 * Decodes a value whose maps hold at most one entry each — the shape of
 * nearly every replica row, which carries only its own replica's entry —
 * checking exactly what the general reader checks.  Returns false, having
 * changed nothing, for any other shape or for invalid bytes, so the
 * general path runs and reports the error.  (A pncounter row with its
 * replica's P and N entries takes absorb_own_pn_row first.)
 */
typedef struct SingleEntry
{
	const uint8_t *id;
	size_t		len;
	size_t		shared;			/* P's entry: its prefix in common with t's last id */
	uint64_t	count;
} SingleEntry;

static CRDT_ALWAYS_INLINE bool
decode_single_entries(const CrdtCounterTable *t, CrdtSlice value, int halves,
					  SingleEntry found[2])
{
	const uint8_t *p = value.data;
	const uint8_t *end = value.data + value.len;

	if (value.len < 1 + (size_t) halves || *p++ != CRDT_FORMAT_V1)
		return false;
	for (int h = 0; h < halves; h++)
	{
		SingleEntry *e = &found[h];

		e->count = 0;
		e->shared = 0;
		if (p < end && *p == 0)
		{
			p++;				/* empty map */
			continue;
		}
		/* suffix length 1..64 and shared prefix 0, both one byte */
		if (end - p < 3 || p[0] == 0 || p[0] > CRDT_REPLICA_ID_MAX || p[1] != 0 ||
			(size_t) (end - p - 2) < p[0])
			return false;
		e->len = p[0];
		e->id = p + 2;
		p += 2 + e->len;
		if (h == 0)
		{
			e->shared = crdt_common_prefix(t->prev, t->prev_len, e->id, e->len);
			if (!id_valid_after_last(t, e->id, e->len, e->shared))
				return false;
		}
		else if (crdt_replica_id_check(e->id, e->len) != NULL)
			return false;
		if (!read_single_count(&p, end, &e->count))
			return false;
	}
	return p == end;
}

/*
 * The shape of a pncounter replica row after a decrement: its replica's
 * P entry and N entry, [1][len][0][id][P][0] [len][0][id][N][0], read in
 * one pass (the general reader's checks, in the same order of bytes) and
 * put as one entry.  False, having changed nothing, for any other shape.
 */
static CRDT_ALWAYS_INLINE bool
absorb_own_pn_row(CrdtCounterTable *t, CrdtSlice value, CrdtStatus *st, CrdtError *err)
{
	const uint8_t *v = value.data;
	const uint8_t *end = v + value.len;
	const uint8_t *id = v + 3;
	const uint8_t *p;
	size_t		len = value.len >= 3 ? v[1] : 0;
	size_t		shared;
	uint64_t	count[2];

	if (len == 0 || len > CRDT_REPLICA_ID_MAX || v[0] != CRDT_FORMAT_V1 || v[2] != 0 ||
		value.len < 9 + 2 * len)
		return false;
	p = id + len;
	if (!read_single_count(&p, end, &count[0]) ||
		(size_t) (end - p) < 3 + len || p[0] != len || p[1] != 0 ||
		!crdt_bytes_equal(p + 2, id, len))
		return false;
	p += 2 + len;
	if (!read_single_count(&p, end, &count[1]) || p != end)
		return false;
	shared = crdt_common_prefix(t->prev, t->prev_len, id, len);
	if (!id_valid_after_last(t, id, len, shared))
		return false;
	*st = log_put_shared(t, id, len, shared, count, err);
	return true;
}

/* A valid pncounter value into a table of two maps: both maps walked together. */
static CrdtStatus
absorb_pairs(CrdtCounterTable *t, CrdtSlice value, CrdtError *err)
{
	CrdtSlice	half[2];
	CrdtMapPairWalk walk;
	const uint8_t *id;
	size_t		len;
	uint64_t	count[2];
	CrdtStatus	st;
	int			rc;

	if ((st = crdt_counter_halves(CRDT_PNCOUNTER, value, half, err)) != CRDT_OK ||
		(st = crdt_map_pair_init(&walk, half[0], half[1], err)) != CRDT_OK)
		return st;
	while ((rc = crdt_map_pair_next(&walk, &id, &len, &count[0], &count[1], err)) > 0)
		if ((st = log_put(t, id, len, count, err)) != CRDT_OK)
			return st;
	return rc < 0 ? err->status : CRDT_OK;
}

/* absorb_single for values of one map (halves 1) or two, a constant where it is inlined */
static CRDT_ALWAYS_INLINE bool
absorb_single_halves(CrdtCounterTable *t, int halves, CrdtSlice value, CrdtStatus *st,
					 CrdtError *err)
{
	SingleEntry single[2];
	uint64_t	count[2];

	if (!decode_single_entries(t, value, halves, single))
		return false;
	count[0] = single[0].count;
	count[1] = 0;
	if ((*st = log_put_shared(t, single[0].id, single[0].len, single[0].shared, count,
							  err)) != CRDT_OK ||
		halves == 1 || t->maps == 1 || single[1].count == 0)
		return true;
	count[0] = 0;
	count[1] = single[1].count;
	*st = log_put(t, single[1].id, single[1].len, count, err);
	return true;
}

/*
 * crdt_table_absorb_single, inlined into crdt_table_absorb too: one copy
 * per number of maps, each with its constants folded.
 */
static CRDT_ALWAYS_INLINE bool
absorb_single(CrdtCounterTable *t, CrdtCounterKind kind, CrdtSlice value, CrdtStatus *st,
			  CrdtError *err)
{
	/*
	 * The entry goes to the stage, in one of the lines of the table that
	 * a row in random order finds cold: all are asked for at once, before
	 * the first field is read, rather than the one that staged names after
	 * it is (scratch A/B, tenth session: bcounter random 0.88-0.93).
	 */
	CRDT_PREFETCH_WRITE(t->stage);
	CRDT_PREFETCH_WRITE(t->stage + 64);
	CRDT_PREFETCH_WRITE(t->stage + CRDT_TABLE_STAGE - 1);
	if (kind == CRDT_PNCOUNTER)
		return (t->maps == 2 && absorb_own_pn_row(t, value, st, err)) ||
			absorb_single_halves(t, 2, value, st, err);
	return absorb_single_halves(t, 1, value, st, err);
}

bool
crdt_table_absorb_single(CrdtCounterTable *t, CrdtCounterKind kind, CrdtSlice value,
						 CrdtStatus *st, CrdtError *err)
{
	return absorb_single(t, kind, value, st, err);
}

/* Any other value, entry after entry (kept out of line: the fast path stays small). */
static CRDT_NOINLINE CrdtStatus
absorb_entries(CrdtCounterTable *t, CrdtCounterKind kind, CrdtSlice value, CrdtError *err)
{
	int			halves = kind == CRDT_PNCOUNTER ? 2 : 1;
	CrdtCounterReader r;
	CrdtMapEntry e;
	CrdtStatus	st;
	int			half;
	int			rc;

	if (halves == 2 && t->maps == 2)
	{
		/* validated first, so that errors are found where validate finds them */
		if ((st = crdt_counter_validate(kind, value, err)) != CRDT_OK)
			return st;
		return absorb_pairs(t, value, err);
	}
	if ((st = crdt_counter_reader_init(&r, kind, value, err)) != CRDT_OK)
		return st;
	while ((rc = crdt_counter_reader_next(&r, &e, &half, err)) > 0)
	{
		uint64_t	count[2] = {0, 0};

		count[half] = e.count;
		if (half < t->maps && (st = log_put(t, e.id, e.len, count, err)) != CRDT_OK)
			return st;
	}
	return rc < 0 ? err->status : CRDT_OK;
}

CrdtStatus
crdt_table_absorb(CrdtCounterTable *t, CrdtCounterKind kind, CrdtSlice value,
				  CrdtError *err)
{
	CrdtStatus	st;

	if (absorb_single(t, kind, value, &st, err))
		return st;
	return absorb_entries(t, kind, value, err);
}

CrdtStatus
crdt_table_absorb_table(CrdtCounterTable *t, const CrdtCounterTable *src, CrdtError *err)
{
	uint8_t		id[CRDT_REPLICA_ID_MAX];
	LogWalk		w;
	CrdtStatus	st;

	if (t == src)
		return CRDT_OK;			/* merging a state with itself changes nothing */
	/* src's entries in its order: a sorted log stays sorted in t */
	for (walk_start(&w, src); walk_more(&w);)
	{
		const uint8_t *p = w.p;
		size_t		suffix = p[0];
		size_t		shared = p[1];
		uint64_t	count[2];

		memcpy(id + shared, p + 2, suffix);
		p += 2 + suffix;
		read_counts(&p, w.end, src->maps, count);
		w.p = p;
		if (t->maps == 1)
			count[1] = 0;
		if ((st = log_put(t, id, shared + suffix, count, err)) != CRDT_OK)
			return st;
	}
	return CRDT_OK;
}
