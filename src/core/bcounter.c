/*
 * bcounter.c — the bounded counter's rights and operations (see
 * crdt_bcounter.h).  Every operation reads its inputs into a log
 * (bcounter_log.c), which is sorted once, so all are O(n log n) in the
 * number of components.
 */
#include "bcounter_internal.h"

#include <stdlib.h>

#include "crdt_wide.h"

/* --------------------------------------------------------------- rights */

/* What flows into and out of one replica. */
typedef struct Balance
{
	uint8_t		id[CRDT_REPLICA_ID_MAX];
	size_t		len;
	CrdtWide		in;				/* P[r] + transfers received */
	CrdtWide		out;			/* D[r] + transfers given */
	uint64_t	increments;
	uint64_t	decrements;
} Balance;

/* One side of one component, for sorting by replica. */
typedef struct Flow
{
	const uint8_t *id;
	uint8_t		len;
	uint8_t		part;
	bool		outgoing;
	uint64_t	count;
} Flow;

CRDT_DEFINE_BYTES_COMPARATOR(flow_cmp, Flow, id, len)

/*
 * The balance of every replica named in a reduced log, in byte order, as
 * an array from alloc (*count of them).
 */
static CrdtStatus
balances_of(const CrdtBcLog *log, const CrdtAllocator *alloc, Balance **result,
			size_t *count, CrdtError *err)
{
	const CrdtBcItem *it = crdt_bclog_items(log);
	CrdtBuf		flows;
	CrdtBuf		out;
	Flow	   *f;
	size_t		nf = 0;
	size_t		nb = 0;
	CrdtStatus	st;

	crdt_buf_init(&flows, crdt_default_allocator(), 0);
	crdt_buf_init(&out, alloc, 0);
	for (size_t k = 0; k < log->n; k++)
	{
		Flow		a = {it[k].id, it[k].len, it[k].part, it[k].part != PART_P, it[k].count};

		crdt_buf_put(&flows, &a, sizeof(a));
		nf++;
		if (it[k].part == PART_T)
		{
			Flow		b = {it[k].to, it[k].to_len, PART_T, false, it[k].count};

			crdt_buf_put(&flows, &b, sizeof(b));
			nf++;
		}
	}
	if ((st = crdt_buf_status(&flows, err)) != CRDT_OK)
	{
		crdt_buf_free(&flows);
		return st;
	}
	f = (Flow *) flows.data;
	if (nf > 0)
		qsort(f, nf, sizeof(Flow), flow_cmp);
	for (size_t k = 0; k < nf; k++)
	{
		Balance    *b;

		if (k == 0 || flow_cmp(&f[k - 1], &f[k]) != 0)
		{
			Balance		fresh;

			memset(&fresh, 0, sizeof(fresh));
			memcpy(fresh.id, f[k].id, f[k].len);
			fresh.len = f[k].len;
			crdt_buf_put(&out, &fresh, sizeof(fresh));
			if (out.failed)
				break;
			nb++;
		}
		b = (Balance *) out.data + (nb - 1);
		crdt_wide_add(f[k].outgoing ? &b->out : &b->in, f[k].count);
		if (f[k].part == PART_P)
			b->increments = f[k].count;
		else if (f[k].part == PART_D)
			b->decrements = f[k].count;
	}
	crdt_buf_free(&flows);
	if ((st = crdt_buf_status(&out, err)) != CRDT_OK)
	{
		crdt_buf_free(&out);
		return st;
	}
	*result = (Balance *) out.data;
	*count = nb;
	return CRDT_OK;
}

/* The first replica of a reduced log whose rights are negative, or -1 (*neg_at). */
static CrdtStatus
first_overdrawn(const CrdtBcLog *log, long *neg_at, Balance *which, CrdtError *err)
{
	Balance    *b = NULL;
	size_t		nb = 0;
	CrdtStatus	st = balances_of(log, crdt_default_allocator(), &b, &nb, err);

	*neg_at = -1;
	if (st != CRDT_OK)
		return st;
	for (size_t k = 0; k < nb; k++)
	{
		if (b[k].in.hi < b[k].out.hi || (b[k].in.hi == b[k].out.hi && b[k].in.lo < b[k].out.lo))
		{
			*neg_at = (long) k;
			*which = b[k];
			break;
		}
	}
	if (b != NULL)
		crdt_default_allocator()->release(crdt_default_allocator()->ctx, b);
	return CRDT_OK;
}

static bool (*overdraft_accepted) (void);

void
crdt_bcounter_set_overdraft_policy(bool (*accept) (void))
{
	overdraft_accepted = accept;
}

/* CRDT_OK when no replica of the reduced log has negative rights, else status. */
CrdtStatus
crdt_bclog_check_rights(const CrdtBcLog *log, CrdtStatus status, CrdtError *err)
{
	Balance		b;
	long		at;
	CrdtStatus	st;
	char		shown[96];

	if (overdraft_accepted != NULL && overdraft_accepted())
		return CRDT_OK;
	if ((st = first_overdrawn(log, &at, &b, err)) != CRDT_OK || at < 0)
		return st;
	crdt_describe_bytes(shown, sizeof(shown), b.id, b.len);
	return crdt_fail(err, status, -1,
					 "replica %s would have negative rights (it spends or gives more than it "
					 "has and received)", shown);
}

CrdtStatus
crdt_bcounter_validate(CrdtSlice value, CrdtError *err)
{
	CrdtBcLog	log;
	CrdtStatus	st;

	if ((st = crdt_bclog_of(&log, value, err)) != CRDT_OK)
		return st;
	st = crdt_bclog_check_rights(&log, CRDT_ERR_BINARY, err);
	crdt_bclog_free(&log);
	return st;
}

/* The rights of id in a reduced log, as plus and minus sums, and its own counts. */
static void
rights_in_log(const CrdtBcLog *log, const uint8_t *id, size_t len, CrdtWide *plus, CrdtWide *minus,
			  uint64_t own[3])
{
	const CrdtBcItem *it = crdt_bclog_items(log);

	plus->hi = plus->lo = minus->hi = minus->lo = 0;
	own[PART_P] = own[PART_D] = 0;
	for (size_t k = 0; k < log->n; k++)
	{
		bool		mine = crdt_bytes_cmp(it[k].id, it[k].len, id, len) == 0;

		if (mine && it[k].part != PART_T)
			own[it[k].part] = it[k].count;
		if (mine)
			crdt_wide_add(it[k].part == PART_P ? plus : minus, it[k].count);
		else if (it[k].part == PART_T && crdt_bytes_cmp(it[k].to, it[k].to_len, id, len) == 0)
			crdt_wide_add(plus, it[k].count);
	}
}

CrdtStatus
crdt_bcounter_rights(CrdtSlice value, const uint8_t *id, size_t len, int64_t *result,
					 CrdtError *err)
{
	CrdtBcLog	log;
	CrdtWide		plus;
	CrdtWide		minus;
	uint64_t	own[3];
	bool		negative;
	CrdtStatus	st;

	if ((st = crdt_check_replica_argument(id, len, err)) != CRDT_OK ||
		(st = crdt_bclog_of(&log, value, err)) != CRDT_OK)
		return st;
	rights_in_log(&log, id, len, &plus, &minus, own);
	crdt_bclog_free(&log);
	if (!crdt_wide_difference(plus, minus, result, &negative) && !negative)
		return crdt_fail(err, CRDT_ERR_OVERFLOW, -1, "bcounter rights exceed the bigint range");
	if (negative)
		*result = 0;
	return CRDT_OK;
}

CrdtStatus
crdt_bcounter_value(CrdtSlice value, int64_t *result, CrdtError *err)
{
	CrdtBcLog	log;
	CrdtWide		p = {0, 0};
	CrdtWide		d = {0, 0};
	bool		negative;
	CrdtStatus	st;

	if ((st = crdt_bclog_of(&log, value, err)) != CRDT_OK)
		return st;
	for (size_t k = 0; k < log.n; k++)
		if (crdt_bclog_items(&log)[k].part != PART_T)
			crdt_wide_add(crdt_bclog_items(&log)[k].part == PART_P ? &p : &d, crdt_bclog_items(&log)[k].count);
	crdt_bclog_free(&log);
	if (!crdt_wide_difference(p, d, result, &negative) && !negative)
		return crdt_fail(err, CRDT_ERR_OVERFLOW, -1, "bcounter value exceeds the bigint range");
	if (negative)
		*result = 0;
	return CRDT_OK;
}

CrdtStatus
crdt_bcounter_entries(CrdtSlice value, const CrdtAllocator *alloc, CrdtBcounterEntry **entries,
					  size_t *count, CrdtError *err)
{
	CrdtBcLog	log;
	Balance    *b = NULL;
	size_t		nb = 0;
	CrdtBuf		out;
	CrdtStatus	st;

	if ((st = crdt_bclog_of(&log, value, err)) != CRDT_OK)
		return st;
	st = balances_of(&log, crdt_default_allocator(), &b, &nb, err);
	crdt_bclog_free(&log);
	if (st != CRDT_OK)
		return st;
	crdt_buf_init(&out, alloc, 0);
	for (size_t k = 0; k < nb; k++)
	{
		CrdtBcounterEntry e;
		bool		negative;

		memcpy(e.id, b[k].id, b[k].len);
		e.len = b[k].len;
		e.increments = b[k].increments;
		e.decrements = b[k].decrements;
		e.rights = 0;
		e.rights_overflow = !crdt_wide_difference(b[k].in, b[k].out, &e.rights, &negative);
		crdt_buf_put(&out, &e, sizeof(e));
	}
	if (b != NULL)
		crdt_default_allocator()->release(crdt_default_allocator()->ctx, b);
	if ((st = crdt_buf_status(&out, err)) != CRDT_OK)
	{
		crdt_buf_free(&out);
		return st;
	}
	*entries = (CrdtBcounterEntry *) out.data;
	*count = nb;
	return CRDT_OK;
}

/* ------------------------------------------------------------ mutators */

static CrdtStatus
check_amount(int64_t by, const char *what, CrdtError *err)
{
	return by > 0 ? CRDT_OK
		: crdt_fail(err, CRDT_ERR_ARGUMENT, -1, "the amount to %s must be positive, not %lld",
					what, (long long) by);
}

/*
 * The value with component (part, id[, to]) raised by by; the acting
 * replica spends (decrement, transfer) only within its rights.
 */
static CrdtStatus
mutate(CrdtSlice value, int part, const uint8_t *id, size_t len, const uint8_t *to,
	   size_t to_len, int64_t by, CrdtBuf *out, CrdtError *err)
{
	CrdtBcLog	log;
	CrdtBcItem *it;
	uint64_t	current = 0;
	CrdtStatus	st;
	char		shown[96];

	if ((st = crdt_bclog_of(&log, value, err)) != CRDT_OK)
		return st;
	crdt_describe_bytes(shown, sizeof(shown), id, len);
	if (part != PART_P)
	{
		CrdtWide		plus;
		CrdtWide		minus;
		uint64_t	own[3];
		int64_t		rights = 0;
		bool		negative;

		rights_in_log(&log, id, len, &plus, &minus, own);
		if (crdt_wide_difference(plus, minus, &rights, &negative) || negative)
		{
			if (negative || rights < by)
			{
				crdt_bclog_free(&log);
				return crdt_fail(err, CRDT_ERR_RIGHTS, -1,
								 "replica %s has rights to %lld, not %lld: it cannot %s beyond "
								 "them", shown, (long long) (negative ? 0 : rights), (long long) by,
								 part == PART_D ? "decrement" : "transfer");
			}
		}
	}
	it = crdt_bclog_items(&log);
	for (size_t k = 0; k < log.n; k++)
		if (it[k].part == part && crdt_bytes_cmp(it[k].id, it[k].len, id, len) == 0 &&
			crdt_bytes_cmp(it[k].to, it[k].to_len, to, to_len) == 0)
			current = it[k].count;
	if ((uint64_t) by > (uint64_t) INT64_MAX - current)
		st = crdt_fail(err, CRDT_ERR_OVERFLOW, -1,
					   "the count of replica %s would exceed the bigint range", shown);
	else if ((st = crdt_bclog_add(&log, part, id, len, to, to_len, current + (uint64_t) by, err)) == CRDT_OK)
		st = crdt_bclog_write(&log, out, err);
	crdt_bclog_free(&log);
	return st;
}

CrdtStatus
crdt_bcounter_increment(CrdtSlice value, const uint8_t *id, size_t len, int64_t by,
						CrdtBuf *out, CrdtError *err)
{
	CrdtStatus	st;

	if ((st = crdt_check_replica_argument(id, len, err)) != CRDT_OK ||
		(st = check_amount(by, "increment", err)) != CRDT_OK)
		return st;
	return mutate(value, PART_P, id, len, NULL, 0, by, out, err);
}

CrdtStatus
crdt_bcounter_decrement(CrdtSlice value, const uint8_t *id, size_t len, int64_t by,
						CrdtBuf *out, CrdtError *err)
{
	CrdtStatus	st;

	if ((st = crdt_check_replica_argument(id, len, err)) != CRDT_OK ||
		(st = check_amount(by, "decrement", err)) != CRDT_OK)
		return st;
	return mutate(value, PART_D, id, len, NULL, 0, by, out, err);
}

CrdtStatus
crdt_bcounter_transfer(CrdtSlice value, const uint8_t *from, size_t from_len,
					   const uint8_t *to, size_t to_len, int64_t by, CrdtBuf *out,
					   CrdtError *err)
{
	CrdtStatus	st;

	if ((st = crdt_check_replica_argument(from, from_len, err)) != CRDT_OK ||
		(st = crdt_check_replica_argument(to, to_len, err)) != CRDT_OK ||
		(st = check_amount(by, "transfer", err)) != CRDT_OK)
		return st;
	if (crdt_bytes_cmp(from, from_len, to, to_len) == 0)
		return crdt_fail(err, CRDT_ERR_ARGUMENT, -1, "a replica cannot transfer rights to itself");
	return mutate(value, PART_T, from, from_len, to, to_len, by, out, err);
}

/* ------------------------------------------------------- binary operations */

void
crdt_bcounter_write_empty(CrdtBuf *out)
{
	crdt_write_empty_value(out, 3);
}

CrdtStatus
crdt_bcounter_merge(CrdtSlice a, CrdtSlice b, CrdtBuf *out, CrdtError *err)
{
	CrdtBcLog	log;
	CrdtStatus	st;

	crdt_bclog_init(&log, crdt_default_allocator());
	if ((st = crdt_bclog_absorb(&log, a, err)) == CRDT_OK &&
		(st = crdt_bclog_absorb(&log, b, err)) == CRDT_OK)
		st = crdt_bclog_write(&log, out, err);
	crdt_bclog_free(&log);
	return st;
}

/* The logs of two values, or neither. */
static CrdtStatus
logs_of(CrdtBcLog *la, CrdtSlice a, CrdtBcLog *lb, CrdtSlice b, CrdtError *err)
{
	CrdtStatus	st;

	if ((st = crdt_bclog_of(la, a, err)) != CRDT_OK)
		return st;
	if ((st = crdt_bclog_of(lb, b, err)) != CRDT_OK)
		crdt_bclog_free(la);
	return st;
}

/* Adds to d the components of newer that fund replica id: P[id] and every T[*, id]. */
static CrdtStatus
fund(CrdtBcLog *d, const CrdtBcLog *newer, const uint8_t *id, size_t len, CrdtError *err)
{
	const CrdtBcItem *it = crdt_bclog_items(newer);
	CrdtStatus	st = CRDT_OK;

	for (size_t k = 0; k < newer->n && st == CRDT_OK; k++)
		if ((it[k].part == PART_P && crdt_bytes_cmp(it[k].id, it[k].len, id, len) == 0) ||
			(it[k].part == PART_T && crdt_bytes_cmp(it[k].to, it[k].to_len, id, len) == 0))
			st = crdt_bclog_add(d, it[k].part, it[k].id, it[k].len, it[k].to, it[k].to_len,
						 it[k].count, err);
	crdt_bclog_reduce(d);
	return st;
}

/* Adds to d the components of (reduced) newer that are above since's. */
static CrdtStatus
add_above(CrdtBcLog *d, const CrdtBcLog *newer, const CrdtBcLog *since, CrdtError *err)
{
	const CrdtBcItem *old = crdt_bclog_items(since);
	CrdtStatus	st = CRDT_OK;
	size_t		j = 0;

	for (size_t k = 0; k < newer->n && st == CRDT_OK; k++)
	{
		const CrdtBcItem *a = &crdt_bclog_items(newer)[k];
		int			c = -1;

		while (j < since->n && (c = crdt_bclog_item_cmp(&old[j], a)) < 0)
			j++;
		if (j >= since->n || c != 0 || old[j].count < a->count)
			st = crdt_bclog_add(d, a->part, a->id, a->len, a->to, a->to_len, a->count, err);
	}
	crdt_bclog_reduce(d);
	return st;
}

/*
 * The components of newer above since's, made a valid value: a replica
 * overdrawn in that gets from newer everything that funds it (its P and
 * the transfers it received), which can overdraw a giver in turn.  A
 * funded replica's rights are then at least its rights in newer (>= 0),
 * so each replica is funded at most once and the loop ends; when funding
 * adds nothing the replica is overdrawn in newer itself, and the delta is
 * newer whole.
 */
CrdtStatus
crdt_bcounter_delta(CrdtSlice newer, CrdtSlice since, CrdtBuf *out, CrdtError *err)
{
	CrdtBcLog	ln;
	CrdtBcLog	ls;
	CrdtBcLog	d;
	CrdtStatus	st;

	if ((st = logs_of(&ln, newer, &ls, since, err)) != CRDT_OK)
		return st;
	crdt_bclog_init(&d, crdt_default_allocator());
	st = add_above(&d, &ln, &ls, err);
	while (st == CRDT_OK)
	{
		Balance		b;
		long		at;
		size_t		before = d.n;

		if ((st = first_overdrawn(&d, &at, &b, err)) != CRDT_OK || at < 0)
			break;
		if ((st = fund(&d, &ln, b.id, b.len, err)) == CRDT_OK && d.n == before)
		{
			/* overdrawn in newer itself (a misused replica id): newer is the delta */
			d.n = d.reduced = 0;
			d.items.len = 0;
			st = crdt_bclog_absorb_log(&d, &ln, err);
			break;
		}
	}
	if (st == CRDT_OK)
		st = crdt_bclog_write(&d, out, err);
	crdt_bclog_free(&d);
	crdt_bclog_free(&ls);
	crdt_bclog_free(&ln);
	return st;
}

/*
 * A total order: the components in sequence (P, then D, then T; by ids,
 * then count), a prefix first.  No causal meaning.
 */
CrdtStatus
crdt_bcounter_compare(CrdtSlice a, CrdtSlice b, int *result, CrdtError *err)
{
	CrdtBcLog	la;
	CrdtBcLog	lb;
	CrdtStatus	st;
	size_t		k = 0;

	if ((st = logs_of(&la, a, &lb, b, err)) != CRDT_OK)
		return st;
	*result = 0;
	for (; k < la.n && k < lb.n && *result == 0; k++)
	{
		const CrdtBcItem *x = &crdt_bclog_items(&la)[k];
		const CrdtBcItem *y = &crdt_bclog_items(&lb)[k];

		if ((*result = crdt_bclog_item_cmp(x, y)) == 0 && x->count != y->count)
			*result = x->count < y->count ? -1 : 1;
	}
	if (*result == 0 && la.n != lb.n)
		*result = la.n < lb.n ? -1 : 1;
	*result = *result < 0 ? -1 : *result > 0 ? 1 : 0;
	crdt_bclog_free(&la);
	crdt_bclog_free(&lb);
	return CRDT_OK;
}

