/*
 * lww.c — lwwreg, the last-writer-wins register.
 *
 * The order that decides the winner is total and the same on every node:
 * timestamp, then replica id bytes, then canonical value bytes.  So two
 * writes with the same timestamp still have one winner everywhere, and
 * merge is commutative, associative and idempotent.
 */
#include "jsonlex.h"

#include <stdio.h>
#include <string.h>

#define USECS_PER_SEC INT64_C(1000000)
#define USECS_PER_DAY (INT64_C(86400) * USECS_PER_SEC)
#define DAYS_1970_TO_2000 10957

static uint64_t
zigzag(int64_t v)
{
	return ((uint64_t) v << 1) ^ (uint64_t) (v >> 63);
}

static int64_t
unzigzag(uint64_t v)
{
	return (int64_t) (v >> 1) ^ -(int64_t) (v & 1);
}

CrdtStatus
crdt_lww_read(CrdtSlice value, CrdtLww *lww, CrdtError *err)
{
	const uint8_t *p = value.data + 1;
	const uint8_t *end = value.data + value.len;
	uint64_t	raw;
	uint64_t	len;
	const char *problem;
	CrdtStatus	st;

	memset(lww, 0, sizeof(*lww));
	if ((st = crdt_check_version(value, err)) != CRDT_OK)
		return st;
	if (value.len == 1)
	{
		lww->empty = true;
		return CRDT_OK;
	}
	if (crdt_varint_decode(&p, end, &raw) != CRDT_VARINT_OK)
		return crdt_fail(err, CRDT_ERR_BINARY, 1, "malformed timestamp");
	lww->at = unzigzag(raw);
	if (lww->at < CRDT_LWW_MIN_AT || lww->at > CRDT_LWW_MAX_AT)
		return crdt_fail(err, CRDT_ERR_BINARY, 1, "timestamp outside the years 1 to 9999");
	if (crdt_varint_decode(&p, end, &len) != CRDT_VARINT_OK || len > (uint64_t) (end - p))
		return crdt_fail(err, CRDT_ERR_BINARY, -1, "malformed replica id");
	lww->replica = p;
	lww->replica_len = (size_t) len;
	p += len;
	if ((problem = crdt_replica_id_problem(lww->replica, lww->replica_len)) != NULL)
		return crdt_fail(err, CRDT_ERR_BINARY, -1, "replica id %s", problem);
	if (crdt_varint_decode(&p, end, &len) != CRDT_VARINT_OK || len > (uint64_t) (end - p))
		return crdt_fail(err, CRDT_ERR_BINARY, -1, "malformed value");
	lww->value = p;
	lww->value_len = (size_t) len;
	p += len;
	if (p != end)
		return crdt_fail(err, CRDT_ERR_BINARY, (long) (p - value.data),
						 "unexpected trailing bytes (%zu)", (size_t) (end - p));
	return CRDT_OK;
}

void
crdt_lww_write(const CrdtLww *lww, CrdtBuf *out)
{
	crdt_buf_put_byte(out, CRDT_FORMAT_V1);
	if (lww->empty)
		return;
	crdt_buf_put_varint(out, zigzag(lww->at));
	crdt_buf_put_varint(out, lww->replica_len);
	crdt_buf_put(out, lww->replica, lww->replica_len);
	crdt_buf_put_varint(out, lww->value_len);
	crdt_buf_put(out, lww->value, lww->value_len);
}

/* The merge order; the empty register is below everything. */
static int
lww_cmp(const CrdtLww *a, const CrdtLww *b)
{
	int			c;

	if (a->empty || b->empty)
		return a->empty == b->empty ? 0 : (a->empty ? -1 : 1);
	if (a->at != b->at)
		return a->at < b->at ? -1 : 1;
	if ((c = crdt_bytes_cmp(a->replica, a->replica_len, b->replica, b->replica_len)) != 0)
		return c;
	return crdt_bytes_cmp(a->value, a->value_len, b->value, b->value_len);
}

static CrdtStatus
lww_validate(CrdtSlice value, CrdtError *err)
{
	CrdtLww		lww;
	CrdtStatus	st;

	if ((st = crdt_lww_read(value, &lww, err)) != CRDT_OK || lww.empty)
		return st;
	return crdt_json_check_canonical(lww.value, lww.value_len, err);
}

/* Reads both registers of a binary operation. */
static CrdtStatus
read_pair(CrdtSlice a, CrdtSlice b, CrdtLww *la, CrdtLww *lb, CrdtError *err)
{
	CrdtStatus	st = crdt_lww_read(a, la, err);

	return st != CRDT_OK ? st : crdt_lww_read(b, lb, err);
}

static CrdtStatus
lww_merge(CrdtSlice a, CrdtSlice b, CrdtBuf *out, CrdtError *err)
{
	CrdtLww		la;
	CrdtLww		lb;
	CrdtStatus	st = read_pair(a, b, &la, &lb, err);

	if (st != CRDT_OK)
		return st;
	crdt_lww_write(lww_cmp(&la, &lb) >= 0 ? &la : &lb, out);
	return crdt_buf_status(out, err);
}

/* newer itself when it would change since, else the empty register. */
static CrdtStatus
lww_delta(CrdtSlice newer, CrdtSlice since, CrdtBuf *out, CrdtError *err)
{
	CrdtLww		ln;
	CrdtLww		ls;
	CrdtLww		empty = {true, 0, NULL, 0, NULL, 0};
	CrdtStatus	st = read_pair(newer, since, &ln, &ls, err);

	if (st != CRDT_OK)
		return st;
	crdt_lww_write(lww_cmp(&ln, &ls) > 0 ? &ln : &empty, out);
	return crdt_buf_status(out, err);
}

static CrdtStatus
lww_compare(CrdtSlice a, CrdtSlice b, int *result, CrdtError *err)
{
	CrdtLww		la;
	CrdtLww		lb;
	CrdtStatus	st = read_pair(a, b, &la, &lb, err);

	if (st == CRDT_OK)
		*result = lww_cmp(&la, &lb);
	return st;
}

static void
lww_write_empty(CrdtBuf *out)
{
	crdt_write_empty_value(out, 0);
}

CrdtStatus
crdt_lww_set(CrdtSlice value, int64_t at, const uint8_t *replica, size_t replica_len,
			 const uint8_t *json, size_t json_len, CrdtBuf *out, CrdtError *err)
{
	CrdtLww		current;
	CrdtLww		write = {false, at, replica, replica_len, json, json_len};
	const char *problem;
	CrdtStatus	st;

	if ((problem = crdt_replica_id_problem(replica, replica_len)) != NULL)
		return crdt_fail(err, CRDT_ERR_ARGUMENT, -1, "replica id %s", problem);
	if (at < CRDT_LWW_MIN_AT || at > CRDT_LWW_MAX_AT)
		return crdt_fail(err, CRDT_ERR_ARGUMENT, -1,
						 "a register timestamp must lie in the years 1 to 9999");
	if (json_len > CRDT_VALUE_MAX)
		return crdt_fail(err, CRDT_ERR_TOO_LARGE, -1, "a register value over 16 MB");
	if ((st = crdt_json_check_canonical(json, json_len, err)) != CRDT_OK)
		return (err->status = CRDT_ERR_ARGUMENT);
	if ((st = crdt_lww_read(value, &current, err)) != CRDT_OK)
		return st;
	crdt_lww_write(lww_cmp(&write, &current) > 0 ? &write : &current, out);
	return crdt_buf_status(out, err);
}

/* ------------------------------------------------------------ time text */

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm). */
static int64_t
days_from_civil(int64_t y, unsigned m, unsigned d)
{
	int64_t		era;
	unsigned	yoe;
	unsigned	doy;
	unsigned	doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (unsigned) (y - era * 400);
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t) doe - 719468;
}

static void
civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
	int64_t		era;
	unsigned	doe;
	unsigned	yoe;
	unsigned	doy;
	unsigned	mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = (unsigned) (z - era * 146097);
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y = (int64_t) yoe + era * 400 + (*m <= 2);
}

void
crdt_lww_format_time(int64_t at, char out[28])
{
	int64_t		days = at / USECS_PER_DAY;
	int64_t		rest = at % USECS_PER_DAY;
	int64_t		y;
	unsigned	m;
	unsigned	d;

	if (rest < 0)
	{
		rest += USECS_PER_DAY;
		days--;
	}
	civil_from_days(days + DAYS_1970_TO_2000, &y, &m, &d);
	snprintf(out, 28, "%04d-%02u-%02uT%02d:%02d:%02d.%06dZ", (int) y, m, d,
			 (int) (rest / (3600 * USECS_PER_SEC)), (int) (rest / (60 * USECS_PER_SEC) % 60),
			 (int) (rest / USECS_PER_SEC % 60), (int) (rest % USECS_PER_SEC));
}

static bool
digits(const uint8_t *s, size_t n, unsigned *value)
{
	*value = 0;
	for (size_t k = 0; k < n; k++)
	{
		if (s[k] < '0' || s[k] > '9')
			return false;
		*value = *value * 10 + (unsigned) (s[k] - '0');
	}
	return true;
}

/*
 * YYYY-MM-DD[T ]HH:MM:SS[.f{1,6}](Z|±HH:MM): an instant, so an offset is
 * required.  Returns false on anything else.
 */
static bool
parse_time(const uint8_t *s, size_t n, int64_t *at)
{
	unsigned	year, month, day, hour, minute, second;
	unsigned	fraction = 0;
	size_t		i = 19;
	int64_t		offset_min = 0;
	static const unsigned month_days[12] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

	if (n < 20 || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') ||
		s[13] != ':' || s[16] != ':' ||
		!digits(s, 4, &year) || !digits(s + 5, 2, &month) || !digits(s + 8, 2, &day) ||
		!digits(s + 11, 2, &hour) || !digits(s + 14, 2, &minute) || !digits(s + 17, 2, &second))
		return false;
	if (year < 1 || month < 1 || month > 12 || day < 1 || day > month_days[month - 1] ||
		(month == 2 && day == 29 && !(year % 4 == 0 && (year % 100 != 0 || year % 400 == 0))) ||
		hour > 23 || minute > 59 || second > 59)
		return false;
	if (s[i] == '.')
	{
		size_t		start = ++i;
		unsigned	scale = 100000;

		while (i < n && s[i] >= '0' && s[i] <= '9' && i - start < 6)
		{
			fraction += (unsigned) (s[i] - '0') * scale;
			scale /= 10;
			i++;
		}
		if (i == start || (i < n && s[i] >= '0' && s[i] <= '9'))
			return false;
	}
	if (i < n && (s[i] == 'Z' || s[i] == 'z'))
		i++;
	else if (i + 6 == n && (s[i] == '+' || s[i] == '-') && s[i + 3] == ':')
	{
		unsigned	oh;
		unsigned	om;

		if (!digits(s + i + 1, 2, &oh) || !digits(s + i + 4, 2, &om) || oh > 23 || om > 59)
			return false;
		offset_min = (int64_t) (oh * 60 + om) * (s[i] == '-' ? -1 : 1);
		i += 6;
	}
	else
		return false;
	if (i != n)
		return false;
	*at = (days_from_civil(year, month, day) - DAYS_1970_TO_2000) * USECS_PER_DAY +
		((int64_t) hour * 3600 + minute * 60 + second - offset_min * 60) * USECS_PER_SEC +
		fraction;
	return *at >= CRDT_LWW_MIN_AT && *at <= CRDT_LWW_MAX_AT;
}

/* ---------------------------------------------------------------- text */

/* What the text form has given so far. */
typedef struct LwwParser
{
	CrdtLww		lww;
	CrdtBuf		value;
	uint8_t		replica[CRDT_REPLICA_ID_MAX + 1];
} LwwParser;

/* The value of member which: "value", "at" or "replica". */
static CrdtStatus
parse_member(JsonLex *lex, int which, void *ctx)
{
	LwwParser  *lp = ctx;
	size_t		at;
	uint8_t		stamp[40];
	size_t		stamp_len;
	CrdtStatus	st;

	crdt_json_skip_ws(lex);
	at = lex->i;
	if (which == 0)
		return crdt_json_canonical_value(lex, &lp->value);
	if (which == 2)
	{
		lp->lww.replica = lp->replica;
		return crdt_json_replica_id(lex, lp->replica, &lp->lww.replica_len, at, "replica id %s");
	}
	if ((st = crdt_json_string(lex, "a timestamp in double quotes", stamp, sizeof(stamp),
							   &stamp_len)) != CRDT_OK)
		return st;
	if (stamp_len > sizeof(stamp) || !parse_time(stamp, stamp_len, &lp->lww.at))
		return crdt_json_syntax(lex, at, "expected %s",
								"a timestamp like \"2026-11-26T10:00:00.000000Z\" (years 1 to 9999, with Z or an offset)");
	return CRDT_OK;
}

static const char *const member_names[3] = {"value", "at", "replica"};
static const CrdtJsonObject lww_object = {
	member_names, 3, "\"value\", \"at\" or \"replica\"", "duplicate key: %s each once", false,
	parse_member
};

/* {} is the empty register; else all three members. */
static CrdtStatus
lww_parse(const char *text, size_t len, CrdtBuf *out, CrdtError *err)
{
	JsonLex		lex;
	LwwParser	lp;
	unsigned	seen;
	CrdtStatus	st;

	memset(&lp.lww, 0, sizeof(lp.lww));
	crdt_json_lex_init(&lex, text, len, err);
	crdt_buf_init(&lp.value, out->alloc, 0);
	if ((st = crdt_json_object(&lex, &lww_object, &lp, &seen)) == CRDT_OK)
		st = crdt_json_end(&lex);
	lp.lww.empty = seen == 0;
	if (st == CRDT_OK && seen != 0 && seen != 7)
		st = crdt_json_syntax(&lex, 0, "expected %s", "all of \"value\", \"at\" and \"replica\" (or {} for the empty register)");
	if (st == CRDT_OK)
	{
		lp.lww.value = lp.value.data;
		lp.lww.value_len = lp.value.len;
		crdt_lww_write(&lp.lww, out);
		st = crdt_buf_status(out, err);
	}
	crdt_buf_free(&lp.value);
	return st;
}

static CrdtStatus
lww_print(CrdtSlice value, CrdtBuf *out, CrdtError *err)
{
	CrdtLww		lww;
	CrdtStatus	st;
	char		stamp[28];

	if ((st = crdt_lww_read(value, &lww, err)) != CRDT_OK)
		return st;
	if (lww.empty)
	{
		crdt_buf_put_str(out, "{}");
		return crdt_buf_status(out, err);
	}
	crdt_lww_format_time(lww.at, stamp);
	crdt_buf_put_str(out, "{\"value\":");
	crdt_buf_put(out, lww.value, lww.value_len);
	crdt_buf_put_str(out, ",\"at\":\"");
	crdt_buf_put_str(out, stamp);
	crdt_buf_put_str(out, "\",\"replica\":");
	crdt_json_put_string(out, lww.replica, lww.replica_len);
	crdt_buf_put_byte(out, '}');
	return crdt_buf_status(out, err);
}

const CrdtType crdt_type_lwwreg = {
	"lwwreg", lww_validate, lww_parse, lww_print, lww_merge, lww_delta, lww_compare,
	lww_write_empty
};
