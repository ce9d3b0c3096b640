/*
 * sets.c — gset (grow-only set) and twopset (two-phase set).
 *
 * gset:    version, key list of elements.  Merge is union.
 * twopset: version, key list P of present elements, key list R of removed
 *          ones (tombstones), P and R disjoint.  The added set of the
 *          literature is P ∪ R.  Merge: R = R1 ∪ R2, P = (P1 ∪ P2) \ R; an
 *          element once removed never comes back.
 *
 * Text: gset ["a","b"]; twopset {"elements":["a"],"removed":["b"]}, empty
 * parts left out.  '{}' (and for gset '[]') is the empty set.
 */
#include "crdt_type_def.h"
#include "jsonlex.h"

#include <stdlib.h>
#include <string.h>

/* Up to four key lists walked together in key order. */
typedef struct KeyWalk
{
	int			n;
	CrdtKeyReader r[4];
	const uint8_t *key[4];
	size_t		len[4];
	int			has[4];			/* 1: key[i] is current, 0: list i is done */
	unsigned	advance;		/* lists whose current key was handed out */
} KeyWalk;

static void
walk_init(KeyWalk *w, int n, const CrdtSlice *lists)
{
	w->n = n;
	w->advance = (1u << n) - 1;
	for (int i = 0; i < n; i++)
	{
		crdt_keys_reader_init(&w->r[i], CRDT_KEYS_FRONT_CODED, lists[i].data, lists[i].len, 0);
		w->has[i] = 1;
	}
}

/* Returns 1 with the smallest key and the mask of lists holding it, 0 at the end, -1 on error. */
static int
walk_next(KeyWalk *w, const uint8_t **key, size_t *len, unsigned *mask, CrdtError *err)
{
	int			best = -1;

	for (int i = 0; i < w->n; i++)
	{
		if ((w->advance & (1u << i)) && w->has[i])
			if ((w->has[i] = crdt_keys_reader_next(&w->r[i], &w->key[i], &w->len[i], err)) < 0)
				return -1;
	}
	*mask = 0;
	for (int i = 0; i < w->n; i++)
	{
		int			c;

		if (!w->has[i])
			continue;
		c = best < 0 ? -1 : crdt_bytes_cmp(w->key[i], w->len[i], w->key[best], w->len[best]);
		if (c < 0)
		{
			best = i;
			*mask = 1u << i;
		}
		else if (c == 0)
			*mask |= 1u << i;
	}
	w->advance = *mask;
	if (best < 0)
		return 0;
	*key = w->key[best];
	*len = w->len[best];
	return 1;
}

static int
list_count(CrdtSetKind kind)
{
	return kind == CRDT_TWOPSET ? 2 : 1;
}

const char *
crdt_set_kind_name(CrdtSetKind kind)
{
	return kind == CRDT_TWOPSET ? "twopset" : "gset";
}

/* Splits a value into its key lists (validating their structure). */
CrdtStatus
crdt_set_lists(CrdtSetKind kind, CrdtSlice value, CrdtSlice list[2], CrdtError *err)
{
	static const uint8_t empty_list[1] = {0};
	size_t		offset = 1;
	CrdtStatus	st;

	if ((st = crdt_check_version(value, err)) != CRDT_OK)
		return st;
	list[1].data = empty_list;
	list[1].len = 1;
	for (int i = 0; i < list_count(kind); i++)
	{
		size_t		span;

		if ((st = crdt_keys_span(CRDT_KEYS_FRONT_CODED, value.data + offset,
								 value.len - offset, offset, NULL, &span, err)) != CRDT_OK)
			return st;
		list[i].data = value.data + offset;
		list[i].len = span;
		offset += span;
	}
	if (offset != value.len)
		return crdt_fail(err, CRDT_ERR_BINARY, (long) offset,
						 "unexpected trailing bytes (%zu)", value.len - offset);
	return CRDT_OK;
}

CrdtStatus
crdt_set_validate(CrdtSetKind kind, CrdtSlice value, CrdtError *err)
{
	CrdtSlice	list[2];
	KeyWalk		w;
	const uint8_t *key;
	size_t		len;
	unsigned	mask;
	int			rc;
	CrdtStatus	st;

	if ((st = crdt_set_lists(kind, value, list, err)) != CRDT_OK)
		return st;
	walk_init(&w, list_count(kind), list);
	while ((rc = walk_next(&w, &key, &len, &mask, err)) > 0)
	{
		const char *problem = crdt_element_problem(key, len);

		if (problem != NULL)
			return crdt_fail(err, CRDT_ERR_BINARY, -1, "element %s", problem);
		if (mask == 3)
			return crdt_fail(err, CRDT_ERR_BINARY, -1,
							 "an element is both present and removed");
	}
	return rc < 0 ? err->status : CRDT_OK;
}

void
crdt_set_write_empty(CrdtSetKind kind, CrdtBuf *out)
{
	crdt_write_empty_value(out, list_count(kind));
}

/*
 * Writes one output list from a walk over lists, keeping the keys whose
 * mask passes keep().  Each operation below is one or two such passes.
 */
typedef bool (*KeepFn) (unsigned mask);

static CrdtStatus
write_list(int n, const CrdtSlice *lists, KeepFn keep, CrdtBuf *out, CrdtError *err)
{
	KeyWalk		w;
	CrdtKeyWriter kw;
	const uint8_t *key;
	size_t		len;
	unsigned	mask;
	int			rc;

	walk_init(&w, n, lists);
	crdt_keys_writer_init(&kw, CRDT_KEYS_FRONT_CODED, out);
	while ((rc = walk_next(&w, &key, &len, &mask, err)) > 0)
		if (keep(mask))
			crdt_keys_writer_add(&kw, key, len);
	if (rc < 0)
		return err->status;
	crdt_keys_writer_finish(&kw);
	return CRDT_OK;
}

/* masks over (a.P, b.P, a.R, b.R) for merge, (new.P, since.P, new.R, since.R) for delta */
static bool keep_any(unsigned m) { return m != 0; }
static bool keep_first_only(unsigned m) { return m == 1; }
static bool keep_merged_present(unsigned m) { return (m & 3) && !(m & 12); }
static bool keep_merged_removed(unsigned m) { return (m & 12) != 0; }
static bool keep_delta_present(unsigned m) { return m == 1; }
static bool keep_delta_removed(unsigned m) { return (m & 12) == 4; }

/* The lists of a and b in walk order: (a.P, b.P, a.R, b.R), R empty for a gset. */
static CrdtStatus
lists_of_kinds(CrdtSetKind ka, CrdtSlice a, CrdtSetKind kb, CrdtSlice b, CrdtSlice four[4], CrdtError *err)
{
	CrdtSlice	la[2];
	CrdtSlice	lb[2];
	CrdtStatus	st;

	if ((st = crdt_set_lists(ka, a, la, err)) != CRDT_OK ||
		(st = crdt_set_lists(kb, b, lb, err)) != CRDT_OK)
		return st;
	four[0] = la[0];
	four[1] = lb[0];
	four[2] = la[1];
	four[3] = lb[1];
	return CRDT_OK;
}

static CrdtStatus
lists_of_both(CrdtSetKind kind, CrdtSlice a, CrdtSlice b, CrdtSlice four[4], CrdtError *err)
{
	return lists_of_kinds(kind, a, kind, b, four, err);
}

static CrdtStatus
combine(CrdtSetKind kind, CrdtSlice a, CrdtSlice b, bool delta, CrdtBuf *out,
		CrdtError *err)
{
	CrdtSlice	four[4];
	CrdtStatus	st = lists_of_both(kind, a, b, four, err);

	if (st != CRDT_OK)
		return st;
	crdt_buf_put_byte(out, CRDT_FORMAT_V1);
	if (kind == CRDT_GSET)
		st = write_list(2, four, delta ? keep_first_only : keep_any, out, err);
	else if ((st = write_list(4, four, delta ? keep_delta_present : keep_merged_present, out,
							  err)) == CRDT_OK)
		st = write_list(4, four, delta ? keep_delta_removed : keep_merged_removed, out, err);
	return st != CRDT_OK ? st : crdt_buf_status(out, err);
}

CrdtStatus
crdt_set_merge(CrdtSetKind kind, CrdtSlice a, CrdtSlice b, CrdtBuf *out, CrdtError *err)
{
	return combine(kind, a, b, false, out, err);
}

/*
 * gset: the elements newer has and since lacks.  twopset: removals since
 * lacks, and present elements since has neither as present nor removed.
 */
CrdtStatus
crdt_set_delta(CrdtSetKind kind, CrdtSlice newer, CrdtSlice since, CrdtBuf *out,
			   CrdtError *err)
{
	return combine(kind, newer, since, true, out, err);
}

/* Finds key in list: *found set; lists are short-circuited on the first greater key. */
static CrdtStatus
list_contains(CrdtSlice list, const uint8_t *key, size_t len, bool *found, CrdtError *err)
{
	CrdtKeyReader r;
	const uint8_t *k;
	size_t		klen;
	int			rc;

	*found = false;
	crdt_keys_reader_init(&r, CRDT_KEYS_FRONT_CODED, list.data, list.len, 0);
	while ((rc = crdt_keys_reader_next(&r, &k, &klen, err)) > 0)
	{
		int			c = crdt_bytes_cmp(k, klen, key, len);

		if (c >= 0)
		{
			*found = c == 0;
			return CRDT_OK;
		}
	}
	return rc < 0 ? err->status : CRDT_OK;
}

CrdtStatus
crdt_set_contains(CrdtSetKind kind, CrdtSlice value, const uint8_t *key, size_t len,
				  bool *found, CrdtError *err)
{
	CrdtSlice	list[2];
	CrdtStatus	st = crdt_set_lists(kind, value, list, err);

	return st != CRDT_OK ? st : list_contains(list[0], key, len, found, err);
}

CrdtStatus
crdt_set_cardinality(CrdtSetKind kind, CrdtSlice value, size_t *count, CrdtError *err)
{
	CrdtSlice	list[2];
	CrdtKeyReader r;
	const uint8_t *k;
	size_t		klen;
	CrdtStatus	st;
	int			rc;

	if ((st = crdt_set_lists(kind, value, list, err)) != CRDT_OK)
		return st;
	crdt_keys_reader_init(&r, CRDT_KEYS_FRONT_CODED, list[0].data, list[0].len, 0);
	while ((rc = crdt_keys_reader_next(&r, &k, &klen, err)) > 0)
		;
	*count = r.entries;
	return rc < 0 ? err->status : CRDT_OK;
}

/*
 * Adding is a merge with the one-element set, removing a merge with the
 * one-tombstone twopset: the same code path as replication, and the same
 * guarantees.  A removed element cannot be added back, and removing an
 * element that is not present changes nothing.
 */
static CrdtStatus
merge_single(CrdtSetKind kind, CrdtSlice value, int list, const uint8_t *key, size_t len,
			 CrdtBuf *out, CrdtError *err)
{
	CrdtBuf		single;
	CrdtStatus	st;

	crdt_buf_init(&single, out->alloc, 0);
	crdt_buf_put_byte(&single, CRDT_FORMAT_V1);
	for (int i = 0; i < list_count(kind); i++)
	{
		CrdtKeyWriter kw;

		crdt_keys_writer_init(&kw, CRDT_KEYS_FRONT_CODED, &single);
		if (i == list)
			crdt_keys_writer_add(&kw, key, len);
		crdt_keys_writer_finish(&kw);
	}
	st = single.failed ? crdt_buf_status(&single, err)
		: crdt_set_merge(kind, value, (CrdtSlice) {single.data, single.len}, out, err);
	crdt_buf_free(&single);
	return st;
}

CrdtStatus
crdt_set_add(CrdtSetKind kind, CrdtSlice value, const uint8_t *key, size_t len,
			 CrdtBuf *out, CrdtError *err)
{
	CrdtStatus	st = crdt_check_element_argument(key, len, err);

	return st != CRDT_OK ? st : merge_single(kind, value, 0, key, len, out, err);
}

CrdtStatus
crdt_set_remove(CrdtSetKind kind, CrdtSlice value, const uint8_t *key, size_t len,
				CrdtBuf *out, CrdtError *err)
{
	CrdtStatus	st;
	bool		present;

	if ((st = crdt_check_element_argument(key, len, err)) != CRDT_OK)
		return st;
	if (kind != CRDT_TWOPSET)
		return crdt_fail(err, CRDT_ERR_ARGUMENT, -1, "a gset cannot remove elements");
	if ((st = crdt_set_contains(kind, value, key, len, &present, err)) != CRDT_OK)
		return st;
	if (!present)
	{
		crdt_buf_put(out, value.data, value.len);
		return crdt_buf_status(out, err);
	}
	return merge_single(kind, value, 1, key, len, out, err);
}

/* Two key lists compared as sequences of keys, a prefix first. */
static CrdtStatus
compare_lists(CrdtSlice a, CrdtSlice b, int *result, CrdtError *err)
{
	CrdtKeyReader ra;
	CrdtKeyReader rb;

	crdt_keys_reader_init(&ra, CRDT_KEYS_FRONT_CODED, a.data, a.len, 0);
	crdt_keys_reader_init(&rb, CRDT_KEYS_FRONT_CODED, b.data, b.len, 0);
	for (;;)
	{
		const uint8_t *ka;
		const uint8_t *kb;
		size_t		lena;
		size_t		lenb;
		int			rca = crdt_keys_reader_next(&ra, &ka, &lena, err);
		int			rcb;

		if (rca < 0 || (rcb = crdt_keys_reader_next(&rb, &kb, &lenb, err)) < 0)
			return err->status;
		if (rca == 0 || rcb == 0)
		{
			*result = rca == rcb ? 0 : (rca == 0 ? -1 : 1);
			return CRDT_OK;
		}
		if ((*result = crdt_bytes_cmp(ka, lena, kb, lenb)) != 0)
			return CRDT_OK;
	}
}

/* The btree order: (list, element) sequences compared in order, a prefix first. */
CrdtStatus
crdt_set_compare(CrdtSetKind kind, CrdtSlice a, CrdtSlice b, int *result, CrdtError *err)
{
	CrdtSlice	four[4];
	CrdtStatus	st = lists_of_both(kind, a, b, four, err);

	for (int i = 0; st == CRDT_OK && i < list_count(kind); i++)
		if ((st = compare_lists(four[2 * i], four[2 * i + 1], result, err)) == CRDT_OK &&
			*result != 0)
			break;
	return st;
}

/* ---------------------------------------------------------------- text */

/* The elements read so far, and the list being read. */
typedef struct SetParser
{
	CrdtKeyBag	bag;
	int			list;
	uint8_t		element[CRDT_ELEMENT_MAX + 1];
} SetParser;

/* The keys of a twopset's text form, its lists' names */
static const char *const list_names[2] = {"elements", "removed"};

static CrdtStatus
parse_element(JsonLex *lex, void *ctx)
{
	SetParser  *sp = ctx;
	size_t		len;
	size_t		at;
	CrdtStatus	st = crdt_json_element(lex, sp->element, &len, &at);

	if (st != CRDT_OK)
		return st;
	if (sp->bag.count >= CRDT_MAX_ENTRIES)
		return crdt_fail(lex->err, CRDT_ERR_TOO_LARGE, (long) at,
						 "more than %d elements", CRDT_MAX_ENTRIES);
	return crdt_keybag_add(&sp->bag, sp->element, len, sp->list, 0, (long) at, lex->err);
}

/* Parses ["e", ...] into list number `list`. */
static CrdtStatus
parse_elements(JsonLex *lex, SetParser *sp, int list)
{
	sp->list = list;
	return crdt_json_each(lex, '[', "\"[\"", parse_element, sp);
}

static CrdtStatus
parse_list(JsonLex *lex, int which, void *ctx)
{
	return parse_elements(lex, ctx, which);
}

static const CrdtJsonObject twopset_object = {
	list_names, 2, "\"elements\" or \"removed\"", "duplicate key \"%s\"", true, parse_list
};

/*
 * Writes the value of the sorted keys of the bag.  twopset: an element
 * listed as removed counts as added and removed, so it goes to R only;
 * the walk drops it from P.
 */
static CrdtStatus
write_parsed(CrdtSetKind kind, const CrdtKeyBag *bag, CrdtBuf *out, CrdtError *err)
{
	const CrdtParsedKey *items = crdt_keybag_items(bag);
	CrdtBuf		lists;
	CrdtSlice	pr[2];
	size_t		mid = 0;		/* where R starts in lists */
	size_t		k = 0;
	CrdtStatus	st = CRDT_OK;

	crdt_buf_init(&lists, out->alloc, 0);
	for (int list = 0; list < list_count(kind); list++)
	{
		CrdtKeyWriter kw;

		crdt_keys_writer_init(&kw, CRDT_KEYS_FRONT_CODED, &lists);
		for (; k < bag->count && items[k].list == list; k++)
			crdt_keys_writer_add(&kw, items[k].key, items[k].len);
		crdt_keys_writer_finish(&kw);
		if (list == 0)
			mid = lists.len;
	}
	crdt_buf_put_byte(out, CRDT_FORMAT_V1);
	if (lists.failed)
		st = crdt_nomem(err);
	else if (kind == CRDT_GSET)
		crdt_buf_put(out, lists.data, lists.len);
	else
	{
		/* P minus R, then R */
		pr[0].data = lists.data;
		pr[0].len = mid;
		pr[1].data = lists.data + mid;
		pr[1].len = lists.len - mid;
		if ((st = write_list(2, pr, keep_first_only, out, err)) == CRDT_OK)
			crdt_buf_put(out, pr[1].data, pr[1].len);
	}
	crdt_buf_free(&lists);
	return st != CRDT_OK ? st : crdt_buf_status(out, err);
}

CrdtStatus
crdt_set_parse(CrdtSetKind kind, const char *text, size_t len, CrdtBuf *out, CrdtError *err)
{
	JsonLex		lex;
	SetParser	sp;
	unsigned	seen;
	CrdtStatus	st;

	crdt_json_lex_init(&lex, text, len, err);
	crdt_keybag_init(&sp.bag, out->alloc);
	crdt_json_skip_ws(&lex);
	if (kind == CRDT_GSET && !crdt_json_at_end(&lex) && lex.s[lex.i] == '{')
	{
		/* '{}' is the empty value of every type */
		lex.i++;
		st = crdt_json_expect(&lex, '}', "\"}\" (a gset is a JSON array)");
	}
	else
		st = kind == CRDT_GSET ? parse_elements(&lex, &sp, 0)
			: crdt_json_object(&lex, &twopset_object, &sp, &seen);
	if (st == CRDT_OK)
		st = crdt_json_end(&lex);
	if (st == CRDT_OK)
		st = crdt_keybag_sort(&sp.bag, "duplicate element %s", err);
	if (st == CRDT_OK)
		st = write_parsed(kind, &sp.bag, out, err);
	crdt_keybag_free(&sp.bag);
	return st;
}

static CrdtStatus
print_list(CrdtSlice list, CrdtBuf *out, CrdtError *err)
{
	CrdtKeyReader r;
	const uint8_t *key;
	size_t		len;
	int			rc;

	crdt_keys_reader_init(&r, CRDT_KEYS_FRONT_CODED, list.data, list.len, 0);
	crdt_buf_put_byte(out, '[');
	while ((rc = crdt_keys_reader_next(&r, &key, &len, err)) > 0)
	{
		if (r.entries > 1)
			crdt_buf_put_byte(out, ',');
		crdt_json_put_string(out, key, len);
	}
	crdt_buf_put_byte(out, ']');
	return rc < 0 ? err->status : CRDT_OK;
}

CrdtStatus
crdt_set_print(CrdtSetKind kind, CrdtSlice value, CrdtBuf *out, CrdtError *err)
{
	CrdtSlice	list[2];
	CrdtStatus	st = crdt_set_lists(kind, value, list, err);

	if (st == CRDT_OK)
		st = kind == CRDT_GSET ? print_list(list[0], out, err)
			: crdt_json_print_parts(out, list_names, list, 2, print_list, err);
	return st != CRDT_OK ? st : crdt_buf_status(out, err);
}


CRDT_DEFINE_TYPE(gset, set, CRDT_GSET);
CRDT_DEFINE_TYPE(twopset, set, CRDT_TWOPSET);

/*
 * The set after a person decided it holds exactly wanted (a gset value),
 * as its own mutators would make it, in one pass over the lists (masks
 * over value.P, wanted, value.R): a gset only grows, so every element it
 * has must be wanted; a twopset removes its unwanted present elements and
 * adds the wanted ones (a removed element stays removed).
 */
static bool keep_unwanted(unsigned m) { return m == 1; }
static bool keep_assigned(unsigned m) { return (m & 2) && !(m & 4); }
static bool keep_dropped(unsigned m) { return (m & 4) || ((m & 1) && !(m & 2)); }

CrdtStatus
crdt_set_assign(CrdtSetKind kind, CrdtSlice value, CrdtSlice wanted, CrdtBuf *out, CrdtError *err)
{
	CrdtSlice	lists[4];		/* value.P, wanted, value.R, (empty) */
	CrdtBuf		lost;
	CrdtStatus	st;

	if ((st = lists_of_kinds(kind, value, CRDT_GSET, wanted, lists, err)) != CRDT_OK)
		return st;
	if (kind == CRDT_GSET)
	{
		crdt_buf_init(&lost, out->alloc, 0);
		st = write_list(2, lists, keep_unwanted, &lost, err);
		if (st == CRDT_OK && lost.len > 1)
			st = crdt_fail(err, CRDT_ERR_ARGUMENT, -1,
						   "a gset never loses an element; the arbitrated value must contain all of them");
		crdt_buf_free(&lost);
		if (st != CRDT_OK)
			return st;
		crdt_buf_put_byte(out, CRDT_FORMAT_V1);
		return write_list(2, lists, keep_any, out, err);
	}
	crdt_buf_put_byte(out, CRDT_FORMAT_V1);
	if ((st = write_list(4, lists, keep_assigned, out, err)) != CRDT_OK)
		return st;
	return write_list(4, lists, keep_dropped, out, err);
}
