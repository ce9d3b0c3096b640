--
-- Tracked tables, replica-rows shape: each replica writes only its own
-- rows; the converged state is GROUP BY key with crdt_merge; an arriving
-- row is compared with the other replicas' rows of its key.
--
\set SHOW_CONTEXT never
SET application_name = 'regress';
CREATE TABLE budget (
	team text, replica text, spent pncounter, owner lwwreg, plan mvreg, title text, clk vclock,
	PRIMARY KEY (team, replica));
SELECT crdt_reconcile.track('budget', shape => 'replica_rows');
SELECT crdt_reconcile.track('budget', shape => 'replica_rows', replica_column => 'title');
SELECT shape, key_columns, replica_column
FROM crdt_reconcile.track('budget', shape => 'replica_rows', replica_column => 'replica',
                          clock_column => 'clk', invariant => 'crdt_value(spent) <= 100');

SET crdt.replica_id = 'n1';
INSERT INTO budget VALUES ('ops', 'n1', crdt_increment('{}'::pncounter, 40), NULL, NULL, 'ops budget');
-- a replica writes only its own rows
INSERT INTO budget VALUES ('ops', 'n2', crdt_increment('{}'::pncounter, 1), NULL, NULL, 'x');
UPDATE budget SET replica = 'n2' WHERE team = 'ops';

-- n2's row arrives: it had not seen n1's write, so its title and owner are concurrent
SET session_replication_role = replica;
INSERT INTO budget VALUES ('ops', 'n2', '{"p":{"n2":30}}',
	crdt_set_at('{}'::lwwreg, '"bob"', '2020-01-01', 'n2'), crdt_set('{}'::mvreg, '"cut"', 'n2'),
	'ops (n2)', '{"n2":1}');
RESET session_replication_role;
-- n1 writes again: its row clock now observes n2's row
UPDATE budget SET spent = crdt_increment(spent, 5), owner = crdt_set(owner, '"ann"'),
                  plan = crdt_set(plan, '"grow"') WHERE team = 'ops' AND replica = 'n1';
SELECT team, replica, crdt_value(spent), clk FROM budget ORDER BY replica;
-- n3's row arrives, concurrent with both and overspending: multi-value plan, invariant broken;
-- its title repeats the n1 vs n2 disagreement already recorded, so it is not recorded twice
SET session_replication_role = replica;
INSERT INTO budget VALUES ('ops', 'n3', '{"p":{"n3":50}}', NULL, crdt_set('{}'::mvreg, '"pause"', 'n3'),
	'ops budget', '{"n3":1}');
-- replayed: nothing changes, nothing recorded
INSERT INTO budget VALUES ('ops', 'n3', '{"p":{"n3":50}}', NULL, crdt_set('{}'::mvreg, '"pause"', 'n3'),
	'ops budget', '{"n3":1}');
RESET session_replication_role;

-- the converged state
SELECT team, crdt_value(crdt_merge(spent)) AS spent, crdt_value(crdt_merge(owner)) AS owner,
       crdt_value(crdt_merge(plan)) AS plan, crdt_merge(clk) AS clock
FROM budget GROUP BY team;
SELECT id, column_name, kind, local_value, remote_value, resolution, status, local_clock, remote_clock
FROM crdt_reconcile.conflicts WHERE relation = 'budget'::regclass AND column_name IS NOT NULL ORDER BY id;
SELECT id, kind, result_value -> 'spent' AS converged_spent, resolution, status
FROM crdt_reconcile.conflicts WHERE relation = 'budget'::regclass AND column_name IS NULL ORDER BY id;

-- reconciliation lag: each replica's distance from the merged clock of its keys
SELECT * FROM crdt_reconcile.replica_lag('budget');
SELECT relation, replica, keys, keys_behind, max_distance FROM crdt_reconcile.reconciliation_lag;
SELECT crdt_reconcile.replica_lag('inv');
SELECT relation, local_writes, merges_applied, inserts_merged, stale_skipped, echoes_skipped, conflicts_recorded
FROM crdt_reconcile.merge_stats WHERE relation = 'budget'::regclass;
