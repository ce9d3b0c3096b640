/*
 * retired_registry.c — whether crdt_reconcile.retired_replicas lists a
 * replica: every mutator asks before it writes for one (crdt_refuse_retired).
 * The registry's OIDs, and that it is empty, are kept until its relcache
 * entry is invalidated; otherwise a replica is looked up once per snapshot.
 * compact.c finds the registry here too.
 */
#include "crdt_reconcile.h"

#include "access/genam.h"
#include "access/parallel.h"
#include "access/table.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "storage/proc.h"

/*
 * The registry table and its primary key, looked up by name once (by
 * OID afterwards: apply workers have no search_path).  Dropping or
 * recreating the extension invalidates the table's relcache entry, and
 * creating any relation invalidates one, which is what a missing registry
 * waits for.
 */
typedef struct RegistryOids
{
	bool		known;
	Oid			table;			/* InvalidOid: no registry (an old install being upgraded) */
	Oid			index;
	/*
	 * Empty as of the latest snapshot taken since the last invalidation:
	 * every change to the registry invalidates its relcache entry at
	 * commit (its trigger registry_changed), which clears this.
	 */
	bool		empty;
	uint64		invalidations;
} RegistryOids;

static RegistryOids registry;

static void
invalidate_registry(Datum arg, Oid relid)
{
	(void) arg;
	if (!OidIsValid(relid) || !OidIsValid(registry.table) ||
		relid == registry.table || relid == registry.index)
	{
		registry.known = false;
		registry.empty = false;
		registry.invalidations++;
	}
}

static const RegistryOids *
registry_oids(void)
{
	static bool callback_registered = false;
	Oid			schema;

	if (registry.known)
		return &registry;
	if (!callback_registered)
	{
		CacheRegisterRelcacheCallback(invalidate_registry, (Datum) 0);
		callback_registered = true;
	}
	/* known first: an invalidation arriving during the lookups clears it again */
	registry.known = true;
	schema = get_namespace_oid("crdt_reconcile", true);
	registry.table = OidIsValid(schema) ? get_relname_relid("retired_replicas", schema) : InvalidOid;
	registry.index = OidIsValid(registry.table) ? get_relname_relid("retired_replicas_pkey", schema) : InvalidOid;
	if (!OidIsValid(registry.index))
		registry.table = InvalidOid;
	return &registry;
}

Oid
crdt_retired_registry(void)
{
	return registry_oids()->table;
}

/*
 * Whether the registry has a row for replica (len 0: any row at all),
 * read through its primary key, so that it works for callers who cannot
 * read the table (the check only refuses).  No registry: nobody is retired.
 */
static bool
replica_is_retired(const uint8_t *id, size_t len, Snapshot snapshot)
{
	const RegistryOids *oids = registry_oids();
	Relation	rel;
	Relation	index;
	SysScanDesc scan;
	ScanKeyData key;
	bool		found;

	if (!OidIsValid(oids->table))
		return false;
	rel = table_open(oids->table, AccessShareLock);
	index = index_open(oids->index, AccessShareLock);
	if (len > 0)
		ScanKeyEntryInitialize(&key, 0, 1, BTEqualStrategyNumber, InvalidOid,
							   index->rd_indcollation[0], F_TEXTEQ,
							   PointerGetDatum(cstring_to_text(crdt_from_utf8((const char *) id, len))));
	scan = systable_beginscan_ordered(rel, index, snapshot, len > 0 ? 1 : 0, &key);
	found = HeapTupleIsValid(systable_getnext_ordered(scan, ForwardScanDirection));
	systable_endscan_ordered(scan);
	/* the locks are kept to the end of the transaction, as a query keeps them */
	index_close(index, NoLock);
	table_close(rel, NoLock);
	return found;
}

/*
 * Whether the registry is empty under the latest snapshot, remembered
 * until it is invalidated, so that the usual case (nobody retired) costs
 * no scan per statement.  A retirement committed before the latest
 * snapshot is seen by it; one committed after it invalidates.  The latest
 * snapshot rather than the statement's: a row the statement's snapshot
 * still sees but the latest does not was deleted, and the registry's rows
 * are never deleted while they matter.
 */
static bool
registry_empty_now(void)
{
	uint64		invalidations = registry.invalidations;
	bool		empty;
	Snapshot	latest;

	/* a parallel worker may not take a snapshot: it answers for the statement's only */
	if (IsInParallelMode())
		return !replica_is_retired(NULL, 0, GetActiveSnapshot());
	latest = RegisterSnapshot(GetLatestSnapshot());
	empty = !replica_is_retired(NULL, 0, latest);
	UnregisterSnapshot(latest);
	if (empty && invalidations == registry.invalidations)
		registry.empty = true;
	return empty;
}

/*
 * The last answer, for the same replica under the same snapshot: a
 * statement writing many rows for one replica looks it up once.  The
 * registry is read like any table, so the answer cannot change within a
 * snapshot; a retirement committed concurrently is caught by the value's
 * marker once folded, like any write that was already in flight.
 */
typedef struct RetiredCache
{
	LocalTransactionId lxid;
	CommandId	cid;
	TransactionId xmin;
	TransactionId xmax;
	uint32		xcnt;
	bool		empty;			/* the registry has no row under this snapshot */
	size_t		len;
	uint8_t		id[CRDT_REPLICA_ID_MAX];
	bool		valid;
	bool		retired;
} RetiredCache;

static RetiredCache retired_cache;

static bool
replica_is_retired_cached(const uint8_t *id, size_t len)
{
	Snapshot	snap = GetActiveSnapshot();
	RetiredCache *c = &retired_cache;

	if (registry.empty)
	{
		/* what other sessions committed since: a retirement clears registry.empty */
		AcceptInvalidationMessages();
		if (registry.empty)
			return false;
	}

	if (!(c->valid && c->lxid == MyProc->lxid && c->cid == snap->curcid &&
		  c->xmin == snap->xmin && c->xmax == snap->xmax && c->xcnt == snap->xcnt))
	{
		/* a new snapshot: usually nobody is retired, and one scan says so */
		c->valid = false;
		c->empty = registry_empty_now();
		c->lxid = MyProc->lxid;
		c->cid = snap->curcid;
		c->xmin = snap->xmin;
		c->xmax = snap->xmax;
		c->xcnt = snap->xcnt;
		c->len = 0;
		c->valid = true;
	}
	if (c->empty)
		return false;
	if (c->len != len || memcmp(c->id, id, len) != 0)
	{
		c->len = 0;
		c->retired = replica_is_retired(id, len, snap);
		c->len = len;
		memcpy(c->id, id, len);
	}
	return c->retired;
}

void
crdt_refuse_retired(FunctionCallInfo fcinfo, CrdtReplica replica)
{
	if (ActiveSnapshotSet() && replica_is_retired_cached(replica.id, replica.len))
	{
		char		shown[96];

		crdt_describe_bytes(shown, sizeof(shown), replica.id, replica.len);
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("replica %s is retired: %s cannot write for it",
						crdt_from_utf8(shown, strlen(shown)),
						get_func_name(fcinfo->flinfo->fn_oid)),
				 errdetail("crdt_reconcile.retired_replicas lists it.")));
	}
}

CrdtReplica
crdt_resolve_writer(FunctionCallInfo fcinfo, int argno)
{
	CrdtReplica replica = crdt_resolve_replica(fcinfo, argno);

	crdt_refuse_retired(fcinfo, replica);
	return replica;
}
