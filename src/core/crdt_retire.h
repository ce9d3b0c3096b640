/*
 * crdt_retire.h — retirement markers (docs/RETIREMENT.md): a value may
 * carry, per retired replica R, a marker R -> (successor, amounts) that
 * holds what R contributed and tells merge to absorb R's entries of any
 * other copy.  Included through crdt_core.h.
 *
 * Layout of a value with markers (format version 2): 0x02, the marker
 * list, then a complete version-1 value (its own 0x01 first), so the body
 * is read in place.  Marker list: markers in strictly increasing order of
 * retired id bytes, then 0x00.  Marker: varint |R| (1..64), R, varint |S|,
 * S (S != R), then one varint amount per map of a counter type (vclock and
 * gcounter 1, pncounter 2: P then N; 0 allowed), none for orset and mvreg.
 * The list is never empty (a value without markers is version 1), and a
 * counter body has no entry for a marked id.
 */
#ifndef CRDT_RETIRE_H
#define CRDT_RETIRE_H

#include "crdt_types.h"

#define CRDT_FORMAT_V2_MARKED 2

/* What the marker layer needs to know of a type. */
typedef struct CrdtRetireShape
{
	const CrdtType *plain;		/* the type's version-1 operations */
	int			amounts;		/* varints per marker: 0 (dotted), 1, 2 (pncounter) */
	CrdtCounterKind kind;		/* for the counter types */
} CrdtRetireShape;

extern const CrdtRetireShape crdt_shape_vclock;
extern const CrdtRetireShape crdt_shape_gcounter;
extern const CrdtRetireShape crdt_shape_pncounter;
extern const CrdtRetireShape crdt_shape_orset;
extern const CrdtRetireShape crdt_shape_mvreg;

/* True when value carries markers (format version 2). */
static inline bool
crdt_value_marked(CrdtSlice value)
{
	return value.len >= 1 && value.data[0] == CRDT_FORMAT_V2_MARKED;
}

/*
 * The version-1 body of value (value itself when it has no markers) and
 * its marker list (len 0 when none), read in place, markers checked.
 */
CrdtStatus	crdt_retire_split(const CrdtRetireShape *shape, CrdtSlice value,
							  CrdtSlice *markers, CrdtSlice *body, CrdtError *err);

/*
 * value with retired folded into a marker retired -> successor.
 * CRDT_ERR_ARGUMENT for an invalid id or retired == successor.
 */
CrdtStatus	crdt_retire(const CrdtRetireShape *shape, CrdtSlice value,
						const uint8_t *retired, size_t retired_len,
						const uint8_t *successor, size_t successor_len,
						CrdtBuf *out, CrdtError *err);

/*
 * Compaction of a value into group, whose members are ids; res->changed
 * tells whether the value changed.  Counters and clocks (docs/RETIREMENT.md,
 * "Dropping the markers"): the markers and entries of ids replaced by one
 * marker group -> "~" holding the sum of their amounts; res->ready is
 * always true.  Exact only once every copy that may meet the result holds
 * the final amounts of ids, or is compacted the same way first; a value
 * that already has the group's marker just drops what it names of ids.
 * orset and mvreg: see crdt_dotted_compact.  CRDT_ERR_ARGUMENT for bad ids
 * or a group among its own ids.
 */
#define CRDT_GROUP_SUCCESSOR "~"
typedef struct CrdtCompaction
{
	bool		changed;
	bool		ready;
	bool		named;
	uint64_t	total;
} CrdtCompaction;

CrdtStatus	crdt_retire_compact(const CrdtRetireShape *shape, CrdtSlice value,
								const uint8_t *group, size_t group_len,
								const CrdtSlice *ids, size_t n, CrdtBuf *out,
								CrdtCompaction *res, CrdtError *err);

/* CRDT_ERR_ARGUMENT for a bad group or member id, or a group among its own members. */
CrdtStatus	crdt_retire_check_group(const uint8_t *group, size_t group_len, const CrdtSlice *ids,
									size_t n, CrdtError *err);

/*
 * body (version 1) with markers, minus those of ids (*found: there were
 * some), plus the marker group -> "~" when it is not there yet.  For the
 * dotted types (no amounts).
 */
CrdtStatus	crdt_retire_regroup(const CrdtRetireShape *shape, CrdtSlice markers,
								const uint8_t *group, size_t group_len, const CrdtSlice *ids,
								size_t n, CrdtSlice body, CrdtBuf *out, bool *found,
								CrdtError *err);

/*
 * crdt_retire_compact of an orset or mvreg value, checked and split into
 * markers and body (docs/RETIREMENT.md, "Compacting the dots"): with
 * R1 < ... < Rm the members of group by bytes and c_i the value's context
 * counter of Ri, every dot (Ri, k) becomes (group, c_1 + ... + c_(i-1) + k),
 * the members' context entries become the one entry group:
 * 1..(c_1 + ... + c_m), their markers the group's marker.  Exact once the
 * counters are final (every copy then renames alike).  ready is false, and
 * the value left as it is, when a member's or the group's context is not
 * contiguous from 1, or the value holds both the group and a member (a
 * merge of a compacted and an uncompacted copy that was not lifted first).
 * total: the group's counter in the result (the members' sum when named);
 * named: a member had a context entry.
 */
CrdtStatus	crdt_dotted_compact(const CrdtRetireShape *shape, CrdtSlice value, CrdtSlice markers,
								CrdtSlice body, const uint8_t *group, size_t group_len,
								const CrdtSlice *ids, size_t n, CrdtBuf *out, CrdtCompaction *res,
								CrdtError *err);

/* Whether a dotted body's context names any of ids (sorted by bytes). */
CrdtStatus	crdt_dotted_names_any(const CrdtRetireShape *shape, CrdtSlice body,
								  const CrdtSlice *ids, size_t n, bool *any, CrdtError *err);

/* The index of id among ids (sorted by bytes), or -1. */
long		crdt_slice_index(const CrdtSlice *ids, size_t n, const uint8_t *id, size_t len);

/* Whether value names any of ids (sorted by bytes), as a marker, an entry or (orset, mvreg) a context entry: a cheap test before compacting. */
CrdtStatus	crdt_retire_names_any(const CrdtRetireShape *shape, CrdtSlice value, const CrdtSlice *ids,
								  size_t n, bool *any, CrdtError *err);

/*
 * The version-1 value with the same answers to every reading function:
 * a counter's marker amounts back as entries, a dotted value's body.
 */
CrdtStatus	crdt_retire_unfold(const CrdtRetireShape *shape, CrdtSlice value,
							   CrdtBuf *out, CrdtError *err);

/*
 * For mutators: CRDT_ERR_RETIRED when value marks replica as retired,
 * else the body to mutate (in place); crdt_retire_rejoin then writes the
 * mutated body back with the markers.
 */
CrdtStatus	crdt_retire_writable(const CrdtRetireShape *shape, CrdtSlice value,
								 const uint8_t *replica, size_t len,
								 CrdtSlice *markers, CrdtSlice *body, CrdtError *err);
CrdtStatus	crdt_retire_rejoin(CrdtSlice markers, CrdtSlice body, CrdtBuf *out,
							   CrdtError *err);

/* The markers of value, to list them: 1 with the next, 0 at the end, -1 on error. */
typedef struct CrdtMarker
{
	const uint8_t *retired;
	size_t		retired_len;
	const uint8_t *successor;
	size_t		successor_len;
	uint64_t	amount[2];
} CrdtMarker;

typedef struct CrdtMarkerReader
{
	const uint8_t *pos;
	const uint8_t *end;
	const uint8_t *start;
	int			amounts;
	const uint8_t *prev;
	size_t		prev_len;
	size_t		count;
	bool		done;
} CrdtMarkerReader;

void		crdt_marker_reader_init(CrdtMarkerReader *r, const CrdtRetireShape *shape,
									CrdtSlice markers);
int			crdt_marker_reader_next(CrdtMarkerReader *r, CrdtMarker *m, CrdtError *err);

/* Operations of the marked types on values with or without markers. */
CrdtStatus	crdt_marked_validate(const CrdtRetireShape *shape, CrdtSlice value, CrdtError *err);
CrdtStatus	crdt_marked_parse(const CrdtRetireShape *shape, const char *text, size_t len,
							  CrdtBuf *out, CrdtError *err);
CrdtStatus	crdt_marked_print(const CrdtRetireShape *shape, CrdtSlice value, CrdtBuf *out,
							  CrdtError *err);
CrdtStatus	crdt_marked_merge(const CrdtRetireShape *shape, CrdtSlice a, CrdtSlice b,
							  CrdtBuf *out, CrdtError *err);
CrdtStatus	crdt_marked_delta(const CrdtRetireShape *shape, CrdtSlice newer, CrdtSlice since,
							  CrdtBuf *out, CrdtError *err);
CrdtStatus	crdt_marked_compare(const CrdtRetireShape *shape, CrdtSlice a, CrdtSlice b,
								int *result, CrdtError *err);

#endif							/* CRDT_RETIRE_H */
