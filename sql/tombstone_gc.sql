--
-- Tombstone collection on one node: collect_tombstones acknowledges and
-- removes at once; the acknowledgements belong to the clock; only admins.
--
SET crdt.replica_id = 'solo';
CREATE TABLE gc_items (k int PRIMARY KEY, n gcounter, clk vclock);
SELECT (crdt_reconcile.track('gc_items', clock_column => 'clk')).relation;
INSERT INTO gc_items VALUES (1, '{}', '{}'), (2, '{}', '{}'), (3, '{}', '{}');
DELETE FROM gc_items WHERE k IN (1, 2);
SELECT row_key, clock, seen_by FROM crdt_reconcile.tombstones WHERE relation_name = 'public.gc_items' ORDER BY row_key;

-- a role that is not an admin may not collect
CREATE ROLE gc_stranger;
SET ROLE gc_stranger;
SELECT * FROM crdt_reconcile.collect_tombstones();
SELECT crdt_reconcile.join_mesh('intruder');
SELECT crdt_reconcile.leave_mesh('solo');
DELETE FROM crdt_reconcile.tombstones;
RESET ROLE;

-- (earlier tests may have left tombstones of their own)
SELECT acknowledged >= 2 AS acknowledged_ours, removed >= 2 AS removed_ours, waiting_for
FROM crdt_reconcile.collect_tombstones();
SELECT count(*) FROM crdt_reconcile.tombstones WHERE relation_name = 'public.gc_items';
SELECT DISTINCT node FROM crdt_reconcile.mesh_nodes;
SELECT node FROM crdt_reconcile.this_node;

-- the key takes a new row, and a new delete leaves a new tombstone
INSERT INTO gc_items VALUES (1, crdt_increment(NULL::gcounter, 4), '{}');
SELECT k, crdt_value(n) FROM gc_items ORDER BY k;
DELETE FROM gc_items WHERE k = 1;

-- the acknowledgements go with the clock: a grown clock starts without them
UPDATE crdt_reconcile.tombstones SET seen_by = crdt_add(seen_by, 'someone') WHERE relation_name = 'public.gc_items';
SELECT crdt_reconcile.tombstone_seen_by('{"a":2}', '{"a":2}', '["x"]', '{"a":2}', '["y"]') AS same_clock,
       crdt_reconcile.tombstone_seen_by('{"a":2}', '{"a":2}', '["x"]', '{"a":1}', '["y"]') AS newer_first,
       crdt_reconcile.tombstone_seen_by('{"a":2,"b":1}', '{"a":2}', '["x"]', '{"b":1}', '["y"]') AS concurrent;
INSERT INTO crdt_reconcile.tombstones (relation_name, row_key, clock, seen_by)
SELECT relation_name, row_key, crdt_tick(clock, 'other'), '["other"]' FROM crdt_reconcile.tombstones
WHERE relation_name = 'public.gc_items';
SELECT row_key, clock, seen_by FROM crdt_reconcile.tombstones WHERE relation_name = 'public.gc_items';

-- a node that left is no longer waited for
SELECT crdt_reconcile.join_mesh('solo');
SELECT crdt_reconcile.leave_mesh('nobody');
SELECT acknowledged >= 1 AS acknowledged_ours, removed >= 1 AS removed_ours, waiting_for
FROM crdt_reconcile.collect_tombstones();
SELECT count(*) FROM crdt_reconcile.tombstones WHERE relation_name = 'public.gc_items';

SELECT crdt_reconcile.untrack('gc_items');
DROP TABLE gc_items;
DROP ROLE gc_stranger;
DELETE FROM crdt_reconcile.this_node;
DELETE FROM crdt_reconcile.mesh_nodes;
RESET crdt.replica_id;
