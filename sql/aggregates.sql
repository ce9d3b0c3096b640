--
-- crdt_merge(T): the converged state of replica rows, GROUP BY key.
--
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS crdt_reconcile;
RESET client_min_messages;

-- Replica rows: each replica writes only its own row per key.
CREATE TABLE replica_rows (
	key text,
	replica text,
	clock vclock,
	hits gcounter,
	budget pncounter,
	PRIMARY KEY (key, replica)
);
INSERT INTO replica_rows
SELECT key, replica,
       crdt_tick(crdt_tick('{}'::vclock, replica), replica),
       crdt_increment('{}'::gcounter, length(key) * r, replica),
       crdt_decrement(crdt_increment('{}'::pncounter, 100, replica), 10 * r, replica)
FROM unnest(ARRAY['tasks', 'plan', 'memory']) AS key,
     generate_series(1, 3) AS r,
     LATERAL (SELECT 'agent-' || r AS replica) AS x;

SELECT key, crdt_merge(clock) AS clock, crdt_merge(hits) AS hits,
       crdt_value(crdt_merge(hits)) AS total_hits,
       crdt_value(crdt_merge(budget)) AS remaining_budget
FROM replica_rows GROUP BY key ORDER BY key;

-- NULL inputs are skipped; a group with no non-NULL input gives NULL,
-- as does an empty input.
SELECT crdt_merge(g) AS skips_nulls FROM (VALUES (NULL::gcounter), ('{"a":1}'), (NULL)) x(g);
SELECT crdt_merge(g) IS NULL AS all_null FROM (VALUES (NULL::gcounter), (NULL)) x(g);
SELECT crdt_merge(clock) IS NULL AS no_rows FROM replica_rows WHERE false;
SELECT k, crdt_merge(v) FROM (VALUES (1, NULL::vclock), (2, '{"a":1}'), (2, NULL)) x(k, v)
GROUP BY k ORDER BY k;

-- Merging is idempotent, so duplicated and stale rows change nothing.
SELECT crdt_merge(hits) = (SELECT crdt_merge(hits) FROM replica_rows WHERE key = 'plan')
       AS duplicates_harmless
FROM (SELECT hits FROM replica_rows WHERE key = 'plan'
      UNION ALL SELECT hits FROM replica_rows WHERE key = 'plan'
      UNION ALL SELECT '{"agent-1":1}'::gcounter) x;

-- As a window function: the running converged state.
SELECT replica, crdt_merge(hits) OVER (ORDER BY replica) AS running
FROM replica_rows WHERE key = 'tasks' ORDER BY replica;

-- With FILTER, and mixed with ordinary aggregates.
SELECT crdt_merge(hits) FILTER (WHERE replica <> 'agent-2') AS without_agent_2,
       count(*) AS rows
FROM replica_rows WHERE key = 'tasks';

-- One key, many rows and many replicas: 20,000 rows over 2,000 replicas,
-- each replica incremented 10 times (the max per replica survives).
WITH rows AS (SELECT crdt_increment('{}'::gcounter, i / 2000 + 1, 'r' || (i % 2000)) AS g
              FROM generate_series(0, 19999) i),
     merged AS (SELECT count(*) AS n, crdt_merge(g) AS c FROM rows)
SELECT n AS rows, crdt_value(c) AS value, (SELECT count(*) FROM crdt_entries(c)) AS replicas
FROM merged;

-- pncounter halves are merged independently.
SELECT crdt_merge(p) FROM (VALUES ('{"p":{"a":5},"n":{"a":1}}'::pncounter),
                                  ('{"p":{"a":3},"n":{"a":4,"b":1}}')) x(p);

DROP TABLE replica_rows;
