/*
 * crdt_bcounter.h — the bounded (escrow) counter: a counter whose value
 * no set of replicas can drive below zero without coordinating, as in
 * Balegas et al., "Putting consistency back into eventual consistency"
 * (EuroSys 2015) and AntidoteDB's counter_b.  Included through crdt_core.h.
 *
 * State: per replica r its increments P[r] and decrements D[r], and a
 * grow-only transfer matrix T[from, to].  The rights of r, what it may
 * still spend on its own, are
 *     rights(r) = P[r] + sum_x T[x, r] - sum_y T[r, y] - D[r]
 * and the value is sum P - sum D, which is the sum of all rights.  A
 * replica only ever decrements or transfers within its own rights, and
 * merge is the per-component max, so while each replica id is used by one
 * writer every reachable state has rights >= 0 everywhere, hence value >= 0.
 *
 * Layout: version, map P, map D, then a key list (front-coded, valid
 * replica ids) of givers, each with a non-empty map of receivers ->
 * amount as its payload (no replica gives to itself).  A value in which
 * some replica's rights are negative is invalid (docs/FORMAT.md).
 */
#ifndef CRDT_BCOUNTER_H
#define CRDT_BCOUNTER_H

#include "crdt_codec.h"

struct CrdtType;
extern const struct CrdtType crdt_type_bcounter;

/*
 * Where a state with negative rights may come in after all: only the
 * merge of states of one replica id used by two writers at once makes one
 * (see docs/FORMAT.md), and a node that applies its peers' writes must
 * take in what they merged, or its replication would stop.  The host says
 * when that is (PostgreSQL: in an apply worker or a repair); NULL, the
 * default, is never.  Elsewhere such input is refused as forged.
 */
void		crdt_bcounter_set_overdraft_policy(bool (*accept) (void));

CrdtStatus	crdt_bcounter_validate(CrdtSlice value, CrdtError *err);
CrdtStatus	crdt_bcounter_parse(const char *text, size_t len, CrdtBuf *out, CrdtError *err);
CrdtStatus	crdt_bcounter_print(CrdtSlice value, CrdtBuf *out, CrdtError *err);
void		crdt_bcounter_write_empty(CrdtBuf *out);
CrdtStatus	crdt_bcounter_merge(CrdtSlice a, CrdtSlice b, CrdtBuf *out, CrdtError *err);
CrdtStatus	crdt_bcounter_delta(CrdtSlice newer, CrdtSlice since, CrdtBuf *out, CrdtError *err);
CrdtStatus	crdt_bcounter_compare(CrdtSlice a, CrdtSlice b, int *result, CrdtError *err);

/*
 * Mutators, by > 0.  decrement and transfer fail with CRDT_ERR_RIGHTS (the
 * message says the rights the replica has) when by exceeds the rights of
 * the acting replica; transfer to the giver itself is CRDT_ERR_ARGUMENT.
 */
CrdtStatus	crdt_bcounter_increment(CrdtSlice value, const uint8_t *id, size_t len, int64_t by,
									CrdtBuf *out, CrdtError *err);
CrdtStatus	crdt_bcounter_decrement(CrdtSlice value, const uint8_t *id, size_t len, int64_t by,
									CrdtBuf *out, CrdtError *err);
CrdtStatus	crdt_bcounter_transfer(CrdtSlice value, const uint8_t *from, size_t from_len,
								   const uint8_t *to, size_t to_len, int64_t by,
								   CrdtBuf *out, CrdtError *err);

/*
 * What replica id may spend: its rights, or 0 where they are negative
 * (only a replica id used by two writers at once gets there, see
 * docs/FORMAT.md); CRDT_ERR_OVERFLOW past INT64_MAX.
 */
CrdtStatus	crdt_bcounter_rights(CrdtSlice value, const uint8_t *id, size_t len, int64_t *result,
								 CrdtError *err);

/* sum P - sum D, and 0 where that is negative (same caveat); CRDT_ERR_OVERFLOW past INT64_MAX. */
CrdtStatus	crdt_bcounter_value(CrdtSlice value, int64_t *result, CrdtError *err);

/* One replica of a value: its counts and its rights as they are (not clamped). */
typedef struct CrdtBcounterEntry
{
	uint8_t		id[CRDT_REPLICA_ID_MAX];
	size_t		len;
	uint64_t	increments;
	uint64_t	decrements;
	int64_t		rights;
	bool		rights_overflow;	/* rights outside the int64 range */
} CrdtBcounterEntry;

/* Every replica named anywhere in the value, in byte order; *entries from alloc. */
CrdtStatus	crdt_bcounter_entries(CrdtSlice value, const CrdtAllocator *alloc,
								  CrdtBcounterEntry **entries, size_t *count, CrdtError *err);

/* ------------------------------------------------------------- the log
 *
 * A bcounter state as an appended list of components (P[r], D[r] or
 * T[from, to] with a count), sorted and reduced to the max per component
 * when it is written and whenever it has doubled since: the crdt_merge
 * aggregate's state and the working form of every operation above.
 */
typedef struct CrdtBcItem
{
	uint64_t	count;
	const uint8_t *id;			/* in the log's id arena */
	const uint8_t *to;			/* T only: the receiver, else NULL */
	uint8_t		part;			/* 0 P, 1 D, 2 T */
	uint8_t		len;
	uint8_t		to_len;
} CrdtBcItem;

typedef struct CrdtBcLog
{
	CrdtBuf		items;			/* CrdtBcItem[] */
	size_t		n;
	size_t		reduced;		/* items[0..reduced) are sorted and distinct */
	/* the ids, in chunks that never move (each starts with a pointer to the one before) */
	const CrdtAllocator *alloc;
	uint8_t    *chunk;
	size_t		chunk_used;
	size_t		chunk_cap;
	size_t		arena_bytes;	/* id bytes stored in all chunks */
} CrdtBcLog;

void		crdt_bclog_init(CrdtBcLog *log, const CrdtAllocator *alloc);
void		crdt_bclog_free(CrdtBcLog *log);

/* Appends the components of a value, checking its structure (not its rights). */
CrdtStatus	crdt_bclog_absorb(CrdtBcLog *log, CrdtSlice value, CrdtError *err);

/*
 * Appends only the transfers of a value (checking its whole structure);
 * *pd_len is where they start: value[0..*pd_len) is its version, P and D,
 * which is a pncounter value (the aggregate keeps those in a counter table).
 */
CrdtStatus	crdt_bclog_absorb_transfers(CrdtBcLog *log, CrdtSlice value, size_t *pd_len,
										CrdtError *err);

/* Writes (after reducing) only the key list of givers: what follows P and D. */
CrdtStatus	crdt_bclog_write_transfers(CrdtBcLog *log, CrdtBuf *out, CrdtError *err);

/* Appends the components of another log. */
CrdtStatus	crdt_bclog_absorb_log(CrdtBcLog *log, const CrdtBcLog *other, CrdtError *err);

/* Sorts and reduces (the state it stands for does not change), then writes the value. */
CrdtStatus	crdt_bclog_write(CrdtBcLog *log, CrdtBuf *out, CrdtError *err);

#endif							/* CRDT_BCOUNTER_H */
