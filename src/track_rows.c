/*
 * track_rows.c — rows being decided by the tracked-table trigger: their
 * values, comparisons and the merges of their CRDT columns.
 *
 * A Row holds deformed values only; a tuple is formed afresh whenever one
 * is needed, so a record written after a column changed shows the change.
 */
#include "tracked.h"

#include "access/htup_details.h"
#include "utils/datum.h"

Row
row_of(HeapTuple tuple, TupleDesc desc)
{
	Row			r;

	r.values = palloc(sizeof(Datum) * desc->natts);
	r.nulls = palloc(sizeof(bool) * desc->natts);
	heap_deform_tuple(tuple, desc, r.values, r.nulls);
	return r;
}

Row
row_copy(Row src, TupleDesc desc)
{
	Row			r;

	r.values = palloc(sizeof(Datum) * desc->natts);
	r.nulls = palloc(sizeof(bool) * desc->natts);
	memcpy(r.values, src.values, sizeof(Datum) * desc->natts);
	memcpy(r.nulls, src.nulls, sizeof(bool) * desc->natts);
	return r;
}

Datum
row_datum(Row *r, TupleDesc desc)
{
	return heap_copy_tuple_as_datum(heap_form_tuple(desc, r->values, r->nulls), desc);
}

/* The nulls argument of SPI_execute_plan for a row's values as parameters. */
char *
row_spi_nulls(Row r, TupleDesc desc)
{
	char	   *nulls = palloc(desc->natts);

	for (int i = 0; i < desc->natts; i++)
		nulls[i] = r.nulls[i] || TupleDescAttr(desc, i)->attisdropped ? 'n' : ' ';
	return nulls;
}

CrdtSlice
slice_of_datum(Datum d)
{
	return crdt_slice_of(PG_DETOAST_DATUM_PACKED(d));
}

bool
same_crdt(Datum a, bool anull, Datum b, bool bnull)
{
	CrdtSlice	sa,
				sb;

	if (anull || bnull)
		return anull == bnull;
	sa = slice_of_datum(a);
	sb = slice_of_datum(b);
	return sa.len == sb.len && memcmp(sa.data, sb.data, sa.len) == 0;
}

bool
same_column(TupleDesc desc, int i, Row a, Row b)
{
	Form_pg_attribute att = TupleDescAttr(desc, i);

	if (att->attisdropped)
		return true;
	if (a.nulls[i] || b.nulls[i])
		return a.nulls[i] == b.nulls[i];
	return datum_image_eq(a.values[i], b.values[i], att->attbyval, att->attlen);
}

bool
same_row(Row a, Row b, TupleDesc desc)
{
	for (int i = 0; i < desc->natts; i++)
		if (!same_column(desc, i, a, b))
			return false;
	return true;
}

/* Every primary-key column (the replica column included) equal. */
bool
same_key(TrackedTable *t, TupleDesc desc, Row a, Row b)
{
	for (int k = 0; k < t->nall_keys; k++)
		if (!same_column(desc, t->all_keys[k], a, b))
			return false;
	return true;
}

/* merge(a, b) with NULL as the empty state; NULL only when both are. */
void
merge_into(const CrdtType *type, Datum a, bool anull, Datum b, bool bnull, Datum *out, bool *outnull)
{
	CrdtBuf		buf;
	CrdtError	err;

	if (anull || bnull)
	{
		*out = anull ? b : a;
		*outnull = anull && bnull;
		return;
	}
	if (same_crdt(a, false, b, false))
	{
		*out = a;
		*outnull = false;
		return;
	}
	crdt_varlena_buf(&buf);
	if (type->merge(slice_of_datum(a), slice_of_datum(b), &buf, &err) != CRDT_OK)
		crdt_report(&err, type->name, NULL, 0);
	*out = crdt_varlena_datum(&buf);
	*outnull = false;
}

/* into[i] := into[i] merged with from[i] */
void
merge_column(TrackedTable *t, int i, Row *into, Row from)
{
	merge_into(t->type[i], into->values[i], into->nulls[i], from.values[i], from.nulls[i],
			   &into->values[i], &into->nulls[i]);
}

CrdtSlice
slice_or_empty(const CrdtType *type, Datum d, bool isnull)
{
	if (isnull)
	{
		CrdtBuf		buf;
		CrdtSlice	s;

		crdt_buf_init(&buf, &crdt_palloc_allocator, 0);
		type->write_empty(&buf);
		s.data = buf.data;
		s.len = buf.len;
		return s;
	}
	/* retirement markers unfolded: the same clock for every reader */
	return crdt_readable(slice_of_datum(d), crdt_retire_shape_named(type->name));
}

CrdtOrder
clock_order(TrackedTable *t, Row local, Row remote)
{
	CrdtOrder	order;
	CrdtError	err;

	if (crdt_vclock_compare(slice_or_empty(&crdt_type_vclock, local.values[t->clock], local.nulls[t->clock]),
							slice_or_empty(&crdt_type_vclock, remote.values[t->clock], remote.nulls[t->clock]),
							&order, &err) != CRDT_OK)
		crdt_report(&err, "vclock", NULL, 0);
	return order;
}

/*
 * Whether the row clock of seer covers the last write of row: that write's
 * dot (its writer's replica and counter) is in the writer tag.  -1 when the
 * tag carries no dot (written by hand), so nothing can be told.
 */
static int
has_seen(TrackedTable *t, Row seer, Row row)
{
	CrdtLww		lww;
	CrdtError	err;
	char		digits[24];
	char	   *end;
	long long	counter;
	int64		seen;

	if (t->writer < 0 || row.nulls[t->writer] || t->clock < 0)
		return -1;
	if (crdt_lww_read(slice_of_datum(row.values[t->writer]), &lww, &err) != CRDT_OK)
		crdt_report(&err, "lwwreg", NULL, 0);
	if (lww.empty || lww.value_len == 0 || lww.value_len >= sizeof(digits))
		return -1;
	memcpy(digits, lww.value, lww.value_len);
	digits[lww.value_len] = '\0';
	counter = strtoll(digits, &end, 10);
	if (*end != '\0' || counter <= 0)
		return -1;
	if (crdt_counter_get(CRDT_VCLOCK, slice_or_empty(&crdt_type_vclock, seer.values[t->clock], seer.nulls[t->clock]),
						 lww.replica, lww.replica_len, &seen, &err) != CRDT_OK)
		crdt_report(&err, "vclock", NULL, 0);
	return seen >= counter ? 1 : 0;
}

/*
 * Two rows whose last writes did not know of each other: a real conflict.
 * Concurrent clocks alone are not enough: in a mesh a row often arrives
 * carrying an old value its sender had not yet replaced, merged with other
 * news; that value was already superseded here.
 */
bool
writes_concurrent(TrackedTable *t, Row a, Row b)
{
	int			a_saw_b = has_seen(t, a, b);
	int			b_saw_a = has_seen(t, b, a);

	if (a_saw_b < 0 || b_saw_a < 0)
		return clock_order(t, a, b) == CRDT_ORDER_CONCURRENT;
	return !a_saw_b && !b_saw_a;
}

int
mvreg_count(Datum d, bool isnull)
{
	CrdtDottedKeys *it;
	CrdtError	err;
	const uint8_t *key;
	size_t		len;
	int			rc,
				n = 0;

	if (isnull)
		return 0;
	it = palloc(sizeof(CrdtDottedKeys));
	if (crdt_dotted_keys_init(it, CRDT_MVREG, slice_or_empty(&crdt_type_mvreg, d, false), &err) != CRDT_OK)
		crdt_report(&err, "mvreg", NULL, 0);
	while ((rc = crdt_dotted_keys_next(it, &key, &len, &err)) > 0)
		n++;
	if (rc < 0)
		crdt_report(&err, "mvreg", NULL, 0);
	return n;
}
