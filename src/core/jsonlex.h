/*
 * jsonlex.h — the JSON lexer shared by the text forms of all types, and a
 * bag that sorts the keys a text form lists and finds repeats.  Internal
 * to the core (not part of its API in crdt_core.h).
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
 * Opens an object or array: consumes open ('{' or '['), or fails saying
 * "expected <what>"; *more is false when it closes at once (it is empty).
 */
CrdtStatus	crdt_json_open(JsonLex *lex, char open, const char *what, bool *more);

/*
 * After one member of an object or array: consumes "," (*more = true) or
 * the closing character (*more = false).
 */
CrdtStatus	crdt_json_next_member(JsonLex *lex, char close, bool *more);

/* Reads one member of an object or array (not the ',' after it). */
typedef CrdtStatus (*CrdtJsonMember) (JsonLex *lex, void *ctx);

/*
 * Reads a whole object or array: opens it with open ('{' or '['; what
 * names it in "expected ..."), then calls member for each member.
 */
CrdtStatus	crdt_json_each(JsonLex *lex, char open, const char *what, CrdtJsonMember member,
						   void *ctx);

/* An object with a fixed set of keys, each allowed once. */
typedef struct CrdtJsonObject
{
	const char *const *names;	/* its keys */
	int			n;
	const char *what;			/* them in errors: "expected <what>" */
	const char *duplicate;		/* the error for a repeated key: one %s, */
	bool		duplicate_key;	/* ... filled with the key, or else with what */
	/* reads the value of key which (after its ':') */
	CrdtStatus	(*member) (JsonLex *lex, int which, void *ctx);
} CrdtJsonObject;

/*
 * Reads an object of obj's keys: "expected <what>" where no key is,
 * "unknown key: expected <what>" for another string, obj->duplicate for
 * a key seen before.  *seen gets bit i for each key names[i] it had.
 */
CrdtStatus	crdt_json_object(JsonLex *lex, const CrdtJsonObject *obj, void *ctx, unsigned *seen);

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

/*
 * Parses a replica id in double quotes into id.  An invalid one fails with
 * CRDT_ERR_SYNTAX at position at, fmt (with one %s) saying what is wrong.
 */
CrdtStatus	crdt_json_replica_id(JsonLex *lex, uint8_t id[CRDT_REPLICA_ID_MAX + 1], size_t *len,
								 size_t at, const char *fmt);

/*
 * Parses any JSON value and appends its canonical text (crdt_json_canonical)
 * to out; the canonicalizer's errors are placed at the value's start.
 */
CrdtStatus	crdt_json_canonical_value(JsonLex *lex, CrdtBuf *out);

/*
 * Reads digits into *value (from its value), setting *overflow once it
 * would pass INT64_MAX.  False when a fraction or exponent follows.
 */
bool		crdt_json_digits(JsonLex *lex, uint64_t *value, bool *overflow);

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

/* Prints one part of a value (a map, a key list). */
typedef CrdtStatus (*CrdtPartPrinter) (CrdtSlice part, CrdtBuf *out, CrdtError *err);

/*
 * The text of a value in named parts (a pncounter's maps, a twopset's
 * lists): {"name":part,...}, leaving out the empty ones (whose first byte
 * is their terminator).
 */
CrdtStatus	crdt_json_print_parts(CrdtBuf *out, const char *const *names, const CrdtSlice *parts,
								  int n, CrdtPartPrinter print, CrdtError *err);

/* Appends s as a canonical JSON string: '"', '\' and controls escaped. */
void		crdt_json_put_string(CrdtBuf *out, const uint8_t *s, size_t len);

/* UTF-8 encoding of one code point; returns its length. */
size_t		crdt_json_utf8_encode(uint8_t *out, uint32_t cp);

/* ------------------------------------------------------------ key bags
 *
 * The keys a text form lists (replica ids, set elements), in the order
 * they come, each with the list it belongs to (a pncounter's P or N, a
 * twopset's elements or removed), a count and where it was, sorted once
 * all are read.
 */
typedef struct CrdtParsedKey
{
	const uint8_t *key;			/* set by crdt_keybag_sort */
	size_t		offset;			/* into the bag's bytes */
	size_t		len;
	uint64_t	count;
	long		position;
	int			list;
} CrdtParsedKey;

typedef struct CrdtKeyBag
{
	CrdtBuf		bytes;
	CrdtBuf		items;			/* CrdtParsedKey[] */
	size_t		count;
} CrdtKeyBag;

void		crdt_keybag_init(CrdtKeyBag *bag, const CrdtAllocator *alloc);
void		crdt_keybag_free(CrdtKeyBag *bag);
CrdtStatus	crdt_keybag_add(CrdtKeyBag *bag, const uint8_t *key, size_t len, int list,
							uint64_t count, long position, CrdtError *err);

/*
 * Sorts the keys by (list, bytes) and fails with CRDT_ERR_SYNTAX and
 * duplicate (a format naming the key with one %s) at the later of two
 * equal keys of one list.
 */
CrdtStatus	crdt_keybag_sort(CrdtKeyBag *bag, const char *duplicate, CrdtError *err);

static inline const CrdtParsedKey *
crdt_keybag_items(const CrdtKeyBag *bag)
{
	return (const CrdtParsedKey *) bag->items.data;
}

#endif							/* CRDT_JSONLEX_H */
