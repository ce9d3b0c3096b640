-- ------------------------------------------------------------ row lifecycle

-- A deleted row of a tracked table leaves a tombstone: its key and the row
-- clock the delete had seen (ticked by the deleting replica).  Tombstones
-- replicate like rows (publish this table along with the tracked tables)
-- and merge by their clocks, so every node ends with the same one.  A row
-- arriving for a key is applied only when its clock is strictly after the
-- tombstone's: it was written after the delete was seen (a re-insert).  A
-- row whose writes the delete had not seen loses to it (delete wins), and
-- an echo of the row from before the delete is dropped, so deletes and
-- re-inserts converge in any delivery order and never loop.
CREATE TABLE crdt_reconcile.tombstones (
	relation_name pg_catalog.text NOT NULL,		-- schema.table, the same on every node
	row_key pg_catalog.jsonb NOT NULL,
	clock @extschema@.vclock NOT NULL,
	deleted_at pg_catalog.timestamptz NOT NULL DEFAULT pg_catalog.clock_timestamp(),
	origin pg_catalog.text,
	-- the mesh nodes that have acknowledged this clock of the tombstone
	-- (collect_tombstones); it belongs to the clock and starts empty when
	-- the clock grows
	seen_by @extschema@.gset NOT NULL DEFAULT '{}',
	PRIMARY KEY (relation_name, row_key)
);
SELECT pg_catalog.pg_extension_config_dump('crdt_reconcile.tombstones', '');
COMMENT ON TABLE crdt_reconcile.tombstones IS
	'deleted rows of tracked tables: the key and the clock of the delete; replicate it with the tracked tables';
ALTER TABLE crdt_reconcile.tombstones ENABLE ROW LEVEL SECURITY;
CREATE POLICY tombstones_read ON crdt_reconcile.tombstones FOR SELECT
	USING (crdt_reconcile.may_see_table(pg_catalog.to_regclass(relation_name)));
GRANT SELECT ON crdt_reconcile.tombstones TO PUBLIC;

-- A tombstone from another node removes the local row it covers: the row
-- whose clock is not strictly after the tombstone's.  (C: turning the key
-- back into values runs its types' input functions, which must run as the
-- table's owner, restricted, not as the apply worker's user.)
CREATE FUNCTION crdt_reconcile.apply_tombstone(relation_name pg_catalog.text, row_key pg_catalog.jsonb,
		clock @extschema@.vclock)
	RETURNS pg_catalog.void
	AS 'MODULE_PATHNAME', 'crdt_apply_tombstone' LANGUAGE C STRICT VOLATILE;
REVOKE ALL ON FUNCTION crdt_reconcile.apply_tombstone(pg_catalog.text, pg_catalog.jsonb, @extschema@.vclock) FROM PUBLIC;

-- Whether a tombstone write came from another node (an apply worker, a
-- repair) rather than from a tracked table's trigger, which writes its
-- tombstones itself from inside a trigger.
CREATE FUNCTION crdt_reconcile.tombstone_arrived() RETURNS pg_catalog.bool
	LANGUAGE sql STABLE
	SET search_path = pg_catalog, pg_temp
	AS $$ SELECT pg_catalog.pg_trigger_depth() OPERATOR(pg_catalog.=) 1
	         AND (pg_catalog.current_setting('session_replication_role') OPERATOR(pg_catalog.=) 'replica'
	              OR pg_catalog.pg_replication_origin_session_is_setup()) $$;

-- The acknowledgements that go with a merged tombstone clock: those of
-- the copy whose clock it is (of both when they agree), none when the
-- clocks were concurrent (a lexicographic pair: the clock first).
CREATE FUNCTION crdt_reconcile.tombstone_seen_by(merged @extschema@.vclock,
		a_clock @extschema@.vclock, a_seen @extschema@.gset, b_clock @extschema@.vclock, b_seen @extschema@.gset)
	RETURNS @extschema@.gset
	LANGUAGE sql IMMUTABLE
	SET search_path = pg_catalog, pg_temp
	AS $$ SELECT CASE WHEN merged OPERATOR(@extschema@.=) a_clock AND merged OPERATOR(@extschema@.=) b_clock
	                  THEN @extschema@.crdt_merge(a_seen, b_seen)
	                  WHEN merged OPERATOR(@extschema@.=) a_clock THEN a_seen
	                  WHEN merged OPERATOR(@extschema@.=) b_clock THEN b_seen
	                  ELSE '{}'::@extschema@.gset END $$;

-- A tombstone that arrives for a key that has one merges into it; one that
-- changes nothing is dropped (echoes end).
CREATE FUNCTION crdt_reconcile.tombstone_merge() RETURNS pg_catalog.trigger
	LANGUAGE plpgsql
	SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	merged @extschema@.vclock;
	seen @extschema@.gset;
BEGIN
	IF TG_OP = 'UPDATE' THEN
		-- a tombstone's key changes only here, when its table is renamed
		-- (each node renames its own table); from elsewhere only the clock
		-- and the acknowledgements merge
		IF pg_catalog.current_setting('session_replication_role') OPERATOR(pg_catalog.=) 'replica'
		   OR pg_catalog.pg_replication_origin_session_is_setup() THEN
			NEW.relation_name := OLD.relation_name;
			NEW.row_key := OLD.row_key;
		END IF;
		merged := @extschema@.crdt_merge(OLD.clock, NEW.clock);
		NEW.seen_by := crdt_reconcile.tombstone_seen_by(merged, OLD.clock, OLD.seen_by, NEW.clock, NEW.seen_by);
		NEW.clock := merged;
		RETURN CASE WHEN NEW.clock OPERATOR(@extschema@.=) OLD.clock AND NEW.relation_name = OLD.relation_name
		                 AND NEW.row_key OPERATOR(pg_catalog.=) OLD.row_key
		                 AND NEW.seen_by OPERATOR(@extschema@.=) OLD.seen_by THEN NULL ELSE NEW END;
	END IF;
	SELECT m.clock, crdt_reconcile.tombstone_seen_by(m.clock, t.clock, t.seen_by, NEW.clock, NEW.seen_by)
	INTO merged, seen FROM crdt_reconcile.tombstones t
	CROSS JOIN LATERAL (SELECT @extschema@.crdt_merge(t.clock, NEW.clock) AS clock) m
	WHERE t.relation_name = NEW.relation_name AND t.row_key = NEW.row_key;
	IF NOT FOUND THEN
		RETURN NEW;
	END IF;
	UPDATE crdt_reconcile.tombstones t SET clock = merged, seen_by = seen, origin = NEW.origin
	WHERE t.relation_name = NEW.relation_name AND t.row_key = NEW.row_key;
	IF crdt_reconcile.tombstone_arrived() THEN
		PERFORM crdt_reconcile.apply_tombstone(NEW.relation_name, NEW.row_key, merged);
	END IF;
	RETURN NULL;
END
$$;
CREATE TRIGGER tombstone_merge BEFORE INSERT OR UPDATE ON crdt_reconcile.tombstones
	FOR EACH ROW EXECUTE FUNCTION crdt_reconcile.tombstone_merge();
ALTER TABLE crdt_reconcile.tombstones ENABLE ALWAYS TRIGGER tombstone_merge;

-- A tombstone (new or grown) that arrived from another node removes the
-- local row it covers.
CREATE FUNCTION crdt_reconcile.tombstone_apply() RETURNS pg_catalog.trigger
	LANGUAGE plpgsql
	SET search_path = pg_catalog, pg_temp
	AS $$
BEGIN
	IF crdt_reconcile.tombstone_arrived() THEN
		PERFORM crdt_reconcile.apply_tombstone(NEW.relation_name, NEW.row_key, NEW.clock);
	END IF;
	RETURN NULL;
END
$$;
CREATE TRIGGER tombstone_apply AFTER INSERT OR UPDATE ON crdt_reconcile.tombstones
	FOR EACH ROW EXECUTE FUNCTION crdt_reconcile.tombstone_apply();
ALTER TABLE crdt_reconcile.tombstones ENABLE ALWAYS TRIGGER tombstone_apply;

-- Tombstones older than a given age, whatever the mesh has seen: for a
-- node that will never come back (collect_tombstones, which removes them
-- once it is safe, waits for every node).  A node that comes back later
-- with the row would bring it back.  As with the audit, only admins purge.
CREATE FUNCTION crdt_reconcile.purge_tombstones(older_than pg_catalog.interval) RETURNS pg_catalog.int8
	LANGUAGE sql
	SET search_path = pg_catalog, pg_temp
	AS $$
	WITH gone AS (
		DELETE FROM crdt_reconcile.tombstones t WHERE t.deleted_at < pg_catalog.now() - older_than RETURNING 1)
	SELECT pg_catalog.count(*) FROM gone
$$;
REVOKE ALL ON FUNCTION crdt_reconcile.purge_tombstones(pg_catalog.interval) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION crdt_reconcile.purge_tombstones(pg_catalog.interval) TO crdt_reconcile_admin;
GRANT DELETE ON crdt_reconcile.tombstones TO crdt_reconcile_admin;
CREATE POLICY tombstones_purge ON crdt_reconcile.tombstones FOR DELETE
	USING (pg_catalog.pg_has_role('crdt_reconcile_admin', 'MEMBER'));
