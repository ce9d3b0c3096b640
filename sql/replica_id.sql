--
-- Replica identity: the crdt.replica_id setting and replica arguments.
--
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS crdt_reconcile;
RESET client_min_messages;

-- Unset: mutators need an explicit replica and say how to set one.
SELECT crdt_replica_id() IS NULL AS unset;
SHOW crdt.replica_id;
SELECT crdt_increment('{}'::gcounter);
SELECT crdt_increment('{}'::gcounter, 1, 'explicit') AS explicit_works;

-- Session setting, SET LOCAL, and the argument overriding both.
SET crdt.replica_id = 'node_a';
SELECT crdt_tick('{}'::vclock) AS session;
BEGIN;
SET LOCAL crdt.replica_id = 'node_b';
SELECT crdt_tick('{}'::vclock) AS local, crdt_tick('{}'::vclock, 'node_c') AS argument;
COMMIT;
SELECT crdt_tick('{}'::vclock) AS session_again;

-- Any UTF-8 text of 1 to 64 bytes without control characters.
SET crdt.replica_id = 'agent-日本-😀';
SELECT crdt_tick('{}'::vclock) AS unicode;
SELECT crdt_tick('{}'::vclock, repeat('x', 64)) AS sixty_four_bytes;

-- Invalid ids are refused by the setting and by arguments alike.
SET crdt.replica_id = 'this-one-is-sixty-five-bytes-long-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx';
SET crdt.replica_id = E'tab\there';
SHOW crdt.replica_id;
SELECT crdt_tick('{}'::vclock, repeat('x', 65));
SELECT crdt_tick('{}'::vclock, '');
SELECT crdt_increment('{}'::gcounter, 1, E'new\nline');
SELECT crdt_get('{"a":1}'::vclock, '');

-- The crdt.* prefix is reserved: a typo is an error, not a silent placeholder.
SET crdt.replicaid = 'x';

-- Per database (and per role) defaults, as for any setting.
SELECT current_database() AS db \gset
ALTER DATABASE :"db" SET crdt.replica_id = 'db-default';
\c
SELECT crdt_tick('{}'::vclock) AS from_database_setting;
SELECT crdt_replica_id() AS effective, current_setting('crdt.replica_id') AS setting;
ALTER DATABASE :"db" RESET crdt.replica_id;
\c
SELECT crdt_replica_id() IS NULL AS unset_again;

-- A mutator that may read the setting is STABLE; crdt_set(lwwreg, value)
-- reads the clock, so it is VOLATILE; mutators without a replica and all
-- reading functions are IMMUTABLE.  Everything is PARALLEL SAFE.
SELECT proname, provolatile, proparallel, count(*)
FROM pg_proc WHERE proname IN ('crdt_tick', 'crdt_increment', 'crdt_decrement', 'crdt_value',
                               'crdt_merge', 'crdt_replica_id', 'crdt_add', 'crdt_remove',
                               'crdt_set', 'crdt_set_at')
GROUP BY 1, 2, 3 ORDER BY 1, 2;
