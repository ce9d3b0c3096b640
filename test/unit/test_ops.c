/*
 * test_ops.c — merge, delta, value, add, get, compare and distance on hand
 * examples and edge cases, then against the model on random values.
 */
#include "unit.h"

#include <stdio.h>
#include <string.h>

#define MAX "9223372036854775807"

/* A few parsed values and an output buffer, reused by every check. */
typedef struct Ops
{
	CrdtCounterKind kind;
	CrdtBuf		a;
	CrdtBuf		b;
	CrdtBuf		want;
	CrdtBuf		out;
	CrdtError	err;
} Ops;

static void
ops_open(Ops *o, CrdtCounterKind kind)
{
	o->kind = kind;
	crdt_bufs_init(&crdt_malloc_allocator, &o->a, &o->b, &o->want, &o->out, NULL);
}

static void
ops_close(Ops *o)
{
	crdt_bufs_free(&o->a, &o->b, &o->want, &o->out, NULL);
}

/* Hand examples: grow_only for the vclock and the gcounter, pncounter for the pncounter. */
static void
ops_by_kind(void (*grow_only) (Ops *o), void (*pncounter) (Ops *o))
{
	Ops			o;

	ops_open(&o, CRDT_VCLOCK);
	for (int kind = CRDT_VCLOCK; kind <= CRDT_GCOUNTER; kind++)
	{
		o.kind = (CrdtCounterKind) kind;
		grow_only(&o);
	}
	o.kind = CRDT_PNCOUNTER;
	pncounter(&o);
	ops_close(&o);
}

typedef CrdtStatus (*BinaryOp) (CrdtCounterKind kind, CrdtSlice x, CrdtSlice y,
								CrdtBuf *out, CrdtError *err);

/* op(a, b) is want, and the output is a valid value */
static void
check_binary(Ops *o, BinaryOp op, const char *name, const char *a, const char *b,
			 const char *want)
{
	CrdtSlice	sa = value_from_json(o->kind, a, &o->a);
	CrdtSlice	sb = value_from_json(o->kind, b, &o->b);
	CrdtSlice	sw = value_from_json(o->kind, want, &o->want);

	buf_reset(&o->out);
	if (!CHECK_OK(op(o->kind, sa, sb, &o->out, &o->err), &o->err) ||
		!CHECK_EQ_BYTES(buf_slice(&o->out), sw))
		unit_note("%s %s(%s, %s) is %s, expected %s", crdt_counter_kind_name(o->kind), name, a, b,
				  show_value(o->kind, buf_slice(&o->out)), want);
	CHECK_OK(crdt_counter_validate(o->kind, buf_slice(&o->out), &o->err), &o->err);
}

static void
check_merge(Ops *o, const char *a, const char *b, const char *want)
{
	check_binary(o, crdt_counter_merge, "merge", a, b, want);
	check_binary(o, crdt_counter_merge, "merge", b, a, want);
}

static void
check_delta(Ops *o, const char *newer, const char *since, const char *want)
{
	check_binary(o, crdt_counter_delta, "delta", newer, since, want);
}

static void
check_value(Ops *o, const char *json, CrdtStatus status, int64_t want)
{
	int64_t		got = 0;
	CrdtStatus	st = crdt_counter_value(o->kind, value_from_json(o->kind, json, &o->a),
										&got, &o->err);

	if (!CHECK_ERR(st, &o->err, status, -1) || (st == CRDT_OK && !CHECK_EQ_INT(got, want)))
		unit_note("%s value of %s", crdt_counter_kind_name(o->kind), json);
}

static void
check_add(Ops *o, const char *json, const char *id, int64_t delta, CrdtStatus status,
		  const char *want)
{
	CrdtSlice	v = value_from_json(o->kind, json, &o->a);
	CrdtStatus	st;

	buf_reset(&o->out);
	st = crdt_counter_add(o->kind, v, (const uint8_t *) id, strlen(id), delta, &o->out, &o->err);
	if (!CHECK_ERR(st, &o->err, status, -1))
		unit_note("%s add(%s, \"%s\", %lld)", crdt_counter_kind_name(o->kind), json, id, (long long) delta);
	else if (st == CRDT_OK &&
			 !CHECK_EQ_BYTES(buf_slice(&o->out), value_from_json(o->kind, want, &o->want)))
		unit_note("%s add(%s, \"%s\", %lld) is %s, expected %s", crdt_counter_kind_name(o->kind), json,
				  id, (long long) delta, show_value(o->kind, buf_slice(&o->out)), want);
}

static void
check_get(Ops *o, const char *json, const char *id, int64_t want)
{
	int64_t		got = 0;
	CrdtSlice	v = value_from_json(o->kind, json, &o->a);

	if (!CHECK_OK(crdt_counter_get(o->kind, v, (const uint8_t *) id, strlen(id), &got,
								   &o->err), &o->err) ||
		!CHECK_EQ_INT(got, want))
		unit_note("%s get(%s, \"%s\")", crdt_counter_kind_name(o->kind), json, id);
}

static void
merge_delta_grow_only(Ops *o)
{
	check_merge(o, "{}", "{}", "{}");
	check_merge(o, "{\"a\":1}", "{}", "{\"a\":1}");
	check_merge(o, "{\"a\":1}", "{\"a\":1}", "{\"a\":1}");
	check_merge(o, "{\"a\":1,\"b\":5}", "{\"a\":3,\"c\":2}", "{\"a\":3,\"b\":5,\"c\":2}");
	check_merge(o, "{\"a\":" MAX "}", "{\"a\":1}", "{\"a\":" MAX "}");
	check_merge(o, "{\"a\":" MAX ",\"b\":" MAX "}", "{\"c\":" MAX "}",
				"{\"a\":" MAX ",\"b\":" MAX ",\"c\":" MAX "}");
	/* front coding is recomputed across the two inputs */
	check_merge(o, "{\"agent-041\":1}", "{\"agent-042\":2}",
				"{\"agent-041\":1,\"agent-042\":2}");
	check_merge(o, "{\"ab\":1,\"b\":1}", "{\"a\":1,\"abc\":1}",
				"{\"a\":1,\"ab\":1,\"abc\":1,\"b\":1}");

	check_delta(o, "{}", "{}", "{}");
	check_delta(o, "{\"a\":1}", "{\"a\":1}", "{}");
	check_delta(o, "{\"a\":1}", "{}", "{\"a\":1}");
	check_delta(o, "{}", "{\"a\":1}", "{}");
	check_delta(o, "{\"a\":3,\"b\":1}", "{\"a\":2,\"b\":1}", "{\"a\":3}");
	check_delta(o, "{\"a\":1}", "{\"a\":5}", "{}");
	check_delta(o, "{\"a\":1,\"ab\":2,\"abc\":3}", "{\"ab\":2}", "{\"a\":1,\"abc\":3}");
}

static void
merge_delta_pncounter(Ops *o)
{
	check_merge(o, "{}", "{}", "{}");
	check_merge(o, "{\"p\":{\"a\":1},\"n\":{\"b\":2}}",
				"{\"p\":{\"b\":1},\"n\":{\"b\":1,\"c\":3}}",
				"{\"p\":{\"a\":1,\"b\":1},\"n\":{\"b\":2,\"c\":3}}");
	check_merge(o, "{\"n\":{\"a\":1}}", "{\"p\":{\"a\":1}}",
				"{\"p\":{\"a\":1},\"n\":{\"a\":1}}");
	check_delta(o, "{\"p\":{\"a\":2},\"n\":{\"a\":1}}", "{\"p\":{\"a\":2}}",
				"{\"n\":{\"a\":1}}");
	check_delta(o, "{\"p\":{\"a\":2},\"n\":{\"a\":1}}", "{\"n\":{\"a\":1}}",
				"{\"p\":{\"a\":2}}");
}

void
test_ops_merge_delta(void)
{
	ops_by_kind(merge_delta_grow_only, merge_delta_pncounter);

	/* a thousand replicas each side, half of them shared */
	for (int kind = CRDT_VCLOCK; kind <= CRDT_PNCOUNTER; kind++)
	{
		Model		a;
		Model		b;
		Model		want;
		Ops			o;

		model_init(&a, (CrdtCounterKind) kind, 2048);
		model_init(&b, (CrdtCounterKind) kind, 2048);
		model_init(&want, (CrdtCounterKind) kind, 2048);
		ops_open(&o, (CrdtCounterKind) kind);
		for (int i = 0; i < 1000; i++)
		{
			char		id[16];

			snprintf(id, sizeof(id), "replica-%04d", i);
			model_max(&a, 0, (const uint8_t *) id, strlen(id), (uint64_t) i + 1);
			snprintf(id, sizeof(id), "replica-%04d", i + 500);
			model_max(&b, kind_halves(o.kind) - 1, (const uint8_t *) id, strlen(id),
					  (uint64_t) (1000 - i));
		}
		model_encode(&a, &o.a);
		model_encode(&b, &o.b);

		model_copy(&want, &a);
		model_merge_into(&want, &b);
		model_encode(&want, &o.want);
		CHECK_OK(crdt_counter_merge(o.kind, buf_slice(&o.a), buf_slice(&o.b), &o.out, &o.err),
				 &o.err);
		CHECK_EQ_BYTES(buf_slice(&o.out), buf_slice(&o.want));

		model_delta(&want, &a, &b);
		buf_reset(&o.want);
		model_encode(&want, &o.want);
		buf_reset(&o.out);
		CHECK_OK(crdt_counter_delta(o.kind, buf_slice(&o.a), buf_slice(&o.b), &o.out, &o.err),
				 &o.err);
		CHECK_EQ_BYTES(buf_slice(&o.out), buf_slice(&o.want));
		ops_close(&o);
		model_free(&a);
		model_free(&b);
		model_free(&want);
	}
}

static void
value_grow_only(Ops *o)
{
	check_value(o, "{}", CRDT_OK, 0);
	check_value(o, "{\"a\":1,\"b\":2}", CRDT_OK, 3);
	check_value(o, "{\"a\":" MAX "}", CRDT_OK, INT64_MAX);
	check_value(o, "{\"a\":9223372036854775806,\"b\":1}", CRDT_OK, INT64_MAX);
	check_value(o, "{\"a\":" MAX ",\"b\":1}", CRDT_ERR_OVERFLOW, 0);
	/* the sum passes 2^64: a 64-bit sum would wrap to a small number */
	check_value(o, "{\"a\":" MAX ",\"b\":" MAX ",\"c\":" MAX "}", CRDT_ERR_OVERFLOW, 0);
	check_value(o, "{\"a\":" MAX ",\"b\":" MAX ",\"c\":2}", CRDT_ERR_OVERFLOW, 0);
}

static void
value_pncounter(Ops *o)
{
	check_value(o, "{}", CRDT_OK, 0);
	check_value(o, "{\"p\":{\"a\":5},\"n\":{\"a\":7}}", CRDT_OK, -2);
	check_value(o, "{\"p\":{\"a\":5,\"b\":1},\"n\":{\"c\":2}}", CRDT_OK, 4);
	/* P alone is past int64, P - N is not */
	check_value(o, "{\"p\":{\"a\":" MAX ",\"b\":" MAX "},\"n\":{\"c\":" MAX "}}",
				CRDT_OK, INT64_MAX);
	check_value(o, "{\"p\":{\"a\":" MAX ",\"b\":" MAX "},\"n\":{\"c\":" MAX ",\"d\":1}}",
				CRDT_OK, INT64_MAX - 1);
	check_value(o, "{\"p\":{\"a\":" MAX ",\"b\":" MAX ",\"c\":" MAX "},"
				"\"n\":{\"d\":" MAX ",\"e\":" MAX ",\"f\":" MAX "}}", CRDT_OK, 0);
	check_value(o, "{\"p\":{\"a\":" MAX ",\"b\":" MAX ",\"c\":" MAX "},"
				"\"n\":{\"d\":" MAX ",\"e\":" MAX "}}", CRDT_OK, INT64_MAX);
	check_value(o, "{\"p\":{\"a\":" MAX ",\"b\":1}}", CRDT_ERR_OVERFLOW, 0);
	/* exactly INT64_MIN is allowed, one below is not */
	check_value(o, "{\"n\":{\"a\":" MAX ",\"b\":1}}", CRDT_OK, INT64_MIN);
	check_value(o, "{\"p\":{\"x\":1},\"n\":{\"a\":" MAX ",\"b\":2}}", CRDT_OK, INT64_MIN);
	check_value(o, "{\"n\":{\"a\":" MAX ",\"b\":2}}", CRDT_ERR_OVERFLOW, 0);
	check_value(o, "{\"p\":{\"a\":1},\"n\":{\"b\":" MAX ",\"c\":" MAX "}}",
				CRDT_ERR_OVERFLOW, 0);
	check_value(o, "{\"n\":{\"a\":" MAX "}}", CRDT_OK, -INT64_MAX);
}

void
test_ops_value(void)
{
	ops_by_kind(value_grow_only, value_pncounter);
}

/* ids every mutator and getter must refuse */
static const char *const bad_ids[] = {
	"", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
	"\xff", "\xC0\x80", "a\nb", "\x7f", "\xC2\x85", "\xED\xA0\x80", "\xF0\x9F\x98"
};

static void
check_bad_ids(Ops *o, int64_t delta)
{
	CrdtSlice	v = value_from_json(o->kind, "{}", &o->a);

	for (size_t k = 0; k < sizeof(bad_ids) / sizeof(bad_ids[0]); k++)
	{
		ExactCopy	id = exact_copy(bad_ids[k], strlen(bad_ids[k]));
		int64_t		got;

		buf_reset(&o->out);
		if (!CHECK_ERR(crdt_counter_add(o->kind, v, id.slice.data, id.slice.len, delta,
										&o->out, &o->err), &o->err, CRDT_ERR_ARGUMENT, -1) ||
			!CHECK_ERR(crdt_counter_get(o->kind, v, id.slice.data, id.slice.len, &got,
										&o->err), &o->err, CRDT_ERR_ARGUMENT, -1))
			unit_note("%s, id [%s]", crdt_counter_kind_name(o->kind), show_hex(id.slice));
		exact_free(&id);
	}
}

static void
add_get_grow_only(Ops *o)
{
	check_add(o, "{}", "a", 1, CRDT_OK, "{\"a\":1}");
	check_add(o, "{\"a\":1}", "a", 5, CRDT_OK, "{\"a\":6}");
	check_add(o, "{\"b\":1}", "a", 1, CRDT_OK, "{\"a\":1,\"b\":1}");
	check_add(o, "{\"a\":1,\"b\":1}", "ab", 2, CRDT_OK, "{\"a\":1,\"ab\":2,\"b\":1}");
	check_add(o, "{\"a\":1,\"b\":1}", "c", 3, CRDT_OK, "{\"a\":1,\"b\":1,\"c\":3}");
	check_add(o, "{\"agent-041\":1,\"agent-0415\":1}", "agent-042", 1, CRDT_OK,
			  "{\"agent-041\":1,\"agent-0415\":1,\"agent-042\":1}");
	check_add(o, "{}", "a", INT64_MAX, CRDT_OK, "{\"a\":" MAX "}");
	check_add(o, "{\"a\":9223372036854775806}", "a", 1, CRDT_OK, "{\"a\":" MAX "}");
	check_add(o, "{\"a\":9223372036854775806}", "a", 2, CRDT_ERR_OVERFLOW, NULL);
	check_add(o, "{\"a\":1}", "a", INT64_MAX, CRDT_ERR_OVERFLOW, NULL);
	check_add(o, "{\"a\":" MAX "}", "b", 1, CRDT_OK, "{\"a\":" MAX ",\"b\":1}");
	/* only growth */
	check_add(o, "{}", "a", 0, CRDT_ERR_ARGUMENT, NULL);
	check_add(o, "{\"a\":1}", "a", -1, CRDT_ERR_ARGUMENT, NULL);
	check_add(o, "{}", "a", INT64_MIN, CRDT_ERR_ARGUMENT, NULL);
	check_bad_ids(o, 1);

	check_get(o, "{}", "a", 0);
	check_get(o, "{\"a\":5}", "a", 5);
	check_get(o, "{\"a\":5,\"abc\":7}", "ab", 0);
	check_get(o, "{\"a\":5,\"abc\":7}", "abc", 7);
	check_get(o, "{\"a\":5,\"abc\":7}", "b", 0);
	check_get(o, "{\"a\":" MAX "}", "a", INT64_MAX);
}

static void
add_get_pncounter(Ops *o)
{
	check_add(o, "{}", "a", 5, CRDT_OK, "{\"p\":{\"a\":5}}");
	check_add(o, "{}", "a", -5, CRDT_OK, "{\"n\":{\"a\":5}}");
	check_add(o, "{\"p\":{\"a\":3}}", "a", -2, CRDT_OK, "{\"p\":{\"a\":3},\"n\":{\"a\":2}}");
	check_add(o, "{\"p\":{\"a\":3},\"n\":{\"a\":2}}", "a", -2, CRDT_OK,
			  "{\"p\":{\"a\":3},\"n\":{\"a\":4}}");
	check_add(o, "{\"n\":{\"b\":1}}", "a", -1, CRDT_OK, "{\"n\":{\"a\":1,\"b\":1}}");
	/* zero copies the value, whatever is in it */
	check_add(o, "{}", "a", 0, CRDT_OK, "{}");
	check_add(o, "{\"p\":{\"a\":3},\"n\":{\"b\":1}}", "c", 0, CRDT_OK,
			  "{\"p\":{\"a\":3},\"n\":{\"b\":1}}");
	/* INT64_MIN has no int64 magnitude: an N entry of 2^63 is out of range */
	check_add(o, "{}", "a", INT64_MIN, CRDT_ERR_OVERFLOW, NULL);
	check_add(o, "{\"n\":{\"a\":1}}", "a", INT64_MIN, CRDT_ERR_OVERFLOW, NULL);
	check_add(o, "{\"p\":{\"a\":1},\"n\":{\"b\":1}}", "b", INT64_MIN, CRDT_ERR_OVERFLOW, NULL);
	check_add(o, "{}", "a", INT64_MIN + 1, CRDT_OK, "{\"n\":{\"a\":" MAX "}}");
	check_add(o, "{\"n\":{\"a\":1}}", "a", -INT64_MAX, CRDT_ERR_OVERFLOW, NULL);
	check_add(o, "{\"p\":{\"a\":1}}", "a", INT64_MAX, CRDT_ERR_OVERFLOW, NULL);
	check_add(o, "{\"p\":{\"a\":1}}", "a", -INT64_MAX, CRDT_OK,
			  "{\"p\":{\"a\":1},\"n\":{\"a\":" MAX "}}");
	check_bad_ids(o, 1);
	check_bad_ids(o, -1);
	check_bad_ids(o, 0);

	check_get(o, "{}", "a", 0);
	check_get(o, "{\"p\":{\"a\":5},\"n\":{\"a\":7}}", "a", -2);
	check_get(o, "{\"p\":{\"a\":5},\"n\":{\"b\":7}}", "b", -7);
	check_get(o, "{\"p\":{\"a\":" MAX "},\"n\":{\"a\":" MAX "}}", "a", 0);
	check_get(o, "{\"n\":{\"a\":" MAX "}}", "a", -INT64_MAX);
	check_get(o, "{\"p\":{\"a\":" MAX "}}", "a", INT64_MAX);
}

void
test_ops_add_get(void)
{
	ops_by_kind(add_get_grow_only, add_get_pncounter);

	/* an invalid value is reported, not read past */
	for (int kind = CRDT_VCLOCK; kind <= CRDT_PNCOUNTER; kind++)
	{
		static const uint8_t bad[] = {CRDT_FORMAT_V1, 0x01, 0x00, 'a'};
		ExactCopy	c = exact_copy(bad, sizeof(bad));
		CrdtBuf		out;
		CrdtError	err;
		int64_t		got;

		buf_open(&out);
		CHECK_ERR(crdt_counter_add((CrdtCounterKind) kind, c.slice, (const uint8_t *) "b", 1, 1,
								   &out, &err), &err, CRDT_ERR_BINARY, -1);
		CHECK_ERR(crdt_counter_get((CrdtCounterKind) kind, c.slice, (const uint8_t *) "b", 1,
								   &got, &err), &err, CRDT_ERR_BINARY, -1);
		CHECK_ERR(crdt_counter_value((CrdtCounterKind) kind, c.slice, &got, &err), &err,
				  CRDT_ERR_BINARY, -1);
		exact_free(&c);
		crdt_buf_free(&out);
	}
}

/* compare(a, b) is want and compare(b, a) its mirror */
static void
check_compare(Ops *o, const char *a, const char *b, CrdtOrder want)
{
	static const CrdtOrder mirror[] = {
		CRDT_ORDER_EQUAL, CRDT_ORDER_AFTER, CRDT_ORDER_BEFORE, CRDT_ORDER_CONCURRENT
	};
	CrdtSlice	sa = value_from_json(CRDT_VCLOCK, a, &o->a);
	CrdtSlice	sb = value_from_json(CRDT_VCLOCK, b, &o->b);
	CrdtOrder	got = CRDT_ORDER_EQUAL;
	CrdtOrder	back = CRDT_ORDER_EQUAL;

	if (CHECK_OK(crdt_vclock_compare(sa, sb, &got, &o->err), &o->err) &&
		CHECK_OK(crdt_vclock_compare(sb, sa, &back, &o->err), &o->err))
		CHECK_MSG(got == want && back == mirror[want],
				  "compare(%s, %s) is %s and back %s, expected %s", a, b,
				  crdt_order_name(got), crdt_order_name(back), crdt_order_name(want));
}

static void
check_distance(Ops *o, const char *a, const char *b, CrdtStatus status, int64_t want)
{
	CrdtSlice	sa = value_from_json(CRDT_VCLOCK, a, &o->a);
	CrdtSlice	sb = value_from_json(CRDT_VCLOCK, b, &o->b);

	for (int swap = 0; swap < 2; swap++)
	{
		int64_t		got = 0;
		CrdtStatus	st = crdt_vclock_distance(swap ? sb : sa, swap ? sa : sb, &got, &o->err);

		if (!CHECK_ERR(st, &o->err, status, -1) || (st == CRDT_OK && !CHECK_EQ_INT(got, want)))
			unit_note("distance(%s, %s)", swap ? b : a, swap ? a : b);
	}
}

void
test_ops_vclock(void)
{
	Ops			o;

	ops_open(&o, CRDT_VCLOCK);
	check_compare(&o, "{}", "{}", CRDT_ORDER_EQUAL);
	check_compare(&o, "{\"a\":1}", "{\"a\":1}", CRDT_ORDER_EQUAL);
	check_compare(&o, "{\"a\":1}", "{\"a\":2}", CRDT_ORDER_BEFORE);
	check_compare(&o, "{}", "{\"a\":1}", CRDT_ORDER_BEFORE);
	check_compare(&o, "{\"a\":1}", "{\"b\":1}", CRDT_ORDER_CONCURRENT);
	check_compare(&o, "{\"a\":2,\"b\":1}", "{\"a\":1,\"b\":2}", CRDT_ORDER_CONCURRENT);
	check_compare(&o, "{\"a\":1,\"b\":1}", "{\"a\":1,\"b\":1,\"c\":1}", CRDT_ORDER_BEFORE);
	check_compare(&o, "{\"a\":1,\"c\":1}", "{\"a\":1,\"b\":1,\"c\":1}", CRDT_ORDER_BEFORE);
	check_compare(&o, "{\"a\":" MAX "}", "{\"a\":9223372036854775806}", CRDT_ORDER_AFTER);
	check_compare(&o, "{\"a\":1,\"z\":2}", "{\"a\":1,\"b\":1,\"z\":1}", CRDT_ORDER_CONCURRENT);

	check_distance(&o, "{}", "{}", CRDT_OK, 0);
	check_distance(&o, "{\"a\":5,\"b\":1}", "{\"a\":2,\"c\":4}", CRDT_OK, 8);
	check_distance(&o, "{\"a\":5}", "{\"a\":5}", CRDT_OK, 0);
	check_distance(&o, "{\"a\":" MAX "}", "{}", CRDT_OK, INT64_MAX);
	check_distance(&o, "{\"a\":" MAX "}", "{\"a\":1,\"b\":1}", CRDT_OK, INT64_MAX);
	check_distance(&o, "{\"a\":" MAX "}", "{\"b\":1}", CRDT_ERR_OVERFLOW, 0);
	check_distance(&o, "{\"a\":" MAX ",\"b\":" MAX "}", "{\"a\":1,\"b\":1}",
				   CRDT_ERR_OVERFLOW, 0);
	check_distance(&o, "{\"a\":" MAX ",\"b\":" MAX ",\"c\":" MAX "}", "{}",
				   CRDT_ERR_OVERFLOW, 0);

	/* invalid input is an error */
	{
		static const uint8_t bad[] = {CRDT_FORMAT_V1, 0x01, 0x00, 'a', 0x00, 0x00};
		CrdtSlice	good = value_from_json(CRDT_VCLOCK, "{}", &o.a);
		CrdtOrder	order;
		int64_t		d;

		CHECK_ERR(crdt_vclock_compare(slice_of(bad, sizeof(bad)), good, &order, &o.err),
				  &o.err, CRDT_ERR_BINARY, -1);
		CHECK_ERR(crdt_vclock_distance(good, slice_of(bad, sizeof(bad)), &d, &o.err),
				  &o.err, CRDT_ERR_BINARY, -1);
	}
	ops_close(&o);
}

/* ------------------------------------------------------------ against the model */

static CrdtOrder
model_compare(const Model *a, const Model *b)
{
	bool		a_ahead = false;
	bool		b_ahead = false;

	for (size_t k = 0; k < a->n[0]; k++)
		a_ahead |= a->half[0][k].count > model_get(b, 0, a->half[0][k].id, a->half[0][k].len);
	for (size_t k = 0; k < b->n[0]; k++)
		b_ahead |= b->half[0][k].count > model_get(a, 0, b->half[0][k].id, b->half[0][k].len);
	if (a_ahead && b_ahead)
		return CRDT_ORDER_CONCURRENT;
	return a_ahead ? CRDT_ORDER_AFTER : b_ahead ? CRDT_ORDER_BEFORE : CRDT_ORDER_EQUAL;
}

/* The btree order: entries in sequence as (half, id, count), a prefix first. */
static int
model_total_order(const Model *a, const Model *b)
{
	for (int h = 0; h < 2; h++)
	{
		for (size_t k = 0; k < a->n[h] && k < b->n[h]; k++)
		{
			const ModelEntry *x = &a->half[h][k];
			const ModelEntry *y = &b->half[h][k];
			int			c = crdt_bytes_cmp(x->id, x->len, y->id, y->len);

			if (c == 0 && x->count != y->count)
				c = x->count < y->count ? -1 : 1;
			if (c != 0)
				return c;
		}
		/* one map ends first: its next entry is from a later half, or nothing */
		if (a->n[h] != b->n[h])
		{
			const Model *shorter = a->n[h] < b->n[h] ? a : b;
			int			sign = shorter == a ? 1 : -1;

			/* the shorter side continues with its N entries, which sort after */
			if (h == 0 && shorter->n[1] > 0)
				return sign;
			return -sign;
		}
	}
	return 0;
}

/* Sum of |a_i - b_i|; false past INT64_MAX. */
static bool
model_distance(const Model *a, const Model *b, int64_t *result)
{
	uint64_t	total = 0;
	const Model *side[2] = {a, b};

	for (int s = 0; s < 2; s++)
		for (size_t k = 0; k < side[s]->n[0]; k++)
		{
			const ModelEntry *e = &side[s]->half[0][k];
			uint64_t	other = model_get(side[1 - s], 0, e->id, e->len);
			uint64_t	d;

			/* each id once: from a, or from b when a lacks it */
			if (s == 1 && other != 0)
				continue;
			d = e->count > other ? e->count - other : other - e->count;
			if (d > (uint64_t) INT64_MAX - total)
				return false;
			total += d;
		}
	*result = (int64_t) total;
	return true;
}

static int64_t
random_delta(Rng *rng, CrdtCounterKind kind)
{
	int64_t		magnitude = (int64_t) random_count(rng);

	if (rng_percent(rng, 3))
		return rng_percent(rng, 50) ? INT64_MIN : 0;
	if (kind == CRDT_PNCOUNTER || rng_percent(rng, 3))
		return rng_percent(rng, 50) ? magnitude : -magnitude;
	return magnitude;
}

typedef struct ModelCase
{
	CrdtCounterKind kind;
	long		index;
	Model		a;
	Model		b;
	Model		want;
	CrdtBuf		ba;
	CrdtBuf		bb;
	CrdtBuf		bwant;
	CrdtBuf		out;
	CrdtError	err;
} ModelCase;

static void
model_case_note(const ModelCase *c, const char *what)
{
	unit_note("%s %s, case %ld (seed %llu): a = %s, b = %s", crdt_counter_kind_name(c->kind), what,
			  c->index, (unsigned long long) unit_run.seed,
			  show_value(c->kind, buf_slice(&c->ba)), show_value(c->kind, buf_slice(&c->bb)));
}

static void
check_model_binary(ModelCase *c, BinaryOp op, const char *what)
{
	buf_reset(&c->bwant);
	model_encode(&c->want, &c->bwant);
	buf_reset(&c->out);
	if (!CHECK_OK(op(c->kind, buf_slice(&c->ba), buf_slice(&c->bb), &c->out, &c->err), &c->err) ||
		!CHECK_EQ_BYTES(buf_slice(&c->out), buf_slice(&c->bwant)))
		model_case_note(c, what);
}

static void
check_model_add(ModelCase *c, Rng *rng)
{
	uint8_t		id[CRDT_REPLICA_ID_MAX];
	size_t		len;
	int64_t		delta = random_delta(rng, c->kind);
	int			half = delta < 0 ? 1 : 0;
	uint64_t	magnitude = delta < 0 ? (uint64_t) 0 - (uint64_t) delta : (uint64_t) delta;
	uint64_t	old;
	CrdtStatus	want_status = CRDT_OK;
	CrdtStatus	st;

	random_replica_id(rng, id, &len);
	old = model_get(&c->a, half, id, len);
	model_copy(&c->want, &c->a);
	if (c->kind != CRDT_PNCOUNTER && delta <= 0)
		want_status = CRDT_ERR_ARGUMENT;
	else if (magnitude > (uint64_t) INT64_MAX - old)
		want_status = CRDT_ERR_OVERFLOW;
	else
		model_max(&c->want, half, id, len, old + magnitude);

	buf_reset(&c->out);
	st = crdt_counter_add(c->kind, buf_slice(&c->ba), id, len, delta, &c->out, &c->err);
	if (!CHECK_ERR(st, &c->err, want_status, -1))
		model_case_note(c, "add");
	else if (st == CRDT_OK)
	{
		buf_reset(&c->bwant);
		model_encode(&c->want, &c->bwant);
		if (!CHECK_EQ_BYTES(buf_slice(&c->out), buf_slice(&c->bwant)))
			model_case_note(c, "add");
	}
}

static void
check_model_reads(ModelCase *c, Rng *rng)
{
	uint8_t		id[CRDT_REPLICA_ID_MAX];
	size_t		len;
	int64_t		want;
	int64_t		got = 0;
	bool		fits = model_value(&c->a, &want);
	CrdtStatus	st = crdt_counter_value(c->kind, buf_slice(&c->ba), &got, &c->err);

	if (!CHECK_ERR(st, &c->err, fits ? CRDT_OK : CRDT_ERR_OVERFLOW, -1) ||
		(fits && !CHECK_EQ_INT(got, want)))
		model_case_note(c, "value");

	random_replica_id(rng, id, &len);
	want = (int64_t) model_get(&c->a, 0, id, len) - (int64_t) model_get(&c->a, 1, id, len);
	if (!CHECK_OK(crdt_counter_get(c->kind, buf_slice(&c->ba), id, len, &got, &c->err), &c->err) ||
		!CHECK_EQ_INT(got, want))
		model_case_note(c, "get");
}

static void
check_model_order(ModelCase *c)
{
	int			got = 2;

	if (!CHECK_OK(crdt_counter_compare(c->kind, buf_slice(&c->ba), buf_slice(&c->bb), &got,
									   &c->err), &c->err) ||
		!CHECK_EQ_INT(got, model_total_order(&c->a, &c->b)))
		model_case_note(c, "compare (total order)");
}

static void
check_model_vclock(ModelCase *c)
{
	CrdtOrder	order = CRDT_ORDER_EQUAL;
	int64_t		want;
	int64_t		got = 0;
	bool		fits = model_distance(&c->a, &c->b, &want);
	CrdtStatus	st;

	if (!CHECK_OK(crdt_vclock_compare(buf_slice(&c->ba), buf_slice(&c->bb), &order, &c->err),
				  &c->err) ||
		!CHECK_EQ_INT(order, model_compare(&c->a, &c->b)))
		model_case_note(c, "compare");
	st = crdt_vclock_distance(buf_slice(&c->ba), buf_slice(&c->bb), &got, &c->err);
	if (!CHECK_ERR(st, &c->err, fits ? CRDT_OK : CRDT_ERR_OVERFLOW, -1) ||
		(fits && !CHECK_EQ_INT(got, want)))
		model_case_note(c, "distance");
}

void
test_ops_model(void)
{
	uint64_t	stream = rng_stream("ops model");

	for (int kind = CRDT_VCLOCK; kind <= CRDT_PNCOUNTER; kind++)
	{
		ModelCase	c;
		long		cases = unit_cases_div(10);

		c.kind = (CrdtCounterKind) kind;
		model_init(&c.a, c.kind, 64);
		model_init(&c.b, c.kind, 64);
		model_init(&c.want, c.kind, 64);
		crdt_bufs_init(&crdt_malloc_allocator, &c.ba, &c.bb, &c.bwant, &c.out, NULL);
		for (c.index = 0; c.index < cases; c.index++)
		{
			Rng			rng = rng_for_case(stream + (uint64_t) kind, (uint64_t) c.index);

			model_random(&c.a, &rng, 12);
			model_random(&c.b, &rng, 12);
			/* b is often a (partial) successor of a, as in real use */
			if (rng_percent(&rng, 30))
				model_merge_into(&c.b, &c.a);
			buf_reset(&c.ba);
			buf_reset(&c.bb);
			model_encode(&c.a, &c.ba);
			model_encode(&c.b, &c.bb);

			model_copy(&c.want, &c.a);
			model_merge_into(&c.want, &c.b);
			check_model_binary(&c, crdt_counter_merge, "merge");
			model_delta(&c.want, &c.a, &c.b);
			check_model_binary(&c, crdt_counter_delta, "delta");
			check_model_add(&c, &rng);
			check_model_reads(&c, &rng);
			check_model_order(&c);
			if (c.kind == CRDT_VCLOCK)
				check_model_vclock(&c);
		}
		model_free(&c.a);
		model_free(&c.b);
		model_free(&c.want);
		crdt_bufs_free(&c.ba, &c.bb, &c.bwant, &c.out, NULL);
	}
}
