/*
 * history.c — the history of tracked tables: the AFTER trigger that
 * records every change to a row, the checkpoints written when history is
 * turned on, and compaction (src/sql/history.sql has the rest).
 *
 * An AFTER trigger sees each row as it was stored, after the merge
 * trigger decided it: a merge, an insert merged into an existing row (the
 * UPDATE the merge trigger runs), a resolve() all arrive as the write that
 * really happened, and an echo or replay that the merge trigger dropped
 * never arrives at all.
 *
 * Identities, as for conflict records (audit.c): values become jsonb in
 * the writer's own context (for an applied write, as the tracked table's
 * owner, restricted), and only the finished record is inserted as the
 * history table's owner, under SECURITY_RESTRICTED_OPERATION with
 * search_path pinned.  Everything run here is schema-qualified: apply
 * workers have an empty search_path.
 */
#include "history.h"

#include "access/htup_details.h"
#include "access/table.h"
#include "catalog/namespace.h"
#include "catalog/partition.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "miscadmin.h"
#include "replication/origin.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/fmgrprotos.h"
#include "utils/guc.h"
#include "utils/hsearch.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"

#define PINNED_PATH "pg_catalog, pg_temp"
#define HISTORY_TRIGGER_NAME "crdt_reconcile_history"

static HTAB *history_entries = NULL;

/* ---------------------------------------------------------------- settings */

static void
history_free(HistoryTable *h)
{
	if (h->resolving_plan != NULL)
		SPI_freeplan(h->resolving_plan);
	for (int i = 0; i < PLAN_COUNT; i++)
		if (h->tt.plans[i] != NULL)
			SPI_freeplan(h->tt.plans[i]);
	MemoryContextDelete(h->cxt);
}

static void
history_release(HistoryTable *h)
{
	if (h != NULL && --h->refcount == 0)
		history_free(h);
}

static void
invalidate_history(Datum arg, Oid relid)
{
	HASH_SEQ_STATUS seq;
	TriggerCacheEntry *e;

	if (history_entries == NULL)
		return;
	hash_seq_init(&seq, history_entries);
	while ((e = hash_seq_search(&seq)) != NULL)
	{
		HistoryTable *h = e->current;

		/* the history table's too: an index added to it must be written */
		if (h != NULL && (relid == InvalidOid || h->tt.relid == relid || h->tt.tracked_relid == relid ||
						  (OidIsValid(h->history) && h->history == relid)))
			h->stale = true;
	}
}

static void **
history_slot(Oid trigger)
{
	return trigger_cache_slot(&history_entries, "crdt_reconcile history", invalidate_history, trigger);
}

static Oid
history_table_owner(void)
{
	Oid			table = get_relname_relid("history", get_namespace_oid("crdt_reconcile", false));

	if (!OidIsValid(table))
		elog(ERROR, "crdt_reconcile.history is missing");
	return relation_owner(table);
}

static int
attribute_index(TupleDesc desc, const char *name)
{
	for (int i = 0; i < desc->natts; i++)
		if (!TupleDescAttr(desc, i)->attisdropped && strcmp(NameStr(TupleDescAttr(desc, i)->attname), name) == 0)
			return i;
	return -1;
}

/*
 * The settings of rel's tracked table, read as the history table's owner
 * (a writer may not be allowed to read them).  SPI must be connected.
 */
static void
history_load(HistoryTable *h, Relation rel)
{
	TupleDesc	desc = RelationGetDescr(rel);
	Oid			relid = RelationGetRelid(rel);
	SwitchedIdentity id = {0};
	Datum		arg;
	Datum	   *names;
	int			n;
	bool		isnull;
	int			rc;

	h->tt.relid = relid;
	h->tt.tracked_relid = rel->rd_rel->relispartition ? llast_oid(get_partition_ancestors(relid)) : relid;
	h->tt.rowtype = rel->rd_rel->reltype;
	h->tt.table_owner = relation_owner(h->tt.tracked_relid);
	h->history_owner = history_table_owner();
	h->clock = -1;
	arg = ObjectIdGetDatum(h->tt.tracked_relid);
	identity_switch(&id, h->history_owner, PINNED_PATH);
	rc = SPI_execute_with_args(
		"SELECT t.key_columns::pg_catalog.text[], t.clock_column::pg_catalog.text, "
		"  (SELECT e.extnamespace FROM pg_catalog.pg_extension e WHERE e.extname OPERATOR(pg_catalog.=) 'crdt_reconcile') "
		"FROM crdt_reconcile.tracked t JOIN crdt_reconcile.history_settings s ON s.relation OPERATOR(pg_catalog.=) t.relation "
		"WHERE t.relation OPERATOR(pg_catalog.=) $1::pg_catalog.regclass",
		1, (Oid[]) {OIDOID}, &arg, NULL, true, 1);
	identity_restore(&id);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "crdt_reconcile: reading the history settings failed: %s", SPI_result_code_string(rc));
	h->active = SPI_processed == 1;
	if (!h->active)
		return;

	h->recorded = MemoryContextAllocZero(h->cxt, sizeof(bool) * desc->natts);
	h->tt.type = MemoryContextAllocZero(h->cxt, sizeof(CrdtType *) * desc->natts);
	{
		HeapTuple	tup = SPI_tuptable->vals[0];
		TupleDesc	tdesc = SPI_tuptable->tupdesc;
		Datum		keys = SPI_getbinval(tup, tdesc, 1, &isnull);
		char	   *clock = SPI_getvalue(tup, tdesc, 2);
		Oid			schema = DatumGetObjectId(SPI_getbinval(tup, tdesc, 3, &isnull));
		MemoryContext old = MemoryContextSwitchTo(h->cxt);

		deconstruct_array(DatumGetArrayTypeP(keys), TEXTOID, -1, false, TYPALIGN_INT, &names, NULL, &n);
		h->keys = palloc(sizeof(int) * n);
		for (int k = 0; k < n; k++)
		{
			h->keys[k] = attribute_index(desc, TextDatumGetCString(names[k]));
			if (h->keys[k] < 0)
				elog(ERROR, "crdt_reconcile: key column %s of %s is missing", TextDatumGetCString(names[k]),
					 RelationGetRelationName(rel));
			names[k] = CStringGetTextDatum(TextDatumGetCString(names[k]));
		}
		h->nkeys = n;
		h->key_names = PointerGetDatum(construct_array(names, n, TEXTOID, -1, false, TYPALIGN_INT));
		if (clock != NULL)
			h->clock = attribute_index(desc, clock);
		h->clock_type = h->clock >= 0 ? TupleDescAttr(desc, h->clock)->atttypid : TEXTOID;
		h->history = get_relname_relid("history", get_namespace_oid("crdt_reconcile", false));
		h->history_seq = get_relname_relid("history_id_seq", get_namespace_oid("crdt_reconcile", false));
		for (int i = 0; i < desc->natts; i++)
		{
			Form_pg_attribute att = TupleDescAttr(desc, i);

			h->recorded[i] = !att->attisdropped && !att->attgenerated && i != h->clock;
			if (h->recorded[i])
				h->tt.type[i] = crdt_type_of_column(att->atttypid, schema);
		}
		history_prepare_columns(h, desc);
		MemoryContextSwitchTo(old);
	}
}

static HistoryTable *
history_new(Relation rel, Decision *d)
{
	MemoryContext cxt = AllocSetContextCreate(CacheMemoryContext, "crdt_reconcile history", ALLOCSET_SMALL_SIZES);
	HistoryTable *h = MemoryContextAllocZero(cxt, sizeof(HistoryTable));

	h->cxt = cxt;
	decision_connect(d);
	PG_TRY();
	{
		history_load(h, rel);
	}
	PG_CATCH();
	{
		MemoryContextDelete(cxt);
		PG_RE_THROW();
	}
	PG_END_TRY();
	h->refcount = 1;
	return h;
}

/* The settings for a trigger call, cached per trigger until its table changes. */
static HistoryTable *
history_acquire(TriggerData *td, Decision *d)
{
	void	  **slot = history_slot(td->tg_trigger->tgoid);
	HistoryTable *h = *slot;

	if (h != NULL && h->stale)
	{
		*slot = NULL;
		history_release(h);		/* a call using them keeps them alive */
		h = NULL;
	}
	if (h == NULL)
	{
		h = history_new(td->tg_relation, d);
		*history_slot(td->tg_trigger->tgoid) = h;
	}
	h->refcount++;
	return h;
}

static SPIPlanPtr
keep_plan(SPIPlanPtr *slot, const char *sql, int nargs, Oid *types)
{
	if (*slot == NULL)
	{
		SPIPlanPtr	plan = SPI_prepare(sql, nargs, types);

		if (plan == NULL)
			elog(ERROR, "crdt_reconcile: SPI_prepare failed (%s) for: %s", SPI_result_code_string(SPI_result), sql);
		SPI_keepplan(plan);
		*slot = plan;
	}
	return *slot;
}

/* ---------------------------------------------------------------- the trigger */

/*
 * The conflict a resolve() is writing, when the write is one: resolve()
 * names it in crdt_reconcile.resolving, and it must be an unresolved
 * conflict of this table (the setting alone proves nothing).
 */
static char *
resolving_conflict(HistoryTable *h, Decision *d)
{
	const char *value = crdt_resolving_setting;
	char	   *end;
	long long	conflict;
	SwitchedIdentity id = {0};
	Datum		args[2];
	int			rc;
	bool		open;

	if (value == NULL || value[0] == '\0')
		return NULL;
	errno = 0;
	conflict = strtoll(value, &end, 10);
	if (errno != 0 || *end != '\0')
		return NULL;
	decision_connect(d);		/* only now: most writes are no resolve() */
	args[0] = Int64GetDatum((int64) conflict);
	args[1] = ObjectIdGetDatum(h->tt.tracked_relid);
	identity_switch(&id, h->history_owner, PINNED_PATH);
	rc = SPI_execute_plan(keep_plan(&h->resolving_plan,
									"SELECT FROM crdt_reconcile.conflicts x WHERE x.id OPERATOR(pg_catalog.=) $1 "
									"AND x.relation OPERATOR(pg_catalog.=) $2::pg_catalog.regclass "
									"AND x.status OPERATOR(pg_catalog.<>) 'resolved'",
									2, (Oid[]) {INT8OID, OIDOID}), args, NULL, true, 1);
	identity_restore(&id);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "crdt_reconcile: reading a conflict failed: %s", SPI_result_code_string(rc));
	open = SPI_processed == 1;
	return open ? psprintf("%lld", conflict) : NULL;
}

static bool
keys_equal(HistoryTable *h, TupleDesc desc, Row a, Row b)
{
	for (int k = 0; k < h->nkeys; k++)
		if (!same_column(desc, h->keys[k], a, b))
			return false;
	return true;
}

/* Depth of trigger calls, this one included: 2 and more for a write a trigger made. */
static int
trigger_depth(void)
{
	LOCAL_FCINFO(fcinfo, 0);

	InitFunctionCallInfoData(*fcinfo, NULL, 0, InvalidOid, NULL, NULL);
	return DatumGetInt32(pg_trigger_depth(fcinfo));
}

static void
history_of_write(Decision *d, HistoryTable *h, TriggerData *td)
{
	bool		applied = d->applied;
	const char *prefix = applied ? "applied" : "local";
	const char *origin = origin_text(applied);
	Row			old;
	Row			new;
	char	   *conflict;

	if (TRIGGER_FIRED_BY_INSERT(td->tg_event))
	{
		new = row_of(td->tg_trigtuple, d->desc);
		history_record(d, h, psprintf("%s_insert", prefix), origin, NULL, &new);
		return;
	}
	old = row_of(td->tg_trigtuple, d->desc);
	if (TRIGGER_FIRED_BY_DELETE(td->tg_event))
	{
		history_record(d, h, psprintf("%s_delete", prefix), origin, &old, NULL);
		return;
	}
	new = row_of(td->tg_newtuple, d->desc);
	if (!keys_equal(h, d->desc, old, new))
	{
		/* a row whose key changed: one row went, another came */
		history_record(d, h, psprintf("%s_delete", prefix), origin, &old, NULL);
		history_record(d, h, psprintf("%s_insert", prefix), origin, NULL, &new);
		return;
	}
	if (applied)
	{
		/* the merge trigger turns an applied INSERT of an existing key into this UPDATE */
		history_record(d, h, trigger_depth() > 1 ? "insert_merged" : "applied_update", origin, &old, &new);
		return;
	}
	conflict = resolving_conflict(h, d);
	if (conflict != NULL)
		history_record(d, h, "resolve", psprintf("%s, resolving conflict %s", origin, conflict), &old, &new);
	else
		history_record(d, h, "local_update", origin, &old, &new);
}

/*
 * Runs work with h, then lets go of h and of SPI when work connected it;
 * h is let go of on an error too.
 */
static void
with_history(HistoryTable *h, Decision *d, void (*work) (HistoryTable *h, Decision *d, void *arg), void *arg)
{
	PG_TRY();
	{
		work(h, d, arg);
		if (d->spi)
			SPI_finish();
	}
	PG_CATCH();
	{
		history_release(h);
		PG_RE_THROW();
	}
	PG_END_TRY();
	history_release(h);
}

static void
history_of_trigger(HistoryTable *h, Decision *d, void *arg)
{
	TriggerData *td = arg;

	if (!h->active)
		return;
	d->t = &h->tt;
	d->desc = RelationGetDescr(td->tg_relation);
	d->applied = SessionReplicationRole == SESSION_REPLICATION_ROLE_REPLICA ||
		replorigin_session_origin != InvalidRepOriginId;
	history_of_write(d, h, td);
}

PG_FUNCTION_INFO_V1(crdt_history_trigger);
Datum
crdt_history_trigger(PG_FUNCTION_ARGS)
{
	TriggerData *td = (TriggerData *) fcinfo->context;
	Decision	d = {0};

	if (!CALLED_AS_TRIGGER(fcinfo) || !TRIGGER_FIRED_AFTER(td->tg_event) || !TRIGGER_FIRED_FOR_ROW(td->tg_event) ||
		TRIGGER_FIRED_BY_TRUNCATE(td->tg_event))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("crdt_reconcile.history_trigger must fire AFTER INSERT, UPDATE or DELETE FOR EACH ROW")));
	if (strcmp(td->tg_trigger->tgname, HISTORY_TRIGGER_NAME) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("trigger \"%s\" on \"%s\" was not created by crdt_reconcile.set_history()",
						td->tg_trigger->tgname, RelationGetRelationName(td->tg_relation))));
	with_history(history_acquire(td, &d), &d, history_of_trigger, td);
	return PointerGetDatum(NULL);
}

/* ---------------------------------------------------------------- checkpoints and compaction */

static void
require_owner(Oid relid, bool admin_too)
{
	Oid			admin = get_role_oid("crdt_reconcile_admin", true);

	if (pg_class_ownercheck(relid, GetUserId()))
		return;
	if (admin_too && OidIsValid(admin) && is_member_of_role(GetUserId(), admin))
		return;
	ereport(ERROR,
			(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
			 errmsg("must be owner of table %s to change its history", get_rel_name(relid))));
}

/* Every row of a table (arg: Checkpoint) recorded as a checkpoint. */
typedef struct Checkpoint
{
	Relation	rel;
	uint64		count;
} Checkpoint;

static void
checkpoint_rows(HistoryTable *h, Decision *d, void *arg)
{
	Checkpoint *c = arg;
	Relation	rel = c->rel;
	SPITupleTable *rows;
	char	   *origin;

	if (!h->active)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("table %s has no history", RelationGetRelationName(rel)),
				 errhint("Turn it on with crdt_reconcile.set_history(table, true).")));
	d->t = &h->tt;
	d->desc = RelationGetDescr(rel);
	if (SPI_execute(psprintf("SELECT r FROM %s r",
							 quote_qualified_identifier(get_namespace_name(RelationGetNamespace(rel)),
														RelationGetRelationName(rel))), true, 0) != SPI_OK_SELECT)
		elog(ERROR, "crdt_reconcile: reading %s failed", RelationGetRelationName(rel));
	rows = SPI_tuptable;
	c->count = SPI_processed;
	origin = psprintf("history turned on; %s", origin_text(false));
	for (uint64 r = 0; r < c->count; r++)
	{
		bool		isnull;
		HeapTupleHeader header = DatumGetHeapTupleHeader(SPI_getbinval(rows->vals[r], rows->tupdesc, 1, &isnull));
		HeapTupleData tuple;
		Row			row;

		tuple.t_len = HeapTupleHeaderGetDatumLength(header);
		ItemPointerSetInvalid(&tuple.t_self);
		tuple.t_tableOid = InvalidOid;
		tuple.t_data = header;
		row = row_of(&tuple, d->desc);
		history_record(d, h, "checkpoint", origin, NULL, &row);
	}
}

/*
 * Every row of rel as it is now, as a checkpoint: converted as the caller
 * (its owner), written as the history table's owner.
 */
PG_FUNCTION_INFO_V1(crdt_history_checkpoint);
Datum
crdt_history_checkpoint(PG_FUNCTION_ARGS)
{
	Oid			relid = PG_GETARG_OID(0);
	Decision	d = {0};
	Checkpoint	c = {0};

	require_owner(relid, false);
	c.rel = table_open(relid, AccessShareLock);
	with_history(history_new(c.rel, &d), &d, checkpoint_rows, &c);
	table_close(c.rel, AccessShareLock);
	PG_RETURN_INT64((int64) c.count);
}

/*
 * Folds the history of rel before a time into one checkpoint per row: its
 * owner (or crdt_reconcile_admin) asks, the history table's owner does it
 * (history_compact_rows runs only the extension's functions and built-ins).
 */
PG_FUNCTION_INFO_V1(crdt_history_compact);
Datum
crdt_history_compact(PG_FUNCTION_ARGS)
{
	Oid			relid;
	TimestampTz before;
	SwitchedIdentity id = {0};
	Datum		args[2];
	Datum		result;
	bool		isnull;
	int			rc;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("compact_history needs a table and a time")));
	relid = PG_GETARG_OID(0);
	before = PG_GETARG_TIMESTAMPTZ(1);
	if (!SearchSysCacheExists1(RELOID, ObjectIdGetDatum(relid)))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("relation with OID %u does not exist", relid)));
	require_owner(relid, true);
	if (TIMESTAMP_NOT_FINITE(before) || before > GetCurrentTimestamp())
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("compact_history folds the past: the time must be before now")));
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "crdt_reconcile: SPI_connect failed");
	args[0] = ObjectIdGetDatum(relid);
	args[1] = TimestampTzGetDatum(before);
	identity_switch(&id, history_table_owner(), PINNED_PATH);
	rc = SPI_execute_with_args("SELECT crdt_reconcile.history_compact_rows($1::pg_catalog.regclass, $2)", 2,
							   (Oid[]) {OIDOID, TIMESTAMPTZOID}, args, NULL, false, 1);
	identity_restore(&id);
	if (rc != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "crdt_reconcile: compacting history failed: %s", SPI_result_code_string(rc));
	result = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
	SPI_finish();
	PG_RETURN_INT64(isnull ? 0 : DatumGetInt64(result));
}
