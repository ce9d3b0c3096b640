-- bench/load.sql: the data set for bench/run.sh (deterministic, no random()),
-- run after bench/load_counters.sql (which makes the extension and the
-- counter tables).

-- One key, N rows: every row a new replica (in id order, or in random
-- order), or 100 replicas over and over; the benchmark reads the first N.
CREATE TABLE one_key_distinct AS
SELECT n, crdt_increment('{}'::gcounter, n, 'agent-' || lpad(n::text, 7, '0')) AS c
FROM generate_series(1, 1000000) n;
CREATE TABLE one_key_shuffled AS
SELECT n, crdt_increment('{}'::gcounter, n, 'agent-' || md5(n::text)) AS c
FROM generate_series(1, 1000000) n;
CREATE TABLE one_key_repeated AS
SELECT n, crdt_increment('{}'::gcounter, n, 'agent-' || lpad((n % 100)::text, 3, '0')) AS c
FROM generate_series(1, 1000000) n;

VACUUM FREEZE ANALYZE;
CREATE EXTENSION pg_prewarm;
SELECT sum(pg_prewarm(relname::regclass)) > 0 AS prewarmed
FROM (VALUES ('replica_rows'), ('interleaved_rows'), ('interleaved_unsorted_rows'), ('shuffled_rows'),
             ('one_key_distinct'), ('one_key_shuffled'), ('one_key_repeated')) t(relname);

-- Sets: 10,000 keys x 100 replica rows, each row 10 distinct elements from
-- a pool of 1,000 named like element-417, as a gset, as the orset of that
-- replica's 10 adds, and as the text[] a user would keep without us.
CREATE TABLE set_rows AS
SELECT k AS key, r.name AS replica, e.arr,
       e.arr::gset AS g,
       ('{"elements":{' || e.dotted || '},"context":{"' || r.name || '":10}}')::orset AS o
FROM generate_series(1, 10000) k,
     LATERAL (SELECT i, 'agent-' || lpad(i::text, 3, '0') AS name FROM generate_series(0, 99) i) r,
     LATERAL (SELECT array_agg(el ORDER BY j) AS arr,
                     string_agg(format('"%s":[["%s",%s]]', el, r.name, j + 1), ',' ORDER BY el) AS dotted
              FROM (SELECT j, 'element-' || lpad(((k * 7919 + r.i * 104729 + j * 7) % 1000)::text, 3, '0') AS el
                    FROM generate_series(0, 9) j) x) e;

-- One key, N distinct elements: 10 per row, every row a new replica.
CREATE TABLE set_one_key AS
SELECT n, ('["' || array_to_string(els, '","') || '"]')::gset AS g,
       ('{"elements":{' || (SELECT string_agg(format('"%s":[["r%s",%s]]', el, n, ord), ',' ORDER BY el)
                            FROM unnest(els) WITH ORDINALITY u(el, ord))
        || '},"context":{"r' || n || '":10}}')::orset AS o
FROM generate_series(1, 40000) n,
     LATERAL (SELECT array_agg('element-' || lpad((n * 10 + j)::text, 7, '0') ORDER BY j) AS els
              FROM generate_series(0, 9) j) e;
VACUUM FREEZE ANALYZE set_rows;
VACUUM FREEZE ANALYZE set_one_key;
SELECT sum(pg_prewarm(relname::regclass)) > 0 AS prewarmed
FROM (VALUES ('set_rows'), ('set_one_key')) t(relname);

-- Write the loaded pages out now, so that no checkpoint competes with the
-- first timed statements (their sum(bigint) ran 1.5x slower than later ones).
CHECKPOINT;
