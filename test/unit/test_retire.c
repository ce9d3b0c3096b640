/*
 * test_retire.c — the laws of crdt_retire (docs/RETIREMENT.md) for the
 * five types with replica metadata.
 *
 * The central property: "unfold" (a marked value read as the version-1
 * value with the same answers) is a homomorphism.  A fleet of nodes runs
 * twice in step, once with retirements applied at random nodes and
 * times, once without (the shadow); after every step each node's value,
 * unfolded, must equal its shadow byte for byte.  So no delivery order
 * (old copies after the fold, duplicates, folds on several nodes) can
 * lose or double-count anything, and the final counts are exactly the
 * increments issued.  Pointwise laws (idempotence, order of retirements,
 * merge commuting with retire) are checked on the same values.
 */
#include "unit.h"

#include <string.h>

#define FLEET 4
#define IDS 6

const RetireSubject retire_subjects[RETIRE_SUBJECTS] = {
	{&crdt_type_vclock, &crdt_shape_vclock},
	{&crdt_type_gcounter, &crdt_shape_gcounter},
	{&crdt_type_pncounter, &crdt_shape_pncounter},
	{&crdt_type_orset, &crdt_shape_orset},
	{&crdt_type_mvreg, &crdt_shape_mvreg},
};

typedef struct Fleet
{
	const RetireSubject *s;
	CrdtBuf		node[FLEET];
	CrdtBuf		shadow[FLEET];
	CrdtBuf		old[FLEET];		/* an earlier value of each node: a late copy */
	CrdtBuf		old_shadow[FLEET];
	CrdtBuf		tmp;
	CrdtBuf		tmp2;
	CrdtSlice	id[IDS];
	bool		retired[IDS];	/* retire_replica was called: it no longer writes */
	int64_t		issued;			/* counters: the sum of all increments */
	size_t		item[4];
} Fleet;

static bool
is_counter(const RetireSubject *s)
{
	return s->shape->amounts > 0;
}

static CrdtCounterKind
counter_kind(const RetireSubject *s)
{
	return s->shape->kind;
}

static void
fleet_open(Fleet *f, const RetireSubject *s, Rng *rng)
{
	size_t		picks[IDS];

	memset(f, 0, sizeof(*f));
	f->s = s;
	for (int i = 0; i < FLEET; i++)
	{
		crdt_bufs_init(&crdt_malloc_allocator, &f->node[i], &f->shadow[i], &f->old[i],
					   &f->old_shadow[i], NULL);
		s->type->write_empty(&f->node[i]);
		s->type->write_empty(&f->shadow[i]);
		s->type->write_empty(&f->old[i]);
		s->type->write_empty(&f->old_shadow[i]);
	}
	crdt_bufs_init(&crdt_malloc_allocator, &f->tmp, &f->tmp2, NULL);
	for (int k = 0; k < IDS; k++)
	{
		bool		again;

		do
		{
			picks[k] = (size_t) rng_below(rng, pool_replicas());
			again = false;
			for (int j = 0; j < k; j++)
				again |= picks[j] == picks[k];
		} while (again);
		f->id[k] = pool_replica(picks[k]);
	}
	for (int k = 0; k < 4; k++)
		f->item[k] = (size_t) rng_below(rng, 8);
}

static void
fleet_close(Fleet *f)
{
	for (int i = 0; i < FLEET; i++)
		crdt_bufs_free(&f->node[i], &f->shadow[i], &f->old[i], &f->old_shadow[i], NULL);
	crdt_bufs_free(&f->tmp, &f->tmp2, NULL);
}

/* out = unfold(v) */
static bool
unfold(const RetireSubject *s, CrdtSlice v, CrdtBuf *out)
{
	CrdtError	err;

	buf_reset(out);
	return CHECK_OK(crdt_retire_unfold(s->shape, v, out, &err), &err);
}

/* One write by replica k, on a body (version 1), into out. */
static CrdtStatus
write_body(Fleet *f, Rng *rng, int k, CrdtSlice body, int64_t delta, CrdtBuf *out,
		   CrdtError *err)
{
	CrdtSlice	id = f->id[k];

	if (is_counter(f->s))
		return crdt_counter_add(counter_kind(f->s), body, id.data, id.len, delta, out, err);
	if (f->s->type == &crdt_type_mvreg)
	{
		CrdtSlice	json = pool_json(f->item[rng_below(rng, 4)] % pool_jsons());

		return crdt_mvreg_set(body, json.data, json.len, id.data, id.len, out, err);
	}
	else
	{
		CrdtSlice	e = pool_element(f->item[rng_below(rng, 4)] % pool_elements());

		if (rng_percent(rng, 30))
			return crdt_orset_remove(body, e.data, e.len, out, err);
		return crdt_orset_add(body, e.data, e.len, id.data, id.len, out, err);
	}
}

/*
 * A write at node i for replica k, on the node (through the markers) and
 * its shadow.  A replica writes through one node at a time (its entry is
 * its own), as agents do through the session that resolves their id.
 */
static void
fleet_write(Fleet *f, Rng *rng, int i, int k)
{
	CrdtSlice	markers;
	CrdtSlice	body;
	CrdtError	err;
	CrdtStatus	st;
	int64_t		delta = 1 + (int64_t) rng_below(rng, 5);
	Rng			same;			/* the shadow makes the same choices */

	if (is_counter(f->s) && counter_kind(f->s) == CRDT_PNCOUNTER && rng_percent(rng, 40))
		delta = -delta;
	same = *rng;
	st = crdt_retire_writable(f->s->shape, buf_slice(&f->node[i]), f->id[k].data, f->id[k].len,
							  &markers, &body, &err);
	if (st == CRDT_ERR_RETIRED)
	{
		/* refused where the marker is: only a retired replica can be refused */
		CHECK_MSG(f->retired[k], "a live replica was refused: %s", err.message);
		return;
	}
	if (!CHECK_OK(st, &err))
		return;
	buf_reset(&f->tmp);
	if (!CHECK_OK(write_body(f, rng, k, body, delta, &f->tmp, &err), &err))
		return;
	buf_reset(&f->tmp2);
	if (!CHECK_OK(crdt_retire_rejoin(markers, buf_slice(&f->tmp), &f->tmp2, &err), &err))
		return;
	buf_take(&f->node[i], &f->tmp2);
	buf_reset(&f->tmp);
	if (!CHECK_OK(write_body(f, &same, k, buf_slice(&f->shadow[i]), delta, &f->tmp, &err), &err))
		return;
	buf_take(&f->shadow[i], &f->tmp);
	if (is_counter(f->s))
		f->issued += delta;
}

/* to = to || from, on the nodes and their shadows alike */
static void
merge_into(Fleet *f, CrdtBuf *to, CrdtSlice from, CrdtBuf *to_shadow, CrdtSlice from_shadow)
{
	CrdtError	err;

	buf_reset(&f->tmp);
	if (CHECK_OK(f->s->type->merge(buf_slice(to), from, &f->tmp, &err), &err))
		buf_take(to, &f->tmp);
	buf_reset(&f->tmp);
	if (CHECK_OK(f->s->type->merge(buf_slice(to_shadow), from_shadow, &f->tmp, &err), &err))
		buf_take(to_shadow, &f->tmp);
}

static void
fleet_retire(Fleet *f, int i, int k, int into)
{
	CrdtError	err;

	buf_reset(&f->tmp);
	if (CHECK_OK(crdt_retire(f->s->shape, buf_slice(&f->node[i]), f->id[k].data, f->id[k].len,
							 f->id[into].data, f->id[into].len, &f->tmp, &err), &err))
		buf_take(&f->node[i], &f->tmp);
}

/* Every node, unfolded, is its shadow; and is valid, and prints and parses back. */
static bool
fleet_check(Fleet *f, const char *after)
{
	CrdtError	err;
	bool		ok = true;

	for (int i = 0; i < FLEET; i++)
	{
		CrdtSlice	v = buf_slice(&f->node[i]);

		ok &= CHECK_OK(f->s->type->validate(v, &err), &err);
		if (unfold(f->s, v, &f->tmp2))
			ok &= CHECK_MSG(slice_equal(buf_slice(&f->tmp2), buf_slice(&f->shadow[i])),
							"%s after %s: node %d unfolds to %s, its shadow is %s",
							f->s->type->name, after, i,
							show_typed(f->s->type, buf_slice(&f->tmp2)),
							show_typed(f->s->type, buf_slice(&f->shadow[i])));
		buf_reset(&f->tmp);
		if (CHECK_OK(f->s->type->print(v, &f->tmp, &err), &err))
		{
			buf_reset(&f->tmp2);
			if (CHECK_OK(f->s->type->parse((const char *) f->tmp.data, f->tmp.len, &f->tmp2,
										   &err), &err))
				ok &= CHECK_MSG(slice_equal(buf_slice(&f->tmp2), v), "%s text %s reads back as %s",
								f->s->type->name, show_text((const char *) f->tmp.data, f->tmp.len),
								show_hex(buf_slice(&f->tmp2)));
		}
	}
	return ok;
}

/*
 * A run: replicas write through random nodes, nodes exchange values (and
 * late, old copies), replicas are retired at random nodes while their
 * writes are still in flight; then everyone exchanges with everyone.
 */
static void
fleet_run(const RetireSubject *s, Rng *rng, long index)
{
	Fleet		f;
	int			steps = 20 + (int) rng_below(rng, 60);
	bool		ok = true;

	fleet_open(&f, s, rng);
	for (int step = 0; step < steps && ok; step++)
	{
		int			i = (int) rng_below(rng, FLEET);
		int			j = (int) rng_below(rng, FLEET);
		int			k = (int) rng_below(rng, IDS);
		uint64_t	what = rng_below(rng, 100);

		if (what < 40)
			fleet_write(&f, rng, k % FLEET, k);
		else if (what < 65)
			merge_into(&f, &f.node[i], buf_slice(&f.node[j]), &f.shadow[i], buf_slice(&f.shadow[j]));
		else if (what < 75)
			merge_into(&f, &f.node[i], buf_slice(&f.old[j]), &f.shadow[i], buf_slice(&f.old_shadow[j]));
		else if (what < 85)
		{
			buf_reset(&f.old[i]);
			crdt_buf_put(&f.old[i], f.node[i].data, f.node[i].len);
			buf_reset(&f.old_shadow[i]);
			crdt_buf_put(&f.old_shadow[i], f.shadow[i].data, f.shadow[i].len);
		}
		else
		{
			/* retire k (into a random other id) here; the registry says so everywhere */
			int			into = (k + 1 + (int) rng_below(rng, IDS - 1)) % IDS;

			f.retired[k] = true;
			fleet_retire(&f, i, k, into);
		}
		ok = fleet_check(&f, "a step");
	}
	/* heal: two rounds of everyone with everyone, so all converge */
	for (int round = 0; round < 2 && ok; round++)
		for (int i = 0; i < FLEET; i++)
			for (int j = 0; j < FLEET; j++)
				merge_into(&f, &f.node[i], buf_slice(&f.node[j]), &f.shadow[i], buf_slice(&f.shadow[j]));
	if (ok && fleet_check(&f, "healing"))
		for (int i = 1; i < FLEET; i++)
			CHECK_MSG(slice_equal(buf_slice(&f.node[i]), buf_slice(&f.node[0])),
					  "%s: node %d did not converge", s->type->name, i);
	if (ok && is_counter(s) && counter_kind(s) != CRDT_VCLOCK)
	{
		int64_t		got = 0;
		CrdtError	err;

		if (unfold(s, buf_slice(&f.node[0]), &f.tmp2) &&
			CHECK_OK(crdt_counter_value(counter_kind(s), buf_slice(&f.tmp2), &got, &err), &err))
			CHECK_MSG(got == f.issued, "%s: value %lld, issued %lld", s->type->name,
					  (long long) got, (long long) f.issued);
	}
	if (unit_run.failures > 0)
		unit_note("%s fleet case %ld; reproduce with CRDT_TEST_SEED=%llu", s->type->name, index,
				  (unsigned long long) unit_run.seed);
	fleet_close(&f);
}

/* ------------------------------------------------------ pointwise laws */

typedef struct Trio
{
	CrdtBuf		x;
	CrdtBuf		y;
	CrdtBuf		z;
} Trio;

/* out = retire(v, k -> into) */
static CrdtSlice
retired(const Fleet *f, CrdtSlice v, int k, int into, CrdtBuf *out)
{
	CrdtError	err;

	buf_reset(out);
	CHECK_OK(crdt_retire(f->s->shape, v, f->id[k].data, f->id[k].len, f->id[into].data,
						 f->id[into].len, out, &err), &err);
	return buf_slice(out);
}

static CrdtSlice
merged(const Fleet *f, CrdtSlice a, CrdtSlice b, CrdtBuf *out)
{
	CrdtError	err;

	buf_reset(out);
	CHECK_OK(f->s->type->merge(a, b, out, &err), &err);
	return buf_slice(out);
}

static void
pointwise_laws(Fleet *f, Rng *rng)
{
	CrdtSlice	a = buf_slice(&f->node[rng_below(rng, FLEET)]);
	CrdtSlice	b = buf_slice(&f->old[rng_below(rng, FLEET)]);
	int			r1 = (int) rng_below(rng, IDS);
	int			r2 = (r1 + 1 + (int) rng_below(rng, IDS - 1)) % IDS;
	int			s1 = (r1 + 1 + (int) rng_below(rng, IDS - 1)) % IDS;
	int			s2 = (r2 + 1 + (int) rng_below(rng, IDS - 1)) % IDS;
	Trio		p;
	Trio		q;
	CrdtBuf		w;
	CrdtError	err;
	const char *name = f->s->type->name;

	crdt_bufs_init(&crdt_malloc_allocator, &p.x, &p.y, &p.z, &q.x, &q.y, &q.z, &w, NULL);

	/* value unchanged: unfold(retire(a)) is a */
	retired(f, a, r1, s1, &p.x);
	unfold(f->s, buf_slice(&p.x), &w);
	CHECK_MSG(slice_equal(buf_slice(&w), a), "%s: retire changed %s", name, show_typed(f->s->type, a));

	/* idempotent */
	retired(f, buf_slice(&p.x), r1, s1, &p.y);
	CHECK_MSG(slice_equal(buf_slice(&p.y), buf_slice(&p.x)), "%s: retire twice differs", name);

	/* the order of two retirements does not matter */
	retired(f, buf_slice(&p.x), r2, s2, &p.y);
	retired(f, a, r2, s2, &q.x);
	retired(f, buf_slice(&q.x), r1, s1, &q.y);
	CHECK_MSG(slice_equal(buf_slice(&p.y), buf_slice(&q.y)), "%s: retirement order matters", name);

	/* retire(a) || b = b || retire(a) = retire(a || b) = retire(a) || retire(b) */
	merged(f, buf_slice(&p.x), b, &p.z);
	merged(f, b, buf_slice(&p.x), &q.z);
	CHECK_MSG(slice_equal(buf_slice(&p.z), buf_slice(&q.z)), "%s: merge with a marker not commutative", name);
	merged(f, a, b, &w);
	retired(f, buf_slice(&w), r1, s1, &q.y);
	CHECK_MSG(slice_equal(buf_slice(&p.z), buf_slice(&q.y)),
			  "%s: retire(a) || b = %s but retire(a || b) = %s", name,
			  show_typed(f->s->type, buf_slice(&p.z)), show_typed(f->s->type, buf_slice(&q.y)));
	retired(f, b, r1, s1, &q.x);
	merged(f, buf_slice(&p.x), buf_slice(&q.x), &w);
	CHECK_MSG(slice_equal(buf_slice(&w), buf_slice(&p.z)), "%s: folds on two nodes differ", name);

	/* a late copy after the fold, and a duplicate, change nothing */
	merged(f, buf_slice(&p.z), a, &w);
	CHECK_MSG(slice_equal(buf_slice(&w), buf_slice(&p.z)), "%s: a late copy changed the fold", name);
	merged(f, buf_slice(&p.z), buf_slice(&p.z), &w);
	CHECK_MSG(slice_equal(buf_slice(&w), buf_slice(&p.z)), "%s: merge not idempotent", name);

	/* associativity with markers on both sides: (p.x || q.x) || p.y */
	merged(f, buf_slice(&p.x), buf_slice(&q.x), &w);
	merged(f, buf_slice(&w), buf_slice(&p.y), &q.z);
	merged(f, buf_slice(&q.x), buf_slice(&p.y), &w);
	merged(f, buf_slice(&p.x), buf_slice(&w), &p.z);
	CHECK_MSG(slice_equal(buf_slice(&p.z), buf_slice(&q.z)), "%s: merge not associative", name);

	/* delta with markers: since || delta = since || newer */
	buf_reset(&w);
	if (CHECK_OK(f->s->type->delta(buf_slice(&p.y), b, &w, &err), &err))
	{
		merged(f, b, buf_slice(&w), &p.z);
		merged(f, b, buf_slice(&p.y), &q.z);
		CHECK_MSG(slice_equal(buf_slice(&p.z), buf_slice(&q.z)), "%s: delta with markers", name);
	}

	/* the argument checks */
	buf_reset(&w);
	CHECK_ERR(crdt_retire(f->s->shape, a, f->id[r1].data, f->id[r1].len, f->id[r1].data,
						  f->id[r1].len, &w, &err), &err, CRDT_ERR_ARGUMENT, -1);
	CHECK_ERR(crdt_retire(f->s->shape, a, (const uint8_t *) "", 0, f->id[s1].data,
						  f->id[s1].len, &w, &err), &err, CRDT_ERR_ARGUMENT, -1);
	CHECK_ERR(crdt_retire(f->s->shape, a, f->id[r1].data, f->id[r1].len,
						  (const uint8_t *) "a\001", 2, &w, &err), &err, CRDT_ERR_ARGUMENT, -1);
	crdt_bufs_free(&p.x, &p.y, &p.z, &q.x, &q.y, &q.z, &w, NULL);
}

/* One case: the fleet run, then pointwise laws on the values of a fresh run. */
static void
retire_case(const RetireSubject *s, Rng *rng, long index)
{
	Fleet		f;

	fleet_run(s, rng, index);
	fleet_open(&f, s, rng);
	for (int step = 0; step < 30; step++)
	{
		int			i = (int) rng_below(rng, FLEET);
		int			j = (int) rng_below(rng, FLEET);
		int			k = (int) rng_below(rng, IDS);

		if (rng_percent(rng, 60))
			fleet_write(&f, rng, k % FLEET, k);
		else if (rng_percent(rng, 70))
			merge_into(&f, &f.node[i], buf_slice(&f.node[j]), &f.shadow[i],
					   buf_slice(&f.shadow[j]));
		else
		{
			buf_reset(&f.old[i]);
			crdt_buf_put(&f.old[i], f.node[i].data, f.node[i].len);
		}
	}
	pointwise_laws(&f, rng);
	fleet_close(&f);
}

void
retire_for_cases(size_t n, const char *group, long divisor,
				 void (*run) (const RetireSubject *s, Rng *rng, long index))
{
	for (size_t t = 0; t < n; t++)
	{
		uint64_t	stream = rng_stream(retire_subjects[t].type->name) ^ rng_stream(group);
		long		cases = unit_cases_div(divisor);

		for (long index = 0; index < cases; index++)
		{
			Rng			rng = rng_for_case(stream, (uint64_t) index);

			run(&retire_subjects[t], &rng, index);
		}
	}
}

void
test_retire_laws(void)
{
	retire_for_cases(RETIRE_SUBJECTS, "retire", 100, retire_case);
}

/* Marked values from outside: every corruption is refused or canonical. */
static void
retire_hostile_visit(void *ctx, CrdtSlice bad)
{
	const RetireSubject *s = ctx;
	CrdtError	err;
	CrdtBuf		text;
	CrdtBuf		back;

	if (s->type->validate(bad, &err) != CRDT_OK)
	{
		CHECK_MSG(err.status == CRDT_ERR_BINARY || err.status == CRDT_ERR_TOO_LARGE,
				  "%s: hostile bytes gave %s", s->type->name, unit_status_name(err.status));
		return;
	}
	crdt_bufs_init(&crdt_malloc_allocator, &text, &back, NULL);
	if (CHECK_OK(s->type->print(bad, &text, &err), &err) &&
		CHECK_OK(s->type->parse((const char *) text.data, text.len, &back, &err), &err))
		CHECK_MSG(slice_equal(buf_slice(&back), bad), "%s: accepted bytes are not canonical: %s",
				  s->type->name, show_hex(bad));
	crdt_bufs_free(&text, &back, NULL);
}

void
test_retire_hostile(void)
{
	for (size_t t = 0; t < RETIRE_SUBJECTS; t++)
	{
		Rng			rng = rng_for_case(rng_stream("retire hostile"), t);
		Fleet		f;

		fleet_open(&f, &retire_subjects[t], &rng);
		for (int step = 0; step < 12; step++)
			fleet_write(&f, &rng, 0, (int) rng_below(&rng, IDS));
		fleet_retire(&f, 0, 0, 1);
		fleet_retire(&f, 0, 2, 1);
		CHECK(crdt_value_marked(buf_slice(&f.node[0])));
		hostile_each(buf_slice(&f.node[0]), &rng, 300, retire_hostile_visit,
					 (void *) &retire_subjects[t]);
		fleet_close(&f);
	}
}

/* Fixed examples: the bytes and the text of a marked value. */
/* crdt_retire_compact of an orset pointwise (the fleet: test_compact.c): one value, text in and out. */
static void
dotted_compact_laws(void)
{
	static const char *const in =
		"{\"elements\":{\"x\":[[\"live\",1]],\"y\":[[\"r-b\",1]],\"z\":[[\"r-a\",2]]},"
		"\"context\":{\"live\":1,\"r-a\":2,\"r-b\":1}}";
	static const char *const want =
		"[{\"elements\":{\"x\":[[\"live\",1]],\"y\":[[\"~1\",3]],\"z\":[[\"~1\",2]]},"
		"\"context\":{\"live\":1,\"~1\":3}},{\"~1\":[\"~\"]}]";
	static const char *const gap = "{\"elements\":{},\"context\":{\"r-a\":[[2,3]]}}";
	CrdtSlice	ids[2] = {slice_of("r-b", 3), slice_of("r-a", 3)};
	CrdtBuf		v;
	CrdtBuf		w;
	CrdtBuf		x;
	CrdtCompaction res;
	CrdtError	err;

	crdt_bufs_init(&crdt_malloc_allocator, &v, &w, &x, NULL);
	CHECK_OK(crdt_marked_parse(&crdt_shape_orset, in, strlen(in), &v, &err), &err);
	CHECK_OK(crdt_marked_parse(&crdt_shape_orset, want, strlen(want), &w, &err), &err);
	CHECK_OK(crdt_retire_compact(&crdt_shape_orset, buf_slice(&v), (const uint8_t *) "~1", 2, ids, 2, &x, &res,
								 &err), &err);
	CHECK(res.changed && res.ready && res.named && res.total == 3);
	CHECK_EQ_BYTES(buf_slice(&x), buf_slice(&w));
	/* idempotent: the result names no member */
	buf_reset(&v);
	CHECK_OK(crdt_retire_compact(&crdt_shape_orset, buf_slice(&x), (const uint8_t *) "~1", 2, ids, 2, &v, &res,
								 &err), &err);
	CHECK(!res.changed && res.ready && !res.named && res.total == 3);
	CHECK_EQ_BYTES(buf_slice(&v), buf_slice(&x));
	/* the compacted value merged with an uncompacted one holds group and member: not ready */
	buf_reset(&v);
	CHECK_OK(crdt_marked_parse(&crdt_shape_orset, in, strlen(in), &v, &err), &err);
	buf_reset(&w);
	CHECK_OK(crdt_marked_merge(&crdt_shape_orset, buf_slice(&v), buf_slice(&x), &w, &err), &err);
	buf_reset(&x);
	CHECK_OK(crdt_retire_compact(&crdt_shape_orset, buf_slice(&w), (const uint8_t *) "~1", 2, ids, 2, &x, &res,
								 &err), &err);
	CHECK(!res.ready && !res.changed);
	CHECK_EQ_BYTES(buf_slice(&x), buf_slice(&w));
	/* a member whose counters are not contiguous: not ready */
	buf_reset(&v);
	buf_reset(&x);
	CHECK_OK(crdt_marked_parse(&crdt_shape_orset, gap, strlen(gap), &v, &err), &err);
	CHECK_OK(crdt_retire_compact(&crdt_shape_orset, buf_slice(&v), (const uint8_t *) "~1", 2, ids, 2, &x, &res,
								 &err), &err);
	CHECK(!res.ready && !res.changed && res.named);
	/* argument errors: a group among its own members */
	buf_reset(&x);
	CHECK(crdt_retire_compact(&crdt_shape_orset, buf_slice(&v), (const uint8_t *) "r-a", 3, ids, 2, &x, &res,
							  &err) == CRDT_ERR_ARGUMENT);
	crdt_bufs_free(&v, &w, &x, NULL);
}

void
test_retire_format(void)
{
	CrdtBuf		v;
	CrdtBuf		r;
	CrdtBuf		t;
	CrdtError	err;
	static const uint8_t want[] = {
		0x02, 0x01, 'a', 0x01, 'c', 0x03, 0x00,	/* a -> c, amount 3 */
		0x01, 0x01, 0x00, 'b', 0x02, 0x00			/* {"b":2} */
	};
	const char *text = "[{\"b\":2},{\"a\":[\"c\",3]}]";

	crdt_bufs_init(&crdt_malloc_allocator, &v, &r, &t, NULL);
	CHECK_OK(crdt_type_gcounter.parse("{\"a\":3,\"b\":2}", strlen("{\"a\":3,\"b\":2}"), &v, &err), &err);
	CHECK_OK(crdt_retire(&crdt_shape_gcounter, buf_slice(&v), (const uint8_t *) "a", 1,
						 (const uint8_t *) "c", 1, &r, &err), &err);
	CHECK_EQ_BYTES(buf_slice(&r), slice_of(want, sizeof(want)));
	CHECK_OK(crdt_type_gcounter.print(buf_slice(&r), &t, &err), &err);
	CHECK_EQ_TEXT(t.data, t.len, text);
	buf_reset(&v);
	CHECK_OK(crdt_type_gcounter.parse(" [ {\"b\" : 2} , {\"a\": [\"c\", 3]} ] ", strlen(" [ {\"b\" : 2} , {\"a\": [\"c\", 3]} ] "), &v, &err), &err);
	CHECK_EQ_BYTES(buf_slice(&v), slice_of(want, sizeof(want)));
	/* a write for the retired replica is refused */
	{
		CrdtSlice	m;
		CrdtSlice	b;

		CHECK_ERR(crdt_retire_writable(&crdt_shape_gcounter, buf_slice(&r), (const uint8_t *) "a",
									   1, &m, &b, &err), &err, CRDT_ERR_RETIRED, -1);
	}
	/* text errors */
	buf_reset(&v);
	CHECK_ERR(crdt_type_gcounter.parse("[{},{\"a\":[\"a\",1]}]", strlen("[{},{\"a\":[\"a\",1]}]"), &v, &err), &err,
			  CRDT_ERR_SYNTAX, -1);
	CHECK_ERR(crdt_type_gcounter.parse("[{},{\"a\":[\"b\",1],\"a\":[\"c\",1]}]", strlen("[{},{\"a\":[\"b\",1],\"a\":[\"c\",1]}]"), &v, &err), &err,
			  CRDT_ERR_SYNTAX, -1);
	CHECK_ERR(crdt_type_gcounter.parse("[{},{\"a\":[\"b\",-1]}]", strlen("[{},{\"a\":[\"b\",-1]}]"), &v, &err), &err,
			  CRDT_ERR_SYNTAX, -1);
	CHECK_ERR(crdt_type_gcounter.parse("[{},{\"a\":[\"b\",99999999999999999999]}]", strlen("[{},{\"a\":[\"b\",99999999999999999999]}]"), &v, &err),
			  &err, CRDT_ERR_OVERFLOW, -1);
	crdt_bufs_free(&v, &r, &t, NULL);
	dotted_compact_laws();
}
