/*
 * crdt_codec.h — the binary building blocks of every value: maps of
 * replica ids to counts, and key lists (set elements, register values).
 *
 * Readers check every structural rule (bounds, order, canonical front
 * coding), so no input makes them read past their end or accept a second
 * byte form of a state.  Included through crdt_core.h.
 */
#ifndef CRDT_CODEC_H
#define CRDT_CODEC_H

#include "crdt_base.h"

/* ------------------------------------------------------------------ maps
 *
 * A map is a front-coded sequence of entries sorted strictly by id bytes,
 * ended by a zero byte.  Entry: varint suffix_len (1..64), varint shared
 * (length of the prefix shared with the previous id, exactly the longest
 * common prefix), suffix bytes, varint count (1..INT64_MAX).
 */

/*
 * Front coding: each key is stored as the length of the prefix it shares
 * with the key before it, then the rest (the suffix).
 */
typedef enum CrdtFrontCheck
{
	CRDT_FRONT_OK,
	CRDT_FRONT_DUPLICATE,		/* the key equals the one before */
	CRDT_FRONT_OUT_OF_ORDER,	/* it sorts before the one before */
	CRDT_FRONT_NOT_LONGEST		/* the shared prefix could have been longer */
} CrdtFrontCheck;

/*
 * Joins prev[0..shared) and suffix (shared <= prev_len) into the key
 * (*key, *len), copied into buf (room for shared + suffix_len bytes) unless it
 * is the suffix alone; prev may point into buf.  With has_prev the key must
 * sort after prev, and with longest the shared prefix must be the longest
 * common one, so that each key list has one byte form.
 */
static inline CrdtFrontCheck
crdt_front_join(const uint8_t *prev, size_t prev_len, bool has_prev, bool longest,
				uint64_t shared, const uint8_t *suffix, uint64_t suffix_len,
				uint8_t *buf, const uint8_t **key, size_t *len)
{
	if (has_prev)
	{
		/* the key compares with prev as suffix does with the rest of prev */
		int			c = crdt_bytes_cmp(suffix, (size_t) suffix_len, prev + shared,
									   prev_len - (size_t) shared);

		if (c <= 0)
			return c == 0 ? CRDT_FRONT_DUPLICATE : CRDT_FRONT_OUT_OF_ORDER;
		if (longest && shared < prev_len && suffix_len > 0 && suffix[0] == prev[shared])
			return CRDT_FRONT_NOT_LONGEST;
	}
	*len = (size_t) (shared + suffix_len);
	if (shared == 0)
		*key = suffix;
	else
	{
		if (prev != buf)
			memmove(buf, prev, (size_t) shared);
		memcpy(buf + shared, suffix, (size_t) suffix_len);
		*key = buf;
	}
	return CRDT_FRONT_OK;
}

typedef struct CrdtMapEntry
{
	const uint8_t *id;
	size_t		len;
	uint64_t	count;
} CrdtMapEntry;

typedef struct CrdtMapReader
{
	const uint8_t *pos;
	const uint8_t *end;
	const uint8_t *start;
	size_t		offset;			/* of start within the whole value, for messages */
	const uint8_t *prev;		/* previous id (into the input or key[]) */
	size_t		prev_len;
	size_t		entries;
	bool		done;
	uint8_t		key[CRDT_REPLICA_ID_MAX];
} CrdtMapReader;

/*
 * Reads a map starting at bytes[0]; the map may be followed by more data.
 * offset is where bytes sits in the whole value (error messages use it).
 */
void		crdt_map_reader_init(CrdtMapReader *r, const uint8_t *bytes, size_t len,
								 size_t offset);

/*
 * Returns 1 with *entry filled, 0 at the end of the map (then r->pos is just
 * past the terminator), or -1 with err set (CRDT_ERR_BINARY).  entry->id
 * stays valid until the next call.
 */
int			crdt_map_reader_next(CrdtMapReader *r, CrdtMapEntry *entry, CrdtError *err);

typedef struct CrdtMapWriter
{
	CrdtBuf    *out;
	uint8_t		prev[CRDT_REPLICA_ID_MAX];
	size_t		prev_len;
	size_t		entries;
	size_t		last_count_at;	/* offset in out of the last entry's count */
	uint64_t	last_count;
} CrdtMapWriter;

void		crdt_map_writer_init(CrdtMapWriter *w, CrdtBuf *out);

/* Entries must come in strictly increasing id order; count 0 is skipped. */
void		crdt_map_writer_add(CrdtMapWriter *w, const uint8_t *id, size_t len,
								uint64_t count);

/*
 * Writes one entry of a map at the end of out: the length of its id past
 * the "shared" bytes it has in common with the entry before, that shared
 * length (both at most 64, one varint byte each), those bytes, the count.
 * Returns where the count starts in out, or 0 when out could not grow.
 */
static CRDT_ALWAYS_INLINE size_t
crdt_map_entry_put(CrdtBuf *out, const uint8_t *id, size_t len, size_t shared, uint64_t count)
{
	uint8_t    *p;
	size_t		count_at;

	if (!crdt_buf_reserve(out, 2 + (len - shared) + CRDT_VARINT_MAX))
		return 0;
	p = out->data + out->len;
	*p++ = (uint8_t) (len - shared);
	*p++ = (uint8_t) shared;
	crdt_copy_short(p, id + shared, len - shared);
	p += len - shared;
	count_at = (size_t) (p - out->data);
	p += crdt_varint_encode(p, count);
	out->len = (size_t) (p - out->data);
	return count_at;
}

/*
 * For building a map from entries that are usually in order: appends the
 * entry and returns 1 when id sorts after the last one; when id equals
 * it, keeps the larger count and returns 0; when id sorts before it,
 * writes nothing and returns -1.  count must not be 0.
 */
int			crdt_map_writer_merge_next(CrdtMapWriter *w, const uint8_t *id, size_t len,
									   uint64_t count);
void		crdt_map_writer_finish(CrdtMapWriter *w);

/* Validates one map at the front of bytes and returns its length. */
CrdtStatus	crdt_map_span(const uint8_t *bytes, size_t len, size_t *span,
						  size_t *entries, CrdtError *err);

/*
 * Walks two maps in id order together, yielding every id present in either
 * with its count on each side (0 where absent).  All binary operations on
 * maps are built on this.
 */
typedef struct CrdtMapPairWalk
{
	CrdtMapReader a;
	CrdtMapReader b;
	CrdtMapEntry ea;
	CrdtMapEntry eb;
	int			has_a;			/* 1: ea is current, 0: a is exhausted */
	int			has_b;
	bool		advance_a;		/* ea was handed out; read the next one first */
	bool		advance_b;
} CrdtMapPairWalk;

CrdtStatus	crdt_map_pair_init(CrdtMapPairWalk *w, CrdtSlice a, CrdtSlice b,
							   CrdtError *err);

/* Returns 1 and fills id/len/count_a/count_b, 0 at the end, -1 on error. */
int			crdt_map_pair_next(CrdtMapPairWalk *w, const uint8_t **id, size_t *len,
							   uint64_t *count_a, uint64_t *count_b, CrdtError *err);
/* ----------------------------------------------------------- key lists
 *
 * A key list is a sequence of byte-string keys in strictly increasing byte
 * order, each followed by a payload its type defines, ended by a zero
 * byte.  Set elements are front-coded like replica ids: varint
 * (suffix length + 1), varint shared prefix length (exactly the longest
 * common prefix with the previous key), suffix.  Register values are long
 * and rarely share prefixes, so they are plain: varint (length + 1), bytes.
 * (The +1 keeps 0 free for the terminator, so the empty string is a key.)
 */

#define CRDT_ELEMENT_MAX 4096					/* bytes in a set element */
#define CRDT_VALUE_MAX (16 * 1024 * 1024)		/* bytes in a register value */

typedef enum CrdtKeyStyle
{
	CRDT_KEYS_FRONT_CODED,		/* set elements */
	CRDT_KEYS_PLAIN				/* register values */
} CrdtKeyStyle;

typedef struct CrdtKeyReader
{
	const uint8_t *pos;			/* after a key: its payload; the caller moves on */
	const uint8_t *end;
	const uint8_t *start;
	size_t		offset;			/* of start within the whole value */
	CrdtKeyStyle style;
	const uint8_t *prev;
	size_t		prev_len;
	size_t		entries;
	bool		done;
	uint8_t		key[CRDT_ELEMENT_MAX];
} CrdtKeyReader;

void		crdt_keys_reader_init(CrdtKeyReader *r, CrdtKeyStyle style,
								  const uint8_t *bytes, size_t len, size_t offset);

/*
 * Returns 1 with the next key (valid until the next call; r->pos is at its
 * payload, which the caller reads and steps over), 0 after the terminator,
 * -1 on malformed bytes (CRDT_ERR_BINARY, or CRDT_ERR_TOO_LARGE).
 */
int			crdt_keys_reader_next(CrdtKeyReader *r, const uint8_t **key, size_t *len,
								  CrdtError *err);

/* Steps over the payload of a key, at *pos. */
typedef CrdtStatus (*CrdtPayloadSkip) (const uint8_t **pos, const uint8_t *end, CrdtError *err);

/*
 * Reads a whole key list, stepping over each key's payload with skip
 * (NULL: the keys carry none); returns its length.
 */
CrdtStatus	crdt_keys_span(CrdtKeyStyle style, const uint8_t *bytes, size_t len,
						   size_t offset, CrdtPayloadSkip skip, size_t *span, CrdtError *err);

typedef struct CrdtKeyWriter
{
	CrdtBuf    *out;
	CrdtKeyStyle style;
	size_t		prev_len;
	size_t		entries;
	uint8_t		prev[CRDT_ELEMENT_MAX];
} CrdtKeyWriter;

void		crdt_keys_writer_init(CrdtKeyWriter *w, CrdtKeyStyle style, CrdtBuf *out);

/* Writes a key (strictly after the previous one); its payload follows. */
void		crdt_keys_writer_add(CrdtKeyWriter *w, const uint8_t *key, size_t len);
void		crdt_keys_writer_finish(CrdtKeyWriter *w);

/*
 * A key prepared for sorting many keys fast: its first 16 bytes as two
 * big-endian integers, so most comparisons never touch the bytes.  Keys
 * must contain no NUL (true of set elements and JSON text), so zero
 * padding never ties with a real byte.
 */
typedef struct CrdtSortKey
{
	uint64_t	w0;
	uint64_t	w1;
	const uint8_t *key;
	uint32_t	len;
} CrdtSortKey;

void		crdt_sort_key_init(CrdtSortKey *k, const uint8_t *key, size_t len);
int			crdt_sort_key_cmp(const CrdtSortKey *a, const CrdtSortKey *b);

/* NULL if key is a valid set element (UTF-8, no NUL, at most 4096 bytes). */
const char *crdt_element_problem(const uint8_t *key, size_t len);

/* For functions taking an element argument: CRDT_ERR_ARGUMENT unless it is valid. */
CrdtStatus	crdt_check_element_argument(const uint8_t *key, size_t len, CrdtError *err);

#endif							/* CRDT_CODEC_H */
