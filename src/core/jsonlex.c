/*
 * jsonlex.c — the JSON lexer shared by the text forms of all types.
 *
 * Whitespace is JSON's four characters plus \f and \v (any ASCII space).
 * Strings take every JSON escape, surrogate pairs included; a lone
 * surrogate is an error.
 */
#include "jsonlex.h"

#include <stdlib.h>
#include <string.h>

void
crdt_json_lex_init(JsonLex *lex, const char *text, size_t len, CrdtError *err)
{
	lex->s = (const uint8_t *) text;
	lex->len = len;
	lex->i = 0;
	lex->err = err;
}

bool
crdt_json_at_end(const JsonLex *lex)
{
	return lex->i >= lex->len;
}

void
crdt_json_skip_ws(JsonLex *lex)
{
	while (lex->i < lex->len)
	{
		uint8_t		c = lex->s[lex->i];

		if (c != ' ' && c != '\t' && c != '\n' && c != '\r' && c != '\f' && c != '\v')
			break;
		lex->i++;
	}
}

CrdtStatus
crdt_json_syntax(JsonLex *lex, size_t at, const char *fmt, const char *arg)
{
	return crdt_fail(lex->err, CRDT_ERR_SYNTAX, (long) at, fmt, arg);
}

CrdtStatus
crdt_json_expect(JsonLex *lex, char c, const char *what)
{
	crdt_json_skip_ws(lex);
	if (crdt_json_at_end(lex))
		return crdt_json_syntax(lex, lex->i, "unexpected end of input, expected %s", what);
	if (lex->s[lex->i] != (uint8_t) c)
		return crdt_json_syntax(lex, lex->i, "expected %s", what);
	lex->i++;
	return CRDT_OK;
}

bool
crdt_json_accept(JsonLex *lex, char c)
{
	crdt_json_skip_ws(lex);
	if (!crdt_json_at_end(lex) && lex->s[lex->i] == (uint8_t) c)
	{
		lex->i++;
		return true;
	}
	return false;
}

CrdtStatus
crdt_json_open(JsonLex *lex, char open, const char *what, bool *more)
{
	CrdtStatus	st = crdt_json_expect(lex, open, what);

	*more = st == CRDT_OK && !crdt_json_accept(lex, open == '{' ? '}' : ']');
	return st;
}

CrdtStatus
crdt_json_next_member(JsonLex *lex, char close, bool *more)
{
	const char *what = close == '}' ? "\",\" or \"}\"" : "\",\" or \"]\"";

	crdt_json_skip_ws(lex);
	if (crdt_json_at_end(lex))
		return crdt_json_syntax(lex, lex->i, "unexpected end of input, expected %s", what);
	if (lex->s[lex->i] == (uint8_t) close || lex->s[lex->i] == ',')
	{
		*more = lex->s[lex->i] == ',';
		lex->i++;
		return CRDT_OK;
	}
	return crdt_json_syntax(lex, lex->i, "expected %s", what);
}

CrdtStatus
crdt_json_each(JsonLex *lex, char open, const char *what, CrdtJsonMember member, void *ctx)
{
	bool		more;
	CrdtStatus	st = crdt_json_open(lex, open, what, &more);

	while (st == CRDT_OK && more)
		if ((st = member(lex, ctx)) == CRDT_OK)
			st = crdt_json_next_member(lex, open == '{' ? '}' : ']', &more);
	return st;
}

/* A key of obj: *which is its index in obj->names, *at where it starts. */
static CrdtStatus
object_key(JsonLex *lex, const CrdtJsonObject *obj, int *which, size_t *at)
{
	uint8_t		name[16];
	size_t		len;
	CrdtStatus	st;

	crdt_json_skip_ws(lex);
	*at = lex->i;
	if ((st = crdt_json_string(lex, obj->what, name, sizeof(name), &len)) != CRDT_OK)
		return st;
	for (*which = 0; *which < obj->n; (*which)++)
		if (len == strlen(obj->names[*which]) && memcmp(name, obj->names[*which], len) == 0)
			return CRDT_OK;
	return crdt_json_syntax(lex, *at, "unknown key: expected %s", obj->what);
}

CrdtStatus
crdt_json_object(JsonLex *lex, const CrdtJsonObject *obj, void *ctx, unsigned *seen)
{
	bool		more;
	CrdtStatus	st = crdt_json_open(lex, '{', "\"{\"", &more);

	*seen = 0;
	while (st == CRDT_OK && more)
	{
		int			which;
		size_t		at;

		if ((st = object_key(lex, obj, &which, &at)) != CRDT_OK)
			break;
		if (*seen & (1u << which))
			st = crdt_json_syntax(lex, at, obj->duplicate,
								  obj->duplicate_key ? obj->names[which] : obj->what);
		else if ((st = crdt_json_expect(lex, ':', "\":\"")) == CRDT_OK &&
				 (st = obj->member(lex, which, ctx)) == CRDT_OK)
			st = crdt_json_next_member(lex, '}', &more);
		*seen |= 1u << which;
	}
	return st;
}

CrdtStatus
crdt_json_end(JsonLex *lex)
{
	crdt_json_skip_ws(lex);
	if (!crdt_json_at_end(lex))
		return crdt_json_syntax(lex, lex->i, "unexpected characters after the closing %s",
						   "\"}\" or \"]\"");
	return CRDT_OK;
}

static int
hex_value(uint8_t c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static bool
read_hex4(JsonLex *lex, uint32_t *out)
{
	uint32_t	v = 0;

	if (lex->len - lex->i < 4)
		return false;
	for (int k = 0; k < 4; k++)
	{
		int			h = hex_value(lex->s[lex->i + k]);

		if (h < 0)
			return false;
		v = (v << 4) | (uint32_t) h;
	}
	lex->i += 4;
	*out = v;
	return true;
}

size_t
crdt_json_utf8_encode(uint8_t *out, uint32_t cp)
{
	if (cp < 0x80)
	{
		out[0] = (uint8_t) cp;
		return 1;
	}
	if (cp < 0x800)
	{
		out[0] = (uint8_t) (0xc0 | (cp >> 6));
		out[1] = (uint8_t) (0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000)
	{
		out[0] = (uint8_t) (0xe0 | (cp >> 12));
		out[1] = (uint8_t) (0x80 | ((cp >> 6) & 0x3f));
		out[2] = (uint8_t) (0x80 | (cp & 0x3f));
		return 3;
	}
	out[0] = (uint8_t) (0xf0 | (cp >> 18));
	out[1] = (uint8_t) (0x80 | ((cp >> 12) & 0x3f));
	out[2] = (uint8_t) (0x80 | ((cp >> 6) & 0x3f));
	out[3] = (uint8_t) (0x80 | (cp & 0x3f));
	return 4;
}

/* The one-letter escapes and what they stand for (JSON and its canonical output). */
static const char escape_letters[] = "\"\\/bfnrt";
static const char escape_values[] = "\"\\/\b\f\n\r\t";

#define ESCAPES 8

/* Decodes the escape after a backslash at esc_at into enc; returns its length or 0. */
static size_t
decode_escape(JsonLex *lex, size_t esc_at, uint8_t enc[4], CrdtStatus *st)
{
	uint8_t		c = lex->s[lex->i++];
	const char *letter = memchr(escape_letters, c, ESCAPES);
	uint32_t	cp;
	uint32_t	low;

	*st = CRDT_OK;
	if (letter != NULL)
	{
		enc[0] = (uint8_t) escape_values[letter - escape_letters];
		return 1;
	}
	if (c != 'u')
	{
		*st = crdt_json_syntax(lex, esc_at, "invalid escape sequence in a %s", "string");
		return 0;
	}
	if (!read_hex4(lex, &cp))
		*st = crdt_json_syntax(lex, esc_at, "invalid %s escape: expected four hex digits", "\\u");
	else if (cp >= 0xdc00 && cp <= 0xdfff)
		*st = crdt_json_syntax(lex, esc_at, "invalid %s escape: unpaired low surrogate", "\\u");
	else if (cp >= 0xd800 && cp <= 0xdbff)
	{
		if (lex->len - lex->i < 2 || lex->s[lex->i] != '\\' || lex->s[lex->i + 1] != 'u')
			*st = crdt_json_syntax(lex, esc_at, "invalid %s escape: unpaired high surrogate", "\\u");
		else
		{
			lex->i += 2;
			if (!read_hex4(lex, &low) || low < 0xdc00 || low > 0xdfff)
				*st = crdt_json_syntax(lex, esc_at, "invalid %s escape: unpaired high surrogate", "\\u");
			else
				cp = 0x10000 + ((cp - 0xd800) << 10) + (low - 0xdc00);
		}
	}
	return *st == CRDT_OK ? crdt_json_utf8_encode(enc, cp) : 0;
}

CrdtStatus
crdt_json_string(JsonLex *lex, const char *what, uint8_t *out, size_t cap, size_t *len)
{
	size_t		n = 0;

	crdt_json_skip_ws(lex);
	if (crdt_json_at_end(lex) || lex->s[lex->i] != '"')
		return crdt_json_syntax(lex, lex->i, "expected %s", what);
	lex->i++;
	for (;;)
	{
		uint8_t		c;
		uint8_t		enc[4];
		size_t		enc_len;
		size_t		esc_at;
		CrdtStatus	st;

		if (crdt_json_at_end(lex))
			return crdt_json_syntax(lex, lex->i, "unexpected end of input inside a %s", "string");
		c = lex->s[lex->i];
		if (c == '"')
		{
			lex->i++;
			break;
		}
		if (c < 0x20)
			return crdt_json_syntax(lex, lex->i, "unescaped control character in a %s", "string");
		if (c != '\\')
		{
			if (n < cap)
				out[n] = c;
			n++;
			lex->i++;
			continue;
		}
		esc_at = lex->i++;
		if (crdt_json_at_end(lex))
			return crdt_json_syntax(lex, esc_at, "unexpected end of input inside a %s", "string");
		enc_len = decode_escape(lex, esc_at, enc, &st);
		if (st != CRDT_OK)
			return st;
		for (size_t k = 0; k < enc_len; k++, n++)
			if (n < cap)
				out[n] = enc[k];
	}
	*len = n;
	return CRDT_OK;
}

CrdtStatus
crdt_json_element(JsonLex *lex, uint8_t out[CRDT_ELEMENT_MAX + 1], size_t *len, size_t *at)
{
	const char *problem;
	CrdtStatus	st;

	crdt_json_skip_ws(lex);
	*at = lex->i;
	if ((st = crdt_json_string(lex, "an element in double quotes", out, CRDT_ELEMENT_MAX + 1, len)) != CRDT_OK)
		return st;
	problem = crdt_element_problem(out, *len > CRDT_ELEMENT_MAX ? CRDT_ELEMENT_MAX + 1 : *len);
	if (problem != NULL)
		return crdt_fail(lex->err, CRDT_ERR_SYNTAX, (long) *at, "element %s", problem);
	return CRDT_OK;
}

CrdtStatus
crdt_json_replica_id(JsonLex *lex, uint8_t id[CRDT_REPLICA_ID_MAX + 1], size_t *len, size_t at,
					 const char *fmt)
{
	const char *problem;
	CrdtStatus	st;

	if ((st = crdt_json_string(lex, "a replica id in double quotes", id, CRDT_REPLICA_ID_MAX + 1,
							   len)) != CRDT_OK)
		return st;
	problem = *len > CRDT_REPLICA_ID_MAX ? "is longer than 64 bytes" : crdt_replica_id_check(id, *len);
	return problem == NULL ? CRDT_OK : crdt_fail(lex->err, CRDT_ERR_SYNTAX, (long) at, fmt, problem);
}

bool
crdt_json_digits(JsonLex *lex, uint64_t *value, bool *overflow)
{
	for (; !crdt_json_at_end(lex) && lex->s[lex->i] >= '0' && lex->s[lex->i] <= '9'; lex->i++)
	{
		unsigned	d = (unsigned) (lex->s[lex->i] - '0');

		if (*value > ((uint64_t) INT64_MAX - d) / 10)
			*overflow = true;
		else
			*value = *value * 10 + d;
	}
	return crdt_json_at_end(lex) ||
		(lex->s[lex->i] != '.' && lex->s[lex->i] != 'e' && lex->s[lex->i] != 'E');
}

CrdtStatus
crdt_json_positive(JsonLex *lex, const char *what, uint64_t *value)
{
	size_t		start;
	uint64_t	v = 0;
	bool		overflow = false;

	crdt_json_skip_ws(lex);
	start = lex->i;
	if (crdt_json_at_end(lex) || lex->s[lex->i] < '1' || lex->s[lex->i] > '9')
		return crdt_json_syntax(lex, start, "expected %s (a positive integer)", what);
	if (!crdt_json_digits(lex, &v, &overflow))
		return crdt_json_syntax(lex, start, "%s must be a whole number", what);
	if (overflow)
		return crdt_fail(lex->err, CRDT_ERR_OVERFLOW, (long) start,
						 "%s is out of range for type bigint", what);
	*value = v;
	return CRDT_OK;
}

static CrdtStatus
scan_number(JsonLex *lex)
{
	size_t		start = lex->i;
	size_t		digits;

	if (lex->s[lex->i] == '-')
		lex->i++;
	digits = lex->i;
	while (!crdt_json_at_end(lex) && lex->s[lex->i] >= '0' && lex->s[lex->i] <= '9')
		lex->i++;
	if (lex->i == digits || (lex->s[digits] == '0' && lex->i - digits > 1))
		return crdt_json_syntax(lex, start, "invalid %s", "number");
	if (!crdt_json_at_end(lex) && lex->s[lex->i] == '.')
	{
		digits = ++lex->i;
		while (!crdt_json_at_end(lex) && lex->s[lex->i] >= '0' && lex->s[lex->i] <= '9')
			lex->i++;
		if (lex->i == digits)
			return crdt_json_syntax(lex, start, "invalid %s", "number");
	}
	if (!crdt_json_at_end(lex) && (lex->s[lex->i] == 'e' || lex->s[lex->i] == 'E'))
	{
		lex->i++;
		if (!crdt_json_at_end(lex) && (lex->s[lex->i] == '+' || lex->s[lex->i] == '-'))
			lex->i++;
		digits = lex->i;
		while (!crdt_json_at_end(lex) && lex->s[lex->i] >= '0' && lex->s[lex->i] <= '9')
			lex->i++;
		if (lex->i == digits)
			return crdt_json_syntax(lex, start, "invalid %s", "number");
	}
	return CRDT_OK;
}

static CrdtStatus
scan_literal(JsonLex *lex, const char *word)
{
	size_t		n = strlen(word);

	if (lex->len - lex->i < n || memcmp(lex->s + lex->i, word, n) != 0)
		return crdt_json_syntax(lex, lex->i, "expected %s", "a JSON value");
	lex->i += n;
	return CRDT_OK;
}

/*
 * Iterative, with an explicit stack of open containers, so that no input
 * can exhaust the C stack.
 */
CrdtStatus
crdt_json_value(JsonLex *lex, size_t *start, size_t *end)
{
	char		open[CRDT_JSON_MAX_DEPTH];
	int			depth = 0;
	CrdtStatus	st;

	crdt_json_skip_ws(lex);
	*start = lex->i;
	for (;;)
	{
		uint8_t		scratch[1];
		size_t		ignored;
		uint8_t		c;

		/* a value */
		crdt_json_skip_ws(lex);
		if (crdt_json_at_end(lex))
			return crdt_json_syntax(lex, lex->i, "unexpected end of input, expected %s", "a JSON value");
		c = lex->s[lex->i];
		if (c == '{' || c == '[')
		{
			if (depth == CRDT_JSON_MAX_DEPTH)
				return crdt_json_syntax(lex, lex->i, "JSON value nested more than %s levels deep", "512");
			open[depth++] = (char) c;
			lex->i++;
			if (crdt_json_accept(lex, c == '{' ? '}' : ']'))
				depth--;
			else
			{
				if (c == '{')
				{
					if ((st = crdt_json_string(lex, "an object key in double quotes", scratch, 0, &ignored)) != CRDT_OK ||
						(st = crdt_json_expect(lex, ':', "\":\"")) != CRDT_OK)
						return st;
				}
				continue;
			}
		}
		else if (c == '"')
		{
			if ((st = crdt_json_string(lex, "a string", scratch, 0, &ignored)) != CRDT_OK)
				return st;
		}
		else if (c == '-' || (c >= '0' && c <= '9'))
		{
			if ((st = scan_number(lex)) != CRDT_OK)
				return st;
		}
		else if ((st = scan_literal(lex, c == 't' ? "true" : c == 'f' ? "false" : "null")) != CRDT_OK)
			return st;

		/* after a value: close containers, or go on to the next member */
		for (;;)
		{
			bool		more;

			if (depth == 0)
			{
				*end = lex->i;
				return CRDT_OK;
			}
			if ((st = crdt_json_next_member(lex, open[depth - 1] == '{' ? '}' : ']', &more)) != CRDT_OK)
				return st;
			if (!more)
			{
				depth--;
				continue;
			}
			if (open[depth - 1] == '{' &&
				((st = crdt_json_string(lex, "an object key in double quotes", scratch, 0, &ignored)) != CRDT_OK ||
				 (st = crdt_json_expect(lex, ':', "\":\"")) != CRDT_OK))
				return st;
			break;
		}
	}
}

void
crdt_json_put_string(CrdtBuf *out, const uint8_t *s, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	size_t		run = 0;

	crdt_buf_put_byte(out, '"');
	for (size_t k = 0; k < len; k++)
	{
		uint8_t		c = s[k];
		const char *value;

		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		crdt_buf_put(out, s + run, k - run);
		run = k + 1;
		value = memchr(escape_values, c, ESCAPES);
		if (value != NULL)
		{
			char		pair[2] = {'\\', escape_letters[value - escape_values]};

			crdt_buf_put(out, pair, sizeof(pair));
		}
		else
		{
			char		code[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};

			crdt_buf_put(out, code, sizeof(code));
		}
	}
	crdt_buf_put(out, s + run, len - run);
	crdt_buf_put_byte(out, '"');
}

CrdtStatus
crdt_json_print_parts(CrdtBuf *out, const char *const *names, const CrdtSlice *parts, int n,
					  CrdtPartPrinter print, CrdtError *err)
{
	bool		wrote = false;
	CrdtStatus	st = CRDT_OK;

	crdt_buf_put_byte(out, '{');
	for (int i = 0; i < n && st == CRDT_OK; i++)
	{
		if (parts[i].len == 0 || parts[i].data[0] == 0)
			continue;
		if (wrote)
			crdt_buf_put_byte(out, ',');
		crdt_json_put_string(out, (const uint8_t *) names[i], strlen(names[i]));
		crdt_buf_put_byte(out, ':');
		st = print(parts[i], out, err);
		wrote = true;
	}
	crdt_buf_put_byte(out, '}');
	return st;
}

/* ------------------------------------------------------------- key bags */

void
crdt_keybag_init(CrdtKeyBag *bag, const CrdtAllocator *alloc)
{
	crdt_buf_init(&bag->bytes, alloc, 0);
	crdt_buf_init(&bag->items, alloc, 0);
	bag->count = 0;
}

void
crdt_keybag_free(CrdtKeyBag *bag)
{
	crdt_buf_free(&bag->bytes);
	crdt_buf_free(&bag->items);
}

CrdtStatus
crdt_keybag_add(CrdtKeyBag *bag, const uint8_t *key, size_t len, int list, uint64_t count,
				long position, CrdtError *err)
{
	CrdtParsedKey item = {NULL, bag->bytes.len, len, count, position, list};

	crdt_buf_put(&bag->bytes, key, len);
	crdt_buf_put(&bag->items, &item, sizeof(item));
	bag->count++;
	return bag->bytes.failed || bag->items.failed ? crdt_nomem(err) : CRDT_OK;
}

/* by list, then bytes, then position: of two equal keys the later is reported */
static int
compare_parsed_keys(const void *x, const void *y)
{
	const CrdtParsedKey *a = x;
	const CrdtParsedKey *b = y;
	int			c = a->list != b->list ? (a->list < b->list ? -1 : 1)
		: crdt_bytes_cmp(a->key, a->len, b->key, b->len);

	return c != 0 ? c : (a->position < b->position ? -1 : (a->position > b->position));
}

CrdtStatus
crdt_keybag_sort(CrdtKeyBag *bag, const char *duplicate, CrdtError *err)
{
	CrdtParsedKey *items = (CrdtParsedKey *) bag->items.data;

	for (size_t k = 0; k < bag->count; k++)
		items[k].key = bag->bytes.data + items[k].offset;
	if (bag->count > 1)
		qsort(items, bag->count, sizeof(CrdtParsedKey), compare_parsed_keys);
	for (size_t k = 1; k < bag->count; k++)
		if (items[k].list == items[k - 1].list &&
			crdt_bytes_cmp(items[k].key, items[k].len, items[k - 1].key, items[k - 1].len) == 0)
		{
			char		shown[96];

			crdt_describe_bytes(shown, sizeof(shown), items[k].key, items[k].len);
			return crdt_fail(err, CRDT_ERR_SYNTAX, items[k].position, duplicate, shown);
		}
	return CRDT_OK;
}

/* ------------------------------------------------ canonical JSON values */

CrdtStatus
crdt_json_canonical_value(JsonLex *lex, CrdtBuf *out)
{
	size_t		start;
	size_t		end;
	CrdtStatus	st;

	if ((st = crdt_json_value(lex, &start, &end)) == CRDT_OK &&
		(st = crdt_json_canonical((const char *) lex->s + start, end - start, out,
								  lex->err)) != CRDT_OK)
		lex->err->position = (long) start;
	return st;
}

static CrdtJsonCanonicalizer canonicalizer = NULL;

void
crdt_set_json_canonicalizer(CrdtJsonCanonicalizer fn)
{
	canonicalizer = fn;
}

/* The default: any valid JSON value, kept as written minus outer whitespace. */
static CrdtStatus
default_canonical(const char *json, size_t len, CrdtBuf *out, CrdtError *err)
{
	JsonLex		lex;
	size_t		start;
	size_t		end;
	CrdtStatus	st;

	crdt_json_lex_init(&lex, json, len, err);
	if ((st = crdt_json_value(&lex, &start, &end)) != CRDT_OK)
		return st;
	crdt_json_skip_ws(&lex);
	if (!crdt_json_at_end(&lex))
		return crdt_json_syntax(&lex, lex.i, "unexpected characters after the %s", "JSON value");
	crdt_buf_put(out, json + start, end - start);
	return crdt_buf_status(out, err);
}

CrdtStatus
crdt_json_canonical(const char *json, size_t len, CrdtBuf *out, CrdtError *err)
{
	CrdtStatus	st;

	if (len > CRDT_VALUE_MAX)
		return crdt_fail(err, CRDT_ERR_TOO_LARGE, -1, "a register value over 16 MB");
	/* values are UTF-8 (crdt_json_check_canonical insists); text input must be too */
	if (!crdt_utf8_valid((const uint8_t *) json, len))
		return crdt_fail(err, CRDT_ERR_SYNTAX, -1, "a register value is not valid UTF-8");
	st = (canonicalizer != NULL ? canonicalizer : default_canonical) (json, len, out, err);
	if (st == CRDT_OK && out->len > CRDT_VALUE_MAX)
		return crdt_fail(err, CRDT_ERR_TOO_LARGE, -1, "a register value over 16 MB");
	return st;
}

CrdtStatus
crdt_json_check_canonical(const uint8_t *value, size_t len, CrdtError *err)
{
	CrdtBuf		canon;
	CrdtStatus	st;

	if (!crdt_utf8_valid(value, len) || memchr(value, 0, len) != NULL)
		return crdt_fail(err, CRDT_ERR_BINARY, -1, "a register value is not valid UTF-8 text");
	/* the syntax first, so the host canonicalizer only ever sees valid JSON */
	crdt_buf_init(&canon, crdt_default_allocator(), 0);
	st = default_canonical((const char *) value, len, &canon, err);
	if (st == CRDT_OK && canonicalizer != NULL)
	{
		canon.len = 0;
		st = crdt_json_canonical((const char *) value, len, &canon, err);
	}
	if (st == CRDT_OK && (canon.len != len || memcmp(canon.data, value, len) != 0))
		st = crdt_fail(err, CRDT_ERR_BINARY, -1, "a register value is not in canonical JSON form");
	else if (st != CRDT_OK && st != CRDT_ERR_NOMEM)
	{
		char		detail[sizeof(err->message)];

		memcpy(detail, err->message, sizeof(detail));
		st = crdt_fail(err, CRDT_ERR_BINARY, -1, "a register value is not valid JSON: %s", detail);
	}
	crdt_buf_free(&canon);
	return st;
}
