/*
 * sequence_log.c — the state of crdt_merge over rtext and rlist (see
 * CrdtSeqLog in crdt_sequence.h).
 */
#include "crdt_core.h"

/* an early merge waits until the log is this large at least */
#define SEQLOG_MIN_MERGE 65536

void
crdt_seqlog_init(CrdtSeqLog *log, CrdtSeqKind kind, const CrdtAllocator *alloc)
{
	log->kind = kind;
	log->count = 0;
	log->merged = 0;
	log->alloc = alloc;
	crdt_buf_init(&log->values, alloc, 0);
}

void
crdt_seqlog_free(CrdtSeqLog *log)
{
	crdt_buf_free(&log->values);
}

/* the logged values as slices, in memory of the default allocator */
static CrdtSlice *
logged(const CrdtSeqLog *log)
{
	const CrdtAllocator *a = crdt_default_allocator();
	CrdtSlice  *s = a->alloc(a->ctx, (log->count + 1) * sizeof(CrdtSlice));
	const uint8_t *p = log->values.data;
	const uint8_t *end = p + log->values.len;

	for (size_t i = 0; s != NULL && i < log->count; i++)
	{
		uint64_t	len = 0;

		/* written by absorb: well-formed */
		(void) crdt_varint_decode(&p, end, &len);
		s[i].data = p;
		s[i].len = (size_t) len;
		p += len;
	}
	return s;
}

CrdtStatus
crdt_seqlog_write(const CrdtSeqLog *log, CrdtBuf *out, CrdtError *err)
{
	const CrdtAllocator *a = crdt_default_allocator();
	CrdtSlice  *s;
	CrdtStatus	st;

	if (log->count == 0)
	{
		crdt_seq_write_empty(log->kind, out);
		return crdt_buf_status(out, err);
	}
	if ((s = logged(log)) == NULL)
		return crdt_nomem(err);
	st = crdt_seq_merge_many(log->kind, s, log->count, out, err);
	a->release(a->ctx, s);
	return st;
}

/* appends one value to the log; false when out of memory */
static bool
log_value(CrdtSeqLog *log, CrdtSlice value)
{
	crdt_buf_put_varint(&log->values, value.len);
	crdt_buf_put(&log->values, value.data, value.len);
	log->count++;
	return !log->values.failed;
}

/*
 * Logs value; whenever the log has doubled since the last merge (and is
 * past SEQLOG_MIN_MERGE), replaces it by the merge of all it holds.
 */
CrdtStatus
crdt_seqlog_absorb(CrdtSeqLog *log, CrdtSlice value, CrdtError *err)
{
	CrdtBuf		merged;
	CrdtStatus	st;
	bool		ok;

	if (!log_value(log, value))
		return crdt_nomem(err);
	if (log->values.len < SEQLOG_MIN_MERGE || log->values.len < 2 * log->merged)
		return CRDT_OK;
	crdt_buf_init(&merged, log->alloc, 0);
	if ((st = crdt_seqlog_write(log, &merged, err)) != CRDT_OK)
	{
		crdt_buf_free(&merged);
		return st;
	}
	log->values.len = 0;
	log->count = 0;
	ok = log_value(log, (CrdtSlice) {merged.data, merged.len});
	log->merged = log->values.len;
	crdt_buf_free(&merged);
	return ok ? CRDT_OK : crdt_nomem(err);
}
