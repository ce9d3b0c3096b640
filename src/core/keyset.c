/*
 * keyset.c — a hash set of byte-string keys, each with a small tag.
 *
 * The id and key dictionaries of the dotted-store log, and the text[] ->
 * gset cast (tag = list).  Entries live
 * in one array in arrival order, key bytes in one buffer by offset; an
 * open-addressing index (linear probing, at most 3/4 full) finds them.
 */
#include "crdt_core.h"

#include <stdlib.h>
#include <string.h>

#define KEYSET_SEED UINT64_C(0x6b657973657431)

CrdtStatus
crdt_keyset_init(CrdtKeySet *s, const CrdtAllocator *alloc, CrdtError *err)
{
	s->alloc = alloc;
	s->index_size = 16;
	s->capacity = 8;
	s->used = 0;
	crdt_buf_init(&s->bytes, alloc, 0);
	s->index = alloc->alloc(alloc->ctx, s->index_size * sizeof(uint32_t));
	s->entries = alloc->alloc(alloc->ctx, s->capacity * sizeof(CrdtKeySetEntry));
	if (s->index == NULL || s->entries == NULL || s->bytes.failed)
		return crdt_nomem(err);
	memset(s->index, 0, s->index_size * sizeof(uint32_t));
	return CRDT_OK;
}

void
crdt_keyset_free(CrdtKeySet *s)
{
	if (s->index != NULL)
		s->alloc->release(s->alloc->ctx, s->index);
	if (s->entries != NULL)
		s->alloc->release(s->alloc->ctx, s->entries);
	crdt_buf_free(&s->bytes);
	s->index = NULL;
	s->entries = NULL;
	s->used = 0;
}

static void
index_insert(uint32_t *index, size_t size, uint32_t hash, size_t entry)
{
	size_t		mask = size - 1;
	size_t		pos = hash & mask;

	while (index[pos] != 0)
		pos = (pos + 1) & mask;
	index[pos] = (uint32_t) (entry + 1);
}

CrdtStatus
crdt_keyset_put(CrdtKeySet *s, const uint8_t *key, size_t len, uint32_t tag, size_t *entry,
				CrdtError *err)
{
	uint32_t	hash = crdt_fast_hash(key, len, KEYSET_SEED + tag);
	size_t		mask = s->index_size - 1;
	CrdtKeySetEntry *e;

	for (size_t pos = hash & mask; s->index[pos] != 0; pos = (pos + 1) & mask)
	{
		e = &s->entries[s->index[pos] - 1];
		if (e->hash == hash && e->len == len && e->extra == tag &&
			memcmp(s->bytes.data + e->offset, key, len) == 0)
		{
			*entry = s->index[pos] - 1;
			return CRDT_OK;
		}
	}

	if (s->used >= 2 * (size_t) CRDT_MAX_ENTRIES || s->bytes.len + len > UINT32_MAX)
		return crdt_fail(err, CRDT_ERR_TOO_LARGE, -1, "more than %d entries in one value",
						 CRDT_MAX_ENTRIES);
	if ((s->used + 1) * 4 > s->index_size * 3)
	{
		size_t		size = s->index_size * (s->index_size < 1024 ? 4 : 2);
		uint32_t   *index = s->alloc->alloc(s->alloc->ctx, size * sizeof(uint32_t));

		if (index == NULL)
			return crdt_nomem(err);
		memset(index, 0, size * sizeof(uint32_t));
		for (size_t k = 0; k < s->used; k++)
			index_insert(index, size, s->entries[k].hash, k);
		s->alloc->release(s->alloc->ctx, s->index);
		s->index = index;
		s->index_size = size;
	}
	if (s->used == s->capacity)
	{
		CrdtKeySetEntry *grown = s->alloc->resize(s->alloc->ctx, s->entries,
												  2 * s->capacity * sizeof(CrdtKeySetEntry));

		if (grown == NULL)
			return crdt_nomem(err);
		s->entries = grown;
		s->capacity *= 2;
	}
	e = &s->entries[s->used];
	e->offset = (uint32_t) s->bytes.len;
	e->len = (uint32_t) len;
	e->hash = hash;
	e->extra = tag;
	crdt_buf_put(&s->bytes, key, len);
	if (s->bytes.failed)
		return crdt_nomem(err);
	index_insert(s->index, s->index_size, hash, s->used);
	*entry = s->used++;
	return CRDT_OK;
}

static int
compare_items(const void *x, const void *y)
{
	const CrdtKeySetItem *a = x;
	const CrdtKeySetItem *b = y;
	int			c = crdt_bytes_cmp(a->key, a->len, b->key, b->len);

	return c != 0 ? c : (a->tag < b->tag ? -1 : (a->tag > b->tag));
}

CrdtKeySetItem *
crdt_keyset_sorted(const CrdtKeySet *s)
{
	CrdtKeySetItem *items = s->alloc->alloc(s->alloc->ctx, (s->used + 1) * sizeof(CrdtKeySetItem));

	if (items == NULL)
		return NULL;
	for (size_t k = 0; k < s->used; k++)
	{
		items[k].key = s->bytes.data + s->entries[k].offset;
		items[k].len = s->entries[k].len;
		items[k].tag = s->entries[k].extra;
		items[k].entry = (uint32_t) k;
	}
	if (s->used > 1)
		qsort(items, s->used, sizeof(CrdtKeySetItem), compare_items);
	return items;
}

/*
 * Sorted by (key, list): a twopset element is removed when its group has
 * list 1, present when it has list 0 only.
 */
CrdtStatus
crdt_keyset_write_set(const CrdtKeySet *s, CrdtSetKind kind, CrdtBuf *out, CrdtError *err)
{
	CrdtKeySetItem *sorted = crdt_keyset_sorted(s);
	CrdtKeyWriter *w = s->alloc->alloc(s->alloc->ctx, sizeof(CrdtKeyWriter));

	if (sorted == NULL || w == NULL)
	{
		if (sorted != NULL)
			s->alloc->release(s->alloc->ctx, sorted);
		if (w != NULL)
			s->alloc->release(s->alloc->ctx, w);
		return crdt_nomem(err);
	}
	crdt_buf_put_byte(out, CRDT_FORMAT_V1);
	for (uint32_t list = 0; list < (kind == CRDT_TWOPSET ? 2u : 1u); list++)
	{
		crdt_keys_writer_init(w, CRDT_KEYS_FRONT_CODED, out);
		for (size_t k = 0; k < s->used; k++)
		{
			/* a group is one key: sorted[k] alone, or with sorted[k + 1] */
			bool		paired = k + 1 < s->used &&
				crdt_bytes_cmp(sorted[k].key, sorted[k].len, sorted[k + 1].key, sorted[k + 1].len) == 0;
			bool		removed = paired || sorted[k].tag == 1;

			if ((list == 1) == removed)
				crdt_keys_writer_add(w, sorted[k].key, sorted[k].len);
			if (paired)
				k++;
		}
		crdt_keys_writer_finish(w);
	}
	s->alloc->release(s->alloc->ctx, sorted);
	s->alloc->release(s->alloc->ctx, w);
	return out->failed ? crdt_nomem(err) : CRDT_OK;
}
