--
-- pncounter: two grow-only halves P and N; value = P - N.
--
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS crdt_reconcile;
RESET client_min_messages;

-- Text form: {"p":{...},"n":{...}}; empty halves are omitted, '{}' is zero.
SELECT '{}'::pncounter AS empty,
       '{"n":{"b":2},"p":{"a":5}}'::pncounter AS canonical,
       '{"p":{},"n":{"x":1}}'::pncounter AS only_n,
       '{"p":{"a":1}}'::pncounter AS only_p;

SET crdt.replica_id = 'budget-eu';
SELECT crdt_increment('{}'::pncounter, 100) AS credit,
       crdt_decrement('{}'::pncounter, 30) AS debit,
       crdt_increment('{}'::pncounter, -30) AS negative_increment,
       crdt_decrement('{}'::pncounter, -5) AS negative_decrement,
       crdt_increment('{"p":{"x":1}}'::pncounter, 0) AS zero_is_noop,
       crdt_decrement(NULL::pncounter) AS from_null;

-- A budget spent concurrently in two regions.
WITH budget AS (SELECT crdt_increment('{}'::pncounter, 1000, 'hq') AS b),
     spent AS (SELECT crdt_decrement(b, 300, 'budget-eu') AS eu,
                      crdt_decrement(b, 450, 'budget-us') AS us FROM budget)
SELECT crdt_value(eu) AS eu_view, crdt_value(us) AS us_view,
       eu || us AS merged, crdt_value(eu || us) AS remaining
FROM spent;

SELECT crdt_get('{"p":{"a":5},"n":{"a":7,"b":2}}'::pncounter, 'a') AS net_a,
       crdt_get('{"p":{"a":5},"n":{"a":7,"b":2}}'::pncounter, 'c') AS absent;
SELECT * FROM crdt_entries('{"p":{"a":5,"c":1},"n":{"a":7,"b":2}}'::pncounter);

SELECT crdt_delta('{"p":{"a":5,"b":1},"n":{"a":2}}'::pncounter, '{"p":{"a":5},"n":{"a":1}}') AS delta;

-- The value is summed exactly: P alone may pass the bigint range as long
-- as P - N fits; the extremes are exact, one past them is an error.
SELECT crdt_value('{"p":{"a":9223372036854775807,"b":9223372036854775807},"n":{"c":9223372036854775807,"d":9223372036854775807}}'::pncounter) AS huge_but_balanced;
SELECT crdt_value('{"n":{"a":9223372036854775807,"b":1}}'::pncounter) AS minimum;
SELECT crdt_value('{"n":{"a":9223372036854775807,"b":2}}'::pncounter);
SELECT crdt_value('{"p":{"a":9223372036854775807,"b":1}}'::pncounter);
SELECT crdt_decrement('{}'::pncounter, -9223372036854775808);
SELECT crdt_increment('{"n":{"budget-eu":9223372036854775807}}'::pncounter, -1);

-- Structure errors.
SELECT '{"p":{"a":1},"p":{"b":1}}'::pncounter;
SELECT '{"q":{}}'::pncounter;
SELECT '{"p":{"a":-1}}'::pncounter;

RESET crdt.replica_id;
