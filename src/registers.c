/*
 * registers.c — lwwreg and mvreg, and the canonical form of JSON values.
 *
 * A register value is kept as jsonb's own text for it (converted to
 * UTF-8), so equal jsonb values have equal bytes on every node and the
 * core can order and compare them as bytes.
 */
#include "crdt_reconcile.h"

#include "catalog/pg_type.h"
#include "mb/pg_wchar.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/fmgrprotos.h"
#include "utils/jsonb.h"
#include "utils/timestamp.h"

CRDT_TYPE_FUNCTIONS(lwwreg)
CRDT_TYPE_FUNCTIONS(mvreg)

/* jsonb's text of a jsonb value, in UTF-8. */
static CrdtSlice
jsonb_canonical_text(Jsonb *jb)
{
	char	   *text = JsonbToCString(NULL, &jb->root, VARSIZE(jb));
	size_t		len;
	CrdtSlice	s;

	s.data = (const uint8_t *) crdt_to_utf8(text, strlen(text), &len);
	s.len = len;
	return s;
}

/*
 * The host side of crdt_json_canonical: parse with jsonb, print with
 * jsonb.  Input that jsonb refuses (invalid JSON, \u0000, numbers out of
 * range) raises jsonb's own error.
 */
CrdtStatus
crdt_jsonb_canonicalizer(const char *json, size_t len, CrdtBuf *out, CrdtError *err)
{
	/*
	 * Called once per value while a whole mvreg is parsed: what jsonb
	 * allocates (a few kB per value) is freed here, not with the statement,
	 * so a state of a million values does not take gigabytes to read.
	 */
	MemoryContext scratch = AllocSetContextCreate(CurrentMemoryContext, "crdt_reconcile JSON value",
												  ALLOCSET_SMALL_SIZES);
	MemoryContext caller = MemoryContextSwitchTo(scratch);
	char	   *server = crdt_from_utf8(json, len);
	Jsonb	   *jb = DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum(server)));
	CrdtSlice	canonical = jsonb_canonical_text(jb);

	MemoryContextSwitchTo(caller);
	crdt_buf_put(out, canonical.data, canonical.len);
	MemoryContextDelete(scratch);
	return out->failed ? crdt_fail(err, CRDT_ERR_NOMEM, -1, "out of memory") : CRDT_OK;
}

CrdtSlice
crdt_jsonb_text(struct varlena *jsonb)
{
	return jsonb_canonical_text((Jsonb *) jsonb);
}

/* A canonical value (UTF-8 text) as jsonb. */
static Datum
value_to_jsonb(const uint8_t *value, size_t len)
{
	return DirectFunctionCall1(jsonb_in, CStringGetDatum(crdt_from_utf8((const char *) value, len)));
}

static CrdtSlice
value_argument(FunctionCallInfo fcinfo, int argno)
{
	if (PG_ARGISNULL(argno))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("a register value must not be NULL"),
				 errhint("Write the JSON null as 'null'::jsonb.")));
	return jsonb_canonical_text(PG_GETARG_JSONB_P(argno));
}

static CrdtLww
read_lww(CrdtSlice value)
{
	CrdtLww		lww;
	CrdtError	err;

	if (crdt_lww_read(value, &lww, &err) != CRDT_OK)
		crdt_report(&err, "lwwreg", NULL, 0);
	return lww;
}

static Datum
lww_write(FunctionCallInfo fcinfo, CrdtSlice state, TimestampTz at, int replica_argno)
{
	CrdtSlice	value = value_argument(fcinfo, 1);
	CrdtReplica replica = crdt_resolve_writer(fcinfo, replica_argno);
	CrdtBuf		buf;
	CrdtError	err;

	crdt_varlena_buf(&buf);
	if (crdt_lww_set(state, at, replica.id, replica.len, value.data, value.len, &buf, &err) != CRDT_OK)
		crdt_report(&err, "lwwreg", NULL, 0);
	PG_RETURN_DATUM(crdt_varlena_datum(&buf));
}

/*
 * crdt_set(lwwreg, value [, replica]): stamped max(now, current + 1 µs),
 * so a write always beats what its writer has seen, even if its clock is
 * behind.
 */
PG_FUNCTION_INFO_V1(lwwreg_set);
Datum
lwwreg_set(PG_FUNCTION_ARGS)
{
	CrdtSlice	state = crdt_state_or_empty(fcinfo, &crdt_type_lwwreg);
	CrdtLww		current = read_lww(state);
	TimestampTz at = GetCurrentTimestamp();

	if (!current.empty && current.at >= at)
	{
		if (current.at >= CRDT_LWW_MAX_AT)
			ereport(ERROR,
					(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
					 errmsg("the register's timestamp is at the end of the range")));
		at = current.at + 1;
	}
	return lww_write(fcinfo, state, at, 2);
}

/* crdt_set(lwwreg, value, at, [replica]): the write wins only if it is greater. */
PG_FUNCTION_INFO_V1(lwwreg_set_at);
Datum
lwwreg_set_at(PG_FUNCTION_ARGS)
{
	CrdtSlice	state = crdt_state_or_empty(fcinfo, &crdt_type_lwwreg);
	TimestampTz at;

	if (PG_ARGISNULL(2))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("the write time must not be NULL")));
	at = PG_GETARG_TIMESTAMPTZ(2);
	if (TIMESTAMP_NOT_FINITE(at) || at < CRDT_LWW_MIN_AT || at > CRDT_LWW_MAX_AT)
		ereport(ERROR,
				(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
				 errmsg("a register timestamp must be finite and lie in the years 1 to 9999")));
	return lww_write(fcinfo, state, at, 3);
}

typedef enum LwwPart
{
	LWW_VALUE,
	LWW_TIMESTAMP,
	LWW_WRITER
} LwwPart;

/* A part of the register argument; NULL for the empty register. */
static Datum
lww_part(FunctionCallInfo fcinfo, LwwPart part)
{
	CrdtLww		lww = read_lww(CRDT_GETARG_SLICE(0));

	if (lww.empty)
		PG_RETURN_NULL();
	switch (part)
	{
		case LWW_VALUE:
			return value_to_jsonb(lww.value, lww.value_len);
		case LWW_TIMESTAMP:
			return TimestampTzGetDatum(lww.at);
		case LWW_WRITER:
			break;
	}
	return PointerGetDatum(cstring_to_text(crdt_from_utf8((const char *) lww.replica,
														  lww.replica_len)));
}

CRDT_SQL_FUNCTION(lwwreg_value, lww_part(fcinfo, LWW_VALUE))
CRDT_SQL_FUNCTION(lwwreg_timestamp, lww_part(fcinfo, LWW_TIMESTAMP))
CRDT_SQL_FUNCTION(lwwreg_writer, lww_part(fcinfo, LWW_WRITER))

PG_FUNCTION_INFO_V1(mvreg_set);
Datum
mvreg_set(PG_FUNCTION_ARGS)
{
	CrdtSlice	state = crdt_state_or_empty(fcinfo, &crdt_type_mvreg);
	CrdtSlice	value = value_argument(fcinfo, 1);
	CrdtReplica replica = crdt_resolve_writer(fcinfo, 2);
	CrdtSlice	markers;
	CrdtBuf		buf;
	CrdtError	err;

	state = crdt_writable(state, &crdt_shape_mvreg, replica.id, replica.len, &markers);
	crdt_varlena_buf(&buf);
	if (crdt_mvreg_set(state, value.data, value.len, replica.id, replica.len, &buf, &err) != CRDT_OK)
		crdt_report(&err, "mvreg", NULL, 0);
	PG_RETURN_DATUM(crdt_rejoined_datum(markers, &buf));
}

/* The surviving values, in canonical (byte) order; how many there are. */
static int
mvreg_values(CrdtSlice value, ArrayBuildState *astate)
{
	CrdtDottedKeys *it = palloc(sizeof(CrdtDottedKeys));
	CrdtError	err;
	const uint8_t *key;
	size_t		len;
	int			rc;
	int			n = 0;

	value = crdt_readable(value, &crdt_shape_mvreg);
	if (crdt_dotted_keys_init(it, CRDT_MVREG, value, &err) != CRDT_OK)
		crdt_report(&err, "mvreg", NULL, 0);
	while ((rc = crdt_dotted_keys_next(it, &key, &len, &err)) > 0)
	{
		if (astate != NULL)
			accumArrayResult(astate, value_to_jsonb(key, len), false, JSONBOID, CurrentMemoryContext);
		n++;
	}
	if (rc < 0)
		crdt_report(&err, "mvreg", NULL, 0);
	return n;
}

PG_FUNCTION_INFO_V1(mvreg_value);
Datum
mvreg_value(PG_FUNCTION_ARGS)
{
	ArrayBuildState *astate = initArrayResult(JSONBOID, CurrentMemoryContext, false);

	mvreg_values(CRDT_GETARG_SLICE(0), astate);
	PG_RETURN_DATUM(makeArrayResult(astate, CurrentMemoryContext));
}

PG_FUNCTION_INFO_V1(mvreg_is_conflicted);
Datum
mvreg_is_conflicted(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(mvreg_values(CRDT_GETARG_SLICE(0), NULL) > 1);
}
