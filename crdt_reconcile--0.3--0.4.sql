/* crdt_reconcile--0.3--0.4.sql — the trust boundary of tracked tables and
 * multi-node correctness.
 */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION crdt_reconcile UPDATE TO '0.4'" to load this file. \quit

-- ------------------------------------------------------------ registers

-- A write at an explicit time has its own name: crdt_set(r, $1, $2) with
-- untyped parameters could silently mean either form.
DROP FUNCTION @extschema@.crdt_set(@extschema@.lwwreg, pg_catalog.jsonb, pg_catalog.timestamptz, pg_catalog.text);
CREATE FUNCTION @extschema@.crdt_set_at(r @extschema@.lwwreg, value pg_catalog.jsonb,
		at pg_catalog.timestamptz, replica pg_catalog.text DEFAULT NULL)
	RETURNS @extschema@.lwwreg
	AS 'MODULE_PATHNAME', 'lwwreg_set_at' LANGUAGE C STABLE PARALLEL SAFE;

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

-- The invariant's names resolve in this path, recorded by track(); the
-- trigger reads every setting from this table, never from its arguments.
ALTER TABLE crdt_reconcile.tracked ADD COLUMN invariant_search_path pg_catalog.text;
-- 0.3 kept the path in the trigger's 7th argument
UPDATE crdt_reconcile.tracked t
SET invariant_search_path = (
	SELECT pg_catalog.convert_from(pg_catalog.decode(
	           (pg_catalog.string_to_array(pg_catalog.encode(g.tgargs, 'escape'), '\000'))[7], 'escape'), 'UTF8')
	FROM pg_trigger g
	WHERE g.tgrelid = t.relation AND g.tgname = 'crdt_reconcile_track' AND g.tgnargs = 8)
WHERE t.invariant IS NOT NULL;
-- 0.3 could keep the row of a dropped table
DELETE FROM crdt_reconcile.tracked t WHERE NOT EXISTS (SELECT FROM pg_class c WHERE c.oid = t.relation);
-- The table's schema-qualified name, the same on every node: tombstones
-- (which replicate) name their table by it.  Kept current on rename.
ALTER TABLE crdt_reconcile.tracked ADD COLUMN relation_name pg_catalog.text;
UPDATE crdt_reconcile.tracked t SET relation_name = (
	SELECT pg_catalog.format('%I.%I', n.nspname, c.relname) FROM pg_class c
	JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = t.relation);

-- A table's settings (its invariant among them) are shown to those who
-- may read the table.
CREATE FUNCTION crdt_reconcile.may_see_table(rel pg_catalog.oid) RETURNS pg_catalog.bool
	LANGUAGE sql STABLE
	SET search_path = pg_catalog, pg_temp
	AS $$ SELECT pg_catalog.pg_has_role('crdt_reconcile_admin', 'MEMBER')
	             OR coalesce(pg_catalog.has_any_column_privilege(rel, 'SELECT'), false)
	             OR crdt_reconcile.owns(rel) $$;
DROP POLICY tracked_read ON crdt_reconcile.tracked;
CREATE POLICY tracked_read ON crdt_reconcile.tracked FOR SELECT USING (crdt_reconcile.may_see_table(relation));

-- Settings change only through untrack() and track() (an owner may still
-- insert or delete its own tables' rows; the trigger checks every setting
-- against the catalog anyway).
DROP POLICY tracked_owner ON crdt_reconcile.tracked;
CREATE POLICY tracked_insert ON crdt_reconcile.tracked FOR INSERT
	WITH CHECK (crdt_reconcile.owns(relation));
CREATE POLICY tracked_delete ON crdt_reconcile.tracked FOR DELETE
	USING (crdt_reconcile.owns(relation));
REVOKE UPDATE ON crdt_reconcile.tracked FROM PUBLIC;

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
		  AND t.typname IN ('vclock', 'gcounter', 'pncounter', 'gset', 'twopset', 'orset', 'lwwreg', 'mvreg'));
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

DROP FUNCTION crdt_reconcile.track(pg_catalog.regclass, pg_catalog.text, pg_catalog.name, pg_catalog.name,
	pg_catalog.name, pg_catalog.text, pg_catalog.bool, pg_catalog.bool);
DROP FUNCTION crdt_reconcile.track_in_path(pg_catalog.regclass, pg_catalog.text, pg_catalog.name,
	pg_catalog.name, pg_catalog.name, pg_catalog.text, pg_catalog.bool, pg_catalog.bool, pg_catalog.text);

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

-- Tables tracked by 0.3 get the 0.4 triggers (DELETE and TRUNCATE too).
DO $upgrade$
DECLARE
	rel pg_catalog.regclass;
BEGIN
	FOR rel IN SELECT t.relation FROM crdt_reconcile.tracked t LOOP
		EXECUTE pg_catalog.format('DROP TRIGGER IF EXISTS crdt_reconcile_track ON %s', rel);
		PERFORM crdt_reconcile.create_tracking_triggers(rel);
	END LOOP;
END
$upgrade$;

-- track() hands the caller's effective search_path (which resolves the
-- invariant's names) to the worker below, whose own search_path is pinned.
-- Both run as the caller, who must own the table.
CREATE FUNCTION crdt_reconcile.track_in_path(
		rel pg_catalog.regclass, shape pg_catalog.text, clock_column pg_catalog.name,
		writer_column pg_catalog.name, replica_column pg_catalog.name, invariant pg_catalog.text,
		log_merges pg_catalog.bool, record_stale pg_catalog.bool, path pg_catalog.name[])
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
		record_stale pg_catalog.bool DEFAULT true)
	RETURNS crdt_reconcile.tracked
	LANGUAGE sql
	AS $$ SELECT crdt_reconcile.track_in_path(rel, shape, clock_column, writer_column, replica_column,
	                                          invariant, log_merges, record_stale,
	                                          pg_catalog.current_schemas(false)) $$;
COMMENT ON FUNCTION crdt_reconcile.track(pg_catalog.regclass, pg_catalog.text, pg_catalog.name,
	pg_catalog.name, pg_catalog.name, pg_catalog.text, pg_catalog.bool, pg_catalog.bool) IS
	'makes a table a tracked table: CRDT columns merge on every write, conflicts are recorded';

DROP FUNCTION crdt_reconcile.untrack(pg_catalog.regclass);
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

-- ------------------------------------------------------------ conflict audit

-- A role sees a record only when it could read, in the table itself,
-- everything the record shows: the row (the table's row-level security
-- must let it see the row with that key), and the key, the column (every
-- column, for a record about the whole row) and the clock — each a column
-- it may SELECT.  Members of crdt_reconcile_admin see all.  Runs as the
-- reader, so the table's policies apply to it.
CREATE FUNCTION crdt_reconcile.may_read_conflict(rel pg_catalog.regclass, col pg_catalog.name,
		row_key pg_catalog.jsonb)
	RETURNS pg_catalog.bool
	LANGUAGE plpgsql STABLE
	SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	shown pg_catalog.name[];
	visible pg_catalog.bool;
BEGIN
	IF pg_catalog.pg_has_role('crdt_reconcile_admin', 'MEMBER') THEN
		RETURN true;
	END IF;
	IF NOT EXISTS (SELECT FROM pg_class c WHERE c.oid = rel) THEN
		RETURN false;			-- the table is gone: admins only
	END IF;
	shown := ARRAY(SELECT pg_catalog.jsonb_object_keys(row_key))::pg_catalog.name[]
		|| (SELECT t.clock_column FROM crdt_reconcile.tracked t WHERE t.relation = rel);
	IF col IS NULL THEN
		shown := shown || ARRAY(SELECT a.attname FROM pg_attribute a
		                         WHERE a.attrelid = rel AND a.attnum > 0 AND NOT a.attisdropped);
	ELSE
		shown := shown || col;
	END IF;
	IF EXISTS (SELECT FROM pg_catalog.unnest(shown) AS s(name)
	           LEFT JOIN pg_attribute a ON a.attrelid = rel AND a.attname = s.name AND a.attnum > 0 AND NOT a.attisdropped
	           WHERE s.name IS NOT NULL
	             AND NOT coalesce(pg_catalog.has_column_privilege(rel, a.attnum, 'SELECT'), false)) THEN
		RETURN false;
	END IF;
	IF pg_catalog.row_security_active(rel) THEN
		EXECUTE pg_catalog.format(
			'SELECT EXISTS (SELECT FROM %s t, pg_catalog.jsonb_populate_record(NULL::%s, $1) k WHERE %s)',
			rel, rel, crdt_reconcile.key_match(rel, 't', 'k',
			                                    ARRAY(SELECT pg_catalog.jsonb_object_keys(row_key))::pg_catalog.name[]))
		INTO visible USING row_key;
		RETURN coalesce(visible, false);
	END IF;
	RETURN true;
END
$$;

-- Resolving also needs the right to write what the resolution writes.
CREATE FUNCTION crdt_reconcile.may_resolve_conflict(rel pg_catalog.regclass, col pg_catalog.name,
		row_key pg_catalog.jsonb)
	RETURNS pg_catalog.bool
	LANGUAGE sql STABLE
	SET search_path = pg_catalog, pg_temp
	AS $$
	SELECT crdt_reconcile.may_read_conflict(rel, col, row_key)
	   AND (pg_catalog.pg_has_role('crdt_reconcile_admin', 'MEMBER')
	        OR coalesce(pg_catalog.has_table_privilege(rel, 'UPDATE'), false)
	        OR (col IS NOT NULL AND coalesce((SELECT pg_catalog.has_column_privilege(rel, a.attnum, 'UPDATE')
	                                          FROM pg_attribute a WHERE a.attrelid = rel AND a.attname = col
	                                            AND a.attnum > 0 AND NOT a.attisdropped), false)))
$$;

DROP POLICY conflicts_read ON crdt_reconcile.conflicts;
DROP POLICY conflicts_resolve ON crdt_reconcile.conflicts;
DROP FUNCTION crdt_reconcile.may_see_conflicts_of(pg_catalog.regclass);
CREATE POLICY conflicts_read ON crdt_reconcile.conflicts FOR SELECT
	USING (crdt_reconcile.may_read_conflict(relation, column_name, row_key));
CREATE POLICY conflicts_resolve ON crdt_reconcile.conflicts FOR UPDATE
	USING (crdt_reconcile.may_resolve_conflict(relation, column_name, row_key))
	WITH CHECK (crdt_reconcile.may_resolve_conflict(relation, column_name, row_key));

-- an applied write looks up the open records of its row, to close those it settled
CREATE INDEX conflicts_open_row ON crdt_reconcile.conflicts (relation, row_key) WHERE status = 'open';

-- Who resolved and when is stamped here, so it cannot be forged.  The one
-- exception is the trigger closing a record that a replicated write
-- settled: it writes as the audit table's owner and names the origin.
DROP TRIGGER conflicts_stamp ON crdt_reconcile.conflicts;
DROP FUNCTION crdt_reconcile.conflicts_stamp();
CREATE FUNCTION crdt_reconcile.conflicts_stamp() RETURNS pg_catalog.trigger
	LANGUAGE plpgsql
	SET search_path = pg_catalog, pg_temp
	AS $$
BEGIN
	IF NEW.status IS DISTINCT FROM OLD.status OR NEW.resolved_value IS DISTINCT FROM OLD.resolved_value
	   OR NEW.resolution IS DISTINCT FROM OLD.resolution THEN
		IF NEW.status = 'resolved' THEN
			NEW.resolved_at := pg_catalog.clock_timestamp();
			IF NEW.resolved_by IS NULL OR NEW.resolved_by IS NOT DISTINCT FROM OLD.resolved_by
			   OR CURRENT_USER OPERATOR(pg_catalog.<>) (SELECT pg_catalog.pg_get_userbyid(c.relowner)
			                                             FROM pg_class c WHERE c.oid = TG_RELID) THEN
				NEW.resolved_by := CURRENT_USER;
			END IF;
		ELSE
			NEW.resolved_at := NULL;
			NEW.resolved_by := NULL;
		END IF;
	ELSE
		NEW.resolved_at := OLD.resolved_at;
		NEW.resolved_by := OLD.resolved_by;
	END IF;
	RETURN NEW;
END
$$;
CREATE TRIGGER conflicts_stamp BEFORE UPDATE ON crdt_reconcile.conflicts
	FOR EACH ROW EXECUTE FUNCTION crdt_reconcile.conflicts_stamp();

-- The arbitrated value is written as an ordinary UPDATE under the
-- caller's rights; keys are matched with the primary key's own operators
-- (any key type, any search_path), a partitioned table through its root.
DROP FUNCTION crdt_reconcile.resolve(pg_catalog.int8, pg_catalog.text, pg_catalog.text);
DROP FUNCTION crdt_reconcile.resolve(pg_catalog.int8, pg_catalog.jsonb, pg_catalog.text);
CREATE FUNCTION crdt_reconcile.resolve(conflict_id pg_catalog.int8, value pg_catalog.jsonb,
		note pg_catalog.text DEFAULT NULL)
	RETURNS crdt_reconcile.conflicts
	LANGUAGE plpgsql
	SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	c crdt_reconcile.conflicts;
	t crdt_reconcile.tracked;
	targets pg_catalog.jsonb;
	assignments pg_catalog.text[] := '{}';
	col pg_catalog.text;
	col_value pg_catalog.jsonb;
	col_type pg_catalog.regtype;
	base pg_catalog.text;
	own_key pg_catalog.jsonb;
	written pg_catalog.int8;
BEGIN
	-- row-level security hides the conflicts the caller may not resolve
	SELECT * INTO c FROM crdt_reconcile.conflicts x WHERE x.id = conflict_id FOR UPDATE;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'conflict % does not exist or is not visible to you', conflict_id
			USING ERRCODE = 'no_data_found';
	END IF;
	IF c.status = 'resolved' THEN
		RAISE EXCEPTION 'conflict % is already resolved (by %)', conflict_id, c.resolved_by
			USING ERRCODE = 'object_not_in_prerequisite_state';
	END IF;
	IF value IS NULL THEN
		RAISE EXCEPTION 'the arbitrated value must not be NULL; pass ''keep'' to accept the automatic outcome'
			USING ERRCODE = 'null_value_not_allowed';
	END IF;
	SELECT * INTO t FROM crdt_reconcile.tracked x WHERE x.relation = c.relation;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'table % is no longer tracked', c.relation USING ERRCODE = 'object_not_in_prerequisite_state';
	END IF;
	IF @extschema@.crdt_replica_id() IS NULL THEN
		RAISE EXCEPTION 'resolving writes the value as this replica: crdt.replica_id is not set'
			USING ERRCODE = 'object_not_in_prerequisite_state',
			      HINT = 'SET crdt.replica_id = ''...'' (the name of this node), or set it for the role or database.';
	END IF;

	IF c.column_name IS NOT NULL THEN
		targets := pg_catalog.jsonb_build_object(c.column_name, value);
	ELSIF pg_catalog.jsonb_typeof(value) = 'object' THEN
		targets := value;
	ELSE
		RAISE EXCEPTION 'conflict % concerns the whole row: pass an object of column values', conflict_id
			USING ERRCODE = 'invalid_parameter_value';
	END IF;

	own_key := c.row_key;
	IF t.shape = 'replica_rows' THEN
		-- the arbitrated value is this replica's write to its own row
		own_key := own_key || pg_catalog.jsonb_build_object(t.replica_column, @extschema@.crdt_replica_id());
	END IF;

	FOR col, col_value IN SELECT * FROM pg_catalog.jsonb_each(targets) LOOP
		SELECT a.atttypid INTO col_type FROM pg_attribute a
		WHERE a.attrelid = c.relation AND a.attname = col AND a.attnum > 0 AND NOT a.attisdropped
		  AND a.attgenerated = '';
		IF col_type IS NULL OR col = ANY (t.key_columns) OR col = t.clock_column OR col = t.writer_column THEN
			RAISE EXCEPTION 'column "%" of % cannot be arbitrated', col, c.relation
				USING ERRCODE = 'invalid_parameter_value';
		END IF;
		base := pg_catalog.format('t.%I', col);
		IF t.shape = 'replica_rows' THEN
			-- start from the converged value of the key, so the write dominates every replica's
			base := pg_catalog.format(
				'(SELECT @extschema@.crdt_merge(r.%I) FROM %s r, pg_catalog.jsonb_populate_record(NULL::%s, %L) q WHERE %s)',
				col, c.relation, c.relation, c.row_key,
				crdt_reconcile.key_match(c.relation, 'r', 'q',
				                         ARRAY(SELECT pg_catalog.jsonb_object_keys(c.row_key))::pg_catalog.name[]));
		END IF;
		assignments := assignments || pg_catalog.format('%I = %s', col,
			crdt_reconcile.arbitrated_expression(col::pg_catalog.name,
				crdt_reconcile.base_type(col_type)::pg_catalog.regtype, base, col_value, c.relation));
	END LOOP;

	-- An ordinary UPDATE under the caller's rights: the trigger ticks the
	-- row clock and stamps the writer, so the value dominates both sides
	-- and replicates like any other write.
	EXECUTE pg_catalog.format('UPDATE %s t SET %s FROM pg_catalog.jsonb_populate_record(NULL::%s, %L) k WHERE %s',
		c.relation, pg_catalog.array_to_string(assignments, ', '), c.relation, own_key,
		crdt_reconcile.key_match(c.relation, 't', 'k', ARRAY(SELECT pg_catalog.jsonb_object_keys(own_key))::pg_catalog.name[]));
	GET DIAGNOSTICS written = ROW_COUNT;
	IF written = 0 AND t.shape = 'replica_rows' THEN
		EXECUTE pg_catalog.format('INSERT INTO %s (%s) SELECT %s FROM pg_catalog.jsonb_populate_record(NULL::%s, %L)',
			c.relation,
			(SELECT pg_catalog.string_agg(pg_catalog.format('%I', k), ', ') FROM pg_catalog.jsonb_object_keys(own_key) k),
			(SELECT pg_catalog.string_agg(pg_catalog.format('%I', k), ', ') FROM pg_catalog.jsonb_object_keys(own_key) k),
			c.relation, own_key);
		EXECUTE pg_catalog.format('UPDATE %s t SET %s FROM pg_catalog.jsonb_populate_record(NULL::%s, %L) k WHERE %s',
			c.relation, pg_catalog.array_to_string(assignments, ', '), c.relation, own_key,
			crdt_reconcile.key_match(c.relation, 't', 'k', ARRAY(SELECT pg_catalog.jsonb_object_keys(own_key))::pg_catalog.name[]));
		GET DIAGNOSTICS written = ROW_COUNT;
	END IF;
	IF written = 0 THEN
		RAISE EXCEPTION 'the row % of % no longer exists', c.row_key, c.relation
			USING ERRCODE = 'no_data_found';
	END IF;

	UPDATE crdt_reconcile.conflicts x
	SET status = 'resolved', resolution = 'arbitrated', resolved_value = value,
	    note = coalesce(resolve.note, x.note)
	WHERE x.id = conflict_id
	RETURNING x.* INTO c;
	RETURN c;
END
$$;
CREATE FUNCTION crdt_reconcile.resolve(conflict_id pg_catalog.int8, action pg_catalog.text,
		note pg_catalog.text DEFAULT NULL)
	RETURNS crdt_reconcile.conflicts
	LANGUAGE plpgsql
	SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	c crdt_reconcile.conflicts;
BEGIN
	IF action IS DISTINCT FROM 'keep' THEN
		-- anything else is the value itself, written as JSON
		RETURN crdt_reconcile.resolve(conflict_id, action::pg_catalog.jsonb, note);
	END IF;
	UPDATE crdt_reconcile.conflicts x
	SET status = 'resolved', note = coalesce(resolve.note, x.note)
	WHERE x.id = conflict_id AND x.status <> 'resolved'
	RETURNING x.* INTO c;
	IF NOT FOUND THEN
		IF EXISTS (SELECT FROM crdt_reconcile.conflicts x WHERE x.id = conflict_id) THEN
			RAISE EXCEPTION 'conflict % is already resolved', conflict_id
				USING ERRCODE = 'object_not_in_prerequisite_state';
		END IF;
		RAISE EXCEPTION 'conflict % does not exist or is not visible to you', conflict_id
			USING ERRCODE = 'no_data_found';
	END IF;
	RETURN c;
END
$$;
COMMENT ON FUNCTION crdt_reconcile.resolve(pg_catalog.int8, pg_catalog.text, pg_catalog.text) IS
	'''keep'' accepts the automatic outcome; any other text is a JSON value to arbitrate with';
COMMENT ON FUNCTION crdt_reconcile.resolve(pg_catalog.int8, pg_catalog.jsonb, pg_catalog.text) IS
	'writes the chosen value so that it dominates both sides, and marks the conflict resolved';

-- ------------------------------------------------------------ telemetry

-- merge_counters() itself shows only this database's relations that the
-- caller may read (admins: all, and the overflow row, relation NULL).
DROP VIEW crdt_reconcile.merge_stats;
CREATE VIEW crdt_reconcile.merge_stats AS
SELECT s.relation::pg_catalog.regclass AS relation, s.local_writes, s.merges_applied, s.inserts_merged,
       s.stale_skipped, s.echoes_skipped, s.conflicts_recorded
FROM crdt_reconcile.merge_counters() s;
GRANT SELECT ON crdt_reconcile.merge_stats TO PUBLIC;

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

-- A tombstone that arrives for a key that has one merges into it; one that
-- changes nothing is dropped (echoes end).
CREATE FUNCTION crdt_reconcile.tombstone_merge() RETURNS pg_catalog.trigger
	LANGUAGE plpgsql
	SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	merged @extschema@.vclock;
BEGIN
	IF TG_OP = 'UPDATE' THEN
		-- a tombstone's key changes only here, when its table is renamed
		-- (each node renames its own table); from elsewhere only the clock merges
		IF pg_catalog.current_setting('session_replication_role') OPERATOR(pg_catalog.=) 'replica'
		   OR pg_catalog.pg_replication_origin_session_is_setup() THEN
			NEW.relation_name := OLD.relation_name;
			NEW.row_key := OLD.row_key;
		END IF;
		NEW.clock := @extschema@.crdt_merge(OLD.clock, NEW.clock);
		RETURN CASE WHEN NEW.clock OPERATOR(@extschema@.=) OLD.clock AND NEW.relation_name = OLD.relation_name
		                 AND NEW.row_key OPERATOR(pg_catalog.=) OLD.row_key THEN NULL ELSE NEW END;
	END IF;
	SELECT @extschema@.crdt_merge(t.clock, NEW.clock) INTO merged FROM crdt_reconcile.tombstones t
	WHERE t.relation_name = NEW.relation_name AND t.row_key = NEW.row_key;
	IF NOT FOUND THEN
		RETURN NEW;
	END IF;
	UPDATE crdt_reconcile.tombstones t SET clock = merged, origin = NEW.origin
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

-- Tombstones are kept until deleted here: keep them longer than any node
-- can stay away (a node that comes back later with the row would bring it
-- back).  As with the audit, only admins purge.
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

-- an update that met a delete it had not seen: the delete wins, and it is recorded
ALTER TABLE crdt_reconcile.conflicts DROP CONSTRAINT conflicts_kind_check;
ALTER TABLE crdt_reconcile.conflicts ADD CONSTRAINT conflicts_kind_check
	CHECK (kind IN ('concurrent_update', 'stale_update', 'insert_exists', 'multi_value', 'invariant_violation',
	                'merge_logged', 'update_deleted'));

-- ------------------------------------------------------------ publications

-- The publication a node of a mesh needs: every tracked table (or those
-- given), replica-rows tables filtered to this replica's own rows, the
-- tombstones, no TRUNCATE (tracked tables refuse it), partitioned tables
-- through their root.  Run as a role that owns those tables (the
-- tombstones belong to the extension's owner): usually a superuser.
CREATE FUNCTION crdt_reconcile.create_publication(publication pg_catalog.name,
		tables pg_catalog.regclass[] DEFAULT NULL)
	RETURNS pg_catalog.text
	LANGUAGE plpgsql
	SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	me pg_catalog.text := @extschema@.crdt_replica_id();
	members pg_catalog.text;
	statement pg_catalog.text;
BEGIN
	IF EXISTS (SELECT FROM crdt_reconcile.tracked t WHERE t.shape = 'replica_rows'
	           AND (tables IS NULL OR t.relation = ANY (tables))) AND me IS NULL THEN
		RAISE EXCEPTION 'crdt.replica_id must be set: replica-rows tables publish this replica''s rows'
			USING ERRCODE = 'object_not_in_prerequisite_state';
	END IF;
	IF tables IS NOT NULL AND EXISTS (SELECT FROM pg_catalog.unnest(tables) r
	                                  WHERE NOT EXISTS (SELECT FROM crdt_reconcile.tracked t WHERE t.relation = r)) THEN
		RAISE EXCEPTION 'every table of a crdt_reconcile publication must be tracked'
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	SELECT pg_catalog.string_agg(CASE WHEN t.shape = 'replica_rows'
	                                  THEN pg_catalog.format('%s WHERE (%I = %L)', t.relation, t.replica_column, me)
	                                  ELSE t.relation::pg_catalog.text END, ', ' ORDER BY t.relation::pg_catalog.text)
	INTO members
	FROM crdt_reconcile.tracked t WHERE tables IS NULL OR t.relation = ANY (tables);
	statement := pg_catalog.format(
		'CREATE PUBLICATION %I FOR TABLE %s WITH (publish = ''insert, update, delete'', publish_via_partition_root = true)',
		publication, concat_ws(', ', members, 'crdt_reconcile.tombstones'));
	EXECUTE statement;
	RETURN statement;
END
$$;
COMMENT ON FUNCTION crdt_reconcile.create_publication(pg_catalog.name, pg_catalog.regclass[]) IS
	'creates the publication a mesh node needs: tracked tables (replica rows filtered to this replica), tombstones, no truncate';

-- On a publishing node: each publication of a tracked table, and what is
-- wrong with it for a mesh (NULL when nothing is).
CREATE VIEW crdt_reconcile.publication_status AS
SELECT p.pubname AS publication, t.relation, t.shape,
       p.pubtruncate AS publishes_truncate,
       EXISTS (SELECT FROM pg_catalog.pg_publication_tables x WHERE x.pubname = p.pubname
               AND x.schemaname = 'crdt_reconcile' AND x.tablename = 'tombstones') AS publishes_tombstones,
       pt.rowfilter,
       CASE WHEN p.pubtruncate THEN 'publishes TRUNCATE, which tracked tables refuse: the subscribers'' apply would stop (publish = ''insert, update, delete'')'
            WHEN NOT p.pubdelete THEN 'does not publish deletes'
            WHEN t.shape = 'merge_in_place' AND t.clock_column IS NOT NULL AND NOT EXISTS (
                 SELECT FROM pg_catalog.pg_publication_tables x WHERE x.pubname = p.pubname
                 AND x.schemaname = 'crdt_reconcile' AND x.tablename = 'tombstones')
            THEN 'does not publish crdt_reconcile.tombstones: deletes will not converge'
            WHEN t.shape = 'replica_rows' AND pt.rowfilter IS NULL
            THEN 'publishes every replica''s rows, not only this replica''s: in a mesh they travel in circles'
       END AS problem
FROM pg_catalog.pg_publication p
JOIN pg_catalog.pg_publication_tables pt ON pt.pubname = p.pubname
JOIN crdt_reconcile.tracked t
  ON t.relation OPERATOR(pg_catalog.=) pg_catalog.to_regclass(pg_catalog.format('%I.%I', pt.schemaname, pt.tablename));
GRANT SELECT ON crdt_reconcile.publication_status TO crdt_reconcile_admin;

-- ------------------------------------------------------------ arbitration of sets

-- One pass over the set and the wanted elements (C), instead of a
-- mutator call per element.
DROP FUNCTION crdt_reconcile.set_arbitrate(@extschema@.gset, pg_catalog.text[]);
DROP FUNCTION crdt_reconcile.set_arbitrate(@extschema@.twopset, pg_catalog.text[]);
DROP FUNCTION crdt_reconcile.set_arbitrate(@extschema@.orset, pg_catalog.text[]);
CREATE FUNCTION crdt_reconcile.set_arbitrate(s @extschema@.gset, wanted pg_catalog.text[])
	RETURNS @extschema@.gset AS 'MODULE_PATHNAME', 'crdt_set_arbitrate' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION crdt_reconcile.set_arbitrate(s @extschema@.twopset, wanted pg_catalog.text[])
	RETURNS @extschema@.twopset AS 'MODULE_PATHNAME', 'crdt_set_arbitrate' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION crdt_reconcile.set_arbitrate(s @extschema@.orset, wanted pg_catalog.text[],
		replica pg_catalog.text DEFAULT NULL)
	RETURNS @extschema@.orset AS 'MODULE_PATHNAME', 'crdt_set_arbitrate' LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION crdt_reconcile.set_arbitrate(@extschema@.orset, pg_catalog.text[], pg_catalog.text) IS
	'the set holding exactly the wanted elements, by the set''s own rules (used by resolve)';

-- ------------------------------------------------------------ anti-entropy (0.4)
--
-- A Merkle tree over the key hashes replaces 0.3's flat buckets.  Every row
-- has a key hash kh (row_hash of its primary-key columns) and a row hash rh
-- (row_hash of the whole row); so has every tombstone of the table (its
-- key's hash, and a hash of its key and clock), so that deletes are
-- compared and repaired along with the rows.  A node of the tree is a prefix of kh: at
-- depth `bits` (0 to 60) node n holds the rows whose kh, read as an unsigned
-- 64-bit number, starts with the `bits` bits of n; its digest is (rows,
-- XOR of rh), so it does not depend on row order.  repair() snapshots the
-- hashes on both nodes (a temporary table in each session, indexed on kh),
-- walks down from the root 4 bits (16 children) at a time, one round trip
-- per level, expanding only nodes whose digests differ, and fetches the rows
-- of the differing nodes that hold at most one of the peer's rows (or that
-- this node lacks entirely) — about the rows that differ.
--
-- Every function that prints or parses values pins the settings that change
-- a value's text (the SET clauses below); digests therefore do not depend on
-- the session, and rows cross dblink as text printed and parsed under the
-- same settings on both sides.

DROP FUNCTION crdt_reconcile.repair(pg_catalog.regclass, pg_catalog.text, pg_catalog.int4);
DROP FUNCTION crdt_reconcile.digest(pg_catalog.regclass, pg_catalog.int4);
DROP FUNCTION crdt_reconcile.key_expression(pg_catalog.regclass);

CREATE FUNCTION crdt_reconcile.row_hash(pg_catalog.record) RETURNS pg_catalog.int8
	AS 'MODULE_PATHNAME', 'crdt_row_hash' LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION crdt_reconcile.row_hash(pg_catalog.record) IS
	'XXH64 of the row''s columns in name order, each as name and output text; depends on the settings digest() pins';
CREATE FUNCTION crdt_reconcile.row_hash(pg_catalog.record, pg_catalog.name[]) RETURNS pg_catalog.int8
	AS 'MODULE_PATHNAME', 'crdt_row_hash' LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION crdt_reconcile.row_hash(pg_catalog.record, pg_catalog.name[]) IS
	'row_hash over the named columns only (a key)';

-- The primary-key columns of a table, in index order.
CREATE FUNCTION crdt_reconcile.key_columns(rel pg_catalog.regclass) RETURNS pg_catalog.name[]
	LANGUAGE plpgsql STABLE
	SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	keys pg_catalog.name[];
BEGIN
	SELECT pg_catalog.array_agg(a.attname ORDER BY k.n) INTO keys
	FROM pg_catalog.pg_index i
	CROSS JOIN LATERAL pg_catalog.unnest(i.indkey) WITH ORDINALITY AS k(attnum, n)
	JOIN pg_catalog.pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
	WHERE i.indrelid = rel AND i.indisprimary;
	IF keys IS NULL THEN
		RAISE EXCEPTION 'table % has no primary key', rel
			USING ERRCODE = 'invalid_table_definition',
			      HINT = 'Anti-entropy names rows by their primary key.';
	END IF;
	RETURN keys;
END
$$;

-- The node of key hash `kh` at depth `bits`, as SQL: the top bits of kh
-- read unsigned (arithmetic shift, then mask off the sign's copies).
CREATE FUNCTION crdt_reconcile.merkle_node_sql(kh pg_catalog.text, bits pg_catalog.int4) RETURNS pg_catalog.text
	LANGUAGE plpgsql IMMUTABLE
	SET search_path = pg_catalog, pg_temp
	AS $$
BEGIN
	IF bits IS NULL OR bits < 0 OR bits > 60 THEN
		RAISE EXCEPTION 'bits must be between 0 and 60, not %', coalesce(bits::pg_catalog.text, 'NULL')
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	IF bits = 0 THEN
		RETURN '0::pg_catalog.int8';
	END IF;
	RETURN pg_catalog.format('((%s OPERATOR(pg_catalog.>>) %s) OPERATOR(pg_catalog.&) %s::pg_catalog.int8)',
		kh, 64 - bits, ((1::pg_catalog.int8 << bits) - 1));
END
$$;

-- The Merkle tree's entries of a table, as SQL: (kh, rh, key1..keyN, tomb)
-- per row, and per tombstone of the table (tomb: its row_key; its key hash
-- is the one its row had).
CREATE FUNCTION crdt_reconcile.merkle_entries_sql(rel pg_catalog.regclass) RETURNS pg_catalog.text
	LANGUAGE plpgsql STABLE
	SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	keys pg_catalog.name[] := crdt_reconcile.key_columns(rel);
	row_keys pg_catalog.text;
	tomb_keys pg_catalog.text;
	key_defs pg_catalog.text;
	relation_name pg_catalog.text;
BEGIN
	SELECT pg_catalog.format('%I.%I', n.nspname, c.relname) INTO relation_name
	FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = rel;
	SELECT pg_catalog.string_agg(pg_catalog.format('t.%I AS key%s', u.k, u.i), ', ' ORDER BY u.i),
	       pg_catalog.string_agg(pg_catalog.format('x.%I AS key%s', u.k, u.i), ', ' ORDER BY u.i),
	       pg_catalog.string_agg(pg_catalog.format('%I %s', u.k, pg_catalog.format_type(a.atttypid, a.atttypmod)), ', '
	                             ORDER BY u.i)
	INTO row_keys, tomb_keys, key_defs
	FROM pg_catalog.unnest(keys) WITH ORDINALITY AS u(k, i)
	JOIN pg_catalog.pg_attribute a ON a.attrelid = rel AND a.attname = u.k;
	RETURN pg_catalog.format(
		'SELECT crdt_reconcile.row_hash(t.*, %1$L::pg_catalog.name[]) AS kh, crdt_reconcile.row_hash(t.*) AS rh, %2$s, '
		'       NULL::pg_catalog.jsonb AS tomb '
		'FROM %3$s t '
		'UNION ALL '
		'SELECT crdt_reconcile.row_hash(x.*, %1$L::pg_catalog.name[]), '
		'       crdt_reconcile.row_hash(ROW(''tombstone''::pg_catalog.text, d.row_key, d.clock)), %4$s, d.row_key '
		'FROM crdt_reconcile.tombstones d CROSS JOIN LATERAL pg_catalog.jsonb_to_record(d.row_key) AS x(%5$s) '
		'WHERE d.relation_name OPERATOR(pg_catalog.=) %6$L',
		keys, row_keys, rel, tomb_keys, key_defs, relation_name);
END
$$;

CREATE FUNCTION crdt_reconcile.digest(rel pg_catalog.regclass, bits pg_catalog.int4 DEFAULT 8,
		OUT bucket pg_catalog.int8, OUT rows pg_catalog.int8, OUT hash pg_catalog.int8)
	RETURNS SETOF record
	LANGUAGE plpgsql STABLE
	SET search_path = pg_catalog, pg_temp
	SET TimeZone = 'UTC' SET DateStyle = 'ISO, YMD' SET IntervalStyle = 'postgres'
	SET extra_float_digits = 1 SET bytea_output = 'hex' SET xmloption = 'content' SET xmlbinary = 'base64'
	SET lc_monetary = 'C' SET lc_numeric = 'C' SET lc_time = 'C'
	SET array_nulls = on SET quote_all_identifiers = off SET standard_conforming_strings = on
	AS $$
BEGIN
	RETURN QUERY EXECUTE pg_catalog.format(
		'SELECT %s, pg_catalog.count(*), pg_catalog.bit_xor(h.rh) FROM (%s) h GROUP BY 1 ORDER BY 1',
		crdt_reconcile.merkle_node_sql('h.kh', bits), crdt_reconcile.merkle_entries_sql(rel));
END
$$;
COMMENT ON FUNCTION crdt_reconcile.digest(pg_catalog.regclass, pg_catalog.int4) IS
	'Merkle digests at depth bits: per non-empty bucket (the top bits of the key hash) its rows and tombstones and the XOR of their hashes; equal data, equal digests';

-- This session's snapshot of a table's hashes (and keys), for the descent.
CREATE FUNCTION crdt_reconcile.merkle_snapshot(rel pg_catalog.regclass) RETURNS pg_catalog.int8
	LANGUAGE plpgsql
	SET search_path = pg_catalog, pg_temp
	SET TimeZone = 'UTC' SET DateStyle = 'ISO, YMD' SET IntervalStyle = 'postgres'
	SET extra_float_digits = 1 SET bytea_output = 'hex' SET xmloption = 'content' SET xmlbinary = 'base64'
	SET lc_monetary = 'C' SET lc_numeric = 'C' SET lc_time = 'C'
	SET array_nulls = on SET quote_all_identifiers = off SET standard_conforming_strings = on
	AS $$
DECLARE
	snap pg_catalog.text := 'crdt_reconcile_merkle_' || rel::pg_catalog.oid;
	n pg_catalog.int8;
BEGIN
	IF pg_catalog.to_regclass('pg_temp.' || snap) IS NOT NULL THEN
		EXECUTE pg_catalog.format('DROP TABLE pg_temp.%I', snap);
	END IF;
	EXECUTE pg_catalog.format('CREATE TEMPORARY TABLE %I AS %s ORDER BY 1', snap, crdt_reconcile.merkle_entries_sql(rel));
	EXECUTE pg_catalog.format('CREATE INDEX ON pg_temp.%I (kh)', snap);
	EXECUTE pg_catalog.format('ANALYZE pg_temp.%I', snap);
	EXECUTE pg_catalog.format('SELECT pg_catalog.count(*) FROM pg_temp.%I', snap) INTO n;
	RETURN n;
END
$$;
COMMENT ON FUNCTION crdt_reconcile.merkle_snapshot(pg_catalog.regclass) IS
	'anti-entropy: snapshots the hashes of the table''s rows and tombstones in a temporary table of this session; returns how many';

-- The name of this session's snapshot of rel (merkle_snapshot), or an error
-- when there is none.
CREATE FUNCTION crdt_reconcile.merkle_snapshot_of(rel pg_catalog.regclass) RETURNS pg_catalog.text
	LANGUAGE plpgsql STABLE
	SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	snap pg_catalog.text := 'crdt_reconcile_merkle_' || rel::pg_catalog.oid;
BEGIN
	IF pg_catalog.to_regclass('pg_temp.' || snap) IS NULL THEN
		RAISE EXCEPTION 'this session has no snapshot of %', rel
			USING ERRCODE = 'object_not_in_prerequisite_state', HINT = 'Call crdt_reconcile.merkle_snapshot first.';
	END IF;
	RETURN snap;
END
$$;

-- The rows of the snapshot under the given nodes at depth parent_bits, as
-- a condition on h.kh: an index range per node.  The callers put it in a
-- LATERAL subquery behind OFFSET 0, so that the plan is always one index
-- range scan per node (a join on the range as a filter would compare every
-- node with every row).
CREATE FUNCTION crdt_reconcile.merkle_range_sql(bits pg_catalog.text, node pg_catalog.text) RETURNS pg_catalog.text
	LANGUAGE sql IMMUTABLE
	SET search_path = pg_catalog, pg_temp
	AS $$
	SELECT pg_catalog.format(
		'h.kh BETWEEN (CASE WHEN %1$s OPERATOR(pg_catalog.=) 0 THEN -9223372036854775808 '
		'                   ELSE %2$s OPERATOR(pg_catalog.<<) (64 OPERATOR(pg_catalog.-) %1$s) END) '
		'AND (CASE WHEN %1$s OPERATOR(pg_catalog.=) 0 THEN 9223372036854775807 '
		'          ELSE (%2$s OPERATOR(pg_catalog.<<) (64 OPERATOR(pg_catalog.-) %1$s)) OPERATOR(pg_catalog.+) '
		'               ((1::pg_catalog.int8 OPERATOR(pg_catalog.<<) (64 OPERATOR(pg_catalog.-) %1$s)) OPERATOR(pg_catalog.-) 1) END)',
		bits, node)
$$;

CREATE FUNCTION crdt_reconcile.merkle_nodes(rel pg_catalog.regclass, parent_bits pg_catalog.int4,
		parents pg_catalog.int8[], bits pg_catalog.int4,
		OUT node pg_catalog.int8, OUT rows pg_catalog.int8, OUT hash pg_catalog.int8)
	RETURNS SETOF record
	LANGUAGE plpgsql STABLE
	SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	snap pg_catalog.text := crdt_reconcile.merkle_snapshot_of(rel);
BEGIN
	IF parent_bits IS NULL OR bits IS NULL OR parent_bits < 0 OR parent_bits > bits OR bits > 60 THEN
		RAISE EXCEPTION 'need 0 <= parent_bits <= bits <= 60'
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	RETURN QUERY EXECUTE pg_catalog.format(
		'SELECT %1$s, pg_catalog.count(*), pg_catalog.bit_xor(h.rh) '
		'FROM (SELECT DISTINCT p FROM pg_catalog.unnest($1) p '
		'      WHERE p BETWEEN 0 AND (1::pg_catalog.int8 << %2$s) - 1) AS p(node) '
		'CROSS JOIN LATERAL (SELECT h.kh, h.rh FROM pg_temp.%3$I h WHERE %4$s OFFSET 0) h GROUP BY 1',
		crdt_reconcile.merkle_node_sql('h.kh', bits), parent_bits, snap,
		crdt_reconcile.merkle_range_sql(parent_bits::pg_catalog.text, 'p.node'))
	USING parents;
END
$$;
COMMENT ON FUNCTION crdt_reconcile.merkle_nodes(pg_catalog.regclass, pg_catalog.int4, pg_catalog.int8[], pg_catalog.int4) IS
	'anti-entropy: from this session''s snapshot, the digests at depth bits under the given nodes at depth parent_bits';

-- The rows of the table whose keys the snapshot has under the given nodes
-- (bits[i], nodes[i]), each as the output text of the named columns,
-- printed under the pinned settings.  Looked up by primary key, one at a
-- time: the planner cannot tell how few keys a node range holds, and a
-- hash join would scan the whole table once per node.  (So, below, for the
-- tombstones.)
CREATE FUNCTION crdt_reconcile.merkle_rows(rel pg_catalog.regclass, columns pg_catalog.name[],
		bits pg_catalog.int4[], nodes pg_catalog.int8[])
	RETURNS SETOF pg_catalog.text[]
	LANGUAGE plpgsql STABLE
	SET search_path = pg_catalog, pg_temp
	SET enable_hashjoin = off SET enable_mergejoin = off
	SET TimeZone = 'UTC' SET DateStyle = 'ISO, YMD' SET IntervalStyle = 'postgres'
	SET extra_float_digits = 1 SET bytea_output = 'hex' SET xmloption = 'content' SET xmlbinary = 'base64'
	SET lc_monetary = 'C' SET lc_numeric = 'C' SET lc_time = 'C'
	SET array_nulls = on SET quote_all_identifiers = off SET standard_conforming_strings = on
	AS $$
DECLARE
	snap pg_catalog.text := crdt_reconcile.merkle_snapshot_of(rel);
	keys pg_catalog.name[] := crdt_reconcile.key_columns(rel);
BEGIN
	IF pg_catalog.cardinality(columns) = 0 OR pg_catalog.array_position(columns, NULL) IS NOT NULL THEN
		RAISE EXCEPTION 'columns must name at least one column and no NULL' USING ERRCODE = 'invalid_parameter_value';
	END IF;
	RETURN QUERY EXECUTE pg_catalog.format(
		'SELECT ARRAY[%1$s]::pg_catalog.text[] '
		'FROM (SELECT DISTINCT b, n FROM ROWS FROM (pg_catalog.unnest($1), pg_catalog.unnest($2)) AS x(b, n) '
		'      WHERE b BETWEEN 0 AND 60 AND n BETWEEN 0 AND (1::pg_catalog.int8 << b) - 1) AS l '
		'CROSS JOIN LATERAL (SELECT h.* FROM pg_temp.%2$I h WHERE %3$s AND h.tomb IS NULL OFFSET 0) h '
		'JOIN %4$s t ON %5$s',
		(SELECT pg_catalog.string_agg(pg_catalog.format(
			'CASE WHEN pg_catalog.num_nulls(t.%1$I) = 0 THEN pg_catalog.format(''%%s'', t.%1$I) END', c), ', ' ORDER BY i)
		 FROM pg_catalog.unnest(columns) WITH ORDINALITY AS u(c, i)),
		snap, crdt_reconcile.merkle_range_sql('l.b', 'l.n'), rel,
		(SELECT pg_catalog.string_agg(pg_catalog.format('t.%I OPERATOR(pg_catalog.=) h.key%s', k, i), ' AND ' ORDER BY i)
		 FROM pg_catalog.unnest(keys) WITH ORDINALITY AS u(k, i)))
	USING bits, nodes;
END
$$;
COMMENT ON FUNCTION crdt_reconcile.merkle_rows(pg_catalog.regclass, pg_catalog.name[], pg_catalog.int4[], pg_catalog.int8[]) IS
	'anti-entropy: the current rows under the given snapshot nodes, as the text of the named columns';

-- The tombstones of the table that the snapshot has under the given nodes,
-- as they are now: each as the text of its row_key and clock.
CREATE FUNCTION crdt_reconcile.merkle_tombstones(rel pg_catalog.regclass, bits pg_catalog.int4[], nodes pg_catalog.int8[])
	RETURNS SETOF pg_catalog.text[]
	LANGUAGE plpgsql STABLE
	SET search_path = pg_catalog, pg_temp
	SET enable_hashjoin = off SET enable_mergejoin = off
	AS $$
DECLARE
	snap pg_catalog.text := crdt_reconcile.merkle_snapshot_of(rel);
BEGIN
	RETURN QUERY EXECUTE pg_catalog.format(
		'SELECT ARRAY[d.row_key::pg_catalog.text, pg_catalog.format(''%%s'', d.clock)] '
		'FROM (SELECT DISTINCT b, n FROM ROWS FROM (pg_catalog.unnest($1), pg_catalog.unnest($2)) AS x(b, n) '
		'      WHERE b BETWEEN 0 AND 60 AND n BETWEEN 0 AND (1::pg_catalog.int8 << b) - 1) AS l '
		'CROSS JOIN LATERAL (SELECT h.tomb FROM pg_temp.%1$I h WHERE %2$s AND h.tomb IS NOT NULL OFFSET 0) h '
		'JOIN crdt_reconcile.tombstones d ON d.relation_name OPERATOR(pg_catalog.=) %3$L AND d.row_key OPERATOR(pg_catalog.=) h.tomb',
		snap, crdt_reconcile.merkle_range_sql('l.b', 'l.n'),
		(SELECT pg_catalog.format('%I.%I', n.nspname, c.relname)
		 FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = rel))
	USING bits, nodes;
END
$$;
COMMENT ON FUNCTION crdt_reconcile.merkle_tombstones(pg_catalog.regclass, pg_catalog.int4[], pg_catalog.int8[]) IS
	'anti-entropy: the current tombstones under the given snapshot nodes, as text (row_key, clock)';

-- ---- the repairing side

-- dblink's schema, or an error that says to install it.
CREATE FUNCTION crdt_reconcile.dblink_schema() RETURNS pg_catalog.text
	LANGUAGE plpgsql STABLE
	SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	s pg_catalog.text;
BEGIN
	SELECT n.nspname INTO s FROM pg_catalog.pg_extension e
	JOIN pg_catalog.pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'dblink';
	IF s IS NULL THEN
		RAISE EXCEPTION 'crdt_reconcile.repair needs the dblink extension'
			USING ERRCODE = 'undefined_function', HINT = 'CREATE EXTENSION dblink;';
	END IF;
	RETURN s;
END
$$;

-- Connects to the peer (dblink connection "crdt_reconcile_repair"),
-- snapshots both sides at once, walks down the tree and leaves the nodes to
-- fetch in pg_temp.crdt_reconcile_leaves, numbered in batches of about
-- batch_rows of the peer's rows.
CREATE FUNCTION crdt_reconcile.repair_start(rel pg_catalog.regclass, peer_conninfo pg_catalog.text,
		batch_rows pg_catalog.int4,
		OUT rows_here pg_catalog.int8, OUT rows_peer pg_catalog.int8, OUT levels pg_catalog.int4,
		OUT nodes_compared pg_catalog.int8, OUT nodes_differing pg_catalog.int8,
		OUT rows_to_fetch pg_catalog.int8, OUT batches pg_catalog.int4)
	LANGUAGE plpgsql
	SET search_path = pg_catalog, pg_temp
	SET TimeZone = 'UTC' SET DateStyle = 'ISO, YMD' SET IntervalStyle = 'postgres'
	SET extra_float_digits = 1 SET bytea_output = 'hex' SET xmloption = 'content' SET xmlbinary = 'base64'
	SET lc_monetary = 'C' SET lc_numeric = 'C' SET lc_time = 'C'
	SET array_nulls = on SET quote_all_identifiers = off SET standard_conforming_strings = on
	AS $$
DECLARE
	db pg_catalog.text := crdt_reconcile.dblink_schema();
	conn CONSTANT pg_catalog.text := 'crdt_reconcile_repair';
	remote_name pg_catalog.text;
	parent_bits pg_catalog.int4 := 0;
	depth pg_catalog.int4;
	frontier pg_catalog.int8[] := '{0}';
	compared pg_catalog.int8;
	differing pg_catalog.int8;
	connected pg_catalog.bool;
BEGIN
	IF NOT EXISTS (SELECT FROM crdt_reconcile.tracked t WHERE t.relation = rel) THEN
		RAISE EXCEPTION 'table % is not tracked', rel USING ERRCODE = 'invalid_parameter_value',
			HINT = 'repair merges through the tracked-table trigger; call crdt_reconcile.track first.';
	END IF;
	IF batch_rows IS NULL OR batch_rows < 1 THEN
		RAISE EXCEPTION 'batch_rows must be positive' USING ERRCODE = 'invalid_parameter_value';
	END IF;
	-- the same table on the peer, by its schema-qualified name
	SELECT pg_catalog.format('%I.%I', n.nspname, c.relname) INTO remote_name
	FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = rel;

	EXECUTE pg_catalog.format('SELECT %1$L OPERATOR(pg_catalog.=) ANY (%2$I.dblink_get_connections())', conn, db)
		INTO connected;
	IF connected THEN
		EXECUTE pg_catalog.format('SELECT %I.dblink_disconnect(%L)', db, conn);
	END IF;
	-- (the connection string, which may hold a password, is passed as a
	-- parameter so that it does not appear in the statement's text)
	EXECUTE pg_catalog.format('SELECT %I.dblink_connect($1, $2)', db) USING conn, peer_conninfo;

	-- both snapshots at once: the peer's runs while this one is taken
	EXECUTE pg_catalog.format('SELECT %I.dblink_send_query(%L, %L)', db, conn,
		pg_catalog.format('SELECT crdt_reconcile.merkle_snapshot(%L::pg_catalog.regclass)', remote_name));
	rows_here := crdt_reconcile.merkle_snapshot(rel);
	EXECUTE pg_catalog.format('SELECT r.n FROM %I.dblink_get_result(%L) AS r(n pg_catalog.int8)', db, conn)
		INTO rows_peer;
	EXECUTE pg_catalog.format('SELECT pg_catalog.count(*) FROM %I.dblink_get_result(%L) AS r(n pg_catalog.int8)', db, conn);

	IF pg_catalog.to_regclass('pg_temp.crdt_reconcile_leaves') IS NOT NULL THEN
		DROP TABLE pg_temp.crdt_reconcile_leaves;
	END IF;
	CREATE TEMPORARY TABLE crdt_reconcile_leaves (bits pg_catalog.int4, node pg_catalog.int8,
		local_rows pg_catalog.int8, remote_rows pg_catalog.int8, batch pg_catalog.int4);
	IF pg_catalog.to_regclass('pg_temp.crdt_reconcile_level') IS NOT NULL THEN
		DROP TABLE pg_temp.crdt_reconcile_level;
	END IF;
	CREATE TEMPORARY TABLE crdt_reconcile_level (node pg_catalog.int8, local_rows pg_catalog.int8,
		remote_rows pg_catalog.int8, differs pg_catalog.bool, leaf pg_catalog.bool);
	IF pg_catalog.to_regclass('pg_temp.crdt_reconcile_here') IS NOT NULL THEN
		DROP TABLE pg_temp.crdt_reconcile_here;
	END IF;
	CREATE TEMPORARY TABLE crdt_reconcile_here (node pg_catalog.int8, rows pg_catalog.int8, hash pg_catalog.int8);

	levels := 0;
	nodes_compared := 0;
	nodes_differing := 0;
	WHILE pg_catalog.cardinality(frontier) > 0 LOOP
		IF levels = 0 THEN
			-- The first level has 16 to 256 rows per node: the levels
			-- above it would differ everywhere once a few rows differ.
			depth := 4 * GREATEST(1, LEAST(14, pg_catalog.floor(pg_catalog.ln(
				GREATEST(rows_here, rows_peer, 16) / 16.0) / pg_catalog.ln(16.0))::pg_catalog.int4));
		ELSE
			depth := LEAST(parent_bits + 4, 60);
		END IF;
		levels := levels + 1;
		-- the peer computes its digests while this node computes its own
		EXECUTE pg_catalog.format('SELECT %I.dblink_send_query(%L, %L)', db, conn,
			pg_catalog.format('SELECT * FROM crdt_reconcile.merkle_nodes(%L::pg_catalog.regclass, %s, %L::pg_catalog.int8[], %s)',
				remote_name, parent_bits, frontier, depth));
		TRUNCATE pg_temp.crdt_reconcile_here;
		INSERT INTO pg_temp.crdt_reconcile_here
		SELECT * FROM crdt_reconcile.merkle_nodes(rel, parent_bits, frontier, depth);
		TRUNCATE pg_temp.crdt_reconcile_level;
		EXECUTE pg_catalog.format(
			'INSERT INTO pg_temp.crdt_reconcile_level '
			'SELECT coalesce(h.node, r.node), coalesce(h.rows, 0), coalesce(r.rows, 0), '
			'       h.hash IS DISTINCT FROM r.hash OR h.rows IS DISTINCT FROM r.rows, false '
			'FROM pg_temp.crdt_reconcile_here h '
			'FULL JOIN %I.dblink_get_result(%L) AS r(node pg_catalog.int8, rows pg_catalog.int8, hash pg_catalog.int8) '
			'ON r.node = h.node',
			db, conn);
		EXECUTE pg_catalog.format('SELECT pg_catalog.count(*) FROM %I.dblink_get_result(%L) '
			'AS r(node pg_catalog.int8, rows pg_catalog.int8, hash pg_catalog.int8)', db, conn);
		SELECT pg_catalog.count(*), pg_catalog.count(*) FILTER (WHERE l.differs)
		INTO compared, differing FROM pg_temp.crdt_reconcile_level l;
		nodes_compared := nodes_compared + compared;
		nodes_differing := nodes_differing + differing;
		-- A differing node is fetched whole when the peer has at most one
		-- row in it, when this node has none of its rows (all differ), or
		-- at the bottom; nodes where the peer has nothing are left alone
		-- (the rows only here reach the peer when it repairs from here).
		UPDATE pg_temp.crdt_reconcile_level l SET leaf = true
		WHERE l.differs AND l.remote_rows > 0
		  AND (l.remote_rows <= 1 OR (l.local_rows = 0 AND l.remote_rows <= batch_rows) OR depth >= 60);
		INSERT INTO pg_temp.crdt_reconcile_leaves (bits, node, local_rows, remote_rows)
		SELECT depth, l.node, l.local_rows, l.remote_rows FROM pg_temp.crdt_reconcile_level l WHERE l.leaf;
		frontier := ARRAY(SELECT l.node FROM pg_temp.crdt_reconcile_level l
		                  WHERE l.differs AND l.remote_rows > 0 AND NOT l.leaf ORDER BY l.node);
		RAISE DEBUG 'crdt_reconcile.repair of %: level % (depth % bits): % nodes compared, % differ, % to descend, at %',
			rel, levels, depth, compared, differing, pg_catalog.cardinality(frontier), pg_catalog.clock_timestamp();
		parent_bits := depth;
	END LOOP;
	DROP TABLE pg_temp.crdt_reconcile_level, pg_temp.crdt_reconcile_here;

	-- batches of about batch_rows of the peer's rows, in key-hash order
	UPDATE pg_temp.crdt_reconcile_leaves l SET batch = b.batch
	FROM (SELECT x.bits, x.node, pg_catalog.dense_rank() OVER (ORDER BY x.start / batch_rows)::pg_catalog.int4 AS batch
	      FROM (SELECT y.bits, y.node,
	                   (pg_catalog.sum(y.remote_rows) OVER (ORDER BY y.bits, y.node))::pg_catalog.int8 - y.remote_rows AS start
	            FROM pg_temp.crdt_reconcile_leaves y) x) b
	WHERE b.bits = l.bits AND b.node = l.node;
	SELECT coalesce(pg_catalog.sum(l.remote_rows), 0), coalesce(pg_catalog.max(l.batch), 0)
	INTO rows_to_fetch, batches FROM pg_temp.crdt_reconcile_leaves l;
END
$$;
COMMENT ON FUNCTION crdt_reconcile.repair_start(pg_catalog.regclass, pg_catalog.text, pg_catalog.int4) IS
	'anti-entropy, step 1: connects to the peer, snapshots both sides, descends the Merkle tree, plans the batches';

-- Fetches one batch of the planned nodes' tombstones and rows from the peer
-- and merges them in as replicated writes: tombstones into
-- crdt_reconcile.tombstones (which removes the rows here they cover); rows
-- whose key exists here through an UPDATE (the trigger merges, never
-- overwrites), the others through an INSERT (generated columns recomputed,
-- identity values kept).
CREATE FUNCTION crdt_reconcile.repair_batch(rel pg_catalog.regclass, batch pg_catalog.int4,
		OUT rows_fetched pg_catalog.int8, OUT rows_changed pg_catalog.int8, OUT tombstones_fetched pg_catalog.int8)
	LANGUAGE plpgsql
	SET search_path = pg_catalog, pg_temp
	SET session_replication_role = 'replica'
	SET TimeZone = 'UTC' SET DateStyle = 'ISO, YMD' SET IntervalStyle = 'postgres'
	SET extra_float_digits = 1 SET bytea_output = 'hex' SET xmloption = 'content' SET xmlbinary = 'base64'
	SET lc_monetary = 'C' SET lc_numeric = 'C' SET lc_time = 'C'
	SET array_nulls = on SET quote_all_identifiers = off SET standard_conforming_strings = on
	AS $$
DECLARE
	db pg_catalog.text := crdt_reconcile.dblink_schema();
	keys pg_catalog.name[] := crdt_reconcile.key_columns(rel);
	remote_name pg_catalog.text;
	bits pg_catalog.int4[];
	nodes pg_catalog.int8[];
	cols pg_catalog.name[];
	col_defs pg_catalog.text;
	set_cols pg_catalog.text;
	set_vals pg_catalog.text;
	key_match pg_catalog.text;
	overriding pg_catalog.text;
	update_cte pg_catalog.text;
	clock pg_catalog.name;
BEGIN
	IF pg_catalog.to_regclass('pg_temp.crdt_reconcile_leaves') IS NULL THEN
		RAISE EXCEPTION 'no repair is under way in this session'
			USING ERRCODE = 'object_not_in_prerequisite_state', HINT = 'Call crdt_reconcile.repair_start first.';
	END IF;
	SELECT pg_catalog.array_agg(l.bits ORDER BY l.bits, l.node), pg_catalog.array_agg(l.node ORDER BY l.bits, l.node)
	INTO bits, nodes FROM pg_temp.crdt_reconcile_leaves l WHERE l.batch = repair_batch.batch;
	rows_fetched := 0;
	rows_changed := 0;
	tombstones_fetched := 0;
	IF bits IS NULL THEN
		RETURN;
	END IF;
	SELECT pg_catalog.format('%I.%I', n.nspname, c.relname) INTO remote_name
	FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = rel;

	-- Tombstones first, as an apply worker would write them: merged into
	-- the one here, and removing the row here they cover.  (Written with
	-- the caller's rights: a role that may not write tombstones repairs
	-- rows only.)
	BEGIN
		EXECUTE pg_catalog.format(
			'WITH f AS MATERIALIZED (SELECT * FROM %1$I.dblink(%2$L, %3$L) AS r(row_key pg_catalog.jsonb, clock @extschema@.vclock)), '
			'     i AS (INSERT INTO crdt_reconcile.tombstones (relation_name, row_key, clock, origin) '
			'           SELECT %4$L, f.row_key, f.clock, %5$L FROM f RETURNING 1) '
			'SELECT pg_catalog.count(*) FROM f WHERE (SELECT pg_catalog.count(*) FROM i) IS NOT NULL',
			db, 'crdt_reconcile_repair',
			pg_catalog.format('SELECT v[1], v[2] FROM crdt_reconcile.merkle_tombstones(%L::pg_catalog.regclass, '
			                  '%L::pg_catalog.int4[], %L::pg_catalog.int8[]) v', remote_name, bits, nodes),
			remote_name, 'crdt_reconcile.repair')
		INTO tombstones_fetched;
		RAISE DEBUG 'crdt_reconcile.repair of %: batch %: % tombstones merged, at %',
			rel, batch, tombstones_fetched, pg_catalog.clock_timestamp();
	EXCEPTION WHEN insufficient_privilege THEN
		RAISE WARNING 'crdt_reconcile.repair of %: tombstones not repaired: %', rel, SQLERRM
			USING HINT = 'Writing crdt_reconcile.tombstones takes a superuser (or its owner); rows are repaired all the same.';
	END;

	-- every stored column but the generated ones (recomputed here)
	SELECT pg_catalog.array_agg(a.attname ORDER BY a.attnum),
	       pg_catalog.string_agg(pg_catalog.format('%I %s', a.attname, pg_catalog.format_type(a.atttypid, a.atttypmod)), ', '
	                             ORDER BY a.attnum),
	       pg_catalog.string_agg(pg_catalog.format('%I', a.attname), ', ' ORDER BY a.attnum)
	           FILTER (WHERE NOT a.attname = ANY (keys) AND a.attidentity <> 'a'),
	       pg_catalog.string_agg(pg_catalog.format('f.%I', a.attname), ', ' ORDER BY a.attnum)
	           FILTER (WHERE NOT a.attname = ANY (keys) AND a.attidentity <> 'a'),
	       CASE WHEN pg_catalog.bool_or(a.attidentity = 'a') THEN 'OVERRIDING SYSTEM VALUE' ELSE '' END
	INTO cols, col_defs, set_cols, set_vals, overriding
	FROM pg_catalog.pg_attribute a
	WHERE a.attrelid = rel AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = '';
	SELECT pg_catalog.string_agg(pg_catalog.format('t.%1$I OPERATOR(pg_catalog.=) f.%1$I', k), ' AND ')
	INTO key_match FROM pg_catalog.unnest(keys) k;
	-- rows here: an applied UPDATE, which the trigger merges (and skips
	-- when nothing changes, so RETURNING counts the rows changed).  A
	-- peer's row whose clock happened before this row's has nothing new:
	-- it is not written at all (as an applied write the trigger would
	-- record it as a stale update, though it only came along because the
	-- buckets differed).  Rows with equal clocks go through: they may still
	-- differ (written before the table was tracked), and the trigger
	-- merges them.
	SELECT t.clock_column INTO clock FROM crdt_reconcile.tracked t WHERE t.relation = rel;
	update_cte := CASE WHEN set_cols IS NULL THEN 'SELECT 1 WHERE false'
		ELSE pg_catalog.format('UPDATE %s t SET (%s) = ROW(%s) FROM f WHERE %s%s RETURNING 1',
			rel, set_cols, set_vals, key_match,
			CASE WHEN clock IS NOT NULL THEN pg_catalog.format(
				' AND NOT coalesce(f.%1$I, ''{}''::@extschema@.vclock) OPERATOR(@extschema@.<) coalesce(t.%1$I, ''{}''::@extschema@.vclock)',
				clock) ELSE '' END) END;

	EXECUTE pg_catalog.format(
		'WITH f AS MATERIALIZED (SELECT * FROM %1$I.dblink(%2$L, %3$L) AS r(%4$s)), '
		'     u AS (%5$s), '
		'     i AS (INSERT INTO %6$s AS t (%7$s) %8$s SELECT %9$s FROM f '
		'           WHERE NOT EXISTS (SELECT FROM %6$s t WHERE %10$s) RETURNING 1) '
		'SELECT (SELECT pg_catalog.count(*) FROM f), '
		'       (SELECT pg_catalog.count(*) FROM u) OPERATOR(pg_catalog.+) (SELECT pg_catalog.count(*) FROM i)',
		db, 'crdt_reconcile_repair',
		pg_catalog.format('SELECT %s FROM crdt_reconcile.merkle_rows(%L::pg_catalog.regclass, %L::pg_catalog.name[], '
		                  '%L::pg_catalog.int4[], %L::pg_catalog.int8[]) v',
			(SELECT pg_catalog.string_agg(pg_catalog.format('v[%s]', i), ', ' ORDER BY i)
			 FROM pg_catalog.generate_subscripts(cols, 1) i),
			remote_name, cols, bits, nodes),
		col_defs, update_cte, rel,
		(SELECT pg_catalog.string_agg(pg_catalog.format('%I', c), ', ') FROM pg_catalog.unnest(cols) c),
		overriding,
		(SELECT pg_catalog.string_agg(pg_catalog.format('f.%I', c), ', ') FROM pg_catalog.unnest(cols) c),
		key_match)
	INTO rows_fetched, rows_changed;
END
$$;
COMMENT ON FUNCTION crdt_reconcile.repair_batch(pg_catalog.regclass, pg_catalog.int4) IS
	'anti-entropy, step 2 (per batch): fetches the batch''s rows from the peer and merges them in as replicated writes';

-- Closes the connection to the peer and drops this session's repair tables.
CREATE FUNCTION crdt_reconcile.repair_finish(rel pg_catalog.regclass) RETURNS pg_catalog.void
	LANGUAGE plpgsql
	SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	db pg_catalog.text;
	connected pg_catalog.bool;
BEGIN
	SELECT n.nspname INTO db FROM pg_catalog.pg_extension e
	JOIN pg_catalog.pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'dblink';
	IF db IS NOT NULL THEN
		EXECUTE pg_catalog.format('SELECT %1$L OPERATOR(pg_catalog.=) ANY (%2$I.dblink_get_connections())',
			'crdt_reconcile_repair', db) INTO connected;
		IF connected THEN
			EXECUTE pg_catalog.format('SELECT %I.dblink_disconnect(%L)', db, 'crdt_reconcile_repair');
		END IF;
	END IF;
	IF pg_catalog.to_regclass('pg_temp.crdt_reconcile_leaves') IS NOT NULL THEN
		DROP TABLE pg_temp.crdt_reconcile_leaves;
	END IF;
	IF pg_catalog.to_regclass('pg_temp.crdt_reconcile_level') IS NOT NULL THEN
		DROP TABLE pg_temp.crdt_reconcile_level;
	END IF;
	IF pg_catalog.to_regclass('pg_temp.crdt_reconcile_here') IS NOT NULL THEN
		DROP TABLE pg_temp.crdt_reconcile_here;
	END IF;
	IF rel IS NOT NULL AND pg_catalog.to_regclass('pg_temp.crdt_reconcile_merkle_' || rel::pg_catalog.oid) IS NOT NULL THEN
		EXECUTE pg_catalog.format('DROP TABLE pg_temp.%I', 'crdt_reconcile_merkle_' || rel::pg_catalog.oid);
	END IF;
END
$$;
COMMENT ON FUNCTION crdt_reconcile.repair_finish(pg_catalog.regclass) IS
	'anti-entropy, step 3: disconnects from the peer and drops the session''s repair tables';

-- One transaction: works inside a caller's transaction, commits nothing
-- itself (see repair_in_batches for big repairs).
CREATE FUNCTION crdt_reconcile.repair(rel pg_catalog.regclass, peer_conninfo pg_catalog.text,
		batch_rows pg_catalog.int4 DEFAULT 10000,
		OUT rows_here pg_catalog.int8, OUT rows_peer pg_catalog.int8, OUT levels pg_catalog.int4,
		OUT nodes_compared pg_catalog.int8, OUT nodes_differing pg_catalog.int8,
		OUT rows_fetched pg_catalog.int8, OUT rows_changed pg_catalog.int8, OUT tombstones_fetched pg_catalog.int8,
		OUT batches pg_catalog.int4)
	LANGUAGE plpgsql
	SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	plan record;
	done record;
BEGIN
	BEGIN
		SELECT * INTO plan FROM crdt_reconcile.repair_start(rel, peer_conninfo, batch_rows);
		rows_fetched := 0;
		rows_changed := 0;
		tombstones_fetched := 0;
		FOR b IN 1 .. plan.batches LOOP
			SELECT * INTO done FROM crdt_reconcile.repair_batch(rel, b);
			rows_fetched := rows_fetched + done.rows_fetched;
			rows_changed := rows_changed + done.rows_changed;
			tombstones_fetched := tombstones_fetched + done.tombstones_fetched;
		END LOOP;
		PERFORM crdt_reconcile.repair_finish(rel);
	EXCEPTION WHEN OTHERS THEN
		PERFORM crdt_reconcile.repair_finish(rel);
		RAISE;
	END;
	rows_here := plan.rows_here;
	rows_peer := plan.rows_peer;
	levels := plan.levels;
	nodes_compared := plan.nodes_compared;
	nodes_differing := plan.nodes_differing;
	batches := plan.batches;
END
$$;
COMMENT ON FUNCTION crdt_reconcile.repair(pg_catalog.regclass, pg_catalog.text, pg_catalog.int4) IS
	'anti-entropy in one transaction: Merkle descent against the peer over dblink, fetches about the rows that differ and merges them in';

-- The same, committing after the descent and after every batch, so an
-- interrupted repair keeps what it merged.  CALL it outside a transaction
-- block.  A procedure that commits cannot pin settings with SET clauses, so
-- its body only calls the pinned functions above, every name and operator
-- qualified.  (Procedures return results through INOUT parameters; their
-- defaults let CALL omit them.)
CREATE PROCEDURE crdt_reconcile.repair_in_batches(rel pg_catalog.regclass, peer_conninfo pg_catalog.text,
		batch_rows pg_catalog.int4 DEFAULT 10000,
		INOUT rows_here pg_catalog.int8 DEFAULT NULL, INOUT rows_peer pg_catalog.int8 DEFAULT NULL,
		INOUT levels pg_catalog.int4 DEFAULT NULL, INOUT nodes_compared pg_catalog.int8 DEFAULT NULL,
		INOUT nodes_differing pg_catalog.int8 DEFAULT NULL, INOUT rows_fetched pg_catalog.int8 DEFAULT NULL,
		INOUT rows_changed pg_catalog.int8 DEFAULT NULL, INOUT tombstones_fetched pg_catalog.int8 DEFAULT NULL,
		INOUT batches pg_catalog.int4 DEFAULT NULL)
	LANGUAGE plpgsql
	AS $$
DECLARE
	plan record;
	done record;
BEGIN
	SELECT * INTO plan FROM crdt_reconcile.repair_start(rel, peer_conninfo, batch_rows);
	COMMIT;
	rows_fetched := 0;
	rows_changed := 0;
	tombstones_fetched := 0;
	FOR b IN 1 .. plan.batches LOOP
		SELECT * INTO done FROM crdt_reconcile.repair_batch(rel, b);
		rows_fetched := rows_fetched OPERATOR(pg_catalog.+) done.rows_fetched;
		rows_changed := rows_changed OPERATOR(pg_catalog.+) done.rows_changed;
		tombstones_fetched := tombstones_fetched OPERATOR(pg_catalog.+) done.tombstones_fetched;
		COMMIT;
	END LOOP;
	PERFORM crdt_reconcile.repair_finish(rel);
	rows_here := plan.rows_here;
	rows_peer := plan.rows_peer;
	levels := plan.levels;
	nodes_compared := plan.nodes_compared;
	nodes_differing := plan.nodes_differing;
	batches := plan.batches;
END
$$;
COMMENT ON PROCEDURE crdt_reconcile.repair_in_batches(pg_catalog.regclass, pg_catalog.text, pg_catalog.int4,
	pg_catalog.int8, pg_catalog.int8, pg_catalog.int4, pg_catalog.int8, pg_catalog.int8, pg_catalog.int8, pg_catalog.int8,
	pg_catalog.int8, pg_catalog.int4) IS
	'anti-entropy in batches: like repair(), committing after every batch of about batch_rows fetched rows';

REVOKE ALL ON FUNCTION crdt_reconcile.repair_start(pg_catalog.regclass, pg_catalog.text, pg_catalog.int4) FROM PUBLIC;
REVOKE ALL ON FUNCTION crdt_reconcile.repair_batch(pg_catalog.regclass, pg_catalog.int4) FROM PUBLIC;
REVOKE ALL ON FUNCTION crdt_reconcile.repair_finish(pg_catalog.regclass) FROM PUBLIC;
REVOKE ALL ON FUNCTION crdt_reconcile.repair(pg_catalog.regclass, pg_catalog.text, pg_catalog.int4) FROM PUBLIC;
REVOKE ALL ON PROCEDURE crdt_reconcile.repair_in_batches(pg_catalog.regclass, pg_catalog.text, pg_catalog.int4,
	pg_catalog.int8, pg_catalog.int8, pg_catalog.int4, pg_catalog.int8, pg_catalog.int8, pg_catalog.int8, pg_catalog.int8,
	pg_catalog.int8, pg_catalog.int4) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION crdt_reconcile.repair_start(pg_catalog.regclass, pg_catalog.text, pg_catalog.int4)
	TO crdt_reconcile_admin;
GRANT EXECUTE ON FUNCTION crdt_reconcile.repair_batch(pg_catalog.regclass, pg_catalog.int4) TO crdt_reconcile_admin;
GRANT EXECUTE ON FUNCTION crdt_reconcile.repair_finish(pg_catalog.regclass) TO crdt_reconcile_admin;
GRANT EXECUTE ON FUNCTION crdt_reconcile.repair(pg_catalog.regclass, pg_catalog.text, pg_catalog.int4)
	TO crdt_reconcile_admin;
GRANT EXECUTE ON PROCEDURE crdt_reconcile.repair_in_batches(pg_catalog.regclass, pg_catalog.text, pg_catalog.int4,
	pg_catalog.int8, pg_catalog.int8, pg_catalog.int4, pg_catalog.int8, pg_catalog.int8, pg_catalog.int8, pg_catalog.int8,
	pg_catalog.int8, pg_catalog.int4)
	TO crdt_reconcile_admin;
