-- bench/load_counters.sql: the extension and the counter tables, in the
-- layouts bench/run.sh compares.  :keys keys (psql -v keys=N: bench/run.sh
-- loads 10,000, make bench-instructions 1,000) x 100 replicas named like
-- agent-042; v is the same amount as the gcounter entry, so sum(v) and
-- crdt_merge(c) do comparable work.
CREATE EXTENSION crdt_reconcile;

CREATE TABLE replica_rows (
	key int,
	replica text,
	v bigint,
	c gcounter,
	clock vclock,
	budget pncounter,
	bounded bcounter
);
INSERT INTO replica_rows
SELECT k, r.name, amount,
       crdt_increment('{}'::gcounter, amount, r.name),
       crdt_tick('{}'::vclock, r.name),
       crdt_decrement(crdt_increment('{}'::pncounter, 2 * amount, r.name), amount, r.name),
       crdt_decrement(crdt_increment('{}'::bcounter, 2 * amount, r.name), amount, r.name)
FROM generate_series(1, :keys) k,
     LATERAL (SELECT i, 'agent-' || lpad(i::text, 3, '0') AS name FROM generate_series(0, 99) i) r,
     LATERAL (SELECT 1 + (k * 7919 + r.i * 104729) % 1000 AS amount) a;

-- The same rows in the order replicas write them: replica after replica,
-- each over every key (for r in replicas: for k in keys), so that every
-- row lands in another group — with the replicas writing in id order, and
-- in an order unrelated to their ids (as hostnames or uuids would be).
CREATE TABLE interleaved_rows AS SELECT * FROM replica_rows ORDER BY replica, key;
CREATE TABLE interleaved_unsorted_rows AS SELECT * FROM replica_rows ORDER BY md5(replica), key;

-- The same rows in a random (but fixed) physical order, as UPDATEs leave them.
CREATE TABLE shuffled_rows AS SELECT * FROM replica_rows ORDER BY md5(key || '/' || replica);
