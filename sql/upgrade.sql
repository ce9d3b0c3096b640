--
-- Upgrading from 0.1: stored values stay readable and byte-identical, the
-- 0.2 types appear, and the upgraded extension has exactly the objects of
-- a fresh 0.2 install.
--
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS crdt_reconcile CASCADE;
CREATE EXTENSION crdt_reconcile VERSION '0.1';
RESET client_min_messages;
SELECT extversion FROM pg_extension WHERE extname = 'crdt_reconcile';

CREATE TABLE written_by_01 (id int PRIMARY KEY, k int, v vclock, g gcounter, p pncounter);
INSERT INTO written_by_01
SELECT i, i % 3, crdt_tick('{}'::vclock, 'r' || i), crdt_increment('{}'::gcounter, i, 'r' || i),
       crdt_decrement('{}'::pncounter, i, 'r' || i)
FROM generate_series(1, 30) i;
CREATE TEMP TABLE before AS
SELECT id, vclock_send(v) AS v, gcounter_send(g) AS g, pncounter_send(p) AS p,
       crdt_hash(v) AS hv, crdt_hash(g) AS hg, crdt_hash(p) AS hp FROM written_by_01;
SELECT to_regtype('orset') IS NULL AS no_orset_in_01;

ALTER EXTENSION crdt_reconcile UPDATE;
SELECT extversion FROM pg_extension WHERE extname = 'crdt_reconcile';

-- the 0.1 data: same bytes, same hashes, same merged values
SELECT count(*) AS rows,
       count(*) FILTER (WHERE b.v = vclock_send(w.v) AND b.g = gcounter_send(w.g) AND b.p = pncounter_send(w.p)
                          AND b.hv = crdt_hash(w.v) AND b.hg = crdt_hash(w.g) AND b.hp = crdt_hash(w.p)) AS identical
FROM written_by_01 w JOIN before b USING (id);
SELECT k, crdt_value(crdt_merge(g)) AS total, crdt_value(crdt_merge(p)) AS net FROM written_by_01 GROUP BY k ORDER BY k;

-- the 0.2 types work
SELECT crdt_add('{}'::orset, 'x', 'r1') AS orset_works;

-- upgraded = fresh install, object for object
CREATE TEMP TABLE upgraded AS
SELECT pg_describe_object(classid, objid, objsubid) AS object
FROM pg_depend WHERE refclassid = 'pg_extension'::regclass AND deptype = 'e'
  AND refobjid = (SELECT oid FROM pg_extension WHERE extname = 'crdt_reconcile');
DROP TABLE written_by_01;
DROP EXTENSION crdt_reconcile;
CREATE EXTENSION crdt_reconcile;
SELECT extversion FROM pg_extension WHERE extname = 'crdt_reconcile';
CREATE TEMP TABLE fresh AS
SELECT pg_describe_object(classid, objid, objsubid) AS object
FROM pg_depend WHERE refclassid = 'pg_extension'::regclass AND deptype = 'e'
  AND refobjid = (SELECT oid FROM pg_extension WHERE extname = 'crdt_reconcile');
SELECT (SELECT count(*) FROM fresh) AS objects,
       (SELECT count(*) FROM (SELECT object FROM fresh EXCEPT SELECT object FROM upgraded) x) AS only_fresh,
       (SELECT count(*) FROM (SELECT object FROM upgraded EXCEPT SELECT object FROM fresh) x) AS only_upgraded;
