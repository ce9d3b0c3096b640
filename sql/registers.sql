--
-- Registers hold one jsonb value.  lwwreg: the last writer wins, by
-- (timestamp, replica, value), the same winner on every node.  mvreg:
-- concurrent writes are all kept until a later write, which saw them,
-- replaces them — the basis for human arbitration.
--
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS crdt_reconcile;
RESET client_min_messages;

-- ---------------------------------------------------------------- lwwreg
SELECT '{}'::lwwreg AS empty, crdt_value('{}'::lwwreg) IS NULL AS empty_value_is_null;

-- Values are kept as jsonb prints them, so equal jsonb means equal bytes.
SELECT crdt_set_at('{}'::lwwreg, '{"b": 1, "a": [1, 2.50]}', '2026-01-01 10:00:00+00', 'node_a') AS r;

-- Concurrent writes: the greatest timestamp wins; on a tie, the greater
-- replica id (bytes); on a tie of both, the greater value bytes.
WITH w(r) AS (VALUES
    (crdt_set_at('{}'::lwwreg, '"from a"', '2026-01-01 10:00:00+00', 'node_a')),
    (crdt_set_at('{}'::lwwreg, '"from b"', '2026-01-01 10:00:00+00', 'node_b')),
    (crdt_set_at('{}'::lwwreg, '"older"', '2026-01-01 09:59:59.999999+00', 'node_z')))
SELECT crdt_value(crdt_merge(r)) AS winner, crdt_writer(crdt_merge(r)) AS writer,
       crdt_timestamp(crdt_merge(r)) AS at
FROM w;

-- crdt_set(r, value) stamps max(now, last timestamp + 1 µs): a write always
-- beats what its writer has seen, even when the stored time is ahead of
-- this clock.
WITH future AS (SELECT crdt_set_at('{}'::lwwreg, '"from the future"', '2999-01-01 00:00:00+00', 'skewed') AS r)
SELECT crdt_value(crdt_set(r, '"now"', 'node_a')) AS newer_write_wins,
       crdt_timestamp(crdt_set(r, '"now"', 'node_a')) - crdt_timestamp(r) AS stamped_after_by
FROM future;
SELECT crdt_timestamp(crdt_set('{}'::lwwreg, '1', 'node_a')) BETWEEN now() AND clock_timestamp()
       AS stamped_with_the_clock;

-- With an explicit time, the write takes effect only if it wins.
WITH cur AS (SELECT crdt_set_at('{}'::lwwreg, '"current"', '2026-06-01 00:00+00', 'node_a') AS r)
SELECT crdt_value(crdt_set_at(r, '"late arrival"', '2026-05-01 00:00+00', 'node_b')) AS stale_write_loses,
       crdt_value(crdt_set_at(r, '"fresh"', '2026-07-01 00:00+00', 'node_b')) AS newer_write_wins
FROM cur;

SELECT crdt_delta(crdt_set_at('{}'::lwwreg, '2', '2026-01-02 00:00+00', 'a'),
                  crdt_set_at('{}'::lwwreg, '1', '2026-01-01 00:00+00', 'a')) AS newer_is_the_delta,
       crdt_delta(crdt_set_at('{}'::lwwreg, '1', '2026-01-01 00:00+00', 'a'),
                  crdt_set_at('{}'::lwwreg, '2', '2026-01-02 00:00+00', 'a')) AS covered_is_empty;

SELECT crdt_set('{}'::lwwreg, NULL, 'a');
SELECT crdt_set_at('{}'::lwwreg, '1', 'infinity', 'a');
SELECT '{"value":1,"at":"2026-02-30T00:00:00Z","replica":"a"}'::lwwreg;
SELECT '{"value":1,"at":"2026-01-01T00:00:00","replica":"a"}'::lwwreg;
SELECT '{"value":1,"replica":"a"}'::lwwreg;
SELECT '{"value":01,"at":"2026-01-01T00:00:00Z","replica":"a"}'::lwwreg;

-- ----------------------------------------------------------------- mvreg
SET crdt.replica_id = 'planner-1';
SELECT '{}'::mvreg AS empty, crdt_value('{}'::mvreg) AS no_values,
       crdt_set('{}'::mvreg, '{"plan": "A"}') AS one_write;

-- Two planners write concurrently: both values survive the merge, sorted
-- canonically, and the register reports the conflict.
CREATE TEMP TABLE plans (replica text PRIMARY KEY, r mvreg);
INSERT INTO plans VALUES
    ('planner-1', crdt_set('{}'::mvreg, '{"plan": "A"}', 'planner-1')),
    ('planner-2', crdt_set('{}'::mvreg, '{"plan": "B"}', 'planner-2'));
SELECT crdt_merge(r) AS merged, crdt_value(crdt_merge(r)) AS values,
       crdt_is_conflicted(crdt_merge(r)) AS conflicted
FROM plans;

-- A person arbitrates: a write on the merged state replaces every value
-- it saw; merging it with the old concurrent states changes nothing.
WITH resolved AS (SELECT crdt_set(crdt_merge(r), '{"plan": "A+B"}', 'arbiter') AS r FROM plans)
SELECT crdt_value(r) AS resolved_value, crdt_is_conflicted(r) AS conflicted,
       crdt_value(r || (SELECT r FROM plans WHERE replica = 'planner-2')) AS old_state_replayed
FROM resolved;

-- The same value written concurrently twice is one value (two dots).
SELECT crdt_value(crdt_set('{}'::mvreg, '42', 'a') || crdt_set('{}'::mvreg, '42', 'b')) AS same_value,
       crdt_is_conflicted(crdt_set('{}'::mvreg, '42', 'a') || crdt_set('{}'::mvreg, '42', 'b')) AS conflicted;

-- The delta of a write is the new value and the dots it replaced.
WITH m AS (SELECT crdt_merge(r) AS r FROM plans)
SELECT crdt_delta(crdt_set(r, '"final"', 'arbiter'), r) AS write_delta FROM m;

SELECT '{"values":[{"value":1,"dots":[["a",1]]},{"value":1,"dots":[["b",1]]}],"context":{"a":1,"b":1}}'::mvreg;
SELECT '{"values":[{"value":[1,,2],"dots":[["a",1]]}],"context":{"a":1}}'::mvreg;
SELECT '{"values":[{"value":1}],"context":{"a":1}}'::mvreg;
SELECT crdt_set('{}'::mvreg, NULL);

RESET crdt.replica_id;
DROP TABLE plans;
