/*
 * counters.c — operations on the map-based types: vclock, gcounter and
 * pncounter.  Each operation walks the input maps once, in id order, and
 * writes a canonical result, so all of them are O(n + m).
 */
#include "crdt_type_def.h"

#include <string.h>

#include "crdt_wide.h"

/* A terminated empty map: the second half of a vclock or gcounter. */
static const uint8_t empty_map[1] = {0};

const char *
crdt_counter_kind_name(CrdtCounterKind kind)
{
	switch (kind)
	{
		case CRDT_VCLOCK:
			return "vclock";
		case CRDT_GCOUNTER:
			return "gcounter";
		case CRDT_PNCOUNTER:
			return "pncounter";
	}
	return "?";
}

static int
half_count(CrdtCounterKind kind)
{
	return kind == CRDT_PNCOUNTER ? 2 : 1;
}

CrdtStatus
crdt_counter_halves(CrdtCounterKind kind, CrdtSlice value, CrdtSlice half[2],
					CrdtError *err)
{
	CrdtStatus	st;

	if ((st = crdt_check_version(value, err)) != CRDT_OK)
		return st;
	half[0].data = value.data + 1;
	half[0].len = value.len - 1;
	half[1].data = empty_map;
	half[1].len = sizeof(empty_map);
	if (kind == CRDT_PNCOUNTER)
	{
		size_t		span;

		if ((st = crdt_map_span(half[0].data, half[0].len, &span, NULL, err)) != CRDT_OK)
			return st;
		half[1].data = half[0].data + span;
		half[1].len = half[0].len - span;
		half[0].len = span;
	}
	return CRDT_OK;
}

CrdtStatus
crdt_counter_reader_init(CrdtCounterReader *r, CrdtCounterKind kind, CrdtSlice value,
						 CrdtError *err)
{
	CrdtStatus	st;

	if ((st = crdt_check_version(value, err)) != CRDT_OK)
		return st;
	r->value = value;
	r->offset = 1;
	r->half = 0;
	r->halves = half_count(kind);
	crdt_map_reader_init(&r->map, value.data + 1, value.len - 1, 1);
	return CRDT_OK;
}

int
crdt_counter_reader_next(CrdtCounterReader *r, CrdtMapEntry *entry, int *half,
						 CrdtError *err)
{
	for (;;)
	{
		int			rc;

		if (r->half >= r->halves)
			return 0;
		rc = crdt_map_reader_next(&r->map, entry, err);
		if (rc != 0)
		{
			*half = r->half;
			return rc;
		}
		r->offset += (size_t) (r->map.pos - r->map.start);
		if (++r->half < r->halves)
			crdt_map_reader_init(&r->map, r->value.data + r->offset,
								 r->value.len - r->offset, r->offset);
		else if (r->offset != r->value.len)
		{
			crdt_fail(err, CRDT_ERR_BINARY, (long) r->offset,
					  "unexpected trailing bytes (%zu)", r->value.len - r->offset);
			return -1;
		}
	}
}

CrdtStatus
crdt_counter_validate(CrdtCounterKind kind, CrdtSlice value, CrdtError *err)
{
	CrdtCounterReader r;
	CrdtMapEntry e;
	CrdtStatus	st;
	int			half;
	int			rc;

	if ((st = crdt_counter_reader_init(&r, kind, value, err)) != CRDT_OK)
		return st;
	while ((rc = crdt_counter_reader_next(&r, &e, &half, err)) > 0)
		;
	return rc < 0 ? err->status : CRDT_OK;
}

void
crdt_counter_write_empty(CrdtCounterKind kind, CrdtBuf *out)
{
	crdt_write_empty_value(out, half_count(kind));
}

/* How a binary operation combines the two counts of one id. */
typedef enum PairRule
{
	PAIR_MAX,					/* merge */
	PAIR_DELTA					/* a's count where it exceeds b's */
} PairRule;

/* The maps of a and b; ha[1] and hb[1] are empty for vclock and gcounter. */
static CrdtStatus
halves_of_both(CrdtCounterKind kind, CrdtSlice a, CrdtSlice b, CrdtSlice ha[2], CrdtSlice hb[2],
			   CrdtError *err)
{
	CrdtStatus	st = crdt_counter_halves(kind, a, ha, err);

	return st != CRDT_OK ? st : crdt_counter_halves(kind, b, hb, err);
}

static CrdtStatus
combine_values(CrdtCounterKind kind, CrdtSlice a, CrdtSlice b, PairRule rule,
			   CrdtBuf *out, CrdtError *err)
{
	CrdtSlice	ha[2];
	CrdtSlice	hb[2];
	CrdtStatus	st;

	if ((st = halves_of_both(kind, a, b, ha, hb, err)) != CRDT_OK)
		return st;
	crdt_buf_put_byte(out, CRDT_FORMAT_V1);
	for (int h = 0; h < half_count(kind); h++)
	{
		CrdtMapPairWalk walk;
		CrdtMapWriter w;
		const uint8_t *id;
		size_t		len;
		uint64_t	ca;
		uint64_t	cb;
		int			rc;

		crdt_map_pair_init(&walk, ha[h], hb[h], err);
		crdt_map_writer_init(&w, out);
		while ((rc = crdt_map_pair_next(&walk, &id, &len, &ca, &cb, err)) > 0)
		{
			uint64_t	keep;

			if (rule == PAIR_MAX)
				keep = ca > cb ? ca : cb;
			else
				keep = ca > cb ? ca : 0;
			crdt_map_writer_add(&w, id, len, keep);
		}
		if (rc < 0)
			return err->status;
		crdt_map_writer_finish(&w);
	}
	return crdt_buf_status(out, err);
}

CrdtStatus
crdt_counter_merge(CrdtCounterKind kind, CrdtSlice a, CrdtSlice b, CrdtBuf *out,
				   CrdtError *err)
{
	return combine_values(kind, a, b, PAIR_MAX, out, err);
}

CrdtStatus
crdt_counter_delta(CrdtCounterKind kind, CrdtSlice newer, CrdtSlice since,
				   CrdtBuf *out, CrdtError *err)
{
	return combine_values(kind, newer, since, PAIR_DELTA, out, err);
}

static CrdtStatus
sum_map(CrdtSlice map, CrdtWide *sum, CrdtError *err)
{
	CrdtMapReader r;
	CrdtMapEntry e;
	int			rc;

	crdt_map_reader_init(&r, map.data, map.len, 0);
	while ((rc = crdt_map_reader_next(&r, &e, err)) > 0)
		crdt_wide_add(sum, e.count);
	return rc < 0 ? err->status : CRDT_OK;
}

CrdtStatus
crdt_counter_value(CrdtCounterKind kind, CrdtSlice value, int64_t *result,
				   CrdtError *err)
{
	CrdtSlice	half[2];
	CrdtWide	p = {0, 0};
	CrdtWide	n = {0, 0};
	bool		negative;
	CrdtStatus	st;
	const char *name = crdt_counter_kind_name(kind);

	if ((st = crdt_counter_halves(kind, value, half, err)) != CRDT_OK ||
		(st = sum_map(half[0], &p, err)) != CRDT_OK ||
		(st = sum_map(half[1], &n, err)) != CRDT_OK)
		return st;

	if (!crdt_wide_difference(p, n, result, &negative))
		return crdt_fail(err, CRDT_ERR_OVERFLOW, -1, "%s value %s the bigint range", name,
						 negative ? "is below" : "exceeds");
	return CRDT_OK;
}

CrdtStatus
crdt_counter_add(CrdtCounterKind kind, CrdtSlice value, const uint8_t *id, size_t len,
				 int64_t delta, CrdtBuf *out, CrdtError *err)
{
	CrdtSlice	half[2];
	CrdtStatus	st;
	uint64_t	magnitude;
	int			target;

	if ((st = crdt_check_replica_argument(id, len, err)) != CRDT_OK)
		return st;
	if (kind != CRDT_PNCOUNTER && delta <= 0)
		return crdt_fail(err, CRDT_ERR_ARGUMENT, -1,
						 "a %s can only grow: the increment must be positive, not %lld",
						 crdt_counter_kind_name(kind), (long long) delta);
	if ((st = crdt_counter_halves(kind, value, half, err)) != CRDT_OK)
		return st;

	target = delta < 0 ? 1 : 0;
	magnitude = delta < 0 ? (uint64_t) 0 - (uint64_t) delta : (uint64_t) delta;

	crdt_buf_put_byte(out, CRDT_FORMAT_V1);
	for (int h = 0; h < half_count(kind); h++)
	{
		CrdtMapReader r;
		CrdtMapWriter w;
		CrdtMapEntry e;
		bool		placed = (h != target || magnitude == 0);
		int			rc;

		crdt_map_reader_init(&r, half[h].data, half[h].len, 0);
		crdt_map_writer_init(&w, out);
		while ((rc = crdt_map_reader_next(&r, &e, err)) > 0)
		{
			int			c = placed ? -1 : crdt_bytes_cmp(id, len, e.id, e.len);

			if (c < 0 && !placed)
			{
				if (magnitude > (uint64_t) INT64_MAX)
					goto overflow;
				crdt_map_writer_add(&w, id, len, magnitude);
				placed = true;
			}
			if (c == 0)
			{
				/* e.count <= INT64_MAX: no wrap, even for INT64_MIN's 2^63 */
				if (magnitude > (uint64_t) INT64_MAX - e.count)
					goto overflow;
				crdt_map_writer_add(&w, e.id, e.len, e.count + magnitude);
				placed = true;
			}
			else
				crdt_map_writer_add(&w, e.id, e.len, e.count);
		}
		if (rc < 0)
			return err->status;
		if (!placed)
		{
			if (magnitude > (uint64_t) INT64_MAX)
				goto overflow;
			crdt_map_writer_add(&w, id, len, magnitude);
		}
		crdt_map_writer_finish(&w);
	}
	return crdt_buf_status(out, err);

overflow:
	{
		char		shown[96];

		crdt_describe_bytes(shown, sizeof(shown), id, len);
		return crdt_fail(err, CRDT_ERR_OVERFLOW, -1,
						 "the count of replica %s would exceed the bigint range", shown);
	}
}

static CrdtStatus
find_count(CrdtSlice map, const uint8_t *id, size_t len, uint64_t *count, CrdtError *err)
{
	CrdtMapReader r;
	CrdtMapEntry e;
	int			rc;

	*count = 0;
	crdt_map_reader_init(&r, map.data, map.len, 0);
	while ((rc = crdt_map_reader_next(&r, &e, err)) > 0)
	{
		int			c = crdt_bytes_cmp(e.id, e.len, id, len);

		if (c == 0)
			*count = e.count;
		if (c >= 0)
			break;
	}
	return rc < 0 ? err->status : CRDT_OK;
}

CrdtStatus
crdt_counter_get(CrdtCounterKind kind, CrdtSlice value, const uint8_t *id, size_t len,
				 int64_t *result, CrdtError *err)
{
	CrdtSlice	half[2];
	CrdtStatus	st;
	uint64_t	p;
	uint64_t	n;

	if ((st = crdt_check_replica_argument(id, len, err)) != CRDT_OK ||
		(st = crdt_counter_halves(kind, value, half, err)) != CRDT_OK ||
		(st = find_count(half[0], id, len, &p, err)) != CRDT_OK ||
		(st = find_count(half[1], id, len, &n, err)) != CRDT_OK)
		return st;
	/* both are at most INT64_MAX, so the difference fits */
	*result = (int64_t) p - (int64_t) n;
	return CRDT_OK;
}

const char *
crdt_order_name(CrdtOrder order)
{
	switch (order)
	{
		case CRDT_ORDER_EQUAL:
			return "equal";
		case CRDT_ORDER_BEFORE:
			return "before";
		case CRDT_ORDER_AFTER:
			return "after";
		case CRDT_ORDER_CONCURRENT:
			return "concurrent";
	}
	return "?";
}

/*
 * Walks two vclocks together: ahead[0] when some entry of a is above b's,
 * ahead[1] the other way round.  Without distance it stops as soon as
 * both are set (concurrent); with it, *distance is the sum of the
 * differences, CRDT_ERR_OVERFLOW past INT64_MAX.
 */
static CrdtStatus
vclock_walk(CrdtSlice a, CrdtSlice b, bool ahead[2], int64_t *distance, CrdtError *err)
{
	CrdtSlice	ha[2];
	CrdtSlice	hb[2];
	CrdtMapPairWalk walk;
	const uint8_t *id;
	size_t		len;
	uint64_t	ca;
	uint64_t	cb;
	uint64_t	total = 0;
	CrdtStatus	st;
	int			rc = 0;

	ahead[0] = ahead[1] = false;
	if ((st = halves_of_both(CRDT_VCLOCK, a, b, ha, hb, err)) != CRDT_OK)
		return st;
	crdt_map_pair_init(&walk, ha[0], hb[0], err);
	while ((distance != NULL || !(ahead[0] && ahead[1])) &&
		   (rc = crdt_map_pair_next(&walk, &id, &len, &ca, &cb, err)) > 0)
	{
		uint64_t	d = ca > cb ? ca - cb : cb - ca;

		ahead[0] |= ca > cb;
		ahead[1] |= cb > ca;
		if (distance != NULL && d > (uint64_t) INT64_MAX - total)
			return crdt_fail(err, CRDT_ERR_OVERFLOW, -1,
							 "vclock distance exceeds the bigint range");
		total += d;
	}
	if (rc < 0)
		return err->status;
	if (distance != NULL)
		*distance = (int64_t) total;
	return CRDT_OK;
}

CrdtStatus
crdt_vclock_compare(CrdtSlice a, CrdtSlice b, CrdtOrder *order, CrdtError *err)
{
	bool		ahead[2];
	CrdtStatus	st = vclock_walk(a, b, ahead, NULL, err);

	if (st != CRDT_OK)
		return st;
	if (ahead[0] && ahead[1])
		*order = CRDT_ORDER_CONCURRENT;
	else if (ahead[0])
		*order = CRDT_ORDER_AFTER;
	else if (ahead[1])
		*order = CRDT_ORDER_BEFORE;
	else
		*order = CRDT_ORDER_EQUAL;
	return CRDT_OK;
}

CrdtStatus
crdt_vclock_distance(CrdtSlice a, CrdtSlice b, int64_t *result, CrdtError *err)
{
	bool		ahead[2];

	return vclock_walk(a, b, ahead, result, err);
}


/*
 * A total order for btree (sorting, DISTINCT aggregates, merge joins):
 * the entries are compared in sequence as (half, id bytes, count) and a
 * sequence that is a prefix of the other sorts first.  It is defined on
 * the logical entries, not on the encoding, so a later format version
 * sorts the same way.  It has no causal meaning.
 */
CrdtStatus
crdt_counter_compare(CrdtCounterKind kind, CrdtSlice a, CrdtSlice b, int *result,
					 CrdtError *err)
{
	CrdtCounterReader ra;
	CrdtCounterReader rb;
	CrdtStatus	st;

	if ((st = crdt_counter_reader_init(&ra, kind, a, err)) != CRDT_OK ||
		(st = crdt_counter_reader_init(&rb, kind, b, err)) != CRDT_OK)
		return st;
	for (;;)
	{
		CrdtMapEntry ea;
		CrdtMapEntry eb;
		int			half_a;
		int			half_b;
		int			rca = crdt_counter_reader_next(&ra, &ea, &half_a, err);
		int			rcb;
		int			c;

		if (rca < 0)
			return err->status;
		if ((rcb = crdt_counter_reader_next(&rb, &eb, &half_b, err)) < 0)
			return err->status;
		if (rca == 0 || rcb == 0)
		{
			*result = rca == rcb ? 0 : (rca == 0 ? -1 : 1);
			return CRDT_OK;
		}
		if (half_a != half_b)
			c = half_a < half_b ? -1 : 1;
		else if ((c = crdt_bytes_cmp(ea.id, ea.len, eb.id, eb.len)) == 0 &&
				 ea.count != eb.count)
			c = ea.count < eb.count ? -1 : 1;
		if (c != 0)
		{
			*result = c;
			return CRDT_OK;
		}
	}
}


CRDT_DEFINE_RETIRABLE_TYPE(vclock, counter, CRDT_VCLOCK, 1);
CRDT_DEFINE_RETIRABLE_TYPE(gcounter, counter, CRDT_GCOUNTER, 1);
CRDT_DEFINE_RETIRABLE_TYPE(pncounter, counter, CRDT_PNCOUNTER, 2);
