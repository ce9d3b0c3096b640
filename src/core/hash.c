/*
 * hash.c — XXH64, written from the xxHash specification
 * (https://github.com/Cyan4973/xxHash/blob/dev/doc/xxhash_spec.md).
 *
 * crdt_hash() promises the same number on every platform and release, so
 * the input is read byte by byte as little-endian regardless of the host.
 */
#include "crdt_core.h"

#include <string.h>

#define PRIME64_1 UINT64_C(0x9E3779B185EBCA87)
#define PRIME64_2 UINT64_C(0xC2B2AE3D27D4EB4F)
#define PRIME64_3 UINT64_C(0x165667B19E3779F9)
#define PRIME64_4 UINT64_C(0x85EBCA77C2B2AE63)
#define PRIME64_5 UINT64_C(0x27D4EB2F165667C5)

static inline uint64_t
rotl64(uint64_t x, unsigned r)
{
	return (x << r) | (x >> (64 - r));
}

static inline uint64_t
read64(const uint8_t *p)
{
	return (uint64_t) p[0] | (uint64_t) p[1] << 8 | (uint64_t) p[2] << 16 |
		(uint64_t) p[3] << 24 | (uint64_t) p[4] << 32 | (uint64_t) p[5] << 40 |
		(uint64_t) p[6] << 48 | (uint64_t) p[7] << 56;
}

static inline uint32_t
read32(const uint8_t *p)
{
	return (uint32_t) p[0] | (uint32_t) p[1] << 8 | (uint32_t) p[2] << 16 |
		(uint32_t) p[3] << 24;
}

static inline uint64_t
round64(uint64_t acc, uint64_t lane)
{
	acc += lane * PRIME64_2;
	acc = rotl64(acc, 31);
	return acc * PRIME64_1;
}

static inline uint64_t
merge_accumulator(uint64_t acc, uint64_t lane_acc)
{
	acc ^= round64(0, lane_acc);
	return acc * PRIME64_1 + PRIME64_4;
}

uint64_t
crdt_xxh64(const void *data, size_t len, uint64_t seed)
{
	const uint8_t *p = data;
	const uint8_t *end = p + len;
	uint64_t	h;

	if (len >= 32)
	{
		uint64_t	v1 = seed + PRIME64_1 + PRIME64_2;
		uint64_t	v2 = seed + PRIME64_2;
		uint64_t	v3 = seed;
		uint64_t	v4 = seed - PRIME64_1;

		do
		{
			v1 = round64(v1, read64(p));
			v2 = round64(v2, read64(p + 8));
			v3 = round64(v3, read64(p + 16));
			v4 = round64(v4, read64(p + 24));
			p += 32;
		} while (end - p >= 32);

		h = rotl64(v1, 1) + rotl64(v2, 7) + rotl64(v3, 12) + rotl64(v4, 18);
		h = merge_accumulator(h, v1);
		h = merge_accumulator(h, v2);
		h = merge_accumulator(h, v3);
		h = merge_accumulator(h, v4);
	}
	else
		h = seed + PRIME64_5;

	h += (uint64_t) len;

	while (end - p >= 8)
	{
		h ^= round64(0, read64(p));
		h = rotl64(h, 27) * PRIME64_1 + PRIME64_4;
		p += 8;
	}
	if (end - p >= 4)
	{
		h ^= (uint64_t) read32(p) * PRIME64_1;
		h = rotl64(h, 23) * PRIME64_2 + PRIME64_3;
		p += 4;
	}
	while (p < end)
	{
		h ^= (uint64_t) (*p) * PRIME64_5;
		h = rotl64(h, 11) * PRIME64_1;
		p++;
	}

	h ^= h >> 33;
	h *= PRIME64_2;
	h ^= h >> 29;
	h *= PRIME64_3;
	h ^= h >> 32;
	return h;
}

/*
 * The hash of in-memory tables.  It never leaves the process, so unlike
 * crdt_hash it may depend on the host; keys are short, so a word-at-a-time
 * multiply mix beats a general-purpose hash here.
 */
uint32_t
crdt_fast_hash(const uint8_t *key, size_t len, uint64_t seed)
{
	const uint64_t mul = UINT64_C(0x9E3779B97F4A7C15);
	uint64_t	h = seed ^ ((uint64_t) len * mul);

	while (len >= 8)
	{
		uint64_t	word;

		memcpy(&word, key, 8);
		h = (h ^ word) * mul;
		h ^= h >> 29;
		key += 8;
		len -= 8;
	}
	if (len > 0)
	{
		uint64_t	word = 0;

		for (size_t k = 0; k < len; k++)
			word |= (uint64_t) key[k] << (8 * k);
		h = (h ^ word) * mul;
	}
	h ^= h >> 32;
	h *= mul;
	return (uint32_t) (h >> 32);
}
