/*
 * crdt_reconcile.h — shared declarations of the fmgr glue.
 *
 * The glue converts datums to and from the core's byte strings, supplies
 * palloc as the core's allocator and turns CrdtError into ereport with the
 * right SQLSTATE.  Nothing here knows an encoding; that is the core's job.
 */
#ifndef CRDT_RECONCILE_H
#define CRDT_RECONCILE_H

#include "postgres.h"

#include "fmgr.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"

#include "core/crdt_core.h"

/* The GUC crdt.replica_id; "" when unset. */
extern char *crdt_replica_id_setting;
/* crdt_reconcile.resolving: the conflict resolve() is writing, "" otherwise (history.c checks it) */
extern char *crdt_resolving_setting;

/* palloc in CurrentMemoryContext. */
extern const CrdtAllocator crdt_palloc_allocator;

/* An allocator that always uses cxt (for aggregate states). */
void		crdt_context_allocator(CrdtAllocator *alloc, MemoryContext cxt);

/*
 * Raises the error err describes.  typname names the type involved; input,
 * when not NULL, is the UTF-8 text that was parsed (shown, shortened, in the
 * message and used to turn byte offsets into character positions).
 */
void		crdt_report(const CrdtError *err, const char *typname,
						const char *input, size_t input_len) pg_attribute_noreturn();

/* The bytes of a CRDT datum (detoasted, possibly with a short header). */
static inline CrdtSlice
crdt_slice_of(const struct varlena *v)
{
	CrdtSlice	s;

	s.data = (const uint8_t *) VARDATA_ANY(v);
	s.len = VARSIZE_ANY_EXHDR(v);
	return s;
}

#define CRDT_GETARG_SLICE(n) crdt_slice_of(PG_GETARG_VARLENA_PP(n))

/* A buffer whose first VARHDRSZ bytes are kept for the varlena header. */
void		crdt_varlena_buf(CrdtBuf *buf);

/* Turns such a buffer into a varlena datum without copying. */
Datum		crdt_varlena_datum(CrdtBuf *buf);

/* Server encoding <-> UTF-8 (no copy when the database is UTF-8). */
const char *crdt_to_utf8(const char *s, size_t len, size_t *out_len);
char	   *crdt_from_utf8(const char *s, size_t len);

/*
 * The replica a mutator acts for: argument argno when given and not NULL,
 * else crdt.replica_id; converted to UTF-8 and validated.  Errors name the
 * function and hint at the setting.
 */
typedef struct CrdtReplica
{
	const uint8_t *id;
	size_t		len;
} CrdtReplica;

CrdtReplica crdt_resolve_replica(FunctionCallInfo fcinfo, int argno);

/* retire.c: a replica that writes (ERROR 55000 when the registry retired it). */
CrdtReplica crdt_resolve_writer(FunctionCallInfo fcinfo, int argno);
void		crdt_refuse_retired(FunctionCallInfo fcinfo, CrdtReplica replica);
/* crdt_reconcile.retired_replicas, by OID (InvalidOid: not installed) */
Oid			crdt_retired_registry(void);
/* The marker layer of the type called name, NULL for a type without replica metadata. */
const CrdtRetireShape *crdt_retire_shape_named(const char *name);
/* A value as readers see it: retirement markers unfolded (shape NULL: as is). */
CrdtSlice	crdt_unfold_markers(CrdtSlice value, const CrdtRetireShape *shape);

static inline CrdtSlice
crdt_readable(CrdtSlice value, const CrdtRetireShape *shape)
{
	/* most values have no markers: answered here, on every aggregate row */
	if (shape == NULL || !crdt_value_marked(value))
		return value;
	return crdt_unfold_markers(value, shape);
}
/* The body a mutator for replica changes (55000 if value marks it retired) ... */
CrdtSlice	crdt_writable(CrdtSlice state, const CrdtRetireShape *shape, const uint8_t *replica,
						  size_t len, CrdtSlice *markers);
/* ... and the result, the markers put back around the new body in buf. */
Datum		crdt_rejoined_datum(CrdtSlice markers, CrdtBuf *buf);

/* Generic SQL functions shared by every CRDT type (crdt_type.c). */
Datum		crdt_type_in(FunctionCallInfo fcinfo, const CrdtType *type);
Datum		crdt_type_out(FunctionCallInfo fcinfo, const CrdtType *type);
Datum		crdt_type_recv(FunctionCallInfo fcinfo, const CrdtType *type);
Datum		crdt_type_send(FunctionCallInfo fcinfo, const CrdtType *type);
Datum		crdt_type_merge(FunctionCallInfo fcinfo, const CrdtType *type);
Datum		crdt_type_delta(FunctionCallInfo fcinfo, const CrdtType *type);
Datum		crdt_type_to_jsonb(FunctionCallInfo fcinfo, const CrdtType *type);
Datum		crdt_type_from_jsonb(FunctionCallInfo fcinfo, const CrdtType *type);
Datum		crdt_type_to_json(FunctionCallInfo fcinfo, const CrdtType *type);
Datum		crdt_type_from_json(FunctionCallInfo fcinfo, const CrdtType *type);
Datum		crdt_type_cmp(FunctionCallInfo fcinfo, const CrdtType *type);
Datum		crdt_type_sort_lt(FunctionCallInfo fcinfo, const CrdtType *type);
Datum		crdt_type_sort_le(FunctionCallInfo fcinfo, const CrdtType *type);
Datum		crdt_type_sort_ge(FunctionCallInfo fcinfo, const CrdtType *type);
Datum		crdt_type_sort_gt(FunctionCallInfo fcinfo, const CrdtType *type);

/*
 * The jsonb of a value's printed text (printed_jsonb.c), or (Datum) 0 when
 * that text is to go through jsonb_in.
 */
Datum		crdt_jsonb_of_printed(const char *text, size_t len);
/* ... or pushes it into a jsonb being built; false, pushing nothing, for jsonb_in */
bool		crdt_push_printed(JsonbParseState **st, const char *text, size_t len);
/* A value's jsonb form pushed as the value of the key just pushed (crdt_type.c). */
void		crdt_type_push_jsonb(JsonbParseState **st, const CrdtType *type, Datum value);
/* A jsonb as something pushJsonbValue takes: its scalar, or its container. */
JsonbValue	crdt_jsonb_as_value(Jsonb *j);

/* The state argument (0), or the type's empty state when it is NULL (as for every mutator). */
CrdtSlice	crdt_state_or_empty(FunctionCallInfo fcinfo, const CrdtType *type);

/* Defines the SQL-callable function name, which returns expr (expr may use fcinfo). */
#define CRDT_SQL_FUNCTION(name, expr) \
	PG_FUNCTION_INFO_V1(name); \
	Datum name(PG_FUNCTION_ARGS) { return (expr); }

/* Defines T_in, T_out, T_recv, T_send, T_merge, T_delta, the json/jsonb casts and the btree order. */
#define CRDT_TYPE_WRAPPER(type, fn) \
	CRDT_SQL_FUNCTION(type##_##fn, crdt_type_##fn(fcinfo, &crdt_type_##type))

#define CRDT_TYPE_FUNCTIONS(type) \
	CRDT_TYPE_WRAPPER(type, in) \
	CRDT_TYPE_WRAPPER(type, out) \
	CRDT_TYPE_WRAPPER(type, recv) \
	CRDT_TYPE_WRAPPER(type, send) \
	CRDT_TYPE_WRAPPER(type, merge) \
	CRDT_TYPE_WRAPPER(type, delta) \
	CRDT_TYPE_WRAPPER(type, to_jsonb) \
	CRDT_TYPE_WRAPPER(type, from_jsonb) \
	CRDT_TYPE_WRAPPER(type, to_json) \
	CRDT_TYPE_WRAPPER(type, from_json) \
	CRDT_TYPE_WRAPPER(type, cmp) \
	CRDT_TYPE_WRAPPER(type, sort_lt) \
	CRDT_TYPE_WRAPPER(type, sort_le) \
	CRDT_TYPE_WRAPPER(type, sort_ge) \
	CRDT_TYPE_WRAPPER(type, sort_gt)

/*
 * Equality and hashing work on the canonical bytes, so they are the same
 * for every type.
 */
Datum		crdt_bytes_eq(FunctionCallInfo fcinfo);
Datum		crdt_bytes_ne(FunctionCallInfo fcinfo);
Datum		crdt_bytes_hash(FunctionCallInfo fcinfo);
Datum		crdt_bytes_hash_extended(FunctionCallInfo fcinfo);
Datum		crdt_bytes_stable_hash(FunctionCallInfo fcinfo);

/* What the counter family (vclock, gcounter, pncounter) shares (counters.c). */
Datum		crdt_counter_add_datum(FunctionCallInfo fcinfo, CrdtCounterKind kind,
								   int64 delta, int replica_argno);
Datum		crdt_counter_value_datum(FunctionCallInfo fcinfo, CrdtCounterKind kind);
Datum		crdt_counter_get_datum(FunctionCallInfo fcinfo, CrdtCounterKind kind);
Datum		crdt_counter_entries_datum(FunctionCallInfo fcinfo, CrdtCounterKind kind);

/* A counter mutator's amount argument, never NULL (22004) (counters.c). */
int64		crdt_amount_argument(FunctionCallInfo fcinfo, int argno);

/* Defines T_value, T_get and T_entries of a counter-family type. */
#define CRDT_COUNTER_QUERIES(type, KIND) \
	CRDT_SQL_FUNCTION(type##_value, crdt_counter_value_datum(fcinfo, KIND)) \
	CRDT_SQL_FUNCTION(type##_get, crdt_counter_get_datum(fcinfo, KIND)) \
	CRDT_SQL_FUNCTION(type##_entries, crdt_counter_entries_datum(fcinfo, KIND))

/* The canonical text of a JSON value, by way of jsonb (registers.c). */
CrdtStatus	crdt_jsonb_canonicalizer(const char *json, size_t len, CrdtBuf *out,
									 CrdtError *err);

/* jsonb's text of a detoasted jsonb value, in UTF-8 (registers.c). */
CrdtSlice	crdt_jsonb_text(struct varlena *jsonb);

#endif							/* CRDT_RECONCILE_H */
