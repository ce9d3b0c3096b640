/*
 * map.c — the front-coded, sorted replica-id -> count map codec.
 *
 * Reading validates as it goes (canonical varints, strictly increasing ids,
 * maximal shared prefixes, valid ids, counts in 1..INT64_MAX), so no input,
 * however hostile, can make a reader read past its end or accept a second
 * byte form of a state.
 */
#include "crdt_core.h"

#include <stdio.h>
#include <string.h>

static const char *
varint_problem(CrdtVarintResult r)
{
	switch (r)
	{
		case CRDT_VARINT_TRUNCATED:
			return "value is truncated";
		case CRDT_VARINT_NONCANONICAL:
			return "number is not minimally encoded";
		case CRDT_VARINT_OVERFLOW:
			return "number exceeds 64 bits";
		case CRDT_VARINT_OK:
			break;
	}
	return "bad number";
}

void
crdt_map_reader_init(CrdtMapReader *r, const uint8_t *bytes, size_t len, size_t offset)
{
	r->pos = bytes;
	r->end = bytes + len;
	r->start = bytes;
	r->offset = offset;
	r->prev = r->key;
	r->prev_len = 0;
	r->entries = 0;
	r->done = false;
}

static int
reader_fail(CrdtMapReader *r, const uint8_t *at, CrdtError *err, CrdtStatus status,
			const char *what)
{
	long		where = (long) (r->offset + (size_t) (at - r->start));

	crdt_fail(err, status, where, "%s", what);
	return -1;
}

int
crdt_map_reader_next(CrdtMapReader *r, CrdtMapEntry *entry, CrdtError *err)
{
	const uint8_t *p = r->pos;
	const uint8_t *entry_start = p;
	const uint8_t *suffix;
	const uint8_t *id;
	const char *problem;
	uint64_t	suffix_len;
	uint64_t	shared;
	uint64_t	count;
	size_t		len;
	CrdtVarintResult vr;

	if (r->done)
		return 0;
	if (p >= r->end)
		return reader_fail(r, p, err, CRDT_ERR_BINARY, "map is not terminated");

	if ((vr = crdt_varint_decode(&p, r->end, &suffix_len)) != CRDT_VARINT_OK)
		return reader_fail(r, entry_start, err, CRDT_ERR_BINARY, varint_problem(vr));
	if (suffix_len == 0)
	{
		r->pos = p;
		r->done = true;
		return 0;
	}
	if (r->entries >= CRDT_MAX_ENTRIES)
		return reader_fail(r, entry_start, err, CRDT_ERR_TOO_LARGE,
						   "more than 10000000 entries");
	if ((vr = crdt_varint_decode(&p, r->end, &shared)) != CRDT_VARINT_OK)
		return reader_fail(r, entry_start, err, CRDT_ERR_BINARY, varint_problem(vr));
	if (suffix_len > CRDT_REPLICA_ID_MAX || shared > CRDT_REPLICA_ID_MAX - suffix_len)
		return reader_fail(r, entry_start, err, CRDT_ERR_BINARY,
						   "replica id is longer than 64 bytes");
	if (shared > r->prev_len)
		return reader_fail(r, entry_start, err, CRDT_ERR_BINARY,
						   "shared prefix is longer than the previous replica id");
	if ((uint64_t) (r->end - p) < suffix_len)
		return reader_fail(r, entry_start, err, CRDT_ERR_BINARY, "value is truncated");
	suffix = p;
	p += suffix_len;

	switch (crdt_front_join(r->prev, r->prev_len, r->entries > 0, true,
							shared, suffix, suffix_len, r->key, &id, &len))
	{
		case CRDT_FRONT_OK:
			break;
		case CRDT_FRONT_DUPLICATE:
			return reader_fail(r, entry_start, err, CRDT_ERR_BINARY, "duplicate replica id");
		case CRDT_FRONT_OUT_OF_ORDER:
			return reader_fail(r, entry_start, err, CRDT_ERR_BINARY,
							   "replica ids are not in increasing byte order");
		case CRDT_FRONT_NOT_LONGEST:
			return reader_fail(r, entry_start, err, CRDT_ERR_BINARY,
							   "shared prefix is not the longest common prefix");
	}
	if ((problem = crdt_replica_id_check(id, len)) != NULL)
	{
		char		msg[64];

		snprintf(msg, sizeof(msg), "replica id %s", problem);
		return reader_fail(r, entry_start, err, CRDT_ERR_BINARY, msg);
	}

	if ((vr = crdt_varint_decode(&p, r->end, &count)) != CRDT_VARINT_OK)
		return reader_fail(r, entry_start, err, CRDT_ERR_BINARY, varint_problem(vr));
	if (count == 0)
		return reader_fail(r, entry_start, err, CRDT_ERR_BINARY, "count is zero");
	if (count > (uint64_t) INT64_MAX)
		return reader_fail(r, entry_start, err, CRDT_ERR_BINARY,
						   "count exceeds the bigint range");

	r->prev = id;
	r->prev_len = len;
	r->pos = p;
	r->entries++;
	entry->id = id;
	entry->len = len;
	entry->count = count;
	return 1;
}

void
crdt_map_writer_init(CrdtMapWriter *w, CrdtBuf *out)
{
	w->out = out;
	w->prev_len = 0;
	w->entries = 0;
	w->last_count_at = 0;
	w->last_count = 0;
}

/* Appends an entry whose id shares exactly "shared" bytes with the last. */
static inline void
append_entry(CrdtMapWriter *w, const uint8_t *id, size_t len, size_t shared,
			 uint64_t count)
{
	size_t		count_at = crdt_map_entry_put(w->out, id, len, shared, count);

	if (count_at == 0)
		return;					/* out->failed says why */
	w->last_count_at = count_at;
	w->last_count = count;
	crdt_copy_short(w->prev + shared, id + shared, len - shared);
	w->prev_len = len;
	w->entries++;
}

void
crdt_map_writer_add(CrdtMapWriter *w, const uint8_t *id, size_t len, uint64_t count)
{
	if (count != 0)
		append_entry(w, id, len, crdt_common_prefix(w->prev, w->prev_len, id, len), count);
}

int
crdt_map_writer_merge_next(CrdtMapWriter *w, const uint8_t *id, size_t len,
						   uint64_t count)
{
	size_t		shared;

	if (w->entries == 0)
	{
		append_entry(w, id, len, 0, count);
		return 1;
	}
	shared = crdt_common_prefix(w->prev, w->prev_len, id, len);
	if (shared == len && shared == w->prev_len)
	{
		/* the same id: rewrite its count in place if it grew */
		if (count > w->last_count && !w->out->failed)
		{
			w->out->len = w->last_count_at;
			crdt_buf_put_varint(w->out, count);
			w->last_count = count;
		}
		return 0;
	}
	if (shared == len || (shared < w->prev_len && id[shared] < w->prev[shared]))
		return -1;
	append_entry(w, id, len, shared, count);
	return 1;
}

void
crdt_map_writer_finish(CrdtMapWriter *w)
{
	crdt_buf_put_byte(w->out, 0);
}

CrdtStatus
crdt_map_span(const uint8_t *bytes, size_t len, size_t *span, size_t *entries,
			  CrdtError *err)
{
	CrdtMapReader r;
	CrdtMapEntry e;
	int			rc;

	crdt_map_reader_init(&r, bytes, len, 0);
	while ((rc = crdt_map_reader_next(&r, &e, err)) > 0)
		;
	if (rc < 0)
		return err->status;
	*span = (size_t) (r.pos - bytes);
	if (entries != NULL)
		*entries = r.entries;
	return CRDT_OK;
}

CrdtStatus
crdt_map_pair_init(CrdtMapPairWalk *w, CrdtSlice a, CrdtSlice b, CrdtError *err)
{
	(void) err;
	crdt_map_reader_init(&w->a, a.data, a.len, 0);
	crdt_map_reader_init(&w->b, b.data, b.len, 0);
	w->has_a = w->has_b = 1;
	w->advance_a = w->advance_b = true;
	return CRDT_OK;
}

int
crdt_map_pair_next(CrdtMapPairWalk *w, const uint8_t **id, size_t *len,
				   uint64_t *count_a, uint64_t *count_b, CrdtError *err)
{
	int			c;

	if (w->advance_a && w->has_a)
	{
		if ((w->has_a = crdt_map_reader_next(&w->a, &w->ea, err)) < 0)
			return -1;
	}
	if (w->advance_b && w->has_b)
	{
		if ((w->has_b = crdt_map_reader_next(&w->b, &w->eb, err)) < 0)
			return -1;
	}
	if (!w->has_a && !w->has_b)
	{
		w->advance_a = w->advance_b = false;
		return 0;
	}
	if (w->has_a && w->has_b)
		c = crdt_bytes_cmp(w->ea.id, w->ea.len, w->eb.id, w->eb.len);
	else
		c = w->has_a ? -1 : 1;

	w->advance_a = c <= 0;
	w->advance_b = c >= 0;
	if (c <= 0)
	{
		*id = w->ea.id;
		*len = w->ea.len;
	}
	else
	{
		*id = w->eb.id;
		*len = w->eb.len;
	}
	*count_a = c <= 0 ? w->ea.count : 0;
	*count_b = c >= 0 ? w->eb.count : 0;
	return 1;
}
