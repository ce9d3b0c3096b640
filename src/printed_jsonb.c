/*
 * printed_jsonb.c — a CRDT value's jsonb form built straight from its
 * printed text.
 *
 * That text is this extension's own canonical JSON, so a short reader can
 * push it into a JsonbParseState itself instead of having jsonb_in run
 * the server's JSON parser over it: the cast to jsonb then costs about
 * half as much, and history pays it on every record.  Whatever the reader
 * does not expect (a \u escape, which every non-ASCII character is in a
 * database that is not UTF8; a value that is not an object or an array;
 * nesting deeper than it tracks; anything malformed) makes it give up, and
 * the caller hands the whole text to jsonb_in, which builds the same jsonb
 * or raises the error it always raised.  Numbers are converted as jsonb_in
 * converts them (numeric_in), integers of up to 18 digits directly.
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

/* JSON's escapes other than \u: each letter after the backslash, then what it stands for */
static const char short_escapes[] = "\"\"\\\\//b\bf\fn\nr\rt\t";

/* A string at *pp (its opening quote), without \u escapes. */
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
			if (++p >= end || *p == 'u')
				return false;
		}
	}
	if (p - start > JENTRY_OFFLENMASK)
		return false;
	*pp = p + 1;
	v->type = jbvString;
	if (!escaped)
	{
		v->val.string.val = (char *) start;
		v->val.string.len = p - start;
		return true;
	}
	out = palloc(p - start);
	for (const char *q = start; q < p; q++)
	{
		const char *e;

		if (*q != '\\')
		{
			out[n++] = *q;
			continue;
		}
		q++;
		for (e = short_escapes; *e != '\0' && *e != *q; e += 2)
			;
		if (*e == '\0')
			return false;
		out[n++] = e[1];
	}
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

/* A number at *pp, in JSON's grammar. */
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

/* A value that is no object or array, at *pp. */
static bool
read_scalar(const char **pp, const char *end, JsonbValue *v)
{
	switch (**pp)
	{
		case '"':
			return read_string(pp, end, v);
		case 't':
		case 'f':
			v->type = jbvBool;
			v->val.boolean = **pp == 't';
			return read_literal(pp, end, v->val.boolean ? "true" : "false");
		case 'n':
			v->type = jbvNull;
			return read_literal(pp, end, "null");
		default:
			return read_number(pp, end, v);
	}
}

/* An object's key and its ':', leaving *pp at the value. */
static bool
read_key(const char **pp, const char *end, JsonbParseState **st)
{
	JsonbValue	key;

	if (*pp >= end || **pp != '"' || !read_string(pp, end, &key))
		return false;
	(void) pushJsonbValue(st, WJB_KEY, &key);
	*pp = skip_ws(*pp, end);
	if (*pp >= end || **pp != ':')
		return false;
	*pp = skip_ws(*pp + 1, end);
	return true;
}

/*
 * The jsonb of JSON text whose outer value is an object or an array, or
 * (Datum) 0 when the text holds something this reader leaves to jsonb_in.
 */
Datum
crdt_jsonb_of_printed(const char *text, size_t len)
{
	const char *p = skip_ws(text, text + len);
	const char *end = text + len;
	JsonbParseState *st = NULL;
	bool		in_object[READER_MAX_DEPTH];
	int			depth = 0;

	if (p >= end || (*p != '{' && *p != '['))
		return (Datum) 0;
	for (;;)
	{
		/* p is at a value */
		if (p >= end)
			return (Datum) 0;
		if (*p == '{' || *p == '[')
		{
			if (depth == READER_MAX_DEPTH)
				return (Datum) 0;
			in_object[depth++] = *p == '{';
			(void) pushJsonbValue(&st, *p == '{' ? WJB_BEGIN_OBJECT : WJB_BEGIN_ARRAY, NULL);
			p = skip_ws(p + 1, end);
			if (p < end && *p != (in_object[depth - 1] ? '}' : ']'))
			{
				if (in_object[depth - 1] && !read_key(&p, end, &st))
					return (Datum) 0;
				continue;
			}
		}
		else
		{
			JsonbValue	v;

			if (!read_scalar(&p, end, &v))
				return (Datum) 0;
			(void) pushJsonbValue(&st, in_object[depth - 1] ? WJB_VALUE : WJB_ELEM, &v);
			p = skip_ws(p, end);
		}
		/* after a value, or at once after an empty container's opening */
		while (p < end && *p == (in_object[depth - 1] ? '}' : ']'))
		{
			JsonbValue *done = pushJsonbValue(&st, in_object[depth - 1] ? WJB_END_OBJECT : WJB_END_ARRAY,
											  NULL);

			p = skip_ws(p + 1, end);
			if (--depth == 0)
				return p == end ? JsonbPGetDatum(JsonbValueToJsonb(done)) : (Datum) 0;
		}
		if (p >= end || *p != ',')
			return (Datum) 0;
		p = skip_ws(p + 1, end);
		if (in_object[depth - 1] && !read_key(&p, end, &st))
			return (Datum) 0;
	}
}
