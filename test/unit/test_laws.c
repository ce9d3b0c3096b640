/*
 * test_laws.c — the algebraic laws every CRDT type must obey, checked on
 * random values through its CrdtType descriptor.  A new type joins by
 * adding a row to "subjects": a generator and, optionally, its own laws.
 *
 * Equality is byte equality: values are canonical, so equal states have
 * equal bytes.
 */
#include "unit.h"

#include <string.h>

typedef struct LawCase LawCase;

typedef struct LawSubject
{
	const CrdtType *type;
	/* a random valid value, written to out (already reset) */
	void		(*generate) (LawCase *c, Rng *rng, CrdtBuf *out);
	/* laws of this type alone; may be NULL */
	void		(*extra) (LawCase *c);
	CrdtCounterKind kind;		/* for the counter family's generator and laws */
} LawSubject;

/* Result slots; each law uses fixed ones so slices stay valid while needed. */
enum
{
	R_AB, R_BA, R_BC, R_AB_C, R_A_BC, R_TMP, R_DELTA, R_TEXT, R_BYTES, R_SLOTS
};

struct LawCase
{
	const LawSubject *s;
	long		index;
	CrdtBuf		va;
	CrdtBuf		vb;
	CrdtBuf		vc;
	CrdtBuf		vempty;
	CrdtSlice	a;
	CrdtSlice	b;
	CrdtSlice	c;
	CrdtSlice	empty;
	CrdtBuf		r[R_SLOTS];
	Model		ma;				/* scratch models for generation and extra laws */
	Model		mb;
	Model		md;
};

/* The inputs of a failing case, so it can be reproduced and read. */
static void
law_note(const LawCase *c)
{
	const CrdtType *t = c->s->type;

	unit_note("%s case %ld; reproduce with CRDT_TEST_SEED=%llu", t->name, c->index,
			  (unsigned long long) unit_run.seed);
	unit_note("a = %s", show_typed(t, c->a));
	unit_note("b = %s", show_typed(t, c->b));
	unit_note("c = %s", show_typed(t, c->c));
}

static bool
law(LawCase *c, bool ok, const char *name)
{
	if (!CHECK_MSG(ok, "%s law \"%s\" fails", c->s->type->name, name))
		law_note(c);
	return ok;
}

/* x == y, showing both when not */
static bool
law_eq(LawCase *c, const char *name, CrdtSlice x, CrdtSlice y)
{
	if (law(c, slice_equal(x, y), name))
		return true;
	unit_note("left  = %s", show_typed(c->s->type, x));
	unit_note("right = %s", show_typed(c->s->type, y));
	return false;
}

static void
law_valid(LawCase *c, const char *what, CrdtSlice v)
{
	CrdtError	err;
	CrdtStatus	st = c->s->type->validate(v, &err);

	if (!CHECK_MSG(st == CRDT_OK, "%s: %s is not valid: %s at %ld: %s", c->s->type->name,
				   what, unit_status_name(st), err.position, err.message))
		law_note(c);
}

typedef CrdtStatus (*TypeOp) (CrdtSlice x, CrdtSlice y, CrdtBuf *out, CrdtError *err);

/*
 * Runs op into a result slot and checks it succeeded.  Validity is checked
 * by the callers, and only for results not compared with a value already
 * known valid: bytes equal to a valid value are valid.
 */
static CrdtSlice
law_op(LawCase *c, TypeOp op, const char *what, int slot, CrdtSlice x, CrdtSlice y)
{
	CrdtBuf    *out = &c->r[slot];
	CrdtError	err;
	CrdtStatus	st;

	buf_reset(out);
	st = op(x, y, out, &err);
	if (!CHECK_MSG(st == CRDT_OK, "%s: %s failed: %s at %ld: %s", c->s->type->name, what,
				   unit_status_name(st), err.position, err.message))
		law_note(c);
	return buf_slice(out);
}

static CrdtSlice
merge(LawCase *c, int slot, CrdtSlice x, CrdtSlice y)
{
	return law_op(c, c->s->type->merge, "merge", slot, x, y);
}

static CrdtSlice
delta(LawCase *c, int slot, CrdtSlice newer, CrdtSlice since)
{
	return law_op(c, c->s->type->delta, "delta", slot, newer, since);
}

/* ------------------------------------------------------------ generic laws */

static void
semilattice_laws(LawCase *c)
{
	CrdtSlice	ab = merge(c, R_AB, c->a, c->b);
	CrdtSlice	ba = merge(c, R_BA, c->b, c->a);
	CrdtSlice	bc = merge(c, R_BC, c->b, c->c);

	law_valid(c, "merge(a,b)", ab);
	law_valid(c, "merge(b,c)", bc);
	law_eq(c, "merge(a,b) = merge(b,a)", ab, ba);
	law_valid(c, "merge(merge(a,b),c)", merge(c, R_AB_C, ab, c->c));
	law_eq(c, "merge(merge(a,b),c) = merge(a,merge(b,c))",
		   buf_slice(&c->r[R_AB_C]), merge(c, R_A_BC, c->a, bc));
	law_eq(c, "merge(a,a) = a", merge(c, R_TMP, c->a, c->a), c->a);
	law_eq(c, "merge(a,empty) = a", merge(c, R_TMP, c->a, c->empty), c->a);
}

/* R_DELTA holds delta(b, a) afterwards, for the type's own laws. */
static void
delta_laws(LawCase *c)
{
	CrdtSlice	ab = buf_slice(&c->r[R_AB]);
	CrdtSlice	d = delta(c, R_DELTA, c->b, c->a);

	law_valid(c, "delta(b,a)", d);

	law_eq(c, "merge(a, delta(b,a)) = merge(a,b)", merge(c, R_TMP, c->a, d), ab);
	law_eq(c, "delta(a,a) = empty", delta(c, R_TMP, c->a, c->a), c->empty);
	law_eq(c, "delta(a, merge(a,b)) = empty", delta(c, R_TMP, c->a, ab), c->empty);
	/* minimal: nothing in the delta is already known to a (see also counter_laws) */
	law_eq(c, "delta(delta(b,a), a) = delta(b,a)", delta(c, R_TMP, d, c->a), d);
}

static void
text_laws(LawCase *c)
{
	const CrdtType *t = c->s->type;
	CrdtBuf    *text = &c->r[R_TEXT];
	CrdtBuf    *bytes = &c->r[R_BYTES];
	CrdtError	err;

	buf_reset(text);
	buf_reset(bytes);
	if (law(c, t->print(c->a, text, &err) == CRDT_OK, "print(a) succeeds") &&
		law(c, t->parse((const char *) text->data, text->len, bytes, &err) == CRDT_OK,
			"parse(print(a)) succeeds"))
		law_eq(c, "parse(print(a)) = a", buf_slice(bytes), c->a);
}

/* the type's total order (for btree), checked to be one of -1, 0, 1 */
static int
total_order(LawCase *c, CrdtSlice x, CrdtSlice y)
{
	CrdtError	err;
	int			r = 2;

	if (!CHECK_OK(c->s->type->compare(x, y, &r, &err), &err))
		law_note(c);
	law(c, r == -1 || r == 0 || r == 1, "compare gives -1, 0 or 1");
	return r;
}

static void
order_laws(LawCase *c)
{
	int			ab = total_order(c, c->a, c->b);
	int			bc = total_order(c, c->b, c->c);
	int			ac = total_order(c, c->a, c->c);

	law(c, total_order(c, c->a, c->a) == 0, "compare(a,a) = 0");
	law(c, total_order(c, c->b, c->a) == -ab, "compare(b,a) = -compare(a,b)");
	law(c, (ab == 0) == slice_equal(c->a, c->b), "compare(a,b) = 0 exactly when a = b");
	if (ab <= 0 && bc <= 0)
		law(c, ac <= 0, "a <= b <= c implies a <= c");
	if (ab >= 0 && bc >= 0)
		law(c, ac >= 0, "a >= b >= c implies a >= c");
}

/* ------------------------------------------------------------ counter family */

static void
generate_counter(LawCase *c, Rng *rng, CrdtBuf *out)
{
	c->ma.kind = c->s->kind;
	model_random(&c->ma, rng, 12);
	model_encode(&c->ma, out);
}

static void
decode(LawCase *c, Model *m, CrdtSlice v)
{
	CrdtError	err;

	m->kind = c->s->kind;
	if (!CHECK_MSG(model_decode(m, v, &err), "%s: cannot read back: %s", c->s->type->name,
				   err.message))
		law_note(c);
}

/* Each delta entry is b's entry and exceeds a's: none could be dropped. */
static void
counter_laws(LawCase *c)
{
	decode(c, &c->ma, c->a);
	decode(c, &c->mb, c->b);
	decode(c, &c->md, buf_slice(&c->r[R_DELTA]));
	for (int h = 0; h < 2; h++)
		for (size_t k = 0; k < c->md.n[h]; k++)
		{
			const ModelEntry *e = &c->md.half[h][k];

			if (!law(c, e->count == model_get(&c->mb, h, e->id, e->len) &&
					 e->count > model_get(&c->ma, h, e->id, e->len),
					 "a delta entry is b's count and exceeds a's"))
				unit_note("entry %s", show_text((const char *) e->id, e->len));
		}
	law(c, total_order(c, c->empty, c->a) <= 0, "the empty value sorts first");

	/* and every entry where b is ahead is in it */
	for (int h = 0; h < 2; h++)
		for (size_t k = 0; k < c->mb.n[h]; k++)
		{
			const ModelEntry *e = &c->mb.half[h][k];
			bool		ahead = e->count > model_get(&c->ma, h, e->id, e->len);

			law(c, ahead == (model_get(&c->md, h, e->id, e->len) != 0),
				"the delta has exactly the entries where b is ahead");
		}
}

static CrdtOrder
compare(LawCase *c, CrdtSlice x, CrdtSlice y)
{
	CrdtOrder	order = CRDT_ORDER_EQUAL;
	CrdtError	err;

	if (!CHECK_OK(crdt_vclock_compare(x, y, &order, &err), &err))
		law_note(c);
	return order;
}

/* distance(x, y): status, and the value in *d */
static CrdtStatus
distance(CrdtSlice x, CrdtSlice y, int64_t *d)
{
	CrdtError	err;
	CrdtStatus	st = crdt_vclock_distance(x, y, d, &err);

	CHECK_MSG(st == CRDT_OK || st == CRDT_ERR_OVERFLOW, "distance failed: %s: %s",
			  unit_status_name(st), err.message);
	return st;
}

static void
vclock_laws(LawCase *c)
{
	static const CrdtOrder mirror[] = {
		CRDT_ORDER_EQUAL, CRDT_ORDER_AFTER, CRDT_ORDER_BEFORE, CRDT_ORDER_CONCURRENT
	};
	CrdtSlice	ab = buf_slice(&c->r[R_AB]);
	CrdtOrder	o = compare(c, c->a, c->b);
	CrdtOrder	to_merged = compare(c, c->a, ab);
	bool		same = slice_equal(c->a, c->b);
	int64_t		dab = 0;
	int64_t		dba = 0;
	CrdtStatus	sab;
	CrdtStatus	sba;

	counter_laws(c);

	law(c, compare(c, c->a, c->a) == CRDT_ORDER_EQUAL, "compare(a,a) = equal");
	law(c, compare(c, c->b, c->a) == mirror[o], "compare(b,a) mirrors compare(a,b)");
	law(c, to_merged == (slice_equal(c->a, ab) ? CRDT_ORDER_EQUAL : CRDT_ORDER_BEFORE),
		"compare(a, merge(a,b)) is before, or equal when merge(a,b) = a");

	/* the order agrees with merge: a <= b exactly when merge(a,b) = b */
	law(c, (o == CRDT_ORDER_EQUAL) == same, "equal exactly when the bytes are");
	law(c, (o == CRDT_ORDER_BEFORE) == (!same && slice_equal(ab, c->b)),
		"before exactly when merge(a,b) = b != a");
	law(c, (o == CRDT_ORDER_AFTER) == (!same && slice_equal(ab, c->a)),
		"after exactly when merge(a,b) = a != b");
	law(c, (o == CRDT_ORDER_EQUAL || o == CRDT_ORDER_AFTER) ==
		slice_equal(buf_slice(&c->r[R_DELTA]), c->empty),
		"delta(b,a) is empty exactly when b <= a");

	/* distance is symmetric, zero only between equals, the growth along the order */
	sab = distance(c->a, c->b, &dab);
	sba = distance(c->b, c->a, &dba);
	law(c, sab == sba && (sab != CRDT_OK || dab == dba), "distance(a,b) = distance(b,a)");
	if (sab == CRDT_OK)
		law(c, (dab == 0) == same, "distance(a,b) = 0 exactly when a = b");
	if (sab == CRDT_OK && o == CRDT_ORDER_BEFORE)
	{
		int64_t		va;
		int64_t		vb;
		CrdtError	err;

		if (crdt_counter_value(CRDT_VCLOCK, c->b, &vb, &err) == CRDT_OK &&
			law(c, crdt_counter_value(CRDT_VCLOCK, c->a, &va, &err) == CRDT_OK,
				"a <= b and sum(b) fits, so sum(a) fits"))
			law(c, dab == vb - va, "a before b: distance(a,b) = sum(b) - sum(a)");
	}
}

static const LawSubject subjects[] = {
	{&crdt_type_vclock, generate_counter, vclock_laws, CRDT_VCLOCK},
	{&crdt_type_gcounter, generate_counter, counter_laws, CRDT_GCOUNTER},
	{&crdt_type_pncounter, generate_counter, counter_laws, CRDT_PNCOUNTER},
};

int
law_subject_count(void)
{
	return (int) (sizeof(subjects) / sizeof(subjects[0]));
}

const char *
law_subject_name(int index)
{
	return subjects[index].type->name;
}

/*
 * Inputs: a is random; b is a, or a merged with more, or unrelated; c is
 * b or unrelated.  Related inputs make "before" and equal ids common.
 */
static void
generate_case(LawCase *c, Rng *rng)
{
	uint64_t	shape = rng_below(rng, 10);

	/* until set, failure notes show the empty value, never stale bytes */
	c->a = c->b = c->c = c->empty;
	buf_reset(&c->va);
	c->s->generate(c, rng, &c->va);
	c->a = buf_slice(&c->va);

	buf_reset(&c->vb);
	if (shape < 2)
		crdt_buf_put(&c->vb, c->a.data, c->a.len);
	else
	{
		c->s->generate(c, rng, &c->vb);
		c->b = buf_slice(&c->vb);
		if (shape < 5)
		{
			CrdtSlice	grown = merge(c, R_TMP, c->a, c->b);

			buf_reset(&c->vb);
			crdt_buf_put(&c->vb, grown.data, grown.len);
		}
	}
	c->b = buf_slice(&c->vb);

	buf_reset(&c->vc);
	if (rng_percent(rng, 20))
		crdt_buf_put(&c->vc, c->b.data, c->b.len);
	else
		c->s->generate(c, rng, &c->vc);
	c->c = buf_slice(&c->vc);

	/* the generator's output must itself be valid */
	law_valid(c, "generated a", c->a);
	law_valid(c, "generated b", c->b);
	law_valid(c, "generated c", c->c);
}

void
test_laws(int index)
{
	LawCase		c;
	uint64_t	stream;

	c.s = &subjects[index];
	stream = rng_stream(c.s->type->name);
	buf_open(&c.va);
	buf_open(&c.vb);
	buf_open(&c.vc);
	buf_open(&c.vempty);
	for (int k = 0; k < R_SLOTS; k++)
		buf_open(&c.r[k]);
	model_init(&c.ma, c.s->kind, 64);
	model_init(&c.mb, c.s->kind, 64);
	model_init(&c.md, c.s->kind, 64);
	c.s->type->write_empty(&c.vempty);
	c.empty = buf_slice(&c.vempty);
	c.a = c.b = c.c = c.empty;
	c.index = -1;
	law_valid(&c, "empty", c.empty);

	for (c.index = 0; c.index < unit_run.cases; c.index++)
	{
		Rng			rng = rng_for_case(stream, (uint64_t) c.index);

		generate_case(&c, &rng);
		semilattice_laws(&c);
		delta_laws(&c);
		text_laws(&c);
		order_laws(&c);
		if (c.s->extra != NULL)
			c.s->extra(&c);
	}

	model_free(&c.ma);
	model_free(&c.mb);
	model_free(&c.md);
	for (int k = 0; k < R_SLOTS; k++)
		crdt_buf_free(&c.r[k]);
	crdt_buf_free(&c.va);
	crdt_buf_free(&c.vb);
	crdt_buf_free(&c.vc);
	crdt_buf_free(&c.vempty);
}
