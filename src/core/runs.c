/*
 * runs.c — the crdt_merge state of gset and twopset: appended runs.
 *
 * Every input row is already a sorted, encoded element list, so absorbing
 * a row is a copy.  Merging decodes all runs once into an array of items
 * carrying the first 16 bytes of each element as two integers, so that the
 * one sort compares integers and rarely touches the element bytes; then it
 * drops duplicates and writes the canonical value.  The runs are merged
 * early whenever they have doubled since the last merge, which keeps
 * memory in proportion to the merged set and the cost O(n log n).
 */
#include "crdt_core.h"

#include <stdlib.h>
#include <string.h>

#define RUNS_MERGE_MIN (4 * 1024 * 1024)

typedef struct RunItem
{
	CrdtSortKey sort;
	size_t		offset;			/* into the arena while decoding */
	uint32_t	list;
} RunItem;

void
crdt_setruns_init(CrdtSetRuns *r, CrdtSetKind kind, const CrdtAllocator *alloc)
{
	r->kind = kind;
	r->alloc = alloc;
	for (int i = 0; i < 2; i++)
	{
		/* no allocation until the first row */
		memset(&r->lists[i], 0, sizeof(CrdtBuf));
		r->lists[i].alloc = alloc;
		r->merged[i] = 0;
	}
}

void
crdt_setruns_free(CrdtSetRuns *r)
{
	crdt_buf_free(&r->lists[0]);
	crdt_buf_free(&r->lists[1]);
}

static uint64_t
big_endian_word(const uint8_t *key, size_t len, size_t from)
{
	uint64_t	w = 0;

	for (size_t k = 0; k < 8; k++)
		w = (w << 8) | (from + k < len ? key[from + k] : 0);
	return w;
}

void
crdt_sort_key_init(CrdtSortKey *k, const uint8_t *key, size_t len)
{
	k->w0 = big_endian_word(key, len, 0);
	k->w1 = big_endian_word(key, len, 8);
	k->key = key;
	k->len = (uint32_t) len;
}

int
crdt_sort_key_cmp(const CrdtSortKey *a, const CrdtSortKey *b)
{
	if (a->w0 != b->w0)
		return a->w0 < b->w0 ? -1 : 1;
	if (a->w1 != b->w1)
		return a->w1 < b->w1 ? -1 : 1;
	if (a->len > 16 && b->len > 16)
		return crdt_bytes_cmp(a->key + 16, a->len - 16, b->key + 16, b->len - 16);
	return a->len == b->len ? 0 : (a->len < b->len ? -1 : 1);
}

static int
compare_items(const void *x, const void *y)
{
	const RunItem *a = x;
	const RunItem *b = y;
	int			c = crdt_sort_key_cmp(&a->sort, &b->sort);

	if (c != 0)
		return c;
	return a->list < b->list ? -1 : (a->list > b->list);
}

/*
 * Decodes every run into items, element bytes into arena.  The arena grows
 * as it must (a front-coded element may be far longer than its encoding),
 * so items record offsets, turned into pointers once it is complete.
 */
static CrdtStatus
decode_runs(const CrdtSetRuns *r, CrdtBuf *items, CrdtBuf *arena, CrdtError *err)
{
	CrdtKeyReader *reader = r->alloc->alloc(r->alloc->ctx, sizeof(CrdtKeyReader));
	CrdtStatus	st = CRDT_OK;

	if (reader == NULL)
		return crdt_nomem(err);
	for (uint32_t list = 0; list < 2 && st == CRDT_OK; list++)
	{
		const uint8_t *p = r->lists[list].data;
		/* nothing absorbed yet: data is NULL, and NULL + 0 is undefined */
		const uint8_t *end = p == NULL ? NULL : p + r->lists[list].len;

		while (p < end && st == CRDT_OK)
		{
			const uint8_t *key;
			size_t		len;
			int			rc;

			crdt_keys_reader_init(reader, CRDT_KEYS_FRONT_CODED, p, (size_t) (end - p), 0);
			while ((rc = crdt_keys_reader_next(reader, &key, &len, err)) > 0)
			{
				RunItem		item;

				crdt_sort_key_init(&item.sort, key, len);
				item.offset = arena->len;
				item.list = list;
				crdt_buf_put(arena, key, len);
				crdt_buf_put(items, &item, sizeof(item));
			}
			if (rc < 0)
				st = err->status;
			else if (items->failed || arena->failed)
				st = crdt_nomem(err);
			p = reader->pos;
		}
	}
	r->alloc->release(r->alloc->ctx, reader);
	if (st == CRDT_OK)
	{
		RunItem    *it = (RunItem *) items->data;

		for (size_t k = 0; k < items->len / sizeof(RunItem); k++)
			it[k].sort.key = arena->data + it[k].offset;
	}
	return st;
}

static CrdtStatus
merge_runs(const CrdtSetRuns *r, CrdtBuf *out, CrdtError *err)
{
	CrdtBuf		items;
	CrdtBuf		arena;
	CrdtKeyWriter *w = r->alloc->alloc(r->alloc->ctx, sizeof(CrdtKeyWriter));
	CrdtStatus	st;
	RunItem    *it;
	size_t		n;

	if (w == NULL)
		return crdt_nomem(err);
	crdt_buf_init(&items, r->alloc, 0);
	crdt_buf_init(&arena, r->alloc, 0);
	if ((st = decode_runs(r, &items, &arena, err)) != CRDT_OK)
		goto done;
	it = (RunItem *) items.data;
	n = items.len / sizeof(RunItem);
	if (n > 1)
		qsort(it, n, sizeof(RunItem), compare_items);

	/* gset: list 0.  twopset: P = elements never removed, then R. */
	crdt_buf_put_byte(out, CRDT_FORMAT_V1);
	for (uint32_t list = 0; list < (r->kind == CRDT_TWOPSET ? 2u : 1u); list++)
	{
		crdt_keys_writer_init(w, CRDT_KEYS_FRONT_CODED, out);
		for (size_t k = 0; k < n;)
		{
			size_t		end = k + 1;
			bool		removed = it[k].list == 1;

			while (end < n && crdt_sort_key_cmp(&it[k].sort, &it[end].sort) == 0)
				removed |= it[end++].list == 1;
			if ((list == 1) == removed)
				crdt_keys_writer_add(w, it[k].sort.key, it[k].sort.len);
			k = end;
		}
		crdt_keys_writer_finish(w);
	}
	if (out->failed)
		st = crdt_nomem(err);
done:
	crdt_buf_free(&items);
	crdt_buf_free(&arena);
	r->alloc->release(r->alloc->ctx, w);
	return st;
}

/* Replaces the runs by the one merged value. */
static CrdtStatus
merge_early(CrdtSetRuns *r, CrdtError *err)
{
	CrdtBuf		merged;
	CrdtSlice	list[2];
	CrdtStatus	st;

	crdt_buf_init(&merged, r->alloc, 0);
	if ((st = merge_runs(r, &merged, err)) == CRDT_OK &&
		(st = crdt_set_lists(r->kind,
							 (CrdtSlice) {merged.data, merged.len}, list, err)) == CRDT_OK)
	{
		for (int i = 0; i < 2; i++)
		{
			r->lists[i].len = 0;
			if (r->kind == CRDT_TWOPSET || i == 0)
				crdt_buf_put(&r->lists[i], list[i].data, list[i].len);
			r->merged[i] = r->lists[i].len;
		}
	}
	crdt_buf_free(&merged);
	return st;
}

static CrdtStatus
after_append(CrdtSetRuns *r, CrdtError *err)
{
	size_t		len = r->lists[0].len + r->lists[1].len;

	if (r->lists[0].failed || r->lists[1].failed)
		return crdt_nomem(err);
	if (len > RUNS_MERGE_MIN && len > 2 * (r->merged[0] + r->merged[1]))
		return merge_early(r, err);
	return CRDT_OK;
}

CrdtStatus
crdt_setruns_absorb(CrdtSetRuns *r, CrdtSlice value, CrdtError *err)
{
	CrdtSlice	list[2];
	CrdtStatus	st;

	if (r->kind == CRDT_GSET && value.len >= 1 && value.data[0] == CRDT_FORMAT_V1)
	{
		/* one list to the end: copied as is, checked when merged */
		crdt_buf_put(&r->lists[0], value.data + 1, value.len - 1);
		return after_append(r, err);
	}
	if ((st = crdt_set_lists(r->kind, value, list, err)) != CRDT_OK)
		return st;
	for (int i = 0; i < 2; i++)
		if (list[i].len > 1)
			crdt_buf_put(&r->lists[i], list[i].data, list[i].len);
	return after_append(r, err);
}

CrdtStatus
crdt_setruns_absorb_runs(CrdtSetRuns *r, const CrdtSetRuns *src, CrdtError *err)
{
	if (r == src)
		return CRDT_OK;			/* merging a state with itself changes nothing */
	for (int i = 0; i < 2; i++)
		crdt_buf_put(&r->lists[i], src->lists[i].data, src->lists[i].len);
	return after_append(r, err);
}

CrdtStatus
crdt_setruns_write(const CrdtSetRuns *r, CrdtBuf *out, CrdtError *err)
{
	return merge_runs(r, out, err);
}
