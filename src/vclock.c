/*
 * vclock.c — vector clocks: tick, causal comparison and its operators,
 * per-replica lookup, distance.
 */
#include "crdt_reconcile.h"

#include "utils/builtins.h"

CRDT_TYPE_FUNCTIONS(vclock)

PG_FUNCTION_INFO_V1(vclock_tick);
Datum
vclock_tick(PG_FUNCTION_ARGS)
{
	return crdt_counter_add_datum(fcinfo, CRDT_VCLOCK, 1, 1);
}

static CrdtOrder
compare_args(FunctionCallInfo fcinfo)
{
	CrdtOrder	order;
	CrdtError	err;

	if (crdt_vclock_compare(CRDT_GETARG_SLICE(0), CRDT_GETARG_SLICE(1), &order, &err) != CRDT_OK)
		crdt_report(&err, "vclock", NULL, 0);
	return order;
}

PG_FUNCTION_INFO_V1(vclock_compare);
Datum
vclock_compare(PG_FUNCTION_ARGS)
{
	PG_RETURN_TEXT_P(cstring_to_text(crdt_order_name(compare_args(fcinfo))));
}

PG_FUNCTION_INFO_V1(vclock_concurrent);
Datum
vclock_concurrent(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(compare_args(fcinfo) == CRDT_ORDER_CONCURRENT);
}

/*
 * Happened-before is a partial order: for concurrent clocks all four of
 * <, <=, >, >= are false.
 */
PG_FUNCTION_INFO_V1(vclock_lt);
Datum
vclock_lt(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(compare_args(fcinfo) == CRDT_ORDER_BEFORE);
}

PG_FUNCTION_INFO_V1(vclock_le);
Datum
vclock_le(PG_FUNCTION_ARGS)
{
	CrdtOrder	order = compare_args(fcinfo);

	PG_RETURN_BOOL(order == CRDT_ORDER_BEFORE || order == CRDT_ORDER_EQUAL);
}

PG_FUNCTION_INFO_V1(vclock_gt);
Datum
vclock_gt(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(compare_args(fcinfo) == CRDT_ORDER_AFTER);
}

PG_FUNCTION_INFO_V1(vclock_ge);
Datum
vclock_ge(PG_FUNCTION_ARGS)
{
	CrdtOrder	order = compare_args(fcinfo);

	PG_RETURN_BOOL(order == CRDT_ORDER_AFTER || order == CRDT_ORDER_EQUAL);
}

PG_FUNCTION_INFO_V1(vclock_get);
Datum
vclock_get(PG_FUNCTION_ARGS)
{
	return crdt_counter_get_datum(fcinfo, CRDT_VCLOCK);
}

PG_FUNCTION_INFO_V1(vclock_distance);
Datum
vclock_distance(PG_FUNCTION_ARGS)
{
	CrdtError	err;
	int64_t		result;

	if (crdt_vclock_distance(CRDT_GETARG_SLICE(0), CRDT_GETARG_SLICE(1), &result, &err) != CRDT_OK)
		crdt_report(&err, "vclock", NULL, 0);
	PG_RETURN_INT64(result);
}

/* The number of events the clock has seen: the sum of its entries. */
PG_FUNCTION_INFO_V1(vclock_value);
Datum
vclock_value(PG_FUNCTION_ARGS)
{
	return crdt_counter_value_datum(fcinfo, CRDT_VCLOCK);
}

PG_FUNCTION_INFO_V1(vclock_entries);
Datum
vclock_entries(PG_FUNCTION_ARGS)
{
	return crdt_counter_entries_datum(fcinfo, CRDT_VCLOCK);
}
