/*
 * main.c — runs the core unit and property tests, and holds the harness
 * they share (checks, random numbers, buffers, models, hostile input).
 *
 *   CRDT_TEST_SEED   seed of every random case (default 20261126)
 *   CRDT_TEST_CASES  random cases per property (default 100000)
 *   CRDT_TEST_ONLY   run only the groups whose name contains this text
 *   CRDT_TEST_JOBS   worker processes (default 2; 1 runs in this process)
 */
/* fork, pipe and wait, to run groups on several cores; the rest is C99 */
#define _POSIX_C_SOURCE 200809L

#include "unit.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/wait.h>
#include <unistd.h>

#define DEFAULT_SEED UINT64_C(20261126)
#define DEFAULT_CASES 100000L

/* Past this many failure reports, only count: a broken law fails 100000 times. */
#define MAX_REPORTED_FAILURES 60

UnitRun		unit_run;

static bool notes_shown;		/* whether the last failure was printed */

long
unit_cases_div(long divisor)
{
	long		n = unit_run.cases / divisor;

	return n < 1 ? 1 : n;
}

/* ------------------------------------------------------------ checks */

static bool
record(bool ok)
{
	unit_run.checks++;
	if (ok)
	{
		notes_shown = false;
		return false;
	}
	unit_run.failures++;
	notes_shown = unit_run.failures <= MAX_REPORTED_FAILURES;
	if (unit_run.failures == MAX_REPORTED_FAILURES + 1)
		fprintf(stderr, "  (further failures are counted, not shown)\n");
	return notes_shown;
}

/* Ends a report line: the message, then a newline. */
static void
print_message(const char *fmt, va_list ap)
{
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

bool
unit_check(bool ok, const char *file, int line, const char *fmt,...)
{
	if (record(ok))
	{
		va_list		ap;

		fprintf(stderr, "FAILED %s:%d: ", file, line);
		va_start(ap, fmt);
		print_message(fmt, ap);
		va_end(ap);
	}
	return ok;
}

void
unit_note(const char *fmt,...)
{
	va_list		ap;

	if (!notes_shown)
		return;
	fputs("    ", stderr);
	va_start(ap, fmt);
	print_message(fmt, ap);
	va_end(ap);
}

bool
unit_pass(void)
{
	return !record(true);
}

/* The helpers below format a message only for a failure: checks are hot. */
bool
unit_check_int(int64_t got, int64_t want, const char *expr, const char *file, int line)
{
	if (got == want)
		return unit_pass();
	return unit_check(false, file, line, "%s is %lld, expected %lld",
					  expr, (long long) got, (long long) want);
}

bool
unit_check_uint(uint64_t got, uint64_t want, const char *expr, const char *file, int line)
{
	if (got == want)
		return unit_pass();
	return unit_check(false, file, line, "%s is %llu (0x%llX), expected %llu (0x%llX)",
					  expr, (unsigned long long) got, (unsigned long long) got,
					  (unsigned long long) want, (unsigned long long) want);
}

bool
unit_check_str(const char *got, size_t got_len, const char *want, const char *expr,
			   const char *file, int line)
{
	if (got_len == strlen(want) && memcmp(got, want, got_len) == 0)
		return unit_pass();
	return unit_check(false, file, line, "%s is %s, expected %s", expr,
					  show_text(got, got_len), show_text(want, strlen(want)));
}

bool
unit_check_bytes(CrdtSlice got, CrdtSlice want, const char *expr, const char *file, int line)
{
	if (slice_equal(got, want))
		return unit_pass();
	return unit_check(false, file, line, "%s is [%s], expected [%s]",
					  expr, show_hex(got), show_hex(want));
}

const char *
unit_status_name(CrdtStatus status)
{
	switch (status)
	{
		case CRDT_OK:
			return "CRDT_OK";
		case CRDT_ERR_SYNTAX:
			return "CRDT_ERR_SYNTAX";
		case CRDT_ERR_BINARY:
			return "CRDT_ERR_BINARY";
		case CRDT_ERR_OVERFLOW:
			return "CRDT_ERR_OVERFLOW";
		case CRDT_ERR_TOO_LARGE:
			return "CRDT_ERR_TOO_LARGE";
		case CRDT_ERR_ARGUMENT:
			return "CRDT_ERR_ARGUMENT";
		case CRDT_ERR_NOMEM:
			return "CRDT_ERR_NOMEM";
		case CRDT_ERR_RETIRED:
			return "CRDT_ERR_RETIRED";
		case CRDT_ERR_RIGHTS:
			return "CRDT_ERR_RIGHTS";
	}
	return "(unknown status)";
}

/* The error part of a failure message, when the call did fail. */
static const char *
error_detail(CrdtStatus got, const CrdtError *err, char *out, size_t outsize)
{
	if (got == CRDT_OK || err == NULL)
		return "";
	snprintf(out, outsize, " at %ld: %s", err->position, err->message);
	return out;
}

bool
unit_check_status(CrdtStatus got, CrdtStatus want, const CrdtError *err,
				  const char *expr, const char *file, int line)
{
	char		detail[300];

	if (got == want)
		return unit_pass();
	return unit_check(false, file, line, "%s returned %s%s, expected %s", expr,
					  unit_status_name(got), error_detail(got, err, detail, sizeof(detail)),
					  unit_status_name(want));
}

bool
unit_check_error(CrdtStatus got, const CrdtError *err, CrdtStatus want, long want_position,
				 const char *expr, const char *file, int line)
{
	char		detail[300];

	if (got == want &&
		(want_position < 0 || (got != CRDT_OK && err->position == want_position)))
		return unit_pass();
	return unit_check(false, file, line, "%s returned %s%s, expected %s at %ld", expr,
					  unit_status_name(got), error_detail(got, err, detail, sizeof(detail)),
					  unit_status_name(want), want_position);
}

/* ------------------------------------------------------------ random */

/* splitmix64: tiny, fast, and every seed (even 0) gives a good stream */
uint64_t
rng_next(Rng *rng)
{
	uint64_t	z = (rng->state += UINT64_C(0x9E3779B97F4A7C15));

	z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
	return z ^ (z >> 31);
}

uint64_t
rng_below(Rng *rng, uint64_t n)
{
	uint64_t	limit = (0 - n) % n;	/* values below it would bias the result */
	uint64_t	x;

	do
		x = rng_next(rng);
	while (x < limit);
	return x % n;
}

bool
rng_percent(Rng *rng, unsigned percent)
{
	return rng_below(rng, 100) < percent;
}

Rng
rng_for_case(uint64_t stream, uint64_t index)
{
	Rng			mix = {unit_run.seed ^ (stream * UINT64_C(0xD1B54A32D192ED03))};
	Rng			r;

	mix.state += index * UINT64_C(0x8CB92BA72F3D8DD7);
	r.state = rng_next(&mix);
	return r;
}

/* FNV-1a: the harness does not lean on the hash under test */
uint64_t
rng_stream(const char *name)
{
	uint64_t	h = UINT64_C(0xcbf29ce484222325);

	for (const char *c = name; *c != '\0'; c++)
		h = (h ^ (uint8_t) *c) * UINT64_C(0x100000001b3);
	return h;
}

void
rng_shuffle(Rng *rng, void *items, size_t count, size_t size)
{
	uint8_t    *base = items;
	uint8_t		tmp[256];

	if (size > sizeof(tmp))
	{
		fprintf(stderr, "rng_shuffle: items of %zu bytes are too large\n", size);
		abort();
	}
	for (size_t i = count; i > 1; i--)
	{
		size_t		j = (size_t) rng_below(rng, i);

		memcpy(tmp, base + (i - 1) * size, size);
		memcpy(base + (i - 1) * size, base + j * size, size);
		memcpy(base + j * size, tmp, size);
	}
}

/* ------------------------------------------------------------ buffers */

void
buf_open(CrdtBuf *buf)
{
	crdt_buf_init(buf, &crdt_malloc_allocator, 0);
}

CrdtSlice
buf_slice(const CrdtBuf *buf)
{
	return slice_of(buf->data, buf->len);
}

void
buf_reset(CrdtBuf *buf)
{
	buf->len = 0;
}

CrdtSlice
slice_of(const void *data, size_t len)
{
	CrdtSlice	s;

	s.data = data;
	s.len = len;
	return s;
}

bool
slice_equal(CrdtSlice a, CrdtSlice b)
{
	return a.len == b.len && (a.len == 0 || memcmp(a.data, b.data, a.len) == 0);
}

ExactCopy
exact_copy(const void *data, size_t len)
{
	ExactCopy	c;

	c.block = malloc(len == 0 ? 1 : len);
	if (c.block == NULL)
	{
		fprintf(stderr, "out of memory\n");
		abort();
	}
	if (len > 0)
		memcpy(c.block, data, len);
	c.slice = slice_of(len == 0 ? c.block + 1 : c.block, len);
	return c;
}

void
exact_free(ExactCopy *copy)
{
	free(copy->block);
	copy->block = NULL;
}

/* ------------------------------------------------------------ values */

int
kind_halves(CrdtCounterKind kind)
{
	return kind == CRDT_PNCOUNTER ? 2 : 1;
}

CrdtSlice
value_from_json(CrdtCounterKind kind, const char *json, CrdtBuf *out)
{
	CrdtError	err;
	CrdtStatus	st;

	buf_reset(out);
	st = crdt_counter_parse(kind, json, strlen(json), out, &err);
	CHECK_MSG(st == CRDT_OK, "parsing %s %s failed: %s at %ld: %s",
			  crdt_counter_kind_name(kind), json, unit_status_name(st),
			  st == CRDT_OK ? -1L : err.position, st == CRDT_OK ? "" : err.message);
	return buf_slice(out);
}

static int
hex_digit(char c)
{
	static const char digits[] = "0123456789abcdef0123456789ABCDEF";
	const char *at = c == '\0' ? NULL : strchr(digits, c);

	return at == NULL ? -1 : (int) (at - digits) % 16;
}

CrdtSlice
bytes_from_spec(CrdtBuf *out, const char *spec)
{
	const char *s = spec;

	buf_reset(out);
	while (*s != '\0')
	{
		const char *piece;
		size_t		piece_len;
		uint8_t		byte;
		long		repeat = 1;

		if (*s == ' ')
		{
			s++;
			continue;
		}
		if (*s == '\'')
		{
			piece = ++s;
			while (*s != '\'' && *s != '\0')
				s++;
			piece_len = (size_t) (s - piece);
			if (*s == '\'')
				s++;
		}
		else if (hex_digit(s[0]) >= 0 && hex_digit(s[1]) >= 0)
		{
			byte = (uint8_t) (hex_digit(s[0]) * 16 + hex_digit(s[1]));
			piece = (const char *) &byte;
			piece_len = 1;
			s += 2;
		}
		else
		{
			fprintf(stderr, "bad byte spec at %s\n", s);
			abort();
		}
		if (*s == '*')
			repeat = strtol(s + 1, (char **) &s, 10);
		while (repeat-- > 0)
			crdt_buf_put(out, piece, piece_len);
	}
	return buf_slice(out);
}

#define SHOW_SLOTS 8
#define SHOW_SIZE 2048

static char *
show_slot(void)
{
	static char ring[SHOW_SLOTS][SHOW_SIZE];
	static int	next;

	next = (next + 1) % SHOW_SLOTS;
	return ring[next];
}

const char *
show_hex(CrdtSlice bytes)
{
	char	   *out = show_slot();
	size_t		o = 0;

	out[0] = '\0';
	for (size_t i = 0; i < bytes.len; i++)
	{
		if (o + 8 >= SHOW_SIZE)
		{
			strcpy(out + o, " ...");
			break;
		}
		o += (size_t) snprintf(out + o, SHOW_SIZE - o, i == 0 ? "%02X" : " %02X",
							   bytes.data[i]);
	}
	return out;
}

const char *
show_text(const char *text, size_t len)
{
	char	   *out = show_slot();
	size_t		o = 0;

	out[o++] = '\'';
	for (size_t i = 0; i < len; i++)
	{
		unsigned char c = (unsigned char) text[i];

		if (o + 10 >= SHOW_SIZE)
		{
			strcpy(out + o, "...");
			o += 3;
			break;
		}
		if (c < 0x20 || c == 0x7f)
			o += (size_t) snprintf(out + o, SHOW_SIZE - o, "\\x%02X", c);
		else
			out[o++] = (char) c;
	}
	out[o++] = '\'';
	out[o] = '\0';
	return out;
}

typedef CrdtStatus (*PrintFn) (const void *arg, CrdtSlice value, CrdtBuf *out,
							   CrdtError *err);

/* A value as its text, or as hex plus the reason it could not be printed. */
static const char *
show_with(PrintFn print, const void *arg, CrdtSlice value)
{
	CrdtBuf		text;
	CrdtError	err;
	CrdtStatus	st;
	const char *shown;

	buf_open(&text);
	st = print(arg, value, &text, &err);
	if (st == CRDT_OK)
		shown = show_text((const char *) text.data, text.len);
	else
	{
		char	   *out = show_slot();

		snprintf(out, SHOW_SIZE, "<%s at %ld: %s> [%s]", unit_status_name(st),
				 err.position, err.message, show_hex(value));
		shown = out;
	}
	crdt_buf_free(&text);
	return shown;
}

static CrdtStatus
print_kind(const void *arg, CrdtSlice value, CrdtBuf *out, CrdtError *err)
{
	return crdt_counter_print(*(const CrdtCounterKind *) arg, value, out, err);
}

static CrdtStatus
print_type(const void *arg, CrdtSlice value, CrdtBuf *out, CrdtError *err)
{
	return ((const CrdtType *) arg)->print(value, out, err);
}

const char *
show_value(CrdtCounterKind kind, CrdtSlice value)
{
	return show_with(print_kind, &kind, value);
}

const char *
show_typed(const CrdtType *type, CrdtSlice value)
{
	return show_with(print_type, type, value);
}

/* ------------------------------------------------------------ models */

static void *
checked_malloc(size_t size)
{
	void	   *p = malloc(size);

	if (p == NULL)
	{
		fprintf(stderr, "out of memory\n");
		abort();
	}
	return p;
}

void
model_init(Model *m, CrdtCounterKind kind, size_t cap)
{
	m->kind = kind;
	m->cap = cap;
	for (int h = 0; h < 2; h++)
	{
		m->half[h] = checked_malloc(cap * sizeof(ModelEntry));
		m->n[h] = 0;
	}
}

void
model_free(Model *m)
{
	for (int h = 0; h < 2; h++)
	{
		free(m->half[h]);
		m->half[h] = NULL;
	}
}

void
model_clear(Model *m)
{
	m->n[0] = m->n[1] = 0;
}

void
model_copy(Model *dst, const Model *src)
{
	model_clear(dst);
	model_merge_into(dst, src);
}

/* Byte order written out here rather than taken from crdt_bytes_cmp. */
static int
id_order(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
	for (size_t i = 0; i < alen && i < blen; i++)
		if (a[i] != b[i])
			return a[i] < b[i] ? -1 : 1;
	return alen == blen ? 0 : (alen < blen ? -1 : 1);
}

/* Index of id in the half, or where it would go (then *found is false). */
static size_t
model_find(const Model *m, int half, const uint8_t *id, size_t len, bool *found)
{
	size_t		lo = 0;
	size_t		hi = m->n[half];

	while (lo < hi)
	{
		size_t		mid = lo + (hi - lo) / 2;
		const ModelEntry *e = &m->half[half][mid];
		int			c = id_order(e->id, e->len, id, len);

		if (c == 0)
		{
			*found = true;
			return mid;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*found = false;
	return lo;
}

void
model_max(Model *m, int half, const uint8_t *id, size_t len, uint64_t count)
{
	bool		found;
	size_t		at;
	ModelEntry *e;

	if (count == 0)
		return;
	at = model_find(m, half, id, len, &found);
	if (found)
	{
		if (count > m->half[half][at].count)
			m->half[half][at].count = count;
		return;
	}
	if (m->n[half] >= m->cap || len == 0 || len > CRDT_REPLICA_ID_MAX)
	{
		fprintf(stderr, "model_max: model full or bad id length %zu\n", len);
		abort();
	}
	e = &m->half[half][at];
	memmove(e + 1, e, (m->n[half] - at) * sizeof(ModelEntry));
	memcpy(e->id, id, len);
	e->len = len;
	e->count = count;
	m->n[half]++;
}

uint64_t
model_get(const Model *m, int half, const uint8_t *id, size_t len)
{
	bool		found;
	size_t		at = model_find(m, half, id, len, &found);

	return found ? m->half[half][at].count : 0;
}

void
model_merge_into(Model *dst, const Model *src)
{
	for (int h = 0; h < 2; h++)
		for (size_t k = 0; k < src->n[h]; k++)
			model_max(dst, h, src->half[h][k].id, src->half[h][k].len,
					  src->half[h][k].count);
}

void
model_delta(Model *out, const Model *newer, const Model *since)
{
	model_clear(out);
	for (int h = 0; h < 2; h++)
		for (size_t k = 0; k < newer->n[h]; k++)
		{
			const ModelEntry *e = &newer->half[h][k];

			if (e->count > model_get(since, h, e->id, e->len))
				model_max(out, h, e->id, e->len, e->count);
		}
}

/* Sum of a half as a 128-bit number (hi, lo). */
static void
model_sum(const Model *m, int half, uint64_t *hi, uint64_t *lo)
{
	*hi = *lo = 0;
	for (size_t k = 0; k < m->n[half]; k++)
	{
		*lo += m->half[half][k].count;
		if (*lo < m->half[half][k].count)
			(*hi)++;
	}
}

bool
model_value(const Model *m, int64_t *result)
{
	uint64_t	phi,
				plo,
				nhi,
				nlo;
	bool		negative;
	uint64_t	hi,
				lo;

	model_sum(m, 0, &phi, &plo);
	model_sum(m, 1, &nhi, &nlo);
	negative = nhi > phi || (nhi == phi && nlo > plo);
	if (negative)
	{
		hi = nhi - phi - (nlo < plo);
		lo = nlo - plo;
	}
	else
	{
		hi = phi - nhi - (plo < nlo);
		lo = plo - nlo;
	}
	if (hi != 0)
		return false;
	if (!negative)
	{
		if (lo > (uint64_t) INT64_MAX)
			return false;
		*result = (int64_t) lo;
		return true;
	}
	if (lo > (uint64_t) INT64_MAX + 1)
		return false;
	*result = lo == (uint64_t) INT64_MAX + 1 ? INT64_MIN : -(int64_t) lo;
	return true;
}

/* LEB128 written independently of crdt_varint_encode. */
static void
model_put_varint(CrdtBuf *out, uint64_t v)
{
	for (;;)
	{
		uint8_t		group = (uint8_t) (v & 0x7f);

		v >>= 7;
		crdt_buf_put_byte(out, v != 0 ? (uint8_t) (group | 0x80) : group);
		if (v == 0)
			return;
	}
}

void
model_encode(const Model *m, CrdtBuf *out)
{
	crdt_buf_put_byte(out, CRDT_FORMAT_V1);
	for (int h = 0; h < kind_halves(m->kind); h++)
	{
		const ModelEntry *prev = NULL;

		for (size_t k = 0; k < m->n[h]; k++)
		{
			const ModelEntry *e = &m->half[h][k];
			size_t		shared = 0;

			while (prev != NULL && shared < prev->len && shared < e->len &&
				   prev->id[shared] == e->id[shared])
				shared++;
			model_put_varint(out, e->len - shared);
			model_put_varint(out, shared);
			crdt_buf_put(out, e->id + shared, e->len - shared);
			model_put_varint(out, e->count);
			prev = e;
		}
		crdt_buf_put_byte(out, 0);
	}
}

static void
model_print_half(const Model *m, int half, CrdtBuf *out)
{
	crdt_buf_put_byte(out, '{');
	for (size_t k = 0; k < m->n[half]; k++)
	{
		const ModelEntry *e = &m->half[half][k];
		char		digits[24];

		if (k > 0)
			crdt_buf_put_byte(out, ',');
		crdt_buf_put_byte(out, '"');
		for (size_t i = 0; i < e->len; i++)
		{
			if (e->id[i] == '"' || e->id[i] == '\\')
				crdt_buf_put_byte(out, '\\');
			crdt_buf_put_byte(out, e->id[i]);
		}
		snprintf(digits, sizeof(digits), "\":%llu", (unsigned long long) e->count);
		crdt_buf_put_str(out, digits);
	}
	crdt_buf_put_byte(out, '}');
}

void
model_print(const Model *m, CrdtBuf *out)
{
	if (m->kind != CRDT_PNCOUNTER)
	{
		model_print_half(m, 0, out);
		return;
	}
	crdt_buf_put_byte(out, '{');
	if (m->n[0] > 0)
	{
		crdt_buf_put_str(out, "\"p\":");
		model_print_half(m, 0, out);
	}
	if (m->n[1] > 0)
	{
		crdt_buf_put_str(out, m->n[0] > 0 ? ",\"n\":" : "\"n\":");
		model_print_half(m, 1, out);
	}
	crdt_buf_put_byte(out, '}');
}

bool
model_decode(Model *m, CrdtSlice value, CrdtError *err)
{
	CrdtCounterReader r;
	CrdtMapEntry e;
	int			half;
	int			rc;

	model_clear(m);
	if (crdt_counter_reader_init(&r, m->kind, value, err) != CRDT_OK)
		return false;
	while ((rc = crdt_counter_reader_next(&r, &e, &half, err)) > 0)
	{
		ModelEntry *slot;

		if (m->n[half] >= m->cap)
		{
			crdt_fail(err, CRDT_ERR_TOO_LARGE, -1, "model holds at most %zu entries", m->cap);
			return false;
		}
		slot = &m->half[half][m->n[half]++];
		memcpy(slot->id, e.id, e.len);
		slot->len = e.len;
		slot->count = e.count;
	}
	return rc == 0;
}

void
model_random(Model *m, Rng *rng, size_t max_entries)
{
	model_clear(m);
	for (int h = 0; h < kind_halves(m->kind); h++)
	{
		size_t		n = (size_t) rng_below(rng, max_entries + 1);

		for (size_t k = 0; k < n; k++)
		{
			uint8_t		id[CRDT_REPLICA_ID_MAX];
			size_t		len;

			random_replica_id(rng, id, &len);
			model_max(m, h, id, len, random_count(rng));
		}
	}
}

void
counter_for_cases(const char *group, long cases, CounterCaseFn run, void *ctx)
{
	uint64_t	stream = rng_stream(group);
	CrdtBuf		value;

	buf_open(&value);
	for (int kind = CRDT_VCLOCK; kind <= CRDT_PNCOUNTER; kind++)
	{
		Model		m;

		model_init(&m, (CrdtCounterKind) kind, 64);
		for (long index = 0; index < cases; index++)
		{
			Rng			rng = rng_for_case(stream + (uint64_t) kind, (uint64_t) index);

			model_random(&m, &rng, 12);
			buf_reset(&value);
			model_encode(&m, &value);
			run(ctx, &m, buf_slice(&value), &rng, index);
		}
		model_free(&m);
	}
	crdt_buf_free(&value);
}

/* An encoder of its own (not the core's): continuation bytes from the last. */
size_t
utf8_put(uint8_t *out, uint32_t cp)
{
	static const uint8_t lead[5] = {0, 0x00, 0xc0, 0xe0, 0xf0};
	size_t		n = cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;

	for (size_t k = n - 1; k > 0; k--)
	{
		out[k] = (uint8_t) (0x80 | (cp & 0x3f));
		cp >>= 6;
	}
	out[0] = (uint8_t) (lead[n] | cp);
	return n;
}

/*
 * A small pool, so random values share ids often; it has ids that are
 * prefixes of others (front coding), quotes and backslashes (escaping) and
 * multi-byte characters that share lead bytes.
 */
static const char *const id_pool[] = {
	"a", "b", "ab", "abc", "abd", "A", "Z", "~",
	"agent-041", "agent-042", "agent-0420", "agent-1", "node/7",
	"x\"q", "back\\slash", "\"", "\\",
	"\xC3\xA9", "\xC3\xA9\x61", "\xC3\xAA", "\xC2\xA0",
	"\xE6\x97\xA5\xE6\x9C\xAC", "\xEF\xBF\xBD", "\xF0\x9F\x98\x80", "\xF0\x9F\x98\x81",
};

#define POOL_SIZE (sizeof(id_pool) / sizeof(id_pool[0]))

/* Ids of exactly 64 bytes; two share 63 of them. */
static void
long_replica_id(unsigned which, uint8_t *id, size_t *len)
{
	static const char *const unit[] = {"L", "L", "\xF0\x9F\x98\x80", "\xC3\xA9"};
	size_t		ulen = strlen(unit[which]);

	*len = 0;
	while (*len + ulen <= CRDT_REPLICA_ID_MAX)
	{
		memcpy(id + *len, unit[which], ulen);
		*len += ulen;
	}
	if (which < 2)
		id[CRDT_REPLICA_ID_MAX - 1] = which == 0 ? 'a' : 'b';
}

static uint32_t
random_code_point(Rng *rng)
{
	uint64_t	r = rng_below(rng, 100);

	if (r < 55)
		return 0x20 + (uint32_t) rng_below(rng, 0x7f - 0x20);
	if (r < 70)
		return 0xa0 + (uint32_t) rng_below(rng, 0x800 - 0xa0);
	if (r < 85)
	{
		/* U+0800..U+FFFF without the surrogates */
		uint32_t	cp = 0x800 + (uint32_t) rng_below(rng, 0x10000 - 0x800 - 0x800);

		return cp >= 0xd800 ? cp + 0x800 : cp;
	}
	return 0x10000 + (uint32_t) rng_below(rng, 0x110000 - 0x10000);
}

void
random_replica_id(Rng *rng, uint8_t *id, size_t *len)
{
	uint64_t	r = rng_below(rng, 100);

	if (r < 88)
	{
		const char *s = id_pool[rng_below(rng, POOL_SIZE)];

		*len = strlen(s);
		memcpy(id, s, *len);
	}
	else if (r < 92)
		long_replica_id((unsigned) rng_below(rng, 4), id, len);
	else
	{
		size_t		target = 1 + (size_t) rng_below(rng, rng_percent(rng, 50) ? 8 : 64);

		*len = 0;
		while (*len < target)
		{
			uint8_t		enc[4];
			size_t		n = utf8_put(enc, random_code_point(rng));

			if (*len + n > CRDT_REPLICA_ID_MAX)
				break;
			memcpy(id + *len, enc, n);
			*len += n;
		}
	}
}

uint64_t
random_count(Rng *rng)
{
	switch (rng_below(rng, 10))
	{
		case 0:
		case 1:
		case 2:
		case 3:
		case 4:
		case 5:
			return 1 + rng_below(rng, 5);
		case 6:
		case 7:
			return 1 + rng_below(rng, 1000);
		case 8:
			return 1 + rng_below(rng, (uint64_t) INT64_MAX);
		default:
			return (uint64_t) INT64_MAX - rng_below(rng, 4);
	}
}

/* ------------------------------------------------------------ hostile input */

static void
hostile_call(HostileFn fn, void *ctx, const uint8_t *data, size_t len)
{
	ExactCopy	c = exact_copy(data, len);

	fn(ctx, c.slice);
	exact_free(&c);
}

/* One random corruption of work[0..*len), which has room for 16 more bytes. */
static void
corrupt_once(Rng *rng, uint8_t *work, size_t *len)
{
	static const uint8_t special[] = {0x00, 0x01, 0x02, 0x40, 0x41, 0x7f, 0x80, 0x81, 0xc3, 0xff};
	size_t		at = *len == 0 ? 0 : (size_t) rng_below(rng, *len);

	switch (rng_below(rng, 6))
	{
		case 0:					/* overwrite with a random byte */
			if (*len > 0)
				work[at] = (uint8_t) rng_next(rng);
			break;
		case 1:					/* overwrite with a byte that matters to varints/UTF-8 */
			if (*len > 0)
				work[at] = special[rng_below(rng, sizeof(special))];
			break;
		case 2:					/* insert a byte */
			memmove(work + at + 1, work + at, *len - at);
			work[at] = special[rng_below(rng, sizeof(special))];
			(*len)++;
			break;
		case 3:					/* delete a byte */
			if (*len > 0)
			{
				memmove(work + at, work + at + 1, *len - at - 1);
				(*len)--;
			}
			break;
		case 4:					/* pad a varint: insert continuation bytes */
			{
				size_t		n = 1 + (size_t) rng_below(rng, 10);

				memmove(work + at + n, work + at, *len - at);
				memset(work + at, 0x80, n);
				*len += n;
			}
			break;
		default:				/* swap two bytes */
			if (*len > 1)
			{
				size_t		other = (size_t) rng_below(rng, *len);
				uint8_t		t = work[at];

				work[at] = work[other];
				work[other] = t;
			}
			break;
	}
}

void
hostile_each(CrdtSlice value, Rng *rng, long garbage, HostileFn fn, void *ctx)
{
	uint8_t    *work = checked_malloc(value.len + 64);

	for (size_t len = 0; len < value.len; len++)
		hostile_call(fn, ctx, value.data, len);
	for (size_t bit = 0; bit < value.len * 8; bit++)
	{
		memcpy(work, value.data, value.len);
		work[bit / 8] ^= (uint8_t) (1u << (bit % 8));
		hostile_call(fn, ctx, work, value.len);
	}
	for (long g = 0; g < garbage; g++)
	{
		size_t		len = value.len;
		int			rounds = 1 + (int) rng_below(rng, 3);

		memcpy(work, value.data, len);
		for (int k = 0; k < rounds; k++)
			corrupt_once(rng, work, &len);
		hostile_call(fn, ctx, work, len);
	}
	free(work);
}

/* ------------------------------------------------------------ main */

static uint64_t
env_number(const char *name, uint64_t fallback, uint64_t min)
{
	const char *s = getenv(name);
	char	   *end;
	unsigned long long v;

	if (s == NULL || *s == '\0')
		return fallback;
	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno != 0 || *end != '\0' || *s == '-' || v < min)
	{
		fprintf(stderr, "unit: %s=%s is not a number >= %llu\n", name, s,
				(unsigned long long) min);
		exit(2);
	}
	return (uint64_t) v;
}

/*
 * The run is a list of groups.  With CRDT_TEST_JOBS > 1 (default 2) the
 * groups are shared out to that many forked workers: each takes the next
 * group number from a pipe, runs it and writes back one result record.
 * Cases are derived from the seed and the case index alone, so a group
 * gives the same result in whichever process runs it.  The longest groups
 * (the laws) are queued first so that the workers finish together.
 */
typedef struct UnitGroup
{
	char		name[48];
	void		(*run) (void);
	void		(*run_indexed) (int);
	int			arg;
} UnitGroup;

/* What a worker reports for one group; small enough to be written atomically. */
typedef struct GroupResult
{
	int32_t		group;
	int32_t		done;
	int64_t		checks;
	int64_t		failures;
	int64_t		ms;
} GroupResult;

#define MAX_GROUPS 64

static UnitGroup groups[MAX_GROUPS];
static int	ngroups;

static void
add_group(const char *name, void (*run) (void), void (*run_indexed) (int), int arg)
{
	UnitGroup  *g = &groups[ngroups++];

	snprintf(g->name, sizeof(g->name), "%s", name);
	g->run = run;
	g->run_indexed = run_indexed;
	g->arg = arg;
}

static void
list_groups(void)
{
	static const struct
	{
		const char *name;
		void		(*run) (void);
	}			plain[] = {
		{"sequence histories", test_sequence_histories},
		{"sequence rlist histories", test_sequence_rlist_histories},
		{"bcounter histories", test_bcounter_histories},
		{"model orset (1/2 cases)", test_model_orset},
		{"model mvreg (1/2 cases)", test_model_mvreg},
		{"sets hostile", test_sets_hostile},
		{"sets dotlog", test_sets_dotlog},
		{"sets dotlog conflicts", test_sets_dotlog_conflicting_dots},
		{"sets dotlog compaction", test_sets_dotlog_compaction},
		{"sets runs", test_sets_runs},
		{"sets runs growth", test_sets_runs_growth},
		{"sets keyset", test_sets_keyset},
		{"codec hostile", test_codec_hostile},
		{"text roundtrip", test_text_roundtrip},
		{"codec map", test_codec_map},
		{"table growth", test_table_growth},
		{"ops model", test_ops_model},
		{"table hostile", test_table_hostile},
		{"table id after last", test_table_id_after_last},
		{"table pncounter rows", test_table_pncounter_rows},
		{"table fold", test_table_fold},
		{"table log", test_table_log},
		{"table log huge", test_table_log_huge},
		{"table log sorts", test_table_log_sorts},
		{"table log orders", test_table_log_orders},
		{"codec varint", test_codec_varint},
		{"codec replica_id", test_codec_replica_id},
		{"codec bytes", test_codec_bytes},
		{"codec xxh64", test_codec_xxh64},
		{"text format", test_text_format},
		{"text escapes", test_text_escapes},
		{"text ascii", test_text_ascii},
		{"text errors", test_text_errors},
		{"ops merge/delta", test_ops_merge_delta},
		{"ops value", test_ops_value},
		{"ops add/get", test_ops_add_get},
		{"ops vclock", test_ops_vclock},
		{"sets text", test_sets_text},
		{"sets dotted text", test_sets_dotted_text},
		{"sets lwwreg text", test_sets_lww_text},
		{"sets ops", test_sets_ops},
		{"sets assign (1/20 cases)", test_sets_assign},
		{"sequence interleaving (1/50 cases)", test_sequence_interleaving},
		{"sequence rlist", test_sequence_rlist},
		{"sequence text", test_sequence_text},
		{"sequence hostile (1/2000 cases)", test_sequence_hostile},
		{"sequence size", test_sequence_size},
		{"retire laws (1/100 cases)", test_retire_laws},
		{"retire hostile", test_retire_hostile},
		{"retire format", test_retire_format},
		{"compact laws (1/100 cases)", test_compact_laws},
		{"compact size", test_compact_size},
		{"bcounter fixed", test_bcounter_fixed},
		{"bcounter misuse", test_bcounter_misuse},
		{"bcounter hostile", test_bcounter_hostile},
		{"bcounter log", test_bcounter_log},
	};
	const char *only = getenv("CRDT_TEST_ONLY");

	/* CRDT_TEST_ONLY=text runs only the groups whose name contains "text" */
	for (int i = law_subject_count() - 1; i >= 0; i--)
	{
		char		name[48];

		snprintf(name, sizeof(name), "laws %s", law_subject_name(i));
		if (only == NULL || strstr(name, only) != NULL)
			add_group(name, NULL, test_laws, i);
	}
	for (size_t k = 0; k < sizeof(plain) / sizeof(plain[0]); k++)
		if (only == NULL || strstr(plain[k].name, only) != NULL)
			add_group(plain[k].name, plain[k].run, NULL, 0);
}

static GroupResult
run_group(int index)
{
	const UnitGroup *g = &groups[index];
	long		c0 = unit_run.checks;
	long		f0 = unit_run.failures;
	clock_t		t0 = clock();
	GroupResult r;

	if (g->run != NULL)
		g->run();
	else
		g->run_indexed(g->arg);
	r.group = index;
	r.done = 1;
	r.checks = unit_run.checks - c0;
	r.failures = unit_run.failures - f0;
	r.ms = (int64_t) ((clock() - t0) * 1000 / CLOCKS_PER_SEC);
	return r;
}

/* A worker: runs groups until the task pipe is empty, then exits (LSan checks it). */
static void
worker(int tasks, int results)
{
	unsigned char index;

	while (read(tasks, &index, 1) == 1)
	{
		GroupResult r = run_group(index);

		if (write(results, &r, sizeof(r)) != (ssize_t) sizeof(r))
			_exit(3);
	}
	exit(0);
}

/* Runs every group in jobs workers; false if a worker failed outside the checks. */
static bool
run_parallel(int jobs, GroupResult *results)
{
	int			tasks[2];
	int			back[2];
	bool		clean = true;
	GroupResult r;

	if (pipe(tasks) != 0 || pipe(back) != 0)
	{
		perror("unit: pipe");
		exit(2);
	}
	for (int g = 0; g < ngroups; g++)
	{
		unsigned char index = (unsigned char) g;

		if (write(tasks[1], &index, 1) != 1)
		{
			perror("unit: write");
			exit(2);
		}
	}
	close(tasks[1]);
	fflush(stdout);
	fflush(stderr);
	for (int j = 0; j < jobs; j++)
	{
		pid_t		pid = fork();

		if (pid < 0)
		{
			perror("unit: fork");
			exit(2);
		}
		if (pid == 0)
		{
			close(back[0]);
			worker(tasks[0], back[1]);
		}
	}
	close(tasks[0]);
	close(back[1]);
	while (read(back[0], &r, sizeof(r)) == (ssize_t) sizeof(r))
		if (r.group >= 0 && r.group < ngroups)
			results[r.group] = r;
	close(back[0]);
	for (int j = 0; j < jobs; j++)
	{
		int			status;

		if (wait(&status) < 0)
			clean = false;
		else if (WIFSIGNALED(status))
		{
			fprintf(stderr, "unit: a worker was killed by signal %d\n", WTERMSIG(status));
			clean = false;
		}
		else if (WEXITSTATUS(status) != 0)
		{
			/* e.g. LeakSanitizer, which reports when the worker exits */
			fprintf(stderr, "unit: a worker exited with code %d (see its report above)\n",
					WEXITSTATUS(status));
			clean = false;
		}
	}
	return clean;
}

int
main(void)
{
	GroupResult results[MAX_GROUPS];
	long		jobs;
	long		checks = 0;
	long		failures = 0;
	bool		clean = true;

	unit_run.seed = env_number("CRDT_TEST_SEED", DEFAULT_SEED, 0);
	unit_run.cases = (long) env_number("CRDT_TEST_CASES", (uint64_t) DEFAULT_CASES, 1);
	jobs = (long) env_number("CRDT_TEST_JOBS", 2, 1);
	list_groups();
	memset(results, 0, sizeof(results));

	if (jobs == 1)
		for (int g = 0; g < ngroups; g++)
			results[g] = run_group(g);
	else
		clean = run_parallel(jobs < ngroups ? (int) jobs : ngroups, results);

	for (int g = 0; g < ngroups; g++)
	{
		const GroupResult *r = &results[g];

		if (!r->done)
		{
			printf("FAIL %-24s did not finish (its worker died)\n", groups[g].name);
			failures++;
			continue;
		}
		if (r->failures == 0)
			printf("ok   %-24s %9lld checks %6lld ms\n", groups[g].name,
				   (long long) r->checks, (long long) r->ms);
		else
			printf("FAIL %-24s %9lld checks %6lld ms, %lld failures\n", groups[g].name,
				   (long long) r->checks, (long long) r->ms, (long long) r->failures);
		checks += (long) r->checks;
		failures += (long) r->failures;
	}
	if (!clean && failures == 0)
		failures = 1;

	printf("unit: %d groups, %ld checks, %ld failures (seed %llu, %ld cases per property)\n",
		   ngroups, checks, failures, (unsigned long long) unit_run.seed, unit_run.cases);
	/* before the leak check, which ends the process without flushing stdio */
	fflush(stdout);
	return failures == 0 ? 0 : 1;
}
