/*
 * retire.c — retirement markers (crdt_retire.h, docs/RETIREMENT.md).
 *
 * Every operation on a marked value is: the version-1 operation on the
 * body, the union of the markers (same id: larger amounts, smaller
 * successor), then for counters every body entry of a marked id absorbed
 * into its marker by max.  Max and union are lattice joins, so the result
 * is commutative, associative and idempotent like the merge it wraps, and
 * nothing is ever summed across copies.
 */
#include "crdt_core.h"
#include "jsonlex.h"

#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------ markers */

void
crdt_marker_reader_init(CrdtMarkerReader *r, const CrdtRetireShape *shape, CrdtSlice markers)
{
	memset(r, 0, sizeof(*r));
	r->pos = r->start = markers.data;
	r->end = markers.data + markers.len;
	r->amounts = shape->amounts;
}

static int
marker_fail(CrdtMarkerReader *r, CrdtError *err, const char *what)
{
	/* positions count from the value's start: the markers follow its version byte */
	crdt_fail(err, CRDT_ERR_BINARY, (long) (r->pos - r->start) + 1, "retirement marker: %s", what);
	return -1;
}

/* A varint-prefixed replica id at r->pos. */
static int
read_id(CrdtMarkerReader *r, const uint8_t **id, size_t *len, CrdtError *err)
{
	uint64_t	n;

	if (crdt_varint_decode(&r->pos, r->end, &n) != CRDT_VARINT_OK)
		return marker_fail(r, err, "bad id length");
	if (n == 0 || n > CRDT_REPLICA_ID_MAX || (uint64_t) (r->end - r->pos) < n)
		return marker_fail(r, err, "id length out of range");
	if (crdt_replica_id_check(r->pos, (size_t) n) != NULL)
		return marker_fail(r, err, "invalid replica id");
	*id = r->pos;
	*len = (size_t) n;
	r->pos += n;
	return 1;
}

int
crdt_marker_reader_next(CrdtMarkerReader *r, CrdtMarker *m, CrdtError *err)
{
	if (r->done)
		return 0;
	if (r->pos >= r->end)
		return marker_fail(r, err, "list is not terminated");
	if (*r->pos == 0)
	{
		if (r->count == 0)
			return marker_fail(r, err, "empty list in a version 2 value");
		r->pos++;
		r->done = true;
		return 0;
	}
	if (read_id(r, &m->retired, &m->retired_len, err) < 0)
		return -1;
	if (r->prev != NULL &&
		crdt_bytes_cmp(r->prev, r->prev_len, m->retired, m->retired_len) >= 0)
		return marker_fail(r, err, "retired ids out of order or repeated");
	if (read_id(r, &m->successor, &m->successor_len, err) < 0)
		return -1;
	if (crdt_bytes_cmp(m->retired, m->retired_len, m->successor, m->successor_len) == 0)
		return marker_fail(r, err, "replica retired into itself");
	m->amount[0] = m->amount[1] = 0;
	for (int i = 0; i < r->amounts; i++)
		if (crdt_varint_decode(&r->pos, r->end, &m->amount[i]) != CRDT_VARINT_OK ||
			m->amount[i] > (uint64_t) INT64_MAX)
			return marker_fail(r, err, "bad amount");
	r->prev = m->retired;
	r->prev_len = m->retired_len;
	r->count++;
	return 1;
}

static void
put_marker(CrdtBuf *out, const CrdtMarker *m, int amounts)
{
	crdt_buf_put_varint(out, m->retired_len);
	crdt_buf_put(out, m->retired, m->retired_len);
	crdt_buf_put_varint(out, m->successor_len);
	crdt_buf_put(out, m->successor, m->successor_len);
	for (int i = 0; i < amounts; i++)
		crdt_buf_put_varint(out, m->amount[i]);
}

CrdtStatus
crdt_retire_split(const CrdtRetireShape *shape, CrdtSlice value, CrdtSlice *markers,
				  CrdtSlice *body, CrdtError *err)
{
	CrdtMarkerReader r;
	CrdtMarker	m;
	int			rc;

	markers->data = value.data;
	markers->len = 0;
	*body = value;
	if (!crdt_value_marked(value))
		return CRDT_OK;
	crdt_marker_reader_init(&r, shape, (CrdtSlice) {value.data + 1, value.len - 1});
	while ((rc = crdt_marker_reader_next(&r, &m, err)) > 0)
		;
	if (rc < 0)
		return err->status;
	markers->data = value.data + 1;
	markers->len = (size_t) (r.pos - markers->data);
	body->data = r.pos;
	body->len = (size_t) (r.end - r.pos);
	return CRDT_OK;
}

/* --------------------------------------------------- a set of markers */

/* Markers gathered from several values, sorted and combined per id. */
typedef struct MarkerSet
{
	CrdtBuf		items;			/* CrdtMarker[] */
	size_t		n;
} MarkerSet;

static CrdtMarker *
set_items(MarkerSet *s)
{
	return (CrdtMarker *) s->items.data;
}

static void
set_add(MarkerSet *s, const CrdtMarker *m)
{
	crdt_buf_put(&s->items, m, sizeof(*m));
	if (!s->items.failed)
		s->n++;
}

static CrdtStatus
set_add_list(MarkerSet *s, const CrdtRetireShape *shape, CrdtSlice markers, CrdtError *err)
{
	CrdtMarkerReader r;
	CrdtMarker	m;
	int			rc;

	if (markers.len == 0)
		return CRDT_OK;
	crdt_marker_reader_init(&r, shape, markers);
	while ((rc = crdt_marker_reader_next(&r, &m, err)) > 0)
		set_add(s, &m);
	return rc < 0 ? err->status : crdt_buf_status(&s->items, err);
}

CRDT_DEFINE_BYTES_COMPARATOR(marker_cmp, CrdtMarker, retired, retired_len)

/* Sorts by retired id and joins the markers of one id: max amounts, min successor. */
static void
set_normalize(MarkerSet *s)
{
	CrdtMarker *m = set_items(s);
	size_t		kept = 0;

	if (s->n == 0)
		return;
	qsort(m, s->n, sizeof(*m), marker_cmp);
	for (size_t i = 1; i < s->n; i++)
	{
		CrdtMarker *k = &m[kept];

		if (marker_cmp(k, &m[i]) != 0)
		{
			m[++kept] = m[i];
			continue;
		}
		for (int h = 0; h < 2; h++)
			if (m[i].amount[h] > k->amount[h])
				k->amount[h] = m[i].amount[h];
		if (crdt_bytes_cmp(m[i].successor, m[i].successor_len,
						   k->successor, k->successor_len) < 0)
		{
			k->successor = m[i].successor;
			k->successor_len = m[i].successor_len;
		}
	}
	s->n = kept + 1;
}

/* The marker of id in the sorted set, or NULL. */
static CrdtMarker *
set_find(MarkerSet *s, const uint8_t *id, size_t len)
{
	CrdtMarker *m = set_items(s);
	size_t		lo = 0;
	size_t		hi = s->n;

	while (lo < hi)
	{
		size_t		mid = lo + (hi - lo) / 2;
		int			c = crdt_bytes_cmp(m[mid].retired, m[mid].retired_len, id, len);

		if (c == 0)
			return &m[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/*
 * Writes a counter body without the entries of marked ids, raising their
 * markers' amounts to those entries (max).
 */
static CrdtStatus
absorb_entries(const CrdtRetireShape *shape, MarkerSet *s, CrdtSlice body, CrdtBuf *out,
			   CrdtError *err)
{
	CrdtSlice	half[2];
	CrdtStatus	st;

	if ((st = crdt_counter_halves(shape->kind, body, half, err)) != CRDT_OK)
		return st;
	crdt_buf_put_byte(out, CRDT_FORMAT_V1);
	for (int h = 0; h < shape->amounts; h++)
	{
		CrdtMapReader r;
		CrdtMapWriter w;
		CrdtMapEntry e;
		int			rc;

		crdt_map_reader_init(&r, half[h].data, half[h].len, 0);
		crdt_map_writer_init(&w, out);
		while ((rc = crdt_map_reader_next(&r, &e, err)) > 0)
		{
			CrdtMarker *m = set_find(s, e.id, e.len);

			if (m == NULL)
				crdt_map_writer_add(&w, e.id, e.len, e.count);
			else if (e.count > m->amount[h])
				m->amount[h] = e.count;
		}
		if (rc < 0)
			return err->status;
		crdt_map_writer_finish(&w);
	}
	return crdt_buf_status(out, err);
}

/*
 * The value of body (a valid version-1 value) with the markers of s:
 * version 1 when there are none, else 0x02, markers, body.
 */
static CrdtStatus
write_marked(const CrdtRetireShape *shape, MarkerSet *s, CrdtSlice body, CrdtBuf *out,
			 CrdtError *err)
{
	CrdtBuf		absorbed;
	CrdtStatus	st = CRDT_OK;

	set_normalize(s);
	crdt_buf_init(&absorbed, crdt_default_allocator(), 0);
	if (shape->amounts > 0 && s->n > 0)
	{
		if ((st = absorb_entries(shape, s, body, &absorbed, err)) != CRDT_OK)
			goto done;
		body.data = absorbed.data;
		body.len = absorbed.len;
	}
	if (s->n > 0)
	{
		crdt_buf_put_byte(out, CRDT_FORMAT_V2_MARKED);
		for (size_t i = 0; i < s->n; i++)
			put_marker(out, &set_items(s)[i], shape->amounts);
		crdt_buf_put_byte(out, 0);
	}
	crdt_buf_put(out, body.data, body.len);
	st = crdt_buf_status(out, err);
done:
	crdt_buf_free(&absorbed);
	return st;
}

static void
set_init(MarkerSet *s)
{
	crdt_buf_init(&s->items, crdt_default_allocator(), 0);
	s->n = 0;
}

/* ------------------------------------------------------------ retire */

CrdtStatus
crdt_retire(const CrdtRetireShape *shape, CrdtSlice value, const uint8_t *retired,
			size_t retired_len, const uint8_t *successor, size_t successor_len,
			CrdtBuf *out, CrdtError *err)
{
	CrdtSlice	markers;
	CrdtSlice	body;
	MarkerSet	s;
	CrdtMarker	m = {retired, retired_len, successor, successor_len, {0, 0}};
	CrdtStatus	st;

	if ((st = crdt_check_replica_argument(retired, retired_len, err)) != CRDT_OK ||
		(st = crdt_check_replica_argument(successor, successor_len, err)) != CRDT_OK)
		return st;
	if (crdt_bytes_cmp(retired, retired_len, successor, successor_len) == 0)
		return crdt_fail(err, CRDT_ERR_ARGUMENT, -1,
						 "a replica cannot be retired into itself");
	if ((st = crdt_retire_split(shape, value, &markers, &body, err)) != CRDT_OK ||
		(st = shape->plain->validate(body, err)) != CRDT_OK)
		return st;
	set_init(&s);
	if ((st = set_add_list(&s, shape, markers, err)) == CRDT_OK)
	{
		set_add(&s, &m);
		if ((st = crdt_buf_status(&s.items, err)) == CRDT_OK)
			st = write_marked(shape, &s, body, out, err);
	}
	crdt_buf_free(&s.items);
	return st;
}

/* ------------------------------------------------------------ compact */

/* Removes the markers of ids from the sorted set s; their amounts summed into sum. */
static CrdtStatus
take_group(MarkerSet *s, const CrdtSlice *ids, size_t n, uint64_t sum[2], bool *found,
		   CrdtError *err)
{
	CrdtMarker *m = set_items(s);
	size_t		kept = 0;

	sum[0] = sum[1] = 0;
	*found = false;
	for (size_t i = 0; i < s->n; i++)
	{
		bool		member = false;

		for (size_t k = 0; k < n && !member; k++)
			member = crdt_bytes_cmp(m[i].retired, m[i].retired_len, ids[k].data, ids[k].len) == 0;
		if (!member)
		{
			m[kept++] = m[i];
			continue;
		}
		*found = true;
		for (int h = 0; h < 2; h++)
		{
			if (m[i].amount[h] > (uint64_t) INT64_MAX - sum[h])
				return crdt_fail(err, CRDT_ERR_OVERFLOW, -1, "compacted amount out of range");
			sum[h] += m[i].amount[h];
		}
	}
	s->n = kept;
	s->items.len = kept * sizeof(CrdtMarker);	/* a marker added later goes after them */
	return CRDT_OK;
}

long
crdt_slice_index(const CrdtSlice *ids, size_t n, const uint8_t *id, size_t len)
{
	CrdtSlice	key = {id, len};

	return crdt_bsearch(&key, ids, n, sizeof(CrdtSlice), crdt_slice_cmp);
}

CrdtStatus
crdt_retire_names_any(const CrdtRetireShape *shape, CrdtSlice value, const CrdtSlice *ids, size_t n,
					  bool *any, CrdtError *err)
{
	CrdtSlice	markers;
	CrdtSlice	body;
	CrdtSlice	half[2];
	CrdtMarkerReader r;
	CrdtMarker	m;
	CrdtStatus	st;
	int			rc = 0;

	*any = false;
	if ((st = crdt_retire_split(shape, value, &markers, &body, err)) != CRDT_OK)
		return st;
	crdt_marker_reader_init(&r, shape, markers);
	while (markers.len > 0 && !*any && (rc = crdt_marker_reader_next(&r, &m, err)) > 0)
		*any = crdt_slice_index(ids, n, m.retired, m.retired_len) >= 0;
	if (rc < 0)
		return err->status;
	if (*any)
		return CRDT_OK;
	if (shape->amounts == 0)
		return crdt_dotted_names_any(shape, body, ids, n, any, err);
	if ((st = crdt_counter_halves(shape->kind, body, half, err)) != CRDT_OK)
		return st;
	for (int h = 0; h < shape->amounts && !*any; h++)
	{
		CrdtMapReader mr;
		CrdtMapEntry e;

		crdt_map_reader_init(&mr, half[h].data, half[h].len, 0);
		while (!*any && (rc = crdt_map_reader_next(&mr, &e, err)) > 0)
			*any = crdt_slice_index(ids, n, e.id, e.len) >= 0;
		if (rc < 0)
			return err->status;
	}
	return CRDT_OK;
}

/* body, the markers of s (ids taken out) and the group's: kept if there (final amounts), else sum. */
static CrdtStatus
write_grouped(const CrdtRetireShape *shape, MarkerSet *s, const uint8_t *group, size_t group_len,
			  const uint64_t sum[2], CrdtSlice body, CrdtBuf *out, CrdtError *err)
{
	CrdtMarker	g = {group, group_len, (const uint8_t *) CRDT_GROUP_SUCCESSOR, 1, {sum[0], sum[1]}};
	CrdtStatus	st;

	if (set_find(s, group, group_len) == NULL)
	{
		set_add(s, &g);
		if ((st = crdt_buf_status(&s->items, err)) != CRDT_OK)
			return st;
	}
	return write_marked(shape, s, body, out, err);
}

CrdtStatus
crdt_retire_check_group(const uint8_t *group, size_t group_len, const CrdtSlice *ids, size_t n,
						CrdtError *err)
{
	CrdtStatus	st = crdt_check_replica_argument(group, group_len, err);

	for (size_t k = 0; k < n && st == CRDT_OK; k++)
		if ((st = crdt_check_replica_argument(ids[k].data, ids[k].len, err)) != CRDT_OK)
			return st;
		else if (crdt_bytes_cmp(ids[k].data, ids[k].len, group, group_len) == 0 ||
				 crdt_bytes_cmp(ids[k].data, ids[k].len, (const uint8_t *) CRDT_GROUP_SUCCESSOR, 1) == 0)
			return crdt_fail(err, CRDT_ERR_ARGUMENT, -1, "a compaction group cannot contain itself");
	return st;
}

CrdtStatus
crdt_retire_regroup(const CrdtRetireShape *shape, CrdtSlice markers, const uint8_t *group,
					size_t group_len, const CrdtSlice *ids, size_t n, CrdtSlice body, CrdtBuf *out,
					bool *found, CrdtError *err)
{
	MarkerSet	s;
	uint64_t	sum[2];
	CrdtStatus	st;

	set_init(&s);
	if ((st = set_add_list(&s, shape, markers, err)) == CRDT_OK &&
		(st = take_group(&s, ids, n, sum, found, err)) == CRDT_OK)
		st = write_grouped(shape, &s, group, group_len, sum, body, out, err);
	crdt_buf_free(&s.items);
	return st;
}

/* crdt_retire_compact of a counter or clock, split into markers and body. */
static CrdtStatus
compact_amounts(const CrdtRetireShape *shape, CrdtSlice value, CrdtSlice markers, CrdtSlice body,
				const uint8_t *group, size_t group_len, const CrdtSlice *ids, size_t n,
				CrdtBuf *out, bool *changed, CrdtError *err)
{
	MarkerSet	s;
	CrdtBuf		absorbed;
	uint64_t	sum[2];
	bool		found;
	CrdtStatus	st;

	*changed = false;
	set_init(&s);
	crdt_buf_init(&absorbed, crdt_default_allocator(), 0);
	if ((st = set_add_list(&s, shape, markers, err)) != CRDT_OK)
		goto done;
	for (size_t k = 0; k < n && !*changed; k++)
		*changed = set_find(&s, ids[k].data, ids[k].len) != NULL;
	/* every id of the group as a marker: their body entries are absorbed */
	for (size_t k = 0; k < n; k++)
	{
		CrdtMarker	m = {ids[k].data, ids[k].len, (const uint8_t *) CRDT_GROUP_SUCCESSOR, 1, {0, 0}};

		set_add(&s, &m);
	}
	if ((st = crdt_buf_status(&s.items, err)) != CRDT_OK)
		goto done;
	set_normalize(&s);
	if ((st = absorb_entries(shape, &s, body, &absorbed, err)) != CRDT_OK)
		goto done;
	*changed = *changed || absorbed.len != body.len || memcmp(absorbed.data, body.data, body.len) != 0;
	if ((st = take_group(&s, ids, n, sum, &found, err)) != CRDT_OK)
		goto done;
	if (!*changed)
	{
		crdt_buf_put(out, value.data, value.len);
		st = crdt_buf_status(out, err);
		goto done;
	}
	st = write_grouped(shape, &s, group, group_len, sum, (CrdtSlice) {absorbed.data, absorbed.len}, out, err);
done:
	crdt_buf_free(&absorbed);
	crdt_buf_free(&s.items);
	return st;
}

CrdtStatus
crdt_retire_compact(const CrdtRetireShape *shape, CrdtSlice value, const uint8_t *group,
					size_t group_len, const CrdtSlice *ids, size_t n, CrdtBuf *out,
					CrdtCompaction *res, CrdtError *err)
{
	CrdtSlice	markers;
	CrdtSlice	body;
	CrdtStatus	st;

	memset(res, 0, sizeof(*res));
	if ((st = crdt_retire_check_group(group, group_len, ids, n, err)) != CRDT_OK ||
		(st = crdt_marked_validate(shape, value, err)) != CRDT_OK ||
		(st = crdt_retire_split(shape, value, &markers, &body, err)) != CRDT_OK)
		return st;
	if (shape->amounts == 0)
		return crdt_dotted_compact(shape, value, markers, body, group, group_len, ids, n, out, res, err);
	res->ready = true;
	return compact_amounts(shape, value, markers, body, group, group_len, ids, n, out, &res->changed, err);
}

CrdtStatus
crdt_retire_unfold(const CrdtRetireShape *shape, CrdtSlice value, CrdtBuf *out,
				   CrdtError *err)
{
	CrdtSlice	markers;
	CrdtSlice	body;
	CrdtStatus	st;
	CrdtBuf		amounts;

	if ((st = crdt_retire_split(shape, value, &markers, &body, err)) != CRDT_OK)
		return st;
	if (shape->amounts == 0 || markers.len == 0)
	{
		crdt_buf_put(out, body.data, body.len);
		return crdt_buf_status(out, err);
	}
	/* the marker amounts as a value of their own; its ids are not in body */
	crdt_buf_init(&amounts, crdt_default_allocator(), 0);
	crdt_buf_put_byte(&amounts, CRDT_FORMAT_V1);
	for (int h = 0; h < shape->amounts; h++)
	{
		CrdtMarkerReader r;
		CrdtMarker	m;
		CrdtMapWriter w;

		crdt_marker_reader_init(&r, shape, markers);
		crdt_map_writer_init(&w, &amounts);
		while (crdt_marker_reader_next(&r, &m, err) > 0)
			crdt_map_writer_add(&w, m.retired, m.retired_len, m.amount[h]);
		crdt_map_writer_finish(&w);
	}
	if ((st = crdt_buf_status(&amounts, err)) == CRDT_OK)
		st = shape->plain->merge(body, (CrdtSlice) {amounts.data, amounts.len}, out, err);
	crdt_buf_free(&amounts);
	return st;
}

CrdtStatus
crdt_retire_writable(const CrdtRetireShape *shape, CrdtSlice value, const uint8_t *replica,
					 size_t len, CrdtSlice *markers, CrdtSlice *body, CrdtError *err)
{
	CrdtMarkerReader r;
	CrdtMarker	m;
	CrdtStatus	st;
	int			rc;

	if ((st = crdt_retire_split(shape, value, markers, body, err)) != CRDT_OK ||
		markers->len == 0)
		return st;
	crdt_marker_reader_init(&r, shape, *markers);
	while ((rc = crdt_marker_reader_next(&r, &m, err)) > 0)
		if (crdt_bytes_cmp(m.retired, m.retired_len, replica, len) == 0)
		{
			char		name[3 * CRDT_REPLICA_ID_MAX + 8];

			crdt_describe_bytes(name, sizeof(name), replica, len);
			return crdt_fail(err, CRDT_ERR_RETIRED, -1,
							 "replica %s is retired: it cannot write", name);
		}
	return rc < 0 ? err->status : CRDT_OK;
}

CrdtStatus
crdt_retire_rejoin(CrdtSlice markers, CrdtSlice body, CrdtBuf *out, CrdtError *err)
{
	if (markers.len > 0)
	{
		crdt_buf_put_byte(out, CRDT_FORMAT_V2_MARKED);
		crdt_buf_put(out, markers.data, markers.len);
	}
	crdt_buf_put(out, body.data, body.len);
	return crdt_buf_status(out, err);
}

/* ------------------------------------------------ the type operations */

CrdtStatus
crdt_marked_validate(const CrdtRetireShape *shape, CrdtSlice value, CrdtError *err)
{
	CrdtSlice	markers;
	CrdtSlice	body;
	CrdtStatus	st;
	MarkerSet	s;
	CrdtBuf		scratch;

	if (!crdt_value_marked(value))
		return shape->plain->validate(value, err);
	if ((st = crdt_retire_split(shape, value, &markers, &body, err)) != CRDT_OK ||
		(st = shape->plain->validate(body, err)) != CRDT_OK || shape->amounts == 0)
		return st;
	/* canonical: a counter body has no entry of a marked id */
	set_init(&s);
	crdt_buf_init(&scratch, crdt_default_allocator(), 0);
	if ((st = set_add_list(&s, shape, markers, err)) == CRDT_OK &&
		(st = absorb_entries(shape, &s, body, &scratch, err)) == CRDT_OK &&
		(scratch.len != body.len || memcmp(scratch.data, body.data, body.len) != 0))
		st = crdt_fail(err, CRDT_ERR_BINARY, (long) (body.data - value.data),
					   "an entry of a retired replica is in the body");
	crdt_buf_free(&scratch);
	crdt_buf_free(&s.items);
	return st;
}

CrdtStatus
crdt_marked_merge(const CrdtRetireShape *shape, CrdtSlice a, CrdtSlice b, CrdtBuf *out,
				  CrdtError *err)
{
	CrdtSlice	ma;
	CrdtSlice	mb;
	CrdtSlice	ba;
	CrdtSlice	bb;
	CrdtBuf		merged;
	MarkerSet	s;
	CrdtStatus	st;

	if (!crdt_value_marked(a) && !crdt_value_marked(b))
		return shape->plain->merge(a, b, out, err);
	/* the marked path copies bodies and markers: check them whole first */
	if ((st = crdt_marked_validate(shape, a, err)) != CRDT_OK ||
		(st = crdt_marked_validate(shape, b, err)) != CRDT_OK ||
		(st = crdt_retire_split(shape, a, &ma, &ba, err)) != CRDT_OK ||
		(st = crdt_retire_split(shape, b, &mb, &bb, err)) != CRDT_OK)
		return st;
	set_init(&s);
	crdt_buf_init(&merged, crdt_default_allocator(), 0);
	if ((st = shape->plain->merge(ba, bb, &merged, err)) == CRDT_OK &&
		(st = set_add_list(&s, shape, ma, err)) == CRDT_OK &&
		(st = set_add_list(&s, shape, mb, err)) == CRDT_OK)
		st = write_marked(shape, &s, (CrdtSlice) {merged.data, merged.len}, out, err);
	crdt_buf_free(&merged);
	crdt_buf_free(&s.items);
	return st;
}

/*
 * With markers the delta is newer itself, or empty when since already has
 * everything: valid (merge(since, d) = merge(since, newer)), not minimal.
 */
CrdtStatus
crdt_marked_delta(const CrdtRetireShape *shape, CrdtSlice newer, CrdtSlice since,
				  CrdtBuf *out, CrdtError *err)
{
	CrdtBuf		merged;
	CrdtStatus	st;

	if (!crdt_value_marked(newer) && !crdt_value_marked(since))
		return shape->plain->delta(newer, since, out, err);
	/* newer may be copied as it is: it must be valid */
	if ((st = crdt_marked_validate(shape, newer, err)) != CRDT_OK)
		return st;
	crdt_buf_init(&merged, crdt_default_allocator(), 0);
	if ((st = crdt_marked_merge(shape, since, newer, &merged, err)) == CRDT_OK)
	{
		if (merged.len == since.len && memcmp(merged.data, since.data, since.len) == 0)
			shape->plain->write_empty(out);
		else
			crdt_buf_put(out, newer.data, newer.len);
		st = crdt_buf_status(out, err);
	}
	crdt_buf_free(&merged);
	return st;
}

/* Version-1 values in their type's order, all before marked ones, those by bytes. */
CrdtStatus
crdt_marked_compare(const CrdtRetireShape *shape, CrdtSlice a, CrdtSlice b, int *result,
					CrdtError *err)
{
	int			c;

	if (!crdt_value_marked(a) && !crdt_value_marked(b))
		return shape->plain->compare(a, b, result, err);
	c = crdt_bytes_cmp(a.data, a.len, b.data, b.len);
	*result = c < 0 ? -1 : c > 0;
	return CRDT_OK;
}

/* ---------------------------------------------------------------- text */

/* [<version-1 text>,{"retired":["successor",amount...],...}] */
CrdtStatus
crdt_marked_print(const CrdtRetireShape *shape, CrdtSlice value, CrdtBuf *out, CrdtError *err)
{
	CrdtSlice	markers;
	CrdtSlice	body;
	CrdtMarkerReader r;
	CrdtMarker	m;
	CrdtStatus	st;
	int			rc;
	bool		first = true;

	if (!crdt_value_marked(value))
		return shape->plain->print(value, out, err);
	if ((st = crdt_retire_split(shape, value, &markers, &body, err)) != CRDT_OK)
		return st;
	crdt_buf_put_byte(out, '[');
	if ((st = shape->plain->print(body, out, err)) != CRDT_OK)
		return st;
	crdt_buf_put_str(out, ",{");
	crdt_marker_reader_init(&r, shape, markers);
	while ((rc = crdt_marker_reader_next(&r, &m, err)) > 0)
	{
		crdt_buf_put_separator(out, &first);
		crdt_json_put_string(out, m.retired, m.retired_len);
		crdt_buf_put_str(out, ":[");
		crdt_json_put_string(out, m.successor, m.successor_len);
		for (int i = 0; i < shape->amounts; i++)
		{
			crdt_buf_put_byte(out, ',');
			crdt_buf_put_u64_decimal(out, m.amount[i]);
		}
		crdt_buf_put_byte(out, ']');
	}
	if (rc < 0)
		return err->status;
	crdt_buf_put_str(out, "}]");
	return crdt_buf_status(out, err);
}

/* Markers read from text: their ids are copied into bytes. */
typedef struct MarkerText
{
	const CrdtRetireShape *shape;
	CrdtBuf		bytes;			/* per marker: retired, successor, amounts */
	CrdtBuf		lens;			/* size_t pairs */
	size_t		n;
} MarkerText;

static CrdtStatus
parse_amount(JsonLex *lex, uint64_t *amount)
{
	bool		overflow = false;
	size_t		at;

	crdt_json_skip_ws(lex);
	at = lex->i;
	*amount = 0;
	if (crdt_json_at_end(lex) || lex->s[lex->i] < '0' || lex->s[lex->i] > '9')
		return crdt_json_syntax(lex, at, "expected %s", "an amount (a whole number)");
	if (lex->s[lex->i] == '0' && lex->i + 1 < lex->len &&
		lex->s[lex->i + 1] >= '0' && lex->s[lex->i + 1] <= '9')
		return crdt_json_syntax(lex, at, "%s has a leading zero", "amount");
	if (!crdt_json_digits(lex, amount, &overflow))
		return crdt_json_syntax(lex, at, "%s must be a whole number", "amount");
	if (overflow)
		return crdt_fail(lex->err, CRDT_ERR_OVERFLOW, (long) at,
						 "amount is out of range for type bigint");
	return CRDT_OK;
}

/* One "retired": ["successor", amount...] member. */
static CrdtStatus
parse_marker(JsonLex *lex, void *ctx)
{
	MarkerText *mt = ctx;
	uint8_t		retired[CRDT_REPLICA_ID_MAX + 1];
	uint8_t		successor[CRDT_REPLICA_ID_MAX + 1];
	size_t		lens[2];
	uint64_t	amount[2] = {0, 0};
	CrdtStatus	st;
	size_t		at;

	crdt_json_skip_ws(lex);
	at = lex->i;
	if ((st = crdt_json_replica_id(lex, retired, &lens[0], at,
								   "retired replica id %s")) != CRDT_OK ||
		(st = crdt_json_expect(lex, ':', "\":\"")) != CRDT_OK ||
		(st = crdt_json_expect(lex, '[', "\"[\" (a marker: [successor, amount...])")) != CRDT_OK)
		return st;
	crdt_json_skip_ws(lex);
	if ((st = crdt_json_replica_id(lex, successor, &lens[1], lex->i,
								   "successor replica id %s")) != CRDT_OK)
		return st;
	for (int i = 0; i < mt->shape->amounts; i++)
		if ((st = crdt_json_expect(lex, ',', "\",\"")) != CRDT_OK ||
			(st = parse_amount(lex, &amount[i])) != CRDT_OK)
			return st;
	if ((st = crdt_json_expect(lex, ']', "\"]\"")) != CRDT_OK)
		return st;
	if (crdt_bytes_cmp(retired, lens[0], successor, lens[1]) == 0)
		return crdt_json_syntax(lex, at, "%s", "a replica cannot be retired into itself");
	crdt_buf_put(&mt->bytes, retired, lens[0]);
	crdt_buf_put(&mt->bytes, successor, lens[1]);
	crdt_buf_put(&mt->bytes, amount, sizeof(amount));
	crdt_buf_put(&mt->lens, lens, sizeof(lens));
	mt->n++;
	return crdt_buf_status(&mt->bytes, lex->err) != CRDT_OK ? lex->err->status
		: crdt_buf_status(&mt->lens, lex->err);
}

/* The markers of mt into s (pointing into mt->bytes); a repeated id is an error. */
static CrdtStatus
gather_text_markers(MarkerText *mt, MarkerSet *s, CrdtError *err)
{
	const uint8_t *p = mt->bytes.data;
	const size_t *lens = (const size_t *) mt->lens.data;

	for (size_t i = 0; i < mt->n; i++)
	{
		CrdtMarker	m;

		m.retired = p;
		m.retired_len = lens[2 * i];
		m.successor = p + m.retired_len;
		m.successor_len = lens[2 * i + 1];
		memcpy(m.amount, m.successor + m.successor_len, sizeof(m.amount));
		p = m.successor + m.successor_len + sizeof(m.amount);
		set_add(s, &m);
	}
	if (crdt_buf_status(&s->items, err) != CRDT_OK)
		return err->status;
	if (s->n > 1)
	{
		CrdtMarker *m = set_items(s);

		qsort(m, s->n, sizeof(*m), marker_cmp);
		for (size_t i = 1; i < s->n; i++)
			if (marker_cmp(&m[i - 1], &m[i]) == 0)
				return crdt_fail(err, CRDT_ERR_SYNTAX, -1,
								 "a replica is retired twice in one value");
	}
	return CRDT_OK;
}

CrdtStatus
crdt_marked_parse(const CrdtRetireShape *shape, const char *text, size_t len, CrdtBuf *out,
				  CrdtError *err)
{
	JsonLex		lex;
	size_t		start;
	size_t		end;
	CrdtBuf		body;
	MarkerText	mt;
	MarkerSet	s;
	CrdtStatus	st;

	/* a version-1 text is an object; an array of an object and markers is marked */
	crdt_json_lex_init(&lex, text, len, err);
	if (!crdt_json_accept(&lex, '[') || !(crdt_json_skip_ws(&lex), !crdt_json_at_end(&lex)) ||
		lex.s[lex.i] != '{')
		return shape->plain->parse(text, len, out, err);
	crdt_bufs_init(crdt_default_allocator(), &body, &mt.bytes, &mt.lens, NULL);
	mt.shape = shape;
	mt.n = 0;
	set_init(&s);
	crdt_json_skip_ws(&lex);
	if ((st = crdt_json_value(&lex, &start, &end)) == CRDT_OK)
	{
		st = shape->plain->parse(text + start, end - start, &body, err);
		if (st != CRDT_OK && err->position >= 0)
			err->position += (long) start;
	}
	if (st == CRDT_OK &&
		(st = crdt_json_expect(&lex, ',', "\",\" and the retirement markers")) == CRDT_OK &&
		(st = crdt_json_each(&lex, '{', "\"{\" (the retirement markers)", parse_marker,
							 &mt)) == CRDT_OK &&
		(st = crdt_json_expect(&lex, ']', "\"]\"")) == CRDT_OK &&
		(st = crdt_json_end(&lex)) == CRDT_OK &&
		(st = gather_text_markers(&mt, &s, err)) == CRDT_OK)
		st = write_marked(shape, &s, (CrdtSlice) {body.data, body.len}, out, err);
	crdt_bufs_free(&body, &mt.bytes, &mt.lens, NULL);
	crdt_buf_free(&s.items);
	return st;
}
