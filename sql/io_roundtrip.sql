--
-- Round trips text <-> type <-> jsonb/json <-> binary, the stored bytes,
-- and crdt_hash.
--
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS crdt_reconcile;
RESET client_min_messages;

CREATE TABLE samples (
	id int PRIMARY KEY,
	v vclock,
	g gcounter,
	p pncounter
);
INSERT INTO samples VALUES
	(1, '{}', '{}', '{}'),
	(2, '{"a":1}', '{"a":1}', '{"p":{"a":1}}'),
	(3, '{"agent-041":3,"agent-042":9,"agent-1":1}', '{"agent-041":3,"agent-042":9}', '{"n":{"agent-042":2}}'),
	(4, '{"é":5,"日本":6,"😀":7,"q\"uote\\":8}', '{"é":5,"😀":7}', '{"p":{"日本":6},"n":{"é":5}}'),
	(5, '{"a":9223372036854775807}', '{"a":9223372036854775807}', '{"p":{"a":9223372036854775807},"n":{"a":9223372036854775807}}'),
	(6, NULL, NULL, NULL);

-- text: output parses back to the same value
SELECT id, v, g, p FROM samples ORDER BY id;
SELECT bool_and(v::text::vclock = v) AS vclock_text,
       bool_and(g::text::gcounter = g) AS gcounter_text,
       bool_and(p::text::pncounter = p) AS pncounter_text
FROM samples WHERE id < 6;

-- jsonb and json casts both ways; jsonb orders keys its own way, the type restores byte order
SELECT id, v::jsonb AS v_jsonb, p::json AS p_json FROM samples WHERE id IN (3, 4) ORDER BY id;
SELECT bool_and(v::jsonb::vclock = v AND v::json::vclock = v) AS vclock_json,
       bool_and(g::jsonb::gcounter = g AND g::json::gcounter = g) AS gcounter_json,
       bool_and(p::jsonb::pncounter = p AND p::json::pncounter = p) AS pncounter_json
FROM samples WHERE id < 6;
-- to_jsonb, row_to_json and jsonb_build_object embed the value as an object, not a string
SELECT to_jsonb(s) AS row_jsonb FROM samples s WHERE id = 2;
SELECT jsonb_build_object('budget', '{"p":{"a":5}}'::pncounter) -> 'budget' -> 'p' ->> 'a' AS nested;
-- jsonb_populate_record and assignment from jsonb
CREATE TABLE from_json (g gcounter);
INSERT INTO from_json VALUES ('{"x":2}'::jsonb);
SELECT g FROM from_json;
SELECT (jsonb_populate_record(NULL::samples, '{"id":9,"g":{"z":1}}')).g;

-- binary COPY out and in: the table copied through file into a new table
-- copy_name, and whether every row came back equal
\getenv abs_builddir PG_ABS_BUILDDIR
CREATE FUNCTION pg_temp.binary_copy(tbl regclass, copy_name text, file text) RETURNS text
	LANGUAGE plpgsql AS $$
DECLARE
	outcome text;
BEGIN
	EXECUTE format('COPY %s TO %L (FORMAT binary)', tbl, file);
	EXECUTE format('CREATE TABLE %I (LIKE %s)', copy_name, tbl);
	EXECUTE format('COPY %I FROM %L (FORMAT binary)', copy_name, file);
	EXECUTE format('SELECT count(*) || '' rows, '' || count(*) FILTER (WHERE s IS NOT DISTINCT FROM c) || '' identical''
	                FROM %s s JOIN %I c USING (id)', tbl, copy_name) INTO outcome;
	RETURN outcome;
END $$;
\set binfile :abs_builddir '/results/io_roundtrip.bin'
SELECT pg_temp.binary_copy('samples', 'samples_copy', :'binfile');

-- The stored form, which is also the binary wire form: a version byte (01),
-- then each map as front-coded entries [suffix length][shared prefix length]
-- [suffix][count varint], ended by a zero byte.  "agent-042" shares 8
-- bytes with "agent-041", so it costs 4 bytes.
SELECT id, vclock_send(v) AS vclock_bytes, pg_column_size(v) AS size FROM samples WHERE id <= 3 ORDER BY id;
SELECT pncounter_send('{"p":{"a":1},"n":{"b":300}}') AS pncounter_bytes;

-- crdt_hash: XXH64 (seed 0) of exactly those bytes, the same number on
-- every platform and release.  0xdd8f621dbf7f57f1 is XXH64 of 01 00.
SELECT to_hex(crdt_hash('{}'::vclock)) AS empty_vclock,
       to_hex(crdt_hash('{}'::gcounter)) AS empty_gcounter,
       to_hex(crdt_hash('{}'::pncounter)) AS empty_pncounter,
       crdt_hash('{"a":3,"b":5}'::vclock) AS ab,
       crdt_hash(' { "b":5, "a":3 } '::vclock) AS same_state_same_hash;
SELECT id, crdt_hash(v) AS v_hash, crdt_hash(g) AS g_hash, crdt_hash(p) AS p_hash
FROM samples ORDER BY id;

-- The hash opclass: GROUP BY, DISTINCT, UNION and hash joins on CRDT columns.
SELECT g, count(*) FROM (VALUES ('{"a":1}'::gcounter), ('{"a":1}'), ('{"b":1}'), (' {"a" : 1} ')) x(g)
GROUP BY g ORDER BY g::text;
SELECT count(DISTINCT v) AS distinct_clocks FROM (SELECT v FROM samples UNION ALL SELECT v FROM samples) x;
SELECT v FROM samples WHERE id <= 2 UNION SELECT v FROM samples WHERE id <= 3 ORDER BY v;
SET enable_mergejoin = off;
SET enable_nestloop = off;
EXPLAIN (COSTS OFF) SELECT * FROM samples a JOIN samples_copy b ON a.v = b.v;
SELECT count(*) AS joined FROM samples a JOIN samples_copy b ON a.v = b.v;
RESET enable_mergejoin;
RESET enable_nestloop;

-- The btree opclass (a fixed total order, no causal meaning): indexes,
-- merge joins, ORDER BY.
CREATE INDEX samples_copy_v ON samples_copy (v);
SET enable_hashjoin = off;
SET enable_nestloop = off;
SET enable_seqscan = off;
EXPLAIN (COSTS OFF) SELECT count(*) FROM samples a JOIN samples_copy b ON a.v = b.v;
SELECT count(*) AS merge_joined FROM samples a JOIN samples_copy b ON a.v = b.v;
EXPLAIN (COSTS OFF) SELECT id FROM samples_copy WHERE v = '{"a":1}';
SELECT id FROM samples_copy WHERE v = '{"a":1}';
RESET enable_hashjoin;
RESET enable_nestloop;
RESET enable_seqscan;
SELECT id, v FROM samples ORDER BY v, id;

DROP TABLE samples, samples_copy, from_json;

-- ------------------------------------------------- sets and registers
CREATE TABLE samples2 (
	id int PRIMARY KEY,
	g gset,
	t twopset,
	o orset,
	l lwwreg,
	m mvreg
);
INSERT INTO samples2 VALUES
	(1, '{}', '{}', '{}', '{}', '{}'),
	(2, '["element-001","element-002","é"]', '{"elements":["a"],"removed":["b"]}',
	    crdt_add(crdt_add('{}'::orset, 'element-001', 'agent-1'), 'élan', 'agent-2'),
	    crdt_set_at('{}'::lwwreg, '{"plan": [1, "two", null, true]}', '2026-11-26 10:00:00+00', 'agent-1'),
	    crdt_set('{}'::mvreg, '{"k": "v"}', 'agent-1') || crdt_set('{}'::mvreg, '"other"', 'agent-2')),
	(3, '["tab\there","quote\""]', '{"removed":["gone"]}', '{"context":{"x":[[2,3]]}}',
	    crdt_set_at('{}'::lwwreg, '"old"', '0001-01-01 00:00:00+00', 'r'), '{"context":{"r":5}}'),
	(4, NULL, NULL, NULL, NULL, NULL);

SELECT bool_and(g::text::gset = g AND t::text::twopset = t AND o::text::orset = o
                AND l::text::lwwreg = l AND m::text::mvreg = m) AS text_round_trip,
       bool_and(g::jsonb::gset = g AND t::jsonb::twopset = t AND o::jsonb::orset = o
                AND l::jsonb::lwwreg = l AND m::jsonb::mvreg = m) AS jsonb_round_trip,
       bool_and(g::json::gset = g AND t::json::twopset = t AND o::json::orset = o
                AND l::json::lwwreg = l AND m::json::mvreg = m) AS json_round_trip
FROM samples2 WHERE id < 4;

-- The jsonb cast reads the printed text itself (jsonb_in only for what it
-- leaves: \u escapes, deep nesting); both must build the same jsonb.
SELECT count(*) AS values_checked,
       count(*) FILTER (WHERE direct::text <> via_text::text OR pg_column_size(direct) <> pg_column_size(via_text)) AS differing
FROM (SELECT g, t, o, l, m FROM samples2 WHERE id < 4
      UNION ALL
      SELECT '["a\\b/c\"d\u0001e", "\n\r\t\b\f"]', NULL, NULL,
             crdt_set_at('{}'::lwwreg, v, '2026-11-26 10:00:00+00', 'agent-1'), crdt_set('{}'::mvreg, v, 'agent-1')
      FROM (VALUES ('[0, -0, -0.0, 2.50, 1e5, 1E-3, -7, 123456789012345678, -1234567890123456789, 99999999999999999999]'::jsonb),
                   ('{"deep": [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}'),
                   ('[true, false, null, "", {}, [], {"": ""}, "\u00e9\u20ac"]')) n(v)) s,
     LATERAL (VALUES (g::jsonb, g::text::jsonb), (t::jsonb, t::text::jsonb), (o::jsonb, o::text::jsonb),
                     (l::jsonb, l::text::jsonb), (m::jsonb, m::text::jsonb)) x(direct, via_text)
WHERE direct IS NOT NULL;
-- ... and for random values: nested arrays and objects, keys and strings
-- with escapes, numbers in every form, as register values and set elements
CREATE FUNCTION pg_temp.random_json(depth int) RETURNS jsonb LANGUAGE plpgsql AS $$
BEGIN
	IF depth = 0 OR random() < 0.4 THEN
		RETURN (ARRAY['0', '-0', '1.50', '-7', '1e5', '2E-3', '123456789012345678', '-9223372036854775808',
		              '99999999999999999999', 'true', 'false', 'null', '""', '"a\\b"', '"q\"uote"', '"tab\there"',
		              '"\u00e9"', '"\u0001"', '"/"'])[1 + floor(random() * 19)::int]::jsonb;
	ELSIF random() < 0.5 THEN
		RETURN (SELECT coalesce(jsonb_agg(pg_temp.random_json(depth - 1)), '[]')
		        FROM generate_series(1, floor(random() * 4)::int));
	END IF;
	RETURN (SELECT coalesce(jsonb_object_agg(i || chr(32 + floor(random() * 95)::int), pg_temp.random_json(depth - 1)), '{}')
	        FROM generate_series(1, floor(random() * 4)::int) i);
END
$$;
SELECT setseed(0.42);
SELECT count(*) AS values_checked,
       count(*) FILTER (WHERE direct::text <> via_text::text OR pg_column_size(direct) <> pg_column_size(via_text)) AS differing
FROM (SELECT crdt_set_at('{}'::lwwreg, pg_temp.random_json(5), '2026-11-26 10:00:00+00', 'agent-1') AS l,
             crdt_add('{}'::gset, pg_temp.random_json(2)::text) AS g
      FROM generate_series(1, 500)) s,
     LATERAL (VALUES (l::jsonb, l::text::jsonb), (g::jsonb, g::text::jsonb)) x(direct, via_text);

\set binfile2 :abs_builddir '/results/io_roundtrip2.bin'
SELECT pg_temp.binary_copy('samples2', 'samples2_copy', :'binfile2');

-- The stored bytes (front-coded elements share "element-00") and the
-- stable hashes, for the record.
SELECT id, gset_send(g) AS gset_bytes, pg_column_size(g) AS g_size, pg_column_size(o) AS o_size,
       crdt_hash(g) AS g_hash, crdt_hash(t) AS t_hash, crdt_hash(o) AS o_hash,
       crdt_hash(l) AS l_hash, crdt_hash(m) AS m_hash
FROM samples2 ORDER BY id;

-- GROUP BY, DISTINCT and ORDER BY work on every type.
SELECT count(DISTINCT g) AS g, count(DISTINCT t) AS t, count(DISTINCT o) AS o,
       count(DISTINCT l) AS l, count(DISTINCT m) AS m
FROM (SELECT * FROM samples2 UNION ALL SELECT * FROM samples2) x;
SELECT g, count(*) FROM (SELECT g FROM samples2 UNION ALL SELECT g FROM samples2) x GROUP BY g ORDER BY g;

DROP TABLE samples2, samples2_copy;
