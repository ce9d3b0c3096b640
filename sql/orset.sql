--
-- orset: the add-wins observed-remove set, without tombstones.  Each
-- present element carries the dots (replica, counter) of its live adds;
-- the context says which dots the state has seen.  A remove drops the
-- dots it has seen, so a concurrent add (an unseen dot) survives it.
--
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS crdt_reconcile;
RESET client_min_messages;

SET crdt.replica_id = 'alice';
SELECT '{}'::orset AS empty,
       crdt_add('{}'::orset, 'milk') AS one_add,
       crdt_add(crdt_add('{}'::orset, 'milk'), 'milk') AS re_add_replaces_the_dot;

-- The shopping list of two agents.
CREATE TEMP TABLE list (replica text PRIMARY KEY, s orset);
INSERT INTO list VALUES ('alice', crdt_add(crdt_add('{}'::orset, 'milk', 'alice'), 'eggs', 'alice'));
INSERT INTO list SELECT 'bob', s FROM list WHERE replica = 'alice';   -- bob syncs
SELECT replica, s FROM list ORDER BY replica;

-- Concurrently: alice removes milk, bob adds milk again (he wants more).
UPDATE list SET s = crdt_remove(s, 'milk') WHERE replica = 'alice';
UPDATE list SET s = crdt_add(s, 'milk', 'bob') WHERE replica = 'bob';
SELECT replica, crdt_value(s) FROM list ORDER BY replica;

-- After the exchange both converge, and milk stays: the add wins.
SELECT crdt_merge(s) AS converged, crdt_value(crdt_merge(s)) AS value FROM list;
SELECT a.s || b.s = b.s || a.s AS same_in_both_orders
FROM list a, list b WHERE a.replica = 'alice' AND b.replica = 'bob';

-- A remove that saw every add removes for good; nothing resurrects it,
-- not even an old state replayed later.
WITH seen AS (SELECT crdt_merge(s) AS s FROM list),
     removed AS (SELECT crdt_remove(s, 'milk') AS s FROM seen)
SELECT crdt_value(removed.s) AS after_remove,
       crdt_value(removed.s || (SELECT s FROM list WHERE replica = 'bob')) AS old_state_replayed,
       crdt_value(crdt_add(removed.s, 'milk', 'carol')) AS re_add_after_remove
FROM removed;

-- Removing an element that is not there changes nothing.
SELECT crdt_remove(s, 'bread') = s AS removing_absent_is_noop FROM list WHERE replica = 'alice';

-- Queries.
SELECT crdt_contains(s, 'eggs') AS has_eggs, crdt_cardinality(s) AS cardinality
FROM (SELECT crdt_merge(s) AS s FROM list) x;
SELECT * FROM crdt_elements((SELECT crdt_merge(s) FROM list));

-- Deltas carry exactly the context the receiver needs: here bob's new dot
-- for milk, and nothing alice already has.
SELECT crdt_delta(b.s, a.s) AS bob_to_alice
FROM list a, list b WHERE a.replica = 'alice' AND b.replica = 'bob';
-- The delta of a remove is context only: the dots it removed.
SELECT crdt_delta(crdt_remove(s, 'eggs'), s) AS remove_delta FROM list WHERE replica = 'alice';
-- Deltas delivered late, twice or batched converge to the full merge.
WITH s0 AS (SELECT '{}'::orset AS s),
     s1 AS (SELECT crdt_add(s, 'a', 'p') AS s FROM s0),
     s2 AS (SELECT crdt_add(s, 'b', 'q') AS s FROM s1),
     s3 AS (SELECT crdt_remove(s, 'a') AS s FROM s2),
     d AS (SELECT crdt_delta(s1.s, s0.s) AS d1, crdt_delta(s2.s, s1.s) AS d2,
                  crdt_delta(s3.s, s2.s) AS d3, s3.s AS final FROM s0, s1, s2, s3)
SELECT ('{}'::orset || d3 || d1 || d2) = final AS reordered,
       ('{}'::orset || d2 || d2 || d1 || d3 || d1) = final AS duplicated,
       ('{}'::orset || (d1 || d2 || d3)) = final AS batched
FROM d;

-- The context prints as a version vector, or as ranges where it has gaps
-- (a dot cloud); adjacent ranges are always joined.
SELECT '{"context":{"a":[[1,2],[3,5],[9,9]],"b":4}}'::orset AS context_ranges;

-- Bad states are refused.
SELECT '{"elements":{"x":[["alice",5]]},"context":{"alice":3}}'::orset;
SELECT '{"elements":{"x":[["alice",1]],"y":[["alice",1]]},"context":{"alice":2}}'::orset;
SELECT '{"elements":{"x":[]},"context":{"alice":2}}'::orset;
SELECT '{"elements":{"x":[["bob",1]]},"context":{"alice":2}}'::orset;
SELECT '{"context":{"alice":[[3,2]]}}'::orset;
SELECT '{"context":{"alice":1,"alice":2}}'::orset;

RESET crdt.replica_id;
DROP TABLE list;
