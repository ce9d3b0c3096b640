--
-- History, time travel and compaction of tracked tables (issue 15): every
-- change to a row leaves one record; as_of rebuilds a row at any time
-- from them; compaction folds old records into checkpoints without
-- changing what as_of answers after its point.
--
\set SHOW_CONTEXT never
SET application_name = 'history';
SET crdt.replica_id = 'n1';
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS crdt_reconcile;
CREATE ROLE crdt_hist_owner;
CREATE ROLE crdt_hist_reader;
CREATE ROLE crdt_hist_stranger;
RESET client_min_messages;
GRANT CREATE ON SCHEMA public TO crdt_hist_owner;

-- times, taken between the writes (as_of answers for a point in time)
CREATE TEMP TABLE t (name text PRIMARY KEY, at timestamptz);
GRANT SELECT ON t TO PUBLIC;
CREATE FUNCTION pg_temp.mark(n text) RETURNS void LANGUAGE sql AS $$
	INSERT INTO t VALUES (n, clock_timestamp()) ON CONFLICT (name) DO UPDATE SET at = excluded.at $$;
-- an error, with the times in it masked
CREATE FUNCTION pg_temp.try(q text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
	EXECUTE q;
	RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
	RETURN SQLSTATE || ': ' || regexp_replace(SQLERRM, '[A-Z][a-z]{2} [A-Z][a-z]{2} [0-9: .]+ [A-Z]+', '<time>', 'g');
END $$;
-- a row's records, without what changes from run to run
CREATE VIEW trail AS
SELECT h.relation, h.row_key, h.kind, h.clock, h.change - 'writer' AS change FROM crdt_reconcile.history h ORDER BY h.id;
GRANT SELECT ON trail TO PUBLIC;

-- ---------------------------------------------------------------- recording
SET ROLE crdt_hist_owner;
CREATE TABLE stock (id int PRIMARY KEY, clk vclock, writer lwwreg, item text, qty pncounter, tags gset);
INSERT INTO stock VALUES (1, '{}', NULL, 'bolt', crdt_increment('{}'::pncounter, 10, 'n1'), '{}');
-- history turned on for a tracked table: its rows now are the starting checkpoints
SELECT relation FROM crdt_reconcile.track('stock', clock_column => 'clk', writer_column => 'writer', history => true);
RESET ROLE;
SELECT pg_temp.mark('after track');
SELECT * FROM trail;
SET ROLE crdt_hist_owner;
UPDATE stock SET qty = crdt_increment(qty, 5), item = 'hex bolt' WHERE id = 1;
INSERT INTO stock VALUES (2, '{}', NULL, 'nut', crdt_increment('{}'::pncounter, 3, 'n1'), crdt_add('{}'::gset, 'm6'));
RESET ROLE;
SELECT pg_temp.mark('two rows');
SET ROLE crdt_hist_owner;
-- a write that changes nothing (only the clock would move) adds nothing
UPDATE stock SET item = item WHERE id = 1;
UPDATE stock SET qty = crdt_decrement(qty, 2), tags = crdt_add(tags, 'zinc') WHERE id = 1;
DELETE FROM stock WHERE id = 2;
RESET ROLE;
SELECT pg_temp.mark('2 deleted');
SET ROLE crdt_hist_owner;
INSERT INTO stock VALUES (2, '{}', NULL, 'nut again', '{}', '{}');
-- a key that changes: one row goes, another comes
UPDATE stock SET id = 3 WHERE id = 2;
RESET ROLE;
SELECT * FROM trail;
SELECT kind, origin FROM crdt_reconcile.history ORDER BY id LIMIT 2;

-- applied writes (as an apply worker or a repair writes them)
SET session_replication_role = replica;
UPDATE stock SET qty = crdt_merge(qty, crdt_increment('{}'::pncounter, 7, 'n2')),
                 clk = crdt_merge(clk, crdt_tick('{}'::vclock, 'n2')) WHERE id = 1;
-- an applied insert of an existing key merges into the row
INSERT INTO stock SELECT 1, crdt_tick('{}'::vclock, 'n3'), writer, 'hex bolt', crdt_increment('{}'::pncounter, 1, 'n3'), '{}' FROM stock WHERE id = 1;
-- an echo of what the row holds changes nothing: nothing recorded
INSERT INTO stock SELECT * FROM stock WHERE id = 1;
RESET session_replication_role;
SELECT kind, change - 'writer' FROM crdt_reconcile.history WHERE kind LIKE 'applied%' OR kind = 'insert_merged' ORDER BY id;
SELECT pg_temp.mark('merged');

-- ---------------------------------------------------------------- as_of
SELECT crdt_reconcile.as_of('stock', '{"id": 1}', (SELECT at FROM t WHERE name = 'after track')) - 'writer';
SELECT crdt_reconcile.as_of('stock', '{"id": 1}', (SELECT at FROM t WHERE name = 'two rows')) - 'writer';
SELECT crdt_reconcile.as_of('stock', '{"id": 2}', (SELECT at FROM t WHERE name = 'two rows')) - 'writer';
-- NULL: the row did not exist then (deleted; never there)
SELECT crdt_reconcile.as_of('stock', '{"id": 2}', (SELECT at FROM t WHERE name = '2 deleted')) IS NULL AS gone;
SELECT crdt_reconcile.as_of('stock', '{"id": 3}', (SELECT at FROM t WHERE name = 'two rows')) IS NULL AS not_yet;
-- now: equal to the table, column by column, through the types' own jsonb casts
SELECT s.id, (a -> 'qty')::pncounter = s.qty AS qty, (a -> 'tags')::gset = s.tags AS tags,
       (a -> 'clk')::vclock = s.clk AS clk, (a -> 'writer')::lwwreg = s.writer AS writer, a ->> 'item' = s.item AS item, crdt_value((a -> 'qty')::pncounter)
FROM stock s, crdt_reconcile.as_of('stock', jsonb_build_object('id', s.id), clock_timestamp()) a ORDER BY s.id;
-- the whole table at a time
SELECT row_key, state - 'writer' FROM crdt_reconcile.as_of('stock', (SELECT at FROM t WHERE name = 'two rows'));
SELECT count(*) FROM crdt_reconcile.as_of('stock', clock_timestamp()) a JOIN stock s
  ON a.row_key = jsonb_build_object('id', s.id) AND a.state = to_jsonb(s);
-- provenance: who changed a row and when, one indexed query
SET enable_seqscan = off;
CREATE FUNCTION pg_temp.plan_of(q text) RETURNS SETOF text LANGUAGE plpgsql AS $$
BEGIN RETURN QUERY EXECUTE 'EXPLAIN (COSTS OFF) ' || q; END $$;
SELECT regexp_replace(p, '[0-9]+', 'N', 'g') FROM pg_temp.plan_of(
  $$SELECT changed_at, kind, origin FROM crdt_reconcile.history
    WHERE relation = 'stock'::regclass AND row_key = '{"id": 1}' ORDER BY id$$) p;
RESET enable_seqscan;

-- ---------------------------------------------------------------- compaction
SELECT count(*) AS records_before FROM crdt_reconcile.history;
CREATE TEMP TABLE before_compaction AS
SELECT n.name, a.row_key, a.state FROM t n, crdt_reconcile.as_of('stock', n.at) a WHERE n.name IN ('2 deleted', 'merged');
SELECT crdt_reconcile.compact_history('stock', (SELECT at FROM t WHERE name = '2 deleted')) AS records_saved;
SELECT kind, origin LIKE 'compacted % records' AS compacted, change - 'writer' FROM crdt_reconcile.history
WHERE kind = 'checkpoint' ORDER BY row_key;
-- at and after the compaction point: the same answers
SELECT b.name, b.row_key, b.state = a.state AS same
FROM before_compaction b LEFT JOIN LATERAL (SELECT * FROM t n, crdt_reconcile.as_of('stock', n.at) x WHERE n.name = b.name) a
  ON a.row_key = b.row_key ORDER BY 1, 2;
-- before it: a clear error naming the point
SELECT pg_temp.try($$SELECT crdt_reconcile.as_of('stock', '{"id": 1}', (SELECT at FROM t WHERE name = 'two rows'))$$);
SELECT pg_temp.try($$SELECT crdt_reconcile.as_of('stock', (SELECT at FROM t WHERE name = 'after track'))$$);
-- as_of at the point itself answers
SELECT crdt_reconcile.as_of('stock', '{"id": 1}', (SELECT compacted_before FROM crdt_reconcile.history_settings)) - 'writer';
-- compacting again at the same point saves nothing; earlier does not move the point back
SELECT crdt_reconcile.compact_history('stock', (SELECT at FROM t WHERE name = '2 deleted')) AS records_saved;
SELECT crdt_reconcile.compact_history('stock', (SELECT at FROM t WHERE name = 'two rows')) AS records_saved;
SELECT compacted_before = (SELECT at FROM t WHERE name = '2 deleted') FROM crdt_reconcile.history_settings;
-- retention: what compact_history_by_retention keeps
SELECT crdt_reconcile.set_history('stock', true, history_retention => '1 day') AS on_again;
SELECT relation, history_retention FROM crdt_reconcile.history_settings;
SELECT * FROM crdt_reconcile.compact_history_by_retention();

-- ---------------------------------------------------------------- hostile arguments
SELECT crdt_reconcile.as_of(NULL, '{"id": 1}', now());
SELECT crdt_reconcile.as_of('stock', NULL, now());
SELECT crdt_reconcile.as_of('stock', '[1]', now());
SELECT crdt_reconcile.as_of('stock', '{"id": 1}', NULL);
SELECT pg_temp.try($$SELECT crdt_reconcile.as_of('stock', '{"id": 1}', '-infinity')$$);
SELECT crdt_reconcile.as_of('stock', '{"id": "not a number"}', now()) IS NULL AS no_such_row;
SELECT crdt_reconcile.as_of('pg_class', '{"oid": 1}', now());
SELECT crdt_reconcile.compact_history('stock', NULL);
SELECT crdt_reconcile.compact_history(NULL, now());
SELECT crdt_reconcile.compact_history('stock', 'infinity');
SELECT crdt_reconcile.compact_history('stock', now() + interval '1 hour');
SELECT crdt_reconcile.compact_history(12345::oid::regclass, now());
SELECT crdt_reconcile.compact_history('t', now());
SELECT crdt_reconcile.set_history('stock', true, history_retention => '-1 day');
SELECT crdt_reconcile.set_history('t', true);
SELECT crdt_reconcile.set_history('stock', NULL);
-- the trigger runs only as set_history made it
CREATE TABLE forged (id int PRIMARY KEY, n gcounter);
CREATE TRIGGER sneaky AFTER INSERT ON forged FOR EACH ROW EXECUTE FUNCTION crdt_reconcile.history_trigger();
INSERT INTO forged VALUES (1, '{}');
CREATE TRIGGER crdt_reconcile_history BEFORE INSERT ON forged FOR EACH ROW EXECUTE FUNCTION crdt_reconcile.history_trigger();
INSERT INTO forged VALUES (1, '{}');
DROP TABLE forged;
-- nobody writes history by hand
SET ROLE crdt_hist_owner;
INSERT INTO crdt_reconcile.history (relation, row_key, kind) VALUES ('stock', '{"id": 1}', 'local_update');
DELETE FROM crdt_reconcile.history;
RESET ROLE;

-- ---------------------------------------------------------------- privileges
-- a reader sees the records of what it may read in the table, no more
GRANT SELECT (id, clk, item) ON stock TO crdt_hist_reader;
GRANT SELECT ON stock TO crdt_hist_owner;
SET ROLE crdt_hist_reader;
SELECT kind, change - 'writer' FROM crdt_reconcile.history ORDER BY id;
SELECT crdt_reconcile.as_of('stock', '{"id": 1}', clock_timestamp());
SELECT crdt_reconcile.compact_history('stock', now());
SELECT crdt_reconcile.set_history('stock', false);
RESET ROLE;
SET ROLE crdt_hist_stranger;
SELECT count(*) FROM crdt_reconcile.history;
SELECT count(*) FROM crdt_reconcile.as_of('stock', clock_timestamp());
RESET ROLE;
GRANT SELECT ON stock TO crdt_hist_reader;
SET ROLE crdt_hist_reader;
SELECT count(*) > 0 AS sees_all FROM crdt_reconcile.history;
SELECT count(*) FROM crdt_reconcile.as_of('stock', clock_timestamp());
RESET ROLE;
-- row-level security in the table hides rows from history too
ALTER TABLE stock ENABLE ROW LEVEL SECURITY;
CREATE POLICY only_one ON stock FOR SELECT USING (id = 1);
SET ROLE crdt_hist_reader;
SELECT DISTINCT row_key FROM crdt_reconcile.history ORDER BY 1;
SELECT row_key FROM crdt_reconcile.as_of('stock', clock_timestamp());
SELECT crdt_reconcile.as_of('stock', '{"id": 3}', clock_timestamp());
RESET ROLE;
ALTER TABLE stock DISABLE ROW LEVEL SECURITY;

-- ---------------------------------------------------------------- resolve() and an applied-writer's context
CREATE TABLE board (id int PRIMARY KEY, clk vclock, writer lwwreg, status text, plan mvreg);
SELECT relation FROM crdt_reconcile.track('board', clock_column => 'clk', writer_column => 'writer', history => true);
INSERT INTO board VALUES (1, '{}', NULL, 'new', crdt_set('{}'::mvreg, '"a"', 'n1'));
SET session_replication_role = replica;
UPDATE board SET plan = crdt_merge(plan, crdt_set('{}'::mvreg, '"b"', 'n2')), clk = crdt_merge(clk, crdt_tick('{}'::vclock, 'n2'));
RESET session_replication_role;
SELECT kind, status FROM crdt_reconcile.conflicts WHERE relation = 'board'::regclass;
SELECT (crdt_reconcile.resolve(id, '"c"')).status FROM crdt_reconcile.conflicts WHERE relation = 'board'::regclass;
SELECT kind, origin ~ 'resolving conflict [0-9]+$' AS names_conflict, change -> 'plan' IS NOT NULL AS plan_changed
FROM crdt_reconcile.history WHERE relation = 'board'::regclass ORDER BY id;
-- a forged "resolving" setting names no real conflict: an ordinary write
SET crdt_reconcile.resolving = '999999';
UPDATE board SET status = 'forged';
RESET crdt_reconcile.resolving;
SELECT kind, origin FROM crdt_reconcile.history WHERE relation = 'board'::regclass ORDER BY id DESC LIMIT 1;
SELECT crdt_value((crdt_reconcile.as_of('board', '{"id": 1}', clock_timestamp()) -> 'plan')::mvreg);

-- ---------------------------------------------------------------- values converted as the writer
-- a timestamptz prints by the session's TimeZone: such rows are converted
-- the way conflict records are (fixed settings), so keys and values agree
-- whatever the writer's session says
CREATE TABLE shifts (starts timestamptz PRIMARY KEY, clk vclock, writer lwwreg, note text, n gcounter);
SELECT relation FROM crdt_reconcile.track('shifts', clock_column => 'clk', writer_column => 'writer', history => true);
SET TimeZone = 'Asia/Kathmandu';
INSERT INTO shifts VALUES ('2026-01-01 08:00+00', '{}', NULL, 'early', crdt_increment('{}'::gcounter, 2));
SET TimeZone = 'America/Los_Angeles';
UPDATE shifts SET note = 'moved', n = crdt_increment(n, 1);
RESET TimeZone;
SELECT row_key, kind, change - 'writer' FROM crdt_reconcile.history WHERE relation = 'shifts'::regclass ORDER BY id;
SELECT (a -> 'n')::gcounter = s.n AS n, a ->> 'note' AS note, (a ->> 'starts')::timestamptz = s.starts AS starts
FROM shifts s, crdt_reconcile.as_of('shifts', '{"starts": "2026-01-01T08:00:00+00:00"}', clock_timestamp()) a;
DROP TABLE shifts;

-- ---------------------------------------------------------------- a partitioned table
-- records name the tracked (partitioned) table, whichever partition holds the row
CREATE TABLE parts (id int, region text, n gcounter, PRIMARY KEY (id, region)) PARTITION BY LIST (region);
CREATE TABLE parts_eu PARTITION OF parts FOR VALUES IN ('eu');
CREATE TABLE parts_us PARTITION OF parts FOR VALUES IN ('us');
INSERT INTO parts VALUES (1, 'eu', crdt_increment('{}'::gcounter, 1));
SELECT relation FROM crdt_reconcile.track('parts', history => true);
INSERT INTO parts VALUES (2, 'us', crdt_increment('{}'::gcounter, 4));
UPDATE parts SET n = crdt_increment(n, 2) WHERE id = 1;
SELECT relation, row_key, kind, change FROM crdt_reconcile.history WHERE relation = 'parts'::regclass ORDER BY id;
SELECT * FROM crdt_reconcile.as_of('parts', clock_timestamp());
SELECT crdt_reconcile.untrack('parts');
SELECT count(*) AS history_triggers_left FROM pg_trigger
WHERE tgname = 'crdt_reconcile_history' AND tgrelid IN ('parts'::regclass, 'parts_eu'::regclass, 'parts_us'::regclass);
DROP TABLE parts;

-- ---------------------------------------------------------------- indexes an administrator adds
-- Records are written without SQL: an expression index and a partial
-- index on the history table must still get exactly their entries (an
-- index added after the first record too), and a unique one is enforced.
UPDATE board SET status = 'before indexes' WHERE id = 1;
CREATE INDEX history_kind_lower ON crdt_reconcile.history ((lower(kind)));
CREATE INDEX history_resolves ON crdt_reconcile.history (id) WHERE kind = 'resolve';
UPDATE board SET status = 'indexed' WHERE id = 1;
SET enable_seqscan = off;
SELECT change -> 'status' ->> 'n' AS status FROM crdt_reconcile.history
WHERE lower(kind) = 'local_update' AND relation = 'board'::regclass ORDER BY id DESC LIMIT 1;
SELECT count(*) AS resolves_indexed FROM crdt_reconcile.history WHERE kind = 'resolve';
RESET enable_seqscan;
SELECT count(*) AS resolves FROM crdt_reconcile.history WHERE kind || '' = 'resolve';
SELECT max(id) AS last_id FROM crdt_reconcile.history \gset
CREATE UNIQUE INDEX history_one_more ON crdt_reconcile.history ((true)) WHERE id > :last_id;
UPDATE board SET status = 'one more' WHERE id = 1;
UPDATE board SET status = 'refused' WHERE id = 1;
SELECT status FROM board WHERE id = 1;
DROP INDEX crdt_reconcile.history_kind_lower, crdt_reconcile.history_resolves, crdt_reconcile.history_one_more;
-- an exclusion constraint (its message names the relation by OID: terse)
SELECT max(id) AS last_id FROM crdt_reconcile.history \gset
\set VERBOSITY terse
ALTER TABLE crdt_reconcile.history ADD CONSTRAINT history_one_write EXCLUDE USING btree (relation WITH =) WHERE (id > :last_id);
UPDATE board SET status = 'excluded once' WHERE id = 1;
UPDATE board SET status = 'excluded twice' WHERE id = 1;
SELECT status FROM board WHERE id = 1;
\set VERBOSITY default
ALTER TABLE crdt_reconcile.history DROP CONSTRAINT history_one_write;

-- ---------------------------------------------------------------- deltas as jsonb
-- a CRDT column's delta is recorded as its jsonb cast makes it: pushed
-- straight from its text, or through jsonb_in where the text has a \u
-- escape (row 2)
CREATE TABLE labels (id int PRIMARY KEY, tags gset, note lwwreg);
SELECT relation FROM crdt_reconcile.track('labels', history => true);
INSERT INTO labels VALUES
	(1, '["plain", "quo\"te", "back\\slash", "tab\tx", "é"]',
	    crdt_set_at('{}'::lwwreg, '{"n": [1.50, -0, 12345678901234567890, "\u00e9"]}', '2026-11-26 10:00:00+00', 'n1')),
	(2, '["ctl\u0001x"]', NULL);
UPDATE labels SET tags = crdt_add(tags, E'new\nline');
SELECT h.row_key, h.kind, h.change FROM crdt_reconcile.history h WHERE h.relation = 'labels'::regclass ORDER BY h.id;
SELECT bool_and(h.change -> 'tags' -> 'd' = crdt_add('{}'::gset, E'new\nline')::jsonb) AS update_deltas_as_cast,
       count(*) AS updates
FROM crdt_reconcile.history h WHERE h.relation = 'labels'::regclass AND h.kind = 'local_update';
DROP TABLE labels;

-- ---------------------------------------------------------------- turning it off
SELECT crdt_reconcile.set_history('board', false);
UPDATE board SET status = 'unrecorded';
SELECT count(*) FROM crdt_reconcile.history WHERE relation = 'board'::regclass AND change -> 'status' ->> 'n' = 'unrecorded';
SELECT crdt_reconcile.as_of('board', '{"id": 1}', now());
-- untrack turns it off; a dropped table's settings go, its records stay
SELECT crdt_reconcile.untrack('stock');
SELECT tgname FROM pg_trigger WHERE tgrelid = 'stock'::regclass ORDER BY 1;
SELECT relation FROM crdt_reconcile.track('stock', clock_column => 'clk', writer_column => 'writer', history => true);
DROP TABLE stock;
SELECT count(*) FROM crdt_reconcile.history_settings;
SELECT count(*) > 0 AS records_kept FROM crdt_reconcile.history;

DROP TABLE board;
DELETE FROM crdt_reconcile.history;
DELETE FROM crdt_reconcile.conflicts;
DROP VIEW trail;
REVOKE CREATE ON SCHEMA public FROM crdt_hist_owner;
DROP ROLE crdt_hist_owner, crdt_hist_reader, crdt_hist_stranger;
