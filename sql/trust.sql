--
-- The trust boundary of tracked tables, tried as hostile unprivileged
-- roles would (issue "Trust boundary").  Nothing a user writes — a cast,
-- an invariant, a hand-made trigger, a forged settings row — may run with
-- rights that user lacks, crash the server, or show what a table hides.
--
\set SHOW_CONTEXT never
SET application_name = 'trust';
SET client_min_messages = warning;
CREATE ROLE crdt_trust_owner;
CREATE ROLE crdt_trust_writer;
CREATE ROLE crdt_trust_mallory;
CREATE ROLE crdt_trust_tenant_a;
CREATE ROLE crdt_trust_tenant_b;
CREATE ROLE crdt_trust_stranger;
RESET client_min_messages;
CREATE SCHEMA trust_app AUTHORIZATION crdt_trust_owner;
CREATE SCHEMA trust_evil AUTHORIZATION crdt_trust_mallory;
GRANT USAGE ON SCHEMA trust_app, trust_evil TO PUBLIC;
SET crdt.replica_id = 'n1';

-- who ran a piece of user code, and what it managed to do
CREATE TABLE trust_app.code_log (what text, who name, note text);
GRANT INSERT ON trust_app.code_log TO PUBLIC;
CREATE FUNCTION pg_temp.code_log() RETURNS TABLE (what text, who text, note text) LANGUAGE sql AS $$
	SELECT l.what, CASE WHEN r.rolsuper THEN 'a superuser' ELSE l.who::text END, l.note
	FROM trust_app.code_log l JOIN pg_roles r ON r.rolname = l.who
	GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
$$;

-- ---------------------------------------------------------------- 1. casts run as the writer
-- A table owner's cast to json, run when a record converts a row: it must
-- run as the writer (as the table's owner for an applied write), never as
-- the audit table's owner.
SET ROLE crdt_trust_owner;
CREATE TYPE trust_app.mood AS ENUM ('calm', 'cross');
CREATE FUNCTION trust_app.mood_json(m trust_app.mood) RETURNS json LANGUAGE plpgsql AS $$
BEGIN
	BEGIN
		EXECUTE 'ALTER ROLE crdt_trust_owner SUPERUSER';
		INSERT INTO trust_app.code_log VALUES ('cast', current_user, 'became superuser');
	EXCEPTION WHEN insufficient_privilege THEN
		INSERT INTO trust_app.code_log VALUES ('cast', current_user, 'ALTER ROLE denied');
	END;
	RETURN pg_catalog.to_json(m::text);
END $$;
CREATE CAST (trust_app.mood AS json) WITH FUNCTION trust_app.mood_json(trust_app.mood);
CREATE TABLE trust_app.moods (k int PRIMARY KEY, tag trust_app.mood, g gcounter, clk vclock, writer lwwreg);
SELECT relation FROM crdt_reconcile.track('trust_app.moods', clock_column => 'clk', writer_column => 'writer',
                                          log_merges => true, invariant => 'crdt_value(g) < 100');
GRANT SELECT, INSERT, UPDATE ON trust_app.moods TO crdt_trust_writer;
INSERT INTO trust_app.moods VALUES (1, 'calm', '{"a":5}');
UPDATE trust_app.moods SET g = '{"b":1}';                 -- merge_logged: the owner's own write
SET ROLE crdt_trust_writer;
UPDATE trust_app.moods SET g = '{"c":2}';                 -- merge_logged: the writer's
UPDATE trust_app.moods SET g = crdt_increment(g, 200);    -- invariant_violation: whole rows
RESET ROLE;
SET session_replication_role = replica;                   -- an applied write, run by a superuser
UPDATE trust_app.moods SET g = '{"d":3}';
RESET session_replication_role;
SELECT * FROM pg_temp.code_log();
SELECT rolsuper AS owner_became_superuser FROM pg_roles WHERE rolname = 'crdt_trust_owner';
SELECT kind, count(*), bool_and(result_value IS NOT NULL) AS converted
FROM crdt_reconcile.conflicts WHERE relation = 'trust_app.moods'::regclass GROUP BY kind ORDER BY kind;
TRUNCATE trust_app.code_log;

-- ---------------------------------------------------------------- 2. hand-made triggers
-- Any role that can create a table can attach the trigger function, with
-- any arguments: it must refuse to run, not crash.
GRANT CREATE ON SCHEMA trust_evil TO crdt_trust_mallory;
SET ROLE crdt_trust_mallory;
CREATE TABLE trust_evil.boom (k int PRIMARY KEY, c int);
CREATE TRIGGER x BEFORE INSERT ON trust_evil.boom FOR EACH ROW EXECUTE FUNCTION
	crdt_reconcile.track_trigger('merge_in_place', 'c', '', '', 'false', '', '', 'true');
INSERT INTO trust_evil.boom VALUES (1, 12345);
DROP TRIGGER x ON trust_evil.boom;
-- named like the real one, on a table that is not tracked
CREATE TRIGGER crdt_reconcile_track BEFORE INSERT OR UPDATE ON trust_evil.boom FOR EACH ROW
	EXECUTE FUNCTION crdt_reconcile.track_trigger('replica_rows', 'k', 'c', 'k', 'true', '', '', 'true');
INSERT INTO trust_evil.boom VALUES (1, 12345);
DROP TRIGGER crdt_reconcile_track ON trust_evil.boom;
-- its own tracked table, then a forged settings row naming a column of the wrong type
CREATE TABLE trust_evil.forged (k int PRIMARY KEY, c int, g gcounter, clk vclock, writer lwwreg);
SELECT relation FROM crdt_reconcile.track('trust_evil.forged', clock_column => 'clk', writer_column => 'writer');
UPDATE crdt_reconcile.tracked SET clock_column = 'c' WHERE relation = 'trust_evil.forged'::regclass;
DELETE FROM crdt_reconcile.tracked WHERE relation = 'trust_evil.forged'::regclass;
INSERT INTO crdt_reconcile.tracked (relation, shape, key_columns, clock_column, replica_column)
VALUES ('trust_evil.forged', 'replica_rows', '{k}', 'c', 'k');
INSERT INTO trust_evil.forged VALUES (1, 12345, '{"a":1}');
-- and no settings row for someone else's table
INSERT INTO crdt_reconcile.tracked (relation, shape, key_columns)
VALUES ('trust_app.code_log', 'merge_in_place', '{what}');
DELETE FROM crdt_reconcile.tracked WHERE relation = 'trust_app.moods'::regclass;
RESET ROLE;
SELECT relation, shape, clock_column FROM crdt_reconcile.tracked WHERE relation::text LIKE 'trust_%' ORDER BY relation::text COLLATE "C";

-- ---------------------------------------------------------------- 4. TRIGGER privilege
-- A role with TRIGGER, INSERT and UPDATE on someone else's table must not
-- get its code run as that table's owner.
SET ROLE crdt_trust_owner;
CREATE TABLE trust_app.victim (k int PRIMARY KEY, g gcounter);
CREATE TABLE trust_app.tracked_victim (k int PRIMARY KEY, g gcounter);
SELECT relation FROM crdt_reconcile.track('trust_app.tracked_victim');
GRANT TRIGGER, INSERT, UPDATE ON trust_app.victim, trust_app.tracked_victim TO crdt_trust_mallory;
RESET ROLE;
SET ROLE crdt_trust_mallory;
CREATE FUNCTION trust_evil.pwn() RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
	INSERT INTO trust_app.code_log VALUES ('pwn', current_user, 'ran');
	RETURN true;
END $$;
CREATE TRIGGER crdt_reconcile_track BEFORE INSERT OR UPDATE ON trust_app.victim FOR EACH ROW
	EXECUTE FUNCTION crdt_reconcile.track_trigger('merge_in_place', '', '', '', 'false', 'trust_evil.pwn()',
	                                              'trust_evil', 'true');
INSERT INTO trust_app.victim VALUES (1, '{"a":1}');
CREATE TRIGGER also BEFORE INSERT OR UPDATE ON trust_app.tracked_victim FOR EACH ROW
	EXECUTE FUNCTION crdt_reconcile.track_trigger('merge_in_place', '', '', '', 'false', 'trust_evil.pwn()',
	                                              'trust_evil', 'true');
INSERT INTO trust_app.tracked_victim VALUES (1, '{"a":1}');
-- the owner's untrack and track stay the owner's
SELECT crdt_reconcile.untrack('trust_app.tracked_victim');
SELECT crdt_reconcile.track('trust_app.victim', invariant => 'trust_evil.pwn()');
RESET ROLE;
SELECT * FROM pg_temp.code_log();

-- An invariant track() made runs as the table's owner, restricted: it
-- cannot take another identity or leave objects behind.
SET ROLE crdt_trust_owner;
CREATE FUNCTION trust_app.balance_ok(n bigint) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
	BEGIN
		CREATE TEMP TABLE trust_left_behind (x int);
		INSERT INTO trust_app.code_log VALUES ('invariant', current_user, 'created a temp table');
	EXCEPTION WHEN OTHERS THEN
		INSERT INTO trust_app.code_log VALUES ('invariant', current_user, SQLERRM);
	END;
	RETURN n < 10;
END $$;
DROP TRIGGER also ON trust_app.tracked_victim;
SELECT crdt_reconcile.untrack('trust_app.tracked_victim');
SELECT relation FROM crdt_reconcile.track('trust_app.tracked_victim', invariant => 'trust_app.balance_ok(crdt_value(g))');
INSERT INTO trust_app.tracked_victim VALUES (1, '{"a":1}');
GRANT SELECT ON trust_app.tracked_victim TO crdt_trust_mallory;
RESET ROLE;
SET ROLE crdt_trust_mallory;
UPDATE trust_app.tracked_victim SET g = crdt_increment(g, 50);
RESET ROLE;
SELECT * FROM pg_temp.code_log();
SELECT kind, status FROM crdt_reconcile.conflicts WHERE relation = 'trust_app.tracked_victim'::regclass;
-- an invariant that raises is recorded, with its error; it never blocks the write
SET ROLE crdt_trust_owner;
SELECT crdt_reconcile.untrack('trust_app.tracked_victim');
SELECT relation FROM crdt_reconcile.track('trust_app.tracked_victim', invariant => '1 / (crdt_value(g) - 52) <> 0');
UPDATE trust_app.tracked_victim SET g = crdt_increment(g, 1);
SELECT k, crdt_value(g) FROM trust_app.tracked_victim;
SELECT kind, status, note FROM crdt_reconcile.conflicts
WHERE relation = 'trust_app.tracked_victim'::regclass AND note IS NOT NULL;
RESET ROLE;
TRUNCATE trust_app.code_log;

-- ---------------------------------------------------------------- 5. what the audit shows
-- Tenants limited by row-level security and column grants see, through
-- the audit, no row the table hides from them and no value of a column
-- they may not SELECT.
SET ROLE crdt_trust_owner;
CREATE TABLE trust_app.ledger (id int PRIMARY KEY, tenant name, n pncounter, secret text, note mvreg,
                               clk vclock, writer lwwreg);
SELECT relation FROM crdt_reconcile.track('trust_app.ledger', clock_column => 'clk', writer_column => 'writer',
                                          invariant => 'crdt_value(n) >= 0');
ALTER TABLE trust_app.ledger ENABLE ROW LEVEL SECURITY;
CREATE POLICY own_rows ON trust_app.ledger USING (tenant = current_user) WITH CHECK (tenant = current_user);
GRANT SELECT (id, tenant, n, note, clk), INSERT, UPDATE ON trust_app.ledger TO crdt_trust_tenant_a, crdt_trust_tenant_b;
INSERT INTO trust_app.ledger (id, tenant, n, secret) VALUES
	(1, 'crdt_trust_tenant_a', crdt_increment(NULL::pncounter, 5), 'a-secret'),
	(2, 'crdt_trust_tenant_b', crdt_increment(NULL::pncounter, 5), 'b-secret');
RESET ROLE;
-- concurrent writes from n2 on both rows: secret and note conflict, row 2 goes negative
SET session_replication_role = replica;
UPDATE trust_app.ledger SET secret = 'n2-' || id, note = crdt_set('{}'::mvreg, '"n2"', 'n2'),
       n = CASE WHEN id = 2 THEN '{"n":{"n2":50}}'::pncounter ELSE n END, clk = '{"n2":1}',
       writer = crdt_set_at('{}'::lwwreg, 'null', '2100-01-01', 'n2');
UPDATE trust_app.ledger SET note = crdt_set('{}'::mvreg, '"n3"', 'n3'), clk = '{"n3":1}';
RESET session_replication_role;
SELECT row_key, column_name, kind FROM crdt_reconcile.conflicts
WHERE relation = 'trust_app.ledger'::regclass ORDER BY id;
SET ROLE crdt_trust_tenant_a;
SELECT row_key, column_name, kind, remote_value FROM crdt_reconcile.conflicts ORDER BY id;
SELECT relation, kind, total FROM crdt_reconcile.conflict_stats;
RESET ROLE;
SET ROLE crdt_trust_tenant_b;
SELECT row_key, column_name, kind, remote_value FROM crdt_reconcile.conflicts ORDER BY id;
-- resolving what it cannot see is refused; resolving its own works
SELECT id AS a_note FROM crdt_reconcile.conflicts WHERE FALSE \gset
RESET ROLE;
SELECT id AS a_note FROM crdt_reconcile.conflicts
WHERE relation = 'trust_app.ledger'::regclass AND row_key = '{"id": 1}' AND column_name = 'note' \gset
SELECT id AS b_note FROM crdt_reconcile.conflicts
WHERE relation = 'trust_app.ledger'::regclass AND row_key = '{"id": 2}' AND column_name = 'note' \gset
SET ROLE crdt_trust_tenant_b;
SELECT set_config('trust.a_note', :'a_note', false) IS NOT NULL AS noted;
DO $$ BEGIN PERFORM crdt_reconcile.resolve(current_setting('trust.a_note')::int8, 'keep');
EXCEPTION WHEN no_data_found THEN RAISE NOTICE 'refused: SQLSTATE %', SQLSTATE; END $$;
UPDATE crdt_reconcile.conflicts SET status = 'resolved' WHERE id = :a_note;
SELECT status, resolved_by FROM crdt_reconcile.resolve(:b_note, '"settled by b"');
RESET ROLE;
SET ROLE crdt_trust_stranger;
SELECT count(*) AS stranger_sees FROM crdt_reconcile.conflicts;
RESET ROLE;

-- merge statistics: only relations of this database the caller may read
SET ROLE crdt_trust_tenant_a;
SELECT relation FROM crdt_reconcile.merge_stats ORDER BY relation::text COLLATE "C";
RESET ROLE;
SET ROLE crdt_trust_stranger;
SELECT count(*) AS stranger_counters FROM crdt_reconcile.merge_counters();
RESET ROLE;
\set home :DBNAME
CREATE DATABASE crdt_trust_elsewhere;
\c crdt_trust_elsewhere
SET client_min_messages = warning;
CREATE EXTENSION crdt_reconcile;
RESET client_min_messages;
CREATE TABLE elsewhere (k int PRIMARY KEY, g gcounter);
SELECT relation FROM crdt_reconcile.track('elsewhere');
INSERT INTO elsewhere VALUES (1, '{"x":1}');
\c :home
SELECT count(*) AS other_databases_shown
FROM crdt_reconcile.merge_counters() s
WHERE s.database <> (SELECT d.oid FROM pg_database d WHERE d.datname = current_database());
DROP DATABASE crdt_trust_elsewhere;
SET crdt.replica_id = 'n1';

-- ---------------------------------------------------------------- 12. writers without SELECT
-- A role with only INSERT and UPDATE writes a replica-rows table with a
-- clock: the other replicas' rows are read as the table's owner.
SET ROLE crdt_trust_owner;
CREATE TABLE trust_app.rows (k int, replica text, n gcounter, clk vclock, PRIMARY KEY (k, replica));
SELECT relation FROM crdt_reconcile.track('trust_app.rows', shape => 'replica_rows', replica_column => 'replica',
                                          clock_column => 'clk');
GRANT INSERT, UPDATE ON trust_app.rows TO crdt_trust_writer;
RESET ROLE;
SET session_replication_role = replica;
INSERT INTO trust_app.rows VALUES (1, 'n2', '{"n2":4}', '{"n2":3}');
RESET session_replication_role;
SET ROLE crdt_trust_writer;
INSERT INTO trust_app.rows VALUES (1, 'n1', crdt_increment(NULL::gcounter, 1), NULL);
RESET ROLE;
SELECT replica, n, clk FROM trust_app.rows ORDER BY replica COLLATE "C";

-- ---------------------------------------------------------------- the server is still up
SELECT 'still here' AS server;
SET client_min_messages = warning;
DROP SCHEMA trust_app, trust_evil CASCADE;
DROP OWNED BY crdt_trust_owner, crdt_trust_writer, crdt_trust_mallory, crdt_trust_tenant_a, crdt_trust_tenant_b,
	crdt_trust_stranger;
DROP ROLE crdt_trust_owner, crdt_trust_writer, crdt_trust_mallory, crdt_trust_tenant_a, crdt_trust_tenant_b,
	crdt_trust_stranger;
DELETE FROM crdt_reconcile.conflicts WHERE relation::text LIKE '%trust%' OR NOT EXISTS (
	SELECT FROM pg_class c WHERE c.oid = relation);
RESET client_min_messages;
