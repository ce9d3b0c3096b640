/*
 * test_text.c — the JSON text form: canonical output, lenient input,
 * escapes, errors with their byte positions, and random round trips.
 */
#include "unit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * Parses text from an exact heap copy: the parser gets a length, not a
 * NUL terminator, and must not read past it.
 */
static CrdtStatus
parse_exact(CrdtCounterKind kind, const char *text, size_t len, CrdtBuf *out, CrdtError *err)
{
	ExactCopy	c = exact_copy(text, len);
	CrdtStatus	st;

	buf_reset(out);
	st = crdt_counter_parse(kind, (const char *) c.slice.data, len, out, err);
	exact_free(&c);
	return st;
}

/* input parses; printing gives canonical, which parses to the same bytes */
static void
check_canonical(CrdtCounterKind kind, const char *input, const char *canonical)
{
	CrdtBuf		first;
	CrdtBuf		text;
	CrdtBuf		again;
	CrdtError	err;

	crdt_bufs_init(&crdt_malloc_allocator, &first, &text, &again, NULL);
	if (CHECK_OK(parse_exact(kind, input, strlen(input), &first, &err), &err) &&
		CHECK_OK(crdt_counter_print(kind, buf_slice(&first), &text, &err), &err))
	{
		if (!CHECK_EQ_TEXT(text.data, text.len, canonical))
			unit_note("%s input %s", crdt_counter_kind_name(kind), input);
		CHECK_OK(parse_exact(kind, canonical, strlen(canonical), &again, &err), &err);
		CHECK_EQ_BYTES(buf_slice(&again), buf_slice(&first));
	}
	crdt_bufs_free(&first, &text, &again, NULL);
}

/* input (len bytes) parses to the bytes of spec */
static void
check_parses_to(CrdtCounterKind kind, const char *input, size_t len, const char *spec)
{
	CrdtBuf		out;
	CrdtBuf		want;
	CrdtError	err;

	buf_open(&out);
	buf_open(&want);
	if (CHECK_OK(parse_exact(kind, input, len, &out, &err), &err))
	{
		if (!CHECK_EQ_BYTES(buf_slice(&out), bytes_from_spec(&want, spec)))
			unit_note("input %s", show_text(input, len));
	}
	crdt_buf_free(&out);
	crdt_buf_free(&want);
}

static void
check_error_len(CrdtCounterKind kind, const char *input, size_t len, CrdtStatus status,
				long position, const char *message_part)
{
	CrdtBuf		out;
	CrdtError	err;
	CrdtStatus	st;

	buf_open(&out);
	st = parse_exact(kind, input, len, &out, &err);
	if (!CHECK_ERR(st, &err, status, position))
		unit_note("%s input %s", crdt_counter_kind_name(kind), show_text(input, len));
	else if (message_part != NULL && !CHECK(strstr(err.message, message_part) != NULL))
		unit_note("message \"%s\" lacks \"%s\"", err.message, message_part);
	crdt_buf_free(&out);
}

static void
check_error(CrdtCounterKind kind, const char *input, CrdtStatus status, long position)
{
	check_error_len(kind, input, strlen(input), status, position, NULL);
}

void
test_text_format(void)
{
	/* input, canonical text: the same for vclock and gcounter */
	static const char *const map_cases[][2] = {
		{"{}", "{}"},
		{" \t\r\n{ \n}\n ", "{}"},
		{"{\"b\":1,\"a\":2}", "{\"a\":2,\"b\":1}"},
		/* byte order: upper case, then lower, shorter first, then UTF-8 */
		{"{\"b\":1,\"a\":2,\"B\":3,\"\xC3\xA9\":4,\"aa\":5,\"~\":6}", "{\"B\":3,\"a\":2,\"aa\":5,\"b\":1,\"~\":6,\"\xC3\xA9\":4}"},
		{"\n\t{ \"a\" :\r 1 , \"b\":2 }\n", "{\"a\":1,\"b\":2}"},
		{"{\"a\":9223372036854775807}", "{\"a\":9223372036854775807}"},
		/* only '"' and '\' are escaped on output; '/' and non-ASCII are not */
		{"{\"x\\\"q\":1,\"back\\\\slash\":2,\"a\\/b\":3,\"\\u00e9\":4}", "{\"a/b\":3,\"back\\\\slash\":2,\"x\\\"q\":1,\"\xC3\xA9\":4}"},
		{"{\"agent-042\":2,\"agent-041\":1}", "{\"agent-041\":1,\"agent-042\":2}"},
	};
	/* the same for pncounter */
	static const char *const pn_cases[][2] = {
		{"{}", "{}"},
		{"{\"p\":{},\"n\":{}}", "{}"},
		{" { \"n\" : { } } ", "{}"},
		{"{\"n\":{\"a\":1},\"p\":{\"b\":2}}", "{\"p\":{\"b\":2},\"n\":{\"a\":1}}"},
		{"{\"p\":{\"a\":1}}", "{\"p\":{\"a\":1}}"},
		{"{\"n\":{\"a\":1},\"p\":{}}", "{\"n\":{\"a\":1}}"},
		{"{\"p\":{\"a\":0},\"n\":{\"a\":0}}", "{}"},
		{"{\"p\":{\"a\":3},\"n\":{\"a\":3}}", "{\"p\":{\"a\":3},\"n\":{\"a\":3}}"},
		{"{\"p\":{\"b\":1,\"a\":2},\"n\":{\"z\":3,\"c\":4}}", "{\"p\":{\"a\":2,\"b\":1},\"n\":{\"c\":4,\"z\":3}}"},
	};

	for (size_t i = 0; i < sizeof(map_cases) / sizeof(map_cases[0]); i++)
	{
		check_canonical(CRDT_VCLOCK, map_cases[i][0], map_cases[i][1]);
		check_canonical(CRDT_GCOUNTER, map_cases[i][0], map_cases[i][1]);
	}
	for (size_t i = 0; i < sizeof(pn_cases) / sizeof(pn_cases[0]); i++)
		check_canonical(CRDT_PNCOUNTER, pn_cases[i][0], pn_cases[i][1]);

	/* zeros: dropped by counters, rejected by vclocks (see test_text_errors) */
	check_canonical(CRDT_GCOUNTER, "{\"a\":0,\"b\":1}", "{\"b\":1}");
	check_canonical(CRDT_GCOUNTER, "{\"a\":0}", "{}");
	check_parses_to(CRDT_GCOUNTER, "{\"a\":0}", 7, "01 00");
	check_parses_to(CRDT_PNCOUNTER, "{\"p\":{\"a\":0}}", 13, "01 00 00");
}

/* an escaped id: the decoded bytes are those of want_id */
static void
check_escape(const char *escaped, const char *want_id_spec)
{
	char		json[256];
	CrdtBuf		id;
	CrdtBuf		want;
	CrdtSlice	id_bytes;

	buf_open(&id);
	buf_open(&want);
	snprintf(json, sizeof(json), "{\"%s\":1}", escaped);
	id_bytes = bytes_from_spec(&id, want_id_spec);
	/* expected value: 01, suffix length, 00, id, count 1, terminator */
	crdt_buf_put_byte(&want, CRDT_FORMAT_V1);
	crdt_buf_put_varint(&want, id_bytes.len);
	crdt_buf_put_byte(&want, 0);
	crdt_buf_put(&want, id_bytes.data, id_bytes.len);
	crdt_buf_put_byte(&want, 1);
	crdt_buf_put_byte(&want, 0);
	{
		CrdtBuf		out;
		CrdtError	err;

		buf_open(&out);
		if (CHECK_OK(parse_exact(CRDT_GCOUNTER, json, strlen(json), &out, &err), &err) &&
			!CHECK_EQ_BYTES(buf_slice(&out), buf_slice(&want)))
			unit_note("input %s", json);
		crdt_buf_free(&out);
	}
	crdt_buf_free(&id);
	crdt_buf_free(&want);
}

/* escaped is a bad escape at the id's first byte (position 2 in {"...) */
static void
check_bad_escape(const char *escaped, long position, const char *why)
{
	char		json[256];

	snprintf(json, sizeof(json), "{\"%s\":1}", escaped);
	check_error_len(CRDT_GCOUNTER, json, strlen(json), CRDT_ERR_SYNTAX, position, why);
}

void
test_text_escapes(void)
{
	check_escape("\\\"", "22");
	check_escape("\\\\", "5C");
	check_escape("\\/", "2F");
	check_escape("a\\/b", "'a/b'");
	check_escape("\\u0041", "'A'");
	check_escape("a\\u0062c", "'abc'");
	check_escape("\\u00e9", "C3 A9");
	check_escape("\\u00E9", "C3 A9");
	check_escape("\\u00a0", "C2 A0");
	check_escape("\\u07ff", "DF BF");
	check_escape("\\u0800", "E0 A0 80");
	check_escape("\\u65e5\\u672c", "E6 97 A5 E6 9C AC");
	check_escape("\\ud7ff", "ED 9F BF");
	check_escape("\\ue000", "EE 80 80");
	check_escape("\\uffff", "EF BF BF");
	check_escape("\\ud83d\\ude00", "F0 9F 98 80");
	check_escape("\\uD83D\\uDE00", "F0 9F 98 80");
	check_escape("\\ud800\\udc00", "F0 90 80 80");
	check_escape("\\udbff\\udfff", "F4 8F BF BF");
	check_escape("x\\ud83d\\ude00y", "'x' F0 9F 98 80 'y'");
	check_escape("\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9"
				 "\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9"
				 "\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9"
				 "\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9", "'\xC3\xA9'*32");

	/* escapes that decode to control characters give invalid ids (at the id) */
	check_bad_escape("\\b", 1, "control character");
	check_bad_escape("\\f", 1, "control character");
	check_bad_escape("\\n", 1, "control character");
	check_bad_escape("\\r", 1, "control character");
	check_bad_escape("\\t", 1, "control character");
	check_bad_escape("a\\u0000", 1, "control character");
	check_bad_escape("\\u001f", 1, "control character");
	check_bad_escape("\\u007F", 1, "control character");
	check_bad_escape("\\u0080", 1, "control character");
	check_bad_escape("\\u009f", 1, "control character");
	/* 33 two-byte characters are 66 bytes */
	check_bad_escape("\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9"
					 "\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9"
					 "\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9"
					 "\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9",
					 1, "longer than 64");

	/* malformed escapes, at the backslash */
	check_bad_escape("\\ud83d", 2, "surrogate");
	check_bad_escape("a\\ud83d", 3, "surrogate");
	check_bad_escape("\\ud83dx", 2, "surrogate");
	check_bad_escape("\\ud83d\\u0041", 2, "surrogate");
	check_bad_escape("\\ud83d\\ud83d", 2, "surrogate");
	check_bad_escape("\\ud83d\\n", 2, "surrogate");
	check_bad_escape("\\ude00", 2, "surrogate");
	check_bad_escape("\\ude00\\ud83d", 2, "surrogate");
	check_bad_escape("\\u12", 2, "hex");
	check_bad_escape("\\u12g4", 2, "hex");
	check_bad_escape("\\u+123", 2, "hex");
	check_bad_escape("\\x41", 2, "escape");
	check_bad_escape("\\U0041", 2, "escape");
	check_bad_escape("\\'", 2, "escape");
	check_bad_escape("\\0", 2, "escape");
	/* a high surrogate cut off by the end of the input */
	check_error_len(CRDT_GCOUNTER, "{\"\\ud83d\\u", 10, CRDT_ERR_SYNTAX, 2, "surrogate");
	check_error_len(CRDT_GCOUNTER, "{\"\\ud8", 6, CRDT_ERR_SYNTAX, 2, "hex");
	check_error_len(CRDT_GCOUNTER, "{\"\\", 3, CRDT_ERR_SYNTAX, 2, NULL);
}

void
test_text_errors(void)
{
	static const CrdtCounterKind maps[] = {CRDT_VCLOCK, CRDT_GCOUNTER};
	char		long_id[200];

	for (size_t k = 0; k < 2; k++)
	{
		CrdtCounterKind kind = maps[k];

		check_error(kind, "", CRDT_ERR_SYNTAX, 0);
		check_error(kind, "   ", CRDT_ERR_SYNTAX, 3);
		check_error(kind, "[]", CRDT_ERR_SYNTAX, 0);
		check_error(kind, "null", CRDT_ERR_SYNTAX, 0);
		check_error(kind, "{", CRDT_ERR_SYNTAX, 1);
		check_error(kind, "{\"a", CRDT_ERR_SYNTAX, 3);
		check_error(kind, "{\"a\"", CRDT_ERR_SYNTAX, 4);
		check_error(kind, "{\"a\":", CRDT_ERR_SYNTAX, 5);
		check_error(kind, "{\"a\":1", CRDT_ERR_SYNTAX, 6);
		check_error(kind, "{\"a\":1,", CRDT_ERR_SYNTAX, 7);
		check_error(kind, "{\"a\":1,}", CRDT_ERR_SYNTAX, 7);
		check_error(kind, "{,}", CRDT_ERR_SYNTAX, 1);
		check_error(kind, "{a:1}", CRDT_ERR_SYNTAX, 1);
		check_error(kind, "{'a':1}", CRDT_ERR_SYNTAX, 1);
		check_error(kind, "{\"a\" 1}", CRDT_ERR_SYNTAX, 5);
		check_error(kind, "{\"a\":1 2}", CRDT_ERR_SYNTAX, 7);
		check_error(kind, "{\"a\":1;\"b\":2}", CRDT_ERR_SYNTAX, 6);
		/* duplicates: the position of the second */
		check_error(kind, "{\"a\":1,\"a\":2}", CRDT_ERR_SYNTAX, 7);
		check_error(kind, "{\"b\":1,\"a\":2, \"b\":3}", CRDT_ERR_SYNTAX, 14);
		check_error(kind, "{\"a\":1,\"\\u0061\":1}", CRDT_ERR_SYNTAX, 7);
		/* counts */
		check_error(kind, "{\"a\":-1}", CRDT_ERR_SYNTAX, 5);
		check_error(kind, "{\"a\": -5}", CRDT_ERR_SYNTAX, 6);
		check_error(kind, "{\"a\":1.5}", CRDT_ERR_SYNTAX, 5);
		check_error(kind, "{\"a\":1.0}", CRDT_ERR_SYNTAX, 5);
		check_error(kind, "{\"a\":1e3}", CRDT_ERR_SYNTAX, 5);
		check_error(kind, "{\"a\":1E3}", CRDT_ERR_SYNTAX, 5);
		check_error(kind, "{\"a\":01}", CRDT_ERR_SYNTAX, 5);
		check_error(kind, "{\"a\":00}", CRDT_ERR_SYNTAX, 5);
		check_error(kind, "{\"a\":+1}", CRDT_ERR_SYNTAX, 5);
		check_error(kind, "{\"a\":\"1\"}", CRDT_ERR_SYNTAX, 5);
		check_error(kind, "{\"a\":true}", CRDT_ERR_SYNTAX, 5);
		check_error(kind, "{\"a\":null}", CRDT_ERR_SYNTAX, 5);
		check_error(kind, "{\"a\":-}", CRDT_ERR_SYNTAX, 5);
		check_error(kind, "{\"a\":1x}", CRDT_ERR_SYNTAX, 6);
		check_error(kind, "{\"a\":9223372036854775808}", CRDT_ERR_OVERFLOW, 5);
		check_error(kind, "{\"a\":18446744073709551616}", CRDT_ERR_OVERFLOW, 5);
		check_error(kind, "{\"a\":99999999999999999999999999999}", CRDT_ERR_OVERFLOW, 5);
		check_error(kind, "{\"b\":1, \"a\":  9300000000000000000}", CRDT_ERR_OVERFLOW, 14);
		check_error(kind, "{\"a\":-9223372036854775809}", CRDT_ERR_SYNTAX, 5);
		check_error(kind, "{\"a\":99999999999999999999.5}", CRDT_ERR_SYNTAX, 5);
		/* ids */
		check_error(kind, "{\"\":1}", CRDT_ERR_SYNTAX, 1);
		check_error(kind, "{\"a\":1, \"\":1}", CRDT_ERR_SYNTAX, 8);
		check_error(kind, "{\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\":1}",
					CRDT_ERR_SYNTAX, 1);
		check_error(kind, "{\"a\x01" "b\":1}", CRDT_ERR_SYNTAX, 3);
		check_error(kind, "{\"a\tb\":1}", CRDT_ERR_SYNTAX, 3);
		check_error(kind, "{\"\x7f\":1}", CRDT_ERR_SYNTAX, 1);
		check_error(kind, "{\"\xC2\x85\":1}", CRDT_ERR_SYNTAX, 1);
		check_error(kind, "{\"\xff\":1}", CRDT_ERR_SYNTAX, 1);
		check_error(kind, "{\"\xC0\x80\":1}", CRDT_ERR_SYNTAX, 1);
		check_error(kind, "{\"\xED\xA0\x80\":1}", CRDT_ERR_SYNTAX, 1);
		check_error(kind, "{\"\xF0\x9F\x98\":1}", CRDT_ERR_SYNTAX, 1);
		check_error_len(kind, "{\"a\0\":1}", 8, CRDT_ERR_SYNTAX, 3, NULL);
		/* trailing input */
		check_error(kind, "{} x", CRDT_ERR_SYNTAX, 3);
		check_error(kind, "{}{}", CRDT_ERR_SYNTAX, 2);
		check_error(kind, "{\"a\":1}}", CRDT_ERR_SYNTAX, 7);
		check_error_len(kind, "{}\0", 3, CRDT_ERR_SYNTAX, 2, NULL);

		/* accepted edge cases next to the errors */
		check_parses_to(kind, "{\"a\":9223372036854775807}", 25,
						"01 01 00 'a' FF FF FF FF FF FF FF FF 7F 00");
		check_parses_to(kind, "{\"a\":10}", 8, "01 01 00 'a' 0A 00");
		check_parses_to(kind, "{\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\":1}",
						70, "01 40 00 'a'*64 01 00");
	}

	/* a vclock has no zero entries; counters drop them */
	check_error(CRDT_VCLOCK, "{\"a\":0}", CRDT_ERR_SYNTAX, 5);
	check_error(CRDT_VCLOCK, "{\"a\":1,\"b\":0}", CRDT_ERR_SYNTAX, 11);
	check_parses_to(CRDT_GCOUNTER, "{\"a\":1,\"b\":0}", 13, "01 01 00 'a' 01 00");
	/* a zero still counts as an occurrence for duplicates */
	check_error(CRDT_GCOUNTER, "{\"a\":0,\"a\":1}", CRDT_ERR_SYNTAX, 7);

	/* an id far too long is rejected without being stored */
	memset(long_id, 'x', sizeof(long_id));
	long_id[0] = '{';
	long_id[1] = '"';
	memcpy(long_id + sizeof(long_id) - 4, "\":1}", 4);
	check_error_len(CRDT_GCOUNTER, long_id, sizeof(long_id), CRDT_ERR_SYNTAX, 1, "longer");

	/* pncounter structure */
	check_error(CRDT_PNCOUNTER, "", CRDT_ERR_SYNTAX, 0);
	check_error(CRDT_PNCOUNTER, "{\"x\":{}}", CRDT_ERR_SYNTAX, 1);
	check_error(CRDT_PNCOUNTER, "{\"pp\":{}}", CRDT_ERR_SYNTAX, 1);
	check_error(CRDT_PNCOUNTER, "{\"P\":{}}", CRDT_ERR_SYNTAX, 1);
	check_error(CRDT_PNCOUNTER, "{\"\":{}}", CRDT_ERR_SYNTAX, 1);
	check_error(CRDT_PNCOUNTER, "{p:{}}", CRDT_ERR_SYNTAX, 1);
	check_error(CRDT_PNCOUNTER, "{\"p\":{},\"p\":{}}", CRDT_ERR_SYNTAX, 8);
	check_error(CRDT_PNCOUNTER, "{\"n\":{}, \"p\":{}, \"n\":{}}", CRDT_ERR_SYNTAX, 17);
	check_error(CRDT_PNCOUNTER, "{\"p\":1}", CRDT_ERR_SYNTAX, 5);
	check_error(CRDT_PNCOUNTER, "{\"p\":{}", CRDT_ERR_SYNTAX, 7);
	check_error(CRDT_PNCOUNTER, "{\"p\":{},}", CRDT_ERR_SYNTAX, 8);
	check_error(CRDT_PNCOUNTER, "{\"p\":{} \"n\":{}}", CRDT_ERR_SYNTAX, 8);
	check_error(CRDT_PNCOUNTER, "{\"p\":{\"a\":-1}}", CRDT_ERR_SYNTAX, 10);
	check_error(CRDT_PNCOUNTER, "{\"p\":{\"a\":1},\"n\":{\"a\":1,\"a\":2}}", CRDT_ERR_SYNTAX, 24);
	check_error(CRDT_PNCOUNTER, "{\"p\":{\"a\":1,\"a\":2}}", CRDT_ERR_SYNTAX, 12);
	check_error(CRDT_PNCOUNTER, "{\"n\":{\"a\":9223372036854775808}}", CRDT_ERR_OVERFLOW, 10);
	check_error(CRDT_PNCOUNTER, "{\"p\":{}}x", CRDT_ERR_SYNTAX, 8);
	check_error(CRDT_PNCOUNTER, "{\"a\":1}", CRDT_ERR_SYNTAX, 1);
}

/* ------------------------------------------------------------ random round trips */

/* Decodes one code point of valid UTF-8 at id[*i]. */
static uint32_t
next_code_point(const uint8_t *id, size_t *i)
{
	uint8_t		b = id[(*i)++];
	int			more = b < 0x80 ? 0 : b < 0xe0 ? 1 : b < 0xf0 ? 2 : 3;
	uint32_t	cp = more == 0 ? b : (uint32_t) (b & (0x3f >> more));

	while (more-- > 0)
		cp = (cp << 6) | (id[(*i)++] & 0x3f);
	return cp;
}

static void
put_u_escape(CrdtBuf *out, Rng *rng, uint32_t unit)
{
	static const char lower[] = "0123456789abcdef";
	static const char upper[] = "0123456789ABCDEF";

	crdt_buf_put_str(out, "\\u");
	for (int shift = 12; shift >= 0; shift -= 4)
		crdt_buf_put_byte(out, (uint8_t) (rng_percent(rng, 50) ? lower : upper)[(unit >> shift) & 0xf]);
}

/* An id written with random (valid) escapes. */
static void
put_noisy_id(CrdtBuf *out, Rng *rng, const uint8_t *id, size_t len)
{
	size_t		i = 0;

	crdt_buf_put_byte(out, '"');
	while (i < len)
	{
		size_t		start = i;
		uint32_t	cp = next_code_point(id, &i);
		bool		escape = rng_percent(rng, 25);

		if (cp == '"' || cp == '\\')
		{
			if (escape)
				put_u_escape(out, rng, cp);
			else
			{
				crdt_buf_put_byte(out, '\\');
				crdt_buf_put_byte(out, (uint8_t) cp);
			}
		}
		else if (cp == '/' && escape)
			crdt_buf_put_str(out, "\\/");
		else if (!escape)
			crdt_buf_put(out, id + start, i - start);
		else if (cp < 0x10000)
			put_u_escape(out, rng, cp);
		else
		{
			put_u_escape(out, rng, 0xd800 + ((cp - 0x10000) >> 10));
			put_u_escape(out, rng, 0xdc00 + ((cp - 0x10000) & 0x3ff));
		}
	}
	crdt_buf_put_byte(out, '"');
}

static void
put_ws(CrdtBuf *out, Rng *rng)
{
	static const char ws[] = " \t\n\r";

	while (rng_percent(rng, 20))
		crdt_buf_put_byte(out, (uint8_t) ws[rng_below(rng, 4)]);
}

/* One half as an object: shuffled, with zero entries for absent ids (not vclock). */
static void
put_noisy_map(CrdtBuf *out, Rng *rng, const Model *m, int half)
{
	const ModelEntry *order[64];
	ModelEntry	zeros[4];
	size_t		n = 0;
	size_t		nzeros = 0;

	for (size_t k = 0; k < m->n[half]; k++)
		order[n++] = &m->half[half][k];
	while (m->kind != CRDT_VCLOCK && nzeros < 4 && rng_percent(rng, 30))
	{
		ModelEntry *z = &zeros[nzeros];

		random_replica_id(rng, z->id, &z->len);
		z->count = 0;
		if (model_get(m, half, z->id, z->len) != 0)
			continue;
		/* the same zero id twice would be a duplicate */
		for (size_t k = 0; k < nzeros; k++)
			if (zeros[k].len == z->len && memcmp(zeros[k].id, z->id, z->len) == 0)
				goto skip;
		order[n++] = z;
		nzeros++;
skip:	;
	}
	rng_shuffle(rng, order, n, sizeof(order[0]));

	put_ws(out, rng);
	crdt_buf_put_byte(out, '{');
	for (size_t k = 0; k < n; k++)
	{
		char		digits[24];

		if (k > 0)
			crdt_buf_put_byte(out, ',');
		put_ws(out, rng);
		put_noisy_id(out, rng, order[k]->id, order[k]->len);
		put_ws(out, rng);
		crdt_buf_put_byte(out, ':');
		put_ws(out, rng);
		snprintf(digits, sizeof(digits), "%llu", (unsigned long long) order[k]->count);
		crdt_buf_put_str(out, digits);
		put_ws(out, rng);
	}
	put_ws(out, rng);
	crdt_buf_put_byte(out, '}');
	put_ws(out, rng);
}

/* Any valid spelling of the model's state. */
static void
put_noisy_value(CrdtBuf *out, Rng *rng, const Model *m)
{
	int			first;
	int			written = 0;

	buf_reset(out);
	if (m->kind != CRDT_PNCOUNTER)
	{
		put_noisy_map(out, rng, m, 0);
		return;
	}
	put_ws(out, rng);
	crdt_buf_put_byte(out, '{');
	first = (int) rng_below(rng, 2);
	for (int k = 0; k < 2; k++)
	{
		int			half = k == 0 ? first : 1 - first;

		/* an empty half may be spelled out or left away */
		if (m->n[half] == 0 && rng_percent(rng, 50))
			continue;
		if (written++ > 0)
			crdt_buf_put_byte(out, ',');
		put_ws(out, rng);
		crdt_buf_put_str(out, half == 0 ? "\"p\"" : "\"n\"");
		put_ws(out, rng);
		crdt_buf_put_byte(out, ':');
		put_noisy_map(out, rng, m, half);
	}
	crdt_buf_put_byte(out, '}');
	put_ws(out, rng);
}

typedef struct TextCase
{
	CrdtCounterKind kind;
	long		index;
	long		hostile;		/* cases below it also corrupt their noisy text */
	CrdtBuf		want_bytes;
	CrdtBuf		want_text;
	CrdtBuf		noisy;
	CrdtBuf		bytes;
	CrdtBuf		text;
	CrdtBuf		again;
} TextCase;

static void
text_case_note(const TextCase *c)
{
	unit_note("%s case %ld (seed %llu): model %s, input %s", crdt_counter_kind_name(c->kind),
			  c->index, (unsigned long long) unit_run.seed,
			  show_text((const char *) c->want_text.data, c->want_text.len),
			  show_text((const char *) c->noisy.data, c->noisy.len));
}

/* model -> text and bytes agree with the core both ways; noisy text parses the same */
static void
check_text_case(TextCase *c, const Model *m, Rng *rng)
{
	CrdtError	err;

	buf_reset(&c->want_bytes);
	buf_reset(&c->want_text);
	model_encode(m, &c->want_bytes);
	model_print(m, &c->want_text);
	put_noisy_value(&c->noisy, rng, m);

	/* canonical text -> bytes */
	if (!CHECK_OK(parse_exact(c->kind, (const char *) c->want_text.data, c->want_text.len,
							  &c->bytes, &err), &err) ||
		!CHECK_EQ_BYTES(buf_slice(&c->bytes), buf_slice(&c->want_bytes)))
		text_case_note(c);
	/* bytes -> canonical text */
	buf_reset(&c->text);
	if (!CHECK_OK(crdt_counter_print(c->kind, buf_slice(&c->want_bytes), &c->text, &err), &err) ||
		!CHECK(slice_equal(buf_slice(&c->text), buf_slice(&c->want_text))))
		text_case_note(c);
	/* noisy text -> bytes -> text -> bytes */
	if (!CHECK_OK(parse_exact(c->kind, (const char *) c->noisy.data, c->noisy.len,
							  &c->bytes, &err), &err) ||
		!CHECK_EQ_BYTES(buf_slice(&c->bytes), buf_slice(&c->want_bytes)))
	{
		text_case_note(c);
		return;
	}
	buf_reset(&c->text);
	if (!CHECK_OK(crdt_counter_print(c->kind, buf_slice(&c->bytes), &c->text, &err), &err) ||
		!CHECK_OK(parse_exact(c->kind, (const char *) c->text.data, c->text.len,
							  &c->again, &err), &err) ||
		!CHECK_EQ_BYTES(buf_slice(&c->again), buf_slice(&c->bytes)))
		text_case_note(c);
}

/* Mutated text: a clean error inside the input, or a valid, stable value. */
static void
text_hostile_visit(void *arg, CrdtSlice bad)
{
	TextCase   *c = arg;
	CrdtError	err;
	CrdtStatus	st;

	buf_reset(&c->bytes);
	st = crdt_counter_parse(c->kind, (const char *) bad.data, bad.len, &c->bytes, &err);
	if (st != CRDT_OK)
	{
		if (!CHECK((st == CRDT_ERR_SYNTAX || st == CRDT_ERR_OVERFLOW) &&
				   err.position >= 0 && (size_t) err.position <= bad.len))
			unit_note("parse %s gave %s at %ld", show_text((const char *) bad.data, bad.len),
					  unit_status_name(st), err.position);
		return;
	}
	buf_reset(&c->text);
	if (!CHECK_OK(crdt_counter_validate(c->kind, buf_slice(&c->bytes), &err), &err) ||
		!CHECK_OK(crdt_counter_print(c->kind, buf_slice(&c->bytes), &c->text, &err), &err) ||
		!CHECK_OK(parse_exact(c->kind, (const char *) c->text.data, c->text.len,
							  &c->again, &err), &err) ||
		!CHECK_EQ_BYTES(buf_slice(&c->again), buf_slice(&c->bytes)))
		unit_note("input %s", show_text((const char *) bad.data, bad.len));
}

static void
text_roundtrip_case(void *arg, Model *m, CrdtSlice value, Rng *rng, long index)
{
	TextCase   *c = arg;

	(void) value;				/* check_text_case encodes m itself, with its text */
	c->kind = m->kind;
	c->index = index;
	check_text_case(c, m, rng);
	if (index < c->hostile)
		hostile_each(buf_slice(&c->noisy), rng, 200, text_hostile_visit, c);
}

void
test_text_roundtrip(void)
{
	TextCase	c;

	c.hostile = unit_cases_div(5000);
	crdt_bufs_init(&crdt_malloc_allocator, &c.want_bytes, &c.want_text, &c.noisy, &c.bytes,
				   &c.text, &c.again, NULL);
	counter_for_cases("text roundtrip", unit_cases_div(10), text_roundtrip_case, &c);
	crdt_bufs_free(&c.want_bytes, &c.want_text, &c.noisy, &c.bytes, &c.text, &c.again, NULL);
}

/*
 * crdt_json_escape_non_ascii: the text form of non-UTF-8 databases.  Known
 * outputs, then for random values: pure ASCII, and it parses back to the
 * same bytes.
 */
static void
check_ascii_escape(const char *in, const char *want)
{
	CrdtBuf		out;

	buf_open(&out);
	crdt_json_escape_non_ascii(in, strlen(in), &out);
	CHECK_EQ_TEXT((const char *) out.data, out.len, want);
	crdt_buf_free(&out);
}

void
test_text_ascii(void)
{
	uint64_t	stream = rng_stream("text ascii");
	long		cases = unit_cases_div(10);
	CrdtBuf		value;
	CrdtBuf		text;
	CrdtBuf		ascii;
	CrdtBuf		again;
	Model		m;

	check_ascii_escape("{}", "{}");
	check_ascii_escape("{\"a\\\"b\":1}", "{\"a\\\"b\":1}");
	check_ascii_escape("{\"\xC3\xA9\":1}", "{\"\\u00e9\":1}");
	check_ascii_escape("{\"x\xE6\x97\xA5y\":2}", "{\"x\\u65e5y\":2}");
	check_ascii_escape("{\"\xF0\x9F\x98\x80\":3}", "{\"\\ud83d\\ude00\":3}");
	check_ascii_escape("{\"\xC2\xA0\xF4\x8F\xBF\xBF\":4}", "{\"\\u00a0\\udbff\\udfff\":4}");

	crdt_bufs_init(&crdt_malloc_allocator, &value, &text, &ascii, &again, NULL);
	for (int kind = CRDT_VCLOCK; kind <= CRDT_PNCOUNTER; kind++)
	{
		model_init(&m, (CrdtCounterKind) kind, 64);
		for (long index = 0; index < cases; index++)
		{
			Rng			rng = rng_for_case(stream + (uint64_t) kind, (uint64_t) index);
			CrdtError	err;
			bool		ascii_only = true;

			model_random(&m, &rng, 12);
			buf_reset(&value);
			buf_reset(&text);
			buf_reset(&ascii);
			buf_reset(&again);
			model_encode(&m, &value);
			if (!CHECK_OK(crdt_counter_print((CrdtCounterKind) kind, buf_slice(&value), &text, &err), &err))
				break;
			crdt_json_escape_non_ascii((const char *) text.data, text.len, &ascii);
			for (size_t k = 0; k < ascii.len; k++)
				ascii_only &= ascii.data[k] < 0x80;
			CHECK(ascii_only);
			if (!CHECK_OK(crdt_counter_parse((CrdtCounterKind) kind, (const char *) ascii.data,
											 ascii.len, &again, &err), &err) ||
				!CHECK(slice_equal(buf_slice(&again), buf_slice(&value))))
			{
				unit_note("kind %d case %ld: %.*s", kind, index, (int) ascii.len,
						  (const char *) ascii.data);
				break;
			}
		}
		model_free(&m);
	}
	crdt_bufs_free(&value, &text, &ascii, &again, NULL);
}
