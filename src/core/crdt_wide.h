/*
 * crdt_wide.h — 128-bit unsigned sums of counts, so that no sum of int64
 * counts wraps, and their difference as an int64 (the counters' and the
 * bounded counter's values and rights).
 */
#ifndef CRDT_WIDE_H
#define CRDT_WIDE_H

#include <stdbool.h>
#include <stdint.h>

typedef struct CrdtWide
{
	uint64_t	hi;
	uint64_t	lo;
} CrdtWide;

static inline void
crdt_wide_add(CrdtWide *w, uint64_t v)
{
	w->lo += v;
	if (w->lo < v)
		w->hi++;
}

/*
 * plus - minus as an int64 in *result; false when it does not fit.
 * *negative says the sign even then.
 */
static inline bool
crdt_wide_difference(CrdtWide plus, CrdtWide minus, int64_t *result, bool *negative)
{
	bool		neg = plus.hi < minus.hi || (plus.hi == minus.hi && plus.lo < minus.lo);
	CrdtWide	big = neg ? minus : plus;
	CrdtWide	small = neg ? plus : minus;
	uint64_t	lo = big.lo - small.lo;
	uint64_t	hi = big.hi - small.hi - (big.lo < small.lo ? 1 : 0);

	*negative = neg;
	if (hi != 0 || lo > (uint64_t) INT64_MAX + (neg ? 1 : 0))
		return false;
	*result = !neg ? (int64_t) lo : lo == (uint64_t) INT64_MAX + 1 ? INT64_MIN : -(int64_t) lo;
	return true;
}

#endif							/* CRDT_WIDE_H */
