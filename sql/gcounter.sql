--
-- gcounter: grow-only counter; each replica increments its own entry,
-- merge keeps the maximum per replica, the value is the sum.
--
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS crdt_reconcile;
RESET client_min_messages;

SELECT '{}'::gcounter AS empty, '{"b":2,"a":1}'::gcounter AS canonical,
       '{"a":0,"b":2}'::gcounter AS zero_entries_dropped;

SET crdt.replica_id = 'agent-1';
SELECT crdt_increment('{}'::gcounter) AS by_one,
       crdt_increment('{"agent-1":4}'::gcounter, 10) AS by_ten,
       crdt_increment('{"agent-1":4}'::gcounter, 3, 'agent-2') AS other_replica,
       crdt_increment(NULL::gcounter, 5) AS from_null;

-- by and replica are optional as overloads: named by works, and no
-- counter step stores a default (which every call would read back).
SELECT crdt_increment(counter => '{}'::gcounter, by => 2) AS named_by,
       crdt_decrement('{}'::pncounter, by => 2, replica => 'agent-2') AS named_all;
SELECT p.oid::regprocedure AS step_with_defaults
FROM pg_proc p
WHERE p.proname IN ('crdt_increment', 'crdt_decrement') AND p.pronargdefaults > 0;

-- The increment must be positive, and not NULL (a NULL would erase the state).
SELECT crdt_increment('{}'::gcounter, 0);
SELECT crdt_increment('{}'::gcounter, -1);
SELECT crdt_increment('{}'::gcounter, NULL);

-- Value, per-replica contribution, entries.
SELECT crdt_value('{"a":4,"b":6}'::gcounter) AS value,
       crdt_value('{}'::gcounter) AS empty_value,
       crdt_get('{"a":4,"b":6}'::gcounter, 'b') AS b,
       crdt_get('{"a":4,"b":6}'::gcounter, 'c') AS c;
SELECT * FROM crdt_entries('{"a":4,"b":6}'::gcounter);

-- Concurrent increments on two replicas: merge loses neither.
WITH start AS (SELECT '{"agent-1":10,"agent-2":5}'::gcounter AS c)
SELECT crdt_increment(c, 1, 'agent-1') AS on_1,
       crdt_increment(c, 2, 'agent-2') AS on_2,
       crdt_value(crdt_increment(c, 1, 'agent-1') || crdt_increment(c, 2, 'agent-2')) AS merged_value
FROM start;

-- Merge is pointwise max: replaying an old state changes nothing.
SELECT '{"a":5,"b":1}'::gcounter || '{"a":3,"b":2}' AS merged,
       ('{"a":5}'::gcounter || '{"a":3}') = '{"a":5}' AS stale_replay_is_noop;

-- Delta for shipping only what the other side lacks.
SELECT crdt_delta('{"a":5,"b":1,"c":9}'::gcounter, '{"a":5,"b":2}') AS delta;

-- Overflow is an error, never a wrap: per entry and for the sum.
SELECT crdt_increment('{"agent-1":9223372036854775807}'::gcounter, 1);
SELECT crdt_value('{"a":9223372036854775807,"b":1}'::gcounter);
SELECT crdt_value('{"a":9223372036854775806,"b":1}'::gcounter) AS largest_sum;

-- A 1,000,000-replica counter built with the aggregate.
SELECT crdt_value(c) AS value, pg_column_size(c) AS bytes,
       round(pg_column_size(c) / 1e6, 2) AS bytes_per_entry
FROM (SELECT crdt_merge(crdt_increment('{}'::gcounter, 1, 'agent-' || lpad(i::text, 7, '0')))
      FROM generate_series(1, 1000000) i) AS s(c);

RESET crdt.replica_id;
