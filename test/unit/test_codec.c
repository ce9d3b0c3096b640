/*
 * test_codec.c — varints, replica ids, byte order, descriptions, XXH64 and
 * the binary map format, including hostile (corrupted) input.
 */
#include "unit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------ varints */

/*
 * The rules restated from the format: LEB128, at most 10 bytes, the 10th
 * holding only bit 63, no final zero group after other groups.
 */
static CrdtVarintResult
ref_varint(const uint8_t *p, size_t len, uint64_t *value, size_t *used)
{
	uint64_t	v = 0;

	for (size_t i = 0;; i++)
	{
		if (i >= len)
			return CRDT_VARINT_TRUNCATED;
		if (i == 9 && p[i] > 1)
			return CRDT_VARINT_OVERFLOW;
		v |= (uint64_t) (p[i] & 0x7f) << (7 * i);
		if ((p[i] & 0x80) == 0)
		{
			if (p[i] == 0 && i > 0)
				return CRDT_VARINT_NONCANONICAL;
			*value = v;
			*used = i + 1;
			return CRDT_VARINT_OK;
		}
	}
}

/* Decodes an exact heap copy and compares with the reference decoder. */
static void
check_decode_like_ref(const uint8_t *bytes, size_t len)
{
	ExactCopy	c = exact_copy(bytes, len);
	const uint8_t *pos = c.slice.data;
	uint64_t	got = 0;
	uint64_t	want = 0;
	size_t		used = 0;
	CrdtVarintResult r = crdt_varint_decode(&pos, c.slice.data + len, &got);
	CrdtVarintResult ref = ref_varint(bytes, len, &want, &used);

	/* the out-of-line decoder (the inline one's slow path) agrees on everything */
	{
		const uint8_t *lpos = c.slice.data;
		uint64_t	lgot = 0;
		CrdtVarintResult lr = crdt_varint_decode_long(&lpos, c.slice.data + len, &lgot);

		if (!CHECK(lr == r && lpos == pos && (r != CRDT_VARINT_OK || lgot == got)))
			unit_note("crdt_varint_decode_long differs on [%s]", show_hex(slice_of(bytes, len)));
	}
	if (!CHECK_EQ_INT(r, ref))
		unit_note("input [%s]", show_hex(slice_of(bytes, len)));
	else if (r == CRDT_VARINT_OK)
	{
		CHECK_EQ_UINT(got, want);
		CHECK_EQ_UINT(pos - c.slice.data, used);
	}
	else if (!CHECK(pos == c.slice.data))
		unit_note("a failed decode moved pos; input [%s]", show_hex(slice_of(bytes, len)));
	exact_free(&c);
}

static size_t
varint_length(uint64_t v)
{
	size_t		n = 1;

	while (v >= 0x80)
	{
		v >>= 7;
		n++;
	}
	return n;
}

/* Encodes v, checks its length, decodes it back and all its truncations. */
static void
check_varint_roundtrip(uint64_t v)
{
	uint8_t		enc[CRDT_VARINT_MAX + 1];
	size_t		n = crdt_varint_encode(enc, v);
	CrdtBuf		buf;

	if (!CHECK_EQ_UINT(n, varint_length(v)))
		unit_note("value %llu", (unsigned long long) v);
	for (size_t cut = 0; cut <= n; cut++)
		check_decode_like_ref(enc, cut);

	/* the buffer form is the same bytes */
	buf_open(&buf);
	crdt_buf_put_varint(&buf, v);
	CHECK_EQ_BYTES(buf_slice(&buf), slice_of(enc, n));
	crdt_buf_free(&buf);
}

void
test_codec_varint(void)
{
	static const struct
	{
		const char *spec;
		CrdtVarintResult result;
		uint64_t	value;
	}			cases[] = {
		{"00", CRDT_VARINT_OK, 0},
		{"7F", CRDT_VARINT_OK, 127},
		{"80 01", CRDT_VARINT_OK, 128},
		{"FF 7F", CRDT_VARINT_OK, 16383},
		{"FF FF FF FF FF FF FF FF 7F", CRDT_VARINT_OK, UINT64_C(0x7FFFFFFFFFFFFFFF)},
		{"80 80 80 80 80 80 80 80 80 01", CRDT_VARINT_OK, UINT64_C(0x8000000000000000)},
		{"FF FF FF FF FF FF FF FF FF 01", CRDT_VARINT_OK, UINT64_MAX},
		{"", CRDT_VARINT_TRUNCATED, 0},
		{"80", CRDT_VARINT_TRUNCATED, 0},
		{"FF FF FF", CRDT_VARINT_TRUNCATED, 0},
		{"80 00", CRDT_VARINT_NONCANONICAL, 0},
		{"FF 00", CRDT_VARINT_NONCANONICAL, 0},
		{"81 80 00", CRDT_VARINT_NONCANONICAL, 0},
		{"80 80 80 80 80 80 80 80 80 00", CRDT_VARINT_NONCANONICAL, 0},
		{"FF FF FF FF FF FF FF FF FF 02", CRDT_VARINT_OVERFLOW, 0},
		{"FF FF FF FF FF FF FF FF FF 7F", CRDT_VARINT_OVERFLOW, 0},
		{"FF FF FF FF FF FF FF FF FF 81", CRDT_VARINT_OVERFLOW, 0},
		{"80 80 80 80 80 80 80 80 80 80 01", CRDT_VARINT_OVERFLOW, 0},
		{"80 80 80 80 80 80 80 80 80 80", CRDT_VARINT_OVERFLOW, 0},
		{"FF FF FF FF FF FF FF FF FF FF FF 01", CRDT_VARINT_OVERFLOW, 0},
	};
	CrdtBuf		spec;
	Rng			rng = rng_for_case(rng_stream("varint"), 0);

	buf_open(&spec);
	for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++)
	{
		CrdtSlice	in = bytes_from_spec(&spec, cases[k].spec);
		ExactCopy	c = exact_copy(in.data, in.len);
		const uint8_t *pos = c.slice.data;
		uint64_t	v = 0;
		CrdtVarintResult r = crdt_varint_decode(&pos, c.slice.data + c.slice.len, &v);

		if (!CHECK_EQ_INT(r, cases[k].result))
			unit_note("input [%s]", cases[k].spec);
		if (r == CRDT_VARINT_OK)
		{
			CHECK_EQ_UINT(v, cases[k].value);
			CHECK_EQ_UINT(pos - c.slice.data, in.len);
		}
		else
			CHECK(pos == c.slice.data);
		exact_free(&c);
		check_decode_like_ref(in.data, in.len);
	}

	/* a varint followed by more data stops at its own end */
	{
		CrdtSlice	in = bytes_from_spec(&spec, "AC 02 05");
		const uint8_t *pos = in.data;
		uint64_t	v;

		CHECK_EQ_INT(crdt_varint_decode(&pos, in.data + in.len, &v), CRDT_VARINT_OK);
		CHECK_EQ_UINT(v, 300);
		CHECK_EQ_UINT(pos - in.data, 2);
	}
	crdt_buf_free(&spec);

	/* the smallest and largest value of every length, and their neighbours */
	for (int bits = 0; bits <= 64; bits++)
	{
		uint64_t	top = bits == 64 ? UINT64_MAX : (UINT64_C(1) << bits) - 1;

		check_varint_roundtrip(top);
		if (bits < 64)
			check_varint_roundtrip(top + 1);
		if (top > 0)
			check_varint_roundtrip(top - 1);
	}
	for (long i = 0; i < unit_cases_div(10); i++)
		check_varint_roundtrip(rng_next(&rng) >> rng_below(&rng, 64));

	/* every two-byte input */
	for (unsigned x = 0; x < 0x10000; x++)
	{
		uint8_t		two[2] = {(uint8_t) (x >> 8), (uint8_t) x};

		check_decode_like_ref(two, 2);
	}

	/* random short inputs rich in the bytes that matter */
	for (long i = 0; i < unit_cases_div(10); i++)
	{
		static const uint8_t interesting[] = {0x00, 0x01, 0x02, 0x7f, 0x80, 0x81, 0xfe, 0xff};
		uint8_t		in[13];
		size_t		len = (size_t) rng_below(&rng, sizeof(in) + 1);

		for (size_t k = 0; k < len; k++)
			in[k] = rng_percent(&rng, 80) ? interesting[rng_below(&rng, sizeof(interesting))]
				: (uint8_t) rng_next(&rng);
		check_decode_like_ref(in, len);
	}
}

/* ------------------------------------------------------------ replica ids */

/* What the reference validator reports; the core's reasons by category. */
typedef enum IdVerdict
{
	ID_VALID,
	ID_EMPTY,
	ID_TOO_LONG,
	ID_BAD_UTF8,
	ID_CONTROL
} IdVerdict;

static const char *const verdict_reason[] = {
	NULL, "is empty", "is longer than 64 bytes", "is not valid UTF-8",
	"contains a control character"
};

/* Well-formed sequences per Unicode table 3-7; the first problem wins. */
static IdVerdict
ref_id_verdict(const uint8_t *s, size_t len, bool limit_length)
{
	size_t		i = 0;

	if (len == 0)
		return ID_EMPTY;
	if (limit_length && len > CRDT_REPLICA_ID_MAX)
		return ID_TOO_LONG;
	while (i < len)
	{
		uint8_t		b = s[i];
		size_t		n;
		uint8_t		lo = 0x80;
		uint8_t		hi = 0xbf;
		uint32_t	cp;

		if (b < 0x80)
			n = 1;
		else if (b >= 0xc2 && b <= 0xdf)
			n = 2;
		else if (b >= 0xe0 && b <= 0xef)
		{
			n = 3;
			lo = b == 0xe0 ? 0xa0 : 0x80;
			hi = b == 0xed ? 0x9f : 0xbf;
		}
		else if (b >= 0xf0 && b <= 0xf4)
		{
			n = 4;
			lo = b == 0xf0 ? 0x90 : 0x80;
			hi = b == 0xf4 ? 0x8f : 0xbf;
		}
		else
			return ID_BAD_UTF8;
		if (len - i < n)
			return ID_BAD_UTF8;
		if (n > 1 && (s[i + 1] < lo || s[i + 1] > hi))
			return ID_BAD_UTF8;
		for (size_t k = 2; k < n; k++)
			if (s[i + k] < 0x80 || s[i + k] > 0xbf)
				return ID_BAD_UTF8;
		cp = n == 1 ? b : n == 2 ? (uint32_t) ((b & 0x1f) << 6 | (s[i + 1] & 0x3f)) : 0x800;
		if (cp < 0x20 || (cp >= 0x7f && cp <= 0x9f))
			return ID_CONTROL;
		i += n;
	}
	return ID_VALID;
}

static void
check_id(const uint8_t *id, size_t len, IdVerdict want)
{
	ExactCopy	c = exact_copy(id, len);
	const char *problem = crdt_replica_id_problem(c.slice.data, len);
	bool		ok = want == ID_VALID ? problem == NULL
		: problem != NULL && strcmp(problem, verdict_reason[want]) == 0;

	const char *fast = crdt_replica_id_check(c.slice.data, len);

	CHECK_MSG(ok, "crdt_replica_id_problem([%s]) is \"%s\", expected \"%s\"",
			  show_hex(slice_of(id, len)), problem ? problem : "(valid)",
			  want == ID_VALID ? "(valid)" : verdict_reason[want]);
	/* the inline fast path gives the same answer */
	CHECK_MSG((fast == NULL) == (problem == NULL) &&
			  (fast == NULL || strcmp(fast, problem) == 0),
			  "crdt_replica_id_check([%s]) is \"%s\", crdt_replica_id_problem \"%s\"",
			  show_hex(slice_of(id, len)), fast ? fast : "(valid)",
			  problem ? problem : "(valid)");
	exact_free(&c);
}

static void
check_id_spec(const char *spec, IdVerdict want)
{
	CrdtBuf		b;
	CrdtSlice	id;

	buf_open(&b);
	id = bytes_from_spec(&b, spec);
	check_id(id.data, id.len, want);
	/* the reference agrees with the hand-written expectation */
	if (!CHECK_EQ_INT(ref_id_verdict(id.data, id.len, true), want))
		unit_note("spec %s", spec);
	crdt_buf_free(&b);
}

void
test_codec_replica_id(void)
{
	static const struct
	{
		const char *spec;
		IdVerdict	want;
	}			cases[] = {
		{"'a'", ID_VALID},
		{"'a'*64", ID_VALID},
		{"' '", ID_VALID},
		{"'x\"y\\z/'", ID_VALID},
		{"C3 A9", ID_VALID},	/* é */
		{"C2 A0", ID_VALID},	/* U+00A0, first after the C1 controls */
		{"E6 97 A5 E6 9C AC", ID_VALID},
		{"ED 9F BF", ID_VALID}, /* U+D7FF */
		{"EE 80 80", ID_VALID}, /* U+E000 */
		{"EF BF BD", ID_VALID},
		{"F0 9F 98 80", ID_VALID},	/* emoji */
		{"'\xF0\x9F\x98\x80'*16", ID_VALID},	/* 64 bytes */
		{"F4 8F BF BF", ID_VALID},	/* U+10FFFF */
		{"'a'*62 C3 A9", ID_VALID},
		{"", ID_EMPTY},
		{"'a'*65", ID_TOO_LONG},
		{"'a'*63 C3 A9", ID_TOO_LONG},
		{"'\xF0\x9F\x98\x80'*16 'a'", ID_TOO_LONG},
		{"01*65", ID_TOO_LONG},
		{"C0 80", ID_BAD_UTF8}, /* overlong NUL */
		{"C1 BF", ID_BAD_UTF8},
		{"E0 80 80", ID_BAD_UTF8},
		{"E0 9F BF", ID_BAD_UTF8},
		{"F0 80 80 80", ID_BAD_UTF8},
		{"F0 8F BF BF", ID_BAD_UTF8},
		{"ED A0 80", ID_BAD_UTF8},	/* U+D800 */
		{"ED BF BF", ID_BAD_UTF8},	/* U+DFFF */
		{"ED A0 BD ED B8 80", ID_BAD_UTF8}, /* CESU-8 emoji */
		{"F4 90 80 80", ID_BAD_UTF8},	/* past U+10FFFF */
		{"F5 80 80 80", ID_BAD_UTF8},
		{"F8 88 80 80 80", ID_BAD_UTF8},
		{"FE", ID_BAD_UTF8},
		{"FF", ID_BAD_UTF8},
		{"80", ID_BAD_UTF8},
		{"'a' BF", ID_BAD_UTF8},
		{"C3", ID_BAD_UTF8},
		{"'a' C3", ID_BAD_UTF8},
		{"E6 97", ID_BAD_UTF8},
		{"F0 9F 98", ID_BAD_UTF8},
		{"C3 28", ID_BAD_UTF8},
		{"E6 28 97", ID_BAD_UTF8},
		{"F0 9F 28 80", ID_BAD_UTF8},
		{"00", ID_CONTROL},
		{"'a' 00 'b'", ID_CONTROL},
		{"0A", ID_CONTROL},
		{"1F", ID_CONTROL},
		{"7F", ID_CONTROL},
		{"C2 80", ID_CONTROL},
		{"C2 85", ID_CONTROL},
		{"C2 9F", ID_CONTROL},
		{"'a'*63 09", ID_CONTROL},
		{"01 FF", ID_CONTROL},	/* the first problem is reported */
		{"FF 01", ID_BAD_UTF8},
	};
	Rng			rng = rng_for_case(rng_stream("replica_id"), 0);

	for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++)
		check_id_spec(cases[k].spec, cases[k].want);

	/* every one- and two-byte id, and every C1 control */
	for (unsigned x = 0; x < 0x10000; x++)
	{
		uint8_t		two[2] = {(uint8_t) (x >> 8), (uint8_t) x};

		if (two[1] == 0)
			check_id(two, 1, ref_id_verdict(two, 1, true));
		check_id(two, 2, ref_id_verdict(two, 2, true));
	}
	for (uint32_t cp = 0; cp <= 0x9f; cp++)
	{
		uint8_t		enc[4];
		size_t		n = utf8_put(enc, cp);

		check_id(enc, n, cp < 0x20 || cp >= 0x7f ? ID_CONTROL : ID_VALID);
	}

	/* three-byte ids for every lead and second byte */
	for (unsigned x = 0; x < 0x10000; x++)
	{
		uint8_t		three[3] = {(uint8_t) (x >> 8), (uint8_t) x, 0x80 + (uint8_t) (x % 0x40)};

		if (three[0] >= 0xc0)
			check_id(three, 3, ref_id_verdict(three, 3, true));
	}

	/* random byte strings near the limits of UTF-8 */
	for (long i = 0; i < unit_cases_div(10); i++)
	{
		uint8_t		id[CRDT_REPLICA_ID_MAX + 2];
		size_t		len = 1 + (size_t) rng_below(&rng, rng_percent(&rng, 90) ? 8 : sizeof(id));

		for (size_t k = 0; k < len; k++)
		{
			uint64_t	r = rng_below(&rng, 4);

			id[k] = r == 0 ? (uint8_t) (0x20 + rng_below(&rng, 0x60))
				: r == 1 ? (uint8_t) (0x80 + rng_below(&rng, 0x40))
				: r == 2 ? (uint8_t) (0xc0 + rng_below(&rng, 0x40))
				: (uint8_t) rng_next(&rng);
		}
		check_id(id, len, ref_id_verdict(id, len, true));
	}
}

/* ------------------------------------------------------------ bytes_cmp, describe */

static int
ref_cmp(CrdtSlice a, CrdtSlice b)
{
	for (size_t i = 0; i < a.len && i < b.len; i++)
		if (a.data[i] != b.data[i])
			return a.data[i] < b.data[i] ? -1 : 1;
	return a.len == b.len ? 0 : (a.len < b.len ? -1 : 1);
}

static void
check_cmp(const char *a_spec, const char *b_spec, int want)
{
	CrdtBuf		ab;
	CrdtBuf		bb;
	CrdtSlice	a;
	CrdtSlice	b;

	buf_open(&ab);
	buf_open(&bb);
	a = bytes_from_spec(&ab, a_spec);
	b = bytes_from_spec(&bb, b_spec);
	if (!CHECK_EQ_INT(crdt_bytes_cmp(a.data, a.len, b.data, b.len), want))
		unit_note("a = %s, b = %s", a_spec, b_spec);
	CHECK_EQ_INT(crdt_bytes_cmp(b.data, b.len, a.data, a.len), -want);
	crdt_buf_free(&ab);
	crdt_buf_free(&bb);
}

/*
 * Checks one description: it fits the buffer, is NUL-terminated, starts
 * with a quote, and is the full description cut at an escape boundary.
 */
static void
check_describe_fits(CrdtSlice id, size_t outsize, const char *full)
{
	/* exactly outsize bytes, so ASan sees any write past them */
	char	   *block = malloc(outsize == 0 ? 1 : outsize);
	char	   *text = outsize == 0 ? block + 1 : block;
	size_t		len;

	crdt_describe_bytes(text, outsize, id.data, id.len);
	if (outsize == 0)
	{
		free(block);
		return;
	}
	{
		const char *nul = memchr(text, '\0', outsize);

		len = nul == NULL ? outsize : (size_t) (nul - text);
	}
	if (!CHECK_MSG(len < outsize, "description of [%s] in %zu bytes is not terminated",
				   show_hex(id), outsize))
	{
		free(block);
		return;
	}
	if (outsize < 16)
		CHECK_EQ_UINT(len, 0);
	else if (strcmp(text, full) != 0)
	{
		/* cut: '"' + a prefix of the full body + '"...' */
		size_t		body = len >= 5 ? len - 4 : 0;

		CHECK_MSG(len >= 5 && text[0] == '"' && strcmp(text + body, "\"...") == 0 &&
				  strncmp(text, full, body) == 0,
				  "description of [%s] in %zu bytes is %s, full one %s",
				  show_hex(id), outsize, text, full);
	}
	/* whatever was cut, the text is valid UTF-8 without controls */
	CHECK(len == 0 || ref_id_verdict((const uint8_t *) text, len, false) == ID_VALID);
	free(block);
}

static void
check_describe(const char *spec, const char *want)
{
	CrdtBuf		b;
	CrdtSlice	id;
	char		full[512];

	buf_open(&b);
	id = bytes_from_spec(&b, spec);
	{
		ExactCopy	c = exact_copy(id.data, id.len);

		crdt_describe_bytes(full, sizeof(full), c.slice.data, c.slice.len);
		if (want != NULL)
			CHECK_EQ_TEXT(full, strlen(full), want);
		for (size_t outsize = 0; outsize <= strlen(full) + 2; outsize++)
			check_describe_fits(c.slice, outsize, full);
		exact_free(&c);
	}
	crdt_buf_free(&b);
}

void
test_codec_bytes(void)
{
	Rng			rng = rng_for_case(rng_stream("bytes"), 0);

	check_cmp("", "", 0);
	check_cmp("'a'", "'a'", 0);
	check_cmp("", "'a'", -1);
	check_cmp("'a'", "'ab'", -1);
	check_cmp("'ab'", "'b'", -1);
	check_cmp("'B'", "'a'", -1);
	check_cmp("7F", "80", -1);	/* unsigned bytes */
	check_cmp("'a' 7F", "'a' FF", -1);
	check_cmp("00", "", 1);
	check_cmp("'abc'", "'abd'", -1);

	for (long i = 0; i < unit_cases_div(10); i++)
	{
		uint8_t		a[6];
		uint8_t		b[6];
		size_t		alen = (size_t) rng_below(&rng, 7);
		size_t		blen = (size_t) rng_below(&rng, 7);
		int			want;

		/* a small alphabet makes equal prefixes common */
		for (size_t k = 0; k < sizeof(a); k++)
		{
			a[k] = (uint8_t) (0x7e + rng_below(&rng, 3));
			b[k] = (uint8_t) (0x7e + rng_below(&rng, 3));
		}
		want = ref_cmp(slice_of(a, alen), slice_of(b, blen));
		if (!CHECK_EQ_INT(crdt_bytes_cmp(a, alen, b, blen), want))
			unit_note("a = [%s], b = [%s]", show_hex(slice_of(a, alen)),
					  show_hex(slice_of(b, blen)));
	}

	check_describe("'abc'", "\"abc\"");
	check_describe("''", "\"\"");
	check_describe("'a\"b\\c'", "\"a\\u0022b\\u005Cc\"");
	check_describe("01", "\"\\u0001\"");
	check_describe("7F C2 85", "\"\\u007F\\u0085\"");
	check_describe("FF 'a'", "\"\\xFFa\"");
	check_describe("C3 A9 E6 97 A5 F0 9F 98 80", "\"\xC3\xA9\xE6\x97\xA5\xF0\x9F\x98\x80\"");
	check_describe("ED A0 80", "\"\\xED\\xA0\\x80\"");
	check_describe("'a'*64", NULL);
	check_describe("'a'*65",
				   "\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"...");
	check_describe("FF*80", NULL);
	check_describe("'\"'*70", NULL);
	check_describe("01*64", NULL);
	check_describe("'\xF0\x9F\x98\x80'*20", NULL);
	check_describe("'a'*63 F0 9F 98 80", NULL);
	check_describe("'a'*62 F0 9F 98", NULL);
	check_describe("'x' C3", NULL);
}

/* ------------------------------------------------------------ XXH64 */

/* The input of xxHash's own sanity check (xsum_sanity_check.c). */
static void
fill_sanity_buffer(uint8_t *buf, size_t len)
{
	uint64_t	gen = UINT64_C(2654435761);

	for (size_t i = 0; i < len; i++)
	{
		buf[i] = (uint8_t) (gen >> 56);
		gen *= UINT64_C(11400714785074694797);
	}
}

void
test_codec_xxh64(void)
{
	static const struct
	{
		size_t		len;
		uint64_t	seed;
		uint64_t	hash;
	}			sanity[] = {
		/* from xxHash's sanity check; the seed-0 rows re-checked with xxhsum 0.8.1 */
		{0, 0, UINT64_C(0xEF46DB3751D8E999)},
		{0, 2654435761U, UINT64_C(0xAC75FDA2929B17EF)},
		{1, 0, UINT64_C(0xE934A84ADB052768)},
		{1, 2654435761U, UINT64_C(0x5014607643A9B4C3)},
		{4, 0, UINT64_C(0x9136A0DCA57457EE)},
		{14, 0, UINT64_C(0x8282DCC4994E35C8)},
		{14, 2654435761U, UINT64_C(0xC3BD6BF63DEB6DF0)},
		{100, 0, UINT64_C(0x4BFE019CD91D9EA4)},
		{222, 0, UINT64_C(0xB641AE8CB691C174)},
		{222, 2654435761U, UINT64_C(0x20CB8AB7AE10C14A)},
		{2367, 0, UINT64_C(0xA82418DDEC0EA581)},
	};
	static const struct
	{
		size_t		len;
		uint64_t	hash;
	}			pattern[] = {
		/* bytes (31 i + 7) mod 256, seed 0, computed with xxhsum 0.8.1 */
		{1, UINT64_C(0xa96c7f0ce858bbb7)}, {3, UINT64_C(0x56e6957632a487f9)},
		{4, UINT64_C(0xc60d15b1e3ff8f04)}, {5, UINT64_C(0x808815858624dd4e)},
		{7, UINT64_C(0xafbefc3d6c6f9a8e)}, {8, UINT64_C(0x3da5c7aa269683e0)},
		{9, UINT64_C(0x4b17a9ba9e215c09)}, {11, UINT64_C(0x1fc070e44716bd8e)},
		{12, UINT64_C(0x8fe8ab1c1fd0666e)}, {15, UINT64_C(0xae2a37eb9357caa7)},
		{16, UINT64_C(0xa19ad429b02bc413)}, {17, UINT64_C(0xfe9f0feb7eeedc09)},
		{24, UINT64_C(0x929438e5c2159ef9)}, {31, UINT64_C(0x4a74f3a1a39ad4a1)},
		{32, UINT64_C(0x8d57d6a4671cc43d)}, {33, UINT64_C(0x62c9fd21ed857664)},
		{35, UINT64_C(0x85cbcf9e0d9cbeca)}, {39, UINT64_C(0x1789542489e59cc4)},
		{40, UINT64_C(0x49b45332e280f187)}, {47, UINT64_C(0x05e3ab06c6bb0a6b)},
		{63, UINT64_C(0x5c320a0d2707057f)}, {64, UINT64_C(0x7bbabbc45729d17e)},
		{65, UINT64_C(0xf3980c34bae65dc1)}, {100, UINT64_C(0xefa0ad2d3e70c151)},
		{257, UINT64_C(0x6ff15897658784e0)},
	};
	static const uint8_t zero_one[2] = {0x01, 0x00};
	uint8_t    *buf = malloc(2367);
	uint8_t		zeros[100] = {0};

	CHECK_EQ_UINT(crdt_xxh64("", 0, 0), UINT64_C(0xEF46DB3751D8E999));
	CHECK_EQ_UINT(crdt_xxh64("a", 1, 0), UINT64_C(0xD24EC4F1A98C6E5B));
	CHECK_EQ_UINT(crdt_xxh64("abc", 3, 0), UINT64_C(0x44BC2CF5AD770999));
	CHECK_EQ_UINT(crdt_xxh64(zero_one, 2, 0), UINT64_C(0xDD8F621DBF7F57F1));
	CHECK_EQ_UINT(crdt_xxh64(zeros, sizeof(zeros), 0), UINT64_C(0x17BB1103C92C502F));

	fill_sanity_buffer(buf, 2367);
	for (size_t k = 0; k < sizeof(sanity) / sizeof(sanity[0]); k++)
	{
		/* an exact copy: the hash must not read past the input */
		ExactCopy	c = exact_copy(buf, sanity[k].len);

		if (!CHECK_EQ_UINT(crdt_xxh64(c.slice.data, c.slice.len, sanity[k].seed),
						   sanity[k].hash))
			unit_note("sanity buffer, length %zu, seed %llu", sanity[k].len,
					  (unsigned long long) sanity[k].seed);
		exact_free(&c);
	}
	for (size_t i = 0; i < 257; i++)
		buf[i] = (uint8_t) (31 * i + 7);
	for (size_t k = 0; k < sizeof(pattern) / sizeof(pattern[0]); k++)
	{
		ExactCopy	c = exact_copy(buf, pattern[k].len);

		if (!CHECK_EQ_UINT(crdt_xxh64(c.slice.data, c.slice.len, 0), pattern[k].hash))
			unit_note("pattern, length %zu", pattern[k].len);
		exact_free(&c);
	}

	/* the hash depends on alignment of nothing: an offset copy hashes the same */
	for (size_t off = 1; off < 8; off++)
	{
		memmove(buf + off, buf, 100);
		CHECK_EQ_UINT(crdt_xxh64(buf + off, 100, 0), UINT64_C(0xefa0ad2d3e70c151));
		memmove(buf, buf + off, 100);
	}
	free(buf);
}

/* ------------------------------------------------------------ map format */

/* The writer, the parser and the model encoder all give the expected bytes. */
static void
check_encoding(CrdtCounterKind kind, const char *json, const char *spec)
{
	CrdtBuf		want_buf;
	CrdtBuf		got;
	CrdtBuf		model_bytes;
	CrdtSlice	want;
	Model		m;
	CrdtError	err;

	crdt_bufs_init(&crdt_malloc_allocator, &want_buf, &got, &model_bytes, NULL);
	model_init(&m, kind, 16);
	want = bytes_from_spec(&want_buf, spec);
	value_from_json(kind, json, &got);
	if (!CHECK_EQ_BYTES(buf_slice(&got), want))
		unit_note("parsing %s", json);
	CHECK_OK(crdt_counter_validate(kind, want, &err), &err);
	if (CHECK(model_decode(&m, want, &err)))
	{
		model_encode(&m, &model_bytes);
		CHECK_EQ_BYTES(buf_slice(&model_bytes), want);
	}
	model_free(&m);
	crdt_bufs_free(&want_buf, &got, &model_bytes, NULL);
}

/* A hand-made invalid value: rejected, with the status and position given. */
static void
check_rejected(CrdtCounterKind kind, const char *spec, CrdtStatus status, long position)
{
	CrdtBuf		b;
	CrdtSlice	bytes;
	CrdtError	err;

	buf_open(&b);
	bytes = bytes_from_spec(&b, spec);
	{
		ExactCopy	c = exact_copy(bytes.data, bytes.len);

		if (!CHECK_ERR(crdt_counter_validate(kind, c.slice, &err), &err, status, position))
			unit_note("%s [%s]", crdt_counter_kind_name(kind), spec);
		exact_free(&c);
	}
	crdt_buf_free(&b);
}

static void
check_writer_spec(void)
{
	CrdtBuf		out;
	CrdtBuf		want;
	CrdtMapWriter w;

	/* a zero count is skipped and the next id front-codes against the last written */
	buf_open(&out);
	buf_open(&want);
	crdt_buf_put_byte(&out, CRDT_FORMAT_V1);
	crdt_map_writer_init(&w, &out);
	crdt_map_writer_add(&w, (const uint8_t *) "ab", 2, 1);
	crdt_map_writer_add(&w, (const uint8_t *) "abc", 3, 0);
	crdt_map_writer_add(&w, (const uint8_t *) "abd", 3, 1);
	crdt_map_writer_finish(&w);
	CHECK_EQ_UINT(w.entries, 2);
	CHECK_EQ_BYTES(buf_slice(&out), bytes_from_spec(&want, "01 02 00 'ab' 01 01 02 'd' 01 00"));
	crdt_buf_free(&out);

	/* headroom is left in front of the value */
	crdt_buf_init(&out, &crdt_malloc_allocator, 4);
	CHECK_EQ_UINT(out.len, 4);
	crdt_counter_write_empty(CRDT_PNCOUNTER, &out);
	CHECK_EQ_BYTES(slice_of(out.data + 4, out.len - 4), bytes_from_spec(&want, "01 00 00"));
	crdt_buf_free(&out);
	crdt_buf_free(&want);
}

/* The empty value of each kind, written directly and parsed from '{}'. */
static void
check_empty_values(void)
{
	static const char *const spec[] = {"01 00", "01 00", "01 00 00"};
	CrdtBuf		out;
	CrdtBuf		want;

	buf_open(&out);
	buf_open(&want);
	for (int kind = CRDT_VCLOCK; kind <= CRDT_PNCOUNTER; kind++)
	{
		buf_reset(&out);
		crdt_counter_write_empty((CrdtCounterKind) kind, &out);
		CHECK_EQ_BYTES(buf_slice(&out), bytes_from_spec(&want, spec[kind]));
		check_encoding((CrdtCounterKind) kind, "{}", spec[kind]);
	}
	crdt_buf_free(&out);
	crdt_buf_free(&want);
}

/* Reads a map with the low-level reader, span and halves. */
static void
check_reader(void)
{
	CrdtBuf		b;
	CrdtSlice	v;
	CrdtSlice	half[2];
	CrdtMapReader r;
	CrdtMapEntry e;
	CrdtError	err;
	size_t		span = 0;
	size_t		entries = 0;

	buf_open(&b);
	v = bytes_from_spec(&b, "01 02 00 C3 A9 05 01 01 AA 07 00 01 00 'b' 02 00");
	CHECK_OK(crdt_counter_validate(CRDT_PNCOUNTER, v, &err), &err);
	CHECK_OK(crdt_map_span(v.data + 1, v.len - 1, &span, &entries, &err), &err);
	CHECK_EQ_UINT(span, 10);
	CHECK_EQ_UINT(entries, 2);
	CHECK_OK(crdt_counter_halves(CRDT_PNCOUNTER, v, half, &err), &err);
	CHECK(half[0].data == v.data + 1 && half[0].len == 10);
	CHECK(half[1].data == v.data + 11 && half[1].len == 5);

	crdt_map_reader_init(&r, v.data + 1, v.len - 1, 1);
	CHECK_EQ_INT(crdt_map_reader_next(&r, &e, &err), 1);
	CHECK_EQ_TEXT(e.id, e.len, "\xC3\xA9");
	CHECK_EQ_UINT(e.count, 5);
	CHECK_EQ_INT(crdt_map_reader_next(&r, &e, &err), 1);
	CHECK_EQ_TEXT(e.id, e.len, "\xC3\xAA");
	CHECK_EQ_UINT(e.count, 7);
	CHECK_EQ_INT(crdt_map_reader_next(&r, &e, &err), 0);
	CHECK(r.pos == v.data + 11);
	CHECK_EQ_INT(crdt_map_reader_next(&r, &e, &err), 0);	/* stays at the end */

	/* vclock and gcounter have an empty second half */
	v = bytes_from_spec(&b, "01 01 00 'a' 01 00");
	CHECK_OK(crdt_counter_halves(CRDT_GCOUNTER, v, half, &err), &err);
	CHECK(half[1].len == 1 && half[1].data[0] == 0);
	crdt_buf_free(&b);
}

/*
 * crdt_map_writer_merge_next against the model: entries mostly in order,
 * with repeats (larger and smaller counts) and some out of order, which
 * must be refused without writing anything.
 */
static void
check_merge_next(void)
{
	uint64_t	stream = rng_stream("merge_next");
	Model		want;
	CrdtBuf		out;
	CrdtBuf		expected;

	model_init(&want, CRDT_GCOUNTER, 64);
	buf_open(&out);
	buf_open(&expected);
	for (long i = 0; i < unit_cases_div(100); i++)
	{
		Rng			rng = rng_for_case(stream, (uint64_t) i);
		Model		input;
		CrdtMapWriter w;
		long		failures = unit_run.failures;

		model_init(&input, CRDT_GCOUNTER, 64);
		model_random(&input, &rng, 16);
		model_clear(&want);
		buf_reset(&out);
		crdt_buf_put_byte(&out, CRDT_FORMAT_V1);
		crdt_map_writer_init(&w, &out);
		for (size_t k = 0; k < input.n[0]; k++)
		{
			const ModelEntry *e = &input.half[0][k];
			int			repeats = 1 + (int) rng_below(&rng, 3);

			for (int r = 0; r < repeats; r++)
			{
				uint64_t	count = r == 0 ? e->count : 1 + rng_below(&rng, e->count);
				int			rc = crdt_map_writer_merge_next(&w, e->id, e->len, count);

				CHECK_EQ_INT(rc, r == 0 ? 1 : 0);
				model_max(&want, 0, e->id, e->len, count);
			}
			/* an earlier id is refused and changes nothing */
			if (k > 0 && rng_percent(&rng, 30))
			{
				const ModelEntry *before = &input.half[0][rng_below(&rng, k)];
				size_t		len = out.len;

				CHECK_EQ_INT(crdt_map_writer_merge_next(&w, before->id, before->len, 1), -1);
				CHECK_EQ_UINT(out.len, len);
			}
		}
		crdt_map_writer_finish(&w);
		buf_reset(&expected);
		model_encode(&want, &expected);
		CHECK_EQ_BYTES(buf_slice(&out), buf_slice(&expected));
		if (unit_run.failures != failures)
			unit_note("merge_next case %ld (seed %llu)", i, (unsigned long long) unit_run.seed);
		model_free(&input);
	}
	model_free(&want);
	crdt_buf_free(&out);
	crdt_buf_free(&expected);
}

/* Finds the first entry past CRDT_MAX_ENTRIES; ids are 4 base-94 digits. */
static void
check_entry_limit(void)
{
	CrdtBuf		b;
	CrdtError	err;
	uint8_t		prev[4] = {0};
	size_t		over_at = 0;
	long		n = CRDT_MAX_ENTRIES + 1;

	buf_open(&b);
	crdt_buf_put_byte(&b, CRDT_FORMAT_V1);
	for (long i = 0; i < n; i++)
	{
		uint8_t		id[4];
		long		x = i;
		size_t		shared = 0;

		for (int k = 3; k >= 0; k--, x /= 94)
			id[k] = (uint8_t) ('!' + x % 94);
		while (i > 0 && shared < 4 && id[shared] == prev[shared])
			shared++;
		if (i == CRDT_MAX_ENTRIES)
			over_at = b.len;
		crdt_buf_put_byte(&b, (uint8_t) (4 - shared));
		crdt_buf_put_byte(&b, (uint8_t) shared);
		crdt_buf_put(&b, id + shared, 4 - shared);
		crdt_buf_put_byte(&b, 1);
		memcpy(prev, id, 4);
	}
	crdt_buf_put_byte(&b, 0);
	CHECK(!b.failed);
	CHECK_ERR(crdt_counter_validate(CRDT_GCOUNTER, buf_slice(&b), &err), &err,
			  CRDT_ERR_TOO_LARGE, (long) over_at);
	crdt_buf_free(&b);
}

void
test_codec_map(void)
{
	check_empty_values();
	check_writer_spec();
	check_reader();
	check_merge_next();

	check_encoding(CRDT_GCOUNTER, "{\"agent-041\":1,\"agent-042\":2}",
				   "01 09 00 'agent-041' 01 01 08 '2' 02 00");
	check_encoding(CRDT_GCOUNTER, "{\"ab\":1,\"abc\":300}", "01 02 00 'ab' 01 01 02 'c' AC 02 00");
	check_encoding(CRDT_VCLOCK, "{\"abc\":1,\"abd\":1,\"b\":1}",
				   "01 03 00 'abc' 01 01 02 'd' 01 01 00 'b' 01 00");
	check_encoding(CRDT_GCOUNTER, "{\"a\":9223372036854775807}",
				   "01 01 00 'a' FF FF FF FF FF FF FF FF 7F 00");
	check_encoding(CRDT_GCOUNTER, "{\"\xC3\xA9\":1,\"\xC3\xAA\":1}",
				   "01 02 00 C3 A9 01 01 01 AA 01 00");
	check_encoding(CRDT_GCOUNTER,
				   "{\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\":128}",
				   "01 40 00 'a'*64 80 01 00");
	check_encoding(CRDT_PNCOUNTER, "{\"p\":{\"a\":1},\"n\":{\"b\":2}}",
				   "01 01 00 'a' 01 00 01 00 'b' 02 00");
	/* the N map front-codes from scratch */
	check_encoding(CRDT_PNCOUNTER, "{\"p\":{\"ab\":1},\"n\":{\"ab\":2}}",
				   "01 02 00 'ab' 01 00 02 00 'ab' 02 00");
	check_encoding(CRDT_PNCOUNTER, "{\"n\":{\"x\":3}}", "01 00 01 00 'x' 03 00");

	/* non-canonical and malformed values, with the offset of the culprit */
	static const struct
	{
		CrdtCounterKind kind;
		const char *spec;
		long		position;
	}			malformed[] = {
		{CRDT_GCOUNTER, "", 0},
		{CRDT_GCOUNTER, "00 00", 0},
		{CRDT_GCOUNTER, "02 00", 0},
		{CRDT_GCOUNTER, "01", 1},
		{CRDT_GCOUNTER, "01 01 00 'a' 01", 5},
		{CRDT_GCOUNTER, "01 00 00", 2},
		{CRDT_GCOUNTER, "01 00 'x'", 2},
		{CRDT_PNCOUNTER, "01 00 00 00", 3},
		{CRDT_PNCOUNTER, "01 00", 2},
		{CRDT_PNCOUNTER, "01 01 00 'a' 01 00", 6},
		{CRDT_PNCOUNTER, "01 00 01 00 'a' 01", 6},
		/* ids out of order, equal, with a shared prefix that is not maximal or too long */
		{CRDT_GCOUNTER, "01 01 00 'b' 01 01 00 'a' 01 00", 5},
		{CRDT_GCOUNTER, "01 01 00 'a' 01 01 00 'a' 01 00", 5},
		{CRDT_GCOUNTER, "01 02 00 'ab' 01 01 01 'b' 01 00", 6},
		{CRDT_GCOUNTER, "01 02 00 'ab' 01 02 00 'ac' 01 00", 6},
		{CRDT_GCOUNTER, "01 02 00 'ab' 01 01 01 'a' 01 00", 6},
		{CRDT_GCOUNTER, "01 01 00 'a' 01 01 02 'b' 01 00", 5},
		{CRDT_GCOUNTER, "01 01 01 'a' 01 00", 1},
		/* a zero-length suffix is the terminator, so an "equal id" leaves trailing bytes */
		{CRDT_GCOUNTER, "01 01 00 'a' 01 00 01 01", 6},
		/* id length */
		{CRDT_GCOUNTER, "01 41 00 'a'*65 01 00", 1},
		{CRDT_GCOUNTER, "01 3C 00 'a'*60 01 05 3C 'b'*5 01 00", 64},
		{CRDT_GCOUNTER, "01 3C 00 'a'*60 01 04 3C 'b'*4 01 00 00", 72},
		{CRDT_GCOUNTER, "01 FF FF FF FF FF FF FF FF FF 01 00 'a' 01 00", 1},
		{CRDT_GCOUNTER, "01 05 00 'abc' 01 00", 1},
		/* ids that are not valid replica ids, also once front coding joins them */
		{CRDT_GCOUNTER, "01 01 00 FF 01 00", 1},
		{CRDT_GCOUNTER, "01 01 00 0A 01 00", 1},
		{CRDT_GCOUNTER, "01 02 00 C2 85 01 00", 1},
		{CRDT_GCOUNTER, "01 02 00 C3 A9 01 01 01 'A' 01 00", 6},
		{CRDT_GCOUNTER, "01 02 00 C3 A9 01 01 01 C0 01 00", 6},
		{CRDT_GCOUNTER, "01 01 00 C3 01 00", 1},
		/* counts */
		{CRDT_GCOUNTER, "01 01 00 'a' 00 00", 1},
		{CRDT_GCOUNTER, "01 01 00 'a' 80 80 80 80 80 80 80 80 80 01 00", 1},
		{CRDT_GCOUNTER, "01 01 00 'a' FF FF FF FF FF FF FF FF FF 01 00", 1},
		{CRDT_GCOUNTER, "01 01 00 'a' FF FF FF FF FF FF FF FF FF 02 00", 1},
		{CRDT_PNCOUNTER, "01 00 01 00 'a' 00 00", 2},
		/* non-minimal varints in each field, and in the terminator */
		{CRDT_GCOUNTER, "01 01 00 'a' 81 00 00", 1},
		{CRDT_GCOUNTER, "01 81 00 00 'a' 01 00", 1},
		{CRDT_GCOUNTER, "01 01 80 00 'a' 01 00", 1},
		{CRDT_GCOUNTER, "01 80 00", 1},
		{CRDT_GCOUNTER, "01 01 00 'a' 01 80 00", 5},
		/* truncated in each field */
		{CRDT_GCOUNTER, "01 01", 1},
		{CRDT_GCOUNTER, "01 01 00", 1},
		{CRDT_GCOUNTER, "01 03 00 'ab'", 1},
		{CRDT_GCOUNTER, "01 01 00 'a' 80", 1},
	};

	for (size_t i = 0; i < sizeof(malformed) / sizeof(malformed[0]); i++)
		check_rejected(malformed[i].kind, malformed[i].spec, CRDT_ERR_BINARY, malformed[i].position);

	/* the biggest accepted id: shared + suffix = 64 */
	check_encoding(CRDT_GCOUNTER,
				   "{\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\":1,"
				   "\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaabbbb\":1}",
				   "01 3C 00 'a'*60 01 04 3C 'b'*4 01 00");

	check_entry_limit();
}

/* ------------------------------------------------------------ hostile input */

typedef struct HostileCtx
{
	CrdtCounterKind kind;		/* of the value that was corrupted */
	CrdtSlice	good;			/* a valid value of that kind */
	CrdtBuf		out;
	CrdtBuf		again;
	CrdtBuf		value;			/* the one corrupted */
	Model		model;
	long		accepted[CRDT_PNCOUNTER + 1];	/* by the kind of the corrupted value */
	long		rejected[CRDT_PNCOUNTER + 1];
} HostileCtx;

/* Accepted bytes must be the one canonical form of their state. */
static void
check_canonical(HostileCtx *h, CrdtCounterKind kind, CrdtSlice bad)
{
	CrdtError	err;

	buf_reset(&h->out);
	buf_reset(&h->again);
	if (!CHECK_OK(crdt_counter_print(kind, bad, &h->out, &err), &err) ||
		!CHECK_OK(crdt_counter_parse(kind, (const char *) h->out.data, h->out.len,
									 &h->again, &err), &err) ||
		!CHECK_EQ_BYTES(buf_slice(&h->again), bad))
		unit_note("accepted %s [%s]", crdt_counter_kind_name(kind), show_hex(bad));

	h->model.kind = kind;
	buf_reset(&h->again);
	if (CHECK(model_decode(&h->model, bad, &err)))
	{
		model_encode(&h->model, &h->again);
		if (!CHECK_EQ_BYTES(buf_slice(&h->again), bad))
			unit_note("accepted %s [%s]", crdt_counter_kind_name(kind), show_hex(bad));
	}
}

/* Operations on bad input fail cleanly or give valid output; ASan checks the rest. */
static void
check_ops_survive(HostileCtx *h, CrdtCounterKind kind, CrdtSlice bad)
{
	CrdtError	err;
	CrdtStatus	st;
	int64_t		v;

	buf_reset(&h->out);
	st = crdt_counter_merge(kind, bad, h->good, &h->out, &err);
	CHECK(st == CRDT_OK || st == CRDT_ERR_BINARY);
	if (st == CRDT_OK)
		CHECK_OK(crdt_counter_validate(kind, buf_slice(&h->out), &err), &err);
	buf_reset(&h->out);
	st = crdt_counter_delta(kind, h->good, bad, &h->out, &err);
	CHECK(st == CRDT_OK || st == CRDT_ERR_BINARY);
	if (st == CRDT_OK)
		CHECK_OK(crdt_counter_validate(kind, buf_slice(&h->out), &err), &err);
	st = crdt_counter_value(kind, bad, &v, &err);
	CHECK(st == CRDT_OK || st == CRDT_ERR_BINARY || st == CRDT_ERR_OVERFLOW);
	buf_reset(&h->out);
	st = crdt_counter_print(kind, bad, &h->out, &err);
	CHECK(st == CRDT_OK || st == CRDT_ERR_BINARY);
	buf_reset(&h->out);
	st = crdt_counter_add(kind, bad, (const uint8_t *) "a", 1, 1, &h->out, &err);
	CHECK(st == CRDT_OK || st == CRDT_ERR_BINARY || st == CRDT_ERR_OVERFLOW);
	if (st == CRDT_OK)
		CHECK_OK(crdt_counter_validate(kind, buf_slice(&h->out), &err), &err);
	st = crdt_counter_get(kind, bad, (const uint8_t *) "a", 1, &v, &err);
	CHECK(st == CRDT_OK || st == CRDT_ERR_BINARY);
	{
		int			order;

		st = crdt_counter_compare(kind, h->good, bad, &order, &err);
		CHECK(st == CRDT_OK || st == CRDT_ERR_BINARY);
	}
	if (kind == CRDT_VCLOCK)
	{
		CrdtOrder	order;

		st = crdt_vclock_compare(bad, h->good, &order, &err);
		CHECK(st == CRDT_OK || st == CRDT_ERR_BINARY);
		st = crdt_vclock_distance(h->good, bad, &v, &err);
		CHECK(st == CRDT_OK || st == CRDT_ERR_BINARY || st == CRDT_ERR_OVERFLOW);
	}
}

static void
hostile_visit(void *arg, CrdtSlice bad)
{
	HostileCtx *h = arg;
	CrdtError	err;

	/* under every kind's rules, not only the kind it came from */
	for (int kind = CRDT_VCLOCK; kind <= CRDT_PNCOUNTER; kind++)
	{
		CrdtStatus	st = crdt_counter_validate((CrdtCounterKind) kind, bad, &err);

		if (st == CRDT_OK)
		{
			check_canonical(h, (CrdtCounterKind) kind, bad);
			h->accepted[h->kind]++;
		}
		else
		{
			if (!CHECK((st == CRDT_ERR_BINARY || st == CRDT_ERR_TOO_LARGE) &&
					   err.position >= 0 && (size_t) err.position <= bad.len))
				unit_note("validate(%s, [%s]) gave %s at %ld: %s",
						  crdt_counter_kind_name((CrdtCounterKind) kind), show_hex(bad),
						  unit_status_name(st), err.position, err.message);
			h->rejected[h->kind]++;
		}
	}
	check_ops_survive(h, h->kind, bad);
}

/* the case's value is the valid one the corrupted values are combined with */
static void
codec_hostile_case(void *arg, Model *m, CrdtSlice value, Rng *rng, long index)
{
	HostileCtx *h = arg;

	(void) index;
	h->kind = m->kind;
	h->good = value;
	model_random(m, rng, 12);
	buf_reset(&h->value);
	model_encode(m, &h->value);
	hostile_each(buf_slice(&h->value), rng, 200, hostile_visit, h);
}

void
test_codec_hostile(void)
{
	HostileCtx	h = {0};

	crdt_bufs_init(&crdt_malloc_allocator, &h.out, &h.again, &h.value, NULL);
	model_init(&h.model, CRDT_VCLOCK, 64);
	counter_for_cases("hostile binary", unit_cases_div(2000), codec_hostile_case, &h);
	/* the corruptions of each kind reach both outcomes */
	for (int kind = CRDT_VCLOCK; kind <= CRDT_PNCOUNTER; kind++)
		CHECK(h.accepted[kind] > 0 && h.rejected[kind] > 0);
	model_free(&h.model);
	crdt_bufs_free(&h.out, &h.again, &h.value, NULL);
}
