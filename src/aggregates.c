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

/* ------------------------------------------------------ gset, twopset
 *
 * The rows' encoded lists appended (CrdtSetRuns); the serialized state is
 * a kind byte and the merged value, so both types share combine,
 * serialize and deserialize.
 */
typedef struct SetAggState
{
	CrdtAllocator alloc;
	CrdtSetRuns runs;
} SetAggState;

static SetAggState *
set_state_create(MemoryContext cxt, CrdtSetKind kind)
{
	SetAggState *state = MemoryContextAlloc(cxt, sizeof(SetAggState));

	crdt_context_allocator(&state->alloc, cxt);
	crdt_setruns_init(&state->runs, kind, &state->alloc);
	return state;
}

static Datum
set_merge_trans(FunctionCallInfo fcinfo, CrdtSetKind kind, const char *fn)
{
	MemoryContext cxt = aggregate_context(fcinfo, fn);
	SetAggState *state = PG_ARGISNULL(0) ? NULL : (SetAggState *) PG_GETARG_POINTER(0);
	CrdtError	err;

	if (PG_ARGISNULL(1))
	{
		if (state == NULL)
			PG_RETURN_NULL();
		PG_RETURN_POINTER(state);
	}
	if (state == NULL)
		state = set_state_create(cxt, kind);
	if (crdt_setruns_absorb(&state->runs, CRDT_GETARG_SLICE(1), &err) != CRDT_OK)
		crdt_report(&err, crdt_set_kind_name(kind), NULL, 0);
	PG_RETURN_POINTER(state);
}

/* Shared by the final and serialize functions: the merged value. */
static void
set_state_write(SetAggState *state, CrdtBuf *buf)
{
	CrdtError	err;

	if (crdt_setruns_write(&state->runs, buf, &err) != CRDT_OK)
		crdt_report(&err, crdt_set_kind_name(state->runs.kind), NULL, 0);
}

static Datum
set_merge_final(FunctionCallInfo fcinfo)
{
	CrdtBuf		buf;

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	crdt_varlena_buf(&buf);
	set_state_write((SetAggState *) PG_GETARG_POINTER(0), &buf);
	PG_RETURN_DATUM(crdt_varlena_datum(&buf));
}

PG_FUNCTION_INFO_V1(gset_merge_trans);
Datum
gset_merge_trans(PG_FUNCTION_ARGS)
{
	return set_merge_trans(fcinfo, CRDT_GSET, "gset_merge_trans");
}

PG_FUNCTION_INFO_V1(twopset_merge_trans);
Datum
twopset_merge_trans(PG_FUNCTION_ARGS)
{
	return set_merge_trans(fcinfo, CRDT_TWOPSET, "twopset_merge_trans");
}

PG_FUNCTION_INFO_V1(gset_merge_final);
Datum
gset_merge_final(PG_FUNCTION_ARGS)
{
	return set_merge_final(fcinfo);
}

PG_FUNCTION_INFO_V1(twopset_merge_final);
Datum
twopset_merge_final(PG_FUNCTION_ARGS)
{
	return set_merge_final(fcinfo);
}

PG_FUNCTION_INFO_V1(set_merge_combine);
Datum
set_merge_combine(PG_FUNCTION_ARGS)
{
	MemoryContext cxt = aggregate_context(fcinfo, "set_merge_combine");
	SetAggState *left = PG_ARGISNULL(0) ? NULL : (SetAggState *) PG_GETARG_POINTER(0);
	SetAggState *right = PG_ARGISNULL(1) ? NULL : (SetAggState *) PG_GETARG_POINTER(1);
	CrdtError	err;

	if (right == NULL)
	{
		if (left == NULL)
			PG_RETURN_NULL();
		PG_RETURN_POINTER(left);
	}
	if (left == NULL)
		left = set_state_create(cxt, right->runs.kind);
	if (crdt_setruns_absorb_runs(&left->runs, &right->runs, &err) != CRDT_OK)
		crdt_report(&err, "crdt_merge state", NULL, 0);
	PG_RETURN_POINTER(left);
}

PG_FUNCTION_INFO_V1(set_merge_serialize);
Datum
set_merge_serialize(PG_FUNCTION_ARGS)
{
	SetAggState *state = (SetAggState *) PG_GETARG_POINTER(0);
	CrdtBuf		buf;

	(void) aggregate_context(fcinfo, "set_merge_serialize");
	crdt_varlena_buf(&buf);
	crdt_buf_put_byte(&buf, (uint8_t) state->runs.kind);
	set_state_write(state, &buf);
	PG_RETURN_DATUM(crdt_varlena_datum(&buf));
}

PG_FUNCTION_INFO_V1(set_merge_deserialize);
Datum
set_merge_deserialize(PG_FUNCTION_ARGS)
{
	MemoryContext cxt = aggregate_context(fcinfo, "set_merge_deserialize");
	CrdtSlice	bytes = CRDT_GETARG_SLICE(0);
	CrdtSlice	value;
	SetAggState *state;
	CrdtError	err;

	if (bytes.len < 1 || (bytes.data[0] != CRDT_GSET && bytes.data[0] != CRDT_TWOPSET))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
				 errmsg("invalid crdt_merge state")));
	value.data = bytes.data + 1;
	value.len = bytes.len - 1;
	state = set_state_create(cxt, (CrdtSetKind) bytes.data[0]);
	if (crdt_set_validate(state->runs.kind, value, &err) != CRDT_OK ||
		crdt_setruns_absorb(&state->runs, value, &err) != CRDT_OK)
		crdt_report(&err, "crdt_merge state", NULL, 0);
	PG_RETURN_POINTER(state);
}

/* ------------------------------------------------------- orset, mvreg
 *
 * The log of crdt_dotlog_*.  The serialized state is a kind byte and the
 * merged value, so the two types share combine, serialize, deserialize.
 */
typedef struct DotAggState
{
	CrdtAllocator alloc;
	CrdtDotLog	log;
} DotAggState;

static DotAggState *
dot_state_create(MemoryContext cxt, CrdtDottedKind kind)
{
	DotAggState *state = MemoryContextAlloc(cxt, sizeof(DotAggState));
	CrdtError	err;

	crdt_context_allocator(&state->alloc, cxt);
	if (crdt_dotlog_init(&state->log, kind, &state->alloc, &err) != CRDT_OK)
		crdt_report(&err, "crdt_merge state", NULL, 0);
	return state;
}

static Datum
dot_merge_trans(FunctionCallInfo fcinfo, CrdtDottedKind kind, const char *fn)
{
	MemoryContext cxt = aggregate_context(fcinfo, fn);
	DotAggState *state = PG_ARGISNULL(0) ? NULL : (DotAggState *) PG_GETARG_POINTER(0);
	CrdtError	err;

	if (PG_ARGISNULL(1))
	{
		if (state == NULL)
			PG_RETURN_NULL();
		PG_RETURN_POINTER(state);
	}
	if (state == NULL)
		state = dot_state_create(cxt, kind);
	if (crdt_dotlog_absorb(&state->log, CRDT_GETARG_SLICE(1), &err) != CRDT_OK)
		crdt_report(&err, crdt_dotted_kind_name(kind), NULL, 0);
	PG_RETURN_POINTER(state);
}

static Datum
dot_merge_final(FunctionCallInfo fcinfo)
{
	CrdtBuf		buf;
	CrdtError	err;
	DotAggState *state;

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	state = (DotAggState *) PG_GETARG_POINTER(0);
	crdt_varlena_buf(&buf);
	if (crdt_dotlog_write(&state->log, &buf, &err) != CRDT_OK)
		crdt_report(&err, crdt_dotted_kind_name(state->log.kind), NULL, 0);
	PG_RETURN_DATUM(crdt_varlena_datum(&buf));
}

PG_FUNCTION_INFO_V1(orset_merge_trans);
Datum
orset_merge_trans(PG_FUNCTION_ARGS)
{
	return dot_merge_trans(fcinfo, CRDT_ORSET, "orset_merge_trans");
}

PG_FUNCTION_INFO_V1(mvreg_merge_trans);
Datum
mvreg_merge_trans(PG_FUNCTION_ARGS)
{
	return dot_merge_trans(fcinfo, CRDT_MVREG, "mvreg_merge_trans");
}

PG_FUNCTION_INFO_V1(orset_merge_final);
Datum
orset_merge_final(PG_FUNCTION_ARGS)
{
	return dot_merge_final(fcinfo);
}

PG_FUNCTION_INFO_V1(mvreg_merge_final);
Datum
mvreg_merge_final(PG_FUNCTION_ARGS)
{
	return dot_merge_final(fcinfo);
}

/* The right state's merged value goes into the left log like any input row. */
PG_FUNCTION_INFO_V1(dotted_merge_combine);
Datum
dotted_merge_combine(PG_FUNCTION_ARGS)
{
	MemoryContext cxt = aggregate_context(fcinfo, "dotted_merge_combine");
	DotAggState *left = PG_ARGISNULL(0) ? NULL : (DotAggState *) PG_GETARG_POINTER(0);
	DotAggState *right = PG_ARGISNULL(1) ? NULL : (DotAggState *) PG_GETARG_POINTER(1);
	CrdtBuf		merged;
	CrdtError	err;

	if (right == NULL)
	{
		if (left == NULL)
			PG_RETURN_NULL();
		PG_RETURN_POINTER(left);
	}
	if (left == NULL)
		left = dot_state_create(cxt, right->log.kind);
	crdt_buf_init(&merged, &crdt_palloc_allocator, 0);
	if (crdt_dotlog_write(&right->log, &merged, &err) != CRDT_OK ||
		crdt_dotlog_absorb(&left->log, (CrdtSlice) {merged.data, merged.len}, &err) != CRDT_OK)
		crdt_report(&err, "crdt_merge state", NULL, 0);
	PG_RETURN_POINTER(left);
}

PG_FUNCTION_INFO_V1(dotted_merge_serialize);
Datum
dotted_merge_serialize(PG_FUNCTION_ARGS)
{
	DotAggState *state = (DotAggState *) PG_GETARG_POINTER(0);
	CrdtBuf		buf;
	CrdtError	err;

	(void) aggregate_context(fcinfo, "dotted_merge_serialize");
	crdt_varlena_buf(&buf);
	crdt_buf_put_byte(&buf, (uint8_t) state->log.kind);
	if (crdt_dotlog_write(&state->log, &buf, &err) != CRDT_OK)
		crdt_report(&err, "crdt_merge state", NULL, 0);
	PG_RETURN_DATUM(crdt_varlena_datum(&buf));
}

PG_FUNCTION_INFO_V1(dotted_merge_deserialize);
Datum
dotted_merge_deserialize(PG_FUNCTION_ARGS)
{
	MemoryContext cxt = aggregate_context(fcinfo, "dotted_merge_deserialize");
	CrdtSlice	bytes = CRDT_GETARG_SLICE(0);
	CrdtSlice	value;
	CrdtDottedKind kind;
	DotAggState *state;
	CrdtError	err;

	if (bytes.len < 1 || (bytes.data[0] != CRDT_ORSET && bytes.data[0] != CRDT_MVREG))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
				 errmsg("invalid crdt_merge state")));
	kind = (CrdtDottedKind) bytes.data[0];
	value.data = bytes.data + 1;
	value.len = bytes.len - 1;
	state = dot_state_create(cxt, kind);
	if (crdt_dotted_validate(kind, value, &err) != CRDT_OK ||
		crdt_dotlog_absorb(&state->log, value, &err) != CRDT_OK)
		crdt_report(&err, "crdt_merge state", NULL, 0);
	PG_RETURN_POINTER(state);
}

/* ------------------------------------------------------------- lwwreg
 *
 * The state is a copy of the greatest value so far.
 */
typedef struct LwwAggState
{
	CrdtBuf		best;
	CrdtAllocator alloc;
} LwwAggState;

static LwwAggState *
lww_keep(MemoryContext cxt, LwwAggState *state, CrdtSlice candidate)
{
	CrdtError	err;
	int			c = 1;

	if (state == NULL)
	{
		state = MemoryContextAlloc(cxt, sizeof(LwwAggState));
		crdt_context_allocator(&state->alloc, cxt);
		crdt_buf_init(&state->best, &state->alloc, 0);
	}
	else if (crdt_type_lwwreg.compare(candidate, (CrdtSlice) {state->best.data, state->best.len},
									   &c, &err) != CRDT_OK)
		crdt_report(&err, "lwwreg", NULL, 0);
	if (c > 0)
	{
		state->best.len = 0;
		crdt_buf_put(&state->best, candidate.data, candidate.len);
	}
	return state;
}

PG_FUNCTION_INFO_V1(lwwreg_merge_trans);
Datum
lwwreg_merge_trans(PG_FUNCTION_ARGS)
{
	MemoryContext cxt = aggregate_context(fcinfo, "lwwreg_merge_trans");
	LwwAggState *state = PG_ARGISNULL(0) ? NULL : (LwwAggState *) PG_GETARG_POINTER(0);

	if (PG_ARGISNULL(1))
	{
		if (state == NULL)
			PG_RETURN_NULL();
		PG_RETURN_POINTER(state);
	}
	PG_RETURN_POINTER(lww_keep(cxt, state, CRDT_GETARG_SLICE(1)));
}

PG_FUNCTION_INFO_V1(lwwreg_merge_final);
Datum
lwwreg_merge_final(PG_FUNCTION_ARGS)
{
	LwwAggState *state;
	CrdtBuf		buf;

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	state = (LwwAggState *) PG_GETARG_POINTER(0);
	crdt_varlena_buf(&buf);
	crdt_buf_put(&buf, state->best.data, state->best.len);
	PG_RETURN_DATUM(crdt_varlena_datum(&buf));
}

PG_FUNCTION_INFO_V1(lwwreg_merge_combine);
Datum
lwwreg_merge_combine(PG_FUNCTION_ARGS)
{
	MemoryContext cxt = aggregate_context(fcinfo, "lwwreg_merge_combine");
	LwwAggState *left = PG_ARGISNULL(0) ? NULL : (LwwAggState *) PG_GETARG_POINTER(0);
	LwwAggState *right = PG_ARGISNULL(1) ? NULL : (LwwAggState *) PG_GETARG_POINTER(1);

	if (right == NULL)
	{
		if (left == NULL)
			PG_RETURN_NULL();
		PG_RETURN_POINTER(left);
	}
	PG_RETURN_POINTER(lww_keep(cxt, left, (CrdtSlice) {right->best.data, right->best.len}));
}

PG_FUNCTION_INFO_V1(lwwreg_merge_serialize);
Datum
lwwreg_merge_serialize(PG_FUNCTION_ARGS)
{
	(void) aggregate_context(fcinfo, "lwwreg_merge_serialize");
	return lwwreg_merge_final(fcinfo);
}

PG_FUNCTION_INFO_V1(lwwreg_merge_deserialize);
Datum
lwwreg_merge_deserialize(PG_FUNCTION_ARGS)
{
	MemoryContext cxt = aggregate_context(fcinfo, "lwwreg_merge_deserialize");
	CrdtSlice	value = CRDT_GETARG_SLICE(0);
	CrdtError	err;

	if (crdt_type_lwwreg.validate(value, &err) != CRDT_OK)
		crdt_report(&err, "crdt_merge state", NULL, 0);
	PG_RETURN_POINTER(lww_keep(cxt, NULL, value));
}
