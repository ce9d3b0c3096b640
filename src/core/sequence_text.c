/*
 * sequence_text.c — the text form of rtext and rlist: per replica, its
 * segments in counter order, each [first counter, link, content]:
 *
 *   {"alice":[[1,"^","hello"],[6,"+",3]],"bob":[[1,["<","alice",3],"XY"]]}
 *
 * link: "^" (right child of the root), "+" (right child of the counter
 * before), ["<", replica, counter] or [">", replica, counter] (left or
 * right child of that element).  content: a string (rtext), an array of
 * JSON values (rlist), or the number of deleted elements.  Input may cut
 * runs anywhere and list things in any order; output is canonical.
 */
#include "sequence_internal.h"
#include "jsonlex.h"

#include <stdlib.h>

/* ---------------------------------------------------------------- output */

static void
put_id(CrdtBuf *out, const SeqDoc *d, uint32_t ri)
{
	const CrdtSlice *r = &seq_replicas(d)[ri];

	crdt_json_put_string(out, r->data, r->len);
}

static void
put_segment(CrdtBuf *out, const SeqDoc *d, const SeqSegment *seg)
{
	const SeqNode *f = &seq_nodes(d)[seg->start];
	static const char *const links[] = {"\"+\"", "\"^\"", "[\"<\",", "[\">\","};

	crdt_buf_put_byte(out, '[');
	crdt_buf_put_u64_decimal(out, f->counter);
	crdt_buf_put_byte(out, ',');
	crdt_buf_put_str(out, links[seg->link]);
	if (seg->link == SEQ_LINK_LEFT || seg->link == SEQ_LINK_RIGHT)
	{
		put_id(out, d, f->p_replica);
		crdt_buf_put_byte(out, ',');
		crdt_buf_put_u64_decimal(out, f->p_counter);
		crdt_buf_put_byte(out, ']');
	}
	crdt_buf_put_byte(out, ',');
	if (f->deleted)
		crdt_buf_put_u64_decimal(out, seg->len);
	else if (d->kind == CRDT_RTEXT)
	{
		/* the characters are consecutive in the value's bytes */
		const SeqNode *last = f + seg->len - 1;

		crdt_json_put_string(out, f->data, (size_t) (last->data + last->len - f->data));
	}
	else
	{
		crdt_buf_put_byte(out, '[');
		for (size_t k = 0; k < seg->len; k++)
		{
			if (k > 0)
				crdt_buf_put_byte(out, ',');
			crdt_buf_put(out, f[k].data, f[k].len);
		}
		crdt_buf_put_byte(out, ']');
	}
	crdt_buf_put_byte(out, ']');
}

CrdtStatus
crdt_seq_print(CrdtSeqKind kind, CrdtSlice value, CrdtBuf *out, CrdtError *err)
{
	SeqDoc		d;
	SeqSegment	seg;
	size_t		i = 0;
	long		replica = -1;
	CrdtStatus	st;

	seq_doc_init(&d, kind, crdt_default_allocator());
	if ((st = seq_decode(kind, value, &d, err)) == CRDT_OK)
	{
		crdt_buf_put_byte(out, '{');
		while (seq_next_segment(&d, &i, &seg))
		{
			uint32_t	ri = seq_nodes(&d)[seg.start].replica;

			if ((long) ri != replica)
			{
				crdt_buf_put_str(out, replica < 0 ? "" : "],");
				put_id(out, &d, ri);
				crdt_buf_put_str(out, ":[");
				replica = ri;
			}
			else
				crdt_buf_put_byte(out, ',');
			put_segment(out, &d, &seg);
		}
		crdt_buf_put_str(out, replica < 0 ? "}" : "]}");
		st = crdt_buf_status(out, err);
	}
	seq_doc_free(&d);
	return st;
}

/* ----------------------------------------------------------------- input */

typedef struct NameRef
{
	size_t		off;			/* into the arena */
	size_t		len;
	uint32_t	final;			/* index in the sorted table */
} NameRef;

typedef struct Parser
{
	SeqDoc	   *d;
	CrdtBuf		names;			/* NameRef[], one per occurrence */
	CrdtBuf		offsets;		/* size_t[] per node: its content in the arena */
	uint32_t	replica;		/* name of the replica being read */
	SeqNode    *node;			/* the next element of the segment being read */
	uint8_t		id[CRDT_REPLICA_ID_MAX + 1];
} Parser;

static uint32_t
add_name(Parser *p, const uint8_t *id, size_t len)
{
	NameRef		ref = {p->d->arena.len, len, 0};

	crdt_buf_put(&p->d->arena, id, len);
	crdt_buf_put(&p->names, &ref, sizeof(ref));
	return (uint32_t) (p->names.len / sizeof(NameRef) - 1);
}

static CrdtStatus
add_node(Parser *p, JsonLex *lex, SeqNode *node, size_t off)
{
	if (seq_count(p->d) >= CRDT_SEQ_MAX_ELEMENTS || node->counter > CRDT_SEQ_MAX_COUNTER)
		return crdt_fail(lex->err, CRDT_ERR_TOO_LARGE, (long) lex->i,
						 "sequence has too many elements or too large a counter");
	seq_push(p->d, node);
	crdt_buf_put(&p->offsets, &off, sizeof(off));
	node->counter++;
	node->p_replica = p->replica;
	node->p_counter = node->counter - 1;
	node->side = 1;
	return CRDT_OK;
}

/* "^", "+" or [side, replica, counter] */
static CrdtStatus
parse_link(Parser *p, JsonLex *lex, SeqNode *node)
{
	uint8_t		s[2];
	size_t		len;
	size_t		at;
	uint64_t	counter;
	CrdtStatus	st;

	crdt_json_skip_ws(lex);
	at = lex->i;
	if (!crdt_json_accept(lex, '['))
	{
		if ((st = crdt_json_string(lex, "a link (\"^\", \"+\" or [side, replica, counter])", s, 2,
								   &len)) != CRDT_OK)
			return st;
		if (len != 1 || (s[0] != '^' && s[0] != '+'))
			return crdt_json_syntax(lex, at, "expected %s", "\"^\" or \"+\"");
		node->side = 1;
		node->p_replica = s[0] == '^' ? SEQ_ROOT : p->replica;
		node->p_counter = node->counter - 1;
		if (s[0] == '+' && node->counter <= 1)
			return crdt_json_syntax(lex, at, "%s", "\"+\" on the first counter");
		return CRDT_OK;
	}
	crdt_json_skip_ws(lex);
	at = lex->i;
	if ((st = crdt_json_string(lex, "\"<\" or \">\"", s, 2, &len)) != CRDT_OK)
		return st;
	if (len != 1 || (s[0] != '<' && s[0] != '>'))
		return crdt_json_syntax(lex, at, "expected %s", "\"<\" or \">\"");
	node->side = s[0] == '>';
	if ((st = crdt_json_expect(lex, ',', "\",\"")) != CRDT_OK)
		return st;
	crdt_json_skip_ws(lex);
	at = lex->i;
	if ((st = crdt_json_replica_id(lex, p->id, &len, at, "parent replica id %s")) != CRDT_OK ||
		(st = crdt_json_expect(lex, ',', "\",\"")) != CRDT_OK ||
		(st = crdt_json_positive(lex, "the parent counter", &counter)) != CRDT_OK ||
		(st = crdt_json_expect(lex, ']', "\"]\"")) != CRDT_OK)
		return st;
	if (counter > CRDT_SEQ_MAX_COUNTER)
		return crdt_json_syntax(lex, at, "%s", "parent counter too large");
	node->p_replica = add_name(p, p->id, len);
	node->p_counter = (uint32_t) counter;
	return CRDT_OK;
}

/* one rlist value of the segment being read (p->node) */
static CrdtStatus
parse_list_value(JsonLex *lex, void *ctx)
{
	Parser	   *p = ctx;
	size_t		base = p->d->arena.len;
	CrdtStatus	st = crdt_json_canonical_value(lex, &p->d->arena);

	if (st != CRDT_OK)
		return st;
	p->node->len = (uint32_t) (p->d->arena.len - base);
	return add_node(p, lex, p->node, base);
}

/* the content of a segment: deleted count, string or array */
static CrdtStatus
parse_content(Parser *p, JsonLex *lex, SeqNode *node)
{
	CrdtStatus	st = CRDT_OK;
	size_t		at;

	crdt_json_skip_ws(lex);
	at = lex->i;
	if (!crdt_json_at_end(lex) && lex->s[lex->i] >= '0' && lex->s[lex->i] <= '9')
	{
		uint64_t	count;

		if ((st = crdt_json_positive(lex, "a count of deleted elements", &count)) != CRDT_OK)
			return st;
		if (count > CRDT_SEQ_MAX_ELEMENTS)
			return crdt_fail(lex->err, CRDT_ERR_TOO_LARGE, (long) at, "too many elements");
		node->deleted = 1;
		for (uint64_t k = 0; k < count && st == CRDT_OK; k++)
			st = add_node(p, lex, node, 0);
		return st;
	}
	node->deleted = 0;
	if (p->d->kind == CRDT_RTEXT)
	{
		size_t		len;
		size_t		base = p->d->arena.len;
		size_t		room = lex->len - lex->i;

		if (!crdt_buf_reserve(&p->d->arena, room + 1))
			return crdt_nomem(lex->err);
		if ((st = crdt_json_string(lex, "text, an array of values or a count", p->d->arena.data + base,
								   room + 1, &len)) != CRDT_OK)
			return st;
		p->d->arena.len += len;
		for (size_t i = 0; i < len && st == CRDT_OK;)
		{
			size_t		c = seq_utf8_len(p->d->arena.data[base + i]);

			if (c == 0 || c > len - i || !seq_char_valid(p->d->arena.data + base + i, c))
				return crdt_json_syntax(lex, at, "%s", "text with NUL or invalid UTF-8");
			node->len = (uint32_t) c;
			st = add_node(p, lex, node, base + i);
			i += c;
		}
		return st;
	}
	p->node = node;
	return crdt_json_each(lex, '[', "an array of values or a count", parse_list_value, p);
}

static CrdtStatus
parse_segment(JsonLex *lex, void *ctx)
{
	Parser	   *p = ctx;
	SeqNode		node = {.replica = p->replica};
	uint64_t	counter;
	CrdtStatus	st;

	if ((st = crdt_json_expect(lex, '[', "\"[\" (a segment: [counter, link, content])")) != CRDT_OK ||
		(st = crdt_json_positive(lex, "the first counter", &counter)) != CRDT_OK)
		return st;
	if (counter > CRDT_SEQ_MAX_COUNTER)
		return crdt_json_syntax(lex, lex->i, "%s", "counter too large");
	node.counter = (uint32_t) counter;
	if ((st = crdt_json_expect(lex, ',', "\",\"")) != CRDT_OK ||
		(st = parse_link(p, lex, &node)) != CRDT_OK ||
		(st = crdt_json_expect(lex, ',', "\",\"")) != CRDT_OK ||
		(st = parse_content(p, lex, &node)) != CRDT_OK)
		return st;
	return crdt_json_expect(lex, ']', "\"]\"");
}

static CrdtStatus
parse_replica(JsonLex *lex, Parser *p)
{
	size_t		len;
	size_t		at;
	CrdtStatus	st;

	crdt_json_skip_ws(lex);
	at = lex->i;
	if ((st = crdt_json_replica_id(lex, p->id, &len, at, "replica id %s")) != CRDT_OK ||
		(st = crdt_json_expect(lex, ':', "\":\"")) != CRDT_OK)
		return st;
	p->replica = add_name(p, p->id, len);
	return crdt_json_each(lex, '[', "\"[\" (the segments of a replica)", parse_segment, p);
}

/* a name and where it occurred; sorted by the name (crdt_slice_cmp on its first member) */
typedef struct SortedName
{
	CrdtSlice	s;
	uint32_t	occurrence;
} SortedName;

/* the replica table from the names, and every node renumbered into it */
static CrdtStatus
resolve_names(Parser *p, CrdtError *err)
{
	NameRef    *names = (NameRef *) p->names.data;
	size_t		n = p->names.len / sizeof(NameRef);
	const CrdtAllocator *a = p->d->alloc;
	SortedName *sorted = a->alloc(a->ctx, (n + 1) * sizeof(SortedName));
	const size_t *off = (const size_t *) p->offsets.data;

	if (sorted == NULL)
		return crdt_nomem(err);
	for (size_t i = 0; i < n; i++)
	{
		sorted[i].s.data = p->d->arena.data + names[i].off;
		sorted[i].s.len = names[i].len;
		sorted[i].occurrence = (uint32_t) i;
	}
	qsort(sorted, n, sizeof(SortedName), crdt_slice_cmp);
	for (size_t i = 0; i < n; i++)
	{
		if (i == 0 || crdt_slice_cmp(&sorted[i - 1].s, &sorted[i].s) != 0)
			crdt_buf_put(&p->d->replicas, &sorted[i].s, sizeof(CrdtSlice));
		names[sorted[i].occurrence].final = (uint32_t) (seq_nreplicas(p->d) - 1);
	}
	a->release(a->ctx, sorted);
	for (size_t i = 0; i < seq_count(p->d); i++)
	{
		SeqNode    *node = &seq_nodes(p->d)[i];

		node->replica = names[node->replica].final;
		if (node->p_replica != SEQ_ROOT)
			node->p_replica = names[node->p_replica].final;
		node->data = node->deleted ? NULL : p->d->arena.data + off[i];
	}
	return p->d->replicas.failed ? crdt_nomem(err) : CRDT_OK;
}

static CrdtStatus
parse_all(Parser *p, const char *text, size_t len, CrdtError *err)
{
	JsonLex		lex;
	bool		more;
	CrdtStatus	st;

	crdt_json_lex_init(&lex, text, len, err);
	if ((st = crdt_json_open(&lex, '{', "\"{\"", &more)) != CRDT_OK)
		return st;
	while (more)
		if ((st = parse_replica(&lex, p)) != CRDT_OK ||
			(st = crdt_json_next_member(&lex, '}', &more)) != CRDT_OK)
			return st;
	if ((st = crdt_json_end(&lex)) != CRDT_OK)
		return st;
	if (crdt_bufs_failed(&p->names, &p->offsets, &p->d->nodes, &p->d->arena, NULL))
		return crdt_nomem(err);
	return resolve_names(p, err);
}

CrdtStatus
crdt_seq_parse(CrdtSeqKind kind, const char *text, size_t len, CrdtBuf *out, CrdtError *err)
{
	SeqDoc		d;
	Parser		p;
	SeqTree		t;
	CrdtStatus	st;

	seq_doc_init(&d, kind, crdt_default_allocator());
	memset(&p, 0, sizeof(p));
	p.d = &d;
	crdt_bufs_init(d.alloc, &p.names, &p.offsets, NULL);
	if ((st = parse_all(&p, text, len, err)) == CRDT_OK)
	{
		seq_sort_nodes(&d);
		for (size_t i = 1; i < seq_count(&d) && st == CRDT_OK; i++)
			if (seq_nodes(&d)[i].replica == seq_nodes(&d)[i - 1].replica &&
				seq_nodes(&d)[i].counter == seq_nodes(&d)[i - 1].counter)
				st = crdt_fail(err, CRDT_ERR_SYNTAX, -1, "element counter %u of one replica is listed twice",
							   (unsigned) seq_nodes(&d)[i].counter);
		if (st == CRDT_OK && (st = seq_tree_build(&d, &t, CRDT_ERR_SYNTAX, err)) == CRDT_OK)
		{
			seq_tree_free(&t);
			if ((st = seq_compact_replicas(&d, err)) == CRDT_OK)
				st = seq_encode(&d, out, err);
		}
	}
	crdt_bufs_free(&p.names, &p.offsets, NULL);
	seq_doc_free(&d);
	return st;
}
