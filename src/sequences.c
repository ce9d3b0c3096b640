/*
 * sequences.c — rtext and rlist, the sequence CRDTs (docs/SEQUENCES.md):
 * editing by position and reading the document.  Positions are 0-based;
 * one outside the document is SQLSTATE 2202E, as for arrays.
 */
#include "crdt_reconcile.h"

#include "mb/pg_wchar.h"
#include "utils/builtins.h"
#include "utils/fmgrprotos.h"
#include "utils/jsonb.h"

CRDT_TYPE_FUNCTIONS(rtext)
CRDT_TYPE_FUNCTIONS(rlist)

static const CrdtType *
type_of(CrdtSeqKind kind)
{
	return kind == CRDT_RTEXT ? &crdt_type_rtext : &crdt_type_rlist;
}

static int32
int_argument(FunctionCallInfo fcinfo, int argno, const char *what)
{
	if (PG_ARGISNULL(argno))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("%s must not be NULL", what)));
	return PG_GETARG_INT32(argno);
}

static size_t
length_of(CrdtSeqKind kind, CrdtSlice state)
{
	size_t		length;
	CrdtError	err;

	if (crdt_seq_length(kind, state, &length, &err) != CRDT_OK)
		crdt_report(&err, crdt_seq_kind_name(kind), NULL, 0);
	return length;
}

/* The state after deleting del elements at pos and inserting insert there. */
static Datum
splice_datum(FunctionCallInfo fcinfo, CrdtSeqKind kind, int32 pos, int32 del,
			 CrdtSlice insert, int replica_argno)
{
	CrdtSlice	state = crdt_state_or_empty(fcinfo, type_of(kind));
	size_t		length = length_of(kind, state);
	/* a pure delete needs no replica id */
	CrdtReplica replica = insert.data != NULL && insert.len > 0 ?
		crdt_resolve_replica(fcinfo, replica_argno) : (CrdtReplica) {(const uint8_t *) "-", 1};
	CrdtBuf		buf;
	CrdtError	err;

	if (del < 0)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("the count of elements to delete must not be negative")));
	if (pos < 0 || (size_t) pos > length || (size_t) del > length - (size_t) pos)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("position %d%s outside the %s", pos,
						del > 0 ? psprintf(" and count %d are", del) : " is", crdt_seq_kind_name(kind)),
				 errdetail("The %s has %zu elements; positions start at 0.",
						   crdt_seq_kind_name(kind), length)));
	crdt_varlena_buf(&buf);
	if (crdt_seq_splice(kind, state, (size_t) pos, (size_t) del, insert.data, insert.len,
						replica.id, replica.len, &buf, &err) != CRDT_OK)
		crdt_report(&err, crdt_seq_kind_name(kind), NULL, 0);
	PG_RETURN_DATUM(crdt_varlena_datum(&buf));
}

/* crdt_splice(rtext, pos, delete_count, insert text [, replica]) */
PG_FUNCTION_INFO_V1(rtext_splice);
Datum
rtext_splice(PG_FUNCTION_ARGS)
{
	CrdtSlice	insert = {NULL, 0};

	if (!PG_ARGISNULL(3))
	{
		text	   *t = PG_GETARG_TEXT_PP(3);
		size_t		len;

		insert.data = (const uint8_t *) crdt_to_utf8(VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t), &len);
		insert.len = len;
	}
	return splice_datum(fcinfo, CRDT_RTEXT, int_argument(fcinfo, 1, "the position"),
						int_argument(fcinfo, 2, "the delete count"), insert, 4);
}

/* crdt_insert(rlist, pos, value jsonb [, replica]) */
PG_FUNCTION_INFO_V1(rlist_insert);
Datum
rlist_insert(PG_FUNCTION_ARGS)
{
	if (PG_ARGISNULL(2))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("an rlist value must not be NULL"),
				 errhint("Write the JSON null as 'null'::jsonb.")));
	return splice_datum(fcinfo, CRDT_RLIST, int_argument(fcinfo, 1, "the position"), 0,
						crdt_jsonb_text((struct varlena *) PG_GETARG_JSONB_P(2)), 3);
}

/* crdt_delete(rlist, pos [, count]) */
PG_FUNCTION_INFO_V1(rlist_delete);
Datum
rlist_delete(PG_FUNCTION_ARGS)
{
	return splice_datum(fcinfo, CRDT_RLIST, int_argument(fcinfo, 1, "the position"),
						PG_NARGS() > 2 ? int_argument(fcinfo, 2, "the count") : 1,
						(CrdtSlice) {NULL, 0}, -1);
}

static CrdtBuf
read_value(CrdtSeqKind kind, CrdtSlice state, bool one, int32 pos)
{
	CrdtBuf		buf;
	CrdtError	err;
	CrdtStatus	st;

	crdt_buf_init(&buf, &crdt_palloc_allocator, 0);
	st = one ? crdt_seq_get(kind, state, (size_t) pos, &buf, &err)
		: crdt_seq_value(kind, state, &buf, &err);
	if (st != CRDT_OK)
		crdt_report(&err, crdt_seq_kind_name(kind), NULL, 0);
	return buf;
}

static Datum
json_to_jsonb(CrdtBuf *buf)
{
	return DirectFunctionCall1(jsonb_in, CStringGetDatum(crdt_from_utf8((const char *) buf->data, buf->len)));
}

PG_FUNCTION_INFO_V1(rtext_value);
Datum
rtext_value(PG_FUNCTION_ARGS)
{
	CrdtBuf		buf = read_value(CRDT_RTEXT, CRDT_GETARG_SLICE(0), false, 0);

	PG_RETURN_TEXT_P(cstring_to_text(crdt_from_utf8((const char *) buf.data, buf.len)));
}

PG_FUNCTION_INFO_V1(rlist_value);
Datum
rlist_value(PG_FUNCTION_ARGS)
{
	CrdtBuf		buf = read_value(CRDT_RLIST, CRDT_GETARG_SLICE(0), false, 0);

	PG_RETURN_DATUM(json_to_jsonb(&buf));
}

/* crdt_get(rlist, pos): the value there, NULL outside the list (as jsonb's ->) */
PG_FUNCTION_INFO_V1(rlist_get);
Datum
rlist_get(PG_FUNCTION_ARGS)
{
	CrdtSlice	state = CRDT_GETARG_SLICE(0);
	int32		pos = PG_GETARG_INT32(1);
	CrdtBuf		buf;

	if (pos < 0 || (size_t) pos >= length_of(CRDT_RLIST, state))
		PG_RETURN_NULL();
	buf = read_value(CRDT_RLIST, state, true, pos);
	PG_RETURN_DATUM(json_to_jsonb(&buf));
}

static Datum
length_datum(FunctionCallInfo fcinfo, CrdtSeqKind kind)
{
	size_t		length = length_of(kind, CRDT_GETARG_SLICE(0));

	PG_RETURN_INT32((int32) length);
}

CRDT_SQL_FUNCTION(rtext_length, length_datum(fcinfo, CRDT_RTEXT))
CRDT_SQL_FUNCTION(rlist_length, length_datum(fcinfo, CRDT_RLIST))
