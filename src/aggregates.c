/*
 * aggregates.c — crdt_merge(T) for every type.
 *
 * The types fall into five families by the shape of their transition
 * state, each kept in the aggregate context and merged into in place:
 *   counters (vclock, gcounter, pncounter): a CrdtCounterTable;
 *   sets (gset, twopset): a CrdtSetRuns, the rows' lists appended;
 *   dotted (orset, mvreg): a CrdtDotLog, the rows logged;
 *   lwwreg: a copy of the greatest value so far;
 *   sequence (rtext, rlist): a CrdtSeqLog, the rows logged.
 *   bcounter: a CrdtCounterTable for P and D, a CrdtBcLog for transfers.
 * A family is a small table of operations; transition, final, combine,
 * serialize and deserialize are written once over it.  Every state knows
 * its type's kind, and the serialized state is a kind byte followed by a
 * value the family checks in full when it reads it back.
 */
#include "crdt_reconcile.h"

typedef struct AggFamily
{
	void	   *(*create) (MemoryContext cxt, int kind);
	int			(*kind_of) (const void *state);
	/* merge one input value of the state's type */
	CrdtStatus	(*absorb) (void *state, CrdtSlice value, CrdtError *err);
	/* merge another state of the same kind (NULL: its merged value, absorbed) */
	CrdtStatus	(*combine) (void *left, const void *right, CrdtError *err);
	/* the merged value: of the state's type, or the serialized form */
	CrdtStatus	(*write) (const void *state, bool serial, CrdtBuf *out, CrdtError *err);
	/* check and merge a serialized form */
	CrdtStatus	(*read_serial) (void *state, CrdtSlice value, CrdtError *err);
} AggFamily;

static MemoryContext
aggregate_context(FunctionCallInfo fcinfo, const char *fn)
{
	MemoryContext cxt;

	if (!AggCheckCallContext(fcinfo, &cxt))
		elog(ERROR, "%s called in non-aggregate context", fn);
	return cxt;
}

/* ------------------------------------------------------------- counters */

/*
 * The tables allocate through an allocator bound to the state's memory
 * context, so that a row needs no context switch (nor a read of a chunk
 * header): one per context (the aggregate's, or a deserialized state's
 * per-row one), found in a short list and dropped from it when its
 * context is reset or deleted.  The states themselves are ordinary
 * chunks of that context: cut instead from blocks of their own at
 * cache-line boundaries, they cost rows in random order 4-8% more time
 * (bench/RESULTS.md, seventh session, when a state was 128 bytes and its
 * first log chunk came next to it).
 */
typedef struct ContextAllocator
{
	MemoryContext cxt;
	CrdtAllocator alloc;		/* allocates in cxt */
	MemoryContextCallback forget;
	struct ContextAllocator *older;
} ContextAllocator;

static ContextAllocator *context_allocators;

static void
forget_allocator(void *arg)
{
	for (ContextAllocator **a = &context_allocators; *a != NULL; a = &(*a)->older)
		if (*a == arg)
		{
			*a = (*a)->older;
			return;
		}
}

static const CrdtAllocator *
allocator_of(MemoryContext cxt)
{
	ContextAllocator *a;

	for (a = context_allocators; a != NULL; a = a->older)
		if (a->cxt == cxt)
			return &a->alloc;
	a = MemoryContextAllocZero(cxt, sizeof(ContextAllocator));
	a->cxt = cxt;
	crdt_context_allocator(&a->alloc, cxt);
	a->forget.func = forget_allocator;
	a->forget.arg = a;
	MemoryContextRegisterResetCallback(cxt, &a->forget);
	a->older = context_allocators;
	context_allocators = a;
	return &a->alloc;
}

/* A counter's state: the table alone (it records its kind). */
typedef struct CounterAggState
{
	CrdtCounterTable table;
} CounterAggState;

static void *
counter_create(MemoryContext cxt, int kind)
{
	CounterAggState *s = MemoryContextAlloc(cxt, sizeof(CounterAggState));
	CrdtError	err;

	if (crdt_table_init(&s->table, (CrdtCounterKind) kind, allocator_of(cxt), &err) != CRDT_OK)
		crdt_report(&err, "crdt_merge state", NULL, 0);
	return s;
}

static int
counter_kind(const void *state)
{
	return ((const CounterAggState *) state)->table.kind;
}

static CrdtStatus
counter_absorb(void *state, CrdtSlice value, CrdtError *err)
{
	CounterAggState *s = state;

	return crdt_table_absorb(&s->table, s->table.kind, value, err);
}

static CrdtStatus
counter_combine(void *left, const void *right, CrdtError *err)
{
	return crdt_table_absorb_table(&((CounterAggState *) left)->table,
								   &((const CounterAggState *) right)->table, err);
}

/* serialized: a pncounter value (vclock and gcounter use only P) */
static CrdtStatus
counter_write(const void *state, bool serial, CrdtBuf *out, CrdtError *err)
{
	const CounterAggState *s = state;

	return crdt_table_write(&s->table, serial ? CRDT_PNCOUNTER : s->table.kind, out, err);
}

static CrdtStatus
counter_read_serial(void *state, CrdtSlice value, CrdtError *err)
{
	return crdt_table_absorb(&((CounterAggState *) state)->table, CRDT_PNCOUNTER, value, err);
}

static const AggFamily counter_family = {
	counter_create, counter_kind, counter_absorb, counter_combine, counter_write,
	counter_read_serial
};

/* ----------------------------------------------------------------- sets */

typedef struct SetAggState
{
	CrdtAllocator alloc;
	CrdtSetRuns runs;
} SetAggState;

static void *
set_create(MemoryContext cxt, int kind)
{
	SetAggState *s = MemoryContextAlloc(cxt, sizeof(SetAggState));

	crdt_context_allocator(&s->alloc, cxt);
	crdt_setruns_init(&s->runs, (CrdtSetKind) kind, &s->alloc);
	return s;
}

static int
set_kind(const void *state)
{
	return ((const SetAggState *) state)->runs.kind;
}

static CrdtStatus
set_absorb(void *state, CrdtSlice value, CrdtError *err)
{
	return crdt_setruns_absorb(&((SetAggState *) state)->runs, value, err);
}

static CrdtStatus
set_combine(void *left, const void *right, CrdtError *err)
{
	return crdt_setruns_absorb_runs(&((SetAggState *) left)->runs,
									&((const SetAggState *) right)->runs, err);
}

static CrdtStatus
set_write(const void *state, bool serial, CrdtBuf *out, CrdtError *err)
{
	(void) serial;
	return crdt_setruns_write(&((const SetAggState *) state)->runs, out, err);
}

static CrdtStatus
set_read_serial(void *state, CrdtSlice value, CrdtError *err)
{
	SetAggState *s = state;
	CrdtStatus	st = crdt_set_validate(s->runs.kind, value, err);

	return st != CRDT_OK ? st : crdt_setruns_absorb(&s->runs, value, err);
}

static const AggFamily set_family = {
	set_create, set_kind, set_absorb, set_combine, set_write, set_read_serial
};

/* --------------------------------------------------------------- dotted */

typedef struct DotAggState
{
	CrdtAllocator alloc;
	CrdtDotLog	log;
} DotAggState;

static void *
dot_create(MemoryContext cxt, int kind)
{
	DotAggState *s = MemoryContextAlloc(cxt, sizeof(DotAggState));
	CrdtError	err;

	crdt_context_allocator(&s->alloc, cxt);
	if (crdt_dotlog_init(&s->log, (CrdtDottedKind) kind, &s->alloc, &err) != CRDT_OK)
		crdt_report(&err, "crdt_merge state", NULL, 0);
	return s;
}

static int
dot_kind(const void *state)
{
	return ((const DotAggState *) state)->log.kind;
}

static CrdtStatus
dot_absorb(void *state, CrdtSlice value, CrdtError *err)
{
	return crdt_dotlog_absorb(&((DotAggState *) state)->log, value, err);
}

static CrdtStatus
dot_write(const void *state, bool serial, CrdtBuf *out, CrdtError *err)
{
	(void) serial;
	return crdt_dotlog_write(&((const DotAggState *) state)->log, out, err);
}

static CrdtStatus
dot_read_serial(void *state, CrdtSlice value, CrdtError *err)
{
	DotAggState *s = state;
	CrdtStatus	st = crdt_dotted_validate(s->log.kind, value, err);

	return st != CRDT_OK ? st : crdt_dotlog_absorb(&s->log, value, err);
}

static const AggFamily dotted_family = {
	dot_create, dot_kind, dot_absorb, NULL, dot_write, dot_read_serial
};

/* ------------------------------------------------------------- sequence */

typedef struct SeqAggState
{
	CrdtAllocator alloc;
	CrdtSeqLog	log;
} SeqAggState;

static void *
seq_create(MemoryContext cxt, int kind)
{
	SeqAggState *s = MemoryContextAlloc(cxt, sizeof(SeqAggState));

	crdt_context_allocator(&s->alloc, cxt);
	crdt_seqlog_init(&s->log, (CrdtSeqKind) kind, &s->alloc);
	return s;
}

static int
seq_kind(const void *state)
{
	return ((const SeqAggState *) state)->log.kind;
}

static CrdtStatus
seq_absorb(void *state, CrdtSlice value, CrdtError *err)
{
	return crdt_seqlog_absorb(&((SeqAggState *) state)->log, value, err);
}

static CrdtStatus
seq_write(const void *state, bool serial, CrdtBuf *out, CrdtError *err)
{
	(void) serial;
	return crdt_seqlog_write(&((const SeqAggState *) state)->log, out, err);
}

static CrdtStatus
seq_read_serial(void *state, CrdtSlice value, CrdtError *err)
{
	SeqAggState *s = state;
	CrdtStatus	st = crdt_seq_validate(s->log.kind, value, err);

	return st != CRDT_OK ? st : seq_absorb(s, value, err);
}

static const AggFamily sequence_family = {
	seq_create, seq_kind, seq_absorb, NULL, seq_write, seq_read_serial
};

/* --------------------------------------------------------------- lwwreg */

typedef struct LwwAggState
{
	CrdtAllocator alloc;
	CrdtBuf		best;			/* empty until the first value */
} LwwAggState;

static void *
lww_create(MemoryContext cxt, int kind)
{
	LwwAggState *s = MemoryContextAlloc(cxt, sizeof(LwwAggState));

	(void) kind;
	crdt_context_allocator(&s->alloc, cxt);
	crdt_buf_init(&s->best, &s->alloc, 0);
	return s;
}

static int
lww_kind(const void *state)
{
	(void) state;
	return 0;
}

static CrdtStatus
lww_absorb(void *state, CrdtSlice value, CrdtError *err)
{
	LwwAggState *s = state;
	int			c = 1;
	CrdtStatus	st;

	if (s->best.len > 0 &&
		(st = crdt_type_lwwreg.compare(value, (CrdtSlice) {s->best.data, s->best.len}, &c, err)) != CRDT_OK)
		return st;
	if (c > 0)
	{
		s->best.len = 0;
		crdt_buf_put(&s->best, value.data, value.len);
	}
	return CRDT_OK;
}

static CrdtStatus
lww_combine(void *left, const void *right, CrdtError *err)
{
	const LwwAggState *r = right;

	return r->best.len == 0 ? CRDT_OK
		: lww_absorb(left, (CrdtSlice) {r->best.data, r->best.len}, err);
}

static CrdtStatus
lww_write(const void *state, bool serial, CrdtBuf *out, CrdtError *err)
{
	const LwwAggState *s = state;

	(void) serial;
	(void) err;
	if (s->best.len == 0)
		crdt_type_lwwreg.write_empty(out);
	else
		crdt_buf_put(out, s->best.data, s->best.len);
	return CRDT_OK;
}

static CrdtStatus
lww_read_serial(void *state, CrdtSlice value, CrdtError *err)
{
	CrdtStatus	st = crdt_type_lwwreg.validate(value, err);

	return st != CRDT_OK ? st : lww_absorb(state, value, err);
}

static const AggFamily lww_family = {
	lww_create, lww_kind, lww_absorb, lww_combine, lww_write, lww_read_serial
};

/* ------------------------------------------------------------- bcounter */

/*
 * Increments and decrements in a counter table, as a pncounter's P and N
 * (a bcounter value starts with exactly that layout), and the transfers,
 * usually few, in a CrdtBcLog.  Both allocate in the state's context.
 */
typedef struct BcAggState
{
	CrdtCounterTable pd;
	CrdtBcLog	transfers;
} BcAggState;

static void *
bc_create(MemoryContext cxt, int kind)
{
	BcAggState *s = MemoryContextAlloc(cxt, sizeof(BcAggState));
	const CrdtAllocator *alloc = allocator_of(cxt);
	CrdtError	err;

	(void) kind;
	crdt_bclog_init(&s->transfers, alloc);
	if (crdt_table_init(&s->pd, CRDT_PNCOUNTER, alloc, &err) != CRDT_OK)
		crdt_report(&err, "crdt_merge state", NULL, 0);
	return s;
}

static int
bc_kind(const void *state)
{
	(void) state;
	return 0;
}

static CrdtStatus
bc_absorb(void *state, CrdtSlice value, CrdtError *err)
{
	BcAggState *s = state;
	size_t		pd_len = 0;
	CrdtStatus	st;

	/*
	 * Nearly every row is one replica's P and D and no transfers (the key
	 * list's lone 0): read once, as a pncounter's, by the table's fast path.
	 */
	if (value.len < 2 || value.data[value.len - 1] != 0 ||
		!crdt_table_absorb_single(&s->pd, CRDT_PNCOUNTER,
								  (CrdtSlice) {value.data, value.len - 1}, &st, err))
	{
		st = crdt_bclog_absorb_transfers(&s->transfers, value, &pd_len, err);
		if (st == CRDT_OK)
			st = crdt_table_absorb(&s->pd, CRDT_PNCOUNTER, (CrdtSlice) {value.data, pd_len}, err);
	}
	return st;
}

static CrdtStatus
bc_combine(void *left, const void *right, CrdtError *err)
{
	BcAggState *l = left;
	const BcAggState *r = right;
	CrdtStatus	st = crdt_table_absorb_table(&l->pd, &r->pd, err);

	if (st == CRDT_OK)
		st = crdt_bclog_absorb_log(&l->transfers, &r->transfers, err);
	return st;
}

/* Reducing the transfers changes the log, not the state it stands for. */
static CrdtStatus
bc_write(const void *state, bool serial, CrdtBuf *out, CrdtError *err)
{
	BcAggState *s = unconstify(BcAggState *, (const BcAggState *) state);
	CrdtStatus	st;

	(void) serial;
	st = crdt_table_write(&s->pd, CRDT_PNCOUNTER, out, err);
	return st != CRDT_OK ? st : crdt_bclog_write_transfers(&s->transfers, out, err);
}

/* From outside: the rights are checked like any binary input. */
static CrdtStatus
bc_read_serial(void *state, CrdtSlice value, CrdtError *err)
{
	CrdtStatus	st = crdt_bcounter_validate(value, err);

	return st != CRDT_OK ? st : bc_absorb(state, value, err);
}

static const AggFamily bcounter_family = {
	bc_create, bc_kind, bc_absorb, bc_combine, bc_write, bc_read_serial
};

/* ------------------------------------------- the aggregate support functions */

/*
 * NULL inputs are skipped; no non-NULL input leaves the state NULL.
 * Inlined into each type's transition function, so that its family's
 * absorb is a direct call.
 */
static pg_attribute_always_inline Datum
agg_trans(FunctionCallInfo fcinfo, const AggFamily *family, int kind, const char *name,
		  const CrdtRetireShape *shape)
{
	void	   *state = PG_ARGISNULL(0) ? NULL : PG_GETARG_POINTER(0);
	CrdtError	err;

	if (PG_ARGISNULL(1))
	{
		if (state == NULL)
			PG_RETURN_NULL();
		PG_RETURN_POINTER(state);
	}
	/*
	 * A state exists only within an aggregate (nothing else makes one): the
	 * context is asked for when the first row makes it, not on every row.
	 */
	if (state == NULL)
		state = family->create(aggregate_context(fcinfo, "crdt_merge transition"), kind);
	/* retirement markers unfolded: the same value, so the same merge (RETIREMENT.md) */
	if (family->absorb(state, crdt_readable(CRDT_GETARG_SLICE(1), shape), &err) != CRDT_OK)
		crdt_report(&err, name, NULL, 0);
	PG_RETURN_POINTER(state);
}

/* Does not change the state: a final function may run more than once. */
static Datum
agg_final(FunctionCallInfo fcinfo, const AggFamily *family, const char *name)
{
	CrdtBuf		buf;
	CrdtError	err;

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	crdt_varlena_buf(&buf);
	if (family->write(PG_GETARG_POINTER(0), false, &buf, &err) != CRDT_OK)
		crdt_report(&err, name, NULL, 0);
	PG_RETURN_DATUM(crdt_varlena_datum(&buf));
}

/* The right state's merged value goes into the left state like any input row. */
static CrdtStatus
combine_by_value(const AggFamily *family, void *left, const void *right, CrdtError *err)
{
	CrdtBuf		merged;
	CrdtStatus	st;

	crdt_buf_init(&merged, &crdt_palloc_allocator, 0);
	if ((st = family->write(right, true, &merged, err)) == CRDT_OK)
		st = family->absorb(left, (CrdtSlice) {merged.data, merged.len}, err);
	crdt_buf_free(&merged);
	return st;
}

/* The right state may live in another context: its contents are merged in. */
static Datum
agg_combine(FunctionCallInfo fcinfo, const AggFamily *family)
{
	MemoryContext cxt = aggregate_context(fcinfo, "crdt_merge combine");
	void	   *left = PG_ARGISNULL(0) ? NULL : PG_GETARG_POINTER(0);
	void	   *right = PG_ARGISNULL(1) ? NULL : PG_GETARG_POINTER(1);
	CrdtError	err;

	if (right == NULL)
	{
		if (left == NULL)
			PG_RETURN_NULL();
		PG_RETURN_POINTER(left);
	}
	if (left == NULL)
		left = family->create(cxt, family->kind_of(right));
	if ((family->combine != NULL ? family->combine(left, right, &err)
		 : combine_by_value(family, left, right, &err)) != CRDT_OK)
		crdt_report(&err, "crdt_merge state", NULL, 0);
	PG_RETURN_POINTER(left);
}

static Datum
agg_serialize(FunctionCallInfo fcinfo, const AggFamily *family)
{
	void	   *state = PG_GETARG_POINTER(0);
	CrdtBuf		buf;
	CrdtError	err;

	(void) aggregate_context(fcinfo, "crdt_merge serialize");
	crdt_varlena_buf(&buf);
	crdt_buf_put_byte(&buf, (uint8_t) family->kind_of(state));
	if (family->write(state, true, &buf, &err) != CRDT_OK)
		crdt_report(&err, "crdt_merge state", NULL, 0);
	PG_RETURN_DATUM(crdt_varlena_datum(&buf));
}

/*
 * Bytes from another process: checked in full, as any binary input is.
 * The state is built in the current memory context, which the executor
 * resets for every input row: the combine function merges it into the
 * group's state, and a state per row must not pile up in the aggregate
 * context (a hashed Finalize Aggregate would hold every one of them).
 */
static Datum
agg_deserialize(FunctionCallInfo fcinfo, const AggFamily *family, int kinds)
{
	CrdtSlice	bytes = CRDT_GETARG_SLICE(0);
	void	   *state;
	CrdtError	err;

	(void) aggregate_context(fcinfo, "crdt_merge deserialize");
	if (bytes.len < 1 || bytes.data[0] >= kinds)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
				 errmsg("invalid crdt_merge state")));
	state = family->create(CurrentMemoryContext, bytes.data[0]);
	if (family->read_serial(state, (CrdtSlice) {bytes.data + 1, bytes.len - 1}, &err) != CRDT_OK)
		crdt_report(&err, "crdt_merge state", NULL, 0);
	PG_RETURN_POINTER(state);
}

/* The transition and final functions of one type (its retirement shape looked up once). */
#define TYPE_AGGREGATE(type, family, KIND) \
	PG_FUNCTION_INFO_V1(type##_merge_trans); \
	Datum type##_merge_trans(PG_FUNCTION_ARGS) \
	{ \
		static const CrdtRetireShape *shape; \
		static bool shape_known; \
		if (!shape_known) \
			shape = crdt_retire_shape_named(#type), shape_known = true; \
		return agg_trans(fcinfo, &family, KIND, #type, shape); \
	} \
	PG_FUNCTION_INFO_V1(type##_merge_final); \
	Datum type##_merge_final(PG_FUNCTION_ARGS) \
	{ return agg_final(fcinfo, &family, #type); }

/* The combine, serialize and deserialize functions of one family. */
#define FAMILY_AGGREGATE(prefix, family, KINDS) \
	PG_FUNCTION_INFO_V1(prefix##_merge_combine); \
	Datum prefix##_merge_combine(PG_FUNCTION_ARGS) \
	{ return agg_combine(fcinfo, &family); } \
	PG_FUNCTION_INFO_V1(prefix##_merge_serialize); \
	Datum prefix##_merge_serialize(PG_FUNCTION_ARGS) \
	{ return agg_serialize(fcinfo, &family); } \
	PG_FUNCTION_INFO_V1(prefix##_merge_deserialize); \
	Datum prefix##_merge_deserialize(PG_FUNCTION_ARGS) \
	{ return agg_deserialize(fcinfo, &family, KINDS); }

TYPE_AGGREGATE(vclock, counter_family, CRDT_VCLOCK)
TYPE_AGGREGATE(gcounter, counter_family, CRDT_GCOUNTER)
TYPE_AGGREGATE(pncounter, counter_family, CRDT_PNCOUNTER)
FAMILY_AGGREGATE(counter, counter_family, 3)

TYPE_AGGREGATE(gset, set_family, CRDT_GSET)
TYPE_AGGREGATE(twopset, set_family, CRDT_TWOPSET)
FAMILY_AGGREGATE(set, set_family, 2)

TYPE_AGGREGATE(orset, dotted_family, CRDT_ORSET)
TYPE_AGGREGATE(mvreg, dotted_family, CRDT_MVREG)
FAMILY_AGGREGATE(dotted, dotted_family, 2)

TYPE_AGGREGATE(lwwreg, lww_family, 0)
FAMILY_AGGREGATE(lwwreg, lww_family, 1)

TYPE_AGGREGATE(rtext, sequence_family, CRDT_RTEXT)
TYPE_AGGREGATE(rlist, sequence_family, CRDT_RLIST)
FAMILY_AGGREGATE(sequence, sequence_family, 2)
TYPE_AGGREGATE(bcounter, bcounter_family, 0)
FAMILY_AGGREGATE(bcounter, bcounter_family, 1)
