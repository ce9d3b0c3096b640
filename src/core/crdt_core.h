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
 * The in-memory state of crdt_merge(T).  It starts in run mode: while the
 * entries of each map arrive in increasing id order (typical when rows
 * come in (key, replica) order), each is appended to the encoded map being
 * built, so a row costs a decode, a compare and an append, the state is as
 * compact as the stored value, and the final function sorts nothing; a
 * repeat of the last id only raises its count.  The first entry that
 * arrives out of order moves everything
 * into a hash table from (map, id) to count (16 bytes per entry, a 4-byte
 * index slot, the id bytes once), which takes any order at O(1) expected
 * per entry and sorts once at the end.
 */

typedef struct CrdtTableEntry
{
	uint64_t	count;
	uint32_t	id_offset;		/* into CrdtCounterTable.ids */
	uint8_t		len;
	uint8_t		half;			/* 0: the map of vclock/gcounter or P; 1: N */
} CrdtTableEntry;

typedef struct CrdtTableRun
{
	CrdtBuf		body;			/* encoded entries, without the terminator */
	CrdtMapWriter writer;		/* appends to body; remembers the last id */
} CrdtTableRun;

typedef struct CrdtCounterTable
{
	bool		run_mode;
	CrdtTableRun run[2];		/* one per map, in run mode */
	/* hash mode */
	uint32_t   *index;			/* 0 empty, else hash tag << 25 | entry + 1 */
	size_t		index_size;		/* a power of two, at most 3/4 used */
	CrdtTableEntry *entries;
	size_t		used;
	size_t		capacity;
	uint8_t    *ids;
	size_t		ids_len;
	size_t		ids_capacity;
	bool		in_order;		/* entries still sorted: no final sort */
	size_t		per_half[2];	/* entries in each map, for the size limit */
	const CrdtAllocator *alloc;
} CrdtCounterTable;

CrdtStatus	crdt_table_init(CrdtCounterTable *t, const CrdtAllocator *alloc,
							CrdtError *err);
void		crdt_table_free(CrdtCounterTable *t);

/* Merges one count into map half (0 or 1) of id, by maximum. */
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

#endif							/* CRDT_CORE_H */
