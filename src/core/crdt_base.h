/*
 * crdt_base.h — what every part of the core stands on: format constants,
 * status codes and errors, allocators, byte buffers, varints, replica ids,
 * byte order and hashes.
 *
 * Pure C99, no PostgreSQL headers.  Included through crdt_core.h.
 */
#ifndef CRDT_BASE_H
#define CRDT_BASE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define CRDT_FORMAT_V1 1

/* A replica id is 1..64 bytes of UTF-8 without control characters. */
#define CRDT_REPLICA_ID_MAX 64

/* Largest number of entries in one map; past it values are "too large". */
#define CRDT_MAX_ENTRIES 10000000

/* ---------------------------------------------------------------- errors */

typedef enum CrdtStatus
{
	CRDT_OK = 0,
	CRDT_ERR_SYNTAX,			/* malformed text or jsonb: 22P02 */
	CRDT_ERR_BINARY,			/* malformed binary value: 22P03 */
	CRDT_ERR_OVERFLOW,			/* a number out of range: 22003 */
	CRDT_ERR_TOO_LARGE,			/* beyond CRDT_MAX_ENTRIES: 54000 */
	CRDT_ERR_ARGUMENT,			/* bad function argument: 22023 */
	CRDT_ERR_NOMEM,				/* the allocator returned NULL */
	CRDT_ERR_RETIRED,			/* a write for a retired replica: 55000 */
	CRDT_ERR_RIGHTS				/* a bcounter replica lacks the rights: 23514 */
} CrdtStatus;

typedef struct CrdtError
{
	CrdtStatus	status;
	long		position;		/* byte offset into the text or binary input, or -1 */
	char		message[240];
} CrdtError;

/*
 * Records the failure in err and returns status.  Every core function that
 * can fail takes a CrdtError * (never NULL) and fills it on failure.
 */
CrdtStatus	crdt_fail(CrdtError *err, CrdtStatus status, long position,
					  const char *fmt,...)
#if defined(__GNUC__)
			__attribute__((format(printf, 4, 5)))
#endif
			;

/* CRDT_ERR_NOMEM with its message. */
CrdtStatus	crdt_nomem(CrdtError *err);

/* ----------------------------------------------------- memory, buffers */

/*
 * The core never calls malloc directly: the glue hands it palloc in the
 * right memory context, the tests hand it malloc.  alloc may return NULL
 * (malloc) or never return on failure (palloc); both are handled.
 */
typedef struct CrdtAllocator
{
	void	   *(*alloc) (void *ctx, size_t size);
	void	   *(*resize) (void *ctx, void *ptr, size_t size);
	void		(*release) (void *ctx, void *ptr);
	void	   *ctx;
} CrdtAllocator;

extern const CrdtAllocator crdt_malloc_allocator;

/*
 * The allocator for temporaries of functions that take none (validation,
 * for instance): malloc unless the host sets another (PostgreSQL: palloc,
 * so that memory is reclaimed even when an error unwinds the stack).
 */
void		crdt_set_default_allocator(const CrdtAllocator *alloc);
const CrdtAllocator *crdt_default_allocator(void);

/*
 * A growable byte buffer.  "headroom" bytes are reserved at the front so
 * the glue can place a varlena header there and return data without a copy.
 */
typedef struct CrdtBuf
{
	uint8_t    *data;
	size_t		len;
	size_t		cap;
	const CrdtAllocator *alloc;
	bool		failed;			/* an allocation failed; contents invalid */
} CrdtBuf;

void		crdt_buf_init(CrdtBuf *buf, const CrdtAllocator *alloc, size_t headroom);
void		crdt_buf_free(CrdtBuf *buf);
bool		crdt_buf_grow(CrdtBuf *buf, size_t extra);

#if defined(__GNUC__)
#define CRDT_SENTINEL __attribute__((sentinel))
/* for what every input row of an aggregate runs: no call, whatever the size */
#define CRDT_ALWAYS_INLINE inline __attribute__((always_inline))
/* for a slow path that would otherwise weigh on its fast caller's frame */
#define CRDT_NOINLINE __attribute__((noinline))
/* asks for the line at p, to be written soon (never faults, whatever p is) */
#define CRDT_PREFETCH_WRITE(p) __builtin_prefetch((p), 1, 3)
#else
#define CRDT_SENTINEL
#define CRDT_ALWAYS_INLINE inline
#define CRDT_NOINLINE
#define CRDT_PREFETCH_WRITE(p) ((void) (p))
#endif

/*
 * For functions with many buffers: crdt_buf_init(b, alloc, 0), or
 * crdt_buf_free(b), of every buffer of a NULL-terminated list, and whether
 * an allocation for any of them failed.
 */
void		crdt_bufs_init(const CrdtAllocator *alloc,...) CRDT_SENTINEL;
void		crdt_bufs_free(CrdtBuf *buf,...) CRDT_SENTINEL;
bool		crdt_bufs_failed(const CrdtBuf *buf,...) CRDT_SENTINEL;

/* CRDT_OK, or CRDT_ERR_NOMEM when an allocation for buf failed. */
CrdtStatus	crdt_buf_status(const CrdtBuf *buf, CrdtError *err);

/* Makes room for extra more bytes; false (and buf->failed) if it cannot. */
static inline bool
crdt_buf_reserve(CrdtBuf *buf, size_t extra)
{
	if (!buf->failed && buf->cap - buf->len >= extra)
		return true;
	return crdt_buf_grow(buf, extra);
}
void		crdt_buf_put(CrdtBuf *buf, const void *bytes, size_t n);
void		crdt_buf_put_byte(CrdtBuf *buf, uint8_t byte);

/* Writes ',' before each item of a list but the first (*first: none yet). */
static inline void
crdt_buf_put_separator(CrdtBuf *buf, bool *first)
{
	if (!*first)
		crdt_buf_put_byte(buf, ',');
	*first = false;
}
void		crdt_buf_put_varint(CrdtBuf *buf, uint64_t value);
void		crdt_buf_put_str(CrdtBuf *buf, const char *s);
void		crdt_buf_put_u64_decimal(CrdtBuf *buf, uint64_t value);

/* ---------------------------------------------------------------- varint */

#define CRDT_VARINT_MAX 10

/* Unsigned LEB128; returns the number of bytes written (1..10). */
static inline size_t
crdt_varint_encode(uint8_t *out, uint64_t value)
{
	size_t		n = 0;

	while (value >= 0x80)
	{
		out[n++] = (uint8_t) (value | 0x80);
		value >>= 7;
	}
	out[n++] = (uint8_t) value;
	return n;
}

typedef enum CrdtVarintResult
{
	CRDT_VARINT_OK = 0,
	CRDT_VARINT_TRUNCATED,
	CRDT_VARINT_NONCANONICAL,	/* padded with zero groups */
	CRDT_VARINT_OVERFLOW		/* more than 64 bits */
} CrdtVarintResult;

/* The general case of crdt_varint_decode. */
CrdtVarintResult crdt_varint_decode_long(const uint8_t **pos, const uint8_t *end,
										 uint64_t *value);

/*
 * Decodes at *pos (advancing it) without reading at or past end.  Inline,
 * because nearly every number in a value is one byte and decoding sits on
 * the aggregates' per-row path.
 */
static inline CrdtVarintResult
crdt_varint_decode(const uint8_t **pos, const uint8_t *end, uint64_t *value)
{
	const uint8_t *p = *pos;

	if (p < end && p[0] < 0x80)
	{
		*value = p[0];
		*pos = p + 1;
		return CRDT_VARINT_OK;
	}
	/* two bytes; a zero second byte would be padding: the long path says so */
	if (end - p >= 2 && p[1] < 0x80 && p[1] != 0)
	{
		*value = (uint64_t) (p[0] & 0x7f) | (uint64_t) p[1] << 7;
		*pos = p + 2;
		return CRDT_VARINT_OK;
	}
	return crdt_varint_decode_long(pos, end, value);
}

/* ------------------------------------------------------------ replica ids */

/*
 * Returns NULL when id is a valid replica id, otherwise a short reason
 * ("is empty", "is longer than 64 bytes", ...).
 */
const char *crdt_replica_id_problem(const uint8_t *id, size_t len);

/*
 * For functions taking a replica id argument: CRDT_ERR_ARGUMENT, naming
 * the id and its problem, unless it is valid.
 */
CrdtStatus	crdt_check_replica_argument(const uint8_t *id, size_t len, CrdtError *err);

/*
 * The same check with an inline fast path for printable ASCII ids, eight
 * bytes at a time: a word passes when no byte has the top bit set, none
 * is below 0x20 and none is 0x7F.  Anything else takes the exact path.
 */
static inline bool
crdt_printable_word(const uint8_t *bytes)
{
	const uint64_t ones = UINT64_C(0x0101010101010101);
	const uint64_t highs = UINT64_C(0x8080808080808080);
	uint64_t	w;
	uint64_t	del;

	memcpy(&w, bytes, 8);		/* byte order does not matter here */
	del = w ^ (ones * 0x7f);
	return ((w | ((w - ones * 0x20) & ~w) | ((del - ones) & ~del)) & highs) == 0;
}

static inline const char *
crdt_replica_id_check(const uint8_t *id, size_t len)
{
	size_t		i = 0;

	if (len == 0 || len > CRDT_REPLICA_ID_MAX)
		return crdt_replica_id_problem(id, len);
	for (; i + 8 <= len; i += 8)
		if (!crdt_printable_word(id + i))
			return crdt_replica_id_problem(id, len);
	/* the last bytes of an id of 8 or more: its last word, again in part */
	if (i < len && len >= 8)
		return crdt_printable_word(id + len - 8) ? NULL : crdt_replica_id_problem(id, len);
	for (; i < len; i++)
		if (id[i] < 0x20 || id[i] >= 0x7f)
			return crdt_replica_id_problem(id, len);
	return NULL;
}

/* True when bytes are well-formed UTF-8 (no overlongs, surrogates, > U+10FFFF). */
bool		crdt_utf8_valid(const uint8_t *bytes, size_t len);

/* Byte order used everywhere: memcmp, then shorter first. */

/*
 * Where two 8-byte words loaded from memory (memcpy) first differ, given
 * their XOR, nonzero: a count of trailing or leading zero bits, by the
 * machine's byte order; -1 where that is not known (then bytes compare).
 */
#if defined(__GNUC__) && defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define CRDT_WORD_DIFF_BYTE(x) ((int) (__builtin_ctzll(x) / 8))
#elif defined(__GNUC__) && defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
#define CRDT_WORD_DIFF_BYTE(x) ((int) (__builtin_clzll(x) / 8))
#else
#define CRDT_WORD_DIFF_BYTE(x) ((void) (x), -1)
#endif

/*
 * Length of the common prefix of a and b, a word at a time; in the first
 * word that differs, the byte is found from the XOR (bytes after it).
 */
static CRDT_ALWAYS_INLINE size_t
crdt_common_prefix(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
	size_t		limit = alen < blen ? alen : blen;
	size_t		n = 0;
	uint64_t	wa;
	uint64_t	wb;

	while (n + 8 <= limit)
	{
		memcpy(&wa, a + n, 8);
		memcpy(&wb, b + n, 8);
		if (wa != wb)
		{
			int			d = CRDT_WORD_DIFF_BYTE(wa ^ wb);

			if (d >= 0)
				return n + (size_t) d;
			break;
		}
		n += 8;
	}
	while (n < limit && a[n] == b[n])
		n++;
	return n;
}

/* Whether a and b, len bytes each, are equal: two overlapping words for 8 to 16 bytes. */
static CRDT_ALWAYS_INLINE bool
crdt_bytes_equal(const uint8_t *a, const uint8_t *b, size_t len)
{
	if (len >= 8 && len <= 16)
	{
		uint64_t	a0;
		uint64_t	a1;
		uint64_t	b0;
		uint64_t	b1;

		memcpy(&a0, a, 8);
		memcpy(&b0, b, 8);
		memcpy(&a1, a + len - 8, 8);
		memcpy(&b1, b + len - 8, 8);
		return ((a0 ^ b0) | (a1 ^ b1)) == 0;
	}
	return memcmp(a, b, len) == 0;
}

static CRDT_ALWAYS_INLINE void
crdt_copy_ends(uint8_t *dst, const uint8_t *src, size_t n, size_t width)
{
	uint64_t	first;
	uint64_t	last;

	/* width <= n <= 2 * width, a constant once inlined: plain loads and stores */
	memcpy(&first, src, width);
	memcpy(&last, src + n - width, width);
	memcpy(dst, &first, width);
	memcpy(dst + n - width, &last, width);
}

/*
 * memcpy for the few bytes of an id's suffix: up to 16 in two overlapping
 * fixed-size moves, no call or loop; more through memcpy.
 */
static CRDT_ALWAYS_INLINE void
crdt_copy_short(uint8_t *dst, const uint8_t *src, size_t n)
{
	if (n >= 8 && n <= 16)
		crdt_copy_ends(dst, src, n, 8);
	else if (n >= 4 && n < 8)
		crdt_copy_ends(dst, src, n, 4);
	else if (n >= 2 && n < 4)
		crdt_copy_ends(dst, src, n, 2);
	else if (n == 1)
		dst[0] = src[0];
	else if (n != 0)
		memcpy(dst, src, n);
}

int			crdt_bytes_cmp(const uint8_t *a, size_t alen,
						   const uint8_t *b, size_t blen);

/* Two CrdtSlice (passed by pointer, as qsort does) by their bytes. */
int			crdt_slice_cmp(const void *a, const void *b);

/* Index of key in base[0..n) (elements of size bytes, sorted by cmp,
 * called as cmp(element, key)), or -1. */
long		crdt_bsearch(const void *key, const void *base, size_t n, size_t size,
						 int (*cmp) (const void *, const void *));

/*
 * Defines name, a qsort comparator of type by its bytes at the fields data
 * and len, in crdt_bytes_cmp order.
 */
#define CRDT_DEFINE_BYTES_COMPARATOR(name, type, data, len) \
	static int name(const void *x, const void *y) \
	{ \
		const type *a = x, *b = y; \
		return crdt_bytes_cmp(a->data, a->len, b->data, b->len); \
	}

/*
 * Writes id into out as it should appear in a message: printable, quoted,
 * control characters and invalid bytes escaped, cut after 64 bytes.
 */
void		crdt_describe_bytes(char *out, size_t outsize,
								const uint8_t *id, size_t len);

/* ------------------------------------------------------------------ hash */

/*
 * XXH64 (Yann Collet's xxHash, 64-bit variant) of data with the given seed.
 * crdt_hash() is XXH64 with seed 0 over a value's canonical bytes; the
 * algorithm is fixed by its published specification, so the number is the
 * same on every platform and release.
 */
uint64_t	crdt_xxh64(const void *data, size_t len, uint64_t seed);

/* A fast 32-bit hash for in-memory tables only (it may differ by host). */
uint32_t	crdt_fast_hash(const uint8_t *key, size_t len, uint64_t seed);

/* ---------------------------------------------------------------- values */

/* A read-only view of bytes. */
typedef struct CrdtSlice
{
	const uint8_t *data;
	size_t		len;
} CrdtSlice;

/*
 * Checks the first byte of a value: CRDT_ERR_BINARY for an empty value or
 * a format version this build does not read.
 */
CrdtStatus	crdt_check_version(CrdtSlice value, CrdtError *err);

/*
 * Writes an empty value: the version byte, then parts empty parts (each
 * an empty map or key list: its zero terminator).
 */
void		crdt_write_empty_value(CrdtBuf *out, int parts);

#endif							/* CRDT_BASE_H */
