/*
 * track_lifecycle.c — deletes of tracked rows, as tombstones.
 *
 * A delete of a merge-in-place row leaves a tombstone in
 * crdt_reconcile.tombstones: the row's key and the clock the delete had
 * seen (for a local delete, ticked by this replica: a delete is an event).
 * Tombstones replicate and merge by their clocks.  A row arriving for a key
 * with a tombstone is applied only when its clock is strictly after the
 * tombstone's — it was written after the delete was seen, a re-insert.  A
 * row from before the delete (an echo, a late path) is dropped, and so is a
 * row carrying writes the delete had not seen: a delete wins over a
 * concurrent update, on every node, and the update's loss is recorded
 * (update_deleted).  An applied delete of a row whose clock is already past
 * every tombstone here (a row re-inserted after it) is skipped.
 *
 * A local insert of a tombstoned key starts a new life: its clock takes in
 * the tombstone's, so it is after the delete everywhere.
 *
 * Replica-rows tables need none of this: each row has one writer, which
 * alone may delete it.
 */
#include "tracked.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "nodes/makefuncs.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/varlena.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"

#include "merge_stats.h"

/*
 * Whether the table has any tombstone: one index probe, no SPI — every
 * local insert and applied write asks, and almost always the answer is no.
 */
static bool
tombstones_exist(TrackedTable *t)
{
	Relation	rel;
	Relation	irel;
	ScanKeyData key;
	SysScanDesc scan;
	bool		found;

	if (!OidIsValid(t->tombstones) || !OidIsValid(t->tombstones_key))
		elog(ERROR, "crdt_reconcile.tombstones is missing");
	rel = table_open(t->tombstones, AccessShareLock);
	irel = index_open(t->tombstones_key, AccessShareLock);
	ScanKeyInit(&key, 1, BTEqualStrategyNumber, F_TEXTEQ, CStringGetTextDatum(t->tracked_name));
	key.sk_collation = irel->rd_indcollation[0];
	scan = systable_beginscan(rel, t->tombstones_key, true, GetActiveSnapshot(), 1, &key);
	found = HeapTupleIsValid(systable_getnext(scan));
	systable_endscan(scan);
	/* the locks are kept to the end of the transaction, as a query keeps them */
	index_close(irel, NoLock);
	table_close(rel, NoLock);
	return found;
}

/* The tombstone's clock for a row's key; false when there is none. */
bool
tombstone_find(Decision *d, Row *row, Datum *clock)
{
	Row		   *rows[4] = {row, NULL, NULL, NULL};
	Datum		json[4];
	bool		json_null[4];
	Datum		args[3];
	bool		isnull;
	int			rc;

	if (d->t->replica_rows || d->t->clock < 0 || !tombstones_exist(d->t))
		return false;
	decision_connect(d);
	args[0] = CStringGetTextDatum(d->t->tracked_name);
	rows_to_jsonb(d, rows, json, json_null);
	args[1] = json[0];
	args[2] = d->t->key_names;
	rc = execute_as_auditor(d, PLAN_TOMBSTONE_FIND, args, NULL, true);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "crdt_reconcile: reading tombstones failed: %s", SPI_result_code_string(rc));
	if (SPI_processed == 0)
		return false;
	*clock = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
	return !isnull;
}

static void
tombstone_write(Decision *d, Row *row, Datum clock)
{
	Row		   *rows[4] = {row, NULL, NULL, NULL};
	Datum		json[4];
	bool		json_null[4];
	Datum		args[5];
	int			rc;

	rows_to_jsonb(d, rows, json, json_null);
	args[0] = CStringGetTextDatum(d->t->tracked_name);
	args[1] = json[0];
	args[2] = d->t->key_names;
	args[3] = clock;
	args[4] = CStringGetTextDatum(origin_text(d->applied));
	rc = execute_as_auditor(d, PLAN_TOMBSTONE_WRITE, args, NULL, false);
	if (rc != SPI_OK_INSERT)
		elog(ERROR, "crdt_reconcile: writing a tombstone failed: %s", SPI_result_code_string(rc));
}

static CrdtOrder
clocks_order(Datum a, bool anull, Datum b, bool bnull)
{
	CrdtOrder	order;
	CrdtError	err;

	if (crdt_vclock_compare(slice_or_empty(&crdt_type_vclock, a, anull), slice_or_empty(&crdt_type_vclock, b, bnull),
							&order, &err) != CRDT_OK)
		crdt_report(&err, "vclock", NULL, 0);
	return order;
}

/*
 * An applied row for a deleted key that the delete covers: true, and the
 * row is to be dropped.  A row that carried writes the delete had not seen
 * (concurrent with it) is recorded: the delete won over it.
 */
bool
tombstone_covers(Decision *d, Row *row)
{
	TrackedTable *t = d->t;
	Datum		tomb;
	CrdtOrder	order;

	if (!tombstone_find(d, row, &tomb))
		return false;
	order = clocks_order(row->values[t->clock], row->nulls[t->clock], tomb, false);
	if (order == CRDT_ORDER_AFTER)
		return false;			/* written after the delete was seen: a new life */
	if (order == CRDT_ORDER_CONCURRENT)
	{
		ConflictRecord rec = {"update_deleted", -1, row, NULL, row, NULL, "kept_local", "auto_resolved",
		"the row was deleted by a write that had not seen this one: the delete wins"};

		record_conflict(d, &rec);
	}
	crdt_merge_stats_count(t->tracked_relid, MERGE_STAT_STALE_SKIPPED, 1);
	return true;
}

static void
refuse_clockless_delete(TrackedTable *t)
{
	ereport(ERROR,
			(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
			 errmsg("rows of tracked table %s cannot be deleted: it has no row clock", t->tracked_name),
			 errdetail("A delete is kept as a tombstone ordered by the row clock, so that it converges on every node and never comes back."),
			 errhint("Add a vclock column and track the table again with clock_column (and writer_column if it has plain columns).")));
}

/* A DELETE of a tracked row: its tombstone, or (for an applied delete of a newer row) nothing. */
HeapTuple
delete_row(FunctionCallInfo fcinfo, Decision *d, TriggerData *td)
{
	TrackedTable *t = d->t;
	Row			old = row_of(td->tg_trigtuple, d->desc);
	Datum		tomb = (Datum) 0;
	bool		found;
	Datum		clock;
	bool		clock_null;

	if (t->replica_rows)
	{
		if (!d->applied)
			check_own_row(fcinfo, t, old, true);
		return td->tg_trigtuple;
	}
	if (t->clock < 0)
	{
		if (!d->applied)
			refuse_clockless_delete(t);
		return td->tg_trigtuple;
	}
	found = tombstone_find(d, &old, &tomb);
	if (d->applied && found &&
		clocks_order(old.values[t->clock], old.nulls[t->clock], tomb, false) == CRDT_ORDER_AFTER)
	{
		/* re-inserted here after every delete we know: this one came late */
		crdt_merge_stats_count(t->tracked_relid, MERGE_STAT_STALE_SKIPPED, 1);
		return NULL;
	}
	if (d->applied && found &&
		clocks_order(old.values[t->clock], old.nulls[t->clock], tomb, false) == CRDT_ORDER_CONCURRENT)
	{
		ConflictRecord rec = {"update_deleted", -1, &old, &old, NULL, NULL, "applied_remote", "auto_resolved",
		"this row had writes the delete had not seen: the delete wins"};

		record_conflict(d, &rec);
	}
	merge_into(&crdt_type_vclock, old.values[t->clock], old.nulls[t->clock], tomb, !found, &clock, &clock_null);
	if (!d->applied)
	{
		Row			ticked = row_copy(old, d->desc);

		ticked.values[t->clock] = clock;
		ticked.nulls[t->clock] = clock_null;
		tick_clock(local_replica(fcinfo), t, &ticked, (Datum) 0, true);
		clock = ticked.values[t->clock];
		clock_null = false;
	}
	if (!clock_null)
		tombstone_write(d, &old, clock);
	crdt_merge_stats_count(t->tracked_relid, d->applied ? MERGE_STAT_MERGES_APPLIED : MERGE_STAT_LOCAL_WRITES, 1);
	return td->tg_trigtuple;
}

/*
 * crdt_reconcile.apply_tombstone(relation_name, row_key, clock): a
 * tombstone from another node removes the local row it covers — the row
 * with that key whose clock is not strictly after the tombstone's.  Called
 * by the tombstones table's triggers, in an apply worker.  Turning the key
 * back into values runs the key types' input functions (a domain's CHECK,
 * say): that runs as the table's owner, restricted, never as the
 * subscription's owner.
 */
PG_FUNCTION_INFO_V1(crdt_apply_tombstone);
Datum
crdt_apply_tombstone(PG_FUNCTION_ARGS)
{
	List	   *name = textToQualifiedNameList(PG_GETARG_TEXT_PP(0));
	Oid			relid = RangeVarGetRelid(makeRangeVarFromNameList(name), AccessShareLock, true);
	Datum		args[2] = {PG_GETARG_DATUM(1), PG_GETARG_DATUM(2)};
	SwitchedIdentity id = {0};
	char	   *sql;
	int			rc;

	if (!OidIsValid(relid))
		PG_RETURN_VOID();		/* not here (yet): nothing to remove */
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "crdt_reconcile: SPI_connect failed");
	/* the statement comes from the catalog: the table must be tracked, with a clock */
	rc = SPI_execute_with_args(
		"SELECT pg_catalog.format('DELETE FROM %s t USING pg_catalog.jsonb_populate_record(NULL::%s, $1) k "
		"WHERE %s AND NOT coalesce(t.%I OPERATOR(%s.>) $2, false)', x.relation, x.relation, "
		"crdt_reconcile.key_match(x.relation, 't', 'k'), x.clock_column, "
		"pg_catalog.quote_ident(n.nspname)) "
		"FROM crdt_reconcile.tracked x, pg_catalog.pg_type y JOIN pg_catalog.pg_namespace n ON n.oid = y.typnamespace "
		"WHERE x.relation OPERATOR(pg_catalog.=) $1 AND x.clock_column IS NOT NULL AND x.shape = 'merge_in_place' "
		"AND y.oid = $2",
		2, (Oid[]) {OIDOID, OIDOID},
		(Datum[]) {ObjectIdGetDatum(relid), ObjectIdGetDatum(get_fn_expr_argtype(fcinfo->flinfo, 2))},
		NULL, true, 1);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "crdt_reconcile: reading tracking settings failed: %s", SPI_result_code_string(rc));
	if (SPI_processed == 1)
	{
		sql = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
		identity_switch(&id, relation_owner(relid), "pg_catalog, pg_temp");
		rc = SPI_execute_with_args(sql, 2, (Oid[]) {JSONBOID, get_fn_expr_argtype(fcinfo->flinfo, 2)},
								   args, NULL, false, 0);
		identity_restore(&id);
		if (rc != SPI_OK_DELETE)
			elog(ERROR, "crdt_reconcile: applying a tombstone failed: %s", SPI_result_code_string(rc));
	}
	SPI_finish();
	PG_RETURN_VOID();
}
