/*
 * merge_stats.c — per-table counters of what the tracked-table trigger did,
 * in shared memory, read by the view crdt_reconcile.merge_stats.
 *
 * Like the pg_stat_* views these count since server start (or a reset) and
 * are not crash-safe; an event costs one atomic add, so they can stay on.
 * The counters live in a fixed table of MERGE_STATS_SLOTS slots.  A slot
 * is freed when its table is dropped or untracked (the event trigger calls
 * crdt_reconcile.forget_merge_stats), and when the table is full the slots
 * of this database's relations that no longer exist are reclaimed; events
 * that still find no slot are counted in an overflow row (relation NULL in
 * the view) and announced once per session with a WARNING.
 *
 * When the library is in shared_preload_libraries its space is reserved at
 * start; otherwise the first backend that needs it takes it from the spare
 * shared memory every server keeps.  If even that fails, counting is off
 * (with one WARNING) and writes go on.
 */
#include "crdt_reconcile.h"

#include "funcapi.h"
#include "miscadmin.h"
#include "catalog/pg_class.h"
#include "utils/acl.h"
#include "utils/syscache.h"
#include "port/atomics.h"
#include "storage/ipc.h"
#include "storage/lwlock.h"
#include "storage/shmem.h"
#include "utils/builtins.h"

#include "merge_stats.h"

#define MERGE_STATS_SLOTS 4096

typedef struct MergeStatsSlot
{
	pg_atomic_uint64 key;		/* database << 32 | relation; 0 = free */
	pg_atomic_uint64 counts[MERGE_STAT_COUNT];
} MergeStatsSlot;

typedef struct MergeStatsShared
{
	pg_atomic_uint64 dropped;	/* events of tables that found no free slot */
	MergeStatsSlot slots[MERGE_STATS_SLOTS];
} MergeStatsShared;

static MergeStatsShared *shared_stats = NULL;
static bool stats_unavailable = false;
static shmem_request_hook_type prev_shmem_request_hook = NULL;

static void
request_space(void)
{
	if (prev_shmem_request_hook)
		prev_shmem_request_hook();
	RequestAddinShmemSpace(MAXALIGN(sizeof(MergeStatsShared)));
}

void
crdt_merge_stats_init(void)
{
	if (process_shared_preload_libraries_in_progress)
	{
		prev_shmem_request_hook = shmem_request_hook;
		shmem_request_hook = request_space;
	}
}

static MergeStatsShared *
attach(void)
{
	bool		found = false;
	MemoryContext cxt = CurrentMemoryContext;

	if (shared_stats != NULL || stats_unavailable)
		return shared_stats;
	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	PG_TRY();
	{
		shared_stats = ShmemInitStruct("crdt_reconcile merge stats", sizeof(MergeStatsShared), &found);
		if (!found)
		{
			pg_atomic_init_u64(&shared_stats->dropped, 0);
			for (int i = 0; i < MERGE_STATS_SLOTS; i++)
			{
				pg_atomic_init_u64(&shared_stats->slots[i].key, 0);
				for (int c = 0; c < MERGE_STAT_COUNT; c++)
					pg_atomic_init_u64(&shared_stats->slots[i].counts[c], 0);
			}
		}
	}
	PG_CATCH();
	{
		/* only the allocation can fail here; nothing else to undo */
		MemoryContextSwitchTo(cxt);
		FlushErrorState();
		shared_stats = NULL;
		stats_unavailable = true;
	}
	PG_END_TRY();
	LWLockRelease(AddinShmemInitLock);
	if (stats_unavailable)
		ereport(WARNING,
				(errmsg("crdt_reconcile merge statistics are off: no shared memory left for them"),
				 errhint("Add crdt_reconcile to shared_preload_libraries to reserve it.")));
	return shared_stats;
}

static inline uint64
slot_key(Oid database, Oid relation)
{
	return ((uint64) database << 32) | (uint64) relation;
}

/*
 * Linear probing over the whole table, so a key is found wherever a freed
 * slot let it land: a lookup never stops at a free slot.  A claim takes
 * the first free slot in probe order, the same one for every backend.
 */
static MergeStatsSlot *
find_slot(MergeStatsShared *s, Oid relation, bool claim)
{
	uint64		key = slot_key(MyDatabaseId, relation);
	uint32		start = (uint32) ((key * UINT64CONST(0x9E3779B97F4A7C15)) >> 40) % MERGE_STATS_SLOTS;

	for (int attempt = 0; attempt < 8; attempt++)
	{
		MergeStatsSlot *free_slot = NULL;
		uint64		expected = 0;

		for (uint32 probe = 0; probe < MERGE_STATS_SLOTS; probe++)
		{
			MergeStatsSlot *slot = &s->slots[(start + probe) % MERGE_STATS_SLOTS];
			uint64		seen = pg_atomic_read_u64(&slot->key);

			if (seen == key)
				return slot;
			if (seen == 0 && free_slot == NULL)
				free_slot = slot;
		}
		if (!claim || free_slot == NULL)
			return NULL;
		if (pg_atomic_compare_exchange_u64(&free_slot->key, &expected, key) || expected == key)
			return free_slot;
		/* another backend took that slot for another table: look again */
	}
	return NULL;
}

static void
free_slot(MergeStatsSlot *slot)
{
	for (int c = 0; c < MERGE_STAT_COUNT; c++)
		pg_atomic_write_u64(&slot->counts[c], 0);
	pg_atomic_write_u64(&slot->key, 0);
}

/* Frees the slots of this database's relations that no longer exist. */
static int
reclaim_slots(MergeStatsShared *s)
{
	int			freed = 0;

	for (int i = 0; i < MERGE_STATS_SLOTS; i++)
	{
		uint64		key = pg_atomic_read_u64(&s->slots[i].key);

		if (key != 0 && (Oid) (key >> 32) == MyDatabaseId &&
			!SearchSysCacheExists1(RELOID, ObjectIdGetDatum((Oid) (key & 0xffffffff))))
		{
			free_slot(&s->slots[i]);
			freed++;
		}
	}
	return freed;
}

void
crdt_merge_stats_count(Oid relation, MergeStat stat, uint64 n)
{
	static bool warned = false;
	MergeStatsShared *s = attach();
	MergeStatsSlot *slot;

	if (s == NULL || n == 0)
		return;
	slot = find_slot(s, relation, true);
	if (slot == NULL && reclaim_slots(s) > 0)
		slot = find_slot(s, relation, true);
	if (slot != NULL)
	{
		pg_atomic_fetch_add_u64(&slot->counts[stat], n);
		return;
	}
	pg_atomic_fetch_add_u64(&s->dropped, n);
	if (!warned)
		ereport(WARNING,
				(errmsg("crdt_reconcile merge statistics are full: events of table %u are counted as overflow",
						relation),
				 errhint("Untrack tables that are no longer used, or reset the statistics.")));
	warned = true;
}

/* Forgets a relation's counters (it was dropped or untracked). */
PG_FUNCTION_INFO_V1(crdt_forget_merge_stats);
Datum
crdt_forget_merge_stats(PG_FUNCTION_ARGS)
{
	MergeStatsShared *s = attach();
	MergeStatsSlot *slot;

	if (s != NULL && (slot = find_slot(s, PG_GETARG_OID(0), false)) != NULL)
		free_slot(slot);
	PG_RETURN_VOID();
}

/* Members of crdt_reconcile_admin see every relation's counters. */
static bool
may_see_relation(Oid relation, Oid admin)
{
	if (OidIsValid(admin) && has_privs_of_role(GetUserId(), admin))
		return true;
	if (!OidIsValid(relation) || !SearchSysCacheExists1(RELOID, ObjectIdGetDatum(relation)))
		return false;
	return pg_class_aclcheck(relation, GetUserId(), ACL_SELECT) == ACLCHECK_OK ||
		pg_attribute_aclcheck_all(relation, GetUserId(), ACL_SELECT, ACLMASK_ANY) == ACLCHECK_OK;
}

PG_FUNCTION_INFO_V1(crdt_merge_counters);
Datum
crdt_merge_counters(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	MergeStatsShared *s = attach();

	Oid			admin = get_role_oid("crdt_reconcile_admin", true);
	Datum		values[2 + MERGE_STAT_COUNT];
	bool		nulls[2 + MERGE_STAT_COUNT] = {0};

	InitMaterializedSRF(fcinfo, 0);
	if (s == NULL)
		return (Datum) 0;
	/* this database only, and only relations the caller may read */
	values[0] = ObjectIdGetDatum(MyDatabaseId);
	for (int i = 0; i < MERGE_STATS_SLOTS; i++)
	{
		uint64		key = pg_atomic_read_u64(&s->slots[i].key);

		if (key == 0 || (Oid) (key >> 32) != MyDatabaseId || !may_see_relation((Oid) (key & 0xffffffff), admin))
			continue;
		values[1] = ObjectIdGetDatum((Oid) (key & 0xffffffff));
		for (int c = 0; c < MERGE_STAT_COUNT; c++)
			values[2 + c] = Int64GetDatum((int64) pg_atomic_read_u64(&s->slots[i].counts[c]));
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	/* events that found no free slot (any database): admins only */
	if (pg_atomic_read_u64(&s->dropped) > 0 && may_see_relation(InvalidOid, admin))
	{
		memset(values, 0, sizeof(values));
		values[0] = ObjectIdGetDatum(MyDatabaseId);
		nulls[1] = true;
		for (int c = 0; c < MERGE_STAT_COUNT; c++)
			nulls[2 + c] = c != MERGE_STAT_LOCAL_WRITES;
		values[2 + MERGE_STAT_LOCAL_WRITES] = Int64GetDatum((int64) pg_atomic_read_u64(&s->dropped));
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}

PG_FUNCTION_INFO_V1(crdt_reset_merge_stats);
Datum
crdt_reset_merge_stats(PG_FUNCTION_ARGS)
{
	MergeStatsShared *s = attach();

	if (s == NULL)
		PG_RETURN_VOID();
	for (int i = 0; i < MERGE_STATS_SLOTS; i++)
	{
		uint64		key = pg_atomic_read_u64(&s->slots[i].key);

		if (key == 0 || (Oid) (key >> 32) != MyDatabaseId)
			continue;
		if (!PG_ARGISNULL(0) && (Oid) (key & 0xffffffff) != PG_GETARG_OID(0))
			continue;
		for (int c = 0; c < MERGE_STAT_COUNT; c++)
			pg_atomic_write_u64(&s->slots[i].counts[c], 0);
	}
	PG_RETURN_VOID();
}
