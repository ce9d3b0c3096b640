-- make demo, part 2 (run on every node): what this node holds after healing.
\pset footer off
SELECT name, crdt_cardinality(tasks) AS open_tasks, crdt_value(budget) AS credits_left,
       array_length(crdt_value(plan), 1) AS plans, crdt_value(lead) #>> '{}' AS lead, status,
       left(md5(string_agg(crdt_hash(tasks) || '/' || crdt_hash(budget) || '/' || crdt_hash(plan) || '/' ||
                           crdt_hash(clk), ',')), 8) AS state_hash
FROM board GROUP BY name, tasks, budget, plan, lead, status ORDER BY name;
SELECT board, crdt_value(crdt_merge(done)) AS tasks_done FROM work GROUP BY board ORDER BY board;
SELECT left(md5(string_agg(bucket || ':' || hash, ',' ORDER BY bucket)), 12) AS board_digest,
       (SELECT left(md5(string_agg(bucket || ':' || hash, ',' ORDER BY bucket)), 12) FROM crdt_reconcile.digest('work')) AS work_digest
FROM crdt_reconcile.digest('board');
SELECT kind, column_name, count(*) AS recorded, count(*) FILTER (WHERE status = 'open') AS open
FROM crdt_reconcile.conflicts GROUP BY kind, column_name ORDER BY kind, column_name;
SELECT subscription, relation, sync_state, worker_pid IS NOT NULL AS streaming
FROM crdt_reconcile.replication_status ORDER BY subscription, relation::text;
SELECT replica, keys_behind, max_distance FROM crdt_reconcile.reconciliation_lag ORDER BY replica;
SELECT relation, local_writes, merges_applied, echoes_skipped, stale_skipped
FROM crdt_reconcile.merge_stats ORDER BY relation::text;
