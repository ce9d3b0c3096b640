/*
 * tablesort.c — sorting the unsorted tail of a counter table's log.
 *
 * Each tail entry is decoded into an item holding the first 16 bytes of
 * its id as two big-endian integers (the rest in an arena) and sorted as
 * a 16-byte key: the 8 bytes of its id from where the tail's ids start to
 * differ, its length and its index.  Keys with at most three varying
 * bytes, sixty-four of them or more, go through a radix sort (no
 * comparisons, no branches to mispredict: replica ids like "agent-042");
 * others through a merge sort whose merge step picks the smaller key
 * without a branch.  Either way O(n log n) at most: keys that tie while
 * their ids go on past them are ordered by the whole ids, by merge sort.
 *
 * Replica ids contain no NUL byte (no control characters), so zero
 * padding never ties with a real byte: equal keys mean equal ids, or ids
 * of which one at least goes on past its key.
 */
#include "crdt_core.h"

#include <string.h>

/* insertion-sorted runs before merging */
#define SORT_RUN 8
/* a radix sort when there are this many keys, of at most so many varying bytes */
#define RADIX_MIN 64
#define RADIX_PASSES 3

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
#if defined(__GNUC__) && defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	w = __builtin_bswap64(w);
	memcpy(b, &w, 8);
#else
	for (int k = 7; k >= 0; k--, w >>= 8)
		b[k] = (uint8_t) w;
#endif
}

int
crdt_table_item_cmp(const CrdtTableItem *a, const CrdtTableItem *b, const uint8_t *arena)
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

typedef struct KeyOrder
{
	const CrdtTableItem *items;
	const uint8_t *arena;
	uint32_t	key_end;		/* ids longer than this go past their key */
} KeyOrder;

/*
 * a < b, without a branch on the data but in the rare case.  Ids share
 * the bytes before their keys and have no NUL, so equal keys mean equal
 * ids, or ids of which at least one goes on past its key (one may end
 * exactly at the key's end: "aaaaaaaa" and "aaaaaaaaa" from byte 0).
 */
static inline bool
key_less(const CrdtTableKey *a, const CrdtTableKey *b, const KeyOrder *o)
{
	if (a->key == b->key && (a->len > o->key_end || b->len > o->key_end))
		return crdt_table_item_cmp(&o->items[a->item], &o->items[b->item], o->arena) < 0;
	return a->key < b->key;
}

static void
insertion_sort(CrdtTableKey *a, size_t n, const KeyOrder *o)
{
	for (size_t i = 1; i < n; i++)
	{
		CrdtTableKey		x = a[i];
		size_t		j = i;

		for (; j > 0 && key_less(&x, &a[j - 1], o); j--)
			a[j] = a[j - 1];
		a[j] = x;
	}
}

/* Sorts a[0..n) (O(n log n)); tmp holds n keys.  Returns where the result is. */
static CrdtTableKey *
sort_keys(CrdtTableKey *a, CrdtTableKey *tmp, size_t n, const KeyOrder *o)
{
	CrdtTableKey    *src = a;
	CrdtTableKey    *dst = tmp;

	for (size_t lo = 0; lo < n; lo += SORT_RUN)
		insertion_sort(a + lo, n - lo < SORT_RUN ? n - lo : SORT_RUN, o);
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
			{
				/* the smaller key, chosen by a mask: no branch to mispredict */
				uintptr_t	a = (uintptr_t) &src[i];
				uintptr_t	b = (uintptr_t) &src[j];
				size_t		right = key_less(&src[j], &src[i], o);

				dst[k++] = *(const CrdtTableKey *) (a ^ ((a ^ b) & (0 - (uintptr_t) right)));
				j += right;
				i += 1 - right;
			}
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
 * Sorts keys by key (a stable radix sort, least significant byte first,
 * over the "passes" key bytes that vary, at shifts); then, when some id
 * goes on past its key, each run of equal keys is sorted by the whole
 * ids.  Returns where the result is.  Inlined once per number of passes,
 * a constant that unrolls its loops.
 */
static CRDT_ALWAYS_INLINE CrdtTableKey *
radix_keys(CrdtTableKey *a, CrdtTableKey *tmp, size_t n, const unsigned *shifts, int passes,
		   bool long_ids_seen, const KeyOrder *o)
{
	CrdtTableKey    *src = a;
	CrdtTableKey    *dst = tmp;
	uint32_t	count[RADIX_PASSES][256];
	unsigned	low[RADIX_PASSES];
	unsigned	high[RADIX_PASSES];

	/*
	 * Every pass's counts in one read of the keys (n < 2^32: item is
	 * 32-bit), and the range of its digits, the only ones summed: ids
	 * like agent-042 vary over ten digits of the 256.
	 */
	memset(count, 0, (size_t) passes * sizeof(count[0]));
	for (int p = 0; p < passes; p++)
		low[p] = high[p] = (unsigned) (src[0].key >> shifts[p]) & 0xff;
	for (size_t k = 0; k < n; k++)
		for (int p = 0; p < passes; p++)
		{
			unsigned	d = (unsigned) (src[k].key >> shifts[p]) & 0xff;

			count[p][d]++;
			low[p] = d < low[p] ? d : low[p];
			high[p] = d > high[p] ? d : high[p];
		}
	for (int p = 0; p < passes; p++)
	{
		uint32_t	sum = 0;

		for (unsigned d = low[p]; d <= high[p]; d++)
		{
			uint32_t	c = count[p][d];

			count[p][d] = sum;
			sum += c;
		}
	}
	for (int p = 0; p < passes; p++)
	{
		for (size_t k = 0; k < n; k++)
			dst[count[p][(src[k].key >> shifts[p]) & 0xff]++] = src[k];
		src = dst;
		dst = src == a ? tmp : a;
	}
	for (size_t lo = 0; long_ids_seen && lo < n;)
	{
		size_t		hi = lo + 1;
		bool		long_ids = src[lo].len > o->key_end;

		for (; hi < n && src[hi].key == src[lo].key; hi++)
			long_ids |= src[hi].len > o->key_end;
		if (long_ids && hi - lo > 1)
		{
			CrdtTableKey    *run = sort_keys(src + lo, dst + lo, hi - lo, o);

			if (run != src + lo)
				memcpy(src + lo, run, (hi - lo) * sizeof(CrdtTableKey));
		}
		lo = hi;
	}
	return src;
}

/* Byte at of an item's id, zero past its end. */
static inline uint8_t
item_byte(const CrdtTableItem *it, const uint8_t *arena, size_t at)
{
	if (at < 16)
		return (uint8_t) ((at < 8 ? it->w0 : it->w1) >> (56 - 8 * (at % 8)));
	return at < it->len ? arena[it->rest + at - 16] : 0;
}

const CrdtTableKey *
crdt_table_sort(const CrdtTableItem *items, size_t n, CrdtTableKey *keys,
				const uint8_t *arena, size_t common)
{
	size_t		from = common < CRDT_REPLICA_ID_MAX - 8 ? common : CRDT_REPLICA_ID_MAX - 8;
	unsigned	shift = (unsigned) (8 * from);
	uint64_t	varying = 0;
	uint32_t	longest = 0;
	unsigned	shifts[RADIX_PASSES];	/* of the first key bytes that vary */
	int			passes = 0;
	bool		long_ids;
	KeyOrder	o;

	o.items = items;
	o.arena = arena;
	o.key_end = (uint32_t) from + 8;
	for (size_t k = 0; k < n; k++)
	{
		const CrdtTableItem *it = &items[k];

		if (from == 0)
			keys[k].key = it->w0;
		else if (from < 8)
			keys[k].key = it->w0 << shift | it->w1 >> (64 - shift);
		else if (from == 8)
			keys[k].key = it->w1;
		else
		{
			keys[k].key = 0;
			for (size_t b = from; b < from + 8; b++)
				keys[k].key = keys[k].key << 8 | item_byte(it, arena, b);
		}
		keys[k].len = it->len;
		keys[k].item = (uint32_t) k;
		varying |= keys[k].key ^ keys[0].key;
		longest = it->len > longest ? it->len : longest;
	}
	for (unsigned at = 0; at < 64 && (varying >> at) != 0; at += 8)
		if (((varying >> at) & 0xff) != 0 && passes++ < RADIX_PASSES)
			shifts[passes - 1] = at;
	if (n < RADIX_MIN || passes > RADIX_PASSES)
		return sort_keys(keys, keys + n, n, &o);
	long_ids = longest > o.key_end;
	switch (passes)
	{
		case 0:
			return radix_keys(keys, keys + n, n, shifts, 0, long_ids, &o);
		case 1:
			return radix_keys(keys, keys + n, n, shifts, 1, long_ids, &o);
		case 2:
			return radix_keys(keys, keys + n, n, shifts, 2, long_ids, &o);
		default:
			return radix_keys(keys, keys + n, n, shifts, 3, long_ids, &o);
	}
}

void
crdt_table_item_set(CrdtTableItem *it, const uint8_t *padded, size_t len, CrdtBuf *arena)
{
	it->w0 = load_big_endian(padded);
	it->w1 = load_big_endian(padded + 8);
	it->len = (uint32_t) len;
	it->rest = 0;
	if (len > 16)
	{
		it->rest = (uint32_t) arena->len;
		crdt_buf_put(arena, padded + 16, len - 16);
	}
}

void
crdt_table_item_id(const CrdtTableItem *it, const uint8_t *arena, uint8_t *id)
{
	store_big_endian(id, it->w0);
	store_big_endian(id + 8, it->w1);
	if (it->len > 16)
		memcpy(id + 16, arena + it->rest, it->len - 16);
}
