--
-- Tracked tables under change and at their edges (issue "Trust boundary",
-- correctness items): DDL on a tracked table, domains, partitions, moved
-- keys, nested invalidations, stale audit values, arbitration once per
-- fleet, the statistics table, register writes at an explicit time.
--
\set SHOW_CONTEXT never
SET application_name = 'edges';
SET crdt.replica_id = 'n1';

-- ---------------------------------------------------------------- 3. ALTER TABLE
CREATE TABLE ddl_t (k int PRIMARY KEY, n gcounter, price numeric, clk vclock, writer lwwreg);
SELECT relation FROM crdt_reconcile.track('ddl_t', clock_column => 'clk', writer_column => 'writer');
INSERT INTO ddl_t VALUES (1, '{"a":1}', 5);
-- what would break the trigger is refused
ALTER TABLE ddl_t ALTER COLUMN clk TYPE bigint USING 0;
ALTER TABLE ddl_t ALTER COLUMN writer TYPE text;
ALTER TABLE ddl_t DROP COLUMN clk;
ALTER TABLE ddl_t DROP CONSTRAINT ddl_t_pkey;
ALTER TABLE ddl_t ADD COLUMN extra text;          -- a plain column: fine
-- renames are followed
ALTER TABLE ddl_t RENAME COLUMN clk TO row_clock;
ALTER TABLE ddl_t RENAME COLUMN k TO id;
SELECT key_columns, clock_column, writer_column FROM crdt_reconcile.tracked WHERE relation = 'ddl_t'::regclass;
UPDATE ddl_t SET price = 6, n = '{"b":2}';
SELECT id, n, price, row_clock FROM ddl_t;
-- the trigger stays ENABLE ALWAYS (else apply workers would skip it)
ALTER TABLE ddl_t ENABLE TRIGGER ALL;
SELECT tgenabled FROM pg_trigger WHERE tgrelid = 'ddl_t'::regclass AND tgname = 'crdt_reconcile_track';
ALTER TABLE ddl_t DISABLE TRIGGER crdt_reconcile_track;
ALTER TABLE ddl_t ENABLE ALWAYS TRIGGER crdt_reconcile_track;
-- replica rows: the replica column keeps its type
CREATE TABLE ddl_rows (k int, replica text, n gcounter, PRIMARY KEY (k, replica));
SELECT relation FROM crdt_reconcile.track('ddl_rows', shape => 'replica_rows', replica_column => 'replica');
ALTER TABLE ddl_rows ALTER COLUMN replica TYPE int USING 0;
ALTER TABLE ddl_rows ALTER COLUMN replica TYPE varchar;
-- dropping the trigger or the table removes the settings; untrack then says so
DROP TRIGGER crdt_reconcile_track ON ddl_rows;
SELECT count(*) AS ddl_rows_tracked FROM crdt_reconcile.tracked WHERE relation = 'ddl_rows'::regclass;
SELECT 'ddl_t'::regclass::oid AS ddl_t_oid \gset
DROP TABLE ddl_t;
SELECT count(*) AS dropped_still_tracked FROM crdt_reconcile.tracked WHERE relation::oid = :ddl_t_oid;
SELECT crdt_reconcile.untrack(:ddl_t_oid);
DROP TABLE ddl_rows;

-- ---------------------------------------------------------------- 9. domains over CRDT types
CREATE DOMAIN counter_d AS gcounter;
CREATE DOMAIN tags_d AS orset;
CREATE DOMAIN clock_d AS vclock;
CREATE TABLE dom_t (k int PRIMARY KEY, c counter_d, s tags_d, clk clock_d, writer lwwreg, label text);
SELECT relation FROM crdt_reconcile.track('dom_t', clock_column => 'clk', writer_column => 'writer');
INSERT INTO dom_t (k, c, s) VALUES (1, '{"a":1}', crdt_add(NULL::orset, 'x', 'n1'));
UPDATE dom_t SET c = '{"b":2}', s = crdt_add(NULL::orset, 'y', 'n2');   -- merged, not overwritten
SELECT c, crdt_value(s) AS s, clk FROM dom_t;
-- a domain whose constraint a merge could break is refused, now and later
CREATE DOMAIN small_d AS gcounter CHECK (crdt_value(VALUE) < 10);
CREATE TABLE dom_checked (k int PRIMARY KEY, c small_d);
SELECT crdt_reconcile.track('dom_checked');
ALTER DOMAIN counter_d ADD CONSTRAINT small CHECK (crdt_value(VALUE) < 10);
-- dropping the clock's domain would drop the clock column
DROP DOMAIN clock_d CASCADE;
SELECT clock_column FROM crdt_reconcile.tracked WHERE relation = 'dom_t'::regclass;

-- ---------------------------------------------------------------- 6. invalidation inside a nested merge
-- An applied INSERT of an existing key merges through a nested UPDATE;
-- another trigger invalidates the table's relcache entry right there.  The
-- settings the outer call is using must survive it.
CREATE TABLE inval_t (k int PRIMARY KEY, n gcounter);
SELECT relation FROM crdt_reconcile.track('inval_t');
CREATE FUNCTION pg_temp.flip_grant() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	EXECUTE 'GRANT SELECT ON inval_t TO PUBLIC';
	EXECUTE 'REVOKE SELECT ON inval_t FROM PUBLIC';
	RETURN NEW;
END $$;
CREATE TRIGGER a_flip BEFORE UPDATE ON inval_t FOR EACH ROW EXECUTE FUNCTION pg_temp.flip_grant();
ALTER TABLE inval_t ENABLE ALWAYS TRIGGER a_flip;
INSERT INTO inval_t VALUES (1, '{"a":1}');
SET session_replication_role = replica;
INSERT INTO inval_t VALUES (1, '{"b":2}');
INSERT INTO inval_t VALUES (1, '{"c":3}');
INSERT INTO inval_t SELECT 1, ('{"r' || i || '":' || i || '}')::gcounter FROM generate_series(1, 50) i;
RESET session_replication_role;
SELECT crdt_value(n) AS total, n IS NOT NULL AS merged FROM inval_t;
DROP TABLE inval_t;

-- ---------------------------------------------------------------- 7. an applied UPDATE that moves the key
CREATE TABLE keys_t (k int PRIMARY KEY, n gcounter, label text, clk vclock, writer lwwreg);
SELECT relation FROM crdt_reconcile.track('keys_t', clock_column => 'clk', writer_column => 'writer');
INSERT INTO keys_t (k, n, label) VALUES (1, '{"a":1}', 'one'), (3, '{"c":3}', 'three');
SET session_replication_role = replica;
UPDATE keys_t SET k = 2 WHERE k = 1;          -- moves, as on the publisher
SELECT k, n, label FROM keys_t ORDER BY k;
UPDATE keys_t SET k = 3, n = '{"b":2}' WHERE k = 2;   -- the key is taken here: merges into it
RESET session_replication_role;
SELECT k, n, label FROM keys_t ORDER BY k;
DROP TABLE keys_t;

-- ---------------------------------------------------------------- 8. replica rows stay their replica's
CREATE TABLE counts (k int, replica text, n gcounter, PRIMARY KEY (k, replica));
SELECT relation FROM crdt_reconcile.track('counts', shape => 'replica_rows', replica_column => 'replica');
SET session_replication_role = replica;
INSERT INTO counts VALUES (1, 'n2', '{"n2":7}');
RESET session_replication_role;
UPDATE counts SET replica = 'n1', n = '{"n1":1}' WHERE replica = 'n2';
UPDATE counts SET n = '{"n1":1}' WHERE replica = 'n2';
SELECT k, replica, n FROM counts;
DROP TABLE counts;

-- ---------------------------------------------------------------- 10. partitioned tables
CREATE ROLE crdt_edges_clerk;
CREATE TABLE parts (k int, region text, n gcounter, price numeric, clk vclock, writer lwwreg,
                    PRIMARY KEY (k, region)) PARTITION BY LIST (region);
CREATE TABLE parts_eu PARTITION OF parts FOR VALUES IN ('eu');
CREATE TABLE parts_us PARTITION OF parts FOR VALUES IN ('us');
SELECT relation FROM crdt_reconcile.track('parts', clock_column => 'clk', writer_column => 'writer');
SELECT crdt_reconcile.track('parts_eu');
CREATE TABLE parts_asia PARTITION OF parts FOR VALUES IN ('asia');   -- added later: covered too
SELECT tgrelid::regclass, tgenabled FROM pg_trigger WHERE tgname = 'crdt_reconcile_track'
  AND tgrelid::regclass::text LIKE 'parts%' ORDER BY tgrelid::regclass::text COLLATE "C";
GRANT SELECT, UPDATE ON parts TO crdt_edges_clerk;
INSERT INTO parts (k, region, n, price) VALUES (1, 'eu', '{"a":1}', 5), (2, 'asia', '{"a":1}', 5);
SET session_replication_role = replica;
UPDATE parts SET price = 7, n = '{"n2":2}', clk = '{"n2":1}',
       writer = crdt_set_at('{}'::lwwreg, 'null', '2100-01-01', 'n2') WHERE k = 1;
INSERT INTO parts (k, region, n, clk) VALUES (2, 'asia', '{"n3":3}', '{"n3":1}');   -- exists: merges
UPDATE parts SET region = 'us' WHERE k = 1;                                       -- moves across partitions
RESET session_replication_role;
SELECT tableoid::regclass, k, region, n, price FROM parts ORDER BY k;
SELECT relation, row_key, column_name, kind FROM crdt_reconcile.conflicts WHERE relation::text LIKE 'parts%' ORDER BY id;
SELECT relation, local_writes, merges_applied, inserts_merged FROM crdt_reconcile.merge_stats
WHERE relation::text LIKE 'parts%';
SET ROLE crdt_edges_clerk;
SELECT id AS parts_price FROM crdt_reconcile.conflicts WHERE relation = 'parts'::regclass AND column_name = 'price'
ORDER BY id LIMIT 1 \gset
SELECT status, resolution FROM crdt_reconcile.resolve(:parts_price, '6'::jsonb);
RESET ROLE;
SELECT k, region, price FROM parts ORDER BY k;
DROP TABLE parts;
SELECT count(*) AS parts_tracked FROM crdt_reconcile.tracked WHERE relation::text LIKE 'parts%';

-- ---------------------------------------------------------------- 13. each record shows its own column
CREATE TABLE two (k int PRIMARY KEY, a gcounter, b gcounter, p numeric, q numeric, clk vclock, writer lwwreg);
SELECT relation FROM crdt_reconcile.track('two', clock_column => 'clk', writer_column => 'writer', log_merges => true);
INSERT INTO two VALUES (1, '{"x":1}', '{"x":1}', 1, 1);
UPDATE two SET a = '{"y":2}', b = '{"z":3}';
SET session_replication_role = replica;
UPDATE two SET p = 4, q = 5, clk = '{"n2":1}', writer = crdt_set_at('{}'::lwwreg, 'null', '2100-01-01', 'n2');
RESET session_replication_role;
SELECT a, b, p, q FROM two;
SELECT column_name, kind, remote_value, result_value FROM crdt_reconcile.conflicts
WHERE relation = 'two'::regclass ORDER BY id;
DROP TABLE two;

-- ---------------------------------------------------------------- 14. statistics and stray settings
-- More tracked tables than the statistics ever had room for (512), each counted; dropped ones are forgotten.
DO $$
BEGIN
	FOR i IN 1..600 LOOP
		EXECUTE format('CREATE TABLE many_%s (k int PRIMARY KEY, g gcounter)', i);
		PERFORM crdt_reconcile.track(format('many_%s', i)::regclass);
		EXECUTE format('INSERT INTO many_%s VALUES (1, %L)', i, '{"a":1}');
	END LOOP;
END $$;
SELECT count(*) AS counted, sum(local_writes) AS writes FROM crdt_reconcile.merge_stats WHERE relation::text LIKE 'many\_%';
DO $$
BEGIN
	FOR i IN 1..600 LOOP
		EXECUTE format('DROP TABLE many_%s', i);
	END LOOP;
END $$;
SELECT count(*) AS left_over FROM crdt_reconcile.merge_counters() WHERE relation::regclass IS NULL OR relation::regclass::text LIKE 'many\_%';
-- a merging UPDATE needs no replica id when nothing is stamped
CREATE TABLE plain_merge (k int PRIMARY KEY, g gcounter);
SELECT relation FROM crdt_reconcile.track('plain_merge');
INSERT INTO plain_merge VALUES (1, '{"a":1}');
RESET crdt.replica_id;
UPDATE plain_merge SET g = '{"b":1}';
SELECT g FROM plain_merge;
SET crdt.replica_id = 'n1';
DROP TABLE plain_merge;

-- ---------------------------------------------------------------- 15. settled by a replicated write
CREATE TABLE plans (k int PRIMARY KEY, plan mvreg, clk vclock);
SELECT relation FROM crdt_reconcile.track('plans', clock_column => 'clk');
INSERT INTO plans VALUES (1, crdt_set(NULL::mvreg, '"A"', 'n1'));
SET session_replication_role = replica;
UPDATE plans SET plan = crdt_set('{}'::mvreg, '"B"', 'n2'), clk = '{"n2":1}';
RESET session_replication_role;
SELECT column_name, kind, status FROM crdt_reconcile.conflicts WHERE relation = 'plans'::regclass;
-- node n2 arbitrated (its write observed both values); here it arrives as an applied write
SET session_replication_role = replica;
UPDATE plans SET plan = crdt_set(crdt_merge(plan, crdt_set('{}'::mvreg, '"B"', 'n2')), '"C"', 'n2'),
                 clk = crdt_tick(crdt_merge(clk, '{"n2":1}'), 'n2');
RESET session_replication_role;
SELECT crdt_value(plan) AS plan, crdt_is_conflicted(plan) FROM plans;
SELECT column_name, kind, status, resolution, resolved_value, resolved_by FROM crdt_reconcile.conflicts
WHERE relation = 'plans'::regclass;
DROP TABLE plans;

-- ---------------------------------------------------------------- 16. a write at an explicit time
PREPARE set_with(lwwreg, jsonb, text) AS SELECT crdt_writer(crdt_set($1, $2, $3));
EXECUTE set_with('{}', '"x"', 'node_b');
PREPARE set_at(unknown, unknown) AS SELECT crdt_set_at('{}'::lwwreg, $1, $2, 'node_c');
EXECUTE set_at('"y"', '2026-01-01 00:00+00');
SELECT crdt_set('{}'::lwwreg, '"z"', '2026-01-01 00:00+00'::timestamptz, 'node_d');
SELECT crdt_writer(crdt_set('{}'::lwwreg, '"z"', '2026-01-01 00:00+00'));  -- the text is a replica id

SET client_min_messages = warning;
DROP ROLE crdt_edges_clerk;
DELETE FROM crdt_reconcile.conflicts WHERE NOT EXISTS (SELECT FROM pg_class c WHERE c.oid = relation);
DROP DOMAIN small_d CASCADE;
DROP TABLE dom_t, dom_checked;
DROP DOMAIN counter_d, tags_d, clock_d;
RESET client_min_messages;

-- ---------------------------------------------------------------- what cannot merge is refused
-- A constraint that rows written on two nodes can break together would stop
-- replication for good; track() refuses it, and so does DDL later.
CREATE TABLE guarded (k int PRIMARY KEY, n gcounter, price numeric, code text UNIQUE, clk vclock, writer lwwreg,
                      CONSTRAINT small CHECK (crdt_value(n) < 100));
SELECT crdt_reconcile.track('guarded', clock_column => 'clk', writer_column => 'writer');
ALTER TABLE guarded DROP CONSTRAINT guarded_code_key;
SELECT crdt_reconcile.track('guarded', clock_column => 'clk', writer_column => 'writer');
ALTER TABLE guarded DROP CONSTRAINT small, ADD CONSTRAINT positive CHECK (price > 0);
SELECT relation FROM crdt_reconcile.track('guarded', clock_column => 'clk', writer_column => 'writer',
                                          invariant => 'crdt_value(n) < 100');
ALTER TABLE guarded ADD CONSTRAINT pair CHECK (price < 1000 OR code <> '');
CREATE UNIQUE INDEX guarded_code ON guarded (code);
CREATE INDEX guarded_code ON guarded (code);
CREATE TABLE plain_noclock (k int PRIMARY KEY, label text);
SELECT crdt_reconcile.track('plain_noclock');
DROP TABLE guarded, plain_noclock;
-- an identity key: an applied INSERT of an existing key merges (the key is never assigned)
CREATE TABLE ident (k int GENERATED ALWAYS AS IDENTITY PRIMARY KEY, n gcounter, clk vclock);
SELECT relation FROM crdt_reconcile.track('ident', clock_column => 'clk');
INSERT INTO ident (n) VALUES ('{"a":1}');
SET session_replication_role = replica;
INSERT INTO ident (k, n, clk) OVERRIDING SYSTEM VALUE VALUES (1, '{"b":2}', '{"n2":1}');
RESET session_replication_role;
SELECT k, n, clk FROM ident;
DROP TABLE ident;

-- ---------------------------------------------------------------- row lifecycle
-- A delete leaves a tombstone; rows that arrive for the key are applied
-- only when written after the delete was seen.
SET crdt.replica_id = 'n1';
CREATE TABLE life (k int PRIMARY KEY, n gcounter, clk vclock);
SELECT relation FROM crdt_reconcile.track('life', clock_column => 'clk');
INSERT INTO life (k, n) VALUES (1, crdt_increment(NULL::gcounter, 1));
DELETE FROM life WHERE k = 1;
SELECT relation_name, row_key, clock FROM crdt_reconcile.tombstones WHERE relation_name = 'public.life';
SET session_replication_role = replica;
INSERT INTO life VALUES (1, '{"n1":1}', '{"n1":1}');                 -- an echo from before the delete
INSERT INTO life VALUES (1, '{"n2":5}', '{"n1":1,"n2":1}');          -- n2 wrote without seeing the delete
SELECT count(*) AS rows_after_old_writes FROM life;
INSERT INTO life VALUES (1, '{"n2":7}', '{"n1":2,"n2":2}');          -- n2 re-inserted after seeing it
DELETE FROM life WHERE k = 1;                                         -- a late copy of the old delete
RESET session_replication_role;
SELECT k, n, clk FROM life;
SELECT kind, resolution, note FROM crdt_reconcile.conflicts WHERE relation = 'life'::regclass;
-- a local delete and re-insert: the new row comes after the delete
DELETE FROM life WHERE k = 1;
INSERT INTO life (k, n) VALUES (1, crdt_increment(NULL::gcounter, 3));
SELECT k, n, clk, clk > (SELECT clock FROM crdt_reconcile.tombstones WHERE relation_name = 'public.life')
       AS after_the_delete FROM life;
-- a tombstone arriving from another node removes the row it covers
SET session_replication_role = replica;
INSERT INTO crdt_reconcile.tombstones (relation_name, row_key, clock)
VALUES ('public.life', '{"k": 1}', '{"n1":9,"n2":9}');
RESET session_replication_role;
SELECT count(*) AS rows_after_tombstone FROM life;
SELECT clock FROM crdt_reconcile.tombstones WHERE relation_name = 'public.life';
-- renaming the table (or its schema) takes its tombstones along
ALTER TABLE life RENAME TO life2;
SELECT relation_name FROM crdt_reconcile.tombstones WHERE row_key = '{"k": 1}' AND relation_name LIKE 'public.life%';
SELECT relation_name FROM crdt_reconcile.tracked WHERE relation = 'life2'::regclass;
ALTER TABLE life2 RENAME TO life;
-- TRUNCATE would wipe rows written later on every node: refused
TRUNCATE life;
-- without a row clock a delete could not be ordered: refused
CREATE TABLE noclock (k int PRIMARY KEY, n gcounter);
SELECT relation FROM crdt_reconcile.track('noclock');
INSERT INTO noclock VALUES (1, '{"a":1}');
DELETE FROM noclock;
DROP TABLE life, noclock;
SELECT crdt_reconcile.purge_tombstones('0 seconds') AS purged;
