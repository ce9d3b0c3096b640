/*
 * history.h — what the history trigger (history.c) shares with the code
 * that builds and writes its records (history_record.c).
 */
#ifndef CRDT_HISTORY_H
#define CRDT_HISTORY_H

#include "tracked.h"

#include "nodes/execnodes.h"

/* What the history of one table (as one trigger, or one call, sees it) needs. */
typedef struct HistoryTable
{
	int			refcount;
	bool		stale;
	bool		active;			/* tracked, with history on */
	MemoryContext cxt;
	TrackedTable tt;			/* what rows_to_jsonb uses: relid, rowtype, owner, its plan */
	int			clock;			/* attribute index, or -1 */
	Oid			clock_type;		/* its type (a NULL text without one) */
	bool	   *recorded;		/* columns a change names: not dropped, generated or the clock */
	Datum		key_names;		/* text[]: every primary-key column */
	int			nkeys;
	int		   *keys;
	Oid			history_owner;
	bool		plain_types;	/* every recorded column's jsonb form is built in and fixed */
	FmgrInfo   *to_jsonb;		/* per column, for plain_types */
	Oid		   *scalar;			/* per column: its base type when bool, an integer or text */
	Oid			history;		/* crdt_reconcile.history and its id sequence */
	Oid			history_seq;
	SPIPlanPtr	resolving_plan;
	/* the history table's indexes, read at the first record (history_record.c) */
	bool		indexes_known;
	bool		indexes_on_columns;	/* no expression, no predicate: written without an executor */
	int			nindexes;
	Oid		   *index_oids;
	IndexInfo **index_info;
} HistoryTable;

void		history_prepare_columns(HistoryTable *h, TupleDesc desc);
void		history_record(Decision *d, HistoryTable *h, const char *kind, const char *origin, Row *old, Row *new);

#endif							/* CRDT_HISTORY_H */
