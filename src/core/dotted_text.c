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


/* [["replica", counter], ...] for key (arrival index) */
static CrdtStatus
parse_dots(JsonLex *lex, Builder *b, size_t key)
{
	CrdtStatus	st;
	bool		more = true;

	if ((st = crdt_json_expect(lex, '[', "\"[\" (a list of dots)")) != CRDT_OK)
		return st;
	if (crdt_json_accept(lex, ']'))
		return CRDT_OK;			/* the builder reports the key without dots */
	while (more)
	{
		uint8_t		id[CRDT_REPLICA_ID_MAX + 1];
		size_t		len;
		size_t		at;
		uint64_t	counter;
		const char *problem;

		crdt_json_skip_ws(lex);
		at = lex->i;
		if ((st = crdt_json_expect(lex, '[', "\"[\" (a dot: [replica, counter])")) != CRDT_OK ||
			(st = crdt_json_string(lex, "a replica id in double quotes", id, sizeof(id), &len)) != CRDT_OK)
			return st;
		problem = len > CRDT_REPLICA_ID_MAX ? "is longer than 64 bytes" : crdt_replica_id_check(id, len);
		if (problem != NULL)
			return crdt_fail(lex->err, CRDT_ERR_SYNTAX, (long) at, "replica id of a dot %s", problem);
		if ((st = crdt_json_expect(lex, ',', "\",\"")) != CRDT_OK ||
			(st = crdt_json_positive(lex, "the dot counter", &counter)) != CRDT_OK ||
			(st = crdt_json_expect(lex, ']', "\"]\"")) != CRDT_OK)
			return st;
		crdt_builder_dot(b, key, crdt_builder_name(b, id, len, NAME_IN_DOT, (long) at), counter, (long) at);
		if ((st = crdt_json_next_member(lex, ']', &more)) != CRDT_OK)
			return st;
	}
	return CRDT_OK;
}

/* {"replica": n | [[lo, hi], ...], ...} */
static CrdtStatus
parse_context(JsonLex *lex, Builder *b)
{
	CrdtStatus	st;
	bool		more = true;

	if ((st = crdt_json_expect(lex, '{', "\"{\" (the context)")) != CRDT_OK)
		return st;
	if (crdt_json_accept(lex, '}'))
		return CRDT_OK;
	while (more)
	{
		uint8_t		id[CRDT_REPLICA_ID_MAX + 1];
		size_t		len;
		size_t		at;
		size_t		name;
		const char *problem;

		crdt_json_skip_ws(lex);
		at = lex->i;
		if ((st = crdt_json_string(lex, "a replica id in double quotes", id, sizeof(id), &len)) != CRDT_OK)
			return st;
		problem = len > CRDT_REPLICA_ID_MAX ? "is longer than 64 bytes" : crdt_replica_id_check(id, len);
		if (problem != NULL)
			return crdt_fail(lex->err, CRDT_ERR_SYNTAX, (long) at, "replica id %s", problem);
		name = crdt_builder_name(b, id, len, NAME_CONTEXT_KEY, (long) at);
		if ((st = crdt_json_expect(lex, ':', "\":\"")) != CRDT_OK)
			return st;
		if (crdt_json_accept(lex, '['))
		{
			bool		more_ranges = true;

			if (crdt_json_accept(lex, ']'))
				return crdt_json_syntax(lex, lex->i - 1, "expected %s", "at least one range");
			while (more_ranges)
			{
				uint64_t	lo;
				uint64_t	hi;
				size_t		range_at;

				crdt_json_skip_ws(lex);
				range_at = lex->i;
				if ((st = crdt_json_expect(lex, '[', "\"[\" (a range: [first, last])")) != CRDT_OK ||
					(st = crdt_json_positive(lex, "the first counter of a range", &lo)) != CRDT_OK ||
					(st = crdt_json_expect(lex, ',', "\",\"")) != CRDT_OK ||
					(st = crdt_json_positive(lex, "the last counter of a range", &hi)) != CRDT_OK ||
					(st = crdt_json_expect(lex, ']', "\"]\"")) != CRDT_OK)
					return st;
				if (hi < lo)
					return crdt_json_syntax(lex, range_at, "a range ends before it starts%s", "");
				crdt_builder_range(b, name, lo, hi);
				if ((st = crdt_json_next_member(lex, ']', &more_ranges)) != CRDT_OK)
					return st;
			}
		}
		else
		{
			uint64_t	n;

			if ((st = crdt_json_positive(lex, "a context entry", &n)) != CRDT_OK)
				return st;
			crdt_builder_range(b, name, 1, n);
		}
		if ((st = crdt_json_next_member(lex, '}', &more)) != CRDT_OK)
			return st;
	}
	return CRDT_OK;
}

/* orset: {"element": [dots], ...} */
static CrdtStatus
parse_elements(JsonLex *lex, Builder *b)
{
	CrdtStatus	st;
	bool		more = true;

	if ((st = crdt_json_expect(lex, '{', "\"{\" (the elements)")) != CRDT_OK)
		return st;
	if (crdt_json_accept(lex, '}'))
		return CRDT_OK;
	while (more)
	{
		uint8_t		element[CRDT_ELEMENT_MAX + 1];
		size_t		len;
		size_t		at;

		if ((st = crdt_json_element(lex, element, &len, &at)) != CRDT_OK)
			return st;
		if ((st = crdt_json_expect(lex, ':', "\":\"")) != CRDT_OK ||
			(st = parse_dots(lex, b, crdt_builder_key(b, element, len, (long) at))) != CRDT_OK ||
			(st = crdt_json_next_member(lex, '}', &more)) != CRDT_OK)
			return st;
	}
	return CRDT_OK;
}

/* mvreg: [{"value": <json>, "dots": [dots]}, ...] */
static CrdtStatus
parse_values(JsonLex *lex, Builder *b, CrdtBuf *scratch)
{
	CrdtStatus	st;
	bool		more = true;

	if ((st = crdt_json_expect(lex, '[', "\"[\" (the values)")) != CRDT_OK)
		return st;
	if (crdt_json_accept(lex, ']'))
		return CRDT_OK;
	while (more)
	{
		bool		seen_value = false;
		bool		seen_dots = false;
		bool		more_fields = true;
		size_t		key = 0;
		size_t		entry_at;
		size_t		dots_start = 0;

		crdt_json_skip_ws(lex);
		entry_at = lex->i;
		if ((st = crdt_json_expect(lex, '{', "\"{\" (a value with its dots)")) != CRDT_OK)
			return st;
		/* the value must be known before its dots are recorded: read dots later */
		while (more_fields)
		{
			uint8_t		field[8];
			size_t		len;
			size_t		at;

			crdt_json_skip_ws(lex);
			at = lex->i;
			if ((st = crdt_json_string(lex, "\"value\" or \"dots\"", field, sizeof(field), &len)) != CRDT_OK ||
				(st = crdt_json_expect(lex, ':', "\":\"")) != CRDT_OK)
				return st;
			if (len == 5 && memcmp(field, "value", 5) == 0 && !seen_value)
			{
				size_t		start;
				size_t		end;

				seen_value = true;
				if ((st = crdt_json_value(lex, &start, &end)) != CRDT_OK)
					return st;
				scratch->len = 0;
				if ((st = crdt_json_canonical((const char *) lex->s + start, end - start,
											  scratch, lex->err)) != CRDT_OK)
				{
					lex->err->position = (long) start;
					return st;
				}
				key = crdt_builder_key(b, scratch->data, scratch->len, (long) entry_at);
			}
			else if (len == 4 && memcmp(field, "dots", 4) == 0 && !seen_dots)
			{
				size_t		start;
				size_t		end;

				seen_dots = true;
				crdt_json_skip_ws(lex);
				dots_start = lex->i;
				if ((st = crdt_json_value(lex, &start, &end)) != CRDT_OK)
					return st;
			}
			else
				return crdt_json_syntax(lex, at, "expected %s", seen_value || seen_dots
								   ? "\"value\" and \"dots\" once each" : "\"value\" or \"dots\"");
			if ((st = crdt_json_next_member(lex, '}', &more_fields)) != CRDT_OK)
				return st;
		}
		if (!seen_value || !seen_dots)
			return crdt_json_syntax(lex, entry_at, "expected %s", "both \"value\" and \"dots\"");
		{
			size_t		resume = lex->i;

			lex->i = dots_start;
			if ((st = parse_dots(lex, b, key)) != CRDT_OK)
				return st;
			lex->i = resume;
		}
		if ((st = crdt_json_next_member(lex, ']', &more)) != CRDT_OK)
			return st;
	}
	return CRDT_OK;
}

CrdtStatus
crdt_dotted_parse(CrdtDottedKind kind, const char *text, size_t len, CrdtBuf *out,
				  CrdtError *err)
{
	const char *names[2] = {kind == CRDT_ORSET ? "elements" : "values", "context"};
	JsonLex		lex;
	Builder		b;
	CrdtBuf		scratch;
	CrdtStatus	st;
	bool		seen[2] = {false, false};
	bool		more = true;

	crdt_json_lex_init(&lex, text, len, err);
	crdt_builder_init(&b, out->alloc);
	crdt_buf_init(&scratch, out->alloc, 0);
	if ((st = crdt_json_expect(&lex, '{', "\"{\"")) != CRDT_OK)
		goto done;
	if (crdt_json_accept(&lex, '}'))
		more = false;
	while (more)
	{
		uint8_t		name[16];
		size_t		name_len;
		size_t		at;
		int			which = -1;

		crdt_json_skip_ws(&lex);
		at = lex.i;
		if ((st = crdt_json_string(&lex, kind == CRDT_ORSET ? "\"elements\" or \"context\"" : "\"values\" or \"context\"",
							  name, sizeof(name), &name_len)) != CRDT_OK)
			goto done;
		for (int i = 0; i < 2; i++)
			if (name_len == strlen(names[i]) && memcmp(name, names[i], name_len) == 0)
				which = i;
		if (which < 0 || seen[which])
		{
			st = crdt_json_syntax(&lex, at, which < 0 ? "unknown key: expected %s" : "duplicate key %s",
							 kind == CRDT_ORSET ? "\"elements\" or \"context\"" : "\"values\" or \"context\"");
			goto done;
		}
		seen[which] = true;
		if ((st = crdt_json_expect(&lex, ':', "\":\"")) != CRDT_OK)
			goto done;
		if (which == 1)
			st = parse_context(&lex, &b);
		else
			st = kind == CRDT_ORSET ? parse_elements(&lex, &b) : parse_values(&lex, &b, &scratch);
		if (st != CRDT_OK || (st = crdt_json_next_member(&lex, '}', &more)) != CRDT_OK)
			goto done;
	}
	if ((st = crdt_json_end(&lex)) == CRDT_OK)
	{
		if (crdt_builder_keys(&b) >= CRDT_MAX_ENTRIES)
			st = crdt_fail(err, CRDT_ERR_TOO_LARGE, -1, "more than %d keys", CRDT_MAX_ENTRIES);
		else
			st = crdt_builder_write(&b, kind, true, out, err);
	}
done:
	crdt_builder_free(&b);
	crdt_buf_free(&scratch);
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
