/*
 * jsonlex.h — the JSON lexer shared by the text forms of all types.
 * Internal to the core (not part of its API in crdt_core.h).
 *
 * Every function reports failure as CRDT_ERR_SYNTAX with the byte offset of
 * the offending token, through lex->err.
 */
#ifndef CRDT_JSONLEX_H
#define CRDT_JSONLEX_H

#include "crdt_core.h"

typedef struct JsonLex
{
	const uint8_t *s;
	size_t		len;
	size_t		i;
	CrdtError  *err;
} JsonLex;

void		crdt_json_lex_init(JsonLex *lex, const char *text, size_t len, CrdtError *err);
bool		crdt_json_at_end(const JsonLex *lex);
void		crdt_json_skip_ws(JsonLex *lex);
CrdtStatus	crdt_json_syntax(JsonLex *lex, size_t at, const char *fmt, const char *arg);

/* Skips whitespace and consumes c, or fails saying "expected <what>". */
CrdtStatus	crdt_json_expect(JsonLex *lex, char c, const char *what);

/* Skips whitespace; true (and consumes it) when the next character is c. */
bool		crdt_json_accept(JsonLex *lex, char c);

/*
 * After one member of an object or array: consumes "," (*more = true) or
 * the closing character (*more = false).
 */
CrdtStatus	crdt_json_next_member(JsonLex *lex, char close, bool *more);

/*
 * Parses a string into out (capacity cap).  *len is the full decoded length
 * even past cap (only cap bytes are kept), so callers can report "too long"
 * without storing huge strings.  what names it in "expected ..." errors.
 */
CrdtStatus	crdt_json_string(JsonLex *lex, const char *what, uint8_t *out, size_t cap,
						size_t *len);

/*
 * Parses a set element (a string of at most 4096 bytes of UTF-8 without
 * NUL) into out; *at is where it started, for messages.
 */
CrdtStatus	crdt_json_element(JsonLex *lex, uint8_t out[CRDT_ELEMENT_MAX + 1], size_t *len,
						 size_t *at);

/* Parses digits only (no sign, fraction or exponent) into 1..INT64_MAX. */
CrdtStatus	crdt_json_positive(JsonLex *lex, const char *what, uint64_t *value);

/*
 * Checks that a complete JSON value (any kind) starts here and returns its
 * extent; nesting is limited to CRDT_JSON_MAX_DEPTH.
 */
#define CRDT_JSON_MAX_DEPTH 512
CrdtStatus	crdt_json_value(JsonLex *lex, size_t *start, size_t *end);

/* Skips trailing whitespace and fails if anything else is left. */
CrdtStatus	crdt_json_end(JsonLex *lex);

/* Appends s as a canonical JSON string: '"', '\' and controls escaped. */
void		crdt_json_put_string(CrdtBuf *out, const uint8_t *s, size_t len);

/* UTF-8 encoding of one code point; returns its length. */
size_t		crdt_json_utf8_encode(uint8_t *out, uint32_t cp);

#endif							/* CRDT_JSONLEX_H */
