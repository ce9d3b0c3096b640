/*
 * antientropy.c — the stable hashes behind crdt_reconcile.digest() and the
 * Merkle descent of crdt_reconcile.repair().
 *
 * Two nodes must bucket and hash the same rows the same way, whatever their
 * platform, database encoding or column order: XXH64 (seed 0), the function
 * docs/FORMAT.md defines for crdt_hash, over UTF-8 bytes.
 *
 * row_hash(row) hashes a row as the sequence of its columns in the byte order
 * of their names, each as its name and the text its type's output function
 * prints (NULL marked apart), every part length-prefixed so that no two rows
 * share a message.  Output functions read settings (TimeZone, DateStyle,
 * extra_float_digits, ...): the SQL callers pin them, so equal rows hash
 * equal on every node.  row_hash(row, columns) hashes only the named columns
 * (a table's key).
 */
#include "crdt_reconcile.h"

#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/typcache.h"

PG_FUNCTION_INFO_V1(crdt_stable_text_hash);
Datum
crdt_stable_text_hash(PG_FUNCTION_ARGS)
{
	text	   *t = PG_GETARG_TEXT_PP(0);
	size_t		len;
	const char *utf8 = crdt_to_utf8(VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t), &len);

	PG_RETURN_INT64((int64) crdt_xxh64(utf8, len, 0));
}

/* ---------------------------------------------------------------- row_hash */

#define ROW_HASH_FORMAT 1
#define ROW_HASH_NULL 0xFFFFFFFFu

typedef struct RowHashColumn
{
	int			attno;			/* index in the tuple descriptor */
	char	   *attname;		/* as in the catalog (server encoding) */
	char	   *name;			/* UTF-8 */
	size_t		name_len;
	bool		selected;
	FmgrInfo	out;
} RowHashColumn;

/* Per call site, in fn_mcxt: the row type's columns in name order. */
typedef struct RowHashCache
{
	Oid			type;
	int32		typmod;
	uint64		identifier;		/* of the row type's descriptor (changes with ALTER TABLE) */
	int			ncolumns;		/* live (not dropped) columns */
	struct varlena *selection;	/* the columns argument it was built for, or NULL */
	StringInfoData message;
	RowHashColumn columns[FLEXIBLE_ARRAY_MEMBER];
} RowHashCache;

static int
column_name_cmp(const void *a, const void *b)
{
	const RowHashColumn *x = a;
	const RowHashColumn *y = b;
	int			c = memcmp(x->name, y->name, Min(x->name_len, y->name_len));

	if (c != 0)
		return c;
	return (x->name_len > y->name_len) - (x->name_len < y->name_len);
}

static RowHashCache *
row_hash_cache(FunctionCallInfo fcinfo, Oid type, int32 typmod, struct varlena *selection)
{
	RowHashCache *cache = fcinfo->flinfo->fn_extra;
	uint64		identifier = assign_record_type_identifier(type, typmod);
	MemoryContext old;
	TupleDesc	desc;
	int			n = 0;

	if (cache != NULL && cache->type == type && cache->typmod == typmod && cache->identifier == identifier &&
		(selection == NULL) == (cache->selection == NULL) &&
		(selection == NULL || (VARSIZE(selection) == VARSIZE(cache->selection) &&
							   memcmp(selection, cache->selection, VARSIZE(selection)) == 0)))
		return cache;

	old = MemoryContextSwitchTo(fcinfo->flinfo->fn_mcxt);
	desc = lookup_rowtype_tupdesc(type, typmod);
	cache = palloc0(offsetof(RowHashCache, columns) + sizeof(RowHashColumn) * Max(desc->natts, 1));
	cache->type = type;
	cache->typmod = typmod;
	cache->identifier = identifier;
	for (int i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);
		RowHashColumn *col;
		const char *name;
		size_t		len;
		Oid			outfunc;
		bool		varlena;

		if (att->attisdropped)
			continue;
		col = &cache->columns[n++];
		col->attno = i;
		col->attname = pstrdup(NameStr(att->attname));
		name = crdt_to_utf8(NameStr(att->attname), strlen(NameStr(att->attname)), &len);
		col->name = pnstrdup(name, len);
		col->name_len = len;
		col->selected = selection == NULL;
		getTypeOutputInfo(att->atttypid, &outfunc, &varlena);
		fmgr_info_cxt(outfunc, &col->out, fcinfo->flinfo->fn_mcxt);
	}
	ReleaseTupleDesc(desc);
	cache->ncolumns = n;
	qsort(cache->columns, n, sizeof(RowHashColumn), column_name_cmp);

	if (selection != NULL)
	{
		ArrayType  *names = (ArrayType *) selection;
		Datum	   *values;
		bool	   *nulls;
		int			count;

		cache->selection = palloc(VARSIZE(selection));
		memcpy(cache->selection, selection, VARSIZE(selection));
		deconstruct_array(names, NAMEOID, NAMEDATALEN, false, TYPALIGN_CHAR, &values, &nulls, &count);
		for (int j = 0; j < count; j++)
		{
			bool		found = false;

			if (nulls[j])
				ereport(ERROR,
						(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
						 errmsg("crdt_reconcile.row_hash: a column name is NULL")));
			for (int i = 0; i < n && !found; i++)
				if (strcmp(cache->columns[i].attname, NameStr(*DatumGetName(values[j]))) == 0)
				{
					cache->columns[i].selected = true;
					found = true;
				}
			if (!found)
				ereport(ERROR,
						(errcode(ERRCODE_UNDEFINED_COLUMN),
						 errmsg("crdt_reconcile.row_hash: the row has no column \"%s\"",
								NameStr(*DatumGetName(values[j])))));
		}
	}
	initStringInfo(&cache->message);
	MemoryContextSwitchTo(old);
	fcinfo->flinfo->fn_extra = cache;
	return cache;
}

static void
append_part(StringInfo buf, const char *data, uint32 len)
{
	uint8		prefix[4] = {len & 0xFF, (len >> 8) & 0xFF, (len >> 16) & 0xFF, (len >> 24) & 0xFF};

	appendBinaryStringInfo(buf, (const char *) prefix, 4);
	if (len != ROW_HASH_NULL)
		appendBinaryStringInfo(buf, data, len);
}

/*
 * row_hash(row record) and row_hash(row record, columns name[]) → int8:
 * XXH64 of the message format byte, then per (selected) column in name
 * order: len32le(name) name, then len32le(text) text or 0xFFFFFFFF for NULL.
 */
PG_FUNCTION_INFO_V1(crdt_row_hash);
Datum
crdt_row_hash(PG_FUNCTION_ARGS)
{
	HeapTupleHeader row = PG_GETARG_HEAPTUPLEHEADER(0);
	struct varlena *selection = PG_NARGS() > 1 ? (struct varlena *) PG_GETARG_ARRAYTYPE_P(1) : NULL;
	RowHashCache *cache = row_hash_cache(fcinfo, HeapTupleHeaderGetTypeId(row),
										 HeapTupleHeaderGetTypMod(row), selection);
	TupleDesc	desc = lookup_rowtype_tupdesc(cache->type, cache->typmod);
	HeapTupleData tuple;
	Datum	   *values = palloc(sizeof(Datum) * desc->natts);
	bool	   *nulls = palloc(sizeof(bool) * desc->natts);
	StringInfo	msg = &cache->message;
	uint8		format = ROW_HASH_FORMAT;
	uint64		hash;

	tuple.t_len = HeapTupleHeaderGetDatumLength(row);
	ItemPointerSetInvalid(&tuple.t_self);
	tuple.t_tableOid = InvalidOid;
	tuple.t_data = row;
	heap_deform_tuple(&tuple, desc, values, nulls);
	ReleaseTupleDesc(desc);

	resetStringInfo(msg);
	appendBinaryStringInfo(msg, (const char *) &format, 1);
	for (int i = 0; i < cache->ncolumns; i++)
	{
		RowHashColumn *col = &cache->columns[i];
		char	   *text;
		const char *utf8;
		size_t		len;

		if (!col->selected)
			continue;
		append_part(msg, col->name, (uint32) col->name_len);
		if (nulls[col->attno])
		{
			append_part(msg, NULL, ROW_HASH_NULL);
			continue;
		}
		text = OutputFunctionCall(&col->out, values[col->attno]);
		utf8 = crdt_to_utf8(text, strlen(text), &len);
		if (len >= ROW_HASH_NULL)
			ereport(ERROR,
					(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					 errmsg("crdt_reconcile.row_hash: a value of column \"%s\" is too long", col->attname)));
		append_part(msg, utf8, (uint32) len);
		if (utf8 != text)
			pfree((void *) utf8);
		pfree(text);
	}
	hash = crdt_xxh64(msg->data, msg->len, 0);
	pfree(values);
	pfree(nulls);
	PG_RETURN_INT64((int64) hash);
}
