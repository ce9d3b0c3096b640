-- ------------------------------------------------------------ management schema

DO $setup$
BEGIN
	IF NOT EXISTS (SELECT FROM pg_catalog.pg_namespace WHERE nspname = 'crdt_reconcile') THEN
		CREATE SCHEMA crdt_reconcile;
	ELSIF '@extschema@' <> 'crdt_reconcile' THEN
		RAISE EXCEPTION 'schema "crdt_reconcile" already exists'
			USING HINT = 'crdt_reconcile keeps its management objects in that schema; drop or rename it first.';
	END IF;
	-- Roles are cluster-wide: the role outlives the extension and is shared by databases.
	IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'crdt_reconcile_admin') THEN
		CREATE ROLE crdt_reconcile_admin NOLOGIN;
	END IF;
END
$setup$;

GRANT USAGE ON SCHEMA crdt_reconcile TO PUBLIC;
COMMENT ON SCHEMA crdt_reconcile IS 'crdt_reconcile: tracked tables, conflict audit, telemetry';

-- ------------------------------------------------------------ helpers

-- The type a domain (over domains ...) is based on; the type itself otherwise.
CREATE FUNCTION crdt_reconcile.base_type(typ pg_catalog.oid) RETURNS pg_catalog.oid
	LANGUAGE sql STABLE STRICT PARALLEL SAFE
	SET search_path = pg_catalog, pg_temp
	AS $$
	WITH RECURSIVE chain(oid, base, depth) AS (
		SELECT t.oid, t.typbasetype, 0 FROM pg_type t WHERE t.oid = typ
		UNION ALL
		SELECT t.oid, t.typbasetype, c.depth + 1 FROM chain c JOIN pg_type t ON t.oid = c.base
		WHERE c.base <> 0 AND c.depth < 64)
	SELECT c.oid FROM chain c ORDER BY c.depth DESC LIMIT 1
$$;

-- left.k1 OPERATOR(s.=) right.k1 AND ...: the primary key's own equality
-- operators, qualified, so the match works with any search_path and any
-- key type.  columns, when given, limits it to those key columns.
CREATE FUNCTION crdt_reconcile.key_match(rel pg_catalog.regclass, left_alias pg_catalog.text,
		right_alias pg_catalog.text, columns pg_catalog.name[] DEFAULT NULL)
	RETURNS pg_catalog.text
	LANGUAGE sql STABLE
	SET search_path = pg_catalog, pg_temp
	AS $$
	SELECT pg_catalog.string_agg(pg_catalog.format('%s.%I OPERATOR(%I.%s) %s.%I', left_alias, a.attname,
	                                               opn.nspname, op.oprname, right_alias, a.attname), ' AND ' ORDER BY k.n)
	FROM pg_index i
	CROSS JOIN LATERAL ROWS FROM (pg_catalog.unnest(i.indkey::pg_catalog.int2[]),
	                              pg_catalog.unnest(i.indclass::pg_catalog.oid[])) WITH ORDINALITY AS k(attnum, opclass, n)
	JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
	JOIN pg_opclass oc ON oc.oid = k.opclass
	JOIN pg_amop ao ON ao.amopfamily = oc.opcfamily AND ao.amoplefttype = oc.opcintype
	                AND ao.amoprighttype = oc.opcintype AND ao.amopstrategy = 3 AND ao.amopmethod = oc.opcmethod
	JOIN pg_operator op ON op.oid = ao.amopopr
	JOIN pg_namespace opn ON opn.oid = op.oprnamespace
	WHERE i.indrelid = rel AND i.indisprimary AND (columns IS NULL OR a.attname = ANY (columns))
$$;

-- Whether the current role owns rel (is a member of its owner).
CREATE FUNCTION crdt_reconcile.owns(rel pg_catalog.oid) RETURNS pg_catalog.bool
	LANGUAGE sql STABLE
	SET search_path = pg_catalog, pg_temp
	AS $$ SELECT coalesce((SELECT pg_catalog.pg_has_role(c.relowner, 'USAGE') FROM pg_class c WHERE c.oid = rel), false) $$;

-- ------------------------------------------------------------ tracked tables

-- One row per tracked table: the settings track() recorded, which the
-- trigger reads (it takes no arguments) and pg_dump carries along with the
-- trigger.  invariant_search_path: the path the invariant's names resolve
-- in, recorded by track().  relation_name: the table's schema-qualified
-- name, the same on every node (tombstones, which replicate, name their
-- table by it); kept current on rename.
CREATE TABLE crdt_reconcile.tracked (
	relation pg_catalog.regclass PRIMARY KEY,
	shape pg_catalog.text NOT NULL CHECK (shape IN ('merge_in_place', 'replica_rows')),
	key_columns pg_catalog.name[] NOT NULL,
	clock_column pg_catalog.name,
	writer_column pg_catalog.name,
	replica_column pg_catalog.name,
	invariant pg_catalog.text,
	log_merges pg_catalog.bool NOT NULL DEFAULT false,
	record_stale pg_catalog.bool NOT NULL DEFAULT true,
	tracked_at pg_catalog.timestamptz NOT NULL DEFAULT pg_catalog.now(),
	tracked_by pg_catalog.name NOT NULL DEFAULT CURRENT_USER,
	invariant_search_path pg_catalog.text,
	relation_name pg_catalog.text
);
SELECT pg_catalog.pg_extension_config_dump('crdt_reconcile.tracked', '');
ALTER TABLE crdt_reconcile.tracked ENABLE ROW LEVEL SECURITY;

-- A table's settings (its invariant among them) are shown to those who
-- may read the table.
CREATE FUNCTION crdt_reconcile.may_see_table(rel pg_catalog.oid) RETURNS pg_catalog.bool
	LANGUAGE sql STABLE
	SET search_path = pg_catalog, pg_temp
	AS $$ SELECT pg_catalog.pg_has_role('crdt_reconcile_admin', 'MEMBER')
	             OR coalesce(pg_catalog.has_any_column_privilege(rel, 'SELECT'), false)
	             OR crdt_reconcile.owns(rel) $$;
CREATE POLICY tracked_read ON crdt_reconcile.tracked FOR SELECT USING (crdt_reconcile.may_see_table(relation));

-- Settings change only through untrack() and track() (an owner may still
-- insert or delete its own tables' rows; the trigger checks every setting
-- against the catalog anyway).
CREATE POLICY tracked_insert ON crdt_reconcile.tracked FOR INSERT
	WITH CHECK (crdt_reconcile.owns(relation));
CREATE POLICY tracked_delete ON crdt_reconcile.tracked FOR DELETE
	USING (crdt_reconcile.owns(relation));
GRANT SELECT, INSERT, DELETE ON crdt_reconcile.tracked TO PUBLIC;

-- Why a tracking setting no longer fits its table (NULL when it does):
-- what the trigger would refuse, checked when the table changes.
CREATE FUNCTION crdt_reconcile.tracking_problem(rel pg_catalog.regclass, shape pg_catalog.text,
		key_columns pg_catalog.name[], clock_column pg_catalog.name, writer_column pg_catalog.name,
		replica_column pg_catalog.name)
	RETURNS pg_catalog.text
	LANGUAGE plpgsql STABLE
	SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	crdt_types pg_catalog.oid[] := ARRAY(SELECT t.oid FROM pg_type t
		WHERE t.typnamespace = '@extschema@'::pg_catalog.regnamespace
		  AND t.typname IN ('vclock', 'gcounter', 'pncounter', 'gset', 'twopset', 'orset', 'lwwreg', 'mvreg',
		                    'rtext', 'rlist', 'bcounter'));
	pkey pg_catalog.name[];
	col record;
	bad pg_catalog.name;
BEGIN
	SELECT pg_catalog.array_agg(a.attname ORDER BY k.n) INTO pkey
	FROM pg_index i
	CROSS JOIN LATERAL pg_catalog.unnest(i.indkey) WITH ORDINALITY AS k(attnum, n)
	JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
	WHERE i.indrelid = rel AND i.indisprimary;
	IF pkey IS NULL THEN
		RETURN 'it has no primary key (the key names the row a replicated write merges into)';
	END IF;
	IF key_columns IS NOT NULL AND pkey IS DISTINCT FROM key_columns THEN
		RETURN pg_catalog.format('its primary key (%s) is not the one it is tracked with (%s)',
			pg_catalog.array_to_string(pkey, ', '), pg_catalog.array_to_string(key_columns, ', '));
	END IF;
	FOR col IN
		SELECT c.name, c.role, c.wanted, a.attname, a.attgenerated, crdt_reconcile.base_type(a.atttypid) AS base
		FROM (VALUES (clock_column, 'clock', '@extschema@.vclock'::pg_catalog.regtype::pg_catalog.oid),
		             (writer_column, 'writer', '@extschema@.lwwreg'::pg_catalog.regtype::pg_catalog.oid),
		             (replica_column, 'replica', 'pg_catalog.text'::pg_catalog.regtype::pg_catalog.oid))
		     AS c(name, role, wanted)
		LEFT JOIN pg_attribute a ON a.attrelid = rel AND a.attname = c.name AND a.attnum > 0 AND NOT a.attisdropped
		WHERE c.name IS NOT NULL
	LOOP
		IF col.attname IS NULL THEN
			RETURN pg_catalog.format('its %s column "%s" does not exist', col.role, col.name);
		ELSIF col.attgenerated <> '' THEN
			RETURN pg_catalog.format('its %s column "%s" is generated', col.role, col.name);
		ELSIF col.base IS DISTINCT FROM col.wanted THEN
			RETURN pg_catalog.format('its %s column "%s" must have type %s', col.role, col.name,
				col.wanted::pg_catalog.regtype);
		END IF;
	END LOOP;
	IF writer_column IS NOT NULL AND clock_column IS NULL THEN
		RETURN 'a writer column needs a clock column';
	END IF;
	IF shape = 'replica_rows' AND (replica_column IS NULL OR NOT replica_column = ANY (pkey)) THEN
		RETURN 'a replica_rows table needs replica_column, a column of its primary key';
	ELSIF shape <> 'replica_rows' AND replica_column IS NOT NULL THEN
		RETURN 'replica_column applies only to shape replica_rows';
	END IF;
	-- plain (non-CRDT, non-key) columns written on several replicas are resolved by the writer tag
	IF shape = 'merge_in_place' AND clock_column IS NOT NULL AND writer_column IS NULL AND EXISTS (
			SELECT FROM pg_attribute a WHERE a.attrelid = rel AND a.attnum > 0 AND NOT a.attisdropped
			  AND a.attgenerated = '' AND NOT crdt_reconcile.base_type(a.atttypid) = ANY (crdt_types)
			  AND NOT a.attname = ANY (pkey)) THEN
		RETURN 'it has plain columns, so a clock column needs a writer column (an lwwreg column that resolves concurrent writes to them)';
	END IF;
	-- without a row clock, plain columns take the incoming value: in a mesh
	-- two nodes would hand their values back and forth for ever
	IF shape = 'merge_in_place' AND clock_column IS NULL AND EXISTS (
			SELECT FROM pg_attribute a WHERE a.attrelid = rel AND a.attnum > 0 AND NOT a.attisdropped
			  AND a.attgenerated = '' AND NOT crdt_reconcile.base_type(a.atttypid) = ANY (crdt_types)
			  AND NOT a.attname = ANY (pkey)) THEN
		RETURN 'it has plain columns but no row clock (written on several nodes, they would be handed back and forth for ever); give it a clock column and a writer column';
	END IF;
	-- a constraint a merge can break would stop replication: an applied
	-- write that violates it can never be applied
	SELECT k.conname INTO bad FROM pg_constraint k
	WHERE k.conrelid = rel AND k.contype IN ('u', 'x');
	IF bad IS NOT NULL THEN
		RETURN pg_catalog.format('its constraint "%s" can be broken by rows written concurrently on two nodes (an applied write that violates it would stop replication); only the primary key may be unique — drop the constraint or make it the primary key', bad);
	END IF;
	SELECT c.relname INTO bad FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
	WHERE i.indrelid = rel AND i.indisunique AND NOT i.indisprimary;
	IF bad IS NOT NULL THEN
		RETURN pg_catalog.format('its unique index "%s" can be broken by rows written concurrently on two nodes (an applied write that violates it would stop replication); only the primary key may be unique', bad);
	END IF;
	SELECT k.conname INTO bad FROM pg_constraint k
	WHERE k.conrelid = rel AND k.contype = 'c' AND (
		EXISTS (SELECT FROM pg_attribute a WHERE a.attrelid = rel AND a.attnum = ANY (k.conkey)
		        AND crdt_reconcile.base_type(a.atttypid) = ANY (crdt_types))
		OR (SELECT pg_catalog.count(*) FROM pg_attribute a WHERE a.attrelid = rel AND a.attnum = ANY (k.conkey)
		    AND NOT a.attname = ANY (pkey)) > 1);
	IF bad IS NOT NULL THEN
		RETURN pg_catalog.format('its check constraint "%s" can be broken by a merge (of a CRDT column, or of columns written by different nodes) and would then stop replication; express it as an invariant instead (track(..., invariant => ...)): a merge that breaks an invariant is recorded, never refused', bad);
	END IF;
	-- nothing re-checks a domain's constraint on a merged value
	SELECT a.attname INTO bad FROM pg_attribute a
	WHERE a.attrelid = rel AND a.attnum > 0 AND NOT a.attisdropped
	  AND crdt_reconcile.base_type(a.atttypid) = ANY (crdt_types) AND a.atttypid <> crdt_reconcile.base_type(a.atttypid)
	  AND EXISTS (SELECT FROM pg_constraint k WHERE k.contypid IN (
	          WITH RECURSIVE chain(oid) AS (SELECT a.atttypid UNION ALL
	              SELECT t.typbasetype FROM chain c JOIN pg_type t ON t.oid = c.oid WHERE t.typbasetype <> 0)
	          SELECT oid FROM chain))
	LIMIT 1;
	IF bad IS NOT NULL THEN
		RETURN pg_catalog.format('column "%s" has a domain with constraints, which a merge could break; express the rule as an invariant instead', bad);
	END IF;
	RETURN NULL;
END
$$;

-- ------------------------------------------------------------ the trigger

CREATE FUNCTION crdt_reconcile.track_trigger() RETURNS pg_catalog.trigger
	AS 'MODULE_PATHNAME', 'crdt_track_trigger' LANGUAGE C;
COMMENT ON FUNCTION crdt_reconcile.track_trigger() IS
	'merges CRDT columns on every write to a tracked table and records conflicts; created by track()';

-- TRUNCATE of a tracked table would be replicated and wipe, on every node,
-- rows written there after it — and in a mesh it comes back again and
-- again.  It is refused, also in apply workers (a node that let one through
-- must not start the loop elsewhere).
CREATE FUNCTION crdt_reconcile.refuse_truncate() RETURNS pg_catalog.trigger
	LANGUAGE plpgsql
	SET search_path = pg_catalog, pg_temp
	AS $$
BEGIN
	RAISE EXCEPTION 'TRUNCATE of tracked table %.% is refused', TG_TABLE_SCHEMA, TG_TABLE_NAME
		USING ERRCODE = 'feature_not_supported',
		      HINT = 'Delete the rows instead (deletes are tracked and converge on every node), or untrack the table first; publish tracked tables with publish = ''insert, update, delete''.';
END
$$;

-- The triggers of a tracked table: the merge trigger (BEFORE INSERT,
-- UPDATE and DELETE, row by row) and the TRUNCATE guard, both ENABLE
-- ALWAYS so that they fire in logical-replication apply workers too.
CREATE FUNCTION crdt_reconcile.create_tracking_triggers(rel pg_catalog.regclass) RETURNS pg_catalog.void
	LANGUAGE plpgsql
	SET search_path = pg_catalog, pg_temp
	AS $$
BEGIN
	EXECUTE pg_catalog.format(
		'CREATE TRIGGER crdt_reconcile_track BEFORE INSERT OR UPDATE OR DELETE ON %s FOR EACH ROW '
		'EXECUTE FUNCTION crdt_reconcile.track_trigger()', rel);
	EXECUTE pg_catalog.format(
		'CREATE TRIGGER crdt_reconcile_truncate BEFORE TRUNCATE ON %s FOR EACH STATEMENT '
		'EXECUTE FUNCTION crdt_reconcile.refuse_truncate()', rel);
	EXECUTE pg_catalog.format('ALTER TABLE %s ENABLE ALWAYS TRIGGER crdt_reconcile_track', rel);
	EXECUTE pg_catalog.format('ALTER TABLE %s ENABLE ALWAYS TRIGGER crdt_reconcile_truncate', rel);
END
$$;

-- track() hands the caller's effective search_path (which resolves the
-- invariant's names) to the worker below, whose own search_path is pinned.
-- Both run as the caller, who must own the table.
CREATE FUNCTION crdt_reconcile.track_in_path(
		rel pg_catalog.regclass, shape pg_catalog.text, clock_column pg_catalog.name,
		writer_column pg_catalog.name, replica_column pg_catalog.name, invariant pg_catalog.text,
		log_merges pg_catalog.bool, record_stale pg_catalog.bool, path pg_catalog.name[],
		history pg_catalog.bool DEFAULT false)
	RETURNS crdt_reconcile.tracked
	LANGUAGE plpgsql
	SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	keys pg_catalog.name[];
	problem pg_catalog.text;
	invariant_path pg_catalog.text;
	result crdt_reconcile.tracked;
BEGIN
	IF shape IS NULL OR shape NOT IN ('merge_in_place', 'replica_rows') THEN
		RAISE EXCEPTION 'shape must be ''merge_in_place'' or ''replica_rows'', not %', coalesce(shape, 'NULL')
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	IF (SELECT c.relkind FROM pg_class c WHERE c.oid = rel) NOT IN ('r', 'p') THEN
		RAISE EXCEPTION '% is not a table', rel USING ERRCODE = 'wrong_object_type';
	END IF;
	IF NOT crdt_reconcile.owns(rel) THEN
		RAISE EXCEPTION 'must be owner of table % to track it', rel USING ERRCODE = 'insufficient_privilege';
	END IF;
	IF EXISTS (SELECT FROM crdt_reconcile.tracked t WHERE t.relation = rel) THEN
		RAISE EXCEPTION 'table % is already tracked', rel
			USING ERRCODE = 'duplicate_object', HINT = 'Call crdt_reconcile.untrack first to change its settings.';
	END IF;
	IF EXISTS (SELECT FROM pg_catalog.pg_partition_ancestors(rel) p JOIN crdt_reconcile.tracked t
	           ON t.relation OPERATOR(pg_catalog.=) p.relid WHERE p.relid <> rel) THEN
		RAISE EXCEPTION 'table % is a partition of a tracked table', rel
			USING ERRCODE = 'duplicate_object', HINT = 'Its partitioned table''s tracking covers it.';
	END IF;
	SELECT pg_catalog.array_agg(a.attname ORDER BY k.n) INTO keys
	FROM pg_index i
	CROSS JOIN LATERAL pg_catalog.unnest(i.indkey) WITH ORDINALITY AS k(attnum, n)
	JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
	WHERE i.indrelid = rel AND i.indisprimary;
	problem := crdt_reconcile.tracking_problem(rel, shape, keys, clock_column, writer_column, replica_column);
	IF problem LIKE 'it has plain columns, so a clock column needs a writer column%' THEN
		RAISE EXCEPTION 'table % cannot be tracked: %', rel, problem
			USING ERRCODE = 'invalid_parameter_value',
			      HINT = 'Add a column of type lwwreg (ALTER TABLE ... ADD COLUMN writer lwwreg) and pass writer_column => ''writer''.';
	ELSIF problem LIKE 'it has plain columns but no row clock%' THEN
		RAISE EXCEPTION 'table % cannot be tracked: %', rel, problem
			USING ERRCODE = 'invalid_parameter_value',
			      HINT = 'ALTER TABLE ... ADD COLUMN clk vclock, ADD COLUMN writer lwwreg; then track it with clock_column => ''clk'', writer_column => ''writer''.';
	ELSIF problem IS NOT NULL THEN
		RAISE EXCEPTION 'table % cannot be tracked: %', rel, problem
			USING ERRCODE = CASE WHEN keys IS NULL THEN 'invalid_table_definition' ELSE 'invalid_parameter_value' END;
	END IF;

	IF invariant IS NOT NULL THEN
		-- pg_catalog first, pg_temp last: a look-alike in a schema of the path
		-- or a temporary function can never stand in for a built-in
		invariant_path := pg_catalog.array_to_string(ARRAY['pg_catalog']
			|| ARRAY(SELECT pg_catalog.quote_ident(s) FROM pg_catalog.unnest(path) WITH ORDINALITY AS u(s, n)
			         WHERE s <> 'pg_catalog' AND s NOT LIKE 'pg\_temp%' ORDER BY n)
			|| ARRAY['pg_temp'], ', ');
		-- names resolve now, as the caller; the trigger prepares the check with the same path
		PERFORM pg_catalog.set_config('search_path', invariant_path, true);
		EXECUTE pg_catalog.format('SELECT (%s)::pg_catalog.bool FROM %s AS t LIMIT 0', invariant, rel);
		PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
	END IF;

	PERFORM crdt_reconcile.create_tracking_triggers(rel);

	INSERT INTO crdt_reconcile.tracked AS t (relation, shape, key_columns, clock_column, writer_column,
		replica_column, invariant, log_merges, record_stale, invariant_search_path, relation_name)
	VALUES (rel, shape, keys, clock_column, writer_column, replica_column, invariant,
		coalesce(log_merges, false), coalesce(record_stale, true), invariant_path,
		(SELECT pg_catalog.format('%I.%I', n.nspname, c.relname) FROM pg_class c
		 JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = rel))
	RETURNING t.* INTO result;
	IF history THEN
		PERFORM crdt_reconcile.set_history(rel, true);
	END IF;
	RETURN result;
END
$$;
CREATE FUNCTION crdt_reconcile.track(
		rel pg_catalog.regclass,
		shape pg_catalog.text DEFAULT 'merge_in_place',
		clock_column pg_catalog.name DEFAULT NULL,
		writer_column pg_catalog.name DEFAULT NULL,
		replica_column pg_catalog.name DEFAULT NULL,
		invariant pg_catalog.text DEFAULT NULL,
		log_merges pg_catalog.bool DEFAULT false,
		record_stale pg_catalog.bool DEFAULT true,
		history pg_catalog.bool DEFAULT false)
	RETURNS crdt_reconcile.tracked
	LANGUAGE sql
	AS $$ SELECT crdt_reconcile.track_in_path(rel, shape, clock_column, writer_column, replica_column,
	                                          invariant, log_merges, record_stale,
	                                          pg_catalog.current_schemas(false), history) $$;
COMMENT ON FUNCTION crdt_reconcile.track(pg_catalog.regclass, pg_catalog.text, pg_catalog.name,
	pg_catalog.name, pg_catalog.name, pg_catalog.text, pg_catalog.bool, pg_catalog.bool, pg_catalog.bool) IS
	'makes a table a tracked table: CRDT columns merge on every write, conflicts are recorded';

CREATE FUNCTION crdt_reconcile.untrack(rel pg_catalog.regclass) RETURNS pg_catalog.bool
	LANGUAGE plpgsql
	SET search_path = pg_catalog, pg_temp
	AS $$
BEGIN
	IF EXISTS (SELECT FROM pg_class c WHERE c.oid = rel) AND NOT crdt_reconcile.owns(rel) THEN
		RAISE EXCEPTION 'must be owner of table % to untrack it', rel USING ERRCODE = 'insufficient_privilege';
	END IF;
	IF NOT EXISTS (SELECT FROM crdt_reconcile.tracked t WHERE t.relation = rel) THEN
		RETURN false;			-- a dropped table's row went with it
	END IF;
	PERFORM crdt_reconcile.set_history(rel, false);
	-- dropping the trigger removes the settings row (the sql_drop event trigger)
	EXECUTE pg_catalog.format('DROP TRIGGER IF EXISTS crdt_reconcile_truncate ON %s', rel);
	EXECUTE pg_catalog.format('DROP TRIGGER IF EXISTS crdt_reconcile_track ON %s', rel);
	DELETE FROM crdt_reconcile.tracked t WHERE t.relation = rel;
	RETURN true;
END
$$;
COMMENT ON FUNCTION crdt_reconcile.untrack(pg_catalog.regclass) IS
	'stops tracking a table; its conflict records are kept';

-- ------------------------------------------------------------ DDL on tracked tables

CREATE FUNCTION crdt_reconcile.forget_merge_stats(rel pg_catalog.oid) RETURNS pg_catalog.void
	AS 'MODULE_PATHNAME', 'crdt_forget_merge_stats' LANGUAGE C STRICT VOLATILE;
REVOKE ALL ON FUNCTION crdt_reconcile.forget_merge_stats(pg_catalog.oid) FROM PUBLIC;

-- Follows a renamed column into the settings: a configured name that no
-- longer exists is replaced by the renamed column's new name.  Called by
-- the event trigger below only.
CREATE FUNCTION crdt_reconcile.follow_rename(rel pg_catalog.oid, attnum pg_catalog.int2) RETURNS pg_catalog.void
	LANGUAGE plpgsql
	SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	new_name pg_catalog.name;
	live pg_catalog.name[];
BEGIN
	SELECT a.attname INTO new_name FROM pg_attribute a
	WHERE a.attrelid = rel AND a.attnum = follow_rename.attnum AND NOT a.attisdropped;
	live := ARRAY(SELECT a.attname FROM pg_attribute a WHERE a.attrelid = rel AND a.attnum > 0 AND NOT a.attisdropped);
	IF new_name IS NULL THEN
		RETURN;
	END IF;
	UPDATE crdt_reconcile.tracked t SET
		clock_column = CASE WHEN t.clock_column IS NULL OR t.clock_column = ANY (live) THEN t.clock_column ELSE new_name END,
		writer_column = CASE WHEN t.writer_column IS NULL OR t.writer_column = ANY (live) THEN t.writer_column ELSE new_name END,
		replica_column = CASE WHEN t.replica_column IS NULL OR t.replica_column = ANY (live) THEN t.replica_column ELSE new_name END,
		key_columns = ARRAY(SELECT CASE WHEN k = ANY (live) THEN k ELSE new_name END
		                    FROM pg_catalog.unnest(t.key_columns) WITH ORDINALITY AS u(k, n) ORDER BY n)
	WHERE t.relation OPERATOR(pg_catalog.=) rel;
END
$$;
REVOKE ALL ON FUNCTION crdt_reconcile.follow_rename(pg_catalog.oid, pg_catalog.int2) FROM PUBLIC;

-- After ALTER TABLE (or ALTER DOMAIN): a tracked table must still fit its
-- settings, else the change is refused; renamed columns are followed; the
-- tracking trigger stays ENABLE ALWAYS (ENABLE TRIGGER ALL, as a data-only
-- restore runs it, would make it skip apply workers).  As the extension's
-- owner (the renaming role may not update crdt_reconcile.tracked): it
-- reads catalogs and runs no code a user wrote.
CREATE FUNCTION crdt_reconcile.on_ddl_command_end() RETURNS event_trigger
	LANGUAGE plpgsql SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	c record;
	t crdt_reconcile.tracked;
	affected pg_catalog.oid[] := '{}';
	problem pg_catalog.text;
	state pg_catalog.char;
	name pg_catalog.text;
BEGIN
	IF NOT EXISTS (SELECT FROM crdt_reconcile.tracked) THEN
		RETURN;
	END IF;
	FOR c IN SELECT * FROM pg_catalog.pg_event_trigger_ddl_commands() LOOP
		IF c.command_tag IN ('ALTER DOMAIN', 'ALTER SCHEMA') THEN
			affected := affected || ARRAY(SELECT x.relation::pg_catalog.oid FROM crdt_reconcile.tracked x);
		ELSIF c.command_tag = 'CREATE INDEX' THEN
			affected := affected || ARRAY(SELECT i.indrelid FROM pg_index i WHERE i.indexrelid = c.objid)
				|| ARRAY(SELECT p.relid::pg_catalog.oid FROM pg_index i
				         CROSS JOIN LATERAL pg_catalog.pg_partition_ancestors(i.indrelid) p WHERE i.indexrelid = c.objid);
		ELSIF c.command_tag = 'ALTER TABLE' AND c.classid = 'pg_catalog.pg_class'::pg_catalog.regclass THEN
			-- the table itself and, for a partition, the tables above it
			affected := affected || c.objid
				|| ARRAY(SELECT p.relid::pg_catalog.oid FROM pg_catalog.pg_partition_ancestors(c.objid) p);
			IF c.objsubid > 0 AND EXISTS (SELECT FROM crdt_reconcile.tracked x WHERE x.relation OPERATOR(pg_catalog.=) c.objid) THEN
				PERFORM crdt_reconcile.follow_rename(c.objid, c.objsubid::pg_catalog.int2);
			END IF;
		END IF;
	END LOOP;
	-- a renamed table (or schema): its tombstones follow the name
	FOR t IN SELECT * FROM crdt_reconcile.tracked x WHERE x.relation OPERATOR(pg_catalog.=) ANY (affected) LOOP
		name := (SELECT pg_catalog.format('%I.%I', n.nspname, k.relname) FROM pg_class k
		         JOIN pg_namespace n ON n.oid = k.relnamespace WHERE k.oid = t.relation);
		IF name IS DISTINCT FROM t.relation_name THEN
			UPDATE crdt_reconcile.tombstones b SET relation_name = name WHERE b.relation_name = t.relation_name;
			UPDATE crdt_reconcile.tracked x SET relation_name = name WHERE x.relation = t.relation;
		END IF;
	END LOOP;
	FOR t IN SELECT * FROM crdt_reconcile.tracked x WHERE x.relation OPERATOR(pg_catalog.=) ANY (affected) LOOP
		problem := crdt_reconcile.tracking_problem(t.relation, t.shape, t.key_columns, t.clock_column,
			t.writer_column, t.replica_column);
		IF problem IS NOT NULL THEN
			RAISE EXCEPTION 'cannot change tracked table %: %', t.relation, problem
				USING ERRCODE = 'invalid_table_definition',
				      HINT = 'Untrack it first (crdt_reconcile.untrack), change it, and track it again.';
		END IF;
		SELECT g.tgenabled INTO state FROM pg_trigger g
		WHERE g.tgrelid = t.relation AND g.tgname = 'crdt_reconcile_track';
		IF state IN ('O', 'R') THEN
			RAISE NOTICE 'the tracking trigger of % fires in apply workers too: set back to ENABLE ALWAYS', t.relation;
			EXECUTE pg_catalog.format('ALTER TABLE %s ENABLE ALWAYS TRIGGER crdt_reconcile_track', t.relation);
		ELSIF state = 'D' THEN
			RAISE WARNING 'tracking of % is suspended while its trigger crdt_reconcile_track is disabled', t.relation
				USING HINT = pg_catalog.format('ALTER TABLE %s ENABLE ALWAYS TRIGGER crdt_reconcile_track', t.relation);
		END IF;
	END LOOP;
END
$$;

-- DROP TABLE, or DROP TRIGGER crdt_reconcile_track: the settings row goes
-- (crdt_reconcile.tracked never names a table that is gone).  Dropping a
-- configured column (DROP TYPE ... CASCADE, say) is refused.  As the
-- extension's owner: the table's owner can no longer be looked up.
CREATE FUNCTION crdt_reconcile.on_sql_drop() RETURNS event_trigger
	LANGUAGE plpgsql SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	o record;
	gone pg_catalog.oid[];
	rel pg_catalog.oid;
	t crdt_reconcile.tracked;
BEGIN
	gone := ARRAY(SELECT d.objid FROM pg_catalog.pg_event_trigger_dropped_objects() d WHERE d.object_type = 'table');
	FOR o IN SELECT * FROM pg_catalog.pg_event_trigger_dropped_objects() LOOP
		rel := NULL;
		IF o.object_type = 'table' THEN
			rel := o.objid;
		ELSIF o.object_type = 'trigger' AND o.address_names[3] = 'crdt_reconcile_track' THEN
			rel := pg_catalog.to_regclass(pg_catalog.format('%I.%I', o.address_names[1], o.address_names[2]));
		ELSIF o.object_type = 'table column' AND NOT o.objid = ANY (gone) THEN
			SELECT * INTO t FROM crdt_reconcile.tracked x WHERE x.relation OPERATOR(pg_catalog.=) o.objid;
			IF FOUND AND (o.address_names[3] IN (t.clock_column, t.writer_column, t.replica_column)
			              OR o.address_names[3] = ANY (t.key_columns)) THEN
				RAISE EXCEPTION 'cannot drop column % of tracked table %: tracking uses it', o.address_names[3], t.relation
					USING ERRCODE = 'dependent_objects_still_exist',
					      HINT = 'Untrack the table first (crdt_reconcile.untrack).';
			END IF;
		END IF;
		IF rel IS NOT NULL THEN
			DELETE FROM crdt_reconcile.tracked x WHERE x.relation OPERATOR(pg_catalog.=) rel;
			IF FOUND THEN
				PERFORM crdt_reconcile.forget_merge_stats(rel);
			END IF;
		END IF;
	END LOOP;
END
$$;

CREATE EVENT TRIGGER crdt_reconcile_ddl ON ddl_command_end
	WHEN TAG IN ('ALTER TABLE', 'ALTER DOMAIN', 'ALTER SCHEMA', 'CREATE INDEX')
	EXECUTE FUNCTION crdt_reconcile.on_ddl_command_end();
CREATE EVENT TRIGGER crdt_reconcile_drop ON sql_drop
	EXECUTE FUNCTION crdt_reconcile.on_sql_drop();
