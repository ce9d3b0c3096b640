/*
 * bcounter.c — the bounded counter's SQL functions: the generic type
 * functions, increment, decrement and transfer (which refuse to spend
 * beyond the acting replica's rights, SQLSTATE 23514), rights, value and
 * entries.
 */
#include "crdt_reconcile.h"

#include "funcapi.h"
#include "utils/builtins.h"
#include "utils/tuplestore.h"

CRDT_TYPE_FUNCTIONS(bcounter)

typedef CrdtStatus (*BcounterStep) (CrdtSlice value, const uint8_t *id, size_t len, int64_t by,
									CrdtBuf *out, CrdtError *err);

/*
 * increment or decrement (b, by, replica), or with step NULL transfer (b,
 * by, to_replica, replica); a NULL state is the empty one.
 */
static Datum
bcounter_write(FunctionCallInfo fcinfo, BcounterStep step)
{
	CrdtSlice	state = crdt_state_or_empty(fcinfo, &crdt_type_bcounter);
	int64		by = crdt_amount_argument(fcinfo, 1);
	CrdtReplica replica = crdt_resolve_replica(fcinfo, step == NULL ? 3 : 2);
	CrdtBuf		buf;
	CrdtError	err;
	CrdtStatus	st;

	crdt_varlena_buf(&buf);
	if (step != NULL)
		st = step(state, replica.id, replica.len, by, &buf, &err);
	else
	{
		CrdtReplica to;

		if (PG_ARGISNULL(2))
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("the replica to transfer to must not be NULL")));
		to = crdt_resolve_replica(fcinfo, 2);
		st = crdt_bcounter_transfer(state, replica.id, replica.len, to.id, to.len, by, &buf, &err);
	}
	if (st != CRDT_OK)
		crdt_report(&err, "bcounter", NULL, 0);
	PG_RETURN_DATUM(crdt_varlena_datum(&buf));
}

PG_FUNCTION_INFO_V1(bcounter_rights);
Datum
bcounter_rights(PG_FUNCTION_ARGS)
{
	CrdtReplica replica = crdt_resolve_replica(fcinfo, 1);
	CrdtError	err;
	int64_t		result;

	if (crdt_bcounter_rights(CRDT_GETARG_SLICE(0), replica.id, replica.len, &result, &err) != CRDT_OK)
		crdt_report(&err, "bcounter", NULL, 0);
	PG_RETURN_INT64(result);
}

PG_FUNCTION_INFO_V1(bcounter_value);
Datum
bcounter_value(PG_FUNCTION_ARGS)
{
	CrdtError	err;
	int64_t		result;

	if (crdt_bcounter_value(CRDT_GETARG_SLICE(0), &result, &err) != CRDT_OK)
		crdt_report(&err, "bcounter", NULL, 0);
	PG_RETURN_INT64(result);
}

/* Rows (replica, increments, decrements, rights) in replica byte order. */
PG_FUNCTION_INFO_V1(bcounter_entries);
Datum
bcounter_entries(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	CrdtBcounterEntry *e = NULL;
	size_t		n = 0;
	CrdtError	err;

	InitMaterializedSRF(fcinfo, 0);
	if (crdt_bcounter_entries(CRDT_GETARG_SLICE(0), &crdt_palloc_allocator, &e, &n, &err) != CRDT_OK)
		crdt_report(&err, "bcounter", NULL, 0);
	for (size_t k = 0; k < n; k++)
	{
		Datum		values[4];
		bool		nulls[4] = {false, false, false, e[k].rights_overflow};

		values[0] = PointerGetDatum(cstring_to_text(crdt_from_utf8((const char *) e[k].id, e[k].len)));
		values[1] = Int64GetDatum((int64) e[k].increments);
		values[2] = Int64GetDatum((int64) e[k].decrements);
		values[3] = Int64GetDatum(e[k].rights);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}

/* the writes (bcounter_write) */
CRDT_SQL_FUNCTION(bcounter_increment, bcounter_write(fcinfo, crdt_bcounter_increment))
CRDT_SQL_FUNCTION(bcounter_decrement, bcounter_write(fcinfo, crdt_bcounter_decrement))
CRDT_SQL_FUNCTION(bcounter_transfer, bcounter_write(fcinfo, NULL))
