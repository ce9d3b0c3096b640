/*
 * json.c — fuzz target for the JSON value checks of the registers and the
 * byte-level decoders every value goes through.
 *
 * The whole input is handed to:
 *   crdt_json_canonical (the default canonicalizer: syntax, outer
 *     whitespace trimmed): valid output is canonical and a fixed point;
 *   crdt_json_check_canonical (binary register values): accepts exactly
 *     what canonicalizes to itself, refuses the rest as malformed;
 *   crdt_utf8_valid, checked against a plain reference decoder here;
 *   crdt_replica_id_check (the fast path) against crdt_replica_id_problem,
 *     and crdt_element_problem against its definition;
 *   crdt_varint_decode (the inline path) against crdt_varint_decode_long
 *     at the first offsets, and the encoding of what they read;
 *   crdt_describe_bytes, which must stay inside its buffer.
 */
#include "fuzz_common.h"

#include <string.h>

/* RFC 3629 UTF-8, written out independently of base.c. */
static bool
ref_utf8_valid(const uint8_t *s, size_t len)
{
	size_t		i = 0;

	while (i < len)
	{
		uint8_t		c = s[i];
		size_t		n;
		uint32_t	cp;
		uint32_t	min;

		if (c < 0x80)
		{
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf)
			n = 2, cp = c & 0x1f, min = 0x80;
		else if (c >= 0xe0 && c <= 0xef)
			n = 3, cp = c & 0x0f, min = 0x800;
		else if (c >= 0xf0 && c <= 0xf4)
			n = 4, cp = c & 0x07, min = 0x10000;
		else
			return false;
		if (len - i < n)
			return false;
		for (size_t k = 1; k < n; k++)
		{
			if ((s[i + k] & 0xc0) != 0x80)
				return false;
			cp = (cp << 6) | (s[i + k] & 0x3f);
		}
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		i += n;
	}
	return true;
}

/* what the core's lexer skips: JSON's four, and \f and \v ("any whitespace in") */
static bool
is_json_space(uint8_t c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

static void
check_json(CrdtSlice in)
{
	CrdtBuf		out;
	CrdtBuf		again;
	CrdtError	err;
	CrdtStatus	st;
	CrdtStatus	cst;

	fuzz_buf_open(&out);
	fuzz_buf_open(&again);
	st = crdt_json_canonical((const char *) in.data, in.len, &out, &err);
	cst = crdt_json_check_canonical(in.data, in.len, &err);
	FUZZ_CHECK(cst == CRDT_OK || cst == CRDT_ERR_BINARY, "check_canonical gives %s: %s",
			   fuzz_status_name(cst), err.message);
	if (st != CRDT_OK)
	{
		FUZZ_CHECK(st == CRDT_ERR_SYNTAX || st == CRDT_ERR_TOO_LARGE,
				   "json_canonical gives %s: %s", fuzz_status_name(st), err.message);
		FUZZ_CHECK(cst != CRDT_OK, "check_canonical accepts what json_canonical refuses");
		goto done;
	}
	{
		CrdtSlice	canon = fuzz_exact_buf(&out);
		size_t		lead = 0;

		fuzz_note_value("canonical", canon);
		/* the default canonicalizer only trims outer whitespace */
		while (lead < in.len && is_json_space(in.data[lead]))
			lead++;
		FUZZ_CHECK(canon.len >= 1 && lead + canon.len <= in.len &&
				   memcmp(in.data + lead, canon.data, canon.len) == 0,
				   "json_canonical is not the input trimmed");
		for (size_t k = lead + canon.len; k < in.len; k++)
			FUZZ_CHECK(is_json_space(in.data[k]), "json_canonical dropped a non-space");
		FUZZ_CHECK(memchr(canon.data, 0, canon.len) != NULL ||
				   crdt_json_check_canonical(canon.data, canon.len, &err) == CRDT_OK,
				   "the canonical text is refused by check_canonical: %s", err.message);
		st = crdt_json_canonical((const char *) canon.data, canon.len, &again, &err);
		FUZZ_CHECK(st == CRDT_OK && fuzz_slice_equal(fuzz_exact_buf(&again), canon),
				   "json_canonical is not a fixed point");
		FUZZ_CHECK((cst == CRDT_OK) == (fuzz_slice_equal(canon, in) &&
										memchr(in.data, 0, in.len) == NULL),
				   "check_canonical accepts other than the canonical text (gives %s)",
				   fuzz_status_name(cst));
	}
done:
	crdt_buf_free(&out);
	crdt_buf_free(&again);
}

static void
check_varints(CrdtSlice in)
{
	for (size_t at = 0; at < in.len && at < 12; at++)
	{
		const uint8_t *p1 = in.data + at;
		const uint8_t *p2 = in.data + at;
		uint64_t	v1 = 0;
		uint64_t	v2 = 0;
		CrdtVarintResult r1 = crdt_varint_decode(&p1, in.data + in.len, &v1);
		CrdtVarintResult r2 = crdt_varint_decode_long(&p2, in.data + in.len, &v2);

		FUZZ_CHECK(r1 == r2, "varint at %zu: inline gives %d, long %d", at, (int) r1, (int) r2);
		if (r1 != CRDT_VARINT_OK)
			continue;
		FUZZ_CHECK(v1 == v2 && p1 == p2, "varint at %zu: the two paths read differently", at);
		{
			uint8_t		enc[CRDT_VARINT_MAX];
			size_t		n = crdt_varint_encode(enc, v1);

			FUZZ_CHECK(n == (size_t) (p1 - (in.data + at)) && memcmp(enc, in.data + at, n) == 0,
					   "varint at %zu: accepted bytes are not the canonical encoding", at);
		}
	}
}

static void
check_ids(CrdtSlice in)
{
	bool		utf8 = crdt_utf8_valid(in.data, in.len);
	const char *fast = crdt_replica_id_check(in.data, in.len);
	const char *exact = crdt_replica_id_problem(in.data, in.len);
	const char *element = crdt_element_problem(in.data, in.len);
	char		shown[24];

	FUZZ_CHECK(utf8 == ref_utf8_valid(in.data, in.len), "crdt_utf8_valid says %d", (int) utf8);
	FUZZ_CHECK((fast == NULL) == (exact == NULL), "replica id: fast path %s, exact %s",
			   fast ? fast : "ok", exact ? exact : "ok");
	if (exact == NULL)
	{
		FUZZ_CHECK(utf8 && in.len >= 1 && in.len <= CRDT_REPLICA_ID_MAX,
				   "a replica id accepted that is not 1..64 bytes of UTF-8");
		for (size_t k = 0; k < in.len; k++)
			FUZZ_CHECK(in.data[k] >= 0x20 && in.data[k] != 0x7f &&
					   !(in.data[k] == 0xc2 && k + 1 < in.len && in.data[k + 1] < 0xa0),
					   "a replica id accepted with a control character at %zu", k);
	}
	FUZZ_CHECK((element == NULL) == (utf8 && memchr(in.data, 0, in.len) == NULL &&
									 in.len <= CRDT_ELEMENT_MAX),
			   "element check says %s", element ? element : "ok");

	memset(shown, 0x55, sizeof(shown));
	crdt_describe_bytes(shown, sizeof(shown) - 4, in.data, in.len);
	FUZZ_CHECK(memchr(shown, 0, sizeof(shown) - 4) != NULL, "describe_bytes: no terminator");
	for (size_t k = sizeof(shown) - 4; k < sizeof(shown); k++)
		FUZZ_CHECK((uint8_t) shown[k] == 0x55, "describe_bytes wrote past its buffer");
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	CrdtSlice	in;

	fuzz_notes_clear();
	in = fuzz_exact(data, size);
	check_json(in);
	check_varints(in);
	check_ids(in);
	fuzz_exact_release_all();
	return 0;
}
