/*
 * dotted_log.c — the crdt_merge state of orset and mvreg: a log of the
 * input values (CrdtDotLog, crdt_aggstate.h).
 *
 * A dot survives the merge of many states exactly when every state whose
 * context has seen it also has it.  So the merge decodes every logged
 * value into flat arrays (replica ids numbered through a dictionary),
 * counts per dot the states holding it (a sort of all dots) and the
 * context ranges covering it (a sweep over the ranges sorted by start and
 * by end), and keeps the dots whose two counts agree.
 */
#include "dotted_internal.h"

#include <stdlib.h>
#include <string.h>

#define LOG_MERGE_MIN (4 * 1024 * 1024)

typedef struct LogRange
{
	uint64_t	lo;
	uint64_t	hi;
	uint32_t	replica;		/* number in the merge's replica dictionary */
} LogRange;

/* 16 bytes, so that the big sorts move little memory and compare integers */
typedef struct LogDot
{
	uint64_t	counter;
	uint32_t	replica;		/* number in the replica dictionary */
	uint32_t	key;			/* its key occurrence's index, then the key's rank */
} LogDot;

/* One occurrence of a key in one logged value. */
typedef struct LogKey
{
	CrdtSortKey sort;			/* bytes: set once decoding is over */
	size_t		offset;			/* into the key arena while decoding */
	uint32_t	index;			/* its place in the occurrence array */
} LogKey;

/* A surviving dot in output order: (key rank, replica rank, counter). */
typedef struct Survivor
{
	uint32_t	key_rank;
	uint32_t	replica_rank;
	uint64_t	counter;
} Survivor;

CrdtStatus
crdt_dotlog_init(CrdtDotLog *log, CrdtDottedKind kind, const CrdtAllocator *alloc,
				 CrdtError *err)
{
	(void) err;
	log->kind = kind;
	log->alloc = alloc;
	log->merged = 0;
	memset(&log->values, 0, sizeof(CrdtBuf));
	log->values.alloc = alloc;
	return CRDT_OK;
}

void
crdt_dotlog_free(CrdtDotLog *log)
{
	crdt_buf_free(&log->values);
}

/* ------------------------------------------------------------ the orders */

/* ranges by start and by end; dots as find_survivors groups them; survivors for output */
DOTTED_ORDER2(compare_log_starts, LogRange, replica, lo)
DOTTED_ORDER2(compare_log_ends, LogRange, replica, hi)
DOTTED_ORDER3(compare_log_dots, LogDot, replica, counter, key)
DOTTED_ORDER3(compare_survivors, Survivor, key_rank, replica_rank, counter)

static int
compare_log_keys(const void *x, const void *y)
{
	return crdt_sort_key_cmp(&((const LogKey *) x)->sort, &((const LogKey *) y)->sort);
}

/* rank[number]: the place of each id of s in byte order (NULL: no memory). */
static uint32_t *
byte_ranks(const CrdtKeySet *s, const CrdtAllocator *alloc)
{
	CrdtKeySetItem *items = crdt_keyset_sorted(s);
	uint32_t   *rank = alloc->alloc(alloc->ctx, (s->used + 1) * sizeof(uint32_t));

	if (items != NULL && rank != NULL)
		for (size_t k = 0; k < s->used; k++)
			rank[items[k].entry] = (uint32_t) k;
	else if (rank != NULL)
	{
		alloc->release(alloc->ctx, rank);
		rank = NULL;
	}
	if (items != NULL)
		s->alloc->release(s->alloc->ctx, items);
	return rank;
}

/* ------------------------------------------------------------- the merge */

/* What one merge of the log works on. */
typedef struct LogMerge
{
	CrdtDottedKind kind;
	const CrdtAllocator *alloc;
	CrdtKeySet	replicas;		/* ids -> numbers */
	CrdtBuf		ranges;			/* LogRange[], then sorted by start */
	CrdtBuf		ends;			/* the same, sorted by end */
	CrdtBuf		dots;			/* LogDot[] */
	CrdtBuf		keys;			/* LogKey[]: key occurrences */
	CrdtBuf		arena;			/* key bytes */
	CrdtBuf		numbers;		/* uint32[]: one value's context index -> number */
	CrdtBuf		survivors;		/* Survivor[] */
	CrdtKeyReader *r;
	CrdtKeyWriter *w;
	uint32_t   *rank;			/* replica number -> byte rank */
	uint32_t   *by_rank;		/* byte rank -> replica number */
	uint32_t   *key_rank;		/* key occurrence -> rank of its bytes */
} LogMerge;

#define NRANGES(m) ((m)->ranges.len / sizeof(LogRange))
#define NDOTS(m) ((m)->dots.len / sizeof(LogDot))
#define NKEYS(m) ((m)->keys.len / sizeof(LogKey))

/* The context of one value: replica ids (numbered through the dictionary) and ranges. */
static CrdtStatus
decode_context(LogMerge *m, CrdtSlice value, CrdtError *err)
{
	CrdtKeyReader *r = m->r;
	const uint8_t *id;
	size_t		len;
	int			rc;
	CrdtStatus	st;

	m->numbers.len = 0;
	crdt_keys_reader_init(r, CRDT_KEYS_FRONT_CODED, value.data + 1, value.len - 1, 1);
	while ((rc = crdt_keys_reader_next(r, &id, &len, err)) > 0)
	{
		size_t		number;
		uint32_t	n32;
		uint64_t	nranges;
		LogRange	range = {0, 0, 0};

		if ((st = crdt_keyset_put(&m->replicas, id, len, 0, &number, err)) != CRDT_OK)
			return st;
		n32 = (uint32_t) number;
		crdt_buf_put(&m->numbers, &n32, sizeof(n32));
		if (!dotted_read_count(&r->pos, r->end, &nranges))
			return dotted_malformed(err, -1, "malformed context ranges");
		for (uint64_t k = 0; k < nranges; k++)
		{
			Range		x;

			if (crdt_range_decode(&r->pos, r->end, k, range.hi, &x) != 0)
				return dotted_malformed(err, -1, "malformed context range");
			range.lo = x.lo;
			range.hi = x.hi;
			range.replica = n32;
			crdt_buf_put(&m->ranges, &range, sizeof(range));
		}
	}
	return rc < 0 ? err->status : CRDT_OK;
}

/* The keys and dots of one value (after its context), the dots' replicas renumbered. */
static CrdtStatus
decode_keys(LogMerge *m, CrdtSlice value, CrdtError *err)
{
	CrdtKeyReader *r = m->r;
	const uint8_t *p = r->pos;
	const uint8_t *key;
	size_t		len;
	int			rc;

	crdt_keys_reader_init(r, dotted_key_style(m->kind), p, (size_t) (value.data + value.len - p),
						  (size_t) (p - value.data));
	while ((rc = crdt_keys_reader_next(r, &key, &len, err)) > 0)
	{
		LogKey		occurrence;
		uint64_t	ndots;

		crdt_sort_key_init(&occurrence.sort, key, len);
		occurrence.sort.key = NULL;
		occurrence.offset = m->arena.len;
		occurrence.index = (uint32_t) NKEYS(m);
		crdt_buf_put(&m->keys, &occurrence, sizeof(occurrence));
		crdt_buf_put(&m->arena, key, len);
		if (!dotted_read_count(&r->pos, r->end, &ndots))
			return dotted_malformed(err, -1, "malformed dot list");
		for (uint64_t k = 0; k < ndots; k++)
		{
			uint64_t	index;
			LogDot		dot;

			if (crdt_varint_decode(&r->pos, r->end, &index) != CRDT_VARINT_OK ||
				crdt_varint_decode(&r->pos, r->end, &dot.counter) != CRDT_VARINT_OK ||
				index >= m->numbers.len / sizeof(uint32_t))
				return dotted_malformed(err, -1, "malformed dot");
			dot.replica = U32(m->numbers)[index];
			dot.key = occurrence.index;
			crdt_buf_put(&m->dots, &dot, sizeof(dot));
		}
	}
	return rc < 0 ? err->status : CRDT_OK;
}

/* Decodes every logged value into m. */
static CrdtStatus
decode_log(LogMerge *m, const CrdtDotLog *log, CrdtError *err)
{
	const uint8_t *p = log->values.data;
	/* nothing absorbed yet: data is NULL, and NULL + 0 is undefined */
	const uint8_t *end = p == NULL ? NULL : p + log->values.len;
	CrdtStatus	st;

	while (p < end)
	{
		uint64_t	len;
		CrdtSlice	value;

		if (crdt_varint_decode(&p, end, &len) != CRDT_VARINT_OK || len > (uint64_t) (end - p))
			return dotted_malformed(err, -1, "corrupt aggregate log");
		value.data = p;
		value.len = (size_t) len;
		if ((st = crdt_check_version(value, err)) != CRDT_OK ||
			(st = decode_context(m, value, err)) != CRDT_OK ||
			(st = decode_keys(m, value, err)) != CRDT_OK)
			return st;
		p += len;
	}
	if (crdt_bufs_failed(&m->ranges, &m->dots, &m->keys, &m->arena, &m->numbers, NULL))
		return crdt_nomem(err);
	return CRDT_OK;
}

/* Ranks replica ids and key occurrences by their bytes; equal keys share a rank. */
static CrdtStatus
rank_all(LogMerge *m, CrdtError *err)
{
	const CrdtAllocator *alloc = m->alloc;
	LogKey	   *keys = (LogKey *) m->keys.data;
	LogDot	   *dots = (LogDot *) m->dots.data;

	m->rank = byte_ranks(&m->replicas, alloc);
	m->by_rank = alloc->alloc(alloc->ctx, (m->replicas.used + 1) * sizeof(uint32_t));
	m->key_rank = alloc->alloc(alloc->ctx, (NKEYS(m) + 1) * sizeof(uint32_t));
	if (m->rank == NULL || m->by_rank == NULL || m->key_rank == NULL)
		return crdt_nomem(err);
	for (size_t k = 0; k < m->replicas.used; k++)
		m->by_rank[m->rank[k]] = (uint32_t) k;

	for (size_t k = 0; k < NKEYS(m); k++)
		keys[k].sort.key = m->arena.data + keys[k].offset;
	if (NKEYS(m) > 1)
		qsort(keys, NKEYS(m), sizeof(LogKey), compare_log_keys);
	for (size_t k = 0, r = 0; k < NKEYS(m); k++)
	{
		if (k > 0 && crdt_sort_key_cmp(&keys[k - 1].sort, &keys[k].sort) != 0)
			r++;
		m->key_rank[keys[k].index] = (uint32_t) r;
	}
	for (size_t k = 0; k < NDOTS(m); k++)
		dots[k].key = m->key_rank[dots[k].key];
	return CRDT_OK;
}

/*
 * Each group of equal (dot, key) is the states holding that dot for that
 * key; the ranges started at or before its counter minus those ended
 * before it are the states whose context has seen it.  Grouping by key
 * too keeps the merge independent of row order even for invalid input
 * that gives one dot to two keys: like pairwise merges, it then keeps
 * neither.
 */
static CrdtStatus
find_survivors(LogMerge *m, CrdtError *err)
{
	LogDot	   *dots = (LogDot *) m->dots.data;
	size_t		ndots = NDOTS(m);
	LogRange   *starts = (LogRange *) m->ranges.data;
	LogRange   *stops;
	size_t		nranges = NRANGES(m);
	size_t		si = 0;
	size_t		ei = 0;

	crdt_buf_put(&m->ends, m->ranges.data, m->ranges.len);
	if (m->ends.failed)
		return crdt_nomem(err);
	stops = (LogRange *) m->ends.data;
	if (ndots > 1)
		qsort(dots, ndots, sizeof(LogDot), compare_log_dots);
	if (nranges > 1)
	{
		qsort(starts, nranges, sizeof(LogRange), compare_log_starts);
		qsort(stops, nranges, sizeof(LogRange), compare_log_ends);
	}
	for (size_t k = 0; k < ndots;)
	{
		size_t		group = k + 1;
		uint32_t	rep = dots[k].replica;
		uint64_t	c = dots[k].counter;

		while (group < ndots && dots[group].replica == rep && dots[group].counter == c &&
			   dots[group].key == dots[k].key)
			group++;
		while (si < nranges && (starts[si].replica < rep ||
								(starts[si].replica == rep && starts[si].lo <= c)))
			si++;
		while (ei < nranges && (stops[ei].replica < rep ||
								(stops[ei].replica == rep && stops[ei].hi < c)))
			ei++;
		if (group - k == si - ei)
		{
			Survivor	v = {dots[k].key, m->rank[rep], c};

			crdt_buf_put(&m->survivors, &v, sizeof(v));
		}
		k = group;
	}
	return m->survivors.failed ? crdt_nomem(err) : CRDT_OK;
}

/* The merged context: replicas in byte order, each one's ranges (sorted by start) joined. */
static void
write_context(LogMerge *m, CrdtBuf *out)
{
	const LogRange *starts = (const LogRange *) m->ranges.data;
	size_t		nranges = NRANGES(m);
	CrdtBuf		plain;
	CrdtBuf		joined;

	crdt_bufs_init(m->alloc, &plain, &joined, NULL);
	crdt_keys_writer_init(m->w, CRDT_KEYS_FRONT_CODED, out);
	for (size_t rk = 0; rk < m->replicas.used; rk++)
	{
		uint32_t	number = m->by_rank[rk];
		const CrdtKeySetEntry *id = &m->replicas.entries[number];
		size_t		first = 0;
		size_t		last = nranges;

		while (first < last)
		{
			size_t		mid = first + (last - first) / 2;

			if (starts[mid].replica < number)
				first = mid + 1;
			else
				last = mid;
		}
		plain.len = 0;
		for (size_t k = first; k < nranges && starts[k].replica == number; k++)
		{
			Range		x = {starts[k].lo, starts[k].hi};

			crdt_buf_put(&plain, &x, sizeof(x));
		}
		joined.len = 0;
		crdt_ranges_coalesce(&joined, (const Range *) plain.data, plain.len / sizeof(Range));
		crdt_keys_writer_add(m->w, m->replicas.bytes.data + id->offset, id->len);
		crdt_ranges_write(out, (const Range *) joined.data, joined.len / sizeof(Range));
	}
	crdt_keys_writer_finish(m->w);
	if (plain.failed || joined.failed)
		out->failed = true;
	crdt_bufs_free(&plain, &joined, NULL);
}

/* The surviving dots, key by key (keys are sorted: rank r is found in order). */
static void
write_survivors(LogMerge *m, CrdtBuf *out)
{
	Survivor   *v = (Survivor *) m->survivors.data;
	size_t		n = m->survivors.len / sizeof(Survivor);
	const LogKey *keys = (const LogKey *) m->keys.data;
	size_t		at = 0;			/* the sorted occurrence holding the current rank */

	if (n > 1)
		qsort(v, n, sizeof(Survivor), compare_survivors);
	crdt_keys_writer_init(m->w, dotted_key_style(m->kind), out);
	for (size_t k = 0; k < n;)
	{
		size_t		end = k;

		while (end < n && v[end].key_rank == v[k].key_rank)
			end++;
		while (at < NKEYS(m) && m->key_rank[keys[at].index] < v[k].key_rank)
			at++;
		crdt_keys_writer_add(m->w, keys[at].sort.key, keys[at].sort.len);
		crdt_buf_put_varint(out, end - k);
		for (; k < end; k++)
		{
			crdt_buf_put_varint(out, v[k].replica_rank);
			crdt_buf_put_varint(out, v[k].counter);
		}
	}
	crdt_keys_writer_finish(m->w);
}

static void
release(const CrdtAllocator *alloc, void *p)
{
	if (p != NULL)
		alloc->release(alloc->ctx, p);
}

/* Merges every logged value into out. */
static CrdtStatus
log_merge(const CrdtDotLog *log, CrdtBuf *out, CrdtError *err)
{
	const CrdtAllocator *alloc = log->alloc;
	LogMerge	m;
	CrdtStatus	st;

	memset(&m, 0, sizeof(m));
	m.kind = log->kind;
	m.alloc = alloc;
	crdt_bufs_init(alloc, &m.ranges, &m.ends, &m.dots, &m.keys, &m.arena, &m.numbers,
				   &m.survivors, NULL);
	m.r = alloc->alloc(alloc->ctx, sizeof(CrdtKeyReader));
	m.w = alloc->alloc(alloc->ctx, sizeof(CrdtKeyWriter));
	if (m.r == NULL || m.w == NULL)
		st = crdt_nomem(err);
	else if ((st = crdt_keyset_init(&m.replicas, alloc, err)) == CRDT_OK &&
			 (st = decode_log(&m, log, err)) == CRDT_OK &&
			 (st = rank_all(&m, err)) == CRDT_OK &&
			 (st = find_survivors(&m, err)) == CRDT_OK)
	{
		crdt_buf_put_byte(out, CRDT_FORMAT_V1);
		write_context(&m, out);
		write_survivors(&m, out);
		st = crdt_buf_status(out, err);
	}
	crdt_keyset_free(&m.replicas);
	crdt_bufs_free(&m.ranges, &m.ends, &m.dots, &m.keys, &m.arena, &m.numbers,
				   &m.survivors, NULL);
	release(alloc, m.rank);
	release(alloc, m.by_rank);
	release(alloc, m.key_rank);
	release(alloc, m.r);
	release(alloc, m.w);
	return st;
}

CrdtStatus
crdt_dotlog_write(const CrdtDotLog *log, CrdtBuf *out, CrdtError *err)
{
	return log_merge(log, out, err);
}

CrdtStatus
crdt_dotlog_absorb(CrdtDotLog *log, CrdtSlice value, CrdtError *err)
{
	CrdtBuf		merged;
	CrdtStatus	st;

	crdt_buf_put_varint(&log->values, value.len);
	crdt_buf_put(&log->values, value.data, value.len);
	if (log->values.failed)
		return crdt_nomem(err);
	if (log->values.len <= LOG_MERGE_MIN || log->values.len <= 2 * log->merged)
		return CRDT_OK;

	/* the log has doubled since the last merge: replace it by its merge */
	crdt_buf_init(&merged, log->alloc, 0);
	if ((st = log_merge(log, &merged, err)) == CRDT_OK)
	{
		log->values.len = 0;
		crdt_buf_put_varint(&log->values, merged.len);
		crdt_buf_put(&log->values, merged.data, merged.len);
		log->merged = log->values.len;
		if (log->values.failed)
			st = crdt_nomem(err);
	}
	crdt_buf_free(&merged);
	return st;
}
