/*
 * track_trigger.c — the trigger of tracked tables: merges CRDT columns on
 * every write, tells local writes from replicated ones, resolves plain
 * columns deterministically and records conflicts.
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
#include "tracked.h"

#include "access/htup_details.h"
#include "access/xact.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "miscadmin.h"
#include "replication/origin.h"
#include "utils/builtins.h"
#include "utils/rel.h"
#include "utils/timestamp.h"

#include "merge_stats.h"

#define PINNED_PATH "pg_catalog, pg_temp"

/* Set while an applied write merges into the row that already has its key. */
typedef struct MergeExisting
{
	Oid			relid;
	bool		found;
} MergeExisting;

static MergeExisting *merging_existing = NULL;

/* ---------------------------------------------------------------- siblings */

typedef struct Siblings
{
	uint64		count;
	Row		   *rows;
} Siblings;

/*
 * The other replicas' rows of a row's key (replica-rows tables), read as
 * the table's owner: a writer may write without being allowed to read.
 */
static Siblings
fetch_siblings(Decision *d, Row row)
{
	SwitchedIdentity id = {0};
	Siblings	s;
	int			rc;

	decision_connect(d);
	identity_switch(&id, d->t->table_owner, PINNED_PATH);
	rc = SPI_execute_plan(tracked_plan(d->t, PLAN_SIBLINGS, d->desc), row.values, row_spi_nulls(row, d->desc),
						  true, 0);
	identity_restore(&id);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "crdt_reconcile: reading sibling rows failed: %s", SPI_result_code_string(rc));
	s.count = SPI_processed;
	s.rows = palloc(sizeof(Row) * (s.count + 1));
	for (uint64 n = 0; n < s.count; n++)
		s.rows[n] = row_of(SPI_tuptable->vals[n], SPI_tuptable->tupdesc);
	return s;
}

/* Merged clock of the other replicas' rows of this key. */
static bool
siblings_clock(Decision *d, Row row, Datum *clock)
{
	Siblings	s = fetch_siblings(d, row);
	int			c = d->t->clock;
	bool		isnull = true;

	*clock = (Datum) 0;
	for (uint64 n = 0; n < s.count; n++)
		merge_into(&crdt_type_vclock, *clock, isnull, s.rows[n].values[c], s.rows[n].nulls[c], clock, &isnull);
	return !isnull;
}

/* ---------------------------------------------------------------- local writes */

CrdtReplica
local_replica(FunctionCallInfo fcinfo)
{
	return crdt_resolve_replica(fcinfo, 1000);
}

void
tick_clock(CrdtReplica replica, TrackedTable *t, Row *row, Datum observed, bool observed_null)
{
	CrdtBuf		buf;
	CrdtError	err;
	Datum		clock;
	bool		isnull;

	merge_into(&crdt_type_vclock, row->values[t->clock], row->nulls[t->clock], observed, observed_null,
			   &clock, &isnull);
	crdt_varlena_buf(&buf);
	if (crdt_counter_add(CRDT_VCLOCK, slice_or_empty(&crdt_type_vclock, clock, isnull),
						 replica.id, replica.len, 1, &buf, &err) != CRDT_OK)
		crdt_report(&err, "vclock", NULL, 0);
	row->values[t->clock] = crdt_varlena_datum(&buf);
	row->nulls[t->clock] = false;
}

/*
 * The writer tag: each plain column this write changed (all of them on an
 * INSERT) gets this write's tag — its time, replica and dot (our entry in
 * the row clock, just ticked).
 */
static void
stamp_writer(CrdtReplica replica, TrackedTable *t, TupleDesc desc, Row *old, Row *row)
{
	ColumnTag  *tags = column_tags(t, desc, *row);
	int64		at = column_write_time(t, *row, tags, desc);
	int64		counter = 0;
	CrdtError	err;
	bool		changed = false;

	if (crdt_counter_get(CRDT_VCLOCK, slice_or_empty(&crdt_type_vclock, row->values[t->clock], false),
						 replica.id, replica.len,
						 &counter, &err) != CRDT_OK)
		crdt_report(&err, "vclock", NULL, 0);
	for (int i = 0; i < desc->natts; i++)
	{
		if (t->role[i] != COLUMN_PLAIN || (old != NULL && same_column(desc, i, *old, *row)))
			continue;
		tags[i].valid = true;
		tags[i].at = at;
		tags[i].replica = (const char *) replica.id;
		tags[i].replica_len = replica.len;
		tags[i].counter = counter;
		changed = true;
	}
	if (changed)
		column_tags_store(t, desc, row, tags, at, (const char *) replica.id, replica.len);
}

void
check_own_row(FunctionCallInfo fcinfo, TrackedTable *t, Row row, bool stored)
{
	CrdtReplica replica;
	text	   *value;

	if (t->replica < 0)
		return;
	replica = local_replica(fcinfo);
	if (row.nulls[t->replica])
		ereport(ERROR,
				(errcode(ERRCODE_NOT_NULL_VIOLATION),
				 errmsg("the replica column of %s must not be NULL", t->tracked_name)));
	value = DatumGetTextPP(row.values[t->replica]);
	if (VARSIZE_ANY_EXHDR(value) != replica.len || memcmp(VARDATA_ANY(value), replica.id, replica.len) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_CHECK_VIOLATION),
				 stored ? errmsg("replica %s may not rewrite the row of replica %s in %s",
								 crdt_from_utf8((const char *) replica.id, replica.len), text_to_cstring(value),
								 t->tracked_name)
				 : errmsg("replica %s may only write its own rows of %s, not those of replica %s",
						  crdt_from_utf8((const char *) replica.id, replica.len), t->tracked_name,
						  text_to_cstring(value)),
				 errdetail("In a replica_rows table each replica writes only the rows whose replica column names it; the others arrive by replication.")));
}

/* Merges the stored CRDT values into the written row; true when that changed it. */
static bool
merge_stored(Decision *d, Row *old, Row new, Row *result)
{
	TrackedTable *t = d->t;
	bool		merged_in = false;

	for (int i = 0; i < d->desc->natts; i++)
	{
		ConflictRecord rec = {"merge_logged", i, result, old, &new, result, "merged", "auto_resolved", NULL};

		if (t->type[i] == NULL)
			continue;
		merge_column(t, i, result, *old);
		if (same_crdt(result->values[i], result->nulls[i], new.values[i], new.nulls[i]))
			continue;
		merged_in = true;
		if (t->log_merges && t->role[i] == COLUMN_LOSSLESS)
			record_conflict(d, &rec);
	}
	return merged_in;
}

static HeapTuple
local_write(FunctionCallInfo fcinfo, Decision *d, Row *old, Row new, HeapTuple written)
{
	TrackedTable *t = d->t;
	Row			result = row_copy(new, d->desc);
	bool		merged_in = false;

	check_own_row(fcinfo, t, new, false);
	if (old != NULL)
	{
		/* an UPDATE may not take another replica's row either */
		check_own_row(fcinfo, t, *old, true);
		merged_in = merge_stored(d, old, new, &result);
	}
	/* the common case (an increment written against the stored state): the row stands as written */
	if (!merged_in && t->clock < 0 && t->invariant == NULL)
	{
		crdt_merge_stats_count(t->tracked_relid, MERGE_STAT_LOCAL_WRITES, 1);
		return written;
	}
	if (t->clock >= 0)
	{
		CrdtReplica replica = local_replica(fcinfo);
		Datum		observed = (Datum) 0;
		bool		observed_null = true;

		if (t->replica_rows)
			observed_null = !siblings_clock(d, new, &observed);
		else if (old == NULL)
			/* a key deleted before: the new row comes after the delete */
			observed_null = !tombstone_find(d, &new, &observed);
		tick_clock(replica, t, &result, observed, observed_null);
		if (t->writer >= 0)
			stamp_writer(replica, t, d->desc, old, &result);
	}
	/*
	 * Not on INSERT: the row may be the proposal of an INSERT ... ON
	 * CONFLICT that never lands, and an inserted row merged nothing.
	 */
	if (old != NULL && t->invariant != NULL)
	{
		ConflictRecord rec = {NULL, -1, &result, old, &new, &result};

		(void) invariant_check(d, &result, old, rec);
	}
	crdt_merge_stats_count(t->tracked_relid, MERGE_STAT_LOCAL_WRITES, 1);
	return heap_form_tuple(d->desc, result.values, result.nulls);
}

/* ---------------------------------------------------------------- applied writes */

static void
record_column(Decision *d, const char *kind, int i, Row *key_row, Row *local, Row *remote, Row *result,
			  const char *resolution, const char *status)
{
	ConflictRecord rec = {kind, i, key_row, local, remote, result, resolution, status, NULL};

	record_conflict(d, &rec);
}

/* What the merge of a sibling drops or splits in an arriving row's columns. */
static void
compare_sibling(Decision *d, Row *arrived, Row other, bool *settled)
{
	TrackedTable *t = d->t;
	TupleDesc	desc = d->desc;
	/* without clocks nothing tells concurrent rows from ordered ones */
	bool		concurrent = t->clock >= 0 && clock_order(t, other, *arrived) == CRDT_ORDER_CONCURRENT;

	for (int i = 0; i < desc->natts; i++)
	{
		if (same_column(desc, i, other, *arrived))
			continue;
		if (t->role[i] == COLUMN_PLAIN)
			settled[i] = false;
		if (!concurrent)
			continue;
		if (t->role[i] == COLUMN_PLAIN)
			record_column(d, "concurrent_update", i, arrived, &other, arrived, NULL, "pending", "open");
		else if (t->role[i] == COLUMN_LWW && !other.nulls[i] && !arrived->nulls[i])
		{
			Row			winner = row_copy(other, desc);

			merge_column(t, i, &winner, *arrived);
			record_column(d, "concurrent_update", i, arrived, &other, arrived, &winner, "merged", "auto_resolved");
		}
	}
}

/*
 * Replica rows: compare the arriving row with the other replicas' rows of
 * its key, record what their merge drops or splits, check the invariant on
 * the converged state, and close the open records it settled.
 */
static void
compare_with_siblings(Decision *d, Row *arrived, Row *before)
{
	TrackedTable *t = d->t;
	TupleDesc	desc = d->desc;
	Siblings	s = fetch_siblings(d, *arrived);
	Row			converged = row_copy(*arrived, desc);
	Row			converged_before = row_copy(before != NULL ? *before : *arrived, desc);
	bool	   *settled = palloc(sizeof(bool) * desc->natts);
	bool		holds = false;

	for (int i = 0; i < desc->natts; i++)
		settled[i] = t->role[i] == COLUMN_PLAIN;
	for (uint64 n = 0; n < s.count; n++)
	{
		for (int i = 0; i < desc->natts; i++)
			if (t->type[i] != NULL && t->role[i] != COLUMN_KEY && t->role[i] != COLUMN_REPLICA)
			{
				merge_column(t, i, &converged, s.rows[n]);
				if (before != NULL)
					merge_column(t, i, &converged_before, s.rows[n]);
			}
		compare_sibling(d, arrived, s.rows[n], settled);
	}
	for (int i = 0; i < desc->natts; i++)
	{
		if (t->role[i] != COLUMN_MVREG)
			continue;
		settled[i] = mvreg_count(converged.values[i], converged.nulls[i]) <= 1;
		if (!settled[i] && (before == NULL || !same_column(desc, i, converged, converged_before)))
			record_column(d, "multi_value", i, arrived, before, arrived, &converged, "pending", "open");
	}
	if (t->invariant != NULL)
	{
		ConflictRecord rec = {NULL, -1, arrived, before, arrived, &converged};

		holds = invariant_check(d, &converged, before != NULL ? &converged_before : NULL, rec);
	}
	close_settled(d, arrived, settled, holds);
}

/*
 * Which side's plain columns stand when there is no writer tag (a table
 * without plain columns, or without a clock): the later row by its clock,
 * the incoming one without a clock (as PostgreSQL applies it).
 */
static bool
remote_wins(TrackedTable *t, CrdtOrder order)
{
	return t->clock < 0 || order == CRDT_ORDER_BEFORE;
}

typedef struct AppliedMerge
{
	Row			local;
	Row			remote;
	Row			result;
	CrdtOrder	order;
	bool		stale;
	int			concurrent_writes;	/* -1 until computed */
} AppliedMerge;

static bool
concurrent_writes(TrackedTable *t, AppliedMerge *m)
{
	if (m->concurrent_writes < 0)
		m->concurrent_writes = writes_concurrent(t, m->local, m->remote);
	return m->concurrent_writes;
}

/* A plain column's record, when the side that lost had a different value. */
static void
record_plain_loss(Decision *d, AppliedMerge *m, int i, bool remote, bool concurrent, bool stale)
{
	if (same_column(d->desc, i, m->local, m->remote) || d->t->replica_rows)
		return;
	if (concurrent)
		record_column(d, "concurrent_update", i, &m->local, &m->local, &m->remote, &m->result,
					  remote ? "applied_remote" : "kept_local", "auto_resolved");
	else if (stale && d->t->record_stale)
		record_column(d, "stale_update", i, &m->local, &m->local, &m->remote, &m->result,
					  "kept_local", "auto_resolved");
}

/*
 * Plain columns, each resolved by its own tag (see track_columns.c); the
 * writer tag of the result holds the winning tags.
 */
static void
merge_tagged_columns(Decision *d, AppliedMerge *m)
{
	TrackedTable *t = d->t;
	TupleDesc	desc = d->desc;
	ColumnTag  *lt = column_tags(t, desc, m->local);
	ColumnTag  *rt = column_tags(t, desc, m->remote);
	ColumnTag  *result = palloc0(sizeof(ColumnTag) * desc->natts);
	Datum		w;
	bool		wnull;
	CrdtLww		lww;
	CrdtError	err;

	for (int i = 0; i < desc->natts; i++)
	{
		TagVerdict	verdict;
		TagWinner	winner;

		if (t->role[i] != COLUMN_PLAIN)
			continue;
		winner = column_winner(t, m->local, m->remote, &lt[i], &rt[i], &verdict);
		result[i] = winner == TAG_REMOTE ? rt[i] : lt[i];
		if (winner == TAG_REMOTE)
		{
			m->result.values[i] = m->remote.values[i];
			m->result.nulls[i] = m->remote.nulls[i];
		}
		record_plain_loss(d, m, i, winner == TAG_REMOTE, verdict == TAG_CONCURRENT,
						  verdict == TAG_ORDERED && winner == TAG_LOCAL);
	}
	/* the tag's own time and replica: the greater of the two, as an lwwreg merge */
	merge_into(&crdt_type_lwwreg, m->local.values[t->writer], m->local.nulls[t->writer],
			   m->remote.values[t->writer], m->remote.nulls[t->writer], &w, &wnull);
	if (wnull)
		return;
	if (crdt_lww_read(slice_of_datum(w), &lww, &err) != CRDT_OK)
		crdt_report(&err, "lwwreg", NULL, 0);
	if (lww.empty)
		return;
	column_tags_store(t, desc, &m->result, result, lww.at, (const char *) lww.replica, lww.replica_len);
}

/* Plain columns without a writer tag: the winning side's values, as a row. */
static void
merge_plain_columns(Decision *d, AppliedMerge *m)
{
	TrackedTable *t = d->t;
	bool		remote = remote_wins(t, m->order);

	if (t->writer >= 0)
	{
		merge_tagged_columns(d, m);
		return;
	}
	for (int i = 0; i < d->desc->natts; i++)
	{
		if (t->role[i] != COLUMN_PLAIN)
			continue;
		if (remote)
		{
			m->result.values[i] = m->remote.values[i];
			m->result.nulls[i] = m->remote.nulls[i];
		}
		if (t->clock < 0)
			continue;
		record_plain_loss(d, m, i, remote, m->order == CRDT_ORDER_CONCURRENT && concurrent_writes(t, m), m->stale);
	}
}

/* A register merge that lost a write: a record of it. */
static void
record_register_loss(Decision *d, AppliedMerge *m, int i, bool changed)
{
	TrackedTable *t = d->t;

	if (m->order == CRDT_ORDER_CONCURRENT)
	{
		if (concurrent_writes(t, m))
			record_column(d, "concurrent_update", i, &m->local, &m->local, &m->remote, &m->result,
						  changed ? "applied_remote" : "kept_local", "auto_resolved");
	}
	else if (t->clock < 0 && !changed)
		/* without a clock, an arriving write that loses is the one recorded */
		record_column(d, "concurrent_update", i, &m->local, &m->local, &m->remote, &m->result,
					  "kept_local", "auto_resolved");
	else if (m->stale && !changed && t->record_stale)
		record_column(d, "stale_update", i, &m->local, &m->local, &m->remote, &m->result,
					  "kept_local", "auto_resolved");
}

/* CRDT columns: merged; records of what the merges dropped or split. */
static void
merge_crdt_columns(Decision *d, AppliedMerge *m, bool *settled)
{
	TrackedTable *t = d->t;

	for (int i = 0; i < d->desc->natts; i++)
	{
		bool		changed;

		if (t->type[i] == NULL || t->role[i] == COLUMN_KEY || t->role[i] == COLUMN_REPLICA ||
			t->role[i] == COLUMN_WRITER)
			continue;
		merge_column(t, i, &m->result, m->remote);
		if (t->role[i] == COLUMN_CLOCK)
			continue;
		changed = !same_column(d->desc, i, m->result, m->local);
		/* replica rows: registers are compared across the key's rows (compare_with_siblings) */
		if (t->replica_rows && (t->role[i] == COLUMN_LWW || t->role[i] == COLUMN_MVREG))
			continue;
		if (t->role[i] == COLUMN_LWW && !m->local.nulls[i] && !m->remote.nulls[i] &&
			!same_crdt(m->local.values[i], false, m->remote.values[i], false))
			record_register_loss(d, m, i, changed);
		else if (t->role[i] == COLUMN_MVREG)
		{
			settled[i] = mvreg_count(m->result.values[i], m->result.nulls[i]) <= 1;
			if (changed && !settled[i])
				record_column(d, "multi_value", i, &m->local, &m->local, &m->remote, &m->result, "pending", "open");
		}
		else if (t->role[i] == COLUMN_LOSSLESS && changed && t->log_merges)
			record_column(d, "merge_logged", i, &m->local, &m->local, &m->remote, &m->result, "merged",
						  "auto_resolved");
	}
}

/* Runs the UPDATE of the row with row's key (as the writer): the trigger merges it. */
static bool
update_existing(Decision *d, Row row)
{
	MergeExisting here = {d->t->tracked_relid, false};
	MergeExisting *outer = merging_existing;
	int			rc;

	decision_connect(d);
	merging_existing = &here;
	PG_TRY();
	{
		rc = SPI_execute_plan(tracked_plan(d->t, PLAN_MERGE_EXISTING, d->desc), row.values,
							  row_spi_nulls(row, d->desc), false, 0);
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

/*
 * An applied UPDATE that changed the primary key moves the row, as on the
 * publisher.  When the new key is taken here, the moved row merges into
 * that row and the old one goes; else the row simply moves.
 */
static HeapTuple
applied_move(Decision *d, AppliedMerge *m)
{
	TrackedTable *t = d->t;
	int			rc;

	for (int k = 0; k < t->nall_keys; k++)
	{
		int			i = t->all_keys[k];

		m->result.values[i] = m->remote.values[i];
		m->result.nulls[i] = m->remote.nulls[i];
	}
	decision_connect(d);
	rc = SPI_execute_plan(tracked_plan(t, PLAN_KEY_EXISTS, d->desc), m->remote.values,
						  row_spi_nulls(m->remote, d->desc), true, 1);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "crdt_reconcile: looking up a key failed: %s", SPI_result_code_string(rc));
	crdt_merge_stats_count(t->tracked_relid, MERGE_STAT_MERGES_APPLIED, 1);
	if (SPI_processed == 0)
		return heap_form_tuple(d->desc, m->result.values, m->result.nulls);
	(void) update_existing(d, m->result);
	rc = SPI_execute_plan(tracked_plan(t, PLAN_DELETE_KEY, d->desc), m->local.values,
						  row_spi_nulls(m->local, d->desc), false, 0);
	if (rc != SPI_OK_DELETE)
		elog(ERROR, "crdt_reconcile: removing a moved row failed: %s", SPI_result_code_string(rc));
	return NULL;
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
	AppliedMerge m;
	bool	   *settled = palloc0(sizeof(bool) * desc->natts);

	m.local = local;
	m.remote = remote;
	m.result = row_copy(local, desc);
	m.order = t->clock >= 0 ? clock_order(t, local, remote) : CRDT_ORDER_BEFORE;
	m.stale = m.order == CRDT_ORDER_AFTER || m.order == CRDT_ORDER_EQUAL;
	m.concurrent_writes = -1;

	merge_plain_columns(d, &m);
	merge_crdt_columns(d, &m, settled);
	if (!same_key(t, desc, local, remote))
		return applied_move(d, &m);
	if (same_row(m.result, local, desc))
	{
		crdt_merge_stats_count(t->tracked_relid, m.stale && m.order != CRDT_ORDER_EQUAL
							   ? MERGE_STAT_STALE_SKIPPED : MERGE_STAT_ECHOES_SKIPPED, 1);
		return NULL;
	}
	/* only an insert that brought something new: echoes and replays are not conflicts */
	if (insert_exists)
		record_column(d, "insert_exists", -1, &local, &local, &remote, &m.result, "merged", "auto_resolved");
	if (t->replica_rows)
		compare_with_siblings(d, &m.result, &local);
	else
	{
		ConflictRecord rec = {NULL, -1, &local, &local, &remote, &m.result};
		bool		holds = t->invariant != NULL && invariant_check(d, &m.result, &local, rec);

		close_settled(d, &m.result, settled, holds);
	}
	crdt_merge_stats_count(t->tracked_relid, MERGE_STAT_MERGES_APPLIED, 1);
	return heap_form_tuple(desc, m.result.values, m.result.nulls);
}

/* ---------------------------------------------------------------- the trigger */

/* A write from another node: an apply worker, or a repair as one. */
bool
crdt_write_is_applied(void)
{
	return SessionReplicationRole == SESSION_REPLICATION_ROLE_REPLICA ||
		replorigin_session_origin != InvalidRepOriginId;
}

/*
 * Values naming replicas the registry has compacted (docs/RETIREMENT.md,
 * "Late copies after compaction"): lifted through the compaction groups
 * before anything merges, which is exact because every such entry is
 * contained in its group.  A written value that named one is recorded as
 * retired_writer, unless the stored value of the row had not been lifted
 * yet either (the row's own state, not a late copy); the stored row is
 * lifted without a record.  orset and mvreg values are lifted only against
 * a stored value (an UPDATE, or an INSERT merging into its row), and one
 * that would be renamed wrongly (its members' counters are not the final
 * ones the stored value was renamed with) is refused: the column keeps
 * the stored value, recorded as retired_writer, kept_local.  True when
 * row changed.
 */
/* Whether column i of row holds a value that compaction groups apply to. */
static bool
liftable(const TrackedTable *t, const Row *row, int i)
{
	return t->type[i] != NULL && (t->role[i] == COLUMN_LOSSLESS || t->role[i] == COLUMN_MVREG) && !row->nulls[i];
}

static bool
dotted_column(const TrackedTable *t, int i)
{
	return t->type[i] == &crdt_type_orset || t->type[i] == &crdt_type_mvreg;
}

static CrdtLift
lift_column(Decision *d, Row *row, Row *stored, int i)
{
	if (!dotted_column(d->t, i))
		return crdt_lift_compacted(d->t->type[i], &row->values[i]) ? CRDT_LIFT_CHANGED : CRDT_LIFT_NONE;
	if (stored == NULL || stored->nulls[i])
		return CRDT_LIFT_NONE;
	return crdt_lift_arriving(d->t->type[i], &row->values[i], stored->values[i]);
}

static bool
lift_row(Decision *d, Row *row, Row *stored, const bool *stored_lifted)
{
	TrackedTable *t = d->t;
	bool		any = false;

	for (int i = 0; i < d->desc->natts; i++)
	{
		Datum		before = row->values[i];
		CrdtLift	lift;
		Row			arrived;

		if (!liftable(t, row, i) || (lift = lift_column(d, row, stored, i)) == CRDT_LIFT_NONE)
			continue;
		any = true;
		if (lift == CRDT_LIFT_REFUSED)
			row->values[i] = stored->values[i];
		else if (stored_lifted == NULL || stored_lifted[i])
			continue;
		arrived = row_copy(*row, d->desc);
		arrived.values[i] = before;
		{
			ConflictRecord rec = {"retired_writer", i, row, stored, &arrived, row, "merged", "auto_resolved",
			"it named replicas compacted away: their entries are contained in the compaction group"};

			if (lift == CRDT_LIFT_REFUSED)
			{
				rec.resolution = "kept_local";
				rec.note = "it named replicas compacted away with counters older than the final ones: "
					"it cannot be renamed into the group, the stored value is kept";
			}
			record_conflict(d, &rec);
		}
	}
	return any;
}

/* The stored row lifted (see lift_row); which columns that changed. */
static bool *
lift_stored(Decision *d, Row *stored)
{
	bool	   *lifted = palloc0(sizeof(bool) * d->desc->natts);

	for (int i = 0; i < d->desc->natts; i++)
		if (liftable(d->t, stored, i))
			lifted[i] = crdt_lift_compacted(d->t->type[i], &stored->values[i]);
	return lifted;
}

static HeapTuple
decide_insert(FunctionCallInfo fcinfo, Decision *d, TriggerData *td)
{
	Row			new = row_of(td->tg_trigtuple, d->desc);
	HeapTuple	tuple = td->tg_trigtuple;
	bool	   *none = palloc0(sizeof(bool) * d->desc->natts);

	if (lift_row(d, &new, NULL, none))
		tuple = heap_form_tuple(d->desc, new.values, new.nulls);
	if (!d->applied)
		return local_write(fcinfo, d, NULL, new, tuple);
	if (tombstone_covers(d, &new))
		return NULL;
	/*
	 * An applied INSERT whose key exists merges into that row (through an
	 * UPDATE this trigger handles) instead of stalling the subscription on
	 * a unique violation.
	 */
	if (update_existing(d, new))
	{
		crdt_merge_stats_count(d->t->tracked_relid, MERGE_STAT_INSERTS_MERGED, 1);
		return NULL;
	}
	if (d->t->replica_rows)
		compare_with_siblings(d, &new, NULL);
	return tuple;
}

static HeapTuple
decide(FunctionCallInfo fcinfo, Decision *d, TriggerData *td)
{
	Row			old;
	Row			new;
	bool		nested_merge;
	HeapTuple	tuple;
	bool	   *stored_lifted;

	if (TRIGGER_FIRED_BY_INSERT(td->tg_event))
		return decide_insert(fcinfo, d, td);
	if (TRIGGER_FIRED_BY_DELETE(td->tg_event))
		return delete_row(fcinfo, d, td);
	nested_merge = merging_existing != NULL && merging_existing->relid == d->t->tracked_relid;
	old = row_of(td->tg_trigtuple, d->desc);
	new = row_of(td->tg_newtuple, d->desc);
	tuple = td->tg_newtuple;
	stored_lifted = lift_stored(d, &old);
	if (lift_row(d, &new, &old, stored_lifted))
		tuple = heap_form_tuple(d->desc, new.values, new.nulls);
	if (nested_merge)
		merging_existing->found = true;
	if (d->applied && !nested_merge && tombstone_covers(d, &new))
		return NULL;
	if (d->applied)
		return applied_update(d, old, new, nested_merge);
	return local_write(fcinfo, d, &old, new, tuple);
}

PG_FUNCTION_INFO_V1(crdt_track_trigger);
Datum
crdt_track_trigger(PG_FUNCTION_ARGS)
{
	TriggerData *td = (TriggerData *) fcinfo->context;
	Decision	d = {0};
	HeapTuple	out = NULL;

	if (!CALLED_AS_TRIGGER(fcinfo) || !TRIGGER_FIRED_BEFORE(td->tg_event) ||
		!TRIGGER_FIRED_FOR_ROW(td->tg_event) ||
		TRIGGER_FIRED_BY_TRUNCATE(td->tg_event))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("crdt_reconcile.track_trigger must fire BEFORE INSERT, UPDATE or DELETE FOR EACH ROW")));

	d.t = tracked_acquire(td, fcinfo->flinfo->fn_oid);
	d.desc = RelationGetDescr(td->tg_relation);
	d.applied = crdt_write_is_applied();
	PG_TRY();
	{
		out = decide(fcinfo, &d, td);
		if (d.spi)
		{
			/* SPI_finish frees what was allocated since SPI_connect */
			if (out != NULL && out != td->tg_trigtuple && out != td->tg_newtuple)
				out = SPI_copytuple(out);
			SPI_finish();
		}
		if (d.conflicts > 0)
			crdt_merge_stats_count(d.t->tracked_relid, MERGE_STAT_CONFLICTS, d.conflicts);
	}
	PG_CATCH();
	{
		tracked_release_on_error(d.t);
		PG_RE_THROW();
	}
	PG_END_TRY();
	tracked_release(d.t);
	return PointerGetDatum(out);
}
