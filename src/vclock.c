/*
 * vclock.c — vector clocks: tick, causal comparison and its operators,
 * per-replica lookup, distance.
 */
#include "crdt_reconcile.h"

#include "utils/builtins.h"

CRDT_TYPE_FUNCTIONS(vclock)

CRDT_SQL_FUNCTION(vclock_tick, crdt_counter_add_datum(fcinfo, CRDT_VCLOCK, 1, 1))

/* vclock_value: the number of events the clock has seen, the sum of its entries. */
CRDT_COUNTER_QUERIES(vclock, CRDT_VCLOCK)

/* Argument n, a clock in the current format. */
static CrdtSlice
clock_arg(FunctionCallInfo fcinfo, int n)
{
	return crdt_readable(CRDT_GETARG_SLICE(n), &crdt_shape_vclock);
}

static CrdtOrder
compare_args(FunctionCallInfo fcinfo)
{
	CrdtOrder	order;
	CrdtError	err;

	if (crdt_vclock_compare(clock_arg(fcinfo, 0), clock_arg(fcinfo, 1), &order, &err) != CRDT_OK)
		crdt_report(&err, "vclock", NULL, 0);
	return order;
}

/* Whether the causal order of the two arguments is one of those in mask. */
static Datum
order_in(FunctionCallInfo fcinfo, unsigned mask)
{
	return BoolGetDatum((mask >> compare_args(fcinfo)) & 1);
}

#define ORDER(o) (1u << CRDT_ORDER_##o)

CRDT_SQL_FUNCTION(vclock_compare,
				  PointerGetDatum(cstring_to_text(crdt_order_name(compare_args(fcinfo)))))
CRDT_SQL_FUNCTION(vclock_concurrent, order_in(fcinfo, ORDER(CONCURRENT)))

/*
 * Happened-before is a partial order: for concurrent clocks all four of
 * <, <=, >, >= are false.
 */
CRDT_SQL_FUNCTION(vclock_lt, order_in(fcinfo, ORDER(BEFORE)))
CRDT_SQL_FUNCTION(vclock_le, order_in(fcinfo, ORDER(BEFORE) | ORDER(EQUAL)))
CRDT_SQL_FUNCTION(vclock_gt, order_in(fcinfo, ORDER(AFTER)))
CRDT_SQL_FUNCTION(vclock_ge, order_in(fcinfo, ORDER(AFTER) | ORDER(EQUAL)))

PG_FUNCTION_INFO_V1(vclock_distance);
Datum
vclock_distance(PG_FUNCTION_ARGS)
{
	CrdtError	err;
	int64_t		result;

	if (crdt_vclock_distance(clock_arg(fcinfo, 0), clock_arg(fcinfo, 1), &result, &err) != CRDT_OK)
		crdt_report(&err, "vclock", NULL, 0);
	PG_RETURN_INT64(result);
}
