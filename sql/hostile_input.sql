--
-- Hostile input beyond input_errors: every truncation and every single-bit
-- flip of a valid value of every type through COPY (FORMAT binary), forged
-- jsonb and json, values of 1,000,000 entries, the 10,000,000-entry and
-- 1 GB limits, the largest counts, overlong replica ids, and aggregates
-- over NULLs, empty groups and one huge group.  Every failure is an ERROR
-- with its SQLSTATE (22P03 binary, 22P02 text, 22003 out of range, 22023
-- bad argument, 54000 too large) and the session goes on.
--
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS crdt_reconcile;
RESET client_min_messages;

\getenv abs_builddir PG_ABS_BUILDDIR
\set binfile :abs_builddir '/results/hostile_input.bin'
\set txtfile :abs_builddir '/results/hostile_input.txt'

-- ---------------------------------------------------------------- binary: truncations and bit flips
-- One value of each type, with shared prefixes, multi-byte ids, counts
-- near 2^63, context ranges and several values.
CREATE TABLE samples (typ text PRIMARY KEY, txt text);
INSERT INTO samples VALUES
	('vclock', '{"agent-041":3,"agent-042":9,"agent-1":1,"é-node":9223372036854775807}'),
	('gcounter', '{"a":1,"ab":200,"b":16384,"€":2097152}'),
	('pncounter', '{"p":{"x":5,"xy":300},"n":{"x":2,"z":9223372036854775807}}'),
	('gset', '["","a","ab","abc","b","é"]'),
	('twopset', '{"elements":["a","abc"],"removed":["ab","b"]}'),
	('orset', '{"elements":{"eggs":[["bob",3]],"milk":[["alice",1],["bob",5]]},"context":{"alice":2,"bob":[[3,3],[5,7]]}}'),
	('lwwreg', '{"value":{"k":[1,2.5,"é"]},"at":"2026-11-26T10:00:00.000001Z","replica":"n1"}'),
	('mvreg', '{"values":[{"value":"A","dots":[["p1",1]]},{"value":{"x":null},"dots":[["p2",4],["p3",1]]}],"context":{"p1":1,"p2":4,"p3":[[1,1],[3,3]]}}'),
	('bcounter', '{"p":{"agent-1":9223372036854775807,"agent-2":7},"d":{"agent-1":3},"t":{"agent-1":{"agent-2":50,"agent-3":20},"agent-2":{"agent-3":1}}}');

-- their canonical bytes, as binary COPY sends them
CREATE FUNCTION pg_temp.send_of(typ text, txt text) RETURNS bytea LANGUAGE plpgsql AS $$
DECLARE
	b bytea;
BEGIN
	EXECUTE format('SELECT %I(%L::%I)', typ || '_send', txt, typ) INTO b;
	RETURN b;
END $$;
ALTER TABLE samples ADD COLUMN bytes bytea;
UPDATE samples SET bytes = pg_temp.send_of(typ, txt);
SELECT typ, length(bytes) AS bytes FROM samples ORDER BY typ;

-- One table per type receives the variants.
DO $$
DECLARE
	t text;
BEGIN
	FOR t IN SELECT typ FROM samples LOOP
		EXECUTE format('CREATE TABLE %I (id int, v %I)', 'recv_' || t, t);
	END LOOP;
END $$;

-- Feeds bytes to the type's receive function: a two-column binary COPY
-- file (id, bytea) read back into (id, T), so the bytes reach T_recv as is.
CREATE TABLE feed_buffer (id int, bytes bytea);
CREATE FUNCTION pg_temp.feed(typ text, id int, bytes bytea, file text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
	DELETE FROM feed_buffer;
	INSERT INTO feed_buffer VALUES (id, bytes);
	EXECUTE format('COPY (SELECT id, bytes FROM feed_buffer) TO %L (FORMAT binary)', file);
	EXECUTE format('COPY %I (id, v) FROM %L (FORMAT binary)', 'recv_' || typ, file);
	RETURN 'ok';
EXCEPTION WHEN others THEN
	RETURN SQLSTATE;
END $$;

-- the value itself, every proper prefix, every value with one bit flipped,
-- and the value with more after it
CREATE TABLE variants AS
SELECT row_number() OVER (ORDER BY typ, kind, n)::int AS id, typ, kind, bytes, NULL::text AS outcome
FROM (SELECT s.typ, 'unchanged' AS kind, 0 AS n, s.bytes FROM samples s
      UNION ALL
      SELECT s.typ, 'truncated', n, substring(s.bytes FROM 1 FOR n)
      FROM samples s, generate_series(0, length(s.bytes) - 1) n
      UNION ALL
      SELECT s.typ, 'bit flipped', n, set_bit(s.bytes, n, 1 - get_bit(s.bytes, n))
      FROM samples s, generate_series(0, 8 * length(s.bytes) - 1) n
      UNION ALL
      SELECT s.typ, 'trailing byte', 0, s.bytes || '\x00'::bytea FROM samples s
      UNION ALL
      SELECT s.typ, 'doubled', 0, s.bytes || s.bytes FROM samples s) v;
UPDATE variants SET outcome = pg_temp.feed(typ, id, bytes, :'binfile');

SELECT typ, kind, outcome, count(*) FROM variants GROUP BY 1, 2, 3 ORDER BY 1, 2, 3;

-- What got in is exactly what was accepted, stored byte for byte, and a
-- valid state: it prints and parses back to itself, merges with itself and
-- with the original, hashes and sorts.
CREATE FUNCTION pg_temp.check_accepted(typ text) RETURNS TABLE (accepted bigint, stored bigint, byte_equal bigint,
	text_round_trip bigint, laws_hold bigint) LANGUAGE plpgsql AS $$
BEGIN
	RETURN QUERY EXECUTE format($q$
		SELECT (SELECT count(*) FROM variants WHERE typ = %1$L AND outcome = 'ok'),
		       count(*),
		       count(*) FILTER (WHERE %2$I(r.v) = v.bytes),
		       count(*) FILTER (WHERE r.v::text::%3$I = r.v),
		       count(*) FILTER (WHERE r.v || r.v = r.v AND r.v || o.v = o.v || r.v
		                        AND crdt_merge(r.v, o.v) = r.v || o.v AND crdt_hash(r.v) IS NOT NULL
		                        AND (r.v ~<~ o.v OR r.v ~>=~ o.v) AND crdt_delta(r.v, r.v) = '{}'::%3$I)
		FROM %4$I r JOIN variants v ON v.id = r.id,
		     (SELECT s.txt::%3$I AS v FROM samples s WHERE s.typ = %1$L) o$q$,
		typ, typ || '_send', typ, 'recv_' || typ);
END $$;
SELECT typ, c.* FROM samples, pg_temp.check_accepted(typ) c ORDER BY typ;
-- the aggregate over every accepted variant and the sample gives a valid state
SELECT typ, regress.state_of(format(
	'SELECT crdt_merge(v)::text::%I FROM (SELECT v FROM %I UNION ALL SELECT %L::%I) x',
	typ, 'recv_' || typ, txt, typ)) AS merge_of_accepted
FROM samples ORDER BY typ;

-- ---------------------------------------------------------------- forged jsonb and json
SELECT typ, input, regress.state_of(format('SELECT (%s)::%I', input, typ)) AS outcome
FROM (VALUES
	('gcounter', $$'{"a":9223372036854775807}'::jsonb$$),
	('gcounter', $$'{"a":9223372036854775808}'::jsonb$$),
	('gcounter', $$'{"a":1E+18}'::jsonb$$),
	('gcounter', $$'{"a":1.0}'::jsonb$$),
	('gcounter', $$'{"a":-0}'::jsonb$$),
	('gcounter', $$jsonb_build_object('a', 1e400)$$),
	('gcounter', $$jsonb_build_object('a', 2^63)$$),
	('gcounter', $$jsonb_build_object('a', 0.5)$$),
	('vclock', $$jsonb_build_object(repeat('x', 64), 1)$$),
	('vclock', $$jsonb_build_object(repeat('x', 65), 1)$$),
	('vclock', $$jsonb_build_object('', 1)$$),
	('vclock', $$jsonb_build_object(chr(1), 1)$$),
	('vclock', $$jsonb_build_object(chr(133), 1)$$),
	('vclock', $$jsonb_build_object('a', NULL::int)$$),
	('vclock', $$jsonb_build_object('a', '1')$$),
	('vclock', $$jsonb_build_array(jsonb_build_object('a', 1))$$),
	('pncounter', $$jsonb_build_object('p', jsonb_build_object('a', 1), 'n', '[]'::jsonb)$$),
	('pncounter', $$jsonb_build_object('p', jsonb_build_object('a', 1), 'x', '{}'::jsonb)$$),
	('gset', $$to_jsonb(ARRAY['b', 'a', 'b'])$$),
	('gset', $$to_jsonb(ARRAY['a', NULL])$$),
	('gset', $$to_jsonb(ARRAY[repeat('x', 4096)])$$),
	('gset', $$to_jsonb(ARRAY[repeat('x', 4097)])$$),
	('gset', $$(SELECT jsonb_agg(i % 1000) FROM generate_series(1, 5000) i)$$),
	('gset', $$(SELECT jsonb_agg(i::text) FROM generate_series(1, 5000) i)$$),
	('twopset', $$jsonb_build_object('elements', jsonb_build_array('a'), 'removed', jsonb_build_array('a'))$$),
	('twopset', $$jsonb_build_object('elements', jsonb_build_array('a'), 'removed', 'b')$$),
	('orset', $$jsonb_build_object('elements', jsonb_build_object('x', '[["a",2]]'::jsonb), 'context', jsonb_build_object('a', 1))$$),
	('orset', $$jsonb_build_object('elements', jsonb_build_object('x', '[["a",1]]'::jsonb, 'y', '[["a",1]]'::jsonb), 'context', jsonb_build_object('a', 1))$$),
	('orset', $$jsonb_build_object('elements', jsonb_build_object('x', '[]'::jsonb), 'context', jsonb_build_object('a', 1))$$),
	('orset', $$jsonb_build_object('context', jsonb_build_object('a', '[[3,2]]'::jsonb))$$),
	('orset', $$jsonb_build_object('context', jsonb_build_object('a', '[[1,2],[3,4]]'::jsonb))$$),
	('orset', $$jsonb_build_object('context', jsonb_build_object('a', '[[1,9223372036854775807]]'::jsonb))$$),
	('orset', $$jsonb_build_object('context', jsonb_build_object('a', '[[1,9223372036854775808]]'::jsonb))$$),
	('lwwreg', $$jsonb_build_object('value', 1, 'at', 1, 'replica', 'a')$$),
	('lwwreg', $$jsonb_build_object('value', 1, 'at', 'infinity', 'replica', 'a')$$),
	('lwwreg', $$jsonb_build_object('value', 1, 'at', '9999-12-31T23:59:59.999999Z', 'replica', 'a')$$),
	('lwwreg', $$jsonb_build_object('value', 1, 'at', '0001-01-01T00:00:00Z', 'replica', 'a')$$),
	('lwwreg', $$jsonb_build_object('value', 1, 'at', '2026-01-01T00:00:00+05:00', 'replica', 'a')$$),
	('lwwreg', $$jsonb_build_object('value', 1, 'at', '2026-01-01T00:00:00Z', 'replica', repeat('r', 65))$$),
	('lwwreg', $$jsonb_build_object('value', 1, 'at', '2026-01-01T00:00:00Z')$$),
	('lwwreg', $$jsonb_build_object('value', 1, 'at', '2026-01-01T00:00:00Z', 'replica', 'a', 'extra', 1)$$),
	('mvreg', $$jsonb_build_object('values', jsonb_build_array(jsonb_build_object('value', 1, 'dots', '[["a",1]]'::jsonb), jsonb_build_object('value', 1, 'dots', '[["b",1]]'::jsonb)), 'context', jsonb_build_object('a', 1, 'b', 1))$$),
	('mvreg', $$jsonb_build_object('values', jsonb_build_array(jsonb_build_object('value', 1, 'dots', '[["a",1]]'::jsonb)), 'context', jsonb_build_object('b', 1))$$),
	('mvreg', $$jsonb_build_object('values', jsonb_build_array(jsonb_build_object('dots', '[["a",1]]'::jsonb)), 'context', jsonb_build_object('a', 1))$$)
) AS t(typ, input);
-- json keeps what jsonb folds: duplicate keys and key order
SELECT typ, input, regress.state_of(format('SELECT %L::json::%I', input, typ)) AS from_json
FROM (VALUES ('gcounter', '{"a":1,"a":2}'), ('gcounter', '{"b":1, "a":2}'), ('gcounter', ' { "a" : 1 } '),
             ('pncounter', '{"p":{},"p":{}}'), ('gset', '["a","a"]'), ('orset', '{"context":{},"context":{}}'),
             ('lwwreg', '{"value":1,"value":2,"at":"2026-01-01T00:00:00Z","replica":"a"}')) AS t(typ, input);
-- register values: nesting up to 512 levels, and what jsonb accepts but a register refuses
SELECT regress.state_of($$SELECT crdt_set('{}'::lwwreg, (repeat('[', 512) || repeat(']', 512))::jsonb, 'a')::text::lwwreg$$) AS depth_512,
       regress.state_of($$SELECT crdt_set('{}'::lwwreg, (repeat('[', 513) || repeat(']', 513))::jsonb, 'a')$$) AS depth_513,
       regress.state_of($$SELECT crdt_set('{}'::mvreg, (repeat('{"a":', 2000) || '1' || repeat('}', 2000))::jsonb, 'a')$$) AS depth_2000,
       regress.state_of($$SELECT crdt_set('{}'::lwwreg, to_jsonb(repeat('x', 16 * 1024 * 1024 - 2)), 'a')$$) AS value_16mb,
       regress.state_of($$SELECT crdt_set('{}'::lwwreg, to_jsonb(repeat('x', 16 * 1024 * 1024 - 1)), 'a')$$) AS value_over_16mb;

-- ---------------------------------------------------------------- the largest counts
SELECT what, regress.state_of(stmt) AS outcome
FROM (VALUES
	('gcounter entry 2^63-1 (text)', $$SELECT '{"a":9223372036854775807}'::gcounter$$),
	('gcounter increment to 2^63-1', $$SELECT crdt_increment('{"a":9223372036854775806}'::gcounter, 1, 'a')$$),
	('gcounter increment past 2^63-1', $$SELECT crdt_increment('{"a":9223372036854775807}'::gcounter, 1, 'a')$$),
	('gcounter increment by 2^63-1', $$SELECT crdt_increment('{}'::gcounter, 9223372036854775807, 'a')$$),
	('gcounter value past 2^63-1', $$SELECT crdt_value('{"a":9223372036854775807,"b":1}'::gcounter)$$),
	('pncounter increment by -2^63', $$SELECT crdt_increment('{}'::pncounter, -9223372036854775808, 'a')$$),
	('pncounter decrement by -2^63', $$SELECT crdt_decrement('{}'::pncounter, -9223372036854775808, 'a')$$),
	('pncounter decrement by 2^63-1', $$SELECT crdt_decrement('{}'::pncounter, 9223372036854775807, 'a')$$),
	('pncounter value -(2^63-1) - 1', $$SELECT crdt_value('{"n":{"a":9223372036854775807,"b":1}}'::pncounter)$$),
	('pncounter value -(2^63-1) - 2', $$SELECT crdt_value('{"n":{"a":9223372036854775807,"b":2}}'::pncounter)$$),
	('pncounter get P-N at the extremes', $$SELECT crdt_get('{"p":{"a":9223372036854775807},"n":{"a":9223372036854775807}}'::pncounter, 'a')$$),
	('vclock tick past 2^63-1', $$SELECT crdt_tick('{"a":9223372036854775807}'::vclock, 'a')$$),
	('vclock value of two maxima', $$SELECT crdt_value('{"a":9223372036854775807,"b":9223372036854775807}'::vclock)$$),
	('vclock distance 2^63-1', $$SELECT vclock_distance('{"a":9223372036854775807}', '{}')$$),
	('vclock distance past 2^63-1', $$SELECT vclock_distance('{"a":9223372036854775807}', '{"b":1}')$$),
	('vclock compare at the maxima', $$SELECT vclock_compare('{"a":9223372036854775807}', '{"a":9223372036854775806,"b":9223372036854775807}')$$),
	('orset add at counter 2^63-1', $$SELECT crdt_add('{"context":{"a":9223372036854775807}}'::orset, 'x', 'a')$$),
	('orset add at counter 2^63-2', $$SELECT crdt_add('{"context":{"a":9223372036854775806}}'::orset, 'x', 'a')$$),
	('orset range up to 2^63-1', $$SELECT '{"context":{"a":[[2,9223372036854775807]]}}'::orset || '{"context":{"a":1}}'$$),
	('mvreg write at counter 2^63-1', $$SELECT crdt_set('{"context":{"a":9223372036854775807}}'::mvreg, '1', 'a')$$),
	('lwwreg write after 9999-12-31 23:59:59.999999', $$SELECT crdt_set(crdt_set_at('{}'::lwwreg, '1', '9999-12-31 23:59:59.999999+00', 'a'), '2', 'a')$$),
	('lwwreg write at 10000-01-01', $$SELECT crdt_set_at('{}'::lwwreg, '1', '10000-01-01 00:00:00+00', 'a')$$),
	('lwwreg write at -infinity', $$SELECT crdt_set_at('{}'::lwwreg, '1', '-infinity', 'a')$$),
	('binary count 2^63-1', $$SELECT crdt_value(x) FROM (SELECT '{"a":9223372036854775807}'::gcounter AS x) s WHERE gcounter_send(x) = '\x01010061ffffffffffffffff7f00'$$)
) AS t(what, stmt);
-- the same through binary input: a 9-byte varint holds 2^63-1, not 2^63 or more
CREATE TABLE recv_counts (id int, v gcounter);
SELECT what, pg_temp.feed('gcounter', 0, bytes, :'binfile') AS outcome
FROM (VALUES ('2^63-1', '\x01010061ffffffffffffffff7f00'::bytea),
             ('2^63', '\x0101006180808080808080808001'::bytea || '\x00'),
             ('2^64-1', '\x01010061ffffffffffffffffff01'::bytea || '\x00')) AS t(what, bytes);
SELECT crdt_value(v) FROM recv_gcounter WHERE id = 0;
DELETE FROM recv_gcounter WHERE id = 0;
DROP TABLE recv_counts;
-- aggregates at the maxima: the merge keeps the maximum, the value overflows only when summed
SELECT crdt_merge(g) AS merged, regress.state_of('SELECT crdt_value(crdt_merge(g)) FROM (VALUES (''{"a":9223372036854775807}''::gcounter), (''{"b":1}'')) x(g)') AS value
FROM (VALUES ('{"a":9223372036854775807}'::gcounter), ('{"a":5,"b":9223372036854775807}')) x(g);

-- ---------------------------------------------------------------- overlong replica ids
-- 64 bytes are fine, 65 are not, counted in bytes of UTF-8
SELECT id_bytes, chars,
       regress.state_of(format('SELECT crdt_tick(NULL::vclock, %L)', id)) AS tick,
       regress.state_of(format('SELECT crdt_increment(NULL::gcounter, 1, %L)', id)) AS g_inc,
       regress.state_of(format('SELECT crdt_increment(NULL::pncounter, -1, %L)', id)) AS pn_inc,
       regress.state_of(format('SELECT crdt_decrement(NULL::pncounter, 1, %L)', id)) AS pn_dec,
       regress.state_of(format('SELECT crdt_add(NULL::orset, ''e'', %L)', id)) AS or_add,
       regress.state_of(format('SELECT crdt_set(NULL::lwwreg, ''1'', %L)', id)) AS lww_set,
       regress.state_of(format('SELECT crdt_set_at(NULL::lwwreg, ''1'', now(), %L)', id)) AS lww_set_at,
       regress.state_of(format('SELECT crdt_set(NULL::mvreg, ''1'', %L)', id)) AS mv_set,
       regress.state_of(format('SELECT crdt_get(''{}''::vclock, %L)', id)) AS get,
       regress.state_of(format('SET crdt.replica_id = %L', id)) AS setting,
       regress.state_of(format('SELECT %L::text::vclock', format('{"%s":1}', id))) AS vclock_text,
       regress.state_of(format('SELECT %L::orset', format('{"context":{"%s":1}}', id))) AS orset_text,
       regress.state_of(format('SELECT %L::lwwreg', format('{"value":1,"at":"2026-01-01T00:00:00Z","replica":"%s"}', id))) AS lwwreg_text,
       regress.state_of(format('SELECT %L::mvreg', format('{"values":[{"value":1,"dots":[["%s",1]]}],"context":{"%s":1}}', id, id))) AS mvreg_text
FROM (VALUES (repeat('x', 64)), (repeat('x', 65)), (repeat('€', 21)), (repeat('€', 22)),
             (repeat('😀', 16)), (repeat('😀', 17)), (repeat('x', 63) || 'é'), (repeat('x', 1000)),
             (''), (E'a\tb'), (E'a\u0085b')) AS t(id),
     LATERAL (SELECT octet_length(id) AS id_bytes, length(id) AS chars) l
ORDER BY id_bytes, chars;
RESET crdt.replica_id;
SHOW crdt.replica_id;

-- ---------------------------------------------------------------- 1,000,000-entry values
-- Built with generate_series and the aggregate, then checked through text,
-- binary COPY, jsonb, merge, delta and hash.
CREATE TABLE big (name text PRIMARY KEY, c vclock, p pncounter, g gset, t twopset, o orset, m mvreg, l lwwreg);
INSERT INTO big (name, c)
SELECT 'vclock: 1,000,000 replicas', crdt_merge(crdt_tick(NULL::vclock, 'node-' || i)) FROM generate_series(1, 1000000) i;
INSERT INTO big (name, p)
SELECT 'pncounter: 1,000,000 replicas in P and in N',
       crdt_merge(crdt_decrement(crdt_increment(NULL::pncounter, i, 'r' || i), 1, 'r' || i))
FROM generate_series(1, 1000000) i;
INSERT INTO big (name, g)
SELECT 'gset: 1,000,000 elements', crdt_merge(crdt_add(NULL::gset, md5(i::text))) FROM generate_series(1, 1000000) i;
INSERT INTO big (name, t)
SELECT 'twopset: 1,000,000 elements, half removed',
       crdt_merge(CASE WHEN i % 2 = 0 THEN crdt_remove(crdt_add(NULL::twopset, 'e' || i), 'e' || i)
                       ELSE crdt_add(NULL::twopset, 'e' || i) END)
FROM generate_series(1, 1000000) i;
-- orset: 1,000 replicas each adding 1,000 elements in turn (one state per replica, merged)
INSERT INTO big (name, o)
SELECT 'orset: 1,000,000 elements from 1,000 replicas', crdt_merge(s)
FROM (SELECT (format('{"elements":{%s},"context":{"r%s":1000}}',
                     string_agg(format('"e%s":[["r%s",%s]]', i, r, (i / 1000) + 1), ','),
                     r))::orset AS s
      FROM generate_series(0, 999999) i, LATERAL (SELECT i % 1000 AS r) x
      GROUP BY r) per_replica;
INSERT INTO big (name, m)
SELECT 'mvreg: 1,000,000 concurrent values', crdt_merge(crdt_set(NULL::mvreg, to_jsonb(i), 'w' || i))
FROM generate_series(1, 1000000) i;
INSERT INTO big (name, l)
SELECT 'lwwreg: a 1,000,000-element array value',
       crdt_set_at(NULL::lwwreg, (SELECT jsonb_agg(i) FROM generate_series(1, 1000000) i), '2026-01-01', 'a');
SELECT name,
       coalesce(crdt_value(c)::text, crdt_value(p)::text, crdt_cardinality(g)::text, crdt_cardinality(t)::text,
                crdt_cardinality(o)::text, array_length(crdt_value(m), 1)::text,
                jsonb_array_length(crdt_value(l))::text) AS value,
       coalesce(length(vclock_send(c)), length(pncounter_send(p)), length(gset_send(g)), length(twopset_send(t)),
                length(orset_send(o)), length(mvreg_send(m)), length(lwwreg_send(l))) AS canonical_bytes
FROM big ORDER BY name;
-- text and binary COPY out and in, and jsonb
CREATE TABLE big_text (LIKE big);
CREATE TABLE big_binary (LIKE big);
COPY big TO :'txtfile';
COPY big_text FROM :'txtfile';
COPY big TO :'binfile' (FORMAT binary);
COPY big_binary FROM :'binfile' (FORMAT binary);
CREATE TABLE big_jsonb AS
SELECT name, c::jsonb::vclock AS c, p::jsonb::pncounter AS p, g::jsonb::gset AS g, t::jsonb::twopset AS t,
       o::jsonb::orset AS o, m::jsonb::mvreg AS m, l::jsonb::lwwreg AS l FROM big;
SELECT b.name,
       (x.c, x.p, x.g, x.t, x.o, x.m, x.l) IS NOT DISTINCT FROM (b.c, b.p, b.g, b.t, b.o, b.m, b.l) AS text_copy,
       (y.c, y.p, y.g, y.t, y.o, y.m, y.l) IS NOT DISTINCT FROM (b.c, b.p, b.g, b.t, b.o, b.m, b.l) AS binary_copy,
       (z.c, z.p, z.g, z.t, z.o, z.m, z.l) IS NOT DISTINCT FROM (b.c, b.p, b.g, b.t, b.o, b.m, b.l) AS jsonb,
       coalesce(crdt_hash(b.c) = crdt_hash(z.c), crdt_hash(b.p) = crdt_hash(z.p), crdt_hash(b.g) = crdt_hash(z.g),
                crdt_hash(b.t) = crdt_hash(z.t), crdt_hash(b.o) = crdt_hash(z.o), crdt_hash(b.m) = crdt_hash(z.m),
                crdt_hash(b.l) = crdt_hash(z.l)) AS same_hash
FROM big b JOIN big_text x USING (name) JOIN big_binary y USING (name) JOIN big_jsonb z USING (name)
ORDER BY b.name;
-- merge with itself changes nothing; the delta against itself is empty; against nothing, all of it
SELECT name,
       coalesce(c || c = c, p || p = p, g || g = g, t || t = t, o || o = o, m || m = m, l || l = l) AS idempotent,
       coalesce(crdt_delta(c, c) = '{}', crdt_delta(p, p) = '{}', crdt_delta(g, g) = '{}', crdt_delta(t, t) = '{}',
                crdt_delta(o, o) = '{}', crdt_delta(m, m) = '{}', crdt_delta(l, l) = '{}') AS empty_delta,
       coalesce(crdt_delta(c, '{}') = c, crdt_delta(p, '{}') = p, crdt_delta(g, '{}') = g, crdt_delta(t, '{}') = t,
                crdt_delta(o, '{}') = o, crdt_delta(m, '{}') = m, crdt_delta(l, '{}') = l) AS full_delta
FROM big ORDER BY name;
-- one more write to each lands in the right place
SELECT (SELECT crdt_value(crdt_tick(c, 'node-1')) FROM big WHERE c IS NOT NULL) AS vclock_tick,
       (SELECT crdt_get(crdt_increment(p, 5, 'r7'), 'r7') FROM big WHERE p IS NOT NULL) AS pncounter_r7,
       (SELECT crdt_cardinality(crdt_add(g, 'new')) FROM big WHERE g IS NOT NULL) AS gset_add,
       (SELECT crdt_cardinality(crdt_remove(t, 'e1')) FROM big WHERE t IS NOT NULL) AS twopset_remove,
       (SELECT crdt_cardinality(crdt_remove(crdt_add(o, 'e5', 'r5'), 'e6')) FROM big WHERE o IS NOT NULL) AS orset_add_remove,
       (SELECT crdt_value(crdt_set(m, '"one"', 'w1')) FROM big WHERE m IS NOT NULL) AS mvreg_set;
DROP TABLE big, big_text, big_binary, big_jsonb;

-- ---------------------------------------------------------------- the size limits (54000)
-- 10,000,000 keys is the most a map or key list may hold.  Binary input is
-- built from groups: a 3-letter prefix, then that prefix followed by 1, 2,
-- ... letters 'a', each entry sharing all of the previous key.
CREATE FUNCTION pg_temp.varint(v bigint) RETURNS bytea LANGUAGE sql IMMUTABLE AS $$
	SELECT CASE WHEN v < 128 THEN set_byte('\x00'::bytea, 0, v::int)
	            ELSE set_byte(set_byte('\x0000'::bytea, 0, (v % 128 + 128)::int), 1, (v / 128)::int) END $$;
CREATE FUNCTION pg_temp.prefix(g int) RETURNS text LANGUAGE sql IMMUTABLE AS $$
	SELECT chr(97 + g / 676) || chr(97 + (g / 26) % 26) || chr(97 + g % 26) $$;
-- a gset (key list, front-coded: length + 1, shared, suffix) of n keys, k per group
CREATE FUNCTION pg_temp.gset_bytes(n bigint, k int) RETURNS bytea LANGUAGE plpgsql AS $$
DECLARE
	rest bytea := (SELECT string_agg('\x02'::bytea || pg_temp.varint(j + 2) || '\x61'::bytea, ''::bytea ORDER BY j)
	               FROM generate_series(1, k - 1) j);
	groups int := ((n + k - 1) / k)::int;
	last_rest bytea;
BEGIN
	last_rest := substring(rest FROM 1 FOR (select coalesce(sum(length(pg_temp.varint(j + 2)) + 2), 0)
	                                        FROM generate_series(1, (n - (groups - 1)::bigint * k - 1)::int) j)::int);
	RETURN '\x01'::bytea || string_agg(
		pg_temp.varint(4 - s) || pg_temp.varint(s) || convert_to(substring(pg_temp.prefix(g) FROM s + 1), 'UTF8')
		|| CASE WHEN g = groups - 1 THEN last_rest ELSE rest END, ''::bytea ORDER BY g)
		|| '\x00'::bytea
	FROM generate_series(0, groups - 1) g,
	     LATERAL (SELECT CASE WHEN g = 0 THEN 0 WHEN g % 26 <> 0 THEN 2 WHEN g % 676 <> 0 THEN 1 ELSE 0 END AS s) x;
END $$;
-- the construction is a valid gset: 3 groups of 4, minus one
CREATE TABLE recv_limit (id int, v gset);
SELECT pg_temp.feed('limit', 1, pg_temp.gset_bytes(11, 4), :'binfile') AS small;
SELECT v FROM recv_limit;
TRUNCATE recv_limit;
SELECT pg_temp.feed('limit', 1, pg_temp.gset_bytes(10000000, 4094), :'binfile') AS ten_million,
       pg_temp.feed('limit', 2, pg_temp.gset_bytes(10000001, 4094), :'binfile') AS ten_million_and_one;
SELECT id, crdt_cardinality(v), length(gset_send(v)) AS bytes FROM recv_limit;
-- the same for a map (vclock): ids of up to 64 bytes, so a 4-letter
-- prefix and 61 per group (map entries: suffix length, shared, suffix, count)
CREATE FUNCTION pg_temp.prefix4(g int) RETURNS text LANGUAGE sql IMMUTABLE AS $$
	SELECT chr(97 + g / 17576) || chr(97 + (g / 676) % 26) || chr(97 + (g / 26) % 26) || chr(97 + g % 26) $$;
CREATE FUNCTION pg_temp.vclock_bytes(n bigint) RETURNS bytea LANGUAGE plpgsql AS $$
DECLARE
	k int := 61;
	rest bytea := (SELECT string_agg('\x01'::bytea || pg_temp.varint(j + 3) || '\x6101'::bytea, ''::bytea ORDER BY j)
	               FROM generate_series(1, 60) j);
	groups int := ((n + k - 1) / k)::int;
BEGIN
	RETURN '\x01'::bytea || string_agg(
		pg_temp.varint(4 - s) || pg_temp.varint(s) || convert_to(substring(pg_temp.prefix4(g) FROM s + 1), 'UTF8')
		|| '\x01'::bytea || CASE WHEN g = groups - 1 THEN substring(rest FROM 1 FOR 4 * (n - g::bigint * k - 1)::int) ELSE rest END,
		''::bytea ORDER BY g)
		|| '\x00'::bytea
	FROM generate_series(0, groups - 1) g,
	     LATERAL (SELECT CASE WHEN g = 0 THEN 0 WHEN g % 26 <> 0 THEN 3 WHEN g % 676 <> 0 THEN 2
	                          WHEN g % 17576 <> 0 THEN 1 ELSE 0 END AS s) x;
END $$;
SELECT pg_temp.feed('vclock', -1, pg_temp.vclock_bytes(125), :'binfile') AS small,
       pg_temp.feed('vclock', -2, pg_temp.vclock_bytes(10000001), :'binfile') AS ten_million_and_one;
SELECT id, crdt_value(v) FROM recv_vclock WHERE id < 0;
-- A value whose text form passes 1 GB: 270,000 elements of 4096 bytes that
-- share 4092 bytes each (about 5 bytes each in binary).
CREATE FUNCTION pg_temp.wide_gset_bytes(n int) RETURNS bytea LANGUAGE sql AS $$
	SELECT '\x01'::bytea || string_agg(
		CASE WHEN i = 0 THEN pg_temp.varint(4097) || '\x00'::bytea || convert_to(repeat('a', 4092) || 'aaaa', 'UTF8')
		     ELSE pg_temp.varint(d + 1) || pg_temp.varint(4096 - d) || convert_to(right(s, d), 'UTF8') END,
		''::bytea ORDER BY i) || '\x00'::bytea
	FROM generate_series(0, n - 1) i,
	     LATERAL (SELECT chr(97 + i / 17576) || chr(97 + (i / 676) % 26) || chr(97 + (i / 26) % 26) || chr(97 + i % 26) AS s,
	                     CASE WHEN i % 17576 = 0 THEN 4 WHEN i % 676 = 0 THEN 3 WHEN i % 26 = 0 THEN 2 ELSE 1 END AS d) x $$;
SELECT pg_temp.feed('limit', 3, pg_temp.wide_gset_bytes(270000), :'binfile') AS wide;
SELECT crdt_cardinality(v) AS elements, length(gset_send(v)) AS bytes,
       octet_length(crdt_hash(v)::text) > 0 AS hashes, v || v = v AS merges
FROM recv_limit WHERE id = 3;
-- so it cannot be printed (nor dumped in text form), only moved in binary
SELECT regress.state_of('SELECT length(v::text) FROM recv_limit WHERE id = 3') AS as_text,
       regress.state_of('SELECT crdt_value(v) FROM recv_limit WHERE id = 3') AS as_array;
SELECT 'still working' AS session;
DROP TABLE recv_limit;

-- ---------------------------------------------------------------- aggregates: NULLs, empty groups, one huge group
CREATE TABLE agg_input (typ text, k int, i int, v text);
INSERT INTO agg_input
SELECT s.typ, k, i, CASE WHEN (k, i) IN ((2, 2), (3, 1)) THEN a WHEN (k, i) = (2, 4) THEN b END
FROM (VALUES
	('vclock', '{"a":1}', '{"b":2}'),
	('gcounter', '{"a":1}', '{"a":3,"b":1}'),
	('pncounter', '{"p":{"a":1}}', '{"n":{"a":2}}'),
	('gset', '["x"]', '["y"]'),
	('twopset', '{"elements":["x"]}', '{"removed":["x"]}'),
	('orset', '{"elements":{"x":[["a",1]]},"context":{"a":1}}', '{"elements":{"y":[["b",1]]},"context":{"b":1}}'),
	('lwwreg', '{"value":1,"at":"2026-01-01T00:00:00Z","replica":"a"}', '{"value":2,"at":"2026-01-02T00:00:00Z","replica":"b"}'),
	('mvreg', '{"values":[{"value":1,"dots":[["a",1]]}],"context":{"a":1}}', '{"values":[{"value":2,"dots":[["b",1]]}],"context":{"b":1}}')
) AS s(typ, a, b),
     (VALUES (1), (2), (3)) g(k), generate_series(1, 5) i
WHERE k <> 3 OR i = 1;
-- group 1: only NULLs; group 2: NULL, a, NULL, b, NULL; group 3: just a; no group 4
CREATE FUNCTION pg_temp.agg_cases(typ text) RETURNS TABLE (case_name text, result text) LANGUAGE plpgsql AS $$
BEGIN
	RETURN QUERY EXECUTE format($q$
		WITH x AS (SELECT k, i, v::%1$I AS v FROM agg_input WHERE typ = %2$L)
		SELECT 'group ' || k, coalesce(crdt_merge(v)::text, 'NULL') FROM x GROUP BY k
		UNION ALL SELECT 'group 4 (no rows)', coalesce((SELECT crdt_merge(v)::text FROM x WHERE k = 4), 'NULL')
		UNION ALL SELECT 'FILTER (WHERE false)', coalesce((SELECT crdt_merge(v) FILTER (WHERE false)::text FROM x), 'NULL')
		UNION ALL SELECT 'group 2 = a || b', ((SELECT crdt_merge(v) FROM x WHERE k = 2) =
		                                     (SELECT crdt_merge(a.v, b.v) FROM x a, x b WHERE (a.k, a.i, b.k, b.i) = (2, 2, 2, 4)))::text
		UNION ALL SELECT 'grouping sets, empty set', string_agg(coalesce(m::text, 'NULL'), '; ' ORDER BY m::text)
		          FROM (SELECT crdt_merge(v) AS m FROM x WHERE k = 4 GROUP BY GROUPING SETS ((k), ())) gs
		UNION ALL SELECT 'window, NULL first', string_agg(coalesce(w::text, 'NULL'), '; ' ORDER BY i)
		          FROM (SELECT i, crdt_merge(v) OVER (ORDER BY i) AS w FROM x WHERE k = 2) win
		ORDER BY 1$q$, typ, typ);
END $$;
SELECT typ, c.* FROM (SELECT DISTINCT typ FROM agg_input) t, pg_temp.agg_cases(typ) c ORDER BY typ, case_name;

-- parallel partial aggregates over workers that see only NULLs
CREATE TABLE mostly_null (i int, g gcounter, s orset);
INSERT INTO mostly_null SELECT i, CASE WHEN i = 77777 THEN '{"a":5}'::gcounter END,
                               CASE WHEN i = 88888 THEN crdt_add(NULL::orset, 'only', 'a') END
FROM generate_series(1, 200000) i;
ANALYZE mostly_null;
SET max_parallel_workers_per_gather = 2;
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SELECT crdt_merge(g) AS g, crdt_value(crdt_merge(s)) AS s, crdt_merge(g) FILTER (WHERE i < 77777) IS NULL AS none
FROM mostly_null;
SELECT i % 4 AS k, crdt_merge(g) AS g FROM mostly_null GROUP BY 1 ORDER BY 1;
RESET max_parallel_workers_per_gather;
RESET parallel_setup_cost;
RESET parallel_tuple_cost;
RESET min_parallel_table_scan_size;
DROP TABLE mostly_null;

-- one group of 1,000,000 rows, against the same answer computed without the extension
CREATE TABLE huge AS
SELECT i, 'r' || (i % 1000) AS r, (i::bigint * 7919) % 1000003 AS n FROM generate_series(1, 1000000) i;
WITH per_replica AS (SELECT r, max(n) AS n FROM huge GROUP BY r)
SELECT (SELECT crdt_value(crdt_merge(crdt_increment(NULL::gcounter, n + 1, r))) FROM huge)
         = (SELECT sum(n + 1) FROM per_replica) AS gcounter_exact,
       (SELECT crdt_value(crdt_merge(crdt_tick(NULL::vclock, r))) FROM huge) = 1000 AS vclock_exact,
       (SELECT crdt_value(crdt_merge(CASE WHEN i % 2 = 0 THEN crdt_increment(NULL::pncounter, n + 1, r)
                                          ELSE crdt_decrement(NULL::pncounter, n + 1, r || 'n') END)) FROM huge)
         = (SELECT sum(CASE WHEN i % 2 = 0 THEN n + 1 ELSE -(n + 1) END)
            FROM (SELECT DISTINCT ON (r, i % 2) r, i, n FROM huge ORDER BY r, i % 2, n DESC) m) AS pncounter_exact,
       (SELECT crdt_cardinality(crdt_merge(crdt_add(NULL::gset, (n % 50000)::text))) FROM huge)
         = (SELECT count(DISTINCT n % 50000) FROM huge) AS gset_exact,
       (SELECT crdt_value(crdt_merge(crdt_set_at(NULL::lwwreg, to_jsonb(n), '2026-01-01'::timestamptz + i * interval '1 us', r)))
        FROM huge) = (SELECT to_jsonb(n) FROM huge ORDER BY i DESC LIMIT 1) AS lwwreg_exact;
DROP TABLE huge;

-- ---------------------------------------------------------------- and the session is fine
SELECT '{"a":1}'::vclock || '{"b":2}' AS still_working;
DO $$
DECLARE
	t text;
BEGIN
	FOR t IN SELECT typ FROM samples LOOP
		EXECUTE format('DROP TABLE %I', 'recv_' || t);
	END LOOP;
END $$;
DROP TABLE samples, variants, agg_input, feed_buffer;
-- leave no large files behind
COPY (SELECT WHERE false) TO :'binfile';
COPY (SELECT WHERE false) TO :'txtfile';
