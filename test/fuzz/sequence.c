/*
 * sequence.c — fuzz target for rtext and rlist (src/core/sequence*.c).
 *
 * Byte 0: bit 0 picks the type (rtext, rlist), bits 1-2 the mode:
 *   0  the rest is a binary value: validate accepts it (then it is
 *      canonical: print -> parse gives the same bytes, and every operation
 *      on it succeeds) or refuses it as malformed / too large, and every
 *      operation on the unvalidated bytes refuses it the same way;
 *   1  the rest is text: parse accepts it (a valid, canonical value) or
 *      refuses it as syntax / overflow / too large;
 *   2, 3  the rest is a program run on three replicas (insert, delete,
 *      merge, merge by delta): the laws (commutative, idempotent,
 *      associative, delta, merge of many = pairwise merges, text round
 *      trip) hold on the three states, and after everyone has everything
 *      the three states are byte-equal.
 */
#include "fuzz_common.h"

#include <string.h>

static const CrdtType *
type_of(CrdtSeqKind kind)
{
	return kind == CRDT_RTEXT ? &crdt_type_rtext : &crdt_type_rlist;
}

static void
check_canonical(CrdtSeqKind kind, CrdtSlice v, const char *what)
{
	const CrdtType *t = type_of(kind);
	CrdtBuf		text;
	CrdtBuf		back;
	CrdtError	err;
	CrdtStatus	st;

	fuzz_buf_open(&text);
	fuzz_buf_open(&back);
	st = t->print(v, &text, &err);
	FUZZ_CHECK(st == CRDT_OK, "%s: print gives %s: %s", what, fuzz_status_name(st), err.message);
	st = t->parse((const char *) text.data, text.len, &back, &err);
	FUZZ_CHECK(st == CRDT_OK, "%s: parse of its text gives %s: %s", what, fuzz_status_name(st), err.message);
	FUZZ_CHECK(fuzz_slice_equal(fuzz_exact_buf(&back), v), "%s: text round trip changes the bytes", what);
	crdt_buf_free(&text);
	crdt_buf_free(&back);
}

static void
binary_mode(CrdtSeqKind kind, CrdtSlice v)
{
	const CrdtType *t = type_of(kind);
	CrdtError	err;
	CrdtStatus	st = t->validate(v, &err);
	CrdtStatus	op;
	CrdtBuf		out;
	size_t		len;

	FUZZ_CHECK(st == CRDT_OK || st == CRDT_ERR_BINARY || st == CRDT_ERR_TOO_LARGE,
			   "validate gives %s", fuzz_status_name(st));
	fuzz_buf_open(&out);
	/* the operations decode with the same validation */
	op = t->merge(v, fuzz_empty(t), &out, &err);
	FUZZ_CHECK(op == st, "merge gives %s, validate %s", fuzz_status_name(op), fuzz_status_name(st));
	if (st == CRDT_OK)
		FUZZ_CHECK(fuzz_slice_equal(fuzz_exact_buf(&out), v), "merge with empty changes a valid value");
	fuzz_buf_reset(&out);
	op = t->delta(v, v, &out, &err);
	FUZZ_CHECK(op == st, "delta gives %s, validate %s", fuzz_status_name(op), fuzz_status_name(st));
	fuzz_buf_reset(&out);
	op = crdt_seq_value(kind, v, &out, &err);
	FUZZ_CHECK(op == st, "value gives %s, validate %s", fuzz_status_name(op), fuzz_status_name(st));
	op = crdt_seq_length(kind, v, &len, &err);
	FUZZ_CHECK(op == st, "length gives %s, validate %s", fuzz_status_name(op), fuzz_status_name(st));
	if (st == CRDT_OK)
	{
		check_canonical(kind, v, "accepted bytes");
		fuzz_buf_reset(&out);
		op = crdt_seq_splice(kind, v, 0, len > 0, (const uint8_t *) "1", 1, (const uint8_t *) "z", 1,
							 &out, &err);
		FUZZ_CHECK(op == CRDT_OK || op == CRDT_ERR_OVERFLOW || op == CRDT_ERR_TOO_LARGE,
				   "splice on a valid value gives %s: %s", fuzz_status_name(op), err.message);
		if (op == CRDT_OK)
			check_canonical(kind, fuzz_exact_buf(&out), "edited value");
	}
	crdt_buf_free(&out);
}

static void
text_mode(CrdtSeqKind kind, const uint8_t *text, size_t len)
{
	const CrdtType *t = type_of(kind);
	CrdtSlice	in = fuzz_exact(text, len);
	CrdtBuf		out;
	CrdtError	err;
	CrdtStatus	st;

	fuzz_buf_open(&out);
	st = t->parse((const char *) in.data, in.len, &out, &err);
	FUZZ_CHECK(st == CRDT_OK || st == CRDT_ERR_SYNTAX || st == CRDT_ERR_OVERFLOW || st == CRDT_ERR_TOO_LARGE,
			   "parse gives %s: %s", fuzz_status_name(st), err.message);
	if (st != CRDT_OK)
		FUZZ_CHECK(err.position <= (long) len, "error position %ld past the text", err.position);
	else
	{
		CrdtSlice	v = fuzz_exact_buf(&out);

		st = t->validate(v, &err);
		FUZZ_CHECK(st == CRDT_OK, "parsed value does not validate: %s", err.message);
		check_canonical(kind, v, "parsed value");
	}
	crdt_buf_free(&out);
}

/* ------------------------------------------------------------ programs */

static const char *const replicas[3] = {"a", "ab", "B"};
static const char *const items[2][4] = {
	{"x", "\xC3\xA9", "yz", "\xF0\x9F\x98\x80"},
	{"1", "\"s\"", "{\"k\":[true,null]}", "[]"}
};

static void
merged(CrdtSeqKind kind, CrdtSlice a, CrdtSlice b, CrdtBuf *out)
{
	CrdtError	err;
	CrdtStatus	st;

	fuzz_buf_reset(out);
	st = type_of(kind)->merge(a, b, out, &err);
	FUZZ_CHECK(st == CRDT_OK, "merge of valid values gives %s: %s", fuzz_status_name(st), err.message);
}

static void
step(CrdtSeqKind kind, CrdtBuf st[3], const uint8_t **p, const uint8_t *end)
{
	uint8_t		op = *(*p)++;
	uint8_t		arg = *p < end ? *(*p)++ : 0;
	int			r = (op >> 2) % 3;
	int			from = (op >> 4) % 3;
	CrdtSlice	cur = fuzz_exact_buf(&st[r]);
	CrdtBuf		out;
	CrdtError	err;
	size_t		len;
	CrdtStatus	s;

	fuzz_buf_open(&out);
	FUZZ_CHECK(crdt_seq_length(kind, cur, &len, &err) == CRDT_OK, "length: %s", err.message);
	if ((op & 3) == 0 || ((op & 3) == 1 && len == 0))
	{
		const char *item = items[kind][arg & 3];

		s = crdt_seq_splice(kind, cur, arg % (len + 1), 0, (const uint8_t *) item, strlen(item),
							(const uint8_t *) replicas[r], strlen(replicas[r]), &out, &err);
	}
	else if ((op & 3) == 1)
	{
		size_t		pos = arg % len;

		s = crdt_seq_splice(kind, cur, pos, 1 + (op >> 6) % (len - pos), NULL, 0,
							(const uint8_t *) "-", 1, &out, &err);
	}
	else
	{
		CrdtSlice	other = fuzz_exact_buf(&st[from]);

		if ((op & 3) == 3)
		{
			CrdtBuf		d;

			fuzz_buf_open(&d);
			s = type_of(kind)->delta(other, cur, &d, &err);
			FUZZ_CHECK(s == CRDT_OK, "delta: %s", err.message);
			other = fuzz_exact_buf(&d);
			crdt_buf_free(&d);
		}
		merged(kind, cur, other, &out);
		s = CRDT_OK;
	}
	FUZZ_CHECK(s == CRDT_OK, "edit gives %s: %s", fuzz_status_name(s), err.message);
	fuzz_buf_reset(&st[r]);
	crdt_buf_put(&st[r], out.data, out.len);
	crdt_buf_free(&out);
}

static void
check_laws(CrdtSeqKind kind, CrdtSlice a, CrdtSlice b, CrdtSlice c)
{
	const CrdtType *t = type_of(kind);
	CrdtBuf		x;
	CrdtBuf		y;
	CrdtBuf		z;
	CrdtSlice	ab;
	CrdtSlice	bc;
	CrdtSlice	three[3] = {a, b, c};
	CrdtError	err;

	fuzz_buf_open(&x);
	fuzz_buf_open(&y);
	fuzz_buf_open(&z);
	merged(kind, a, b, &x);
	ab = fuzz_exact_buf(&x);
	merged(kind, b, a, &y);
	FUZZ_CHECK(fuzz_slice_equal(fuzz_exact_buf(&y), ab), "merge not commutative");
	merged(kind, a, a, &y);
	FUZZ_CHECK(fuzz_slice_equal(fuzz_exact_buf(&y), a), "merge not idempotent");
	merged(kind, b, c, &y);
	bc = fuzz_exact_buf(&y);
	merged(kind, ab, c, &x);
	merged(kind, a, bc, &y);
	FUZZ_CHECK(fuzz_slice_equal(fuzz_exact_buf(&x), fuzz_exact_buf(&y)), "merge not associative");
	fuzz_buf_reset(&z);
	FUZZ_CHECK(crdt_seq_merge_many(kind, three, 3, &z, &err) == CRDT_OK, "merge_many: %s", err.message);
	FUZZ_CHECK(fuzz_slice_equal(fuzz_exact_buf(&z), fuzz_exact_buf(&x)), "merge of three differs");
	check_canonical(kind, fuzz_exact_buf(&x), "merged value");
	/* merge(b, delta(a, b)) = merge(b, a) */
	fuzz_buf_reset(&z);
	FUZZ_CHECK(t->delta(a, b, &z, &err) == CRDT_OK, "delta: %s", err.message);
	check_canonical(kind, fuzz_exact_buf(&z), "delta");
	merged(kind, b, fuzz_exact_buf(&z), &x);
	merged(kind, b, a, &y);
	FUZZ_CHECK(fuzz_slice_equal(fuzz_exact_buf(&x), fuzz_exact_buf(&y)), "delta law fails");
	crdt_bufs_free(&x, &y, &z, NULL);
}

static void
program_mode(CrdtSeqKind kind, const uint8_t *p, const uint8_t *end)
{
	CrdtBuf		st[3];

	for (int r = 0; r < 3; r++)
	{
		fuzz_buf_open(&st[r]);
		crdt_seq_write_empty(kind, &st[r]);
	}
	for (int n = 0; p < end && n < 200; n++)
		step(kind, st, &p, end);
	check_laws(kind, fuzz_exact_buf(&st[0]), fuzz_exact_buf(&st[1]), fuzz_exact_buf(&st[2]));
	for (int round = 0; round < 2; round++)
		for (int r = 0; r < 3; r++)
		{
			CrdtBuf		out;

			fuzz_buf_open(&out);
			merged(kind, fuzz_exact_buf(&st[r]), fuzz_exact_buf(&st[(r + 1) % 3]), &out);
			fuzz_buf_reset(&st[r]);
			crdt_buf_put(&st[r], out.data, out.len);
			crdt_buf_free(&out);
		}
	for (int r = 1; r < 3; r++)
		FUZZ_CHECK(fuzz_slice_equal(fuzz_exact_buf(&st[r]), fuzz_exact_buf(&st[0])),
				   "replicas differ after exchanging everything");
	for (int r = 0; r < 3; r++)
		crdt_buf_free(&st[r]);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	CrdtSeqKind kind;

	if (size == 0)
		return 0;
	kind = (data[0] & 1) ? CRDT_RLIST : CRDT_RTEXT;
	switch ((data[0] >> 1) & 3)
	{
		case 0:
			binary_mode(kind, fuzz_exact(data + 1, size - 1));
			break;
		case 1:
			text_mode(kind, data + 1, size - 1);
			break;
		default:
			program_mode(kind, data + 1, data + size);
	}
	fuzz_exact_release_all();
	fuzz_notes_clear();
	return 0;
}
