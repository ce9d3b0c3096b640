/*
 * bcounter.c — fuzz target for the bounded counter.
 *
 * The first byte picks what the rest is:
 *   0: bytes for crdt_bcounter_validate; what passes prints, parses back
 *      to the same bytes, merges with itself to itself, and no replica has
 *      negative rights (the value is the sum of the rights);
 *   1: text for crdt_bcounter_parse; what parses validates and its text
 *      parses back to the same bytes;
 *   else: a program over three replicas, three bytes an operation (what,
 *      which replica, amount): increments, decrements, transfers and
 *      merges; spending fails exactly beyond the rights the replica holds,
 *      every state stays valid and, all merged, the value is exact.
 */
#include "fuzz_common.h"

#include <stdlib.h>
#include <string.h>

static const char *const replica[3] = {"r0", "r1", "r2"};

static void
check_valid(CrdtSlice v)
{
	CrdtBuf		text;
	CrdtBuf		back;
	CrdtBuf		self;
	CrdtError	err;
	CrdtBcounterEntry *e = NULL;
	size_t		n = 0;
	int64_t		value;
	int64_t		sum = 0;
	bool		fits = true;

	fuzz_buf_open(&text);
	fuzz_buf_open(&back);
	fuzz_buf_open(&self);
	FUZZ_CHECK(crdt_bcounter_print(v, &text, &err) == CRDT_OK, "print: %s", err.message);
	FUZZ_CHECK(crdt_bcounter_parse((const char *) text.data, text.len, &back, &err) == CRDT_OK,
			   "reparse: %s", err.message);
	FUZZ_CHECK(fuzz_slice_equal((CrdtSlice) {back.data, back.len}, v), "text round trip changed the bytes");
	FUZZ_CHECK(crdt_bcounter_merge(v, v, &self, &err) == CRDT_OK, "merge: %s", err.message);
	FUZZ_CHECK(fuzz_slice_equal((CrdtSlice) {self.data, self.len}, v), "merge with itself changed it");
	FUZZ_CHECK(crdt_bcounter_entries(v, &crdt_malloc_allocator, &e, &n, &err) == CRDT_OK,
			   "entries: %s", err.message);
	for (size_t k = 0; k < n; k++)
	{
		FUZZ_CHECK(e[k].rights_overflow || e[k].rights >= 0, "negative rights in a valid value");
		if (e[k].rights_overflow || __builtin_add_overflow(sum, e[k].rights, &sum))
			fits = false;
	}
	free(e);
	if (crdt_bcounter_value(v, &value, &err) == CRDT_OK)
	{
		FUZZ_CHECK(value >= 0, "negative value");
		FUZZ_CHECK(!fits || value == sum, "value %lld is not the sum of rights %lld",
				   (long long) value, (long long) sum);
	}
	crdt_buf_free(&text);
	crdt_buf_free(&back);
	crdt_buf_free(&self);
}

static int64_t
rights_of(CrdtSlice v, int r)
{
	CrdtError	err;
	int64_t		x = 0;

	FUZZ_CHECK(crdt_bcounter_rights(v, (const uint8_t *) replica[r], 2, &x, &err) == CRDT_OK,
			   "rights: %s", err.message);
	return x;
}

static void
run_program(const uint8_t *p, size_t len)
{
	CrdtBuf		node[3];
	CrdtBuf		out;
	CrdtError	err;
	int64_t		own[3] = {0, 0, 0};	/* what each replica added minus spent */
	int64_t		value;

	for (int r = 0; r < 3; r++)
	{
		fuzz_buf_open(&node[r]);
		crdt_bcounter_write_empty(&node[r]);
	}
	for (size_t k = 0; k + 3 <= len; k += 3)
	{
		int			r = p[k + 1] % 3;
		int			o = (p[k + 1] / 3) % 3;
		int64_t		by = 1 + p[k + 2] % 40;
		CrdtSlice	v = {node[r].data, node[r].len};
		int64_t		rights = rights_of(v, r);
		CrdtStatus	st;

		fuzz_buf_open(&out);
		switch (p[k] % 4)
		{
			case 0:
				st = crdt_bcounter_increment(v, (const uint8_t *) replica[r], 2, by, &out, &err);
				FUZZ_CHECK(st == CRDT_OK, "increment: %s", err.message);
				own[r] += by;
				break;
			case 1:
				st = crdt_bcounter_decrement(v, (const uint8_t *) replica[r], 2, by, &out, &err);
				FUZZ_CHECK(st == (by <= rights ? CRDT_OK : CRDT_ERR_RIGHTS), "decrement: %s",
						   fuzz_status_name(st));
				if (st == CRDT_OK)
					own[r] -= by;
				break;
			case 2:
				if (o == r)
					o = (r + 1) % 3;
				st = crdt_bcounter_transfer(v, (const uint8_t *) replica[r], 2,
											(const uint8_t *) replica[o], 2, by, &out, &err);
				FUZZ_CHECK(st == (by <= rights ? CRDT_OK : CRDT_ERR_RIGHTS), "transfer: %s",
						   fuzz_status_name(st));
				break;
			default:
				st = crdt_bcounter_merge(v, (CrdtSlice) {node[o].data, node[o].len}, &out, &err);
				FUZZ_CHECK(st == CRDT_OK, "merge: %s", err.message);
				break;
		}
		if (st == CRDT_OK)
		{
			crdt_buf_free(&node[r]);
			node[r] = out;
			FUZZ_CHECK(crdt_bcounter_validate((CrdtSlice) {node[r].data, node[r].len}, &err) == CRDT_OK,
					   "a reachable state is invalid: %s", err.message);
		}
		else
			crdt_buf_free(&out);
	}
	for (int r = 1; r < 3; r++)
	{
		fuzz_buf_open(&out);
		FUZZ_CHECK(crdt_bcounter_merge((CrdtSlice) {node[0].data, node[0].len},
									   (CrdtSlice) {node[r].data, node[r].len}, &out, &err) == CRDT_OK,
				   "final merge: %s", err.message);
		crdt_buf_free(&node[0]);
		node[0] = out;
	}
	check_valid((CrdtSlice) {node[0].data, node[0].len});
	FUZZ_CHECK(crdt_bcounter_value((CrdtSlice) {node[0].data, node[0].len}, &value, &err) == CRDT_OK,
			   "value: %s", err.message);
	FUZZ_CHECK(value == own[0] + own[1] + own[2], "value %lld, not %lld", (long long) value,
			   (long long) (own[0] + own[1] + own[2]));
	for (int r = 0; r < 3; r++)
		crdt_buf_free(&node[r]);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	CrdtError	err;
	CrdtBuf		out;
	CrdtSlice	rest;

	if (size < 1)
		return 0;
	rest = fuzz_exact(data + 1, size - 1);
	if (data[0] == 0)
	{
		if (crdt_bcounter_validate(rest, &err) == CRDT_OK)
			check_valid(rest);
	}
	else if (data[0] == 1)
	{
		fuzz_buf_open(&out);
		if (crdt_bcounter_parse((const char *) rest.data, rest.len, &out, &err) == CRDT_OK)
		{
			CrdtSlice	v = fuzz_exact_buf(&out);

			FUZZ_CHECK(crdt_bcounter_validate(v, &err) == CRDT_OK, "parsed but invalid: %s", err.message);
			check_valid(v);
		}
		crdt_buf_free(&out);
	}
	else
		run_program(rest.data, rest.len);
	fuzz_exact_release_all();
	return 0;
}
