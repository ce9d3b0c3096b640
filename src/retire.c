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

/* A marked value unfolded, in a new palloc'd buffer (crdt_readable's slow path). */
CrdtSlice
crdt_unfold_markers(CrdtSlice value, const CrdtRetireShape *shape)
{
	CrdtBuf		buf;
	CrdtError	err;

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
