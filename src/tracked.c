/*
 * tracked.c — the settings of a tracked table, as the trigger uses them.
 *
 * The trigger never trusts its own arguments: a role with the TRIGGER
 * privilege can attach crdt_reconcile.track_trigger to any table with any
 * arguments.  It runs only as the trigger track() created — named
 * crdt_reconcile_track, calling this function, on a table (or a partition
 * of a table) that has a row in crdt_reconcile.tracked — and reads its
 * settings from that row, checking every column role against the catalog
 * (a domain over a CRDT type is that type) each time it loads them.
 *
 * Settings are cached per trigger until a relcache invalidation of the
 * table; they are reference-counted, so a call nested inside another (the
 * UPDATE an applied INSERT turns into, a cast that writes to the table)
 * that reloads them never frees what the outer call is using.
 */
#include "tracked.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "catalog/indexing.h"
#include "catalog/namespace.h"
#include "catalog/pg_extension.h"
#include "catalog/pg_operator.h"
#include "catalog/pg_trigger.h"
#include "catalog/pg_type.h"
#include "commands/extension.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/guc.h"
#include "utils/hsearch.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/relcache.h"
#include "utils/syscache.h"
#include "utils/typcache.h"

#define TRACK_TRIGGER_NAME "crdt_reconcile_track"

static HTAB *tracked_entries = NULL;
static uint64 invalidations = 0;

/* ---------------------------------------------------------------- identity */

void
identity_switch(SwitchedIdentity *s, Oid role, const char *search_path)
{
	GetUserIdAndSecContext(&s->save_user, &s->save_sec);
	SetUserIdAndSecContext(role, s->save_sec | SECURITY_LOCAL_USERID_CHANGE | SECURITY_RESTRICTED_OPERATION);
	s->nest = NewGUCNestLevel();
	(void) set_config_option("search_path", search_path, PGC_USERSET, PGC_S_SESSION,
							 GUC_ACTION_SAVE, true, 0, false);
	s->switched = true;
}

void
identity_restore(SwitchedIdentity *s)
{
	if (!s->switched)
		return;
	AtEOXact_GUC(false, s->nest);
	SetUserIdAndSecContext(s->save_user, s->save_sec);
	s->switched = false;
}

/* ---------------------------------------------------------------- cache */

static void
free_tracked(TrackedTable *t)
{
	for (int i = 0; i < PLAN_COUNT; i++)
		if (t->plans[i] != NULL)
			SPI_freeplan(t->plans[i]);
	MemoryContextDelete(t->cxt);
}

void
tracked_release(TrackedTable *t)
{
	if (t != NULL && --t->refcount == 0)
		free_tracked(t);
}

/*
 * While an error unwinds, a plan of these settings may still be held by
 * the failed statement until its (sub)transaction aborts: settings no one
 * uses any more are freed at the next acquire instead.
 */
static List *orphans = NIL;

void
tracked_release_on_error(TrackedTable *t)
{
	if (t != NULL && --t->refcount == 0)
	{
		MemoryContext old = MemoryContextSwitchTo(CacheMemoryContext);

		orphans = lappend(orphans, t);
		MemoryContextSwitchTo(old);
	}
}

static void
free_orphans(void)
{
	ListCell   *lc;

	foreach(lc, orphans)
		free_tracked((TrackedTable *) lfirst(lc));
	list_free(orphans);
	orphans = NIL;
}

/* Marks settings stale; never frees (a call may be using them right now). */
static void
invalidate_tracked(Datum arg, Oid relid)
{
	HASH_SEQ_STATUS seq;
	TriggerCacheEntry *e;

	invalidations++;
	if (tracked_entries == NULL)
		return;
	hash_seq_init(&seq, tracked_entries);
	while ((e = hash_seq_search(&seq)) != NULL)
	{
		TrackedTable *t = e->current;

		if (t != NULL && (relid == InvalidOid || t->relid == relid || t->tracked_relid == relid))
			t->stale = true;
	}
}

/*
 * The slot of a trigger in a cache of settings per trigger (*cache, made
 * on first use, with invalidate called on relcache invalidations): NULL
 * when the trigger is new to it.  Loading settings may add entries, which
 * moves the slots: look the slot up again after loading.
 */
void	  **
trigger_cache_slot(HTAB **cache, const char *name, RelcacheCallbackFunction invalidate, Oid trigger)
{
	TriggerCacheEntry *e;
	bool		found;

	if (*cache == NULL)
	{
		HASHCTL		ctl = {0};

		ctl.keysize = sizeof(Oid);
		ctl.entrysize = sizeof(TriggerCacheEntry);
		*cache = hash_create(name, 16, &ctl, HASH_ELEM | HASH_BLOBS);
		CacheRegisterRelcacheCallback(invalidate, (Datum) 0);
	}
	e = hash_search(*cache, &trigger, HASH_ENTER, &found);
	if (!found)
		e->current = NULL;
	return &e->current;
}

/* ---------------------------------------------------------------- catalog */

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

Oid
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

static char *
qualified_relation_name(Oid relid)
{
	return quote_qualified_identifier(get_namespace_name(get_rel_namespace(relid)), get_rel_name(relid));
}

/* The CRDT type a column holds, looking through domains; NULL for others. */
const CrdtType *
crdt_type_of_column(Oid typid, Oid schema)
{
	static const CrdtType *const all[] = {
		&crdt_type_vclock, &crdt_type_gcounter, &crdt_type_pncounter, &crdt_type_gset,
		&crdt_type_twopset, &crdt_type_orset, &crdt_type_lwwreg, &crdt_type_mvreg,
		&crdt_type_rtext, &crdt_type_rlist, &crdt_type_bcounter
	};
	HeapTuple	tup = SearchSysCache1(TYPEOID, ObjectIdGetDatum(getBaseType(typid)));
	const CrdtType *found = NULL;

	if (!HeapTupleIsValid(tup))
		return NULL;
	if (((Form_pg_type) GETSTRUCT(tup))->typnamespace == schema)
	{
		const char *name = NameStr(((Form_pg_type) GETSTRUCT(tup))->typname);

		for (int i = 0; i < lengthof(all); i++)
			if (strcmp(all[i]->name, name) == 0)
				found = all[i];
	}
	ReleaseSysCache(tup);
	return found;
}

/*
 * The tracked table a trigger belongs to: the table of the trigger at the
 * root of its clones (a partition's trigger is a clone of its parent's),
 * provided that root trigger is the one track() creates.
 */
static Oid
trigger_root_relation(Oid trigger, Oid trigger_function, const char *fired_name, const char *relname)
{
	Relation	rel = table_open(TriggerRelationId, AccessShareLock);
	Oid			relid = InvalidOid;
	bool		ours = false;

	for (int depth = 0; OidIsValid(trigger) && depth < 64; depth++)
	{
		ScanKeyData key;
		SysScanDesc scan;
		HeapTuple	tup;
		Form_pg_trigger form;

		ScanKeyInit(&key, Anum_pg_trigger_oid, BTEqualStrategyNumber, F_OIDEQ, ObjectIdGetDatum(trigger));
		scan = systable_beginscan(rel, TriggerOidIndexId, true, NULL, 1, &key);
		tup = systable_getnext(scan);
		if (!HeapTupleIsValid(tup))
		{
			systable_endscan(scan);
			break;
		}
		form = (Form_pg_trigger) GETSTRUCT(tup);
		relid = form->tgrelid;
		ours = strcmp(NameStr(form->tgname), TRACK_TRIGGER_NAME) == 0 && form->tgfoid == trigger_function;
		trigger = form->tgparentid;
		systable_endscan(scan);
		if (!ours)
			break;
	}
	table_close(rel, AccessShareLock);
	if (!ours || OidIsValid(trigger))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("trigger \"%s\" on \"%s\" was not created by crdt_reconcile.track()", fired_name, relname),
				 errhint("crdt_reconcile.track_trigger runs only as the trigger crdt_reconcile.track() creates.")));
	return relid;
}

/* The row of crdt_reconcile.tracked, deformed by column name. */
typedef struct TrackedRow
{
	TupleDesc	desc;
	Datum	   *values;
	bool	   *nulls;
} TrackedRow;

static bool
tracked_field(TrackedRow *r, const char *name, Datum *value)
{
	for (int i = 0; i < r->desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(r->desc, i);

		if (!att->attisdropped && strcmp(NameStr(att->attname), name) == 0)
		{
			*value = r->values[i];
			return !r->nulls[i];
		}
	}
	elog(ERROR, "crdt_reconcile.tracked has no column \"%s\"", name);
	return false;
}

static char *
tracked_text(TrackedRow *r, const char *name)
{
	Datum		v;

	return tracked_field(r, name, &v) ? TextDatumGetCString(v) : NULL;
}

static char *
tracked_name(TrackedRow *r, const char *name)
{
	Datum		v;

	return tracked_field(r, name, &v) ? pstrdup(NameStr(*DatumGetName(v))) : NULL;
}

static bool
tracked_bool(TrackedRow *r, const char *name)
{
	Datum		v;

	return tracked_field(r, name, &v) && DatumGetBool(v);
}

/* Reads the row of relid (copied into the current memory context); false when there is none. */
static bool
read_tracked_row(Oid relid, TrackedRow *out)
{
	Oid			schema = get_namespace_oid("crdt_reconcile", false);
	Oid			table = get_relname_relid("tracked", schema);
	Oid			index = get_relname_relid("tracked_pkey", schema);
	Relation	rel;
	ScanKeyData key;
	SysScanDesc scan;
	HeapTuple	tup;
	bool		found = false;

	if (!OidIsValid(table) || !OidIsValid(index))
		elog(ERROR, "crdt_reconcile.tracked is missing");
	rel = table_open(table, AccessShareLock);
	ScanKeyInit(&key, 1, BTEqualStrategyNumber, F_OIDEQ, ObjectIdGetDatum(relid));
	scan = systable_beginscan(rel, index, true, NULL, 1, &key);
	tup = systable_getnext(scan);
	if (HeapTupleIsValid(tup))
	{
		out->desc = CreateTupleDescCopy(RelationGetDescr(rel));
		out->values = palloc(sizeof(Datum) * out->desc->natts);
		out->nulls = palloc(sizeof(bool) * out->desc->natts);
		heap_deform_tuple(heap_copytuple(tup), out->desc, out->values, out->nulls);
		found = true;
	}
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
	return found;
}

/* ---------------------------------------------------------------- loading */

static void
refuse(TrackedTable *t, const char *fmt, const char *arg)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_TABLE_DEFINITION),
			 errmsg("tracked table %s: %s", t->tracked_name, psprintf(fmt, arg)),
			 errhint("Re-create the tracking with crdt_reconcile.untrack and crdt_reconcile.track.")));
}

/* Attribute index of a configured column, checked against the base type it must have. */
static int
configured_column(TrackedTable *t, TupleDesc desc, const char *name, Oid base_type, const char *what)
{
	if (name == NULL)
		return -1;
	for (int i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);

		if (att->attisdropped || strcmp(NameStr(att->attname), name) != 0)
			continue;
		if (att->attgenerated)
			refuse(t, psprintf("the %s column \"%%s\" is generated", what), name);
		if (getBaseType(att->atttypid) != base_type)
			refuse(t, psprintf("the %s column \"%%s\" does not have the type it needs", what), name);
		return i;
	}
	refuse(t, psprintf("the %s column \"%%s\" does not exist", what), name);
	return -1;
}

/* The primary key must be the one track() saw, column for column. */
static void
load_keys(TrackedTable *t, Relation rel, TrackedRow *row)
{
	TupleDesc	desc = RelationGetDescr(rel);
	Bitmapset  *pkey = RelationGetIndexAttrBitmap(rel, INDEX_ATTR_BITMAP_PRIMARY_KEY);
	Datum		v;
	Datum	   *names;
	Datum	   *texts;
	int			n,
				ntexts = 0;

	if (!tracked_field(row, "key_columns", &v))
		refuse(t, "%s", "no key columns are recorded");
	deconstruct_array(DatumGetArrayTypeP(v), NAMEOID, NAMEDATALEN, false, TYPALIGN_CHAR, &names, NULL, &n);
	if (n == 0 || bms_num_members(pkey) != n)
		refuse(t, "%s", "its primary key is not the one it was tracked with");
	t->all_keys = palloc(sizeof(int) * n);
	t->keys = palloc(sizeof(int) * n);
	texts = palloc(sizeof(Datum) * n);
	for (int k = 0; k < n; k++)
	{
		const char *name = NameStr(*DatumGetName(names[k]));
		int			i = -1;

		for (int a = 0; a < desc->natts && i < 0; a++)
			if (!TupleDescAttr(desc, a)->attisdropped && strcmp(NameStr(TupleDescAttr(desc, a)->attname), name) == 0)
				i = a;
		if (i < 0 || !bms_is_member(TupleDescAttr(desc, i)->attnum - FirstLowInvalidHeapAttributeNumber, pkey))
			refuse(t, "its primary key is not the one it was tracked with (column \"%s\")", name);
		t->all_keys[t->nall_keys++] = i;
		if (i == t->replica)
			continue;
		t->keys[t->nkeys++] = i;
		t->role[i] = COLUMN_KEY;
		texts[ntexts++] = CStringGetTextDatum(name);
	}
	if (t->replica >= 0 && t->role[t->replica] != COLUMN_REPLICA)
		refuse(t, "the replica column \"%s\" is not in its primary key", NameStr(TupleDescAttr(desc, t->replica)->attname));
	t->key_names = PointerGetDatum(construct_array(texts, ntexts, TEXTOID, -1, false, TYPALIGN_INT));
}

static void
load_roles(TrackedTable *t, TupleDesc desc, Oid schema)
{
	for (int i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);

		if (att->attisdropped || att->attgenerated)
			t->role[i] = COLUMN_SKIPPED;
		else if (i == t->replica)
			t->role[i] = COLUMN_REPLICA;
		else if (i == t->clock)
			t->role[i] = COLUMN_CLOCK;
		else if (i == t->writer)
			t->role[i] = COLUMN_WRITER;
		else if ((t->type[i] = crdt_type_of_column(att->atttypid, schema)) == NULL)
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
		/* a merged value could break a domain's CHECK, which nothing would re-check */
		if (t->type[i] != NULL && att->atttypid != getBaseType(att->atttypid) && DomainHasConstraints(att->atttypid))
			refuse(t, "column \"%s\" is a CRDT domain with constraints, which a merge could break",
				   NameStr(att->attname));
	}
}

static Oid
crdt_type_oid(const char *name, Oid schema)
{
	Oid			typid = GetSysCacheOid2(TYPENAMENSP, Anum_pg_type_oid, CStringGetDatum(name),
										ObjectIdGetDatum(schema));

	if (!OidIsValid(typid))
		elog(ERROR, "type %s of crdt_reconcile is missing", name);
	return typid;
}

static void
load_tracked(TrackedTable *t, TriggerData *td, Oid trigger_function)
{
	Relation	rel = td->tg_relation;
	TupleDesc	desc = RelationGetDescr(rel);
	Oid			schema = extension_schema();
	Oid			audit_schema = get_namespace_oid("crdt_reconcile", false);
	TrackedRow	row;
	char	   *shape;

	t->trigger = td->tg_trigger->tgoid;
	t->relid = RelationGetRelid(rel);
	t->qualified_name = qualified_relation_name(t->relid);
	t->tracked_relid = trigger_root_relation(t->trigger, trigger_function, td->tg_trigger->tgname,
											 RelationGetRelationName(rel));
	t->tracked_name = qualified_relation_name(t->tracked_relid);
	if (!read_tracked_row(t->tracked_relid, &row))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("table %s is not tracked", t->tracked_name),
				 errhint("crdt_reconcile.track_trigger runs only as the trigger crdt_reconcile.track() creates.")));
	shape = tracked_text(&row, "shape");
	t->replica_rows = shape != NULL && strcmp(shape, "replica_rows") == 0;
	t->log_merges = tracked_bool(&row, "log_merges");
	t->record_stale = tracked_bool(&row, "record_stale");
	t->invariant = tracked_text(&row, "invariant");
	t->invariant_path = tracked_text(&row, "invariant_search_path");
	if (t->invariant != NULL && t->invariant_path == NULL)
		t->invariant_path = "pg_catalog, pg_temp";

	t->natts = desc->natts;
	t->role = palloc0(sizeof(ColumnRole) * desc->natts);
	t->type = palloc0(sizeof(CrdtType *) * desc->natts);
	t->vclock_type = crdt_type_oid("vclock", schema);
	t->clock = configured_column(t, desc, tracked_name(&row, "clock_column"), t->vclock_type, "clock");
	t->writer = configured_column(t, desc, tracked_name(&row, "writer_column"), crdt_type_oid("lwwreg", schema),
								  "writer");
	t->replica = configured_column(t, desc, tracked_name(&row, "replica_column"), TEXTOID, "replica");
	if (t->replica_rows != (t->replica >= 0))
		refuse(t, "%s", "a replica_rows table needs its replica column, and only it has one");
	if (t->writer >= 0 && t->clock < 0)
		refuse(t, "%s", "a writer column needs a clock column");
	load_roles(t, desc, schema);
	load_keys(t, rel, &row);

	t->rowtype = rel->rd_rel->reltype;
	t->extension_schema = pstrdup(quote_identifier(get_namespace_name(schema)));
	t->table_owner = relation_owner(t->tracked_relid);
	t->audit_owner = relation_owner(get_relname_relid("conflicts", audit_schema));
	t->tombstones = get_relname_relid("tombstones", audit_schema);
	t->tombstones_key = get_relname_relid("tombstones_pkey", audit_schema);
}

static void **
tracked_slot(Oid trigger)
{
	return trigger_cache_slot(&tracked_entries, "crdt_reconcile tracked tables", invalidate_tracked, trigger);
}

/*
 * The settings for this trigger call, with a reference the caller gives
 * back with tracked_release (also on error: see the trigger).
 */
TrackedTable *
tracked_acquire(TriggerData *td, Oid trigger_function)
{
	void	  **slot;
	TrackedTable *t;
	MemoryContext cxt;
	MemoryContext old;
	uint64		seen;

	free_orphans();
	slot = tracked_slot(td->tg_trigger->tgoid);
	t = *slot;
	if (t != NULL && !t->stale)
	{
		t->refcount++;
		return t;
	}
	/* the cache lets go of stale settings; calls still using them keep them alive */
	*slot = NULL;
	tracked_release_on_error(t);	/* a call using them may be unwinding */

	cxt = AllocSetContextCreate(CacheMemoryContext, "crdt_reconcile tracked table", ALLOCSET_SMALL_SIZES);
	old = MemoryContextSwitchTo(cxt);
	t = palloc0(sizeof(TrackedTable));
	t->cxt = cxt;
	seen = invalidations;
	PG_TRY();
	{
		load_tracked(t, td, trigger_function);
	}
	PG_CATCH();
	{
		MemoryContextSwitchTo(old);
		MemoryContextDelete(cxt);
		PG_RE_THROW();
	}
	PG_END_TRY();
	MemoryContextSwitchTo(old);
	/* an invalidation while loading leaves them stale: this call uses them, the next reloads */
	t->stale = invalidations != seen;
	t->refcount = 2;			/* the cache's and the caller's */
	*tracked_slot(td->tg_trigger->tgoid) = t;
	return t;
}

/* ---------------------------------------------------------------- statements */

static const char *
column_name(TupleDesc desc, int i)
{
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

/* alias.key = $n AND ...; parameters are numbered from the attribute index + 1 */
static void
append_key_match(StringInfo sql, TupleDesc desc, const int *keys, int nkeys, const char *alias)
{
	for (int k = 0; k < nkeys; k++)
	{
		int			i = keys[k];

		appendStringInfo(sql, "%s%s%s %s $%d", k > 0 ? " AND " : "", alias, column_name(desc, i),
						 equality_operator(TupleDescAttr(desc, i)->atttypid), i + 1);
	}
}

static Oid *
column_types(TupleDesc desc)
{
	Oid		   *types = palloc(sizeof(Oid) * desc->natts);

	for (int i = 0; i < desc->natts; i++)
		types[i] = TupleDescAttr(desc, i)->attisdropped ? INT4OID : TupleDescAttr(desc, i)->atttypid;
	return types;
}

/*
 * UPDATE ONLY rel SET (columns) = ROW($...) WHERE key = $...: an applied
 * INSERT of an existing key becomes an applied UPDATE, which the trigger
 * then merges like any other.  Key columns are not assigned (they match,
 * and an identity key may not be).
 */
static char *
merge_existing_sql(TrackedTable *t, TupleDesc desc)
{
	StringInfoData sql;
	StringInfoData values;
	bool		first = true;

	initStringInfo(&sql);
	initStringInfo(&values);
	/* a partition's row may move to another partition: update through the tracked table */
	if (t->relid == t->tracked_relid)
		appendStringInfo(&sql, "UPDATE ONLY %s SET (", t->qualified_name);
	else
		appendStringInfo(&sql, "UPDATE %s SET (", t->tracked_name);
	for (int i = 0; i < desc->natts; i++)
		if (t->role[i] != COLUMN_SKIPPED && t->role[i] != COLUMN_KEY && t->role[i] != COLUMN_REPLICA)
		{
			appendStringInfo(&sql, "%s%s", first ? "" : ", ", column_name(desc, i));
			appendStringInfo(&values, "%s$%d", first ? "" : ", ", i + 1);
			first = false;
		}
	if (first)					/* nothing but the key: a no-op assignment still fires the trigger */
	{
		appendStringInfo(&sql, "%s", column_name(desc, t->all_keys[0]));
		appendStringInfo(&values, "%s", column_name(desc, t->all_keys[0]));
	}
	appendStringInfo(&sql, ") = ROW(%s) WHERE ", values.data);
	append_key_match(&sql, desc, t->all_keys, t->nall_keys, "");
	return sql.data;
}

/* The other replicas' rows of a key, read from the tracked table in this table's column order. */
static char *
siblings_sql(TrackedTable *t, TupleDesc desc)
{
	StringInfoData sql;

	initStringInfo(&sql);
	appendStringInfoString(&sql, "SELECT ");
	for (int i = 0; i < desc->natts; i++)
		appendStringInfo(&sql, "%s%s%s", i > 0 ? ", " : "", TupleDescAttr(desc, i)->attisdropped ? "" : "r.",
						 TupleDescAttr(desc, i)->attisdropped ? "NULL::pg_catalog.int4" : column_name(desc, i));
	appendStringInfo(&sql, " FROM %s r WHERE ", t->tracked_name);
	append_key_match(&sql, desc, t->keys, t->nkeys, "r.");
	appendStringInfo(&sql, " AND r.%s OPERATOR(pg_catalog.<>) $%d ORDER BY r.%s COLLATE pg_catalog.\"C\"",
					 column_name(desc, t->replica), t->replica + 1, column_name(desc, t->replica));
	return sql.data;
}

/*
 * A conflict record.  Values arrive as jsonb, converted by the writer;
 * only built-in functions run here, as the audit table's owner.  With $14
 * a record equal to one already kept (same row, column, kind and the same
 * two values, either way round) is not written again: in a mesh one lost
 * write reaches a node along several paths.
 */
static const char record_sql[] =
"INSERT INTO crdt_reconcile.conflicts (relation, row_key, column_name, kind, local_clock, "
"remote_clock, local_value, remote_value, result_value, resolution, origin, status, note) "
"SELECT c.* FROM (SELECT $1::pg_catalog.regclass AS relation, "
"  (SELECT pg_catalog.jsonb_object_agg(k, $2 OPERATOR(pg_catalog.->) k) FROM pg_catalog.unnest($3) AS k) AS row_key, "
"  $4::pg_catalog.name AS column_name, $5 AS kind, $6, $7, "
"  CASE WHEN $4 IS NULL THEN $8 ELSE $8 OPERATOR(pg_catalog.->) $4 END AS local_value, "
"  CASE WHEN $4 IS NULL THEN $9 ELSE $9 OPERATOR(pg_catalog.->) $4 END AS remote_value, "
"  CASE WHEN $4 IS NULL THEN $10 ELSE $10 OPERATOR(pg_catalog.->) $4 END, "
"  $11, $12, $13, $15) AS c "
"WHERE NOT ($14 AND EXISTS (SELECT FROM crdt_reconcile.conflicts x "
"  WHERE x.relation OPERATOR(pg_catalog.=) c.relation AND x.column_name OPERATOR(pg_catalog.=) c.column_name "
"    AND x.row_key OPERATOR(pg_catalog.=) c.row_key AND x.kind OPERATOR(pg_catalog.=) c.kind "
"    AND ((x.local_value OPERATOR(pg_catalog.=) c.local_value AND x.remote_value OPERATOR(pg_catalog.=) c.remote_value) "
"      OR (x.local_value OPERATOR(pg_catalog.=) c.remote_value AND x.remote_value OPERATOR(pg_catalog.=) c.local_value))))";

/*
 * Open records of a row that an applied write settled: the columns in $4
 * (or the whole row when $5, the invariant, holds again), provided the
 * write's clock $6 covers both sides the record is about.
 */
static char *
close_sql(TrackedTable *t)
{
	return psprintf(
		"UPDATE crdt_reconcile.conflicts x SET status = 'resolved', resolution = 'arbitrated', "
		"  resolved_value = CASE WHEN x.column_name IS NULL THEN $7 ELSE $7 OPERATOR(pg_catalog.->) x.column_name END, "
		"  resolved_by = $8, note = COALESCE(x.note, 'settled by a replicated write'::pg_catalog.text) "
		"WHERE x.relation OPERATOR(pg_catalog.=) $1::pg_catalog.regclass AND x.status OPERATOR(pg_catalog.=) 'open' "
		"  AND x.row_key OPERATOR(pg_catalog.=) (SELECT pg_catalog.jsonb_object_agg(k, $2 OPERATOR(pg_catalog.->) k) "
		"                                        FROM pg_catalog.unnest($3) AS k) "
		"  AND (x.column_name OPERATOR(pg_catalog.=) ANY ($4) OR (x.column_name IS NULL AND $5)) "
		"  AND ($6 IS NULL OR ((x.local_clock IS NULL OR x.local_clock OPERATOR(%s.<=) $6) "
		"                  AND (x.remote_clock IS NULL OR x.remote_clock OPERATOR(%s.<=) $6)))",
		t->extension_schema, t->extension_schema);
}

static SPIPlanPtr
prepare_plan(TrackedTable *t, TrackedPlan which, TupleDesc desc)
{
	Oid			rowtypes[4] = {t->rowtype, t->rowtype, t->rowtype, t->rowtype};
	Oid			record_types[15] = {REGCLASSOID, JSONBOID, TEXTARRAYOID, TEXTOID, TEXTOID, t->vclock_type,
		t->vclock_type, JSONBOID, JSONBOID, JSONBOID, TEXTOID, TEXTOID, TEXTOID, BOOLOID, TEXTOID};
	Oid			close_types[8] = {REGCLASSOID, JSONBOID, TEXTARRAYOID, TEXTARRAYOID, BOOLOID, t->vclock_type,
		JSONBOID, NAMEOID};
	Oid			tombstone_types[5] = {TEXTOID, JSONBOID, TEXTARRAYOID, t->vclock_type, TEXTOID};
	StringInfoData sql;
	const char *text = NULL;
	int			nargs = desc->natts;
	Oid		   *types = NULL;
	SPIPlanPtr	plan;

	initStringInfo(&sql);
	switch (which)
	{
		case PLAN_MERGE_EXISTING:
			text = merge_existing_sql(t, desc);
			break;
		case PLAN_KEY_EXISTS:
			appendStringInfo(&sql, "SELECT FROM %s r WHERE ", t->tracked_name);
			append_key_match(&sql, desc, t->all_keys, t->nall_keys, "r.");
			text = sql.data;
			break;
		case PLAN_DELETE_KEY:
			appendStringInfo(&sql, "DELETE FROM ONLY %s r WHERE ", t->qualified_name);
			append_key_match(&sql, desc, t->all_keys, t->nall_keys, "r.");
			text = sql.data;
			break;
		case PLAN_SIBLINGS:
			text = siblings_sql(t, desc);
			break;
		case PLAN_INVARIANT:
			text = psprintf("SELECT (%s)::pg_catalog.bool FROM (SELECT ($1).*) AS t", t->invariant);
			nargs = 1;
			types = rowtypes;
			break;
		case PLAN_TO_JSONB:
			text = "SELECT pg_catalog.to_jsonb($1), pg_catalog.to_jsonb($2), pg_catalog.to_jsonb($3), "
				"pg_catalog.to_jsonb($4)";
			nargs = 4;
			types = rowtypes;
			break;
		case PLAN_RECORD:
			text = record_sql;
			nargs = 15;
			types = record_types;
			break;
		case PLAN_ANY_OPEN:
			text = "SELECT FROM crdt_reconcile.conflicts x WHERE x.relation OPERATOR(pg_catalog.=) "
				"$1::pg_catalog.regclass AND x.status OPERATOR(pg_catalog.=) 'open' LIMIT 1";
			nargs = 1;
			types = record_types;
			break;
		case PLAN_CLOSE:
			text = close_sql(t);
			nargs = 8;
			types = close_types;
			break;
		case PLAN_TOMBSTONE_FIND:
			text = "SELECT x.clock FROM crdt_reconcile.tombstones x WHERE x.relation_name OPERATOR(pg_catalog.=) $1 "
				"AND x.row_key OPERATOR(pg_catalog.=) (SELECT pg_catalog.jsonb_object_agg(k, $2 OPERATOR(pg_catalog.->) k) "
				"FROM pg_catalog.unnest($3) AS k)";
			nargs = 3;
			types = tombstone_types;
			break;
		case PLAN_TOMBSTONE_WRITE:
			text = "INSERT INTO crdt_reconcile.tombstones (relation_name, row_key, clock, origin) "
				"SELECT $1, (SELECT pg_catalog.jsonb_object_agg(k, $2 OPERATOR(pg_catalog.->) k) "
				"FROM pg_catalog.unnest($3) AS k), $4, $5";
			nargs = 5;
			types = tombstone_types;
			break;
		case PLAN_COUNT:
			break;
	}
	if (types == NULL)
		types = column_types(desc);
	plan = SPI_prepare(text, nargs, types);
	if (plan == NULL)
		elog(ERROR, "crdt_reconcile: SPI_prepare failed (%s) for: %s", SPI_result_code_string(SPI_result), text);
	SPI_keepplan(plan);
	return plan;
}

/* The plan, prepared on first use (SPI must be connected). */
SPIPlanPtr
tracked_plan(TrackedTable *t, TrackedPlan which, TupleDesc desc)
{
	if (t->plans[which] == NULL)
		t->plans[which] = prepare_plan(t, which, desc);
	return t->plans[which];
}
