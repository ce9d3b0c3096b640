--
-- bcounter: the bounded (escrow) counter.  Each replica spends only its own
-- rights, P[r] + received - given - D[r]; rights move by transfer; merge is
-- the per-component max; the value sum P - sum D never goes below zero.
--
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS crdt_reconcile;
RESET client_min_messages;

-- Text form: {"p":{...},"d":{...},"t":{giver:{receiver:n}}}; empty parts left out.
SELECT '{}'::bcounter AS empty,
       '{ "t":{"a":{"b":5}}, "d":{"a":3}, "p":{"a":10} }'::bcounter AS canonical,
       crdt_value('{}'::bcounter) AS zero,
       crdt_value('{"p":{"a":10,"b":2},"d":{"a":3}}'::bcounter) AS nine;

-- A budget of 100 funded at hq; hq moves 40 to eu, eu spends 30.
SET crdt.replica_id = 'hq';
SELECT crdt_increment('{}'::bcounter, 100) AS funded \gset
SELECT crdt_transfer(:'funded'::bcounter, 40, 'eu') AS moved \gset
SELECT crdt_decrement(:'moved'::bcounter, 30, 'eu') AS spent \gset
SELECT :'spent'::bcounter AS state, crdt_value(:'spent'::bcounter) AS value,
       crdt_rights(:'spent'::bcounter) AS hq_rights, crdt_rights(:'spent'::bcounter, 'eu') AS eu_rights,
       crdt_rights(:'spent'::bcounter, 'nobody') AS nobody_rights;
SELECT * FROM crdt_entries(:'spent'::bcounter);

-- Beyond one's rights: 23514, and the message says the rights there are.
\set VERBOSITY default
SELECT crdt_decrement(:'spent'::bcounter, 11, 'eu');
SELECT crdt_transfer(:'spent'::bcounter, 61, 'eu');
SELECT crdt_decrement('{}'::bcounter, 1);
\set VERBOSITY terse
SELECT regress.state_of($$SELECT crdt_decrement('{"p":{"eu":1}}'::bcounter, 2, 'eu')$$) AS over_decrement,
       regress.state_of($$SELECT crdt_transfer('{"p":{"eu":1}}'::bcounter, 2, 'us', 'eu')$$) AS over_transfer,
       regress.state_of($$SELECT crdt_transfer('{"p":{"eu":1}}'::bcounter, 1, 'eu', 'eu')$$) AS to_itself,
       regress.state_of($$SELECT crdt_decrement('{"p":{"eu":1}}'::bcounter, 0, 'eu')$$) AS zero_amount,
       regress.state_of($$SELECT crdt_increment('{"p":{"eu":1}}'::bcounter, -1, 'eu')$$) AS negative_amount,
       regress.state_of($$SELECT crdt_increment('{}'::bcounter, NULL, 'eu')$$) AS null_amount,
       regress.state_of($$SELECT crdt_transfer('{"p":{"eu":1}}'::bcounter, 1, NULL, 'eu')$$) AS null_receiver,
       regress.state_of($$SELECT crdt_increment('{"p":{"eu":9223372036854775807}}'::bcounter, 1, 'eu')$$) AS overflow;
SELECT regress.state_of($$SELECT crdt_decrement(NULL::bcounter, 1)$$) AS null_has_no_rights;
SELECT crdt_value(crdt_increment(NULL::bcounter, 5)) AS null_is_empty;

-- Concurrent spending on three replicas: each within its own rights, so
-- whatever order the merges come in, the value is exact and never negative.
WITH start AS (SELECT crdt_transfer(crdt_transfer(crdt_increment('{}'::bcounter, 90, 'hq'), 30, 'eu', 'hq'),
                                    30, 'us', 'hq') AS b),
     spent AS (SELECT crdt_decrement(b, 30, 'eu') AS eu, crdt_decrement(b, 25, 'us') AS us,
                      crdt_decrement(b, 30, 'hq') AS hq FROM start)
SELECT crdt_value(eu) AS eu_view, crdt_value(us) AS us_view, crdt_value(hq) AS hq_view,
       crdt_value(eu || us || hq) AS merged, (eu || us) || hq = eu || (us || hq) AS associative,
       eu || us = us || eu AS commutative, eu || eu = eu AS idempotent,
       crdt_value(crdt_merge(x)) AS aggregated
FROM spent, LATERAL (VALUES (eu), (us), (hq), (NULL::bcounter)) v(x)
GROUP BY eu, us, hq;

-- Delta: a valid value (it carries what funds the spending it ships).
SELECT crdt_delta(:'spent'::bcounter, :'moved'::bcounter) AS delta,
       :'moved'::bcounter || crdt_delta(:'spent'::bcounter, :'moved'::bcounter) = :'spent'::bcounter AS brings_up,
       crdt_delta(:'spent'::bcounter, :'spent'::bcounter) AS nothing_new,
       crdt_delta(:'spent'::bcounter, NULL) = :'spent'::bcounter AS null_since;

-- Forged input that would create spending power is refused (22P02 text,
-- 22P03 binary), like any malformed value; so are the jsonb and json forms.
SELECT input, regress.state_of(format('SELECT %L::bcounter', input)) AS outcome
FROM (VALUES ('{"t":{"a":{"b":5}}}'), ('{"p":{"a":1},"d":{"a":2}}'),
             ('{"p":{"a":5},"t":{"a":{"b":3},"c":{"a":1}}}'), ('{"p":{"a":5},"t":{"a":{"a":1}}}'),
             ('{"p":{"a":5},"t":{"a":{}}}'), ('{"p":{"a":5,"a":6}}'), ('{"p":{"a":0}}'),
             ('{"p":{"a":1.5}}'), ('{"q":{}}'), ('{"p":{"a":9223372036854775808}}'),
             ('{"p":{"a":5},"t":{"a":{"b":5}},"d":{"b":5}}')) v(input);
SELECT regress.state_of($$SELECT '{"t":{"a":{"b":5}}}'::jsonb::bcounter$$) AS forged_jsonb,
       regress.state_of($$SELECT '{"t":{"a":{"b":5}}}'::json::bcounter$$) AS forged_json,
       '{"p":{"a":5},"t":{"a":{"b":5}},"d":{"b":5}}'::jsonb::bcounter AS via_jsonb,
       '{"p":{"a":5},"t":{"a":{"b":5}}}'::bcounter::jsonb AS to_jsonb,
       '{"p":{"a":5}}'::bcounter::json AS to_json;

-- Bytes: version, map P, map D, givers (front-coded) with their receivers.
SELECT bcounter_send('{}') AS empty_bytes, bcounter_send('{"p":{"a":10},"d":{"a":3},"t":{"a":{"b":5}}}') AS bytes,
       to_hex(crdt_hash('{}'::bcounter)) AS empty_hash;

-- Equality, hashing and the btree order work like every other type's.
SELECT count(DISTINCT x) AS distinct_values, array_agg(x ORDER BY x)::text AS sorted
FROM (VALUES ('{"p":{"a":2}}'::bcounter), ('{"p":{"a":1}}'), ('{}'), ('{"p":{"a":1}}'),
             ('{"p":{"a":1}, "d":{"a":1}}')) v(x);
SELECT x, count(*) FROM (VALUES ('{"p":{"a":2}}'::bcounter), ('{"p":{"a":2}}'), ('{}')) v(x) GROUP BY x ORDER BY x;

-- One replica id misused on two nodes at once: both spend the same rights.
-- The merge is never refused; the value and the spendable rights are
-- clamped at zero, and crdt_entries shows the overdraft as negative rights.
-- Such a state is refused as input from a session (it looks like a forged
-- one creating spending power), which is why each node needs its own
-- replica id ...
CREATE TEMP TABLE misuse AS
WITH base AS (SELECT '{"p":{"r":10}}'::bcounter AS b),
     twice AS (SELECT crdt_decrement(b, 10, 'r') AS node1, crdt_transfer(b, 10, 's', 'r') AS node2 FROM base)
SELECT node1 || node2 AS m FROM twice;
SELECT m AS merged, crdt_value(m) AS value, crdt_rights(m, 'r') AS r_rights, crdt_rights(m, 's') AS s_rights,
       crdt_value(crdt_decrement(m, 10, 's')) AS value_after_s_spends,
       (SELECT array_agg(e.rights ORDER BY e.replica) FROM crdt_entries(m) e) AS raw_rights
FROM misuse;
SELECT regress.state_of($$SELECT crdt_decrement(m, 1, 'r') FROM misuse$$) AS r_spends_again,
       regress.state_of($$SELECT m::text::bcounter FROM misuse$$) AS read_back;
-- ... except where this node applies what its peers merged (an apply
-- worker, a repair): there an applied merge is never refused
SET session_replication_role = replica;
SELECT regress.state_of($$SELECT m::text::bcounter FROM misuse$$) AS read_back_applied,
       regress.state_of($$SELECT m::jsonb::bcounter FROM misuse$$) AS jsonb_applied;
RESET session_replication_role;
DROP TABLE misuse;

-- The aggregate in parallel: partial states serialized, combined and
-- deserialized (the state read back is checked like binary input).
CREATE TABLE spending (g int, b bcounter);
INSERT INTO spending
SELECT i % 7, crdt_decrement(crdt_increment('{}'::bcounter, 100 + i % 50, 'r' || i), 1 + i % 50, 'r' || i)
FROM generate_series(1, 20000) i;
ANALYZE spending;
SET max_parallel_workers_per_gather = 0;
CREATE TABLE serial_result AS SELECT g, crdt_merge(b) AS m FROM spending GROUP BY g;
SET max_parallel_workers_per_gather = 2;
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET parallel_leader_participation = off;
EXPLAIN (COSTS OFF) SELECT g, crdt_merge(b) FROM spending GROUP BY g;
SELECT count(*) AS groups, bool_and(p.m = s.m) AS parallel_equals_serial, sum(crdt_value(p.m)) AS total
FROM (SELECT g, crdt_merge(b) AS m FROM spending GROUP BY g) p JOIN serial_result s USING (g);
RESET max_parallel_workers_per_gather;
RESET parallel_setup_cost;
RESET parallel_tuple_cost;
RESET min_parallel_table_scan_size;
RESET parallel_leader_participation;
-- every replica spent within its rights: the merged value is the exact total
SELECT crdt_value(crdt_merge(b)) AS value, sum(crdt_value(b)) AS row_sum FROM spending;

-- As an unprivileged role: the functions are plain, nothing runs with more rights.
CREATE ROLE bcounter_user;
GRANT SELECT ON spending TO bcounter_user;
SET ROLE bcounter_user;
SELECT crdt_value(crdt_merge(b)) AS value_as_user FROM spending WHERE g = 1;
SELECT regress.state_of($$UPDATE spending SET b = crdt_increment(b, 1, 'x')$$) AS update_without_grant;
RESET ROLE;
DROP TABLE spending, serial_result;
DROP ROLE bcounter_user;
