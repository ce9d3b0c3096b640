/*
 * test_assign.c — crdt_set_assign and crdt_orset_assign (arbitration of a
 * set to exactly the wanted elements, in one pass) against the model they
 * replace: one mutator call per element.  The results must be the same
 * bytes: removes of the unwanted present elements, then adds of the wanted
 * ones in byte order (for an orset, each add takes the next dot).
 */
#include "unit.h"

#include <stdio.h>
#include <string.h>

#define ALPHABET 12

static void
element_name(int i, char out[8])
{
	snprintf(out, 8, "e%02d", i);
}

/* A random state of kind built by its mutators, in out. */
static void
random_set(Rng *rng, const CrdtType *t, CrdtBuf *out)
{
	CrdtBuf		next;
	CrdtError	err;
	int			steps = (int) rng_below(rng, 20);

	buf_open(&next);
	buf_reset(out);
	t->write_empty(out);
	for (int s = 0; s < steps; s++)
	{
		char		e[8];
		char		replica[4] = {'r', (char) ('a' + rng_below(rng, 3)), 0};
		bool		add = rng_percent(rng, 70);
		CrdtStatus	st;

		element_name((int) rng_below(rng, ALPHABET), e);
		buf_reset(&next);
		if (t == &crdt_type_orset)
			st = add ? crdt_orset_add(buf_slice(out), (const uint8_t *) e, strlen(e), (const uint8_t *) replica, 2,
									  &next, &err)
				: crdt_orset_remove(buf_slice(out), (const uint8_t *) e, strlen(e), &next, &err);
		else if (t == &crdt_type_twopset)
			st = add ? crdt_set_add(CRDT_TWOPSET, buf_slice(out), (const uint8_t *) e, strlen(e), &next, &err)
				: crdt_set_remove(CRDT_TWOPSET, buf_slice(out), (const uint8_t *) e, strlen(e), &next, &err);
		else
			st = crdt_set_add(CRDT_GSET, buf_slice(out), (const uint8_t *) e, strlen(e), &next, &err);
		if (!CHECK_OK(st, &err))
			break;
		buf_reset(out);
		crdt_buf_put(out, next.data, next.len);
	}
	crdt_buf_free(&next);
}

static bool
present(const CrdtType *t, CrdtSlice value, const char *e)
{
	CrdtError	err;
	bool		found = false;

	if (t == &crdt_type_orset)
	{
		CrdtDottedKeys it;
		const uint8_t *key;
		size_t		len;

		if (crdt_dotted_keys_init(&it, CRDT_ORSET, value, &err) != CRDT_OK)
			return false;
		while (crdt_dotted_keys_next(&it, &key, &len, &err) > 0)
			if (len == strlen(e) && memcmp(key, e, len) == 0)
				found = true;
		return found;
	}
	(void) crdt_set_contains(t == &crdt_type_twopset ? CRDT_TWOPSET : CRDT_GSET, value,
							 (const uint8_t *) e, strlen(e), &found, &err);
	return found;
}

/* The model: a mutator call per element. */
static CrdtStatus
assign_by_mutators(const CrdtType *t, CrdtSlice value, const bool *wanted, CrdtBuf *out, CrdtError *err)
{
	CrdtBuf		next;
	CrdtStatus	st = CRDT_OK;

	buf_open(&next);
	buf_reset(out);
	crdt_buf_put(out, value.data, value.len);
	for (int pass = 0; pass < 2 && st == CRDT_OK; pass++)
		for (int i = 0; i < ALPHABET && st == CRDT_OK; i++)
		{
			char		e[8];
			bool		is = false;

			element_name(i, e);
			is = present(t, buf_slice(out), e);
			buf_reset(&next);
			if (pass == 0 && is && !wanted[i])
			{
				if (t == &crdt_type_gset)
					st = crdt_fail(err, CRDT_ERR_ARGUMENT, -1, "a gset never loses an element");
				else if (t == &crdt_type_twopset)
					st = crdt_set_remove(CRDT_TWOPSET, buf_slice(out), (const uint8_t *) e, strlen(e), &next, err);
				else
					st = crdt_orset_remove(buf_slice(out), (const uint8_t *) e, strlen(e), &next, err);
			}
			else if (pass == 1 && wanted[i] && !is)
			{
				if (t == &crdt_type_orset)
					st = crdt_orset_add(buf_slice(out), (const uint8_t *) e, strlen(e), (const uint8_t *) "me", 2,
										&next, err);
				else
					st = crdt_set_add(t == &crdt_type_twopset ? CRDT_TWOPSET : CRDT_GSET, buf_slice(out),
									  (const uint8_t *) e, strlen(e), &next, err);
			}
			else
				continue;
			if (st == CRDT_OK)
			{
				buf_reset(out);
				crdt_buf_put(out, next.data, next.len);
			}
		}
	crdt_buf_free(&next);
	return st;
}

static void
check_assign(Rng *rng, const CrdtType *t)
{
	CrdtBuf		value,
				wanted,
				got,
				want,
				next;
	CrdtError	err;
	CrdtError	model_err;
	bool		wanted_set[ALPHABET];
	CrdtStatus	st,
				model;

	buf_open(&value);
	buf_open(&wanted);
	buf_open(&got);
	buf_open(&want);
	buf_open(&next);
	random_set(rng, t, &value);
	crdt_set_write_empty(CRDT_GSET, &wanted);
	for (int i = 0; i < ALPHABET; i++)
	{
		char		e[8];

		wanted_set[i] = rng_percent(rng, t == &crdt_type_gset ? 80 : 50);
		element_name(i, e);
		if (wanted_set[i])
		{
			buf_reset(&next);
			CHECK_OK(crdt_set_add(CRDT_GSET, buf_slice(&wanted), (const uint8_t *) e, strlen(e), &next, &err), &err);
			buf_reset(&wanted);
			crdt_buf_put(&wanted, next.data, next.len);
		}
	}
	if (t == &crdt_type_orset)
		st = crdt_orset_assign(buf_slice(&value), buf_slice(&wanted), (const uint8_t *) "me", 2, &got, &err);
	else
		st = crdt_set_assign(t == &crdt_type_twopset ? CRDT_TWOPSET : CRDT_GSET, buf_slice(&value),
							 buf_slice(&wanted), &got, &err);
	model = assign_by_mutators(t, buf_slice(&value), wanted_set, &want, &model_err);
	if (!CHECK_EQ_INT(st, model))
		unit_note("%s: %s / %s", t->name, st != CRDT_OK ? err.message : "ok",
				  model != CRDT_OK ? model_err.message : "ok");
	else if (st == CRDT_OK)
	{
		CHECK_EQ_BYTES(buf_slice(&got), buf_slice(&want));
		CHECK_OK(t->validate(buf_slice(&got), &err), &err);
	}
	crdt_buf_free(&value);
	crdt_buf_free(&wanted);
	crdt_buf_free(&got);
	crdt_buf_free(&want);
	crdt_buf_free(&next);
}

void
test_sets_assign(void)
{
	const CrdtType *types[] = {&crdt_type_gset, &crdt_type_twopset, &crdt_type_orset};
	long		cases = unit_cases_div(20);

	for (int k = 0; k < 3; k++)
	{
		uint64_t	stream = rng_stream(types[k]->name);

		for (long c = 0; c < cases; c++)
		{
			Rng			rng = rng_for_case(stream + 7, (uint64_t) c);

			check_assign(&rng, types[k]);
		}
	}
}
