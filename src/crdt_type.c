/*
 * crdt_type.c — the SQL machinery every CRDT type shares: text and binary
 * I/O, jsonb casts, merge, delta, equality and hashing.  Each type file
 * instantiates the wrappers with CRDT_TYPE_FUNCTIONS(type).
 */
#include "crdt_reconcile.h"

#include "common/hashfn.h"
#include "libpq/pqformat.h"
#include "mb/pg_wchar.h"
#include "utils/builtins.h"
#include "utils/fmgrprotos.h"
#include "utils/jsonb.h"

/* Parses text in the server encoding as the type's text input does. */
static Datum
parse_server_text(const CrdtType *type, const char *str)
{
	size_t		len;
	const char *utf8 = crdt_to_utf8(str, strlen(str), &len);
	CrdtBuf		buf;
	CrdtError	err;

	crdt_varlena_buf(&buf);
	if (type->parse(utf8, len, &buf, &err) != CRDT_OK)
		crdt_report(&err, type->name, utf8, len);
	return crdt_varlena_datum(&buf);
}

Datum
crdt_type_in(FunctionCallInfo fcinfo, const CrdtType *type)
{
	PG_RETURN_DATUM(parse_server_text(type, PG_GETARG_CSTRING(0)));
}

/*
 * The canonical text of value, in the server encoding: UTF-8 as it is in a
 * UTF8 (or SQL_ASCII) database, with non-ASCII characters as \u escapes in
 * any other, so that every value can be printed there.
 */
static char *
print_value(const CrdtType *type, CrdtSlice value)
{
	CrdtBuf		buf;
	CrdtError	err;

	crdt_buf_init(&buf, &crdt_palloc_allocator, 0);
	if (type->print(value, &buf, &err) != CRDT_OK)
		crdt_report(&err, type->name, NULL, 0);
	if (GetDatabaseEncoding() != PG_UTF8 && GetDatabaseEncoding() != PG_SQL_ASCII)
	{
		/* the database encoding may not hold every id: print pure ASCII */
		CrdtBuf		ascii;

		crdt_buf_init(&ascii, &crdt_palloc_allocator, 0);
		crdt_json_escape_non_ascii((const char *) buf.data, buf.len, &ascii);
		buf = ascii;
	}
	crdt_buf_put_byte(&buf, '\0');
	return (char *) buf.data;
}

Datum
crdt_type_out(FunctionCallInfo fcinfo, const CrdtType *type)
{
	PG_RETURN_CSTRING(print_value(type, CRDT_GETARG_SLICE(0)));
}

/* Binary input is the stored form itself, validated in full. */
Datum
crdt_type_recv(FunctionCallInfo fcinfo, const CrdtType *type)
{
	StringInfo	msg = (StringInfo) PG_GETARG_POINTER(0);
	CrdtSlice	value;
	CrdtBuf		buf;
	CrdtError	err;

	value.data = (const uint8_t *) msg->data + msg->cursor;
	value.len = (size_t) (msg->len - msg->cursor);
	if (type->validate(value, &err) != CRDT_OK)
		crdt_report(&err, type->name, NULL, 0);
	crdt_varlena_buf(&buf);
	crdt_buf_put(&buf, value.data, value.len);
	msg->cursor = msg->len;
	PG_RETURN_DATUM(crdt_varlena_datum(&buf));
}

Datum
crdt_type_send(FunctionCallInfo fcinfo, const CrdtType *type)
{
	CrdtSlice	value = CRDT_GETARG_SLICE(0);
	bytea	   *result = palloc(VARHDRSZ + value.len);

	(void) type;
	SET_VARSIZE(result, VARHDRSZ + value.len);
	memcpy(VARDATA(result), value.data, value.len);
	PG_RETURN_BYTEA_P(result);
}

/* The result of op (merge or delta) on the two arguments, neither NULL. */
static Datum
binary_result(FunctionCallInfo fcinfo, const CrdtType *type,
			  CrdtStatus (*op) (CrdtSlice a, CrdtSlice b, CrdtBuf *out, CrdtError *err))
{
	CrdtBuf		buf;
	CrdtError	err;

	crdt_varlena_buf(&buf);
	if (op(CRDT_GETARG_SLICE(0), CRDT_GETARG_SLICE(1), &buf, &err) != CRDT_OK)
		crdt_report(&err, type->name, NULL, 0);
	PG_RETURN_DATUM(crdt_varlena_datum(&buf));
}

/* NULL is the identity of merge, as NULL inputs are for the aggregate. */
Datum
crdt_type_merge(FunctionCallInfo fcinfo, const CrdtType *type)
{
	if (PG_ARGISNULL(0) && PG_ARGISNULL(1))
		PG_RETURN_NULL();
	if (PG_ARGISNULL(0))
		PG_RETURN_DATUM(PG_GETARG_DATUM(1));
	if (PG_ARGISNULL(1))
		PG_RETURN_DATUM(PG_GETARG_DATUM(0));
	return binary_result(fcinfo, type, type->merge);
}

/* A NULL "since" is a receiver that knows nothing: the delta is all of newer. */
Datum
crdt_type_delta(FunctionCallInfo fcinfo, const CrdtType *type)
{
	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	if (PG_ARGISNULL(1))
		PG_RETURN_DATUM(PG_GETARG_DATUM(0));
	return binary_result(fcinfo, type, type->delta);
}

CrdtSlice
crdt_state_or_empty(FunctionCallInfo fcinfo, const CrdtType *type)
{
	CrdtBuf		buf;

	if (!PG_ARGISNULL(0))
		return CRDT_GETARG_SLICE(0);
	crdt_buf_init(&buf, &crdt_palloc_allocator, 0);
	type->write_empty(&buf);
	return (CrdtSlice) {buf.data, buf.len};
}

Datum
crdt_type_to_jsonb(FunctionCallInfo fcinfo, const CrdtType *type)
{
	char	   *text = print_value(type, CRDT_GETARG_SLICE(0));
	Datum		direct = crdt_jsonb_of_printed(text, strlen(text));

	if (direct != (Datum) 0)
		PG_RETURN_DATUM(direct);
	PG_RETURN_DATUM(DirectFunctionCall1(jsonb_in, CStringGetDatum(text)));
}

JsonbValue
crdt_jsonb_as_value(Jsonb *j)
{
	JsonbValue	v;

	if (JB_ROOT_IS_SCALAR(j))
		(void) JsonbExtractScalar(&j->root, &v);
	else
	{
		v.type = jbvBinary;
		v.val.binary.data = &j->root;
		v.val.binary.len = VARSIZE(j) - VARHDRSZ;
	}
	return v;
}

void
crdt_type_push_jsonb(JsonbParseState **st, const CrdtType *type, Datum value)
{
	char	   *text = print_value(type, crdt_slice_of(PG_DETOAST_DATUM_PACKED(value)));
	JsonbValue	v;

	if (crdt_push_printed(st, text, strlen(text)))
		return;
	v = crdt_jsonb_as_value(DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum(text))));
	(void) pushJsonbValue(st, WJB_VALUE, &v);
}

/*
 * jsonb has already folded duplicate keys (the last one wins, as in any
 * jsonb); everything else is checked exactly as text input is.
 */
Datum
crdt_type_from_jsonb(FunctionCallInfo fcinfo, const CrdtType *type)
{
	Jsonb	   *jb = PG_GETARG_JSONB_P(0);

	PG_RETURN_DATUM(parse_server_text(type, JsonbToCString(NULL, &jb->root, VARSIZE(jb))));
}

/*
 * A cast to json lets to_jsonb(), row_to_json() and jsonb_build_object()
 * embed the value as a JSON object rather than as a string.
 */
Datum
crdt_type_to_json(FunctionCallInfo fcinfo, const CrdtType *type)
{
	PG_RETURN_TEXT_P(cstring_to_text(print_value(type, CRDT_GETARG_SLICE(0))));
}

Datum
crdt_type_from_json(FunctionCallInfo fcinfo, const CrdtType *type)
{
	PG_RETURN_DATUM(parse_server_text(type, text_to_cstring(PG_GETARG_TEXT_PP(0))));
}

/*
 * Byte-level functions.  One state has one byte form, so these serve every
 * type; each type's SQL functions point at these symbols.
 */
static bool
equal_args(FunctionCallInfo fcinfo)
{
	struct varlena *a = PG_GETARG_VARLENA_PP(0);
	struct varlena *b = PG_GETARG_VARLENA_PP(1);
	CrdtSlice	sa = crdt_slice_of(a);
	CrdtSlice	sb = crdt_slice_of(b);
	bool		equal = sa.len == sb.len && memcmp(sa.data, sb.data, sa.len) == 0;

	PG_FREE_IF_COPY(a, 0);
	PG_FREE_IF_COPY(b, 1);
	return equal;
}

PG_FUNCTION_INFO_V1(crdt_bytes_eq);
Datum
crdt_bytes_eq(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(equal_args(fcinfo));
}

PG_FUNCTION_INFO_V1(crdt_bytes_ne);
Datum
crdt_bytes_ne(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(!equal_args(fcinfo));
}

PG_FUNCTION_INFO_V1(crdt_bytes_hash);
Datum
crdt_bytes_hash(PG_FUNCTION_ARGS)
{
	struct varlena *v = PG_GETARG_VARLENA_PP(0);
	CrdtSlice	s = crdt_slice_of(v);
	Datum		h = hash_any(s.data, (int) s.len);

	PG_FREE_IF_COPY(v, 0);
	PG_RETURN_DATUM(h);
}

PG_FUNCTION_INFO_V1(crdt_bytes_hash_extended);
Datum
crdt_bytes_hash_extended(PG_FUNCTION_ARGS)
{
	struct varlena *v = PG_GETARG_VARLENA_PP(0);
	CrdtSlice	s = crdt_slice_of(v);
	Datum		h = hash_any_extended(s.data, (int) s.len, (uint64) PG_GETARG_INT64(1));

	PG_FREE_IF_COPY(v, 0);
	PG_RETURN_DATUM(h);
}

/* crdt_hash: XXH64, seed 0, over the canonical bytes; see docs/FORMAT.md. */
PG_FUNCTION_INFO_V1(crdt_bytes_stable_hash);
Datum
crdt_bytes_stable_hash(PG_FUNCTION_ARGS)
{
	CrdtSlice	s = CRDT_GETARG_SLICE(0);

	PG_RETURN_INT64((int64) crdt_xxh64(s.data, s.len, 0));
}

/*
 * The btree order (ORDER BY, DISTINCT aggregates, merge joins): a fixed
 * total order on the entries, with no causal meaning.  Its operators are
 * ~<~ ~<=~ ~>=~ ~>~ so that vclock's < can keep meaning happened-before.
 */
static int
compare_args(FunctionCallInfo fcinfo, const CrdtType *type)
{
	struct varlena *a = PG_GETARG_VARLENA_PP(0);
	struct varlena *b = PG_GETARG_VARLENA_PP(1);
	CrdtError	err;
	int			result;

	if (type->compare(crdt_slice_of(a), crdt_slice_of(b), &result, &err) != CRDT_OK)
		crdt_report(&err, type->name, NULL, 0);
	PG_FREE_IF_COPY(a, 0);
	PG_FREE_IF_COPY(b, 1);
	return result;
}

Datum
crdt_type_cmp(FunctionCallInfo fcinfo, const CrdtType *type)
{
	PG_RETURN_INT32(compare_args(fcinfo, type));
}

Datum
crdt_type_sort_lt(FunctionCallInfo fcinfo, const CrdtType *type)
{
	PG_RETURN_BOOL(compare_args(fcinfo, type) < 0);
}

Datum
crdt_type_sort_le(FunctionCallInfo fcinfo, const CrdtType *type)
{
	PG_RETURN_BOOL(compare_args(fcinfo, type) <= 0);
}

Datum
crdt_type_sort_ge(FunctionCallInfo fcinfo, const CrdtType *type)
{
	PG_RETURN_BOOL(compare_args(fcinfo, type) >= 0);
}

Datum
crdt_type_sort_gt(FunctionCallInfo fcinfo, const CrdtType *type)
{
	PG_RETURN_BOOL(compare_args(fcinfo, type) > 0);
}
