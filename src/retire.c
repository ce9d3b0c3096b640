/*
 * retire.c — replica retirement in SQL (docs/RETIREMENT.md): crdt_retire
 * for the five types with replica metadata, the readers' and mutators'
 * view of values carrying retirement markers, and the refusal of writes
 * by replicas that crdt_reconcile.retired_replicas lists.
 */
#include "crdt_reconcile.h"

#include "access/genam.h"
#include "access/relation.h"
#include "access/table.h"
#include "catalog/namespace.h"
#include "catalog/pg_namespace.h"
#include "catalog/pg_type.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "storage/proc.h"

const CrdtRetireShape *
crdt_retire_shape_named(const char *name)
{
	static const CrdtRetireShape *const shapes[] = {
		&crdt_shape_vclock, &crdt_shape_gcounter, &crdt_shape_pncounter,
		&crdt_shape_orset, &crdt_shape_mvreg
	};

	for (size_t i = 0; i < lengthof(shapes); i++)
		if (strcmp(shapes[i]->plain->name, name) == 0)
			return shapes[i];
	return NULL;
}

CrdtSlice
crdt_readable(CrdtSlice value, const CrdtRetireShape *shape)
{
	CrdtBuf		buf;
	CrdtError	err;

	if (shape == NULL || !crdt_value_marked(value))
		return value;
	crdt_buf_init(&buf, &crdt_palloc_allocator, 0);
	if (crdt_retire_unfold(shape, value, &buf, &err) != CRDT_OK)
		crdt_report(&err, shape->plain->name, NULL, 0);
	return (CrdtSlice) {buf.data, buf.len};
}

CrdtSlice
crdt_writable(CrdtSlice state, const CrdtRetireShape *shape, const uint8_t *replica,
			  size_t len, CrdtSlice *markers)
{
	CrdtSlice	body;
	CrdtError	err;

	if (crdt_retire_writable(shape, state, replica, len, markers, &body, &err) != CRDT_OK)
		crdt_report(&err, shape->plain->name, NULL, 0);
	return body;
}

Datum
crdt_rejoined_datum(CrdtSlice markers, CrdtBuf *buf)
{
	CrdtBuf		out;
	CrdtError	err;

	if (markers.len == 0)
		return crdt_varlena_datum(buf);
	crdt_varlena_buf(&out);
	if (crdt_retire_rejoin(markers, (CrdtSlice) {buf->data + VARHDRSZ, buf->len - VARHDRSZ},
						   &out, &err) != CRDT_OK)
		crdt_report(&err, "value", NULL, 0);
	return crdt_varlena_datum(&out);
}

/*
 * Whether crdt_reconcile.retired_replicas has a row for replica (len 0:
 * any row at all): read
 * through its primary key index, by OID, so that it works with any
 * search_path (apply workers have none) and for callers who cannot read
 * the table (the check only refuses).  No table (an old install being
 * upgraded): nobody is retired.
 */
static bool
replica_is_retired(const uint8_t *id, size_t len)
{
	Oid			schema = get_namespace_oid("crdt_reconcile", true);
	Oid			relid;
	Relation	rel;
	Relation	index;
	SysScanDesc scan;
	ScanKeyData key;
	bool		found;

	if (!OidIsValid(schema) ||
		!OidIsValid(relid = get_relname_relid("retired_replicas", schema)))
		return false;
	rel = table_open(relid, AccessShareLock);
	index = index_open(get_relname_relid("retired_replicas_pkey", schema), AccessShareLock);
	if (len > 0)
		ScanKeyEntryInitialize(&key, 0, 1, BTEqualStrategyNumber, InvalidOid,
							   index->rd_indcollation[0], F_TEXTEQ,
							   PointerGetDatum(cstring_to_text(crdt_from_utf8((const char *) id, len))));
	scan = systable_beginscan_ordered(rel, index, GetActiveSnapshot(), len > 0 ? 1 : 0, &key);
	found = HeapTupleIsValid(systable_getnext_ordered(scan, ForwardScanDirection));
	systable_endscan_ordered(scan);
	index_close(index, AccessShareLock);
	table_close(rel, AccessShareLock);
	return found;
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

	if (!(c->valid && c->lxid == MyProc->lxid && c->cid == snap->curcid &&
		  c->xmin == snap->xmin && c->xmax == snap->xmax && c->xcnt == snap->xcnt))
	{
		/* a new snapshot: usually nobody is retired, and one scan says so */
		c->valid = false;
		c->empty = !replica_is_retired(NULL, 0);
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
		c->retired = replica_is_retired(id, len);
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

/* crdt_retire(value, retired text, successor text) */
static Datum
retire_datum(FunctionCallInfo fcinfo, const CrdtRetireShape *shape)
{
	text	   *retired = PG_GETARG_TEXT_PP(1);
	text	   *successor = PG_GETARG_TEXT_PP(2);
	size_t		rlen;
	size_t		slen;
	const char *r = crdt_to_utf8(VARDATA_ANY(retired), VARSIZE_ANY_EXHDR(retired), &rlen);
	const char *s = crdt_to_utf8(VARDATA_ANY(successor), VARSIZE_ANY_EXHDR(successor), &slen);
	CrdtBuf		buf;
	CrdtError	err;

	crdt_varlena_buf(&buf);
	if (crdt_retire(shape, CRDT_GETARG_SLICE(0), (const uint8_t *) r, rlen,
					(const uint8_t *) s, slen, &buf, &err) != CRDT_OK)
		crdt_report(&err, shape->plain->name, NULL, 0);
	PG_RETURN_DATUM(crdt_varlena_datum(&buf));
}

/* The retired ids a value carries markers for, in byte order. */
static Datum
retired_ids_datum(FunctionCallInfo fcinfo, const CrdtRetireShape *shape)
{
	CrdtSlice	markers;
	CrdtSlice	body;
	CrdtMarkerReader r;
	CrdtMarker	m;
	CrdtError	err;
	ArrayBuildState *astate = initArrayResult(TEXTOID, CurrentMemoryContext, false);
	int			rc = 0;

	if (crdt_retire_split(shape, CRDT_GETARG_SLICE(0), &markers, &body, &err) != CRDT_OK)
		crdt_report(&err, shape->plain->name, NULL, 0);
	crdt_marker_reader_init(&r, shape, markers);
	while (markers.len > 0 && (rc = crdt_marker_reader_next(&r, &m, &err)) > 0)
		accumArrayResult(astate,
						 PointerGetDatum(cstring_to_text(crdt_from_utf8((const char *) m.retired,
																		m.retired_len))),
						 false, TEXTOID, CurrentMemoryContext);
	if (rc < 0)
		crdt_report(&err, shape->plain->name, NULL, 0);
	PG_RETURN_DATUM(makeArrayResult(astate, CurrentMemoryContext));
}

#define CRDT_RETIRE_FUNCTIONS(type) \
	CRDT_SQL_FUNCTION(type##_retire, retire_datum(fcinfo, &crdt_shape_##type)) \
	CRDT_SQL_FUNCTION(type##_retired_ids, retired_ids_datum(fcinfo, &crdt_shape_##type))

CRDT_RETIRE_FUNCTIONS(vclock)
CRDT_RETIRE_FUNCTIONS(gcounter)
CRDT_RETIRE_FUNCTIONS(pncounter)
CRDT_RETIRE_FUNCTIONS(orset)
CRDT_RETIRE_FUNCTIONS(mvreg)
