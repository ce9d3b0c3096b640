/*
 * counters.c — gcounter and pncounter, plus the functions the whole
 * counter family (vclock included) shares: add, value, get, entries.
 */
#include "crdt_reconcile.h"

#include "funcapi.h"
#include "utils/builtins.h"
#include "utils/tuplestore.h"

CRDT_TYPE_FUNCTIONS(gcounter)
CRDT_TYPE_FUNCTIONS(pncounter)

static const CrdtType *const counter_types[3] = {
	&crdt_type_vclock, &crdt_type_gcounter, &crdt_type_pncounter
};
static const CrdtRetireShape *const counter_shapes[3] = {
	&crdt_shape_vclock, &crdt_shape_gcounter, &crdt_shape_pncounter
};

/* The value at argno as readers see it: retirement markers unfolded. */
static CrdtSlice
counter_argument(FunctionCallInfo fcinfo, CrdtCounterKind kind, int argno)
{
	return crdt_readable(CRDT_GETARG_SLICE(argno), counter_shapes[kind]);
}

/*
 * Adds delta for the resolved replica.  A NULL state is the empty state,
 * as a NULL array is for array_append, so a fresh row can start from NULL.
 */
Datum
crdt_counter_add_datum(FunctionCallInfo fcinfo, CrdtCounterKind kind, int64 delta,
					   int replica_argno)
{
	CrdtSlice	state = crdt_state_or_empty(fcinfo, counter_types[kind]);
	CrdtReplica replica = crdt_resolve_writer(fcinfo, replica_argno);
	CrdtSlice	markers;
	CrdtBuf		buf;
	CrdtError	err;

	state = crdt_writable(state, counter_shapes[kind], replica.id, replica.len, &markers);
	crdt_varlena_buf(&buf);
	if (crdt_counter_add(kind, state, replica.id, replica.len, delta, &buf, &err) != CRDT_OK)
		crdt_report(&err, crdt_counter_kind_name(kind), NULL, 0);
	PG_RETURN_DATUM(crdt_rejoined_datum(markers, &buf));
}

/*
 * The "by" argument: 1 when the overload without it was called; never
 * NULL, since a NULL would silently lose the state.
 */
int64
crdt_amount_argument(FunctionCallInfo fcinfo, int argno)
{
	if (PG_NARGS() <= argno)
		return 1;
	if (PG_ARGISNULL(argno))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("the amount to add must not be NULL")));
	return PG_GETARG_INT64(argno);
}

Datum
crdt_counter_value_datum(FunctionCallInfo fcinfo, CrdtCounterKind kind)
{
	CrdtError	err;
	int64_t		result;

	if (crdt_counter_value(kind, counter_argument(fcinfo, kind, 0), &result, &err) != CRDT_OK)
		crdt_report(&err, crdt_counter_kind_name(kind), NULL, 0);
	PG_RETURN_INT64(result);
}

Datum
crdt_counter_get_datum(FunctionCallInfo fcinfo, CrdtCounterKind kind)
{
	CrdtReplica replica = crdt_resolve_replica(fcinfo, 1);
	CrdtError	err;
	int64_t		result;

	if (crdt_counter_get(kind, counter_argument(fcinfo, kind, 0), replica.id, replica.len,
						 &result, &err) != CRDT_OK)
		crdt_report(&err, crdt_counter_kind_name(kind), NULL, 0);
	PG_RETURN_INT64(result);
}

/*
 * Rows (replica, count) for vclock and gcounter, (replica, increments,
 * decrements) for pncounter, in replica byte order.
 */
Datum
crdt_counter_entries_datum(FunctionCallInfo fcinfo, CrdtCounterKind kind)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	CrdtSlice	half[2];
	CrdtMapPairWalk walk;
	CrdtError	err;
	const uint8_t *id;
	size_t		len;
	uint64_t	p;
	uint64_t	n;
	int			rc;

	InitMaterializedSRF(fcinfo, 0);
	if (crdt_counter_halves(kind, counter_argument(fcinfo, kind, 0), half, &err) != CRDT_OK)
		crdt_report(&err, crdt_counter_kind_name(kind), NULL, 0);
	crdt_map_pair_init(&walk, half[0], half[1], &err);
	while ((rc = crdt_map_pair_next(&walk, &id, &len, &p, &n, &err)) > 0)
	{
		Datum		values[3];
		bool		nulls[3] = {false, false, false};
		char	   *name = crdt_from_utf8((const char *) id, len);

		values[0] = PointerGetDatum(cstring_to_text(name));
		values[1] = Int64GetDatum((int64) p);
		values[2] = Int64GetDatum((int64) n);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	if (rc < 0)
		crdt_report(&err, crdt_counter_kind_name(kind), NULL, 0);
	return (Datum) 0;
}

CRDT_SQL_FUNCTION(gcounter_increment,
				  crdt_counter_add_datum(fcinfo, CRDT_GCOUNTER, crdt_amount_argument(fcinfo, 1), 2))
CRDT_COUNTER_QUERIES(gcounter, CRDT_GCOUNTER)

CRDT_SQL_FUNCTION(pncounter_increment,
				  crdt_counter_add_datum(fcinfo, CRDT_PNCOUNTER, crdt_amount_argument(fcinfo, 1), 2))
CRDT_COUNTER_QUERIES(pncounter, CRDT_PNCOUNTER)

/* decrement(c, by) is increment(c, -by); -INT64_MIN is reported, not wrapped. */
PG_FUNCTION_INFO_V1(pncounter_decrement);
Datum
pncounter_decrement(PG_FUNCTION_ARGS)
{
	int64		by = crdt_amount_argument(fcinfo, 1);

	if (by == PG_INT64_MIN)
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("the count of a replica would exceed the bigint range")));
	return crdt_counter_add_datum(fcinfo, CRDT_PNCOUNTER, -by, 2);
}
