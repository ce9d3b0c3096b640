/*
 * json.c — the canonical JSON text form of vclock, gcounter and pncounter.
 *
 * Output is canonical: no whitespace, ids sorted by bytes, no zero entries,
 * only '"' and '\' escaped.  Input accepts any whitespace and key order and
 * the JSON escapes, and rejects everything else with the byte offset of the
 * offending token.
 */
#include "jsonlex.h"

#include <stdlib.h>
#include <string.h>

typedef struct Parser
{
	JsonLex		lex;
	CrdtCounterKind kind;
	CrdtError  *err;
	CrdtKeyBag	bag;			/* list: the half */
	int			half;			/* of the map being read */
} Parser;

/* Fails with a message about the count of replica id (described only now). */
static CrdtStatus
count_problem(Parser *p, size_t at, CrdtStatus status, const char *fmt,
			  const uint8_t *id, size_t len)
{
	char		shown[96];

	crdt_describe_bytes(shown, sizeof(shown), id, len);
	return crdt_fail(p->err, status, (long) at, fmt, shown);
}

/* Parses the count of replica id. */
static CrdtStatus
parse_count(Parser *p, const uint8_t *id, size_t len, uint64_t *count)
{
	JsonLex    *lex = &p->lex;
	size_t		start;
	bool		negative = false;
	bool		overflow = false;
	uint64_t	v = 0;

	crdt_json_skip_ws(lex);
	start = lex->i;
	if (!crdt_json_at_end(lex) && lex->s[lex->i] == '-')
	{
		negative = true;
		lex->i++;
	}
	if (crdt_json_at_end(lex) || lex->s[lex->i] < '0' || lex->s[lex->i] > '9')
		return count_problem(p, start, CRDT_ERR_SYNTAX, "expected a count (a positive integer) for replica %s", id, len);
	if (lex->s[lex->i] == '0' && lex->i + 1 < lex->len && lex->s[lex->i + 1] >= '0' && lex->s[lex->i + 1] <= '9')
		return count_problem(p, start, CRDT_ERR_SYNTAX, "count for replica %s has a leading zero", id, len);
	if (!crdt_json_digits(lex, &v, &overflow))
		return count_problem(p, start, CRDT_ERR_SYNTAX, "count for replica %s must be a whole number", id, len);
	if (negative && (v != 0 || overflow))
		return count_problem(p, start, CRDT_ERR_SYNTAX, "count for replica %s must not be negative", id, len);
	if (overflow)
		return count_problem(p, start, CRDT_ERR_OVERFLOW,
							 "count for replica %s is out of range for type bigint", id, len);
	if (v == 0 && p->kind == CRDT_VCLOCK)
		return count_problem(p, start, CRDT_ERR_SYNTAX, "count for replica %s must be positive (a vclock has no zero entries)", id, len);
	*count = v;
	return CRDT_OK;
}

/* One "replica": count member of a map, into the bag. */
static CrdtStatus
parse_entry(JsonLex *lex, void *ctx)
{
	Parser	   *p = ctx;
	uint8_t		id[CRDT_REPLICA_ID_MAX];
	size_t		len;
	size_t		id_at;
	uint64_t	count = 0;
	const char *problem;
	CrdtStatus	st;

	crdt_json_skip_ws(lex);
	id_at = lex->i;
	if ((st = crdt_json_string(lex, "a replica id in double quotes", id, sizeof(id), &len)) != CRDT_OK)
		return st;
	problem = len > sizeof(id) ? "is longer than 64 bytes" : crdt_replica_id_check(id, len);
	if (problem != NULL)
	{
		char		shown[96];

		crdt_describe_bytes(shown, sizeof(shown), id, len < sizeof(id) ? len : sizeof(id));
		return crdt_fail(p->err, CRDT_ERR_SYNTAX, (long) id_at, "replica id %s%s %s", shown,
						 len > sizeof(id) ? "..." : "", problem);
	}
	if ((st = crdt_json_expect(lex, ':', "\":\" after a replica id")) != CRDT_OK)
		return st;
	if (p->bag.count >= CRDT_MAX_ENTRIES)
		return crdt_fail(p->err, CRDT_ERR_TOO_LARGE, (long) id_at,
						 "more than %d entries", CRDT_MAX_ENTRIES);
	if ((st = parse_count(p, id, len, &count)) != CRDT_OK)
		return st;
	return crdt_keybag_add(&p->bag, id, len, p->half, count, (long) id_at, p->err);
}

static CrdtStatus
parse_map(Parser *p, int half)
{
	p->half = half;
	return crdt_json_each(&p->lex, '{', "\"{\"", parse_entry, p);
}

static CrdtStatus
parse_half(JsonLex *lex, int which, void *ctx)
{
	(void) lex;
	return parse_map(ctx, which);
}

/* {"p": map, "n": map}, each key at most once, either may be missing. */
static const char *const half_names[2] = {"p", "n"};
static const CrdtJsonObject pncounter_object = {
	half_names, 2, "\"p\" or \"n\"", "duplicate key \"%s\"", true, parse_half
};

CrdtStatus
crdt_counter_parse(CrdtCounterKind kind, const char *text, size_t len, CrdtBuf *out,
				   CrdtError *err)
{
	Parser		p;
	CrdtStatus	st;
	const CrdtParsedKey *entries;
	unsigned	seen;
	size_t		k = 0;

	crdt_json_lex_init(&p.lex, text, len, err);
	p.kind = kind;
	p.err = err;
	crdt_keybag_init(&p.bag, out->alloc);

	st = kind == CRDT_PNCOUNTER ? crdt_json_object(&p.lex, &pncounter_object, &p, &seen)
		: parse_map(&p, 0);
	if (st == CRDT_OK)
	{
		crdt_json_skip_ws(&p.lex);
		if (!crdt_json_at_end(&p.lex))
			st = crdt_json_syntax(&p.lex, p.lex.i, "unexpected characters after the closing %s", "\"}\"");
	}
	if (st == CRDT_OK)
		st = crdt_keybag_sort(&p.bag, "duplicate replica id %s", err);
	if (st == CRDT_OK)
	{
		entries = crdt_keybag_items(&p.bag);
		crdt_buf_put_byte(out, CRDT_FORMAT_V1);
		for (int half = 0; half < (kind == CRDT_PNCOUNTER ? 2 : 1); half++)
		{
			CrdtMapWriter w;

			crdt_map_writer_init(&w, out);
			for (; k < p.bag.count && entries[k].list == half; k++)
				crdt_map_writer_add(&w, entries[k].key, entries[k].len, entries[k].count);
			crdt_map_writer_finish(&w);
		}
		st = crdt_buf_status(out, err);
	}
	crdt_keybag_free(&p.bag);
	return st;
}

static void
print_id(CrdtBuf *out, const uint8_t *id, size_t len)
{
	size_t		run = 0;

	crdt_buf_put_byte(out, '"');
	for (size_t k = 0; k < len; k++)
	{
		if (id[k] == '"' || id[k] == '\\')
		{
			crdt_buf_put(out, id + run, k - run);
			crdt_buf_put_byte(out, '\\');
			run = k;
		}
	}
	crdt_buf_put(out, id + run, len - run);
	crdt_buf_put_byte(out, '"');
}

static CrdtStatus
print_map(CrdtSlice map, CrdtBuf *out, CrdtError *err)
{
	CrdtMapReader r;
	CrdtMapEntry e;
	int			rc;
	bool		first = true;

	crdt_map_reader_init(&r, map.data, map.len, 0);
	crdt_buf_put_byte(out, '{');
	while ((rc = crdt_map_reader_next(&r, &e, err)) > 0)
	{
		crdt_buf_put_separator(out, &first);
		print_id(out, e.id, e.len);
		crdt_buf_put_byte(out, ':');
		crdt_buf_put_u64_decimal(out, e.count);
	}
	crdt_buf_put_byte(out, '}');
	return rc < 0 ? err->status : CRDT_OK;
}

CrdtStatus
crdt_counter_print(CrdtCounterKind kind, CrdtSlice value, CrdtBuf *out, CrdtError *err)
{
	CrdtSlice	half[2];
	CrdtStatus	st;

	if ((st = crdt_counter_halves(kind, value, half, err)) == CRDT_OK)
		st = kind != CRDT_PNCOUNTER ? print_map(half[0], out, err)
			: crdt_json_print_parts(out, half_names, half, 2, print_map, err);
	return st != CRDT_OK ? st : crdt_buf_status(out, err);
}

static void
put_u_escape(CrdtBuf *out, uint32_t unit)
{
	static const char hex[] = "0123456789abcdef";
	char		esc[6] = {'\\', 'u', hex[(unit >> 12) & 15], hex[(unit >> 8) & 15],
	hex[(unit >> 4) & 15], hex[unit & 15]};

	crdt_buf_put(out, esc, sizeof(esc));
}

void
crdt_json_escape_non_ascii(const char *text, size_t len, CrdtBuf *out)
{
	const uint8_t *s = (const uint8_t *) text;
	size_t		k = 0;

	while (k < len)
	{
		size_t		run = k;
		size_t		n;
		uint32_t	cp;

		/* ASCII goes as it is; a character after it as its \u escape(s) */
		while (k < len && s[k] < 0x80)
			k++;
		crdt_buf_put(out, s + run, k - run);
		if (k == len)
			break;
		/* the printer only emits valid UTF-8, so the lead byte gives the length */
		n = s[k] >= 0xf0 ? 4 : s[k] >= 0xe0 ? 3 : 2;
		if (n > len - k)
			n = len - k;
		cp = s[k] & (0x7f >> n);
		for (size_t i = 1; i < n; i++)
			cp = (cp << 6) | (s[k + i] & 0x3f);
		if (cp >= 0x10000)
		{
			put_u_escape(out, 0xd800 + ((cp - 0x10000) >> 10));
			put_u_escape(out, 0xdc00 + ((cp - 0x10000) & 0x3ff));
		}
		else
			put_u_escape(out, cp);
		k += n;
	}
}
