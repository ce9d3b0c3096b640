--
-- crdt_merge runs in parallel: workers build partial states, serialize
-- them, the leader deserializes and combines.  The plan must show a
-- Partial Aggregate and the result must equal the serial one.
--
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS crdt_reconcile;
RESET client_min_messages;

CREATE TABLE par (key int, replica text, g gcounter, v vclock, p pncounter);
INSERT INTO par
SELECT i % 50, 'r' || (i % 37),
       crdt_increment('{}'::gcounter, 1 + i % 1000, 'r' || (i % 37)),
       crdt_tick('{}'::vclock, 'r' || (i % 37)),
       crdt_decrement('{}'::pncounter, 1 + i % 7, 'r' || (i % 37))
FROM generate_series(1, 60000) i;
ANALYZE par;

-- serial results
SET max_parallel_workers_per_gather = 0;
CREATE TEMP TABLE serial_result AS
SELECT key, crdt_merge(g) AS g, crdt_merge(v) AS v, crdt_merge(p) AS p FROM par GROUP BY key;
CREATE TEMP TABLE serial_total AS
SELECT crdt_merge(g) AS g, crdt_merge(v) AS v, crdt_merge(p) AS p FROM par;

-- force a parallel plan
SET max_parallel_workers_per_gather = 2;
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET parallel_leader_participation = off;

CREATE FUNCTION pg_temp.plan_of(query text) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE plan jsonb;
BEGIN
	EXECUTE 'EXPLAIN (FORMAT JSON, COSTS OFF) ' || query INTO plan;
	RETURN plan;
END $$;

SELECT jsonb_path_exists(plan, '$.** ? (@."Partial Mode" == "Partial")') AS has_partial_aggregate,
       jsonb_path_exists(plan, '$.** ? (@."Partial Mode" == "Finalize")') AS has_finalize_aggregate,
       jsonb_path_exists(plan, '$.** ? (@."Node Type" == "Gather" || @."Node Type" == "Gather Merge")') AS has_gather
FROM pg_temp.plan_of('SELECT key, crdt_merge(g), crdt_merge(v), crdt_merge(p) FROM par GROUP BY key') AS plan;

SELECT jsonb_path_exists(plan, '$.** ? (@."Partial Mode" == "Partial")') AS has_partial_aggregate
FROM pg_temp.plan_of('SELECT crdt_merge(g), crdt_merge(v), crdt_merge(p) FROM par') AS plan;

-- the parallel result equals the serial one, key by key
SELECT count(*) AS keys,
       count(*) FILTER (WHERE s.g = x.g AND s.v = x.v AND s.p = x.p) AS identical
FROM serial_result s
JOIN (SELECT key, crdt_merge(g) AS g, crdt_merge(v) AS v, crdt_merge(p) AS p FROM par GROUP BY key) x
USING (key);

SELECT t.g = x.g AND t.v = x.v AND t.p = x.p AS total_identical, crdt_value(x.g) AS total
FROM serial_total t,
     (SELECT crdt_merge(g) AS g, crdt_merge(v) AS v, crdt_merge(p) AS p FROM par) x;

-- and workers really ran (so serialize, deserialize and combine were used)
CREATE FUNCTION pg_temp.workers_launched(query text) RETURNS int LANGUAGE plpgsql AS $$
DECLARE plan jsonb;
BEGIN
	EXECUTE 'EXPLAIN (ANALYZE, FORMAT JSON, COSTS OFF, TIMING OFF) ' || query INTO plan;
	RETURN (jsonb_path_query_first(plan, '$.**."Workers Launched"'))::int;
END $$;
SELECT pg_temp.workers_launched('SELECT crdt_merge(g) FROM par') > 0 AS workers_ran;

DROP TABLE par;
