--
-- vclock: vector clocks, replica id -> positive event count.
--
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS crdt_reconcile;
RESET client_min_messages;

-- One canonical text form: no whitespace, keys sorted by bytes, whatever the input.
SELECT '{}'::vclock AS empty, ' {  "b" : 5 ,
  "a":3 } '::vclock AS canonical;

-- Byte order, not collation: 'B' (0x42) < 'a' (0x61) < 'aa' < 'b' < 'é' (0xC3 0xA9).
SELECT '{"é":1,"b":1,"aa":1,"a":1,"B":1}'::vclock AS byte_order;

-- Ticking: the local replica comes from crdt.replica_id unless given.
SET crdt.replica_id = 'node_a';
SELECT crdt_tick('{}'::vclock) AS first,
       crdt_tick(crdt_tick('{}'::vclock)) AS second,
       crdt_tick('{"node_a":1}'::vclock, 'node_b') AS other_replica,
       crdt_tick(NULL::vclock) AS from_null,
       crdt_tick('{}'::vclock, NULL) AS null_replica_means_setting;

-- The four causal outcomes, and the operators that follow happened-before.
-- A partial order: for concurrent clocks <, <=, >, >= are all false.
SELECT a, b, vclock_compare(a, b) AS compare, vclock_concurrent(a, b) AS concurrent,
       a < b AS lt, a <= b AS le, a > b AS gt, a >= b AS ge, a = b AS eq, a <> b AS ne
FROM (VALUES ('{}'::vclock, '{}'::vclock),
             ('{"a":1}', '{"a":2}'),
             ('{"a":2}', '{"a":1}'),
             ('{}', '{"a":1}'),
             ('{"a":1}', '{"a":1,"b":1}'),
             ('{"a":1}', '{"b":1}'),
             ('{"a":2,"b":1}', '{"a":1,"b":2}'),
             ('{"a":1,"b":2}', '{"b":2,"a":1}')) AS v(a, b);

-- Merging is the pointwise maximum; || is the same as crdt_merge.
SELECT crdt_merge('{"a":1,"b":3}'::vclock, '{"a":2,"c":1}') AS merged,
       '{"a":1,"b":3}'::vclock || '{"a":2,"c":1}' AS operator,
       crdt_merge('{"a":1}'::vclock, NULL) AS null_is_identity,
       crdt_merge(NULL::vclock, NULL) AS both_null;

-- A typical use: two replicas diverge from a common clock, then sync.
WITH base AS (SELECT crdt_tick('{}'::vclock, 'a') AS c),
     sides AS (SELECT crdt_tick(c, 'a') AS on_a, crdt_tick(crdt_tick(c, 'b'), 'b') AS on_b FROM base)
SELECT on_a, on_b, vclock_compare(on_a, on_b) AS before_sync,
       on_a || on_b AS synced, vclock_compare(on_a, on_a || on_b) AS a_vs_synced
FROM sides;

-- Lookups, value (events seen), distance (sum of |a_i - b_i|), entries.
SELECT crdt_get('{"a":7,"b":2}'::vclock, 'a') AS get_a,
       crdt_get('{"a":7,"b":2}'::vclock, 'zz') AS get_absent,
       crdt_value('{"a":7,"b":2}'::vclock) AS events,
       vclock_distance('{"a":7,"b":2}', '{"b":5,"c":1}') AS distance,
       vclock_distance('{"a":7}', '{"a":7}') AS no_distance;
SELECT * FROM crdt_entries('{"b":2,"a":7,"é":1}'::vclock);

-- Delta: what a replica that knows "since" lacks to reach "newer".
SELECT crdt_delta('{"a":5,"b":1,"c":2}'::vclock, '{"a":3,"b":2}') AS delta,
       crdt_delta('{"a":1}'::vclock, '{"a":2}') AS covered_is_empty,
       crdt_delta('{"a":1}'::vclock, NULL) AS since_null_is_everything;

-- The largest count; one more tick is an error, never a wrap-around.
SELECT '{"a":9223372036854775807}'::vclock AS max_count;
SELECT crdt_tick('{"a":9223372036854775807}'::vclock, 'a');
SELECT vclock_distance('{"a":9223372036854775807}', '{"b":9223372036854775807}');

-- Zero, negative and fractional counts are not clocks.
SELECT '{"a":0}'::vclock;
SELECT '{"a":-1}'::vclock;
SELECT '{"a":1.5}'::vclock;

-- 1,000 replicas.
SELECT crdt_value(c) AS events, (SELECT count(*) FROM crdt_entries(c)) AS entries,
       crdt_get(c, 'r0500') AS r500, crdt_tick(c, 'r0500') > c AS tick_is_after
FROM (SELECT string_agg(format('"r%s":%s', lpad(i::text, 4, '0'), i), ',')
      FROM generate_series(1, 1000) i) AS s(t),
     LATERAL (SELECT ('{' || t || '}')::vclock) AS v(c);

RESET crdt.replica_id;
