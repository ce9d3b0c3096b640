--
-- Replica retirement (docs/RETIREMENT.md): crdt_retire for the five types
-- with replica metadata, the registry that refuses retired writers, the
-- fold of tracked tables, the metadata view; as an unprivileged role too.
--
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS crdt_reconcile;
RESET client_min_messages;

CREATE FUNCTION pg_temp.state_of(stmt text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
	EXECUTE stmt;
	RETURN 'ok';
EXCEPTION WHEN others THEN
	RETURN SQLSTATE || ': ' || SQLERRM;
END $$;

-- ------------------------------------------------------------ type level
-- The marker carries the retired entry; the value does not change.
SELECT crdt_retire('{"a":3,"b":2}'::gcounter, 'a', 'c') AS g,
       crdt_value(crdt_retire('{"a":3,"b":2}'::gcounter, 'a', 'c')) AS value;
SELECT crdt_retire('{"p":{"a":3},"n":{"a":1,"b":2}}'::pncounter, 'a', 'b') AS p,
       crdt_value(crdt_retire('{"p":{"a":3},"n":{"a":1,"b":2}}'::pncounter, 'a', 'b')) AS value;
SELECT crdt_retire('{"a":3,"b":2}'::vclock, 'a', 'b') AS v,
       vclock_compare(crdt_retire('{"a":3,"b":2}'::vclock, 'a', 'b'), '{"a":3,"b":1}') AS after,
       vclock_compare(crdt_retire('{"a":3,"b":2}'::vclock, 'a', 'b'), '{"a":4,"b":2}') AS before;
SELECT crdt_retire(crdt_add('{}'::orset, 'x', 'a'), 'a', 'b') AS o,
       crdt_elements(crdt_retire(crdt_add('{}'::orset, 'x', 'a'), 'a', 'b')) AS elements;
SELECT crdt_retire(crdt_set('{}'::mvreg, '"v"', 'a'), 'a', 'b') AS m,
       crdt_value(crdt_retire(crdt_set('{}'::mvreg, '"v"', 'a'), 'a', 'b')) AS value;
-- version 1 bytes stay as they were; only marked values are version 2
SELECT gcounter_send('{"a":3,"b":2}') AS v1, gcounter_send(crdt_retire('{"a":3,"b":2}'::gcounter, 'a', 'c')) AS v2;

-- Idempotent, independent of order, commutes with merge: no double count.
WITH v(a, b) AS (SELECT '{"r":5,"s":1}'::gcounter, '{"r":5,"s":7,"t":2}'::gcounter)
SELECT crdt_retire(crdt_retire(a, 'r', 's'), 'r', 's') = crdt_retire(a, 'r', 's') AS idempotent,
       crdt_retire(crdt_retire(b, 'r', 's'), 't', 's') = crdt_retire(crdt_retire(b, 't', 's'), 'r', 's') AS order_free,
       crdt_retire(a, 'r', 's') || b = crdt_retire(a || b, 'r', 's') AS commutes,
       b || crdt_retire(a, 'r', 's') = crdt_retire(a, 'r', 's') || b AS symmetric,
       crdt_value(crdt_retire(a, 'r', 's') || b) AS value,
       crdt_value((crdt_retire(a, 'r', 's') || b) || a) AS late_copy,
       crdt_value(crdt_retire(a, 'r', 's') || crdt_retire(b, 'r', 's')) AS folded_twice
FROM v;
-- the aggregate sees marked values unfolded: the same value
SELECT crdt_value(crdt_merge(g)) FROM (VALUES (crdt_retire('{"a":3,"b":2}'::gcounter, 'a', 'c')),
                                              ('{"a":3,"b":4}'::gcounter)) v(g);
-- text and jsonb round trips
SELECT crdt_retire('{"a":3,"b":2}'::gcounter, 'a', 'c')::text::gcounter
       = crdt_retire('{"a":3,"b":2}'::gcounter, 'a', 'c') AS text_ok,
       crdt_retire('{"a":3,"b":2}'::gcounter, 'a', 'c')::jsonb::gcounter
       = crdt_retire('{"a":3,"b":2}'::gcounter, 'a', 'c') AS jsonb_ok;
SELECT '[{"a":1},{"a":["b",4]}]'::gcounter AS absorbed;
SELECT crdt_retired_ids('[{"a":1},{"z":["b",4],"c":["b",0]}]'::gcounter);

-- Errors: 22023 for bad ids and retiring into itself, 55000 for a write
-- by a replica the value marks as retired, 22P02/22P03 for bad forms.
SELECT pg_temp.state_of($$SELECT crdt_retire('{}'::gcounter, 'a', 'a')$$);
SELECT pg_temp.state_of($$SELECT crdt_retire('{}'::orset, '', 'a')$$);
SELECT pg_temp.state_of($$SELECT crdt_retire('{}'::mvreg, 'a', E'b\x01')$$);
SELECT pg_temp.state_of($$SELECT crdt_increment(crdt_retire('{"a":1}'::gcounter, 'a', 'b'), 1, 'a')$$);
SELECT pg_temp.state_of($$SELECT crdt_add(crdt_retire('{}'::orset, 'a', 'b'), 'x', 'a')$$);
SELECT pg_temp.state_of($$SELECT '[{},{"a":["a",1]}]'::gcounter$$);
SELECT pg_temp.state_of($$SELECT '[{},{"a":["b",1],"a":["c",1]}]'::gcounter$$);
SELECT pg_temp.state_of($$SELECT '[{},{"a":["b"]}]'::gcounter$$);
SELECT pg_temp.state_of($$SELECT '[{},{"a":["b",1,2]}]'::gcounter$$);
SELECT pg_temp.state_of($$SELECT '[{},{"a":["b",9223372036854775808]}]'::gcounter$$);
SELECT pg_temp.state_of($$SELECT '[{},{}] '::orset$$);

-- ------------------------------------------------------------ fleet level
CREATE ROLE retire_agent;
CREATE TABLE retire_budget (id int PRIMARY KEY, spent gcounter, net pncounter, clock vclock, tags orset);
SELECT relation FROM crdt_reconcile.track('retire_budget');
GRANT SELECT, INSERT, UPDATE ON retire_budget TO retire_agent;
INSERT INTO retire_budget VALUES
	(1, '{"agent-1":5,"agent-2":1}', '{"p":{"agent-1":2},"n":{"agent-1":1}}', '{"agent-1":2}',
	 crdt_add('{}'::orset, 'x', 'agent-1')),
	(2, '{"agent-2":4}', '{}', '{}', '{}');

-- only who may insert into the registry retires
SET ROLE retire_agent;
SELECT pg_temp.state_of($$SELECT crdt_reconcile.retire_replica('agent-1', 'agent-0')$$);
RESET ROLE;
SELECT crdt_reconcile.retire_replica('agent-1', 'agent-0');
SELECT crdt_reconcile.retire_replica('agent-1', 'agent-00');	-- again, elsewhere: merged
SELECT replica, successor FROM crdt_reconcile.retired_replicas;
SELECT pg_temp.state_of($$SELECT crdt_reconcile.retire_replica('agent-9', 'agent-9')$$);

-- writes for agent-1 fail everywhere the row is, however the id comes
SET ROLE retire_agent;
SELECT pg_temp.state_of($$UPDATE retire_budget SET spent = crdt_increment(spent, 1, 'agent-1') WHERE id = 1$$);
SET crdt.replica_id = 'agent-1';
SELECT pg_temp.state_of($$UPDATE retire_budget SET tags = crdt_add(tags, 'y') WHERE id = 1$$);
SELECT pg_temp.state_of($$SELECT crdt_set('{}'::mvreg, '1')$$);
SELECT pg_temp.state_of($$SELECT crdt_tick('{}'::vclock)$$);
RESET crdt.replica_id;
-- reading it is fine
SELECT crdt_get(spent, 'agent-1') FROM retire_budget WHERE id = 1;

-- the caller folds only what it may update; the view shows what is carried
SELECT * FROM crdt_reconcile.compact_replicas();
RESET ROLE;
SELECT * FROM crdt_reconcile.replica_metadata;
SELECT * FROM crdt_reconcile.compact_replicas() ORDER BY 1, 2;
SELECT * FROM crdt_reconcile.compact_replicas();	-- nothing left to fold
SELECT id, spent, net, clock, crdt_value(spent) AS spent_value, crdt_value(net) AS net_value FROM retire_budget ORDER BY id;
SELECT * FROM crdt_reconcile.replica_metadata;
-- a late copy still holding agent-1's entry is absorbed, not added
UPDATE retire_budget SET spent = '{"agent-1":5,"agent-2":3}' WHERE id = 1;
SELECT spent, crdt_value(spent) FROM retire_budget WHERE id = 1;

-- row clocks (the nodes' own metadata) are not folded; one marked by hand
-- still works for the tracked-table machinery, which reads it unfolded
CREATE TABLE retire_clocked (id int PRIMARY KEY, n gcounter, clk vclock);
SELECT relation FROM crdt_reconcile.track('retire_clocked', clock_column => 'clk');
SET crdt.replica_id = 'node-a';
INSERT INTO retire_clocked VALUES (1, '{"agent-1":2}', NULL);
SELECT * FROM crdt_reconcile.compact_replicas();
UPDATE retire_clocked SET clk = crdt_retire(clk, 'node-a', 'node-b') WHERE id = 1;
UPDATE retire_clocked SET n = crdt_increment(n, 1, 'agent-2') WHERE id = 1;
SELECT n, crdt_value(clk) AS events, crdt_retired_ids(clk) FROM retire_clocked;
RESET crdt.replica_id;
DROP TABLE retire_clocked;

-- the registry joins the publications
SELECT crdt_reconcile.create_publication('retire_pub');
SELECT tablename FROM pg_publication_tables WHERE pubname = 'retire_pub' ORDER BY 1;
DROP PUBLICATION retire_pub;

DROP TABLE retire_budget;
DELETE FROM crdt_reconcile.retired_replicas;
DROP ROLE retire_agent;
