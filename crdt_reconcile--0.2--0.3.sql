/* crdt_reconcile--0.2--0.3.sql — tracked tables: the merge trigger, the
 * conflict audit table, arbitration and reconciliation telemetry.
 *
 * Management objects live in the schema crdt_reconcile; the types stay in
 * the extension's schema (@extschema@).  Every reference is qualified, and
 * nothing the trigger runs depends on search_path (logical-replication
 * apply workers run with an empty one).
 */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION crdt_reconcile UPDATE TO '0.3'" to load this file. \quit

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

-- ------------------------------------------------------------ tracked tables

-- One row per tracked table.  The trigger reads its settings from its own
-- arguments (no lookup per row); this table is what people query, and
-- what pg_dump carries along with the trigger.
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
	tracked_by pg_catalog.name NOT NULL DEFAULT CURRENT_USER
);
SELECT pg_catalog.pg_extension_config_dump('crdt_reconcile.tracked', '');
ALTER TABLE crdt_reconcile.tracked ENABLE ROW LEVEL SECURITY;
-- Everyone may read the settings; only a table's owner changes its row
-- (track() and untrack() run as the caller).  Policies, views, defaults and
-- constraints are bound while this script runs, with @extschema@ (public,
-- often) on the search_path: an operator between different types, such as
-- oid = regclass, would bind to an exact match planted there, so such
-- operators are qualified.
CREATE POLICY tracked_read ON crdt_reconcile.tracked FOR SELECT USING (true);
CREATE POLICY tracked_owner ON crdt_reconcile.tracked FOR ALL
	USING (pg_catalog.pg_has_role((SELECT c.relowner FROM pg_catalog.pg_class c
	                               WHERE c.oid OPERATOR(pg_catalog.=) relation), 'USAGE'))
	WITH CHECK (pg_catalog.pg_has_role((SELECT c.relowner FROM pg_catalog.pg_class c
	                                    WHERE c.oid OPERATOR(pg_catalog.=) relation), 'USAGE'));
GRANT SELECT, INSERT, UPDATE, DELETE ON crdt_reconcile.tracked TO PUBLIC;

-- ------------------------------------------------------------ conflict audit

CREATE SEQUENCE crdt_reconcile.conflicts_id_seq AS pg_catalog.int8;
CREATE TABLE crdt_reconcile.conflicts (
	id pg_catalog.int8 PRIMARY KEY
		DEFAULT pg_catalog.nextval('crdt_reconcile.conflicts_id_seq'::pg_catalog.regclass),
	detected_at pg_catalog.timestamptz NOT NULL DEFAULT pg_catalog.clock_timestamp(),
	relation pg_catalog.regclass NOT NULL,
	row_key pg_catalog.jsonb NOT NULL,
	column_name pg_catalog.name,
	kind pg_catalog.text NOT NULL CHECK (kind IN ('concurrent_update', 'stale_update', 'insert_exists',
		'multi_value', 'invariant_violation', 'merge_logged')),
	local_clock @extschema@.vclock,
	remote_clock @extschema@.vclock,
	local_value pg_catalog.jsonb,
	remote_value pg_catalog.jsonb,
	result_value pg_catalog.jsonb,
	resolution pg_catalog.text NOT NULL CHECK (resolution IN ('merged', 'kept_local', 'applied_remote',
		'pending', 'arbitrated')),
	origin pg_catalog.text,
	status pg_catalog.text NOT NULL CHECK (status IN ('auto_resolved', 'open', 'resolved')),
	resolved_value pg_catalog.jsonb,
	resolved_at pg_catalog.timestamptz,
	resolved_by pg_catalog.name,
	note pg_catalog.text
);
ALTER SEQUENCE crdt_reconcile.conflicts_id_seq OWNED BY crdt_reconcile.conflicts.id;
CREATE INDEX conflicts_open_newest ON crdt_reconcile.conflicts (relation, detected_at DESC, id DESC)
	WHERE status = 'open';
CREATE INDEX conflicts_newest ON crdt_reconcile.conflicts (relation, detected_at DESC, id DESC);
CREATE INDEX conflicts_detected ON crdt_reconcile.conflicts (detected_at);
-- the trigger looks up earlier records of the same row and column (it keeps one per lost write)
CREATE INDEX conflicts_row ON crdt_reconcile.conflicts (relation, column_name, row_key);
SELECT pg_catalog.pg_extension_config_dump('crdt_reconcile.conflicts', '');
SELECT pg_catalog.pg_extension_config_dump('crdt_reconcile.conflicts_id_seq', '');
COMMENT ON TABLE crdt_reconcile.conflicts IS
	'every conflict a tracked table''s merge recorded: both sides, the result, and its resolution';

-- A role sees and resolves the conflicts of the tables it may update;
-- crdt_reconcile_admin sees all.  The trigger writes records as the
-- table's owner, so records are written whatever the writer's rights.
CREATE FUNCTION crdt_reconcile.may_see_conflicts_of(rel pg_catalog.regclass) RETURNS pg_catalog.bool
	LANGUAGE sql STABLE PARALLEL SAFE
	SET search_path = pg_catalog, pg_temp
	AS $$ SELECT pg_catalog.pg_has_role('crdt_reconcile_admin', 'MEMBER')
	             OR coalesce(pg_catalog.has_table_privilege(rel, 'UPDATE'), false) $$;
ALTER TABLE crdt_reconcile.conflicts ENABLE ROW LEVEL SECURITY;
CREATE POLICY conflicts_read ON crdt_reconcile.conflicts FOR SELECT
	USING (crdt_reconcile.may_see_conflicts_of(relation));
CREATE POLICY conflicts_resolve ON crdt_reconcile.conflicts FOR UPDATE
	USING (crdt_reconcile.may_see_conflicts_of(relation))
	WITH CHECK (crdt_reconcile.may_see_conflicts_of(relation));
CREATE POLICY conflicts_purge ON crdt_reconcile.conflicts FOR DELETE
	USING (pg_catalog.pg_has_role('crdt_reconcile_admin', 'MEMBER'));
GRANT SELECT ON crdt_reconcile.conflicts TO PUBLIC;
GRANT UPDATE (status, resolution, resolved_value, resolved_at, resolved_by, note)
	ON crdt_reconcile.conflicts TO PUBLIC;
GRANT DELETE ON crdt_reconcile.conflicts TO crdt_reconcile_admin;

-- Who resolved and when is stamped here, so it cannot be forged.
CREATE FUNCTION crdt_reconcile.conflicts_stamp() RETURNS pg_catalog.trigger
	LANGUAGE plpgsql
	SET search_path = pg_catalog, pg_temp
	AS $$
BEGIN
	IF NEW.status IS DISTINCT FROM OLD.status OR NEW.resolved_value IS DISTINCT FROM OLD.resolved_value
	   OR NEW.resolution IS DISTINCT FROM OLD.resolution THEN
		IF NEW.status = 'resolved' THEN
			NEW.resolved_at := pg_catalog.clock_timestamp();
			NEW.resolved_by := CURRENT_USER;
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

-- ------------------------------------------------------------ the trigger

CREATE FUNCTION crdt_reconcile.track_trigger() RETURNS pg_catalog.trigger
	AS 'MODULE_PATHNAME', 'crdt_track_trigger' LANGUAGE C;
COMMENT ON FUNCTION crdt_reconcile.track_trigger() IS
	'merges CRDT columns on every write to a tracked table and records conflicts; created by track()';

-- track() itself is a thin wrapper: it hands the caller's search_path
-- (which resolves the invariant's names) to the worker below, whose own
-- search_path is pinned.
CREATE FUNCTION crdt_reconcile.track_in_path(
		rel pg_catalog.regclass, shape pg_catalog.text, clock_column pg_catalog.name,
		writer_column pg_catalog.name, replica_column pg_catalog.name, invariant pg_catalog.text,
		log_merges pg_catalog.bool, record_stale pg_catalog.bool, path pg_catalog.text)
	RETURNS crdt_reconcile.tracked
	LANGUAGE plpgsql
	SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	keys pg_catalog.name[];
	crdt_types pg_catalog.oid[];
	plain_columns pg_catalog.int4;
	col_type pg_catalog.oid;
	result crdt_reconcile.tracked;
BEGIN
	IF shape IS NULL OR shape NOT IN ('merge_in_place', 'replica_rows') THEN
		RAISE EXCEPTION 'shape must be ''merge_in_place'' or ''replica_rows'', not %', coalesce(shape, 'NULL')
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	IF EXISTS (SELECT FROM crdt_reconcile.tracked t WHERE t.relation = rel) THEN
		RAISE EXCEPTION 'table % is already tracked', rel
			USING ERRCODE = 'duplicate_object', HINT = 'Call crdt_reconcile.untrack first to change its settings.';
	END IF;
	IF (SELECT c.relkind FROM pg_class c WHERE c.oid = rel) NOT IN ('r', 'p') THEN
		RAISE EXCEPTION '% is not a table', rel USING ERRCODE = 'wrong_object_type';
	END IF;
	SELECT pg_catalog.array_agg(a.attname ORDER BY k.n) INTO keys
	FROM pg_index i
	CROSS JOIN LATERAL pg_catalog.unnest(i.indkey) WITH ORDINALITY AS k(attnum, n)
	JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
	WHERE i.indrelid = rel AND i.indisprimary;
	IF keys IS NULL THEN
		RAISE EXCEPTION 'table % has no primary key', rel
			USING ERRCODE = 'invalid_table_definition',
			      HINT = 'A tracked table needs a primary key: it names the row a replicated write merges into.';
	END IF;

	crdt_types := ARRAY(SELECT t.oid FROM pg_type t
		WHERE t.typnamespace = '@extschema@'::pg_catalog.regnamespace
		  AND t.typname IN ('vclock', 'gcounter', 'pncounter', 'gset', 'twopset', 'orset', 'lwwreg', 'mvreg'));

	IF clock_column IS NOT NULL THEN
		SELECT a.atttypid INTO col_type FROM pg_attribute a
		WHERE a.attrelid = rel AND a.attname = clock_column AND a.attnum > 0 AND NOT a.attisdropped;
		IF col_type IS DISTINCT FROM '@extschema@.vclock'::pg_catalog.regtype THEN
			RAISE EXCEPTION 'clock column "%" of % must exist and have type vclock', clock_column, rel
				USING ERRCODE = 'invalid_parameter_value';
		END IF;
	END IF;
	IF writer_column IS NOT NULL THEN
		SELECT a.atttypid INTO col_type FROM pg_attribute a
		WHERE a.attrelid = rel AND a.attname = writer_column AND a.attnum > 0 AND NOT a.attisdropped;
		IF col_type IS DISTINCT FROM '@extschema@.lwwreg'::pg_catalog.regtype THEN
			RAISE EXCEPTION 'writer column "%" of % must exist and have type lwwreg', writer_column, rel
				USING ERRCODE = 'invalid_parameter_value';
		END IF;
		IF clock_column IS NULL THEN
			RAISE EXCEPTION 'a writer column needs a clock column'
				USING ERRCODE = 'invalid_parameter_value';
		END IF;
	END IF;
	IF shape = 'replica_rows' THEN
		IF replica_column IS NULL OR NOT replica_column = ANY (keys) THEN
			RAISE EXCEPTION 'a replica_rows table needs replica_column, a column of its primary key'
				USING ERRCODE = 'invalid_parameter_value';
		END IF;
		SELECT a.atttypid INTO col_type FROM pg_attribute a
		WHERE a.attrelid = rel AND a.attname = replica_column AND a.attnum > 0 AND NOT a.attisdropped;
		IF col_type IS DISTINCT FROM 'pg_catalog.text'::pg_catalog.regtype THEN
			RAISE EXCEPTION 'replica column "%" of % must have type text', replica_column, rel
				USING ERRCODE = 'invalid_parameter_value';
		END IF;
	ELSIF replica_column IS NOT NULL THEN
		RAISE EXCEPTION 'replica_column applies only to shape replica_rows'
			USING ERRCODE = 'invalid_parameter_value';
	END IF;

	-- Plain (non-CRDT, non-key) columns of a table written on several
	-- replicas are resolved by the writer tag when writes are concurrent.
	SELECT pg_catalog.count(*) INTO plain_columns FROM pg_attribute a
	WHERE a.attrelid = rel AND a.attnum > 0 AND NOT a.attisdropped
	  AND NOT a.atttypid = ANY (crdt_types) AND NOT a.attname = ANY (keys);
	IF shape = 'merge_in_place' AND clock_column IS NOT NULL AND writer_column IS NULL AND plain_columns > 0 THEN
		RAISE EXCEPTION 'table % has plain columns, so a clock column needs a writer column', rel
			USING ERRCODE = 'invalid_parameter_value',
			      HINT = 'Add a column of type lwwreg (ALTER TABLE ... ADD COLUMN writer lwwreg) and pass writer_column => ''writer''; concurrent writes to plain columns are resolved by it.';
	END IF;

	IF invariant IS NOT NULL THEN
		-- Names resolve now, with the caller's search_path; the trigger
		-- prepares the check with that same path.
		PERFORM pg_catalog.set_config('search_path', path, true);
		EXECUTE pg_catalog.format('SELECT (%s)::pg_catalog.bool FROM %s AS t LIMIT 0', invariant, rel);
		PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
	END IF;

	EXECUTE pg_catalog.format(
		'CREATE TRIGGER crdt_reconcile_track BEFORE INSERT OR UPDATE ON %s FOR EACH ROW '
		'EXECUTE FUNCTION crdt_reconcile.track_trigger(%L, %L, %L, %L, %L, %L, %L, %L)',
		rel, shape, coalesce(clock_column, ''), coalesce(writer_column, ''),
		coalesce(replica_column, ''), log_merges::text, coalesce(invariant, ''),
		CASE WHEN invariant IS NULL THEN '' ELSE path END, coalesce(record_stale, true)::text);
	-- ALWAYS: the trigger must also fire in logical-replication apply workers.
	EXECUTE pg_catalog.format('ALTER TABLE %s ENABLE ALWAYS TRIGGER crdt_reconcile_track', rel);

	INSERT INTO crdt_reconcile.tracked AS t (relation, shape, key_columns, clock_column, writer_column,
		replica_column, invariant, log_merges, record_stale)
	VALUES (rel, shape, keys, clock_column, writer_column, replica_column, invariant, log_merges,
		coalesce(record_stale, true))
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
	                                          pg_catalog.current_setting('search_path')) $$;
COMMENT ON FUNCTION crdt_reconcile.track(pg_catalog.regclass, pg_catalog.text, pg_catalog.name,
	pg_catalog.name, pg_catalog.name, pg_catalog.text, pg_catalog.bool, pg_catalog.bool) IS
	'makes a table a tracked table: CRDT columns merge on every write, conflicts are recorded';

CREATE FUNCTION crdt_reconcile.untrack(rel pg_catalog.regclass) RETURNS pg_catalog.bool
	LANGUAGE plpgsql
	SET search_path = pg_catalog, pg_temp
	AS $$
BEGIN
	IF NOT EXISTS (SELECT FROM crdt_reconcile.tracked t WHERE t.relation = rel) THEN
		RETURN false;
	END IF;
	IF EXISTS (SELECT FROM pg_class c WHERE c.oid = rel) THEN
		EXECUTE pg_catalog.format('DROP TRIGGER IF EXISTS crdt_reconcile_track ON %s', rel);
	END IF;
	-- a dropped table's settings row goes too
	DELETE FROM crdt_reconcile.tracked t WHERE t.relation = rel;
	RETURN true;
END
$$;
COMMENT ON FUNCTION crdt_reconcile.untrack(pg_catalog.regclass) IS
	'stops tracking a table; its conflict records are kept';

-- ------------------------------------------------------------ arbitration

-- The expression that turns the current value of column col (type typ)
-- into one holding value and dominating everything seen so far.
CREATE FUNCTION crdt_reconcile.arbitrated_expression(col pg_catalog.name, typ pg_catalog.regtype,
		base pg_catalog.text, value pg_catalog.jsonb, rel pg_catalog.regclass)
	RETURNS pg_catalog.text
	LANGUAGE plpgsql STABLE
	SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	tname pg_catalog.text;
	wanted pg_catalog.text[];
BEGIN
	IF typ::pg_catalog.oid IN (SELECT t.oid FROM pg_type t
			WHERE t.typnamespace = '@extschema@'::pg_catalog.regnamespace) THEN
		tname := (SELECT t.typname FROM pg_type t WHERE t.oid = typ);
	END IF;
	CASE tname
	WHEN 'lwwreg', 'mvreg' THEN
		-- a write stamped after (lwwreg) or observing (mvreg) every value seen
		RETURN pg_catalog.format('@extschema@.crdt_set(%s, %L::pg_catalog.jsonb)', base, value);
	WHEN 'gcounter', 'pncounter' THEN
		IF pg_catalog.jsonb_typeof(value) <> 'number' THEN
			RAISE EXCEPTION 'a % is arbitrated with a number, not %', tname, value
				USING ERRCODE = 'invalid_parameter_value';
		END IF;
		RETURN pg_catalog.format('@extschema@.crdt_increment(%1$s, (%2$L::pg_catalog.int8 - @extschema@.crdt_value(%1$s)))',
			base, value::pg_catalog.text);
	WHEN 'gset', 'twopset', 'orset' THEN
		IF pg_catalog.jsonb_typeof(value) <> 'array' THEN
			RAISE EXCEPTION 'a % is arbitrated with an array of elements, not %', tname, value
				USING ERRCODE = 'invalid_parameter_value';
		END IF;
		wanted := ARRAY(SELECT pg_catalog.jsonb_array_elements_text(value));
		-- remove what is not wanted, then add what is missing
		RETURN pg_catalog.format('crdt_reconcile.set_arbitrate(%s, %L::pg_catalog.text[])', base, wanted);
	WHEN 'vclock' THEN
		RAISE EXCEPTION 'a vclock column cannot be arbitrated' USING ERRCODE = 'invalid_parameter_value';
	ELSE
		RETURN pg_catalog.format('(pg_catalog.jsonb_populate_record(NULL::%s, %L::pg_catalog.jsonb)).%I',
			rel, pg_catalog.jsonb_build_object(col, value), col);
	END CASE;
END
$$;

CREATE FUNCTION crdt_reconcile.set_arbitrate(s @extschema@.gset, wanted pg_catalog.text[])
	RETURNS @extschema@.gset LANGUAGE plpgsql STABLE
	SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	e pg_catalog.text;
BEGIN
	IF EXISTS (SELECT FROM @extschema@.crdt_elements(s) x WHERE NOT x = ANY (wanted)) THEN
		RAISE EXCEPTION 'a gset never loses an element; the arbitrated value must contain all of them'
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	FOREACH e IN ARRAY wanted LOOP
		s := @extschema@.crdt_add(s, e);
	END LOOP;
	RETURN s;
END
$$;
CREATE FUNCTION crdt_reconcile.set_arbitrate(s @extschema@.twopset, wanted pg_catalog.text[])
	RETURNS @extschema@.twopset LANGUAGE plpgsql STABLE
	SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	e pg_catalog.text;
BEGIN
	FOR e IN SELECT x FROM @extschema@.crdt_elements(s) x WHERE NOT x = ANY (wanted) LOOP
		s := @extschema@.crdt_remove(s, e);
	END LOOP;
	FOREACH e IN ARRAY wanted LOOP
		s := @extschema@.crdt_add(s, e);
	END LOOP;
	RETURN s;
END
$$;
CREATE FUNCTION crdt_reconcile.set_arbitrate(s @extschema@.orset, wanted pg_catalog.text[])
	RETURNS @extschema@.orset LANGUAGE plpgsql STABLE
	SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	e pg_catalog.text;
BEGIN
	FOR e IN SELECT x FROM @extschema@.crdt_elements(s) x WHERE NOT x = ANY (wanted) LOOP
		s := @extschema@.crdt_remove(s, e);
	END LOOP;
	FOREACH e IN ARRAY wanted LOOP
		IF NOT @extschema@.crdt_contains(s, e) THEN
			s := @extschema@.crdt_add(s, e);
		END IF;
	END LOOP;
	RETURN s;
END
$$;

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
	key_match pg_catalog.text;
	col pg_catalog.text;
	col_value pg_catalog.jsonb;
	col_type pg_catalog.regtype;
	base pg_catalog.text;
	own_key pg_catalog.jsonb;
	written pg_catalog.int8;
BEGIN
	-- Row-level security hides the conflicts of tables the caller may not update.
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
	SELECT pg_catalog.string_agg(pg_catalog.format('%I IS NOT DISTINCT FROM (pg_catalog.jsonb_populate_record(NULL::%s, %L)).%I',
			k, c.relation, own_key, k), ' AND ')
	INTO key_match FROM pg_catalog.jsonb_object_keys(own_key) AS k;

	FOR col, col_value IN SELECT * FROM pg_catalog.jsonb_each(targets) LOOP
		SELECT a.atttypid INTO col_type FROM pg_attribute a
		WHERE a.attrelid = c.relation AND a.attname = col AND a.attnum > 0 AND NOT a.attisdropped;
		IF col_type IS NULL OR col = ANY (t.key_columns) OR col = t.clock_column OR col = t.writer_column THEN
			RAISE EXCEPTION 'column "%" of % cannot be arbitrated', col, c.relation
				USING ERRCODE = 'invalid_parameter_value';
		END IF;
		base := pg_catalog.format('%I', col);
		IF t.shape = 'replica_rows' THEN
			-- start from the converged value of the key, so the write dominates every replica's
			SELECT pg_catalog.format('(SELECT @extschema@.crdt_merge(r.%I) FROM %s r WHERE %s)', col, c.relation,
				pg_catalog.string_agg(pg_catalog.format('r.%I IS NOT DISTINCT FROM (pg_catalog.jsonb_populate_record(NULL::%s, %L)).%I',
					k, c.relation, c.row_key, k), ' AND '))
			INTO base FROM pg_catalog.jsonb_object_keys(c.row_key) AS k;
		END IF;
		assignments := assignments || pg_catalog.format('%I = %s', col,
			crdt_reconcile.arbitrated_expression(col::pg_catalog.name, col_type, base, col_value, c.relation));
	END LOOP;

	-- An ordinary UPDATE under the caller's rights: the trigger ticks the
	-- row clock and stamps the writer, so the value dominates both sides
	-- and replicates like any other write.
	EXECUTE pg_catalog.format('UPDATE %s SET %s WHERE %s', c.relation,
		pg_catalog.array_to_string(assignments, ', '), key_match);
	GET DIAGNOSTICS written = ROW_COUNT;
	IF written = 0 AND t.shape = 'replica_rows' THEN
		EXECUTE pg_catalog.format('INSERT INTO %s SELECT * FROM pg_catalog.jsonb_populate_record(NULL::%s, %L)',
			c.relation, c.relation, own_key);
		EXECUTE pg_catalog.format('UPDATE %s SET %s WHERE %s', c.relation,
			pg_catalog.array_to_string(assignments, ', '), key_match);
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

CREATE FUNCTION crdt_reconcile.purge_conflicts(older_than pg_catalog.interval,
		include_open pg_catalog.bool DEFAULT false)
	RETURNS pg_catalog.int8
	LANGUAGE sql
	SET search_path = pg_catalog, pg_temp
	AS $$
	WITH gone AS (
		DELETE FROM crdt_reconcile.conflicts c
		WHERE c.detected_at < pg_catalog.now() - older_than AND (include_open OR c.status <> 'open')
		RETURNING 1)
	SELECT pg_catalog.count(*) FROM gone
$$;
COMMENT ON FUNCTION crdt_reconcile.purge_conflicts(pg_catalog.interval, pg_catalog.bool) IS
	'deletes conflict records older than the interval (open ones only when asked); needs crdt_reconcile_admin';

-- ------------------------------------------------------------ telemetry

CREATE VIEW crdt_reconcile.conflict_stats WITH (security_invoker = true) AS
SELECT c.relation, c.kind,
       pg_catalog.count(*) AS total,
       pg_catalog.count(*) FILTER (WHERE c.status = 'open') AS open,
       pg_catalog.count(*) FILTER (WHERE c.detected_at > pg_catalog.now() - '1 hour'::pg_catalog.interval) AS last_hour,
       pg_catalog.max(c.detected_at) AS last_detected
FROM crdt_reconcile.conflicts c
GROUP BY c.relation, c.kind;
GRANT SELECT ON crdt_reconcile.conflict_stats TO PUBLIC;

-- Counters in shared memory, like the pg_stat_* views: since server start
-- (or the last reset), not crash-safe, one atomic add per event.
CREATE FUNCTION crdt_reconcile.merge_counters(
		OUT database pg_catalog.oid, OUT relation pg_catalog.oid,
		OUT local_writes pg_catalog.int8, OUT merges_applied pg_catalog.int8,
		OUT inserts_merged pg_catalog.int8, OUT stale_skipped pg_catalog.int8,
		OUT echoes_skipped pg_catalog.int8, OUT conflicts_recorded pg_catalog.int8)
	RETURNS SETOF record
	AS 'MODULE_PATHNAME', 'crdt_merge_counters' LANGUAGE C VOLATILE;
CREATE FUNCTION crdt_reconcile.reset_merge_stats(rel pg_catalog.regclass DEFAULT NULL) RETURNS pg_catalog.void
	AS 'MODULE_PATHNAME', 'crdt_reset_merge_stats' LANGUAGE C VOLATILE;
REVOKE ALL ON FUNCTION crdt_reconcile.reset_merge_stats(pg_catalog.regclass) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION crdt_reconcile.reset_merge_stats(pg_catalog.regclass) TO crdt_reconcile_admin;

CREATE VIEW crdt_reconcile.merge_stats AS
SELECT s.relation::pg_catalog.regclass AS relation, s.local_writes, s.merges_applied, s.inserts_merged,
       s.stale_skipped, s.echoes_skipped, s.conflicts_recorded
FROM crdt_reconcile.merge_counters() s
WHERE s.database = (SELECT d.oid FROM pg_catalog.pg_database d WHERE d.datname = pg_catalog.current_database())
  AND coalesce(pg_catalog.has_table_privilege(s.relation, 'SELECT'), false);
GRANT SELECT ON crdt_reconcile.merge_stats TO PUBLIC;

-- Reconciliation lag of a replica-rows table: per replica, how far its
-- rows' clocks are behind the merged clock of their keys.
CREATE FUNCTION crdt_reconcile.replica_lag(rel pg_catalog.regclass,
		OUT replica pg_catalog.text, OUT keys pg_catalog.int8, OUT keys_behind pg_catalog.int8,
		OUT max_distance pg_catalog.int8, OUT total_distance pg_catalog.numeric)
	RETURNS SETOF record
	LANGUAGE plpgsql STABLE
	SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	t crdt_reconcile.tracked;
	key_list pg_catalog.text;
BEGIN
	IF NOT EXISTS (SELECT FROM pg_class c WHERE c.oid = rel) THEN
		RETURN;		-- a dropped table's settings linger until untracked
	END IF;
	SELECT * INTO t FROM crdt_reconcile.tracked x WHERE x.relation = rel;
	IF NOT FOUND OR t.shape <> 'replica_rows' OR t.clock_column IS NULL THEN
		RAISE EXCEPTION '% is not a tracked replica_rows table with a clock column', rel
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	SELECT pg_catalog.string_agg(pg_catalog.format('%I', k), ', ') INTO key_list
	FROM pg_catalog.unnest(t.key_columns) k WHERE k <> t.replica_column;
	RETURN QUERY EXECUTE pg_catalog.format(
		'WITH merged AS (SELECT %1$s, @extschema@.crdt_merge(%3$I) AS clock FROM %2$s GROUP BY %1$s) '
		'SELECT r.%4$I, pg_catalog.count(*), pg_catalog.count(*) FILTER (WHERE d.distance > 0), '
		'       pg_catalog.max(d.distance), pg_catalog.sum(d.distance) '
		'FROM %2$s r JOIN merged m USING (%1$s) '
		'CROSS JOIN LATERAL (SELECT @extschema@.vclock_distance(r.%3$I, m.clock) AS distance) d '
		'GROUP BY r.%4$I ORDER BY r.%4$I',
		key_list, rel, t.clock_column, t.replica_column);
END
$$;

CREATE VIEW crdt_reconcile.reconciliation_lag WITH (security_invoker = true) AS
SELECT t.relation, l.*
FROM crdt_reconcile.tracked t
CROSS JOIN LATERAL crdt_reconcile.replica_lag(t.relation) l
WHERE t.shape = 'replica_rows' AND t.clock_column IS NOT NULL
  AND coalesce(pg_catalog.has_table_privilege(t.relation, 'SELECT'), false);
GRANT SELECT ON crdt_reconcile.reconciliation_lag TO PUBLIC;

-- ------------------------------------------------------------ anti-entropy

CREATE FUNCTION crdt_reconcile.stable_hash(pg_catalog.text) RETURNS pg_catalog.int8
	AS 'MODULE_PATHNAME', 'crdt_stable_text_hash' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION crdt_reconcile.stable_hash(pg_catalog.text) IS
	'XXH64 of the text''s UTF-8 bytes: the same on every node, platform and database encoding';

-- SQL expressions over a tracked table aliased t: its key as jsonb text
-- (which names the bucket) and the hash of the whole row's canonical JSON.
CREATE FUNCTION crdt_reconcile.key_expression(rel pg_catalog.regclass) RETURNS pg_catalog.text
	LANGUAGE plpgsql STABLE
	SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	keys pg_catalog.name[];
	expr pg_catalog.text;
BEGIN
	SELECT t.key_columns INTO keys FROM crdt_reconcile.tracked t WHERE t.relation = rel;
	IF keys IS NULL THEN
		RAISE EXCEPTION 'table % is not tracked', rel USING ERRCODE = 'invalid_parameter_value';
	END IF;
	SELECT pg_catalog.format('pg_catalog.jsonb_build_object(%s)::pg_catalog.text',
		pg_catalog.string_agg(pg_catalog.format('%L, t.%I', k, k), ', ' ORDER BY n))
	INTO expr FROM pg_catalog.unnest(keys) WITH ORDINALITY AS u(k, n);
	RETURN expr;
END
$$;

CREATE FUNCTION crdt_reconcile.digest(rel pg_catalog.regclass, buckets pg_catalog.int4 DEFAULT 256,
		OUT bucket pg_catalog.int4, OUT rows pg_catalog.int8, OUT hash pg_catalog.int8)
	RETURNS SETOF record
	LANGUAGE plpgsql STABLE
	SET search_path = pg_catalog, pg_temp
	AS $$
BEGIN
	IF buckets IS NULL OR buckets < 1 OR buckets > 1048576 THEN
		RAISE EXCEPTION 'buckets must be between 1 and 1048576' USING ERRCODE = 'invalid_parameter_value';
	END IF;
	-- rows go to buckets by a stable hash of their key; a bucket's hash
	-- XORs its rows' hashes, so it does not depend on row order
	RETURN QUERY EXECUTE pg_catalog.format(
		'SELECT b::pg_catalog.int4, pg_catalog.count(*), pg_catalog.bit_xor(h) FROM ('
		'  SELECT ((crdt_reconcile.stable_hash(%1$s) OPERATOR(pg_catalog.&) 2147483647) OPERATOR(pg_catalog.%%) %2$s) AS b,'
		'         crdt_reconcile.stable_hash(pg_catalog.to_jsonb(t)::pg_catalog.text) AS h'
		'  FROM %3$s t) x GROUP BY b ORDER BY b',
		crdt_reconcile.key_expression(rel), buckets, rel);
END
$$;
COMMENT ON FUNCTION crdt_reconcile.digest(pg_catalog.regclass, pg_catalog.int4) IS
	'per bucket of keys: rows and an order-independent hash of their canonical states; equal data, equal digests';

-- Compares digests with a peer over dblink, fetches only the rows of the
-- buckets that differ, and merges them in as replicated writes (the
-- tracked-table trigger merges, never overwrites, and records conflicts).
CREATE FUNCTION crdt_reconcile.repair(rel pg_catalog.regclass, peer_conninfo pg_catalog.text,
		buckets pg_catalog.int4 DEFAULT 256,
		OUT buckets_compared pg_catalog.int4, OUT buckets_differing pg_catalog.int4,
		OUT rows_fetched pg_catalog.int8, OUT rows_changed pg_catalog.int8)
	LANGUAGE plpgsql
	SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	dblink_schema pg_catalog.text;
	remote_name pg_catalog.text := rel::pg_catalog.text;
	differing pg_catalog.int4[];
	key_expr pg_catalog.text := crdt_reconcile.key_expression(rel);
	fetched pg_catalog.jsonb;
	before_hash pg_catalog.int8;
	after_hash pg_catalog.int8;
	row_key pg_catalog.text;
	saved_role pg_catalog.text := pg_catalog.current_setting('session_replication_role');
BEGIN
	SELECT n.nspname INTO dblink_schema FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
	WHERE e.extname = 'dblink';
	IF dblink_schema IS NULL THEN
		RAISE EXCEPTION 'crdt_reconcile.repair needs the dblink extension'
			USING ERRCODE = 'undefined_function', HINT = 'CREATE EXTENSION dblink;';
	END IF;
	-- the same table on the peer, by its schema-qualified name
	remote_name := pg_catalog.format('%I.%I', (SELECT n.nspname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = rel),
		(SELECT c.relname FROM pg_class c WHERE c.oid = rel));

	EXECUTE pg_catalog.format(
		'WITH here AS (SELECT * FROM crdt_reconcile.digest(%1$L::pg_catalog.regclass, %2$s)), '
		'     there AS (SELECT * FROM %3$I.dblink(%4$L, %5$L) AS r(bucket pg_catalog.int4, rows pg_catalog.int8, hash pg_catalog.int8)) '
		'SELECT pg_catalog.array_agg(COALESCE(h.bucket, r.bucket) ORDER BY COALESCE(h.bucket, r.bucket)) '
		'FILTER (WHERE h.hash IS DISTINCT FROM r.hash OR h.rows IS DISTINCT FROM r.rows) '
		'FROM here h FULL JOIN there r ON r.bucket = h.bucket',
		rel, buckets, dblink_schema, peer_conninfo,
		pg_catalog.format('SELECT * FROM crdt_reconcile.digest(%L::pg_catalog.regclass, %s)', remote_name, buckets))
	INTO differing;
	buckets_compared := buckets;
	buckets_differing := coalesce(pg_catalog.cardinality(differing), 0);
	rows_fetched := 0;
	rows_changed := 0;
	IF buckets_differing = 0 THEN
		RETURN;
	END IF;

	-- merged in as the apply worker would: the trigger sees applied writes
	PERFORM pg_catalog.set_config('session_replication_role', 'replica', true);
	FOR fetched IN EXECUTE pg_catalog.format(
		'SELECT r.row_json FROM %1$I.dblink(%2$L, %3$L) AS r(row_json pg_catalog.jsonb)',
		dblink_schema, peer_conninfo,
		pg_catalog.format('SELECT pg_catalog.to_jsonb(t) FROM %s t '
			'WHERE ((crdt_reconcile.stable_hash(%s) OPERATOR(pg_catalog.&) 2147483647) OPERATOR(pg_catalog.%%) %s) '
			'OPERATOR(pg_catalog.=) ANY (%L::pg_catalog.int4[])', remote_name, key_expr, buckets, differing))
	LOOP
		rows_fetched := rows_fetched + 1;
		EXECUTE pg_catalog.format('SELECT %s FROM pg_catalog.jsonb_populate_record(NULL::%s, $1) t', key_expr, rel)
			INTO row_key USING fetched;
		EXECUTE pg_catalog.format('SELECT crdt_reconcile.stable_hash(pg_catalog.to_jsonb(t)::pg_catalog.text) FROM %s t WHERE %s OPERATOR(pg_catalog.=) $1',
			rel, key_expr) INTO before_hash USING row_key;
		EXECUTE pg_catalog.format('INSERT INTO %s SELECT * FROM pg_catalog.jsonb_populate_record(NULL::%s, $1)', rel, rel)
			USING fetched;
		EXECUTE pg_catalog.format('SELECT crdt_reconcile.stable_hash(pg_catalog.to_jsonb(t)::pg_catalog.text) FROM %s t WHERE %s OPERATOR(pg_catalog.=) $1',
			rel, key_expr) INTO after_hash USING row_key;
		IF before_hash IS DISTINCT FROM after_hash THEN
			rows_changed := rows_changed + 1;
		END IF;
	END LOOP;
	PERFORM pg_catalog.set_config('session_replication_role', saved_role, true);
END
$$;
COMMENT ON FUNCTION crdt_reconcile.repair(pg_catalog.regclass, pg_catalog.text, pg_catalog.int4) IS
	'anti-entropy: fetches from the peer only the rows of buckets whose digests differ and merges them in';
REVOKE ALL ON FUNCTION crdt_reconcile.repair(pg_catalog.regclass, pg_catalog.text, pg_catalog.int4) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION crdt_reconcile.repair(pg_catalog.regclass, pg_catalog.text, pg_catalog.int4)
	TO crdt_reconcile_admin;

-- ------------------------------------------------------------ replication health

-- Per subscription and tracked table on this (subscribing) node: the
-- table's sync state, the apply worker, and how far behind it is.
CREATE VIEW crdt_reconcile.replication_status AS
SELECT s.subname AS subscription,
       sr.srrelid::pg_catalog.regclass AS relation,
       t.shape,
       CASE sr.srsubstate WHEN 'i' THEN 'initialize' WHEN 'd' THEN 'copying' WHEN 'f' THEN 'copied'
            WHEN 's' THEN 'synchronized' WHEN 'r' THEN 'ready' ELSE sr.srsubstate::pg_catalog.text END AS sync_state,
       s.subenabled AS enabled,
       st.pid AS worker_pid,
       st.received_lsn,
       st.latest_end_lsn,
       st.last_msg_receipt_time,
       pg_catalog.now() - st.last_msg_send_time AS apply_lag,
       pg_catalog.now() - st.latest_end_time AS confirmed_lag
FROM pg_catalog.pg_subscription s
JOIN pg_catalog.pg_subscription_rel sr ON sr.srsubid = s.oid
JOIN crdt_reconcile.tracked t ON t.relation::pg_catalog.oid OPERATOR(pg_catalog.=) sr.srrelid
LEFT JOIN pg_catalog.pg_stat_subscription st ON st.subid = s.oid AND st.relid IS NULL
WHERE s.subdbid = (SELECT d.oid FROM pg_catalog.pg_database d WHERE d.datname = pg_catalog.current_database());
GRANT SELECT ON crdt_reconcile.replication_status TO crdt_reconcile_admin;

-- Per peer on this (publishing) node: how much WAL each subscriber's slot
-- has not confirmed yet.
CREATE VIEW crdt_reconcile.peer_status AS
SELECT r.slot_name, r.active, r.active_pid,
       pg_catalog.pg_wal_lsn_diff(pg_catalog.pg_current_wal_lsn(), r.confirmed_flush_lsn) AS unconfirmed_bytes,
       sr.application_name, sr.state, sr.replay_lag
FROM pg_catalog.pg_replication_slots r
LEFT JOIN pg_catalog.pg_stat_replication sr ON sr.pid = r.active_pid
WHERE r.slot_type = 'logical'
  AND r.database = pg_catalog.current_database();
GRANT SELECT ON crdt_reconcile.peer_status TO crdt_reconcile_admin;
