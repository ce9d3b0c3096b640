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

-- The same for the set and register aggregates (their own state shapes).
RESET max_parallel_workers_per_gather;
CREATE TABLE par2 (key int, g gset, t twopset, o orset, l lwwreg, m mvreg);
INSERT INTO par2
SELECT i % 40,
       crdt_add('{}'::gset, 'element-' || (i % 97)),
       crdt_remove(crdt_add(crdt_add('{}'::twopset, 'a' || (i % 13)), 'b' || (i % 11)), 'a' || (i % 26)),
       crdt_add('{}'::orset, 'element-' || (i % 89), 'r' || i),
       crdt_set_at('{}'::lwwreg, to_jsonb(i), '2026-01-01 00:00+00'::timestamptz + (i % 1000) * interval '1 s', 'r' || (i % 7)),
       crdt_set('{}'::mvreg, to_jsonb(i % 5), 'r' || i)
FROM generate_series(1, 20000) i;
ANALYZE par2;
SET max_parallel_workers_per_gather = 0;
CREATE TEMP TABLE serial2 AS
SELECT key, crdt_merge(g) AS g, crdt_merge(t) AS t, crdt_merge(o) AS o, crdt_merge(l) AS l,
       crdt_merge(m) AS m
FROM par2 GROUP BY key;
SET max_parallel_workers_per_gather = 2;
SELECT jsonb_path_exists(plan, '$.** ? (@."Partial Mode" == "Partial")') AS has_partial_aggregate
FROM pg_temp.plan_of('SELECT key, crdt_merge(g), crdt_merge(t), crdt_merge(o), crdt_merge(l), crdt_merge(m) FROM par2 GROUP BY key') AS plan;
SELECT count(*) AS keys,
       count(*) FILTER (WHERE s.g = x.g AND s.t = x.t AND s.o = x.o AND s.l = x.l AND s.m = x.m) AS identical
FROM serial2 s
JOIN (SELECT key, crdt_merge(g) AS g, crdt_merge(t) AS t, crdt_merge(o) AS o, crdt_merge(l) AS l,
             crdt_merge(m) AS m
      FROM par2 GROUP BY key) x USING (key);
SELECT pg_temp.workers_launched('SELECT crdt_merge(o), crdt_merge(m), crdt_merge(g), crdt_merge(t), crdt_merge(l) FROM par2') > 0
       AS workers_ran;
SELECT crdt_cardinality(crdt_merge(o)) AS orset_elements, crdt_cardinality(crdt_merge(g)) AS gset_elements,
       crdt_value(crdt_merge(l)) AS lww_winner, array_length(crdt_value(crdt_merge(m)), 1) AS mvreg_values
FROM par2;

-- The same for rtext and rlist (a log of states merged at once): per key a
-- shared history and, per row, a line by a writer of its own.
CREATE TABLE par3 (key int, s rtext, l rlist);
INSERT INTO par3
SELECT i % 7,
       crdt_splice(crdt_splice('{}'::rtext, 0, 0, 'history ' || (i % 7), 'h' || (i % 7)), 0, 0, 'row ' || i || ' ', 'w' || i),
       crdt_insert(crdt_insert('{}'::rlist, 0, to_jsonb(i % 7), 'h' || (i % 7)), 0, to_jsonb(i), 'w' || i)
FROM generate_series(1, 3000) i;
ANALYZE par3;
SET max_parallel_workers_per_gather = 0;
CREATE TEMP TABLE serial3 AS SELECT key, crdt_merge(s) AS s, crdt_merge(l) AS l FROM par3 GROUP BY key;
SET max_parallel_workers_per_gather = 2;
SELECT jsonb_path_exists(plan, '$.** ? (@."Partial Mode" == "Partial")') AS has_partial_aggregate
FROM pg_temp.plan_of('SELECT key, crdt_merge(s), crdt_merge(l) FROM par3 GROUP BY key') AS plan;
SELECT count(*) AS keys, count(*) FILTER (WHERE s.s = x.s AND s.l = x.l) AS identical,
       sum(crdt_length(x.s)) AS characters, sum(crdt_length(x.l)) AS elements
FROM serial3 s
JOIN (SELECT key, crdt_merge(s) AS s, crdt_merge(l) AS l FROM par3 GROUP BY key) x USING (key);
SELECT pg_temp.workers_launched('SELECT crdt_merge(s), crdt_merge(l) FROM par3') > 0 AS workers_ran;

DROP TABLE par, par2, par3;
