/*
 * history_record.c — one record of crdt_reconcile.history: the changed
 * columns' values as jsonb (deltas for CRDT columns), the row key, and the
 * record written into the history table.
 *
 * Values become jsonb in the writer's context.  When every recorded column
 * has a built-in type whose jsonb form no setting changes, or a CRDT type
 * (whose casts are this extension's), no user code can run and the values
 * are converted here directly; otherwise the rows are converted as the
 * conflict records' rows are (rows_to_jsonb: as the writer, or for an
 * applied write as the table's owner, restricted, with fixed settings).
 * The finished record is inserted directly (heap and indexes): no SQL, so
 * nothing of the writer's runs there.
 */
#include "history.h"

#include "access/genam.h"
#include "access/heapam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "catalog/index.h"
#include "executor/executor.h"
#include "catalog/pg_type.h"
#include "commands/sequence.h"
#include "nodes/makefuncs.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/numeric.h"
#include "utils/rel.h"
#include "utils/timestamp.h"

enum
{
	H_ID, H_RELATION, H_ROW_KEY, H_CHANGED_AT, H_KIND, H_ORIGIN, H_CLOCK, H_CHANGE, H_NATTS
};

/* Built-in types whose jsonb form depends on no setting (timestamptz, floats, bytea ... do). */
static bool
fixed_jsonb_form(Oid typid)
{
	switch (getBaseType(typid))
	{
		case INT2OID:
		case INT4OID:
		case INT8OID:
		case NUMERICOID:
		case BOOLOID:
		case TEXTOID:
		case VARCHAROID:
		case BPCHAROID:
		case NAMEOID:
		case UUIDOID:
		case JSONOID:
		case JSONBOID:
		case OIDOID:
		case DATEOID:
		case TIMESTAMPOID:
			return true;
		default:
			return false;
	}
}

/*
 * Whether values can be converted here, and the to_jsonb call of each
 * column; integers, booleans and text become their jsonb value directly
 * (as to_jsonb makes them).
 */
void
history_prepare_columns(HistoryTable *h, TupleDesc desc)
{
	h->plain_types = true;
	h->to_jsonb = palloc0(sizeof(FmgrInfo) * desc->natts);
	h->scalar = palloc0(sizeof(Oid) * desc->natts);
	for (int i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);
		Oid			base = getBaseType(att->atttypid);
		Const	   *arg;

		if (!h->recorded[i])
			continue;
		if (base == INT2OID || base == INT4OID || base == INT8OID || base == BOOLOID || base == TEXTOID)
			h->scalar[i] = base;
		if (h->tt.type[i] == NULL && !fixed_jsonb_form(att->atttypid))
			h->plain_types = false;
		/* to_jsonb(anyelement) reads its argument's type from the call expression */
		arg = makeNullConst(att->atttypid, att->atttypmod, att->attcollation);
		fmgr_info_cxt(F_TO_JSONB, &h->to_jsonb[i], CurrentMemoryContext);
		h->to_jsonb[i].fn_expr = (Node *) makeFuncExpr(F_TO_JSONB, JSONBOID, list_make1(arg), InvalidOid,
													   InvalidOid, COERCE_EXPLICIT_CALL);
	}
}

/* A CRDT column's delta from old to new (all of new when there was no old). */
static Datum
column_delta(const CrdtType *type, Datum new, Datum old, bool old_null)
{
	CrdtBuf		buf;
	CrdtError	err;

	if (old_null)
		return new;
	crdt_varlena_buf(&buf);
	if (type->delta(slice_of_datum(new), slice_of_datum(old), &buf, &err) != CRDT_OK)
		crdt_report(&err, type->name, NULL, 0);
	return crdt_varlena_datum(&buf);
}

/* A value of a column whose jsonb form is a scalar made here (h->scalar). */
static JsonbValue
scalar_value(Oid type, Datum value)
{
	JsonbValue	v;

	switch (type)
	{
		case BOOLOID:
			v.type = jbvBool;
			v.val.boolean = DatumGetBool(value);
			return v;
		case TEXTOID:
			{
				text	   *t = DatumGetTextPP(value);

				v.type = jbvString;
				v.val.string.val = VARDATA_ANY(t);
				v.val.string.len = VARSIZE_ANY_EXHDR(t);
				return v;
			}
		default:
			v.type = jbvNumeric;
			v.val.numeric = int64_to_numeric(type == INT2OID ? DatumGetInt16(value)
											 : type == INT4OID ? DatumGetInt32(value) : DatumGetInt64(value));
			return v;
	}
}

/*
 * A CRDT value's jsonb form, as its type's jsonb cast makes it (what
 * to_jsonb gives through the cast to json, without looking the cast up).
 */
static JsonbValue
crdt_value(const CrdtType *type, Datum value)
{
	LOCAL_FCINFO(fcinfo, 1);

	InitFunctionCallInfoData(*fcinfo, NULL, 1, InvalidOid, NULL, NULL);
	fcinfo->args[0].value = value;
	fcinfo->args[0].isnull = false;
	return crdt_jsonb_as_value(DatumGetJsonbP(crdt_type_to_jsonb(fcinfo, type)));
}

/* The jsonb values of some columns of one row: converted here, or picked from the row's to_jsonb. */
typedef struct RowJson
{
	Row		   *row;
	Jsonb	   *converted;		/* the whole row, when converted as the writer */
} RowJson;

static JsonbValue
column_value(HistoryTable *h, TupleDesc desc, RowJson *r, int i)
{
	JsonbValue	v;
	JsonbValue *found;
	const char *name = NameStr(TupleDescAttr(desc, i)->attname);

	if (r->converted == NULL)
	{
		if (r->row->nulls[i])
		{
			v.type = jbvNull;
			return v;
		}
		if (h->scalar[i] != InvalidOid)
			return scalar_value(h->scalar[i], r->row->values[i]);
		if (h->tt.type[i] != NULL)
			return crdt_value(h->tt.type[i], r->row->values[i]);
		return crdt_jsonb_as_value(DatumGetJsonbP(FunctionCall1(&h->to_jsonb[i], r->row->values[i])));
	}
	found = getKeyJsonValueFromContainer(&r->converted->root, name, strlen(name), NULL);
	if (found == NULL)
		elog(ERROR, "crdt_reconcile: column %s is missing from a converted row", name);
	return *found;
}

static void
push_key(JsonbParseState **st, const char *key)
{
	JsonbValue	k;

	k.type = jbvString;
	k.val.string.val = (char *) key;
	k.val.string.len = strlen(key);
	(void) pushJsonbValue(st, WJB_KEY, &k);
}

static void
push_field(JsonbParseState **st, const char *key, JsonbValue value)
{
	push_key(st, key);
	(void) pushJsonbValue(st, WJB_VALUE, &value);
}

/*
 * A CRDT column's value pushed after its key: straight from its printed
 * text (no jsonb made and taken apart again) unless it is NULL or the row
 * was converted as a whole.
 */
static void
push_crdt_column(JsonbParseState **st, HistoryTable *h, TupleDesc desc, RowJson *r, int i)
{
	JsonbValue	v;

	if (r->converted == NULL && !r->row->nulls[i])
	{
		crdt_type_push_jsonb(st, h->tt.type[i], r->row->values[i]);
		return;
	}
	v = column_value(h, desc, r, i);
	(void) pushJsonbValue(st, WJB_VALUE, &v);
}

/* {"key": value, ...} of the primary key's columns. */
static Jsonb *
row_key_of(HistoryTable *h, TupleDesc desc, RowJson *r)
{
	JsonbParseState *st = NULL;

	(void) pushJsonbValue(&st, WJB_BEGIN_OBJECT, NULL);
	for (int k = 0; k < h->nkeys; k++)
		push_field(&st, NameStr(TupleDescAttr(desc, h->keys[k])->attname), column_value(h, desc, r, h->keys[k]));
	return JsonbValueToJsonb(pushJsonbValue(&st, WJB_END_OBJECT, NULL));
}

/* {"col": {"d": delta} | {"o": old, "n": new} | {"n": new}, ...} of the changed columns. */
static Jsonb *
change_of(HistoryTable *h, TupleDesc desc, RowJson *old, RowJson *change, const bool *changed)
{
	JsonbParseState *st = NULL;

	(void) pushJsonbValue(&st, WJB_BEGIN_OBJECT, NULL);
	for (int i = 0; i < desc->natts; i++)
	{
		if (!changed[i])
			continue;
		push_key(&st, NameStr(TupleDescAttr(desc, i)->attname));
		(void) pushJsonbValue(&st, WJB_BEGIN_OBJECT, NULL);
		if (h->tt.type[i] != NULL)
		{
			push_key(&st, "d");
			push_crdt_column(&st, h, desc, change, i);
		}
		else
		{
			if (old != NULL)
				push_field(&st, "o", column_value(h, desc, old, i));
			push_field(&st, "n", column_value(h, desc, change, i));
		}
		(void) pushJsonbValue(&st, WJB_END_OBJECT, NULL);
	}
	return JsonbValueToJsonb(pushJsonbValue(&st, WJB_END_OBJECT, NULL));
}

/*
 * The history table's indexes, kept with h (an index added or dropped
 * invalidates the table, and h with it).  CREATE EXTENSION makes one
 * hash index on a column; an administrator may add others: one with
 * expressions, a predicate or an exclusion constraint, or one still being
 * built concurrently, sends every record through the executor.
 */
static void
read_indexes(HistoryTable *h, Relation rel)
{
	MemoryContext old = MemoryContextSwitchTo(h->cxt);
	List	   *oids = RelationGetIndexList(rel);
	ListCell   *lc;
	int			i = 0;

	h->nindexes = list_length(oids);
	h->index_oids = palloc(sizeof(Oid) * (h->nindexes + 1));
	h->index_info = palloc(sizeof(IndexInfo *) * (h->nindexes + 1));
	h->indexes_on_columns = true;
	foreach(lc, oids)
	{
		Relation	index = index_open(lfirst_oid(lc), RowExclusiveLock);

		h->index_oids[i] = lfirst_oid(lc);
		h->index_info[i] = BuildIndexInfo(index);
		if (h->index_info[i]->ii_Expressions != NIL || h->index_info[i]->ii_Predicate != NIL ||
			h->index_info[i]->ii_ExclusionOps != NULL || !index->rd_index->indisready)
			h->indexes_on_columns = false;
		index_close(index, RowExclusiveLock);
		i++;
	}
	list_free(oids);
	MemoryContextSwitchTo(old);
	h->indexes_known = true;
}

/* Index entries through the executor: expressions and predicates evaluated. */
static void
insert_index_entries_executor(Relation rel, HeapTuple tuple)
{
	EState	   *estate = CreateExecutorState();
	ResultRelInfo *result = makeNode(ResultRelInfo);
	TupleTableSlot *slot;

	InitResultRelInfo(result, rel, 1, NULL, 0);
	ExecOpenIndices(result, false);
	slot = ExecInitExtraTupleSlot(estate, RelationGetDescr(rel), &TTSOpsHeapTuple);
	ExecStoreHeapTuple(tuple, slot, false);
	(void) ExecInsertIndexTuples(result, slot, estate, false, false, NULL, NIL);
	ExecCloseIndices(result);
	ExecResetTupleTable(estate->es_tupleTable, false);
	FreeExecutorState(estate);
}

/*
 * Inserts the record: the heap tuple, then its index entries, from the
 * index descriptions kept with h when every index is on plain columns
 * (as catalog rows are indexed), else through the executor.  Its CHECK
 * constraint is not evaluated here: only this file writes records, with
 * kinds from the list the constraint allows.
 */
static void
write_record(HistoryTable *h, Datum *values, bool *nulls)
{
	Relation	rel = table_open(h->history, RowExclusiveLock);
	HeapTuple	tuple = heap_form_tuple(RelationGetDescr(rel), values, nulls);

	if (!h->indexes_known)
		read_indexes(h, rel);
	simple_heap_insert(rel, tuple);
	if (!h->indexes_on_columns)
		insert_index_entries_executor(rel, tuple);
	else
		for (int i = 0; i < h->nindexes; i++)
		{
			Relation	index = index_open(h->index_oids[i], RowExclusiveLock);
			IndexInfo  *info = h->index_info[i];
			Datum		key[INDEX_MAX_KEYS];
			bool		key_null[INDEX_MAX_KEYS];

			for (int k = 0; k < info->ii_NumIndexAttrs; k++)
			{
				int			att = info->ii_IndexAttrNumbers[k] - 1;

				key[k] = values[att];
				key_null[k] = nulls[att];
			}
			(void) index_insert(index, key, key_null, &tuple->t_self, rel,
								index->rd_index->indisunique ? UNIQUE_CHECK_YES : UNIQUE_CHECK_NO,
								false, info);
			index_close(index, NoLock); /* held to the end, as the executor holds it */
		}
	table_close(rel, NoLock);
}

/*
 * Appends the record of one change: new is NULL for a delete, old NULL
 * for an insert or a checkpoint.  Nothing when no recorded column changed.
 */
void
history_record(Decision *d, HistoryTable *h, const char *kind, const char *origin, Row *old, Row *new)
{
	TupleDesc	desc = d->desc;
	bool	   *changed = palloc0(sizeof(bool) * desc->natts);
	Row			change;
	RowJson		old_json = {old, NULL};
	RowJson		change_json = {&change, NULL};
	Row		   *clock_row = new != NULL ? new : old;
	Datum		values[H_NATTS];
	bool		nulls[H_NATTS] = {0};
	bool		any = false;

	if (new != NULL)
	{
		change = row_copy(*new, desc);
		for (int i = 0; i < desc->natts; i++)
		{
			if (!h->recorded[i] || (old != NULL && same_column(desc, i, *old, *new)))
				continue;
			if (h->tt.type[i] != NULL && !new->nulls[i])
				change.values[i] = column_delta(h->tt.type[i], new->values[i], old != NULL ? old->values[i] : 0,
												old == NULL || old->nulls[i]);
			changed[i] = any = true;
		}
		if (!any && old != NULL)
			return;				/* only the clock moved, or nothing did */
	}
	if (!h->plain_types)
	{
		Row		   *rows[4] = {old, new != NULL ? &change : NULL, NULL, NULL};
		Datum		json[4];
		bool		json_null[4];

		rows_to_jsonb(d, rows, json, json_null);
		old_json.converted = old != NULL ? DatumGetJsonbP(json[0]) : NULL;
		change_json.converted = new != NULL ? DatumGetJsonbP(json[1]) : NULL;
	}

	values[H_ID] = Int64GetDatum(nextval_internal(h->history_seq, false));
	values[H_RELATION] = ObjectIdGetDatum(h->tt.tracked_relid);
	values[H_ROW_KEY] = JsonbPGetDatum(row_key_of(h, desc, new != NULL ? &change_json : &old_json));
	values[H_CHANGED_AT] = TimestampTzGetDatum(GetCurrentTimestamp());
	values[H_KIND] = CStringGetTextDatum(kind);
	values[H_ORIGIN] = CStringGetTextDatum(origin);
	nulls[H_CLOCK] = h->clock < 0 || clock_row->nulls[h->clock];
	values[H_CLOCK] = nulls[H_CLOCK] ? (Datum) 0 : clock_row->values[h->clock];
	nulls[H_CHANGE] = new == NULL;
	values[H_CHANGE] = new == NULL ? (Datum) 0
		: JsonbPGetDatum(change_of(h, desc, old != NULL ? &old_json : NULL, &change_json, changed));
	write_record(h, values, nulls);
}
