/*
 * bcounter_log.c — the bounded counter's working form (crdt_bcounter.h):
 * a log of components (P[r], D[r], T[from, to] with counts) whose ids live
 * in a chunked arena, sorted and reduced to the max per component once,
 * and its reading from and writing to the binary form.
 */
#include "bcounter_internal.h"

#include <stdlib.h>

/* Past this many components a value is too large (three maps' worth). */
#define BC_MAX_ITEMS (3 * (size_t) CRDT_MAX_ENTRIES)

void
crdt_bclog_init(CrdtBcLog *log, const CrdtAllocator *alloc)
{
	crdt_buf_init(&log->items, alloc, 0);
	log->n = 0;
	log->reduced = 0;
	log->alloc = alloc;
	log->chunk = NULL;
	log->chunk_used = log->chunk_cap = log->arena_bytes = 0;
}

static void
arena_free(CrdtBcLog *log)
{
	while (log->chunk != NULL)
	{
		uint8_t    *prev;

		memcpy(&prev, log->chunk, sizeof(prev));
		log->alloc->release(log->alloc->ctx, log->chunk);
		log->chunk = prev;
	}
	log->chunk_used = log->chunk_cap = log->arena_bytes = 0;
}

void
crdt_bclog_free(CrdtBcLog *log)
{
	crdt_buf_free(&log->items);
	arena_free(log);
}

CrdtBcItem *
crdt_bclog_items(const CrdtBcLog *log)
{
	return (CrdtBcItem *) log->items.data;
}

/* A copy of id in the arena; NULL when memory ran out. */
static const uint8_t *
arena_copy(CrdtBcLog *log, const uint8_t *id, size_t len)
{
	uint8_t    *at;

	if (log->chunk == NULL || log->chunk_cap - log->chunk_used < len)
	{
		size_t		cap = log->chunk_cap < 1024 ? 1024 : 2 * log->chunk_cap;
		uint8_t    *chunk = log->alloc->alloc(log->alloc->ctx, cap);

		if (chunk == NULL)
			return NULL;
		memcpy(chunk, &log->chunk, sizeof(log->chunk));
		log->chunk = chunk;
		log->chunk_cap = cap;
		log->chunk_used = sizeof(log->chunk);
	}
	at = log->chunk + log->chunk_used;
	memcpy(at, id, len);
	log->chunk_used += len;
	log->arena_bytes += len;
	return at;
}

/* id in the arena: the previous item's copy when it is the same id (P and D of one replica). */
static const uint8_t *
intern(CrdtBcLog *log, const uint8_t *id, size_t len)
{
	if (log->n > 0)
	{
		const CrdtBcItem *last = &crdt_bclog_items(log)[log->n - 1];

		if (crdt_bytes_cmp(last->id, last->len, id, len) == 0)
			return last->id;
		if (last->to != NULL && crdt_bytes_cmp(last->to, last->to_len, id, len) == 0)
			return last->to;
	}
	return arena_copy(log, id, len);
}

int
crdt_bclog_item_cmp(const void *pa, const void *pb)
{
	const CrdtBcItem *a = pa;
	const CrdtBcItem *b = pb;
	int			c;

	if (a->part != b->part)
		return a->part < b->part ? -1 : 1;
	if ((c = crdt_bytes_cmp(a->id, a->len, b->id, b->len)) != 0)
		return c;
	return crdt_bytes_cmp(a->to, a->to_len, b->to, b->to_len);
}

CrdtStatus
crdt_bclog_add(CrdtBcLog *log, int part, const uint8_t *id, size_t len, const uint8_t *to,
			   size_t to_len, uint64_t count, CrdtError *err)
{
	CrdtBcItem	item;

	if (log->n >= BC_MAX_ITEMS)
		return crdt_fail(err, CRDT_ERR_TOO_LARGE, -1, "more than %zu components", BC_MAX_ITEMS);
	item.count = count;
	item.part = (uint8_t) part;
	item.len = (uint8_t) len;
	item.to_len = (uint8_t) to_len;
	item.to = NULL;
	if ((item.id = intern(log, id, len)) == NULL ||
		(to_len > 0 && (item.to = intern(log, to, to_len)) == NULL))
		return crdt_nomem(err);
	crdt_buf_put(&log->items, &item, sizeof(item));
	if (log->items.failed)
		return crdt_nomem(err);
	log->n++;
	return CRDT_OK;
}

/*
 * The ids of the kept items into a fresh arena, once the arena holds more
 * than twice what they need (so an aggregate's memory stays bounded).
 */
static void
arena_compact(CrdtBcLog *log)
{
	CrdtBcLog	fresh;
	CrdtBcItem *it = crdt_bclog_items(log);
	size_t		needed = 0;

	for (size_t k = 0; k < log->n; k++)
		needed += it[k].len + it[k].to_len;
	if (log->arena_bytes <= 2 * needed + 4096)
		return;
	crdt_bclog_init(&fresh, log->alloc);
	for (size_t k = 0; k < log->n; k++)
	{
		const uint8_t *id = arena_copy(&fresh, it[k].id, it[k].len);
		const uint8_t *to = it[k].to_len > 0 ? arena_copy(&fresh, it[k].to, it[k].to_len) : NULL;

		if (id == NULL || (it[k].to_len > 0 && to == NULL))
		{
			crdt_bclog_free(&fresh);	/* keep the old arena: still valid */
			return;
		}
		it[k].id = id;
		it[k].to = to;
	}
	arena_free(log);
	crdt_buf_free(&fresh.items);
	log->chunk = fresh.chunk;
	log->chunk_used = fresh.chunk_used;
	log->chunk_cap = fresh.chunk_cap;
	log->arena_bytes = fresh.arena_bytes;
}

/*
 * Sorts the items by (part, id, to).  Rows of one group usually come in
 * replica order, so after a stable split by part each part is often in
 * order already: then nothing is left to sort.
 */
static void
sort_items(CrdtBcLog *log)
{
	CrdtBcItem *it = crdt_bclog_items(log);
	size_t		count[3] = {0, 0, 0};
	size_t		at[3];
	CrdtBuf		split;
	CrdtBcItem *dst;
	bool		sorted = true;

	for (size_t k = 0; k < log->n; k++)
		count[it[k].part]++;
	at[0] = 0;
	at[1] = count[0];
	at[2] = count[0] + count[1];
	crdt_buf_init(&split, log->alloc, 0);
	if (!crdt_buf_reserve(&split, log->n * sizeof(CrdtBcItem)))
	{
		crdt_buf_free(&split);
		qsort(it, log->n, sizeof(CrdtBcItem), crdt_bclog_item_cmp);
		return;
	}
	dst = (CrdtBcItem *) split.data;
	for (size_t k = 0; k < log->n; k++)
		dst[at[it[k].part]++] = it[k];
	memcpy(it, dst, log->n * sizeof(CrdtBcItem));
	crdt_buf_free(&split);
	for (size_t k = 1; k < log->n && sorted; k++)
		sorted = crdt_bclog_item_cmp(&it[k - 1], &it[k]) <= 0;
	if (!sorted)
		qsort(it, log->n, sizeof(CrdtBcItem), crdt_bclog_item_cmp);
}

/* Sorts and keeps the largest count of each component. */
void
crdt_bclog_reduce(CrdtBcLog *log)
{
	CrdtBcItem *it = crdt_bclog_items(log);
	size_t		kept = 0;

	if (log->reduced == log->n)
		return;
	sort_items(log);
	for (size_t k = 0; k < log->n; k++)
	{
		if (kept > 0 && crdt_bclog_item_cmp(&it[kept - 1], &it[k]) == 0)
		{
			if (it[k].count > it[kept - 1].count)
				it[kept - 1].count = it[k].count;
			continue;
		}
		if (kept != k)
			it[kept] = it[k];
		kept++;
	}
	log->n = log->reduced = kept;
	log->items.len = kept * sizeof(CrdtBcItem);
	arena_compact(log);
}

/* Reduces whenever the log has doubled, so an aggregate's memory stays bounded. */
static void
log_maybe_reduce(CrdtBcLog *log)
{
	if (log->n >= 2 * log->reduced + 4096)
		crdt_bclog_reduce(log);
}

static CrdtStatus absorb_value(CrdtBcLog *log, CrdtSlice value, bool transfers_only,
							   size_t *pd_len, CrdtError *err);

/* One map of the value at *pos into the log as part. */
static CrdtStatus
absorb_map(CrdtBcLog *log, CrdtSlice value, size_t *pos, int part, const uint8_t *giver,
		   size_t giver_len, CrdtError *err)
{
	CrdtMapReader r;
	CrdtMapEntry e;
	CrdtStatus	st = CRDT_OK;
	int			rc;

	crdt_map_reader_init(&r, value.data + *pos, value.len - *pos, *pos);
	while ((rc = crdt_map_reader_next(&r, &e, err)) > 0 && st == CRDT_OK)
	{
		if (part != PART_T)
			st = crdt_bclog_add(log, part, e.id, e.len, NULL, 0, e.count, err);
		else if (crdt_bytes_cmp(e.id, e.len, giver, giver_len) == 0)
			st = crdt_fail(err, CRDT_ERR_BINARY, (long) *pos, "a replica transfers to itself");
		else
			st = crdt_bclog_add(log, part, giver, giver_len, e.id, e.len, e.count, err);
	}
	if (rc < 0)
		return err->status;
	if (st != CRDT_OK)
		return st;
	if (part == PART_T && r.entries == 0)
		return crdt_fail(err, CRDT_ERR_BINARY, (long) *pos, "a giver without transfers");
	*pos += (size_t) (r.pos - r.start);
	return CRDT_OK;
}

CrdtStatus
crdt_bclog_absorb(CrdtBcLog *log, CrdtSlice value, CrdtError *err)
{
	return absorb_value(log, value, false, NULL, err);
}

CrdtStatus
crdt_bclog_absorb_transfers(CrdtBcLog *log, CrdtSlice value, size_t *pd_len, CrdtError *err)
{
	return absorb_value(log, value, true, pd_len, err);
}

/* Steps over one map (checking it) at *pos. */
static CrdtStatus
skip_map(CrdtSlice value, size_t *pos, CrdtError *err)
{
	size_t		span;
	CrdtStatus	st = crdt_map_span(value.data + *pos, value.len - *pos, &span, NULL, err);

	if (st == CRDT_OK)
		*pos += span;
	return st;
}

/*
 * The components of a value into the log, or only its transfers (then
 * *pd_len is where they start: version, P and D are a pncounter's layout).
 */
static CrdtStatus
absorb_value(CrdtBcLog *log, CrdtSlice value, bool transfers_only, size_t *pd_len, CrdtError *err)
{
	CrdtKeyReader kr;
	const uint8_t *key;
	size_t		key_len;
	size_t		pos = 1;
	CrdtStatus	st;
	int			rc;

	if ((st = crdt_check_version(value, err)) != CRDT_OK)
		return st;
	if (transfers_only)
		st = skip_map(value, &pos, err) == CRDT_OK ? skip_map(value, &pos, err) : err->status;
	else if ((st = absorb_map(log, value, &pos, PART_P, NULL, 0, err)) == CRDT_OK)
		st = absorb_map(log, value, &pos, PART_D, NULL, 0, err);
	if (st != CRDT_OK)
		return st;
	if (pd_len != NULL)
		*pd_len = pos;
	crdt_keys_reader_init(&kr, CRDT_KEYS_FRONT_CODED, value.data + pos, value.len - pos, pos);
	while ((rc = crdt_keys_reader_next(&kr, &key, &key_len, err)) > 0)
	{
		uint8_t		giver[CRDT_REPLICA_ID_MAX];
		size_t		at = (size_t) (kr.pos - value.data);

		if (crdt_replica_id_check(key, key_len) != NULL)
			return crdt_fail(err, CRDT_ERR_BINARY, (long) at, "a giver is not a valid replica id");
		memcpy(giver, key, key_len);
		if ((st = absorb_map(log, value, &at, PART_T, giver, key_len, err)) != CRDT_OK)
			return st;
		kr.pos = value.data + at;
	}
	if (rc < 0)
		return err->status;
	pos = (size_t) (kr.pos - value.data);
	if (pos != value.len)
		return crdt_fail(err, CRDT_ERR_BINARY, (long) pos, "unexpected trailing bytes (%zu)",
						 value.len - pos);
	log_maybe_reduce(log);
	return CRDT_OK;
}

CrdtStatus
crdt_bclog_absorb_log(CrdtBcLog *log, const CrdtBcLog *other, CrdtError *err)
{
	const CrdtBcItem *it = crdt_bclog_items(other);
	CrdtStatus	st = CRDT_OK;

	/* copied, ids too: the other log may go before this one */
	for (size_t k = 0; k < other->n && st == CRDT_OK; k++)
		st = crdt_bclog_add(log, it[k].part, it[k].id, it[k].len, it[k].to, it[k].to_len,
							it[k].count, err);
	log_maybe_reduce(log);
	return st;
}

/* The key list of givers from the reduced log's items k.. (all transfers). */
static void
write_transfers(const CrdtBcLog *log, size_t k, CrdtBuf *out)
{
	const CrdtBcItem *it = crdt_bclog_items(log);
	CrdtKeyWriter kw;

	crdt_keys_writer_init(&kw, CRDT_KEYS_FRONT_CODED, out);
	while (k < log->n)
	{
		CrdtMapWriter w;
		size_t		first = k;

		crdt_keys_writer_add(&kw, it[k].id, it[k].len);
		crdt_map_writer_init(&w, out);
		for (; k < log->n && crdt_bytes_cmp(it[k].id, it[k].len, it[first].id,
											 it[first].len) == 0; k++)
			crdt_map_writer_add(&w, it[k].to, it[k].to_len, it[k].count);
		crdt_map_writer_finish(&w);
	}
	crdt_keys_writer_finish(&kw);
}

CrdtStatus
crdt_bclog_write(CrdtBcLog *log, CrdtBuf *out, CrdtError *err)
{
	const CrdtBcItem *it;
	size_t		k = 0;

	crdt_bclog_reduce(log);
	it = crdt_bclog_items(log);
	crdt_buf_put_byte(out, CRDT_FORMAT_V1);
	for (int part = PART_P; part <= PART_D; part++)
	{
		CrdtMapWriter w;

		crdt_map_writer_init(&w, out);
		for (; k < log->n && it[k].part == part; k++)
			crdt_map_writer_add(&w, it[k].id, it[k].len, it[k].count);
		crdt_map_writer_finish(&w);
	}
	write_transfers(log, k, out);
	return crdt_buf_status(out, err);
}

CrdtStatus
crdt_bclog_write_transfers(CrdtBcLog *log, CrdtBuf *out, CrdtError *err)
{
	size_t		k = 0;

	crdt_bclog_reduce(log);
	while (k < log->n && crdt_bclog_items(log)[k].part != PART_T)
		k++;
	write_transfers(log, k, out);
	return crdt_buf_status(out, err);
}

/* A value read into a reduced log. */
CrdtStatus
crdt_bclog_of(CrdtBcLog *log, CrdtSlice value, CrdtError *err)
{
	CrdtStatus	st;

	crdt_bclog_init(log, crdt_default_allocator());
	if ((st = crdt_bclog_absorb(log, value, err)) != CRDT_OK)
		crdt_bclog_free(log);
	else
		crdt_bclog_reduce(log);
	return st;
}
