/*
 * dotted_mutate.c — orset add and remove, mvreg set.
 *
 * Each builds the small delta of its operation and merges it in:
 *   orset add(e):     ({e: [new dot]}, {new dot} ∪ dots(e))
 *   orset remove(e):  ({}, dots(e))
 *   mvreg set(v):     ({v: [new dot]}, {new dot} ∪ every dot)
 */
#include "dotted_internal.h"

/*
 * Adds to the delta's context the dots the operation observes: those of
 * key, or of every key (all_dots).  *covered counts them.
 */
static CrdtStatus
observe_dots(DottedReader *r, const uint8_t *key, size_t key_len, bool all_dots, Builder *b,
			 size_t *covered, CrdtError *err)
{
	const uint8_t *k;
	size_t		len;
	int			rc;

	while ((rc = crdt_dotted_reader_next(r, &k, &len, err)) > 0)
	{
		const Dot  *d = dotted_reader_dots(r);

		if (!all_dots && crdt_bytes_cmp(k, len, key, key_len) != 0)
			continue;
		for (size_t i = 0; i < dotted_reader_ndots(r); i++)
		{
			size_t		name = crdt_builder_name(b, CTX_ID(&r->context, d[i].replica),
												 CTX_ID_LEN(&r->context, d[i].replica),
												 NAME_CONTEXT_RANGE, -1);

			crdt_builder_range(b, name, d[i].counter, d[i].counter);
			(*covered)++;
		}
		if (!all_dots)
			break;
	}
	return rc < 0 ? err->status : CRDT_OK;
}

/* The next counter of replica: one past the highest its context has seen. */
static CrdtStatus
next_counter(const Context *c, const uint8_t *replica, size_t replica_len, uint64_t *next,
			 CrdtError *err)
{
	*next = 1;
	for (size_t i = 0; i < c->n; i++)
		if (crdt_bytes_cmp(CTX_ID(c, i), CTX_ID_LEN(c, i), replica, replica_len) == 0)
		{
			uint64_t	highest = CTX_RANGES(c)[CTX_FIRST(c, i + 1) - 1].hi;

			if (highest >= (uint64_t) INT64_MAX)
			{
				char		shown[96];

				crdt_describe_bytes(shown, sizeof(shown), replica, replica_len);
				return crdt_fail(err, CRDT_ERR_OVERFLOW, -1,
								 "the dot counter of replica %s would exceed the bigint range",
								 shown);
			}
			*next = highest + 1;
		}
	return CRDT_OK;
}

/* The result: value itself when nothing changes, else value merged with the delta built in b. */
static CrdtStatus
merge_built(CrdtDottedKind kind, CrdtSlice value, bool unchanged, Builder *b, CrdtBuf *delta,
			CrdtBuf *out, CrdtError *err)
{
	CrdtStatus	st;

	if (unchanged)
	{
		crdt_buf_put(out, value.data, value.len);
		return crdt_buf_status(out, err);
	}
	if ((st = crdt_builder_write(b, kind, false, delta, err)) != CRDT_OK)
		return st;
	return crdt_dotted_merge(kind, value, (CrdtSlice) {delta->data, delta->len}, out, err);
}

/*
 * Builds the delta of an operation and merges it in.  all_dots selects
 * whose dots the delta's context must cover: key's (orset add/remove) or
 * all (mvreg set).  new_key, when not NULL, gets the new dot of replica.
 */
static CrdtStatus
apply_operation(CrdtDottedKind kind, CrdtSlice value, const uint8_t *key, size_t key_len,
				bool all_dots, const uint8_t *new_key, size_t new_key_len,
				const uint8_t *replica, size_t replica_len, CrdtBuf *out, CrdtError *err)
{
	const CrdtAllocator *alloc = out->alloc;
	DottedReader r;
	CrdtBuf		delta;
	Builder		b;
	size_t		covered = 0;
	uint64_t	next;
	CrdtStatus	st;

	crdt_buf_init(&delta, alloc, 0);
	crdt_builder_init(&b, alloc);
	if ((st = crdt_dotted_reader_open(&r, kind, value, alloc, err)) != CRDT_OK ||
		(st = observe_dots(&r, key, key_len, all_dots, &b, &covered, err)) != CRDT_OK)
		goto done;
	if (new_key != NULL)
	{
		size_t		name;

		if ((st = next_counter(&r.context, replica, replica_len, &next, err)) != CRDT_OK)
			goto done;
		name = crdt_builder_name(&b, replica, replica_len, NAME_CONTEXT_RANGE, -1);
		crdt_builder_range(&b, name, next, next);
		crdt_builder_dot(&b, crdt_builder_key(&b, new_key, new_key_len, -1), name, next, -1);
	}
	/* removing what is not there changes nothing */
	st = merge_built(kind, value, new_key == NULL && covered == 0, &b, &delta, out, err);

done:
	crdt_dotted_reader_close(&r);
	crdt_buf_free(&delta);
	crdt_builder_free(&b);
	return st;
}

CrdtStatus
crdt_orset_add(CrdtSlice value, const uint8_t *element, size_t len, const uint8_t *replica,
			   size_t replica_len, CrdtBuf *out, CrdtError *err)
{
	CrdtStatus	st;

	if ((st = crdt_check_element_argument(element, len, err)) != CRDT_OK ||
		(st = crdt_check_replica_argument(replica, replica_len, err)) != CRDT_OK)
		return st;
	return apply_operation(CRDT_ORSET, value, element, len, false, element, len,
						   replica, replica_len, out, err);
}

CrdtStatus
crdt_orset_remove(CrdtSlice value, const uint8_t *element, size_t len, CrdtBuf *out,
				  CrdtError *err)
{
	CrdtStatus	st;

	if ((st = crdt_check_element_argument(element, len, err)) != CRDT_OK)
		return st;
	return apply_operation(CRDT_ORSET, value, element, len, false, NULL, 0, NULL, 0, out, err);
}

CrdtStatus
crdt_mvreg_set(CrdtSlice value, const uint8_t *json, size_t len, const uint8_t *replica,
			   size_t replica_len, CrdtBuf *out, CrdtError *err)
{
	CrdtStatus	st;

	if ((st = crdt_check_replica_argument(replica, replica_len, err)) != CRDT_OK)
		return st;
	if (len > CRDT_VALUE_MAX)
		return crdt_fail(err, CRDT_ERR_TOO_LARGE, -1, "a register value over 16 MB");
	if ((st = crdt_json_check_canonical(json, len, err)) != CRDT_OK)
	{
		err->status = st = CRDT_ERR_ARGUMENT;
		return st;
	}
	return apply_operation(CRDT_MVREG, value, NULL, 0, true, json, len, replica, replica_len,
						   out, err);
}

/*
 * orset assign: the set after a person decided it holds exactly wanted (a
 * gset value), in one pass over both: the dots of every unwanted element
 * go (the context keeps them), every wanted element that is missing gets
 * a new dot of replica, and the resulting delta is merged in once.
 */
CrdtStatus
crdt_orset_assign(CrdtSlice value, CrdtSlice wanted, const uint8_t *replica, size_t replica_len,
				  CrdtBuf *out, CrdtError *err)
{
	const CrdtAllocator *alloc = out->alloc;
	CrdtSlice	want[2];
	CrdtKeyReader wr;
	DottedReader r;
	Builder		b;
	CrdtBuf		delta;
	const uint8_t *vk = NULL,
			   *wk = NULL;
	size_t		vlen = 0,
				wlen = 0,
				changes = 0,
				name;
	int			vrc,
				wrc;
	uint64_t	next;
	CrdtStatus	st;

	if ((st = crdt_check_replica_argument(replica, replica_len, err)) != CRDT_OK ||
		(st = crdt_set_lists(CRDT_GSET, wanted, want, err)) != CRDT_OK)
		return st;
	crdt_buf_init(&delta, alloc, 0);
	crdt_builder_init(&b, alloc);
	if ((st = crdt_dotted_reader_open(&r, CRDT_ORSET, value, alloc, err)) != CRDT_OK ||
		(st = next_counter(&r.context, replica, replica_len, &next, err)) != CRDT_OK)
		goto done;
	crdt_keys_reader_init(&wr, CRDT_KEYS_FRONT_CODED, want[0].data, want[0].len, 0);
	vrc = crdt_dotted_reader_next(&r, &vk, &vlen, err);
	wrc = crdt_keys_reader_next(&wr, &wk, &wlen, err);
	while (vrc > 0 || wrc > 0)
	{
		int			cmp = vrc <= 0 ? 1 : wrc <= 0 ? -1 : crdt_bytes_cmp(vk, vlen, wk, wlen);

		if (cmp < 0)
		{
			/* present, not wanted: its dots go */
			const Dot  *d = dotted_reader_dots(&r);

			for (size_t i = 0; i < dotted_reader_ndots(&r); i++)
				crdt_builder_range(&b, crdt_builder_name(&b, CTX_ID(&r.context, d[i].replica),
														 CTX_ID_LEN(&r.context, d[i].replica),
														 NAME_CONTEXT_RANGE, -1),
								   d[i].counter, d[i].counter);
			changes++;
		}
		else if (cmp > 0)
		{
			/* wanted, missing: a new dot */
			if (next >= (uint64_t) INT64_MAX)
			{
				st = crdt_fail(err, CRDT_ERR_OVERFLOW, -1, "the dot counter would exceed the bigint range");
				goto done;
			}
			/* named only when it gets a dot: a context entry has at least one range */
			name = crdt_builder_name(&b, replica, replica_len, NAME_CONTEXT_RANGE, -1);
			crdt_builder_range(&b, name, next, next);
			crdt_builder_dot(&b, crdt_builder_key(&b, wk, wlen, -1), name, next, -1);
			next++;
			changes++;
		}
		if (cmp <= 0)
			vrc = crdt_dotted_reader_next(&r, &vk, &vlen, err);
		if (cmp >= 0)
			wrc = crdt_keys_reader_next(&wr, &wk, &wlen, err);
		if (vrc < 0 || wrc < 0)
		{
			st = err->status;
			goto done;
		}
	}
	st = merge_built(CRDT_ORSET, value, changes == 0, &b, &delta, out, err);
done:
	crdt_dotted_reader_close(&r);
	crdt_buf_free(&delta);
	crdt_builder_free(&b);
	return st;
}
