/*
 * bcounter_text.c — the canonical JSON text of a bcounter:
 *     {"p":{"a":10},"d":{"a":3},"t":{"a":{"b":5}}}
 * increments, decrements, and transfers giver -> receiver -> amount; empty
 * parts left out, ids sorted by bytes, no whitespace.  Input takes any
 * whitespace and order, and is refused when some replica's rights would
 * be negative (a text cannot create spending power).
 */
#include "bcounter_internal.h"
#include "jsonlex.h"

typedef struct Parser
{
	JsonLex		lex;
	CrdtBcLog	log;
	int			part;
	uint8_t		giver[CRDT_REPLICA_ID_MAX + 1];
	size_t		giver_len;
} Parser;

/* "replica": count, into the log as the current part (of the current giver). */
static CrdtStatus
parse_count(JsonLex *lex, void *ctx)
{
	Parser	   *p = ctx;
	uint8_t		id[CRDT_REPLICA_ID_MAX + 1];
	size_t		len;
	size_t		at;
	uint64_t	count;
	CrdtStatus	st;

	crdt_json_skip_ws(lex);
	at = lex->i;
	if ((st = crdt_json_replica_id(lex, id, &len, at, "replica id %s")) != CRDT_OK ||
		(st = crdt_json_expect(lex, ':', "\":\" after a replica id")) != CRDT_OK ||
		(st = crdt_json_positive(lex, "a count", &count)) != CRDT_OK)
		return st;
	if (p->part != PART_T)
		return crdt_bclog_add(&p->log, p->part, id, len, NULL, 0, count, lex->err);
	if (crdt_bytes_cmp(id, len, p->giver, p->giver_len) == 0)
		return crdt_fail(lex->err, CRDT_ERR_SYNTAX, (long) at, "a replica transfers to itself");
	return crdt_bclog_add(&p->log, PART_T, p->giver, p->giver_len, id, len, count, lex->err);
}

/* "giver": {receiver: amount, ...}, not empty. */
static CrdtStatus
parse_giver(JsonLex *lex, void *ctx)
{
	Parser	   *p = ctx;
	size_t		at;
	size_t		before = p->log.n;
	CrdtStatus	st;

	crdt_json_skip_ws(lex);
	at = lex->i;
	if ((st = crdt_json_replica_id(lex, p->giver, &p->giver_len, at, "replica id %s")) != CRDT_OK ||
		(st = crdt_json_expect(lex, ':', "\":\" after a replica id")) != CRDT_OK ||
		(st = crdt_json_each(lex, '{', "\"{\"", parse_count, p)) != CRDT_OK)
		return st;
	return p->log.n > before ? CRDT_OK
		: crdt_fail(lex->err, CRDT_ERR_SYNTAX, (long) at, "a giver without transfers");
}

static CrdtStatus
parse_part(JsonLex *lex, int which, void *ctx)
{
	Parser	   *p = ctx;

	p->part = which;
	return crdt_json_each(lex, '{', "\"{\"", which == PART_T ? parse_giver : parse_count, p);
}

static const char *const part_names[3] = {"p", "d", "t"};
static const CrdtJsonObject bcounter_object = {
	part_names, 3, "\"p\", \"d\" or \"t\"", "duplicate key \"%s\"", true, parse_part
};

CrdtStatus
crdt_bcounter_parse(const char *text, size_t len, CrdtBuf *out, CrdtError *err)
{
	Parser		p;
	unsigned	seen;
	size_t		listed;
	CrdtStatus	st;

	crdt_json_lex_init(&p.lex, text, len, err);
	crdt_bclog_init(&p.log, out->alloc);
	if ((st = crdt_json_object(&p.lex, &bcounter_object, &p, &seen)) == CRDT_OK)
		st = crdt_json_end(&p.lex);
	if (st == CRDT_OK)
	{
		listed = p.log.n;
		crdt_bclog_reduce(&p.log);
		if (p.log.n != listed)
			st = crdt_fail(err, CRDT_ERR_SYNTAX, -1,
						   "a replica (or a giver and receiver pair) is listed twice in one part");
	}
	if (st == CRDT_OK)
		st = crdt_bclog_check_rights(&p.log, CRDT_ERR_SYNTAX, err);
	if (st == CRDT_OK)
		st = crdt_bclog_write(&p.log, out, err);
	crdt_bclog_free(&p.log);
	return st;
}

/* --------------------------------------------------------------- text */

/* The canonical text of a reduced log; parts left out when empty. */
static void
print_log(const CrdtBcLog *log, CrdtBuf *out)
{
	static const char *const names[3] = {"\"p\":{", "\"d\":{", "\"t\":{"};
	const CrdtBcItem *it = crdt_bclog_items(log);
	bool		first_part = true;
	size_t		k = 0;

	crdt_buf_put_byte(out, '{');
	for (int part = PART_P; part <= PART_T; part++)
	{
		bool		first = true;

		if (k >= log->n || it[k].part != part)
			continue;
		if (!first_part)
			crdt_buf_put_byte(out, ',');
		first_part = false;
		crdt_buf_put_str(out, names[part]);
		for (; k < log->n && it[k].part == part; k++)
		{
			bool		new_giver = part == PART_T &&
				(first || crdt_bytes_cmp(it[k - 1].id, it[k - 1].len, it[k].id, it[k].len) != 0);

			if (new_giver && !first)
				crdt_buf_put_byte(out, '}');
			if (!first)
				crdt_buf_put_byte(out, ',');
			if (new_giver)
			{
				crdt_json_put_string(out, it[k].id, it[k].len);
				crdt_buf_put_str(out, ":{");
			}
			crdt_json_put_string(out, part == PART_T ? it[k].to : it[k].id,
								 part == PART_T ? it[k].to_len : it[k].len);
			crdt_buf_put_byte(out, ':');
			crdt_buf_put_u64_decimal(out, it[k].count);
			first = false;
		}
		if (part == PART_T)
			crdt_buf_put_byte(out, '}');
		crdt_buf_put_byte(out, '}');
	}
	crdt_buf_put_byte(out, '}');
}

CrdtStatus
crdt_bcounter_print(CrdtSlice value, CrdtBuf *out, CrdtError *err)
{
	CrdtBcLog	log;
	CrdtStatus	st;

	if ((st = crdt_bclog_of(&log, value, err)) != CRDT_OK)
		return st;
	print_log(&log, out);
	crdt_bclog_free(&log);
	return crdt_buf_status(out, err);
}

const CrdtType crdt_type_bcounter = {
	"bcounter", crdt_bcounter_validate, crdt_bcounter_parse, crdt_bcounter_print,
	crdt_bcounter_merge, crdt_bcounter_delta, crdt_bcounter_compare, crdt_bcounter_write_empty
};
