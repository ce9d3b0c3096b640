--
-- The merge laws and the delta law over seeded random states, for each type.
-- Every line must be true; the C property tests check 100,000+ cases per
-- law, these check the same laws through SQL.
--
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS crdt_reconcile;
RESET client_min_messages;

SELECT setseed(0.20261126);

-- A random map of up to n entries over replicas r0..r9 (so states overlap).
CREATE FUNCTION pg_temp.random_map(n int) RETURNS jsonb
LANGUAGE sql VOLATILE AS $$
	SELECT coalesce(jsonb_object_agg('r' || floor(random() * 10)::int,
	                                 1 + floor(random() * 1000)::int), '{}')
	FROM generate_series(1, n)
$$;

CREATE TEMP TABLE states AS
SELECT i,
       pg_temp.random_map(floor(random() * 6)::int)::vclock AS va,
       pg_temp.random_map(floor(random() * 6)::int)::vclock AS vb,
       pg_temp.random_map(floor(random() * 6)::int)::vclock AS vc,
       pg_temp.random_map(floor(random() * 6)::int)::gcounter AS ga,
       pg_temp.random_map(floor(random() * 6)::int)::gcounter AS gb,
       pg_temp.random_map(floor(random() * 6)::int)::gcounter AS gc,
       jsonb_build_object('p', pg_temp.random_map(floor(random() * 4)::int),
                          'n', pg_temp.random_map(floor(random() * 4)::int))::pncounter AS pa,
       jsonb_build_object('p', pg_temp.random_map(floor(random() * 4)::int),
                          'n', pg_temp.random_map(floor(random() * 4)::int))::pncounter AS pb,
       jsonb_build_object('p', pg_temp.random_map(floor(random() * 4)::int),
                          'n', pg_temp.random_map(floor(random() * 4)::int))::pncounter AS pc
FROM generate_series(1, 2000) i;

SELECT count(*) AS cases,
       bool_and(va || vb = vb || va) AS commutative,
       bool_and((va || vb) || vc = va || (vb || vc)) AS associative,
       bool_and(va || va = va) AS idempotent,
       bool_and(va || '{}' = va) AS empty_is_identity,
       bool_and(vb || crdt_delta(va, vb) = vb || va) AS delta_law,
       bool_and(crdt_delta(va, va || vb) = '{}') AS covered_delta_empty,
       bool_and(va <= va || vb AND vb <= va || vb) AS merge_is_upper_bound,
       bool_and(vclock_compare(va, vb) = CASE WHEN va = vb THEN 'equal' WHEN va < vb THEN 'before'
                WHEN va > vb THEN 'after' ELSE 'concurrent' END) AS operators_agree
FROM states;

SELECT count(*) AS cases,
       bool_and(ga || gb = gb || ga) AS commutative,
       bool_and((ga || gb) || gc = ga || (gb || gc)) AS associative,
       bool_and(ga || ga = ga) AS idempotent,
       bool_and(ga || '{}' = ga) AS empty_is_identity,
       bool_and(gb || crdt_delta(ga, gb) = gb || ga) AS delta_law,
       bool_and(crdt_delta(ga, ga || gb) = '{}') AS covered_delta_empty,
       bool_and(crdt_value(ga || gb) >= greatest(crdt_value(ga), crdt_value(gb))) AS value_monotone
FROM states;

SELECT count(*) AS cases,
       bool_and(pa || pb = pb || pa) AS commutative,
       bool_and((pa || pb) || pc = pa || (pb || pc)) AS associative,
       bool_and(pa || pa = pa) AS idempotent,
       bool_and(pa || '{}' = pa) AS empty_is_identity,
       bool_and(pb || crdt_delta(pa, pb) = pb || pa) AS delta_law,
       bool_and(crdt_delta(pa, pa || pb) = '{}') AS covered_delta_empty
FROM states;

-- The aggregate equals the fold of ||, whatever the row order.
SELECT bool_and(agg_v = va || vb || vc) AS vclock_agg,
       bool_and(agg_g = ga || gb || gc) AS gcounter_agg,
       bool_and(agg_p = pa || pb || pc) AS pncounter_agg
FROM states s,
     LATERAL (SELECT crdt_merge(x.v) AS agg_v, crdt_merge(x.g) AS agg_g, crdt_merge(x.p) AS agg_p
              FROM (VALUES (s.vc, s.gb, s.pa), (s.va, s.gc, s.pc), (s.vb, s.ga, s.pb)) x(v, g, p)) a;

-- Deltas delivered in any order, duplicated and batched still converge.
SELECT bool_and(('{}'::gcounter || crdt_delta(gb, ga) || crdt_delta(ga, '{}') || crdt_delta(gb, ga))
                = ga || gb) AS reordered_duplicated_deltas
FROM states;

DROP TABLE states;
