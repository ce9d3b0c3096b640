/*
 * bcounter_internal.h — what the bcounter's log (bcounter_log.c) lends its
 * operations (bcounter.c) and its text form (bcounter_text.c).  Internal to
 * the core.
 */
#ifndef CRDT_BCOUNTER_INTERNAL_H
#define CRDT_BCOUNTER_INTERNAL_H

#include "crdt_type_def.h"

enum
{
	PART_P = 0,
	PART_D = 1,
	PART_T = 2
};

CrdtBcItem *crdt_bclog_items(const CrdtBcLog *log);

/* Appends one component (to is the receiver of a transfer, else NULL, 0). */
CrdtStatus	crdt_bclog_add(CrdtBcLog *log, int part, const uint8_t *id, size_t len,
						   const uint8_t *to, size_t to_len, uint64_t count, CrdtError *err);

/* The order of items: by part, then id, then receiver (qsort's signature). */
int			crdt_bclog_item_cmp(const void *a, const void *b);

/* Sorts by (part, id, to) and keeps the largest count of each component. */
void		crdt_bclog_reduce(CrdtBcLog *log);

/* A value read into a reduced log (with the default allocator). */
CrdtStatus	crdt_bclog_of(CrdtBcLog *log, CrdtSlice value, CrdtError *err);

/* CRDT_OK when no replica of the reduced log has negative rights, else status. */
CrdtStatus	crdt_bclog_check_rights(const CrdtBcLog *log, CrdtStatus status, CrdtError *err);

#endif							/* CRDT_BCOUNTER_INTERNAL_H */
