/*
 * test_sets.c — gset, twopset, orset, mvreg and lwwreg beyond the laws:
 * the text forms and their errors (with byte positions), the operations,
 * hostile binary input, and the aggregate states (CrdtSetRuns, CrdtKeySet,
 * CrdtDotLog) checked against a fold of merge.
 *
 * Expected bytes and positions are written out by hand from
 * docs/FORMAT.md and the text grammar, not taken from the code.
 */
#include "unit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------ helpers */

/* Parses from an exact heap copy: the parser must not read past len. */
static CrdtStatus
parse_exact(const CrdtType *t, const char *text, size_t len, CrdtBuf *out, CrdtError *err)
{
	ExactCopy	c = exact_copy(text, len);
	CrdtStatus	st;

	buf_reset(out);
	st = t->parse((const char *) c.slice.data, len, out, err);
	exact_free(&c);
	return st;
}

/*
 * input (len bytes) parses to a valid value printed as canonical, which
 * parses back to the same bytes.  The value is left in out.
 */
static bool
check_form_into(const CrdtType *t, const char *input, size_t len, const char *canonical,
				CrdtBuf *out)
{
	CrdtBuf		text;
	CrdtBuf		again;
	CrdtError	err;
	bool		ok;

	buf_open(&text);
	buf_open(&again);
	ok = CHECK_OK(parse_exact(t, input, len, out, &err), &err) &&
		CHECK_OK(t->validate(buf_slice(out), &err), &err) &&
		CHECK_OK(t->print(buf_slice(out), &text, &err), &err) &&
		CHECK_EQ_TEXT(text.data, text.len, canonical) &&
		CHECK_OK(parse_exact(t, canonical, strlen(canonical), &again, &err), &err) &&
		CHECK_EQ_BYTES(buf_slice(&again), buf_slice(out));
	if (!ok)
		unit_note("%s input %s", t->name, show_text(input, len));
	crdt_buf_free(&text);
	crdt_buf_free(&again);
	return ok;
}

static bool
check_form(const CrdtType *t, const char *input, const char *canonical)
{
	CrdtBuf		out;
	bool		ok;

	buf_open(&out);
	ok = check_form_into(t, input, strlen(input), canonical, &out);
	crdt_buf_free(&out);
	return ok;
}

/* input is canonical already */
static void
check_canonical(const CrdtType *t, const char *input)
{
	check_form(t, input, input);
}

/* input parses to the bytes of spec (see bytes_from_spec) */
static void
check_bytes(const CrdtType *t, const char *input, const char *spec)
{
	CrdtBuf		out;
	CrdtBuf		want;
	CrdtError	err;

	buf_open(&out);
	buf_open(&want);
	if (CHECK_OK(parse_exact(t, input, strlen(input), &out, &err), &err) &&
		!CHECK_EQ_BYTES(buf_slice(&out), bytes_from_spec(&want, spec)))
		unit_note("%s input %s", t->name, input);
	crdt_buf_free(&out);
	crdt_buf_free(&want);
}

static void
check_rejects_len(const CrdtType *t, const char *input, size_t len, CrdtStatus status,
				  long position)
{
	CrdtBuf		out;
	CrdtError	err;
	CrdtStatus	st;

	buf_open(&out);
	st = parse_exact(t, input, len, &out, &err);
	if (!CHECK_ERR(st, &err, status, position))
		unit_note("%s input %s", t->name, show_text(input, len));
	else
		CHECK_MSG(err.message[0] != '\0', "%s: an error without a message", t->name);
	crdt_buf_free(&out);
}

/* input is rejected with status at byte position (-1: anywhere) */
static void
check_rejects(const CrdtType *t, const char *input, CrdtStatus status, long position)
{
	check_rejects_len(t, input, strlen(input), status, position);
}

/* Text made of pieces: prefix, a piece repeated n times, suffix. */
static const char *
repeated(CrdtBuf *buf, const char *prefix, const char *piece, size_t n, const char *suffix)
{
	buf_reset(buf);
	crdt_buf_put_str(buf, prefix);
	for (size_t k = 0; k < n; k++)
		crdt_buf_put_str(buf, piece);
	crdt_buf_put_str(buf, suffix);
	crdt_buf_put_byte(buf, 0);
	return (const char *) buf->data;
}

/* A value from text the test knows is valid. */
static CrdtSlice
value_of(const CrdtType *t, const char *text, CrdtBuf *out)
{
	CrdtError	err;

	if (!CHECK_OK(parse_exact(t, text, strlen(text), out, &err), &err))
		unit_note("%s input %s", t->name, text);
	return buf_slice(out);
}

/* value prints as want */
static void
check_prints(const CrdtType *t, CrdtSlice value, const char *want)
{
	CrdtBuf		text;
	CrdtError	err;

	buf_open(&text);
	if (CHECK_OK(t->print(value, &text, &err), &err))
		CHECK_EQ_TEXT(text.data, text.len, want);
	CHECK_OK(t->validate(value, &err), &err);
	crdt_buf_free(&text);
}

/* ------------------------------------------------------------ gset, twopset text */

static void
check_element_lengths(const CrdtType *t, const char *open, const char *close)
{
	CrdtBuf		in;
	CrdtBuf		want;
	size_t		at = strlen(open) - 1;	/* the element's opening quote */

	buf_open(&in);
	buf_open(&want);
	/* 4096 bytes is the limit, however written: plain, two-byte characters, escapes */
	repeated(&in, open, "x", CRDT_ELEMENT_MAX, close);
	check_canonical(t, (const char *) in.data);
	repeated(&in, open, "x", CRDT_ELEMENT_MAX + 1, close);
	check_rejects(t, (const char *) in.data, CRDT_ERR_SYNTAX, (long) at);
	repeated(&want, open, "\xC3\xA9", CRDT_ELEMENT_MAX / 2, close);
	check_form(t, repeated(&in, open, "\\u00e9", CRDT_ELEMENT_MAX / 2, close),
			   (const char *) want.data);
	repeated(&in, open, "\xC3\xA9", CRDT_ELEMENT_MAX / 2, "a\"]}");
	check_rejects(t, (const char *) in.data, CRDT_ERR_SYNTAX, (long) at);
	crdt_buf_free(&in);
	crdt_buf_free(&want);
}

void
test_sets_text(void)
{
	const CrdtType *g = &crdt_type_gset;
	const CrdtType *tp = &crdt_type_twopset;

	/* sorted by bytes; [] and {} are both empty */
	check_form(g, "[\"b\",\"a\",\"ab\"]", "[\"a\",\"ab\",\"b\"]");
	check_form(g, " [ ] ", "[]");
	check_form(g, "{}", "[]");
	check_form(g, "\t{ }\n", "[]");
	check_canonical(g, "[\"\"]");
	check_form(g, "[ \"a\" ,\n\"b\" ]", "[\"a\",\"b\"]");

	/* control characters come out as short escapes or \u00XX, the rest raw */
	check_form(g, "[\"\\n\",\"\\u0001\",\"\\\"\",\"\\\\\",\"\\/\",\"\\b\\f\\r\\t\",\"\\u00e9\","
			   "\"\\ud83d\\ude00\",\"\x7f\",\"\\u001F\"]",
			   "[\"\\u0001\",\"\\b\\f\\r\\t\",\"\\n\",\"\\u001f\",\"\\\"\",\"/\",\"\\\\\","
			   "\"\x7f\",\"\xC3\xA9\",\"\xF0\x9F\x98\x80\"]");

	/* the layout: version, front-coded keys, terminator */
	check_bytes(g, "[\"ab\",\"a\",\"\"]", "01 01 00 02 00 'a' 02 01 'b' 00");
	check_bytes(g, "[]", "01 00");
	check_bytes(tp, "{\"removed\":[\"b\"],\"elements\":[\"a\"]}", "01 02 00 'a' 00 02 00 'b' 00");
	check_bytes(tp, "{}", "01 00 00");

	check_element_lengths(g, "[\"", "\"]");
	check_element_lengths(tp, "{\"removed\":[\"", "\"]}");

	/* what an element cannot hold, at the element's position */
	check_rejects(g, "[\"a\",\"b\\u0000c\"]", CRDT_ERR_SYNTAX, 5);
	check_rejects_len(g, "[\"a\0b\"]", 7, CRDT_ERR_SYNTAX, 3);
	check_rejects(g, "[\"a\nb\"]", CRDT_ERR_SYNTAX, 3);
	check_rejects(g, "[\"\xff\"]", CRDT_ERR_SYNTAX, 1);
	check_rejects(g, "[\"\xC0\xAF\"]", CRDT_ERR_SYNTAX, 1);
	check_rejects(g, "[\"\xED\xA0\x80\"]", CRDT_ERR_SYNTAX, 1);
	check_rejects(g, "[\"x\\ud800\"]", CRDT_ERR_SYNTAX, 3);
	check_rejects(g, "[\"\\udc00\"]", CRDT_ERR_SYNTAX, 2);
	check_rejects(g, "[\"\\x41\"]", CRDT_ERR_SYNTAX, 2);

	/* duplicates, reported at the later one, also when written differently */
	check_rejects(g, "[\"a\",\"b\",\"a\"]", CRDT_ERR_SYNTAX, 9);
	/* as for counters: the later of the first duplicated element in byte order */
	check_rejects(g, "[\"b\",\"a\",\"b\",\"a\"]", CRDT_ERR_SYNTAX, 13);
	check_rejects(g, "[\"\\u00e9\",\"\xC3\xA9\"]", CRDT_ERR_SYNTAX, 10);
	check_rejects(tp, "{\"elements\":[\"a\",\"a\"]}", CRDT_ERR_SYNTAX, 17);
	check_rejects(tp, "{\"removed\":[\"a\",\"b\",\"a\"]}", CRDT_ERR_SYNTAX, 20);

	/* malformed */
	check_rejects(g, "", CRDT_ERR_SYNTAX, 0);
	check_rejects(g, "   ", CRDT_ERR_SYNTAX, 3);
	check_rejects(g, "[", CRDT_ERR_SYNTAX, 1);
	check_rejects(g, "[\"a\"", CRDT_ERR_SYNTAX, 4);
	check_rejects(g, "[\"a\",]", CRDT_ERR_SYNTAX, 5);
	check_rejects(g, "[\"a\" \"b\"]", CRDT_ERR_SYNTAX, 5);
	check_rejects(g, "[\"a\"] x", CRDT_ERR_SYNTAX, 6);
	check_rejects(g, "[1]", CRDT_ERR_SYNTAX, 1);
	check_rejects(g, "{\"a\":1}", CRDT_ERR_SYNTAX, 1);
	check_rejects(g, "null", CRDT_ERR_SYNTAX, 0);
	check_rejects(g, "[\"abc", CRDT_ERR_SYNTAX, 5);

	/* twopset: fixed key order out, empty parts left out, removed wins */
	check_form(tp, "{\"removed\":[\"b\"],\"elements\":[\"a\"]}",
			   "{\"elements\":[\"a\"],\"removed\":[\"b\"]}");
	check_form(tp, "{\"elements\":[\"a\",\"b\"],\"removed\":[\"a\"]}",
			   "{\"elements\":[\"b\"],\"removed\":[\"a\"]}");
	check_form(tp, "{\"elements\":[],\"removed\":[]}", "{}");
	check_form(tp, " { } ", "{}");
	check_canonical(tp, "{\"removed\":[\"x\"]}");
	check_canonical(tp, "{\"elements\":[\"\\n\"]}");
	check_rejects(tp, "{\"present\":[]}", CRDT_ERR_SYNTAX, 1);
	check_rejects(tp, "{\"elements\":[],\"elements\":[]}", CRDT_ERR_SYNTAX, 15);
	check_rejects(tp, "{\"removed\":[],\"removed\":[\"a\"]}", CRDT_ERR_SYNTAX, 14);
	check_rejects(tp, "{\"elements\":\"a\"}", CRDT_ERR_SYNTAX, 12);
	check_rejects(tp, "{\"elements\":[\"a\"]", CRDT_ERR_SYNTAX, 17);
	check_rejects(tp, "[]", CRDT_ERR_SYNTAX, 0);
	check_rejects(tp, "{\"elements\":[\"a\"],}", CRDT_ERR_SYNTAX, 18);
}

/* ------------------------------------------------------------ orset, mvreg text */

void
test_sets_dotted_text(void)
{
	const CrdtType *o = &crdt_type_orset;
	const CrdtType *m = &crdt_type_mvreg;
	CrdtBuf		in;

	buf_open(&in);
	check_form(o, "{}", "{}");
	check_form(o, "{\"elements\":{},\"context\":{}}", "{}");
	check_form(m, "{\"values\":[],\"context\":{}}", "{}");
	check_bytes(o, "{}", "01 00 00");
	check_bytes(m, " { } ", "01 00 00");

	/* docs/FORMAT.md's example, and the same from either key order */
	check_bytes(o, "{\"context\":{\"alice\":2},\"elements\":{\"milk\":[[\"alice\",1]],"
				"\"eggs\":[[\"alice\",2]]}}",
				"01 06 00 'alice' 01 00 01 00 05 00 'eggs' 01 00 02 05 00 'milk' 01 00 01 00");
	check_form(o, "{\"context\":{\"alice\":2},\"elements\":{\"milk\":[[\"alice\",1]],"
			   "\"eggs\":[[\"alice\",2]]}}",
			   "{\"elements\":{\"eggs\":[[\"alice\",2]],\"milk\":[[\"alice\",1]]},"
			   "\"context\":{\"alice\":2}}");

	/* context ranges: a number n is [[1,n]]; lists are sorted and joined */
	check_canonical(o, "{\"context\":{\"r\":[[1,3],[5,5]]}}");
	check_bytes(o, "{\"context\":{\"r\":[[1,3],[5,5]]}}", "01 02 00 'r' 02 00 02 00 00 00 00");
	check_form(o, "{\"context\":{\"r\":[[5,5],[1,3]]}}", "{\"context\":{\"r\":[[1,3],[5,5]]}}");
	check_form(o, "{\"context\":{\"r\":[[1,2],[3,4]]}}", "{\"context\":{\"r\":4}}");
	check_form(o, "{\"context\":{\"r\":[[1,1]]}}", "{\"context\":{\"r\":1}}");
	check_form(o, "{\"context\":{\"r\":[[2,5],[3,9],[12,12],[10,11]]}}",
			   "{\"context\":{\"r\":[[2,12]]}}");
	check_form(o, "{\"context\":{\"r\":[[4,6],[2,2],[4,5]]}}", "{\"context\":{\"r\":[[2,2],[4,6]]}}");
	check_form(m, "{\"context\":{\"b\":3,\"a\":[[2,2]]}}", "{\"context\":{\"a\":[[2,2]],\"b\":3}}");
	check_canonical(o, "{\"context\":{\"r\":9223372036854775807}}");
	check_canonical(o, "{\"context\":{\"r\":[[9223372036854775806,9223372036854775807]]}}");
	check_rejects(o, "{\"context\":{\"r\":9223372036854775808}}", CRDT_ERR_OVERFLOW, 16);
	check_rejects(o, "{\"context\":{\"r\":[[1,9223372036854775808]]}}", CRDT_ERR_OVERFLOW, 20);
	check_rejects(o, "{\"context\":{\"r\":[[3,2]]}}", CRDT_ERR_SYNTAX, 17);
	check_rejects(o, "{\"context\":{\"r\":[]}}", CRDT_ERR_SYNTAX, 17);
	check_rejects(o, "{\"context\":{\"r\":0}}", CRDT_ERR_SYNTAX, 16);
	check_rejects(o, "{\"context\":{\"r\":-1}}", CRDT_ERR_SYNTAX, 16);
	check_rejects(o, "{\"context\":{\"r\":1.5}}", CRDT_ERR_SYNTAX, 16);
	check_rejects(o, "{\"context\":{\"r\":[[0,1]]}}", CRDT_ERR_SYNTAX, 18);
	check_rejects(o, "{\"context\":{\"r\":[1,2]}}", CRDT_ERR_SYNTAX, 17);
	check_rejects(o, "{\"context\":{\"r\":1,\"r\":2}}", CRDT_ERR_SYNTAX, 18);
	check_rejects(o, "{\"context\":{\"\":1}}", CRDT_ERR_SYNTAX, 12);
	check_rejects(o, "{\"context\":{\"a\\u0001\":1}}", CRDT_ERR_SYNTAX, 12);
	check_rejects(o, repeated(&in, "{\"context\":{\"", "r", CRDT_REPLICA_ID_MAX + 1, "\":1}}"),
				  CRDT_ERR_SYNTAX, 12);
	check_canonical(o, repeated(&in, "{\"context\":{\"", "r", CRDT_REPLICA_ID_MAX, "\":1}}"));

	/* dots: inside the context, once each, sorted; elements sorted, escaped */
	check_form(o, "{\"elements\":{\"a\":[[\"s\",1],[\"r\",1]]},\"context\":{\"s\":1,\"r\":1}}",
			   "{\"elements\":{\"a\":[[\"r\",1],[\"s\",1]]},\"context\":{\"r\":1,\"s\":1}}");
	check_form(o, "{\"elements\":{\"b\":[[\"r\",2]],\"a\":[[\"r\",4],[\"r\",1]]},"
			   "\"context\":{\"r\":[[1,2],[4,4]]}}",
			   "{\"elements\":{\"a\":[[\"r\",1],[\"r\",4]],\"b\":[[\"r\",2]]},"
			   "\"context\":{\"r\":[[1,2],[4,4]]}}");
	check_canonical(o, "{\"elements\":{\"\\u0001\\\\\":[[\"x\\\"q\",2]],\"\\n\":[[\"x\\\"q\",1]]},"
					"\"context\":{\"x\\\"q\":2}}");
	check_rejects(o, "{\"elements\":{\"a\":[[\"r\",2]]},\"context\":{\"r\":1}}", CRDT_ERR_SYNTAX, 18);
	check_rejects(o, "{\"elements\":{\"a\":[[\"s\",1]]},\"context\":{\"r\":1}}", CRDT_ERR_SYNTAX, 18);
	check_rejects(o, "{\"elements\":{\"a\":[[\"r\",1]]}}", CRDT_ERR_SYNTAX, 18);
	check_rejects(o, "{\"elements\":{\"a\":[[\"r\",3]]},\"context\":{\"r\":[[1,2],[4,4]]}}",
				  CRDT_ERR_SYNTAX, 18);
	check_rejects(o, "{\"elements\":{\"a\":[[\"r\",1]],\"b\":[[\"r\",1]]},\"context\":{\"r\":1}}",
				  CRDT_ERR_SYNTAX, 32);
	check_rejects(o, "{\"elements\":{\"a\":[[\"r\",1],[\"r\",1]]},\"context\":{\"r\":1}}",
				  CRDT_ERR_SYNTAX, 26);
	check_rejects(o, "{\"elements\":{\"a\":[[\"r\",1]],\"a\":[[\"r\",2]]},\"context\":{\"r\":2}}",
				  CRDT_ERR_SYNTAX, 27);
	check_rejects(o, "{\"elements\":{\"\\u00e9\":[[\"r\",1]],\"\xC3\xA9\":[[\"r\",2]]},"
				  "\"context\":{\"r\":2}}", CRDT_ERR_SYNTAX, 32);
	check_rejects(o, "{\"elements\":{\"a\":[]},\"context\":{\"r\":1}}", CRDT_ERR_SYNTAX, 13);
	check_rejects(o, "{\"elements\":{\"a\\u0000\":[[\"r\",1]]},\"context\":{\"r\":1}}",
				  CRDT_ERR_SYNTAX, 13);
	check_rejects(o, "{\"elements\":{\"\xff\":[[\"r\",1]]},\"context\":{\"r\":1}}",
				  CRDT_ERR_SYNTAX, 13);
	check_rejects(o, "{\"elements\":{\"a\":[[\"\",1]]},\"context\":{\"r\":1}}", CRDT_ERR_SYNTAX, 18);
	check_rejects(o, "{\"elements\":{\"a\":[[\"r\",0]]},\"context\":{\"r\":1}}", CRDT_ERR_SYNTAX, 23);
	check_rejects(o, "{\"elements\":{\"a\":[\"r\",1]},\"context\":{\"r\":1}}", CRDT_ERR_SYNTAX, 18);
	check_rejects(o, "{\"elements\":[],\"context\":{}}", CRDT_ERR_SYNTAX, 12);
	check_rejects(o, "{\"elems\":{}}", CRDT_ERR_SYNTAX, 1);
	check_rejects(o, "{\"context\":{},\"context\":{}}", CRDT_ERR_SYNTAX, 14);
	check_rejects(o, "{\"values\":[]}", CRDT_ERR_SYNTAX, 1);
	check_rejects(o, "[]", CRDT_ERR_SYNTAX, 0);
	check_rejects(o, "{} {}", CRDT_ERR_SYNTAX, 3);

	/* mvreg: values sorted by bytes, dots after the value, outer whitespace trimmed */
	check_canonical(m, "{\"values\":[{\"value\":1,\"dots\":[[\"r\",1]]}],\"context\":{\"r\":1}}");
	check_form(m, "{\"context\":{\"r\":1},\"values\":[{\"dots\":[[\"r\",1]],\"value\":\"x\"}]}",
			   "{\"values\":[{\"value\":\"x\",\"dots\":[[\"r\",1]]}],\"context\":{\"r\":1}}");
	check_form(m, "{\"values\":[{\"value\":{\"a\":1},\"dots\":[[\"s\",1]]},"
			   "{\"value\":\"b\",\"dots\":[[\"r\",2]]}],\"context\":{\"r\":2,\"s\":1}}",
			   "{\"values\":[{\"value\":\"b\",\"dots\":[[\"r\",2]]},"
			   "{\"value\":{\"a\":1},\"dots\":[[\"s\",1]]}],\"context\":{\"r\":2,\"s\":1}}");
	check_form(m, "{\"values\":[{\"value\" : \n[1, 2] \t,\"dots\":[[\"r\",1]]}],\"context\":{\"r\":1}}",
			   "{\"values\":[{\"value\":[1, 2],\"dots\":[[\"r\",1]]}],\"context\":{\"r\":1}}");
	check_bytes(m, "{\"values\":[{\"value\":\"ab\",\"dots\":[[\"r\",1]]}],\"context\":{\"r\":1}}",
				"01 02 00 'r' 01 00 00 00 05 '\"ab\"' 01 00 01 00");
	/* values are plain keys: no shared prefix, even when they begin alike */
	check_bytes(m, "{\"values\":[{\"value\":12,\"dots\":[[\"r\",2]]},{\"value\":1,\"dots\":[[\"r\",1]]}],"
				"\"context\":{\"r\":2}}", "01 02 00 'r' 01 00 01 00 02 '1' 01 00 01 03 '12' 01 00 02 00");
	check_canonical(m, "{\"values\":[{\"value\":\"a\",\"dots\":[[\"r\",1]]},{\"value\":\"b\",\"dots\":[[\"s\",1]]}],"
					"\"context\":{\"r\":1,\"s\":1}}");
	check_rejects(m, "{\"values\":[{\"value\":tru,\"dots\":[[\"r\",1]]}],\"context\":{\"r\":1}}",
				  CRDT_ERR_SYNTAX, 20);
	check_rejects(m, "{\"values\":[{\"value\":[1,],\"dots\":[[\"r\",1]]}],\"context\":{\"r\":1}}",
				  CRDT_ERR_SYNTAX, 23);
	check_rejects(m, "{\"values\":[{\"value\":01,\"dots\":[[\"r\",1]]}],\"context\":{\"r\":1}}",
				  CRDT_ERR_SYNTAX, 20);
	check_rejects(m, "{\"values\":[{\"value\":\"\\ud800\",\"dots\":[[\"r\",1]]}],\"context\":{\"r\":1}}",
				  CRDT_ERR_SYNTAX, 21);
	check_rejects(m, "{\"values\":[{\"value\":1,\"dots\":[[\"r\",1]]},{\"value\":1,\"dots\":[[\"r\",2]]}],"
				  "\"context\":{\"r\":2}}", CRDT_ERR_SYNTAX, 40);
	check_rejects(m, "{\"values\":[{\"value\":1}],\"context\":{\"r\":1}}", CRDT_ERR_SYNTAX, 11);
	check_rejects(m, "{\"values\":[{\"dots\":[[\"r\",1]]}],\"context\":{\"r\":1}}", CRDT_ERR_SYNTAX, 11);
	check_rejects(m, "{\"values\":[{\"value\":1,\"dots\":[]}],\"context\":{\"r\":1}}", CRDT_ERR_SYNTAX, 11);
	check_rejects(m, "{\"values\":[{\"value\":1,\"value\":2,\"dots\":[[\"r\",1]]}],\"context\":{\"r\":1}}",
				  CRDT_ERR_SYNTAX, 22);
	check_rejects(m, "{\"values\":[{\"value\":1,\"dot\":[[\"r\",1]]}],\"context\":{\"r\":1}}",
				  CRDT_ERR_SYNTAX, 22);
	check_rejects(m, "{\"values\":[{\"value\":1,\"dots\":[[\"r\",2]]}],\"context\":{\"r\":1}}",
				  CRDT_ERR_SYNTAX, 30);
	check_rejects(m, "{\"values\":{},\"context\":{}}", CRDT_ERR_SYNTAX, 10);
	check_rejects(m, "{\"elements\":{}}", CRDT_ERR_SYNTAX, 1);
	/* a register value is UTF-8, like everything else in a value */
	check_rejects(m, "{\"values\":[{\"value\":\"\xff\",\"dots\":[[\"r\",1]]}],\"context\":{\"r\":1}}",
				  CRDT_ERR_SYNTAX, 20);
	crdt_buf_free(&in);
}

/* ------------------------------------------------------------ lwwreg text */

/* Days from 0001-01-01 to y-m-d, counted the long way round. */
static int64_t
ref_days(int y, int m, int d)
{
	static const int before[12] = {0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334};
	int64_t		y1 = y - 1;
	bool		leap = y % 4 == 0 && (y % 100 != 0 || y % 400 == 0);

	return y1 * 365 + y1 / 4 - y1 / 100 + y1 / 400 + before[m - 1] + (leap && m > 2) + d - 1;
}

/* Microseconds since 2000-01-01 of a UTC time, independently of lww.c. */
static int64_t
ref_at(int y, int mo, int d, int h, int mi, int s, int64_t us)
{
	return ((ref_days(y, mo, d) - ref_days(2000, 1, 1)) * 86400 + h * 3600 + mi * 60 + s) *
		INT64_C(1000000) + us;
}

/* {"at":stamp,"value":1,"replica":"r"}: the stamp's quote is at position 6 */
static const char *
lww_text(CrdtBuf *buf, const char *stamp)
{
	return repeated(buf, "{\"at\":\"", stamp, 1, "\",\"value\":1,\"replica\":\"r\"}");
}

/* stamp parses to at and prints as canonical */
static void
check_stamp(const char *stamp, int64_t at, const char *canonical)
{
	CrdtBuf		in;
	CrdtBuf		out;
	CrdtBuf		want;
	CrdtLww		lww;
	CrdtError	err;

	crdt_bufs_init(&crdt_malloc_allocator, &in, &out, &want, NULL);
	repeated(&want, "{\"value\":1,\"at\":\"", canonical, 1, "\",\"replica\":\"r\"}");
	lww_text(&in, stamp);
	if (check_form_into(&crdt_type_lwwreg, (const char *) in.data, in.len - 1,
						(const char *) want.data, &out) &&
		CHECK_OK(crdt_lww_read(buf_slice(&out), &lww, &err), &err) &&
		!CHECK_EQ_INT(lww.at, at))
		unit_note("timestamp %s", stamp);
	crdt_bufs_free(&in, &out, &want, NULL);
}

static void
check_bad_stamp(const char *stamp)
{
	CrdtBuf		in;

	buf_open(&in);
	check_rejects(&crdt_type_lwwreg, lww_text(&in, stamp), CRDT_ERR_SYNTAX, 6);
	crdt_buf_free(&in);
}

/* crdt_lww_format_time agrees with ref_at, and its text parses back */
static void
check_format_time(int64_t at)
{
	char		stamp[28];
	int			y, mo, d, h, mi, s;
	long		us;

	crdt_lww_format_time(at, stamp);
	if (!CHECK_MSG(sscanf(stamp, "%4d-%2d-%2dT%2d:%2d:%2d.%6ldZ", &y, &mo, &d, &h, &mi, &s, &us) == 7 &&
				   strlen(stamp) == 27 && ref_at(y, mo, d, h, mi, s, us) == at,
				   "crdt_lww_format_time(%lld) is %s", (long long) at, stamp))
		return;
	check_stamp(stamp, at, stamp);
}

void
test_sets_lww_text(void)
{
	const CrdtType *l = &crdt_type_lwwreg;
	Rng			rng = rng_for_case(rng_stream("sets lwwreg text"), 0);

	check_form(l, "{}", "{}");
	check_form(l, " { } ", "{}");
	check_bytes(l, "{}", "01");
	check_form(l, "{\"replica\":\"r\",\"at\":\"2026-11-26T11:30:00+01:30\",\"value\": {\"a\": 1} }",
			   "{\"value\":{\"a\": 1},\"at\":\"2026-11-26T10:00:00.000000Z\",\"replica\":\"r\"}");
	check_canonical(l, "{\"value\":\"\\n\",\"at\":\"2026-11-26T10:00:00.000000Z\",\"replica\":\"x\\\"q\"}");
	/* zigzag: 0 -> 0, -1 -> 1, 1 -> 2 */
	check_bytes(l, "{\"value\":1,\"at\":\"2000-01-01T00:00:00Z\",\"replica\":\"r\"}", "01 00 01 'r' 01 '1'");
	check_bytes(l, "{\"value\":1,\"at\":\"1999-12-31T23:59:59.999999Z\",\"replica\":\"r\"}",
				"01 01 01 'r' 01 '1'");
	check_bytes(l, "{\"value\":[],\"at\":\"2000-01-01T00:00:00.000001Z\",\"replica\":\"r\"}",
				"01 02 01 'r' 02 '[]'");

	check_stamp("2026-11-26T10:00:00Z", INT64_C(849002400000000), "2026-11-26T10:00:00.000000Z");
	check_stamp("2026-11-26t10:00:00z", INT64_C(849002400000000), "2026-11-26T10:00:00.000000Z");
	check_stamp("2026-11-26 11:30:00+01:30", INT64_C(849002400000000), "2026-11-26T10:00:00.000000Z");
	check_stamp("2024-02-29T12:34:56.5Z", INT64_C(762525296500000), "2024-02-29T12:34:56.500000Z");
	check_stamp("2000-02-29T00:00:00.000001-00:00", ref_at(2000, 2, 29, 0, 0, 0, 1),
				"2000-02-29T00:00:00.000001Z");
	check_stamp("1900-03-01T00:00:00Z", INT64_C(-3150576000000000), "1900-03-01T00:00:00.000000Z");
	check_stamp("1969-07-20T20:17:40-05:00", INT64_C(-960849740000000), "1969-07-21T01:17:40.000000Z");
	check_stamp("2026-01-01T00:30:00+01:00", ref_at(2025, 12, 31, 23, 30, 0, 0),
				"2025-12-31T23:30:00.000000Z");
	check_stamp("0001-01-01T00:00:00Z", CRDT_LWW_MIN_AT, "0001-01-01T00:00:00.000000Z");
	check_stamp("0001-01-01T01:00:00+01:00", CRDT_LWW_MIN_AT, "0001-01-01T00:00:00.000000Z");
	check_stamp("9999-12-31T23:59:59.999999Z", CRDT_LWW_MAX_AT, "9999-12-31T23:59:59.999999Z");
	check_stamp("9999-12-31T22:59:59.999999-01:00", CRDT_LWW_MAX_AT, "9999-12-31T23:59:59.999999Z");
	CHECK_EQ_INT(CRDT_LWW_MIN_AT, ref_at(1, 1, 1, 0, 0, 0, 0));
	CHECK_EQ_INT(CRDT_LWW_MAX_AT, ref_at(9999, 12, 31, 23, 59, 59, 999999));

	check_bad_stamp("0000-12-31T23:59:59Z");
	check_bad_stamp("10000-01-01T00:00:00Z");
	check_bad_stamp("0001-01-01T00:00:00+00:01");
	check_bad_stamp("9999-12-31T23:59:59.999999-00:01");
	check_bad_stamp("2023-02-29T00:00:00Z");
	check_bad_stamp("1900-02-29T00:00:00Z");
	check_bad_stamp("2024-02-30T00:00:00Z");
	check_bad_stamp("2026-04-31T00:00:00Z");
	check_bad_stamp("2026-13-01T00:00:00Z");
	check_bad_stamp("2026-00-01T00:00:00Z");
	check_bad_stamp("2026-01-00T00:00:00Z");
	check_bad_stamp("2026-01-01T24:00:00Z");
	check_bad_stamp("2026-01-01T23:60:00Z");
	check_bad_stamp("2026-01-01T23:59:60Z");
	check_bad_stamp("2026-11-26T10:00:00");
	check_bad_stamp("2026-11-26T10:00:00.5");
	check_bad_stamp("2026-11-26T10:00:00+0100");
	check_bad_stamp("2026-11-26T10:00:00+01");
	check_bad_stamp("2026-11-26T10:00:00+24:00");
	check_bad_stamp("2026-11-26T10:00:00+01:60");
	check_bad_stamp("2026-11-26T10:00:00.Z");
	check_bad_stamp("2026-11-26T10:00:00.1234567Z");
	check_bad_stamp("2026-11-26T10:00Z");
	check_bad_stamp("2026-11-26X10:00:00Z");
	check_bad_stamp("2026-11-26T10:00:00ZZ");
	check_bad_stamp("2026-11-26T10:00:00Z ");
	check_bad_stamp("+2026-11-26T10:00:00Z");
	check_bad_stamp("2026-1-26T10:00:00Z");
	check_bad_stamp("");

	check_rejects(l, "{\"value\":1,\"at\":\"2026-11-26T10:00:00Z\"}", CRDT_ERR_SYNTAX, 0);
	check_rejects(l, "{\"value\":1}", CRDT_ERR_SYNTAX, 0);
	check_rejects(l, "{\"when\":\"2026-11-26T10:00:00Z\"}", CRDT_ERR_SYNTAX, 1);
	check_rejects(l, "{\"value\":1,\"value\":2,\"at\":\"2026-11-26T10:00:00Z\",\"replica\":\"r\"}",
				  CRDT_ERR_SYNTAX, 11);
	check_rejects(l, "{\"value\":01,\"at\":\"2026-11-26T10:00:00Z\",\"replica\":\"r\"}", CRDT_ERR_SYNTAX, 9);
	check_rejects(l, "{\"value\":,\"at\":\"2026-11-26T10:00:00Z\",\"replica\":\"r\"}", CRDT_ERR_SYNTAX, 9);
	check_rejects(l, "{\"value\":1,\"at\":2026,\"replica\":\"r\"}", CRDT_ERR_SYNTAX, 16);
	check_rejects(l, "{\"value\":1,\"at\":\"2026-11-26T10:00:00Z\",\"replica\":\"\"}", CRDT_ERR_SYNTAX, 49);
	check_rejects(l, "{\"value\":1,\"at\":\"2026-11-26T10:00:00Z\",\"replica\":\"a\\u007f\"}",
				  CRDT_ERR_SYNTAX, 49);
	check_rejects(l, "{\"value\":1,\"at\":\"2026-11-26T10:00:00Z\",\"replica\":\"r\"", CRDT_ERR_SYNTAX, 52);
	check_rejects(l, "[]", CRDT_ERR_SYNTAX, 0);
	check_rejects(l, "{\"value\":\"\xff\",\"at\":\"2026-11-26T10:00:00Z\",\"replica\":\"r\"}",
				  CRDT_ERR_SYNTAX, 9);
	check_rejects(l, "{\"value\":[\"\xED\xA0\x80\"],\"at\":\"2026-11-26T10:00:00Z\",\"replica\":\"r\"}",
				  CRDT_ERR_SYNTAX, 9);

	/* every instant prints and parses back, and the calendar agrees */
	check_format_time(CRDT_LWW_MIN_AT);
	check_format_time(CRDT_LWW_MAX_AT);
	check_format_time(0);
	check_format_time(-1);
	for (long i = 0; i < unit_cases_div(50); i++)
		check_format_time(CRDT_LWW_MIN_AT +
						  (int64_t) rng_below(&rng, (uint64_t) (CRDT_LWW_MAX_AT - CRDT_LWW_MIN_AT) + 1));
}

/* ------------------------------------------------------------ operations */

/* The value after an operation is its result, which must print as want. */
static void
op_done(const CrdtType *t, CrdtBuf *v, CrdtBuf *tmp, CrdtStatus st, const CrdtError *err,
		const char *want)
{
	if (CHECK_OK(st, err))
	{
		buf_take(v, tmp);
		check_prints(t, buf_slice(v), want);
	}
	buf_reset(tmp);
}

static void
set_op(CrdtSetKind kind, bool add, CrdtBuf *v, const char *e, const char *want)
{
	const CrdtType *t = kind == CRDT_GSET ? &crdt_type_gset : &crdt_type_twopset;
	CrdtBuf		tmp;
	CrdtError	err;
	CrdtStatus	st;

	buf_open(&tmp);
	st = add ? crdt_set_add(kind, buf_slice(v), (const uint8_t *) e, strlen(e), &tmp, &err)
		: crdt_set_remove(kind, buf_slice(v), (const uint8_t *) e, strlen(e), &tmp, &err);
	op_done(t, v, &tmp, st, &err, want);
	crdt_buf_free(&tmp);
}

static void
orset_op(CrdtBuf *v, bool add, const char *e, const char *replica, const char *want)
{
	CrdtBuf		tmp;
	CrdtError	err;
	CrdtStatus	st;

	buf_open(&tmp);
	st = add ? crdt_orset_add(buf_slice(v), (const uint8_t *) e, strlen(e),
							  (const uint8_t *) replica, strlen(replica), &tmp, &err)
		: crdt_orset_remove(buf_slice(v), (const uint8_t *) e, strlen(e), &tmp, &err);
	op_done(&crdt_type_orset, v, &tmp, st, &err, want);
	crdt_buf_free(&tmp);
}

static void
mvreg_op(CrdtBuf *v, const char *json, const char *replica, const char *want)
{
	CrdtBuf		tmp;
	CrdtError	err;

	buf_open(&tmp);
	op_done(&crdt_type_mvreg, v, &tmp,
			crdt_mvreg_set(buf_slice(v), (const uint8_t *) json, strlen(json),
						   (const uint8_t *) replica, strlen(replica), &tmp, &err), &err, want);
	crdt_buf_free(&tmp);
}

static void
lww_op(CrdtBuf *v, int64_t at, const char *replica, const char *json, const char *want)
{
	CrdtBuf		tmp;
	CrdtError	err;

	buf_open(&tmp);
	op_done(&crdt_type_lwwreg, v, &tmp,
			crdt_lww_set(buf_slice(v), at, (const uint8_t *) replica, strlen(replica),
						 (const uint8_t *) json, strlen(json), &tmp, &err), &err, want);
	crdt_buf_free(&tmp);
}

/* The present keys of a dotted value, joined by '|'. */
static void
check_keys(CrdtDottedKind kind, CrdtSlice v, const char *want)
{
	CrdtDottedKeys it;
	CrdtBuf		got;
	CrdtError	err;
	const uint8_t *key;
	size_t		len;
	int			rc;

	buf_open(&got);
	if (CHECK_OK(crdt_dotted_keys_init(&it, kind, v, &err), &err))
	{
		while ((rc = crdt_dotted_keys_next(&it, &key, &len, &err)) > 0)
		{
			if (got.len > 0)
				crdt_buf_put_byte(&got, '|');
			crdt_buf_put(&got, key, len);
		}
		CHECK_EQ_INT(rc, 0);
		CHECK_EQ_TEXT(got.data, got.len, want);
	}
	crdt_buf_free(&got);
}

static void
sets_ops(void)
{
	CrdtBuf		v;
	CrdtBuf		tmp;
	CrdtBuf		in;
	CrdtError	err;
	bool		found = true;
	size_t		count = 99;

	crdt_bufs_init(&crdt_malloc_allocator, &v, &tmp, &in, NULL);

	/* gset: adding again changes nothing; removing is not an operation */
	crdt_type_gset.write_empty(&v);
	set_op(CRDT_GSET, true, &v, "b", "[\"b\"]");
	set_op(CRDT_GSET, true, &v, "a", "[\"a\",\"b\"]");
	set_op(CRDT_GSET, true, &v, "a", "[\"a\",\"b\"]");
	CHECK_ERR(crdt_set_remove(CRDT_GSET, buf_slice(&v), (const uint8_t *) "a", 1, &tmp, &err),
			  &err, CRDT_ERR_ARGUMENT, -1);
	CHECK_OK(crdt_set_contains(CRDT_GSET, buf_slice(&v), (const uint8_t *) "a", 1, &found, &err), &err);
	CHECK(found);
	CHECK_OK(crdt_set_contains(CRDT_GSET, buf_slice(&v), (const uint8_t *) "ab", 2, &found, &err), &err);
	CHECK(!found);
	CHECK_OK(crdt_set_cardinality(CRDT_GSET, buf_slice(&v), &count, &err), &err);
	CHECK_EQ_UINT(count, 2);

	/* twopset: a removed element stays removed; removing the absent is a no-op */
	buf_reset(&v);
	crdt_type_twopset.write_empty(&v);
	set_op(CRDT_TWOPSET, false, &v, "a", "{}");
	set_op(CRDT_TWOPSET, true, &v, "a", "{\"elements\":[\"a\"]}");
	set_op(CRDT_TWOPSET, true, &v, "b", "{\"elements\":[\"a\",\"b\"]}");
	set_op(CRDT_TWOPSET, false, &v, "a", "{\"elements\":[\"b\"],\"removed\":[\"a\"]}");
	set_op(CRDT_TWOPSET, true, &v, "a", "{\"elements\":[\"b\"],\"removed\":[\"a\"]}");
	set_op(CRDT_TWOPSET, false, &v, "c", "{\"elements\":[\"b\"],\"removed\":[\"a\"]}");
	set_op(CRDT_TWOPSET, false, &v, "a", "{\"elements\":[\"b\"],\"removed\":[\"a\"]}");
	CHECK_OK(crdt_set_contains(CRDT_TWOPSET, buf_slice(&v), (const uint8_t *) "a", 1, &found, &err), &err);
	CHECK(!found);
	CHECK_OK(crdt_set_cardinality(CRDT_TWOPSET, buf_slice(&v), &count, &err), &err);
	CHECK_EQ_UINT(count, 1);

	/* bad elements are bad arguments */
	for (int kind = CRDT_GSET; kind <= CRDT_TWOPSET; kind++)
	{
		CrdtSetKind k = (CrdtSetKind) kind;

		repeated(&in, "", "x", CRDT_ELEMENT_MAX + 1, "");
		CHECK_ERR(crdt_set_add(k, buf_slice(&v), in.data, in.len - 1, &tmp, &err), &err,
				  CRDT_ERR_ARGUMENT, -1);
		CHECK_ERR(crdt_set_add(k, buf_slice(&v), (const uint8_t *) "a\0b", 3, &tmp, &err), &err,
				  CRDT_ERR_ARGUMENT, -1);
		CHECK_ERR(crdt_set_add(k, buf_slice(&v), (const uint8_t *) "\xC3", 1, &tmp, &err), &err,
				  CRDT_ERR_ARGUMENT, -1);
		buf_reset(&v);
		(k == CRDT_GSET ? &crdt_type_gset : &crdt_type_twopset)->write_empty(&v);
		buf_reset(&tmp);
		CHECK_OK(crdt_set_add(k, buf_slice(&v), in.data, in.len - 2, &tmp, &err), &err);
		buf_reset(&tmp);
	}
	crdt_bufs_free(&v, &tmp, &in, NULL);
}

static void
dotted_ops(void)
{
	CrdtBuf		v;
	CrdtBuf		w;
	CrdtBuf		tmp;
	CrdtBuf		in;
	CrdtError	err;

	crdt_bufs_init(&crdt_malloc_allocator, &v, &w, &tmp, &in, NULL);

	/* orset: a new dot per add, older dots of the element dropped, removes keep the context */
	buf_reset(&v);
	crdt_type_orset.write_empty(&v);
	orset_op(&v, false, "x", NULL, "{}");
	orset_op(&v, true, "milk", "alice", "{\"elements\":{\"milk\":[[\"alice\",1]]},\"context\":{\"alice\":1}}");
	orset_op(&v, true, "eggs", "alice",
			 "{\"elements\":{\"eggs\":[[\"alice\",2]],\"milk\":[[\"alice\",1]]},\"context\":{\"alice\":2}}");
	check_bytes(&crdt_type_orset, "{\"elements\":{\"eggs\":[[\"alice\",2]],\"milk\":[[\"alice\",1]]},"
				"\"context\":{\"alice\":2}}",
				"01 06 00 'alice' 01 00 01 00 05 00 'eggs' 01 00 02 05 00 'milk' 01 00 01 00");
	orset_op(&v, true, "milk", "alice",
			 "{\"elements\":{\"eggs\":[[\"alice\",2]],\"milk\":[[\"alice\",3]]},\"context\":{\"alice\":3}}");
	orset_op(&v, true, "milk", "bob",
			 "{\"elements\":{\"eggs\":[[\"alice\",2]],\"milk\":[[\"bob\",1]]},\"context\":{\"alice\":3,\"bob\":1}}");
	orset_op(&v, false, "eggs", NULL, "{\"elements\":{\"milk\":[[\"bob\",1]]},\"context\":{\"alice\":3,\"bob\":1}}");
	check_keys(CRDT_ORSET, buf_slice(&v), "milk");
	/* removing what is absent returns the same bytes */
	buf_reset(&w);
	crdt_buf_put(&w, v.data, v.len);
	orset_op(&v, false, "eggs", NULL, "{\"elements\":{\"milk\":[[\"bob\",1]]},\"context\":{\"alice\":3,\"bob\":1}}");
	CHECK_EQ_BYTES(buf_slice(&v), buf_slice(&w));
	orset_op(&v, false, "milk", NULL, "{\"context\":{\"alice\":3,\"bob\":1}}");
	check_keys(CRDT_ORSET, buf_slice(&v), "");

	/* the new counter is one past the highest seen, gaps or not */
	value_of(&crdt_type_orset, "{\"elements\":{\"x\":[[\"s\",1]]},\"context\":{\"r\":[[1,1],[5,5]],\"s\":1}}", &v);
	orset_op(&v, true, "x", "r",
			 "{\"elements\":{\"x\":[[\"r\",6]]},\"context\":{\"r\":[[1,1],[5,6]],\"s\":1}}");
	orset_op(&v, true, "y", "s",
			 "{\"elements\":{\"x\":[[\"r\",6]],\"y\":[[\"s\",2]]},\"context\":{\"r\":[[1,1],[5,6]],\"s\":2}}");
	check_keys(CRDT_ORSET, buf_slice(&v), "x|y");

	/* concurrent adds both stay; a remove drops what it saw only */
	value_of(&crdt_type_orset, "{\"elements\":{\"x\":[[\"a\",1],[\"b\",1]]},\"context\":{\"a\":1,\"b\":1}}", &v);
	value_of(&crdt_type_orset, "{\"elements\":{\"x\":[[\"c\",4]]},\"context\":{\"a\":1,\"c\":4}}", &w);
	orset_op(&v, false, "x", NULL, "{\"context\":{\"a\":1,\"b\":1}}");
	buf_reset(&tmp);
	if (CHECK_OK(crdt_dotted_merge(CRDT_ORSET, buf_slice(&v), buf_slice(&w), &tmp, &err), &err))
		check_prints(&crdt_type_orset, buf_slice(&tmp),
					 "{\"elements\":{\"x\":[[\"c\",4]]},\"context\":{\"a\":1,\"b\":1,\"c\":4}}");

	/* the last counter there is */
	value_of(&crdt_type_orset, "{\"context\":{\"r\":9223372036854775807}}", &v);
	buf_reset(&tmp);
	CHECK_ERR(crdt_orset_add(buf_slice(&v), (const uint8_t *) "x", 1, (const uint8_t *) "r", 1, &tmp, &err),
			  &err, CRDT_ERR_OVERFLOW, -1);
	orset_op(&v, true, "x", "s", "{\"elements\":{\"x\":[[\"s\",1]]},\"context\":{\"r\":9223372036854775807,\"s\":1}}");
	value_of(&crdt_type_orset, "{\"context\":{\"r\":9223372036854775806}}", &v);
	orset_op(&v, true, "x", "r", "{\"elements\":{\"x\":[[\"r\",9223372036854775807]]},"
			 "\"context\":{\"r\":9223372036854775807}}");

	/* bad arguments */
	buf_reset(&tmp);
	repeated(&in, "", "x", CRDT_ELEMENT_MAX + 1, "");
	CHECK_ERR(crdt_orset_add(buf_slice(&v), in.data, in.len - 1, (const uint8_t *) "r", 1, &tmp, &err),
			  &err, CRDT_ERR_ARGUMENT, -1);
	CHECK_ERR(crdt_orset_remove(buf_slice(&v), in.data, in.len - 1, &tmp, &err), &err, CRDT_ERR_ARGUMENT, -1);
	CHECK_ERR(crdt_orset_add(buf_slice(&v), (const uint8_t *) "a\0", 2, (const uint8_t *) "r", 1, &tmp, &err),
			  &err, CRDT_ERR_ARGUMENT, -1);
	CHECK_ERR(crdt_orset_add(buf_slice(&v), (const uint8_t *) "a", 1, (const uint8_t *) "", 0, &tmp, &err),
			  &err, CRDT_ERR_ARGUMENT, -1);
	CHECK_ERR(crdt_orset_add(buf_slice(&v), (const uint8_t *) "a", 1, (const uint8_t *) "r\n", 2, &tmp, &err),
			  &err, CRDT_ERR_ARGUMENT, -1);
	CHECK_ERR(crdt_orset_add(buf_slice(&v), (const uint8_t *) "a", 1, in.data, CRDT_REPLICA_ID_MAX + 1,
							 &tmp, &err), &err, CRDT_ERR_ARGUMENT, -1);
	CHECK_EQ_UINT(tmp.len, 0);

	/* mvreg: a write replaces every value it has seen, not the concurrent ones */
	buf_reset(&v);
	crdt_type_mvreg.write_empty(&v);
	mvreg_op(&v, "1", "r", "{\"values\":[{\"value\":1,\"dots\":[[\"r\",1]]}],\"context\":{\"r\":1}}");
	mvreg_op(&v, "1", "r", "{\"values\":[{\"value\":1,\"dots\":[[\"r\",2]]}],\"context\":{\"r\":2}}");
	value_of(&crdt_type_mvreg, "{\"values\":[{\"value\":\"s\",\"dots\":[[\"s\",1]]}],\"context\":{\"s\":1}}", &w);
	buf_reset(&tmp);
	if (CHECK_OK(crdt_dotted_merge(CRDT_MVREG, buf_slice(&v), buf_slice(&w), &tmp, &err), &err))
	{
		buf_take(&v, &tmp);
		check_prints(&crdt_type_mvreg, buf_slice(&v),
					 "{\"values\":[{\"value\":\"s\",\"dots\":[[\"s\",1]]},{\"value\":1,\"dots\":[[\"r\",2]]}],"
					 "\"context\":{\"r\":2,\"s\":1}}");
		check_keys(CRDT_MVREG, buf_slice(&v), "\"s\"|1");
	}
	mvreg_op(&v, "{\"a\":[1,2]}", "s", "{\"values\":[{\"value\":{\"a\":[1,2]},\"dots\":[[\"s\",2]]}],"
			 "\"context\":{\"r\":2,\"s\":2}}");
	check_keys(CRDT_MVREG, buf_slice(&v), "{\"a\":[1,2]}");
	value_of(&crdt_type_mvreg, "{\"context\":{\"r\":9223372036854775807}}", &v);
	buf_reset(&tmp);
	CHECK_ERR(crdt_mvreg_set(buf_slice(&v), (const uint8_t *) "1", 1, (const uint8_t *) "r", 1, &tmp, &err),
			  &err, CRDT_ERR_OVERFLOW, -1);
	/* only canonical JSON, and valid replica ids */
	CHECK_ERR(crdt_mvreg_set(buf_slice(&v), (const uint8_t *) " 1", 2, (const uint8_t *) "r", 1, &tmp, &err),
			  &err, CRDT_ERR_ARGUMENT, -1);
	CHECK_ERR(crdt_mvreg_set(buf_slice(&v), (const uint8_t *) "tru", 3, (const uint8_t *) "r", 1, &tmp, &err),
			  &err, CRDT_ERR_ARGUMENT, -1);
	CHECK_ERR(crdt_mvreg_set(buf_slice(&v), (const uint8_t *) "\"\xff\"", 3, (const uint8_t *) "r", 1, &tmp,
							 &err), &err, CRDT_ERR_ARGUMENT, -1);
	CHECK_ERR(crdt_mvreg_set(buf_slice(&v), (const uint8_t *) "", 0, (const uint8_t *) "r", 1, &tmp, &err),
			  &err, CRDT_ERR_ARGUMENT, -1);
	CHECK_ERR(crdt_mvreg_set(buf_slice(&v), (const uint8_t *) "1", 1, (const uint8_t *) "", 0, &tmp, &err),
			  &err, CRDT_ERR_ARGUMENT, -1);
	CHECK_EQ_UINT(tmp.len, 0);

	crdt_bufs_free(&v, &w, &tmp, &in, NULL);
}

static void
lww_ops(void)
{
	const char *at2026 = "\"at\":\"2026-11-26T10:00:00.000000Z\"";
	int64_t		t = INT64_C(849002400000000);
	CrdtBuf		v;
	CrdtBuf		tmp;
	CrdtBuf		want;
	CrdtError	err;

	crdt_bufs_init(&crdt_malloc_allocator, &v, &tmp, &want, NULL);
	crdt_type_lwwreg.write_empty(&v);
	lww_op(&v, t, "b", "1", repeated(&want, "{\"value\":1,", at2026, 1, ",\"replica\":\"b\"}"));
	/* the same time: the greater replica id wins, then the greater value bytes */
	lww_op(&v, t, "a", "9", repeated(&want, "{\"value\":1,", at2026, 1, ",\"replica\":\"b\"}"));
	lww_op(&v, t, "b", "0", repeated(&want, "{\"value\":1,", at2026, 1, ",\"replica\":\"b\"}"));
	lww_op(&v, t, "b", "2", repeated(&want, "{\"value\":2,", at2026, 1, ",\"replica\":\"b\"}"));
	lww_op(&v, t, "ba", "0", repeated(&want, "{\"value\":0,", at2026, 1, ",\"replica\":\"ba\"}"));
	/* later wins whatever the rest; earlier loses */
	lww_op(&v, t + 1, "a", "null",
		   "{\"value\":null,\"at\":\"2026-11-26T10:00:00.000001Z\",\"replica\":\"a\"}");
	lww_op(&v, t, "z", "3", "{\"value\":null,\"at\":\"2026-11-26T10:00:00.000001Z\",\"replica\":\"a\"}");
	lww_op(&v, CRDT_LWW_MAX_AT, "a", "[]",
		   "{\"value\":[],\"at\":\"9999-12-31T23:59:59.999999Z\",\"replica\":\"a\"}");
	buf_reset(&v);
	crdt_type_lwwreg.write_empty(&v);
	lww_op(&v, CRDT_LWW_MIN_AT, "a", "{}", "{\"value\":{},\"at\":\"0001-01-01T00:00:00.000000Z\",\"replica\":\"a\"}");

	CHECK_ERR(crdt_lww_set(buf_slice(&v), CRDT_LWW_MIN_AT - 1, (const uint8_t *) "a", 1,
						   (const uint8_t *) "1", 1, &tmp, &err), &err, CRDT_ERR_ARGUMENT, -1);
	CHECK_ERR(crdt_lww_set(buf_slice(&v), CRDT_LWW_MAX_AT + 1, (const uint8_t *) "a", 1,
						   (const uint8_t *) "1", 1, &tmp, &err), &err, CRDT_ERR_ARGUMENT, -1);
	CHECK_ERR(crdt_lww_set(buf_slice(&v), 0, (const uint8_t *) "", 0, (const uint8_t *) "1", 1, &tmp, &err),
			  &err, CRDT_ERR_ARGUMENT, -1);
	CHECK_ERR(crdt_lww_set(buf_slice(&v), 0, (const uint8_t *) "a", 1, (const uint8_t *) "1 ", 2, &tmp, &err),
			  &err, CRDT_ERR_ARGUMENT, -1);
	CHECK_ERR(crdt_lww_set(buf_slice(&v), 0, (const uint8_t *) "a", 1, (const uint8_t *) "[", 1, &tmp, &err),
			  &err, CRDT_ERR_ARGUMENT, -1);
	CHECK_EQ_UINT(tmp.len, 0);
	crdt_bufs_free(&v, &tmp, &want, NULL);
}

/*
 * 200 replicas: replica indexes and dot counts past one varint byte.  The
 * orset has each element's dot from its last adder; the mvreg one value
 * written by all of them concurrently.
 */
#define WIDE_REPLICAS 200

static void
wide_ops(CrdtDottedKind kind)
{
	const CrdtType *t = kind == CRDT_ORSET ? &crdt_type_orset : &crdt_type_mvreg;
	CrdtBuf		v;
	CrdtBuf		half;
	CrdtBuf		one;
	CrdtBuf		tmp;
	CrdtBuf		text;
	CrdtDotLog	log;
	CrdtError	err;

	crdt_bufs_init(&crdt_malloc_allocator, &v, &half, &one, &tmp, &text, NULL);
	t->write_empty(&v);
	for (int i = 0; i < WIDE_REPLICAS; i++)
	{
		char		id[16];
		char		e[16];

		snprintf(id, sizeof(id), "r%03d", i);
		snprintf(e, sizeof(e), "e%d", i % 5);
		buf_reset(&one);
		t->write_empty(&one);
		buf_reset(&tmp);
		if (kind == CRDT_ORSET)
			CHECK_OK(crdt_orset_add(buf_slice(&v), (const uint8_t *) e, strlen(e),
									(const uint8_t *) id, strlen(id), &tmp, &err), &err);
		else if (CHECK_OK(crdt_mvreg_set(buf_slice(&one), (const uint8_t *) "1", 1,
										 (const uint8_t *) id, strlen(id), &tmp, &err), &err))
		{
			buf_take(&one, &tmp);
			CHECK_OK(crdt_dotted_merge(kind, buf_slice(&v), buf_slice(&one), &tmp, &err), &err);
		}
		buf_take(&v, &tmp);
		if (i == WIDE_REPLICAS / 2)
			crdt_buf_put(&half, v.data, v.len);
	}
	CHECK_OK(t->validate(buf_slice(&v), &err), &err);
	check_keys(kind, buf_slice(&v), kind == CRDT_ORSET ? "e0|e1|e2|e3|e4" : "1");
	if (CHECK_OK(t->print(buf_slice(&v), &text, &err), &err))
	{
		crdt_buf_put_byte(&text, 0);	/* the canonical form is a C string */
		check_form_into(t, (const char *) text.data, text.len - 1, (const char *) text.data, &tmp);
	}
	CHECK_EQ_BYTES(buf_slice(&tmp), buf_slice(&v));

	/* the delta from the halfway state brings the rest, and the log agrees */
	buf_reset(&one);
	buf_reset(&tmp);
	if (CHECK_OK(crdt_dotted_delta(kind, buf_slice(&v), buf_slice(&half), &one, &err), &err) &&
		CHECK_OK(crdt_dotted_merge(kind, buf_slice(&half), buf_slice(&one), &tmp, &err), &err))
		CHECK_EQ_BYTES(buf_slice(&tmp), buf_slice(&v));
	if (CHECK_OK(crdt_dotlog_init(&log, kind, &crdt_malloc_allocator, &err), &err))
	{
		buf_reset(&tmp);
		CHECK_OK(crdt_dotlog_absorb(&log, buf_slice(&half), &err), &err);
		CHECK_OK(crdt_dotlog_absorb(&log, buf_slice(&one), &err), &err);
		if (CHECK_OK(crdt_dotlog_write(&log, &tmp, &err), &err))
			CHECK_EQ_BYTES(buf_slice(&tmp), buf_slice(&v));
		crdt_dotlog_free(&log);
	}
	crdt_bufs_free(&v, &half, &one, &tmp, &text, NULL);
}

void
test_sets_ops(void)
{
	sets_ops();
	dotted_ops();
	lww_ops();
	wide_ops(CRDT_ORSET);
	wide_ops(CRDT_MVREG);
}

/* ------------------------------------------------------------ hostile input */

static const CrdtType *const set_types[] = {
	&crdt_type_gset, &crdt_type_twopset, &crdt_type_orset, &crdt_type_mvreg, &crdt_type_lwwreg,
};

#define SET_TYPES ((int) (sizeof(set_types) / sizeof(set_types[0])))

typedef struct SetsHostile
{
	const CrdtType *type;		/* of the value that was corrupted */
	CrdtSlice	good;			/* a valid value of that type */
	CrdtBuf		out;
	CrdtBuf		again;
} SetsHostile;

static bool
rejected(CrdtStatus st)
{
	return st == CRDT_ERR_BINARY || st == CRDT_ERR_TOO_LARGE;
}

/* Accepted bytes are the one canonical form of their state: print, parse, same bytes. */
static void
hostile_canonical(SetsHostile *h, const CrdtType *t, CrdtSlice bad)
{
	CrdtError	err;

	buf_reset(&h->out);
	buf_reset(&h->again);
	if (!CHECK_OK(t->print(bad, &h->out, &err), &err) ||
		!CHECK_OK(t->parse((const char *) h->out.data, h->out.len, &h->again, &err), &err) ||
		!CHECK_EQ_BYTES(buf_slice(&h->again), bad))
		unit_note("accepted as %s: [%s], printed %s", t->name, show_hex(bad),
				  show_text((const char *) h->out.data, h->out.len));
}

/*
 * An operation on bad input fails as malformed or succeeds; when bad was
 * valid it must succeed with a valid result.  (ASan watches the reads.)
 */
static void
hostile_op(SetsHostile *h, const char *what, CrdtStatus st, bool valid, bool gives_value,
		   CrdtSlice bad)
{
	CrdtError	err;

	if (!CHECK_MSG(valid ? st == CRDT_OK : st == CRDT_OK || rejected(st),
				   "%s %s on a%s value gives %s", h->type->name, what,
				   valid ? " valid" : "n invalid", unit_status_name(st)))
		unit_note("[%s]", show_hex(bad));
	else if (valid && gives_value &&
			 !CHECK_OK(h->type->validate(buf_slice(&h->out), &err), &err))
		unit_note("%s of [%s] and %s", what, show_hex(bad), show_typed(h->type, h->good));
	buf_reset(&h->out);
}

static void
sets_hostile_visit(void *arg, CrdtSlice bad)
{
	SetsHostile *h = arg;
	const CrdtType *t = h->type;
	CrdtError	err;
	bool		valid = false;
	int			order;

	/* under every type's rules, not only its own */
	for (int k = 0; k < SET_TYPES; k++)
	{
		CrdtStatus	st = set_types[k]->validate(bad, &err);

		if (st == CRDT_OK)
			hostile_canonical(h, set_types[k], bad);
		else if (!CHECK_MSG(rejected(st), "%s validate gives %s", set_types[k]->name,
							unit_status_name(st)))
			unit_note("[%s]", show_hex(bad));
		if (set_types[k] == t)
			valid = st == CRDT_OK;
	}
	buf_reset(&h->out);
	hostile_op(h, "merge(bad, good)", t->merge(bad, h->good, &h->out, &err), valid, true, bad);
	hostile_op(h, "merge(good, bad)", t->merge(h->good, bad, &h->out, &err), valid, true, bad);
	hostile_op(h, "delta(bad, good)", t->delta(bad, h->good, &h->out, &err), valid, true, bad);
	hostile_op(h, "delta(good, bad)", t->delta(h->good, bad, &h->out, &err), valid, true, bad);
	hostile_op(h, "print", t->print(bad, &h->out, &err), valid, false, bad);
	hostile_op(h, "compare", t->compare(bad, h->good, &order, &err), valid, false, bad);
}

void
test_sets_hostile(void)
{
	uint64_t	stream = rng_stream("sets hostile");

	for (int k = 0; k < SET_TYPES; k++)
	{
		SetsHostile h;
		World		w;
		CrdtBuf		value;
		CrdtBuf		good;

		h.type = set_types[k];
		crdt_bufs_init(&crdt_malloc_allocator, &h.out, &h.again, &value, &good, NULL);
		world_open(&w, h.type);
		w.short_items = true;
		for (long i = 0; i < unit_cases_div(2000); i++)
		{
			Rng			rng = rng_for_case(stream + (uint64_t) k, (uint64_t) i);
			int			steps = (int) rng_below(&rng, 12);

			world_reset(&w, &rng);
			for (int s = 0; s < steps; s++)
				world_step(&w, &rng);
			world_pick(&w, &rng, &good);
			h.good = buf_slice(&good);
			/* small values: every bit of them is flipped */
			do
				world_pick(&w, &rng, &value);
			while (value.len > 96);
			hostile_each(buf_slice(&value), &rng, 150, sets_hostile_visit, &h);
		}
		world_close(&w);
		crdt_bufs_free(&h.out, &h.again, &value, &good, NULL);
	}
}

/* ------------------------------------------------------------ aggregates */

#define AGG_MAX_VALUES 40

/* Values of one run, some repeated, absorbed in a random order; fold is their merge. */
typedef struct AggCase
{
	const CrdtType *type;
	long		index;
	World		world;
	CrdtBuf		values[AGG_MAX_VALUES];
	size_t		n;
	size_t		order[AGG_MAX_VALUES];
	CrdtBuf		fold;
	CrdtBuf		tmp;
	CrdtBuf		out;
} AggCase;

static void
agg_open(AggCase *a, const CrdtType *type)
{
	a->type = type;
	world_open(&a->world, type);
	a->world.short_items = true;
	for (size_t k = 0; k < AGG_MAX_VALUES; k++)
		buf_open(&a->values[k]);
	crdt_bufs_init(&crdt_malloc_allocator, &a->fold, &a->tmp, &a->out, NULL);
}

static void
agg_close(AggCase *a)
{
	world_close(&a->world);
	for (size_t k = 0; k < AGG_MAX_VALUES; k++)
		crdt_buf_free(&a->values[k]);
	crdt_bufs_free(&a->fold, &a->tmp, &a->out, NULL);
}

static void
agg_make(AggCase *a, Rng *rng, long index)
{
	CrdtError	err;

	a->index = index;
	a->n = 1 + (size_t) rng_below(rng, AGG_MAX_VALUES);
	world_reset(&a->world, rng);
	for (size_t k = 0; k < a->n; k++)
	{
		if (k > 0 && rng_percent(rng, 15))
		{
			CrdtBuf    *earlier = &a->values[rng_below(rng, k)];

			buf_reset(&a->values[k]);
			crdt_buf_put(&a->values[k], earlier->data, earlier->len);
		}
		else
		{
			for (int s = (int) rng_below(rng, 4); s > 0; s--)
				world_step(&a->world, rng);
			world_pick(&a->world, rng, &a->values[k]);
		}
		a->order[k] = k;
	}
	rng_shuffle(rng, a->order, a->n, sizeof(a->order[0]));

	/* the fold goes in the order the values were made, the aggregates another */
	buf_reset(&a->fold);
	a->type->write_empty(&a->fold);
	for (size_t k = 0; k < a->n; k++)
	{
		buf_reset(&a->tmp);
		if (CHECK_OK(a->type->merge(buf_slice(&a->fold), buf_slice(&a->values[k]), &a->tmp, &err), &err))
			buf_take(&a->fold, &a->tmp);
	}
}

/* got (the aggregate's output) is the fold; false, with the inputs shown, if not */
static bool
agg_check(AggCase *a, CrdtSlice got, const char *what)
{
	if (CHECK_EQ_BYTES(got, buf_slice(&a->fold)))
		return true;
	unit_note("%s aggregate, %s: case %ld (CRDT_TEST_SEED=%llu), %zu values in absorb order:",
			  a->type->name, what, a->index, (unsigned long long) unit_run.seed, a->n);
	unit_note("got  %s", show_typed(a->type, got));
	unit_note("fold %s", show_typed(a->type, buf_slice(&a->fold)));
	for (size_t k = 0; k < a->n; k++)
		unit_note("  %s", show_typed(a->type, buf_slice(&a->values[a->order[k]])));
	return false;
}

/*
 * An aggregate state driven as the glue drives it: rows absorbed, partial
 * states combined (as parallel workers do) or written and absorbed again
 * (serialize, deserialize), the final write.  CrdtSetRuns (gset, twopset)
 * and CrdtDotLog (orset, mvreg) alike; a dot log has no combine of its
 * own, so partial logs meet through the written value.
 */
typedef struct AggState
{
	bool		dotted;			/* log, else runs */
	CrdtSetRuns runs;
	CrdtDotLog	log;
} AggState;

static void
state_open(AggState *s, bool dotted, int kind)
{
	CrdtError	err;

	s->dotted = dotted;
	if (!dotted)
		crdt_setruns_init(&s->runs, (CrdtSetKind) kind, &crdt_malloc_allocator);
	else if (!CHECK_OK(crdt_dotlog_init(&s->log, (CrdtDottedKind) kind, &crdt_malloc_allocator, &err), &err))
		abort();
}

static void
state_close(AggState *s)
{
	if (s->dotted)
		crdt_dotlog_free(&s->log);
	else
		crdt_setruns_free(&s->runs);
}

static CrdtStatus
state_put(AggState *s, CrdtSlice value, CrdtError *err)
{
	return s->dotted ? crdt_dotlog_absorb(&s->log, value, err) : crdt_setruns_absorb(&s->runs, value, err);
}

static CrdtStatus
state_write(const AggState *s, CrdtBuf *out, CrdtError *err)
{
	return s->dotted ? crdt_dotlog_write(&s->log, out, err) : crdt_setruns_write(&s->runs, out, err);
}

static void
state_absorb(AggCase *a, AggState *state, size_t from, size_t to)
{
	CrdtError	err;

	for (size_t k = from; k < to; k++)
		CHECK_OK(state_put(state, buf_slice(&a->values[a->order[k]]), &err), &err);
}

static bool
state_check(AggCase *a, const AggState *state, const char *what)
{
	CrdtError	err;

	buf_reset(&a->out);
	return CHECK_OK(state_write(state, &a->out, &err), &err) &&
		agg_check(a, buf_slice(&a->out), what);
}

static bool
state_combine(AggCase *a, AggState *state, const AggState *src)
{
	CrdtError	err;

	if (!state->dotted)
		return CHECK_OK(crdt_setruns_absorb_runs(&state->runs, &src->runs, &err), &err);
	buf_reset(&a->tmp);
	return CHECK_OK(state_write(src, &a->tmp, &err), &err) &&
		CHECK_OK(state_put(state, buf_slice(&a->tmp), &err), &err);
}

static void
state_case(AggCase *a, bool dotted, int kind, Rng *rng)
{
	AggState	whole;
	AggState	left;
	AggState	right;
	AggState	restored;
	CrdtError	err;
	size_t		split = (size_t) rng_below(rng, a->n + 1);

	state_open(&whole, dotted, kind);
	state_open(&left, dotted, kind);
	state_open(&right, dotted, kind);
	state_open(&restored, dotted, kind);
	state_absorb(a, &whole, 0, a->n);
	if (state_check(a, &whole, "absorb all"))
		state_check(a, &whole, "write again");
	/* everything again changes nothing */
	state_absorb(a, &whole, 0, a->n);
	state_check(a, &whole, "absorb twice");

	/* partial states combined either way round */
	state_absorb(a, &left, 0, split);
	state_absorb(a, &right, split, a->n);
	if (state_combine(a, &left, &right))
		state_check(a, &left, "combine left");
	if (state_combine(a, &right, &left))
		state_check(a, &right, "combine right");

	/* a written state read back, combined with the rest */
	buf_reset(&a->tmp);
	if (CHECK_OK(state_write(&left, &a->tmp, &err), &err) &&
		CHECK_OK(state_put(&restored, buf_slice(&a->tmp), &err), &err))
	{
		state_check(a, &restored, "serialize");
		if (state_combine(a, &restored, &whole))
			state_check(a, &restored, "serialize, combine");
	}
	state_close(&whole);
	state_close(&left);
	state_close(&right);
	state_close(&restored);
}

/* random cases for the kinds first..last, whose types are types[] */
static void
state_test(const char *name, bool dotted, int first, int last, const CrdtType *const *types)
{
	uint64_t	stream = rng_stream(name);

	for (int kind = first; kind <= last; kind++)
	{
		AggCase		a;
		AggState	empty;

		agg_open(&a, types[kind - first]);
		/* nothing absorbed: the empty value */
		a.n = 0;
		a.index = -1;
		buf_reset(&a.fold);
		a.type->write_empty(&a.fold);
		state_open(&empty, dotted, kind);
		state_check(&a, &empty, "empty");
		state_close(&empty);

		for (long i = 0; i < unit_cases_div(100); i++)
		{
			Rng			rng = rng_for_case(stream + (uint64_t) kind, (uint64_t) i);

			agg_make(&a, &rng, i);
			state_case(&a, dotted, kind, &rng);
		}
		agg_close(&a);
	}
}

void
test_sets_runs(void)
{
	static const CrdtType *const types[] = {&crdt_type_gset, &crdt_type_twopset};

	state_test("sets runs", false, CRDT_GSET, CRDT_TWOPSET, types);
}

/*
 * Many rows of long elements, until the runs have passed the early-merge
 * size (4 MB now) and been merged early twice; rows after that (repeats
 * too) must merge as before.  What the rows add and remove is kept as bit
 * sets over the element numbers, and the expected value is built from
 * them at each check.
 */
#define GROWTH_ELEMENTS 400
#define GROWTH_EARLY 2
#define GROWTH_MAX_ROWS 20000

/* Element n: shared prefixes for front coding, lengths up to the limit. */
static void
growth_element(size_t n, CrdtBuf *e)
{
	char		head[16];

	buf_reset(e);
	snprintf(head, sizeof(head), "e%03zu-", n);
	crdt_buf_put_str(e, head);
	for (size_t k = 5; k < (n * 37) % CRDT_ELEMENT_MAX; k++)
		crdt_buf_put_byte(e, (uint8_t) ('a' + (k * n) % 26));
}

/* fold = the set with the added elements, minus the removed ones (twopset) */
static void
growth_expected(AggCase *a, CrdtSetKind kind, const bool *added, const bool *removed,
				CrdtBuf *e)
{
	CrdtError	err;

	buf_reset(&a->fold);
	a->type->write_empty(&a->fold);
	for (int pass = 0; pass < 2; pass++)
		for (size_t n = 0; n < GROWTH_ELEMENTS; n++)
		{
			if (!(pass == 0 ? added[n] : removed[n]))
				continue;
			growth_element(n, e);
			buf_reset(&a->tmp);
			if (pass == 0 ? CHECK_OK(crdt_set_add(kind, buf_slice(&a->fold), e->data, e->len,
												  &a->tmp, &err), &err)
				: CHECK_OK(crdt_set_remove(kind, buf_slice(&a->fold), e->data, e->len,
										   &a->tmp, &err), &err))
				buf_take(&a->fold, &a->tmp);
		}
}

void
test_sets_runs_growth(void)
{
	for (int kind = CRDT_GSET; kind <= CRDT_TWOPSET; kind++)
	{
		Rng			rng = rng_for_case(rng_stream("sets runs growth"), (uint64_t) kind);
		AggCase		a;
		AggState	st;
		CrdtBuf		e;
		CrdtError	err;
		bool		added[GROWTH_ELEMENTS] = {false};
		bool		removed[GROWTH_ELEMENTS] = {false};
		size_t		early = 0;
		size_t		last = 0;
		long		failures = unit_run.failures;

		agg_open(&a, kind == CRDT_GSET ? &crdt_type_gset : &crdt_type_twopset);
		buf_open(&e);
		state_open(&st, false, kind);
		a.index = kind;
		a.n = 1;
		a.order[0] = 0;
		for (int row = 1; early < GROWTH_EARLY && row <= GROWTH_MAX_ROWS &&
			 unit_run.failures == failures; row++)
		{
			CrdtBuf    *v = &a.values[0];

			/* a row: 1..4 operations on the empty set; a remove undoes an add before it */
			buf_reset(v);
			a.type->write_empty(v);
			for (int k = (int) rng_below(&rng, 4); k >= 0; k--)
			{
				size_t		n = (size_t) rng_below(&rng, GROWTH_ELEMENTS);
				bool		add = kind == CRDT_GSET || k > 0 || rng_percent(&rng, 50);
				bool		present = false;

				growth_element(n, &e);
				CHECK_OK(crdt_set_contains((CrdtSetKind) kind, buf_slice(v), e.data, e.len,
										   &present, &err), &err);
				buf_reset(&a.tmp);
				if (add ? CHECK_OK(crdt_set_add((CrdtSetKind) kind, buf_slice(v), e.data, e.len,
												 &a.tmp, &err), &err)
					: CHECK_OK(crdt_set_remove((CrdtSetKind) kind, buf_slice(v), e.data, e.len,
												&a.tmp, &err), &err))
					buf_take(v, &a.tmp);
				added[n] |= add;
				removed[n] |= !add && present;
			}
			/* absorbing appends: the runs shrink only when merged early */
			last = st.runs.lists[0].len + st.runs.lists[1].len;
			CHECK_OK(crdt_setruns_absorb(&st.runs, buf_slice(v), &err), &err);
			if (st.runs.lists[0].len + st.runs.lists[1].len < last)
			{
				early++;
				growth_expected(&a, (CrdtSetKind) kind, added, removed, &e);
				state_check(&a, &st, "right after an early merge");
			}
		}
		CHECK_MSG(early >= GROWTH_EARLY, "%s: the runs were merged early %zu times",
				  a.type->name, early);
		growth_expected(&a, (CrdtSetKind) kind, added, removed, &e);
		state_check(&a, &st, "end of many rows");
		state_close(&st);
		crdt_buf_free(&e);
		agg_close(&a);
	}
}

/*
 * CrdtKeySet, for the text[] -> gset cast: elements put in any order with
 * repeats (tag 1: removed) write the merge of one-element sets.
 */
void
test_sets_keyset(void)
{
	uint64_t	stream = rng_stream("sets keyset");
	CrdtBuf		one;
	CrdtBuf		fold;
	CrdtBuf		tmp;
	CrdtBuf		out;

	crdt_bufs_init(&crdt_malloc_allocator, &one, &fold, &tmp, &out, NULL);
	for (long i = 0; i < unit_cases_div(100); i++)
	{
		Rng			rng = rng_for_case(stream, (uint64_t) i);
		CrdtSetKind kind = (CrdtSetKind) (i % 2);
		const CrdtType *t = kind == CRDT_GSET ? &crdt_type_gset : &crdt_type_twopset;
		int			puts = (int) rng_below(&rng, 60);
		CrdtKeySet	s;
		CrdtError	err;

		if (!CHECK_OK(crdt_keyset_init(&s, &crdt_malloc_allocator, &err), &err))
			break;
		buf_reset(&fold);
		t->write_empty(&fold);
		for (int k = 0; k < puts; k++)
		{
			CrdtSlice	e = pool_element((size_t) rng_below(&rng, pool_elements()));
			uint32_t	tag = kind == CRDT_TWOPSET && rng_percent(&rng, 30);
			size_t		entry;

			CHECK_OK(crdt_keyset_put(&s, e.data, e.len, tag, &entry, &err), &err);
			buf_reset(&one);
			t->write_empty(&one);
			buf_reset(&tmp);
			/* removing needs the element present first */
			if (CHECK_OK(crdt_set_add(kind, buf_slice(&one), e.data, e.len, &tmp, &err), &err) &&
				tag == 1)
			{
				buf_take(&one, &tmp);
				CHECK_OK(crdt_set_remove(kind, buf_slice(&one), e.data, e.len, &tmp, &err), &err);
			}
			buf_take(&one, &tmp);
			CHECK_OK(t->merge(buf_slice(&fold), buf_slice(&one), &tmp, &err), &err);
			buf_take(&fold, &tmp);
		}
		buf_reset(&out);
		if (CHECK_OK(crdt_keyset_write_set(&s, kind, &out, &err), &err) &&
			!CHECK_EQ_BYTES(buf_slice(&out), buf_slice(&fold)))
			unit_note("keyset case %ld (CRDT_TEST_SEED=%llu): %s, expected %s", i,
					  (unsigned long long) unit_run.seed, show_typed(t, buf_slice(&out)),
					  show_typed(t, buf_slice(&fold)));
		crdt_keyset_free(&s);
	}
	crdt_bufs_free(&one, &fold, &tmp, &out, NULL);
}

void
test_sets_dotlog(void)
{
	static const CrdtType *const types[] = {&crdt_type_orset, &crdt_type_mvreg};

	state_test("sets dotlog", true, CRDT_ORSET, CRDT_MVREG, types);
}

/*
 * A long run absorbed state by state, until the log has passed the
 * early-merge size (4 MB now) and been merged into one state twice; later
 * states (older ones too) must merge with it as if nothing had happened.
 */
#define COMPACTION_RUNS 2
#define COMPACTION_EARLY 2			/* early merges to see in each run */
#define COMPACTION_MAX_STEPS 50000

void
test_sets_dotlog_compaction(void)
{
	uint64_t	stream = rng_stream("sets dotlog compaction");

	for (int kind = CRDT_ORSET; kind <= CRDT_MVREG; kind++)
		for (int run = 0; run < COMPACTION_RUNS; run++)
		{
			Rng			rng = rng_for_case(stream + (uint64_t) kind, (uint64_t) run);
			AggCase		a;
			AggState	st;
			CrdtError	err;
			size_t		early = 0;
			size_t		last = 0;
			long		failures = unit_run.failures;

			agg_open(&a, kind == CRDT_ORSET ? &crdt_type_orset : &crdt_type_mvreg);
			state_open(&st, true, kind);
			a.index = run;
			a.n = 1;
			a.order[0] = 0;
			world_reset(&a.world, &rng);
			/* long items make big states, so the log grows fast */
			for (int k = 0; k < 3; k++)
				a.world.item[k] = kind == CRDT_ORSET ? pool_elements() - 1 - (size_t) k
					: pool_jsons() - 1;
			a.type->write_empty(&a.fold);
			for (int s = 1; early < COMPACTION_EARLY && s <= COMPACTION_MAX_STEPS &&
				 unit_run.failures == failures; s++)
			{
				world_step(&a.world, &rng);
				/* every replica reports a state: its own, or an old or merged one */
				for (int r = 0; r < a.world.replicas; r++)
				{
					world_pick(&a.world, &rng, &a.values[0]);
					/* absorbing appends: the log shrinks only when merged early */
					last = st.log.values.len;
					CHECK_OK(crdt_dotlog_absorb(&st.log, buf_slice(&a.values[0]), &err), &err);
					buf_reset(&a.tmp);
					CHECK_OK(a.type->merge(buf_slice(&a.fold), buf_slice(&a.values[0]), &a.tmp,
										   &err), &err);
					buf_take(&a.fold, &a.tmp);
					/* right after each early merge, and now and then */
					if ((st.log.values.len < last && ++early > 0) || (s % 500 == 0 && r == 0))
						state_check(&a, &st, "long run");
				}
			}
			CHECK_MSG(early >= COMPACTION_EARLY, "%s: the log was merged early %zu times",
					  a.type->name, early);
			state_check(&a, &st, "end of the long run");
			state_close(&st);
			agg_close(&a);
		}
}

/*
 * Invalid input that gives one dot to two keys (two sessions sharing a
 * replica id) must still merge independently of row order: pairwise merges
 * drop both keys, and so must the aggregate, whichever row comes first.
 */
void
test_sets_dotlog_conflicting_dots(void)
{
	static const char *const rows[2] = {
		"{\"elements\":{\"x\":[[\"r\",1]]},\"context\":{\"r\":1}}",
		"{\"elements\":{\"y\":[[\"r\",1]]},\"context\":{\"r\":1}}",
	};
	CrdtBuf		value[2];
	CrdtBuf		out[2];
	CrdtBuf		fold;
	CrdtError	err;

	buf_open(&fold);
	for (int i = 0; i < 2; i++)
	{
		buf_open(&value[i]);
		buf_open(&out[i]);
		CHECK_OK(parse_exact(&crdt_type_orset, rows[i], strlen(rows[i]), &value[i], &err), &err);
	}
	CHECK_OK(crdt_type_orset.merge(buf_slice(&value[0]), buf_slice(&value[1]), &fold, &err), &err);
	for (int order = 0; order < 2; order++)
	{
		CrdtDotLog	log;

		if (!CHECK_OK(crdt_dotlog_init(&log, CRDT_ORSET, &crdt_malloc_allocator, &err), &err))
			continue;
		CHECK_OK(crdt_dotlog_absorb(&log, buf_slice(&value[order]), &err), &err);
		CHECK_OK(crdt_dotlog_absorb(&log, buf_slice(&value[1 - order]), &err), &err);
		CHECK_OK(crdt_dotlog_write(&log, &out[order], &err), &err);
		crdt_dotlog_free(&log);
		CHECK(slice_equal(buf_slice(&out[order]), buf_slice(&fold)));
	}
	for (int i = 0; i < 2; i++)
	{
		crdt_buf_free(&value[i]);
		crdt_buf_free(&out[i]);
	}
	crdt_buf_free(&fold);
}
