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
 * and the head.  That keeps memory within about twice the merged log plus
 * fold_min, and the cost O(n log n) in the entries absorbed, in any order.
 */
#include "crdt_core.h"

#include <stdlib.h>
#include <string.h>

/* an unsorted tail of up to this many bytes is sorted only when written */
#define LOG_FOLD_MIN 1024
/* a suffix length and a shared length (one varint byte each), two counts */
#define LOG_ENTRY_MAX (2 + CRDT_REPLICA_ID_MAX + 2 * CRDT_VARINT_MAX)

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
	t->maps = kind == CRDT_PNCOUNTER ? 2 : 1;
	return CRDT_OK;
}

void
crdt_table_free(CrdtCounterTable *t)
{
	if (t->data != NULL)
		t->alloc->release(t->alloc->ctx, t->data);
	t->data = NULL;
	t->len = t->cap = t->sorted_len = t->sorted_entries = t->tail_entries = 0;
	t->prev_len = 0;
	t->absent = 0;
}

/* ------------------------------------------------------------- the log */

/* Length of the common prefix of a and b, a word at a time while it can. */
static inline size_t
common_prefix(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
	size_t		limit = alen < blen ? alen : blen;
	size_t		n = 0;

	while (n + 8 <= limit)
	{
		uint64_t	wa;
		uint64_t	wb;

		memcpy(&wa, a + n, 8);
		memcpy(&wb, b + n, 8);
		if (wa != wb)
			break;
		n += 8;
	}
	while (n < limit && a[n] == b[n])
		n++;
	return n;
}

/* Room for extra more bytes; the log stays under 4 GB (its offsets are 32-bit). */
static bool
log_reserve(CrdtCounterTable *t, size_t extra)
{
	size_t		need = (size_t) t->len + extra;
	size_t		cap = t->cap < 64 ? 64 : t->cap;
	uint8_t    *grown;

	if (need <= t->cap)
		return true;
	while (cap < need)
		cap *= 2;
	if (cap > UINT32_MAX)
		return false;
	if (t->data == NULL)
		grown = t->alloc->alloc(t->alloc->ctx, cap);
	else
		grown = t->alloc->resize(t->alloc->ctx, t->data, cap);
	if (grown == NULL)
		return false;
	t->data = grown;
	t->cap = (uint32_t) cap;
	return true;
}

/*
 * Appends an entry sharing exactly "shared" bytes with the last one, at
 * least LOG_ENTRY_MAX bytes being free: both lengths are at most 64, one
 * varint byte each; then the counts, 0 for a map without the id.
 */
static inline void
append_entry(CrdtCounterTable *t, const uint8_t *id, size_t len, size_t shared,
			 const uint64_t count[2])
{
	uint8_t    *p = t->data + t->len;

	*p++ = (uint8_t) (len - shared);
	*p++ = (uint8_t) shared;
	memcpy(p, id + shared, len - shared);
	p += len - shared;
	t->last_count_at = (uint32_t) (p - t->data);
	p += crdt_varint_encode(p, count[0]);
	if (t->maps == 2)
	{
		p += crdt_varint_encode(p, count[1]);
		t->absent |= (uint8_t) ((count[0] == 0) | (count[1] == 0) << 1);
	}
	t->len = (uint32_t) (p - t->data);
	memcpy(t->prev + shared, id + shared, len - shared);
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
	const uint8_t *p = t->data + t->last_count_at;
	uint64_t	last[2];
	bool		in_head = t->sorted_len == t->len;
	uint8_t    *w = t->data + t->last_count_at;

	read_counts(&p, t->data + t->len, t->maps, last);
	if (count[0] <= last[0] && count[1] <= last[1])
		return;
	/* room for the longest counts: log_put and fold leave it */
	w += crdt_varint_encode(w, count[0] > last[0] ? count[0] : last[0]);
	if (t->maps == 2)
		w += crdt_varint_encode(w, count[1] > last[1] ? count[1] : last[1]);
	t->len = (uint32_t) (w - t->data);
	if (in_head)
		t->sorted_len = t->len;
}

static CrdtStatus fold(CrdtCounterTable *t, CrdtError *err);

/* Merges (id, counts) into the log: what every input row costs. */
static inline CrdtStatus
log_put(CrdtCounterTable *t, const uint8_t *id, size_t len, const uint64_t count[2],
		CrdtError *err)
{
	size_t		shared;
	bool		in_order = t->sorted_len == t->len;
	uint32_t	tail;

	if (count[0] == 0 && count[1] == 0)
		return CRDT_OK;			/* max with 0 changes nothing */
	shared = common_prefix(t->prev, t->prev_len, id, len);
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
	if (!log_reserve(t, LOG_ENTRY_MAX))
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
	const CrdtTableItem *tail;		/* in log order */
	const CrdtTableKey *order;		/* the tail's, sorted */
	size_t		nt;
	size_t		i;				/* the next head item */
	size_t		j;				/* the next tail key */
	CrdtTableItem    *block;
	CrdtBuf		arena;			/* bytes 16.. of longer ids */
} Merged;

/*
 * Decodes the log's entries into items, in log order; returns how many
 * bytes all the tail's ids share at their start.
 */
static size_t
decode_items(const CrdtCounterTable *t, CrdtTableItem *items, CrdtBuf *arena)
{
	const uint8_t *p = t->data;
	const uint8_t *end = t->data + t->len;
	const uint8_t *tail = t->data + t->sorted_len;
	uint8_t		id[CRDT_REPLICA_ID_MAX + 16];
	uint8_t		first[CRDT_REPLICA_ID_MAX];
	size_t		common = 0;
	CrdtTableItem    *it = items;

	while (p < end)
	{
		size_t		suffix = p[0];
		size_t		shared = p[1];
		size_t		len = shared + suffix;

		if (p == tail)
		{
			memcpy(first + shared, p + 2, suffix);
			memcpy(first, id, shared);
			common = len;
		}
		memcpy(id + shared, p + 2, suffix);
		p += 2 + suffix;
		if (p > tail)
			common = common_prefix(first, common, id, len);
		if (len < 16)
			memset(id + len, 0, 16 - len);	/* zero padding for the integers */
		read_counts(&p, end, t->maps, it->count);
		crdt_table_item_set(it, id, len, arena);
		it++;
	}
	return common;
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
	m->block = alloc->alloc(alloc->ctx, (nh + nt) * sizeof(CrdtTableItem) + 2 * nt * sizeof(CrdtTableKey));
	if (m->block == NULL)
		return crdt_nomem(err);
	common = decode_items(t, m->block, &m->arena);
	if (m->arena.failed)
		return crdt_nomem(err);
	m->head = m->block;
	m->nh = nh;
	m->tail = m->block + nh;
	m->nt = nt;
	m->order = crdt_table_sort(m->tail, nt, (CrdtTableKey *) (m->block + nh + nt), m->arena.data, common);
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
static inline bool
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
	CrdtTableItem		it;
	CrdtStatus	st;
	uint8_t		id[CRDT_REPLICA_ID_MAX];

	folded.data = NULL;
	folded.len = folded.cap = folded.sorted_entries = folded.tail_entries = 0;
	folded.prev_len = 0;
	folded.absent = 0;
	if ((st = merge_log(t, &m, err)) == CRDT_OK)
		while (merged_next(&m, &it))
		{
			if (!log_reserve(&folded, LOG_ENTRY_MAX))
			{
				st = crdt_nomem(err);
				break;
			}
			crdt_table_item_id(&it, m.arena.data, id);
			append_entry(&folded, id, it.len,
						 common_prefix(folded.prev, folded.prev_len, id, it.len), it.count);
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

/* Map h of a log with an unsorted tail; false past the entry limit. */
static bool
write_merged(Merged *m, int h, CrdtBuf *out)
{
	CrdtMapWriter w;
	CrdtTableItem		it;
	uint8_t		id[CRDT_REPLICA_ID_MAX];

	m->i = m->j = 0;
	crdt_map_writer_init(&w, out);
	while (merged_next(m, &it))
	{
		if (it.count[h] == 0)
			continue;
		crdt_table_item_id(&it, m->arena.data, id);
		crdt_map_writer_add(&w, id, it.len, it.count[h]);
	}
	crdt_map_writer_finish(&w);
	return w.entries <= CRDT_MAX_ENTRIES;
}

/*
 * Map h of a sorted log of two maps.  When every entry has a count in
 * map h, its entries are the log's with the other count left out (the
 * same ids, so the same shared prefixes); otherwise each goes through a
 * map writer, which front-codes it against the map's previous one.
 */
static bool
write_sorted_map(const CrdtCounterTable *t, int h, CrdtBuf *out)
{
	const uint8_t *p = t->data;
	/* an empty table has no buffer, and NULL + 0 is undefined */
	const uint8_t *end = p == NULL ? NULL : t->data + t->len;
	CrdtMapWriter w;
	uint8_t		id[CRDT_REPLICA_ID_MAX];
	uint64_t	count[2];

	crdt_map_writer_init(&w, out);
	if ((t->absent & (1 << h)) == 0)
	{
		/* every entry in the map: copied but for the other count */
		if (!crdt_buf_reserve(out, t->len + 1))
			return true;		/* out->failed says why */
		while (p < end)
		{
			uint8_t    *o = out->data + out->len;
			size_t		head = 2 + p[0];
			const uint8_t *c = p + head;

			memcpy(o, p, head);
			o += head;
			for (int k = 0; k < 2; k++)
			{
				const uint8_t *from = c;

				while (*c++ & 0x80)
					;
				if (k == h)
				{
					memcpy(o, from, (size_t) (c - from));
					o += c - from;
				}
			}
			out->len = (size_t) (o - out->data);
			p = c;
			w.entries++;
		}
	}
	else
		while (p < end)
		{
			size_t		suffix = p[0];
			size_t		shared = p[1];

			memcpy(id + shared, p + 2, suffix);
			p += 2 + suffix;
			read_counts(&p, end, 2, count);
			if (count[h] != 0)
				crdt_map_writer_add(&w, id, shared + suffix, count[h]);
		}
	crdt_map_writer_finish(&w);
	return w.entries <= CRDT_MAX_ENTRIES;
}

/*
 * Both maps of a sorted log in which every entry has both counts, in one
 * pass: P's entries at the end of out, N's after room for all of P, then
 * moved down behind P.
 */
static void
write_sorted_both(const CrdtCounterTable *t, CrdtBuf *out)
{
	const uint8_t *p = t->data;
	const uint8_t *end = t->data + t->len;
	uint8_t    *o[2];
	size_t		start;

	if (!crdt_buf_reserve(out, 2 * (size_t) t->len + 2))
		return;					/* out->failed says why */
	start = out->len;
	o[0] = out->data + start;
	o[1] = o[0] + t->len + 1;
	while (p < end)
	{
		size_t		head = 2 + p[0];
		const uint8_t *c = p + head;

		memcpy(o[0], p, head);
		memcpy(o[1], p, head);
		o[0] += head;
		o[1] += head;
		for (int k = 0; k < 2; k++)
			do
				*o[k]++ = *c;
			while (*c++ & 0x80);
		p = c;
	}
	*o[0]++ = 0;
	*o[1]++ = 0;
	/* N after P: P took at most t->len bytes */
	memmove(o[0], out->data + start + t->len + 1, (size_t) (o[1] - (out->data + start + t->len + 1)));
	out->len = (size_t) (o[0] - out->data) + (size_t) (o[1] - (out->data + start + t->len + 1));
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
			for (int h = 0; h < t->maps && h < halves; h++)
				fits &= write_merged(&m, h, out);
		merged_free(t->alloc, &m);
	}
	else if (t->maps == 1)
	{
		/* the log is the map */
		if (t->len > 0)
			crdt_buf_put(out, t->data, t->len);
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

	if (len == 0 || len > CRDT_REPLICA_ID_MAX || half < 0 || half > 1)
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
	uint64_t	count;
} SingleEntry;

static bool
decode_single_entries(CrdtSlice value, int halves, SingleEntry found[2])
{
	const uint8_t *p = value.data;
	const uint8_t *end = value.data + value.len;

	if (value.len < 1 + (size_t) halves || *p++ != CRDT_FORMAT_V1)
		return false;
	for (int h = 0; h < halves; h++)
	{
		SingleEntry *e = &found[h];

		e->count = 0;
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
		if ((h == 0 || found[0].count == 0 || e->len != found[0].len ||
			 common_prefix(e->id, e->len, found[0].id, e->len) != e->len) &&
			crdt_replica_id_check(e->id, e->len) != NULL)
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

CrdtStatus
crdt_table_absorb(CrdtCounterTable *t, CrdtCounterKind kind, CrdtSlice value,
				  CrdtError *err)
{
	SingleEntry single[2];
	int			halves = kind == CRDT_PNCOUNTER ? 2 : 1;
	CrdtCounterReader r;
	CrdtMapEntry e;
	CrdtStatus	st;
	int			half;
	int			rc;

	if (decode_single_entries(value, halves, single))
	{
		uint64_t	count[2] = {single[0].count, 0};

		if (halves == 2 && t->maps == 2 && single[0].count != 0 && single[1].count != 0 &&
			single[0].len == single[1].len &&
			common_prefix(single[0].id, single[0].len, single[1].id, single[1].len) ==
			single[0].len)
		{
			/* one replica's P and N: one entry */
			count[1] = single[1].count;
			return log_put(t, single[0].id, single[0].len, count, err);
		}
		if ((st = log_put(t, single[0].id, single[0].len, count, err)) != CRDT_OK ||
			halves == 1 || t->maps == 1 || single[1].count == 0)
			return st;
		count[0] = 0;
		count[1] = single[1].count;
		return log_put(t, single[1].id, single[1].len, count, err);
	}
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
crdt_table_absorb_table(CrdtCounterTable *t, const CrdtCounterTable *src, CrdtError *err)
{
	const uint8_t *p = src->data;
	uint8_t		id[CRDT_REPLICA_ID_MAX];
	CrdtStatus	st;

	if (t == src)
		return CRDT_OK;			/* merging a state with itself changes nothing */
	/* src's entries in its order: a sorted log stays sorted in t */
	while (src->len > 0 && p < src->data + src->len)
	{
		size_t		suffix = p[0];
		size_t		shared = p[1];
		uint64_t	count[2];

		memcpy(id + shared, p + 2, suffix);
		p += 2 + suffix;
		read_counts(&p, src->data + src->len, src->maps, count);
		if (t->maps == 1)
			count[1] = 0;
		if ((st = log_put(t, id, shared + suffix, count, err)) != CRDT_OK)
			return st;
	}
	return CRDT_OK;
}
