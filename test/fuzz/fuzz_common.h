/*
 * fuzz_common.h — what the libFuzzer targets in test/fuzz/ share.
 *
 * The targets link the pure C99 core (src/core) and nothing else.  A check
 * that fails prints what it saw and calls abort(), so libFuzzer reports the
 * input as a crash and keeps it.
 *
 * Inputs of the multi-value targets (laws, aggstate) are a type selector
 * byte followed by chunks: a header byte, a 2-byte little-endian length,
 * then that many bytes (fewer at the end of the input).  The header says
 * how the chunk becomes a value: as binary bytes, as text to parse, or as
 * a small program of operations (add, remove, set) run on the empty value
 * or on the value of the chunk before, so that values share a history.
 */
#ifndef FUZZ_COMMON_H
#define FUZZ_COMMON_H

#include "crdt_core.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* ------------------------------------------------------------ the types */

#define FUZZ_TYPES 8

extern const CrdtType *const fuzz_types[FUZZ_TYPES];

/* The type chosen by a selector byte (every byte value chooses one). */
const CrdtType *fuzz_type_of(uint8_t selector);

/* The family kind of a type (CrdtCounterKind, CrdtSetKind or CrdtDottedKind). */
bool		fuzz_is_counter(const CrdtType *t, CrdtCounterKind *kind);
bool		fuzz_is_set(const CrdtType *t, CrdtSetKind *kind);
bool		fuzz_is_dotted(const CrdtType *t, CrdtDottedKind *kind);

const char *fuzz_status_name(CrdtStatus st);

/* ------------------------------------------------------------ checks */

/* Prints "fuzz check failed: <message>" and aborts when ok is false. */
#define FUZZ_CHECK(ok, ...) \
	do { if (!(ok)) fuzz_fail(__FILE__, __LINE__, __VA_ARGS__); } while (0)

void		fuzz_fail(const char *file, int line, const char *fmt,...)
#if defined(__GNUC__)
			__attribute__((format(printf, 3, 4), noreturn))
#endif
			;

/* Extra context printed before the next failure (kept for one input). */
void		fuzz_note_value(const char *name, CrdtSlice value);
void		fuzz_notes_clear(void);

/* ------------------------------------------------------------ memory */

/*
 * Exact heap copies: every slice handed to the core lives in a block of
 * exactly its length, so ASan sees any read past its end.  The blocks of
 * one input are released by fuzz_exact_release_all().
 */
CrdtSlice	fuzz_exact(const void *data, size_t len);
CrdtSlice	fuzz_exact_buf(const CrdtBuf *buf);
void		fuzz_exact_release_all(void);

void		fuzz_buf_open(CrdtBuf *buf);
void		fuzz_buf_reset(CrdtBuf *buf);
bool		fuzz_slice_equal(CrdtSlice a, CrdtSlice b);

/* The empty value of a type, as an exact copy. */
CrdtSlice	fuzz_empty(const CrdtType *t);

/* ------------------------------------------------------------ chunks */

typedef struct FuzzCursor
{
	const uint8_t *pos;
	const uint8_t *end;
} FuzzCursor;

typedef struct FuzzChunk
{
	uint8_t		header;
	const uint8_t *data;
	size_t		len;
} FuzzChunk;

/* false when the input is used up */
bool		fuzz_next_chunk(FuzzCursor *c, FuzzChunk *chunk);

/*
 * The chunk header: bits 0-1 the mode (0 binary, 1 text, 2 and 3 a
 * program), bit 4 a program starts from the chunk before, bits 5 and 6
 * are for the target (aggstate: the state side, the key set's list).
 */
enum
{
	FUZZ_MODE_BINARY = 0,
	FUZZ_MODE_TEXT = 1,
	FUZZ_MODE_OPS = 2
};

#define FUZZ_CHUNK_MODE(header) ((header) & 3)
#define FUZZ_CHUNK_FORK 0x10

/*
 * Makes the chunk a value of type t in out (reset first): its bytes when
 * they validate, the parse of its text, or the result of its operations
 * starting from prev (an earlier valid value, or empty when prev.data is
 * NULL).  Returns false when the chunk gives no valid value.  A value it
 * returns is checked to validate.
 */
bool		fuzz_chunk_value(const CrdtType *t, const FuzzChunk *chunk, CrdtSlice prev,
							 CrdtBuf *out);

/* The same, but a chunk whose bytes or text are refused runs as a program. */
void		fuzz_chunk_value_or_ops(const CrdtType *t, const FuzzChunk *chunk, CrdtSlice prev,
									CrdtBuf *out);

/*
 * Runs a program of operations (see fuzz_common.c) on value, the result
 * in out; false if an operation failed in a way it may (argument errors).
 */
bool		fuzz_run_ops(const CrdtType *t, CrdtSlice value, const uint8_t *prog, size_t len,
						 CrdtBuf *out);

/* ------------------------------------------------------------ text */

/* Writes the canonical text of a valid value, checked to succeed. */
void		fuzz_print(const CrdtType *t, CrdtSlice value, CrdtBuf *out);

/*
 * Whether the text of a valid value, with its non-ASCII characters escaped
 * (crdt_json_escape_non_ascii), must parse back to the same bytes here.
 * Not when a register value (mvreg, lwwreg) has non-ASCII characters: the
 * escape turns them into \u escapes inside the JSON value, which only a
 * real canonicalizer (the host's: jsonb) folds back; the core's default
 * one checks the syntax only (crdt_types.h), so the value's bytes change.
 */
bool		fuzz_escape_round_trips(const CrdtType *t, CrdtSlice value);

#endif							/* FUZZ_COMMON_H */
