/*
 * antientropy.c — the stable hash behind crdt_reconcile.digest().
 *
 * Two nodes must bucket and hash the same rows the same way, whatever their
 * platform or database encoding: XXH64 (seed 0) of the text's UTF-8 bytes,
 * the function docs/FORMAT.md defines for crdt_hash.
 */
#include "crdt_reconcile.h"

#include "utils/builtins.h"

PG_FUNCTION_INFO_V1(crdt_stable_text_hash);
Datum
crdt_stable_text_hash(PG_FUNCTION_ARGS)
{
	text	   *t = PG_GETARG_TEXT_PP(0);
	size_t		len;
	const char *utf8 = crdt_to_utf8(VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t), &len);

	PG_RETURN_INT64((int64) crdt_xxh64(utf8, len, 0));
}
