/*
 * compact.c — dropping retirement markers (docs/RETIREMENT.md, "Dropping
 * the markers"): crdt_compact for the counters and clocks, and the lift
 * of arriving values through the compaction groups the registry lists,
 * which the tracked-table trigger applies to every written value.
 *
 * The groups are read from crdt_reconcile.retired_replicas (the rows whose
 * compacted_into is set) into a cache kept until the registry changes: a
 * row trigger on the registry sends a relcache invalidation for it (to
 * every backend, at commit; to this one, at the next command), and the
 * callback below drops the cache.
 */
#include "crdt_reconcile.h"
#include "tracked.h"

#include "access/table.h"
#include "access/tableam.h"
#include "commands/trigger.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"

/* The replica ids of a text[] argument. */
static CrdtSlice *
ids_argument(ArrayType *arr, int *n)
{
	Datum	   *elems;
	bool	   *nulls;
	CrdtSlice  *ids;

	deconstruct_array(arr, TEXTOID, -1, false, TYPALIGN_INT, &elems, &nulls, n);
	ids = palloc(sizeof(CrdtSlice) * (*n + 1));
	for (int i = 0; i < *n; i++)
	{
		size_t		len;

		if (nulls[i])
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("crdt_compact: a replica id is NULL")));
		ids[i].data = (const uint8_t *) crdt_to_utf8(VARDATA_ANY(DatumGetTextPP(elems[i])),
													 VARSIZE_ANY_EXHDR(DatumGetTextPP(elems[i])), &len);
		ids[i].len = len;
	}
	return ids;
}

/*
 * crdt_compact(value, replicas text[], into text); with status, the
 * crdt_compact_status answer instead: 'unchanged', 'ready' or 'waiting'
 * (an orset or mvreg whose members' contexts are not final: see
 * crdt_dotted_compact).
 */
static Datum
compact_datum(FunctionCallInfo fcinfo, const CrdtRetireShape *shape, bool status)
{
	int			n;
	CrdtSlice  *ids = ids_argument(PG_GETARG_ARRAYTYPE_P(1), &n);
	text	   *into = PG_GETARG_TEXT_PP(2);
	size_t		glen;
	const char *g = crdt_to_utf8(VARDATA_ANY(into), VARSIZE_ANY_EXHDR(into), &glen);
	CrdtBuf		buf;
	CrdtError	err;
	CrdtCompaction res;

	crdt_varlena_buf(&buf);
	if (crdt_retire_compact(shape, CRDT_GETARG_SLICE(0), (const uint8_t *) g, glen, ids, (size_t) n, &buf,
							&res, &err) != CRDT_OK)
		crdt_report(&err, shape->plain->name, NULL, 0);
	if (status)
		PG_RETURN_TEXT_P(cstring_to_text(!res.ready ? "waiting" : res.changed ? "ready" : "unchanged"));
	if (!res.ready)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("%s value not ready for compaction into %s", shape->plain->name, g),
				 errdetail("The contexts of its retired replicas are not final (not contiguous from 1), "
						   "or it holds both the group and a member."),
				 errhint("Lift both copies through the group before merging them.")));
	PG_RETURN_DATUM(crdt_varlena_datum(&buf));
}

#define COMPACT_FUNCTIONS(type) \
CRDT_SQL_FUNCTION(type##_compact, compact_datum(fcinfo, &crdt_shape_##type, false)) \
CRDT_SQL_FUNCTION(type##_compact_status, compact_datum(fcinfo, &crdt_shape_##type, true))
COMPACT_FUNCTIONS(vclock)
COMPACT_FUNCTIONS(gcounter)
COMPACT_FUNCTIONS(pncounter)
COMPACT_FUNCTIONS(orset)
COMPACT_FUNCTIONS(mvreg)

/* ------------------------------------------------------ the registry's groups */

typedef struct CompactGroup
{
	char	   *name;
	size_t		name_len;
	int			n;
	int			cap;
	CrdtSlice  *ids;
} CompactGroup;

static MemoryContext groups_cxt = NULL;
static CompactGroup *groups = NULL;
static int	ngroups = 0;
static CrdtSlice *all_ids = NULL;	/* every grouped id, sorted by bytes */
static size_t nall_ids = 0;
static bool groups_valid = false;
static Oid	registry_relid = InvalidOid;
static bool callback_registered = false;

static void
groups_invalidate(Datum arg, Oid relid)
{
	if (relid == InvalidOid || relid == registry_relid)
		groups_valid = false;
}

static CompactGroup *
group_named(const char *name, size_t len, int *allocated)
{
	for (int g = 0; g < ngroups; g++)
		if (groups[g].name_len == len && memcmp(groups[g].name, name, len) == 0)
			return &groups[g];
	if (ngroups == *allocated)
	{
		*allocated = *allocated * 2 + 4;
		groups = groups == NULL ? MemoryContextAlloc(groups_cxt, sizeof(CompactGroup) * *allocated)
			: repalloc(groups, sizeof(CompactGroup) * *allocated);
	}
	groups[ngroups].name = MemoryContextAlloc(groups_cxt, len + 1);
	memcpy(groups[ngroups].name, name, len);
	groups[ngroups].name[len] = '\0';
	groups[ngroups].name_len = len;
	groups[ngroups].n = 0;
	groups[ngroups].cap = 0;
	groups[ngroups].ids = NULL;
	return &groups[ngroups++];
}

static int
group_cmp(const void *a, const void *b)
{
	const CompactGroup *x = a;
	const CompactGroup *y = b;

	/* "~2" after "~10" by bytes: by length first, so groups apply in the order they were made */
	if (x->name_len != y->name_len)
		return x->name_len < y->name_len ? -1 : 1;
	return memcmp(x->name, y->name, x->name_len);
}

/*
 * Reads the groups: every registry row with compacted_into set is an id of
 * that group.  No registry (an install being upgraded): no groups.
 */
static void
groups_load(void)
{
	Relation	rel;
	TableScanDesc scan;
	TupleTableSlot *slot;
	AttrNumber	replica_att;
	AttrNumber	into_att;
	int			allocated = 0;

	if (groups_cxt == NULL)
		groups_cxt = AllocSetContextCreate(TopMemoryContext, "crdt_reconcile compaction groups",
										   ALLOCSET_SMALL_SIZES);
	MemoryContextReset(groups_cxt);
	groups = NULL;
	ngroups = 0;
	all_ids = NULL;
	nall_ids = 0;
	registry_relid = crdt_retired_registry();
	if (!callback_registered)
	{
		CacheRegisterRelcacheCallback(groups_invalidate, (Datum) 0);
		callback_registered = true;
	}
	groups_valid = true;
	if (!OidIsValid(registry_relid) ||
		(into_att = get_attnum(registry_relid, "compacted_into")) == InvalidAttrNumber)
		return;
	replica_att = get_attnum(registry_relid, "replica");
	rel = table_open(registry_relid, AccessShareLock);
	scan = table_beginscan(rel, GetActiveSnapshot(), 0, NULL);
	slot = table_slot_create(rel, NULL);
	while (table_scan_getnextslot(scan, ForwardScanDirection, slot))
	{
		bool		null_into;
		bool		null_replica;
		Datum		into = slot_getattr(slot, into_att, &null_into);
		Datum		replica = slot_getattr(slot, replica_att, &null_replica);
		text	   *t;
		text	   *r;
		CompactGroup	   *g;

		if (null_into || null_replica)
			continue;
		t = DatumGetTextPP(into);
		r = DatumGetTextPP(replica);
		g = group_named(VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t), &allocated);
		if (g->n == g->cap)
		{
			g->cap = g->cap * 2 + 8;
			g->ids = g->ids == NULL ? MemoryContextAlloc(groups_cxt, sizeof(CrdtSlice) * g->cap)
				: repalloc(g->ids, sizeof(CrdtSlice) * g->cap);
		}
		g->ids[g->n].len = VARSIZE_ANY_EXHDR(r);
		g->ids[g->n].data = MemoryContextAlloc(groups_cxt, g->ids[g->n].len + 1);
		memcpy((uint8_t *) g->ids[g->n].data, VARDATA_ANY(r), g->ids[g->n].len);
		g->n++;
	}
	ExecDropSingleTupleTableSlot(slot);
	table_endscan(scan);
	table_close(rel, AccessShareLock);
	qsort(groups, ngroups, sizeof(CompactGroup), group_cmp);
	for (int g = 0; g < ngroups; g++)
		nall_ids += groups[g].n;
	all_ids = MemoryContextAlloc(groups_cxt, sizeof(CrdtSlice) * (nall_ids + 1));
	nall_ids = 0;
	for (int g = 0; g < ngroups; g++)
		for (int k = 0; k < groups[g].n; k++)
			all_ids[nall_ids++] = groups[g].ids[k];
	qsort(all_ids, nall_ids, sizeof(CrdtSlice), crdt_slice_cmp);
}

/* The registry's groups loaded; false when there are none (or no snapshot to read them). */
static bool
groups_known(void)
{
	if (!groups_valid)
	{
		if (!ActiveSnapshotSet())
			return false;
		groups_load();
	}
	return ngroups > 0;
}

static bool
names_grouped(const CrdtType *type, const CrdtRetireShape *shape, CrdtSlice v)
{
	CrdtError	err;
	bool		named;

	if (crdt_retire_names_any(shape, v, all_ids, nall_ids, &named, &err) != CRDT_OK)
		crdt_report(&err, type->name, NULL, 0);
	return named;
}

static const CrdtRetireShape *
liftable_shape(const CrdtType *type)
{
	if (type != &crdt_type_vclock && type != &crdt_type_gcounter && type != &crdt_type_pncounter &&
		type != &crdt_type_orset && type != &crdt_type_mvreg)
		return NULL;
	return crdt_retire_shape_named(type->name);
}

/* value compacted into group g (res: how), a new datum when it changed. */
static Datum
lift_group(const CrdtType *type, const CrdtRetireShape *shape, Datum value, int g, CrdtCompaction *res)
{
	CrdtBuf		buf;
	CrdtError	err;

	crdt_varlena_buf(&buf);
	if (crdt_retire_compact(shape, slice_of_datum(value), (const uint8_t *) groups[g].name,
							groups[g].name_len, groups[g].ids, (size_t) groups[g].n, &buf, res,
							&err) != CRDT_OK)
		crdt_report(&err, type->name, NULL, 0);
	return res->changed ? crdt_varlena_datum(&buf) : value;
}

/*
 * value lifted through every group of the registry, in the order they were
 * made: true when it named a compacted id (and *value is new).  Counters,
 * clocks, orset and mvreg (a dotted value not ready for a group is left as
 * it is for that group); anything else, or no group, is left as it is.
 */
bool
crdt_lift_compacted(const CrdtType *type, Datum *value)
{
	const CrdtRetireShape *shape = liftable_shape(type);
	bool		any = false;

	/* the common case: a value that names none of them is left as it is */
	if (shape == NULL || !groups_known() || !names_grouped(type, shape, slice_of_datum(*value)))
		return false;
	for (int g = 0; g < ngroups; g++)
	{
		CrdtCompaction res;

		*value = lift_group(type, shape, *value, g, &res);
		any = any || res.changed;
	}
	return any;
}

/*
 * An arriving orset or mvreg value lifted, checked against the stored one
 * (lifted already): renaming is exact only with the members' final
 * counters, and a copy from before them has a smaller total for the
 * group than the stored value (contexts only grow).  REFUSED (and *value
 * unchanged) then, or when it is not ready.  Other types: crdt_lift_compacted.
 */
CrdtLift
crdt_lift_arriving(const CrdtType *type, Datum *value, Datum stored)
{
	const CrdtRetireShape *shape = liftable_shape(type);
	Datum		lifted = *value;
	bool		any = false;

	if (shape == NULL || shape->amounts > 0)
		return crdt_lift_compacted(type, value) ? CRDT_LIFT_CHANGED : CRDT_LIFT_NONE;
	if (!groups_known() || !names_grouped(type, shape, slice_of_datum(*value)))
		return CRDT_LIFT_NONE;
	for (int g = 0; g < ngroups; g++)
	{
		CrdtCompaction res;
		CrdtCompaction have;

		lifted = lift_group(type, shape, lifted, g, &res);
		if (res.named || !res.ready)
		{
			(void) lift_group(type, shape, stored, g, &have);
			if (!res.ready || !have.ready || have.changed || res.total != have.total)
				return CRDT_LIFT_REFUSED;
		}
		any = any || res.changed;
	}
	*value = lifted;
	return any ? CRDT_LIFT_CHANGED : CRDT_LIFT_NONE;
}

/* AFTER row trigger on the registry: every backend drops its groups at commit. */
PG_FUNCTION_INFO_V1(crdt_registry_changed);
Datum
crdt_registry_changed(PG_FUNCTION_ARGS)
{
	TriggerData *td = (TriggerData *) fcinfo->context;

	if (!CALLED_AS_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("crdt_reconcile.registry_changed must be called as a trigger")));
	CacheInvalidateRelcacheByRelid(RelationGetRelid(td->tg_relation));
	return PointerGetDatum(NULL);
}
