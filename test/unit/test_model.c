/*
 * test_model.c — simulated replicas of the set and register types.
 *
 * First the "world": a few replicas doing random operations and exchanging
 * full states and deltas, the generator of valid values for the law,
 * hostile and aggregate tests.  Then model-based histories of orset and
 * mvreg: replicas send states and deltas through queues that deliver late,
 * twice and out of order, and every state is compared with the sequential
 * specification, computed by an independent model from which writes each
 * operation had observed.
 */
#include "unit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------ pools */

/*
 * Elements: the empty string, prefixes of each other (front coding),
 * characters that need escapes in text, multi-byte UTF-8; then three of
 * 4096 bytes, two sharing 4095 of them.
 */
static const char *const element_texts[] = {
	"", "a", "ab", "abc", "b", "B", "~", "x\"q", "back\\slash", "\n", "\x01", "tab\tx",
	"\x7f", "\xC3\xA9", "\xC3\xA9\x61", "\xE6\x97\xA5\xE6\x9C\xAC", "\xF0\x9F\x98\x80",
};

#define SHORT_ELEMENTS (sizeof(element_texts) / sizeof(element_texts[0]))
#define LONG_ITEMS 3

/* JSON values in the form the default canonicalizer keeps; then one long one. */
static const char *const json_texts[] = {
	"1", "2", "-0.5e3", "null", "true", "false", "\"\"", "\"x\"", "\"a\\\"b\"", "\"\\n\"",
	"\"\\u00e9\"", "\"\xC3\xA9\"", "[]", "{}", "[1,2]", "{\"a\":1}", "{\"a\":{\"b\":[null]}}",
};

#define SHORT_JSONS (sizeof(json_texts) / sizeof(json_texts[0]))
#define LONG_JSON_LEN 4000

/* the last two are 64 bytes long and share 63 */
static const char *const replica_texts[] = {
	"a", "b", "ab", "A", "agent-041", "agent-0420", "x\"q", "back\\slash", "\xC3\xA9",
	"\xF0\x9F\x98\x80",
	"LLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLa",
	"LLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLb",
};

#define REPLICAS_IN_POOL (sizeof(replica_texts) / sizeof(replica_texts[0]))

static uint8_t long_elements[LONG_ITEMS][CRDT_ELEMENT_MAX];
static uint8_t long_json[LONG_JSON_LEN];

static void
make_long_items(void)
{
	static bool done;

	if (done)
		return;
	done = true;
	memset(long_elements[0], 'e', CRDT_ELEMENT_MAX);
	memset(long_elements[1], 'e', CRDT_ELEMENT_MAX);
	long_elements[0][CRDT_ELEMENT_MAX - 1] = 'a';
	long_elements[1][CRDT_ELEMENT_MAX - 1] = 'b';
	/* 1365 three-byte characters and one more byte */
	for (size_t i = 0; i + 3 <= CRDT_ELEMENT_MAX; i += 3)
		memcpy(long_elements[2] + i, "\xE6\x97\xA5", 3);
	long_elements[2][CRDT_ELEMENT_MAX - 1] = 'z';
	memset(long_json, 'v', LONG_JSON_LEN);
	long_json[0] = long_json[LONG_JSON_LEN - 1] = '"';
}

size_t
pool_elements(void)
{
	return SHORT_ELEMENTS + LONG_ITEMS;
}

CrdtSlice
pool_element(size_t i)
{
	make_long_items();
	if (i < SHORT_ELEMENTS)
		return slice_of(element_texts[i], strlen(element_texts[i]));
	return slice_of(long_elements[i - SHORT_ELEMENTS], CRDT_ELEMENT_MAX);
}

size_t
pool_jsons(void)
{
	return SHORT_JSONS + 1;
}

CrdtSlice
pool_json(size_t i)
{
	make_long_items();
	if (i < SHORT_JSONS)
		return slice_of(json_texts[i], strlen(json_texts[i]));
	return slice_of(long_json, LONG_JSON_LEN);
}

size_t
pool_replicas(void)
{
	return REPLICAS_IN_POOL;
}

CrdtSlice
pool_replica(size_t i)
{
	return slice_of(replica_texts[i], strlen(replica_texts[i]));
}

void
buf_take(CrdtBuf *state, CrdtBuf *tmp)
{
	CrdtBuf		t = *state;

	*state = *tmp;
	*tmp = t;
	buf_reset(tmp);
}

/* k distinct numbers below n, into out */
static void
pick_distinct(Rng *rng, size_t n, size_t k, size_t *out)
{
	for (size_t i = 0; i < k; i++)
	{
		bool		again;

		do
		{
			out[i] = (size_t) rng_below(rng, n);
			again = false;
			for (size_t j = 0; j < i; j++)
				again |= out[j] == out[i];
		} while (again);
	}
}

/* ------------------------------------------------------------ the world */

typedef enum WorldKind
{
	W_GSET, W_TWOPSET, W_ORSET, W_MVREG, W_LWWREG
} WorldKind;

static WorldKind
world_kind(const CrdtType *type)
{
	if (type == &crdt_type_gset)
		return W_GSET;
	if (type == &crdt_type_twopset)
		return W_TWOPSET;
	if (type == &crdt_type_orset)
		return W_ORSET;
	if (type == &crdt_type_mvreg)
		return W_MVREG;
	if (type != &crdt_type_lwwreg)
	{
		fprintf(stderr, "world: no operations for type %s\n", type->name);
		abort();
	}
	return W_LWWREG;
}

void
world_open(World *w, const CrdtType *type)
{
	(void) world_kind(type);	/* fails early for a type without operations */
	w->type = type;
	w->short_items = false;
	w->replicas = 0;
	for (int r = 0; r < WORLD_MAX_REPLICAS; r++)
	{
		buf_open(&w->state[r]);
		buf_open(&w->stale[r]);
	}
	buf_open(&w->tmp);
}

void
world_close(World *w)
{
	for (int r = 0; r < WORLD_MAX_REPLICAS; r++)
	{
		crdt_buf_free(&w->state[r]);
		crdt_buf_free(&w->stale[r]);
	}
	crdt_buf_free(&w->tmp);
}

/* s as a JSON string: quotes, backslashes and controls escaped */
static void
put_json_string(CrdtBuf *out, CrdtSlice s)
{
	crdt_buf_put_byte(out, '"');
	for (size_t i = 0; i < s.len; i++)
	{
		char		esc[8];

		if (s.data[i] < 0x20)
		{
			snprintf(esc, sizeof(esc), "\\u%04x", s.data[i]);
			crdt_buf_put_str(out, esc);
			continue;
		}
		if (s.data[i] == '"' || s.data[i] == '\\')
			crdt_buf_put_byte(out, '\\');
		crdt_buf_put_byte(out, s.data[i]);
	}
	crdt_buf_put_byte(out, '"');
}

/*
 * orset, mvreg: a past all replicas share, as after a long history.  The
 * counters start near 2^62 (nine-byte varints), some contexts have a gap,
 * and the first item is present with a dot of the first replica.
 */
static void
world_ancestor(World *w, Rng *rng, bool orset)
{
	uint64_t	base = (uint64_t) INT64_MAX / 2 + rng_below(rng, 1000);
	CrdtSlice	first = pool_replica(w->id[0]);
	CrdtSlice	item = orset ? pool_element(w->item[0]) : pool_json(w->item[0]);
	CrdtBuf		text;
	CrdtError	err;
	char		n[64];

	buf_open(&text);
	crdt_buf_put_str(&text, "{\"context\":{");
	for (int r = 0; r < w->replicas; r++)
	{
		if (r > 0)
			crdt_buf_put_byte(&text, ',');
		put_json_string(&text, pool_replica(w->id[r]));
		/* both forms hold the counter base of every replica */
		if (rng_percent(rng, 50))
			snprintf(n, sizeof(n), ":%llu", (unsigned long long) base + (uint64_t) r);
		else
			snprintf(n, sizeof(n), ":[[1,%d],[%llu,%llu]]", 3 + r, (unsigned long long) base,
					 (unsigned long long) base + (uint64_t) r);
		crdt_buf_put_str(&text, n);
	}
	crdt_buf_put_str(&text, orset ? "},\"elements\":{" : "},\"values\":[{\"value\":");
	if (orset)
		put_json_string(&text, item);
	else
		crdt_buf_put(&text, item.data, item.len);
	crdt_buf_put_str(&text, orset ? ":[[" : ",\"dots\":[[");
	put_json_string(&text, first);
	snprintf(n, sizeof(n), ",%llu]]", (unsigned long long) base);
	crdt_buf_put_str(&text, n);
	crdt_buf_put_str(&text, orset ? "}}" : "}]}");

	buf_reset(&w->state[0]);
	if (CHECK_OK(w->type->parse((const char *) text.data, text.len, &w->state[0], &err), &err))
		for (int r = 0; r < w->replicas; r++)
		{
			if (r > 0)
			{
				buf_reset(&w->state[r]);
				crdt_buf_put(&w->state[r], w->state[0].data, w->state[0].len);
			}
			buf_reset(&w->stale[r]);
			crdt_buf_put(&w->stale[r], w->state[0].data, w->state[0].len);
		}
	else
		unit_note("ancestor %s", show_text((const char *) text.data, text.len));
	crdt_buf_free(&text);
}

void
world_reset(World *w, Rng *rng)
{
	WorldKind	kind = world_kind(w->type);
	bool		values = kind == W_MVREG || kind == W_LWWREG;
	size_t		shorts = values ? SHORT_JSONS : SHORT_ELEMENTS;

	w->replicas = 2 + (int) rng_below(rng, WORLD_MAX_REPLICAS - 1);
	pick_distinct(rng, REPLICAS_IN_POOL, (size_t) w->replicas, w->id);
	pick_distinct(rng, shorts, WORLD_ITEMS, w->item);
	/* now and then a long item, which costs time in every later case */
	if (!w->short_items && rng_percent(rng, 3))
		w->item[0] = shorts + (size_t) rng_below(rng, values ? 1 : LONG_ITEMS);
	for (int r = 0; r < w->replicas; r++)
	{
		buf_reset(&w->state[r]);
		w->type->write_empty(&w->state[r]);
		buf_reset(&w->stale[r]);
		w->type->write_empty(&w->stale[r]);
	}
	if ((kind == W_ORSET || kind == W_MVREG) && rng_percent(rng, 15))
		world_ancestor(w, rng, kind == W_ORSET);
	/* anywhere in the range, with room to move on */
	w->clock = CRDT_LWW_MIN_AT +
		(int64_t) rng_below(rng, (uint64_t) (CRDT_LWW_MAX_AT - CRDT_LWW_MIN_AT) / 2);
}

/* A timestamp: mostly the clock moving on a little (equal ones too), sometimes anything. */
static int64_t
world_time(World *w, Rng *rng)
{
	switch (rng_below(rng, 20))
	{
		case 0:
			return CRDT_LWW_MIN_AT;
		case 1:
			return CRDT_LWW_MAX_AT;
		case 2:
			return CRDT_LWW_MIN_AT +
				(int64_t) rng_below(rng, (uint64_t) (CRDT_LWW_MAX_AT - CRDT_LWW_MIN_AT) + 1);
		default:
			w->clock += (int64_t) rng_below(rng, 3);
			return w->clock;
	}
}

void
world_operate(World *w, Rng *rng, int r)
{
	WorldKind	kind = world_kind(w->type);
	size_t		pick = w->item[rng_below(rng, WORLD_ITEMS)];
	CrdtSlice	item = kind == W_MVREG || kind == W_LWWREG ? pool_json(pick) : pool_element(pick);
	CrdtSlice	id = pool_replica(w->id[r]);
	CrdtSlice	s = buf_slice(&w->state[r]);
	bool		add = rng_percent(rng, 60);
	CrdtError	err;
	CrdtStatus	st = CRDT_OK;

	buf_reset(&w->tmp);
	switch (kind)
	{
		case W_GSET:
			st = crdt_set_add(CRDT_GSET, s, item.data, item.len, &w->tmp, &err);
			break;
		case W_TWOPSET:
			st = add ? crdt_set_add(CRDT_TWOPSET, s, item.data, item.len, &w->tmp, &err)
				: crdt_set_remove(CRDT_TWOPSET, s, item.data, item.len, &w->tmp, &err);
			break;
		case W_ORSET:
			st = add ? crdt_orset_add(s, item.data, item.len, id.data, id.len, &w->tmp, &err)
				: crdt_orset_remove(s, item.data, item.len, &w->tmp, &err);
			break;
		case W_MVREG:
			st = crdt_mvreg_set(s, item.data, item.len, id.data, id.len, &w->tmp, &err);
			break;
		case W_LWWREG:
			st = crdt_lww_set(s, world_time(w, rng), id.data, id.len, item.data, item.len,
							  &w->tmp, &err);
			break;
	}
	if (CHECK_OK(st, &err))
		buf_take(&w->state[r], &w->tmp);
	else
		unit_note("%s operation at replica %d on %s", w->type->name, r, show_typed(w->type, s));
}

/* out = op(x, y), checked */
static void
world_combine(World *w, bool delta, CrdtSlice x, CrdtSlice y, CrdtBuf *out)
{
	CrdtError	err;
	CrdtStatus	st;

	buf_reset(out);
	st = delta ? w->type->delta(x, y, out, &err) : w->type->merge(x, y, out, &err);
	if (!CHECK_OK(st, &err))
		unit_note("%s %s of %s and %s", w->type->name, delta ? "delta" : "merge",
				  show_typed(w->type, x), show_typed(w->type, y));
}

void
world_step(World *w, Rng *rng)
{
	int			r = (int) rng_below(rng, (uint64_t) w->replicas);
	int			from = (int) rng_below(rng, (uint64_t) w->replicas);
	uint64_t	what = rng_below(rng, 100);

	if (what < 45)
		world_operate(w, rng, r);
	else if (what < 70)
	{
		world_combine(w, false, buf_slice(&w->state[r]), buf_slice(&w->state[from]), &w->tmp);
		buf_take(&w->state[r], &w->tmp);
	}
	else if (what < 90)
	{
		/* what a replica sends knowing an earlier state of r: valid, as r only grew */
		CrdtBuf		d;

		buf_open(&d);
		world_combine(w, true, buf_slice(&w->state[from]), buf_slice(&w->stale[r]), &d);
		world_combine(w, false, buf_slice(&w->state[r]), buf_slice(&d), &w->tmp);
		buf_take(&w->state[r], &w->tmp);
		crdt_buf_free(&d);
	}
	else
	{
		buf_reset(&w->stale[r]);
		crdt_buf_put(&w->stale[r], w->state[r].data, w->state[r].len);
	}
}

void
world_pick(World *w, Rng *rng, CrdtBuf *out)
{
	int			i = (int) rng_below(rng, (uint64_t) w->replicas);
	int			j = (int) rng_below(rng, (uint64_t) w->replicas);
	uint64_t	what = rng_below(rng, 100);

	buf_reset(out);
	if (what < 35)
		crdt_buf_put(out, w->state[i].data, w->state[i].len);
	else if (what < 50)
		crdt_buf_put(out, w->stale[i].data, w->stale[i].len);
	else if (what < 65)
		world_combine(w, false, buf_slice(&w->state[i]), buf_slice(&w->stale[j]), out);
	else if (what < 95)
		/* deltas are values too, with contexts full of gaps */
		world_combine(w, true, buf_slice(&w->state[i]),
					  buf_slice(rng_percent(rng, 50) ? &w->state[j] : &w->stale[j]), out);
	else
		w->type->write_empty(out);
}

/* ------------------------------------------------------------ model histories
 *
 * The sequential specification needs only, for each operation, which
 * writes it had observed: the writes in its replica's causal past.  The
 * model tracks that as a bit set of events per replica and per message,
 * and never looks inside a value.
 *   orset:  e is present iff some add of e was observed by no remove of e;
 *   mvreg:  the values are those of the writes no later write observed.
 * Adds and writes observed by a later add do not count as removed: a
 * later add of the same element drops the older dots, but the element
 * stays, through the new one.
 *
 * The model also predicts the exact state: the n-th write of a replica
 * has the dot (replica, n); a replica's context is, per replica, 1 up to
 * the last of its writes observed (what is observed is causally closed);
 * and the dot of a write survives unless another operation on its key
 * (any later write, for mvreg) observed it.
 */

#define HIST_MAX_REPLICAS 5
#define HIST_MAX_STEPS 40
#define HIST_QUEUE 8
#define HIST_ITEMS 4

typedef struct Event
{
	int			replica;
	bool		is_add;			/* orset: an add, else a remove; mvreg: always */
	size_t		item;			/* index into History.item */
	uint64_t	past;			/* the events its replica had observed */
	uint64_t	counter;		/* of its dot; 0 for an orset remove */
} Event;

typedef struct Message
{
	int			from;
	bool		delta;
	uint64_t	knows;			/* the events its sender had observed when sent */
	CrdtBuf		bytes;
} Message;

typedef enum StepKind
{
	S_OPERATE, S_SEND, S_DELIVER
} StepKind;

/* One step, kept for the trace printed when a history fails. */
typedef struct Step
{
	StepKind	kind;
	int			replica;		/* who acts or receives */
	int			other;			/* sender or receiver */
	int			event;			/* S_OPERATE: the event */
	bool		delta;			/* S_SEND, S_DELIVER */
	bool		kept;			/* S_DELIVER: left queued, to come again */
	bool		lost;			/* S_SEND: the queue was full, its oldest was lost */
	size_t		bytes;			/* S_SEND: size of the message */
} Step;

typedef struct History
{
	CrdtDottedKind kind;
	const CrdtType *type;
	long		index;
	int			replicas;
	size_t		items;
	size_t		item[HIST_ITEMS];	/* pool indexes */
	size_t		id[HIST_MAX_REPLICAS];
	CrdtBuf		state[HIST_MAX_REPLICAS];
	uint64_t	knows[HIST_MAX_REPLICAS];
	/* known[s][r]: an earlier state of r that s has heard of, for deltas */
	CrdtBuf		known[HIST_MAX_REPLICAS][HIST_MAX_REPLICAS];
	Message		queue[HIST_MAX_REPLICAS][HIST_QUEUE];	/* per receiver */
	int			queued[HIST_MAX_REPLICAS];
	Event		event[HIST_MAX_STEPS];
	int			events;
	uint64_t	writes[HIST_MAX_REPLICAS];	/* dots made by each replica */
	Step		step[HIST_MAX_STEPS];
	int			steps;
	CrdtBuf		tmp;
	CrdtBuf		keys;			/* scratch for the present keys */
	CrdtBuf		spec;			/* the state the model predicts: text, then value */
	CrdtBuf		spec_value;
} History;

static CrdtSlice
hist_item(const History *h, size_t k)
{
	return h->kind == CRDT_ORSET ? pool_element(h->item[k]) : pool_json(h->item[k]);
}

/* Calls fn on every buffer of the history: opening it, closing it. */
static void
history_buffers(History *h, void (*fn) (CrdtBuf *buf))
{
	for (int r = 0; r < HIST_MAX_REPLICAS; r++)
	{
		fn(&h->state[r]);
		for (int s = 0; s < HIST_MAX_REPLICAS; s++)
			fn(&h->known[r][s]);
		for (int q = 0; q < HIST_QUEUE; q++)
			fn(&h->queue[r][q].bytes);
	}
	fn(&h->tmp);
	fn(&h->keys);
	fn(&h->spec);
	fn(&h->spec_value);
}

static void
history_open(History *h, CrdtDottedKind kind)
{
	h->kind = kind;
	h->type = kind == CRDT_ORSET ? &crdt_type_orset : &crdt_type_mvreg;
	history_buffers(h, buf_open);
}

static void
history_close(History *h)
{
	history_buffers(h, crdt_buf_free);
}

static void
history_reset(History *h, Rng *rng, long index)
{
	h->index = index;
	h->replicas = 3 + (int) rng_below(rng, 3);
	/* few items, so that operations meet on the same ones */
	h->items = 2 + (size_t) rng_below(rng, HIST_ITEMS - 1);
	pick_distinct(rng, h->kind == CRDT_ORSET ? SHORT_ELEMENTS : SHORT_JSONS, h->items, h->item);
	pick_distinct(rng, REPLICAS_IN_POOL, (size_t) h->replicas, h->id);
	for (int r = 0; r < h->replicas; r++)
	{
		buf_reset(&h->state[r]);
		h->type->write_empty(&h->state[r]);
		h->knows[r] = 0;
		h->writes[r] = 0;
		h->queued[r] = 0;
		for (int s = 0; s < h->replicas; s++)
		{
			buf_reset(&h->known[r][s]);
			h->type->write_empty(&h->known[r][s]);
		}
	}
	h->events = 0;
	h->steps = 0;
}

/*
 * Whether write e, observed (in knows), is still there: no operation in
 * knows observed it that undoes it.  An orset add is undone by a remove
 * of its element, and its dot also by a later add of it (by_adds); an
 * mvreg write by any later write.
 */
static bool
spec_alive(const History *h, uint64_t knows, int e, bool by_adds)
{
	const Event *a = &h->event[e];

	if (!(knows >> e & 1) || !a->is_add)
		return false;
	for (int x = 0; x < h->events; x++)
	{
		const Event *o = &h->event[x];

		if ((knows >> x & 1) && (o->past >> e & 1) &&
			(h->kind == CRDT_MVREG || (o->item == a->item && (by_adds || !o->is_add))))
			return false;
	}
	return true;
}

/* The items present after the events in knows, as a bit set over h->item. */
static unsigned
spec_present(const History *h, uint64_t knows)
{
	unsigned	present = 0;

	for (int e = 0; e < h->events; e++)
		if (spec_alive(h, knows, e, false))
			present |= 1u << h->event[e].item;
	return present;
}

/* The state after the events in knows, as text for the core's parser. */
static void
spec_state_text(const History *h, uint64_t knows, CrdtBuf *out)
{
	uint64_t	seen[HIST_MAX_REPLICAS] = {0};
	bool		first = true;
	char		n[32];

	buf_reset(out);
	for (int e = 0; e < h->events; e++)
		if ((knows >> e & 1) && h->event[e].counter > seen[h->event[e].replica])
			seen[h->event[e].replica] = h->event[e].counter;
	crdt_buf_put_str(out, "{\"context\":{");
	for (int r = 0; r < h->replicas; r++)
		if (seen[r] > 0)
		{
			if (!first)
				crdt_buf_put_byte(out, ',');
			first = false;
			put_json_string(out, pool_replica(h->id[r]));
			snprintf(n, sizeof(n), ":%llu", (unsigned long long) seen[r]);
			crdt_buf_put_str(out, n);
		}
	crdt_buf_put_str(out, h->kind == CRDT_ORSET ? "},\"elements\":{" : "},\"values\":[");
	first = true;
	for (size_t k = 0; k < h->items; k++)
	{
		bool		open = false;

		for (int e = 0; e < h->events; e++)
		{
			if (h->event[e].item != k || !spec_alive(h, knows, e, true))
				continue;
			if (!open)
			{
				CrdtSlice	item = hist_item(h, k);

				if (!first)
					crdt_buf_put_byte(out, ',');
				first = false;
				open = true;
				if (h->kind == CRDT_ORSET)
					put_json_string(out, item);
				else
				{
					crdt_buf_put_str(out, "{\"value\":");
					crdt_buf_put(out, item.data, item.len);
					crdt_buf_put_str(out, ",\"dots\"");
				}
				crdt_buf_put_str(out, ":[");
			}
			else
				crdt_buf_put_byte(out, ',');
			crdt_buf_put_byte(out, '[');
			put_json_string(out, pool_replica(h->id[h->event[e].replica]));
			snprintf(n, sizeof(n), ",%llu]", (unsigned long long) h->event[e].counter);
			crdt_buf_put_str(out, n);
		}
		if (open)
			crdt_buf_put_str(out, h->kind == CRDT_ORSET ? "]" : "]}");
	}
	crdt_buf_put_str(out, h->kind == CRDT_ORSET ? "}}" : "]}");
}


static void
history_trace(const History *h)
{

	unit_note("%s history %ld (CRDT_TEST_SEED=%llu): %d replicas, items:", h->type->name,
			  h->index, (unsigned long long) unit_run.seed, h->replicas);
	for (size_t k = 0; k < h->items; k++)
	{
		CrdtSlice	it = hist_item(h, k);

		unit_note("  item %zu = %s", k, show_text((const char *) it.data, it.len));
	}
	for (int r = 0; r < h->replicas; r++)
	{
		CrdtSlice	id = pool_replica(h->id[r]);

		unit_note("  replica %d = %s", r, show_text((const char *) id.data, id.len));
	}
	for (int k = 0; k < h->steps; k++)
	{
		const Step *s = &h->step[k];

		if (s->kind == S_OPERATE)
		{
			const Event *e = &h->event[s->event];

			unit_note("  %2d: replica %d %s item %zu (event %d, had observed 0x%llx)", k,
					  s->replica, h->kind == CRDT_MVREG ? "sets" : e->is_add ? "adds" : "removes",
					  e->item, s->event, (unsigned long long) e->past);
		}
		else if (s->kind == S_SEND)
			unit_note("  %2d: send %s %d -> %d (%zu bytes)%s", k, s->delta ? "delta" : "state",
					  s->replica, s->other, s->bytes,
					  s->lost ? " (queue full: its oldest message is lost)" : "");
		else
			unit_note("  %2d: deliver %s %d -> %d%s", k, s->delta ? "delta" : "state",
					  s->other, s->replica, s->kept ? " (kept queued, comes again)" : "");
	}
}

/*
 * Replica r holds exactly the items the specification says, and if exact
 * is set, is byte for byte the state the model predicts (a parse costs
 * too much for every step; at the end, a wrong dot or context entry from
 * any step still shows).  False, with the trace shown, if not.
 */
static bool
check_replica(History *h, int r, const char *when, bool exact)
{
	CrdtSlice	want[HIST_ITEMS];
	CrdtSlice	got[HIST_ITEMS + 1];
	size_t		at[HIST_ITEMS + 1];
	size_t		nwant = 0;
	size_t		ngot = 0;
	unsigned	present = spec_present(h, h->knows[r]);
	CrdtDottedKeys it;
	CrdtError	err;
	const uint8_t *key;
	size_t		len;
	int			rc;
	bool		ok;

	for (size_t k = 0; k < h->items; k++)
		if (present >> k & 1)
			want[nwant++] = hist_item(h, k);
	qsort(want, nwant, sizeof(CrdtSlice), crdt_slice_cmp);

	/* a key is valid until the next one is read: keep copies */
	buf_reset(&h->keys);
	if (!CHECK_OK(crdt_dotted_keys_init(&it, h->kind, buf_slice(&h->state[r]), &err), &err))
	{
		history_trace(h);
		return false;
	}
	ok = true;
	while ((rc = crdt_dotted_keys_next(&it, &key, &len, &err)) > 0 && ngot <= HIST_ITEMS)
	{
		at[ngot] = h->keys.len;
		got[ngot++].len = len;
		crdt_buf_put(&h->keys, key, len);
	}
	for (size_t k = 0; k < ngot; k++)
		got[k].data = h->keys.data + at[k];
	if (!CHECK_MSG(rc >= 0, "%s: reading keys failed: %s", h->type->name, err.message))
		ok = false;
	else if (!CHECK_MSG(ngot == nwant, "%s: replica %d %s holds %zu keys, the specification %zu",
						h->type->name, r, when, ngot, nwant))
		ok = false;
	else
		for (size_t k = 0; k < nwant && ok; k++)
			ok = CHECK_MSG(slice_equal(got[k], want[k]), "%s: replica %d %s: key %zu is %s, "
						   "the specification says %s", h->type->name, r, when, k,
						   show_text((const char *) got[k].data, got[k].len),
						   show_text((const char *) want[k].data, want[k].len));
	/* and the exact state, dots and context, read through the core's parser */
	if (ok && exact)
	{
		spec_state_text(h, h->knows[r], &h->spec);
		buf_reset(&h->spec_value);
		if (!CHECK_OK(h->type->parse((const char *) h->spec.data, h->spec.len, &h->spec_value,
									 &err), &err) ||
			!CHECK_MSG(slice_equal(buf_slice(&h->state[r]), buf_slice(&h->spec_value)),
					   "%s: replica %d %s is not the state the model predicts", h->type->name,
					   r, when))
		{
			unit_note("model: %s", show_text((const char *) h->spec.data, h->spec.len));
			ok = false;
		}
	}
	if (!ok)
	{
		unit_note("state of replica %d: %s", r, show_typed(h->type, buf_slice(&h->state[r])));
		unit_note("it has observed events 0x%llx; present items by the model: 0x%x",
				  (unsigned long long) h->knows[r], present);
		history_trace(h);
	}
	return ok;
}

/* state[r] = op(state[r], other), checked; false on failure */
static bool
hist_merge(History *h, int r, CrdtSlice other)
{
	CrdtError	err;

	buf_reset(&h->tmp);
	if (!CHECK_OK(h->type->merge(buf_slice(&h->state[r]), other, &h->tmp, &err), &err))
	{
		history_trace(h);
		return false;
	}
	buf_take(&h->state[r], &h->tmp);
	return true;
}

static bool
hist_operate(History *h, Rng *rng, int r)
{
	Event	   *e = &h->event[h->events];
	Step	   *s = &h->step[h->steps++];
	CrdtSlice	id = pool_replica(h->id[r]);
	CrdtSlice	cur = buf_slice(&h->state[r]);
	CrdtSlice	item;
	CrdtError	err;
	CrdtStatus	st;

	e->replica = r;
	e->item = (size_t) rng_below(rng, h->items);
	e->is_add = h->kind == CRDT_MVREG || rng_percent(rng, 60);
	e->past = h->knows[r];
	e->counter = e->is_add ? ++h->writes[r] : 0;
	item = hist_item(h, e->item);
	s->kind = S_OPERATE;
	s->replica = r;
	s->event = h->events++;
	h->knows[r] |= UINT64_C(1) << s->event;

	buf_reset(&h->tmp);
	if (h->kind == CRDT_MVREG)
		st = crdt_mvreg_set(cur, item.data, item.len, id.data, id.len, &h->tmp, &err);
	else if (e->is_add)
		st = crdt_orset_add(cur, item.data, item.len, id.data, id.len, &h->tmp, &err);
	else
		st = crdt_orset_remove(cur, item.data, item.len, &h->tmp, &err);
	if (!CHECK_OK(st, &err))
	{
		history_trace(h);
		return false;
	}
	buf_take(&h->state[r], &h->tmp);
	return check_replica(h, r, "after its operation", false);
}

/*
 * from sends to r its state, or the delta from what it last heard r had.
 * A full queue loses its oldest message.
 */
static bool
hist_send(History *h, Rng *rng, int from, int r)
{
	Step	   *s = &h->step[h->steps++];
	Message	   *m;
	CrdtError	err;

	s->lost = h->queued[r] == HIST_QUEUE;
	if (s->lost)
	{
		CrdtBuf		lost = h->queue[r][0].bytes;

		memmove(&h->queue[r][0], &h->queue[r][1], (HIST_QUEUE - 1) * sizeof(Message));
		h->queue[r][HIST_QUEUE - 1].bytes = lost;
		h->queued[r]--;
	}
	m = &h->queue[r][h->queued[r]++];
	m->from = from;
	m->delta = rng_percent(rng, 60);
	m->knows = h->knows[from];
	buf_reset(&m->bytes);
	s->kind = S_SEND;
	s->replica = from;
	s->other = r;
	s->delta = m->delta;
	if (!m->delta)
		crdt_buf_put(&m->bytes, h->state[from].data, h->state[from].len);
	else if (!CHECK_OK(h->type->delta(buf_slice(&h->state[from]),
									  buf_slice(&h->known[from][r]), &m->bytes, &err), &err))
	{
		history_trace(h);
		return false;
	}
	s->bytes = m->bytes.len;
	return true;
}

/* r takes a random queued message, which may stay queued to come again */
static bool
hist_deliver(History *h, Rng *rng, int r)
{
	Step	   *s = &h->step[h->steps++];
	int			q = (int) rng_below(rng, (uint64_t) h->queued[r]);
	Message	   *m = &h->queue[r][q];

	s->kind = S_DELIVER;
	s->replica = r;
	s->other = m->from;
	s->delta = m->delta;
	s->kept = rng_percent(rng, 25);
	if (!hist_merge(h, r, buf_slice(&m->bytes)))
		return false;
	h->knows[r] |= m->knows;
	/* a full state is an earlier state of its sender; an ack tells the sender r's state */
	if (!m->delta)
	{
		buf_reset(&h->known[r][m->from]);
		crdt_buf_put(&h->known[r][m->from], m->bytes.data, m->bytes.len);
	}
	if (rng_percent(rng, 50))
	{
		buf_reset(&h->known[m->from][r]);
		crdt_buf_put(&h->known[m->from][r], h->state[r].data, h->state[r].len);
	}
	if (!s->kept)
	{
		Message		t = *m;

		*m = h->queue[r][h->queued[r] - 1];
		h->queue[r][h->queued[r] - 1] = t;
		h->queued[r]--;
	}
	return check_replica(h, r, "after a delivery", false);
}

/* state[r] = merge(state[r], state[o]); *changed says whether it grew */
static bool
hist_pull(History *h, int r, int o, bool *changed)
{
	CrdtError	err;

	buf_reset(&h->tmp);
	if (!CHECK_OK(h->type->merge(buf_slice(&h->state[r]), buf_slice(&h->state[o]), &h->tmp,
								 &err), &err))
	{
		history_trace(h);
		return false;
	}
	*changed |= !slice_equal(buf_slice(&h->tmp), buf_slice(&h->state[r]));
	buf_take(&h->state[r], &h->tmp);
	h->knows[r] |= h->knows[o];
	return true;
}

static bool
all_equal(const History *h)
{
	for (int r = 1; r < h->replicas; r++)
		if (!slice_equal(buf_slice(&h->state[r]), buf_slice(&h->state[0])))
			return false;
	return true;
}

/*
 * Every replica merges every other's state, round after round until all
 * are equal (one round does it: every event is in its creator's state),
 * then one more merge each must change nothing (stable).
 */
static bool
hist_exchange(History *h)
{
	bool		changed = false;

	for (int round = 1; round == 1 || !all_equal(h); round++)
	{
		if (!CHECK_MSG(round <= 2, "%s: replicas differ after a round of exchange",
					   h->type->name))
		{
			history_trace(h);
			return false;
		}
		for (int r = 0; r < h->replicas; r++)
			for (int o = 0; o < h->replicas; o++)
				if (o != r && !hist_pull(h, r, o, &changed))
					return false;
	}
	changed = false;
	for (int r = 0; r < h->replicas; r++)
		if (!hist_pull(h, r, (r + 1) % h->replicas, &changed))
			return false;
	if (!CHECK_MSG(!changed, "%s: the exchange is not stable", h->type->name))
	{
		history_trace(h);
		return false;
	}
	return true;
}

static void
run_history(History *h, Rng *rng, long index)
{
	int			steps = 5 + (int) rng_below(rng, HIST_MAX_STEPS - 4);
	bool		ok = true;

	history_reset(h, rng, index);
	for (int k = 0; k < steps && ok; k++)
	{
		int			r = (int) rng_below(rng, (uint64_t) h->replicas);
		int			o = (r + 1 + (int) rng_below(rng, (uint64_t) h->replicas - 1)) % h->replicas;
		uint64_t	what = rng_below(rng, 100);

		if (what >= 70 && h->queued[r] > 0)
			ok = hist_deliver(h, rng, r);
		else if (what >= 40)
			ok = hist_send(h, rng, o, r);
		else
			ok = hist_operate(h, rng, r);
	}
	/* the exchange leaves every replica equal to replica 0 (or says so) */
	if (!ok || !hist_exchange(h) || !check_replica(h, 0, "after the full exchange", true))
		return;
	{
		CrdtError	err;

		if (!CHECK_OK(h->type->validate(buf_slice(&h->state[0]), &err), &err))
			history_trace(h);
	}
}

/* CRDT_TEST_CASES / 2 histories of each type: 100000 in all by default. */
static void
model_histories(CrdtDottedKind kind)
{
	History    *h = malloc(sizeof(History));
	uint64_t	stream = rng_stream(kind == CRDT_ORSET ? "model orset" : "model mvreg");

	if (h == NULL)
		abort();
	history_open(h, kind);
	for (long i = 0; i < unit_cases_div(2); i++)
	{
		Rng			rng = rng_for_case(stream, (uint64_t) i);

		run_history(h, &rng, i);
	}
	history_close(h);
	free(h);
}

void
test_model_orset(void)
{
	model_histories(CRDT_ORSET);
}

void
test_model_mvreg(void)
{
	model_histories(CRDT_MVREG);
}
