--
-- Tracked tables, merge-in-place shape: local writes keep PostgreSQL's
-- semantics, applied writes (session_replication_role = replica, as in an
-- apply worker) merge, and every conflict kind is recorded.
--
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS crdt_reconcile CASCADE;
CREATE EXTENSION crdt_reconcile;
RESET client_min_messages;
\set SHOW_CONTEXT never
SET application_name = 'regress';

-- what track() refuses
CREATE TABLE nokey (a int, c gcounter);
SELECT crdt_reconcile.track('nokey');
CREATE TABLE inv (sku text PRIMARY KEY, stock pncounter NOT NULL DEFAULT '{}', tags orset DEFAULT '{}',
                  price numeric, note lwwreg, plan mvreg, clk vclock, writer lwwreg);
SELECT crdt_reconcile.track('inv', shape => 'sideways');
SELECT crdt_reconcile.track('inv', clock_column => 'price');
SELECT crdt_reconcile.track('inv', clock_column => 'clk');
SELECT crdt_reconcile.track('inv', writer_column => 'writer');
SELECT crdt_reconcile.track('inv', replica_column => 'sku');
SELECT crdt_reconcile.track('inv', clock_column => 'clk', writer_column => 'writer', invariant => 'no_such_column > 0');
SELECT relation, shape, key_columns, clock_column, writer_column, invariant, log_merges
FROM crdt_reconcile.track('inv', clock_column => 'clk', writer_column => 'writer',
                          invariant => 'crdt_value(stock) >= 0');
SELECT crdt_reconcile.track('inv');
SELECT tgenabled FROM pg_trigger WHERE tgrelid = 'inv'::regclass AND tgname = 'crdt_reconcile_track';

-- ---------------------------------------------------------------- local writes
SET crdt.replica_id = 'n1';
INSERT INTO inv (sku, stock, price) VALUES ('a', crdt_increment('{}'::pncounter, 10), 5) RETURNING sku, crdt_value(stock), clk;
-- a local INSERT of an existing key is still a unique violation
INSERT INTO inv (sku, price) VALUES ('a', 6);
-- the upsert idiom: increments are written against the stored state
INSERT INTO inv AS t (sku) VALUES ('a')
ON CONFLICT (sku) DO UPDATE SET stock = crdt_increment(t.stock, 1) RETURNING sku, crdt_value(stock), clk;
-- a local UPDATE that sets a CRDT column to an older state cannot lose work
UPDATE inv SET stock = '{"p":{"n1":3}}', tags = crdt_add(tags, 'red') WHERE sku = 'a';
SELECT sku, crdt_value(stock), crdt_value(tags), price, clk, crdt_writer(writer) FROM inv;
-- without a replica id, a local write to a table with a clock cannot be stamped
RESET crdt.replica_id;
UPDATE inv SET price = 6 WHERE sku = 'a';
SET crdt.replica_id = 'n1';

-- ---------------------------------------------------------------- applied writes
SET session_replication_role = replica;
-- as in an apply worker: nothing the trigger runs may depend on search_path
SET search_path = '';
-- n2 wrote concurrently (it saw none of n1's writes) with a later writer tag: n2's price wins
UPDATE public.inv SET price = 7, stock = '{"p":{"n2":4}}', clk = '{"n2":1}',
       writer = public.crdt_set_at('{}'::public.lwwreg, 'null', '2100-01-01', 'n2')
WHERE sku = 'a';
-- n3 wrote concurrently with an earlier tag: n3's price loses, its decrement merges
UPDATE public.inv SET price = 8, stock = '{"n":{"n3":30}}', clk = '{"n3":1}',
       writer = public.crdt_set_at('{}'::public.lwwreg, 'null', '2000-01-01', 'n3')
WHERE sku = 'a';
RESET search_path;
SELECT sku, crdt_value(stock), price, clk, crdt_writer(writer) FROM inv;
-- an echo of the current row changes nothing and is skipped
UPDATE inv SET price = price WHERE sku = 'a';
-- a stale update (n2's first write again) with a different value: kept local, recorded
UPDATE inv SET price = 1, clk = '{"n2":1}' WHERE sku = 'a';
-- an applied INSERT of an existing key merges instead of failing
INSERT INTO inv (sku, stock, price, clk, writer)
VALUES ('a', '{"p":{"n4":5}}', 9, '{"n4":1}', crdt_set_at('{}'::lwwreg, 'null', '1990-01-01', 'n4'));
-- an applied INSERT of a new key is inserted as is (no tick)
INSERT INTO inv (sku, stock, price, clk) VALUES ('b', '{"p":{"n4":2}}', 3, '{"n4":2}');
-- registers: concurrent lwwreg writes, and an mvreg left with two values
UPDATE inv SET note = crdt_set_at('{}'::lwwreg, '"restock"', '2050-01-01', 'n2'),
               plan = crdt_set('{}'::mvreg, '"ship"', 'n2'), clk = '{"n2":2}' WHERE sku = 'b';
UPDATE inv SET note = crdt_set_at('{}'::lwwreg, '"hold"', '2040-01-01', 'n3'),
               plan = crdt_set('{}'::mvreg, '"wait"', 'n3'), clk = '{"n3":5}' WHERE sku = 'b';
RESET session_replication_role;
SELECT sku, crdt_value(stock), price, clk, crdt_value(note) AS note, crdt_value(plan) AS plan FROM inv ORDER BY sku;

SELECT id, row_key, column_name, kind, local_value, remote_value, result_value, resolution, status,
       local_clock, remote_clock, origin
FROM crdt_reconcile.conflicts WHERE column_name IS NOT NULL ORDER BY id;
-- whole-row records: the values are the rows
SELECT id, row_key, kind, local_value ->> 'price' AS local_price, remote_value ->> 'price' AS remote_price,
       result_value -> 'stock' AS result_stock, resolution, status
FROM crdt_reconcile.conflicts WHERE column_name IS NULL ORDER BY id;
SELECT relation, local_writes, merges_applied, inserts_merged, stale_skipped, echoes_skipped, conflicts_recorded
FROM crdt_reconcile.merge_stats;
SELECT relation, kind, total, open, last_hour FROM crdt_reconcile.conflict_stats ORDER BY kind;

-- the trigger fires only as crdt_reconcile.track created it
CREATE TABLE misuse (k int PRIMARY KEY);
CREATE TRIGGER wrong AFTER INSERT ON misuse FOR EACH ROW EXECUTE FUNCTION crdt_reconcile.track_trigger();
INSERT INTO misuse VALUES (1);
DROP TRIGGER wrong ON misuse;
CREATE TRIGGER wrong BEFORE INSERT ON misuse FOR EACH ROW EXECUTE FUNCTION crdt_reconcile.track_trigger();
INSERT INTO misuse VALUES (1);
DROP TABLE misuse;

-- ---------------------------------------------------------------- log_merges
CREATE TABLE hits (page text PRIMARY KEY, n gcounter, seen gset);
SELECT (crdt_reconcile.track('hits', log_merges => true)).log_merges;
INSERT INTO hits VALUES ('home', crdt_increment('{}'::gcounter, 5), crdt_add('{}'::gset, 'x'));
SET session_replication_role = replica;
UPDATE hits SET n = '{"n2":7}', seen = '["y"]' WHERE page = 'home';
UPDATE hits SET n = '{"n2":7}', seen = '["y"]' WHERE page = 'home';  -- replayed: nothing to log
RESET session_replication_role;
-- without a clock, plain columns follow the applied row as PostgreSQL does
SELECT page, n, seen FROM hits;
SELECT column_name, kind, local_value, remote_value, result_value, resolution, status
FROM crdt_reconcile.conflicts WHERE relation = 'hits'::regclass ORDER BY id;

-- ---------------------------------------------------------------- untrack
SELECT crdt_reconcile.untrack('hits');
SELECT crdt_reconcile.untrack('hits');
SELECT count(*) FROM pg_trigger WHERE tgrelid = 'hits'::regclass;
SELECT relation FROM crdt_reconcile.tracked ORDER BY relation::text;
-- settings changes: untrack and track again, and the trigger picks them up
SELECT crdt_reconcile.untrack('inv');
SELECT (crdt_reconcile.track('inv', clock_column => 'clk', writer_column => 'writer')).invariant;
SET session_replication_role = replica;
UPDATE inv SET stock = '{"n":{"n9":1000}}', clk = '{"n9":1}' WHERE sku = 'b';
RESET session_replication_role;
SELECT count(*) AS invariant_records FROM crdt_reconcile.conflicts WHERE kind = 'invariant_violation';
DROP TABLE nokey, hits;
