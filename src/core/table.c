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
 * the sorted head and de-duplicated by maximum when the state is written,
 * and folded into the head in place once it outgrows both fold_min bytes
 * and the head.  That keeps the log within about twice the merged log plus
 * fold_min bytes (its chunks within twice that), and the cost O(n log n)
 * in the entries absorbed, in any order.
 *
 * The log is a list of chunks, each twice the size of the one before (64
 * bytes, then 128, up to 64 kB), none ever moved or freed until the log
 * is: groups that grow side by side (rows in random order, or keys
 * interleaved) would otherwise leave behind every smaller buffer they
 * outgrew, as many bytes again as they hold.  An entry is never split
 * between chunks, so a chunk is a run of whole entries.
 */
#include "crdt_core.h"

#include <stdlib.h>
#include <string.h>

/* an unsorted tail of up to this many bytes is sorted only when written */
#define LOG_FOLD_MIN 1024
/* palloc sizes of chunks, header included: the first, and the largest */
#define CHUNK_FIRST 64
#define CHUNK_MAX 65536

static CrdtStatus
too_many(CrdtError *err)
{
	return crdt_fail(err, CRDT_ERR_TOO_LARGE, -1,
					 "more than %d entries in one map", CRDT_MAX_ENTRIES);
}

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
	t->first = t->last = NULL;
	t->pos = NULL;
	t->room = t->len = t->sorted_len = t->sorted_entries = t->tail_entries = 0;
	t->prev_len = 0;
	t->absent = 0;
}

/* ------------------------------------------------------------- the log */

/* Bytes of entries in chunk c (the last one's end at pos). */
static inline size_t
chunk_used(const CrdtCounterTable *t, const CrdtTableChunk *c)
{
	return c == t->last ? (size_t) (t->pos - c->data) : c->used;
}

static bool log_add_chunk(CrdtCounterTable *t, size_t need);

/*
 * Room for an entry of up to need bytes at pos: in the last chunk, or a
 * new one twice its size.  The log stays under 4 GB (its sizes are 32-bit).
 */
static CRDT_ALWAYS_INLINE bool
log_reserve(CrdtCounterTable *t, size_t need)
{
	return t->room >= need || log_add_chunk(t, need);
}

static bool
log_add_chunk(CrdtCounterTable *t, size_t need)
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

/* Walks a log's entries, chunk after chunk. */
typedef struct LogWalk
{
	const CrdtCounterTable *t;
	const CrdtTableChunk *c;
	const uint8_t *p;			/* the next entry */
	const uint8_t *end;			/* of c's entries */
} LogWalk;

static inline void
walk_start(LogWalk *w, const CrdtCounterTable *t)
{
	w->t = t;
	w->c = t->first;
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
		if (w->c == NULL || w->c->next == NULL)
			return false;
		w->c = w->c->next;
		w->p = w->c->data;
		w->end = w->p + chunk_used(w->t, w->c);
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
 * Appends an entry sharing exactly "shared" bytes with the last one, at
 * pos, entry_room being free: both lengths are at most 64, one varint
 * byte each; then the counts, 0 for a map without the id.
 */
static CRDT_ALWAYS_INLINE void
append_entry(CrdtCounterTable *t, const uint8_t *id, size_t len, size_t shared,
			 const uint64_t count[2])
{
	uint8_t    *p = t->pos;
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
	t->len += (uint32_t) (p - t->pos);
	t->room -= (uint32_t) (p - t->pos);
	t->pos = p;
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

/* The last entry's id is the id: keep the larger counts, in place. */
static void
raise_last(CrdtCounterTable *t, const uint64_t count[2])
{
	uint8_t    *counts = t->pos - t->counts_back;
	const uint8_t *p = counts;
	uint64_t	last[2];
	bool		in_head = t->sorted_len == t->len;
	uint8_t    *w = counts;

	read_counts(&p, t->pos, t->maps, last);
	if (count[0] <= last[0] && count[1] <= last[1])
		return;
	/* room for the longest counts: entry_room left it */
	w += crdt_varint_encode(w, count[0] > last[0] ? count[0] : last[0]);
	if (t->maps == 2)
		w += crdt_varint_encode(w, count[1] > last[1] ? count[1] : last[1]);
	t->len = t->len - t->counts_back + (uint32_t) (w - counts);
	t->room = t->room + t->counts_back - (uint32_t) (w - counts);
	t->counts_back = (uint8_t) (w - counts);
	t->pos = w;
	if (in_head)
		t->sorted_len = t->len;
}

static CrdtStatus fold(CrdtCounterTable *t, CrdtError *err);

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
		return too_many(err);
	if (!log_reserve(t, entry_room(t, len, shared)))
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
		return fold(t, err);
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

/* --------------------------------------------------------- the merged log */

/*
 * A log with an unsorted tail, decoded: the head's items (sorted and
 * distinct) and the tail's, sorted; merged_next yields every id once, in
 * order, with its largest counts.
 */
typedef struct Merged
{
	const CrdtTableItem *head;
	size_t		nh;
	const CrdtTableItem *tail;	/* in log order */
	const CrdtTableKey *order;	/* the tail's, sorted */
	size_t		nt;
	size_t		i;				/* the next head item */
	size_t		j;				/* the next tail key */
	CrdtTableItem *block;
	CrdtBuf		arena;			/* bytes 16.. of longer ids */
} Merged;

/* Leading zero bytes of a nonzero word. */
static inline size_t
zero_bytes_above(uint64_t d)
{
#if defined(__GNUC__)
	return (size_t) __builtin_clzll(d) / 8;
#else
	size_t		n = 0;

	for (; (d >> 56) == 0; d <<= 8)
		n++;
	return n;
#endif
}

/*
 * How many bytes the ids of n items share at their start: where their
 * first 16 bytes (zero-padded, no NUL in an id) first differ, from the
 * integers; past those, byte by byte.
 */
static size_t
items_common(const CrdtTableItem *items, size_t n, const uint8_t *arena)
{
	uint64_t	d0 = 0;
	uint64_t	d1 = 0;
	size_t		common = n > 0 ? items[0].len : 0;

	for (size_t k = 1; k < n; k++)
	{
		d0 |= items[k].w0 ^ items[0].w0;
		d1 |= items[k].w1 ^ items[0].w1;
	}
	if (d0 != 0)
		return zero_bytes_above(d0);
	if (d1 != 0)
		return 8 + zero_bytes_above(d1);
	/* the same first 16 bytes: the same length if under 16 (zero padding) */
	for (size_t k = 1; k < n && common > 16; k++)
		common = items[k].len <= 16 ? 16
			: 16 + crdt_common_prefix(arena + items[0].rest, common - 16,
									  arena + items[k].rest, items[k].len - 16);
	return common;
}

/*
 * Decodes the log's entries into items, in log order; returns how many
 * bytes all the tail's ids share at their start.
 */
static size_t
decode_items(const CrdtCounterTable *t, CrdtTableItem *items, CrdtBuf *arena)
{
	uint8_t		id[CRDT_REPLICA_ID_MAX + 16];
	size_t		n = 0;
	LogWalk		w;

	for (walk_start(&w, t); walk_more(&w); n++)
	{
		const uint8_t *p = w.p;
		size_t		suffix = p[0];
		size_t		shared = p[1];
		size_t		len = shared + suffix;

		memcpy(id + shared, p + 2, suffix);
		if (len < 16)
			memset(id + len, 0, 16 - len);	/* zero padding for the integers */
		p += 2 + suffix;
		read_counts(&p, w.end, t->maps, items[n].count);
		crdt_table_item_set(&items[n], id, len, arena);
		w.p = p;
	}
	if (arena->failed)
		return 0;				/* the caller reports it */
	return items_common(items + t->sorted_entries, n - t->sorted_entries, arena->data);
}

static CrdtStatus
merge_log(const CrdtCounterTable *t, Merged *m, CrdtError *err)
{
	const CrdtAllocator *alloc = t->alloc;
	size_t		nh = t->sorted_entries;
	size_t		nt = t->tail_entries;
	size_t		common;

	memset(m, 0, sizeof(*m));
	m->arena.alloc = alloc;		/* allocated only for long ids */
	/* the items, then the tail's keys and the sort's scratch keys */
	m->block = alloc->alloc(alloc->ctx,
							(nh + nt) * sizeof(CrdtTableItem) + 2 * nt * sizeof(CrdtTableKey));
	if (m->block == NULL)
		return crdt_nomem(err);
	common = decode_items(t, m->block, &m->arena);
	if (m->arena.failed)
		return crdt_nomem(err);
	m->head = m->block;
	m->nh = nh;
	m->tail = m->block + nh;
	m->nt = nt;
	m->order = crdt_table_sort(m->tail, nt, (CrdtTableKey *) (m->block + nh + nt),
							   m->arena.data, common);
	return CRDT_OK;
}

/* crdt_table_item_cmp, inline while the first 16 bytes decide */
static inline int
item_cmp(const CrdtTableItem *a, const CrdtTableItem *b, const uint8_t *arena)
{
	if (a->w0 != b->w0)
		return a->w0 < b->w0 ? -1 : 1;
	if (a->w1 != b->w1)
		return a->w1 < b->w1 ? -1 : 1;
	if (a->len <= 16 || b->len <= 16)
		return a->len == b->len ? 0 : (a->len < b->len ? -1 : 1);
	return crdt_table_item_cmp(a, b, arena);
}

/* The next id into *out, with its largest counts; false after the last. */
static CRDT_ALWAYS_INLINE bool
merged_next(Merged *m, CrdtTableItem *out)
{
	const CrdtTableItem *next;

	if (m->i >= m->nh && m->j >= m->nt)
		return false;
	/* the head is distinct: a tail item equal to one comes after it */
	if (m->j >= m->nt ||
		(m->i < m->nh &&
		 item_cmp(&m->head[m->i], &m->tail[m->order[m->j].item], m->arena.data) <= 0))
		next = &m->head[m->i++];
	else
		next = &m->tail[m->order[m->j++].item];
	*out = *next;
	for (; m->j < m->nt; m->j++)
	{
		const CrdtTableItem *same = &m->tail[m->order[m->j].item];

		if (item_cmp(out, same, m->arena.data) != 0)
			break;
		for (int h = 0; h < 2; h++)
			if (same->count[h] > out->count[h])
				out->count[h] = same->count[h];
	}
	return true;
}

static void
merged_free(const CrdtAllocator *alloc, Merged *m)
{
	if (m->block != NULL)
		alloc->release(alloc->ctx, m->block);
	crdt_buf_free(&m->arena);
}

/* Replaces the log by its merged form: sorted, each id once. */
static CrdtStatus
fold(CrdtCounterTable *t, CrdtError *err)
{
	CrdtCounterTable folded = *t;
	Merged		m;
	CrdtTableItem it;
	CrdtStatus	st;
	uint8_t		id[CRDT_REPLICA_ID_MAX];

	folded.first = folded.last = NULL;
	folded.pos = NULL;
	folded.room = folded.len = folded.sorted_entries = folded.tail_entries = 0;
	folded.prev_len = 0;
	folded.absent = 0;
	if ((st = merge_log(t, &m, err)) == CRDT_OK)
		while (merged_next(&m, &it))
		{
			size_t		shared;

			crdt_table_item_id(&it, m.arena.data, id);
			shared = crdt_common_prefix(folded.prev, folded.prev_len, id, it.len);
			if (!log_reserve(&folded, entry_room(&folded, it.len, shared)))
			{
				st = crdt_nomem(err);
				break;
			}
			append_entry(&folded, id, it.len, shared, it.count);
			folded.sorted_entries++;
		}
	merged_free(t->alloc, &m);
	if (st != CRDT_OK)
	{
		crdt_table_free(&folded);
		return st;
	}
	folded.sorted_len = folded.len;
	crdt_table_free(t);
	*t = folded;
	return CRDT_OK;
}

/* ------------------------------------------------------------- writing */

/* The prefix two items' ids share: from their integers while it can (ids hold no NUL). */
static inline size_t
items_shared(const CrdtTableItem *a, const CrdtTableItem *b, const uint8_t *arena)
{
	size_t		limit = a->len < b->len ? a->len : b->len;
	size_t		n;

	if (a->w0 != b->w0)
		n = zero_bytes_above(a->w0 ^ b->w0);
	else if (a->w1 != b->w1)
		n = 8 + zero_bytes_above(a->w1 ^ b->w1);
	else if (limit > 16)
		n = 16 + crdt_common_prefix(arena + a->rest, a->len - 16, arena + b->rest, b->len - 16);
	else
		n = limit;
	return n < limit ? n : limit;
}

/* One map of a merged log, written entry by entry (the map's format, as map.c writes it). */
typedef struct ItemMapWriter
{
	CrdtBuf    *out;
	CrdtTableItem last;			/* the last item written */
	size_t		entries;
} ItemMapWriter;

static CRDT_ALWAYS_INLINE void
item_map_add(ItemMapWriter *w, const CrdtTableItem *it, const uint8_t *id,
			 const uint8_t *arena, uint64_t count)
{
	size_t		shared;
	uint8_t    *p;

	if (count == 0)
		return;
	shared = w->entries == 0 ? 0 : items_shared(&w->last, it, arena);
	/* both lengths are at most 64, so each is one varint byte */
	if (!crdt_buf_reserve(w->out, 2 + (it->len - shared) + CRDT_VARINT_MAX))
		return;
	p = w->out->data + w->out->len;
	*p++ = (uint8_t) (it->len - shared);
	*p++ = (uint8_t) shared;
	crdt_copy_short(p, id + shared, it->len - shared);
	p += it->len - shared;
	p += crdt_varint_encode(p, count);
	w->out->len = (size_t) (p - w->out->data);
	w->last.w0 = it->w0;		/* what items_shared reads */
	w->last.w1 = it->w1;
	w->last.len = it->len;
	w->last.rest = it->rest;
	w->entries++;
}

/*
 * The maps (one, or P and N) of a log with an unsorted tail, in one walk
 * of its merged entries: each id is rebuilt once for both maps, and the
 * prefix it shares with the one before found from the items' integers; P
 * (or the one map) goes into out, N into a buffer of its own appended
 * after it.  False past the entry limit.
 */
static bool
write_merged(const CrdtCounterTable *t, Merged *m, int maps, CrdtBuf *out)
{
	ItemMapWriter w[2] = {{.out = out}, {.entries = 0}};
	CrdtBuf		n_map;
	CrdtTableItem it;
	uint8_t		id[CRDT_REPLICA_ID_MAX];

	memset(&n_map, 0, sizeof(n_map));
	n_map.alloc = t->alloc;
	w[1].out = &n_map;
	/* the merged maps take no more than the log: one reservation each */
	(void) crdt_buf_reserve(out, t->len + 16);
	if (maps == 2)
		(void) crdt_buf_reserve(&n_map, t->len / 2 + 16);	/* grows if it must */
	m->i = m->j = 0;
	while (merged_next(m, &it))
	{
		crdt_table_item_id(&it, m->arena.data, id);
		item_map_add(&w[0], &it, id, m->arena.data, it.count[0]);
		if (maps == 2)
			item_map_add(&w[1], &it, id, m->arena.data, it.count[1]);
	}
	crdt_buf_put_byte(out, 0);
	if (maps == 2)
	{
		crdt_buf_put_byte(&n_map, 0);
		if (n_map.failed)
			out->failed = true;
		else
			crdt_buf_put(out, n_map.data, n_map.len);
	}
	crdt_buf_free(&n_map);
	return w[0].entries <= CRDT_MAX_ENTRIES && w[1].entries <= CRDT_MAX_ENTRIES;
}

/* Map h of a sorted log of two maps, each entry through a map writer. */
static bool
write_sorted_map(const CrdtCounterTable *t, int h, CrdtBuf *out)
{
	CrdtMapWriter w;
	LogWalk		walk;
	uint8_t		id[CRDT_REPLICA_ID_MAX];
	uint64_t	count[2];

	crdt_map_writer_init(&w, out);
	for (walk_start(&walk, t); walk_more(&walk);)
	{
		const uint8_t *p = walk.p;
		size_t		suffix = p[0];
		size_t		shared = p[1];

		memcpy(id + shared, p + 2, suffix);
		p += 2 + suffix;
		read_counts(&p, walk.end, 2, count);
		walk.p = p;
		if (count[h] != 0)
			crdt_map_writer_add(&w, id, shared + suffix, count[h]);
	}
	crdt_map_writer_finish(&w);
	return w.entries <= CRDT_MAX_ENTRIES;
}

/*
 * Both maps of a sorted log in which every entry has both counts, in one
 * pass: each entry copied twice with one of its counts (the same ids, so
 * the same shared prefixes), P's at the end of out, N's after room for
 * all of P, then moved down behind P.
 */
static void
write_sorted_both(const CrdtCounterTable *t, CrdtBuf *out)
{
	uint8_t    *o[2];
	uint8_t    *n_start;
	LogWalk		w;

	if (!crdt_buf_reserve(out, 2 * (size_t) t->len + 2))
		return;					/* out->failed says why */
	o[0] = out->data + out->len;
	o[1] = n_start = o[0] + t->len + 1;
	for (walk_start(&w, t); walk_more(&w);)
	{
		size_t		head = 2 + w.p[0];
		const uint8_t *c = w.p + head;

		memcpy(o[0], w.p, head);
		memcpy(o[1], w.p, head);
		o[0] += head;
		o[1] += head;
		for (int k = 0; k < 2; k++)
			do
				*o[k]++ = *c;
			while (*c++ & 0x80);
		w.p = c;
	}
	*o[0]++ = 0;
	*o[1]++ = 0;
	memmove(o[0], n_start, (size_t) (o[1] - n_start));
	out->len = (size_t) (o[0] - out->data) + (size_t) (o[1] - n_start);
}

/* Does not change t: a final function may run more than once per state. */
CrdtStatus
crdt_table_write(const CrdtCounterTable *t, CrdtCounterKind kind, CrdtBuf *out,
				 CrdtError *err)
{
	int			halves = kind == CRDT_PNCOUNTER ? 2 : 1;
	bool		fits = true;
	Merged		m;
	CrdtStatus	st = CRDT_OK;

	crdt_buf_put_byte(out, CRDT_FORMAT_V1);
	if (t->sorted_len != t->len)
	{
		if ((st = merge_log(t, &m, err)) == CRDT_OK)
			fits = write_merged(t, &m, t->maps < halves ? t->maps : halves, out);
		merged_free(t->alloc, &m);
	}
	else if (t->maps == 1)
	{
		/* the log is the map, chunk after chunk */
		for (const CrdtTableChunk *c = t->first; c != NULL; c = c->next)
			crdt_buf_put(out, c->data, chunk_used(t, c));
		crdt_buf_put_byte(out, 0);
	}
	else if (halves == 2 && t->absent == 0 && t->len > 0)
		write_sorted_both(t, out);	/* entries <= CRDT_MAX_ENTRIES: log_put */
	else
		for (int h = 0; h < halves; h++)
			fits &= write_sorted_map(t, h, out);
	if (st != CRDT_OK)
		return st;
	/* a vclock or gcounter table written as a pncounter: N is empty */
	for (int h = t->maps; h < halves; h++)
		crdt_buf_put_byte(out, 0);
	if (!fits)
		return too_many(err);
	return out->failed ? crdt_nomem(err) : CRDT_OK;
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
 * Decodes a value whose maps hold at most one entry each — the shape of
 * nearly every replica row, which carries only its own replica's entry —
 * checking exactly what the general reader checks.  Returns false, having
 * changed nothing, for any other shape or for invalid bytes, so the
 * general path runs and reports the error.
 */
typedef struct SingleEntry
{
	const uint8_t *id;
	size_t		len;
	size_t		shared;			/* P's entry: its prefix in common with t's last id */
	uint64_t	count;
	bool		same_id;		/* N's entry: the id of P's entry */
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
		e->same_id = false;
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
		/* a pncounter row's N entry is usually its P entry's replica */
		e->same_id = h == 1 && found[0].count != 0 && e->len == found[0].len &&
			crdt_common_prefix(e->id, e->len, found[0].id, e->len) == e->len;
		if (h == 0)
		{
			e->shared = crdt_common_prefix(t->prev, t->prev_len, e->id, e->len);
			if (!id_valid_after_last(t, e->id, e->len, e->shared))
				return false;
		}
		else if (!e->same_id && crdt_replica_id_check(e->id, e->len) != NULL)
			return false;
		if (crdt_varint_decode(&p, end, &e->count) != CRDT_VARINT_OK ||
			e->count == 0 || e->count > (uint64_t) INT64_MAX ||
			p >= end || *p++ != 0)
			return false;
	}
	return p == end;
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

/* crdt_table_absorb_single, inlined into crdt_table_absorb too */
static CRDT_ALWAYS_INLINE bool
absorb_single(CrdtCounterTable *t, CrdtCounterKind kind, CrdtSlice value, CrdtStatus *st,
			  CrdtError *err)
{
	SingleEntry single[2];
	int			halves = kind == CRDT_PNCOUNTER ? 2 : 1;
	uint64_t	count[2];

	if (!decode_single_entries(t, value, halves, single))
		return false;
	count[0] = single[0].count;
	count[1] = 0;
	if (halves == 2 && t->maps == 2 && single[1].count != 0 && single[1].same_id)
	{
		/* one replica's P and N: one entry */
		count[1] = single[1].count;
		*st = log_put_shared(t, single[0].id, single[0].len, single[0].shared, count, err);
		return true;
	}
	if ((*st = log_put_shared(t, single[0].id, single[0].len, single[0].shared, count,
							  err)) != CRDT_OK ||
		halves == 1 || t->maps == 1 || single[1].count == 0)
		return true;
	count[0] = 0;
	count[1] = single[1].count;
	*st = log_put(t, single[1].id, single[1].len, count, err);
	return true;
}

bool
crdt_table_absorb_single(CrdtCounterTable *t, CrdtCounterKind kind, CrdtSlice value,
						 CrdtStatus *st, CrdtError *err)
{
	/* as in crdt_table_absorb: one inlined copy per number of maps */
	return kind == CRDT_PNCOUNTER ? absorb_single(t, CRDT_PNCOUNTER, value, st, err)
		: absorb_single(t, kind, value, st, err);
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

	/* one inlined copy per number of maps, each with its constants folded */
	if (kind == CRDT_PNCOUNTER ? absorb_single(t, CRDT_PNCOUNTER, value, &st, err)
		: absorb_single(t, kind, value, &st, err))
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
