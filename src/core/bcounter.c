/*
 * bcounter.c — the bounded counter: its log of components, the binary
 * form, rights and the operations (see crdt_bcounter.h).  Every operation
 * reads its inputs into a log, which is sorted once, so all are
 * O(n log n) in the number of components.
 */
#include "bcounter_internal.h"

#include <stdlib.h>

/* Past this many components a value is too large (three maps' worth). */
#define BC_MAX_ITEMS (3 * (size_t) CRDT_MAX_ENTRIES)

/* ------------------------------------------------------------------ log */

void
crdt_bclog_init(CrdtBcLog *log, const CrdtAllocator *alloc)
{
	crdt_buf_init(&log->items, alloc, 0);
	log->n = 0;
	log->reduced = 0;
	log->alloc = alloc;
	log->chunk = NULL;
	log->chunk_used = log->chunk_cap = log->arena_bytes = 0;
}

static void
arena_free(CrdtBcLog *log)
{
	while (log->chunk != NULL)
	{
		uint8_t    *prev;

		memcpy(&prev, log->chunk, sizeof(prev));
		log->alloc->release(log->alloc->ctx, log->chunk);
		log->chunk = prev;
	}
	log->chunk_used = log->chunk_cap = log->arena_bytes = 0;
}

void
crdt_bclog_free(CrdtBcLog *log)
{
	crdt_buf_free(&log->items);
	arena_free(log);
}

CrdtBcItem *
crdt_bclog_items(const CrdtBcLog *log)
{
	return (CrdtBcItem *) log->items.data;
}

/* A copy of id in the arena; NULL when memory ran out. */
static const uint8_t *
arena_copy(CrdtBcLog *log, const uint8_t *id, size_t len)
{
	uint8_t    *at;

	if (log->chunk == NULL || log->chunk_cap - log->chunk_used < len)
	{
		size_t		cap = log->chunk_cap < 1024 ? 1024 : 2 * log->chunk_cap;
		uint8_t    *chunk = log->alloc->alloc(log->alloc->ctx, cap);

		if (chunk == NULL)
			return NULL;
		memcpy(chunk, &log->chunk, sizeof(log->chunk));
		log->chunk = chunk;
		log->chunk_cap = cap;
		log->chunk_used = sizeof(log->chunk);
	}
	at = log->chunk + log->chunk_used;
	memcpy(at, id, len);
	log->chunk_used += len;
	log->arena_bytes += len;
	return at;
}

/* id in the arena: the previous item's copy when it is the same id (P and D of one replica). */
static const uint8_t *
intern(CrdtBcLog *log, const uint8_t *id, size_t len)
{
	if (log->n > 0)
	{
		const CrdtBcItem *last = &crdt_bclog_items(log)[log->n - 1];

		if (crdt_bytes_cmp(last->id, last->len, id, len) == 0)
			return last->id;
		if (last->to != NULL && crdt_bytes_cmp(last->to, last->to_len, id, len) == 0)
			return last->to;
	}
	return arena_copy(log, id, len);
}

static int
item_cmp(const void *pa, const void *pb)
{
	const CrdtBcItem *a = pa;
	const CrdtBcItem *b = pb;
	int			c;

	if (a->part != b->part)
		return a->part < b->part ? -1 : 1;
	if ((c = crdt_bytes_cmp(a->id, a->len, b->id, b->len)) != 0)
		return c;
	return crdt_bytes_cmp(a->to, a->to_len, b->to, b->to_len);
}

CrdtStatus
crdt_bclog_add(CrdtBcLog *log, int part, const uint8_t *id, size_t len, const uint8_t *to,
			   size_t to_len, uint64_t count, CrdtError *err)
{
	CrdtBcItem	item;

	if (log->n >= BC_MAX_ITEMS)
		return crdt_fail(err, CRDT_ERR_TOO_LARGE, -1, "more than %zu components", BC_MAX_ITEMS);
	item.count = count;
	item.part = (uint8_t) part;
	item.len = (uint8_t) len;
	item.to_len = (uint8_t) to_len;
	item.to = NULL;
	if ((item.id = intern(log, id, len)) == NULL ||
		(to_len > 0 && (item.to = intern(log, to, to_len)) == NULL))
		return crdt_nomem(err);
	crdt_buf_put(&log->items, &item, sizeof(item));
	if (log->items.failed)
		return crdt_nomem(err);
	log->n++;
	return CRDT_OK;
}

/*
 * The ids of the kept items into a fresh arena, once the arena holds more
 * than twice what they need (so an aggregate's memory stays bounded).
 */
static void
arena_compact(CrdtBcLog *log)
{
	CrdtBcLog	fresh;
	CrdtBcItem *it = crdt_bclog_items(log);
	size_t		needed = 0;

	for (size_t k = 0; k < log->n; k++)
		needed += it[k].len + it[k].to_len;
	if (log->arena_bytes <= 2 * needed + 4096)
		return;
	crdt_bclog_init(&fresh, log->alloc);
	for (size_t k = 0; k < log->n; k++)
	{
		const uint8_t *id = arena_copy(&fresh, it[k].id, it[k].len);
		const uint8_t *to = it[k].to_len > 0 ? arena_copy(&fresh, it[k].to, it[k].to_len) : NULL;

		if (id == NULL || (it[k].to_len > 0 && to == NULL))
		{
			crdt_bclog_free(&fresh);	/* keep the old arena: still valid */
			return;
		}
		it[k].id = id;
		it[k].to = to;
	}
	arena_free(log);
	crdt_buf_free(&fresh.items);
	log->chunk = fresh.chunk;
	log->chunk_used = fresh.chunk_used;
	log->chunk_cap = fresh.chunk_cap;
	log->arena_bytes = fresh.arena_bytes;
}

/*
 * Sorts the items by (part, id, to).  Rows of one group usually come in
 * replica order, so after a stable split by part each part is often in
 * order already: then nothing is left to sort.
 */
static void
sort_items(CrdtBcLog *log)
{
	CrdtBcItem *it = crdt_bclog_items(log);
	size_t		count[3] = {0, 0, 0};
	size_t		at[3];
	CrdtBuf		split;
	CrdtBcItem *dst;
	bool		sorted = true;

	for (size_t k = 0; k < log->n; k++)
		count[it[k].part]++;
	at[0] = 0;
	at[1] = count[0];
	at[2] = count[0] + count[1];
	crdt_buf_init(&split, log->alloc, 0);
	if (!crdt_buf_reserve(&split, log->n * sizeof(CrdtBcItem)))
	{
		crdt_buf_free(&split);
		qsort(it, log->n, sizeof(CrdtBcItem), item_cmp);
		return;
	}
	dst = (CrdtBcItem *) split.data;
	for (size_t k = 0; k < log->n; k++)
		dst[at[it[k].part]++] = it[k];
	memcpy(it, dst, log->n * sizeof(CrdtBcItem));
	crdt_buf_free(&split);
	for (size_t k = 1; k < log->n && sorted; k++)
		sorted = item_cmp(&it[k - 1], &it[k]) <= 0;
	if (!sorted)
		qsort(it, log->n, sizeof(CrdtBcItem), item_cmp);
}

/* Sorts and keeps the largest count of each component. */
void
crdt_bclog_reduce(CrdtBcLog *log)
{
	CrdtBcItem *it = crdt_bclog_items(log);
	size_t		kept = 0;

	if (log->reduced == log->n)
		return;
	sort_items(log);
	for (size_t k = 0; k < log->n; k++)
	{
		if (kept > 0 && item_cmp(&it[kept - 1], &it[k]) == 0)
		{
			if (it[k].count > it[kept - 1].count)
				it[kept - 1].count = it[k].count;
			continue;
		}
		if (kept != k)
			it[kept] = it[k];
		kept++;
	}
	log->n = log->reduced = kept;
	log->items.len = kept * sizeof(CrdtBcItem);
	arena_compact(log);
}

/* Reduces whenever the log has doubled, so an aggregate's memory stays bounded. */
static void
log_maybe_reduce(CrdtBcLog *log)
{
	if (log->n >= 2 * log->reduced + 4096)
		crdt_bclog_reduce(log);
}

static CrdtStatus absorb_value(CrdtBcLog *log, CrdtSlice value, bool transfers_only,
							   size_t *pd_len, CrdtError *err);

/* One map of the value at *pos into the log as part. */
static CrdtStatus
absorb_map(CrdtBcLog *log, CrdtSlice value, size_t *pos, int part, const uint8_t *giver,
		   size_t giver_len, CrdtError *err)
{
	CrdtMapReader r;
	CrdtMapEntry e;
	CrdtStatus	st = CRDT_OK;
	int			rc;

	crdt_map_reader_init(&r, value.data + *pos, value.len - *pos, *pos);
	while ((rc = crdt_map_reader_next(&r, &e, err)) > 0 && st == CRDT_OK)
	{
		if (part != PART_T)
			st = crdt_bclog_add(log, part, e.id, e.len, NULL, 0, e.count, err);
		else if (crdt_bytes_cmp(e.id, e.len, giver, giver_len) == 0)
			st = crdt_fail(err, CRDT_ERR_BINARY, (long) *pos, "a replica transfers to itself");
		else
			st = crdt_bclog_add(log, part, giver, giver_len, e.id, e.len, e.count, err);
	}
	if (rc < 0)
		return err->status;
	if (st != CRDT_OK)
		return st;
	if (part == PART_T && r.entries == 0)
		return crdt_fail(err, CRDT_ERR_BINARY, (long) *pos, "a giver without transfers");
	*pos += (size_t) (r.pos - r.start);
	return CRDT_OK;
}

CrdtStatus
crdt_bclog_absorb(CrdtBcLog *log, CrdtSlice value, CrdtError *err)
{
	return absorb_value(log, value, false, NULL, err);
}

CrdtStatus
crdt_bclog_absorb_transfers(CrdtBcLog *log, CrdtSlice value, size_t *pd_len, CrdtError *err)
{
	return absorb_value(log, value, true, pd_len, err);
}

/* Steps over one map (checking it) at *pos. */
static CrdtStatus
skip_map(CrdtSlice value, size_t *pos, CrdtError *err)
{
	size_t		span;
	CrdtStatus	st = crdt_map_span(value.data + *pos, value.len - *pos, &span, NULL, err);

	if (st == CRDT_OK)
		*pos += span;
	return st;
}

/*
 * The components of a value into the log, or only its transfers (then
 * *pd_len is where they start: version, P and D are a pncounter's layout).
 */
static CrdtStatus
absorb_value(CrdtBcLog *log, CrdtSlice value, bool transfers_only, size_t *pd_len, CrdtError *err)
{
	CrdtKeyReader kr;
	const uint8_t *key;
	size_t		key_len;
	size_t		pos = 1;
	CrdtStatus	st;
	int			rc;

	if ((st = crdt_check_version(value, err)) != CRDT_OK)
		return st;
	if (transfers_only)
		st = skip_map(value, &pos, err) == CRDT_OK ? skip_map(value, &pos, err) : err->status;
	else if ((st = absorb_map(log, value, &pos, PART_P, NULL, 0, err)) == CRDT_OK)
		st = absorb_map(log, value, &pos, PART_D, NULL, 0, err);
	if (st != CRDT_OK)
		return st;
	if (pd_len != NULL)
		*pd_len = pos;
	crdt_keys_reader_init(&kr, CRDT_KEYS_FRONT_CODED, value.data + pos, value.len - pos, pos);
	while ((rc = crdt_keys_reader_next(&kr, &key, &key_len, err)) > 0)
	{
		uint8_t		giver[CRDT_REPLICA_ID_MAX];
		size_t		at = (size_t) (kr.pos - value.data);

		if (crdt_replica_id_check(key, key_len) != NULL)
			return crdt_fail(err, CRDT_ERR_BINARY, (long) at, "a giver is not a valid replica id");
		memcpy(giver, key, key_len);
		if ((st = absorb_map(log, value, &at, PART_T, giver, key_len, err)) != CRDT_OK)
			return st;
		kr.pos = value.data + at;
	}
	if (rc < 0)
		return err->status;
	pos = (size_t) (kr.pos - value.data);
	if (pos != value.len)
		return crdt_fail(err, CRDT_ERR_BINARY, (long) pos, "unexpected trailing bytes (%zu)",
						 value.len - pos);
	log_maybe_reduce(log);
	return CRDT_OK;
}

CrdtStatus
crdt_bclog_absorb_log(CrdtBcLog *log, const CrdtBcLog *other, CrdtError *err)
{
	const CrdtBcItem *it = crdt_bclog_items(other);
	CrdtStatus	st = CRDT_OK;

	/* copied, ids too: the other log may go before this one */
	for (size_t k = 0; k < other->n && st == CRDT_OK; k++)
		st = crdt_bclog_add(log, it[k].part, it[k].id, it[k].len, it[k].to, it[k].to_len,
							it[k].count, err);
	log_maybe_reduce(log);
	return st;
}

/* The key list of givers from the reduced log's items k.. (all transfers). */
static void
write_transfers(const CrdtBcLog *log, size_t k, CrdtBuf *out)
{
	const CrdtBcItem *it = crdt_bclog_items(log);
	CrdtKeyWriter kw;

	crdt_keys_writer_init(&kw, CRDT_KEYS_FRONT_CODED, out);
	while (k < log->n)
	{
		CrdtMapWriter w;
		size_t		first = k;

		crdt_keys_writer_add(&kw, it[k].id, it[k].len);
		crdt_map_writer_init(&w, out);
		for (; k < log->n && crdt_bytes_cmp(it[k].id, it[k].len, it[first].id,
											 it[first].len) == 0; k++)
			crdt_map_writer_add(&w, it[k].to, it[k].to_len, it[k].count);
		crdt_map_writer_finish(&w);
	}
	crdt_keys_writer_finish(&kw);
}

CrdtStatus
crdt_bclog_write(CrdtBcLog *log, CrdtBuf *out, CrdtError *err)
{
	const CrdtBcItem *it;
	size_t		k = 0;

	crdt_bclog_reduce(log);
	it = crdt_bclog_items(log);
	crdt_buf_put_byte(out, CRDT_FORMAT_V1);
	for (int part = PART_P; part <= PART_D; part++)
	{
		CrdtMapWriter w;

		crdt_map_writer_init(&w, out);
		for (; k < log->n && it[k].part == part; k++)
			crdt_map_writer_add(&w, it[k].id, it[k].len, it[k].count);
		crdt_map_writer_finish(&w);
	}
	write_transfers(log, k, out);
	return crdt_buf_status(out, err);
}

CrdtStatus
crdt_bclog_write_transfers(CrdtBcLog *log, CrdtBuf *out, CrdtError *err)
{
	size_t		k = 0;

	crdt_bclog_reduce(log);
	while (k < log->n && crdt_bclog_items(log)[k].part != PART_T)
		k++;
	write_transfers(log, k, out);
	return crdt_buf_status(out, err);
}

/* A value read into a reduced log. */
CrdtStatus
crdt_bclog_of(CrdtBcLog *log, CrdtSlice value, CrdtError *err)
{
	CrdtStatus	st;

	crdt_bclog_init(log, crdt_default_allocator());
	if ((st = crdt_bclog_absorb(log, value, err)) != CRDT_OK)
		crdt_bclog_free(log);
	else
		crdt_bclog_reduce(log);
	return st;
}

/* --------------------------------------------------------------- rights */

/* A 128-bit unsigned sum: no sum of int64 counts wraps. */
typedef struct Wide
{
	uint64_t	hi;
	uint64_t	lo;
} Wide;

static void
wide_add(Wide *w, uint64_t v)
{
	w->lo += v;
	if (w->lo < v)
		w->hi++;
}

/*
 * plus - minus as an int64 in *result; false when it does not fit.  *negative
 * says the sign even then.
 */
static bool
wide_difference(Wide plus, Wide minus, int64_t *result, bool *negative)
{
	bool		neg = plus.hi < minus.hi || (plus.hi == minus.hi && plus.lo < minus.lo);
	Wide		big = neg ? minus : plus;
	Wide		small = neg ? plus : minus;
	uint64_t	lo = big.lo - small.lo;
	uint64_t	hi = big.hi - small.hi - (big.lo < small.lo ? 1 : 0);

	*negative = neg;
	if (hi != 0 || lo > (uint64_t) INT64_MAX + (neg ? 1 : 0))
		return false;
	*result = !neg ? (int64_t) lo : lo == (uint64_t) INT64_MAX + 1 ? INT64_MIN : -(int64_t) lo;
	return true;
}

/* What flows into and out of one replica. */
typedef struct Balance
{
	uint8_t		id[CRDT_REPLICA_ID_MAX];
	size_t		len;
	Wide		in;				/* P[r] + transfers received */
	Wide		out;			/* D[r] + transfers given */
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

static int
flow_cmp(const void *pa, const void *pb)
{
	const Flow *a = pa;
	const Flow *b = pb;

	return crdt_bytes_cmp(a->id, a->len, b->id, b->len);
}

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
		wide_add(f[k].outgoing ? &b->out : &b->in, f[k].count);
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
rights_in_log(const CrdtBcLog *log, const uint8_t *id, size_t len, Wide *plus, Wide *minus,
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
			wide_add(it[k].part == PART_P ? plus : minus, it[k].count);
		else if (it[k].part == PART_T && crdt_bytes_cmp(it[k].to, it[k].to_len, id, len) == 0)
			wide_add(plus, it[k].count);
	}
}

CrdtStatus
crdt_bcounter_rights(CrdtSlice value, const uint8_t *id, size_t len, int64_t *result,
					 CrdtError *err)
{
	CrdtBcLog	log;
	Wide		plus;
	Wide		minus;
	uint64_t	own[3];
	bool		negative;
	CrdtStatus	st;

	if ((st = crdt_check_replica_argument(id, len, err)) != CRDT_OK ||
		(st = crdt_bclog_of(&log, value, err)) != CRDT_OK)
		return st;
	rights_in_log(&log, id, len, &plus, &minus, own);
	crdt_bclog_free(&log);
	if (!wide_difference(plus, minus, result, &negative) && !negative)
		return crdt_fail(err, CRDT_ERR_OVERFLOW, -1, "bcounter rights exceed the bigint range");
	if (negative)
		*result = 0;
	return CRDT_OK;
}

CrdtStatus
crdt_bcounter_value(CrdtSlice value, int64_t *result, CrdtError *err)
{
	CrdtBcLog	log;
	Wide		p = {0, 0};
	Wide		d = {0, 0};
	bool		negative;
	CrdtStatus	st;

	if ((st = crdt_bclog_of(&log, value, err)) != CRDT_OK)
		return st;
	for (size_t k = 0; k < log.n; k++)
		if (crdt_bclog_items(&log)[k].part != PART_T)
			wide_add(crdt_bclog_items(&log)[k].part == PART_P ? &p : &d, crdt_bclog_items(&log)[k].count);
	crdt_bclog_free(&log);
	if (!wide_difference(p, d, result, &negative) && !negative)
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
		e.rights_overflow = !wide_difference(b[k].in, b[k].out, &e.rights, &negative);
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
		Wide		plus;
		Wide		minus;
		uint64_t	own[3];
		int64_t		rights = 0;
		bool		negative;

		rights_in_log(&log, id, len, &plus, &minus, own);
		if (wide_difference(plus, minus, &rights, &negative) || negative)
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
	size_t		j = 0;

	if ((st = crdt_bclog_of(&ln, newer, err)) != CRDT_OK)
		return st;
	if ((st = crdt_bclog_of(&ls, since, err)) != CRDT_OK)
	{
		crdt_bclog_free(&ln);
		return st;
	}
	crdt_bclog_init(&d, crdt_default_allocator());
	for (size_t k = 0; k < ln.n && st == CRDT_OK; k++)
	{
		const CrdtBcItem *a = &crdt_bclog_items(&ln)[k];
		int			c = -1;

		while (j < ls.n && (c = item_cmp(&crdt_bclog_items(&ls)[j], a)) < 0)
			j++;
		if (j >= ls.n || c != 0 || crdt_bclog_items(&ls)[j].count < a->count)
			st = crdt_bclog_add(&d, a->part, a->id, a->len, a->to, a->to_len, a->count, err);
	}
	crdt_bclog_reduce(&d);
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

	if ((st = crdt_bclog_of(&la, a, err)) != CRDT_OK)
		return st;
	if ((st = crdt_bclog_of(&lb, b, err)) != CRDT_OK)
	{
		crdt_bclog_free(&la);
		return st;
	}
	*result = 0;
	for (; k < la.n && k < lb.n && *result == 0; k++)
	{
		const CrdtBcItem *x = &crdt_bclog_items(&la)[k];
		const CrdtBcItem *y = &crdt_bclog_items(&lb)[k];

		if ((*result = item_cmp(x, y)) == 0 && x->count != y->count)
			*result = x->count < y->count ? -1 : 1;
	}
	if (*result == 0 && la.n != lb.n)
		*result = la.n < lb.n ? -1 : 1;
	*result = *result < 0 ? -1 : *result > 0 ? 1 : 0;
	crdt_bclog_free(&la);
	crdt_bclog_free(&lb);
	return CRDT_OK;
}

