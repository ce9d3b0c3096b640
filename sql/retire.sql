--
-- Replica retirement (docs/RETIREMENT.md): crdt_retire for the five types
-- with replica metadata, the registry that refuses retired writers, the
-- fold of tracked tables, the metadata view; as an unprivileged role too.
--
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS crdt_reconcile;
RESET client_min_messages;

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
SELECT regress.state_of($$SELECT crdt_retire('{}'::gcounter, 'a', 'a')$$, true);
SELECT regress.state_of($$SELECT crdt_retire('{}'::orset, '', 'a')$$, true);
SELECT regress.state_of($$SELECT crdt_retire('{}'::mvreg, 'a', E'b\x01')$$, true);
SELECT regress.state_of($$SELECT crdt_increment(crdt_retire('{"a":1}'::gcounter, 'a', 'b'), 1, 'a')$$, true);
SELECT regress.state_of($$SELECT crdt_add(crdt_retire('{}'::orset, 'a', 'b'), 'x', 'a')$$, true);
SELECT regress.state_of($$SELECT '[{},{"a":["a",1]}]'::gcounter$$, true);
SELECT regress.state_of($$SELECT '[{},{"a":["b",1],"a":["c",1]}]'::gcounter$$, true);
SELECT regress.state_of($$SELECT '[{},{"a":["b"]}]'::gcounter$$, true);
SELECT regress.state_of($$SELECT '[{},{"a":["b",1,2]}]'::gcounter$$, true);
SELECT regress.state_of($$SELECT '[{},{"a":["b",9223372036854775808]}]'::gcounter$$, true);
SELECT regress.state_of($$SELECT '[{},{}] '::orset$$, true);

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
SELECT regress.state_of($$SELECT crdt_reconcile.retire_replica('agent-1', 'agent-0')$$, true);
RESET ROLE;
SELECT crdt_reconcile.retire_replica('agent-1', 'agent-0');
SELECT crdt_reconcile.retire_replica('agent-1', 'agent-00');	-- again, elsewhere: merged
SELECT replica, successor FROM crdt_reconcile.retired_replicas;
SELECT regress.state_of($$SELECT crdt_reconcile.retire_replica('agent-9', 'agent-9')$$, true);

-- writes for agent-1 fail everywhere the row is, however the id comes
SET ROLE retire_agent;
SELECT regress.state_of($$UPDATE retire_budget SET spent = crdt_increment(spent, 1, 'agent-1') WHERE id = 1$$, true);
SET crdt.replica_id = 'agent-1';
SELECT regress.state_of($$UPDATE retire_budget SET tags = crdt_add(tags, 'y') WHERE id = 1$$, true);
SELECT regress.state_of($$SELECT crdt_set('{}'::mvreg, '1')$$, true);
SELECT regress.state_of($$SELECT crdt_tick('{}'::vclock)$$, true);
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

-- ---------------------------------------------------- dropping the markers
-- A node alone (no mesh, no subscriptions): compact_replicas folds, then
-- drops the markers at once.  100 agents wrote; 90 are retired.
CREATE TABLE retire_fleet (id int PRIMARY KEY, hits gcounter NOT NULL DEFAULT '{}', live_only gcounter);
SELECT relation FROM crdt_reconcile.track('retire_fleet');
CREATE FUNCTION pg_temp.agents(lo int, hi int) RETURNS gcounter LANGUAGE sql AS $$
	SELECT crdt_merge(crdt_increment('{}'::gcounter, 1000 + i, pg_catalog.format('agent-%s', lpad(i::text, 3, '0'))))
	FROM generate_series(lo, hi) i $$;
INSERT INTO retire_fleet VALUES (1, pg_temp.agents(0, 99), pg_temp.agents(90, 99));
SELECT hits::text AS old_hits, crdt_value(hits) AS old_total FROM retire_fleet WHERE id = 1 \gset
SELECT count(*) FROM (SELECT crdt_reconcile.retire_replica(pg_catalog.format('agent-%s', lpad(i::text, 3, '0')), 'agent-099')
                      FROM generate_series(0, 89) i) r;
-- markers only (the first step alone) cost more than the entries they replace
SELECT pg_column_size(hits) AS all_entries,
       pg_column_size((SELECT crdt_retire(hits, replica, successor) FROM crdt_reconcile.retired_replicas LIMIT 1)) > 0 AS marked
FROM retire_fleet WHERE id = 1;
SELECT step, relation, column_name, count(*) AS replicas, sum(rows_changed) AS rows_changed,
       min(replica) AS first, max(replica) AS last, max(waiting_for) AS waiting_for
FROM crdt_reconcile.compact_replicas() GROUP BY 1, 2, 3 ORDER BY 1, 2, 3;
-- the issue's bound: at most 16 bytes more than the 10 live replicas alone
SELECT pg_column_size(hits) AS compacted_bytes, pg_column_size(live_only) AS live_only_bytes,
       pg_column_size(hits) <= pg_column_size(live_only) + 16 AS within_16_bytes,
       crdt_value(hits) = :old_total AS value_unchanged,
       crdt_retired_ids(hits), hits
FROM retire_fleet WHERE id = 1;
SELECT compacted_into AS grp, count(*), bool_and(crdt_contains(acknowledged_by, 'local')) AS acknowledged
FROM crdt_reconcile.retired_replicas WHERE replica LIKE 'agent-0__' GROUP BY 1 \gset
SELECT :'grp' AS compacted_into, :count AS replicas, :'acknowledged' AS acknowledged_by_this_node;
SELECT * FROM crdt_reconcile.compact_replicas();	-- nothing left
-- the group's id is retired too: nobody writes for it
SELECT regress.state_of(format($$UPDATE retire_fleet SET hits = crdt_increment(hits, 1, %L) WHERE id = 1$$, :'grp'), true);

-- A late copy (the value from before compaction, as a late apply or a
-- restored dump would bring it) is lifted through the group: counted once,
-- recorded as retired_writer.  So is an old value inserted as a new row.
UPDATE retire_fleet SET hits = crdt_increment(hits, 5, 'agent-095') WHERE id = 1;
UPDATE retire_fleet SET hits = :'old_hits' WHERE id = 1;
INSERT INTO retire_fleet (id, hits) VALUES (2, :'old_hits');
SELECT id, crdt_value(hits) - :old_total AS beyond_the_old_total, crdt_retired_ids(hits),
       pg_column_size(hits) <= pg_column_size(live_only) + 16 AS still_small
FROM retire_fleet ORDER BY id;
SELECT row_key, column_name, kind, resolution, status,
       remote_value::text LIKE '%agent-000%' AS arrived_naming_agent_000, result_value::text LIKE '%agent-000%' AS kept_it
FROM crdt_reconcile.conflicts WHERE relation = 'retire_fleet'::regclass ORDER BY id;
-- crdt_compact: only counters and clocks, and not into one of its own ids
SELECT crdt_compact('[{"a":1,"b":2},{"r":["b",5]}]'::gcounter, '{r,a}', '~1') AS compacted,
       crdt_compact('[{"a":1,"b":2},{"~1":["~",6]}]'::gcounter, '{r,a}', '~1') AS already_in_the_group;
SELECT regress.state_of($$SELECT crdt_compact('{"a":1}'::gcounter, '{a,~1}', '~1')$$, true);
SELECT regress.state_of($$SELECT crdt_compact('{"p":{"a":1},"n":{}}'::pncounter, '{a}', '')$$, true);
DROP TABLE retire_fleet;
DELETE FROM crdt_reconcile.conflicts WHERE kind = 'retired_writer';

-- ------------------------------------------ orset and mvreg: dots renamed
-- crdt_compact renames the dots of a group's members (in byte order, their
-- final counters end to end): r-a 1..2 and r-b 1 become ~1 1..3
SELECT crdt_compact('{"elements":{"x":[["live",1]],"y":[["r-b",1]],"z":[["r-a",2]]},"context":{"live":1,"r-a":2,"r-b":1}}'::orset,
                    '{r-b,r-a}', '~1');
SELECT crdt_compact('{"values":[{"value":"A","dots":[["r-a",2]]}],"context":{"p":1,"r-a":2}}'::mvreg, '{r-a}', '~1');
-- not ready: a member's counters with a gap, or group and member both in one value (55000)
SELECT crdt_compact_status('{"elements":{},"context":{"r-a":[[2,3]]}}'::orset, '{r-a}', '~1') AS gap,
       crdt_compact_status('{"elements":{},"context":{"r-a":1,"~1":2}}'::orset, '{r-a}', '~1') AS group_and_member,
       crdt_compact_status('{"elements":{},"context":{"p":1}}'::orset, '{r-a}', '~1') AS not_named,
       crdt_compact_status('{"elements":{},"context":{"r-a":1}}'::orset, '{r-a}', '~1') AS named;
SELECT regress.state_of($$SELECT crdt_compact('{"elements":{},"context":{"r-a":[[2,3]]}}'::orset, '{r-a}', '~1')$$, true);
SELECT regress.state_of($$SELECT crdt_compact('{"elements":{},"context":{"r-a":1}}'::orset, '{r-a}', 'r-a')$$, true);

-- A tracked table: two bots write, bot-2's element is removed by a live
-- replica, both retire; compact_replicas renames their dots into a group.
CREATE TABLE retire_tags (id int PRIMARY KEY, tags orset NOT NULL DEFAULT '{}', state mvreg NOT NULL DEFAULT '{}');
SELECT relation FROM crdt_reconcile.track('retire_tags');
INSERT INTO retire_tags VALUES (1);
UPDATE retire_tags SET tags = crdt_add(tags, 'red', 'bot-1'), state = crdt_set(state, '"on"', 'bot-1');
UPDATE retire_tags SET tags = crdt_add(tags, 'blue', 'bot-2');
SELECT tags::text AS older_tags FROM retire_tags \gset
UPDATE retire_tags SET tags = crdt_add(tags, 'green', 'bot-1'), state = crdt_set(state, '"off"', 'bot-1');
UPDATE retire_tags SET tags = crdt_remove(crdt_add(tags, 'gray', 'keeper'), 'blue');
SELECT tags::text AS final_tags, state::text AS final_state FROM retire_tags \gset
SELECT crdt_reconcile.retire_replica('bot-1', 'keeper'), crdt_reconcile.retire_replica('bot-2', 'keeper');
-- (renaming state, the trigger lifts the row's stored tags too: one row for both)
SELECT step, relation, column_name, replica, rows_changed, waiting_for
FROM crdt_reconcile.compact_replicas() WHERE relation = 'retire_tags'::regclass OR step = 'waiting' ORDER BY 1, 2, 3;
SELECT tags, state, crdt_value(tags) AS elements, crdt_value(state) AS values FROM retire_tags;
SELECT tags::text LIKE '%bot-%' OR state::text LIKE '%bot-%' AS bot_left FROM retire_tags;
SELECT column_name, type_name, rows, entries, retired_ids FROM crdt_reconcile.replica_metadata
WHERE relation = 'retire_tags'::regclass ORDER BY 1;
-- the group writes for nobody
SELECT compacted_into AS tag_group FROM crdt_reconcile.retired_replicas WHERE replica = 'bot-1' \gset
SELECT regress.state_of(format($$UPDATE retire_tags SET tags = crdt_add(tags, 'x', %L)$$, :'tag_group'), true);

-- Late copies: the final one from before compaction is renamed as the
-- stored value was, and merges (recorded, merged); an older one (bot-1's
-- counter below its final one) cannot be renamed: refused, the stored value
-- kept (blue stays removed), recorded as kept_local.
UPDATE retire_tags SET tags = :'final_tags', state = :'final_state';
UPDATE retire_tags SET tags = :'older_tags';
SELECT crdt_value(tags) AS elements, crdt_value(state) AS values, tags::text LIKE '%bot-%' AS bot_left FROM retire_tags;
SELECT column_name, kind, resolution, status FROM crdt_reconcile.conflicts
WHERE relation = 'retire_tags'::regclass ORDER BY id;
SELECT * FROM crdt_reconcile.compact_replicas() WHERE relation = 'retire_tags'::regclass;	-- nothing left
DROP TABLE retire_tags;
DELETE FROM crdt_reconcile.conflicts WHERE kind = 'retired_writer';

DROP TABLE retire_budget;
DELETE FROM crdt_reconcile.retired_replicas;
DROP ROLE retire_agent;
