--
-- Arbitration (crdt_reconcile.resolve), retention, and who may see and
-- touch the audit table.  Runs after track and replica_rows, on their tables.
--
\set SHOW_CONTEXT never
SET application_name = 'regress';
SET crdt.replica_id = 'n1';
CREATE ROLE crdt_regress_clerk;
CREATE ROLE crdt_regress_stranger;
CREATE ROLE crdt_regress_auditor IN ROLE crdt_reconcile_admin;
GRANT SELECT, INSERT, UPDATE ON inv TO crdt_regress_clerk;

-- a plain column: the arbitrated value is a new local write that dominates both sides
SELECT id AS price_conflict FROM crdt_reconcile.conflicts
WHERE relation = 'inv'::regclass AND column_name = 'price' AND kind = 'concurrent_update' ORDER BY id LIMIT 1 \gset
SELECT local_clock AS c_local, remote_clock AS c_remote FROM crdt_reconcile.conflicts WHERE id = :price_conflict \gset
SELECT id = :price_conflict AS same, kind, status, resolution, resolved_value, note, resolved_by
FROM crdt_reconcile.resolve(:price_conflict, '6.5'::jsonb, 'agreed on the phone');
SELECT price, vclock_compare(clk, :'c_local') AS vs_local, vclock_compare(clk, :'c_remote') AS vs_remote
FROM inv WHERE sku = 'a';
-- once resolved, it stays resolved
SELECT crdt_reconcile.resolve(:price_conflict, 'keep');
SELECT crdt_reconcile.resolve(:price_conflict, '7'::jsonb);
SELECT crdt_reconcile.resolve(-1, 'keep');
SELECT crdt_reconcile.resolve(:price_conflict, NULL::jsonb);

-- registers: lwwreg takes a write stamped after the winner; mvreg one that observes every value
SELECT id AS note_conflict FROM crdt_reconcile.conflicts WHERE relation = 'inv'::regclass AND column_name = 'note' \gset
SELECT id AS plan_conflict FROM crdt_reconcile.conflicts WHERE relation = 'inv'::regclass AND kind = 'multi_value' \gset
SELECT (crdt_reconcile.resolve(:note_conflict, '"sell"')).status;
SELECT (crdt_reconcile.resolve(:plan_conflict, '{"route": "north"}')).resolved_value;
SELECT crdt_value(note) AS note, crdt_value(plan) AS plan, crdt_is_conflicted(plan) FROM inv WHERE sku = 'b';
-- whole-row conflicts take an object of column values; counters and sets reach the value given
SELECT id AS inv_invariant FROM crdt_reconcile.conflicts WHERE relation = 'inv'::regclass AND kind = 'invariant_violation' \gset
SELECT crdt_reconcile.resolve(:inv_invariant, '3'::jsonb);
SELECT crdt_reconcile.resolve(:inv_invariant, '{"clk": {}}'::jsonb);
SELECT crdt_reconcile.resolve(:inv_invariant, '{"nope": 1}'::jsonb);
SELECT (crdt_reconcile.resolve(:inv_invariant, '{"stock": 12, "tags": ["blue", "green"], "price": 4}')).status;
SELECT crdt_value(stock), crdt_value(tags), price FROM inv WHERE sku = 'a';
-- a gcounter never goes down
CREATE TABLE visits (page text PRIMARY KEY, n gcounter, seen gset);
SELECT (crdt_reconcile.track('visits', invariant => 'crdt_value(n) < 10')).relation;
-- invariants are checked when a write updates or merges into a row
INSERT INTO visits VALUES ('home', crdt_increment('{}'::gcounter, 1), '["a","b"]');
UPDATE visits SET n = crdt_increment(n, 19) WHERE page = 'home';
SELECT id AS visits_conflict FROM crdt_reconcile.conflicts WHERE relation = 'visits'::regclass \gset
SELECT crdt_reconcile.resolve(:visits_conflict, '{"n": 5}');
SELECT crdt_reconcile.resolve(:visits_conflict, '{"seen": ["a"]}');
SELECT (crdt_reconcile.resolve(:visits_conflict, '{"n": 25, "seen": ["a", "b", "c"]}')).status;
SELECT crdt_value(n), crdt_value(seen) FROM visits;

-- a bcounter reaches the value by this replica's increment or decrement, within its rights;
-- an rtext or rlist by one splice of the part that differs, the common ends kept
CREATE TABLE plans (id int PRIMARY KEY, funds bcounter, body rtext, steps rlist);
SELECT (crdt_reconcile.track('plans', invariant => 'crdt_length(body) < 20')).relation;
INSERT INTO plans VALUES (1, crdt_increment('{}'::bcounter, 10), crdt_splice('{}', 0, 0, 'hello world'),
                          crdt_insert(crdt_insert('{}'::rlist, 0, '"a"'), 1, '"b"'));
UPDATE plans SET funds = crdt_transfer(funds, 7, 'n2'),
                 body = crdt_splice(body, 6, 5, 'world and more text here') WHERE id = 1;
SELECT id AS plans_conflict FROM crdt_reconcile.conflicts WHERE relation = 'plans'::regclass \gset
SELECT body AS body_before, steps AS steps_before FROM plans \gset
-- n1 holds rights to 3 of the 10: going down by 9 is refused, not done with rights it lacks
SELECT crdt_reconcile.resolve(:plans_conflict, '{"funds": 1}');
\echo :LAST_ERROR_SQLSTATE
SELECT crdt_reconcile.resolve(:plans_conflict, '{"funds": -1}');
\echo :LAST_ERROR_SQLSTATE
SELECT crdt_reconcile.resolve(:plans_conflict, '{"body": 5}');
SELECT crdt_reconcile.resolve(:plans_conflict, '{"steps": {"a": 1}}');
SELECT crdt_value(funds), crdt_value(body), crdt_value(steps) FROM plans;
SELECT (crdt_reconcile.resolve(:plans_conflict,
        '{"funds": 8, "body": "hello big text here", "steps": ["a", "x", "b"]}')).status;
SELECT crdt_value(funds), crdt_rights(funds, 'n1') AS n1, crdt_rights(funds, 'n2') AS n2,
       crdt_value(body), crdt_value(steps) FROM plans;
-- edits made concurrently at the kept ends survive the merge
SELECT crdt_value(body || crdt_splice(crdt_splice(:'body_before'::rtext, 0, 1, 'H', 'n2'), 30, 0, '!', 'n2')) AS body,
       crdt_value(steps || crdt_delete(:'steps_before'::rlist, 0)) AS steps
FROM plans;
-- a value already reached changes nothing but the row clock; a text cut at its end
UPDATE plans SET funds = crdt_increment(funds, 5), body = crdt_splice(body, 0, 0, 'and so: ') WHERE id = 1;
SELECT id AS plans_conflict2 FROM crdt_reconcile.conflicts WHERE relation = 'plans'::regclass AND status = 'open' \gset
SELECT (crdt_reconcile.resolve(:plans_conflict2, '{"funds": 13, "body": "and so: hello big t", "steps": ["a", "x", "b"]}')).status;
SELECT crdt_value(funds), crdt_value(body), crdt_value(steps) FROM plans;
DROP TABLE plans;

-- replica rows: the arbitrated value goes into this replica's own row and dominates the merged state
SELECT id AS budget_plan FROM crdt_reconcile.conflicts WHERE relation = 'budget'::regclass AND kind = 'multi_value' \gset
SELECT (crdt_reconcile.resolve(:budget_plan, '"hold"')).status;
SELECT team, crdt_value(crdt_merge(plan)) AS plan FROM budget GROUP BY team;
SELECT replica, crdt_value(plan) AS plan FROM budget ORDER BY replica;

-- ---------------------------------------------------------------- who sees what
SET ROLE crdt_regress_clerk;
-- the conflicts of tables the role may update, and only those
SELECT relation::text, count(*) FROM crdt_reconcile.conflicts GROUP BY 1 ORDER BY 1;
SELECT relation::text, kind, total FROM crdt_reconcile.conflict_stats ORDER BY 1, 2;
-- it may resolve them; who and when are stamped, not taken from the caller
UPDATE crdt_reconcile.conflicts SET status = 'resolved', resolved_by = 'someone_else', resolved_at = '2000-01-01'
WHERE kind = 'stale_update' RETURNING resolved_by, resolved_at > now() - interval '1 hour' AS just_now;
-- but not forge, rewrite or delete records
INSERT INTO crdt_reconcile.conflicts (relation, row_key, kind, resolution, status)
VALUES ('inv', '{}', 'stale_update', 'merged', 'open');
UPDATE crdt_reconcile.conflicts SET remote_value = '1';
DELETE FROM crdt_reconcile.conflicts;
SELECT crdt_reconcile.purge_conflicts('0 seconds');
-- its writes are audited although it has no right to insert records
INSERT INTO visits VALUES ('x', '{}', '[]');
RESET ROLE;
GRANT SELECT, INSERT, UPDATE ON visits TO crdt_regress_clerk;
SET ROLE crdt_regress_clerk;
INSERT INTO visits VALUES ('x', crdt_increment('{}'::gcounter, 1, 'n1'), '[]');
UPDATE visits SET n = crdt_increment(n, 20, 'n1') WHERE page = 'x';
SELECT kind, row_key, remote_value -> 'n' AS written, status FROM crdt_reconcile.conflicts
WHERE relation = 'visits'::regclass AND status = 'open';
RESET ROLE;

SET ROLE crdt_regress_stranger;
SELECT count(*) FROM crdt_reconcile.conflicts;
SELECT count(*) FROM crdt_reconcile.conflict_stats;
SELECT crdt_reconcile.resolve(:price_conflict, 'keep');
SELECT crdt_reconcile.untrack('inv');
SELECT crdt_reconcile.track('visits');
SELECT count(*) FROM crdt_reconcile.tracked;
DELETE FROM crdt_reconcile.tracked;
RESET ROLE;

SET ROLE crdt_regress_auditor;
-- all of them, also those of tables since dropped
SELECT coalesce((SELECT c.relname::text FROM pg_class c WHERE c.oid = relation), '(dropped)') AS relation,
       count(*)
FROM crdt_reconcile.conflicts GROUP BY 1 ORDER BY 1;
-- retention: resolved and auto-resolved records go; open ones stay unless asked
SELECT crdt_reconcile.purge_conflicts('1 hour');
SELECT crdt_reconcile.purge_conflicts('0 seconds') > 0 AS purged;
SELECT status, count(*) FROM crdt_reconcile.conflicts GROUP BY 1 ORDER BY 1;
SELECT crdt_reconcile.purge_conflicts('0 seconds', include_open => true) > 0 AS purged_open;
SELECT count(*) FROM crdt_reconcile.conflicts;
RESET ROLE;

REVOKE ALL ON inv FROM crdt_regress_clerk;
DROP TABLE visits;
DROP ROLE crdt_regress_clerk, crdt_regress_stranger, crdt_regress_auditor;
