/*
 * test_sequence.c — rtext and rlist against a reference model.
 *
 * The model is a separate, naive Fugue: a global log of operations in the
 * order they were made (a causal order), each replica the set of those it
 * has seen; its document is rebuilt from scratch by inserting the seen
 * operations one by one into an explicit tree and walking it recursively.
 * Where an insert goes is decided by the model from its own tree at the
 * moment it is made, so the core is compared with an independent placement.
 */
#include "unit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_OPS 64
#define MAX_REPLICAS 5
#define ROOT (-1)

/* replica ids with shared prefixes and mixed case: the byte order matters */
static const char *const names[MAX_REPLICAS] = {"b", "ab", "a", "B", "b0"};

typedef struct ModelOp
{
	bool		insert;
	int			replica;
	uint32_t	counter;
	int			parent;			/* op index of the parent element, or ROOT */
	int			side;			/* 0 left, 1 right */
	int			target;			/* delete: op index of the element */
	char		ch[16];		/* a character (rtext) or a JSON value (rlist) */
} ModelOp;

typedef struct SeqModel
{
	ModelOp		ops[MAX_OPS];
	int			nops;
	bool		seen[MAX_REPLICAS][MAX_OPS];
} SeqModel;

/* id order: replica bytes (shorter first on a common prefix), then counter */
static int
id_cmp(const SeqModel *m, int a, int b)
{
	int			c = strcmp(names[m->ops[a].replica], names[m->ops[b].replica]);

	if (c != 0)
		return c;
	return m->ops[a].counter < m->ops[b].counter ? -1 : m->ops[a].counter > m->ops[b].counter;
}

/* the walk below node (ROOT for the root): op indexes of elements into out */
static void
walk(const SeqModel *m, const bool *seen, int node, int *out, int *n)
{
	for (int side = 0; side < 2; side++)
	{
		int			kids[MAX_OPS];
		int			nk = 0;

		for (int i = 0; i < m->nops; i++)
			if (seen[i] && m->ops[i].insert && m->ops[i].parent == node && m->ops[i].side == side)
			{
				int			k = nk++;

				while (k > 0 && id_cmp(m, kids[k - 1], i) > 0)
				{
					kids[k] = kids[k - 1];
					k--;
				}
				kids[k] = i;
			}
		if (side == 1 && node != ROOT)
			out[(*n)++] = node;
		for (int k = 0; k < nk; k++)
			walk(m, seen, kids[k], out, n);
	}
}

static bool
model_deleted(const SeqModel *m, const bool *seen, int element)
{
	for (int i = 0; i < m->nops; i++)
		if (seen[i] && !m->ops[i].insert && m->ops[i].target == element)
			return true;
	return false;
}

/* the visible elements of replica r, in order */
static int
model_visible(const SeqModel *m, int r, int *vis, int *order, int *norder)
{
	int			nv = 0;

	*norder = 0;
	walk(m, m->seen[r], ROOT, order, norder);
	for (int k = 0; k < *norder; k++)
		if (!model_deleted(m, m->seen[r], order[k]))
			vis[nv++] = order[k];
	return nv;
}

/* replica r's document as crdt_value gives it: the text, or the JSON array */
static void
model_text(CrdtSeqKind kind, const SeqModel *m, int r, char *out)
{
	int			vis[MAX_OPS];
	int			order[MAX_OPS];
	int			norder;
	int			nv = model_visible(m, r, vis, order, &norder);

	strcpy(out, kind == CRDT_RLIST ? "[" : "");
	for (int k = 0; k < nv; k++)
	{
		if (kind == CRDT_RLIST && k > 0)
			strcat(out, ",");
		strcat(out, m->ops[vis[k]].ch);
	}
	strcat(out, kind == CRDT_RLIST ? "]" : "");
}

static bool
has_child(const SeqModel *m, int r, int node, int side)
{
	for (int i = 0; i < m->nops; i++)
		if (m->seen[r][i] && m->ops[i].insert && m->ops[i].parent == node && m->ops[i].side == side)
			return true;
	return false;
}

/* records an insert of ch at visible position pos by replica r (Fugue's rule) */
static void
model_insert(SeqModel *m, int r, int pos, const char *ch)
{
	int			vis[MAX_OPS];
	int			order[MAX_OPS];
	int			norder;
	ModelOp    *op = &m->ops[m->nops];
	int			left;

	model_visible(m, r, vis, order, &norder);
	left = pos == 0 ? ROOT : vis[pos - 1];
	memset(op, 0, sizeof(*op));
	op->insert = true;
	op->replica = r;
	for (int i = 0; i < m->nops; i++)
		if (m->seen[r][i] && m->ops[i].insert && m->ops[i].replica == r && m->ops[i].counter >= op->counter)
			op->counter = m->ops[i].counter;
	op->counter++;
	if (!has_child(m, r, left, 1))
	{
		op->parent = left;
		op->side = 1;
	}
	else
	{
		int			k = 0;

		if (left != ROOT)
			while (order[k] != left)
				k++;
		op->parent = order[left == ROOT ? 0 : k + 1];
		op->side = 0;
	}
	snprintf(op->ch, sizeof(op->ch), "%s", ch);
	m->seen[r][m->nops++] = true;
}

static void
model_delete(SeqModel *m, int r, int pos)
{
	int			vis[MAX_OPS];
	int			order[MAX_OPS];
	int			norder;
	ModelOp    *op = &m->ops[m->nops];

	model_visible(m, r, vis, order, &norder);
	memset(op, 0, sizeof(*op));
	op->replica = r;
	op->target = vis[pos];
	m->seen[r][m->nops++] = true;
}

/* ------------------------------------------------------------- helpers */

static void
put_value(CrdtBuf *dst, CrdtSlice v)
{
	buf_reset(dst);
	crdt_buf_put(dst, v.data, v.len);
}

static void
check_text(CrdtSeqKind kind, CrdtSlice state, const char *want, const char *what)
{
	CrdtBuf		out;
	CrdtError	err;

	buf_open(&out);
	if (CHECK_OK(crdt_seq_value(kind, state, &out, &err), &err))
		CHECK_MSG(out.len == strlen(want) && memcmp(out.data, want, out.len) == 0,
				  "%s: core \"%s\", model \"%s\"", what, show_text((const char *) out.data, out.len), want);
	crdt_buf_free(&out);
}

/* parse(print(v)) gives v back */
static void
check_text_form(CrdtSeqKind kind, CrdtSlice v)
{
	CrdtBuf		text;
	CrdtBuf		back;
	CrdtError	err;
	const CrdtType *type = kind == CRDT_RTEXT ? &crdt_type_rtext : &crdt_type_rlist;

	buf_open(&text);
	buf_open(&back);
	if (CHECK_OK(type->print(v, &text, &err), &err) &&
		CHECK_OK(type->parse((const char *) text.data, text.len, &back, &err), &err))
		CHECK_EQ_BYTES(buf_slice(&back), v);
	crdt_buf_free(&text);
	crdt_buf_free(&back);
}

static void
splice(CrdtSeqKind kind, CrdtBuf *state, size_t pos, size_t del, const char *ins, int replica)
{
	CrdtBuf		out;
	CrdtError	err;

	buf_open(&out);
	if (CHECK_OK(crdt_seq_splice(kind, buf_slice(state), pos, del, (const uint8_t *) ins,
								 ins ? strlen(ins) : 0, (const uint8_t *) names[replica],
								 strlen(names[replica]), &out, &err), &err))
		put_value(state, buf_slice(&out));
	crdt_buf_free(&out);
}

/* state := merge(state, other), by the full state or by a delta (checked equal) */
static void
merge_into(CrdtSeqKind kind, CrdtBuf *state, CrdtSlice other, bool by_delta)
{
	CrdtBuf		full;
	CrdtBuf		delta;
	CrdtBuf		via;
	CrdtError	err;

	crdt_bufs_init(&crdt_malloc_allocator, &full, &delta, &via, NULL);
	CHECK_OK(crdt_seq_merge(kind, buf_slice(state), other, &full, &err), &err);
	if (by_delta &&
		CHECK_OK(crdt_seq_delta(kind, other, buf_slice(state), &delta, &err), &err) &&
		CHECK_OK(crdt_seq_merge(kind, buf_slice(state), buf_slice(&delta), &via, &err), &err))
		CHECK_EQ_BYTES(buf_slice(&via), buf_slice(&full));
	put_value(state, buf_slice(&full));
	crdt_bufs_free(&full, &delta, &via, NULL);
}

static const char *const chars[] = {"a", "b", "c", "x", "y", "\xC3\xA9", "\xF0\x9F\x98\x80", "\""};

/* rlist elements: canonical JSON of every kind, two equal */
static const char *const values[] = {"1", "\"a\"", "null", "[1,2]", "{\"k\":\"v\"}", "true", "\"\xC3\xA9\"", "1"};

/* ------------------------------------------------------------- histories */

/* one random history of kind: 3-5 replicas, single inserts and deletes, merges by state or delta */
static void
one_history(CrdtSeqKind kind, Rng *rng)
{
	SeqModel	m;
	CrdtBuf		st[MAX_REPLICAS];
	int			nr = 3 + (int) rng_below(rng, 3);
	int			steps = 6 + (int) rng_below(rng, 24);
	char		want[MAX_OPS * 17 + 3];
	const char *const *items = kind == CRDT_RTEXT ? chars : values;

	memset(&m, 0, sizeof(m));
	for (int r = 0; r < nr; r++)
	{
		buf_open(&st[r]);
		crdt_seq_write_empty(kind, &st[r]);
	}
	for (int s = 0; s < steps && m.nops < MAX_OPS - 2; s++)
	{
		int			r = (int) rng_below(rng, (uint64_t) nr);
		int			vis[MAX_OPS];
		int			order[MAX_OPS];
		int			norder;
		int			len = model_visible(&m, r, vis, order, &norder);
		uint64_t	what = rng_below(rng, 10);

		if (what < 5 || len == 0)
		{
			int			pos = (int) rng_below(rng, (uint64_t) len + 1);
			const char *ch = items[rng_below(rng, 8)];

			model_insert(&m, r, pos, ch);
			splice(kind, &st[r], (size_t) pos, 0, ch, r);
		}
		else if (what < 7)
		{
			int			pos = (int) rng_below(rng, (uint64_t) len);

			model_delete(&m, r, pos);
			splice(kind, &st[r], (size_t) pos, 1, NULL, r);
		}
		else
		{
			int			from = (int) rng_below(rng, (uint64_t) nr);

			for (int i = 0; i < m.nops; i++)
				m.seen[r][i] |= m.seen[from][i];
			merge_into(kind, &st[r], buf_slice(&st[from]), rng_percent(rng, 50));
		}
		model_text(kind, &m, r, want);
		check_text(kind, buf_slice(&st[r]), want, "after a step");
	}
	/* everyone gets everything, in a random order: equal bytes */
	for (int r = 0; r < nr; r++)
	{
		int			perm[MAX_REPLICAS];

		for (int k = 0; k < nr; k++)
			perm[k] = k;
		rng_shuffle(rng, perm, (size_t) nr, sizeof(int));
		for (int k = 0; k < nr; k++)
			if (perm[k] != r)
				merge_into(kind, &st[r], buf_slice(&st[perm[k]]), rng_percent(rng, 30));
	}
	for (int r = 0; r < nr; r++)
		for (int i = 0; i < m.nops; i++)
			m.seen[r][i] = true;
	model_text(kind, &m, 0, want);
	for (int r = 0; r < nr; r++)
	{
		check_text(kind, buf_slice(&st[r]), want, "after full sync");
		if (r > 0)
			CHECK_EQ_BYTES(buf_slice(&st[r]), buf_slice(&st[0]));
	}
	check_text_form(kind, buf_slice(&st[0]));
	for (int r = 0; r < nr; r++)
		crdt_buf_free(&st[r]);
}

static void
run_histories(CrdtSeqKind kind, const char *name)
{
	uint64_t	stream = rng_stream(name);

	for (long c = 0; c < unit_run.cases; c++)
	{
		Rng			rng = rng_for_case(stream, (uint64_t) c);

		one_history(kind, &rng);
	}
}

void
test_sequence_histories(void)
{
	run_histories(CRDT_RTEXT, "sequence histories");
}

/* the same histories over rlist: JSON values at positions */
void
test_sequence_rlist_histories(void)
{
	run_histories(CRDT_RLIST, "sequence rlist histories");
}

/* ------------------------------------------------------- no interleaving */

/* element x (one ASCII character) as kind inserts it: "x" or the JSON string "\"x\"" */
static const char *
item(CrdtSeqKind kind, char x, char *buf)
{
	snprintf(buf, 4, kind == CRDT_RTEXT ? "%c" : "\"%c\"", x);
	return buf;
}

/* crdt_value(state) is want */
static bool
value_is(CrdtSeqKind kind, CrdtSlice state, const char *want)
{
	CrdtBuf		out;
	CrdtError	err;
	bool		same;

	buf_open(&out);
	same = crdt_seq_value(kind, state, &out, &err) == CRDT_OK && out.len == strlen(want) &&
		memcmp(out.data, want, out.len) == 0;
	crdt_buf_free(&out);
	return same;
}

/* the document of the characters of plain as crdt_value gives it */
static void
render(CrdtSeqKind kind, const char *plain, char *out)
{
	char		buf[4];

	strcpy(out, kind == CRDT_RLIST ? "[" : "");
	for (const char *c = plain; *c; c++)
	{
		if (kind == CRDT_RLIST && c > plain)
			strcat(out, ",");
		strcat(out, item(kind, *c, buf));
	}
	strcat(out, kind == CRDT_RLIST ? "]" : "");
}

/*
 * Two replicas type runs at the same place concurrently, forwards (each
 * character after the last) or backwards (each at the same position);
 * whatever the delivery order, each run ends up in one piece.  Case c
 * picks the direction (bit 0), the delivery order (bit 1) and the kind
 * (bit 2: rtext characters or rlist values).
 */
static void
one_interleaving(long c, Rng *rng)
{
	CrdtSeqKind kind = (c / 4) % 2 ? CRDT_RLIST : CRDT_RTEXT;
	CrdtBuf		st[3];
	const char *runs[2] = {"abcd", "1234"};
	char		buf[4];
	char		want[2][64];
	int			a = 1 + (int) rng_below(rng, 4);
	int			b = 1 + (int) rng_below(rng, 4);
	bool		backwards = c % 2 == 1;

	for (int r = 0; r < 3; r++)
	{
		buf_open(&st[r]);
		crdt_seq_write_empty(kind, &st[r]);
		splice(kind, &st[r], 0, 0, item(kind, 'X', buf), 0);
		splice(kind, &st[r], 1, 0, item(kind, 'Y', buf), 0);
	}
	for (int k = 0; k < 4; k++)
	{
		size_t		pos = backwards ? 1 : (size_t) (1 + k);

		splice(kind, &st[1], pos, 0, item(kind, runs[0][backwards ? 3 - k : k], buf), a);
		splice(kind, &st[2], pos, 0, item(kind, runs[1][backwards ? 3 - k : k], buf), b == a ? (a % 4) + 1 : b);
		if (rng_percent(rng, 30))	/* a third replica sees part of one run */
			merge_into(kind, &st[0], buf_slice(&st[1 + (int) rng_below(rng, 2)]), false);
	}
	merge_into(kind, &st[0], buf_slice(&st[1 + (c % 4 < 2)]), rng_percent(rng, 50));
	merge_into(kind, &st[0], buf_slice(&st[1 + (c % 4 >= 2)]), rng_percent(rng, 50));
	merge_into(kind, &st[1], buf_slice(&st[2]), false);
	CHECK_EQ_BYTES(buf_slice(&st[0]), buf_slice(&st[1]));
	render(kind, "Xabcd1234Y", want[0]);
	render(kind, "X1234abcdY", want[1]);
	/* one run wholly before the other: either order, nothing mixed */
	check_text(kind, buf_slice(&st[0]), want[value_is(kind, buf_slice(&st[0]), want[1])], "interleaved");
	for (int r = 0; r < 3; r++)
		crdt_buf_free(&st[r]);
}

void
test_sequence_interleaving(void)
{
	uint64_t	stream = rng_stream("sequence interleaving");

	for (long c = 0; c < unit_cases_div(50); c++)
	{
		Rng			rng = rng_for_case(stream, (uint64_t) c);

		one_interleaving(c, &rng);
	}
}

/* ------------------------------------------------------------ rlist */

void
test_sequence_rlist(void)
{
	CrdtBuf		v;
	CrdtBuf		out;
	CrdtBuf		text;
	CrdtError	err;
	const char *const vals[] = {"{\"step\":1}", "\"two\"", "3", "[4,5]"};

	crdt_bufs_init(&crdt_malloc_allocator, &v, &out, &text, NULL);
	crdt_seq_write_empty(CRDT_RLIST, &v);
	for (int i = 0; i < 4; i++)
	{
		buf_reset(&out);
		if (CHECK_OK(crdt_seq_splice(CRDT_RLIST, buf_slice(&v), (size_t) i, 0, (const uint8_t *) vals[i],
									 strlen(vals[i]), (const uint8_t *) "p1", 2, &out, &err), &err))
			put_value(&v, buf_slice(&out));
	}
	buf_reset(&out);
	CHECK_OK(crdt_seq_splice(CRDT_RLIST, buf_slice(&v), 1, 2, NULL, 0, (const uint8_t *) "p2", 2, &out, &err), &err);
	put_value(&v, buf_slice(&out));
	buf_reset(&out);
	if (CHECK_OK(crdt_seq_value(CRDT_RLIST, buf_slice(&v), &out, &err), &err))
		CHECK_EQ_TEXT(out.data, out.len, "[{\"step\":1},[4,5]]");
	buf_reset(&out);
	if (CHECK_OK(crdt_seq_get(CRDT_RLIST, buf_slice(&v), 1, &out, &err), &err))
		CHECK_EQ_TEXT(out.data, out.len, "[4,5]");
	CHECK_ERR(crdt_seq_get(CRDT_RLIST, buf_slice(&v), 2, &out, &err), &err, CRDT_ERR_ARGUMENT, -1);
	CHECK_ERR(crdt_seq_splice(CRDT_RLIST, buf_slice(&v), 1, 2, NULL, 0, (const uint8_t *) "p2", 2, &out, &err),
			  &err, CRDT_ERR_ARGUMENT, -1);
	if (CHECK_OK(crdt_type_rlist.print(buf_slice(&v), &text, &err), &err))
		CHECK_EQ_TEXT(text.data, text.len,
					  "{\"p1\":[[1,\"^\",[{\"step\":1}]],[2,\"+\",2],[4,\"+\",[[4,5]]]]}");
	check_text_form(CRDT_RLIST, buf_slice(&v));
	crdt_bufs_free(&v, &out, &text, NULL);
}

/* --------------------------------------------------------- text form */

void
test_sequence_text(void)
{
	static const struct
	{
		const char *in;
		const char *out;		/* NULL: a syntax error */
	}			cases[] = {
		{"{}", "{}"},
		{" { } ", "{}"},
		{"{\"a\":[[1,\"^\",\"he\"],[3,\"+\",\"llo\"]]}", "{\"a\":[[1,\"^\",\"hello\"]]}"},
		{"{\"b\":[[1,[\"<\",\"a\",2],\"X\"]],\"a\":[[1,\"^\",\"hi\"]]}",
		"{\"a\":[[1,\"^\",\"hi\"]],\"b\":[[1,[\"<\",\"a\",2],\"X\"]]}"},
		{"{\"a\":[[1,\"^\",2],[3,\"+\",\"z\"],[5,[\">\",\"a\",3],1]]}",
		"{\"a\":[[1,\"^\",2],[3,\"+\",\"z\"],[5,[\">\",\"a\",3],1]]}"},
		{"{\"a\":[[1,\"^\",\"\\u00e9\\ud83d\\ude00\"]]}", "{\"a\":[[1,\"^\",\"\xC3\xA9\xF0\x9F\x98\x80\"]]}"},
		{"{\"a\":[[1,\"+\",\"x\"]]}", NULL},		/* "+" on counter 1 */
		/* parents that are not there (a delta): detached, named explicitly */
		{"{\"a\":[[2,\"+\",\"x\"]]}", "{\"a\":[[2,[\">\",\"a\",1],\"x\"]]}"},
		{"{\"b\":[[1,[\"<\",\"a\",7],\"x\"],[2,\"+\",\"y\"]]}", "{\"b\":[[1,[\"<\",\"a\",7],\"xy\"]]}"},
		{"{\"a\":[[3,[\">\",\"a\",4],\"x\"],[4,[\">\",\"a\",3],\"y\"]]}", NULL},	/* a cycle */
		{"{\"a\":[[1,[\"<\",\"a\",1],\"x\"]]}", NULL},	/* its own parent */
		{"{\"a\":[[1,\"^\",\"x\"],[1,\"^\",\"y\"]]}", NULL},	/* twice */
		{"{\"a\":[[1,\"^\",\"\\u0000\"]]}", NULL},
		{"{\"a\":[[0,\"^\",\"x\"]]}", NULL},
		{"{\"a\":[[1,\"?\",\"x\"]]}", NULL},
		{"{\"\":[[1,\"^\",\"x\"]]}", NULL},
		{"{\"a\":[[1,\"^\",\"x\"]]} x", NULL},
	};
	CrdtBuf		out;
	CrdtBuf		text;
	CrdtError	err;

	crdt_bufs_init(&crdt_malloc_allocator, &out, &text, NULL);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
	{
		CrdtStatus	st;

		buf_reset(&out);
		buf_reset(&text);
		st = crdt_type_rtext.parse(cases[i].in, strlen(cases[i].in), &out, &err);
		if (cases[i].out == NULL)
		{
			CHECK_MSG(st == CRDT_ERR_SYNTAX, "%s: want a syntax error, got %s", cases[i].in,
					  unit_status_name(st));
			continue;
		}
		if (CHECK_OK(st, &err) && CHECK_OK(crdt_type_rtext.print(buf_slice(&out), &text, &err), &err))
			CHECK_EQ_TEXT(text.data, text.len, cases[i].out);
		CHECK_OK(crdt_type_rtext.validate(buf_slice(&out), &err), &err);
	}
	crdt_bufs_free(&out, &text, NULL);
}

/* ------------------------------------------------------------ hostile */

/* bad: an rtext value, damaged; ctx: a valid value to merge it with */
static void
hostile_one(void *ctx, CrdtSlice bad)
{
	const CrdtSlice *good = ctx;
	const CrdtType *type = &crdt_type_rtext;
	CrdtError	err;
	CrdtStatus	st = type->validate(bad, &err);
	CrdtBuf		out;

	CHECK_MSG(st == CRDT_OK || st == CRDT_ERR_BINARY || st == CRDT_ERR_TOO_LARGE,
			  "hostile value: %s", unit_status_name(st));
	if (st != CRDT_OK)
		return;
	/* what passes is canonical and usable */
	check_text_form(CRDT_RTEXT, bad);
	buf_open(&out);
	st = type->merge(bad, *good, &out, &err);
	CHECK_MSG(st == CRDT_OK, "merge of a valid value: %s", unit_status_name(st));
	crdt_buf_free(&out);
}

void
test_sequence_hostile(void)
{
	uint64_t	stream = rng_stream("sequence hostile");

	for (long c = 0; c < unit_cases_div(2000); c++)
	{
		Rng			rng = rng_for_case(stream, (uint64_t) c);
		CrdtBuf		a;
		CrdtBuf		b;
		CrdtSlice	good;

		buf_open(&a);
		buf_open(&b);
		crdt_seq_write_empty(CRDT_RTEXT, &a);
		for (int k = 0; k < 5; k++)
			splice(CRDT_RTEXT, &a, rng_below(&rng, (uint64_t) k + 1), 0, chars[rng_below(&rng, 8)],
				   (int) rng_below(&rng, MAX_REPLICAS));
		for (int k = 0; k < 3; k++)
			splice(CRDT_RTEXT, &a, rng_below(&rng, (uint64_t) (5 - k)), 1, NULL, (int) rng_below(&rng, MAX_REPLICAS));
		crdt_seq_write_empty(CRDT_RTEXT, &b);
		good = buf_slice(&b);
		hostile_each(buf_slice(&a), &rng, 200, hostile_one, &good);
		crdt_buf_free(&a);
		crdt_buf_free(&b);
	}
}

/* --------------------------------------------------------------- size */

/*
 * The delta of one step (old -> v) carries what the step did and little
 * more: at most `most` bytes; merged into old it gives v.
 */
static void
check_step_delta(CrdtSlice v, CrdtSlice old, size_t most, const char *what)
{
	CrdtBuf		delta;
	CrdtBuf		via;
	CrdtError	err;

	crdt_bufs_init(&crdt_malloc_allocator, &delta, &via, NULL);
	if (CHECK_OK(crdt_seq_delta(CRDT_RTEXT, v, old, &delta, &err), &err) &&
		CHECK_OK(crdt_seq_merge(CRDT_RTEXT, old, buf_slice(&delta), &via, &err), &err))
	{
		size_t		length = 1;

		CHECK_EQ_BYTES(buf_slice(&via), v);
		CHECK_MSG(delta.len <= most, "%s: a delta of %zu bytes (at most %zu)", what, delta.len, most);
		/* alone, its elements hang from parents it lacks: not in its document */
		if (CHECK_OK(crdt_seq_length(CRDT_RTEXT, buf_slice(&delta), &length, &err), &err))
			CHECK_EQ_UINT(length, 0);
		check_text(CRDT_RTEXT, buf_slice(&delta), "", what);
		check_text_form(CRDT_RTEXT, buf_slice(&delta));
	}
	crdt_bufs_free(&delta, &via, NULL);
}

/*
 * 20,000 characters typed in 2,000 splices at random places, 4,000 of
 * them deleted again: at most twice the text's UTF-8 length plus 2 kB.
 * The delta of each of the last splices (10 characters typed, 10
 * deleted) is small: the characters, their parent's id, the replica ids.
 */
void
test_sequence_size(void)
{
	Rng			rng = rng_for_case(rng_stream("sequence size"), 0);
	CrdtBuf		v;
	CrdtBuf		old;
	CrdtBuf		text;
	CrdtError	err;
	size_t		length = 0;

	crdt_bufs_init(&crdt_malloc_allocator, &v, &old, &text, NULL);
	crdt_seq_write_empty(CRDT_RTEXT, &v);
	for (int k = 0; k < 2000; k++)
	{
		char		word[11];

		for (int i = 0; i < 10; i++)
			word[i] = (char) ('a' + rng_below(&rng, 26));
		word[10] = 0;
		put_value(&old, buf_slice(&v));
		splice(CRDT_RTEXT, &v, rng_below(&rng, length + 1), 0, word, k % 3);
		if (k >= 1990)
			check_step_delta(buf_slice(&v), buf_slice(&old), 10 + 24, "typing 10 characters");
		length += 10;
		if (k % 5 == 4)			/* 400 deletes of 10 */
		{
			put_value(&old, buf_slice(&v));
			splice(CRDT_RTEXT, &v, rng_below(&rng, length - 9), 10, NULL, k % 3);
			length -= 10;
			if (k >= 1990)
				check_step_delta(buf_slice(&v), buf_slice(&old), 64, "deleting 10 characters");
		}
	}
	if (CHECK_OK(crdt_seq_value(CRDT_RTEXT, buf_slice(&v), &text, &err), &err))
	{
		CHECK_EQ_UINT(text.len, 16000);
		CHECK_MSG(v.len <= 2 * text.len + 2048, "stored %zu bytes for %zu bytes of text", v.len, text.len);
	}
	/* a run that grows by one character: the delta is that character, not the run */
	buf_reset(&v);
	crdt_seq_write_empty(CRDT_RTEXT, &v);
	for (int k = 0; k < 200; k++)
		splice(CRDT_RTEXT, &v, (size_t) k * 10, 0, "abcdefghij", 1);
	put_value(&old, buf_slice(&v));
	splice(CRDT_RTEXT, &v, 2000, 0, "z", 1);
	check_step_delta(buf_slice(&v), buf_slice(&old), 1 + 16, "typing at the end of a run");
	crdt_bufs_free(&v, &old, &text, NULL);
}
