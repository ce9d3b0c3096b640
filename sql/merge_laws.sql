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

-- Sets and registers: states made by random operations on five replicas.
CREATE FUNCTION pg_temp.random_gset() RETURNS gset LANGUAGE sql VOLATILE AS $$
	SELECT coalesce(array_agg('e' || floor(random() * 12)::int), '{}')::gset
	FROM generate_series(1, floor(random() * 6)::int)
$$;
CREATE FUNCTION pg_temp.random_twopset() RETURNS twopset LANGUAGE plpgsql VOLATILE AS $$
DECLARE s twopset := '{}';
BEGIN
	FOR i IN 1..floor(random() * 8)::int LOOP
		IF random() < 0.7 THEN s := crdt_add(s, 'e' || floor(random() * 8)::int);
		ELSE s := crdt_remove(s, 'e' || floor(random() * 8)::int); END IF;
	END LOOP;
	RETURN s;
END $$;
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

SELECT 'gset' AS type, count(*) AS cases,
       bool_and(ga || gb = gb || ga) AS commutative, bool_and((ga || gb) || gc = ga || (gb || gc)) AS associative,
       bool_and(ga || ga = ga) AS idempotent, bool_and(gb || crdt_delta(ga, gb) = gb || ga) AS delta_law
FROM states2
UNION ALL
SELECT 'twopset', count(*),
       bool_and(ta || tb = tb || ta), bool_and((ta || tb) || tc = ta || (tb || tc)),
       bool_and(ta || ta = ta), bool_and(tb || crdt_delta(ta, tb) = tb || ta)
FROM states2
UNION ALL
SELECT 'orset', count(*),
       bool_and(oa || ob = ob || oa), bool_and((oa || ob) || oc = oa || (ob || oc)),
       bool_and(oa || oa = oa), bool_and(ob || crdt_delta(oa, ob) = ob || oa)
FROM states2
UNION ALL
SELECT 'mvreg', count(*),
       bool_and(ma || mb = mb || ma), bool_and((ma || mb) || mc = ma || (mb || mc)),
       bool_and(ma || ma = ma), bool_and(mb || crdt_delta(ma, mb) = mb || ma)
FROM states2
UNION ALL
SELECT 'lwwreg', count(*),
       bool_and(la || lb = lb || la), bool_and((la || lb) || lc = la || (lb || lc)),
       bool_and(la || la = la), bool_and(lb || crdt_delta(la, lb) = lb || la)
FROM states2;

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
