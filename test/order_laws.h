/*
 * order_laws.h — the laws of a type's total order (compare), stated once
 * for the unit law tests (test/unit/test_laws.c) and the laws fuzz target
 * (test/fuzz/laws.c).  Each harness brings its own checked compare and its
 * own way to report a law; header-only, as the two are built separately.
 */
#ifndef ORDER_LAWS_H
#define ORDER_LAWS_H

#include "crdt_core.h"

#include <stdbool.h>
#include <string.h>

typedef struct OrderLaws
{
	/* compare(x, y), the harness checks it succeeds and gives -1, 0 or 1 */
	int			(*compare) (void *ctx, CrdtSlice x, CrdtSlice y);
	/* records one law: holds is whether it held */
	void		(*law) (void *ctx, bool holds, const char *name);
	void	   *ctx;
} OrderLaws;

/*
 * Antisymmetric, 0 exactly on equal bytes, transitive over a, b and c, and
 * the empty value first (btree puts never-written rows first); gives
 * compare(a, b).
 */
static inline int
order_laws_check(const OrderLaws *o, CrdtSlice a, CrdtSlice b, CrdtSlice c, CrdtSlice empty)
{
	int			ab = o->compare(o->ctx, a, b);
	int			bc = o->compare(o->ctx, b, c);
	int			ac = o->compare(o->ctx, a, c);
	bool		same = a.len == b.len && (a.len == 0 || memcmp(a.data, b.data, a.len) == 0);

	o->law(o->ctx, o->compare(o->ctx, a, a) == 0, "compare(a,a) = 0");
	o->law(o->ctx, o->compare(o->ctx, b, a) == -ab, "compare(b,a) = -compare(a,b)");
	o->law(o->ctx, (ab == 0) == same, "compare(a,b) = 0 exactly when a = b");
	if (ab <= 0 && bc <= 0)
		o->law(o->ctx, ac <= 0, "a <= b <= c implies a <= c");
	if (ab >= 0 && bc >= 0)
		o->law(o->ctx, ac >= 0, "a >= b >= c implies a >= c");
	o->law(o->ctx, o->compare(o->ctx, empty, a) <= 0, "the empty value sorts first");
	return ab;
}

#endif							/* ORDER_LAWS_H */
