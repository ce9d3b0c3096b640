-- ------------------------------------------------- tombstone collection

-- The nodes of the mesh, by name: create_publication adds this node (under
-- its crdt.replica_id), and the table replicates with the tombstones.  A
-- tombstone is removed once every node listed here has acknowledged it.
-- One row per announcement (join_mesh): rows are only ever added, so that
-- relayed copies end at the first node that has them and nothing loops.
CREATE TABLE crdt_reconcile.mesh_nodes (
	node pg_catalog.text NOT NULL,
	announced_at pg_catalog.timestamptz NOT NULL DEFAULT pg_catalog.clock_timestamp(),
	PRIMARY KEY (node, announced_at)
);
SELECT pg_catalog.pg_extension_config_dump('crdt_reconcile.mesh_nodes', '');
COMMENT ON TABLE crdt_reconcile.mesh_nodes IS
	'the nodes of the mesh (create_publication adds this one); tombstones wait for all of them; replicate it with the tracked tables';
GRANT SELECT ON crdt_reconcile.mesh_nodes TO PUBLIC;

-- A node's row arrives from every peer that relays it: the second copy is
-- dropped, never a duplicate-key error that would stop the apply.
CREATE FUNCTION crdt_reconcile.mesh_node_arrived() RETURNS pg_catalog.trigger
	LANGUAGE plpgsql
	SET search_path = pg_catalog, pg_temp
	AS $$
BEGIN
	IF EXISTS (SELECT FROM crdt_reconcile.mesh_nodes m WHERE m.node = NEW.node AND m.announced_at = NEW.announced_at) THEN
		RETURN NULL;
	END IF;
	RETURN NEW;
END
$$;
CREATE TRIGGER mesh_node_arrived BEFORE INSERT ON crdt_reconcile.mesh_nodes
	FOR EACH ROW EXECUTE FUNCTION crdt_reconcile.mesh_node_arrived();
ALTER TABLE crdt_reconcile.mesh_nodes ENABLE ALWAYS TRIGGER mesh_node_arrived;

-- This node's own name in the mesh (one row, never replicated), so that
-- acknowledgements do not depend on the crdt.replica_id of a session.
CREATE TABLE crdt_reconcile.this_node (
	only_one pg_catalog.bool PRIMARY KEY DEFAULT true CHECK (only_one),
	node pg_catalog.text NOT NULL
);
SELECT pg_catalog.pg_extension_config_dump('crdt_reconcile.this_node', '');
GRANT SELECT ON crdt_reconcile.this_node TO PUBLIC;

-- The round of collect_tombstones in progress on this node (never
-- replicated): when it opened, the WAL position once every transaction
-- older than the round had ended, and the tombstones (with the clock they
-- had) that it will acknowledge.
CREATE TABLE crdt_reconcile.tombstone_round (
	only_one pg_catalog.bool PRIMARY KEY DEFAULT true CHECK (only_one),
	opened_at pg_catalog.timestamptz NOT NULL,
	horizon pg_catalog.pg_lsn
);
CREATE TABLE crdt_reconcile.tombstone_round_keys (
	relation_name pg_catalog.text NOT NULL,
	row_key pg_catalog.jsonb NOT NULL,
	clock @extschema@.vclock NOT NULL,
	PRIMARY KEY (relation_name, row_key)
);

-- Joins (or renames) this node in the mesh under the given name, and
-- announces it with a new row, which travels to subscribers that came after
-- the first one was written (a subscription made with copy_data = false).
CREATE FUNCTION crdt_reconcile.join_mesh(node pg_catalog.text) RETURNS pg_catalog.void
	LANGUAGE plpgsql
	SET search_path = pg_catalog, pg_temp
	AS $$
BEGIN
	IF node IS NULL OR node = '' THEN
		RAISE EXCEPTION 'a mesh node needs a name' USING ERRCODE = 'invalid_parameter_value',
			HINT = 'Set crdt.replica_id before crdt_reconcile.create_publication.';
	END IF;
	INSERT INTO crdt_reconcile.this_node AS t (node) VALUES (join_mesh.node)
	ON CONFLICT (only_one) DO UPDATE SET node = EXCLUDED.node;
	INSERT INTO crdt_reconcile.mesh_nodes (node) VALUES (join_mesh.node);
END
$$;

-- A node that has left the mesh for good: tombstones stop waiting for it.
CREATE FUNCTION crdt_reconcile.leave_mesh(node pg_catalog.text) RETURNS pg_catalog.bool
	LANGUAGE sql
	SET search_path = pg_catalog, pg_temp
	AS $$
	WITH gone AS (DELETE FROM crdt_reconcile.mesh_nodes m WHERE m.node = leave_mesh.node RETURNING 1)
	SELECT pg_catalog.count(*) > 0 FROM gone
$$;

-- The steps an acknowledgement round shares (tombstone collection here,
-- the compaction of retired replicas in retire.sql).  This node's name in
-- the mesh: this_node, else crdt.replica_id (joining under it), else NULL.
CREATE FUNCTION crdt_reconcile.mesh_self() RETURNS pg_catalog.text
	LANGUAGE plpgsql
	SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	me pg_catalog.text;
BEGIN
	SELECT t.node INTO me FROM crdt_reconcile.this_node t;
	IF me IS NULL THEN
		me := @extschema@.crdt_replica_id();
		IF me IS NOT NULL THEN
			PERFORM crdt_reconcile.join_mesh(me);
		END IF;
	END IF;
	RETURN me;
END
$$;

-- One step of the acknowledgement round kept in round_table (its one row:
-- opened_at, horizon), opened now when there is none and open is true:
-- first the round's WAL horizon, once no transaction older than the round
-- is left (every write this node made without what the round acknowledges
-- is before it); then confirmed, once every logical slot of this database
-- has confirmed it (every subscriber has all of it), which ends the round.
-- Else what it waits for.
CREATE FUNCTION crdt_reconcile.round_advance(round_table pg_catalog.regclass, open pg_catalog.bool,
		OUT confirmed pg_catalog.bool, OUT waiting_for pg_catalog.text)
	LANGUAGE plpgsql
	SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	opened pg_catalog.timestamptz;
	reached pg_catalog.pg_lsn;
BEGIN
	-- the table is read and written by name: only the rounds' own tables
	IF round_table NOT IN ('crdt_reconcile.tombstone_round'::pg_catalog.regclass,
	                       'crdt_reconcile.retire_round'::pg_catalog.regclass) THEN
		RAISE EXCEPTION '% is not a round table', round_table USING ERRCODE = 'invalid_parameter_value';
	END IF;
	confirmed := false;
	EXECUTE pg_catalog.format('SELECT opened_at, horizon FROM %s FOR UPDATE', round_table) INTO opened, reached;
	IF opened IS NULL THEN
		IF NOT open THEN
			RETURN;
		END IF;
		EXECUTE pg_catalog.format('INSERT INTO %s (opened_at) VALUES (pg_catalog.clock_timestamp()) RETURNING opened_at',
		                          round_table) INTO opened;
	END IF;
	IF reached IS NULL THEN
		SELECT 'transactions older than the round: '
		       || pg_catalog.string_agg(pg_catalog.format('%s %s (pid %s, since %s)', a.backend_type,
		                                                  coalesce(a.application_name, ''), a.pid, a.xact_start), ', ')
		INTO waiting_for FROM pg_catalog.pg_stat_activity a
		WHERE a.pid <> pg_catalog.pg_backend_pid()
		  AND (a.xact_start <= opened
		       -- a session this function may not see into might be one
		       OR (a.backend_type = 'client backend' AND a.state IS NULL))
		  AND a.backend_type NOT IN ('walsender', 'autovacuum worker', 'autovacuum launcher');
		IF waiting_for IS NOT NULL THEN
			RETURN;
		END IF;
		reached := pg_catalog.pg_current_wal_lsn();
	END IF;
	SELECT 'subscribers to confirm this node''s writes: '
	       || pg_catalog.string_agg(pg_catalog.format('slot %s (confirmed %s of %s)', s.slot_name,
	                                                  coalesce(s.confirmed_flush_lsn::pg_catalog.text, 'nothing'),
	                                                  reached), ', ')
	INTO waiting_for FROM pg_catalog.pg_replication_slots s
	WHERE s.slot_type = 'logical' AND s.database = pg_catalog.current_database()
	  AND (s.confirmed_flush_lsn IS NULL OR s.confirmed_flush_lsn < reached);
	confirmed := waiting_for IS NULL;
	IF confirmed THEN
		EXECUTE pg_catalog.format('DELETE FROM %s', round_table);
	ELSE
		EXECUTE pg_catalog.format('UPDATE %s SET horizon = $1', round_table) USING reached;
	END IF;
END
$$;

-- A node this one subscribes to that has not joined (a mesh upgraded from
-- 0.4, a publication made by hand), or whose row has not arrived, would be
-- passed over by "every mesh member acknowledged": then this node
-- announces itself again and says so; else NULL.
CREATE FUNCTION crdt_reconcile.mesh_incomplete(me pg_catalog.text) RETURNS pg_catalog.text
	LANGUAGE plpgsql
	SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	subscriptions pg_catalog.int8;
	nodes pg_catalog.int8;
BEGIN
	SELECT pg_catalog.count(*) INTO subscriptions FROM pg_catalog.pg_subscription s
	JOIN pg_catalog.pg_database d ON d.oid = s.subdbid WHERE d.datname = pg_catalog.current_database();
	SELECT pg_catalog.count(DISTINCT m.node) INTO nodes FROM crdt_reconcile.mesh_nodes m;
	IF subscriptions = 0 OR subscriptions < nodes THEN
		RETURN NULL;
	END IF;
	PERFORM crdt_reconcile.join_mesh(me);
	RETURN pg_catalog.format(
		'this node subscribes to %s nodes but only %s nodes have joined the mesh (crdt_reconcile.mesh_nodes)',
		subscriptions, nodes);
END
$$;


-- One step of tombstone collection on this node; run it now and then (from
-- pg_cron or the application), never inside a longer transaction.  A round
-- acknowledges the tombstones this node holds in three steps, each taken
-- when it can be: it opens (the tombstones this node has not acknowledged
-- yet, with their clocks); once no transaction older than the round is
-- left here, it notes the WAL position; once every logical slot of this
-- database has confirmed that position (round_advance: every subscriber
-- has all of it), it acknowledges them (adds this node to seen_by, which replicates).
-- Then it removes every tombstone that every node of the mesh has
-- acknowledged: no node can still send a row the tombstone would have had
-- to stop.  Returns what it did and, when it stopped short, what it waits for.
CREATE FUNCTION crdt_reconcile.collect_tombstones(OUT acknowledged pg_catalog.int8, OUT removed pg_catalog.int8,
		OUT waiting_for pg_catalog.text)
	LANGUAGE plpgsql
	SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	me pg_catalog.text;
	opening pg_catalog.bool := false;
	confirmed pg_catalog.bool;
	incomplete pg_catalog.text;
BEGIN
	-- one round at a time
	PERFORM pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtext('crdt_reconcile.collect_tombstones'));
	acknowledged := 0;
	removed := 0;
	me := crdt_reconcile.mesh_self();
	IF me IS NULL THEN
		waiting_for := 'this node has no name: run crdt_reconcile.create_publication (or join_mesh) first';
		RETURN;
	END IF;
	IF NOT EXISTS (SELECT FROM crdt_reconcile.tombstone_round) THEN
		INSERT INTO crdt_reconcile.tombstone_round_keys
		SELECT t.relation_name, t.row_key, t.clock FROM crdt_reconcile.tombstones t
		WHERE NOT @extschema@.crdt_contains(t.seen_by, me);
		opening := FOUND;
	END IF;
	SELECT a.confirmed, a.waiting_for INTO confirmed, waiting_for
	FROM crdt_reconcile.round_advance('crdt_reconcile.tombstone_round', opening) a;
	IF confirmed THEN
		-- a tombstone whose clock grew since the round opened waits for the next
		UPDATE crdt_reconcile.tombstones t SET seen_by = @extschema@.crdt_add(t.seen_by, me)
		FROM crdt_reconcile.tombstone_round_keys k
		WHERE t.relation_name = k.relation_name AND t.row_key OPERATOR(pg_catalog.=) k.row_key
		  AND t.clock OPERATOR(@extschema@.=) k.clock AND NOT @extschema@.crdt_contains(t.seen_by, me);
		GET DIAGNOSTICS acknowledged = ROW_COUNT;
		DELETE FROM crdt_reconcile.tombstone_round_keys;
	END IF;
	incomplete := crdt_reconcile.mesh_incomplete(me);
	IF incomplete IS NOT NULL THEN
		waiting_for := concat_ws('; ', waiting_for, incomplete);
		RETURN;
	END IF;
	WITH members AS (SELECT m.node FROM crdt_reconcile.mesh_nodes m UNION SELECT me),
	     gone AS (
		DELETE FROM crdt_reconcile.tombstones t
		WHERE NOT EXISTS (SELECT FROM members m WHERE NOT @extschema@.crdt_contains(t.seen_by, m.node))
		RETURNING 1)
	SELECT pg_catalog.count(*) INTO removed FROM gone;
	IF waiting_for IS NULL AND EXISTS (SELECT FROM crdt_reconcile.tombstones) THEN
		SELECT 'acknowledgements from ' || pg_catalog.string_agg(DISTINCT m.node, ', ' ORDER BY m.node)
		INTO waiting_for FROM crdt_reconcile.mesh_nodes m
		WHERE EXISTS (SELECT FROM crdt_reconcile.tombstones t WHERE NOT @extschema@.crdt_contains(t.seen_by, m.node));
	END IF;
END
$$;

COMMENT ON FUNCTION crdt_reconcile.collect_tombstones() IS
	'one step of tombstone collection: acknowledge this node''s tombstones once its subscribers have every write made without them, remove those every mesh node acknowledged; says what it waits for';

REVOKE ALL ON FUNCTION crdt_reconcile.join_mesh(pg_catalog.text) FROM PUBLIC;
REVOKE ALL ON FUNCTION crdt_reconcile.leave_mesh(pg_catalog.text) FROM PUBLIC;
REVOKE ALL ON FUNCTION crdt_reconcile.collect_tombstones() FROM PUBLIC;
REVOKE ALL ON FUNCTION crdt_reconcile.mesh_self() FROM PUBLIC;
REVOKE ALL ON FUNCTION crdt_reconcile.mesh_incomplete(pg_catalog.text) FROM PUBLIC;
REVOKE ALL ON FUNCTION crdt_reconcile.round_advance(pg_catalog.regclass, pg_catalog.bool) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION crdt_reconcile.join_mesh(pg_catalog.text) TO crdt_reconcile_admin;
GRANT EXECUTE ON FUNCTION crdt_reconcile.leave_mesh(pg_catalog.text) TO crdt_reconcile_admin;
GRANT EXECUTE ON FUNCTION crdt_reconcile.collect_tombstones() TO crdt_reconcile_admin;
