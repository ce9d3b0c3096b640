/*
 * merge_stats.h — counters of the tracked-table trigger (merge_stats.c).
 */
#ifndef CRDT_MERGE_STATS_H
#define CRDT_MERGE_STATS_H

#include "postgres.h"

/* In the order of the columns of crdt_reconcile.merge_counters(). */
typedef enum MergeStat
{
	MERGE_STAT_LOCAL_WRITES,
	MERGE_STAT_MERGES_APPLIED,
	MERGE_STAT_INSERTS_MERGED,
	MERGE_STAT_STALE_SKIPPED,
	MERGE_STAT_ECHOES_SKIPPED,
	MERGE_STAT_CONFLICTS,
	MERGE_STAT_COUNT
} MergeStat;

/* Called from _PG_init: reserves the space when preloaded. */
void		crdt_merge_stats_init(void);

void		crdt_merge_stats_count(Oid relation, MergeStat stat, uint64 n);

#endif							/* CRDT_MERGE_STATS_H */
