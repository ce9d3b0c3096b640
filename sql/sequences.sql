--
-- rtext and rlist, the sequence CRDTs (docs/SEQUENCES.md): editing by
-- position, merge laws and convergence over seeded random histories, no
-- interleaving, I/O round trips, hostile input, the aggregate,
-- opclasses and the stored size.
--
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS crdt_reconcile;
RESET client_min_messages;

-- ---------------------------------------------------------------- editing
SET crdt.replica_id = 'alice';
SELECT crdt_splice('{}'::rtext, 0, 0, 'hello world') AS t \gset
SELECT :'t'::rtext AS state, crdt_value(:'t'::rtext), crdt_length(:'t'::rtext);
SELECT crdt_value(crdt_splice(:'t'::rtext, 0, 5, 'HELLO')) AS replaced,
       crdt_value(crdt_splice(:'t'::rtext, 11, 0, '!')) AS appended,
       crdt_value(crdt_splice(:'t'::rtext, 5, 6, '')) AS cut,
       crdt_value(crdt_splice(NULL::rtext, 0, 0, 'from NULL')) AS from_null,
       crdt_value(crdt_splice(:'t'::rtext, 0, 0, NULL)) AS null_insert;
-- positions count characters, not bytes
SELECT crdt_value(crdt_splice(crdt_splice('{}'::rtext, 0, 0, 'héllo wörld 😀'), 12, 1, '🙂')) AS multibyte,
       crdt_length(crdt_splice('{}'::rtext, 0, 0, 'héllo wörld 😀')) AS length;
-- outside the text: 2202E; a negative count too; NUL cannot be in text anyway
SELECT regress.state_of($$SELECT crdt_splice('{}'::rtext, 1, 0, 'x')$$) AS past_end,
       regress.state_of($$SELECT crdt_splice('{}'::rtext, -1, 0, 'x')$$) AS negative,
       regress.state_of(format('SELECT crdt_splice(%L::rtext, 10, 2, %L)', :'t', 'x')) AS delete_past_end,
       regress.state_of(format('SELECT crdt_splice(%L::rtext, 0, -1, %L)', :'t', 'x')) AS negative_count,
       regress.state_of($$SELECT crdt_splice('{}'::rtext, NULL, 0, 'x')$$) AS null_pos;
-- a pure delete needs no replica id; an insert does
RESET crdt.replica_id;
SELECT crdt_value(crdt_splice(:'t'::rtext, 0, 6, '')) AS deleted_without_id,
       regress.state_of(format('SELECT crdt_splice(%L::rtext, 0, 0, %L)', :'t', 'x')) AS insert_without_id,
       regress.state_of(format('SELECT crdt_splice(%L::rtext, 0, 0, %L, %L)', :'t', 'x', '')) AS empty_id;
SET crdt.replica_id = 'alice';

SELECT crdt_insert(crdt_insert(crdt_insert('{}'::rlist, 0, '{"step": "gather data"}'), 1, '"train"'),
                   1, '[1, 2.50, null]') AS l \gset
SELECT :'l'::rlist AS state, crdt_value(:'l'::rlist), crdt_length(:'l'::rlist);
SELECT crdt_get(:'l'::rlist, 0) AS first, crdt_get(:'l'::rlist, 2) AS last, crdt_get(:'l'::rlist, 3) AS past_end,
       crdt_get(:'l'::rlist, -1) AS negative;
SELECT crdt_value(crdt_delete(:'l'::rlist, 1)) AS delete_one, crdt_value(crdt_delete(:'l'::rlist, 0, 3)) AS delete_all,
       crdt_value(crdt_delete(:'l'::rlist, 3, 0)) AS delete_none;
SELECT regress.state_of(format('SELECT crdt_insert(%L::rlist, 4, %L)', :'l', '1')) AS insert_past_end,
       regress.state_of(format('SELECT crdt_delete(%L::rlist, 2, 2)', :'l')) AS delete_past_end,
       regress.state_of(format('SELECT crdt_delete(%L::rlist, 0, -1)', :'l')) AS negative_count,
       regress.state_of(format('SELECT crdt_insert(%L::rlist, 0, NULL)', :'l')) AS null_value;

-- ---------------------------------------------------------------- two agents edit one plan
-- Both start from the same plan; concurrently the planner inserts two
-- steps after step 1 and the reviewer deletes step 2 and appends one.
SELECT crdt_insert(crdt_insert(crdt_insert('{}'::rlist, 0, '"1. collect logs"', 'planner'),
       1, '"2. grep errors"', 'planner'), 2, '"3. write report"', 'planner') AS plan \gset
SELECT crdt_insert(crdt_insert(:'plan'::rlist, 1, '"1a. decompress"', 'planner'), 2, '"1b. dedupe"', 'planner') AS a,
       crdt_insert(crdt_delete(:'plan'::rlist, 1), 2, '"4. send to lead"', 'reviewer') AS b \gset
SELECT crdt_value(:'a'::rlist || :'b'::rlist) AS merged,
       (:'a'::rlist || :'b'::rlist) = (:'b'::rlist || :'a'::rlist) AS same_both_ways;

-- ---------------------------------------------------------------- concurrent runs never interleave
-- alice and bob each type a word at the same place, one character per
-- splice (forwards), or always at the same position (backwards).
CREATE FUNCTION pg_temp.typed(base rtext, pos int, word text, who text, backwards bool) RETURNS rtext
LANGUAGE plpgsql AS $$
DECLARE
	t rtext := base;
BEGIN
	FOR i IN 1 .. length(word) LOOP
		IF backwards THEN
			t := crdt_splice(t, pos, 0, substr(word, length(word) - i + 1, 1), who);
		ELSE
			t := crdt_splice(t, pos + i - 1, 0, substr(word, i, 1), who);
		END IF;
	END LOOP;
	RETURN t;
END $$;
SELECT crdt_splice('{}'::rtext, 0, 0, '[]', 'base') AS base \gset
SELECT backwards, crdt_value(a || b) AS merged, (a || b) = (b || a) AS converged
FROM (VALUES (false), (true)) v(backwards),
     LATERAL (SELECT pg_temp.typed(:'base'::rtext, 1, 'alpha', 'alice', backwards) AS a,
                     pg_temp.typed(:'base'::rtext, 1, 'BETA', 'bob', backwards) AS b) w;

-- ---------------------------------------------------------------- laws over seeded random histories
-- 3 replicas, 40 random steps each history (insert, delete, or merge one
-- replica's state into another), 30 histories; then every state pair.
CREATE TABLE hist (h int, r int, s rtext);
CREATE FUNCTION pg_temp.history(h int) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
	st rtext[] := ARRAY['{}', '{}', '{}']::rtext[];
	r int;
	n int;
BEGIN
	FOR step IN 1 .. 40 LOOP
		r := 1 + floor(random() * 3)::int;
		n := crdt_length(st[r]);
		IF random() < 0.55 OR n = 0 THEN
			st[r] := crdt_splice(st[r], floor(random() * (n + 1))::int, 0,
			                     substr('abcdéf😀', 1 + floor(random() * 7)::int, 1 + floor(random() * 3)::int),
			                     'r' || r);
		ELSIF random() < 0.5 THEN
			st[r] := crdt_splice(st[r], floor(random() * n)::int, 1, '');
		ELSE
			st[r] := st[r] || st[1 + floor(random() * 3)::int];
		END IF;
	END LOOP;
	INSERT INTO hist SELECT h, i, st[i] FROM generate_series(1, 3) i;
END $$;
SELECT setseed(0.14);
SELECT count(pg_temp.history(h)) FROM generate_series(1, 30) h;
SELECT bool_and(a.s || b.s = b.s || a.s) AS commutative,
       bool_and(a.s || a.s = a.s) AS idempotent,
       bool_and((a.s || b.s) || c.s = a.s || (b.s || c.s)) AS associative,
       bool_and(b.s || crdt_delta(a.s, b.s) = b.s || a.s) AS delta_law,
       bool_and(crdt_delta(a.s, a.s) = '{}'::rtext) AS delta_of_self_empty,
       bool_and(a.s::text::rtext = a.s AND a.s::jsonb::rtext = a.s AND a.s::json::rtext = a.s) AS text_round_trips,
       count(*) AS triples
FROM hist a JOIN hist b ON b.h = a.h JOIN hist c ON c.h = a.h;
-- any delivery order of a history's states: the same bytes
SELECT count(DISTINCT (SELECT crdt_merge(s ORDER BY s) FROM hist WHERE h = x.h)) =
       count(DISTINCT (SELECT crdt_merge(s ORDER BY s DESC) FROM hist WHERE h = x.h)) AS orders_agree,
       bool_and((SELECT crdt_merge(s ORDER BY r) FROM hist WHERE h = x.h) =
                (SELECT crdt_merge(s ORDER BY -r) FROM hist WHERE h = x.h)) AS aggregate_order_free
FROM generate_series(1, 30) x(h);

-- ---------------------------------------------------------------- I/O
SELECT :'t'::rtext::jsonb AS as_jsonb, :'l'::rlist::json AS as_json;
SELECT rtext_send(:'t'::rtext) AS rtext_bytes, rlist_send(:'l'::rlist) AS rlist_bytes;
SELECT ' { "b" : [ [1, ["<", "a", 1], "x"] ], "a":[[1,"^","h"],[2,"+","i"]] } '::rtext AS any_order_and_cut;
\getenv abs_builddir PG_ABS_BUILDDIR
\set binfile :abs_builddir '/results/sequences.bin'
CREATE TABLE io (t rtext, l rlist);
INSERT INTO io SELECT s, :'l'::rlist FROM hist;
COPY io TO :'binfile' (FORMAT binary);
CREATE TABLE io_copy (LIKE io);
COPY io_copy FROM :'binfile' (FORMAT binary);
SELECT count(*) AS rows, count(*) FILTER (WHERE (a.t, a.l) = (b.t, b.l)) AS equal
FROM (SELECT row_number() OVER () n, * FROM io) a JOIN (SELECT row_number() OVER () n, * FROM io_copy) b USING (n);

-- ---------------------------------------------------------------- hostile input
-- (an element whose parent is absent, the 2nd and 4th, is detached, not refused:
-- a delta names parents it does not carry; a cycle is refused)
SELECT input, regress.state_of(format('SELECT %L::rtext', input)) AS rtext
FROM (VALUES ('{"a":[[1,"+","x"]]}'), ('{"a":[[2,"+","x"]]}'), ('{"a":[[1,["<","a",1],"x"]]}'),
             ('{"a":[[1,["<","b",1],"x"]]}'), ('{"a":[[1,"^","x"],[1,"^","y"]]}'),
             ('{"a":[[0,"^","x"]]}'), ('{"a":[[4294967295,"^","x"]]}'), ('{"a":[[1,"^",""]]}'),
             ('{"a":[[1,"^","\u0000"]]}'), ('{"a":[[1,"^",5000000]]}'), ('{"":[[1,"^","x"]]}'),
             ('{"a":[[1,"^","x"]],"a":[[2,"+","y"]]}'), ('{"a":[[1,"^",["x"]]]}'), ('[]'), ('')) v(input);
SELECT input, regress.state_of(format('SELECT %L::rlist', input)) AS rlist
FROM (VALUES ('{"a":[[1,"^",[1, 2, {"b": [true]}]]]}'), ('{"a":[[1,"^","x"]]}'), ('{"a":[[1,"^",[1,]]]}'),
             ('{"a":[[1,"^",[1e999999]]]}')) v(input);
-- every truncation and single-bit flip of a stored value, through binary COPY
CREATE TABLE feed_buffer (bytes bytea);
CREATE TABLE recv_rtext (v rtext);
CREATE FUNCTION pg_temp.feed(bytes bytea, file text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
	DELETE FROM feed_buffer;
	INSERT INTO feed_buffer VALUES (bytes);
	EXECUTE format('COPY feed_buffer TO %L (FORMAT binary)', file);
	EXECUTE format('COPY recv_rtext FROM %L (FORMAT binary)', file);
	RETURN 'ok';
EXCEPTION WHEN others THEN
	RETURN SQLSTATE;
END $$;
SELECT rtext_send(s) AS sample FROM hist WHERE h = 1 AND r = 1 \gset
SELECT kind, outcome, count(*)
FROM (SELECT 'truncated' AS kind, pg_temp.feed(substring(:'sample'::bytea FROM 1 FOR n), :'binfile') AS outcome
      FROM generate_series(0, length(:'sample'::bytea) - 1) n
      UNION ALL
      SELECT 'bit flipped', pg_temp.feed(set_bit(:'sample'::bytea, n, 1 - get_bit(:'sample'::bytea, n)), :'binfile')
      FROM generate_series(0, 8 * length(:'sample'::bytea) - 1) n
      UNION ALL
      SELECT 'trailing byte', pg_temp.feed(:'sample'::bytea || '\x00'::bytea, :'binfile')) x
GROUP BY 1, 2 ORDER BY 1, 2;
-- what got in is canonical and usable
SELECT count(*) AS accepted, bool_and(v::text::rtext = v AND v || v = v AND crdt_length(v) >= 0) AS valid
FROM recv_rtext;

-- ---------------------------------------------------------------- aggregate
-- (the parallel aggregate over rtext and rlist: sql/parallel.sql)
SELECT crdt_merge(s) IS NULL AS empty_is_null FROM hist WHERE false;
SELECT crdt_value(crdt_merge(l)) FROM (VALUES (:'a'::rlist), (:'b'::rlist), (NULL)) v(l);

-- ---------------------------------------------------------------- opclasses
CREATE INDEX ON hist (s);
CREATE INDEX ON hist USING hash (s);
SELECT count(DISTINCT s) = (SELECT count(*) FROM (SELECT s FROM hist GROUP BY s) g) AS group_by_agrees,
       bool_and(crdt_hash(s) = crdt_hash(s::text::rtext)) AS hash_stable
FROM hist;

-- ---------------------------------------------------------------- size
-- 20,000 characters typed in 2,000 splices at pseudo-random places, 4,000
-- deleted again in 400 splices: stored in at most 2 x UTF-8 length + 2 kB.
CREATE FUNCTION pg_temp.big_text() RETURNS rtext LANGUAGE plpgsql AS $$
DECLARE
	t rtext := '{}';
	n int := 0;
BEGIN
	FOR k IN 0 .. 1999 LOOP
		t := crdt_splice(t, (k * 7919) % (n + 1), 0, substr(md5(k::text), 1, 10), 'w' || (k % 3));
		n := n + 10;
		IF k % 5 = 4 THEN
			t := crdt_splice(t, (k * 104729) % (n - 9), 10, '');
			n := n - 10;
		END IF;
	END LOOP;
	RETURN t;
END $$;
SELECT pg_temp.big_text() AS big \gset
SELECT crdt_length(:'big'::rtext) AS characters, octet_length(crdt_value(:'big'::rtext)) AS utf8_bytes,
       octet_length(rtext_send(:'big'::rtext)) <= 2 * octet_length(crdt_value(:'big'::rtext)) + 2048 AS within_bound;
-- a delta carries what the other side lacks, naming the parents it has:
-- one more splice of that text is a delta of a few dozen bytes, merged
-- back it gives the new state; alone, its elements are detached (not
-- part of the document: length 0) until merged where their parents are
SELECT step, octet_length(rtext_send(crdt_delta(n, :'big'::rtext))) AS delta_bytes,
       :'big'::rtext || crdt_delta(n, :'big'::rtext) = n AS merges_back,
       crdt_length(crdt_delta(n, :'big'::rtext)) AS length_alone
FROM (VALUES ('type 10 in the middle', crdt_splice(:'big'::rtext, 5000, 0, 'ten chars!', 'w1')),
             ('delete 10 in the middle', crdt_splice(:'big'::rtext, 5000, 10, '')),
             ('type 1 at the end', crdt_splice(:'big'::rtext, 16000, 0, 'z', 'w2'))) v(step, n);
SELECT d AS delta, crdt_value(d) AS alone, crdt_value('{"a":[[1,"^","abc"]]}'::rtext || d) AS merged
FROM (SELECT crdt_delta(crdt_splice('{"a":[[1,"^","abc"]]}'::rtext, 3, 0, 'd', 'a'),
                        '{"a":[[1,"^","abc"]]}'::rtext) AS d) x;

-- ---------------------------------------------------------------- tracked tables
-- An applied write (as an apply worker makes it) merges rtext and rlist
-- columns with the stored ones instead of overwriting them.
CREATE TABLE plans (id int PRIMARY KEY, body rtext NOT NULL DEFAULT '{}', steps rlist NOT NULL DEFAULT '{}');
SELECT relation FROM crdt_reconcile.track('plans');
SET crdt.replica_id = 'n1';
INSERT INTO plans VALUES (1, crdt_splice('{}'::rtext, 0, 0, 'Fix the build', 'n1'),
                          crdt_insert('{}'::rlist, 0, '"reproduce"', 'n1'));
SELECT body AS base_body, steps AS base_steps FROM plans WHERE id = 1 \gset
-- locally: n1 edits the text and the steps
UPDATE plans SET body = crdt_splice(body, 13, 0, ' today'), steps = crdt_insert(steps, 1, '"bisect"') WHERE id = 1;
-- n2's concurrent edit arrives through replication
SET session_replication_role = replica;
UPDATE plans SET body = crdt_splice(:'base_body'::rtext, 0, 3, 'Repair', 'n2'),
                 steps = crdt_insert(:'base_steps'::rlist, 1, '"write a test"', 'n2') WHERE id = 1;
RESET session_replication_role;
SELECT crdt_value(body) AS body, crdt_value(steps) AS steps FROM plans WHERE id = 1;
RESET crdt.replica_id;
DROP TABLE plans;
