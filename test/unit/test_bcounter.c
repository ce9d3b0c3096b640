/*
 * test_bcounter.c — the bounded counter against a model of plain arrays.
 *
 * The model of one replica's view is P[i], D[i] and T[i][j] over a fixed
 * set of replica ids, merged by max and with rights computed by the
 * formula; the core's log, binary form and rights code are checked
 * against it, so neither is tested with itself.
 */
#include "unit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAXR 5

#define CHECK_STATUS(expr, want, err) \
	unit_check_status((expr), (want), (err), #expr, __FILE__, __LINE__)

static const char *const rid[MAXR] = {"node-a", "node-b", "node-c", "n", "node-aa"};

typedef struct View
{
	uint64_t	p[MAXR];
	uint64_t	d[MAXR];
	uint64_t	t[MAXR][MAXR];
} View;

static int64_t
view_rights(const View *v, int r, int nrep)
{
	int64_t		x = (int64_t) v->p[r] - (int64_t) v->d[r];

	for (int k = 0; k < nrep; k++)
		x += (int64_t) v->t[k][r] - (int64_t) v->t[r][k];
	return x;
}

static void
view_merge(View *into, const View *from)
{
	for (int i = 0; i < MAXR; i++)
	{
		into->p[i] = into->p[i] > from->p[i] ? into->p[i] : from->p[i];
		into->d[i] = into->d[i] > from->d[i] ? into->d[i] : from->d[i];
		for (int j = 0; j < MAXR; j++)
			into->t[i][j] = into->t[i][j] > from->t[i][j] ? into->t[i][j] : from->t[i][j];
	}
}

static const uint8_t *
id_of(int r)
{
	return (const uint8_t *) rid[r];
}

/* One replica in a simulated history: its value and the model of it. */
typedef struct Node
{
	CrdtBuf		value;
	View		view;
} Node;

static void
check_node(const Node *n, int nrep)
{
	CrdtError	err;
	int64_t		got;
	int64_t		want = 0;

	CHECK_STATUS(crdt_bcounter_validate(buf_slice(&n->value), &err), CRDT_OK, &err);
	for (int r = 0; r < nrep; r++)
	{
		int64_t		rights = view_rights(&n->view, r, nrep);

		CHECK_MSG(rights >= 0, "model rights of %s negative: %lld", rid[r], (long long) rights);
		CHECK_STATUS(crdt_bcounter_rights(buf_slice(&n->value), id_of(r), strlen(rid[r]), &got,
										  &err), CRDT_OK, &err);
		CHECK_EQ_INT(got, rights);
		want += (int64_t) n->view.p[r] - (int64_t) n->view.d[r];
	}
	CHECK_STATUS(crdt_bcounter_value(buf_slice(&n->value), &got, &err), CRDT_OK, &err);
	CHECK_EQ_INT(got, want);
	CHECK(got >= 0);
}

/* The text of a value parses back to its bytes. */
static void
check_text(CrdtSlice v)
{
	CrdtBuf		text;
	CrdtBuf		back;
	CrdtError	err;

	buf_open(&text);
	buf_open(&back);
	CHECK_STATUS(crdt_bcounter_print(v, &text, &err), CRDT_OK, &err);
	CHECK_STATUS(crdt_bcounter_parse((const char *) text.data, text.len, &back, &err), CRDT_OK, &err);
	CHECK_EQ_BYTES(buf_slice(&back), v);
	crdt_buf_free(&text);
	crdt_buf_free(&back);
}

/* Merge laws and the delta law on two reachable states. */
static void
check_pair(CrdtSlice a, CrdtSlice b)
{
	CrdtBuf		ab;
	CrdtBuf		ba;
	CrdtBuf		aa;
	CrdtBuf		d;
	CrdtBuf		bd;
	CrdtError	err;
	int			c1;
	int			c2;

	buf_open(&ab);
	buf_open(&ba);
	buf_open(&aa);
	buf_open(&d);
	buf_open(&bd);
	CHECK_STATUS(crdt_bcounter_merge(a, b, &ab, &err), CRDT_OK, &err);
	CHECK_STATUS(crdt_bcounter_merge(b, a, &ba, &err), CRDT_OK, &err);
	CHECK_EQ_BYTES(buf_slice(&ab), buf_slice(&ba));
	CHECK_STATUS(crdt_bcounter_merge(a, a, &aa, &err), CRDT_OK, &err);
	CHECK_EQ_BYTES(buf_slice(&aa), a);
	CHECK_STATUS(crdt_bcounter_validate(buf_slice(&ab), &err), CRDT_OK, &err);
	/* the delta is a valid value that brings b to the merge */
	CHECK_STATUS(crdt_bcounter_delta(a, b, &d, &err), CRDT_OK, &err);
	CHECK_STATUS(crdt_bcounter_validate(buf_slice(&d), &err), CRDT_OK, &err);
	CHECK_STATUS(crdt_bcounter_merge(b, buf_slice(&d), &bd, &err), CRDT_OK, &err);
	CHECK_EQ_BYTES(buf_slice(&bd), buf_slice(&ab));
	CHECK_STATUS(crdt_bcounter_compare(a, b, &c1, &err), CRDT_OK, &err);
	CHECK_STATUS(crdt_bcounter_compare(b, a, &c2, &err), CRDT_OK, &err);
	CHECK_EQ_INT(c1, -c2);
	CHECK_EQ_INT(c1 == 0, slice_equal(a, b));
	crdt_bufs_free(&ab, &ba, &aa, &d, &bd, (CrdtBuf *) NULL);
}

static uint64_t
small_amount(Rng *rng)
{
	return rng_percent(rng, 90) ? 1 + rng_below(rng, 20) : 1 + rng_below(rng, 1000);
}

/* One random operation at replica r; the model decides whether it may fail. */
static void
random_op(Rng *rng, Node *nodes, int nrep, int r)
{
	Node	   *n = &nodes[r];
	CrdtBuf		out;
	CrdtError	err;
	CrdtStatus	st;
	uint64_t	by = small_amount(rng);
	int64_t		rights = view_rights(&n->view, r, nrep);
	unsigned	what = (unsigned) rng_below(rng, 10);
	int			other = (int) rng_below(rng, (uint64_t) nrep);

	buf_open(&out);
	if (what < 3)
	{
		st = crdt_bcounter_increment(buf_slice(&n->value), id_of(r), strlen(rid[r]), (int64_t) by,
									 &out, &err);
		CHECK_STATUS(st, CRDT_OK, &err);
		n->view.p[r] += by;
	}
	else if (what < 6)
	{
		st = crdt_bcounter_decrement(buf_slice(&n->value), id_of(r), strlen(rid[r]), (int64_t) by,
									 &out, &err);
		CHECK_STATUS(st, (int64_t) by <= rights ? CRDT_OK : CRDT_ERR_RIGHTS, &err);
		if (st == CRDT_OK)
			n->view.d[r] += by;
	}
	else if (what < 8 && other != r)
	{
		st = crdt_bcounter_transfer(buf_slice(&n->value), id_of(r), strlen(rid[r]), id_of(other),
									strlen(rid[other]), (int64_t) by, &out, &err);
		CHECK_STATUS(st, (int64_t) by <= rights ? CRDT_OK : CRDT_ERR_RIGHTS, &err);
		if (st == CRDT_OK)
			n->view.t[r][other] += by;
	}
	else
	{
		st = crdt_bcounter_merge(buf_slice(&n->value), buf_slice(&nodes[other].value), &out, &err);
		CHECK_STATUS(st, CRDT_OK, &err);
		view_merge(&n->view, &nodes[other].view);
	}
	if (st == CRDT_OK)
	{
		crdt_buf_free(&n->value);
		n->value = out;
	}
	else
		crdt_buf_free(&out);
}

/*
 * 100,000 histories (CRDT_TEST_CASES) of increments, decrements,
 * transfers and merges over 3 to 5 replicas: every state valid, never
 * negative, rights and value as the model says; all merged in the end,
 * the value is exactly what was added minus what was spent.
 */
void
test_bcounter_histories(void)
{
	uint64_t	stream = rng_stream("bcounter histories");

	for (long c = 0; c < unit_run.cases; c++)
	{
		Rng			rng = rng_for_case(stream, (uint64_t) c);
		int			nrep = 3 + (int) rng_below(&rng, 3);
		int			steps = 4 + (int) rng_below(&rng, 28);
		Node		nodes[MAXR];
		CrdtBuf		all;
		CrdtBuf		tmp;
		CrdtError	err;
		View		truth;
		int64_t		value;
		int64_t		want = 0;

		memset(&truth, 0, sizeof(truth));
		for (int r = 0; r < nrep; r++)
		{
			buf_open(&nodes[r].value);
			crdt_bcounter_write_empty(&nodes[r].value);
			memset(&nodes[r].view, 0, sizeof(View));
		}
		for (int s = 0; s < steps; s++)
		{
			int			r = (int) rng_below(&rng, (uint64_t) nrep);

			random_op(&rng, nodes, nrep, r);
			check_node(&nodes[r], nrep);
		}
		if (c % 8 == 0)
		{
			check_text(buf_slice(&nodes[0].value));
			check_pair(buf_slice(&nodes[0].value), buf_slice(&nodes[1].value));
		}
		buf_open(&all);
		crdt_bcounter_write_empty(&all);
		for (int r = 0; r < nrep; r++)
		{
			buf_open(&tmp);
			CHECK_STATUS(crdt_bcounter_merge(buf_slice(&all), buf_slice(&nodes[r].value), &tmp, &err),
						 CRDT_OK, &err);
			crdt_buf_free(&all);
			all = tmp;
			view_merge(&truth, &nodes[r].view);
			/* each replica's own counts are what it did itself */
			want += (int64_t) nodes[r].view.p[r] - (int64_t) nodes[r].view.d[r];
		}
		CHECK_STATUS(crdt_bcounter_value(buf_slice(&all), &value, &err), CRDT_OK, &err);
		CHECK_EQ_INT(value, want);
		{
			Node		final = {all, truth};

			check_node(&final, nrep);
		}
		for (int r = 0; r < nrep; r++)
			crdt_buf_free(&nodes[r].value);
		crdt_buf_free(&all);
	}
}

/* Texts, bytes and errors written out by hand. */
void
test_bcounter_fixed(void)
{
	CrdtBuf		v;
	CrdtBuf		w;
	CrdtBuf		t;
	CrdtError	err;
	int64_t		x;
	const char *text = "{\"p\":{\"a\":10},\"d\":{\"a\":3},\"t\":{\"a\":{\"b\":5}}}";

	buf_open(&v);
	buf_open(&w);
	buf_open(&t);
	crdt_bcounter_write_empty(&v);
	CHECK_EQ_BYTES(buf_slice(&v), bytes_from_spec(&w, "01 00 00 00"));
	CHECK_STATUS(crdt_bcounter_print(buf_slice(&v), &t, &err), CRDT_OK, &err);
	CHECK_EQ_TEXT(t.data, t.len, "{}");

	buf_reset(&v);
	CHECK_STATUS(crdt_bcounter_parse(text, strlen(text), &v, &err), CRDT_OK, &err);
	CHECK_EQ_BYTES(buf_slice(&v), bytes_from_spec(&w, "01 01 00 'a' 0a 00 01 00 'a' 03 00 "
												  "02 00 'a' 01 00 'b' 05 00 00"));
	buf_reset(&t);
	CHECK_STATUS(crdt_bcounter_print(buf_slice(&v), &t, &err), CRDT_OK, &err);
	CHECK_EQ_TEXT(t.data, t.len, text);
	CHECK_STATUS(crdt_bcounter_value(buf_slice(&v), &x, &err), CRDT_OK, &err);
	CHECK_EQ_INT(x, 7);
	CHECK_STATUS(crdt_bcounter_rights(buf_slice(&v), (const uint8_t *) "a", 1, &x, &err), CRDT_OK, &err);
	CHECK_EQ_INT(x, 2);
	CHECK_STATUS(crdt_bcounter_rights(buf_slice(&v), (const uint8_t *) "b", 1, &x, &err), CRDT_OK, &err);
	CHECK_EQ_INT(x, 5);

	/* spending beyond one's rights, the message says what they are */
	buf_reset(&w);
	CHECK_STATUS(crdt_bcounter_decrement(buf_slice(&v), (const uint8_t *) "a", 1, 3, &w, &err),
				 CRDT_ERR_RIGHTS, &err);
	CHECK_MSG(strstr(err.message, "rights to 2") != NULL, "message: %s", err.message);
	buf_reset(&w);
	CHECK_STATUS(crdt_bcounter_transfer(buf_slice(&v), (const uint8_t *) "b", 1,
										(const uint8_t *) "c", 1, 6, &w, &err),
				 CRDT_ERR_RIGHTS, &err);
	buf_reset(&w);
	CHECK_STATUS(crdt_bcounter_transfer(buf_slice(&v), (const uint8_t *) "b", 1,
										(const uint8_t *) "b", 1, 1, &w, &err),
				 CRDT_ERR_ARGUMENT, &err);
	buf_reset(&w);
	CHECK_STATUS(crdt_bcounter_decrement(buf_slice(&v), (const uint8_t *) "b", 1, 0, &w, &err),
				 CRDT_ERR_ARGUMENT, &err);
	buf_reset(&w);
	CHECK_STATUS(crdt_bcounter_increment(buf_slice(&v), (const uint8_t *) "a", 1, INT64_MAX, &w,
										 &err), CRDT_ERR_OVERFLOW, &err);

	/* forged states: rights from nothing, self transfers, empty givers, repeats */
	{
		static const char *const bad[] = {
			"{\"t\":{\"a\":{\"b\":5}}}",
			"{\"p\":{\"a\":1},\"d\":{\"a\":2}}",
			"{\"p\":{\"a\":5},\"t\":{\"a\":{\"a\":1}}}",
			"{\"p\":{\"a\":5},\"t\":{\"a\":{}}}",
			"{\"p\":{\"a\":5,\"a\":6}}",
			"{\"p\":{\"a\":0}}",
			"{\"p\":{\"a\":-1}}",
			"{\"x\":{}}",
			"{\"p\":{\"\":1}}",
			"{\"p\":{\"a\":1}} x",
		};

		for (size_t k = 0; k < sizeof(bad) / sizeof(bad[0]); k++)
		{
			buf_reset(&w);
			CHECK_MSG(crdt_bcounter_parse(bad[k], strlen(bad[k]), &w, &err) == CRDT_ERR_SYNTAX,
					  "accepted %s", bad[k]);
		}
		buf_reset(&w);
		CHECK_STATUS(crdt_bcounter_parse("{\"p\":{\"a\":9223372036854775808}}", 31, &w, &err),
					 CRDT_ERR_OVERFLOW, &err);
	}
	CHECK_STATUS(crdt_bcounter_validate(bytes_from_spec(&w, "01 00 00 02 00 'a' 01 00 'b' 05 00 00"),
										&err), CRDT_ERR_BINARY, &err);
	CHECK_STATUS(crdt_bcounter_validate(bytes_from_spec(&w, "01 01 00 'a' 05 00 02 00 'a' 00 00"),
										&err), CRDT_ERR_BINARY, &err);
	CHECK_STATUS(crdt_bcounter_validate(bytes_from_spec(&w, "01 00 00 00 00"), &err),
				 CRDT_ERR_BINARY, &err);
	CHECK_STATUS(crdt_bcounter_validate(bytes_from_spec(&w, "01 00 00"), &err),
				 CRDT_ERR_BINARY, &err);
	CHECK_STATUS(crdt_bcounter_validate(bytes_from_spec(&w, "02 00 00 00"), &err),
				 CRDT_ERR_BINARY, &err);
	crdt_bufs_free(&v, &w, &t, (CrdtBuf *) NULL);
}

static bool
always(void)
{
	return true;
}

/*
 * One replica id used on two nodes at once: each side spends the same
 * rights.  The merge is never refused; the value and the spendable rights
 * are clamped at zero, the overdraft shows in the entries' rights, and
 * the replica can spend nothing until it is funded again.
 */
void
test_bcounter_misuse(void)
{
	CrdtBuf		base;
	CrdtBuf		a;
	CrdtBuf		b;
	CrdtBuf		m;
	CrdtError	err;
	int64_t		x;
	CrdtBcounterEntry *e = NULL;
	size_t		n = 0;
	const uint8_t *r = (const uint8_t *) "r";
	const uint8_t *s = (const uint8_t *) "s";

	crdt_bufs_init(&crdt_malloc_allocator, &base, &a, &b, &m, (CrdtBuf *) NULL);
	CHECK_STATUS(crdt_bcounter_parse("{\"p\":{\"r\":10}}", 14, &base, &err), CRDT_OK, &err);
	CHECK_STATUS(crdt_bcounter_decrement(buf_slice(&base), r, 1, 10, &a, &err), CRDT_OK, &err);
	CHECK_STATUS(crdt_bcounter_transfer(buf_slice(&base), r, 1, s, 1, 10, &b, &err), CRDT_OK, &err);
	CHECK_STATUS(crdt_bcounter_merge(buf_slice(&a), buf_slice(&b), &m, &err), CRDT_OK, &err);
	CHECK_STATUS(crdt_bcounter_value(buf_slice(&m), &x, &err), CRDT_OK, &err);
	CHECK_EQ_INT(x, 0);
	CHECK_STATUS(crdt_bcounter_rights(buf_slice(&m), r, 1, &x, &err), CRDT_OK, &err);
	CHECK_EQ_INT(x, 0);
	CHECK_STATUS(crdt_bcounter_entries(buf_slice(&m), &crdt_malloc_allocator, &e, &n, &err),
				 CRDT_OK, &err);
	CHECK_EQ_UINT(n, 2);
	if (n == 2)
	{
		CHECK_EQ_INT(e[0].rights, -10);
		CHECK_EQ_INT(e[1].rights, 10);
	}
	free(e);
	/* s spends what it was given: the raw sum goes to -10, the value stays 0 */
	buf_reset(&a);
	CHECK_STATUS(crdt_bcounter_decrement(buf_slice(&m), s, 1, 10, &a, &err), CRDT_OK, &err);
	CHECK_STATUS(crdt_bcounter_value(buf_slice(&a), &x, &err), CRDT_OK, &err);
	CHECK_EQ_INT(x, 0);
	buf_reset(&b);
	CHECK_STATUS(crdt_bcounter_decrement(buf_slice(&a), r, 1, 1, &b, &err), CRDT_ERR_RIGHTS, &err);
	/* such a state is refused as input: it shows rights nobody funded ... */
	CHECK_STATUS(crdt_bcounter_validate(buf_slice(&m), &err), CRDT_ERR_BINARY, &err);
	/* ... except where the host applies what its peers merged */
	crdt_bcounter_set_overdraft_policy(always);
	CHECK_STATUS(crdt_bcounter_validate(buf_slice(&m), &err), CRDT_OK, &err);
	crdt_bcounter_set_overdraft_policy(NULL);
	CHECK_STATUS(crdt_bcounter_validate(buf_slice(&m), &err), CRDT_ERR_BINARY, &err);
	crdt_bufs_free(&base, &a, &b, &m, (CrdtBuf *) NULL);
}

static void
hostile_one(void *ctx, CrdtSlice bad)
{
	CrdtError	err;

	(void) ctx;
	/* whatever passes is canonical: its text parses back to the same bytes */
	if (crdt_bcounter_validate(bad, &err) == CRDT_OK)
		check_text(bad);
}

/* Truncations, bit flips and garbage of a valid value: refused or canonical, never a crash. */
void
test_bcounter_hostile(void)
{
	CrdtBuf		v;
	CrdtError	err;
	Rng			rng = rng_for_case(rng_stream("bcounter hostile"), 0);
	const char *text = "{\"p\":{\"agent-1\":100,\"agent-2\":7},\"d\":{\"agent-1\":3},"
		"\"t\":{\"agent-1\":{\"agent-2\":50,\"agent-3\":20},\"agent-2\":{\"agent-3\":1}}}";

	buf_open(&v);
	CHECK_STATUS(crdt_bcounter_parse(text, strlen(text), &v, &err), CRDT_OK, &err);
	hostile_each(buf_slice(&v), &rng, unit_cases_div(10), hostile_one, NULL);
	crdt_buf_free(&v);
}

/*
 * The aggregate's log over many rows: reduced whenever it doubles, its id
 * arena compacted, and the result is the merge of all rows, whatever the
 * order they came in.
 */
void
test_bcounter_log(void)
{
	CrdtBcLog	log;
	CrdtBcLog	other;
	CrdtBuf		row;
	CrdtBuf		got;
	CrdtBuf		want;
	CrdtBuf		tmp;
	CrdtError	err;

	crdt_bclog_init(&log, &crdt_malloc_allocator);
	crdt_bclog_init(&other, &crdt_malloc_allocator);
	crdt_bufs_init(&crdt_malloc_allocator, &row, &got, &want, &tmp, (CrdtBuf *) NULL);
	crdt_bcounter_write_empty(&want);
	for (int i = 0; i < 8000; i++)
	{
		char		id[32];
		CrdtBuf		base;

		snprintf(id, sizeof(id), "agent-%03d", (i * 37) % 700);
		buf_open(&base);
		crdt_bcounter_write_empty(&base);
		buf_reset(&row);
		CHECK_STATUS(crdt_bcounter_increment(buf_slice(&base), (const uint8_t *) id, strlen(id),
											 1 + i, &row, &err), CRDT_OK, &err);
		buf_reset(&base);
		CHECK_STATUS(crdt_bcounter_decrement(buf_slice(&row), (const uint8_t *) id, strlen(id),
											 1 + i / 2, &base, &err), CRDT_OK, &err);
		CHECK_STATUS(crdt_bclog_absorb(i % 3 == 0 ? &other : &log, buf_slice(&base), &err), CRDT_OK, &err);
		buf_reset(&tmp);
		CHECK_STATUS(crdt_bcounter_merge(buf_slice(&want), buf_slice(&base), &tmp, &err), CRDT_OK, &err);
		buf_reset(&want);
		crdt_buf_put(&want, tmp.data, tmp.len);
		crdt_buf_free(&base);
	}
	CHECK_STATUS(crdt_bclog_absorb_log(&log, &other, &err), CRDT_OK, &err);
	crdt_bclog_free(&other);
	CHECK_STATUS(crdt_bclog_write(&log, &got, &err), CRDT_OK, &err);
	CHECK_EQ_BYTES(buf_slice(&got), buf_slice(&want));
	CHECK(log.arena_bytes < 4 * 700 * 10 + 8192);
	crdt_bclog_free(&log);
	crdt_bufs_free(&row, &got, &want, &tmp, (CrdtBuf *) NULL);
}
