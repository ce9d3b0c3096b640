-- ------------------------------------------------------ replica retirement
-- docs/RETIREMENT.md: crdt_retire folds a retired replica into a marker
-- the value carries; the registry refuses its writes everywhere it has
-- replicated to; compact_replicas folds the tracked tables.

CREATE FUNCTION @extschema@.crdt_retire(value @extschema@.vclock, retired pg_catalog.text,
		successor pg_catalog.text) RETURNS @extschema@.vclock
	AS 'MODULE_PATHNAME', 'vclock_retire' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.crdt_retired_ids(value @extschema@.vclock) RETURNS pg_catalog.text[]
	AS 'MODULE_PATHNAME', 'vclock_retired_ids' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.crdt_retire(value @extschema@.gcounter, retired pg_catalog.text,
		successor pg_catalog.text) RETURNS @extschema@.gcounter
	AS 'MODULE_PATHNAME', 'gcounter_retire' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.crdt_retired_ids(value @extschema@.gcounter) RETURNS pg_catalog.text[]
	AS 'MODULE_PATHNAME', 'gcounter_retired_ids' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.crdt_retire(value @extschema@.pncounter, retired pg_catalog.text,
		successor pg_catalog.text) RETURNS @extschema@.pncounter
	AS 'MODULE_PATHNAME', 'pncounter_retire' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.crdt_retired_ids(value @extschema@.pncounter) RETURNS pg_catalog.text[]
	AS 'MODULE_PATHNAME', 'pncounter_retired_ids' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.crdt_retire(value @extschema@.orset, retired pg_catalog.text,
		successor pg_catalog.text) RETURNS @extschema@.orset
	AS 'MODULE_PATHNAME', 'orset_retire' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.crdt_retired_ids(value @extschema@.orset) RETURNS pg_catalog.text[]
	AS 'MODULE_PATHNAME', 'orset_retired_ids' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.crdt_retire(value @extschema@.mvreg, retired pg_catalog.text,
		successor pg_catalog.text) RETURNS @extschema@.mvreg
	AS 'MODULE_PATHNAME', 'mvreg_retire' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.crdt_retired_ids(value @extschema@.mvreg) RETURNS pg_catalog.text[]
	AS 'MODULE_PATHNAME', 'mvreg_retired_ids' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION @extschema@.crdt_retire(@extschema@.gcounter, pg_catalog.text, pg_catalog.text) IS
	'the value with the retired replica folded into a marker naming its successor: same value, merges without double counting';

-- The registry: one row per retired replica, replicated with the tracked
-- tables (create_publication adds it).  Duplicates from several nodes
-- merge: the smaller successor and the earlier time win, so every node
-- ends with the same row.
CREATE TABLE crdt_reconcile.retired_replicas (
	replica pg_catalog.text PRIMARY KEY,
	successor pg_catalog.text NOT NULL CHECK (successor OPERATOR(pg_catalog.<>) replica),
	retired_at pg_catalog.timestamptz NOT NULL DEFAULT pg_catalog.clock_timestamp(),
	origin pg_catalog.text
);
SELECT pg_catalog.pg_extension_config_dump('crdt_reconcile.retired_replicas', '');
COMMENT ON TABLE crdt_reconcile.retired_replicas IS
	'retired replica ids: writes for them fail (55000) wherever this row is; replicate it with the tracked tables';
GRANT SELECT ON crdt_reconcile.retired_replicas TO PUBLIC;

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
		RETURN CASE WHEN NEW.successor = OLD.successor AND NEW.retired_at = OLD.retired_at
		            THEN NULL ELSE NEW END;
	END IF;
	SELECT * INTO old_row FROM crdt_reconcile.retired_replicas r WHERE r.replica = NEW.replica;
	IF NOT FOUND THEN
		RETURN NEW;
	END IF;
	UPDATE crdt_reconcile.retired_replicas r SET successor = NEW.successor, retired_at = NEW.retired_at
	WHERE r.replica = NEW.replica;
	RETURN NULL;
END
$$;
CREATE TRIGGER retired_replica_merge BEFORE INSERT OR UPDATE ON crdt_reconcile.retired_replicas
	FOR EACH ROW EXECUTE FUNCTION crdt_reconcile.retired_replica_merge();
ALTER TABLE crdt_reconcile.retired_replicas ENABLE ALWAYS TRIGGER retired_replica_merge;

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

-- Folds every registered retired replica into a marker in the counter and
-- clock columns of the tracked tables the caller may update (with the
-- caller's rights: nothing runs with more).  A fold is an ordinary write:
-- it replicates, and merges with copies not yet folded without counting
-- anything twice.  orset and mvreg keep a retired replica's dots (see
-- docs/RETIREMENT.md), so nothing is folded there; nor in the row clocks
-- of tracked tables, which count the nodes' writes, not the agents'.
CREATE FUNCTION crdt_reconcile.compact_replicas()
	RETURNS TABLE (relation pg_catalog.regclass, column_name pg_catalog.name,
	               replica pg_catalog.text, rows_folded pg_catalog.int8)
	LANGUAGE plpgsql
	SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	c record;
	r record;
	n pg_catalog.int8;
BEGIN
	FOR c IN SELECT * FROM crdt_reconcile.retirable_columns() x
	         WHERE x.type_name IN ('vclock', 'gcounter', 'pncounter') AND NOT x.row_clock LOOP
		IF NOT pg_catalog.has_column_privilege(c.relation, c.column_name, 'UPDATE')
		   OR NOT pg_catalog.has_column_privilege(c.relation, c.column_name, 'SELECT') THEN
			RAISE NOTICE 'compact_replicas: skipping %.%: no SELECT and UPDATE privilege', c.relation, c.column_name;
			CONTINUE;
		END IF;
		FOR r IN SELECT * FROM crdt_reconcile.retired_replicas ORDER BY 1 LOOP
			EXECUTE pg_catalog.format(
				'UPDATE %1$s SET %2$I = @extschema@.crdt_retire(%2$I, $1, $2) '
				'WHERE $1 OPERATOR(pg_catalog.<>) ALL (@extschema@.crdt_retired_ids(%2$I)) '
				'AND EXISTS (SELECT FROM @extschema@.crdt_entries(%2$I) e WHERE e.replica OPERATOR(pg_catalog.=) $1)',
				c.relation, c.column_name) USING r.replica, r.successor;
			GET DIAGNOSTICS n = ROW_COUNT;
			IF n > 0 THEN
				relation := c.relation;
				column_name := c.column_name;
				replica := r.replica;
				rows_folded := n;
				RETURN NEXT;
			END IF;
		END LOOP;
	END LOOP;
END
$$;
COMMENT ON FUNCTION crdt_reconcile.compact_replicas() IS
	'folds every retired replica into markers in the tracked tables'' counter and clock columns the caller may update; returns what it folded';

-- Metadata size per tracked column the caller may read: live replica
-- entries (counters and clocks), retired ids still carried as markers,
-- bytes.
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
			'pg_catalog.count(*), %4$s, '
			'(SELECT pg_catalog.count(DISTINCT i) FROM %1$s, pg_catalog.unnest(@extschema@.crdt_retired_ids(%2$I)) i), '
			'pg_catalog.sum(pg_catalog.pg_column_size(%2$I))::pg_catalog.int8 FROM %1$s',
			c.relation, c.column_name, c.type_name,
			CASE WHEN c.type_name IN ('orset', 'mvreg') THEN 'NULL::pg_catalog.int8'
			     ELSE pg_catalog.format('(SELECT pg_catalog.count(*) FROM %1$s, @extschema@.crdt_entries(%2$I) e '
			                            'WHERE e.replica OPERATOR(pg_catalog.<>) ALL (@extschema@.crdt_retired_ids(%2$I)))',
			                            c.relation, c.column_name) END);
	END LOOP;
END
$$;
CREATE VIEW crdt_reconcile.replica_metadata AS SELECT * FROM crdt_reconcile.metadata_size();
COMMENT ON VIEW crdt_reconcile.replica_metadata IS
	'per tracked CRDT column: rows, live replica entries, retired ids still carried as markers, bytes';
GRANT SELECT ON crdt_reconcile.replica_metadata TO PUBLIC;
