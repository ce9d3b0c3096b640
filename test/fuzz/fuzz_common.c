/*
 * fuzz_common.c — helpers shared by the fuzz targets (see fuzz_common.h).
 */
#include "fuzz_common.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const CrdtType *const fuzz_types[FUZZ_TYPES] = {
	&crdt_type_vclock, &crdt_type_gcounter, &crdt_type_pncounter, &crdt_type_gset,
	&crdt_type_twopset, &crdt_type_orset, &crdt_type_mvreg, &crdt_type_lwwreg,
};

const CrdtType *
fuzz_type_of(uint8_t selector)
{
	return fuzz_types[selector % FUZZ_TYPES];
}

/* The kind of t in a family whose count types start at fuzz_types[first], or -1. */
static int
kind_in(const CrdtType *t, int first, int count)
{
	for (int k = 0; k < count; k++)
		if (fuzz_types[first + k] == t)
			return k;
	return -1;
}

/* fuzz_types lists each family's types in the order of its kinds. */
#define FAMILY_TEST(name, Kind, first, count) \
bool \
name(const CrdtType *t, Kind *kind) \
{ \
	int			k = kind_in(t, first, count); \
\
	if (k >= 0) \
		*kind = (Kind) k; \
	return k >= 0; \
}

FAMILY_TEST(fuzz_is_counter, CrdtCounterKind, 0, 3)
FAMILY_TEST(fuzz_is_set, CrdtSetKind, 3, 2)
FAMILY_TEST(fuzz_is_dotted, CrdtDottedKind, 5, 2)

const char *
fuzz_status_name(CrdtStatus st)
{
	switch (st)
	{
		case CRDT_OK:
			return "OK";
		case CRDT_ERR_SYNTAX:
			return "SYNTAX";
		case CRDT_ERR_BINARY:
			return "BINARY";
		case CRDT_ERR_OVERFLOW:
			return "OVERFLOW";
		case CRDT_ERR_TOO_LARGE:
			return "TOO_LARGE";
		case CRDT_ERR_ARGUMENT:
			return "ARGUMENT";
		case CRDT_ERR_NOMEM:
			return "NOMEM";
		case CRDT_ERR_RETIRED:
			return "RETIRED";
		case CRDT_ERR_RIGHTS:
			return "RIGHTS";
	}
	return "?";
}

/* ------------------------------------------------------------ checks */

#define MAX_NOTES 8
#define NOTE_BYTES 256

static struct
{
	const char *name;
	size_t		len;
	uint8_t		bytes[NOTE_BYTES];
}			notes[MAX_NOTES];
static int	note_count;

void
fuzz_note_value(const char *name, CrdtSlice value)
{
	int			k;

	/* a name noted again replaces its earlier value */
	for (k = 0; k < note_count; k++)
		if (strcmp(notes[k].name, name) == 0)
			break;
	if (k == MAX_NOTES)
		return;
	if (k == note_count)
		note_count++;
	notes[k].name = name;
	notes[k].len = value.len;
	if (value.len > 0)
		memcpy(notes[k].bytes, value.data, value.len < NOTE_BYTES ? value.len : NOTE_BYTES);
}

void
fuzz_notes_clear(void)
{
	note_count = 0;
}

void
fuzz_fail(const char *file, int line, const char *fmt,...)
{
	va_list		ap;

	fprintf(stderr, "\nfuzz check failed at %s:%d: ", file, line);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	for (int k = 0; k < note_count; k++)
	{
		size_t		shown = notes[k].len < NOTE_BYTES ? notes[k].len : NOTE_BYTES;

		fprintf(stderr, "  %s (%zu bytes):", notes[k].name, notes[k].len);
		for (size_t i = 0; i < shown; i++)
			fprintf(stderr, " %02x", notes[k].bytes[i]);
		fprintf(stderr, "%s\n", shown < notes[k].len ? " ..." : "");
	}
	fflush(stderr);
	abort();
}

/* ------------------------------------------------------------ memory */

static void **exact_blocks;
static size_t exact_count;
static size_t exact_capacity;

CrdtSlice
fuzz_exact(const void *data, size_t len)
{
	uint8_t    *block;
	CrdtSlice	s;

	if (exact_count == exact_capacity)
	{
		size_t		cap = exact_capacity < 64 ? 64 : 2 * exact_capacity;
		void	  **grown = realloc(exact_blocks, cap * sizeof(void *));

		if (grown == NULL)
			fuzz_fail(__FILE__, __LINE__, "out of memory");
		exact_blocks = grown;
		exact_capacity = cap;
	}
	/* len 0: one past a 1-byte block, so that any read of it is caught */
	block = malloc(len > 0 ? len : 1);
	if (block == NULL)
		fuzz_fail(__FILE__, __LINE__, "out of memory");
	if (len > 0)
		memcpy(block, data, len);
	exact_blocks[exact_count++] = block;
	s.data = len > 0 ? block : block + 1;
	s.len = len;
	return s;
}

CrdtSlice
fuzz_exact_buf(const CrdtBuf *buf)
{
	FUZZ_CHECK(!buf->failed, "a buffer failed to grow");
	return fuzz_exact(buf->data, buf->len);
}

void
fuzz_exact_release_all(void)
{
	for (size_t k = 0; k < exact_count; k++)
		free(exact_blocks[k]);
	exact_count = 0;
}

void
fuzz_buf_open(CrdtBuf *buf)
{
	crdt_buf_init(buf, &crdt_malloc_allocator, 0);
}

void
fuzz_buf_reset(CrdtBuf *buf)
{
	buf->len = 0;
	FUZZ_CHECK(!buf->failed, "a buffer failed to grow");
}

bool
fuzz_slice_equal(CrdtSlice a, CrdtSlice b)
{
	return a.len == b.len && (a.len == 0 || memcmp(a.data, b.data, a.len) == 0);
}

CrdtSlice
fuzz_empty(const CrdtType *t)
{
	CrdtBuf		b;
	CrdtSlice	s;

	fuzz_buf_open(&b);
	t->write_empty(&b);
	s = fuzz_exact_buf(&b);
	crdt_buf_free(&b);
	return s;
}

/* ------------------------------------------------------------ chunks */

bool
fuzz_next_chunk(FuzzCursor *c, FuzzChunk *chunk)
{
	size_t		len;
	size_t		avail;

	if (c->pos >= c->end)
		return false;
	chunk->header = *c->pos++;
	len = 0;
	if (c->pos < c->end)
		len = *c->pos++;
	if (c->pos < c->end)
		len |= (size_t) *c->pos++ << 8;
	avail = (size_t) (c->end - c->pos);
	if (len > avail)
		len = avail;
	chunk->data = c->pos;
	chunk->len = len;
	c->pos += len;
	return true;
}

void
fuzz_print(const CrdtType *t, CrdtSlice value, CrdtBuf *out)
{
	CrdtError	err;
	CrdtStatus	st;

	fuzz_buf_reset(out);
	st = t->print(value, out, &err);
	FUZZ_CHECK(st == CRDT_OK, "%s print of a valid value: %s: %s", t->name,
			   fuzz_status_name(st), err.message);
}

/* ------------------------------------------------------------ operations */

static const char *const replicas[] = {
	"a", "b", "alice", "agent-041", "agent-042", "r\xc3\xa9plica", "two words",
	"0123456789012345678901234567890123456789012345678901234567890123",
};

static const char *const elements[] = {
	"", "a", "ab", "abc", "b", "milk", "eggs", "\xc3\xa9", "\xf0\x9f\x98\x80",
	"shared-prefix-element-0001", "shared-prefix-element-0002", "q\"uote\\",
	"\x7f", "ctl\x01", "0123456789abcdefX", "0123456789abcdefY",
};

/* canonical JSON under the core's default canonicalizer (syntax, no outer space) */
static const char *const jsons[] = {
	"1", "null", "true", "\"x\"", "[1,2]", "{\"a\": 1}", "-0.5e3", "\"\\u00e9\"", "{}",
	"[]", "\"\xc3\xa9\"", "[[[]]]", "0", "\"\"", "{\"b\":[true,false,null]}", "1e400",
};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

typedef struct Prog
{
	const uint8_t *pos;
	const uint8_t *end;
} Prog;

static uint8_t
prog_byte(Prog *p)
{
	return p->pos < p->end ? *p->pos++ : 0;
}

static const char *
pick(Prog *p, const char *const *list, size_t n)
{
	return list[prog_byte(p) % n];
}

/* A counter delta: mostly small, sometimes near the int64 limits. */
static int64_t
prog_delta(Prog *p, bool signed_ok)
{
	uint8_t		b = prog_byte(p);
	int64_t		d;

	if (b >= 0xf0)
		d = INT64_MAX - (b - 0xf0);
	else if (b >= 0xe0 && signed_ok)
		d = INT64_MIN + (b - 0xe0);
	else if (signed_ok)
		d = (int64_t) b - 0x70;
	else
		d = (int64_t) b + 1;
	return d;
}

/* A timestamp: around 2000-01-01, or at the edges of the years 1..9999. */
static int64_t
prog_time(Prog *p)
{
	uint8_t		lo = prog_byte(p);
	uint8_t		hi = prog_byte(p);

	if (hi == 0xff)
		return CRDT_LWW_MAX_AT - lo;
	if (hi == 0xfe)
		return CRDT_LWW_MIN_AT + lo;
	return ((int64_t) hi - 0x80) * 1000000 + lo;
}

static CrdtStatus
run_one(const CrdtType *t, Prog *p, CrdtSlice v, CrdtBuf *out, CrdtError *err)
{
	CrdtCounterKind ck;
	CrdtSetKind sk;
	CrdtDottedKind dk;
	uint8_t		op = prog_byte(p);

	if (fuzz_is_counter(t, &ck))
	{
		const char *id = pick(p, replicas, COUNT(replicas));

		return crdt_counter_add(ck, v, (const uint8_t *) id, strlen(id),
								prog_delta(p, ck == CRDT_PNCOUNTER), out, err);
	}
	if (fuzz_is_set(t, &sk))
	{
		const char *e = pick(p, elements, COUNT(elements));

		if (sk == CRDT_TWOPSET && op % 4 == 3)
			return crdt_set_remove(sk, v, (const uint8_t *) e, strlen(e), out, err);
		return crdt_set_add(sk, v, (const uint8_t *) e, strlen(e), out, err);
	}
	if (fuzz_is_dotted(t, &dk))
	{
		if (dk == CRDT_ORSET)
		{
			const char *e = pick(p, elements, COUNT(elements));
			const char *r = pick(p, replicas, COUNT(replicas));

			if (op % 4 == 3)
				return crdt_orset_remove(v, (const uint8_t *) e, strlen(e), out, err);
			return crdt_orset_add(v, (const uint8_t *) e, strlen(e), (const uint8_t *) r,
								  strlen(r), out, err);
		}
		else
		{
			const char *j = pick(p, jsons, COUNT(jsons));
			const char *r = pick(p, replicas, COUNT(replicas));

			return crdt_mvreg_set(v, (const uint8_t *) j, strlen(j), (const uint8_t *) r,
								  strlen(r), out, err);
		}
	}
	{
		int64_t		at = prog_time(p);
		const char *j = pick(p, jsons, COUNT(jsons));
		const char *r = pick(p, replicas, COUNT(replicas));

		return crdt_lww_set(v, at, (const uint8_t *) r, strlen(r), (const uint8_t *) j,
							strlen(j), out, err);
	}
}

bool
fuzz_run_ops(const CrdtType *t, CrdtSlice value, const uint8_t *prog, size_t len,
			 CrdtBuf *out)
{
	Prog		p = {prog, prog + len};
	CrdtBuf		next;
	CrdtSlice	v = value;
	int			steps = 0;

	fuzz_buf_open(&next);
	/* at most 64 operations: the aim is variety, not size */
	while (p.pos < p.end && steps++ < 64)
	{
		CrdtError	err;
		CrdtStatus	st;

		fuzz_buf_reset(&next);
		st = run_one(t, &p, v, &next, &err);
		/* counters saturate at INT64_MAX: the operation is refused, the value stays */
		if (st == CRDT_ERR_OVERFLOW)
			continue;
		FUZZ_CHECK(st == CRDT_OK, "%s operation %d on a valid value: %s: %s", t->name, steps,
				   fuzz_status_name(st), err.message);
		v = fuzz_exact_buf(&next);
	}
	crdt_buf_free(&next);
	fuzz_buf_reset(out);
	crdt_buf_put(out, v.data, v.len);
	return true;
}

bool
fuzz_chunk_value(const CrdtType *t, const FuzzChunk *chunk, CrdtSlice prev, CrdtBuf *out)
{
	CrdtSlice	in = fuzz_exact(chunk->data, chunk->len);
	CrdtError	err;
	CrdtStatus	st;

	fuzz_buf_reset(out);
	switch (FUZZ_CHUNK_MODE(chunk->header))
	{
		case FUZZ_MODE_BINARY:
			if (t->validate(in, &err) != CRDT_OK)
				return false;
			crdt_buf_put(out, in.data, in.len);
			break;
		case FUZZ_MODE_TEXT:
			if (t->parse((const char *) in.data, in.len, out, &err) != CRDT_OK)
				return false;
			break;
		default:
			if (prev.data == NULL || (chunk->header & FUZZ_CHUNK_FORK) == 0)
				prev = fuzz_empty(t);
			if (!fuzz_run_ops(t, prev, in.data, in.len, out))
				return false;
			break;
	}
	st = t->validate(fuzz_exact_buf(out), &err);
	FUZZ_CHECK(st == CRDT_OK, "%s value made from a chunk (mode %d) does not validate: %s: %s",
			   t->name, FUZZ_CHUNK_MODE(chunk->header), fuzz_status_name(st), err.message);
	return true;
}

static bool
ascii_only(const uint8_t *s, size_t len)
{
	for (size_t k = 0; k < len; k++)
		if (s[k] >= 0x80)
			return false;
	return true;
}

bool
fuzz_escape_round_trips(const CrdtType *t, CrdtSlice value)
{
	CrdtError	err;

	if (t == &crdt_type_lwwreg)
	{
		CrdtLww		lww;

		FUZZ_CHECK(crdt_lww_read(value, &lww, &err) == CRDT_OK, "lww read of a valid value");
		return lww.empty || ascii_only(lww.value, lww.value_len);
	}
	if (t == &crdt_type_mvreg)
	{
		CrdtDottedKeys it;
		const uint8_t *key;
		size_t		len;
		int			rc;
		bool		ascii = true;

		CrdtSlice	markers;

		/* the values are in the body of a value with retirement markers */
		FUZZ_CHECK(crdt_retire_split(&crdt_shape_mvreg, value, &markers, &value, &err) == CRDT_OK,
				   "mvreg markers of a valid value");
		FUZZ_CHECK(crdt_dotted_keys_init(&it, CRDT_MVREG, value, &err) == CRDT_OK,
				   "mvreg keys of a valid value");
		while ((rc = crdt_dotted_keys_next(&it, &key, &len, &err)) > 0)
			ascii &= ascii_only(key, len);
		FUZZ_CHECK(rc == 0, "mvreg keys of a valid value: %s", err.message);
		return ascii;
	}
	return true;
}

void
fuzz_chunk_value_or_ops(const CrdtType *t, const FuzzChunk *chunk, CrdtSlice prev,
						CrdtBuf *out)
{
	FuzzChunk	as_ops = *chunk;

	if (fuzz_chunk_value(t, chunk, prev, out))
		return;
	as_ops.header = (uint8_t) (FUZZ_MODE_OPS | (chunk->header & FUZZ_CHUNK_FORK));
	if (!fuzz_chunk_value(t, &as_ops, prev, out))
		fuzz_fail(__FILE__, __LINE__, "%s: an operation program gave no value", t->name);
}
