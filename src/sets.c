/*
 * sets.c — gset, twopset and orset: add, remove, contains, cardinality,
 * elements, value, and the text[] -> gset cast.
 *
 * Elements are text; they are compared and stored as UTF-8 bytes, so
 * every node orders them alike whatever its collation or encoding.
 */
#include "crdt_reconcile.h"

#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "funcapi.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"
#include "utils/tuplestore.h"

CRDT_TYPE_FUNCTIONS(gset)
CRDT_TYPE_FUNCTIONS(twopset)
CRDT_TYPE_FUNCTIONS(orset)

typedef enum SetType
{
	GSET,
	TWOPSET,
	ORSET
} SetType;

static const CrdtType *
set_type(SetType t)
{
	return t == GSET ? &crdt_type_gset : t == TWOPSET ? &crdt_type_twopset : &crdt_type_orset;
}

/* The element argument in UTF-8; never NULL. */
static CrdtSlice
element_argument(FunctionCallInfo fcinfo, int argno)
{
	text	   *t;
	CrdtSlice	s;
	size_t		len;

	if (PG_ARGISNULL(argno))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("a set element must not be NULL")));
	t = PG_GETARG_TEXT_PP(argno);
	s.data = (const uint8_t *) crdt_to_utf8(VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t), &len);
	s.len = len;
	return s;
}

static Datum
set_mutate(FunctionCallInfo fcinfo, SetType t, bool add)
{
	CrdtSlice	state = crdt_state_or_empty(fcinfo, set_type(t));
	CrdtSlice	element = element_argument(fcinfo, 1);
	CrdtBuf		buf;
	CrdtError	err;
	CrdtStatus	st;
	CrdtSlice	markers = {NULL, 0};

	crdt_varlena_buf(&buf);
	if (t == ORSET)
	{
		/* a remove names no replica: the empty id matches no retirement marker */
		CrdtReplica replica = add ? crdt_resolve_writer(fcinfo, 2) : (CrdtReplica) {NULL, 0};

		state = crdt_writable(state, &crdt_shape_orset, replica.id, replica.len, &markers);
		if (add)
			st = crdt_orset_add(state, element.data, element.len, replica.id, replica.len, &buf, &err);
		else
			st = crdt_orset_remove(state, element.data, element.len, &buf, &err);
	}
	else
	{
		CrdtSetKind kind = t == GSET ? CRDT_GSET : CRDT_TWOPSET;

		st = add ? crdt_set_add(kind, state, element.data, element.len, &buf, &err)
			: crdt_set_remove(kind, state, element.data, element.len, &buf, &err);
	}
	if (st != CRDT_OK)
		crdt_report(&err, set_type(t)->name, NULL, 0);
	PG_RETURN_DATUM(crdt_rejoined_datum(markers, &buf));
}

/*
 * Calls fn for each present element, in byte order; stops early when fn
 * returns false.
 */
typedef bool (*ElementFn) (void *ctx, const uint8_t *element, size_t len);

static void
for_each_element(SetType t, CrdtSlice value, ElementFn fn, void *ctx)
{
	CrdtError	err;
	const uint8_t *key;
	size_t		len;
	int			rc;

	if (t == ORSET)
	{
		CrdtDottedKeys *it = palloc(sizeof(CrdtDottedKeys));

		value = crdt_readable(value, &crdt_shape_orset);
		if (crdt_dotted_keys_init(it, CRDT_ORSET, value, &err) != CRDT_OK)
			crdt_report(&err, "orset", NULL, 0);
		while ((rc = crdt_dotted_keys_next(it, &key, &len, &err)) > 0)
			if (!fn(ctx, key, len))
				return;
	}
	else
	{
		CrdtSlice	list[2];
		CrdtKeyReader *r = palloc(sizeof(CrdtKeyReader));

		if (crdt_set_lists(t == GSET ? CRDT_GSET : CRDT_TWOPSET, value, list, &err) != CRDT_OK)
			crdt_report(&err, set_type(t)->name, NULL, 0);
		crdt_keys_reader_init(r, CRDT_KEYS_FRONT_CODED, list[0].data, list[0].len, 0);
		while ((rc = crdt_keys_reader_next(r, &key, &len, &err)) > 0)
			if (!fn(ctx, key, len))
				return;
	}
	if (rc < 0)
		crdt_report(&err, set_type(t)->name, NULL, 0);
}

typedef struct Search
{
	CrdtSlice	wanted;
	bool		found;
} Search;

static bool
search_step(void *ctx, const uint8_t *element, size_t len)
{
	Search	   *s = ctx;
	int			c = crdt_bytes_cmp(element, len, s->wanted.data, s->wanted.len);

	s->found = c == 0;
	return c < 0;				/* elements come in order: stop at the first not smaller */
}

static Datum
set_contains(FunctionCallInfo fcinfo, SetType t)
{
	Search		s = {element_argument(fcinfo, 1), false};

	for_each_element(t, CRDT_GETARG_SLICE(0), search_step, &s);
	PG_RETURN_BOOL(s.found);
}

static bool
count_step(void *ctx, const uint8_t *element, size_t len)
{
	(void) element;
	(void) len;
	(*(int64 *) ctx)++;
	return true;
}

static Datum
set_cardinality(FunctionCallInfo fcinfo, SetType t)
{
	int64		n = 0;

	for_each_element(t, CRDT_GETARG_SLICE(0), count_step, &n);
	PG_RETURN_INT32((int32) n);
}

static bool
collect_step(void *ctx, const uint8_t *element, size_t len)
{
	ArrayBuildState *astate = ctx;

	accumArrayResult(astate, PointerGetDatum(cstring_to_text(crdt_from_utf8((const char *) element, len))),
					 false, TEXTOID, CurrentMemoryContext);
	return true;
}

/* crdt_value(set): the present elements as text[], in byte order. */
static Datum
set_value(FunctionCallInfo fcinfo, SetType t)
{
	ArrayBuildState *astate = initArrayResult(TEXTOID, CurrentMemoryContext, false);

	for_each_element(t, CRDT_GETARG_SLICE(0), collect_step, astate);
	PG_RETURN_DATUM(makeArrayResult(astate, CurrentMemoryContext));
}

static bool
row_step(void *ctx, const uint8_t *element, size_t len)
{
	ReturnSetInfo *rsinfo = ctx;
	Datum		value = PointerGetDatum(cstring_to_text(crdt_from_utf8((const char *) element, len)));
	bool		isnull = false;

	tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, &value, &isnull);
	return true;
}

static Datum
set_elements(FunctionCallInfo fcinfo, SetType t)
{
	InitMaterializedSRF(fcinfo, MAT_SRF_USE_EXPECTED_DESC);
	for_each_element(t, CRDT_GETARG_SLICE(0), row_step, fcinfo->resultinfo);
	return (Datum) 0;
}

static Datum
set_add(FunctionCallInfo fcinfo, SetType t)
{
	return set_mutate(fcinfo, t, true);
}

/* gset_op, twopset_op and orset_op, each calling set_op */
#define SET_FUNCTIONS(op) \
	CRDT_SQL_FUNCTION(gset_##op, set_##op(fcinfo, GSET)) \
	CRDT_SQL_FUNCTION(twopset_##op, set_##op(fcinfo, TWOPSET)) \
	CRDT_SQL_FUNCTION(orset_##op, set_##op(fcinfo, ORSET))

SET_FUNCTIONS(add)
SET_FUNCTIONS(contains)
SET_FUNCTIONS(cardinality)
SET_FUNCTIONS(value)
SET_FUNCTIONS(elements)
CRDT_SQL_FUNCTION(twopset_remove, set_mutate(fcinfo, TWOPSET, false))
CRDT_SQL_FUNCTION(orset_remove, set_mutate(fcinfo, ORSET, false))

/* A text[] as a gset value: every element once, in byte order; NULL elements refused. */
static Datum
gset_of_array(ArrayType *array)
{
	Datum	   *elems;
	bool	   *nulls;
	int			n;
	CrdtKeySet	set;
	CrdtError	err;
	CrdtBuf		buf;

	deconstruct_array(array, TEXTOID, -1, false, TYPALIGN_INT, &elems, &nulls, &n);
	if (crdt_keyset_init(&set, &crdt_palloc_allocator, &err) != CRDT_OK)
		crdt_report(&err, "gset", NULL, 0);
	for (int i = 0; i < n; i++)
	{
		text	   *t;
		const char *utf8;
		size_t		len;
		size_t		entry;
		const char *problem;

		if (nulls[i])
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("a set element must not be NULL")));
		t = DatumGetTextPP(elems[i]);
		utf8 = crdt_to_utf8(VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t), &len);
		if ((problem = crdt_element_problem((const uint8_t *) utf8, len)) != NULL)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("a set element %s", problem)));
		if (crdt_keyset_put(&set, (const uint8_t *) utf8, len, 0, &entry, &err) != CRDT_OK)
			crdt_report(&err, "gset", NULL, 0);
	}
	crdt_varlena_buf(&buf);
	if (crdt_keyset_write_set(&set, CRDT_GSET, &buf, &err) != CRDT_OK)
		crdt_report(&err, "gset", NULL, 0);
	return crdt_varlena_datum(&buf);
}

PG_FUNCTION_INFO_V1(gset_from_text_array);
Datum
gset_from_text_array(PG_FUNCTION_ARGS)
{
	PG_RETURN_DATUM(gset_of_array(PG_GETARG_ARRAYTYPE_P(0)));
}

static char *
get_type_name_of(Oid typid)
{
	HeapTuple	tup = SearchSysCache1(TYPEOID, ObjectIdGetDatum(typid));
	char	   *name;

	if (!HeapTupleIsValid(tup))
		elog(ERROR, "cache lookup failed for type %u", typid);
	name = pstrdup(NameStr(((Form_pg_type) GETSTRUCT(tup))->typname));
	ReleaseSysCache(tup);
	return name;
}

/*
 * crdt_reconcile.set_arbitrate(s, wanted text[]) for gset, twopset and
 * orset: the set after a person decided it holds exactly wanted, by the
 * set's own rules (a gset cannot lose an element, a twopset removal is
 * final, an orset adds the missing elements with new dots of this
 * replica), in one pass over the set and the sorted wanted elements.
 */
PG_FUNCTION_INFO_V1(crdt_set_arbitrate);
Datum
crdt_set_arbitrate(PG_FUNCTION_ARGS)
{
	char	   *type = get_type_name_of(getBaseType(get_fn_expr_argtype(fcinfo->flinfo, 0)));
	SetType		t = strcmp(type, "orset") == 0 ? ORSET : strcmp(type, "twopset") == 0 ? TWOPSET : GSET;
	CrdtSlice	state = crdt_state_or_empty(fcinfo, set_type(t));
	CrdtSlice	wanted;
	CrdtBuf		buf;
	CrdtError	err;
	CrdtStatus	st;
	CrdtSlice	markers = {NULL, 0};

	if (PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("the arbitrated elements must not be NULL")));
	wanted = crdt_slice_of((struct varlena *) DatumGetPointer(gset_of_array(PG_GETARG_ARRAYTYPE_P(1))));
	crdt_varlena_buf(&buf);
	if (t == ORSET)
	{
		CrdtReplica replica = crdt_resolve_writer(fcinfo, 2);

		state = crdt_writable(state, &crdt_shape_orset, replica.id, replica.len, &markers);
		st = crdt_orset_assign(state, wanted, replica.id, replica.len, &buf, &err);
	}
	else
		st = crdt_set_assign(t == TWOPSET ? CRDT_TWOPSET : CRDT_GSET, state, wanted, &buf, &err);
	if (st != CRDT_OK)
		crdt_report(&err, type, NULL, 0);
	PG_RETURN_DATUM(crdt_rejoined_datum(markers, &buf));
}
