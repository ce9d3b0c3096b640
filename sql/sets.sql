--
-- gset (grow-only) and twopset (two-phase) sets of text elements.
--
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS crdt_reconcile;
RESET client_min_messages;

-- ------------------------------------------------------------------ gset
-- Text form: a JSON array sorted by bytes (not collation).  '{}' and '[]'
-- are both the empty set.
SELECT '{}'::gset AS empty, '[]'::gset AS also_empty,
       '["b","a","B","é","aa"]'::gset AS byte_order,
       '["tab\there","quote\"","slash\/"]'::gset AS escapes;

SELECT crdt_add(crdt_add('{}'::gset, 'tag:urgent'), 'tag:billing') AS added,
       crdt_add('["x"]'::gset, 'x') AS adding_twice_is_noop,
       crdt_add(NULL::gset, 'first') AS from_null,
       ARRAY['b', 'a', 'b']::gset AS from_text_array;

-- Merge is union, on every replica, in any order.
SELECT '["a","b"]'::gset || '["b","c"]' AS merged,
       crdt_delta('["a","b","c"]'::gset, '["b"]') AS delta,
       crdt_delta('["a"]'::gset, '["a","b"]') AS covered_is_empty;

SELECT crdt_value(s) AS value, crdt_cardinality(s) AS cardinality,
       crdt_contains(s, 'b') AS has_b, crdt_contains(s, 'z') AS has_z
FROM (SELECT '["c","a","b"]'::gset AS s) x;
SELECT * FROM crdt_elements('["c","a","b"]'::gset);
SELECT crdt_value('{}'::gset) AS empty_value, crdt_cardinality('{}'::gset) AS zero;

-- Elements are text: up to 4096 bytes of UTF-8, anything but NUL.
SELECT crdt_cardinality(crdt_add('{}'::gset, repeat('x', 4096))) AS longest_element;
SELECT crdt_add('{}'::gset, repeat('x', 4097));
SELECT crdt_add('{}'::gset, NULL);
SELECT '["a","a"]'::gset;
SELECT '["a",1]'::gset;
SELECT ARRAY['a', NULL]::gset;

-- --------------------------------------------------------------- twopset
-- An add set and a remove set: once removed, an element never comes back.
-- Use orset when elements must be re-addable.
SELECT '{}'::twopset AS empty,
       '{"removed":["b"],"elements":["a","b","c"]}'::twopset AS removed_wins_in_text;

WITH s AS (SELECT crdt_add(crdt_add('{}'::twopset, 'job-1'), 'job-2') AS v)
SELECT crdt_remove(v, 'job-1') AS after_remove,
       crdt_add(crdt_remove(v, 'job-1'), 'job-1') AS re_add_is_ignored,
       crdt_remove(v, 'job-9') AS removing_absent_is_noop,
       crdt_value(crdt_remove(v, 'job-1')) AS value
FROM s;

-- Concurrent add on one replica and remove on another: remove wins, forever.
WITH base AS (SELECT crdt_add('{}'::twopset, 'x') AS v),
     a AS (SELECT crdt_remove(v, 'x') AS v FROM base),
     b AS (SELECT crdt_add(v, 'y') AS v FROM base)
SELECT a.v || b.v AS merged, b.v || a.v AS other_order, crdt_contains(a.v || b.v, 'x') AS x_present
FROM a, b;

SELECT crdt_delta(crdt_remove(crdt_add(crdt_add('{}'::twopset, 'a'), 'b'), 'a'),
                  crdt_add('{}'::twopset, 'a')) AS delta_carries_the_removal;

SELECT '{"elements":["a"],"elements":[]}'::twopset;
SELECT '{"added":["a"]}'::twopset;
