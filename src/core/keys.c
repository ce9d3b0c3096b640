/*
 * keys.c — key lists: the sorted keys of sets (front-coded elements) and
 * multi-value registers (plain values), each followed by a payload.
 *
 * As for maps, reading checks every structural rule (bounds, strictly
 * increasing keys, maximal shared prefixes, lengths), so no input can make
 * a reader go past its end or accept a second byte form of a state.
 * Checks of what a key contains (UTF-8, JSON) are the types' business.
 */
#include "crdt_core.h"

#include <stdio.h>
#include <string.h>

static size_t
key_max(CrdtKeyStyle style)
{
	return style == CRDT_KEYS_FRONT_CODED ? CRDT_ELEMENT_MAX : CRDT_VALUE_MAX;
}

void
crdt_keys_reader_init(CrdtKeyReader *r, CrdtKeyStyle style, const uint8_t *bytes,
					  size_t len, size_t offset)
{
	r->pos = bytes;
	r->end = bytes + len;
	r->start = bytes;
	r->offset = offset;
	r->style = style;
	r->prev = r->key;
	r->prev_len = 0;
	r->entries = 0;
	r->done = false;
}

static int
reader_fail(CrdtKeyReader *r, const uint8_t *at, CrdtError *err, CrdtStatus status,
			const char *what)
{
	crdt_fail(err, status, (long) (r->offset + (size_t) (at - r->start)), "%s", what);
	return -1;
}

int
crdt_keys_reader_next(CrdtKeyReader *r, const uint8_t **key, size_t *len, CrdtError *err)
{
	const uint8_t *p = r->pos;
	const uint8_t *entry_start = p;
	const uint8_t *suffix;
	uint64_t	header;
	uint64_t	shared = 0;
	uint64_t	suffix_len;

	if (r->done)
		return 0;
	if (crdt_varint_decode(&p, r->end, &header) != CRDT_VARINT_OK)
		return reader_fail(r, entry_start, err, CRDT_ERR_BINARY,
						   p >= r->end ? "key list is not terminated" : "malformed key length");
	if (header == 0)
	{
		r->pos = p;
		r->done = true;
		return 0;
	}
	if (r->entries >= CRDT_MAX_ENTRIES)
		return reader_fail(r, entry_start, err, CRDT_ERR_TOO_LARGE, "more than 10000000 keys");
	suffix_len = header - 1;
	if (r->style == CRDT_KEYS_FRONT_CODED &&
		crdt_varint_decode(&p, r->end, &shared) != CRDT_VARINT_OK)
		return reader_fail(r, entry_start, err, CRDT_ERR_BINARY, "malformed shared prefix length");
	if (suffix_len > key_max(r->style) || shared > key_max(r->style) - suffix_len)
		return reader_fail(r, entry_start, err, CRDT_ERR_BINARY,
						   r->style == CRDT_KEYS_FRONT_CODED
						   ? "element is longer than 4096 bytes"
						   : "value is longer than 16 MB");
	if (shared > r->prev_len)
		return reader_fail(r, entry_start, err, CRDT_ERR_BINARY,
						   "shared prefix is longer than the previous key");
	if ((uint64_t) (r->end - p) < suffix_len)
		return reader_fail(r, entry_start, err, CRDT_ERR_BINARY, "value is truncated");
	suffix = p;
	p += suffix_len;

	switch (crdt_front_join(r->prev, r->prev_len, r->entries > 0, r->style == CRDT_KEYS_FRONT_CODED,
							shared, suffix, suffix_len, r->key, key, len))
	{
		case CRDT_FRONT_OK:
			break;
		case CRDT_FRONT_DUPLICATE:
			return reader_fail(r, entry_start, err, CRDT_ERR_BINARY, "duplicate key");
		case CRDT_FRONT_OUT_OF_ORDER:
			return reader_fail(r, entry_start, err, CRDT_ERR_BINARY,
							   "keys are not in increasing byte order");
		case CRDT_FRONT_NOT_LONGEST:
			return reader_fail(r, entry_start, err, CRDT_ERR_BINARY,
							   "shared prefix is not the longest common prefix");
	}
	r->prev = *key;
	r->prev_len = *len;
	r->pos = p;
	r->entries++;
	return 1;
}

CrdtStatus
crdt_keys_span(CrdtKeyStyle style, const uint8_t *bytes, size_t len, size_t offset,
			   CrdtPayloadSkip skip, size_t *span, CrdtError *err)
{
	CrdtKeyReader r;
	const uint8_t *key;
	size_t		key_len;
	CrdtStatus	st = CRDT_OK;
	int			rc;

	crdt_keys_reader_init(&r, style, bytes, len, offset);
	while (st == CRDT_OK && (rc = crdt_keys_reader_next(&r, &key, &key_len, err)) > 0)
		if (skip != NULL)
			st = skip(&r.pos, r.end, err);
	if (st == CRDT_OK && rc < 0)
		st = err->status;
	*span = (size_t) (r.pos - bytes);
	return st;
}

void
crdt_keys_writer_init(CrdtKeyWriter *w, CrdtKeyStyle style, CrdtBuf *out)
{
	w->out = out;
	w->style = style;
	w->prev_len = 0;
	w->entries = 0;
}

void
crdt_keys_writer_add(CrdtKeyWriter *w, const uint8_t *key, size_t len)
{
	size_t		shared = 0;

	if (w->style == CRDT_KEYS_FRONT_CODED)
	{
		size_t		limit = len < w->prev_len ? len : w->prev_len;

		while (shared < limit && w->prev[shared] == key[shared])
			shared++;
		/* the shared prefix must be the longest, and the suffix then differs */
		crdt_buf_put_varint(w->out, len - shared + 1);
		crdt_buf_put_varint(w->out, shared);
		memcpy(w->prev + shared, key + shared, len - shared);
		w->prev_len = len;
	}
	else
		crdt_buf_put_varint(w->out, len + 1);
	crdt_buf_put(w->out, key + shared, len - shared);
	w->entries++;
}

void
crdt_keys_writer_finish(CrdtKeyWriter *w)
{
	crdt_buf_put_byte(w->out, 0);
}

const char *
crdt_element_problem(const uint8_t *key, size_t len)
{
	if (len > CRDT_ELEMENT_MAX)
		return "is longer than 4096 bytes";
	if (memchr(key, 0, len) != NULL)
		return "contains a NUL character";
	if (!crdt_utf8_valid(key, len))
		return "is not valid UTF-8";
	return NULL;
}

CrdtStatus
crdt_check_element_argument(const uint8_t *key, size_t len, CrdtError *err)
{
	const char *problem = crdt_element_problem(key, len);

	if (problem != NULL)
		return crdt_fail(err, CRDT_ERR_ARGUMENT, -1, "a set element %s", problem);
	return CRDT_OK;
}
