/*
 * table.c — the transition state of the crdt_merge aggregates.
 *
 * Run mode: per map, entries arriving in increasing id order are appended
 * to an encoded body with the map writer; a repeat of the last id only
 * rewrites that entry's count.
 *
 * Hash mode, entered at the first entry out of order: entries live in one
 * array in arrival order; an open-addressing index (linear probing,
 * power-of-two size, at most 3/4 full) maps (half, id) to them, and each
 * index slot carries 7 bits of the hash so that a probe rarely touches an
 * entry that does not match.  Id bytes are appended once, to one buffer
 * addressed by offset.
 */
#include "crdt_core.h"

#include <stdlib.h>
#include <string.h>

#define INDEX_BITS 25
#define INDEX_ENTRY_MASK ((UINT32_C(1) << INDEX_BITS) - 1)
#define INITIAL_INDEX_SIZE 16
#define INITIAL_CAPACITY 8
#define ID_HASH_SEED UINT64_C(0x5ca1ab1e0ddba11)

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
	memset(t, 0, sizeof(*t));
	t->alloc = alloc;
	t->run_mode = true;
	for (int h = 0; h < 2; h++)
	{
		/* no allocation until the first byte: most states use one map */
		t->run[h].body.alloc = alloc;
		crdt_map_writer_init(&t->run[h].writer, &t->run[h].body);
	}
	return CRDT_OK;
}

void
crdt_table_free(CrdtCounterTable *t)
{
	for (int h = 0; h < 2; h++)
		crdt_buf_free(&t->run[h].body);
	if (t->index != NULL)
		t->alloc->release(t->alloc->ctx, t->index);
	if (t->entries != NULL)
		t->alloc->release(t->alloc->ctx, t->entries);
	if (t->ids != NULL)
		t->alloc->release(t->alloc->ctx, t->ids);
	t->index = NULL;
	t->entries = NULL;
	t->ids = NULL;
	t->used = 0;
}

/* ------------------------------------------------------------ hash mode */

static uint32_t
entry_hash(const uint8_t *id, size_t len, int half)
{
	return crdt_fast_hash(id, len, ID_HASH_SEED ^ (uint64_t) half);
}

/* Grows *array (of elem bytes each) so it holds at least need elements. */
static bool
grow_array(const CrdtAllocator *alloc, void **array, size_t *capacity, size_t need,
		   size_t elem)
{
	size_t		cap = *capacity;
	void	   *grown;

	if (need <= cap)
		return true;
	while (cap < need)
		cap *= 2;
	grown = alloc->resize(alloc->ctx, *array, cap * elem);
	if (grown == NULL)
		return false;
	*array = grown;
	*capacity = cap;
	return true;
}

static CrdtStatus
hash_init(CrdtCounterTable *t, CrdtError *err)
{
	const CrdtAllocator *alloc = t->alloc;

	t->index_size = INITIAL_INDEX_SIZE;
	t->capacity = INITIAL_CAPACITY;
	t->ids_capacity = INITIAL_CAPACITY * 16;
	t->index = alloc->alloc(alloc->ctx, t->index_size * sizeof(uint32_t));
	t->entries = alloc->alloc(alloc->ctx, t->capacity * sizeof(CrdtTableEntry));
	t->ids = alloc->alloc(alloc->ctx, t->ids_capacity);
	if (t->index == NULL || t->entries == NULL || t->ids == NULL)
		return crdt_nomem(err);
	memset(t->index, 0, t->index_size * sizeof(uint32_t));
	t->in_order = true;
	return CRDT_OK;
}

static void
index_insert(uint32_t *index, size_t size, uint32_t hash, size_t entry)
{
	size_t		mask = size - 1;
	size_t		pos = hash & mask;

	while (index[pos] != 0)
		pos = (pos + 1) & mask;
	index[pos] = (hash >> INDEX_BITS) << INDEX_BITS | (uint32_t) (entry + 1);
}

/*
 * Growing re-hashes every entry, so small indexes grow fourfold: a group
 * of a hundred replicas is re-hashed twice rather than four times.
 */
static CrdtStatus
grow_index(CrdtCounterTable *t, CrdtError *err)
{
	size_t		size = t->index_size * (t->index_size < 1024 ? 4 : 2);
	uint32_t   *index = t->alloc->alloc(t->alloc->ctx, size * sizeof(uint32_t));

	if (index == NULL)
		return crdt_nomem(err);
	memset(index, 0, size * sizeof(uint32_t));
	for (size_t k = 0; k < t->used; k++)
	{
		const CrdtTableEntry *e = &t->entries[k];

		index_insert(index, size, entry_hash(t->ids + e->id_offset, e->len, e->half), k);
	}
	t->alloc->release(t->alloc->ctx, t->index);
	t->index = index;
	t->index_size = size;
	return CRDT_OK;
}

static CrdtStatus
hash_put(CrdtCounterTable *t, const uint8_t *id, size_t len, int half, uint64_t count,
		 CrdtError *err)
{
	uint32_t	hash = entry_hash(id, len, half);
	uint32_t	tag = hash >> INDEX_BITS;
	size_t		mask = t->index_size - 1;
	CrdtTableEntry *e;
	CrdtStatus	st;

	for (size_t pos = hash & mask; t->index[pos] != 0; pos = (pos + 1) & mask)
	{
		uint32_t	slot = t->index[pos];

		if (slot >> INDEX_BITS != tag)
			continue;
		e = &t->entries[(slot & INDEX_ENTRY_MASK) - 1];
		if (e->len == len && e->half == half && memcmp(t->ids + e->id_offset, id, len) == 0)
		{
			if (count > e->count)
				e->count = count;
			return CRDT_OK;
		}
	}

	if (t->per_half[half] >= CRDT_MAX_ENTRIES)
		return too_many(err);
	if ((t->used + 1) * 4 > t->index_size * 3 &&
		(st = grow_index(t, err)) != CRDT_OK)
		return st;
	if (!grow_array(t->alloc, (void **) &t->entries, &t->capacity, t->used + 1,
					sizeof(CrdtTableEntry)) ||
		!grow_array(t->alloc, (void **) &t->ids, &t->ids_capacity, t->ids_len + len, 1))
		return crdt_nomem(err);

	if (t->in_order && t->used > 0)
	{
		const CrdtTableEntry *last = &t->entries[t->used - 1];

		if (half < last->half ||
			(half == last->half &&
			 crdt_bytes_cmp(id, len, t->ids + last->id_offset, last->len) < 0))
			t->in_order = false;
	}

	e = &t->entries[t->used];
	e->count = count;
	e->id_offset = (uint32_t) t->ids_len;
	e->len = (uint8_t) len;
	e->half = (uint8_t) half;
	memcpy(t->ids + t->ids_len, id, len);
	t->ids_len += len;
	index_insert(t->index, t->index_size, hash, t->used);
	t->used++;
	t->per_half[half]++;
	return CRDT_OK;
}

/* ------------------------------------------------------------- run mode */

/* Leaves run mode: every entry so far goes into a new hash table. */
static CrdtStatus
spill(CrdtCounterTable *t, CrdtError *err)
{
	CrdtStatus	st;

	if ((st = hash_init(t, err)) != CRDT_OK)
		return st;
	for (int h = 0; h < 2; h++)
	{
		CrdtTableRun *run = &t->run[h];
		CrdtMapReader r;
		CrdtMapEntry e;
		int			rc;

		run->writer.out = &run->body;
		crdt_map_writer_finish(&run->writer);
		if (run->body.failed)
			return crdt_nomem(err);
		crdt_map_reader_init(&r, run->body.data, run->body.len, 0);
		while ((rc = crdt_map_reader_next(&r, &e, err)) > 0)
			if ((st = hash_put(t, e.id, e.len, h, e.count, err)) != CRDT_OK)
				return st;
		if (rc < 0)
			return err->status;
		crdt_buf_free(&run->body);
	}
	t->run_mode = false;
	return CRDT_OK;
}

CrdtStatus
crdt_table_put(CrdtCounterTable *t, const uint8_t *id, size_t len, int half,
			   uint64_t count, CrdtError *err)
{
	CrdtTableRun *run = &t->run[half];
	CrdtStatus	st;

	/* max with 0 changes nothing; merge_next must never see a zero count */
	if (count == 0)
		return CRDT_OK;
	if (len == 0 || len > CRDT_REPLICA_ID_MAX || half < 0 || half > 1)
		return crdt_fail(err, CRDT_ERR_ARGUMENT, -1, "invalid table entry");
	if (!t->run_mode)
		return hash_put(t, id, len, half, count, err);
	if (run->writer.entries >= CRDT_MAX_ENTRIES)
		return too_many(err);
	run->writer.out = &run->body;	/* the table may have been moved */
	switch (crdt_map_writer_merge_next(&run->writer, id, len, count))
	{
		case 1:
		case 0:
			return run->body.failed ? crdt_nomem(err) : CRDT_OK;
		default:
			if ((st = spill(t, err)) != CRDT_OK)
				return st;
			return hash_put(t, id, len, half, count, err);
	}
}

/* ---------------------------------------------------------------- both */

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
				(st = crdt_table_put(t, single[half].id, single[half].len, half,
									 single[half].count, err)) != CRDT_OK)
				return st;
		return CRDT_OK;
	}
	if ((st = crdt_counter_reader_init(&r, kind, value, err)) != CRDT_OK)
		return st;
	while ((rc = crdt_counter_reader_next(&r, &e, &half, err)) > 0)
	{
		if ((st = crdt_table_put(t, e.id, e.len, half, e.count, err)) != CRDT_OK)
			return st;
	}
	return rc < 0 ? err->status : CRDT_OK;
}

/* Encodes one map of a run-mode table into out. */
static void
write_run(const CrdtTableRun *run, CrdtBuf *out)
{
	crdt_buf_put(out, run->body.data, run->body.len);
	crdt_buf_put_byte(out, 0);
}

CrdtStatus
crdt_table_absorb_table(CrdtCounterTable *t, const CrdtCounterTable *src, CrdtError *err)
{
	CrdtStatus	st;

	if (src->run_mode)
	{
		/* re-read src's runs as a pncounter-shaped value */
		CrdtBuf		value;

		crdt_buf_init(&value, t->alloc, 0);
		crdt_buf_put_byte(&value, CRDT_FORMAT_V1);
		for (int h = 0; h < 2; h++)
			write_run(&src->run[h], &value);
		if (value.failed)
			st = crdt_nomem(err);
		else
		{
			CrdtSlice	s = {value.data, value.len};

			st = crdt_table_absorb(t, CRDT_PNCOUNTER, s, err);
		}
		crdt_buf_free(&value);
		return st;
	}
	for (size_t k = 0; k < src->used; k++)
	{
		const CrdtTableEntry *e = &src->entries[k];

		if ((st = crdt_table_put(t, src->ids + e->id_offset, e->len, e->half,
								 e->count, err)) != CRDT_OK)
			return st;
	}
	return CRDT_OK;
}

typedef struct SortedEntry
{
	const uint8_t *id;
	uint64_t	count;
	uint8_t		len;
	uint8_t		half;
} SortedEntry;

static int
compare_sorted(const void *x, const void *y)
{
	const SortedEntry *a = x;
	const SortedEntry *b = y;

	if (a->half != b->half)
		return a->half < b->half ? -1 : 1;
	return crdt_bytes_cmp(a->id, a->len, b->id, b->len);
}

static CrdtStatus
write_hashed(const CrdtCounterTable *t, int halves, CrdtBuf *out, CrdtError *err)
{
	SortedEntry *sorted;
	size_t		k = 0;

	sorted = t->alloc->alloc(t->alloc->ctx, (t->used + 1) * sizeof(SortedEntry));
	if (sorted == NULL)
		return crdt_nomem(err);
	for (size_t i = 0; i < t->used; i++)
	{
		sorted[i].id = t->ids + t->entries[i].id_offset;
		sorted[i].count = t->entries[i].count;
		sorted[i].len = t->entries[i].len;
		sorted[i].half = t->entries[i].half;
	}
	if (!t->in_order)
		qsort(sorted, t->used, sizeof(SortedEntry), compare_sorted);
	for (int half = 0; half < halves; half++)
	{
		CrdtMapWriter w;

		crdt_map_writer_init(&w, out);
		for (; k < t->used && sorted[k].half == half; k++)
			crdt_map_writer_add(&w, sorted[k].id, sorted[k].len, sorted[k].count);
		crdt_map_writer_finish(&w);
	}
	t->alloc->release(t->alloc->ctx, sorted);
	return CRDT_OK;
}

/* Does not change t: a final function may run more than once per state. */
CrdtStatus
crdt_table_write(const CrdtCounterTable *t, CrdtCounterKind kind, CrdtBuf *out,
				 CrdtError *err)
{
	int			halves = kind == CRDT_PNCOUNTER ? 2 : 1;
	CrdtStatus	st = CRDT_OK;

	crdt_buf_put_byte(out, CRDT_FORMAT_V1);
	if (t->run_mode)
	{
		if (crdt_buf_reserve(out, t->run[0].body.len + t->run[1].body.len + 2))
			for (int h = 0; h < halves; h++)
				write_run(&t->run[h], out);
	}
	else
		st = write_hashed(t, halves, out, err);
	if (st == CRDT_OK && out->failed)
		st = crdt_nomem(err);
	return st;
}
