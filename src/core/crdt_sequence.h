/*
 * crdt_sequence.h — the sequence CRDTs rtext and rlist (a Fugue tree kept
 * in runs; design in docs/SEQUENCES.md, layout in docs/FORMAT.md).
 * Included through crdt_core.h.
 */
#ifndef CRDT_SEQUENCE_H
#define CRDT_SEQUENCE_H

#include "crdt_types.h"

typedef enum CrdtSeqKind
{
	CRDT_RTEXT,					/* elements are characters (UTF-8, no NUL) */
	CRDT_RLIST					/* elements are canonical JSON values */
} CrdtSeqKind;

/* Elements per value, deleted ones included: past it, CRDT_ERR_TOO_LARGE. */
#define CRDT_SEQ_MAX_ELEMENTS (4 * 1024 * 1024)
/* Largest element counter. */
#define CRDT_SEQ_MAX_COUNTER UINT32_C(0xFFFFFFFE)

extern const CrdtType crdt_type_rtext;
extern const CrdtType crdt_type_rlist;

const char *crdt_seq_kind_name(CrdtSeqKind kind);

CRDT_FAMILY_OPERATIONS(seq, CrdtSeqKind);

/* The merge of n values (n >= 1), in one sort: O(N log N) in their total size. */
CrdtStatus	crdt_seq_merge_many(CrdtSeqKind kind, const CrdtSlice *values, size_t n,
								CrdtBuf *out, CrdtError *err);

/* The number of live elements. */
CrdtStatus	crdt_seq_length(CrdtSeqKind kind, CrdtSlice value, size_t *length,
							CrdtError *err);

/* rtext: the text (UTF-8); rlist: the JSON array of the values. */
CrdtStatus	crdt_seq_value(CrdtSeqKind kind, CrdtSlice value, CrdtBuf *out, CrdtError *err);

/* The canonical text of element pos (0-based, < length) of an rlist or rtext. */
CrdtStatus	crdt_seq_get(CrdtSeqKind kind, CrdtSlice value, size_t pos, CrdtBuf *out,
						 CrdtError *err);

/*
 * Deletes del elements from pos, then inserts at pos, for replica: rtext,
 * insert is UTF-8 text (each character an element); rlist, insert is one
 * canonical JSON value, or NULL for none.  pos + del must not pass the
 * length (CRDT_ERR_ARGUMENT; the glue checks first and reports 2202E).
 */
CrdtStatus	crdt_seq_splice(CrdtSeqKind kind, CrdtSlice value, size_t pos, size_t del,
							const uint8_t *insert, size_t insert_len,
							const uint8_t *replica, size_t replica_len,
							CrdtBuf *out, CrdtError *err);

/*
 * The crdt_merge aggregate's state: the rows' values logged back to back
 * (varint length, bytes), merged in one sort at the end, or early (into a
 * single value) whenever the log has doubled since the last merge, so
 * memory follows the merged state and the cost stays O(N log N).
 */
typedef struct CrdtSeqLog
{
	CrdtSeqKind kind;
	CrdtBuf		values;
	size_t		count;
	size_t		merged;			/* bytes right after the last early merge */
	const CrdtAllocator *alloc;
} CrdtSeqLog;

void		crdt_seqlog_init(CrdtSeqLog *log, CrdtSeqKind kind, const CrdtAllocator *alloc);
void		crdt_seqlog_free(CrdtSeqLog *log);
CrdtStatus	crdt_seqlog_absorb(CrdtSeqLog *log, CrdtSlice value, CrdtError *err);
CrdtStatus	crdt_seqlog_write(const CrdtSeqLog *log, CrdtBuf *out, CrdtError *err);

#endif							/* CRDT_SEQUENCE_H */
