/*
 * table.c — the transition state of the crdt_merge aggregates.
 *
 * An open-addressing hash table (linear probing, power-of-two capacity,
 * at most 3/4 full) from replica id to a (p, n) pair kept at the pointwise
 * maximum.  Id bytes are copied once, into arena chunks, when an id is
 * first seen; merging a row whose ids are already known allocates nothing.
 */
#include "crdt_core.h"

#include <stdlib.h>
#include <string.h>

#define TABLE_INITIAL_CAPACITY 8
#define ARENA_CHUNK_BYTES 2048
#define ID_HASH_SEED UINT64_C(0x5ca1ab1e0ddba11)

struct CrdtArenaChunk
{
	CrdtArenaChunk *next;
	size_t		used;
	size_t		cap;
	uint8_t		bytes[];
};

static CrdtStatus
nomem(CrdtError *err)
{
	return crdt_fail(err, CRDT_ERR_NOMEM, -1, "out of memory");
}

CrdtStatus
crdt_table_init(CrdtCounterTable *t, const CrdtAllocator *alloc, CrdtError *err)
{
	size_t		bytes = TABLE_INITIAL_CAPACITY * sizeof(CrdtCounterSlot);

	t->alloc = alloc;
	t->capacity = TABLE_INITIAL_CAPACITY;
	t->used = 0;
	t->chunks = NULL;
	t->slots = alloc->alloc(alloc->ctx, bytes);
	if (t->slots == NULL)
		return nomem(err);
	memset(t->slots, 0, bytes);
	return CRDT_OK;
}

void
crdt_table_free(CrdtCounterTable *t)
{
	CrdtArenaChunk *c = t->chunks;

	while (c != NULL)
	{
		CrdtArenaChunk *next = c->next;

		t->alloc->release(t->alloc->ctx, c);
		c = next;
	}
	if (t->slots != NULL)
		t->alloc->release(t->alloc->ctx, t->slots);
	t->slots = NULL;
	t->chunks = NULL;
	t->used = t->capacity = 0;
}

static const uint8_t *
arena_copy(CrdtCounterTable *t, const uint8_t *id, size_t len)
{
	CrdtArenaChunk *c = t->chunks;
	uint8_t    *dst;

	if (c == NULL || c->cap - c->used < len)
	{
		c = t->alloc->alloc(t->alloc->ctx, sizeof(CrdtArenaChunk) + ARENA_CHUNK_BYTES);
		if (c == NULL)
			return NULL;
		c->next = t->chunks;
		c->used = 0;
		c->cap = ARENA_CHUNK_BYTES;
		t->chunks = c;
	}
	dst = c->bytes + c->used;
	memcpy(dst, id, len);
	c->used += len;
	return dst;
}

static CrdtStatus
grow(CrdtCounterTable *t, CrdtError *err)
{
	size_t		capacity = t->capacity * 2;
	size_t		mask = capacity - 1;
	CrdtCounterSlot *slots = t->alloc->alloc(t->alloc->ctx, capacity * sizeof(CrdtCounterSlot));

	if (slots == NULL)
		return nomem(err);
	memset(slots, 0, capacity * sizeof(CrdtCounterSlot));
	for (size_t k = 0; k < t->capacity; k++)
	{
		size_t		at;

		if (t->slots[k].id == NULL)
			continue;
		at = t->slots[k].hash & mask;
		while (slots[at].id != NULL)
			at = (at + 1) & mask;
		slots[at] = t->slots[k];
	}
	t->alloc->release(t->alloc->ctx, t->slots);
	t->slots = slots;
	t->capacity = capacity;
	return CRDT_OK;
}

CrdtStatus
crdt_table_put(CrdtCounterTable *t, const uint8_t *id, size_t len, uint64_t p,
			   uint64_t n, CrdtError *err)
{
	uint32_t	hash = (uint32_t) crdt_xxh64(id, len, ID_HASH_SEED);
	size_t		mask = t->capacity - 1;
	size_t		at = hash & mask;
	CrdtCounterSlot *slot;

	for (;;)
	{
		slot = &t->slots[at];
		if (slot->id == NULL)
			break;
		if (slot->hash == hash && slot->len == len && memcmp(slot->id, id, len) == 0)
		{
			if (p > slot->p)
				slot->p = p;
			if (n > slot->n)
				slot->n = n;
			return CRDT_OK;
		}
		at = (at + 1) & mask;
	}

	if (t->used >= CRDT_MAX_ENTRIES)
		return crdt_fail(err, CRDT_ERR_TOO_LARGE, -1,
						 "merged value would have more than %d entries", CRDT_MAX_ENTRIES);
	if ((t->used + 1) * 4 > t->capacity * 3)
	{
		CrdtStatus	st = grow(t, err);

		if (st != CRDT_OK)
			return st;
		mask = t->capacity - 1;
		at = hash & mask;
		while (t->slots[at].id != NULL)
			at = (at + 1) & mask;
		slot = &t->slots[at];
	}
	slot->id = arena_copy(t, id, len);
	if (slot->id == NULL)
		return nomem(err);
	slot->len = (uint8_t) len;
	slot->hash = hash;
	slot->p = p;
	slot->n = n;
	t->used++;
	return CRDT_OK;
}

CrdtStatus
crdt_table_absorb(CrdtCounterTable *t, CrdtCounterKind kind, CrdtSlice value,
				  CrdtError *err)
{
	CrdtCounterReader r;
	CrdtMapEntry e;
	CrdtStatus	st;
	int			half;
	int			rc;

	if ((st = crdt_counter_reader_init(&r, kind, value, err)) != CRDT_OK)
		return st;
	while ((rc = crdt_counter_reader_next(&r, &e, &half, err)) > 0)
	{
		if ((st = crdt_table_put(t, e.id, e.len, half == 0 ? e.count : 0,
								 half == 1 ? e.count : 0, err)) != CRDT_OK)
			return st;
	}
	return rc < 0 ? err->status : CRDT_OK;
}

CrdtStatus
crdt_table_absorb_table(CrdtCounterTable *t, const CrdtCounterTable *src, CrdtError *err)
{
	for (size_t k = 0; k < src->capacity; k++)
	{
		const CrdtCounterSlot *s = &src->slots[k];
		CrdtStatus	st;

		if (s->id == NULL)
			continue;
		if ((st = crdt_table_put(t, s->id, s->len, s->p, s->n, err)) != CRDT_OK)
			return st;
	}
	return CRDT_OK;
}

static int
compare_slots(const void *x, const void *y)
{
	const CrdtCounterSlot *a = *(const CrdtCounterSlot *const *) x;
	const CrdtCounterSlot *b = *(const CrdtCounterSlot *const *) y;

	return crdt_bytes_cmp(a->id, a->len, b->id, b->len);
}

CrdtStatus
crdt_table_write(const CrdtCounterTable *t, CrdtCounterKind kind, CrdtBuf *out,
				 CrdtError *err)
{
	const CrdtCounterSlot **sorted = NULL;
	size_t		n = 0;

	if (t->used > 0)
	{
		sorted = t->alloc->alloc(t->alloc->ctx, t->used * sizeof(*sorted));
		if (sorted == NULL)
			return nomem(err);
		for (size_t k = 0; k < t->capacity; k++)
			if (t->slots[k].id != NULL)
				sorted[n++] = &t->slots[k];
		qsort(sorted, n, sizeof(*sorted), compare_slots);
	}

	crdt_buf_put_byte(out, CRDT_FORMAT_V1);
	for (int h = 0; h < (kind == CRDT_PNCOUNTER ? 2 : 1); h++)
	{
		CrdtMapWriter w;

		crdt_map_writer_init(&w, out);
		for (size_t k = 0; k < n; k++)
			crdt_map_writer_add(&w, sorted[k]->id, sorted[k]->len,
								h == 0 ? sorted[k]->p : sorted[k]->n);
		crdt_map_writer_finish(&w);
	}
	if (sorted != NULL)
		t->alloc->release(t->alloc->ctx, (void *) sorted);
	return out->failed ? nomem(err) : CRDT_OK;
}
