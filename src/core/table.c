/*
 * table.c — the transition state of the crdt_merge aggregates.
 *
 * Each map is a log of the entries merged into it, each front-coded (as in
 * the encoded map) against the entry before it, in arrival order.  While
 * ids arrive in strictly increasing order the log is exactly the encoded
 * map's body: a repeat of the last id only rewrites its count, and writing
 * is a copy.  An entry out of order is appended the same way, starting an
 * unsorted tail; the tail is sorted (merge sort of 32-byte items that hold
 * an id's first 16 bytes as two integers), merged with the sorted head and
 * de-duplicated by maximum when the state is written, and folded into the
 * head in place once it outgrows both LOG_FOLD_MIN bytes and the head.
 * That keeps memory within about twice the merged map plus LOG_FOLD_MIN,
 * and the cost O(n log n) in the entries absorbed, in any order.
 *
 * Replica ids contain no NUL byte (no control characters), so an id is
 * ordered by its zero-padded first 16 bytes, then by what follows them,
 * then by length; ids of at most 16 bytes are their two integers and their
 * length, and only longer ids keep their remaining bytes while sorting.
 */
#include "crdt_core.h"

#include <stdlib.h>
#include <string.h>

/* an unsorted tail of up to this many bytes is sorted only when written */
#define LOG_FOLD_MIN 1024
/* a suffix length and a shared length (one varint byte each), the count */
#define LOG_ENTRY_MAX (2 + CRDT_REPLICA_ID_MAX + CRDT_VARINT_MAX)
/* insertion-sorted runs before merging */
#define SORT_RUN 8

static CrdtStatus
too_many(CrdtError *err)
{
	return crdt_fail(err, CRDT_ERR_TOO_LARGE, -1,
					 "more than %d entries in one map", CRDT_MAX_ENTRIES);
}

CrdtStatus
crdt_table_init(CrdtCounterTable *t, const CrdtAllocator *alloc, CrdtError *err)
{
	(void) err;
	memset(t, 0, sizeof(*t));		/* no allocation until the first entry */
	t->alloc = alloc;
	t->fold_min = LOG_FOLD_MIN;
	return CRDT_OK;
}

void
crdt_table_free(CrdtCounterTable *t)
{
	for (int h = 0; h < 2; h++)
	{
		if (t->log[h].data != NULL)
			t->alloc->release(t->alloc->ctx, t->log[h].data);
		memset(&t->log[h], 0, sizeof(t->log[h]));
	}
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
log_reserve(const CrdtAllocator *alloc, CrdtTableLog *log, size_t extra)
{
	size_t		need = (size_t) log->len + extra;
	size_t		cap = log->cap < 64 ? 64 : log->cap;
	uint8_t    *grown;

	if (need <= log->cap)
		return true;
	while (cap < need)
		cap *= 2;
	if (cap > UINT32_MAX)
		return false;
	if (log->data == NULL)
		grown = alloc->alloc(alloc->ctx, cap);
	else
		grown = alloc->resize(alloc->ctx, log->data, cap);
	if (grown == NULL)
		return false;
	log->data = grown;
	log->cap = (uint32_t) cap;
	return true;
}

static CrdtStatus fold(const CrdtAllocator *alloc, CrdtTableLog *log, CrdtError *err);

/* The last entry's id is id: keep the larger count, in place. */
static void
raise_last(CrdtTableLog *log, uint64_t count)
{
	const uint8_t *p = log->data + log->last_count_at;
	uint64_t	last = 0;
	bool		in_head = log->sorted_len == log->len;

	/* written by us: a valid varint, and room for the longest one after it */
	(void) crdt_varint_decode(&p, log->data + log->len, &last);
	if (count <= last)
		return;
	log->len = log->last_count_at + (uint32_t) crdt_varint_encode(log->data + log->last_count_at,
																  count);
	if (in_head)
		log->sorted_len = log->len;
}

static CrdtStatus
log_put(const CrdtCounterTable *t, CrdtTableLog *log, const uint8_t *id, size_t len,
		uint64_t count, CrdtError *err)
{
	size_t		shared = common_prefix(log->prev, log->prev_len, id, len);
	bool		in_order = log->sorted_len == log->len;
	uint8_t    *p;

	if (shared == len && len == log->prev_len && log->len > 0)
	{
		raise_last(log, count);
		return CRDT_OK;
	}
	/* the first entry, or one after the last id (not a prefix of it) */
	if (in_order && log->len > 0 &&
		(shared == len || (shared < log->prev_len && id[shared] < log->prev[shared])))
		in_order = false;
	if (in_order && log->sorted_entries >= CRDT_MAX_ENTRIES)
		return too_many(err);
	if (!log_reserve(t->alloc, log, LOG_ENTRY_MAX))
		return crdt_nomem(err);

	/* both lengths are at most 64: one varint byte each */
	p = log->data + log->len;
	*p++ = (uint8_t) (len - shared);
	*p++ = (uint8_t) shared;
	memcpy(p, id + shared, len - shared);
	p += len - shared;
	log->last_count_at = (uint32_t) (p - log->data);
	p += crdt_varint_encode(p, count);
	log->len = (uint32_t) (p - log->data);
	memcpy(log->prev + shared, id + shared, len - shared);
	log->prev_len = (uint8_t) len;

	if (in_order)
	{
		log->sorted_len = log->len;
		log->sorted_entries++;
		return CRDT_OK;
	}
	if (log->len - log->sorted_len > t->fold_min && log->len - log->sorted_len > log->sorted_len)
		return fold(t->alloc, log, err);
	return CRDT_OK;
}

/* ------------------------------------------------------------ sorting */

typedef struct LogItem
{
	uint64_t	w0;				/* id bytes 0..7, big-endian, zero-padded */
	uint64_t	w1;				/* id bytes 8..15 */
	uint64_t	count;
	uint32_t	rest;			/* ids over 16 bytes: where bytes 16.. are in the arena */
	uint32_t	len;
} LogItem;

static inline uint64_t
load_big_endian(const uint8_t *b)
{
#if defined(__GNUC__) && defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	uint64_t	w;

	memcpy(&w, b, 8);
	return __builtin_bswap64(w);
#else
	uint64_t	w = 0;

	for (int k = 0; k < 8; k++)
		w = (w << 8) | b[k];
	return w;
#endif
}

static inline void
store_big_endian(uint8_t *b, uint64_t w)
{
	for (int k = 7; k >= 0; k--, w >>= 8)
		b[k] = (uint8_t) w;
}

static inline int
item_cmp(const LogItem *a, const LogItem *b, const uint8_t *arena)
{
	if (a->w0 != b->w0)
		return a->w0 < b->w0 ? -1 : 1;
	if (a->w1 != b->w1)
		return a->w1 < b->w1 ? -1 : 1;
	if (a->len > 16 && b->len > 16)
	{
		int			c = crdt_bytes_cmp(arena + a->rest, a->len - 16, arena + b->rest,
									   b->len - 16);

		if (c != 0)
			return c;
	}
	return a->len == b->len ? 0 : (a->len < b->len ? -1 : 1);
}

static void
insertion_sort(LogItem *a, size_t n, const uint8_t *arena)
{
	for (size_t i = 1; i < n; i++)
	{
		LogItem		x = a[i];
		size_t		j = i;

		for (; j > 0 && item_cmp(&x, &a[j - 1], arena) < 0; j--)
			a[j] = a[j - 1];
		a[j] = x;
	}
}

/* Sorts a[0..n) (stable, O(n log n)); tmp holds n items.  Returns where the result is. */
static LogItem *
sort_items(LogItem *a, LogItem *tmp, size_t n, const uint8_t *arena)
{
	LogItem    *src = a;
	LogItem    *dst = tmp;

	for (size_t lo = 0; lo < n; lo += SORT_RUN)
		insertion_sort(a + lo, n - lo < SORT_RUN ? n - lo : SORT_RUN, arena);
	for (size_t width = SORT_RUN; width < n; width *= 2)
	{
		for (size_t lo = 0; lo < n; lo += 2 * width)
		{
			size_t		mid = lo + width < n ? lo + width : n;
			size_t		hi = mid + width < n ? mid + width : n;
			size_t		i = lo;
			size_t		j = mid;
			size_t		k = lo;

			while (i < mid && j < hi)
				dst[k++] = item_cmp(&src[j], &src[i], arena) < 0 ? src[j++] : src[i++];
			while (i < mid)
				dst[k++] = src[i++];
			while (j < hi)
				dst[k++] = src[j++];
		}
		src = dst;
		dst = src == a ? tmp : a;
	}
	return src;
}

/*
 * Decodes a log into items: the head's (sorted, distinct) first, then the
 * tail's; *head is how many the head has.  Long ids' bytes after the 16th
 * go into arena.
 */
static CrdtStatus
decode_log(const CrdtTableLog *log, LogItem *items, size_t *head, CrdtBuf *arena,
		   CrdtError *err)
{
	const uint8_t *p = log->data;
	const uint8_t *end = log->data + log->len;
	uint8_t		id[CRDT_REPLICA_ID_MAX + 16];
	size_t		n = 0;

	memset(id, 0, sizeof(id));
	*head = log->sorted_entries;
	while (p < end)
	{
		size_t		suffix = p[0];
		size_t		shared = p[1];
		size_t		len = shared + suffix;
		LogItem    *it = &items[n++];

		memcpy(id + shared, p + 2, suffix);
		p += 2 + suffix;
		/* zero padding past the id for its two integers */
		if (len < 16)
			memset(id + len, 0, 16 - len);
		(void) crdt_varint_decode(&p, end, &it->count);
		it->w0 = load_big_endian(id);
		it->w1 = load_big_endian(id + 8);
		it->len = (uint32_t) len;
		it->rest = 0;
		if (len > 16)
		{
			it->rest = (uint32_t) arena->len;
			crdt_buf_put(arena, id + 16, len - 16);
		}
	}
	return arena->failed ? crdt_nomem(err) : CRDT_OK;
}

/* Entries in a log: as many as entry headers, counted by walking it. */
static size_t
log_entries(const CrdtTableLog *log)
{
	const uint8_t *p = log->data + log->sorted_len;
	const uint8_t *end = log->data + log->len;
	size_t		n = log->sorted_entries;

	while (p < end)
	{
		p += 2 + p[0];
		while (*p++ & 0x80)
			;
		n++;
	}
	return n;
}

/*
 * Writes the head and the sorted tail merged, each id once with its
 * largest count, through w; *entries is how many.
 */
static void
write_merged(const LogItem *head, size_t nh, const LogItem *tail, size_t nt,
			 const uint8_t *arena, CrdtMapWriter *w, size_t *entries)
{
	size_t		i = 0;
	size_t		j = 0;
	size_t		n = 0;
	uint8_t		id[CRDT_REPLICA_ID_MAX];

	while (i < nh || j < nt)
	{
		/* the head is distinct: a tail item equal to one comes after it */
		const LogItem *next = j >= nt || (i < nh && item_cmp(&head[i], &tail[j], arena) <= 0)
			? &head[i++] : &tail[j++];
		uint64_t	count = next->count;

		for (; j < nt && item_cmp(next, &tail[j], arena) == 0; j++)
			if (tail[j].count > count)
				count = tail[j].count;
		store_big_endian(id, next->w0);
		store_big_endian(id + 8, next->w1);
		if (next->len > 16)
			memcpy(id + 16, arena + next->rest, next->len - 16);
		crdt_map_writer_add(w, id, next->len, count);
		n++;
	}
	*entries = n;
}

/*
 * Appends the log's map, sorted and without its terminator, to w's buffer;
 * *entries is its number of entries.  The log is not changed.
 */
static CrdtStatus
write_log(const CrdtTableLog *log, const CrdtAllocator *alloc, CrdtMapWriter *w,
		  size_t *entries, CrdtError *err)
{
	size_t		n;
	size_t		nh;
	LogItem    *items;
	LogItem    *tail;
	CrdtBuf		arena;
	CrdtStatus	st;

	if (log->sorted_len == log->len)
	{
		if (log->len > 0)
			crdt_buf_put(w->out, log->data, log->len);
		*entries = log->sorted_entries;
		return CRDT_OK;
	}
	n = log_entries(log);
	items = alloc->alloc(alloc->ctx, (n + (n - log->sorted_entries)) * sizeof(LogItem));
	if (items == NULL)
		return crdt_nomem(err);
	crdt_buf_init(&arena, alloc, 0);
	if ((st = decode_log(log, items, &nh, &arena, err)) == CRDT_OK)
	{
		tail = sort_items(items + nh, items + n, n - nh, arena.data);
		write_merged(items, nh, tail, n - nh, arena.data, w, entries);
	}
	crdt_buf_free(&arena);
	alloc->release(alloc->ctx, items);
	return st;
}

/* Replaces the log by its sorted, de-duplicated form. */
static CrdtStatus
fold(const CrdtAllocator *alloc, CrdtTableLog *log, CrdtError *err)
{
	CrdtBuf		out;
	CrdtMapWriter w;
	size_t		entries;
	CrdtStatus	st;

	crdt_buf_init(&out, alloc, 0);
	crdt_map_writer_init(&w, &out);
	if ((st = write_log(log, alloc, &w, &entries, err)) != CRDT_OK)
	{
		crdt_buf_free(&out);
		return st;
	}
	/* room to rewrite the last count in place, as log_put leaves */
	if (!crdt_buf_reserve(&out, CRDT_VARINT_MAX) || out.cap > UINT32_MAX)
	{
		crdt_buf_free(&out);
		return crdt_nomem(err);
	}
	if (entries > CRDT_MAX_ENTRIES)
	{
		crdt_buf_free(&out);
		return too_many(err);
	}
	alloc->release(alloc->ctx, log->data);
	log->data = out.data;
	log->len = log->sorted_len = (uint32_t) out.len;
	log->cap = (uint32_t) out.cap;
	log->sorted_entries = (uint32_t) entries;
	log->last_count_at = (uint32_t) w.last_count_at;
	log->prev_len = (uint8_t) w.prev_len;
	memcpy(log->prev, w.prev, w.prev_len);
	return CRDT_OK;
}

/* ------------------------------------------------------------- the table */

CrdtStatus
crdt_table_put(CrdtCounterTable *t, const uint8_t *id, size_t len, int half,
			   uint64_t count, CrdtError *err)
{
	/* max with 0 changes nothing; a log never holds a zero count */
	if (count == 0)
		return CRDT_OK;
	if (len == 0 || len > CRDT_REPLICA_ID_MAX || half < 0 || half > 1)
		return crdt_fail(err, CRDT_ERR_ARGUMENT, -1, "invalid table entry");
	return log_put(t, &t->log[half], id, len, count, err);
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
		if (crdt_replica_id_check(e->id, e->len) != NULL ||
			crdt_varint_decode(&p, end, &e->count) != CRDT_VARINT_OK ||
			e->count == 0 || e->count > (uint64_t) INT64_MAX ||
			p >= end || *p++ != 0)
			return false;
	}
	return p == end;
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
		for (half = 0; half < halves; half++)
			if (single[half].count != 0 &&
				(st = log_put(t, &t->log[half], single[half].id, single[half].len,
							  single[half].count, err)) != CRDT_OK)
				return st;
		return CRDT_OK;
	}
	if ((st = crdt_counter_reader_init(&r, kind, value, err)) != CRDT_OK)
		return st;
	while ((rc = crdt_counter_reader_next(&r, &e, &half, err)) > 0)
	{
		if ((st = log_put(t, &t->log[half], e.id, e.len, e.count, err)) != CRDT_OK)
			return st;
	}
	return rc < 0 ? err->status : CRDT_OK;
}

CrdtStatus
crdt_table_absorb_table(CrdtCounterTable *t, const CrdtCounterTable *src, CrdtError *err)
{
	if (t == src)
		return CRDT_OK;			/* merging a state with itself changes nothing */
	for (int h = 0; h < 2; h++)
	{
		const CrdtTableLog *log = &src->log[h];
		const uint8_t *p = log->data;
		uint8_t		id[CRDT_REPLICA_ID_MAX];
		CrdtStatus	st;

		/* src's entries in its order: a sorted log stays sorted in t */
		while (log->len > 0 && p < log->data + log->len)
		{
			size_t		suffix = p[0];
			size_t		shared = p[1];
			uint64_t	count = 0;

			memcpy(id + shared, p + 2, suffix);
			p += 2 + suffix;
			(void) crdt_varint_decode(&p, log->data + log->len, &count);
			if ((st = log_put(t, &t->log[h], id, shared + suffix, count, err)) != CRDT_OK)
				return st;
		}
	}
	return CRDT_OK;
}

/* Does not change t: a final function may run more than once per state. */
CrdtStatus
crdt_table_write(const CrdtCounterTable *t, CrdtCounterKind kind, CrdtBuf *out,
				 CrdtError *err)
{
	int			halves = kind == CRDT_PNCOUNTER ? 2 : 1;

	crdt_buf_put_byte(out, CRDT_FORMAT_V1);
	for (int h = 0; h < halves; h++)
	{
		CrdtMapWriter w;
		size_t		entries;
		CrdtStatus	st;

		crdt_map_writer_init(&w, out);
		if ((st = write_log(&t->log[h], t->alloc, &w, &entries, err)) != CRDT_OK)
			return st;
		if (entries > CRDT_MAX_ENTRIES)
			return too_many(err);
		crdt_map_writer_finish(&w);
	}
	return out->failed ? crdt_nomem(err) : CRDT_OK;
}
