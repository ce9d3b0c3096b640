/*
 * track_columns.c — the version of each plain column of a tracked table.
 *
 * The writer column (an lwwreg) holds as its value one tag per plain column,
 *   {"doc": [at, "n2", 3], "price": [at, "n1", 5]}
 * the tag of the last write that changed that column: its time (the
 * lwwreg's microseconds), its replica, and its dot (that replica's entry in
 * the row clock after the write).  An applied write resolves every plain
 * column on its own:
 *   - a write the other side had already seen (its dot is in the other
 *     row's clock) loses to that side's value;
 *   - of two writes that never saw each other, the greater tag wins (time,
 *     then replica bytes, then counter), the same on every node, and the
 *     loss is recorded.
 * So concurrent edits of different columns both survive, and a column the
 * incoming row did not change — an unchanged TOASTed value, which the apply
 * worker fills in from the local row — still carries the incoming side's
 * old tag, which this node has seen: it is recognised as unchanged.
 * Causality decides before time does, so a tag stamped far in the future
 * only wins against writes that never saw it.
 *
 * A writer tag written by 0.3 holds one dot for the whole row; it reads as
 * that tag on every plain column.
 */
#include "tracked.h"

#include "catalog/pg_type.h"
#include "utils/builtins.h"
#include "utils/json.h"
#include "utils/jsonb.h"
#include "utils/numeric.h"
#include "utils/timestamp.h"

/* The last microsecond a register may hold: 9999-12-31 23:59:59.999999. */
#define LAST_TIMESTAMP INT64CONST(252455615999999999)

static int64
json_number_int8(JsonbValue *v)
{
	if (v == NULL || v->type != jbvNumeric)
		return -1;
	return DatumGetInt64(DirectFunctionCall1(numeric_int8, NumericGetDatum(v->val.numeric)));
}

/* One column's tag from the map, if it is there and well formed. */
static ColumnTag
tag_from_map(JsonbContainer *map, const char *name)
{
	ColumnTag	tag = {false};
	JsonbValue *entry = getKeyJsonValueFromContainer(map, name, strlen(name), NULL);
	JsonbValue *replica;

	if (entry == NULL || entry->type != jbvBinary || !JsonContainerIsArray(entry->val.binary.data) ||
		JsonContainerSize(entry->val.binary.data) != 3)
		return tag;
	replica = getIthJsonbValueFromContainer(entry->val.binary.data, 1);
	if (replica == NULL || replica->type != jbvString)
		return tag;
	tag.at = json_number_int8(getIthJsonbValueFromContainer(entry->val.binary.data, 0));
	tag.counter = json_number_int8(getIthJsonbValueFromContainer(entry->val.binary.data, 2));
	tag.replica = replica->val.string.val;
	tag.replica_len = replica->val.string.len;
	tag.valid = tag.counter > 0;
	return tag;
}

/*
 * The tags of a row's plain columns (invalid where unknown: no writer tag,
 * or a column never written since tracking began).
 */
ColumnTag *
column_tags(TrackedTable *t, TupleDesc desc, Row row)
{
	ColumnTag  *tags = palloc0(sizeof(ColumnTag) * desc->natts);
	CrdtLww		lww;
	CrdtError	err;
	Jsonb	   *value;

	if (t->writer < 0 || row.nulls[t->writer])
		return tags;
	if (crdt_lww_read(slice_of_datum(row.values[t->writer]), &lww, &err) != CRDT_OK)
		crdt_report(&err, "lwwreg", NULL, 0);
	if (lww.empty)
		return tags;
	value = DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum(pnstrdup((const char *) lww.value,
																					  lww.value_len))));
	for (int i = 0; i < desc->natts; i++)
	{
		if (t->role[i] != COLUMN_PLAIN)
			continue;
		if (JB_ROOT_IS_OBJECT(value))
			tags[i] = tag_from_map(&value->root, NameStr(TupleDescAttr(desc, i)->attname));
		else if (JB_ROOT_IS_SCALAR(value))
		{
			/* 0.3: one dot for the whole row */
			JsonbValue	scalar;

			if (JsonbExtractScalar(&value->root, &scalar) && (tags[i].counter = json_number_int8(&scalar)) > 0)
			{
				tags[i].at = lww.at;
				tags[i].replica = (const char *) lww.replica;
				tags[i].replica_len = lww.replica_len;
				tags[i].valid = true;
			}
		}
	}
	return tags;
}

/* Whether a row clock has seen the write a tag names. */
static bool
tag_seen(TrackedTable *t, Row row, const ColumnTag *tag)
{
	CrdtError	err;
	int64		seen;

	if (crdt_counter_get(CRDT_VCLOCK, slice_or_empty(&crdt_type_vclock, row.values[t->clock], row.nulls[t->clock]),
						 (const uint8_t *) tag->replica, tag->replica_len, &seen, &err) != CRDT_OK)
		crdt_report(&err, "vclock", NULL, 0);
	return seen >= tag->counter;
}

static bool
same_tag(const ColumnTag *a, const ColumnTag *b)
{
	return a->at == b->at && a->counter == b->counter && a->replica_len == b->replica_len &&
		memcmp(a->replica, b->replica, a->replica_len) == 0;
}

/* The order of concurrent writes: time, then replica bytes, then counter. */
static int
tag_cmp(const ColumnTag *a, const ColumnTag *b)
{
	int			c;

	if (a->at != b->at)
		return a->at < b->at ? -1 : 1;
	c = memcmp(a->replica, b->replica, Min(a->replica_len, b->replica_len));
	if (c != 0 || a->replica_len != b->replica_len)
		return c != 0 ? c : (a->replica_len < b->replica_len ? -1 : 1);
	return a->counter < b->counter ? -1 : a->counter > b->counter;
}

/* The (time, replica) of a row's writer tag; false when it has none. */
static bool
writer_stamp(TrackedTable *t, Row row, ColumnTag *stamp)
{
	CrdtLww		lww;
	CrdtError	err;

	if (row.nulls[t->writer])
		return false;
	if (crdt_lww_read(slice_of_datum(row.values[t->writer]), &lww, &err) != CRDT_OK)
		crdt_report(&err, "lwwreg", NULL, 0);
	if (lww.empty)
		return false;
	stamp->valid = true;
	stamp->at = lww.at;
	stamp->replica = (const char *) lww.replica;
	stamp->replica_len = lww.replica_len;
	stamp->counter = 0;
	return true;
}

/*
 * Without a tag on both sides (a row written by hand, or before tags):
 * the row-level rule — the later row by its clock, and of concurrent rows
 * the one with the greater writer stamp.
 */
static TagWinner
row_winner(TrackedTable *t, Row local, Row remote, TagVerdict *verdict)
{
	ColumnTag	lw = {false};
	ColumnTag	rw = {false};

	switch (clock_order(t, local, remote))
	{
		case CRDT_ORDER_BEFORE:
			*verdict = TAG_ORDERED;
			return TAG_REMOTE;
		case CRDT_ORDER_CONCURRENT:
			*verdict = TAG_CONCURRENT;
			if (!writer_stamp(t, remote, &rw))
				return TAG_LOCAL;
			if (!writer_stamp(t, local, &lw))
				return TAG_REMOTE;
			return tag_cmp(&rw, &lw) > 0 ? TAG_REMOTE : TAG_LOCAL;
		default:
			*verdict = TAG_ORDERED;
			return TAG_LOCAL;
	}
}

/*
 * Which side's value of a plain column stands, by the column's tags:
 * TAG_LOCAL or TAG_REMOTE, with *verdict telling how it was decided.
 */
TagWinner
column_winner(TrackedTable *t, Row local, Row remote, const ColumnTag *lt, const ColumnTag *rt,
			  TagVerdict *verdict)
{
	if (!lt->valid || !rt->valid)
		return row_winner(t, local, remote, verdict);
	if (same_tag(lt, rt))
	{
		*verdict = TAG_SAME;
		return TAG_LOCAL;
	}
	*verdict = TAG_ORDERED;
	if (tag_seen(t, local, rt))
		return TAG_LOCAL;		/* the remote write was seen here: it is stale */
	if (tag_seen(t, remote, lt))
		return TAG_REMOTE;
	*verdict = TAG_CONCURRENT;
	return tag_cmp(rt, lt) > 0 ? TAG_REMOTE : TAG_LOCAL;
}

/* The canonical jsonb text of the tags of the plain columns. */
static char *
tags_text(TupleDesc desc, TrackedTable *t, const ColumnTag *tags)
{
	StringInfoData s;
	bool		first = true;
	Jsonb	   *canonical;

	initStringInfo(&s);
	appendStringInfoChar(&s, '{');
	for (int i = 0; i < desc->natts; i++)
	{
		if (t->role[i] != COLUMN_PLAIN || !tags[i].valid)
			continue;
		if (!first)
			appendStringInfoChar(&s, ',');
		escape_json(&s, NameStr(TupleDescAttr(desc, i)->attname));
		appendStringInfo(&s, ":[" INT64_FORMAT ",", tags[i].at);
		escape_json(&s, pnstrdup(tags[i].replica, tags[i].replica_len));
		appendStringInfo(&s, "," INT64_FORMAT "]", tags[i].counter);
		first = false;
	}
	appendStringInfoChar(&s, '}');
	canonical = DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum(s.data)));
	return JsonbToCString(NULL, &canonical->root, VARSIZE(canonical));
}

/* Stores tags in the row's writer column, stamped (at, replica). */
void
column_tags_store(TrackedTable *t, TupleDesc desc, Row *row, const ColumnTag *tags, int64 at,
				  const char *replica, int replica_len)
{
	char	   *text = tags_text(desc, t, tags);
	CrdtLww		lww;
	CrdtBuf		buf;

	lww.empty = false;
	lww.at = at;
	lww.replica = (const uint8_t *) replica;
	lww.replica_len = replica_len;
	lww.value = (const uint8_t *) text;
	lww.value_len = strlen(text);
	crdt_varlena_buf(&buf);
	crdt_lww_write(&lww, &buf);
	row->values[t->writer] = crdt_varlena_datum(&buf);
	row->nulls[t->writer] = false;
}

/*
 * The time of a local write: now, or just after every time the row has
 * seen (so it also wins the tie-break against what its writer saw), but
 * never past the last instant a register holds.
 */
int64
column_write_time(TrackedTable *t, Row row, const ColumnTag *tags, TupleDesc desc)
{
	int64		at = GetCurrentTimestamp();
	int64		latest = PG_INT64_MIN;
	CrdtLww		lww;
	CrdtError	err;

	if (!row.nulls[t->writer])
	{
		if (crdt_lww_read(slice_of_datum(row.values[t->writer]), &lww, &err) != CRDT_OK)
			crdt_report(&err, "lwwreg", NULL, 0);
		if (!lww.empty)
			latest = lww.at;
	}
	for (int i = 0; i < desc->natts; i++)
		if (tags[i].valid && tags[i].at > latest)
			latest = tags[i].at;
	if (latest != PG_INT64_MIN && latest >= at)
		at = latest < LAST_TIMESTAMP ? latest + 1 : LAST_TIMESTAMP;
	return Min(at, LAST_TIMESTAMP);
}
