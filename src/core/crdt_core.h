/*
 * crdt_core.h — the pure C99 core of crdt_reconcile.
 *
 * No PostgreSQL headers here: the core encodes, parses, prints, compares,
 * merges and hashes CRDT values held as byte strings, and reports failure
 * through CrdtStatus codes plus a CrdtError.  The fmgr glue in src/ turns
 * those into ereport() calls; the tests in test/ link the core directly.
 *
 * Every value is a byte string that starts with a format-version byte
 * (CRDT_FORMAT_V1).  Its body is canonical: one state has exactly one byte
 * form, so equality and hashing work on bytes.  The layout is in
 * docs/FORMAT.md.
 */
#ifndef CRDT_CORE_H
#define CRDT_CORE_H

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
	CRDT_ERR_NOMEM				/* the allocator returned NULL */
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

/* Makes room for extra more bytes; false (and buf->failed) if it cannot. */
/* CRDT_OK, or CRDT_ERR_NOMEM when an allocation for buf failed. */
CrdtStatus	crdt_buf_status(const CrdtBuf *buf, CrdtError *err);

static inline bool
crdt_buf_reserve(CrdtBuf *buf, size_t extra)
{
	if (!buf->failed && buf->cap - buf->len >= extra)
		return true;
	return crdt_buf_grow(buf, extra);
}
void		crdt_buf_put(CrdtBuf *buf, const void *bytes, size_t n);
void		crdt_buf_put_byte(CrdtBuf *buf, uint8_t byte);
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
 * The same check with an inline fast path for printable ASCII ids, eight
 * bytes at a time: a word passes when no byte has the top bit set, none
 * is below 0x20 and none is 0x7F.  Anything else takes the exact path.
 */
static inline const char *
crdt_replica_id_check(const uint8_t *id, size_t len)
{
	const uint64_t ones = UINT64_C(0x0101010101010101);
	const uint64_t highs = UINT64_C(0x8080808080808080);
	size_t		i = 0;

	if (len == 0 || len > CRDT_REPLICA_ID_MAX)
		return crdt_replica_id_problem(id, len);
	for (; i + 8 <= len; i += 8)
	{
		uint64_t	w;
		uint64_t	del;

		memcpy(&w, id + i, 8);	/* byte order does not matter here */
		del = w ^ (ones * 0x7f);
		if (((w | ((w - ones * 0x20) & ~w) | ((del - ones) & ~del)) & highs) != 0)
			return crdt_replica_id_problem(id, len);
	}
	for (; i < len; i++)
		if (id[i] < 0x20 || id[i] >= 0x7f)
			return crdt_replica_id_problem(id, len);
	return NULL;
}

/* True when bytes are well-formed UTF-8 (no overlongs, surrogates, > U+10FFFF). */
bool		crdt_utf8_valid(const uint8_t *bytes, size_t len);

/* Byte order used everywhere: memcmp, then shorter first. */
int			crdt_bytes_cmp(const uint8_t *a, size_t alen,
						   const uint8_t *b, size_t blen);

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

/* ---------------------------------------------------------- value kinds */

/*
 * The types built from replica-id -> count maps.  vclock and gcounter share
 * one layout (version byte, one map); pncounter has two maps, P then N.
 */
typedef enum CrdtCounterKind
{
	CRDT_VCLOCK,
	CRDT_GCOUNTER,
	CRDT_PNCOUNTER
} CrdtCounterKind;

const char *crdt_counter_kind_name(CrdtCounterKind kind);

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

/* ------------------------------------------------------------ maps (codec)
 *
 * A map is a front-coded sequence of entries sorted strictly by id bytes,
 * ended by a zero byte.  Entry: varint suffix_len (1..64), varint shared
 * (length of the prefix shared with the previous id, exactly the longest
 * common prefix), suffix bytes, varint count (1..INT64_MAX).
 */

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

/* ------------------------------------------- counter-family value operations
 *
 * Values are whole byte strings: version byte + map (+ second map for
 * pncounter).  Output goes to a CrdtBuf; on failure err says why.
 */

/*
 * Reads every entry of a whole value, map after map, validating all of it:
 * the version byte, each map, and that nothing follows the last map.
 */
typedef struct CrdtCounterReader
{
	CrdtMapReader map;
	CrdtSlice	value;
	size_t		offset;			/* where the current map starts */
	int			half;			/* the map being read: 0 (P) or 1 (N) */
	int			halves;
} CrdtCounterReader;

CrdtStatus	crdt_counter_reader_init(CrdtCounterReader *r, CrdtCounterKind kind,
									 CrdtSlice value, CrdtError *err);

/* Returns 1 with *entry and *half filled, 0 at the valid end, -1 on error. */
int			crdt_counter_reader_next(CrdtCounterReader *r, CrdtMapEntry *entry,
									 int *half, CrdtError *err);

/* Checks version, every map and that nothing trails; CRDT_ERR_BINARY if not. */
CrdtStatus	crdt_counter_validate(CrdtCounterKind kind, CrdtSlice value, CrdtError *err);

/* Splits a value into its maps; half[1] is empty for vclock and gcounter. */
CrdtStatus	crdt_counter_halves(CrdtCounterKind kind, CrdtSlice value,
								CrdtSlice half[2], CrdtError *err);

/* The empty state of any kind. */
void		crdt_counter_write_empty(CrdtCounterKind kind, CrdtBuf *out);

/* Text: canonical JSON out, any whitespace/key order in. */
CrdtStatus	crdt_counter_parse(CrdtCounterKind kind, const char *text, size_t len,
							   CrdtBuf *out, CrdtError *err);
CrdtStatus	crdt_counter_print(CrdtCounterKind kind, CrdtSlice value, CrdtBuf *out,
							   CrdtError *err);

/*
 * Rewrites JSON text (valid UTF-8) with every non-ASCII character as a \u
 * escape (a surrogate pair above U+FFFF): the text form for databases whose
 * encoding cannot hold every character.  It parses back to the same value.
 */
void		crdt_json_escape_non_ascii(const char *text, size_t len, CrdtBuf *out);

/* Pointwise max per map: commutative, associative, idempotent. */
CrdtStatus	crdt_counter_merge(CrdtCounterKind kind, CrdtSlice a, CrdtSlice b,
							   CrdtBuf *out, CrdtError *err);

/* The entries of newer that since lacks or has smaller: the minimal delta. */
CrdtStatus	crdt_counter_delta(CrdtCounterKind kind, CrdtSlice newer, CrdtSlice since,
							   CrdtBuf *out, CrdtError *err);

/*
 * vclock/gcounter: the sum of all entries; pncounter: P − N, summed exactly
 * (128-bit), CRDT_ERR_OVERFLOW when the result leaves the int64 range.
 */
CrdtStatus	crdt_counter_value(CrdtCounterKind kind, CrdtSlice value, int64_t *result,
							   CrdtError *err);

/*
 * Adds delta to the entry of id.  vclock/gcounter: delta > 0 (the P map);
 * pncounter: delta > 0 grows P, delta < 0 grows N by |delta|, 0 copies.
 * CRDT_ERR_OVERFLOW when an entry would pass INT64_MAX.
 */
CrdtStatus	crdt_counter_add(CrdtCounterKind kind, CrdtSlice value,
							 const uint8_t *id, size_t len, int64_t delta,
							 CrdtBuf *out, CrdtError *err);

/*
 * A total order (-1, 0, 1) for sorting: entries compared in sequence by
 * (map, id, count), a prefix first.  Deterministic; no causal meaning.
 */
CrdtStatus	crdt_counter_compare(CrdtCounterKind kind, CrdtSlice a, CrdtSlice b,
								 int *result, CrdtError *err);

/* One replica's entry (pncounter: its P − N); 0 when absent. */
CrdtStatus	crdt_counter_get(CrdtCounterKind kind, CrdtSlice value,
							 const uint8_t *id, size_t len, int64_t *result,
							 CrdtError *err);

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

/* Reads a whole key list whose keys carry no payload; returns its length. */
CrdtStatus	crdt_keys_span(CrdtKeyStyle style, const uint8_t *bytes, size_t len,
						   size_t offset, size_t *span, CrdtError *err);

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

/* ------------------------------------------------------- type descriptors
 *
 * What every CRDT type offers, so that the generic SQL machinery (I/O,
 * equality, hashing, merge, delta, jsonb casts) and the generic tests
 * (round trips, merge laws, delta law, fuzzing) work on all types alike.
 */
typedef struct CrdtType
{
	const char *name;
	CrdtStatus	(*validate) (CrdtSlice value, CrdtError *err);
	CrdtStatus	(*parse) (const char *text, size_t len, CrdtBuf *out, CrdtError *err);
	CrdtStatus	(*print) (CrdtSlice value, CrdtBuf *out, CrdtError *err);
	CrdtStatus	(*merge) (CrdtSlice a, CrdtSlice b, CrdtBuf *out, CrdtError *err);
	CrdtStatus	(*delta) (CrdtSlice newer, CrdtSlice since, CrdtBuf *out, CrdtError *err);
	CrdtStatus	(*compare) (CrdtSlice a, CrdtSlice b, int *result, CrdtError *err);
	void		(*write_empty) (CrdtBuf *out);
} CrdtType;

extern const CrdtType crdt_type_vclock;
extern const CrdtType crdt_type_gcounter;
extern const CrdtType crdt_type_pncounter;
extern const CrdtType crdt_type_gset;
extern const CrdtType crdt_type_twopset;
extern const CrdtType crdt_type_orset;
extern const CrdtType crdt_type_mvreg;
extern const CrdtType crdt_type_lwwreg;

/* ------------------------------------------------------------------ sets
 *
 * gset: version, key list of elements.  twopset: version, key list P of
 * present elements, key list R of removed ones (disjoint from P).
 */
typedef enum CrdtSetKind
{
	CRDT_GSET,
	CRDT_TWOPSET
} CrdtSetKind;

const char *crdt_set_kind_name(CrdtSetKind kind);

/* The key lists of a value (structure checked); list[1] is empty for gset. */
CrdtStatus	crdt_set_lists(CrdtSetKind kind, CrdtSlice value, CrdtSlice list[2],
						   CrdtError *err);
CrdtStatus	crdt_set_validate(CrdtSetKind kind, CrdtSlice value, CrdtError *err);
CrdtStatus	crdt_set_parse(CrdtSetKind kind, const char *text, size_t len, CrdtBuf *out,
						   CrdtError *err);
CrdtStatus	crdt_set_print(CrdtSetKind kind, CrdtSlice value, CrdtBuf *out, CrdtError *err);
void		crdt_set_write_empty(CrdtSetKind kind, CrdtBuf *out);
CrdtStatus	crdt_set_merge(CrdtSetKind kind, CrdtSlice a, CrdtSlice b, CrdtBuf *out,
						   CrdtError *err);
CrdtStatus	crdt_set_delta(CrdtSetKind kind, CrdtSlice newer, CrdtSlice since,
						   CrdtBuf *out, CrdtError *err);
CrdtStatus	crdt_set_compare(CrdtSetKind kind, CrdtSlice a, CrdtSlice b, int *result,
							 CrdtError *err);

/* Mutators: add is a no-op for a removed twopset element; remove of an absent one too. */
CrdtStatus	crdt_set_add(CrdtSetKind kind, CrdtSlice value, const uint8_t *key, size_t len,
						 CrdtBuf *out, CrdtError *err);
CrdtStatus	crdt_set_remove(CrdtSetKind kind, CrdtSlice value, const uint8_t *key,
							size_t len, CrdtBuf *out, CrdtError *err);

/* Queries on the present elements. */
CrdtStatus	crdt_set_contains(CrdtSetKind kind, CrdtSlice value, const uint8_t *key,
							  size_t len, bool *found, CrdtError *err);
CrdtStatus	crdt_set_cardinality(CrdtSetKind kind, CrdtSlice value, size_t *count,
								 CrdtError *err);

/* ------------------------------------------------------- JSON values
 *
 * Register values are JSON, kept in one canonical text per value so that
 * equal values have equal bytes.  Which text is canonical is the host's
 * choice (PostgreSQL: jsonb's output); the default canonicalizer only
 * checks the syntax and trims surrounding whitespace.
 */
typedef CrdtStatus (*CrdtJsonCanonicalizer) (const char *json, size_t len, CrdtBuf *out,
											 CrdtError *err);

void		crdt_set_json_canonicalizer(CrdtJsonCanonicalizer fn);	/* NULL: default */
CrdtStatus	crdt_json_canonical(const char *json, size_t len, CrdtBuf *out, CrdtError *err);

/* CRDT_OK when value is exactly the canonical text of a JSON value. */
CrdtStatus	crdt_json_check_canonical(const uint8_t *value, size_t len, CrdtError *err);

/* ---------------------------------------------------------------- lwwreg
 *
 * Layout: version, then nothing (the empty register) or: varint of the
 * zigzag-encoded timestamp (microseconds since 2000-01-01 UTC, as
 * PostgreSQL's timestamptz), replica id (varint length, bytes), value
 * (varint length, canonical JSON bytes).  Merge keeps the greatest
 * (timestamp, replica bytes, value bytes).
 */
typedef struct CrdtLww
{
	bool		empty;
	int64_t		at;
	const uint8_t *replica;
	size_t		replica_len;
	const uint8_t *value;
	size_t		value_len;
} CrdtLww;

/* Timestamps in years 1 to 9999 only. */
#define CRDT_LWW_MIN_AT INT64_C(-63082281600000000)		/* 0001-01-01 */
#define CRDT_LWW_MAX_AT INT64_C(252455615999999999)		/* 9999-12-31 23:59:59.999999 */

CrdtStatus	crdt_lww_read(CrdtSlice value, CrdtLww *lww, CrdtError *err);
void		crdt_lww_write(const CrdtLww *lww, CrdtBuf *out);

/* The register after a write of (at, replica, json), which wins only if greater. */
CrdtStatus	crdt_lww_set(CrdtSlice value, int64_t at, const uint8_t *replica,
						 size_t replica_len, const uint8_t *json, size_t json_len,
						 CrdtBuf *out, CrdtError *err);

/* "YYYY-MM-DDTHH:MM:SS.ffffffZ" (27 characters and a NUL). */
void		crdt_lww_format_time(int64_t at, char out[28]);

/* ------------------------------------------------------- dotted stores
 *
 * orset and mvreg: keys (orset elements, front-coded; mvreg values, plain)
 * each carrying the dots (replica, counter) of the writes that made them,
 * plus a causal context: the dots this state has seen.  Layout: version,
 * context, keys.  The context is a key list of replica ids, each with its
 * seen counters as sorted, disjoint, non-adjacent ranges (a version vector
 * is the range that starts at 1, the dot cloud the rest; adjacent ranges
 * are always joined).  Range payload: varint range count, then per range
 * varint (lo - 1) for the first or (lo - previous hi - 2) after it, and
 * varint (hi - lo).  Key payload: varint dot count (>= 1), then per dot
 * varint replica index (into the context's replicas), varint counter,
 * sorted by (index, counter).  Every dot lies in the context and belongs
 * to one key only.
 */
typedef enum CrdtDottedKind
{
	CRDT_ORSET,
	CRDT_MVREG
} CrdtDottedKind;

const char *crdt_dotted_kind_name(CrdtDottedKind kind);

CrdtStatus	crdt_dotted_validate(CrdtDottedKind kind, CrdtSlice value, CrdtError *err);
CrdtStatus	crdt_dotted_parse(CrdtDottedKind kind, const char *text, size_t len,
							  CrdtBuf *out, CrdtError *err);
CrdtStatus	crdt_dotted_print(CrdtDottedKind kind, CrdtSlice value, CrdtBuf *out,
							  CrdtError *err);
void		crdt_dotted_write_empty(CrdtDottedKind kind, CrdtBuf *out);

/*
 * Merge: the union of the contexts; a dot survives when both sides have
 * it, or one has it and the other's context has not seen it.
 */
CrdtStatus	crdt_dotted_merge(CrdtDottedKind kind, CrdtSlice a, CrdtSlice b, CrdtBuf *out,
							  CrdtError *err);

/*
 * The smallest d with merge(since, d) = merge(since, newer): the dots
 * since lacks, and as context the dots since has not seen plus the dots
 * of since that newer removed.
 */
CrdtStatus	crdt_dotted_delta(CrdtDottedKind kind, CrdtSlice newer, CrdtSlice since,
							  CrdtBuf *out, CrdtError *err);
CrdtStatus	crdt_dotted_compare(CrdtDottedKind kind, CrdtSlice a, CrdtSlice b, int *result,
								CrdtError *err);

/*
 * orset add: a new dot for replica, e's older dots dropped.  orset remove:
 * e's dots dropped (the context keeps them).  mvreg set (key = canonical
 * JSON of the value): a new dot, every value seen dropped.
 */
CrdtStatus	crdt_orset_add(CrdtSlice value, const uint8_t *element, size_t len,
						   const uint8_t *replica, size_t replica_len, CrdtBuf *out,
						   CrdtError *err);
CrdtStatus	crdt_orset_remove(CrdtSlice value, const uint8_t *element, size_t len,
							  CrdtBuf *out, CrdtError *err);
CrdtStatus	crdt_mvreg_set(CrdtSlice value, const uint8_t *json, size_t len,
						   const uint8_t *replica, size_t replica_len, CrdtBuf *out,
						   CrdtError *err);

/* Present keys: orset elements or mvreg values, in byte order. */
typedef struct CrdtDottedKeys
{
	CrdtKeyReader keys;
	CrdtDottedKind kind;
} CrdtDottedKeys;

CrdtStatus	crdt_dotted_keys_init(CrdtDottedKeys *it, CrdtDottedKind kind, CrdtSlice value,
								  CrdtError *err);

/* 1 with the next key, 0 at the end, -1 on error. */
int			crdt_dotted_keys_next(CrdtDottedKeys *it, const uint8_t **key, size_t *len,
								  CrdtError *err);

/* --------------------------------------------------------------- vclocks */

typedef enum CrdtOrder
{
	CRDT_ORDER_EQUAL,
	CRDT_ORDER_BEFORE,			/* a happened before b */
	CRDT_ORDER_AFTER,			/* b happened before a */
	CRDT_ORDER_CONCURRENT
} CrdtOrder;

const char *crdt_order_name(CrdtOrder order);

CrdtStatus	crdt_vclock_compare(CrdtSlice a, CrdtSlice b, CrdtOrder *order,
								CrdtError *err);

/* Sum over replicas of |a_i − b_i|; CRDT_ERR_OVERFLOW past INT64_MAX. */
CrdtStatus	crdt_vclock_distance(CrdtSlice a, CrdtSlice b, int64_t *result,
								 CrdtError *err);

/* --------------------------------------------- aggregate transition table
 *
 * The in-memory state of crdt_merge(T): a log of the entries merged into
 * it — (id, count), or (id, P count, N count) for a pncounter — each
 * front-coded against the one before it, in arrival order.  While the ids
 * arrive in strictly increasing order (rows in (key, replica) order, or
 * keys interleaved replica by replica) the log is the encoded map: a row
 * costs a decode, a compare and an append, a repeat of the last id only
 * raises its counts, and the final function copies it.  Entries out of
 * order are appended just the same, as an unsorted tail that is sorted,
 * merged and de-duplicated (by maximum) when written, or folded into the
 * sorted head once it outgrows both fold_min bytes and the head: the log
 * stays within about twice the merged log plus fold_min and the cost
 * O(n log n), whatever the order.  It is kept in chunks of doubling size
 * that are never moved, so groups growing side by side leave no buffers
 * behind.
 */

/* A piece of a table's log: whole entries, never moved. */
typedef struct CrdtTableChunk
{
	struct CrdtTableChunk *next;
	uint32_t	used;			/* bytes of entries (the last chunk's end at pos) */
	uint32_t	cap;
	uint8_t		data[];
} CrdtTableChunk;

typedef struct CrdtCounterTable
{
	CrdtTableChunk *first;		/* the log */
	CrdtTableChunk *last;
	uint8_t    *pos;			/* where the next entry goes, in last */
	uint32_t	room;			/* bytes free at pos */
	uint32_t	len;			/* bytes of entries */
	uint32_t	sorted_len;		/* the head: bytes of strictly increasing entries */
	uint32_t	sorted_entries; /* entries in the head */
	uint32_t	tail_entries;	/* entries after it */
	uint16_t	fold_min;		/* tail bytes kept unsorted (1024; tests lower it) */
	uint8_t		kind;			/* CrdtCounterKind */
	uint8_t		maps;			/* counts per entry: 1, or 2 for a pncounter */
	uint8_t		absent;			/* bit h: an entry has no count in map h */
	uint8_t		counts_back;	/* the last entry's counts start this far before pos */
	uint8_t		prev_len;
	uint8_t		prev[CRDT_REPLICA_ID_MAX];	/* the last entry's id */
	const CrdtAllocator *alloc;
} CrdtCounterTable;

/*
 * A table for values of kind (and their serialized form, a pncounter
 * value: a vclock or gcounter table ignores its N map).  128 bytes.
 */
CrdtStatus	crdt_table_init(CrdtCounterTable *t, CrdtCounterKind kind,
							const CrdtAllocator *alloc, CrdtError *err);
void		crdt_table_free(CrdtCounterTable *t);

/* Merges one count into map half (0 or 1) of id, by maximum (one map: half 1 is ignored). */
CrdtStatus	crdt_table_put(CrdtCounterTable *t, const uint8_t *id, size_t len,
						   int half, uint64_t count, CrdtError *err);

/* Merges a whole value of the given kind (validated while read). */
CrdtStatus	crdt_table_absorb(CrdtCounterTable *t, CrdtCounterKind kind,
							  CrdtSlice value, CrdtError *err);

/* Merges every entry of src into t. */
CrdtStatus	crdt_table_absorb_table(CrdtCounterTable *t, const CrdtCounterTable *src,
									CrdtError *err);

/* Writes the canonical value of the given kind (sorted by id). */
CrdtStatus	crdt_table_write(const CrdtCounterTable *t, CrdtCounterKind kind,
							 CrdtBuf *out, CrdtError *err);

/*
 * For table.c, from tablesort.c: a log entry decoded for sorting (its id's
 * first 16 bytes as two big-endian integers, zero-padded, the rest in an
 * arena) and the tail's sort keys.
 */
typedef struct CrdtTableItem
{
	uint64_t	w0;
	uint64_t	w1;
	uint64_t	count[2];
	uint32_t	rest;			/* ids over 16 bytes: bytes 16.. in the arena */
	uint32_t	len;
} CrdtTableItem;

typedef struct CrdtTableKey
{
	uint64_t	key;			/* 8 id bytes from where the tail's ids differ */
	uint32_t	len;
	uint32_t	item;
} CrdtTableKey;

/* padded: the id, zero-padded to at least 16 bytes */
void		crdt_table_item_set(CrdtTableItem *it, const uint8_t *padded, size_t len,
								CrdtBuf *arena);
void		crdt_table_item_id(const CrdtTableItem *it, const uint8_t *arena, uint8_t *id);
int			crdt_table_item_cmp(const CrdtTableItem *a, const CrdtTableItem *b,
								const uint8_t *arena);

/*
 * Sorts n items whose ids share their first common bytes: keys holds 2n;
 * returns the sorted keys, somewhere in it.
 */
const CrdtTableKey *crdt_table_sort(const CrdtTableItem *items, size_t n, CrdtTableKey *keys,
									const uint8_t *arena, size_t common);

/* ------------------------------------------ set and dotted aggregates
 *
 * crdt_merge over orset/mvreg: a log of the input values.  A dot survives
 * the merge of many states exactly when every state whose context has seen
 * it also has it, so the merge counts, per dot, the states holding it (a
 * sort of all dots) and the context ranges covering it (a sweep over the
 * sorted ranges), and keeps the dots whose two counts agree.  That is
 * O(n log n) in the total size of the input however much the states
 * overlap; the log is merged early whenever it has doubled, so memory
 * follows the merged state, not the number of rows.
 */

typedef struct CrdtKeySetEntry
{
	uint32_t	offset;			/* into CrdtKeySet.bytes */
	uint32_t	len;
	uint32_t	hash;
	uint32_t	extra;			/* the list (sets), or the caller's data */
} CrdtKeySetEntry;

typedef struct CrdtKeySet
{
	uint32_t   *index;			/* 0 empty, else entry + 1 */
	size_t		index_size;
	CrdtKeySetEntry *entries;
	size_t		used;
	size_t		capacity;
	CrdtBuf		bytes;
	const CrdtAllocator *alloc;
} CrdtKeySet;

CrdtStatus	crdt_keyset_init(CrdtKeySet *s, const CrdtAllocator *alloc, CrdtError *err);
void		crdt_keyset_free(CrdtKeySet *s);

/* Finds or inserts (key, tag); *entry is its index. */
CrdtStatus	crdt_keyset_put(CrdtKeySet *s, const uint8_t *key, size_t len, uint32_t tag,
							size_t *entry, CrdtError *err);

/* Writes the keys (tag = list) as a gset or twopset value, sorted. */
CrdtStatus	crdt_keyset_write_set(const CrdtKeySet *s, CrdtSetKind kind, CrdtBuf *out,
								  CrdtError *err);

/*
 * The gset/twopset aggregate state: the rows' encoded element lists,
 * appended as they come (a row costs a copy), merged at the end by one
 * sort of all elements; merged early whenever the lists have doubled, so
 * memory follows the merged set rather than the number of rows.
 */
typedef struct CrdtSetRuns
{
	CrdtSetKind kind;
	CrdtBuf		lists[2];		/* terminated key lists, back to back: P (or all), R */
	size_t		merged[2];		/* their size right after the last merge */
	const CrdtAllocator *alloc;
} CrdtSetRuns;

void		crdt_setruns_init(CrdtSetRuns *r, CrdtSetKind kind, const CrdtAllocator *alloc);
void		crdt_setruns_free(CrdtSetRuns *r);
CrdtStatus	crdt_setruns_absorb(CrdtSetRuns *r, CrdtSlice value, CrdtError *err);
CrdtStatus	crdt_setruns_absorb_runs(CrdtSetRuns *r, const CrdtSetRuns *src, CrdtError *err);
CrdtStatus	crdt_setruns_write(const CrdtSetRuns *r, CrdtBuf *out, CrdtError *err);

typedef struct CrdtDotLog
{
	CrdtDottedKind kind;
	CrdtBuf		values;			/* absorbed values, each after its varint length */
	size_t		merged;			/* bytes right after the last early merge */
	const CrdtAllocator *alloc;
} CrdtDotLog;

CrdtStatus	crdt_dotlog_init(CrdtDotLog *log, CrdtDottedKind kind, const CrdtAllocator *alloc,
							 CrdtError *err);
void		crdt_dotlog_free(CrdtDotLog *log);
CrdtStatus	crdt_dotlog_absorb(CrdtDotLog *log, CrdtSlice value, CrdtError *err);
CrdtStatus	crdt_dotlog_write(const CrdtDotLog *log, CrdtBuf *out, CrdtError *err);

#endif							/* CRDT_CORE_H */
