/*
 * crdt_types.h — the CRDT types: their descriptors, and the operations of
 * each family on whole values (version byte + body, see docs/FORMAT.md).
 *
 * Every operation reads values as CrdtSlices, writes its result to a
 * CrdtBuf and reports failure through a CrdtError.  Included through
 * crdt_core.h.
 */
#ifndef CRDT_TYPES_H
#define CRDT_TYPES_H

#include "crdt_codec.h"

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

/*
 * The types come in families that share a layout and one implementation,
 * each operation taking the family's kind first (crdt_type_def.h binds a
 * kind into a descriptor).  Every family declares these:
 *   validate     checks the whole value: version, structure, contents
 *   parse        text in: any whitespace and key order, errors with offsets
 *   print        text out: canonical JSON (no whitespace, sorted by bytes)
 *   write_empty  the empty state, whose text is '{}'
 *   merge        commutative, associative and idempotent
 *   delta        the smallest d with merge(since, d) = merge(since, newer)
 *   compare      a total order (-1, 0, 1) for sorting, no causal meaning
 */
#define CRDT_FAMILY_OPERATIONS(family, Kind) \
CrdtStatus	crdt_##family##_validate(Kind kind, CrdtSlice value, CrdtError *err); \
CrdtStatus	crdt_##family##_parse(Kind kind, const char *text, size_t len, \
								  CrdtBuf *out, CrdtError *err); \
CrdtStatus	crdt_##family##_print(Kind kind, CrdtSlice value, CrdtBuf *out, \
								  CrdtError *err); \
void		crdt_##family##_write_empty(Kind kind, CrdtBuf *out); \
CrdtStatus	crdt_##family##_merge(Kind kind, CrdtSlice a, CrdtSlice b, CrdtBuf *out, \
								  CrdtError *err); \
CrdtStatus	crdt_##family##_delta(Kind kind, CrdtSlice newer, CrdtSlice since, \
								  CrdtBuf *out, CrdtError *err); \
CrdtStatus	crdt_##family##_compare(Kind kind, CrdtSlice a, CrdtSlice b, int *result, \
									CrdtError *err)

/* ------------------------------------------------------------- counters
 *
 * The types built from replica-id -> count maps.  vclock and gcounter share
 * one layout (version byte, one map); pncounter has two maps, P then N.
 *
 * Merge is the pointwise max per map; the delta is the entries of newer
 * that since lacks or has smaller; compare orders the entries in sequence
 * by (map, id, count), a prefix first.
 */
typedef enum CrdtCounterKind
{
	CRDT_VCLOCK,
	CRDT_GCOUNTER,
	CRDT_PNCOUNTER
} CrdtCounterKind;

const char *crdt_counter_kind_name(CrdtCounterKind kind);

CRDT_FAMILY_OPERATIONS(counter, CrdtCounterKind);

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

/* Splits a value into its maps; half[1] is empty for vclock and gcounter. */
CrdtStatus	crdt_counter_halves(CrdtCounterKind kind, CrdtSlice value,
								CrdtSlice half[2], CrdtError *err);

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

/* One replica's entry (pncounter: its P − N); 0 when absent. */
CrdtStatus	crdt_counter_get(CrdtCounterKind kind, CrdtSlice value,
							 const uint8_t *id, size_t len, int64_t *result,
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

CRDT_FAMILY_OPERATIONS(set, CrdtSetKind);

/* The key lists of a value (structure checked); list[1] is empty for gset. */
CrdtStatus	crdt_set_lists(CrdtSetKind kind, CrdtSlice value, CrdtSlice list[2],
						   CrdtError *err);

/* Mutators: add is a no-op for a removed twopset element; remove of an absent one too. */
CrdtStatus	crdt_set_add(CrdtSetKind kind, CrdtSlice value, const uint8_t *key, size_t len,
						 CrdtBuf *out, CrdtError *err);
CrdtStatus	crdt_set_remove(CrdtSetKind kind, CrdtSlice value, const uint8_t *key,
							size_t len, CrdtBuf *out, CrdtError *err);

/*
 * The set a person decided holds exactly wanted (a gset value), reached by
 * the set's own rules in one pass: a gset must already be a subset of it;
 * a twopset removes what is not wanted (removal is final).
 */
CrdtStatus	crdt_set_assign(CrdtSetKind kind, CrdtSlice value, CrdtSlice wanted, CrdtBuf *out,
							CrdtError *err);

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

/*
 * Rewrites JSON text (valid UTF-8) with every non-ASCII character as a \u
 * escape (a surrogate pair above U+FFFF): the text form for databases whose
 * encoding cannot hold every character.  It parses back to the same value.
 */
void		crdt_json_escape_non_ascii(const char *text, size_t len, CrdtBuf *out);

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
 *
 * Merge: the union of the contexts; a dot survives when both sides have
 * it, or one has it and the other's context has not seen it.  The delta:
 * the dots since lacks, and as context the dots since has not seen plus
 * the dots of since that newer removed.  Compare: the canonical bytes.
 */
typedef enum CrdtDottedKind
{
	CRDT_ORSET,
	CRDT_MVREG
} CrdtDottedKind;

const char *crdt_dotted_kind_name(CrdtDottedKind kind);

CRDT_FAMILY_OPERATIONS(dotted, CrdtDottedKind);

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

/* orset: exactly the elements of wanted (a gset value), new ones with dots of replica. */
CrdtStatus	crdt_orset_assign(CrdtSlice value, CrdtSlice wanted, const uint8_t *replica,
							  size_t replica_len, CrdtBuf *out, CrdtError *err);

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

#endif							/* CRDT_TYPES_H */
