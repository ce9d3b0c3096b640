/*
 * test_compact.c — dropping retirement markers (crdt_retire_compact,
 * docs/RETIREMENT.md "Dropping the markers") for the counters and clocks,
 * and the renaming of dots for orset and mvreg (crdt_dotted_compact, at
 * the end: the same fleet, element sets checked against the shadows).
 *
 * A fleet runs twice in step: the nodes (retirements, compaction into
 * groups, the registry's lift of every arriving copy) and their shadows
 * (none of it).  Retired replicas stop writing; the fleet heals (the
 * premise of compaction: every node holds their final entries); groups
 * are formed at random nodes, one node after the other, while live
 * replicas go on writing and old copies from before the retirement (late
 * applies, restored dumps) and duplicates keep arriving, each lifted
 * through the groups known so far, as the tracked-table trigger does.
 * After every step each node's value equals its shadow's (counters: the
 * same crdt_value; clocks: the same order against every other node), and
 * after the heal all nodes are byte-equal, carry no retired id, and the
 * counters hold exactly what was issued.
 */
#include "unit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NODES 4
#define IDS 8
#define OLD 3					/* old copies kept per node */

/* A compaction group: the ids it replaced, as the registry lists them. */
typedef struct Group
{
	const char *name;
	CrdtSlice	ids[IDS];
	size_t		n;
} Group;

/*
 * Each node's value and its shadow's, and old copies of both (late
 * applies, restored dumps), for both fleets.
 */
typedef struct Copies
{
	CrdtBuf		node[NODES];
	CrdtBuf		shadow[NODES];
	CrdtBuf		old[NODES][OLD];
	CrdtBuf		old_shadow[NODES][OLD];
	CrdtBuf		tmp;
} Copies;

/* every node and old copy empty */
static void
copies_open(Copies *c, const CrdtType *type)
{
	crdt_buf_init(&c->tmp, &crdt_malloc_allocator, 0);
	for (int i = 0; i < NODES; i++)
	{
		crdt_bufs_init(&crdt_malloc_allocator, &c->node[i], &c->shadow[i], NULL);
		type->write_empty(&c->node[i]);
		type->write_empty(&c->shadow[i]);
		for (int o = 0; o < OLD; o++)
		{
			crdt_bufs_init(&crdt_malloc_allocator, &c->old[i][o], &c->old_shadow[i][o], NULL);
			type->write_empty(&c->old[i][o]);
			type->write_empty(&c->old_shadow[i][o]);
		}
	}
}

static void
copies_close(Copies *c)
{
	crdt_buf_free(&c->tmp);
	for (int i = 0; i < NODES; i++)
	{
		crdt_bufs_free(&c->node[i], &c->shadow[i], NULL);
		for (int o = 0; o < OLD; o++)
			crdt_bufs_free(&c->old[i][o], &c->old_shadow[i][o], NULL);
	}
}

/* *into merged with v (through c->tmp) */
static void
copies_merge(Copies *c, const CrdtType *type, CrdtBuf *into, CrdtSlice v)
{
	CrdtError	err;

	buf_reset(&c->tmp);
	if (CHECK_OK(type->merge(buf_slice(into), v, &c->tmp, &err), &err))
		buf_take(into, &c->tmp);
}

/*
 * Every node receives every node's value, twice round: the fleet healed.
 * receive is the fleet's own (w is its fleet, c its copies).
 */
static void
heal_all(void *w, const Copies *c, void (*receive) (void *w, int i, CrdtSlice from, CrdtSlice from_shadow))
{
	for (int round = 0; round < 2; round++)
		for (int i = 0; i < NODES; i++)
			for (int j = 0; j < NODES; j++)
				receive(w, i, buf_slice(&c->node[j]), buf_slice(&c->shadow[j]));
}

typedef struct Mesh
{
	const RetireSubject *s;
	Copies		c;
	CrdtSlice	id[IDS];
	bool		retired[IDS];
	bool		compacted[IDS];
	Group		group[2];
	int			groups;
	int64_t		issued;
} Mesh;

static void
mesh_open(Mesh *w, const RetireSubject *s, Rng *rng)
{
	memset(w, 0, sizeof(*w));
	w->s = s;
	copies_open(&w->c, s->type);
	for (int k = 0; k < IDS; k++)
	{
		bool		again;

		do
		{
			w->id[k] = pool_replica((size_t) rng_below(rng, pool_replicas()));
			again = w->id[k].len > 0 && w->id[k].data[0] == '~';
			for (int j = 0; j < k; j++)
				again |= slice_equal(w->id[j], w->id[k]);
		} while (again);
	}
}


/* v through every group the registry knows, in order: what the trigger does. */
static bool
lift(Mesh *w, CrdtBuf *v, int *named)
{
	for (int g = 0; g < w->groups; g++)
	{
		CrdtError	err;
		CrdtCompaction res;

		buf_reset(&w->c.tmp);
		if (!CHECK_OK(crdt_retire_compact(w->s->shape, buf_slice(v), (const uint8_t *) w->group[g].name,
										  strlen(w->group[g].name), w->group[g].ids, w->group[g].n,
										  &w->c.tmp, &res, &err), &err))
			return false;
		buf_take(v, &w->c.tmp);
		if (named != NULL)
			*named += res.changed;
	}
	return true;
}

/* node i receives from (lifted first, as an arriving copy is) */
static void
receive(void *mesh, int i, CrdtSlice from, CrdtSlice from_shadow)
{
	Mesh	   *w = mesh;
	CrdtBuf		arriving;

	crdt_buf_init(&arriving, &crdt_malloc_allocator, 0);
	crdt_buf_put(&arriving, from.data, from.len);
	if (lift(w, &arriving, NULL) && lift(w, &w->c.node[i], NULL))
		copies_merge(&w->c, w->s->type, &w->c.node[i], buf_slice(&arriving));
	copies_merge(&w->c, w->s->type, &w->c.shadow[i], from_shadow);
	crdt_buf_free(&arriving);
}

static void
write_at(Mesh *w, Rng *rng, int i, int k)
{
	CrdtCounterKind kind = w->s->shape->kind;
	int64_t		delta = kind == CRDT_VCLOCK ? 1 : 1 + (int64_t) rng_below(rng, 9);
	CrdtSlice	markers;
	CrdtSlice	body;
	CrdtBuf		b;
	CrdtError	err;

	if (w->retired[k])
		return;
	if (kind == CRDT_PNCOUNTER && rng_percent(rng, 40))
		delta = -delta;
	crdt_buf_init(&b, &crdt_malloc_allocator, 0);
	if (CHECK_OK(crdt_retire_writable(w->s->shape, buf_slice(&w->c.node[i]), w->id[k].data, w->id[k].len,
									  &markers, &body, &err), &err) &&
		CHECK_OK(crdt_counter_add(kind, body, w->id[k].data, w->id[k].len, delta, &b, &err), &err))
	{
		buf_reset(&w->c.tmp);
		if (CHECK_OK(crdt_retire_rejoin(markers, buf_slice(&b), &w->c.tmp, &err), &err))
			buf_take(&w->c.node[i], &w->c.tmp);
	}
	buf_reset(&b);
	if (CHECK_OK(crdt_counter_add(kind, buf_slice(&w->c.shadow[i]), w->id[k].data, w->id[k].len, delta, &b,
								  &err), &err))
		buf_take(&w->c.shadow[i], &b);
	w->issued += delta;
	crdt_buf_free(&b);
}

/* A node's value and its shadow's kept as an old copy (a late apply, a dump). */
static void
snapshot(CrdtBuf *old, CrdtBuf *old_shadow, const CrdtBuf *node, const CrdtBuf *shadow)
{
	buf_reset(old);
	crdt_buf_put(old, node->data, node->len);
	buf_reset(old_shadow);
	crdt_buf_put(old_shadow, shadow->data, shadow->len);
}

static void
keep_old(Mesh *w, Rng *rng, int i)
{
	int			o = (int) rng_below(rng, OLD);

	snapshot(&w->c.old[i][o], &w->c.old_shadow[i][o], &w->c.node[i], &w->c.shadow[i]);
}

static int64_t
value_of(Mesh *w, CrdtSlice v)
{
	CrdtBuf		u;
	CrdtError	err;
	int64_t		got = 0;

	crdt_buf_init(&u, &crdt_malloc_allocator, 0);
	if (CHECK_OK(crdt_retire_unfold(w->s->shape, v, &u, &err), &err))
		CHECK_OK(crdt_counter_value(w->s->shape->kind, buf_slice(&u), &got, &err), &err);
	crdt_buf_free(&u);
	return got;
}

/* The order of two clocks, each lifted first (a compacted and an uncompacted copy compare only so). */
static CrdtOrder
order_of(Mesh *w, CrdtSlice a, CrdtSlice b)
{
	CrdtBuf		la;
	CrdtBuf		lb;
	CrdtBuf		ua;
	CrdtBuf		ub;
	CrdtError	err;
	CrdtOrder	o = CRDT_ORDER_EQUAL;

	crdt_bufs_init(&crdt_malloc_allocator, &la, &lb, &ua, &ub, NULL);
	crdt_buf_put(&la, a.data, a.len);
	crdt_buf_put(&lb, b.data, b.len);
	if (lift(w, &la, NULL) && lift(w, &lb, NULL) &&
		CHECK_OK(crdt_retire_unfold(w->s->shape, buf_slice(&la), &ua, &err), &err) &&
		CHECK_OK(crdt_retire_unfold(w->s->shape, buf_slice(&lb), &ub, &err), &err))
		CHECK_OK(crdt_vclock_compare(buf_slice(&ua), buf_slice(&ub), &o, &err), &err);
	crdt_bufs_free(&la, &lb, &ua, &ub, NULL);
	return o;
}

/* Every node has its shadow's value (clocks: its order against every other node). */
static bool
mesh_check(Mesh *w, const char *after)
{
	bool		ok = true;

	for (int i = 0; i < NODES && ok; i++)
	{
		CrdtError	err;

		ok &= CHECK_OK(w->s->type->validate(buf_slice(&w->c.node[i]), &err), &err);
		if (w->s->shape->kind != CRDT_VCLOCK)
			ok &= CHECK_MSG(value_of(w, buf_slice(&w->c.node[i])) == value_of(w, buf_slice(&w->c.shadow[i])),
							"%s after %s: node %d is %s, its shadow %s", w->s->type->name, after, i,
							show_typed(w->s->type, buf_slice(&w->c.node[i])),
							show_typed(w->s->type, buf_slice(&w->c.shadow[i])));
		else
			for (int j = 0; j < NODES; j++)
				ok &= CHECK_MSG(order_of(w, buf_slice(&w->c.node[i]), buf_slice(&w->c.node[j])) ==
								order_of(w, buf_slice(&w->c.shadow[i]), buf_slice(&w->c.shadow[j])),
								"vclock after %s: nodes %d and %d compare unlike their shadows", after, i, j);
	}
	return ok;
}

/*
 * Retires the ids first..last-1 (markers at random nodes), heals, and
 * makes them a group: the registry's decision, known everywhere from now
 * on; node `at` compacts its value first, the others when they lift.
 */
static void
compact_group(Mesh *w, Rng *rng, int first, int last, const char *name)
{
	Group	   *g = &w->group[w->groups];
	CrdtError	err;

	for (int k = first; k < last; k++)
	{
		int			i = (int) rng_below(rng, NODES);

		w->retired[k] = true;
		buf_reset(&w->c.tmp);
		if (rng_percent(rng, 70) &&
			CHECK_OK(crdt_retire(w->s->shape, buf_slice(&w->c.node[i]), w->id[k].data, w->id[k].len,
								 w->id[IDS - 1].data, w->id[IDS - 1].len, &w->c.tmp, &err), &err))
			buf_take(&w->c.node[i], &w->c.tmp);
	}
	heal_all(w, &w->c, receive);
	g->name = name;
	g->n = 0;
	for (int k = first; k < last; k++)
	{
		g->ids[g->n++] = w->id[k];
		w->compacted[k] = true;
	}
	w->groups++;
	(void) lift(w, &w->c.node[rng_below(rng, NODES)], NULL);
}

static void
mesh_step(Mesh *w, Rng *rng)
{
	int			i = (int) rng_below(rng, NODES);
	int			j = (int) rng_below(rng, NODES);
	uint64_t	what = rng_below(rng, 100);

	if (what < 40)
	{
		/* a replica writes through its home node (its entry is its own) */
		int			k = (int) rng_below(rng, IDS);

		write_at(w, rng, k % NODES, k);
	}
	else if (what < 65)
		receive(w, i, buf_slice(&w->c.node[j]), buf_slice(&w->c.shadow[j]));
	else if (what < 85)
	{
		/* a late copy, perhaps from before every retirement; or twice */
		int			o = (int) rng_below(rng, OLD);

		receive(w, i, buf_slice(&w->c.old[j][o]), buf_slice(&w->c.old_shadow[j][o]));
		if (rng_percent(rng, 30))
			receive(w, i, buf_slice(&w->c.old[j][o]), buf_slice(&w->c.old_shadow[j][o]));
	}
	else
		keep_old(w, rng, i);
}

static void
mesh_run(const RetireSubject *s, Rng *rng, long index)
{
	Mesh		w;
	bool		ok = true;

	mesh_open(&w, s, rng);
	for (int phase = 0; phase < 3 && ok; phase++)
	{
		int			steps = 10 + (int) rng_below(rng, 40);

		for (int step = 0; step < steps && ok; step++)
		{
			mesh_step(&w, rng);
			ok = mesh_check(&w, "a step");
		}
		/* ids 0..3 retired and compacted as ~1, then ids 4..5 as ~2 */
		if (phase == 0)
			compact_group(&w, rng, 0, 4, "~1");
		else if (phase == 1)
			compact_group(&w, rng, 4, 6, "~2");
		ok = ok && mesh_check(&w, "a compaction");
	}
	heal_all(&w, &w.c, receive);
	ok = ok && mesh_check(&w, "the heal");
	for (int i = 0; ok && i < NODES; i++)
	{
		CrdtSlice	markers;
		CrdtSlice	body;
		CrdtError	err;

		CHECK_MSG(slice_equal(buf_slice(&w.c.node[i]), buf_slice(&w.c.node[0])), "%s: node %d did not converge",
				  s->type->name, i);
		/* no retired id is left, as an entry or a marker: only the groups */
		if (!CHECK_OK(crdt_retire_split(s->shape, buf_slice(&w.c.node[i]), &markers, &body, &err), &err))
			break;
		for (int k = 0; k < 6; k++)
		{
			int64_t		got = -1;
			CrdtMarkerReader r;
			CrdtMarker	m;

			CHECK_OK(crdt_counter_get(s->shape->kind, body, w.id[k].data, w.id[k].len, &got, &err), &err);
			CHECK_MSG(got == 0, "%s: a compacted id is still an entry", s->type->name);
			crdt_marker_reader_init(&r, s->shape, markers);
			while (markers.len > 0 && crdt_marker_reader_next(&r, &m, &err) > 0)
				CHECK_MSG(!slice_equal(slice_of(m.retired, m.retired_len), w.id[k]),
						  "%s: a compacted id still has a marker", s->type->name);
		}
	}
	if (ok && s->shape->kind != CRDT_VCLOCK)
		CHECK_MSG(value_of(&w, buf_slice(&w.c.node[0])) == w.issued, "%s: value %lld, issued %lld",
				  s->type->name, (long long) value_of(&w, buf_slice(&w.c.node[0])), (long long) w.issued);
	if (unit_run.failures > 0)
		unit_note("%s compaction case %ld; reproduce with CRDT_TEST_SEED=%llu", s->type->name, index,
				  (unsigned long long) unit_run.seed);
	copies_close(&w.c);
}

/* Pointwise: on copies that hold the final entries of the group's ids. */
static void
compact_laws(const RetireSubject *s, Rng *rng)
{
	Mesh		w;
	CrdtBuf		a;
	CrdtBuf		b;
	CrdtBuf		x;
	CrdtBuf		y;
	CrdtError	err;
	CrdtCompaction res;
	Group	   *g;

	mesh_open(&w, s, rng);
	crdt_bufs_init(&crdt_malloc_allocator, &a, &b, &x, &y, NULL);
	for (int step = 0; step < 30; step++)
	{
		int			k = (int) rng_below(rng, IDS);

		write_at(&w, rng, k % NODES, k);
	}
	for (int k = 0; k < 3; k++)
		w.retired[k] = true;
	heal_all(&w, &w.c, receive);
	/* a and b: two copies that diverge in live entries only */
	write_at(&w, rng, 5 % NODES, 5);
	write_at(&w, rng, 6 % NODES, 6);
	crdt_buf_put(&a, w.c.node[5 % NODES].data, w.c.node[5 % NODES].len);
	crdt_buf_put(&b, w.c.node[6 % NODES].data, w.c.node[6 % NODES].len);
	g = &w.group[0];
	g->name = "~1";
	g->n = 3;
	for (int k = 0; k < 3; k++)
		g->ids[k] = w.id[k];
	w.groups = 1;

	/* value unchanged; idempotent */
	crdt_buf_put(&x, a.data, a.len);
	lift(&w, &x, NULL);
	if (s->shape->kind != CRDT_VCLOCK)
		CHECK_MSG(value_of(&w, buf_slice(&x)) == value_of(&w, buf_slice(&a)), "%s: compaction changed the value",
				  s->type->name);
	buf_reset(&y);
	CHECK_OK(crdt_retire_compact(s->shape, buf_slice(&x), (const uint8_t *) "~1", 2, g->ids, g->n, &y, &res,
								 &err), &err);
	CHECK_MSG(!res.changed && slice_equal(buf_slice(&x), buf_slice(&y)), "%s: compaction not idempotent", s->type->name);
	CHECK_MSG(res.ready, "%s: a counter or clock is always ready for compaction", s->type->name);
	/* the quick test the trigger runs first agrees: a compacted value names none of them, a that had them does */
	{
		CrdtSlice	sorted[3];
		bool		named = true;

		memcpy(sorted, g->ids, sizeof(sorted));
		qsort(sorted, 3, sizeof(CrdtSlice), crdt_slice_cmp);
		CHECK_OK(crdt_retire_names_any(s->shape, buf_slice(&x), sorted, 3, &named, &err), &err);
		CHECK_MSG(!named, "%s: a compacted value still names a grouped id", s->type->name);
		CHECK_OK(crdt_retire_names_any(s->shape, buf_slice(&a), sorted, 3, &named, &err), &err);
		buf_reset(&y);
		CHECK_OK(crdt_retire_compact(s->shape, buf_slice(&a), (const uint8_t *) "~1", 2, g->ids, g->n, &y, &res,
									 &err), &err);
		CHECK_MSG(named == res.changed, "%s: names_any says %d, compaction changed %d", s->type->name, named,
				  res.changed);
	}

	/* compact(a) || lift(b) = lift(b) || compact(a) = compact(a || b): folds on different nodes agree */
	buf_reset(&y);
	crdt_buf_put(&y, b.data, b.len);
	lift(&w, &y, NULL);
	{
		CrdtBuf		ab;
		CrdtBuf		ba;
		CrdtBuf		xy;

		crdt_bufs_init(&crdt_malloc_allocator, &ab, &ba, &xy, NULL);
		CHECK_OK(s->type->merge(buf_slice(&x), buf_slice(&y), &xy, &err), &err);
		CHECK_OK(s->type->merge(buf_slice(&y), buf_slice(&x), &ba, &err), &err);
		CHECK_MSG(slice_equal(buf_slice(&ba), buf_slice(&xy)), "%s: merge of compacted copies not commutative",
				  s->type->name);
		CHECK_OK(s->type->merge(buf_slice(&a), buf_slice(&b), &ab, &err), &err);
		lift(&w, &ab, NULL);
		CHECK_MSG(slice_equal(buf_slice(&ab), buf_slice(&xy)), "%s: compact(a) || compact(b) = %s, compact(a || b) = %s",
				  s->type->name, show_typed(s->type, buf_slice(&xy)), show_typed(s->type, buf_slice(&ab)));
		/* the uncompacted a, arriving late and lifted, changes nothing; nor does a duplicate */
		buf_reset(&ba);
		crdt_buf_put(&ba, a.data, a.len);
		{
			int			named = 0;

			lift(&w, &ba, &named);
			CHECK_MSG(named == 1, "%s: a late copy naming retired ids was not noticed", s->type->name);
		}
		buf_reset(&y);
		CHECK_OK(s->type->merge(buf_slice(&ab), buf_slice(&ba), &y, &err), &err);
		CHECK_MSG(slice_equal(buf_slice(&ab), buf_slice(&y)), "%s: a late copy changed a compacted value",
				  s->type->name);
		buf_reset(&ba);
		CHECK_OK(s->type->merge(buf_slice(&ab), buf_slice(&ab), &ba, &err), &err);
		CHECK_MSG(slice_equal(buf_slice(&ab), buf_slice(&ba)), "%s: duplicate changed a compacted value",
				  s->type->name);
		crdt_bufs_free(&ab, &ba, &xy, NULL);
	}

	/* argument errors */
	{
		CrdtSlice	self[1] = {slice_of((const uint8_t *) "~1", 2)};
		CrdtSlice	bad[1] = {slice_of((const uint8_t *) "a\001", 2)};

		CHECK_ERR(crdt_retire_compact(s->shape, buf_slice(&a), (const uint8_t *) "~1", 2, self, 1, &y, &res,
									  &err), &err, CRDT_ERR_ARGUMENT, -1);
		CHECK_ERR(crdt_retire_compact(s->shape, buf_slice(&a), (const uint8_t *) "~1", 2, bad, 1, &y, &res,
									  &err), &err, CRDT_ERR_ARGUMENT, -1);
	}
	crdt_bufs_free(&a, &b, &x, &y, NULL);
	copies_close(&w.c);
}

static void dmesh_run(const CrdtType *type, const CrdtRetireShape *shape, Rng *rng, long index);
static long dmesh_refused;

static void
compact_case(const RetireSubject *s, Rng *rng, long index)
{
	mesh_run(s, rng, index);
	compact_laws(s, rng);
}

void
test_compact_laws(void)
{
	retire_for_cases(RETIRE_COUNTERS, "compact", 100, compact_case);
	dmesh_refused = 0;
	for (long index = 0; index < unit_cases_div(50); index++)
	{
		Rng			rng = rng_for_case(rng_stream("compact dots"), (uint64_t) index);

		dmesh_run(index % 2 ? &crdt_type_mvreg : &crdt_type_orset,
				  index % 2 ? &crdt_shape_mvreg : &crdt_shape_orset, &rng, index);
	}
	/* late copies from before the members' final writes did arrive, and were refused */
	CHECK(unit_cases_div(50) < 20 || dmesh_refused > 0);
}

/* ------------------------------------------- orset and mvreg: dots renamed */

#define DIDS 6					/* r-a..r-d retire into ~1; live-1, live-2 do not */
#define DGROUP 4

static const char *const dids[DIDS] = {"r-a", "r-b", "r-c", "r-d", "live-1", "live-2"};

typedef struct DMesh
{
	const CrdtType *type;
	const CrdtRetireShape *shape;
	Copies		c;
	CrdtSlice	ids[DIDS];
	bool		retired[DIDS];
	bool		grouped;		/* the registry lists ~1 */
	bool		diverged;		/* a late copy was refused since the last heal */
	int			refused;
} DMesh;

static CrdtSlice
did(int k)
{
	return slice_of(dids[k], strlen(dids[k]));
}

/* v renamed through ~1 once the registry lists it (the trigger's lift). */
static bool
dlift(DMesh *w, CrdtBuf *v, CrdtCompaction *res)
{
	CrdtError	err;

	memset(res, 0, sizeof(*res));
	res->ready = true;
	if (!w->grouped)
		return true;
	buf_reset(&w->c.tmp);
	if (!CHECK_OK(crdt_retire_compact(w->shape, buf_slice(v), (const uint8_t *) "~1", 2, w->ids, DGROUP,
									  &w->c.tmp, res, &err), &err))
		return false;
	buf_take(v, &w->c.tmp);
	return true;
}

/*
 * Node i receives from: both lifted; a copy that named a member is
 * refused unless its renamed total is the stored one (a copy from before
 * the members' final writes would be renamed wrongly).
 */
static void
dreceive(void *mesh, int i, CrdtSlice from, CrdtSlice from_shadow)
{
	DMesh	   *w = mesh;
	CrdtBuf		arriving;
	CrdtCompaction s;
	CrdtCompaction c;

	crdt_buf_init(&arriving, &crdt_malloc_allocator, 0);
	crdt_buf_put(&arriving, from.data, from.len);
	if (dlift(w, &w->c.node[i], &s) && dlift(w, &arriving, &c))
	{
		if ((c.named || !c.ready) && (!c.ready || !s.ready || c.total != s.total))
		{
			w->refused++;
			w->diverged = true;
		}
		else
			copies_merge(&w->c, w->type, &w->c.node[i], buf_slice(&arriving));
	}
	copies_merge(&w->c, w->type, &w->c.shadow[i], from_shadow);
	crdt_buf_free(&arriving);
}

/* One operation on a version-1 value: add/set for replica k, or a remove (k < 0). */
static CrdtStatus
doperate(DMesh *w, CrdtSlice v, int k, const char *what, CrdtBuf *out, CrdtError *err)
{
	if (w->shape == &crdt_shape_mvreg)
		return crdt_mvreg_set(v, (const uint8_t *) what, strlen(what), did(k).data, did(k).len, out, err);
	if (k < 0)
		return crdt_orset_remove(v, (const uint8_t *) what, strlen(what), out, err);
	return crdt_orset_add(v, (const uint8_t *) what, strlen(what), did(k).data, did(k).len, out, err);
}

/* Replica k writes through its home node, or anybody removes an element there. */
static void
dwrite(DMesh *w, Rng *rng, int k)
{
	static const char *const what[] = {"1", "2", "3", "4", "5"};
	const char *e = what[rng_below(rng, 5)];
	int			i = k % NODES;
	CrdtSlice	markers;
	CrdtSlice	body;
	CrdtBuf		b;
	CrdtError	err;

	if (w->shape == &crdt_shape_orset && rng_percent(rng, 35))
		k = -1;
	else if (w->retired[k])
		return;
	crdt_buf_init(&b, &crdt_malloc_allocator, 0);
	if (CHECK_OK(crdt_retire_writable(w->shape, buf_slice(&w->c.node[i]), did(k < 0 ? 4 : k).data,
									  did(k < 0 ? 4 : k).len, &markers, &body, &err), &err) &&
		CHECK_OK(doperate(w, body, k, e, &b, &err), &err))
	{
		buf_reset(&w->c.tmp);
		if (CHECK_OK(crdt_retire_rejoin(markers, buf_slice(&b), &w->c.tmp, &err), &err))
			buf_take(&w->c.node[i], &w->c.tmp);
	}
	buf_reset(&b);
	if (CHECK_OK(doperate(w, buf_slice(&w->c.shadow[i]), k, e, &b, &err), &err))
		buf_take(&w->c.shadow[i], &b);
	crdt_buf_free(&b);
}

/* The present keys of v, each with its length, back to back. */
static void
dkeys(DMesh *w, CrdtSlice v, CrdtBuf *out)
{
	CrdtSlice	markers;
	CrdtSlice	body;
	CrdtDottedKeys it;
	const uint8_t *key;
	size_t		len;
	CrdtError	err;

	buf_reset(out);
	if (!CHECK_OK(crdt_retire_split(w->shape, v, &markers, &body, &err), &err) ||
		!CHECK_OK(crdt_dotted_keys_init(&it, w->shape == &crdt_shape_orset ? CRDT_ORSET : CRDT_MVREG, body,
										&err), &err))
		return;
	while (crdt_dotted_keys_next(&it, &key, &len, &err) > 0)
	{
		crdt_buf_put(out, &len, sizeof(len));
		crdt_buf_put(out, key, len);
	}
}

static bool
dcheck(DMesh *w, const char *after)
{
	CrdtBuf		a;
	CrdtBuf		b;
	bool		ok = true;

	crdt_bufs_init(&crdt_malloc_allocator, &a, &b, NULL);
	for (int i = 0; i < NODES && ok && !w->diverged; i++)
	{
		dkeys(w, buf_slice(&w->c.node[i]), &a);
		dkeys(w, buf_slice(&w->c.shadow[i]), &b);
		ok = CHECK_MSG(slice_equal(buf_slice(&a), buf_slice(&b)), "%s: node %d differs from its shadow after %s",
					   w->type->name, i, after);
	}
	crdt_bufs_free(&a, &b, NULL);
	return ok;
}

static void
dheal(DMesh *w)
{
	heal_all(w, &w->c, dreceive);
	w->diverged = false;
}

static void
dstep(DMesh *w, Rng *rng)
{
	int			i = (int) rng_below(rng, NODES);
	int			j = (int) rng_below(rng, NODES);
	int			o = (int) rng_below(rng, OLD);
	uint64_t	what = rng_below(rng, 100);

	if (what < 45)
		dwrite(w, rng, (int) rng_below(rng, DIDS));
	else if (what < 70)
		dreceive(w, i, buf_slice(&w->c.node[j]), buf_slice(&w->c.shadow[j]));
	else if (what < 88)
	{
		/* a late copy, perhaps from before the members' last writes; or twice */
		dreceive(w, i, buf_slice(&w->c.old[j][o]), buf_slice(&w->c.old_shadow[j][o]));
		if (rng_percent(rng, 30))
			dreceive(w, i, buf_slice(&w->c.old[j][o]), buf_slice(&w->c.old_shadow[j][o]));
	}
	else
		snapshot(&w->c.old[i][o], &w->c.old_shadow[i][o], &w->c.node[i], &w->c.shadow[i]);
}

/* After the heal: converged, the shadow's keys, no member id left. */
static void
dfinal(DMesh *w, long index)
{
	CrdtBuf		text;
	CrdtError	err;

	crdt_buf_init(&text, &crdt_malloc_allocator, 0);
	for (int i = 0; i < NODES; i++)
		CHECK_MSG(slice_equal(buf_slice(&w->c.node[i]), buf_slice(&w->c.node[0])), "%s: node %d did not converge",
				  w->type->name, i);
	if (CHECK_OK(crdt_marked_print(w->shape, buf_slice(&w->c.node[0]), &text, &err), &err))
	{
		crdt_buf_put_byte(&text, 0);
		CHECK_MSG(strstr((const char *) text.data, "\"r-") == NULL, "%s: a member is left: %s", w->type->name,
				  (const char *) text.data);
	}
	if (unit_run.failures > 0)
		unit_note("%s dot renaming case %ld; reproduce with CRDT_TEST_SEED=%llu", w->type->name, index,
				  (unsigned long long) unit_run.seed);
	crdt_buf_free(&text);
}

static void
dmesh_run(const CrdtType *type, const CrdtRetireShape *shape, Rng *rng, long index)
{
	DMesh		w;
	CrdtError	err;
	bool		ok = true;

	memset(&w, 0, sizeof(w));
	w.type = type;
	w.shape = shape;
	copies_open(&w.c, type);
	for (int k = 0; k < DIDS; k++)
		w.ids[k] = did(k);
	for (int phase = 0; phase < 2 && ok; phase++)
	{
		int			steps = 10 + (int) rng_below(rng, 50);

		for (int step = 0; step < steps && ok; step++)
		{
			dstep(&w, rng);
			ok = dcheck(&w, "a step");
		}
		if (phase > 0)
			break;
		/* the members retire (markers at random nodes), the fleet heals, ~1 is formed */
		for (int k = 0; k < DGROUP; k++)
		{
			int			i = (int) rng_below(rng, NODES);

			w.retired[k] = true;
			buf_reset(&w.c.tmp);
			if (rng_percent(rng, 70) &&
				CHECK_OK(crdt_retire(shape, buf_slice(&w.c.node[i]), did(k).data, did(k).len,
									 did(4).data, did(4).len, &w.c.tmp, &err), &err))
				buf_take(&w.c.node[i], &w.c.tmp);
		}
		dheal(&w);
		w.grouped = true;
		{
			CrdtCompaction res;

			ok = dlift(&w, &w.c.node[rng_below(rng, NODES)], &res) && CHECK(res.ready);
		}
	}
	dheal(&w);
	if (ok && dcheck(&w, "the heal"))
		dfinal(&w, index);
	copies_close(&w.c);
	dmesh_refused += w.refused;
}

/* The size the issue asks for: 100 replicas, 90 retired and compacted. */
void
test_compact_size(void)
{
	CrdtBuf		all;
	CrdtBuf		live;
	CrdtBuf		out;
	CrdtSlice	ids[90];
	char		names[100][12];
	CrdtError	err;
	CrdtCompaction res;

	crdt_bufs_init(&crdt_malloc_allocator, &all, &live, &out, NULL);
	crdt_type_gcounter.write_empty(&all);
	crdt_type_gcounter.write_empty(&live);
	for (int k = 0; k < 100; k++)
	{
		snprintf(names[k], sizeof(names[k]), "agent-%03d", k);
		buf_reset(&out);
		CHECK_OK(crdt_counter_add(CRDT_GCOUNTER, buf_slice(&all), (const uint8_t *) names[k], 9, 1000 + k, &out,
								  &err), &err);
		buf_take(&all, &out);
		if (k < 90)
			ids[k] = slice_of((const uint8_t *) names[k], 9);
		else
		{
			buf_reset(&out);
			CHECK_OK(crdt_counter_add(CRDT_GCOUNTER, buf_slice(&live), (const uint8_t *) names[k], 9, 1000 + k,
									  &out, &err), &err);
			buf_take(&live, &out);
		}
	}
	buf_reset(&out);
	CHECK_OK(crdt_retire_compact(&crdt_shape_gcounter, buf_slice(&all), (const uint8_t *) "~1", 2, ids, 90, &out,
								 &res, &err), &err);
	CHECK(res.changed);
	CHECK_MSG(out.len <= live.len + 16, "compacted: %zu bytes, live replicas only: %zu", out.len, live.len);
	crdt_bufs_free(&all, &live, &out, NULL);
}
