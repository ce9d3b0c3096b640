/*
 * dotted_text.c — the text form of orset and mvreg.
 *
 *   orset  {"elements":{"milk":[["bob",1]]},"context":{"alice":2,"bob":1}}
 *   mvreg  {"values":[{"value":"A","dots":[["p1",1]]}],"context":{"p1":1}}
 *
 * A context entry is a number n for counters 1 to n, or a list of
 * [first, last] ranges.  Input goes through the builder, which sorts and
 * checks what the text gives in any order; output is canonical.
 */
#include "dotted_internal.h"
#include "jsonlex.h"

#include <string.h>

/* ----------------------------------------------------------------- input */


/* What the text has given so far. */
typedef struct TextParser
{
	CrdtDottedKind kind;
	Builder		b;
	CrdtBuf		scratch;		/* a canonical mvreg value */
	size_t		key;			/* the key whose dots are being read */
	/* the replica id or element just read, and where its item starts */
	uint8_t		token[CRDT_ELEMENT_MAX + 1];
	size_t		token_len;
	size_t		token_at;
} TextParser;

/* ["replica", counter], a dot of tp->key */
static CrdtStatus
parse_dot(JsonLex *lex, void *ctx)
{
	TextParser *tp = ctx;
	uint64_t	counter;
	CrdtStatus	st;

	crdt_json_skip_ws(lex);
	tp->token_at = lex->i;
	if ((st = crdt_json_expect(lex, '[', "\"[\" (a dot: [replica, counter])")) != CRDT_OK ||
		(st = crdt_json_replica_id(lex, tp->token, &tp->token_len, tp->token_at,
								   "replica id of a dot %s")) != CRDT_OK ||
		(st = crdt_json_expect(lex, ',', "\",\"")) != CRDT_OK ||
		(st = crdt_json_positive(lex, "the dot counter", &counter)) != CRDT_OK ||
		(st = crdt_json_expect(lex, ']', "\"]\"")) != CRDT_OK)
		return st;
	crdt_builder_dot(&tp->b, tp->key,
					 crdt_builder_name(&tp->b, tp->token, tp->token_len, NAME_IN_DOT,
									   (long) tp->token_at),
					 counter, (long) tp->token_at);
	return CRDT_OK;
}

/* [dot, ...] for key (its arrival number); the builder reports an empty list */
static CrdtStatus
parse_dots(JsonLex *lex, TextParser *tp, size_t key)
{
	tp->key = key;
	return crdt_json_each(lex, '[', "\"[\" (a list of dots)", parse_dot, tp);
}

/* A context entry's [[first, last], ...] (after its "["), for replica name. */
static CrdtStatus
parse_ranges(JsonLex *lex, Builder *b, size_t name)
{
	CrdtStatus	st;
	bool		more = true;

	if (crdt_json_accept(lex, ']'))
		return crdt_json_syntax(lex, lex->i - 1, "expected %s", "at least one range");
	while (more)
	{
		uint64_t	lo;
		uint64_t	hi;
		size_t		at;

		crdt_json_skip_ws(lex);
		at = lex->i;
		if ((st = crdt_json_expect(lex, '[', "\"[\" (a range: [first, last])")) != CRDT_OK ||
			(st = crdt_json_positive(lex, "the first counter of a range", &lo)) != CRDT_OK ||
			(st = crdt_json_expect(lex, ',', "\",\"")) != CRDT_OK ||
			(st = crdt_json_positive(lex, "the last counter of a range", &hi)) != CRDT_OK ||
			(st = crdt_json_expect(lex, ']', "\"]\"")) != CRDT_OK)
			return st;
		if (hi < lo)
			return crdt_json_syntax(lex, at, "a range ends before it starts%s", "");
		crdt_builder_range(b, name, lo, hi);
		if ((st = crdt_json_next_member(lex, ']', &more)) != CRDT_OK)
			return st;
	}
	return CRDT_OK;
}

/* "replica": n | [[first, last], ...] */
static CrdtStatus
parse_context_entry(JsonLex *lex, void *ctx)
{
	TextParser *tp = ctx;
	size_t		name;
	uint64_t	n;
	CrdtStatus	st;

	crdt_json_skip_ws(lex);
	tp->token_at = lex->i;
	if ((st = crdt_json_replica_id(lex, tp->token, &tp->token_len, tp->token_at,
								   "replica id %s")) != CRDT_OK)
		return st;
	name = crdt_builder_name(&tp->b, tp->token, tp->token_len, NAME_CONTEXT_KEY,
							 (long) tp->token_at);
	if ((st = crdt_json_expect(lex, ':', "\":\"")) != CRDT_OK)
		return st;
	if (crdt_json_accept(lex, '['))
		return parse_ranges(lex, &tp->b, name);
	if ((st = crdt_json_positive(lex, "a context entry", &n)) == CRDT_OK)
		crdt_builder_range(&tp->b, name, 1, n);
	return st;
}

/* orset: "element": [dots] */
static CrdtStatus
parse_element_entry(JsonLex *lex, void *ctx)
{
	TextParser *tp = ctx;
	CrdtStatus	st = crdt_json_element(lex, tp->token, &tp->token_len, &tp->token_at);

	if (st == CRDT_OK && (st = crdt_json_expect(lex, ':', "\":\"")) == CRDT_OK)
		st = parse_dots(lex, tp, crdt_builder_key(&tp->b, tp->token, tp->token_len,
												  (long) tp->token_at));
	return st;
}

/*
 * mvreg: {"value": <json>, "dots": [dots]}.  The value must be known
 * before its dots are recorded, so the dots are only stepped over at
 * first, and read once the entry is complete.
 */
static CrdtStatus
parse_value_entry(JsonLex *lex, void *ctx)
{
	TextParser *tp = ctx;
	bool		seen[2] = {false, false};	/* "value", "dots" */
	bool		more = true;
	size_t		key = 0;
	size_t		entry_at;
	size_t		dots_at = 0;
	size_t		resume;
	CrdtStatus	st;

	crdt_json_skip_ws(lex);
	entry_at = lex->i;
	if ((st = crdt_json_expect(lex, '{', "\"{\" (a value with its dots)")) != CRDT_OK)
		return st;
	while (more)
	{
		uint8_t		field[8];
		size_t		len;
		size_t		at;
		size_t		start;
		size_t		end;
		int			which;

		crdt_json_skip_ws(lex);
		at = lex->i;
		if ((st = crdt_json_string(lex, "\"value\" or \"dots\"", field, sizeof(field), &len)) != CRDT_OK ||
			(st = crdt_json_expect(lex, ':', "\":\"")) != CRDT_OK)
			return st;
		which = len == 5 && memcmp(field, "value", 5) == 0 ? 0
			: len == 4 && memcmp(field, "dots", 4) == 0 ? 1 : 2;
		if (which == 2 || seen[which])
			return crdt_json_syntax(lex, at, "expected %s", seen[0] || seen[1]
									? "\"value\" and \"dots\" once each" : "\"value\" or \"dots\"");
		seen[which] = true;
		crdt_json_skip_ws(lex);
		if (which == 0)
		{
			tp->scratch.len = 0;
			if ((st = crdt_json_canonical_value(lex, &tp->scratch)) != CRDT_OK)
				return st;
			key = crdt_builder_key(&tp->b, tp->scratch.data, tp->scratch.len, (long) entry_at);
		}
		else
		{
			dots_at = lex->i;
			if ((st = crdt_json_value(lex, &start, &end)) != CRDT_OK)
				return st;
		}
		if ((st = crdt_json_next_member(lex, '}', &more)) != CRDT_OK)
			return st;
	}
	if (!seen[0] || !seen[1])
		return crdt_json_syntax(lex, entry_at, "expected %s", "both \"value\" and \"dots\"");
	resume = lex->i;
	lex->i = dots_at;
	if ((st = parse_dots(lex, tp, key)) != CRDT_OK)
		return st;
	lex->i = resume;
	return CRDT_OK;
}

/* The value of a top-level key: the elements (orset) or values (mvreg), or the context. */
static CrdtStatus
parse_part(JsonLex *lex, int which, void *ctx)
{
	TextParser *tp = ctx;

	if (which == 1)
		return crdt_json_each(lex, '{', "\"{\" (the context)", parse_context_entry, tp);
	if (tp->kind == CRDT_ORSET)
		return crdt_json_each(lex, '{', "\"{\" (the elements)", parse_element_entry, tp);
	return crdt_json_each(lex, '[', "\"[\" (the values)", parse_value_entry, tp);
}

static const char *const orset_names[2] = {"elements", "context"};
static const char *const mvreg_names[2] = {"values", "context"};
static const CrdtJsonObject text_objects[2] = {
	{orset_names, 2, "\"elements\" or \"context\"", "duplicate key %s", false, parse_part},
	{mvreg_names, 2, "\"values\" or \"context\"", "duplicate key %s", false, parse_part}
};

CrdtStatus
crdt_dotted_parse(CrdtDottedKind kind, const char *text, size_t len, CrdtBuf *out,
				  CrdtError *err)
{
	JsonLex		lex;
	TextParser	tp;
	unsigned	seen;
	CrdtStatus	st;

	tp.kind = kind;
	crdt_json_lex_init(&lex, text, len, err);
	crdt_builder_init(&tp.b, out->alloc);
	crdt_buf_init(&tp.scratch, out->alloc, 0);
	st = crdt_json_object(&lex, &text_objects[kind == CRDT_ORSET ? 0 : 1], &tp, &seen);
	if (st == CRDT_OK && (st = crdt_json_end(&lex)) == CRDT_OK)
	{
		if (crdt_builder_keys(&tp.b) >= CRDT_MAX_ENTRIES)
			st = crdt_fail(err, CRDT_ERR_TOO_LARGE, -1, "more than %d keys", CRDT_MAX_ENTRIES);
		else
			st = crdt_builder_write(&tp.b, kind, true, out, err);
	}
	crdt_builder_free(&tp.b);
	crdt_buf_free(&tp.scratch);
	return st;
}

/* ---------------------------------------------------------------- output */

static void
print_dots(CrdtBuf *out, const Context *c, const Dot *d, size_t n)
{
	crdt_buf_put_byte(out, '[');
	for (size_t k = 0; k < n; k++)
	{
		if (k > 0)
			crdt_buf_put_byte(out, ',');
		crdt_buf_put_byte(out, '[');
		crdt_json_put_string(out, CTX_ID(c, d[k].replica), CTX_ID_LEN(c, d[k].replica));
		crdt_buf_put_byte(out, ',');
		crdt_buf_put_u64_decimal(out, d[k].counter);
		crdt_buf_put_byte(out, ']');
	}
	crdt_buf_put_byte(out, ']');
}

/* A replica's ranges: n for [1, n] (a plain version vector), else [[lo,hi],...]. */
static void
print_context(CrdtBuf *out, const Context *c)
{
	crdt_buf_put_byte(out, '{');
	for (size_t i = 0; i < c->n; i++)
	{
		const Range *r = CTX_RANGES_OF(c, i);
		size_t		n = CTX_NRANGES(c, i);

		if (i > 0)
			crdt_buf_put_byte(out, ',');
		crdt_json_put_string(out, CTX_ID(c, i), CTX_ID_LEN(c, i));
		crdt_buf_put_byte(out, ':');
		if (n == 1 && r[0].lo == 1)
		{
			crdt_buf_put_u64_decimal(out, r[0].hi);
			continue;
		}
		crdt_buf_put_byte(out, '[');
		for (size_t k = 0; k < n; k++)
		{
			crdt_buf_put_str(out, k > 0 ? ",[" : "[");
			crdt_buf_put_u64_decimal(out, r[k].lo);
			crdt_buf_put_byte(out, ',');
			crdt_buf_put_u64_decimal(out, r[k].hi);
			crdt_buf_put_byte(out, ']');
		}
		crdt_buf_put_byte(out, ']');
	}
	crdt_buf_put_byte(out, '}');
}

/* One key and its dots: "e":[dots] (orset) or {"value":v,"dots":[dots]} (mvreg). */
static void
print_key(CrdtBuf *out, CrdtDottedKind kind, const uint8_t *key, size_t len,
		  const DottedReader *r)
{
	if (kind == CRDT_ORSET)
	{
		crdt_json_put_string(out, key, len);
		crdt_buf_put_byte(out, ':');
	}
	else
	{
		crdt_buf_put_str(out, "{\"value\":");
		crdt_buf_put(out, key, len);
		crdt_buf_put_str(out, ",\"dots\":");
	}
	print_dots(out, &r->context, dotted_reader_dots(r), dotted_reader_ndots(r));
	if (kind == CRDT_MVREG)
		crdt_buf_put_byte(out, '}');
}

CrdtStatus
crdt_dotted_print(CrdtDottedKind kind, CrdtSlice value, CrdtBuf *out, CrdtError *err)
{
	DottedReader r;
	const uint8_t *key;
	size_t		len;
	size_t		keys = 0;
	CrdtStatus	st;
	int			rc = 0;

	if ((st = crdt_dotted_reader_open(&r, kind, value, out->alloc, err)) != CRDT_OK)
	{
		crdt_dotted_reader_close(&r);
		return st;
	}
	crdt_buf_put_byte(out, '{');
	while ((rc = crdt_dotted_reader_next(&r, &key, &len, err)) > 0)
	{
		if (keys++ == 0)
			crdt_buf_put_str(out, kind == CRDT_ORSET ? "\"elements\":{" : "\"values\":[");
		else
			crdt_buf_put_byte(out, ',');
		print_key(out, kind, key, len, &r);
	}
	if (keys > 0)
		crdt_buf_put_byte(out, kind == CRDT_ORSET ? '}' : ']');
	if (r.context.n > 0)
	{
		if (keys > 0)
			crdt_buf_put_byte(out, ',');
		crdt_buf_put_str(out, "\"context\":");
		print_context(out, &r.context);
	}
	crdt_buf_put_byte(out, '}');
	if (rc < 0)
		st = err->status;
	else if (out->failed || r.dots.failed)
		st = crdt_nomem(err);
	crdt_dotted_reader_close(&r);
	return st;
}
