/*
 * audit.c — what the tracked-table trigger writes to crdt_reconcile.conflicts,
 * and the invariant check.
 *
 * The order of identities is the point of this file:
 *   1. rows are turned into jsonb in the writer's own context (for an
 *      applied write, the tracked table's owner's), because to_jsonb runs
 *      casts and output functions that users define;
 *   2. only then does the identity switch to the audit table's owner, to
 *      insert (or close) a finished record with built-in functions only,
 *      as a SECURITY_RESTRICTED_OPERATION with search_path pinned.
 * Invariants run as the tracked table's owner, also restricted, in the
 * search_path recorded by track().
 */
#include "tracked.h"

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "miscadmin.h"
#include "replication/origin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/resowner.h"

#define PINNED_PATH "pg_catalog, pg_temp"

/* How values print, whatever the session says. */
static const char *const stable_settings[][2] = {
	{"TimeZone", "UTC"}, {"DateStyle", "ISO, YMD"}, {"IntervalStyle", "postgres"},
	{"extra_float_digits", "1"}, {"bytea_output", "hex"}, {"lc_monetary", "C"}
};

void
decision_connect(Decision *d)
{
	if (d->spi)
		return;
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "crdt_reconcile: SPI_connect failed");
	d->spi = true;
}

/*
 * Who wrote: the replication origin, or the replica and application.  The
 * last text made from the settings is kept: every history record asks,
 * and a session's settings rarely change.
 */
const char *
origin_text(bool applied)
{
	static struct
	{
		char	   *text;			/* in TopMemoryContext; NULL before the first */
		bool		applied;
		char		replica[CRDT_REPLICA_ID_MAX + 1];
		char		app[NAMEDATALEN];
	}			last;
	const char *app = application_name != NULL && application_name[0] != '\0' ? application_name : "-";
	const char *replica = crdt_replica_id_setting != NULL && crdt_replica_id_setting[0] != '\0'
		? crdt_replica_id_setting : "-";
	char	   *text;

	if (replorigin_session_origin != InvalidRepOriginId)
	{
		char	   *name = NULL;

		if (replorigin_by_oid(replorigin_session_origin, true, &name) && name != NULL)
			return psprintf("origin %s", name);
	}
	if (last.text != NULL && last.applied == applied && strcmp(last.replica, replica) == 0 &&
		strcmp(last.app, app) == 0)
		return last.text;
	text = psprintf("%s write, replica %s, application %s", applied ? "replicated" : "local", replica, app);
	if (strlen(replica) < sizeof(last.replica) && strlen(app) < sizeof(last.app))
	{
		if (last.text != NULL)
			pfree(last.text);
		last.text = MemoryContextStrdup(TopMemoryContext, text);
		last.applied = applied;
		strcpy(last.replica, replica);
		strcpy(last.app, app);
	}
	return text;
}

/*
 * to_jsonb of up to four rows (NULL pointers give NULL), in the writer's
 * context: the caller's for a local write; for an applied write (an apply
 * worker, or a repair) the tracked table's owner's, restricted, so that a
 * cast the table's owner defined never runs with the rights of the
 * subscription's owner.  Settings that change how values print are fixed
 * for the conversion, so a key prints the same in every session and on
 * every node (tombstones are found by it).
 */
void
rows_to_jsonb(Decision *d, Row *rows[4], Datum out[4], bool isnull[4])
{
	TrackedTable *t = d->t;
	SwitchedIdentity id = {0};
	Datum		args[4];
	char		nulls[4];
	int			rc;
	int			nest;

	decision_connect(d);
	for (int i = 0; i < 4; i++)
	{
		nulls[i] = rows[i] == NULL ? 'n' : ' ';
		args[i] = rows[i] == NULL ? (Datum) 0 : row_datum(rows[i], d->desc);
	}
	nest = NewGUCNestLevel();
	for (int i = 0; i < lengthof(stable_settings); i++)
		(void) set_config_option(stable_settings[i][0], stable_settings[i][1], PGC_USERSET, PGC_S_SESSION,
								 GUC_ACTION_SAVE, true, 0, false);
	if (d->applied)
		identity_switch(&id, t->table_owner, PINNED_PATH);
	rc = SPI_execute_plan(tracked_plan(t, PLAN_TO_JSONB, d->desc), args, nulls, true, 1);
	identity_restore(&id);
	AtEOXact_GUC(true, nest);
	if (rc != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "crdt_reconcile: converting rows to jsonb failed: %s", SPI_result_code_string(rc));
	for (int i = 0; i < 4; i++)
		out[i] = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, i + 1, &isnull[i]);
}

/* Runs a plan on finished values as the audit table's owner. */
int
execute_as_auditor(Decision *d, TrackedPlan which, Datum *args, const char *nulls, bool read_only)
{
	SwitchedIdentity id = {0};
	int			rc;

	identity_switch(&id, d->t->audit_owner, PINNED_PATH);
	rc = SPI_execute_plan(tracked_plan(d->t, which, d->desc), args, nulls, read_only, 0);
	identity_restore(&id);
	return rc;
}

void
record_conflict(Decision *d, const ConflictRecord *rec)
{
	TrackedTable *t = d->t;
	Row		   *rows[4] = {rec->key_row, rec->local, rec->remote, rec->result};
	Datum		json[4];
	bool		json_null[4];
	Datum		args[15];
	char		nulls[15];
	int			rc;

	rows_to_jsonb(d, rows, json, json_null);
	memset(nulls, ' ', sizeof(nulls));
	args[0] = ObjectIdGetDatum(t->tracked_relid);
	args[1] = json[0];
	args[2] = t->key_names;
	if (rec->column >= 0)
		args[3] = CStringGetTextDatum(NameStr(TupleDescAttr(d->desc, rec->column)->attname));
	else
		nulls[3] = 'n';
	args[4] = CStringGetTextDatum(rec->kind);
	nulls[5] = nulls[6] = 'n';
	if (t->clock >= 0 && rec->local != NULL && !rec->local->nulls[t->clock])
	{
		args[5] = rec->local->values[t->clock];
		nulls[5] = ' ';
	}
	if (t->clock >= 0 && rec->remote != NULL && !rec->remote->nulls[t->clock])
	{
		args[6] = rec->remote->values[t->clock];
		nulls[6] = ' ';
	}
	for (int i = 1; i < 4; i++)
	{
		args[6 + i] = json[i];
		nulls[6 + i] = json_null[i] ? 'n' : ' ';
	}
	args[10] = CStringGetTextDatum(rec->resolution);
	args[11] = CStringGetTextDatum(origin_text(d->applied));
	args[12] = CStringGetTextDatum(rec->status);
	args[13] = BoolGetDatum(strcmp(rec->kind, "concurrent_update") == 0 || strcmp(rec->kind, "stale_update") == 0);
	if (rec->note != NULL)
		args[14] = CStringGetTextDatum(rec->note);
	else
		nulls[14] = 'n';

	rc = execute_as_auditor(d, PLAN_RECORD, args, nulls, false);
	if (rc != SPI_OK_INSERT)
		elog(ERROR, "crdt_reconcile: recording a conflict failed: %s", SPI_result_code_string(rc));
	d->conflicts += SPI_processed;
}

/*
 * Closes the open records of this row that an applied write settled: the
 * columns marked in settled (an mvreg down to one value, replica rows that
 * agree again) and, when invariant_holds, whole-row records.  A person
 * resolves once per fleet: the arbitrated value arrives everywhere as an
 * applied write and closes the record on every node.
 */
void
close_settled(Decision *d, Row *result, const bool *settled, bool invariant_holds)
{
	TrackedTable *t = d->t;
	Row		   *rows[4] = {result, NULL, NULL, NULL};
	Datum		json[4];
	bool		json_null[4];
	Datum	   *names = palloc(sizeof(Datum) * d->desc->natts);
	int			n = 0;
	Datum		args[8];
	char		nulls[8] = "        ";
	const char *origin;
	int			rc;

	if (!d->applied)
		return;
	for (int i = 0; i < d->desc->natts; i++)
		if (settled[i])
			names[n++] = CStringGetTextDatum(NameStr(TupleDescAttr(d->desc, i)->attname));
	if (n == 0 && !invariant_holds)
		return;
	decision_connect(d);
	args[0] = ObjectIdGetDatum(t->tracked_relid);
	rc = execute_as_auditor(d, PLAN_ANY_OPEN, args, nulls, true);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "crdt_reconcile: reading open conflicts failed: %s", SPI_result_code_string(rc));
	if (SPI_processed == 0)
		return;

	rows_to_jsonb(d, rows, json, json_null);
	args[1] = json[0];
	args[2] = t->key_names;
	args[3] = PointerGetDatum(construct_array(names, n, TEXTOID, -1, false, TYPALIGN_INT));
	args[4] = BoolGetDatum(invariant_holds);
	if (t->clock >= 0 && !result->nulls[t->clock])
		args[5] = result->values[t->clock];
	else
		nulls[5] = 'n';
	args[6] = json[0];
	origin = origin_text(true);
	if (strncmp(origin, "origin ", 7) == 0)
		origin += 7;
	args[7] = DirectFunctionCall1(namein, CStringGetDatum(pnstrdup(origin, NAMEDATALEN - 1)));
	rc = execute_as_auditor(d, PLAN_CLOSE, args, nulls, false);
	if (rc != SPI_OK_UPDATE)
		elog(ERROR, "crdt_reconcile: closing settled conflicts failed: %s", SPI_result_code_string(rc));
}

/* The invariant over a row, as the table's owner (a writer's rights must not matter). */
static bool
evaluate_invariant(Decision *d, Row *row)
{
	TrackedTable *t = d->t;
	SwitchedIdentity id = {0};
	Datum		arg = row_datum(row, d->desc);
	bool		broken = false;
	int			rc;

	identity_switch(&id, t->table_owner, t->invariant_path);
	rc = SPI_execute_plan(tracked_plan(t, PLAN_INVARIANT, d->desc), &arg, NULL, true, 1);
	identity_restore(&id);
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

/*
 * Whether a row breaks the invariant (NULL, unknown, counts as kept).  An
 * invariant that raises an error counts as broken, with the error as the
 * record's note: it never blocks a write, and above all never stalls a
 * subscription.  It runs in a subtransaction for that.
 */
static bool
invariant_broken(Decision *d, Row *row)
{
	MemoryContext cxt = CurrentMemoryContext;
	ResourceOwner owner = CurrentResourceOwner;
	bool		broken = false;

	d->invariant_error = NULL;
	if (d->t->invariant == NULL || row == NULL)
		return false;
	decision_connect(d);
	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(cxt);
	PG_TRY();
	{
		broken = evaluate_invariant(d, row);
		ReleaseCurrentSubTransaction();
	}
	PG_CATCH();
	{
		ErrorData  *error;

		/* the subtransaction's abort restores the identity and search_path */
		MemoryContextSwitchTo(cxt);
		error = CopyErrorData();
		FlushErrorState();
		RollbackAndReleaseCurrentSubTransaction();
		d->invariant_error = psprintf("the invariant raised an error: %s", error->message);
		broken = true;
	}
	PG_END_TRY();
	MemoryContextSwitchTo(cxt);
	CurrentResourceOwner = owner;
	return broken;
}

/*
 * Records an invariant_violation (the whole row; rec gives the rows to
 * show) when now breaks the invariant and before, if given, did not.
 * Returns whether now keeps it.
 */
bool
invariant_check(Decision *d, Row *now, Row *before, ConflictRecord rec)
{
	bool		broken = invariant_broken(d, now);
	const char *error = d->invariant_error;

	if (broken && (before == NULL || !invariant_broken(d, before)))
	{
		rec.kind = "invariant_violation";
		rec.column = -1;
		rec.resolution = "pending";
		rec.status = "open";
		rec.note = error;
		record_conflict(d, &rec);
	}
	return !broken;
}
