/*
 * table_merge.c — a counter table's log with an unsorted tail, merged:
 * its entries decoded into items, the tail sorted (tablesort.c) and
 * merged with the sorted head, each id once with its largest counts;
 * folded back into the log (when the tail has outgrown it) or written as
 * the value.  And writing a log that is all head: a copy, or its two maps
 * split.
 */
#include "table_log.h"

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

		crdt_copy_short(id + shared, p + 2, suffix);
		memset(id + len, 0, 16);	/* zero padding for the integers (id has room) */
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
CrdtStatus
crdt_table_fold(CrdtCounterTable *t, CrdtError *err)
{
	CrdtCounterTable folded = *t;
	Merged		m;
	CrdtTableItem it;
	CrdtStatus	st;
	uint8_t		id[CRDT_REPLICA_ID_MAX];

	log_forget(&folded);			/* t's chunks stay t's until it is freed */
	if ((st = merge_log(t, &m, err)) == CRDT_OK)
		while (merged_next(&m, &it))
		{
			size_t		shared;

			crdt_table_item_id(&it, m.arena.data, id);
			shared = crdt_common_prefix(folded.prev, folded.prev_len, id, it.len);
			if (!stage_reserve(&folded, entry_room(&folded, it.len, shared)))
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

/* One map of a merged log, written entry by entry. */
typedef struct MergedMap
{
	CrdtBuf    *out;
	CrdtTableItem last;			/* the last item written: w0, w1, len, rest */
	size_t		entries;
} MergedMap;

/* Adds an item whose id shares "shared" bytes with the last one's. */
static CRDT_ALWAYS_INLINE void
merged_map_put(MergedMap *w, const CrdtTableItem *it, const uint8_t *id, size_t shared,
			   uint64_t count)
{
	if (crdt_map_entry_put(w->out, id, it->len, shared, count) == 0)
		return;					/* out->failed says why */
	w->last.w0 = it->w0;
	w->last.w1 = it->w1;
	w->last.len = it->len;
	w->last.rest = it->rest;
	w->entries++;
}

/* Adds an item, the prefix its id shares with the last one found from their integers. */
static CRDT_ALWAYS_INLINE void
merged_map_add(MergedMap *w, const CrdtTableItem *it, const uint8_t *id,
			   const uint8_t *arena, uint64_t count)
{
	if (count != 0)
		merged_map_put(w, it, id, w->entries == 0 ? 0 : items_shared(&w->last, it, arena),
					   count);
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
	MergedMap	w[2] = {{.out = out}, {.entries = 0}};
	/* every entry has both counts: both maps have the same ids */
	bool		same_ids = maps == 2 && t->absent == 0;
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
		if (same_ids)
		{
			/* one shared prefix for both */
			size_t		shared = w[0].entries == 0 ? 0
				: items_shared(&w[0].last, &it, m->arena.data);

			merged_map_put(&w[0], &it, id, shared, it.count[0]);
			merged_map_put(&w[1], &it, id, shared, it.count[1]);
			continue;
		}
		merged_map_add(&w[0], &it, id, m->arena.data, it.count[0]);
		if (maps == 2)
			merged_map_add(&w[1], &it, id, m->arena.data, it.count[1]);
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

		crdt_copy_short(id + shared, p + 2, suffix);
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

		crdt_copy_short(o[0], w.p, head);
		crdt_copy_short(o[1], w.p, head);
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
		crdt_buf_put(out, t->stage, t->staged);
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
		return table_too_many(err);
	return out->failed ? crdt_nomem(err) : CRDT_OK;
}
