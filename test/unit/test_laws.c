/*
 * test_laws.c — the algebraic laws every CRDT type must obey, checked on
 * random values through its CrdtType descriptor.  A new type joins by
 * adding a row to "subjects": a generator and, optionally, its own laws.
 * The set and register types draw their values from a simulated run of
 * replicas (test_model.c), shared by a few cases in a row, so that a, b
 * and c are states of one system; their own laws check merge and delta
 * against models.
 *
 * Equality is byte equality: values are canonical, so equal states have
 * equal bytes.
 */
#include "unit.h"
#include "../order_laws.h"

#include <string.h>

typedef struct LawCase LawCase;
typedef struct ModelFamily ModelFamily;

typedef struct LawSubject
{
	const CrdtType *type;
	/* a random valid value, written to out (already reset) */
	void		(*generate) (LawCase *c, Rng *rng, CrdtBuf *out);
	/* laws of this type alone; may be NULL */
	void		(*extra) (LawCase *c);
	/* the model merge and delta must agree with (model_laws); may be NULL */
	const ModelFamily *model;
	CrdtCounterKind kind;		/* for the counter family's generator and laws */
	/* run once per case before generating; may be NULL */
	void		(*prepare) (LawCase *c, Rng *rng);
	/* CRDT_TEST_CASES / divisor cases, said in the group name (0: 1) */
	int			divisor;
	const char *label;
} LawSubject;

/* Cases in a row that share one run of simulated replicas (prepare_world). */
#define WORLD_CASES 4

/* Interned byte strings (elements, values, replica ids) of one case. */
#define INTERN_MAX 16

typedef struct Intern
{
	CrdtBuf		bytes;
	size_t		at[INTERN_MAX + 1];
	int			n;
} Intern;

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
	World		world;			/* the run the set and register values come from */
	Intern		keys;			/* for the set and dotted models */
	Intern		ids;
};

/* The inputs of a failing case, so it can be reproduced and read. */
static void
law_note(const LawCase *c)
{
	const CrdtType *t = c->s->type;

	unit_note("%s case %ld; reproduce with CRDT_TEST_SEED=%llu", t->name, c->index,
			  (unsigned long long) unit_run.seed);
	if (c->s->prepare != NULL)
		unit_note("(its run of replicas began at case %ld)", c->index - c->index % WORLD_CASES);
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

/*
 * the type's total order (for btree), checked to be one of -1, 0, 1; ctx is
 * the LawCase (also order_laws.h's compare hook)
 */
static int
total_order(void *ctx, CrdtSlice x, CrdtSlice y)
{
	LawCase    *c = ctx;
	CrdtError	err;
	int			r = 2;

	if (!CHECK_OK(c->s->type->compare(x, y, &r, &err), &err))
		law_note(c);
	law(c, r == -1 || r == 0 || r == 1, "compare gives -1, 0 or 1");
	return r;
}

/* order_laws.h's law hook */
static void
order_law(void *c, bool holds, const char *name)
{
	law(c, holds, name);
}

static void
order_laws(LawCase *c)
{
	OrderLaws	o = {total_order, order_law, c};

	order_laws_check(&o, c->a, c->b, c->c, c->empty);
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

/* ------------------------------------------------------------ sets and registers */

/*
 * a, b and c are states of a run on 2..5 replicas.  Four cases in a row
 * share a run, which goes on 0..8 steps per case after 0..16 at its
 * start: richer states for less work (generation is half the cost).
 */
static void
prepare_world(LawCase *c, Rng *rng)
{
	int			steps = (int) rng_below(rng, c->index % WORLD_CASES == 0 ? 17 : 9);

	if (c->index % WORLD_CASES == 0)
		world_reset(&c->world, rng);
	for (int k = 0; k < steps; k++)
		world_step(&c->world, rng);
}

static void
generate_world(LawCase *c, Rng *rng, CrdtBuf *out)
{
	world_pick(&c->world, rng, out);
}

static void
intern_clear(Intern *t)
{
	buf_reset(&t->bytes);
	t->at[0] = 0;
	t->n = 0;
}

/* The index of bytes in t, added if new; -1 when t is full. */
static int
intern(Intern *t, const uint8_t *bytes, size_t len)
{
	for (int i = 0; i < t->n; i++)
		if (slice_equal(slice_of(t->bytes.data + t->at[i], t->at[i + 1] - t->at[i]),
						slice_of(bytes, len)))
			return i;
	if (t->n == INTERN_MAX)
		return -1;
	crdt_buf_put(&t->bytes, bytes, len);
	t->at[++t->n] = t->bytes.len;
	return t->n - 1;
}

static const char *
show_interned(const Intern *t, int i)
{
	return show_text((const char *) t->bytes.data + t->at[i], t->at[i + 1] - t->at[i]);
}

/*
 * gset and twopset as bit sets over the case's elements: list[0] present,
 * list[1] removed.  Merge and delta are restated on them from the
 * definitions, and the core's results must read back equal.
 */
typedef struct SetModel
{
	uint64_t	list[2];
} SetModel;

/*
 * orset and mvreg: per replica the counters its context has seen, per key
 * and replica the counters of its dots, as bit sets (counter c is bit
 * c - 1; runs are short, so counters stay small).
 */
#define DM_REPLICAS 8
#define DM_KEYS 8

typedef struct DotModel
{
	uint64_t	seen[DM_REPLICAS];
	uint64_t	dots[DM_KEYS][DM_REPLICAS];
} DotModel;

/*
 * The laws of both: the core's merge and delta of a and b read back as the
 * model's.  A family reads its model from a value (false: no verdict),
 * restates merge and delta on it, and shows where two models differ.
 */
typedef union ModelOf
{
	SetModel	set;
	DotModel	dot;
} ModelOf;

struct ModelFamily
{
	bool		(*read) (LawCase *c, CrdtSlice v, ModelOf *m);
	/* the models of merge(a, b) and delta(b, a) */
	void		(*expect) (const ModelOf *a, const ModelOf *b, ModelOf *merged, ModelOf *delta);
	void		(*law) (LawCase *c, const char *name, const ModelOf *got, const ModelOf *want);
};

static void
model_laws(LawCase *c, const ModelFamily *f)
{
	ModelOf		a,
				b,
				ab,
				d,
				merged,
				delta;

	intern_clear(&c->keys);
	intern_clear(&c->ids);
	if (!f->read(c, c->a, &a) || !f->read(c, c->b, &b) ||
		!f->read(c, buf_slice(&c->r[R_AB]), &ab) ||
		!f->read(c, buf_slice(&c->r[R_DELTA]), &d))
		return;
	f->expect(&a, &b, &merged, &delta);
	f->law(c, "merge is the model's", &ab, &merged);
	f->law(c, "delta is the model's", &d, &delta);
}

static bool
set_model_read(LawCase *c, CrdtSlice v, ModelOf *model)
{
	SetModel   *m = &model->set;
	CrdtSetKind kind = c->s->type == &crdt_type_gset ? CRDT_GSET : CRDT_TWOPSET;
	CrdtSlice	lists[2];
	CrdtKeyReader r;
	CrdtError	err;

	m->list[0] = m->list[1] = 0;
	if (!CHECK_OK(crdt_set_lists(kind, v, lists, &err), &err))
		return false;
	for (int i = 0; i < 2; i++)
	{
		const uint8_t *key;
		size_t		len;
		int			rc;

		crdt_keys_reader_init(&r, CRDT_KEYS_FRONT_CODED, lists[i].data, lists[i].len, 0);
		while ((rc = crdt_keys_reader_next(&r, &key, &len, &err)) > 0)
		{
			int			k = intern(&c->keys, key, len);

			if (k < 0)
				return false;	/* more elements than the model holds: no verdict */
			m->list[i] |= UINT64_C(1) << k;
		}
		if (!CHECK_MSG(rc == 0, "%s: reading list %d failed: %s", c->s->type->name, i,
					   err.message))
			return false;
	}
	return true;
}

/*
 * merge: removed is the union; present the union of the present, minus the
 * removed.  delta(b, a): what a lacks and would keep.
 */
static void
set_model_expect(const ModelOf *a_model, const ModelOf *b_model, ModelOf *merged, ModelOf *delta)
{
	const SetModel *a = &a_model->set;
	const SetModel *b = &b_model->set;

	merged->set.list[1] = a->list[1] | b->list[1];
	merged->set.list[0] = (a->list[0] | b->list[0]) & ~merged->set.list[1];
	delta->set.list[1] = b->list[1] & ~a->list[1];
	delta->set.list[0] = b->list[0] & ~a->list[0] & ~a->list[1];
}

static void
set_model_law(LawCase *c, const char *name, const ModelOf *got_model, const ModelOf *want_model)
{
	const SetModel *got = &got_model->set;
	const SetModel *want = &want_model->set;

	if (law(c, got->list[0] == want->list[0] && got->list[1] == want->list[1], name))
		return;
	for (int k = 0; k < c->keys.n; k++)
		for (int i = 0; i < 2; i++)
			if ((got->list[i] ^ want->list[i]) >> k & 1)
				unit_note("element %s: %s in list %d, expected %s", show_interned(&c->keys, k),
						  got->list[i] >> k & 1 ? "present" : "absent", i,
						  want->list[i] >> k & 1 ? "present" : "absent");
}

static const ModelFamily set_family = {
	set_model_read, set_model_expect, set_model_law
};

static bool
read_varint(const uint8_t **p, const uint8_t *end, uint64_t *v)
{
	return crdt_varint_decode(p, end, v) == CRDT_VARINT_OK;
}

/* Reads the layout of crdt_types.h; false (with no verdict) past the model's limits. */
static bool
dot_model_read(LawCase *c, CrdtSlice v, ModelOf *model)
{
	DotModel   *m = &model->dot;
	CrdtDottedKind kind = c->s->type == &crdt_type_orset ? CRDT_ORSET : CRDT_MVREG;
	CrdtKeyReader r;
	CrdtError	err;
	const uint8_t *key;
	size_t		len;
	int			rid[DM_REPLICAS + 1];
	int			nids = 0;
	int			rc;
	bool		ok = true;

	memset(m, 0, sizeof(*m));
	crdt_keys_reader_init(&r, CRDT_KEYS_FRONT_CODED, v.data + 1, v.len - 1, 1);
	while ((rc = crdt_keys_reader_next(&r, &key, &len, &err)) > 0)
	{
		uint64_t	nranges;
		uint64_t	hi = 0;
		int			i = intern(&c->ids, key, len);

		if (i < 0 || i >= DM_REPLICAS || nids == DM_REPLICAS)
			return false;
		rid[nids++] = i;
		ok &= read_varint(&r.pos, r.end, &nranges);
		for (uint64_t k = 0; ok && k < nranges; k++)
		{
			uint64_t	gap = 0,
						width = 0,
						lo;

			ok &= read_varint(&r.pos, r.end, &gap) && read_varint(&r.pos, r.end, &width);
			lo = k == 0 ? 1 + gap : hi + 2 + gap;
			hi = lo + width;
			if (hi > 64)
				return false;
			m->seen[i] |= (hi == 64 ? UINT64_MAX : (UINT64_C(1) << hi) - 1) &
				~((UINT64_C(1) << (lo - 1)) - 1);
		}
	}
	if (!CHECK_MSG(ok && rc == 0, "%s: cannot read the context", c->s->type->name))
		return false;
	crdt_keys_reader_init(&r, kind == CRDT_ORSET ? CRDT_KEYS_FRONT_CODED : CRDT_KEYS_PLAIN,
						  r.pos, (size_t) (v.data + v.len - r.pos), 0);
	while ((rc = crdt_keys_reader_next(&r, &key, &len, &err)) > 0)
	{
		uint64_t	ndots;
		int			k = intern(&c->keys, key, len);

		if (k < 0 || k >= DM_KEYS)
			return false;
		ok &= read_varint(&r.pos, r.end, &ndots);
		for (uint64_t n = 0; ok && n < ndots; n++)
		{
			uint64_t	index = 0,
						counter = 0;

			ok &= read_varint(&r.pos, r.end, &index) && read_varint(&r.pos, r.end, &counter) &&
				index < (uint64_t) nids && counter >= 1;
			if (ok && counter > 64)
				return false;
			if (ok)
				m->dots[k][rid[index]] |= UINT64_C(1) << (counter - 1);
		}
	}
	return CHECK_MSG(ok && rc == 0, "%s: cannot read the keys", c->s->type->name);
}

/*
 * merge: contexts unite; a dot stays if both have it or the other has not
 * seen it.  delta(b, a): b's dots a has not seen; as context what a has not
 * seen, plus a's dots that b has seen and dropped (so that a drops them too).
 */
static void
dot_model_expect(const ModelOf *a_model, const ModelOf *b_model, ModelOf *merged, ModelOf *delta)
{
	const DotModel *a = &a_model->dot;
	const DotModel *b = &b_model->dot;
	DotModel   *m = &merged->dot;
	DotModel   *d = &delta->dot;

	memset(m, 0, sizeof(*m));
	memset(d, 0, sizeof(*d));
	for (int i = 0; i < DM_REPLICAS; i++)
	{
		m->seen[i] = a->seen[i] | b->seen[i];
		d->seen[i] = b->seen[i] & ~a->seen[i];
		for (int k = 0; k < DM_KEYS; k++)
		{
			m->dots[k][i] = (a->dots[k][i] & b->dots[k][i]) | (a->dots[k][i] & ~b->seen[i]) |
				(b->dots[k][i] & ~a->seen[i]);
			d->dots[k][i] = b->dots[k][i] & ~a->seen[i];
			d->seen[i] |= a->dots[k][i] & b->seen[i] & ~b->dots[k][i];
		}
	}
}

static void
dot_model_law(LawCase *c, const char *name, const ModelOf *got_model, const ModelOf *want_model)
{
	const DotModel *got = &got_model->dot;
	const DotModel *want = &want_model->dot;

	if (law(c, memcmp(got, want, sizeof(DotModel)) == 0, name))
		return;
	for (int i = 0; i < c->ids.n && i < DM_REPLICAS; i++)
	{
		if (got->seen[i] != want->seen[i])
			unit_note("context of %s: counters 0x%llx, expected 0x%llx (bit c-1 = counter c)",
					  show_interned(&c->ids, i), (unsigned long long) got->seen[i],
					  (unsigned long long) want->seen[i]);
		for (int k = 0; k < c->keys.n && k < DM_KEYS; k++)
			if (got->dots[k][i] != want->dots[k][i])
				unit_note("dots of %s on key %s: 0x%llx, expected 0x%llx",
						  show_interned(&c->ids, i), show_interned(&c->keys, k),
						  (unsigned long long) got->dots[k][i],
						  (unsigned long long) want->dots[k][i]);
	}
}

static const ModelFamily dot_family = {
	dot_model_read, dot_model_expect, dot_model_law
};

/* The lwwreg order restated: empty lowest, then (at, replica, value) bytes. */
static int
bytes_order(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
	size_t		n = alen < blen ? alen : blen;

	for (size_t k = 0; k < n; k++)
		if (a[k] != b[k])
			return a[k] < b[k] ? -1 : 1;
	return (alen > blen) - (alen < blen);
}

static int
lww_order(const CrdtLww *x, const CrdtLww *y)
{
	int			c = (int) y->empty - (int) x->empty;

	if (c == 0 && !x->empty)
		c = (x->at > y->at) - (x->at < y->at);
	if (c == 0 && !x->empty)
		c = bytes_order(x->replica, x->replica_len, y->replica, y->replica_len);
	if (c == 0 && !x->empty)
		c = bytes_order(x->value, x->value_len, y->value, y->value_len);
	return c;
}

static void
lww_laws(LawCase *c)
{
	CrdtLww		a,
				b;
	CrdtError	err;
	int			order;

	if (!CHECK_OK(crdt_lww_read(c->a, &a, &err), &err) ||
		!CHECK_OK(crdt_lww_read(c->b, &b, &err), &err))
		return;
	order = lww_order(&a, &b);
	law_eq(c, "merge keeps the greater write", buf_slice(&c->r[R_AB]), order >= 0 ? c->a : c->b);
	law_eq(c, "delta(b,a) is b when b wins, else empty", buf_slice(&c->r[R_DELTA]),
		   order < 0 ? c->b : c->empty);
	law(c, total_order(c, c->a, c->b) == order, "compare is the write order");
}

static const LawSubject subjects[] = {
	{&crdt_type_vclock, generate_counter, vclock_laws, NULL, CRDT_VCLOCK, NULL, 0, NULL},
	{&crdt_type_gcounter, generate_counter, counter_laws, NULL, CRDT_GCOUNTER, NULL, 0, NULL},
	{&crdt_type_pncounter, generate_counter, counter_laws, NULL, CRDT_PNCOUNTER, NULL, 0, NULL},
	{&crdt_type_gset, generate_world, NULL, &set_family, CRDT_VCLOCK, prepare_world, 0, NULL},
	{&crdt_type_twopset, generate_world, NULL, &set_family, CRDT_VCLOCK, prepare_world, 0, NULL},
	/* each case runs ~35 merges and deltas of dotted stores, ~20 us each under ASan */
	{&crdt_type_orset, generate_world, NULL, &dot_family, CRDT_VCLOCK, prepare_world, 4,
	"orset (1/4 cases)"},
	{&crdt_type_mvreg, generate_world, NULL, &dot_family, CRDT_VCLOCK, prepare_world, 4,
	"mvreg (1/4 cases)"},
	{&crdt_type_lwwreg, generate_world, lww_laws, NULL, CRDT_VCLOCK, prepare_world, 0, NULL},
};

int
law_subject_count(void)
{
	return (int) (sizeof(subjects) / sizeof(subjects[0]));
}

const char *
law_subject_name(int index)
{
	return subjects[index].label != NULL ? subjects[index].label : subjects[index].type->name;
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
	if (c->s->prepare != NULL)
		c->s->prepare(c, rng);
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
	crdt_bufs_init(&crdt_malloc_allocator, &c.va, &c.vb, &c.vc, &c.vempty, NULL);
	for (int k = 0; k < R_SLOTS; k++)
		buf_open(&c.r[k]);
	model_init(&c.ma, c.s->kind, 64);
	model_init(&c.mb, c.s->kind, 64);
	model_init(&c.md, c.s->kind, 64);
	if (c.s->prepare != NULL)
		world_open(&c.world, c.s->type);
	buf_open(&c.keys.bytes);
	buf_open(&c.ids.bytes);
	c.s->type->write_empty(&c.vempty);
	c.empty = buf_slice(&c.vempty);
	c.a = c.b = c.c = c.empty;
	c.index = -1;
	law_valid(&c, "empty", c.empty);

	for (c.index = 0; c.index < unit_cases_div(c.s->divisor > 0 ? c.s->divisor : 1); c.index++)
	{
		Rng			rng = rng_for_case(stream, (uint64_t) c.index);

		generate_case(&c, &rng);
		semilattice_laws(&c);
		delta_laws(&c);
		text_laws(&c);
		order_laws(&c);
		if (c.s->extra != NULL)
			c.s->extra(&c);
		if (c.s->model != NULL)
			model_laws(&c, c.s->model);
	}

	model_free(&c.ma);
	model_free(&c.mb);
	model_free(&c.md);
	if (c.s->prepare != NULL)
		world_close(&c.world);
	crdt_buf_free(&c.keys.bytes);
	crdt_buf_free(&c.ids.bytes);
	for (int k = 0; k < R_SLOTS; k++)
		crdt_buf_free(&c.r[k]);
	crdt_bufs_free(&c.va, &c.vb, &c.vc, &c.vempty, NULL);
}
