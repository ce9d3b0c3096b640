--
-- Anti-entropy building blocks on one server: row_hash, digest() and its
-- independence from session settings, the Merkle snapshot and its nodes.
-- Two nodes repairing each other over dblink are tested in
-- test/tap/t/002_antientropy.pl.
--
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS crdt_reconcile CASCADE;
CREATE EXTENSION crdt_reconcile;
RESET client_min_messages;
\set SHOW_CONTEXT never

-- row_hash: the row's columns in name order, each as name and output text
SELECT crdt_reconcile.row_hash(ROW(1, 'x'::text)) AS golden_format_1,
       crdt_reconcile.row_hash(ROW(NULL::text)) <> crdt_reconcile.row_hash(ROW(''::text)) AS null_is_not_empty,
       crdt_reconcile.row_hash(ROW('a'::text, 'bc'::text)) <> crdt_reconcile.row_hash(ROW('ab'::text, 'c'::text))
           AS parts_are_delimited;

-- the same columns in another order hash the same; the key hash is the
-- row hash over the key columns
CREATE TABLE ae_a (k int PRIMARY KEY, s text, n gcounter, t timestamptz, f float8, m money, i interval, b bytea,
                   clk vclock, writer lwwreg);
CREATE TABLE ae_b (writer lwwreg, b bytea, i interval, m money, f float8, t timestamptz, n gcounter, s text, clk vclock,
                   k int PRIMARY KEY);
SET TimeZone = 'UTC';
INSERT INTO ae_a SELECT g, 'row ' || g, ('{"r' || g % 5 || '":' || g || '}')::gcounter,
       '2026-01-01 00:00:00.000001+00'::timestamptz + g * interval '17 hours', g / 7.0, g * 1.5,
       make_interval(months => g, secs => g / 3.0), ('\x' || md5(g::text))::bytea
FROM generate_series(1, 300) g;
INSERT INTO ae_a (k) VALUES (0);
INSERT INTO ae_b SELECT writer, b, i, m, f, t, n, s, clk, k FROM ae_a;
RESET TimeZone;
SELECT count(*) FILTER (WHERE crdt_reconcile.row_hash(a.*) = crdt_reconcile.row_hash(b.*)) AS equal_rows,
       count(*) FILTER (WHERE crdt_reconcile.row_hash(a.*, '{k}') = crdt_reconcile.row_hash(b.*, '{k}')) AS equal_keys,
       count(DISTINCT crdt_reconcile.row_hash(a.*, '{k}')) AS distinct_keys
FROM ae_a a JOIN ae_b b USING (k);
SELECT crdt_reconcile.row_hash(a.*, '{nope}') FROM ae_a a LIMIT 1;

-- digest: equal data, equal digests, whatever the column order and the
-- session's settings
SELECT (crdt_reconcile.track('ae_a', clock_column => 'clk', writer_column => 'writer')).relation,
       (crdt_reconcile.track('ae_b', clock_column => 'clk', writer_column => 'writer')).relation;
CREATE TEMP TABLE digests AS
SELECT 'ae_a' AS t, md5(string_agg(bucket || ':' || rows || ':' || hash, ',' ORDER BY bucket)) AS d
FROM crdt_reconcile.digest('ae_a');
SET TimeZone = 'Asia/Kolkata';
SET DateStyle = 'SQL, DMY';
SET IntervalStyle = 'sql_standard';
SET extra_float_digits = -3;
SET bytea_output = 'escape';
SET lc_monetary = 'POSIX';
SET quote_all_identifiers = on;
SET search_path = pg_temp, public;
INSERT INTO digests SELECT 'ae_a, other settings', md5(string_agg(bucket || ':' || rows || ':' || hash, ',' ORDER BY bucket))
FROM crdt_reconcile.digest('ae_a');
INSERT INTO digests SELECT 'ae_b, other settings', md5(string_agg(bucket || ':' || rows || ':' || hash, ',' ORDER BY bucket))
FROM crdt_reconcile.digest('ae_b');
RESET ALL;
SELECT count(DISTINCT d) AS distinct_digests, count(*) AS digests FROM digests;

-- the depths nest: depth 0 is the whole table, and every level XORs into
-- the one above
SELECT (SELECT rows || ' ' || hash FROM crdt_reconcile.digest('ae_a', 0)) =
       (SELECT sum(rows) || ' ' || bit_xor(hash) FROM crdt_reconcile.digest('ae_a', 12)) AS depth_0_is_the_sum_of_depth_12,
       (SELECT count(*) FROM crdt_reconcile.digest('ae_a', 4)) AS buckets_at_4_bits;
SELECT crdt_reconcile.digest('ae_a', 61);
SELECT crdt_reconcile.digest('ae_a', -1);
CREATE TABLE ae_nokey (k int);
SELECT crdt_reconcile.digest('ae_nokey');
DROP TABLE ae_nokey;

-- a deleted row leaves a tombstone, which takes the row's place in its
-- bucket (same key hash) with a hash of its own
SET crdt.replica_id = 'r1';
CREATE TEMP TABLE before_delete AS SELECT * FROM crdt_reconcile.digest('ae_a', 8);
DELETE FROM ae_a WHERE k = 5;
SELECT count(*) AS buckets, count(*) FILTER (WHERE b.rows = a.rows) AS same_count,
       count(*) FILTER (WHERE b.hash <> a.hash) AS changed
FROM before_delete b FULL JOIN crdt_reconcile.digest('ae_a', 8) a USING (bucket);
RESET crdt.replica_id;

-- the snapshot a repair descends: children of every node XOR into it
SELECT crdt_reconcile.merkle_nodes('ae_a', 0, '{0}', 4);
SELECT crdt_reconcile.merkle_snapshot('ae_a') AS snapshot_rows;
WITH parent AS (SELECT * FROM crdt_reconcile.merkle_nodes('ae_a', 0, '{0}', 4)),
     child AS (SELECT * FROM crdt_reconcile.merkle_nodes('ae_a', 4, ARRAY(SELECT node FROM parent), 8))
SELECT count(*) AS parents,
       count(*) FILTER (WHERE p.rows = c.rows AND p.hash = c.hash) AS equal_to_their_children
FROM parent p
JOIN (SELECT node >> 4 AS parent, sum(rows) AS rows, bit_xor(hash) AS hash FROM child GROUP BY 1) c ON c.parent = p.node;
SELECT (SELECT md5(string_agg(node || ':' || rows || ':' || hash, ',' ORDER BY node))
        FROM crdt_reconcile.merkle_nodes('ae_a', 0, '{0}', 8)) =
       (SELECT md5(string_agg(bucket || ':' || rows || ':' || hash, ',' ORDER BY bucket))
        FROM crdt_reconcile.digest('ae_a', 8)) AS snapshot_matches_digest;

-- rows under a node, as text printed under the pinned settings
SET TimeZone = 'America/St_Johns';
SET DateStyle = 'German';
SET bytea_output = 'escape';
SELECT r FROM crdt_reconcile.merkle_rows('ae_a', '{k,t,m,i,b,s}',
	ARRAY[8], ARRAY[(SELECT bucket FROM crdt_reconcile.digest('ae_a', 8) ORDER BY bucket LIMIT 1)]) r
ORDER BY r[1]::int LIMIT 2;
RESET ALL;
SELECT count(*) AS rows_under_all_16_nodes
FROM crdt_reconcile.merkle_rows('ae_a', '{k}', array_fill(4, ARRAY[16]), ARRAY(SELECT generate_series(0, 15)::int8));
SELECT count(*) AS tombstones_under_all_16_nodes, min(r[1]) AS row_key
FROM crdt_reconcile.merkle_tombstones('ae_a', array_fill(4, ARRAY[16]), ARRAY(SELECT generate_series(0, 15)::int8)) r;
SELECT crdt_reconcile.merkle_rows('ae_a', '{}', '{4}', '{0}');
SELECT crdt_reconcile.repair_finish('ae_a');
SELECT crdt_reconcile.merkle_nodes('ae_a', 0, '{0}', 4);

-- repair: needs dblink, a tracked table, a plan for its batches
SELECT crdt_reconcile.repair('ae_a', 'dbname=nowhere');
CREATE EXTENSION dblink;
CREATE TABLE ae_untracked (k int PRIMARY KEY);
SELECT crdt_reconcile.repair('ae_untracked', 'dbname=nowhere');
SELECT crdt_reconcile.repair('ae_a', 'dbname=nowhere', 0);
SELECT crdt_reconcile.repair_batch('ae_a', 1);
-- only crdt_reconcile_admin may repair
CREATE ROLE ae_stranger;
GRANT SELECT ON ae_a TO ae_stranger;
SET ROLE ae_stranger;
SELECT crdt_reconcile.repair('ae_a', 'dbname=nowhere');
CALL crdt_reconcile.repair_in_batches('ae_a', 'dbname=nowhere');
SELECT count(*) AS digest_is_public FROM crdt_reconcile.digest('ae_a', 0);
RESET ROLE;

SELECT crdt_reconcile.untrack('ae_a'), crdt_reconcile.untrack('ae_b');
DROP TABLE ae_a, ae_b, ae_untracked;
DROP ROLE ae_stranger;
DROP EXTENSION dblink;
