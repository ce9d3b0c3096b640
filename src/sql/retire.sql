-- ------------------------------------------------------ replica retirement
-- docs/RETIREMENT.md: crdt_retire folds a retired replica into a marker
-- the value carries; the registry refuses its writes everywhere it has
-- replicated to; compact_replicas folds the tracked tables.

-- crdt_retire and crdt_retired_ids per type: retire.type.sql.in.
COMMENT ON FUNCTION @extschema@.crdt_retire(@extschema@.gcounter, pg_catalog.text, pg_catalog.text) IS
	'the value with the retired replica folded into a marker naming its successor: same value, merges without double counting';

-- The second step (docs/RETIREMENT.md, "Dropping the markers"): the
-- markers and entries of replicas replaced by one marker of their
-- compaction group, holding the sum.  compact_replicas uses it once it is
-- safe; the tracked-table trigger lifts every written value through the
-- registry's groups.
-- crdt_compact per type: compact.type.sql.in.
COMMENT ON FUNCTION @extschema@.crdt_compact(@extschema@.gcounter, pg_catalog.text[], pg_catalog.text) IS
	'the markers and entries of replicas replaced by one marker of their compaction group (exact once every copy holds their final entries)';
COMMENT ON FUNCTION @extschema@.crdt_compact(@extschema@.orset, pg_catalog.text[], pg_catalog.text) IS
	'the dots and context entries of replicas renamed into their compaction group (their final counters end to end); 55000 when the value is not ready';
COMMENT ON FUNCTION @extschema@.crdt_compact_status(@extschema@.orset, pg_catalog.text[], pg_catalog.text) IS
	'what crdt_compact would do: unchanged, ready, or waiting (the contexts of the replicas are not final)';

-- The replica ids of an orset's or mvreg's context, from its text form.
CREATE FUNCTION crdt_reconcile.context_replicas(value_text pg_catalog.text) RETURNS SETOF pg_catalog.text
	LANGUAGE sql IMMUTABLE STRICT
	SET search_path = pg_catalog, pg_temp
	AS $$
	SELECT pg_catalog.jsonb_object_keys(
		CASE WHEN pg_catalog.jsonb_typeof(j) OPERATOR(pg_catalog.=) 'array' THEN j OPERATOR(pg_catalog.->) 0 ELSE j END
		OPERATOR(pg_catalog.->) 'context')
	FROM (SELECT value_text::pg_catalog.jsonb AS j) s
$$;

-- The registry: one row per retired replica, replicated with the tracked
-- tables (create_publication adds it).  Duplicates from several nodes
-- merge: the smaller successor and the earlier time win, so every node
-- ends with the same row.
CREATE TABLE crdt_reconcile.retired_replicas (
	replica pg_catalog.text PRIMARY KEY,
	successor pg_catalog.text NOT NULL CHECK (successor OPERATOR(pg_catalog.<>) replica),
	retired_at pg_catalog.timestamptz NOT NULL DEFAULT pg_catalog.clock_timestamp(),
	origin pg_catalog.text,
	-- the mesh nodes that acknowledged: they hold every write for replica
	acknowledged_by @extschema@.orset NOT NULL DEFAULT '{}',
	-- the compaction group that replaced its markers (set by the coordinator)
	compacted_into pg_catalog.text
);
COMMENT ON TABLE crdt_reconcile.retired_replicas IS
	'retired replica ids: writes for them fail (55000) wherever this row is; replicate it with the tracked tables';
GRANT SELECT ON crdt_reconcile.retired_replicas TO PUBLIC;
SELECT pg_catalog.pg_extension_config_dump('crdt_reconcile.retired_replicas', '');

CREATE FUNCTION crdt_reconcile.retired_replica_merge() RETURNS pg_catalog.trigger
	LANGUAGE plpgsql
	SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	old_row crdt_reconcile.retired_replicas;
BEGIN
	IF TG_OP = 'UPDATE' THEN
		NEW.replica := OLD.replica;
		NEW.successor := LEAST(OLD.successor COLLATE "C", NEW.successor COLLATE "C");
		NEW.retired_at := LEAST(OLD.retired_at, NEW.retired_at);
		NEW.acknowledged_by := OLD.acknowledged_by OPERATOR(@extschema@.||) NEW.acknowledged_by;
		NEW.compacted_into := coalesce(OLD.compacted_into, NEW.compacted_into);
		RETURN CASE WHEN NEW.successor = OLD.successor AND NEW.retired_at = OLD.retired_at
		                 AND NEW.acknowledged_by OPERATOR(@extschema@.=) OLD.acknowledged_by
		                 AND NEW.compacted_into IS NOT DISTINCT FROM OLD.compacted_into
		            THEN NULL ELSE NEW END;
	END IF;
	SELECT * INTO old_row FROM crdt_reconcile.retired_replicas r WHERE r.replica = NEW.replica;
	IF NOT FOUND THEN
		RETURN NEW;
	END IF;
	UPDATE crdt_reconcile.retired_replicas r SET successor = NEW.successor, retired_at = NEW.retired_at,
		acknowledged_by = NEW.acknowledged_by, compacted_into = NEW.compacted_into
	WHERE r.replica = NEW.replica;
	RETURN NULL;
END
$$;
CREATE TRIGGER retired_replica_merge BEFORE INSERT OR UPDATE ON crdt_reconcile.retired_replicas
	FOR EACH ROW EXECUTE FUNCTION crdt_reconcile.retired_replica_merge();
ALTER TABLE crdt_reconcile.retired_replicas ENABLE ALWAYS TRIGGER retired_replica_merge;

-- Every backend (apply workers too) caches the compaction groups of the
-- registry for the tracked-table trigger: a change drops the caches.
CREATE FUNCTION crdt_reconcile.registry_changed() RETURNS pg_catalog.trigger
	AS 'MODULE_PATHNAME', 'crdt_registry_changed' LANGUAGE C;
CREATE TRIGGER registry_changed AFTER INSERT OR UPDATE OR DELETE ON crdt_reconcile.retired_replicas
	FOR EACH ROW EXECUTE FUNCTION crdt_reconcile.registry_changed();
ALTER TABLE crdt_reconcile.retired_replicas ENABLE ALWAYS TRIGGER registry_changed;

-- Retires a replica: it must never write again (its agent is gone).  Needs
-- INSERT on the registry, which only its owner has until granted.
CREATE FUNCTION crdt_reconcile.retire_replica(replica pg_catalog.text, successor pg_catalog.text)
	RETURNS void
	LANGUAGE plpgsql
	SET search_path = pg_catalog, pg_temp
	AS $$
BEGIN
	-- the same checks as crdt_retire (22023 for a bad id or into itself)
	PERFORM @extschema@.crdt_retire('{}'::@extschema@.gcounter, replica, successor);
	INSERT INTO crdt_reconcile.retired_replicas AS r (replica, successor, origin)
	VALUES (replica, successor, @extschema@.crdt_replica_id());
END
$$;
COMMENT ON FUNCTION crdt_reconcile.retire_replica(pg_catalog.text, pg_catalog.text) IS
	'records that a replica is retired into a successor: from then on its writes fail with 55000 on every node with the row';

-- The CRDT columns with replica metadata of the tracked tables.
CREATE FUNCTION crdt_reconcile.retirable_columns(OUT relation pg_catalog.regclass,
		OUT column_name pg_catalog.name, OUT type_name pg_catalog.name, OUT row_clock pg_catalog.bool)
	RETURNS SETOF pg_catalog.record
	LANGUAGE sql STABLE
	SET search_path = pg_catalog, pg_temp
	AS $$
	SELECT t.relation, a.attname, ty.typname, a.attname IS NOT DISTINCT FROM t.clock_column
	FROM crdt_reconcile.tracked t
	JOIN pg_catalog.pg_attribute a ON a.attrelid = t.relation AND a.attnum > 0 AND NOT a.attisdropped
	JOIN pg_catalog.pg_type ty ON ty.oid = a.atttypid
	WHERE ty.typnamespace = '@extschema@'::pg_catalog.regnamespace
	  AND ty.typname IN ('vclock', 'gcounter', 'pncounter', 'orset', 'mvreg')
	ORDER BY 1, 2
$$;

-- The acknowledgement round of compact_replicas on this node (never
-- replicated), as tombstone collection has its own: when it opened, its
-- WAL horizon, the retired replicas it will acknowledge.
CREATE TABLE crdt_reconcile.retire_round (
	only_one pg_catalog.bool PRIMARY KEY DEFAULT true CHECK (only_one),
	opened_at pg_catalog.timestamptz NOT NULL,
	horizon pg_catalog.pg_lsn
);
CREATE TABLE crdt_reconcile.retire_round_replicas (
	replica pg_catalog.text PRIMARY KEY
);

-- Folds every registered retired replica into a marker in the counter and
-- clock columns of the tracked tables the caller may update (with the
-- caller's rights: nothing runs with more).  A fold is an ordinary write:
-- it replicates, and merges with copies not yet folded without counting
-- anything twice.  orset and mvreg keep a retired replica's dots until
-- their group renames them (see docs/RETIREMENT.md), so nothing is folded
-- there; nor in the row clocks of tracked tables, which count the nodes'
-- writes, not the agents'.
CREATE FUNCTION crdt_reconcile.fold_replicas()
	RETURNS TABLE (relation pg_catalog.regclass, column_name pg_catalog.name,
	               replica pg_catalog.text, rows_changed pg_catalog.int8)
	LANGUAGE plpgsql
	SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	c record;
	r record;
	n pg_catalog.int8;
BEGIN
	FOR c IN SELECT * FROM crdt_reconcile.compactable_columns() x WHERE x.type_name IN ('vclock', 'gcounter', 'pncounter') LOOP
		FOR r IN SELECT * FROM crdt_reconcile.retired_replicas x WHERE x.compacted_into IS NULL ORDER BY 1 LOOP
			EXECUTE pg_catalog.format(
				'UPDATE %1$s SET %2$I = @extschema@.crdt_retire(%2$I, $1, $2) '
				'WHERE $1 OPERATOR(pg_catalog.<>) ALL (@extschema@.crdt_retired_ids(%2$I)) '
				'AND EXISTS (SELECT FROM @extschema@.crdt_entries(%2$I) e WHERE e.replica OPERATOR(pg_catalog.=) $1)',
				c.relation, c.column_name) USING r.replica, r.successor;
			GET DIAGNOSTICS n = ROW_COUNT;
			IF n > 0 THEN
				RETURN QUERY SELECT c.relation, c.column_name, r.replica, n;
			END IF;
		END LOOP;
	END LOOP;
END
$$;

-- The CRDT columns with replica metadata (not row clocks) of the tracked
-- tables that the caller may read and update; a NOTICE for the others.
CREATE FUNCTION crdt_reconcile.compactable_columns(OUT relation pg_catalog.regclass, OUT column_name pg_catalog.name,
		OUT type_name pg_catalog.name)
	RETURNS SETOF pg_catalog.record
	LANGUAGE plpgsql STABLE
	SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	c record;
BEGIN
	FOR c IN SELECT * FROM crdt_reconcile.retirable_columns() x
	         WHERE NOT x.row_clock LOOP
		IF NOT pg_catalog.has_column_privilege(c.relation, c.column_name, 'UPDATE')
		   OR NOT pg_catalog.has_column_privilege(c.relation, c.column_name, 'SELECT') THEN
			RAISE NOTICE 'compact_replicas: skipping %.%: no SELECT and UPDATE privilege', c.relation, c.column_name;
			CONTINUE;
		END IF;
		relation := c.relation;
		column_name := c.column_name;
		type_name := c.type_name;
		RETURN NEXT;
	END LOOP;
END
$$;

-- This node's acknowledgement of the retired replicas it holds: a round
-- (round_advance, as tombstone collection) after which
-- every write this node made for them is at every subscriber.  Returns
-- how many it acknowledged, or what it waits for.
CREATE FUNCTION crdt_reconcile.acknowledge_retired(me pg_catalog.text, OUT acknowledged pg_catalog.int8,
		OUT waiting_for pg_catalog.text)
	LANGUAGE plpgsql
	SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	opening pg_catalog.bool := false;
	confirmed pg_catalog.bool;
BEGIN
	acknowledged := 0;
	IF NOT EXISTS (SELECT FROM crdt_reconcile.retire_round) THEN
		-- the registry rows this transaction sees: every later write for them is refused here
		INSERT INTO crdt_reconcile.retire_round_replicas
		SELECT r.replica FROM crdt_reconcile.retired_replicas r
		WHERE r.compacted_into IS NULL AND NOT @extschema@.crdt_contains(r.acknowledged_by, me);
		opening := FOUND;
	END IF;
	SELECT a.confirmed, a.waiting_for INTO confirmed, waiting_for
	FROM crdt_reconcile.round_advance('crdt_reconcile.retire_round', opening) a;
	IF confirmed THEN
		UPDATE crdt_reconcile.retired_replicas r SET acknowledged_by = @extschema@.crdt_add(r.acknowledged_by, me, me)
		FROM crdt_reconcile.retire_round_replicas k
		WHERE r.replica = k.replica AND NOT @extschema@.crdt_contains(r.acknowledged_by, me);
		GET DIAGNOSTICS acknowledged = ROW_COUNT;
		DELETE FROM crdt_reconcile.retire_round_replicas;
	END IF;
END
$$;

-- Compaction proper: once every mesh node acknowledged a retired replica
-- (every node holds its final entries), the coordinator (the mesh member
-- first by bytes) assigns it to a new compaction group in the registry;
-- every node lifts its rows through the groups (crdt_compact).  Returns
-- the groups assigned here, or what it waits for.
CREATE FUNCTION crdt_reconcile.assign_groups(me pg_catalog.text, OUT assigned pg_catalog.text,
		OUT waiting_for pg_catalog.text)
	LANGUAGE plpgsql
	SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	members pg_catalog.text[];
	coordinator pg_catalog.text;
	missing pg_catalog.text;
	ready pg_catalog.int8;
BEGIN
	waiting_for := crdt_reconcile.mesh_incomplete(me);
	IF waiting_for IS NOT NULL THEN
		RETURN;
	END IF;
	members := ARRAY(SELECT m.node FROM crdt_reconcile.mesh_nodes m UNION SELECT me);
	SELECT pg_catalog.min(m COLLATE "C") INTO coordinator FROM pg_catalog.unnest(members) m;
	SELECT pg_catalog.string_agg(DISTINCT m, ', ' ORDER BY m) INTO missing
	FROM pg_catalog.unnest(members) m, crdt_reconcile.retired_replicas r
	WHERE r.compacted_into IS NULL AND NOT @extschema@.crdt_contains(r.acknowledged_by, m);
	SELECT pg_catalog.count(*) INTO ready FROM crdt_reconcile.retired_replicas r
	WHERE r.compacted_into IS NULL
	  AND NOT EXISTS (SELECT FROM pg_catalog.unnest(members) m WHERE NOT @extschema@.crdt_contains(r.acknowledged_by, m));
	IF missing IS NOT NULL THEN
		waiting_for := 'acknowledgements from ' || missing;
	END IF;
	IF ready = 0 THEN
		RETURN;
	ELSIF me <> coordinator THEN
		waiting_for := concat_ws('; ', waiting_for,
			pg_catalog.format('the coordinator %s to assign %s acknowledged replicas to a compaction group',
			                  coordinator, ready));
		RETURN;
	END IF;
	SELECT '~' || (coalesce(pg_catalog.max(pg_catalog.substr(r.compacted_into, 2)::pg_catalog.int8), 0) + 1)
	INTO assigned FROM crdt_reconcile.retired_replicas r WHERE r.compacted_into IS NOT NULL;
	UPDATE crdt_reconcile.retired_replicas r SET compacted_into = assigned
	WHERE r.compacted_into IS NULL
	  AND NOT EXISTS (SELECT FROM pg_catalog.unnest(members) m WHERE NOT @extschema@.crdt_contains(r.acknowledged_by, m));
END
$$;

-- Folds every retired replica into markers (at once: that is always safe);
-- acknowledges them; and once every node of the mesh has acknowledged,
-- drops their markers: the coordinator assigns them to a compaction group,
-- and every node's compact_replicas replaces them by the group's marker
-- in its rows (a few bytes, whatever the number of replicas).  Until it is
-- safe it drops nothing and says what it waits for (a row with step
-- 'waiting'); on a single node it completes at once.  Run it now and then,
-- never inside a longer transaction.
CREATE FUNCTION crdt_reconcile.compact_replicas()
	RETURNS TABLE (step pg_catalog.text, relation pg_catalog.regclass, column_name pg_catalog.name,
	               replica pg_catalog.text, rows_changed pg_catalog.int8, waiting_for pg_catalog.text)
	LANGUAGE plpgsql
	SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	me pg_catalog.text;
	c record;
	g record;
	n pg_catalog.int8;
	ack record;
	grouped record;
BEGIN
	RETURN QUERY SELECT 'folded', f.relation, f.column_name, f.replica, f.rows_changed, NULL::pg_catalog.text
	FROM crdt_reconcile.fold_replicas() f;
	IF NOT pg_catalog.has_table_privilege('crdt_reconcile.retired_replicas', 'UPDATE')
	   OR NOT pg_catalog.has_table_privilege('crdt_reconcile.retire_round', 'UPDATE') THEN
		RETURN QUERY SELECT 'waiting', NULL::pg_catalog.regclass, NULL::pg_catalog.name, NULL::pg_catalog.text,
			NULL::pg_catalog.int8, 'a role that may update crdt_reconcile.retired_replicas to drop the markers'::pg_catalog.text;
		RETURN;
	END IF;
	PERFORM pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtext('crdt_reconcile.compact_replicas'));
	SELECT t.node INTO me FROM crdt_reconcile.this_node t;
	IF me IS NULL AND NOT EXISTS (SELECT FROM crdt_reconcile.mesh_nodes)
	   AND NOT EXISTS (SELECT FROM pg_catalog.pg_subscription s JOIN pg_catalog.pg_database d ON d.oid = s.subdbid
	                   WHERE d.datname = pg_catalog.current_database()) THEN
		-- a node alone, outside any mesh: it acknowledges for itself, without joining one
		me := 'local';
	ELSE
		me := crdt_reconcile.mesh_self();
	END IF;
	IF me IS NULL THEN
		RETURN QUERY SELECT 'waiting', NULL::pg_catalog.regclass, NULL::pg_catalog.name, NULL::pg_catalog.text,
			NULL::pg_catalog.int8,
			'this node has no name: run crdt_reconcile.create_publication (or join_mesh) first'::pg_catalog.text;
		RETURN;
	END IF;
	SELECT * INTO ack FROM crdt_reconcile.acknowledge_retired(me);
	SELECT * INTO grouped FROM crdt_reconcile.assign_groups(me);
	IF concat_ws('; ', ack.waiting_for, grouped.waiting_for) <> '' THEN
		RETURN QUERY SELECT 'waiting', NULL::pg_catalog.regclass, NULL::pg_catalog.name, NULL::pg_catalog.text,
			NULL::pg_catalog.int8, concat_ws('; ', ack.waiting_for, grouped.waiting_for);
	END IF;
	-- lift this node's rows through every group (those assigned elsewhere too)
	FOR c IN SELECT * FROM crdt_reconcile.compactable_columns() LOOP
		FOR g IN SELECT r.compacted_into AS into_group, pg_catalog.array_agg(r.replica ORDER BY r.replica) AS ids
		         FROM crdt_reconcile.retired_replicas r WHERE r.compacted_into IS NOT NULL
		         GROUP BY 1 ORDER BY pg_catalog.length(r.compacted_into), 1 LOOP
			IF c.type_name IN ('orset', 'mvreg') THEN
				-- renamed only where the members' counters are final (crdt_compact_status)
				EXECUTE pg_catalog.format(
					'UPDATE %1$s SET %2$I = @extschema@.crdt_compact(%2$I, $1, $2) '
					'WHERE @extschema@.crdt_compact_status(%2$I, $1, $2) OPERATOR(pg_catalog.=) ''ready''',
					c.relation, c.column_name) USING g.ids, g.into_group;
				GET DIAGNOSTICS n = ROW_COUNT;
				IF n > 0 THEN
					RETURN QUERY SELECT 'dropped', c.relation, c.column_name, g.into_group, n, NULL::pg_catalog.text;
				END IF;
				EXECUTE pg_catalog.format(
					'SELECT pg_catalog.count(*) FROM %1$s '
					'WHERE @extschema@.crdt_compact_status(%2$I, $1, $2) OPERATOR(pg_catalog.=) ''waiting''',
					c.relation, c.column_name) INTO n USING g.ids, g.into_group;
				IF n > 0 THEN
					RETURN QUERY SELECT 'waiting', c.relation, c.column_name, g.into_group, n,
						pg_catalog.format('%s rows whose contexts of the replicas of %s are not final (not contiguous, '
						                  'or group and member both present)', n, g.into_group);
				END IF;
				CONTINUE;
			END IF;
			EXECUTE pg_catalog.format(
				'UPDATE %1$s SET %2$I = @extschema@.crdt_compact(%2$I, $1, $2) '
				'WHERE @extschema@.crdt_retired_ids(%2$I) OPERATOR(pg_catalog.&&) $1 '
				'OR EXISTS (SELECT FROM @extschema@.crdt_entries(%2$I) e WHERE e.replica OPERATOR(pg_catalog.=) ANY ($1))',
				c.relation, c.column_name) USING g.ids, g.into_group;
			GET DIAGNOSTICS n = ROW_COUNT;
			IF n > 0 THEN
				RETURN QUERY SELECT 'dropped', c.relation, c.column_name, g.into_group, n, NULL::pg_catalog.text;
			END IF;
		END LOOP;
	END LOOP;
END
$$;
COMMENT ON FUNCTION crdt_reconcile.compact_replicas() IS
	'folds retired replicas into markers, and drops the markers once every mesh node acknowledged them (else says what it waits for)';

-- Metadata size per tracked column the caller may read: live replica
-- entries (counters and clocks: not marked; orset and mvreg: context
-- entries not marked), retired ids still carried (markers; for orset and
-- mvreg also registered ids their contexts name), bytes.
CREATE FUNCTION crdt_reconcile.metadata_size()
	RETURNS TABLE (relation pg_catalog.regclass, column_name pg_catalog.name, type_name pg_catalog.name,
	               rows pg_catalog.int8, entries pg_catalog.int8, retired_ids pg_catalog.int8,
	               bytes pg_catalog.int8)
	LANGUAGE plpgsql
	SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	c record;
BEGIN
	FOR c IN SELECT x.relation, x.column_name, x.type_name FROM crdt_reconcile.retirable_columns() x LOOP
		CONTINUE WHEN NOT pg_catalog.has_column_privilege(c.relation, c.column_name, 'SELECT');
		RETURN QUERY EXECUTE pg_catalog.format(
			'SELECT %1$L::pg_catalog.regclass, %2$L::pg_catalog.name, %3$L::pg_catalog.name, '
			'pg_catalog.count(*), %4$s, %5$s, '
			'pg_catalog.sum(pg_catalog.pg_column_size(%2$I))::pg_catalog.int8 FROM %1$s',
			c.relation, c.column_name, c.type_name,
			-- entries: the context entries (orset, mvreg) or the entries not marked as retired
			pg_catalog.format(
				CASE WHEN c.type_name IN ('orset', 'mvreg')
				     THEN '(SELECT pg_catalog.count(*) FROM %1$s, crdt_reconcile.context_replicas(%2$I::pg_catalog.text) e(replica) '
				     ELSE '(SELECT pg_catalog.count(*) FROM %1$s, @extschema@.crdt_entries(%2$I) e ' END
				|| 'WHERE e.replica OPERATOR(pg_catalog.<>) ALL (@extschema@.crdt_retired_ids(%2$I)))',
				c.relation, c.column_name),
			-- retired ids: the markers, and (orset, mvreg) the registered ids their contexts still name
			pg_catalog.format(
				'(SELECT pg_catalog.count(DISTINCT i) FROM %1$s, LATERAL ('
				'SELECT pg_catalog.unnest(@extschema@.crdt_retired_ids(%2$I)) '
				|| CASE WHEN c.type_name IN ('orset', 'mvreg')
				        THEN 'UNION ALL SELECT k FROM crdt_reconcile.context_replicas(%2$I::pg_catalog.text) k '
				             'WHERE k OPERATOR(pg_catalog.=) ANY (ARRAY(SELECT r.replica FROM crdt_reconcile.retired_replicas r)) '
				        ELSE '' END
				|| ') x(i))', c.relation, c.column_name));
	END LOOP;
END
$$;
CREATE VIEW crdt_reconcile.replica_metadata AS SELECT * FROM crdt_reconcile.metadata_size();
COMMENT ON VIEW crdt_reconcile.replica_metadata IS
	'per tracked CRDT column: rows, live replica entries, retired ids still carried as markers, bytes';
GRANT SELECT ON crdt_reconcile.replica_metadata TO PUBLIC;

REVOKE ALL ON FUNCTION crdt_reconcile.acknowledge_retired(pg_catalog.text) FROM PUBLIC;
REVOKE ALL ON FUNCTION crdt_reconcile.assign_groups(pg_catalog.text) FROM PUBLIC;
