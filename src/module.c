/*
 * module.c — module initialisation, the crdt.replica_id setting, and the
 * glue services every other file uses: allocators, error reporting,
 * encoding conversion, replica resolution.
 */
#include "crdt_reconcile.h"
#include "merge_stats.h"
#include "tracked.h"

#include "common/string.h"
#include "mb/pg_wchar.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"

PG_MODULE_MAGIC;

char	   *crdt_replica_id_setting = NULL;
char	   *crdt_resolving_setting = NULL;

void		_PG_init(void);

/*
 * Full validation needs the value in UTF-8.  At postmaster start the
 * database encoding is not known yet, so non-ASCII values in other
 * encodings are only length-checked here and validated when first used.
 */
static bool
check_replica_id(char **newval, void **extra, GucSource source)
{
	const char *v = *newval;
	size_t		len;
	const char *problem;

	if (v == NULL || v[0] == '\0')
		return true;
	len = strlen(v);
	if (GetDatabaseEncoding() == PG_UTF8 || pg_is_ascii(v))
		problem = crdt_replica_id_problem((const uint8_t *) v, len);
	else
		problem = len > CRDT_REPLICA_ID_MAX ? "is longer than 64 bytes" : NULL;
	if (problem != NULL)
	{
		GUC_check_errdetail("A replica id is 1 to 64 bytes of UTF-8 without control characters; this one %s.",
							problem);
		return false;
	}
	return true;
}

void
_PG_init(void)
{
	DefineCustomStringVariable("crdt.replica_id",
							   "Names this replica in CRDT values (1 to 64 bytes of UTF-8).",
							   "Mutators such as crdt_increment and crdt_tick act for this replica "
							   "unless a replica argument is given.  Empty means unset.",
							   &crdt_replica_id_setting,
							   "",
							   PGC_USERSET,
							   0,
							   check_replica_id, NULL, NULL);
	MarkGUCPrefixReserved("crdt");
	/* read on every history record: a variable here, not a lookup by name */
	DefineCustomStringVariable("crdt_reconcile.resolving",
							   "The conflict crdt_reconcile.resolve() is writing (set by it, for history).",
							   NULL,
							   &crdt_resolving_setting,
							   "",
							   PGC_USERSET,
							   GUC_NO_SHOW_ALL | GUC_NOT_IN_SAMPLE,
							   NULL, NULL, NULL);

	/* core temporaries in palloc memory; JSON values canonical as jsonb prints them */
	crdt_set_default_allocator(&crdt_palloc_allocator);
	crdt_set_json_canonicalizer(crdt_jsonb_canonicalizer);
	crdt_bcounter_set_overdraft_policy(crdt_write_is_applied);
	crdt_merge_stats_init();
}

static void
check_alloc_size(size_t size)
{
	if (!AllocSizeIsValid(size))
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("CRDT value is too large"),
				 errdetail("It would need %zu bytes; the limit is %zu.",
						   size, (size_t) MaxAllocSize)));
}

static void *
palloc_alloc(void *ctx, size_t size)
{
	check_alloc_size(size);
	return ctx == NULL ? palloc(size) : MemoryContextAlloc((MemoryContext) ctx, size);
}

static void
palloc_release(void *ctx, void *ptr)
{
	(void) ctx;
	pfree(ptr);
}

/* resizes in the chunk's own context, whatever ctx says */
static void *
palloc_resize(void *ctx, void *ptr, size_t size)
{
	(void) ctx;
	check_alloc_size(size);
	return repalloc(ptr, size);
}

const CrdtAllocator crdt_palloc_allocator = {
	palloc_alloc, palloc_resize, palloc_release, NULL
};

void
crdt_context_allocator(CrdtAllocator *alloc, MemoryContext cxt)
{
	*alloc = crdt_palloc_allocator;
	alloc->ctx = cxt;
}

void
crdt_varlena_buf(CrdtBuf *buf)
{
	crdt_buf_init(buf, &crdt_palloc_allocator, VARHDRSZ);
}

Datum
crdt_varlena_datum(CrdtBuf *buf)
{
	SET_VARSIZE(buf->data, buf->len);
	return PointerGetDatum(buf->data);
}

const char *
crdt_to_utf8(const char *s, size_t len, size_t *out_len)
{
	const char *converted;

	if (GetDatabaseEncoding() == PG_UTF8 || GetDatabaseEncoding() == PG_SQL_ASCII)
	{
		*out_len = len;
		return s;
	}
	converted = pg_server_to_any(s, (int) len, PG_UTF8);
	*out_len = converted == s ? len : strlen(converted);
	return converted;
}

char *
crdt_from_utf8(const char *s, size_t len)
{
	const char *converted = pg_any_to_server(s, (int) len, PG_UTF8);

	return converted == s ? pnstrdup(s, len) : (char *) converted;
}

/* The 1-based character number of byte offset in UTF-8 text. */
static long
character_number(const char *text, size_t len, long offset)
{
	long		chars = 1;

	if (offset > (long) len)
		offset = (long) len;
	for (long k = 0; k < offset; k++)
		if (((unsigned char) text[k] & 0xc0) != 0x80)
			chars++;
	return chars;
}

/* At most 60 characters of input for a message, cut on a character boundary. */
static char *
shown_input(const char *input, size_t len)
{
	size_t		cut = 0;
	size_t		chars = 0;

	while (cut < len && chars < 60)
	{
		cut++;
		while (cut < len && ((unsigned char) input[cut] & 0xc0) == 0x80)
			cut++;
		chars++;
	}
	if (cut < len)
		return psprintf("%s...", crdt_from_utf8(input, cut));
	return crdt_from_utf8(input, cut);
}

void
crdt_report(const CrdtError *err, const char *typname, const char *input, size_t input_len)
{
	switch (err->status)
	{
		case CRDT_ERR_SYNTAX:
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
					 errmsg("invalid input syntax for type %s: \"%s\"", typname,
							input != NULL ? shown_input(input, input_len) : ""),
					 err->position >= 0 && input != NULL
					 ? errdetail("At character %ld: %s.",
								 character_number(input, input_len, err->position),
								 err->message)
					 : errdetail("%s.", err->message)));
			break;
		case CRDT_ERR_BINARY:
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
					 errmsg("invalid binary value for type %s", typname),
					 err->position >= 0
					 ? errdetail("At byte %ld: %s.", err->position, err->message)
					 : errdetail("%s.", err->message)));
			break;
		case CRDT_ERR_OVERFLOW:
			ereport(ERROR,
					(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
					 errmsg("%s", err->message),
					 err->position >= 0 && input != NULL
					 ? errdetail("At character %ld of the %s input.",
								 character_number(input, input_len, err->position),
								 typname)
					 : 0));
			break;
		case CRDT_ERR_TOO_LARGE:
			ereport(ERROR,
					(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					 errmsg("%s value is too large", typname),
					 errdetail("It has %s.", err->message)));
			break;
		case CRDT_ERR_NOMEM:
			ereport(ERROR,
					(errcode(ERRCODE_OUT_OF_MEMORY),
					 errmsg("out of memory")));
			break;
		case CRDT_ERR_ARGUMENT:
		case CRDT_ERR_RETIRED:
		case CRDT_ERR_RIGHTS:
			/* the core's message says it all; the status picks the SQLSTATE */
			ereport(ERROR,
					(errcode(err->status == CRDT_ERR_ARGUMENT ? ERRCODE_INVALID_PARAMETER_VALUE
							 : err->status == CRDT_ERR_RETIRED ? ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE
							 : ERRCODE_CHECK_VIOLATION),
					 errmsg("%s", err->message)));
			break;
		case CRDT_OK:
			break;
	}
	elog(ERROR, "unexpected CRDT status %d: %s", (int) err->status, err->message);
}

CrdtReplica
crdt_resolve_replica(FunctionCallInfo fcinfo, int argno)
{
	CrdtReplica replica;
	const char *raw;
	size_t		raw_len;
	const char *problem;
	bool		from_argument = PG_NARGS() > argno && !PG_ARGISNULL(argno);

	if (from_argument)
	{
		text	   *t = PG_GETARG_TEXT_PP(argno);

		raw = VARDATA_ANY(t);
		raw_len = VARSIZE_ANY_EXHDR(t);
	}
	else if (crdt_replica_id_setting != NULL && crdt_replica_id_setting[0] != '\0')
	{
		raw = crdt_replica_id_setting;
		raw_len = strlen(raw);
	}
	else
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("%s needs a replica id, and none was given",
						get_func_name(fcinfo->flinfo->fn_oid)),
				 errhint("Pass the replica argument, or set crdt.replica_id "
						 "(SET crdt.replica_id = 'node_a'; or ALTER ROLE/DATABASE ... SET, or postgresql.conf).")));

	replica.id = (const uint8_t *) crdt_to_utf8(raw, raw_len, &replica.len);
	problem = crdt_replica_id_problem(replica.id, replica.len);
	if (problem != NULL)
	{
		char		shown[96];

		crdt_describe_bytes(shown, sizeof(shown), replica.id, replica.len);
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid replica id %s%s", crdt_from_utf8(shown, strlen(shown)),
						from_argument ? "" : " in crdt.replica_id"),
				 errdetail("A replica id is 1 to 64 bytes of UTF-8 without control characters; this one %s.",
						   problem)));
	}
	return replica;
}

/*
 * The replica mutators act for when given no replica argument, or NULL.
 * Calling it also loads the module, after which SHOW crdt.replica_id works
 * in that session too.
 */
PG_FUNCTION_INFO_V1(crdt_replica_id);
Datum
crdt_replica_id(PG_FUNCTION_ARGS)
{
	if (crdt_replica_id_setting == NULL || crdt_replica_id_setting[0] == '\0')
		PG_RETURN_NULL();
	PG_RETURN_TEXT_P(cstring_to_text(crdt_replica_id_setting));
}
