/*
 * unit.h — the harness shared by the core unit and property tests.
 *
 * Checks record a failure with file:line and keep going, so one run shows
 * every broken expectation.  Random cases come from a seeded splitmix64
 * generator; each case derives its own generator from (seed, stream, case
 * index), so a failure is reproduced by rerunning with the printed seed.
 *
 * A "model" is a plain sorted array of (id, count) pairs per half: the
 * tests build expected bytes and text from it with their own encoder, so
 * the core is checked against an independent implementation, not itself.
 */
#ifndef UNIT_H
#define UNIT_H

#include "crdt_core.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#if defined(__GNUC__)
#define UNIT_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define UNIT_PRINTF(f, a)
#endif

/* ------------------------------------------------------------ the run */

typedef struct UnitRun
{
	uint64_t	seed;			/* CRDT_TEST_SEED */
	long		cases;			/* CRDT_TEST_CASES: random cases per property */
	long		checks;
	long		failures;
} UnitRun;

extern UnitRun unit_run;

/* Scales a per-property case count down for costlier tests; never below 1. */
long		unit_cases_div(long divisor);

/* ------------------------------------------------------------ checks */

/* Each returns ok, so a caller can add context when a check fails. */
bool		unit_check(bool ok, const char *file, int line, const char *fmt,...)
			UNIT_PRINTF(4, 5);
bool		unit_check_int(int64_t got, int64_t want, const char *expr,
						   const char *file, int line);
bool		unit_check_uint(uint64_t got, uint64_t want, const char *expr,
							const char *file, int line);
bool		unit_check_str(const char *got, size_t got_len, const char *want,
						   const char *expr, const char *file, int line);
bool		unit_check_bytes(CrdtSlice got, CrdtSlice want, const char *expr,
							 const char *file, int line);
bool		unit_check_status(CrdtStatus got, CrdtStatus want, const CrdtError *err,
							  const char *expr, const char *file, int line);
bool		unit_check_error(CrdtStatus got, const CrdtError *err, CrdtStatus want,
							 long want_position, const char *expr,
							 const char *file, int line);

/* Extra lines explaining the failure just reported (indented, rate-limited). */
void		unit_note(const char *fmt,...) UNIT_PRINTF(1, 2);

/* A passed check; the message arguments of a check are evaluated only on failure. */
bool		unit_pass(void);

#define CHECK(cond) \
	((cond) ? unit_pass() : unit_check(false, __FILE__, __LINE__, "%s", #cond))
#define CHECK_MSG(cond, ...) \
	((cond) ? unit_pass() : unit_check(false, __FILE__, __LINE__, __VA_ARGS__))
#define CHECK_EQ_INT(got, want) \
	unit_check_int((int64_t) (got), (int64_t) (want), #got, __FILE__, __LINE__)
#define CHECK_EQ_UINT(got, want) \
	unit_check_uint((uint64_t) (got), (uint64_t) (want), #got, __FILE__, __LINE__)
/* got is a (pointer, length) text, want a C string */
#define CHECK_EQ_TEXT(got, got_len, want) \
	unit_check_str((const char *) (got), (got_len), (want), #got, __FILE__, __LINE__)
#define CHECK_EQ_BYTES(got, want) \
	unit_check_bytes((got), (want), #got, __FILE__, __LINE__)
#define CHECK_OK(expr, err) \
	unit_check_status((expr), CRDT_OK, (err), #expr, __FILE__, __LINE__)
/* status and byte position of a failure (position -1: not checked) */
#define CHECK_ERR(expr, err, status, position) \
	unit_check_error((expr), (err), (status), (position), #expr, __FILE__, __LINE__)

const char *unit_status_name(CrdtStatus status);

/* ------------------------------------------------------------ random */

typedef struct Rng
{
	uint64_t	state;
} Rng;

uint64_t	rng_next(Rng *rng);
/* uniform in [0, n), n > 0, without modulo bias */
uint64_t	rng_below(Rng *rng, uint64_t n);
bool		rng_percent(Rng *rng, unsigned percent);
/* The generator of one case: depends only on the run seed, stream and index. */
Rng			rng_for_case(uint64_t stream, uint64_t index);
/* A stable stream number from a name, so groups do not share cases. */
uint64_t	rng_stream(const char *name);
void		rng_shuffle(Rng *rng, void *items, size_t count, size_t size);

/* ------------------------------------------------------------ buffers */

void		buf_open(CrdtBuf *buf);
void		buf_reset(CrdtBuf *buf);
CrdtSlice	buf_slice(const CrdtBuf *buf);
CrdtSlice	slice_of(const void *data, size_t len);
bool		slice_equal(CrdtSlice a, CrdtSlice b);

/*
 * A heap copy of exactly len bytes, so that any read past the end is an
 * ASan error.  For len 0 the pointer is one past a 1-byte block.
 */
typedef struct ExactCopy
{
	uint8_t    *block;
	CrdtSlice	slice;
} ExactCopy;

ExactCopy	exact_copy(const void *data, size_t len);
void		exact_free(ExactCopy *copy);

/* ------------------------------------------------------------ values */

int			kind_halves(CrdtCounterKind kind);

/* Parses text the test knows is valid into out (reset first); failure is recorded. */
CrdtSlice	value_from_json(CrdtCounterKind kind, const char *json, CrdtBuf *out);

/*
 * Bytes from a readable spec: hex pairs and 'quoted text', each optionally
 * repeated with *N, e.g. "01 09 00 'agent-041' 01 41*65 00".  out is reset.
 */
CrdtSlice	bytes_from_spec(CrdtBuf *out, const char *spec);

/* For failure messages: strings in a small ring of static buffers. */
const char *show_value(CrdtCounterKind kind, CrdtSlice value);
const char *show_typed(const CrdtType *type, CrdtSlice value);
const char *show_hex(CrdtSlice bytes);
const char *show_text(const char *text, size_t len);

/* ------------------------------------------------------------ models */

typedef struct ModelEntry
{
	uint8_t		id[CRDT_REPLICA_ID_MAX];
	size_t		len;
	uint64_t	count;
} ModelEntry;

typedef struct Model
{
	CrdtCounterKind kind;
	ModelEntry *half[2];		/* each sorted by id bytes, counts > 0 */
	size_t		n[2];
	size_t		cap;
} Model;

void		model_init(Model *m, CrdtCounterKind kind, size_t cap);
void		model_free(Model *m);
void		model_clear(Model *m);
void		model_copy(Model *dst, const Model *src);
/* Raises the entry of id to at least count (count 0 is ignored). */
void		model_max(Model *m, int half, const uint8_t *id, size_t len, uint64_t count);
uint64_t	model_get(const Model *m, int half, const uint8_t *id, size_t len);
void		model_merge_into(Model *dst, const Model *src);
void		model_delta(Model *out, const Model *newer, const Model *since);
/* P − N (or the sum) if it fits in int64. */
bool		model_value(const Model *m, int64_t *result);
/* The canonical bytes and text, written independently of the core. */
void		model_encode(const Model *m, CrdtBuf *out);
void		model_print(const Model *m, CrdtBuf *out);
/* Reads a value with the core reader; false (err set) if it is invalid. */
bool		model_decode(Model *m, CrdtSlice value, CrdtError *err);
/* 0..max_entries random entries per half from a small, overlapping id pool. */
void		model_random(Model *m, Rng *rng, size_t max_entries);

/*
 * For each counter kind and each of cases indexes: run with a random model
 * of that kind (model_random, 12), its bytes, and the case's rng after
 * drawing it, from group, kind and index.  m is the run's to change.
 */
typedef void (*CounterCaseFn) (void *ctx, Model *m, CrdtSlice value, Rng *rng, long index);
void		counter_for_cases(const char *group, long cases, CounterCaseFn run, void *ctx);

/* A valid replica id: usually from the pool, sometimes random UTF-8. */
void		random_replica_id(Rng *rng, uint8_t *id, size_t *len);
/* Mostly small, sometimes huge or near INT64_MAX. */
uint64_t	random_count(Rng *rng);
/* Appends the UTF-8 form of a code point; returns its length. */
size_t		utf8_put(uint8_t *out, uint32_t cp);

/* ------------------------------------------------------------ hostile input */

/*
 * Calls fn with every truncation and every single-bit flip of value, then
 * with "garbage" random corruptions (byte overwrites, insertions,
 * deletions, spliced varints).  Each variant is an ExactCopy.
 */
typedef void (*HostileFn) (void *ctx, CrdtSlice bad);
void		hostile_each(CrdtSlice value, Rng *rng, long garbage, HostileFn fn, void *ctx);

/* ------------------------------------------------------------ simulated replicas
 *
 * Values of the set and register types are made the way real ones are:
 * by operations on a few replicas that exchange full states and deltas.
 * So they are valid and causally consistent (a dot names one write
 * everywhere), as the aggregates assume, and deltas among them bring
 * contexts with gaps.  test_model.c holds the simulation.
 */

/* Items that operations use: elements, JSON values, replica ids. */
size_t		pool_elements(void);
CrdtSlice	pool_element(size_t i);
size_t		pool_jsons(void);
CrdtSlice	pool_json(size_t i);
size_t		pool_replicas(void);
CrdtSlice	pool_replica(size_t i);

/* Puts the result in tmp into *state (the buffers are swapped) and empties tmp. */
void		buf_take(CrdtBuf *state, CrdtBuf *tmp);

#define WORLD_MAX_REPLICAS 5
#define WORLD_ITEMS 5

typedef struct World
{
	const CrdtType *type;		/* any of the five set and register types */
	bool		short_items;	/* no 4096-byte elements or long values */
	int			replicas;		/* in use, 2..WORLD_MAX_REPLICAS */
	CrdtBuf		state[WORLD_MAX_REPLICAS];
	CrdtBuf		stale[WORLD_MAX_REPLICAS];	/* an earlier state of each replica */
	size_t		id[WORLD_MAX_REPLICAS];		/* replica ids (pool indexes) */
	size_t		item[WORLD_ITEMS];			/* the elements or values in play */
	int64_t		clock;			/* lwwreg: the latest timestamp */
	CrdtBuf		tmp;
} World;

void		world_open(World *w, const CrdtType *type);
void		world_close(World *w);
/*
 * Starts over: 2..5 replicas, new ids and items.  They start empty, or
 * (orset, mvreg, now and then) from a shared past with large counters.
 */
void		world_reset(World *w, Rng *rng);
/* One random step: a local operation, a merge, a delta, a snapshot. */
void		world_step(World *w, Rng *rng);
/* One local operation (add, remove or set) at replica r. */
void		world_operate(World *w, Rng *rng, int r);
/* A state of the run into out (reset first): a replica's, an old one, a merge or a delta. */
void		world_pick(World *w, Rng *rng, CrdtBuf *out);

/*
 * The types with replica metadata, each with its retirement shape
 * (test_retire.c): the clocks and counters first (RETIRE_COUNTERS of them,
 * which test_compact.c compacts), then orset and mvreg.
 */
typedef struct RetireSubject
{
	const CrdtType *type;
	const CrdtRetireShape *shape;
} RetireSubject;

#define RETIRE_COUNTERS 3
#define RETIRE_SUBJECTS 5
extern const RetireSubject retire_subjects[RETIRE_SUBJECTS];
/* run for each of the first n subjects and each of unit_cases_div(divisor)
 * cases, a case's rng from the subject's name, group and the case index */
void		retire_for_cases(size_t n, const char *group, long divisor,
							 void (*run) (const RetireSubject *s, Rng *rng, long index));

/* ------------------------------------------------------------ groups */

void		test_retire_laws(void);
void		test_retire_hostile(void);
void		test_retire_format(void);
void		test_compact_laws(void);
void		test_compact_size(void);

void		test_codec_varint(void);
void		test_codec_replica_id(void);
void		test_codec_bytes(void);
void		test_codec_xxh64(void);
void		test_codec_map(void);
void		test_codec_hostile(void);

void		test_text_format(void);
void		test_text_escapes(void);
void		test_text_ascii(void);
void		test_text_errors(void);
void		test_text_roundtrip(void);

void		test_ops_merge_delta(void);
void		test_ops_value(void);
void		test_ops_add_get(void);
void		test_ops_vclock(void);
void		test_ops_model(void);

/* One group per type descriptor in the law table. */
int			law_subject_count(void);
const char *law_subject_name(int index);
void		test_laws(int index);

void		test_table_fold(void);
void		test_table_growth(void);
void		test_table_hostile(void);
void		test_table_id_after_last(void);
void		test_table_pncounter_rows(void);
void		test_table_log(void);
void		test_table_log_huge(void);
void		test_table_log_sorts(void);
void		test_table_log_orders(void);

void		test_model_orset(void);
void		test_model_mvreg(void);

void		test_sets_text(void);
void		test_sets_dotted_text(void);
void		test_sets_lww_text(void);
void		test_sets_ops(void);
void		test_sets_assign(void);
void		test_sets_hostile(void);
void		test_sets_runs(void);
void		test_sets_runs_growth(void);
void		test_sets_keyset(void);
void		test_sets_dotlog(void);
void		test_sets_dotlog_conflicting_dots(void);
void		test_sets_dotlog_compaction(void);

void		test_sequence_histories(void);
void		test_sequence_rlist_histories(void);
void		test_sequence_interleaving(void);
void		test_sequence_rlist(void);
void		test_sequence_text(void);
void		test_sequence_hostile(void);
void		test_sequence_size(void);
void		test_bcounter_histories(void);
void		test_bcounter_fixed(void);
void		test_bcounter_misuse(void);
void		test_bcounter_hostile(void);
void		test_bcounter_log(void);

#endif							/* UNIT_H */
