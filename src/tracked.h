/*
 * tracked.h — what the tracked-table trigger shares between its files:
 *
 *   tracked.c       settings of a tracked table, checked against the
 *                   catalog and cached per trigger (reference-counted)
 *   track_rows.c    rows being decided and the merges of their columns
 *   audit.c         conflict records, closing settled ones, invariants
 *   track_trigger.c the trigger: local and applied writes
 *
 * Identities.  Code a user controls (casts to json, invariants, output
 * functions) never runs with rights that user lacks: values are converted
 * in the writer's own context (for an applied write, as the tracked table's
 * owner), invariants run as the table's owner, and the identity switches to
 * the audit table's owner only to write finished records.  Every switch is
 * a SECURITY_RESTRICTED_OPERATION with a pinned search_path.
 */
#ifndef CRDT_TRACKED_H
#define CRDT_TRACKED_H

#include "crdt_reconcile.h"

#include "access/htup.h"
#include "access/tupdesc.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "utils/hsearch.h"
#include "utils/inval.h"

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

/* Prepared statements, made on first use and kept with the settings. */
typedef enum TrackedPlan
{
	PLAN_MERGE_EXISTING,		/* UPDATE the row that has a key (as the writer) */
	PLAN_KEY_EXISTS,			/* is there a row with this key (as the writer) */
	PLAN_DELETE_KEY,			/* DELETE the row with this key (as the writer) */
	PLAN_SIBLINGS,				/* other replicas' rows of a key (as the owner) */
	PLAN_INVARIANT,				/* the invariant over one row (as the owner) */
	PLAN_TO_JSONB,				/* rows to jsonb (writer's context) */
	PLAN_RECORD,				/* INSERT a conflict (as the audit owner) */
	PLAN_ANY_OPEN,				/* does the table have open records */
	PLAN_CLOSE,					/* close records an applied write settled */
	PLAN_TOMBSTONE_FIND,		/* the tombstone of a key */
	PLAN_TOMBSTONE_WRITE,		/* write (merge) a tombstone */
	PLAN_COUNT
} TrackedPlan;

/*
 * The settings of one tracked table as one trigger sees them.  A relcache
 * invalidation marks them stale; they are freed when the last call using
 * them ends, so a nested call that reloads them cannot pull a plan from
 * under an outer one.
 */
typedef struct TrackedTable
{
	int			refcount;
	bool		stale;
	MemoryContext cxt;
	Oid			trigger;
	Oid			relid;			/* the table the trigger fires on */
	Oid			tracked_relid;	/* the tracked table (an ancestor, for a partition) */
	char	   *qualified_name; /* of relid */
	char	   *tracked_name;	/* of tracked_relid */
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
	int			nall_keys;		/* every primary-key column */
	int		   *all_keys;
	Datum		key_names;		/* text[]: the key of conflict records */
	char	   *invariant;
	char	   *invariant_path;
	Oid			rowtype;
	Oid			vclock_type;
	char	   *extension_schema;	/* quoted */
	Oid			table_owner;	/* of the tracked table */
	Oid			audit_owner;
	Oid			tombstones;		/* crdt_reconcile.tombstones and its key index */
	Oid			tombstones_key;
	SPIPlanPtr	plans[PLAN_COUNT];
} TrackedTable;

/* tracked.c */
TrackedTable *tracked_acquire(TriggerData *td, Oid trigger_function);

/* An entry of a cache of settings per trigger (tracked_acquire's, history's). */
typedef struct TriggerCacheEntry
{
	Oid			trigger;		/* hash key */
	void	   *current;
} TriggerCacheEntry;
void	  **trigger_cache_slot(HTAB **cache, const char *name, RelcacheCallbackFunction invalidate, Oid trigger);
void		tracked_release(TrackedTable *t);
void		tracked_release_on_error(TrackedTable *t);
SPIPlanPtr	tracked_plan(TrackedTable *t, TrackedPlan which, TupleDesc desc);
const CrdtType *crdt_type_of_column(Oid typid, Oid extension_schema);
Oid			relation_owner(Oid relid);

/* Runs as role under SECURITY_RESTRICTED_OPERATION with search_path pinned. */
typedef struct SwitchedIdentity
{
	Oid			save_user;
	int			save_sec;
	int			nest;
	bool		switched;
} SwitchedIdentity;

void		identity_switch(SwitchedIdentity *s, Oid role, const char *search_path);
void		identity_restore(SwitchedIdentity *s);

/* track_rows.c — a row being decided: its values, deformed. */
typedef struct Row
{
	Datum	   *values;
	bool	   *nulls;
} Row;

Row			row_of(HeapTuple tuple, TupleDesc desc);
Row			row_copy(Row src, TupleDesc desc);
Datum		row_datum(Row *r, TupleDesc desc);
char	   *row_spi_nulls(Row r, TupleDesc desc);
CrdtSlice	slice_of_datum(Datum d);
bool		same_crdt(Datum a, bool anull, Datum b, bool bnull);
bool		same_column(TupleDesc desc, int i, Row a, Row b);
bool		same_row(Row a, Row b, TupleDesc desc);
bool		same_key(TrackedTable *t, TupleDesc desc, Row a, Row b);
void		merge_into(const CrdtType *type, Datum a, bool anull, Datum b, bool bnull,
					   Datum *out, bool *outnull);
void		merge_column(TrackedTable *t, int i, Row *into, Row from);
CrdtSlice	slice_or_empty(const CrdtType *type, Datum d, bool isnull);
CrdtOrder	clock_order(TrackedTable *t, Row local, Row remote);
bool		writes_concurrent(TrackedTable *t, Row a, Row b);
int			mvreg_count(Datum d, bool isnull);

/* track_columns.c — the tag of the last write of each plain column. */
typedef struct ColumnTag
{
	bool		valid;
	int64		at;
	const char *replica;
	int			replica_len;
	int64		counter;
} ColumnTag;

typedef enum TagWinner
{
	TAG_LOCAL,
	TAG_REMOTE
} TagWinner;

typedef enum TagVerdict
{
	TAG_SAME,					/* the same write on both sides */
	TAG_ORDERED,				/* one side had seen the other's write */
	TAG_CONCURRENT				/* neither had: the greater tag won */
} TagVerdict;

ColumnTag  *column_tags(TrackedTable *t, TupleDesc desc, Row row);
TagWinner	column_winner(TrackedTable *t, Row local, Row remote, const ColumnTag *lt, const ColumnTag *rt,
						  TagVerdict *verdict);
void		column_tags_store(TrackedTable *t, TupleDesc desc, Row *row, const ColumnTag *tags, int64 at,
							  const char *replica, int replica_len);
int64		column_write_time(TrackedTable *t, Row row, const ColumnTag *tags, TupleDesc desc);

/* The state of one trigger call. */
typedef struct Decision
{
	TrackedTable *t;
	TupleDesc	desc;
	bool		applied;
	bool		spi;			/* connected; a plain local write never needs it */
	int			conflicts;
	char	   *invariant_error;	/* the last invariant check raised this */
} Decision;

void		decision_connect(Decision *d);

/* track_trigger.c */
CrdtReplica local_replica(FunctionCallInfo fcinfo);
void		tick_clock(CrdtReplica replica, TrackedTable *t, Row *row, Datum observed, bool observed_null);
void		check_own_row(FunctionCallInfo fcinfo, TrackedTable *t, Row row, bool stored);

/* audit.c */
typedef struct ConflictRecord
{
	const char *kind;
	int			column;			/* attribute index, or -1 for the whole row */
	Row		   *key_row;
	Row		   *local;
	Row		   *remote;
	Row		   *result;
	const char *resolution;
	const char *status;
	const char *note;
} ConflictRecord;

void		record_conflict(Decision *d, const ConflictRecord *rec);
void		rows_to_jsonb(Decision *d, Row *rows[4], Datum out[4], bool isnull[4]);
int			execute_as_auditor(Decision *d, TrackedPlan which, Datum *args, const char *nulls, bool read_only);
const char *origin_text(bool applied);

/* compact.c: value lifted through the registry's compaction groups; true when it changed. */
bool		crdt_lift_compacted(const CrdtType *type, Datum *value);

/* compact.c: an arriving orset/mvreg value lifted and checked against the stored one (lifted). */
typedef enum CrdtLift
{
	CRDT_LIFT_NONE,
	CRDT_LIFT_CHANGED,
	CRDT_LIFT_REFUSED			/* it would be renamed wrongly: *value left as it was */
} CrdtLift;
CrdtLift	crdt_lift_arriving(const CrdtType *type, Datum *value, Datum stored);

/* Whether this session applies writes from another node (track_trigger.c). */
bool		crdt_write_is_applied(void);

/* track_lifecycle.c — deletes, tombstones */
bool		tombstone_find(Decision *d, Row *row, Datum *clock);
bool		tombstone_covers(Decision *d, Row *row);
HeapTuple	delete_row(FunctionCallInfo fcinfo, Decision *d, TriggerData *td);
bool		invariant_check(Decision *d, Row *now, Row *before, ConflictRecord rec);
void		close_settled(Decision *d, Row *result, const bool *settled, bool invariant_holds);

#endif							/* CRDT_TRACKED_H */
