/*
 * aggregates.c — crdt_merge(T) for the counter family.
 *
 * The transition state is a CrdtCounterTable living in the aggregate
 * context; each input row is decoded straight into it (nothing is
 * re-encoded per row).  vclock, gcounter and pncounter share one state
 * shape, so combine, serialize and deserialize are shared as well; only
 * the transition function (its input type) and the final function (its
 * output type) are per type.  The serialized state is a pncounter value.
 */
#include "crdt_reconcile.h"

typedef struct CounterAggState
{
	CrdtAllocator alloc;		/* palloc in the aggregate context */
	CrdtCounterTable table;
} CounterAggState;

static MemoryContext
aggregate_context(FunctionCallInfo fcinfo, const char *fn)
{
	MemoryContext cxt;

	if (!AggCheckCallContext(fcinfo, &cxt))
		elog(ERROR, "%s called in non-aggregate context", fn);
	return cxt;
}

static CounterAggState *
state_create(MemoryContext cxt)
{
	CounterAggState *state = MemoryContextAlloc(cxt, sizeof(CounterAggState));
	CrdtError	err;

	crdt_context_allocator(&state->alloc, cxt);
	if (crdt_table_init(&state->table, &state->alloc, &err) != CRDT_OK)
		crdt_report(&err, "crdt_merge state", NULL, 0);
	return state;
}

static Datum
merge_trans(FunctionCallInfo fcinfo, CrdtCounterKind kind, const char *fn)
{
	MemoryContext cxt = aggregate_context(fcinfo, fn);
	CounterAggState *state = PG_ARGISNULL(0) ? NULL : (CounterAggState *) PG_GETARG_POINTER(0);
	CrdtError	err;

	if (PG_ARGISNULL(1))
	{
		if (state == NULL)
			PG_RETURN_NULL();
		PG_RETURN_POINTER(state);
	}
	if (state == NULL)
		state = state_create(cxt);
	if (crdt_table_absorb(&state->table, kind, CRDT_GETARG_SLICE(1), &err) != CRDT_OK)
		crdt_report(&err, crdt_counter_kind_name(kind), NULL, 0);
	PG_RETURN_POINTER(state);
}

static Datum
merge_final(FunctionCallInfo fcinfo, CrdtCounterKind kind)
{
	CounterAggState *state;
	CrdtBuf		buf;
	CrdtError	err;

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	state = (CounterAggState *) PG_GETARG_POINTER(0);
	crdt_varlena_buf(&buf);
	if (crdt_table_write(&state->table, kind, &buf, &err) != CRDT_OK)
		crdt_report(&err, crdt_counter_kind_name(kind), NULL, 0);
	PG_RETURN_DATUM(crdt_varlena_datum(&buf));
}

PG_FUNCTION_INFO_V1(vclock_merge_trans);
Datum
vclock_merge_trans(PG_FUNCTION_ARGS)
{
	return merge_trans(fcinfo, CRDT_VCLOCK, "vclock_merge_trans");
}

PG_FUNCTION_INFO_V1(gcounter_merge_trans);
Datum
gcounter_merge_trans(PG_FUNCTION_ARGS)
{
	return merge_trans(fcinfo, CRDT_GCOUNTER, "gcounter_merge_trans");
}

PG_FUNCTION_INFO_V1(pncounter_merge_trans);
Datum
pncounter_merge_trans(PG_FUNCTION_ARGS)
{
	return merge_trans(fcinfo, CRDT_PNCOUNTER, "pncounter_merge_trans");
}

PG_FUNCTION_INFO_V1(vclock_merge_final);
Datum
vclock_merge_final(PG_FUNCTION_ARGS)
{
	return merge_final(fcinfo, CRDT_VCLOCK);
}

PG_FUNCTION_INFO_V1(gcounter_merge_final);
Datum
gcounter_merge_final(PG_FUNCTION_ARGS)
{
	return merge_final(fcinfo, CRDT_GCOUNTER);
}

PG_FUNCTION_INFO_V1(pncounter_merge_final);
Datum
pncounter_merge_final(PG_FUNCTION_ARGS)
{
	return merge_final(fcinfo, CRDT_PNCOUNTER);
}

/* The right state is deep-copied: it may live in another context. */
PG_FUNCTION_INFO_V1(counter_merge_combine);
Datum
counter_merge_combine(PG_FUNCTION_ARGS)
{
	MemoryContext cxt = aggregate_context(fcinfo, "counter_merge_combine");
	CounterAggState *left = PG_ARGISNULL(0) ? NULL : (CounterAggState *) PG_GETARG_POINTER(0);
	CounterAggState *right = PG_ARGISNULL(1) ? NULL : (CounterAggState *) PG_GETARG_POINTER(1);
	CrdtError	err;

	if (right == NULL)
	{
		if (left == NULL)
			PG_RETURN_NULL();
		PG_RETURN_POINTER(left);
	}
	if (left == NULL)
		left = state_create(cxt);
	if (crdt_table_absorb_table(&left->table, &right->table, &err) != CRDT_OK)
		crdt_report(&err, "crdt_merge state", NULL, 0);
	PG_RETURN_POINTER(left);
}

PG_FUNCTION_INFO_V1(counter_merge_serialize);
Datum
counter_merge_serialize(PG_FUNCTION_ARGS)
{
	CounterAggState *state = (CounterAggState *) PG_GETARG_POINTER(0);
	CrdtBuf		buf;
	CrdtError	err;

	(void) aggregate_context(fcinfo, "counter_merge_serialize");
	crdt_varlena_buf(&buf);
	if (crdt_table_write(&state->table, CRDT_PNCOUNTER, &buf, &err) != CRDT_OK)
		crdt_report(&err, "crdt_merge state", NULL, 0);
	PG_RETURN_DATUM(crdt_varlena_datum(&buf));
}

/* The bytes are checked in full, as any binary input is. */
PG_FUNCTION_INFO_V1(counter_merge_deserialize);
Datum
counter_merge_deserialize(PG_FUNCTION_ARGS)
{
	MemoryContext cxt = aggregate_context(fcinfo, "counter_merge_deserialize");
	CounterAggState *state = state_create(cxt);
	CrdtError	err;

	if (crdt_table_absorb(&state->table, CRDT_PNCOUNTER, CRDT_GETARG_SLICE(0), &err) != CRDT_OK)
		crdt_report(&err, "crdt_merge state", NULL, 0);
	PG_RETURN_POINTER(state);
}
