/*
 * binary.c — fuzz target for the binary decoders: validate (binary input,
 * recv) of all eight types, and every operation handed bytes that were
 * never validated (stored values are read by the same bounded readers;
 * docs/FORMAT.md promises no byte string makes them read past its end).
 *
 * Input: a selector byte choosing the type whose operations run, then the
 * bytes.  The bytes are validated under every type's rules: a type accepts
 * them or refuses them as malformed (or too large), and what it accepts is
 * canonical: printed and parsed back, it is the same bytes.  Operations of
 * the chosen type on the bytes succeed or refuse them as malformed; on
 * valid bytes they succeed and give valid values.
 */
#include "fuzz_common.h"

#include <string.h>

static bool
refused(CrdtStatus st)
{
	return st == CRDT_ERR_BINARY || st == CRDT_ERR_TOO_LARGE;
}

typedef struct Ctx
{
	const CrdtType *t;
	CrdtSlice	bad;			/* the input bytes */
	bool		valid;			/* whether they validate as t */
	CrdtSlice	good;			/* a valid value of t */
	CrdtBuf		out;
} Ctx;

/*
 * An operation's outcome: on valid input success (and, when it gives a
 * value, a valid one); on invalid input success or a refusal.  also_ok is
 * one more status the operation may give either way (e.g. OVERFLOW).
 */
static void
outcome(Ctx *c, const char *what, CrdtStatus st, const CrdtError *err, bool gives_value,
		CrdtStatus also_ok)
{
	if (c->valid)
		FUZZ_CHECK(st == CRDT_OK || (also_ok != CRDT_OK && st == also_ok),
				   "%s %s on a valid value gives %s: %s", c->t->name, what,
				   fuzz_status_name(st), err->message);
	else
		FUZZ_CHECK(st == CRDT_OK || refused(st) || (also_ok != CRDT_OK && st == also_ok),
				   "%s %s on an invalid value gives %s: %s", c->t->name, what,
				   fuzz_status_name(st), err->message);
	/*
	 * Values the operations give are valid even from invalid input for the
	 * counters (their readers check everything they pass over); the set
	 * and dotted operations promise it only for valid input.
	 */
	if (st == CRDT_OK && gives_value)
	{
		CrdtCounterKind ck;

		if (c->valid || fuzz_is_counter(c->t, &ck))
		{
			CrdtError	verr;
			CrdtStatus	vst = c->t->validate(fuzz_exact_buf(&c->out), &verr);

			fuzz_note_value("result", fuzz_exact_buf(&c->out));
			FUZZ_CHECK(vst == CRDT_OK, "%s %s gives an invalid value: %s: %s", c->t->name, what,
					   fuzz_status_name(vst), verr.message);
		}
	}
	fuzz_buf_reset(&c->out);
}

static void
generic_ops(Ctx *c)
{
	const CrdtType *t = c->t;
	CrdtError	err;
	int			order = 2;

	outcome(c, "merge(bad, good)", t->merge(c->bad, c->good, &c->out, &err), &err, true, CRDT_OK);
	outcome(c, "merge(good, bad)", t->merge(c->good, c->bad, &c->out, &err), &err, true, CRDT_OK);
	outcome(c, "merge(bad, bad)", t->merge(c->bad, c->bad, &c->out, &err), &err, true, CRDT_OK);
	outcome(c, "delta(bad, good)", t->delta(c->bad, c->good, &c->out, &err), &err, true, CRDT_OK);
	outcome(c, "delta(good, bad)", t->delta(c->good, c->bad, &c->out, &err), &err, true, CRDT_OK);
	outcome(c, "print", t->print(c->bad, &c->out, &err), &err, false, CRDT_OK);
	outcome(c, "compare(bad, good)", t->compare(c->bad, c->good, &order, &err), &err, false,
			CRDT_OK);
	outcome(c, "compare(good, bad)", t->compare(c->good, c->bad, &order, &err), &err, false,
			CRDT_OK);
}

static void
counter_ops(Ctx *c, CrdtCounterKind kind)
{
	CrdtError	err;
	int64_t		v;
	CrdtSlice	half[2];

	outcome(c, "value", crdt_counter_value(kind, c->bad, &v, &err), &err, false,
			CRDT_ERR_OVERFLOW);
	outcome(c, "get", crdt_counter_get(kind, c->bad, (const uint8_t *) "a", 1, &v, &err), &err,
			false, CRDT_OK);
	outcome(c, "add", crdt_counter_add(kind, c->bad, (const uint8_t *) "agent-042", 9, 5,
									   &c->out, &err), &err, true, CRDT_ERR_OVERFLOW);
	if (kind == CRDT_PNCOUNTER)
		outcome(c, "add(-)", crdt_counter_add(kind, c->bad, (const uint8_t *) "b", 1, -7,
											  &c->out, &err), &err, true, CRDT_ERR_OVERFLOW);
	outcome(c, "halves", crdt_counter_halves(kind, c->bad, half, &err), &err, false, CRDT_OK);
	{
		CrdtCounterReader r;
		CrdtMapEntry e;
		int			h;
		int			rc = 0;
		CrdtStatus	st = crdt_counter_reader_init(&r, kind, c->bad, &err);

		if (st == CRDT_OK)
		{
			while ((rc = crdt_counter_reader_next(&r, &e, &h, &err)) > 0)
				FUZZ_CHECK(e.len >= 1 && e.len <= CRDT_REPLICA_ID_MAX && e.count >= 1 &&
						   (h == 0 || h == 1), "counter reader gave a bad entry");
			if (rc < 0)
				st = err.status;
		}
		outcome(c, "reader", st, &err, false, CRDT_OK);
	}
	if (kind == CRDT_VCLOCK)
	{
		CrdtOrder	o;

		outcome(c, "vclock_compare(bad, good)", crdt_vclock_compare(c->bad, c->good, &o, &err),
				&err, false, CRDT_OK);
		outcome(c, "vclock_compare(good, bad)", crdt_vclock_compare(c->good, c->bad, &o, &err),
				&err, false, CRDT_OK);
		outcome(c, "distance", crdt_vclock_distance(c->good, c->bad, &v, &err), &err, false,
				CRDT_ERR_OVERFLOW);
	}
}

static void
set_ops(Ctx *c, CrdtSetKind kind)
{
	CrdtError	err;
	bool		found;
	size_t		n;
	CrdtSlice	lists[2];

	outcome(c, "contains", crdt_set_contains(kind, c->bad, (const uint8_t *) "b", 1, &found,
											 &err), &err, false, CRDT_OK);
	outcome(c, "cardinality", crdt_set_cardinality(kind, c->bad, &n, &err), &err, false,
			CRDT_OK);
	outcome(c, "add", crdt_set_add(kind, c->bad, (const uint8_t *) "milk", 4, &c->out, &err),
			&err, true, CRDT_OK);
	if (kind == CRDT_TWOPSET)
		outcome(c, "remove", crdt_set_remove(kind, c->bad, (const uint8_t *) "a", 1, &c->out,
											 &err), &err, true, CRDT_OK);
	outcome(c, "lists", crdt_set_lists(kind, c->bad, lists, &err), &err, false, CRDT_OK);
}

static void
dotted_ops(Ctx *c, CrdtDottedKind kind)
{
	CrdtError	err;
	CrdtDottedKeys it;
	CrdtStatus	st;

	st = crdt_dotted_keys_init(&it, kind, c->bad, &err);
	if (st == CRDT_OK)
	{
		const uint8_t *key;
		size_t		len;
		int			rc;

		while ((rc = crdt_dotted_keys_next(&it, &key, &len, &err)) > 0)
			;
		if (rc < 0)
			st = err.status;
	}
	outcome(c, "keys", st, &err, false, CRDT_OK);
	if (kind == CRDT_ORSET)
	{
		outcome(c, "orset add", crdt_orset_add(c->bad, (const uint8_t *) "eggs", 4,
											   (const uint8_t *) "alice", 5, &c->out, &err),
				&err, true, CRDT_OK);
		outcome(c, "orset remove", crdt_orset_remove(c->bad, (const uint8_t *) "milk", 4,
													 &c->out, &err), &err, true, CRDT_OK);
	}
	else
		outcome(c, "mvreg set", crdt_mvreg_set(c->bad, (const uint8_t *) "[1]", 3,
											   (const uint8_t *) "bob", 3, &c->out, &err),
				&err, true, CRDT_OK);
}

static void
lww_ops(Ctx *c)
{
	CrdtError	err;
	CrdtLww		lww;

	outcome(c, "lww read", crdt_lww_read(c->bad, &lww, &err), &err, false, CRDT_OK);
	outcome(c, "lww set", crdt_lww_set(c->bad, 12345, (const uint8_t *) "bob", 3,
									   (const uint8_t *) "{\"k\": 2}", 8, &c->out, &err),
			&err, true, CRDT_OK);
}

/* The value of a fixed operation program: something to merge the bytes with. */
static CrdtSlice
good_value(const CrdtType *t)
{
	static const uint8_t prog[] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 3, 2, 1, 0, 3, 9, 1, 0, 0};
	CrdtBuf		b;
	CrdtSlice	v;

	fuzz_buf_open(&b);
	fuzz_run_ops(t, fuzz_empty(t), prog, sizeof(prog), &b);
	v = fuzz_exact_buf(&b);
	crdt_buf_free(&b);
	return v;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	Ctx			c;
	CrdtCounterKind ck;
	CrdtSetKind sk;
	CrdtDottedKind dk;
	CrdtBuf		text;
	CrdtBuf		again;

	if (size < 1)
		return 0;
	fuzz_notes_clear();
	c.t = fuzz_type_of(data[0]);
	c.bad = fuzz_exact(data + 1, size - 1);
	c.valid = false;
	fuzz_note_value("input", c.bad);
	crdt_bufs_init(&crdt_malloc_allocator, &c.out, &text, &again, NULL);

	/* under every type's rules */
	for (int k = 0; k < FUZZ_TYPES; k++)
	{
		const CrdtType *t = fuzz_types[k];
		CrdtError	err;
		CrdtStatus	st = t->validate(c.bad, &err);

		if (t == c.t)
			c.valid = st == CRDT_OK;
		if (st != CRDT_OK)
		{
			FUZZ_CHECK(refused(st), "%s validate gives %s: %s", t->name, fuzz_status_name(st),
					   err.message);
			FUZZ_CHECK(err.position >= -1 && err.position <= (long) c.bad.len,
					   "%s validate error position %ld outside the value (%zu bytes): %s",
					   t->name, err.position, c.bad.len, err.message);
			continue;
		}
		/* accepted: the one canonical form of its state */
		fuzz_print(t, c.bad, &text);
		fuzz_note_value("printed", fuzz_exact_buf(&text));
		fuzz_buf_reset(&again);
		st = t->parse((const char *) fuzz_exact_buf(&text).data, text.len, &again, &err);
		FUZZ_CHECK(st == CRDT_OK, "%s text of an accepted value does not parse: %s: %s",
				   t->name, fuzz_status_name(st), err.message);
		FUZZ_CHECK(fuzz_slice_equal(fuzz_exact_buf(&again), c.bad),
				   "%s accepted bytes that are not canonical (print/parse changes them)",
				   t->name);
	}

	c.good = good_value(c.t);
	fuzz_note_value("good", c.good);
	generic_ops(&c);
	/*
	 * The family operations read version 1 only: a value with retirement
	 * markers is for them invalid (refused), as the glue unfolds it first.
	 */
	if (crdt_value_marked(c.bad))
		c.valid = false;
	if (fuzz_is_counter(c.t, &ck))
		counter_ops(&c, ck);
	else if (fuzz_is_set(c.t, &sk))
		set_ops(&c, sk);
	else if (fuzz_is_dotted(c.t, &dk))
		dotted_ops(&c, dk);
	else
		lww_ops(&c);

	crdt_bufs_free(&c.out, &text, &again, NULL);
	fuzz_exact_release_all();
	return 0;
}
