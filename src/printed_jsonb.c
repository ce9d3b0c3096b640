/*
 * printed_jsonb.c — a CRDT value's jsonb form built straight from its
 * printed text.
 *
 * That text is this extension's own canonical JSON, so a short reader can
 * push it into a JsonbParseState itself instead of having jsonb_in run
 * the server's JSON parser over it: the cast to jsonb then costs about
 * half as much, and a history record pushes a delta into the record's
 * change without making a jsonb of it first.  Whatever the reader does
 * not expect (a \u escape, which every non-ASCII character is in a
 * database that is not UTF8; a value that is not an object or an array;
 * nesting deeper than it tracks; anything malformed) makes it give up,
 * and the caller hands the whole text to jsonb_in, which builds the same
 * jsonb or raises the error it always raised.  Numbers are converted as
 * jsonb_in converts them (numeric_in), integers of up to 18 digits
 * directly.
 */
#include "crdt_reconcile.h"

#include "utils/fmgrprotos.h"
#include "utils/jsonb.h"
#include "utils/numeric.h"

#define READER_MAX_DEPTH 32

static const char *
skip_ws(const char *p, const char *end)
{
	while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
		p++;
	return p;
}

/* JSON's escapes other than \u: the letters after the backslash, and what each stands for */
static const char escape_letters[] = "\"\\/bfnrt";
static const char escaped_chars[] = "\"\\/\b\f\n\r\t";

/* A string at *pp (its opening quote), without \u escapes; into v unless v is NULL. */
static bool
read_string(const char **pp, const char *end, JsonbValue *v)
{
	const char *start = *pp + 1;
	const char *p;
	bool		escaped = false;
	char	   *out;
	int			n = 0;

	for (p = start;; p++)
	{
		if (p >= end || (unsigned char) *p < 0x20)
			return false;
		if (*p == '"')
			break;
		if (*p == '\\')
		{
			escaped = true;
			if (++p >= end || *p == '\0' || strchr(escape_letters, *p) == NULL)
				return false;
		}
	}
	if (p - start > JENTRY_OFFLENMASK)
		return false;
	*pp = p + 1;
	if (v == NULL)
		return true;
	v->type = jbvString;
	if (!escaped)
	{
		v->val.string.val = (char *) start;
		v->val.string.len = p - start;
		return true;
	}
	out = palloc(p - start);
	for (const char *q = start; q < p; q++)
		out[n++] = *q != '\\' ? *q : escaped_chars[strchr(escape_letters, *++q) - escape_letters];
	v->val.string.val = out;
	v->val.string.len = n;
	return true;
}

static const char *
skip_digits(const char *p, const char *end)
{
	while (p < end && *p >= '0' && *p <= '9')
		p++;
	return p;
}

/* A number at *pp, in JSON's grammar; into v unless v is NULL. */
static bool
read_number(const char **pp, const char *end, JsonbValue *v)
{
	const char *start = *pp;
	const char *p = start;
	const char *digits;
	bool		integer = true;

	if (*p == '-')
		p++;
	digits = p;
	if (p >= end || *p < '0' || *p > '9')
		return false;
	p = *p == '0' ? p + 1 : skip_digits(p, end);
	if (p < end && *p == '.')
	{
		integer = false;
		if (skip_digits(p + 1, end) == p + 1)
			return false;
		p = skip_digits(p + 1, end);
	}
	if (p < end && (*p == 'e' || *p == 'E'))
	{
		integer = false;
		p++;
		if (p < end && (*p == '+' || *p == '-'))
			p++;
		if (skip_digits(p, end) == p)
			return false;
		p = skip_digits(p, end);
	}
	*pp = p;
	if (v == NULL)
		return true;
	v->type = jbvNumeric;
	if (integer && p - digits <= 18)
	{
		int64		value = 0;

		for (const char *d = digits; d < p; d++)
			value = value * 10 + (*d - '0');
		v->val.numeric = int64_to_numeric(start != digits ? -value : value);
	}
	else
		v->val.numeric = DatumGetNumeric(DirectFunctionCall3(numeric_in,
															 CStringGetDatum(pnstrdup(start, p - start)),
															 ObjectIdGetDatum(InvalidOid),
															 Int32GetDatum(-1)));
	return true;
}

static bool
read_literal(const char **pp, const char *end, const char *word)
{
	size_t		len = strlen(word);

	if ((size_t) (end - *pp) < len || memcmp(*pp, word, len) != 0)
		return false;
	*pp += len;
	return true;
}

/* A value that is no object or array, at *pp; into v unless v is NULL. */
static bool
read_scalar(const char **pp, const char *end, JsonbValue *v)
{
	JsonbValue	unused;

	switch (**pp)
	{
		case '"':
			return read_string(pp, end, v);
		case 't':
		case 'f':
			v = v != NULL ? v : &unused;
			v->type = jbvBool;
			v->val.boolean = **pp == 't';
			return read_literal(pp, end, v->val.boolean ? "true" : "false");
		case 'n':
			v = v != NULL ? v : &unused;
			v->type = jbvNull;
			return read_literal(pp, end, "null");
		default:
			return read_number(pp, end, v);
	}
}

/* What the reader does with what it reads: pushes it into *st, or only checks it. */
typedef struct Reading
{
	JsonbParseState **st;		/* NULL: only checking */
	JsonbValue *done;			/* the outer value, once pushed and closed */
} Reading;

static void
push(Reading *r, JsonbIteratorToken token, JsonbValue *v)
{
	if (r->st != NULL)
		r->done = pushJsonbValue(r->st, token, v);
}

/* An object's key and its ':', leaving *pp at the value. */
static bool
read_key(const char **pp, const char *end, Reading *r)
{
	JsonbValue	key;

	if (*pp >= end || **pp != '"' || !read_string(pp, end, r->st != NULL ? &key : NULL))
		return false;
	push(r, WJB_KEY, &key);
	*pp = skip_ws(*pp, end);
	if (*pp >= end || **pp != ':')
		return false;
	*pp = skip_ws(*pp + 1, end);
	return true;
}

/*
 * Reads JSON text whose outer value is an object or an array; false where
 * it holds something this reader leaves to jsonb_in.
 */
static bool
read_printed(const char *text, size_t len, Reading *r)
{
	const char *p = skip_ws(text, text + len);
	const char *end = text + len;
	bool		in_object[READER_MAX_DEPTH];
	int			depth = 0;

	if (p >= end || (*p != '{' && *p != '['))
		return false;
	for (;;)
	{
		/* p is at a value */
		if (p >= end)
			return false;
		if (*p == '{' || *p == '[')
		{
			if (depth == READER_MAX_DEPTH)
				return false;
			in_object[depth++] = *p == '{';
			push(r, *p == '{' ? WJB_BEGIN_OBJECT : WJB_BEGIN_ARRAY, NULL);
			p = skip_ws(p + 1, end);
			if (p < end && *p != (in_object[depth - 1] ? '}' : ']'))
			{
				if (in_object[depth - 1] && !read_key(&p, end, r))
					return false;
				continue;
			}
		}
		else
		{
			JsonbValue	v;

			if (!read_scalar(&p, end, r->st != NULL ? &v : NULL))
				return false;
			push(r, in_object[depth - 1] ? WJB_VALUE : WJB_ELEM, &v);
			p = skip_ws(p, end);
		}
		/* after a value, or at once after an empty container's opening */
		while (p < end && *p == (in_object[depth - 1] ? '}' : ']'))
		{
			push(r, in_object[depth - 1] ? WJB_END_OBJECT : WJB_END_ARRAY, NULL);
			p = skip_ws(p + 1, end);
			if (--depth == 0)
				return p == end;
		}
		if (p >= end || *p != ',')
			return false;
		p = skip_ws(p + 1, end);
		if (in_object[depth - 1] && !read_key(&p, end, r))
			return false;
	}
}

/*
 * The jsonb of printed text, or (Datum) 0 when the text is to go through
 * jsonb_in.  One reading: what it pushed before giving up is dropped with
 * its own parse state.
 */
Datum
crdt_jsonb_of_printed(const char *text, size_t len)
{
	JsonbParseState *st = NULL;
	Reading		r = {&st, NULL};

	if (!read_printed(text, len, &r))
		return (Datum) 0;
	return JsonbPGetDatum(JsonbValueToJsonb(r.done));
}

/*
 * Pushes printed text into *st as one value (after a key, or as an
 * element); false, having pushed nothing, when the text is to go through
 * jsonb_in.  It is checked whole before anything is pushed.
 */
bool
crdt_push_printed(JsonbParseState **st, const char *text, size_t len)
{
	Reading		check = {NULL, NULL};
	Reading		r = {st, NULL};

	if (!read_printed(text, len, &check))
		return false;
	(void) read_printed(text, len, &r);
	return true;
}
