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

-- The laws every type keeps, for states a, b and c of one type.
CREATE FUNCTION pg_temp.merge_laws(a anyelement, b anyelement, c anyelement,
		OUT commutative boolean, OUT associative boolean, OUT idempotent boolean,
		OUT empty_is_identity boolean, OUT delta_law boolean, OUT covered_delta_empty boolean)
	LANGUAGE sql IMMUTABLE AS $$
	SELECT a || b = b || a, (a || b) || c = a || (b || c), a || a = a, a || '{}' = a,
	       b || crdt_delta(a, b) = b || a, crdt_delta(a, a || b) = '{}'
$$;

-- Every law, every case; then what only some types promise.
CREATE FUNCTION pg_temp.laws_summary(states regclass, laws_of text)
	RETURNS TABLE (type text, cases bigint, commutative boolean, associative boolean, idempotent boolean,
	               empty_is_identity boolean, delta_law boolean, covered_delta_empty boolean)
	LANGUAGE plpgsql AS $$
BEGIN
	RETURN QUERY EXECUTE format('SELECT l.type, count(*), bool_and(l.commutative), bool_and(l.associative),
	       bool_and(l.idempotent), bool_and(l.empty_is_identity), bool_and(l.delta_law), bool_and(l.covered_delta_empty)
	FROM %s s, LATERAL (%s) l GROUP BY l.type ORDER BY min(l.n)', states, laws_of);
END $$;

SELECT * FROM pg_temp.laws_summary('states', $$
	SELECT 1 AS n, 'vclock' AS type, * FROM pg_temp.merge_laws(s.va, s.vb, s.vc) UNION ALL
	SELECT 2, 'gcounter', * FROM pg_temp.merge_laws(s.ga, s.gb, s.gc) UNION ALL
	SELECT 3, 'pncounter', * FROM pg_temp.merge_laws(s.pa, s.pb, s.pc)$$);

SELECT bool_and(va <= va || vb AND vb <= va || vb) AS vclock_merge_is_upper_bound,
       bool_and(vclock_compare(va, vb) = CASE WHEN va = vb THEN 'equal' WHEN va < vb THEN 'before'
                WHEN va > vb THEN 'after' ELSE 'concurrent' END) AS vclock_operators_agree,
       bool_and(crdt_value(ga || gb) >= greatest(crdt_value(ga), crdt_value(gb))) AS gcounter_value_monotone
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

-- Sets and registers: states made by random operations on five replicas.
CREATE FUNCTION pg_temp.random_gset() RETURNS gset LANGUAGE sql VOLATILE AS $$
	SELECT coalesce(array_agg('e' || floor(random() * 12)::int), '{}')::gset
	FROM generate_series(1, floor(random() * 6)::int)
$$;
-- A two-phase set after random adds and removes (a removed element stays removed).
CREATE FUNCTION pg_temp.random_twopset() RETURNS twopset LANGUAGE sql VOLATILE AS $$
	WITH ops AS MATERIALIZED (
		SELECT 'e' || floor(random() * 8)::int AS e, random() < 0.7 AS adds
		FROM generate_series(1, floor(random() * 8)::int))
	SELECT jsonb_build_object(
		'elements', coalesce((SELECT jsonb_agg(DISTINCT e) FROM ops WHERE adds
		                      AND e NOT IN (SELECT e FROM ops WHERE NOT adds)), '[]'),
		'removed', coalesce((SELECT jsonb_agg(DISTINCT e) FROM ops WHERE NOT adds), '[]'))::twopset
$$;
-- orset and mvreg states must come from one history (a replica id is one
-- sequence of events), so each state is a shared base plus operations by
-- replicas of its own branch.
CREATE FUNCTION pg_temp.orset_ops(s orset, branch text) RETURNS orset LANGUAGE plpgsql VOLATILE AS $$
BEGIN
	FOR i IN 1..floor(random() * 6)::int LOOP
		IF random() < 0.6 THEN s := crdt_add(s, 'e' || floor(random() * 6)::int, branch || floor(random() * 3)::int);
		ELSE s := crdt_remove(s, 'e' || floor(random() * 6)::int); END IF;
	END LOOP;
	RETURN s;
END $$;
CREATE FUNCTION pg_temp.mvreg_ops(s mvreg, branch text) RETURNS mvreg LANGUAGE plpgsql VOLATILE AS $$
BEGIN
	FOR i IN 1..floor(random() * 3)::int LOOP
		s := crdt_set(s, to_jsonb(floor(random() * 5)::int), branch || floor(random() * 3)::int);
	END LOOP;
	RETURN s;
END $$;
CREATE FUNCTION pg_temp.random_lwwreg() RETURNS lwwreg LANGUAGE sql VOLATILE AS $$
	SELECT CASE WHEN random() < 0.1 THEN '{}'::lwwreg
	       ELSE crdt_set_at('{}'::lwwreg, to_jsonb(floor(random() * 3)::int),
	                     '2026-01-01 00:00+00'::timestamptz + floor(random() * 3)::int * interval '1 us',
	                     'r' || floor(random() * 3)::int) END
$$;

CREATE TEMP TABLE states2 AS
SELECT i,
       pg_temp.random_gset() AS ga, pg_temp.random_gset() AS gb, pg_temp.random_gset() AS gc,
       pg_temp.random_twopset() AS ta, pg_temp.random_twopset() AS tb, pg_temp.random_twopset() AS tc,
       pg_temp.orset_ops(ob, 'a') AS oa, pg_temp.orset_ops(ob, 'b') AS ob, pg_temp.orset_ops(ob, 'c') AS oc,
       pg_temp.mvreg_ops(mb, 'a') AS ma, pg_temp.mvreg_ops(mb, 'b') AS mb, pg_temp.mvreg_ops(mb, 'c') AS mc,
       pg_temp.random_lwwreg() AS la, pg_temp.random_lwwreg() AS lb, pg_temp.random_lwwreg() AS lc
FROM generate_series(1, 1000) i,
     LATERAL (SELECT pg_temp.orset_ops('{}', 'base') AS ob, pg_temp.mvreg_ops('{}', 'base') AS mb
              WHERE i IS NOT NULL) base;  -- correlated: a new base per case

SELECT * FROM pg_temp.laws_summary('states2', $$
	SELECT 1 AS n, 'gset' AS type, * FROM pg_temp.merge_laws(s.ga, s.gb, s.gc) UNION ALL
	SELECT 2, 'twopset', * FROM pg_temp.merge_laws(s.ta, s.tb, s.tc) UNION ALL
	SELECT 3, 'orset', * FROM pg_temp.merge_laws(s.oa, s.ob, s.oc) UNION ALL
	SELECT 4, 'mvreg', * FROM pg_temp.merge_laws(s.ma, s.mb, s.mc) UNION ALL
	SELECT 5, 'lwwreg', * FROM pg_temp.merge_laws(s.la, s.lb, s.lc)$$);

-- The aggregates equal the fold of ||, in any row order.
SELECT bool_and(x.g = ga || gb || gc) AS gset, bool_and(x.t = ta || tb || tc) AS twopset,
       bool_and(x.o = oa || ob || oc) AS orset, bool_and(x.m = ma || mb || mc) AS mvreg,
       bool_and(x.l = la || lb || lc) AS lwwreg
FROM states2 s,
     LATERAL (SELECT crdt_merge(v.g) AS g, crdt_merge(v.t) AS t, crdt_merge(v.o) AS o,
                     crdt_merge(v.m) AS m, crdt_merge(v.l) AS l
              FROM (VALUES (s.gc, s.tb, s.oc, s.mb, s.lc), (s.ga, s.tc, s.ob, s.mc, s.la),
                           (s.gb, s.ta, s.oa, s.ma, s.lb), (s.ga, s.ta, s.oa, s.ma, s.la)) v(g, t, o, m, l)) x;

DROP TABLE states2;
