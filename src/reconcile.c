/*
 * reconcile.c — the trigger of tracked tables: merges CRDT columns on
 * every write, tells local writes from replicated ones, resolves plain
 * columns deterministically and records conflicts in
 * crdt_reconcile.conflicts.
 *
 * Settings come from the trigger's arguments (written by track()):
 *   shape, clock column, writer column, replica column, log_merges,
 *   invariant, the search_path the invariant's names resolve in,
 *   record_stale.
 * They are parsed once per trigger and cached until the table's relcache
 * entry is invalidated.
 *
 * Plain columns follow the writer tag, an lwwreg the trigger stamps on
 * every local write with max(now, tag + 1 us).  A write's tag is thus
 * greater than the tag of everything its row had seen, so "greater tag
 * wins" agrees with causality and is the same rule on every node in any
 * delivery order; the row clock only classifies a loss as stale or
 * concurrent.
 *
 * Everything executed here is schema-qualified or prepared with an
 * explicit search_path: apply workers run with an empty one.
 */
#include "crdt_reconcile.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_extension.h"
#include "catalog/pg_operator.h"
#include "catalog/pg_type.h"
#include "commands/extension.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "replication/origin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/fmgroids.h"
#include "utils/guc.h"
#include "utils/hsearch.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/relcache.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"
#include "utils/typcache.h"

#include "merge_stats.h"

/* What the trigger does with a column. */
typedef enum ColumnRole
{
	COLUMN_SKIPPED,				/* dropped or generated */
	COLUMN_KEY,
	COLUMN_PLAIN,				/* resolved by the writer tag */
	COLUMN_CLOCK,
	COLUMN_WRITER,
	COLUMN_REPLICA,
	COLUMN_LOSSLESS,			/* counters, sets, other clocks: merge loses nothing */
	COLUMN_LWW,
	COLUMN_MVREG
} ColumnRole;

typedef struct TrackedTable
{
	Oid			trigger;		/* hash key */
	bool		valid;
	Oid			relid;
	MemoryContext cxt;
	bool		replica_rows;
	bool		log_merges;
	bool		record_stale;
	int			natts;
	ColumnRole *role;
	const CrdtType **type;
	int			clock;			/* attribute index, or -1 */
	int			writer;
	int			replica;
	int			nkeys;			/* replica rows: without the replica column */
	int		   *keys;
	Datum		key_names;		/* text[] for conflict records */
	char	   *invariant;
	char	   *invariant_path;
	char	   *qualified_name;
	Oid			rowtype;
	Oid			vclock_type;
	Oid			table_owner;
	Oid			audit_owner;
	SPIPlanPtr	merge_existing;
	SPIPlanPtr	siblings;
	SPIPlanPtr	check;
	SPIPlanPtr	record;
} TrackedTable;

static HTAB *tracked_tables = NULL;

/* Set while an applied INSERT merges into the row that already has its key. */
typedef struct MergeExisting
{
	Oid			relid;
	bool		found;
} MergeExisting;

static MergeExisting *merging_existing = NULL;

/* ---------------------------------------------------------------- settings */

static void
invalidate_tracked(Datum arg, Oid relid)
{
	HASH_SEQ_STATUS seq;
	TrackedTable *t;

	if (tracked_tables == NULL)
		return;
	hash_seq_init(&seq, tracked_tables);
	while ((t = hash_seq_search(&seq)) != NULL)
		if (relid == InvalidOid || t->relid == relid)
			t->valid = false;
}

static void
release_tracked(TrackedTable *t)
{
	SPIPlanPtr *plans[] = {&t->merge_existing, &t->siblings, &t->check, &t->record};

	for (int i = 0; i < lengthof(plans); i++)
		if (*plans[i] != NULL)
		{
			SPI_freeplan(*plans[i]);
			*plans[i] = NULL;
		}
	if (t->cxt != NULL)
		MemoryContextDelete(t->cxt);
	t->cxt = NULL;
}

static const CrdtType *
crdt_type_of(Oid typid, Oid extension_schema)
{
	static const CrdtType *const all[] = {
		&crdt_type_vclock, &crdt_type_gcounter, &crdt_type_pncounter, &crdt_type_gset,
		&crdt_type_twopset, &crdt_type_orset, &crdt_type_lwwreg, &crdt_type_mvreg
	};
	HeapTuple	tup = SearchSysCache1(TYPEOID, ObjectIdGetDatum(typid));
	const CrdtType *found = NULL;

	if (!HeapTupleIsValid(tup))
		return NULL;
	if (((Form_pg_type) GETSTRUCT(tup))->typnamespace == extension_schema)
	{
		const char *name = NameStr(((Form_pg_type) GETSTRUCT(tup))->typname);

		for (int i = 0; i < lengthof(all); i++)
			if (strcmp(all[i]->name, name) == 0)
				found = all[i];
	}
	ReleaseSysCache(tup);
	return found;
}

static int
attribute_index(TupleDesc desc, const char *name, const char *what)
{
	if (name[0] == '\0')
		return -1;
	for (int i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);

		if (!att->attisdropped && strcmp(NameStr(att->attname), name) == 0)
			return i;
	}
	ereport(ERROR,
			(errcode(ERRCODE_UNDEFINED_COLUMN),
			 errmsg("the %s column \"%s\" of a tracked table does not exist", what, name),
			 errhint("Re-create the tracking with crdt_reconcile.untrack and crdt_reconcile.track.")));
	return -1;
}

/* The schema of the extension's types (PostgreSQL 15 does not export this). */
static Oid
extension_schema(void)
{
	Oid			extension = get_extension_oid("crdt_reconcile", false);
	Relation	rel = table_open(ExtensionRelationId, AccessShareLock);
	ScanKeyData key;
	SysScanDesc scan;
	HeapTuple	tup;
	Oid			schema = InvalidOid;

	ScanKeyInit(&key, Anum_pg_extension_oid, BTEqualStrategyNumber, F_OIDEQ, ObjectIdGetDatum(extension));
	scan = systable_beginscan(rel, ExtensionOidIndexId, true, NULL, 1, &key);
	tup = systable_getnext(scan);
	if (HeapTupleIsValid(tup))
		schema = ((Form_pg_extension) GETSTRUCT(tup))->extnamespace;
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
	return schema;
}

static Oid
relation_owner(Oid relid)
{
	HeapTuple	tup = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	Oid			owner;

	if (!HeapTupleIsValid(tup))
		elog(ERROR, "cache lookup failed for relation %u", relid);
	owner = ((Form_pg_class) GETSTRUCT(tup))->relowner;
	ReleaseSysCache(tup);
	return owner;
}

static void
load_tracked(TrackedTable *t, TriggerData *td)
{
	Relation	rel = td->tg_relation;
	TupleDesc	desc = RelationGetDescr(rel);
	Trigger    *trigger = td->tg_trigger;
	Oid			schema = extension_schema();
	Bitmapset  *pkey;
	MemoryContext old;
	Datum	   *names;
	int			n = 0;

	if (trigger->tgnargs != 8)
		ereport(ERROR,
				(errcode(ERRCODE_TRIGGERED_ACTION_EXCEPTION),
				 errmsg("trigger \"%s\" was not created by crdt_reconcile.track", trigger->tgname)));
	t->cxt = AllocSetContextCreate(TopMemoryContext, "crdt_reconcile tracked table", ALLOCSET_SMALL_SIZES);
	old = MemoryContextSwitchTo(t->cxt);

	t->relid = RelationGetRelid(rel);
	t->replica_rows = strcmp(trigger->tgargs[0], "replica_rows") == 0;
	t->clock = attribute_index(desc, trigger->tgargs[1], "clock");
	t->writer = attribute_index(desc, trigger->tgargs[2], "writer");
	t->replica = attribute_index(desc, trigger->tgargs[3], "replica");
	t->log_merges = strcmp(trigger->tgargs[4], "true") == 0;
	t->invariant = trigger->tgargs[5][0] != '\0' ? pstrdup(trigger->tgargs[5]) : NULL;
	t->invariant_path = pstrdup(trigger->tgargs[6]);
	t->record_stale = strcmp(trigger->tgargs[7], "true") == 0;
	t->qualified_name = quote_qualified_identifier(get_namespace_name(RelationGetNamespace(rel)),
												   RelationGetRelationName(rel));
	t->rowtype = rel->rd_rel->reltype;
	t->vclock_type = GetSysCacheOid2(TYPENAMENSP, Anum_pg_type_oid, CStringGetDatum("vclock"),
									 ObjectIdGetDatum(schema));
	t->table_owner = rel->rd_rel->relowner;
	t->audit_owner = relation_owner(get_relname_relid("conflicts", get_namespace_oid("crdt_reconcile", false)));

	t->natts = desc->natts;
	t->role = palloc0(sizeof(ColumnRole) * desc->natts);
	t->type = palloc0(sizeof(CrdtType *) * desc->natts);
	t->keys = palloc(sizeof(int) * desc->natts);
	names = palloc(sizeof(Datum) * desc->natts);
	pkey = RelationGetIndexAttrBitmap(rel, INDEX_ATTR_BITMAP_PRIMARY_KEY);
	if (bms_is_empty(pkey))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_TABLE_DEFINITION),
				 errmsg("tracked table %s has no primary key", t->qualified_name)));
	for (int i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);
		bool		is_key = bms_is_member(att->attnum - FirstLowInvalidHeapAttributeNumber, pkey);

		if (att->attisdropped || att->attgenerated)
			t->role[i] = COLUMN_SKIPPED;
		else if (i == t->replica)
			t->role[i] = COLUMN_REPLICA;
		else if (is_key)
			t->role[i] = COLUMN_KEY;
		else if (i == t->clock)
			t->role[i] = COLUMN_CLOCK;
		else if (i == t->writer)
			t->role[i] = COLUMN_WRITER;
		else if ((t->type[i] = crdt_type_of(att->atttypid, schema)) == NULL)
			t->role[i] = COLUMN_PLAIN;
		else if (t->type[i] == &crdt_type_lwwreg)
			t->role[i] = COLUMN_LWW;
		else if (t->type[i] == &crdt_type_mvreg)
			t->role[i] = COLUMN_MVREG;
		else
			t->role[i] = COLUMN_LOSSLESS;
		if (i == t->clock)
			t->type[i] = &crdt_type_vclock;
		if (i == t->writer)
			t->type[i] = &crdt_type_lwwreg;
		if (t->role[i] == COLUMN_KEY)
		{
			t->keys[t->nkeys++] = i;
			names[n++] = CStringGetTextDatum(NameStr(att->attname));
		}
	}
	t->key_names = PointerGetDatum(construct_array(names, n, TEXTOID, -1, false, TYPALIGN_INT));
	MemoryContextSwitchTo(old);
	t->valid = true;
}

static TrackedTable *
tracked_table(TriggerData *td)
{
	Oid			trigger = td->tg_trigger->tgoid;
	TrackedTable *t;
	bool		found;

	if (tracked_tables == NULL)
	{
		HASHCTL		ctl = {0};

		ctl.keysize = sizeof(Oid);
		ctl.entrysize = sizeof(TrackedTable);
		tracked_tables = hash_create("crdt_reconcile tracked tables", 16, &ctl, HASH_ELEM | HASH_BLOBS);
		CacheRegisterRelcacheCallback(invalidate_tracked, (Datum) 0);
	}
	t = hash_search(tracked_tables, &trigger, HASH_ENTER, &found);
	if (!found)
	{
		memset((char *) t + sizeof(Oid), 0, sizeof(TrackedTable) - sizeof(Oid));
		t->trigger = trigger;
	}
	if (!t->valid)
	{
		/* start from nothing: the table's columns or the settings may have changed */
		release_tracked(t);
		memset((char *) t + sizeof(Oid), 0, sizeof(TrackedTable) - sizeof(Oid));
		PG_TRY();
		{
			load_tracked(t, td);
		}
		PG_CATCH();
		{
			release_tracked(t);
			hash_search(tracked_tables, &trigger, HASH_REMOVE, NULL);
			PG_RE_THROW();
		}
		PG_END_TRY();
	}
	return t;
}

/* ---------------------------------------------------------------- SQL text */

static const char *
column_name(TrackedTable *t, TupleDesc desc, int i)
{
	(void) t;
	return quote_identifier(NameStr(TupleDescAttr(desc, i)->attname));
}

/* "OPERATOR(schema.=)" for the type's default equality, usable with no search_path. */
static char *
equality_operator(Oid typid)
{
	TypeCacheEntry *tc = lookup_type_cache(typid, TYPECACHE_EQ_OPR);
	HeapTuple	tup;
	Oid			schema;

	if (!OidIsValid(tc->eq_opr))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_FUNCTION),
				 errmsg("type %s of a key column has no equality operator", format_type_be(typid))));
	tup = SearchSysCache1(OPEROID, ObjectIdGetDatum(tc->eq_opr));
	if (!HeapTupleIsValid(tup))
		elog(ERROR, "cache lookup failed for operator %u", tc->eq_opr);
	schema = ((Form_pg_operator) GETSTRUCT(tup))->oprnamespace;
	ReleaseSysCache(tup);
	return psprintf("OPERATOR(%s.=)", quote_identifier(get_namespace_name(schema)));
}

/* key1 = $n1 AND key2 = $n2 ..., parameters numbered from the attribute index + 1 */
static void
append_key_match(StringInfo sql, TrackedTable *t, TupleDesc desc, const char *alias)
{
	for (int k = 0; k < t->nkeys; k++)
	{
		int			i = t->keys[k];

		appendStringInfo(sql, "%s%s%s %s $%d", k > 0 ? " AND " : "", alias, column_name(t, desc, i),
						 equality_operator(TupleDescAttr(desc, i)->atttypid), i + 1);
	}
}

static Oid *
column_types(TupleDesc desc)
{
	Oid		   *types = palloc(sizeof(Oid) * desc->natts);

	for (int i = 0; i < desc->natts; i++)
		types[i] = TupleDescAttr(desc, i)->atttypid;
	return types;
}

static SPIPlanPtr
prepare_kept(const char *sql, int nargs, Oid *types)
{
	SPIPlanPtr	plan = SPI_prepare(sql, nargs, types);

	if (plan == NULL)
		elog(ERROR, "crdt_reconcile: SPI_prepare failed (%s) for: %s", SPI_result_code_string(SPI_result), sql);
	SPI_keepplan(plan);
	return plan;
}

/*
 * UPDATE ONLY rel SET (every column) = ROW($...) WHERE key = $...: an applied
 * INSERT of an existing key becomes an applied UPDATE, which this trigger
 * then merges like any other.
 */
static SPIPlanPtr
merge_existing_plan(TrackedTable *t, TupleDesc desc)
{
	StringInfoData sql;
	bool		first = true;

	if (t->merge_existing != NULL)
		return t->merge_existing;
	initStringInfo(&sql);
	appendStringInfo(&sql, "UPDATE ONLY %s SET (", t->qualified_name);
	for (int i = 0; i < desc->natts; i++)
		if (t->role[i] != COLUMN_SKIPPED)
		{
			appendStringInfo(&sql, "%s%s", first ? "" : ", ", column_name(t, desc, i));
			first = false;
		}
	appendStringInfoString(&sql, ") = ROW(");
	first = true;
	for (int i = 0; i < desc->natts; i++)
		if (t->role[i] != COLUMN_SKIPPED)
		{
			appendStringInfo(&sql, "%s$%d", first ? "" : ", ", i + 1);
			first = false;
		}
	appendStringInfoString(&sql, ") WHERE ");
	append_key_match(&sql, t, desc, "");
	if (t->replica >= 0)
		appendStringInfo(&sql, " AND %s OPERATOR(pg_catalog.=) $%d", column_name(t, desc, t->replica),
						 t->replica + 1);
	t->merge_existing = prepare_kept(sql.data, desc->natts, column_types(desc));
	return t->merge_existing;
}

/* The other replicas' rows of the same key (replica-rows tables). */
static SPIPlanPtr
siblings_plan(TrackedTable *t, TupleDesc desc)
{
	StringInfoData sql;

	if (t->siblings != NULL)
		return t->siblings;
	initStringInfo(&sql);
	appendStringInfo(&sql, "SELECT * FROM ONLY %s r WHERE ", t->qualified_name);
	append_key_match(&sql, t, desc, "r.");
	appendStringInfo(&sql, " AND r.%s OPERATOR(pg_catalog.<>) $%d ORDER BY r.%s COLLATE pg_catalog.\"C\"",
					 column_name(t, desc, t->replica), t->replica + 1, column_name(t, desc, t->replica));
	t->siblings = prepare_kept(sql.data, desc->natts, column_types(desc));
	return t->siblings;
}

/* The invariant over one row, prepared in the search_path track() saw. */
static SPIPlanPtr
check_plan(TrackedTable *t)
{
	StringInfoData sql;

	if (t->check != NULL)
		return t->check;
	initStringInfo(&sql);
	appendStringInfo(&sql, "SELECT (%s)::pg_catalog.bool FROM (SELECT ($1).*) AS t", t->invariant);
	t->check = prepare_kept(sql.data, 1, &t->rowtype);
	return t->check;
}

static SPIPlanPtr
record_plan(TrackedTable *t)
{
	Oid			types[14];

	if (t->record != NULL)
		return t->record;
	types[0] = REGCLASSOID;
	types[1] = t->rowtype;
	types[2] = TEXTARRAYOID;
	types[3] = TEXTOID;
	types[4] = TEXTOID;
	types[5] = t->vclock_type;
	types[6] = t->vclock_type;
	types[7] = t->rowtype;
	types[8] = t->rowtype;
	types[9] = t->rowtype;
	types[10] = TEXTOID;
	types[11] = TEXTOID;
	types[12] = TEXTOID;
	types[13] = BOOLOID;
	/*
	 * With $14, a record equal to one already kept (same row, column, kind
	 * and the same two values, either way round) is not written again: in
	 * a mesh one lost write reaches a node along several paths.
	 */
	t->record = prepare_kept(
		"INSERT INTO crdt_reconcile.conflicts (relation, row_key, column_name, kind, local_clock, "
		"remote_clock, local_value, remote_value, result_value, resolution, origin, status) "
		"SELECT c.* FROM (SELECT $1::pg_catalog.regclass AS relation, "
		"  (SELECT pg_catalog.jsonb_object_agg(k, pg_catalog.to_jsonb($2) OPERATOR(pg_catalog.->) k) "
		"   FROM pg_catalog.unnest($3) AS k) AS row_key, $4::pg_catalog.name AS column_name, $5 AS kind, $6, $7, "
		"  CASE WHEN $4 IS NULL THEN pg_catalog.to_jsonb($8) ELSE pg_catalog.to_jsonb($8) OPERATOR(pg_catalog.->) $4 END AS local_value, "
		"  CASE WHEN $4 IS NULL THEN pg_catalog.to_jsonb($9) ELSE pg_catalog.to_jsonb($9) OPERATOR(pg_catalog.->) $4 END AS remote_value, "
		"  CASE WHEN $4 IS NULL THEN pg_catalog.to_jsonb($10) ELSE pg_catalog.to_jsonb($10) OPERATOR(pg_catalog.->) $4 END, "
		"  $11, $12, $13) AS c "
		"WHERE NOT ($14 AND EXISTS (SELECT FROM crdt_reconcile.conflicts x "
		"  WHERE x.relation OPERATOR(pg_catalog.=) c.relation AND x.column_name OPERATOR(pg_catalog.=) c.column_name "
		"    AND x.row_key OPERATOR(pg_catalog.=) c.row_key AND x.kind OPERATOR(pg_catalog.=) c.kind "
		"    AND ((x.local_value OPERATOR(pg_catalog.=) c.local_value AND x.remote_value OPERATOR(pg_catalog.=) c.remote_value) "
		"      OR (x.local_value OPERATOR(pg_catalog.=) c.remote_value AND x.remote_value OPERATOR(pg_catalog.=) c.local_value))))",
		14, types);
	return t->record;
}

/* ---------------------------------------------------------------- rows */

/* A row being decided: its values, and the tuple it came from. */
typedef struct Row
{
	Datum	   *values;
	bool	   *nulls;
	HeapTuple	tuple;
} Row;

static Row
row_of(HeapTuple tuple, TupleDesc desc)
{
	Row			r;

	r.values = palloc(sizeof(Datum) * desc->natts);
	r.nulls = palloc(sizeof(bool) * desc->natts);
	r.tuple = tuple;
	heap_deform_tuple(tuple, desc, r.values, r.nulls);
	return r;
}

static Row
row_copy(Row src, TupleDesc desc)
{
	Row			r;

	r.values = palloc(sizeof(Datum) * desc->natts);
	r.nulls = palloc(sizeof(bool) * desc->natts);
	memcpy(r.values, src.values, sizeof(Datum) * desc->natts);
	memcpy(r.nulls, src.nulls, sizeof(bool) * desc->natts);
	r.tuple = NULL;
	return r;
}

static Datum
row_datum(Row *r, TupleDesc desc)
{
	if (r->tuple == NULL)
		r->tuple = heap_form_tuple(desc, r->values, r->nulls);
	return heap_copy_tuple_as_datum(r->tuple, desc);
}

static CrdtSlice
slice_of_datum(Datum d)
{
	return crdt_slice_of(PG_DETOAST_DATUM_PACKED(d));
}

static bool
same_crdt(Datum a, bool anull, Datum b, bool bnull)
{
	CrdtSlice	sa,
				sb;

	if (anull || bnull)
		return anull == bnull;
	sa = slice_of_datum(a);
	sb = slice_of_datum(b);
	return sa.len == sb.len && memcmp(sa.data, sb.data, sa.len) == 0;
}

static bool
same_value(Form_pg_attribute att, Datum a, bool anull, Datum b, bool bnull)
{
	if (anull || bnull)
		return anull == bnull;
	return datum_image_eq(a, b, att->attbyval, att->attlen);
}

static bool
same_row(Row a, Row b, TupleDesc desc)
{
	for (int i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);

		if (!att->attisdropped && !same_value(att, a.values[i], a.nulls[i], b.values[i], b.nulls[i]))
			return false;
	}
	return true;
}

/* merge(a, b) with NULL as the empty state; NULL only when both are. */
static void
merge_into(const CrdtType *type, Datum a, bool anull, Datum b, bool bnull, Datum *out, bool *outnull)
{
	CrdtBuf		buf;
	CrdtError	err;

	if (anull || bnull)
	{
		*out = anull ? b : a;
		*outnull = anull && bnull;
		return;
	}
	if (same_crdt(a, false, b, false))
	{
		*out = a;
		*outnull = false;
		return;
	}
	crdt_varlena_buf(&buf);
	if (type->merge(slice_of_datum(a), slice_of_datum(b), &buf, &err) != CRDT_OK)
		crdt_report(&err, type->name, NULL, 0);
	*out = crdt_varlena_datum(&buf);
	*outnull = false;
}

static CrdtSlice
slice_or_empty(const CrdtType *type, Datum d, bool isnull)
{
	if (isnull)
	{
		CrdtBuf		buf;
		CrdtSlice	s;

		crdt_buf_init(&buf, &crdt_palloc_allocator, 0);
		type->write_empty(&buf);
		s.data = buf.data;
		s.len = buf.len;
		return s;
	}
	return slice_of_datum(d);
}

static CrdtOrder
clock_order(TrackedTable *t, Row local, Row remote)
{
	CrdtOrder	order;
	CrdtError	err;

	if (crdt_vclock_compare(slice_or_empty(&crdt_type_vclock, local.values[t->clock], local.nulls[t->clock]),
							slice_or_empty(&crdt_type_vclock, remote.values[t->clock], remote.nulls[t->clock]),
							&order, &err) != CRDT_OK)
		crdt_report(&err, "vclock", NULL, 0);
	return order;
}

/*
 * Whether the row clock of seer covers the last write of row: that write's
 * dot (its writer's replica and counter) is in the writer tag.  -1 when the
 * tag carries no dot (written by hand), so nothing can be told.
 */
static int
has_seen(TrackedTable *t, Row seer, Row row)
{
	CrdtLww		lww;
	CrdtError	err;
	char		digits[24];
	char	   *end;
	long long	counter;
	int64		seen;

	if (t->writer < 0 || row.nulls[t->writer] || t->clock < 0)
		return -1;
	if (crdt_lww_read(slice_of_datum(row.values[t->writer]), &lww, &err) != CRDT_OK)
		crdt_report(&err, "lwwreg", NULL, 0);
	if (lww.empty || lww.value_len == 0 || lww.value_len >= sizeof(digits))
		return -1;
	memcpy(digits, lww.value, lww.value_len);
	digits[lww.value_len] = '\0';
	counter = strtoll(digits, &end, 10);
	if (*end != '\0' || counter <= 0)
		return -1;
	if (crdt_counter_get(CRDT_VCLOCK, slice_or_empty(&crdt_type_vclock, seer.values[t->clock], seer.nulls[t->clock]),
						 lww.replica, lww.replica_len, &seen, &err) != CRDT_OK)
		crdt_report(&err, "vclock", NULL, 0);
	return seen >= counter ? 1 : 0;
}

/*
 * Two rows whose last writes did not know of each other: a real conflict.
 * Concurrent clocks alone are not enough: in a mesh a row often arrives
 * carrying an old value its sender had not yet replaced, merged with other
 * news; that value was already superseded here.
 */
static bool
writes_concurrent(TrackedTable *t, Row a, Row b)
{
	int			a_saw_b = has_seen(t, a, b);
	int			b_saw_a = has_seen(t, b, a);

	if (a_saw_b < 0 || b_saw_a < 0)
		return clock_order(t, a, b) == CRDT_ORDER_CONCURRENT;
	return !a_saw_b && !b_saw_a;
}

static int
mvreg_count(Datum d, bool isnull)
{
	CrdtDottedKeys *it;
	CrdtError	err;
	const uint8_t *key;
	size_t		len;
	int			rc,
				n = 0;

	if (isnull)
		return 0;
	it = palloc(sizeof(CrdtDottedKeys));
	if (crdt_dotted_keys_init(it, CRDT_MVREG, slice_of_datum(d), &err) != CRDT_OK)
		crdt_report(&err, "mvreg", NULL, 0);
	while ((rc = crdt_dotted_keys_next(it, &key, &len, &err)) > 0)
		n++;
	if (rc < 0)
		crdt_report(&err, "mvreg", NULL, 0);
	return n;
}

/* ---------------------------------------------------------------- records */

typedef struct Decision
{
	TrackedTable *t;
	TupleDesc	desc;
	bool		applied;
	bool		spi;			/* connected; a plain local write never needs it */
	int			conflicts;
} Decision;

static void
connect_spi(Decision *d)
{
	if (d->spi)
		return;
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "crdt_reconcile: SPI_connect failed");
	d->spi = true;
}

static char *
origin_text(bool applied)
{
	const char *app = application_name != NULL && application_name[0] != '\0' ? application_name : "-";
	const char *replica = crdt_replica_id_setting != NULL && crdt_replica_id_setting[0] != '\0'
		? crdt_replica_id_setting : "-";

	if (replorigin_session_origin != InvalidRepOriginId)
	{
		char	   *name = NULL;

		if (replorigin_by_oid(replorigin_session_origin, true, &name) && name != NULL)
			return psprintf("origin %s", name);
	}
	return psprintf("%s write, replica %s, application %s", applied ? "replicated" : "local", replica, app);
}

/*
 * Inserts one conflict record, as the audit table's owner: the writer may
 * have no rights on it, and a record must be written anyway.
 */
static void
record_conflict(Decision *d, const char *kind, int column, Row *key_row, Row *local, Row *remote,
				Row *result, const char *resolution, const char *status)
{
	TrackedTable *t = d->t;
	Datum		args[14];
	char		nulls[14];
	Oid			save_user;
	int			save_sec;
	int			rc;
	bool		has_clock = t->clock >= 0;

	connect_spi(d);
	memset(nulls, ' ', sizeof(nulls));
	args[0] = ObjectIdGetDatum(t->relid);
	args[1] = row_datum(key_row, d->desc);
	args[2] = t->key_names;
	if (column >= 0)
		args[3] = CStringGetTextDatum(NameStr(TupleDescAttr(d->desc, column)->attname));
	else
		nulls[3] = 'n';
	args[4] = CStringGetTextDatum(kind);
	if (has_clock && local != NULL && !local->nulls[t->clock])
		args[5] = local->values[t->clock];
	else
		nulls[5] = 'n';
	if (has_clock && remote != NULL && !remote->nulls[t->clock])
		args[6] = remote->values[t->clock];
	else
		nulls[6] = 'n';
	if (local != NULL)
		args[7] = row_datum(local, d->desc);
	else
		nulls[7] = 'n';
	if (remote != NULL)
		args[8] = row_datum(remote, d->desc);
	else
		nulls[8] = 'n';
	if (result != NULL)
		args[9] = row_datum(result, d->desc);
	else
		nulls[9] = 'n';
	args[10] = CStringGetTextDatum(resolution);
	args[11] = CStringGetTextDatum(origin_text(d->applied));
	args[12] = CStringGetTextDatum(status);
	args[13] = BoolGetDatum(strcmp(kind, "concurrent_update") == 0 || strcmp(kind, "stale_update") == 0);

	GetUserIdAndSecContext(&save_user, &save_sec);
	SetUserIdAndSecContext(t->audit_owner, save_sec | SECURITY_LOCAL_USERID_CHANGE);
	rc = SPI_execute_plan(record_plan(t), args, nulls, false, 0);
	SetUserIdAndSecContext(save_user, save_sec);
	if (rc != SPI_OK_INSERT)
		elog(ERROR, "crdt_reconcile: recording a conflict failed: %s", SPI_result_code_string(rc));
	d->conflicts += SPI_processed;
}

/* The invariant on a row: true, false, or NULL (unknown counts as kept). */
static bool
invariant_broken(Decision *d, Row *row)
{
	TrackedTable *t = d->t;
	Datum		arg;
	Oid			save_user;
	int			save_sec;
	int			nest;
	int			rc;
	bool		broken = false;

	if (t->invariant == NULL || row == NULL)
		return false;
	connect_spi(d);
	arg = row_datum(row, d->desc);
	/*
	 * As the table's owner, who wrote the expression (a writer's rights must
	 * not matter), and in the search_path track() saw: the plan cache
	 * replans whenever the path differs, so it is set for every check.
	 */
	nest = NewGUCNestLevel();
	(void) set_config_option("search_path", t->invariant_path, PGC_USERSET, PGC_S_SESSION,
							 GUC_ACTION_SAVE, true, 0, false);
	GetUserIdAndSecContext(&save_user, &save_sec);
	SetUserIdAndSecContext(t->table_owner, save_sec | SECURITY_LOCAL_USERID_CHANGE);
	rc = SPI_execute_plan(check_plan(t), &arg, NULL, true, 1);
	SetUserIdAndSecContext(save_user, save_sec);
	AtEOXact_GUC(true, nest);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "crdt_reconcile: checking the invariant failed: %s", SPI_result_code_string(rc));
	if (SPI_processed == 1)
	{
		bool		isnull;
		Datum		v = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);

		broken = !isnull && !DatumGetBool(v);
	}
	return broken;
}

/* ---------------------------------------------------------------- local writes */

static CrdtReplica
local_replica(FunctionCallInfo fcinfo)
{
	return crdt_resolve_replica(fcinfo, 1000);
}

static void
stamp_local(FunctionCallInfo fcinfo, TrackedTable *t, Row *row, Datum observed_clock, bool observed_null,
			bool plain_written)
{
	CrdtReplica replica = local_replica(fcinfo);
	CrdtBuf		buf;
	CrdtError	err;

	if (t->clock >= 0)
	{
		Datum		clock;
		bool		isnull;

		merge_into(&crdt_type_vclock, row->values[t->clock], row->nulls[t->clock],
				   observed_clock, observed_null, &clock, &isnull);
		crdt_varlena_buf(&buf);
		if (crdt_counter_add(CRDT_VCLOCK, slice_or_empty(&crdt_type_vclock, clock, isnull),
							 replica.id, replica.len, 1, &buf, &err) != CRDT_OK)
			crdt_report(&err, "vclock", NULL, 0);
		row->values[t->clock] = crdt_varlena_datum(&buf);
		row->nulls[t->clock] = false;
	}
	/* the writer tag names the last write of the plain columns */
	if (t->writer >= 0 && plain_written)
	{
		CrdtSlice	current = slice_or_empty(&crdt_type_lwwreg, row->values[t->writer], row->nulls[t->writer]);
		CrdtLww		lww;
		TimestampTz at = GetCurrentTimestamp();
		int64		counter = 0;
		char		dot[24];

		if (crdt_lww_read(current, &lww, &err) != CRDT_OK)
			crdt_report(&err, "lwwreg", NULL, 0);
		if (!lww.empty && lww.at >= at)
			at = lww.at + 1;
		/* the tag's value is this write's dot: our entry in the row clock */
		if (t->clock >= 0 &&
			crdt_counter_get(CRDT_VCLOCK, slice_of_datum(row->values[t->clock]), replica.id, replica.len,
							 &counter, &err) != CRDT_OK)
			crdt_report(&err, "vclock", NULL, 0);
		snprintf(dot, sizeof(dot), INT64_FORMAT, counter);
		crdt_varlena_buf(&buf);
		if (crdt_lww_set(current, at, replica.id, replica.len, (const uint8_t *) dot, strlen(dot), &buf, &err) != CRDT_OK)
			crdt_report(&err, "lwwreg", NULL, 0);
		row->values[t->writer] = crdt_varlena_datum(&buf);
		row->nulls[t->writer] = false;
	}
	row->tuple = NULL;
}

static void
check_own_row(FunctionCallInfo fcinfo, TrackedTable *t, Row row)
{
	CrdtReplica replica;
	text	   *value;

	if (t->replica < 0)
		return;
	replica = local_replica(fcinfo);
	if (row.nulls[t->replica])
		ereport(ERROR,
				(errcode(ERRCODE_NOT_NULL_VIOLATION),
				 errmsg("the replica column of %s must not be NULL", t->qualified_name)));
	value = DatumGetTextPP(row.values[t->replica]);
	if (VARSIZE_ANY_EXHDR(value) != replica.len || memcmp(VARDATA_ANY(value), replica.id, replica.len) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_CHECK_VIOLATION),
				 errmsg("replica %s may only write its own rows of %s, not those of replica %s",
						crdt_from_utf8((const char *) replica.id, replica.len), t->qualified_name,
						text_to_cstring(value)),
				 errdetail("In a replica_rows table each replica writes only the rows whose replica column names it; the others arrive by replication.")));
}

/* Merged clock of the other replicas' rows of this key (replica-rows tables). */
static bool
siblings_clock(Decision *d, Row row, Datum *clock)
{
	TrackedTable *t = d->t;
	char	   *nulls = palloc(d->desc->natts);
	bool		isnull = true;
	int			rc;

	connect_spi(d);
	for (int i = 0; i < d->desc->natts; i++)
		nulls[i] = row.nulls[i] ? 'n' : ' ';
	rc = SPI_execute_plan(siblings_plan(t, d->desc), row.values, nulls, true, 0);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "crdt_reconcile: reading sibling rows failed: %s", SPI_result_code_string(rc));
	*clock = (Datum) 0;
	for (uint64 n = 0; n < SPI_processed; n++)
	{
		bool		cnull;
		Datum		c = SPI_getbinval(SPI_tuptable->vals[n], SPI_tuptable->tupdesc, t->clock + 1, &cnull);

		merge_into(&crdt_type_vclock, *clock, isnull, c, cnull, clock, &isnull);
	}
	return !isnull;
}

/* An INSERT, or an UPDATE that changed a plain column. */
static bool
plain_written(TrackedTable *t, TupleDesc desc, Row *old, Row *new)
{
	if (old == NULL)
		return true;
	for (int i = 0; i < desc->natts; i++)
		if (t->role[i] == COLUMN_PLAIN &&
			!same_value(TupleDescAttr(desc, i), old->values[i], old->nulls[i], new->values[i], new->nulls[i]))
			return true;
	return false;
}

static HeapTuple
local_write(FunctionCallInfo fcinfo, Decision *d, Row *old, Row new)
{
	TrackedTable *t = d->t;
	Row			result = row_copy(new, d->desc);
	Datum		observed = (Datum) 0;
	bool		observed_null = true;
	bool		merged_in = false;

	check_own_row(fcinfo, t, new);
	if (old != NULL)
		for (int i = 0; i < d->desc->natts; i++)
			if (t->type[i] != NULL)
			{
				merge_into(t->type[i], old->values[i], old->nulls[i], new.values[i], new.nulls[i],
						   &result.values[i], &result.nulls[i]);
				if (same_crdt(result.values[i], result.nulls[i], new.values[i], new.nulls[i]))
					continue;
				merged_in = true;
				if (t->log_merges && t->role[i] == COLUMN_LOSSLESS)
					record_conflict(d, "merge_logged", i, &result, old, &new, &result, "merged", "auto_resolved");
			}
	/* the common case (an increment written against the stored state): the row stands as written */
	if (!merged_in && t->clock < 0 && t->writer < 0 && t->invariant == NULL)
	{
		crdt_merge_stats_count(t->relid, MERGE_STAT_LOCAL_WRITES, 1);
		return new.tuple;
	}
	if (t->replica_rows && t->clock >= 0)
		observed_null = !siblings_clock(d, new, &observed);
	stamp_local(fcinfo, t, &result, observed, observed_null, plain_written(t, d->desc, old, &result));
	/*
	 * Not on INSERT: the row may be the proposal of an INSERT ... ON
	 * CONFLICT that never lands, and an inserted row merged nothing.
	 */
	if (old != NULL && invariant_broken(d, &result) && !invariant_broken(d, old))
		record_conflict(d, "invariant_violation", -1, &result, old, &new, &result, "pending", "open");
	crdt_merge_stats_count(t->relid, MERGE_STAT_LOCAL_WRITES, 1);
	return heap_form_tuple(d->desc, result.values, result.nulls);
}

/* ---------------------------------------------------------------- applied writes */

/*
 * Replica rows: compare the arriving row with the other replicas' rows of
 * its key, record what their merge drops or splits, and check the
 * invariant on the converged state.
 */
static void
compare_with_siblings(Decision *d, Row *arrived, Row *before)
{
	TrackedTable *t = d->t;
	TupleDesc	desc = d->desc;
	char	   *nulls = palloc(desc->natts);
	Row			converged = row_copy(*arrived, desc);
	Row			converged_before = before != NULL ? row_copy(*before, desc) : row_copy(*arrived, desc);
	SPITupleTable *siblings;
	uint64		count;
	int			rc;

	connect_spi(d);
	for (int i = 0; i < desc->natts; i++)
		nulls[i] = arrived->nulls[i] ? 'n' : ' ';
	rc = SPI_execute_plan(siblings_plan(t, desc), arrived->values, nulls, true, 0);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "crdt_reconcile: reading sibling rows failed: %s", SPI_result_code_string(rc));
	siblings = SPI_tuptable;
	count = SPI_processed;
	for (uint64 n = 0; n < count; n++)
	{
		Row			other = row_of(siblings->vals[n], desc);
		/* without clocks nothing tells concurrent rows from ordered ones */
		bool		concurrent = t->clock >= 0 && clock_order(t, other, *arrived) == CRDT_ORDER_CONCURRENT;

		for (int i = 0; i < desc->natts; i++)
		{
			Form_pg_attribute att = TupleDescAttr(desc, i);

			if (t->type[i] != NULL && t->role[i] != COLUMN_KEY && t->role[i] != COLUMN_REPLICA)
			{
				merge_into(t->type[i], converged.values[i], converged.nulls[i],
						   other.values[i], other.nulls[i], &converged.values[i], &converged.nulls[i]);
				if (before != NULL)
					merge_into(t->type[i], converged_before.values[i], converged_before.nulls[i],
							   other.values[i], other.nulls[i],
							   &converged_before.values[i], &converged_before.nulls[i]);
			}
			if (!concurrent || same_value(att, other.values[i], other.nulls[i],
										  arrived->values[i], arrived->nulls[i]))
				continue;
			if (t->role[i] == COLUMN_PLAIN)
				record_conflict(d, "concurrent_update", i, arrived, &other, arrived, NULL, "pending", "open");
			else if (t->role[i] == COLUMN_LWW && !other.nulls[i] && !arrived->nulls[i])
			{
				Row			winner = row_copy(other, desc);

				merge_into(t->type[i], other.values[i], false, arrived->values[i], false,
						   &winner.values[i], &winner.nulls[i]);
				record_conflict(d, "concurrent_update", i, arrived, &other, arrived, &winner,
								"merged", "auto_resolved");
			}
		}
	}
	converged.tuple = NULL;
	converged_before.tuple = NULL;
	for (int i = 0; i < desc->natts; i++)
		if (t->role[i] == COLUMN_MVREG && mvreg_count(converged.values[i], converged.nulls[i]) > 1 &&
			(before == NULL || !same_crdt(converged.values[i], converged.nulls[i],
										  converged_before.values[i], converged_before.nulls[i])))
			record_conflict(d, "multi_value", i, arrived, before, arrived, &converged, "pending", "open");
	if (invariant_broken(d, &converged) && (before == NULL || !invariant_broken(d, &converged_before)))
		record_conflict(d, "invariant_violation", -1, arrived, before, arrived, &converged, "pending", "open");
}

/*
 * An applied UPDATE (or an applied INSERT met by an existing row): the
 * stored row is local, the arriving one remote.  Returns NULL when the
 * merge changes nothing, so replays and echoes cost no write.
 */
static HeapTuple
applied_update(Decision *d, Row local, Row remote, bool insert_exists)
{
	TrackedTable *t = d->t;
	TupleDesc	desc = d->desc;
	Row			result = row_copy(local, desc);
	CrdtOrder	order = t->clock >= 0 ? clock_order(t, local, remote) : CRDT_ORDER_BEFORE;
	bool		remote_wins;
	bool		stale = order == CRDT_ORDER_AFTER || order == CRDT_ORDER_EQUAL;
	int			concurrent_writes = -1;	/* computed when first needed */

	/* which side's plain columns stand */
	if (t->clock < 0)
		remote_wins = true;		/* no history: as PostgreSQL applies it */
	else if (order == CRDT_ORDER_BEFORE)
		remote_wins = true;
	else if (order == CRDT_ORDER_CONCURRENT && t->writer >= 0)
	{
		Datum		w;
		bool		wnull;

		merge_into(&crdt_type_lwwreg, local.values[t->writer], local.nulls[t->writer],
				   remote.values[t->writer], remote.nulls[t->writer], &w, &wnull);
		remote_wins = !same_crdt(w, wnull, local.values[t->writer], local.nulls[t->writer]);
	}
	else
		remote_wins = false;

	for (int i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);
		bool		differs;

		if (t->role[i] == COLUMN_SKIPPED || t->role[i] == COLUMN_KEY || t->role[i] == COLUMN_REPLICA)
			continue;
		if (t->type[i] != NULL)
		{
			merge_into(t->type[i], local.values[i], local.nulls[i], remote.values[i], remote.nulls[i],
					   &result.values[i], &result.nulls[i]);
			continue;
		}
		differs = !same_value(att, local.values[i], local.nulls[i], remote.values[i], remote.nulls[i]);
		if (remote_wins)
		{
			result.values[i] = remote.values[i];
			result.nulls[i] = remote.nulls[i];
		}
		if (!differs || t->clock < 0 || t->replica_rows)
			continue;
		if (order == CRDT_ORDER_CONCURRENT)
		{
			if (concurrent_writes < 0)
				concurrent_writes = writes_concurrent(t, local, remote);
			if (concurrent_writes)
				record_conflict(d, "concurrent_update", i, &local, &local, &remote, &result,
								remote_wins ? "applied_remote" : "kept_local", "auto_resolved");
		}
		else if (stale && t->record_stale)
			record_conflict(d, "stale_update", i, &local, &local, &remote, &result, "kept_local", "auto_resolved");
	}
	result.tuple = NULL;

	/* what the CRDT merges dropped or split */
	for (int i = 0; i < desc->natts; i++)
	{
		bool		changed;

		if (t->type[i] == NULL || t->role[i] == COLUMN_CLOCK || t->role[i] == COLUMN_WRITER)
			continue;
		changed = !same_crdt(result.values[i], result.nulls[i], local.values[i], local.nulls[i]);
		if (t->role[i] == COLUMN_LWW && !local.nulls[i] && !remote.nulls[i] &&
			!same_crdt(local.values[i], false, remote.values[i], false) && !t->replica_rows)
		{
			if (order == CRDT_ORDER_CONCURRENT)
			{
				if (concurrent_writes < 0)
					concurrent_writes = writes_concurrent(t, local, remote);
				if (concurrent_writes)
					record_conflict(d, "concurrent_update", i, &local, &local, &remote, &result,
									changed ? "applied_remote" : "kept_local", "auto_resolved");
			}
			else if (t->clock < 0 && !changed)
				/* without a clock, an arriving write that loses is the one recorded */
				record_conflict(d, "concurrent_update", i, &local, &local, &remote, &result,
								"kept_local", "auto_resolved");
			else if (stale && !changed && t->record_stale)
				record_conflict(d, "stale_update", i, &local, &local, &remote, &result,
								"kept_local", "auto_resolved");
		}
		else if (t->role[i] == COLUMN_MVREG && changed && !t->replica_rows &&
				 mvreg_count(result.values[i], result.nulls[i]) > 1)
			record_conflict(d, "multi_value", i, &local, &local, &remote, &result, "pending", "open");
		else if (t->role[i] == COLUMN_LOSSLESS && changed && t->log_merges)
			record_conflict(d, "merge_logged", i, &local, &local, &remote, &result, "merged", "auto_resolved");
	}

	if (same_row(result, local, desc))
	{
		crdt_merge_stats_count(t->relid, stale && order != CRDT_ORDER_EQUAL
							   ? MERGE_STAT_STALE_SKIPPED : MERGE_STAT_ECHOES_SKIPPED, 1);
		return NULL;
	}
	/* only an insert that brought something new: echoes and replays are not conflicts */
	if (insert_exists)
		record_conflict(d, "insert_exists", -1, &local, &local, &remote, &result, "merged", "auto_resolved");
	if (t->replica_rows)
		compare_with_siblings(d, &result, &local);
	else if (invariant_broken(d, &result) && !invariant_broken(d, &local))
		record_conflict(d, "invariant_violation", -1, &local, &local, &remote, &result, "pending", "open");
	crdt_merge_stats_count(t->relid, MERGE_STAT_MERGES_APPLIED, 1);
	return heap_form_tuple(desc, result.values, result.nulls);
}

/*
 * An applied INSERT: if its key exists, merge into that row (through an
 * UPDATE this trigger handles) and skip the insert instead of stalling the
 * subscription on a unique violation.
 */
static bool
merged_into_existing(Decision *d, Row row)
{
	MergeExisting here = {d->t->relid, false};
	MergeExisting *outer = merging_existing;
	char	   *nulls = palloc(d->desc->natts);
	int			rc;

	connect_spi(d);
	for (int i = 0; i < d->desc->natts; i++)
		nulls[i] = row.nulls[i] ? 'n' : ' ';
	merging_existing = &here;
	PG_TRY();
	{
		rc = SPI_execute_plan(merge_existing_plan(d->t, d->desc), row.values, nulls, false, 0);
	}
	PG_FINALLY();
	{
		merging_existing = outer;
	}
	PG_END_TRY();
	if (rc != SPI_OK_UPDATE)
		elog(ERROR, "crdt_reconcile: merging into an existing row failed: %s", SPI_result_code_string(rc));
	return here.found || SPI_processed > 0;
}

/* ---------------------------------------------------------------- the trigger */

static bool
write_is_applied(void)
{
	return SessionReplicationRole == SESSION_REPLICATION_ROLE_REPLICA ||
		replorigin_session_origin != InvalidRepOriginId;
}

PG_FUNCTION_INFO_V1(crdt_track_trigger);
Datum
crdt_track_trigger(PG_FUNCTION_ARGS)
{
	TriggerData *td = (TriggerData *) fcinfo->context;
	Decision	d;
	HeapTuple	out;
	bool		nested_merge;

	if (!CALLED_AS_TRIGGER(fcinfo) || !TRIGGER_FIRED_BEFORE(td->tg_event) ||
		!TRIGGER_FIRED_FOR_ROW(td->tg_event) ||
		!(TRIGGER_FIRED_BY_INSERT(td->tg_event) || TRIGGER_FIRED_BY_UPDATE(td->tg_event)))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("crdt_reconcile.track_trigger must fire BEFORE INSERT OR UPDATE FOR EACH ROW")));

	d.t = tracked_table(td);
	d.desc = RelationGetDescr(td->tg_relation);
	d.applied = write_is_applied();
	d.conflicts = 0;
	d.spi = false;
	nested_merge = merging_existing != NULL && merging_existing->relid == d.t->relid &&
		TRIGGER_FIRED_BY_UPDATE(td->tg_event);

	if (TRIGGER_FIRED_BY_INSERT(td->tg_event))
	{
		Row			new = row_of(td->tg_trigtuple, d.desc);

		if (!d.applied)
			out = local_write(fcinfo, &d, NULL, new);
		else if (merged_into_existing(&d, new))
		{
			crdt_merge_stats_count(d.t->relid, MERGE_STAT_INSERTS_MERGED, 1);
			out = NULL;
		}
		else
		{
			if (d.t->replica_rows)
				compare_with_siblings(&d, &new, NULL);
			out = td->tg_trigtuple;
		}
	}
	else
	{
		Row			old = row_of(td->tg_trigtuple, d.desc);
		Row			new = row_of(td->tg_newtuple, d.desc);

		if (nested_merge)
			merging_existing->found = true;
		if (d.applied)
			out = applied_update(&d, old, new, nested_merge);
		else
			out = local_write(fcinfo, &d, &old, new);
	}
	if (d.spi)
	{
		/* SPI_finish frees what was allocated since SPI_connect */
		if (out != NULL && out != td->tg_trigtuple)
			out = SPI_copytuple(out);
		SPI_finish();
	}
	if (d.conflicts > 0)
		crdt_merge_stats_count(d.t->relid, MERGE_STAT_CONFLICTS, d.conflicts);
	return PointerGetDatum(out);
}
