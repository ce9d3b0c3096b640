/* crdt_reconcile--0.4--0.5.sql — from 0.4 to 0.5.  Each change keeps its
 * own section below, in the order the sections were written; the full
 * script of 0.5 is built from src/sql/, and sql/upgrade.sql checks that
 * this script brings a 0.4 database to exactly the same objects.
 */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION crdt_reconcile UPDATE TO '0.5'" to load this file. \quit

-- ================================================================ history, time travel, conflict feed
-- (issue 15: crdt_reconcile.history, as_of, compact_history, set_history,
-- track(..., history => true), NOTIFY crdt_reconcile_conflicts)

DROP FUNCTION crdt_reconcile.track(pg_catalog.regclass, pg_catalog.text, pg_catalog.name, pg_catalog.name,
	pg_catalog.name, pg_catalog.text, pg_catalog.bool, pg_catalog.bool);
DROP FUNCTION crdt_reconcile.track_in_path(pg_catalog.regclass, pg_catalog.text, pg_catalog.name, pg_catalog.name,
	pg_catalog.name, pg_catalog.text, pg_catalog.bool, pg_catalog.bool, pg_catalog.name[]);
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

CREATE OR REPLACE FUNCTION crdt_reconcile.untrack(rel pg_catalog.regclass) RETURNS pg_catalog.bool
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

CREATE OR REPLACE FUNCTION crdt_reconcile.resolve(conflict_id pg_catalog.int8, value pg_catalog.jsonb,
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
	-- (history records the write as this conflict's resolution)
	PERFORM pg_catalog.set_config('crdt_reconcile.resolving', conflict_id::pg_catalog.text, true);
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
	PERFORM pg_catalog.set_config('crdt_reconcile.resolving', '', true);
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

-- Every change to a row of a tracked table with history on, as this node
-- saw it (history is local: each node records its own observations).
-- change: for a CRDT column {"d": crdt_delta(new, old)} (the jsonb form of
-- the delta; on an insert or a checkpoint the whole value), for a plain
-- column {"o": old, "n": new} ({"n": value} on an insert or a checkpoint);
-- only the columns that changed; NULL for a delete.  clock: the row clock
-- after the change (before it, for a delete).  The trigger writes the
-- records as the history table's owner, after converting the values in
-- the writer's own context.
CREATE SEQUENCE crdt_reconcile.history_id_seq AS pg_catalog.int8;
CREATE TABLE crdt_reconcile.history (
	id pg_catalog.int8 NOT NULL
		DEFAULT pg_catalog.nextval('crdt_reconcile.history_id_seq'::pg_catalog.regclass),
	relation pg_catalog.regclass NOT NULL,
	row_key pg_catalog.jsonb NOT NULL,
	changed_at pg_catalog.timestamptz NOT NULL DEFAULT pg_catalog.clock_timestamp(),
	kind pg_catalog.text NOT NULL CHECK (kind IN ('local_insert', 'local_update', 'local_delete',
		'applied_insert', 'applied_update', 'applied_delete', 'insert_merged', 'resolve', 'checkpoint')),
	origin pg_catalog.text,
	clock @extschema@.vclock,
	change pg_catalog.jsonb
);
ALTER SEQUENCE crdt_reconcile.history_id_seq OWNED BY crdt_reconcile.history.id;
-- the history's one index: a hash index on row_key (cheaper to write and
-- half the size of the btree on (relation, row_key, id))
CREATE INDEX history_row ON crdt_reconcile.history USING hash (row_key);
SELECT pg_catalog.pg_extension_config_dump('crdt_reconcile.history', '');
SELECT pg_catalog.pg_extension_config_dump('crdt_reconcile.history_id_seq', '');
COMMENT ON TABLE crdt_reconcile.history IS
	'every change to a row of a tracked table with history on, as this node saw it: who, when, and the delta';

-- Tables with history on: since when (as_of before that cannot answer),
-- up to when it was compacted, and how long to keep it.
CREATE TABLE crdt_reconcile.history_settings (
	relation pg_catalog.regclass PRIMARY KEY,
	recorded_since pg_catalog.timestamptz NOT NULL DEFAULT pg_catalog.clock_timestamp(),
	compacted_before pg_catalog.timestamptz,
	history_retention pg_catalog.interval CHECK (history_retention > '0'::pg_catalog.interval)
);
SELECT pg_catalog.pg_extension_config_dump('crdt_reconcile.history_settings', '');
ALTER TABLE crdt_reconcile.history_settings ENABLE ROW LEVEL SECURITY;
CREATE POLICY history_settings_read ON crdt_reconcile.history_settings FOR SELECT
	USING (crdt_reconcile.may_see_table(relation));
GRANT SELECT ON crdt_reconcile.history_settings TO PUBLIC;

-- A record is shown to a role that could read, in the table itself,
-- everything it shows: the row, its key, the clock and every column the
-- change names (the conflicts' rule, column by column).
ALTER TABLE crdt_reconcile.history ENABLE ROW LEVEL SECURITY;
CREATE POLICY history_read ON crdt_reconcile.history FOR SELECT
	USING (pg_catalog.pg_has_role('crdt_reconcile_admin', 'MEMBER')
	       OR coalesce((SELECT pg_catalog.bool_and(crdt_reconcile.may_read_conflict(relation, c::pg_catalog.name, row_key))
	                    FROM pg_catalog.jsonb_object_keys(change) AS c),
	                   crdt_reconcile.may_read_conflict(relation,
	                       (SELECT k::pg_catalog.name FROM pg_catalog.jsonb_object_keys(row_key) AS k LIMIT 1), row_key)));
GRANT SELECT ON crdt_reconcile.history TO PUBLIC;

CREATE FUNCTION crdt_reconcile.history_trigger() RETURNS pg_catalog.trigger
	AS 'MODULE_PATHNAME', 'crdt_history_trigger' LANGUAGE C;

-- The columns of rel as history writes them: name, whether a CRDT column
-- (and its type's name), the clock column excluded.
CREATE FUNCTION crdt_reconcile.history_columns(rel pg_catalog.regclass)
	RETURNS TABLE (name pg_catalog.name, crdt_type pg_catalog.name)
	LANGUAGE sql STABLE
	SET search_path = pg_catalog, pg_temp
	AS $$
	SELECT a.attname, t.typname
	FROM pg_attribute a
	LEFT JOIN pg_type t ON t.oid = crdt_reconcile.base_type(a.atttypid)
	                   AND t.typnamespace = '@extschema@'::pg_catalog.regnamespace
	                   AND t.typname IN ('vclock', 'gcounter', 'pncounter', 'gset', 'twopset', 'orset', 'lwwreg', 'mvreg')
	WHERE a.attrelid = rel AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = ''
	  AND a.attname IS DISTINCT FROM (SELECT x.clock_column FROM crdt_reconcile.tracked x WHERE x.relation = rel)
	ORDER BY a.attnum
$$;

-- The state of every row of rel (or the one with key) after the records
-- up to at: from the row's last insert or checkpoint, CRDT columns merged
-- from their deltas (merge is associative, commutative and idempotent:
-- the aggregate gives the state), plain columns the last value written.
-- Rows whose last record is a delete are left out.  Only the extension's
-- own functions and built-ins run (no cast to a user's type); records the
-- caller may not read are not seen (as_of checks before it calls this).
CREATE FUNCTION crdt_reconcile.history_states(rel pg_catalog.regclass, at pg_catalog.timestamptz,
		key pg_catalog.jsonb DEFAULT NULL)
	RETURNS TABLE (row_key pg_catalog.jsonb, state pg_catalog.jsonb)
	LANGUAGE plpgsql STABLE
	SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	clock_column pg_catalog.name := (SELECT x.clock_column FROM crdt_reconcile.tracked x WHERE x.relation = rel);
	merges pg_catalog.text := '';
	typ pg_catalog.name;
BEGIN
	FOR typ IN SELECT DISTINCT c.crdt_type FROM crdt_reconcile.history_columns(rel) c
	           WHERE c.crdt_type IS NOT NULL ORDER BY 1 LOOP
		merges := merges || pg_catalog.format(
			' UNION ALL SELECT l.row_key, e.key, pg_catalog.to_jsonb(@extschema@.crdt_merge(NULLIF(e.value OPERATOR(pg_catalog.->) ''d'', ''null''::pg_catalog.jsonb)::@extschema@.%1$I))'
			' FROM live l, pg_catalog.jsonb_each(l.change) e'
			' WHERE e.key = ANY (ARRAY(SELECT c.name::pg_catalog.text FROM crdt_reconcile.history_columns($1) c WHERE c.crdt_type = %2$L))'
			' AND e.value OPERATOR(pg_catalog.?) ''d'' GROUP BY l.row_key, e.key', typ, typ);
	END LOOP;
	RETURN QUERY EXECUTE
		'WITH h AS (SELECT h.id, h.row_key, h.kind, h.clock, h.change FROM crdt_reconcile.history h'
		'           WHERE h.relation OPERATOR(pg_catalog.=) $1 AND h.changed_at OPERATOR(pg_catalog.<=) $2'
		'             AND ($3 IS NULL OR h.row_key OPERATOR(pg_catalog.=) $3)),'
		' last_start AS (SELECT DISTINCT ON (h.row_key) h.row_key, h.id, h.kind FROM h'
		'                WHERE h.kind IN (''local_insert'', ''applied_insert'', ''checkpoint'', ''local_delete'', ''applied_delete'')'
		'                ORDER BY h.row_key, h.id DESC),'
		' live AS (SELECT h.* FROM h JOIN last_start s ON s.row_key OPERATOR(pg_catalog.=) h.row_key'
		'          WHERE h.id OPERATOR(pg_catalog.>=) s.id AND s.kind NOT LIKE ''%delete''),'
		' clocks AS (SELECT DISTINCT ON (l.row_key) l.row_key, l.clock FROM live l ORDER BY l.row_key, l.id DESC),'
		' columns AS (SELECT * FROM (SELECT DISTINCT ON (l.row_key, e.key) l.row_key, e.key, e.value OPERATOR(pg_catalog.->) ''n'' AS value'
		'            FROM live l, pg_catalog.jsonb_each(l.change) e WHERE e.value OPERATOR(pg_catalog.?) ''n'''
		'            ORDER BY l.row_key, e.key, l.id DESC) p' || merges || ')'
		' SELECT c.row_key, pg_catalog.jsonb_object_agg(c.key, c.value)'
		'   OPERATOR(pg_catalog.||) CASE WHEN $4 IS NULL THEN ''{}''::pg_catalog.jsonb'
		'        ELSE pg_catalog.jsonb_build_object($4, (SELECT pg_catalog.to_jsonb(k.clock) FROM clocks k'
		'                                                WHERE k.row_key OPERATOR(pg_catalog.=) c.row_key)) END'
		' FROM columns c GROUP BY c.row_key'
		USING rel, at, key, clock_column;
END
$$;

-- as_of before the history of rel begins (or before what compaction kept) cannot answer.
CREATE FUNCTION crdt_reconcile.history_check_time(rel pg_catalog.regclass, at pg_catalog.timestamptz,
		OUT recorded_since pg_catalog.timestamptz, OUT compacted_before pg_catalog.timestamptz)
	LANGUAGE plpgsql STABLE
	SET search_path = pg_catalog, pg_temp
	AS $$
BEGIN
	SELECT x.recorded_since, x.compacted_before INTO recorded_since, compacted_before
	FROM crdt_reconcile.history_settings x WHERE x.relation = rel;
	IF rel IS NULL OR at IS NULL THEN
		RAISE EXCEPTION 'as_of needs a table and a time' USING ERRCODE = 'null_value_not_allowed';
	ELSIF recorded_since IS NULL THEN
		RAISE EXCEPTION 'table % has no history', rel
			USING ERRCODE = 'object_not_in_prerequisite_state',
			      HINT = 'Turn it on with crdt_reconcile.set_history(table, true).';
	END IF;
	IF at < compacted_before THEN
		RAISE EXCEPTION 'the history of % before % was compacted', rel, compacted_before
			USING ERRCODE = 'data_exception',
			      DETAIL = pg_catalog.format('as_of can answer for times at or after %s.', compacted_before);
	END IF;
	IF at < recorded_since THEN
		RAISE EXCEPTION 'the history of % begins at %', rel, recorded_since
			USING ERRCODE = 'data_exception';
	END IF;
END
$$;

-- The row with key as this node held it at that time: its columns as
-- their jsonb forms ((r -> 'n')::gcounter gives the counter back), NULL
-- when it did not exist.  The caller must be allowed to read the whole row.
CREATE FUNCTION crdt_reconcile.as_of(rel pg_catalog.regclass, key pg_catalog.jsonb, at pg_catalog.timestamptz)
	RETURNS pg_catalog.jsonb
	LANGUAGE plpgsql STABLE
	SET search_path = pg_catalog, pg_temp
	AS $$
BEGIN
	PERFORM crdt_reconcile.history_check_time(rel, at);
	IF key IS NULL OR pg_catalog.jsonb_typeof(key) <> 'object' THEN
		RAISE EXCEPTION 'the key must be a jsonb object of the primary key''s columns, not %', coalesce(key::pg_catalog.text, 'NULL')
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	IF NOT crdt_reconcile.may_read_conflict(rel, NULL, key) THEN
		RAISE EXCEPTION 'permission denied for the history of % %', rel, key
			USING ERRCODE = 'insufficient_privilege',
			      HINT = 'as_of shows the whole row: it needs SELECT on every column and the row.';
	END IF;
	RETURN (SELECT s.state FROM crdt_reconcile.history_states(rel, at, key) s);
END
$$;
COMMENT ON FUNCTION crdt_reconcile.as_of(pg_catalog.regclass, pg_catalog.jsonb, pg_catalog.timestamptz) IS
	'the row with this key as this node held it at that time (jsonb), NULL when it did not exist';

CREATE FUNCTION crdt_reconcile.as_of(rel pg_catalog.regclass, at pg_catalog.timestamptz)
	RETURNS TABLE (row_key pg_catalog.jsonb, state pg_catalog.jsonb)
	LANGUAGE plpgsql STABLE
	SET search_path = pg_catalog, pg_temp
	AS $$
BEGIN
	PERFORM crdt_reconcile.history_check_time(rel, at);
	RETURN QUERY SELECT s.row_key, s.state FROM crdt_reconcile.history_states(rel, at) s
	             WHERE crdt_reconcile.may_read_conflict(rel, NULL, s.row_key)
	             ORDER BY s.row_key;
END
$$;
COMMENT ON FUNCTION crdt_reconcile.as_of(pg_catalog.regclass, pg_catalog.timestamptz) IS
	'every row of the table as this node held it at that time (the rows the caller may read in full)';

-- History is written only by the trigger and by the two functions below,
-- which check the caller themselves (C): they convert the table's values
-- as the caller and write the records as the history table's owner.
CREATE FUNCTION crdt_reconcile.history_checkpoint(rel pg_catalog.regclass) RETURNS pg_catalog.int8
	AS 'MODULE_PATHNAME', 'crdt_history_checkpoint' LANGUAGE C STRICT VOLATILE;
COMMENT ON FUNCTION crdt_reconcile.history_checkpoint(pg_catalog.regclass) IS
	'records every row of the table as it is now as a checkpoint (done when history is turned on); its owner only';

-- Folds the history of rel before that time into one checkpoint per row,
-- which takes the place (id and time) of the row's last folded record.
-- Run by crdt_history_compact as the history table's owner, after its checks.
CREATE FUNCTION crdt_reconcile.history_compact_rows(rel pg_catalog.regclass, before pg_catalog.timestamptz)
	RETURNS pg_catalog.int8
	LANGUAGE plpgsql
	SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	clock_column pg_catalog.name := (SELECT x.clock_column FROM crdt_reconcile.tracked x WHERE x.relation = rel);
	folded pg_catalog.int8;
BEGIN
	IF NOT EXISTS (SELECT FROM crdt_reconcile.history_settings x WHERE x.relation = rel) THEN
		RAISE EXCEPTION 'table % has no history', rel USING ERRCODE = 'object_not_in_prerequisite_state';
	END IF;
	WITH folded_rows AS (
		SELECT h.row_key, pg_catalog.max(h.id) AS last_id, pg_catalog.max(h.changed_at) AS last_at, pg_catalog.count(*) AS n
		FROM crdt_reconcile.history h WHERE h.relation = rel AND h.changed_at < before GROUP BY h.row_key),
	states AS (SELECT * FROM crdt_reconcile.history_states(rel, before - '1 microsecond'::pg_catalog.interval) s
	           WHERE s.row_key IN (SELECT f.row_key FROM folded_rows f)),
	gone AS (DELETE FROM crdt_reconcile.history h WHERE h.relation = rel AND h.changed_at < before RETURNING 1),
	written AS (
		INSERT INTO crdt_reconcile.history (id, relation, row_key, changed_at, kind, origin, clock, change)
		SELECT f.last_id, rel, s.row_key, f.last_at, 'checkpoint', pg_catalog.format('compacted %s records', f.n),
		       (s.state OPERATOR(pg_catalog.->) clock_column::pg_catalog.text)::@extschema@.vclock,
		       (SELECT pg_catalog.jsonb_object_agg(c.name, pg_catalog.jsonb_build_object(
		                   CASE WHEN c.crdt_type IS NULL THEN 'n' ELSE 'd' END,
		                   s.state OPERATOR(pg_catalog.->) c.name::pg_catalog.text))
		        FROM crdt_reconcile.history_columns(rel) c WHERE s.state OPERATOR(pg_catalog.?) c.name::pg_catalog.text)
		FROM states s JOIN folded_rows f ON f.row_key = s.row_key
		RETURNING 1)
	SELECT (SELECT pg_catalog.count(*) FROM gone) - (SELECT pg_catalog.count(*) FROM written) INTO folded;
	UPDATE crdt_reconcile.history_settings x
	SET compacted_before = GREATEST(x.compacted_before, before)
	WHERE x.relation = rel;
	RETURN folded;
END
$$;
REVOKE ALL ON FUNCTION crdt_reconcile.history_compact_rows(pg_catalog.regclass, pg_catalog.timestamptz) FROM PUBLIC;

CREATE FUNCTION crdt_reconcile.compact_history(rel pg_catalog.regclass, before pg_catalog.timestamptz)
	RETURNS pg_catalog.int8
	AS 'MODULE_PATHNAME', 'crdt_history_compact' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION crdt_reconcile.compact_history(pg_catalog.regclass, pg_catalog.timestamptz) IS
	'folds the history of a table before that time into one checkpoint per row; returns how many records it saved';

-- Compacts every table with a history_retention to that much history:
-- the job to schedule (pg_cron: SELECT cron.schedule('crdt-history',
-- '17 3 * * *', 'SELECT crdt_reconcile.compact_history_by_retention()')).
CREATE FUNCTION crdt_reconcile.compact_history_by_retention()
	RETURNS TABLE (relation pg_catalog.regclass, records_saved pg_catalog.int8)
	LANGUAGE sql
	SET search_path = pg_catalog, pg_temp
	AS $$
	SELECT s.relation, crdt_reconcile.compact_history(s.relation, pg_catalog.now() - s.history_retention)
	FROM crdt_reconcile.history_settings s
	WHERE s.history_retention IS NOT NULL
	  AND (crdt_reconcile.owns(s.relation) OR pg_catalog.pg_has_role('crdt_reconcile_admin', 'MEMBER'))
	ORDER BY s.relation
$$;

-- Settings change through set_history (owners only).
CREATE POLICY history_settings_insert ON crdt_reconcile.history_settings FOR INSERT
	WITH CHECK (crdt_reconcile.owns(relation));
CREATE POLICY history_settings_delete ON crdt_reconcile.history_settings FOR DELETE
	USING (crdt_reconcile.owns(relation));
CREATE POLICY history_settings_retention ON crdt_reconcile.history_settings FOR UPDATE
	USING (crdt_reconcile.owns(relation)) WITH CHECK (crdt_reconcile.owns(relation));
GRANT INSERT, DELETE ON crdt_reconcile.history_settings TO PUBLIC;
GRANT UPDATE (history_retention) ON crdt_reconcile.history_settings TO PUBLIC;

-- Turns history on or off for a tracked table (its owner only).  On, the
-- rows it holds now are recorded as checkpoints, so as_of answers from
-- then on; retention: what compact_history_by_retention() keeps.
CREATE FUNCTION crdt_reconcile.set_history(rel pg_catalog.regclass, enabled pg_catalog.bool DEFAULT true,
		history_retention pg_catalog.interval DEFAULT NULL)
	RETURNS pg_catalog.bool
	LANGUAGE plpgsql
	SET search_path = pg_catalog, pg_temp
	AS $$
BEGIN
	IF rel IS NULL OR enabled IS NULL THEN
		RAISE EXCEPTION 'set_history needs a table and true or false' USING ERRCODE = 'null_value_not_allowed';
	END IF;
	IF NOT crdt_reconcile.owns(rel) THEN
		RAISE EXCEPTION 'must be owner of table % to change its history', rel USING ERRCODE = 'insufficient_privilege';
	END IF;
	IF NOT EXISTS (SELECT FROM crdt_reconcile.tracked x WHERE x.relation = rel) THEN
		RAISE EXCEPTION 'table % is not tracked', rel
			USING ERRCODE = 'object_not_in_prerequisite_state',
			      HINT = 'Track it with history: crdt_reconcile.track(table, ..., history => true).';
	END IF;
	IF history_retention <= '0'::pg_catalog.interval THEN
		RAISE EXCEPTION 'history_retention must be a positive interval, not %', history_retention
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	IF enabled AND EXISTS (SELECT FROM crdt_reconcile.history_settings x WHERE x.relation = rel) THEN
		-- already on: only the retention changes
		UPDATE crdt_reconcile.history_settings x SET history_retention = set_history.history_retention
		WHERE x.relation = rel;
		RETURN true;
	END IF;
	IF EXISTS (SELECT FROM pg_trigger g WHERE g.tgrelid = rel AND g.tgname = 'crdt_reconcile_history') THEN
		EXECUTE pg_catalog.format('DROP TRIGGER crdt_reconcile_history ON %s', rel);
	END IF;
	DELETE FROM crdt_reconcile.history_settings x WHERE x.relation = rel;
	IF NOT enabled THEN
		RETURN false;
	END IF;
	INSERT INTO crdt_reconcile.history_settings (relation, history_retention) VALUES (rel, set_history.history_retention);
	EXECUTE pg_catalog.format(
		'CREATE TRIGGER crdt_reconcile_history AFTER INSERT OR UPDATE OR DELETE ON %s FOR EACH ROW '
		'EXECUTE FUNCTION crdt_reconcile.history_trigger()', rel);
	EXECUTE pg_catalog.format('ALTER TABLE %s ENABLE ALWAYS TRIGGER crdt_reconcile_history', rel);
	PERFORM crdt_reconcile.history_checkpoint(rel);
	RETURN true;
END
$$;
COMMENT ON FUNCTION crdt_reconcile.set_history(pg_catalog.regclass, pg_catalog.bool, pg_catalog.interval) IS
	'turns the history of a tracked table on (recording its rows as they are now) or off';

-- A dropped table, or its history trigger dropped: its settings go (its records stay).
CREATE FUNCTION crdt_reconcile.history_on_sql_drop() RETURNS event_trigger
	LANGUAGE plpgsql SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
	AS $$
BEGIN
	DELETE FROM crdt_reconcile.history_settings s
	WHERE s.relation::pg_catalog.oid IN (
		SELECT d.objid FROM pg_catalog.pg_event_trigger_dropped_objects() d WHERE d.object_type = 'table')
	   OR NOT EXISTS (SELECT FROM pg_trigger g WHERE g.tgrelid = s.relation AND g.tgname = 'crdt_reconcile_history');
END
$$;
CREATE EVENT TRIGGER crdt_reconcile_history_drop ON sql_drop
	EXECUTE FUNCTION crdt_reconcile.history_on_sql_drop();

-- ------------------------------------------------------------ conflict feed

-- Each conflict recorded open is announced, after commit (NOTIFY is
-- transactional), on the channel crdt_reconcile_conflicts: {"id",
-- "relation", "row_key", "column", "kind"}.  A key too long for a
-- notification (8000 bytes) is left out ("row_key": null, "truncated": true).
CREATE FUNCTION crdt_reconcile.announce_conflict() RETURNS pg_catalog.trigger
	LANGUAGE plpgsql
	SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	payload pg_catalog.jsonb := pg_catalog.jsonb_build_object('id', NEW.id,
		'relation', (SELECT pg_catalog.format('%I.%I', n.nspname, c.relname) FROM pg_class c
		             JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = NEW.relation),
		'row_key', NEW.row_key, 'column', NEW.column_name, 'kind', NEW.kind);
BEGIN
	IF pg_catalog.octet_length(payload::pg_catalog.text) > 7900 THEN
		payload := payload OPERATOR(pg_catalog.||) '{"row_key": null, "truncated": true}'::pg_catalog.jsonb;
	END IF;
	PERFORM pg_catalog.pg_notify('crdt_reconcile_conflicts', payload::pg_catalog.text);
	RETURN NULL;
END
$$;
CREATE TRIGGER conflicts_announce AFTER INSERT ON crdt_reconcile.conflicts
	FOR EACH ROW WHEN (NEW.status = 'open') EXECUTE FUNCTION crdt_reconcile.announce_conflict();
ALTER TABLE crdt_reconcile.conflicts ENABLE ALWAYS TRIGGER conflicts_announce;

-- ===================================================================
-- Sequence CRDTs rtext and rlist (issue 14): the types as the per-type
-- template makes them, the "sequence" aggregate family, and
-- src/sql/sequences.sql.
-- ===================================================================

-- crdt_merge aggregate support shared by: rtext, rlist
-- (one transition state shape; its serialized form names the type)
CREATE FUNCTION @extschema@.sequence_merge_combine(pg_catalog.internal, pg_catalog.internal)
	RETURNS pg_catalog.internal
	AS 'MODULE_PATHNAME', 'sequence_merge_combine' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION @extschema@.sequence_merge_serialize(pg_catalog.internal) RETURNS pg_catalog.bytea
	AS 'MODULE_PATHNAME', 'sequence_merge_serialize' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.sequence_merge_deserialize(pg_catalog.bytea, pg_catalog.internal)
	RETURNS pg_catalog.internal
	AS 'MODULE_PATHNAME', 'sequence_merge_deserialize' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

-- ------------------------------------------------------------------ rtext

CREATE TYPE @extschema@.rtext;

CREATE FUNCTION @extschema@.rtext_in(pg_catalog.cstring) RETURNS @extschema@.rtext
	AS 'MODULE_PATHNAME', 'rtext_in' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.rtext_out(@extschema@.rtext) RETURNS pg_catalog.cstring
	AS 'MODULE_PATHNAME', 'rtext_out' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.rtext_recv(pg_catalog.internal) RETURNS @extschema@.rtext
	AS 'MODULE_PATHNAME', 'rtext_recv' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.rtext_send(@extschema@.rtext) RETURNS pg_catalog.bytea
	AS 'MODULE_PATHNAME', 'rtext_send' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE TYPE @extschema@.rtext (
	INPUT = @extschema@.rtext_in,
	OUTPUT = @extschema@.rtext_out,
	RECEIVE = @extschema@.rtext_recv,
	SEND = @extschema@.rtext_send,
	INTERNALLENGTH = VARIABLE,
	STORAGE = extended
);
COMMENT ON TYPE @extschema@.rtext IS 'text edited concurrently (Fugue sequence CRDT): edits converge, concurrent runs never interleave';

CREATE FUNCTION @extschema@.rtext_eq(@extschema@.rtext, @extschema@.rtext) RETURNS pg_catalog.bool
	AS 'MODULE_PATHNAME', 'crdt_bytes_eq' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
CREATE FUNCTION @extschema@.rtext_ne(@extschema@.rtext, @extschema@.rtext) RETURNS pg_catalog.bool
	AS 'MODULE_PATHNAME', 'crdt_bytes_ne' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
CREATE FUNCTION @extschema@.rtext_hash(@extschema@.rtext) RETURNS pg_catalog.int4
	AS 'MODULE_PATHNAME', 'crdt_bytes_hash' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
CREATE FUNCTION @extschema@.rtext_hash_extended(@extschema@.rtext, pg_catalog.int8) RETURNS pg_catalog.int8
	AS 'MODULE_PATHNAME', 'crdt_bytes_hash_extended' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;

CREATE OPERATOR @extschema@.= (
	LEFTARG = @extschema@.rtext, RIGHTARG = @extschema@.rtext,
	FUNCTION = @extschema@.rtext_eq,
	COMMUTATOR = OPERATOR(@extschema@.=), NEGATOR = OPERATOR(@extschema@.<>),
	RESTRICT = pg_catalog.eqsel, JOIN = pg_catalog.eqjoinsel, HASHES, MERGES
);
CREATE OPERATOR @extschema@.<> (
	LEFTARG = @extschema@.rtext, RIGHTARG = @extschema@.rtext,
	FUNCTION = @extschema@.rtext_ne,
	COMMUTATOR = OPERATOR(@extschema@.<>), NEGATOR = OPERATOR(@extschema@.=),
	RESTRICT = pg_catalog.neqsel, JOIN = pg_catalog.neqjoinsel
);
CREATE OPERATOR CLASS @extschema@.rtext_hash_ops DEFAULT FOR TYPE @extschema@.rtext USING hash AS
	OPERATOR 1 @extschema@.= (@extschema@.rtext, @extschema@.rtext),
	FUNCTION 1 @extschema@.rtext_hash(@extschema@.rtext),
	FUNCTION 2 @extschema@.rtext_hash_extended(@extschema@.rtext, pg_catalog.int8);

-- A fixed total order for sorting and btree (no causal meaning).
CREATE FUNCTION @extschema@.rtext_cmp(@extschema@.rtext, @extschema@.rtext) RETURNS pg_catalog.int4
	AS 'MODULE_PATHNAME', 'rtext_cmp' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.rtext_sort_lt(@extschema@.rtext, @extschema@.rtext) RETURNS pg_catalog.bool
	AS 'MODULE_PATHNAME', 'rtext_sort_lt' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.rtext_sort_le(@extschema@.rtext, @extschema@.rtext) RETURNS pg_catalog.bool
	AS 'MODULE_PATHNAME', 'rtext_sort_le' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.rtext_sort_ge(@extschema@.rtext, @extschema@.rtext) RETURNS pg_catalog.bool
	AS 'MODULE_PATHNAME', 'rtext_sort_ge' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.rtext_sort_gt(@extschema@.rtext, @extschema@.rtext) RETURNS pg_catalog.bool
	AS 'MODULE_PATHNAME', 'rtext_sort_gt' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE OPERATOR @extschema@.~<~ (
	LEFTARG = @extschema@.rtext, RIGHTARG = @extschema@.rtext, FUNCTION = @extschema@.rtext_sort_lt,
	COMMUTATOR = OPERATOR(@extschema@.~>~), NEGATOR = OPERATOR(@extschema@.~>=~),
	RESTRICT = pg_catalog.scalarltsel, JOIN = pg_catalog.scalarltjoinsel
);
CREATE OPERATOR @extschema@.~<=~ (
	LEFTARG = @extschema@.rtext, RIGHTARG = @extschema@.rtext, FUNCTION = @extschema@.rtext_sort_le,
	COMMUTATOR = OPERATOR(@extschema@.~>=~), NEGATOR = OPERATOR(@extschema@.~>~),
	RESTRICT = pg_catalog.scalarlesel, JOIN = pg_catalog.scalarlejoinsel
);
CREATE OPERATOR @extschema@.~>=~ (
	LEFTARG = @extschema@.rtext, RIGHTARG = @extschema@.rtext, FUNCTION = @extschema@.rtext_sort_ge,
	COMMUTATOR = OPERATOR(@extschema@.~<=~), NEGATOR = OPERATOR(@extschema@.~<~),
	RESTRICT = pg_catalog.scalargesel, JOIN = pg_catalog.scalargejoinsel
);
CREATE OPERATOR @extschema@.~>~ (
	LEFTARG = @extschema@.rtext, RIGHTARG = @extschema@.rtext, FUNCTION = @extschema@.rtext_sort_gt,
	COMMUTATOR = OPERATOR(@extschema@.~<~), NEGATOR = OPERATOR(@extschema@.~<=~),
	RESTRICT = pg_catalog.scalargtsel, JOIN = pg_catalog.scalargtjoinsel
);
CREATE OPERATOR CLASS @extschema@.rtext_ops DEFAULT FOR TYPE @extschema@.rtext USING btree AS
	OPERATOR 1 @extschema@.~<~ (@extschema@.rtext, @extschema@.rtext),
	OPERATOR 2 @extschema@.~<=~ (@extschema@.rtext, @extschema@.rtext),
	OPERATOR 3 @extschema@.= (@extschema@.rtext, @extschema@.rtext),
	OPERATOR 4 @extschema@.~>=~ (@extschema@.rtext, @extschema@.rtext),
	OPERATOR 5 @extschema@.~>~ (@extschema@.rtext, @extschema@.rtext),
	FUNCTION 1 @extschema@.rtext_cmp(@extschema@.rtext, @extschema@.rtext);

CREATE FUNCTION @extschema@.crdt_merge(@extschema@.rtext, @extschema@.rtext) RETURNS @extschema@.rtext
	AS 'MODULE_PATHNAME', 'rtext_merge' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE OPERATOR @extschema@.|| (
	LEFTARG = @extschema@.rtext, RIGHTARG = @extschema@.rtext,
	FUNCTION = @extschema@.crdt_merge,
	COMMUTATOR = OPERATOR(@extschema@.||)
);
CREATE FUNCTION @extschema@.crdt_delta(newer @extschema@.rtext, since @extschema@.rtext) RETURNS @extschema@.rtext
	AS 'MODULE_PATHNAME', 'rtext_delta' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION @extschema@.crdt_hash(@extschema@.rtext) RETURNS pg_catalog.int8
	AS 'MODULE_PATHNAME', 'crdt_bytes_stable_hash' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.rtext_to_jsonb(@extschema@.rtext) RETURNS pg_catalog.jsonb
	AS 'MODULE_PATHNAME', 'rtext_to_jsonb' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.rtext_from_jsonb(pg_catalog.jsonb) RETURNS @extschema@.rtext
	AS 'MODULE_PATHNAME', 'rtext_from_jsonb' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.rtext_to_json(@extschema@.rtext) RETURNS pg_catalog.json
	AS 'MODULE_PATHNAME', 'rtext_to_json' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.rtext_from_json(pg_catalog.json) RETURNS @extschema@.rtext
	AS 'MODULE_PATHNAME', 'rtext_from_json' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE CAST (@extschema@.rtext AS pg_catalog.jsonb)
	WITH FUNCTION @extschema@.rtext_to_jsonb(@extschema@.rtext) AS ASSIGNMENT;
CREATE CAST (pg_catalog.jsonb AS @extschema@.rtext)
	WITH FUNCTION @extschema@.rtext_from_jsonb(pg_catalog.jsonb) AS ASSIGNMENT;
CREATE CAST (@extschema@.rtext AS pg_catalog.json)
	WITH FUNCTION @extschema@.rtext_to_json(@extschema@.rtext) AS ASSIGNMENT;
CREATE CAST (pg_catalog.json AS @extschema@.rtext)
	WITH FUNCTION @extschema@.rtext_from_json(pg_catalog.json) AS ASSIGNMENT;

CREATE FUNCTION @extschema@.rtext_merge_trans(pg_catalog.internal, @extschema@.rtext) RETURNS pg_catalog.internal
	AS 'MODULE_PATHNAME', 'rtext_merge_trans' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION @extschema@.rtext_merge_final(pg_catalog.internal) RETURNS @extschema@.rtext
	AS 'MODULE_PATHNAME', 'rtext_merge_final' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE AGGREGATE @extschema@.crdt_merge(@extschema@.rtext) (
	SFUNC = @extschema@.rtext_merge_trans,
	STYPE = pg_catalog.internal,
	SSPACE = 1024,
	FINALFUNC = @extschema@.rtext_merge_final,
	COMBINEFUNC = @extschema@.sequence_merge_combine,
	SERIALFUNC = @extschema@.sequence_merge_serialize,
	DESERIALFUNC = @extschema@.sequence_merge_deserialize,
	PARALLEL = SAFE
);

-- ------------------------------------------------------------------ rlist

CREATE TYPE @extschema@.rlist;

CREATE FUNCTION @extschema@.rlist_in(pg_catalog.cstring) RETURNS @extschema@.rlist
	AS 'MODULE_PATHNAME', 'rlist_in' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.rlist_out(@extschema@.rlist) RETURNS pg_catalog.cstring
	AS 'MODULE_PATHNAME', 'rlist_out' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.rlist_recv(pg_catalog.internal) RETURNS @extschema@.rlist
	AS 'MODULE_PATHNAME', 'rlist_recv' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.rlist_send(@extschema@.rlist) RETURNS pg_catalog.bytea
	AS 'MODULE_PATHNAME', 'rlist_send' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE TYPE @extschema@.rlist (
	INPUT = @extschema@.rlist_in,
	OUTPUT = @extschema@.rlist_out,
	RECEIVE = @extschema@.rlist_recv,
	SEND = @extschema@.rlist_send,
	INTERNALLENGTH = VARIABLE,
	STORAGE = extended
);
COMMENT ON TYPE @extschema@.rlist IS 'list of jsonb values edited concurrently (Fugue sequence CRDT)';

CREATE FUNCTION @extschema@.rlist_eq(@extschema@.rlist, @extschema@.rlist) RETURNS pg_catalog.bool
	AS 'MODULE_PATHNAME', 'crdt_bytes_eq' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
CREATE FUNCTION @extschema@.rlist_ne(@extschema@.rlist, @extschema@.rlist) RETURNS pg_catalog.bool
	AS 'MODULE_PATHNAME', 'crdt_bytes_ne' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
CREATE FUNCTION @extschema@.rlist_hash(@extschema@.rlist) RETURNS pg_catalog.int4
	AS 'MODULE_PATHNAME', 'crdt_bytes_hash' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
CREATE FUNCTION @extschema@.rlist_hash_extended(@extschema@.rlist, pg_catalog.int8) RETURNS pg_catalog.int8
	AS 'MODULE_PATHNAME', 'crdt_bytes_hash_extended' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;

CREATE OPERATOR @extschema@.= (
	LEFTARG = @extschema@.rlist, RIGHTARG = @extschema@.rlist,
	FUNCTION = @extschema@.rlist_eq,
	COMMUTATOR = OPERATOR(@extschema@.=), NEGATOR = OPERATOR(@extschema@.<>),
	RESTRICT = pg_catalog.eqsel, JOIN = pg_catalog.eqjoinsel, HASHES, MERGES
);
CREATE OPERATOR @extschema@.<> (
	LEFTARG = @extschema@.rlist, RIGHTARG = @extschema@.rlist,
	FUNCTION = @extschema@.rlist_ne,
	COMMUTATOR = OPERATOR(@extschema@.<>), NEGATOR = OPERATOR(@extschema@.=),
	RESTRICT = pg_catalog.neqsel, JOIN = pg_catalog.neqjoinsel
);
CREATE OPERATOR CLASS @extschema@.rlist_hash_ops DEFAULT FOR TYPE @extschema@.rlist USING hash AS
	OPERATOR 1 @extschema@.= (@extschema@.rlist, @extschema@.rlist),
	FUNCTION 1 @extschema@.rlist_hash(@extschema@.rlist),
	FUNCTION 2 @extschema@.rlist_hash_extended(@extschema@.rlist, pg_catalog.int8);

-- A fixed total order for sorting and btree (no causal meaning).
CREATE FUNCTION @extschema@.rlist_cmp(@extschema@.rlist, @extschema@.rlist) RETURNS pg_catalog.int4
	AS 'MODULE_PATHNAME', 'rlist_cmp' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.rlist_sort_lt(@extschema@.rlist, @extschema@.rlist) RETURNS pg_catalog.bool
	AS 'MODULE_PATHNAME', 'rlist_sort_lt' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.rlist_sort_le(@extschema@.rlist, @extschema@.rlist) RETURNS pg_catalog.bool
	AS 'MODULE_PATHNAME', 'rlist_sort_le' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.rlist_sort_ge(@extschema@.rlist, @extschema@.rlist) RETURNS pg_catalog.bool
	AS 'MODULE_PATHNAME', 'rlist_sort_ge' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.rlist_sort_gt(@extschema@.rlist, @extschema@.rlist) RETURNS pg_catalog.bool
	AS 'MODULE_PATHNAME', 'rlist_sort_gt' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE OPERATOR @extschema@.~<~ (
	LEFTARG = @extschema@.rlist, RIGHTARG = @extschema@.rlist, FUNCTION = @extschema@.rlist_sort_lt,
	COMMUTATOR = OPERATOR(@extschema@.~>~), NEGATOR = OPERATOR(@extschema@.~>=~),
	RESTRICT = pg_catalog.scalarltsel, JOIN = pg_catalog.scalarltjoinsel
);
CREATE OPERATOR @extschema@.~<=~ (
	LEFTARG = @extschema@.rlist, RIGHTARG = @extschema@.rlist, FUNCTION = @extschema@.rlist_sort_le,
	COMMUTATOR = OPERATOR(@extschema@.~>=~), NEGATOR = OPERATOR(@extschema@.~>~),
	RESTRICT = pg_catalog.scalarlesel, JOIN = pg_catalog.scalarlejoinsel
);
CREATE OPERATOR @extschema@.~>=~ (
	LEFTARG = @extschema@.rlist, RIGHTARG = @extschema@.rlist, FUNCTION = @extschema@.rlist_sort_ge,
	COMMUTATOR = OPERATOR(@extschema@.~<=~), NEGATOR = OPERATOR(@extschema@.~<~),
	RESTRICT = pg_catalog.scalargesel, JOIN = pg_catalog.scalargejoinsel
);
CREATE OPERATOR @extschema@.~>~ (
	LEFTARG = @extschema@.rlist, RIGHTARG = @extschema@.rlist, FUNCTION = @extschema@.rlist_sort_gt,
	COMMUTATOR = OPERATOR(@extschema@.~<~), NEGATOR = OPERATOR(@extschema@.~<=~),
	RESTRICT = pg_catalog.scalargtsel, JOIN = pg_catalog.scalargtjoinsel
);
CREATE OPERATOR CLASS @extschema@.rlist_ops DEFAULT FOR TYPE @extschema@.rlist USING btree AS
	OPERATOR 1 @extschema@.~<~ (@extschema@.rlist, @extschema@.rlist),
	OPERATOR 2 @extschema@.~<=~ (@extschema@.rlist, @extschema@.rlist),
	OPERATOR 3 @extschema@.= (@extschema@.rlist, @extschema@.rlist),
	OPERATOR 4 @extschema@.~>=~ (@extschema@.rlist, @extschema@.rlist),
	OPERATOR 5 @extschema@.~>~ (@extschema@.rlist, @extschema@.rlist),
	FUNCTION 1 @extschema@.rlist_cmp(@extschema@.rlist, @extschema@.rlist);

CREATE FUNCTION @extschema@.crdt_merge(@extschema@.rlist, @extschema@.rlist) RETURNS @extschema@.rlist
	AS 'MODULE_PATHNAME', 'rlist_merge' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE OPERATOR @extschema@.|| (
	LEFTARG = @extschema@.rlist, RIGHTARG = @extschema@.rlist,
	FUNCTION = @extschema@.crdt_merge,
	COMMUTATOR = OPERATOR(@extschema@.||)
);
CREATE FUNCTION @extschema@.crdt_delta(newer @extschema@.rlist, since @extschema@.rlist) RETURNS @extschema@.rlist
	AS 'MODULE_PATHNAME', 'rlist_delta' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION @extschema@.crdt_hash(@extschema@.rlist) RETURNS pg_catalog.int8
	AS 'MODULE_PATHNAME', 'crdt_bytes_stable_hash' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.rlist_to_jsonb(@extschema@.rlist) RETURNS pg_catalog.jsonb
	AS 'MODULE_PATHNAME', 'rlist_to_jsonb' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.rlist_from_jsonb(pg_catalog.jsonb) RETURNS @extschema@.rlist
	AS 'MODULE_PATHNAME', 'rlist_from_jsonb' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.rlist_to_json(@extschema@.rlist) RETURNS pg_catalog.json
	AS 'MODULE_PATHNAME', 'rlist_to_json' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.rlist_from_json(pg_catalog.json) RETURNS @extschema@.rlist
	AS 'MODULE_PATHNAME', 'rlist_from_json' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE CAST (@extschema@.rlist AS pg_catalog.jsonb)
	WITH FUNCTION @extschema@.rlist_to_jsonb(@extschema@.rlist) AS ASSIGNMENT;
CREATE CAST (pg_catalog.jsonb AS @extschema@.rlist)
	WITH FUNCTION @extschema@.rlist_from_jsonb(pg_catalog.jsonb) AS ASSIGNMENT;
CREATE CAST (@extschema@.rlist AS pg_catalog.json)
	WITH FUNCTION @extschema@.rlist_to_json(@extschema@.rlist) AS ASSIGNMENT;
CREATE CAST (pg_catalog.json AS @extschema@.rlist)
	WITH FUNCTION @extschema@.rlist_from_json(pg_catalog.json) AS ASSIGNMENT;

CREATE FUNCTION @extschema@.rlist_merge_trans(pg_catalog.internal, @extschema@.rlist) RETURNS pg_catalog.internal
	AS 'MODULE_PATHNAME', 'rlist_merge_trans' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION @extschema@.rlist_merge_final(pg_catalog.internal) RETURNS @extschema@.rlist
	AS 'MODULE_PATHNAME', 'rlist_merge_final' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE AGGREGATE @extschema@.crdt_merge(@extschema@.rlist) (
	SFUNC = @extschema@.rlist_merge_trans,
	STYPE = pg_catalog.internal,
	SSPACE = 1024,
	FINALFUNC = @extschema@.rlist_merge_final,
	COMBINEFUNC = @extschema@.sequence_merge_combine,
	SERIALFUNC = @extschema@.sequence_merge_serialize,
	DESERIALFUNC = @extschema@.sequence_merge_deserialize,
	PARALLEL = SAFE
);

-- ------------------------------------------------------- rtext and rlist
-- The sequence CRDTs (docs/SEQUENCES.md).  Positions are 0-based; a
-- position outside the sequence is SQLSTATE 2202E.  Mutators are STABLE:
-- the default replica id comes from crdt.replica_id.

CREATE FUNCTION @extschema@.crdt_splice(t @extschema@.rtext, pos pg_catalog.int4,
	delete_count pg_catalog.int4, insert pg_catalog.text, replica pg_catalog.text DEFAULT NULL)
	RETURNS @extschema@.rtext
	AS 'MODULE_PATHNAME', 'rtext_splice' LANGUAGE C STABLE PARALLEL SAFE;
CREATE FUNCTION @extschema@.crdt_value(t @extschema@.rtext) RETURNS pg_catalog.text
	AS 'MODULE_PATHNAME', 'rtext_value' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.crdt_length(t @extschema@.rtext) RETURNS pg_catalog.int4
	AS 'MODULE_PATHNAME', 'rtext_length' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.crdt_insert(l @extschema@.rlist, pos pg_catalog.int4,
	value pg_catalog.jsonb, replica pg_catalog.text DEFAULT NULL)
	RETURNS @extschema@.rlist
	AS 'MODULE_PATHNAME', 'rlist_insert' LANGUAGE C STABLE PARALLEL SAFE;
CREATE FUNCTION @extschema@.crdt_delete(l @extschema@.rlist, pos pg_catalog.int4,
	count pg_catalog.int4 DEFAULT 1)
	RETURNS @extschema@.rlist
	AS 'MODULE_PATHNAME', 'rlist_delete' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION @extschema@.crdt_value(l @extschema@.rlist) RETURNS pg_catalog.jsonb
	AS 'MODULE_PATHNAME', 'rlist_value' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.crdt_length(l @extschema@.rlist) RETURNS pg_catalog.int4
	AS 'MODULE_PATHNAME', 'rlist_length' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.crdt_get(l @extschema@.rlist, pos pg_catalog.int4) RETURNS pg_catalog.jsonb
	AS 'MODULE_PATHNAME', 'rlist_get' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

-- ================================================================ replica retirement (issue 12)
-- crdt_retire and crdt_retired_ids for the five types with replica
-- metadata, the registry crdt_reconcile.retired_replicas (published by
-- create_publication), retire_replica, compact_replicas, replica_metadata.

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

-- ======================================================================
-- bcounter (issue 13): the bounded (escrow) counter type, its crdt_merge
-- aggregate family and its functions.
-- ======================================================================

-- crdt_merge aggregate support shared by: bcounter
-- (one transition state shape; its serialized form names the type)
CREATE FUNCTION @extschema@.bcounter_merge_combine(pg_catalog.internal, pg_catalog.internal)
	RETURNS pg_catalog.internal
	AS 'MODULE_PATHNAME', 'bcounter_merge_combine' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION @extschema@.bcounter_merge_serialize(pg_catalog.internal) RETURNS pg_catalog.bytea
	AS 'MODULE_PATHNAME', 'bcounter_merge_serialize' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.bcounter_merge_deserialize(pg_catalog.bytea, pg_catalog.internal)
	RETURNS pg_catalog.internal
	AS 'MODULE_PATHNAME', 'bcounter_merge_deserialize' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

-- ------------------------------------------------------------------ bcounter

CREATE TYPE @extschema@.bcounter;

CREATE FUNCTION @extschema@.bcounter_in(pg_catalog.cstring) RETURNS @extschema@.bcounter
	AS 'MODULE_PATHNAME', 'bcounter_in' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.bcounter_out(@extschema@.bcounter) RETURNS pg_catalog.cstring
	AS 'MODULE_PATHNAME', 'bcounter_out' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.bcounter_recv(pg_catalog.internal) RETURNS @extschema@.bcounter
	AS 'MODULE_PATHNAME', 'bcounter_recv' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.bcounter_send(@extschema@.bcounter) RETURNS pg_catalog.bytea
	AS 'MODULE_PATHNAME', 'bcounter_send' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE TYPE @extschema@.bcounter (
	INPUT = @extschema@.bcounter_in,
	OUTPUT = @extschema@.bcounter_out,
	RECEIVE = @extschema@.bcounter_recv,
	SEND = @extschema@.bcounter_send,
	INTERNALLENGTH = VARIABLE,
	STORAGE = extended
);
COMMENT ON TYPE @extschema@.bcounter IS 'bounded (escrow) counter: spending only within per-replica rights, never below zero';

CREATE FUNCTION @extschema@.bcounter_eq(@extschema@.bcounter, @extschema@.bcounter) RETURNS pg_catalog.bool
	AS 'MODULE_PATHNAME', 'crdt_bytes_eq' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
CREATE FUNCTION @extschema@.bcounter_ne(@extschema@.bcounter, @extschema@.bcounter) RETURNS pg_catalog.bool
	AS 'MODULE_PATHNAME', 'crdt_bytes_ne' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
CREATE FUNCTION @extschema@.bcounter_hash(@extschema@.bcounter) RETURNS pg_catalog.int4
	AS 'MODULE_PATHNAME', 'crdt_bytes_hash' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
CREATE FUNCTION @extschema@.bcounter_hash_extended(@extschema@.bcounter, pg_catalog.int8) RETURNS pg_catalog.int8
	AS 'MODULE_PATHNAME', 'crdt_bytes_hash_extended' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;

CREATE OPERATOR @extschema@.= (
	LEFTARG = @extschema@.bcounter, RIGHTARG = @extschema@.bcounter,
	FUNCTION = @extschema@.bcounter_eq,
	COMMUTATOR = OPERATOR(@extschema@.=), NEGATOR = OPERATOR(@extschema@.<>),
	RESTRICT = pg_catalog.eqsel, JOIN = pg_catalog.eqjoinsel, HASHES, MERGES
);
CREATE OPERATOR @extschema@.<> (
	LEFTARG = @extschema@.bcounter, RIGHTARG = @extschema@.bcounter,
	FUNCTION = @extschema@.bcounter_ne,
	COMMUTATOR = OPERATOR(@extschema@.<>), NEGATOR = OPERATOR(@extschema@.=),
	RESTRICT = pg_catalog.neqsel, JOIN = pg_catalog.neqjoinsel
);
CREATE OPERATOR CLASS @extschema@.bcounter_hash_ops DEFAULT FOR TYPE @extschema@.bcounter USING hash AS
	OPERATOR 1 @extschema@.= (@extschema@.bcounter, @extschema@.bcounter),
	FUNCTION 1 @extschema@.bcounter_hash(@extschema@.bcounter),
	FUNCTION 2 @extschema@.bcounter_hash_extended(@extschema@.bcounter, pg_catalog.int8);

-- A fixed total order for sorting and btree (no causal meaning).
CREATE FUNCTION @extschema@.bcounter_cmp(@extschema@.bcounter, @extschema@.bcounter) RETURNS pg_catalog.int4
	AS 'MODULE_PATHNAME', 'bcounter_cmp' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.bcounter_sort_lt(@extschema@.bcounter, @extschema@.bcounter) RETURNS pg_catalog.bool
	AS 'MODULE_PATHNAME', 'bcounter_sort_lt' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.bcounter_sort_le(@extschema@.bcounter, @extschema@.bcounter) RETURNS pg_catalog.bool
	AS 'MODULE_PATHNAME', 'bcounter_sort_le' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.bcounter_sort_ge(@extschema@.bcounter, @extschema@.bcounter) RETURNS pg_catalog.bool
	AS 'MODULE_PATHNAME', 'bcounter_sort_ge' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.bcounter_sort_gt(@extschema@.bcounter, @extschema@.bcounter) RETURNS pg_catalog.bool
	AS 'MODULE_PATHNAME', 'bcounter_sort_gt' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE OPERATOR @extschema@.~<~ (
	LEFTARG = @extschema@.bcounter, RIGHTARG = @extschema@.bcounter, FUNCTION = @extschema@.bcounter_sort_lt,
	COMMUTATOR = OPERATOR(@extschema@.~>~), NEGATOR = OPERATOR(@extschema@.~>=~),
	RESTRICT = pg_catalog.scalarltsel, JOIN = pg_catalog.scalarltjoinsel
);
CREATE OPERATOR @extschema@.~<=~ (
	LEFTARG = @extschema@.bcounter, RIGHTARG = @extschema@.bcounter, FUNCTION = @extschema@.bcounter_sort_le,
	COMMUTATOR = OPERATOR(@extschema@.~>=~), NEGATOR = OPERATOR(@extschema@.~>~),
	RESTRICT = pg_catalog.scalarlesel, JOIN = pg_catalog.scalarlejoinsel
);
CREATE OPERATOR @extschema@.~>=~ (
	LEFTARG = @extschema@.bcounter, RIGHTARG = @extschema@.bcounter, FUNCTION = @extschema@.bcounter_sort_ge,
	COMMUTATOR = OPERATOR(@extschema@.~<=~), NEGATOR = OPERATOR(@extschema@.~<~),
	RESTRICT = pg_catalog.scalargesel, JOIN = pg_catalog.scalargejoinsel
);
CREATE OPERATOR @extschema@.~>~ (
	LEFTARG = @extschema@.bcounter, RIGHTARG = @extschema@.bcounter, FUNCTION = @extschema@.bcounter_sort_gt,
	COMMUTATOR = OPERATOR(@extschema@.~<~), NEGATOR = OPERATOR(@extschema@.~<=~),
	RESTRICT = pg_catalog.scalargtsel, JOIN = pg_catalog.scalargtjoinsel
);
CREATE OPERATOR CLASS @extschema@.bcounter_ops DEFAULT FOR TYPE @extschema@.bcounter USING btree AS
	OPERATOR 1 @extschema@.~<~ (@extschema@.bcounter, @extschema@.bcounter),
	OPERATOR 2 @extschema@.~<=~ (@extschema@.bcounter, @extschema@.bcounter),
	OPERATOR 3 @extschema@.= (@extschema@.bcounter, @extschema@.bcounter),
	OPERATOR 4 @extschema@.~>=~ (@extschema@.bcounter, @extschema@.bcounter),
	OPERATOR 5 @extschema@.~>~ (@extschema@.bcounter, @extschema@.bcounter),
	FUNCTION 1 @extschema@.bcounter_cmp(@extschema@.bcounter, @extschema@.bcounter);

CREATE FUNCTION @extschema@.crdt_merge(@extschema@.bcounter, @extschema@.bcounter) RETURNS @extschema@.bcounter
	AS 'MODULE_PATHNAME', 'bcounter_merge' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE OPERATOR @extschema@.|| (
	LEFTARG = @extschema@.bcounter, RIGHTARG = @extschema@.bcounter,
	FUNCTION = @extschema@.crdt_merge,
	COMMUTATOR = OPERATOR(@extschema@.||)
);
CREATE FUNCTION @extschema@.crdt_delta(newer @extschema@.bcounter, since @extschema@.bcounter) RETURNS @extschema@.bcounter
	AS 'MODULE_PATHNAME', 'bcounter_delta' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION @extschema@.crdt_hash(@extschema@.bcounter) RETURNS pg_catalog.int8
	AS 'MODULE_PATHNAME', 'crdt_bytes_stable_hash' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.bcounter_to_jsonb(@extschema@.bcounter) RETURNS pg_catalog.jsonb
	AS 'MODULE_PATHNAME', 'bcounter_to_jsonb' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.bcounter_from_jsonb(pg_catalog.jsonb) RETURNS @extschema@.bcounter
	AS 'MODULE_PATHNAME', 'bcounter_from_jsonb' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.bcounter_to_json(@extschema@.bcounter) RETURNS pg_catalog.json
	AS 'MODULE_PATHNAME', 'bcounter_to_json' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.bcounter_from_json(pg_catalog.json) RETURNS @extschema@.bcounter
	AS 'MODULE_PATHNAME', 'bcounter_from_json' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE CAST (@extschema@.bcounter AS pg_catalog.jsonb)
	WITH FUNCTION @extschema@.bcounter_to_jsonb(@extschema@.bcounter) AS ASSIGNMENT;
CREATE CAST (pg_catalog.jsonb AS @extschema@.bcounter)
	WITH FUNCTION @extschema@.bcounter_from_jsonb(pg_catalog.jsonb) AS ASSIGNMENT;
CREATE CAST (@extschema@.bcounter AS pg_catalog.json)
	WITH FUNCTION @extschema@.bcounter_to_json(@extschema@.bcounter) AS ASSIGNMENT;
CREATE CAST (pg_catalog.json AS @extschema@.bcounter)
	WITH FUNCTION @extschema@.bcounter_from_json(pg_catalog.json) AS ASSIGNMENT;

CREATE FUNCTION @extschema@.bcounter_merge_trans(pg_catalog.internal, @extschema@.bcounter) RETURNS pg_catalog.internal
	AS 'MODULE_PATHNAME', 'bcounter_merge_trans' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION @extschema@.bcounter_merge_final(pg_catalog.internal) RETURNS @extschema@.bcounter
	AS 'MODULE_PATHNAME', 'bcounter_merge_final' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE AGGREGATE @extschema@.crdt_merge(@extschema@.bcounter) (
	SFUNC = @extschema@.bcounter_merge_trans,
	STYPE = pg_catalog.internal,
	SSPACE = 1024,
	FINALFUNC = @extschema@.bcounter_merge_final,
	COMBINEFUNC = @extschema@.bcounter_merge_combine,
	SERIALFUNC = @extschema@.bcounter_merge_serialize,
	DESERIALFUNC = @extschema@.bcounter_merge_deserialize,
	PARALLEL = SAFE
);

-- ------------------------------------------------------ bounded counter functions

CREATE FUNCTION @extschema@.crdt_value(@extschema@.bcounter) RETURNS pg_catalog.int8
	AS 'MODULE_PATHNAME', 'bcounter_value' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.crdt_increment(counter @extschema@.bcounter, by pg_catalog.int8 DEFAULT 1,
		replica pg_catalog.text DEFAULT NULL)
	RETURNS @extschema@.bcounter
	AS 'MODULE_PATHNAME', 'bcounter_increment' LANGUAGE C STABLE PARALLEL SAFE;
CREATE FUNCTION @extschema@.crdt_decrement(counter @extschema@.bcounter, by pg_catalog.int8 DEFAULT 1,
		replica pg_catalog.text DEFAULT NULL)
	RETURNS @extschema@.bcounter
	AS 'MODULE_PATHNAME', 'bcounter_decrement' LANGUAGE C STABLE PARALLEL SAFE;
CREATE FUNCTION @extschema@.crdt_transfer(counter @extschema@.bcounter, by pg_catalog.int8,
		to_replica pg_catalog.text, replica pg_catalog.text DEFAULT NULL)
	RETURNS @extschema@.bcounter
	AS 'MODULE_PATHNAME', 'bcounter_transfer' LANGUAGE C STABLE PARALLEL SAFE;
CREATE FUNCTION @extschema@.crdt_rights(counter @extschema@.bcounter, replica pg_catalog.text DEFAULT NULL)
	RETURNS pg_catalog.int8
	AS 'MODULE_PATHNAME', 'bcounter_rights' LANGUAGE C STABLE PARALLEL SAFE;
CREATE FUNCTION @extschema@.crdt_entries(counter @extschema@.bcounter,
		OUT replica pg_catalog.text, OUT increments pg_catalog.int8, OUT decrements pg_catalog.int8,
		OUT rights pg_catalog.int8)
	RETURNS SETOF pg_catalog.record
	AS 'MODULE_PATHNAME', 'bcounter_entries' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

-- bcounter rights requests (issue 13): replicated requests, granted at most once
-- by the replica they name; create_publication publishes them too (at the end).

-- ------------------------------------------------------------ bcounter rights requests

-- Requests for bcounter rights, replicated with the tracked tables (they
-- join every publication crdt_reconcile.create_publication makes).  A
-- request names the one replica that may grant it; only a node whose
-- crdt.replica_id is that granter grants it, by a transfer written in the
-- same transaction that stamps granted_at under the request's row lock,
-- and a stamp, once made, never goes away (the merge below keeps it): so
-- each request is granted at most once, however many nodes and sessions
-- run grant_requests at the same time (replica ids being unique to their
-- nodes, as every CRDT of this extension needs).
CREATE TABLE crdt_reconcile.rights_requests (
	request_id pg_catalog.uuid PRIMARY KEY DEFAULT pg_catalog.gen_random_uuid(),
	relation_name pg_catalog.text NOT NULL,		-- schema.table, the same on every node
	row_key pg_catalog.jsonb NOT NULL,
	column_name pg_catalog.name NOT NULL,
	amount pg_catalog.int8 NOT NULL CHECK (amount OPERATOR(pg_catalog.>) 0),
	requester pg_catalog.text NOT NULL,
	granter pg_catalog.text NOT NULL CHECK (granter OPERATOR(pg_catalog.<>) requester),
	requested_by pg_catalog.name NOT NULL DEFAULT CURRENT_USER,
	requested_at pg_catalog.timestamptz NOT NULL DEFAULT pg_catalog.clock_timestamp(),
	granted_at pg_catalog.timestamptz
);
SELECT pg_catalog.pg_extension_config_dump('crdt_reconcile.rights_requests', '');
COMMENT ON TABLE crdt_reconcile.rights_requests IS
	'requests for bcounter rights: each granted at most once, by the replica it names; replicate it with the tracked tables';
ALTER TABLE crdt_reconcile.rights_requests ENABLE ROW LEVEL SECURITY;
-- who may see the table sees its requests; who may update the column asks and grants
CREATE POLICY rights_requests_read ON crdt_reconcile.rights_requests FOR SELECT
	USING (crdt_reconcile.may_see_table(pg_catalog.to_regclass(relation_name)));
CREATE POLICY rights_requests_ask ON crdt_reconcile.rights_requests FOR INSERT
	WITH CHECK (requested_by OPERATOR(pg_catalog.=) CURRENT_USER AND granted_at IS NULL
	            AND pg_catalog.has_column_privilege(pg_catalog.to_regclass(relation_name), column_name, 'UPDATE'));
CREATE POLICY rights_requests_grant ON crdt_reconcile.rights_requests FOR UPDATE
	USING (granter OPERATOR(pg_catalog.=) @extschema@.crdt_replica_id()
	       AND pg_catalog.has_column_privilege(pg_catalog.to_regclass(relation_name), column_name, 'UPDATE'));
GRANT SELECT, INSERT ON crdt_reconcile.rights_requests TO PUBLIC;
GRANT UPDATE (granted_at) ON crdt_reconcile.rights_requests TO PUBLIC;

-- A request arriving again (an echo, a repair) merges into the one there:
-- only granted_at can change, from NULL to a time, never back; a write
-- that changes nothing is dropped, which ends the echoes.
CREATE FUNCTION crdt_reconcile.rights_request_merge() RETURNS pg_catalog.trigger
	LANGUAGE plpgsql
	SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	stamp pg_catalog.timestamptz;
BEGIN
	IF TG_OP = 'UPDATE' THEN
		stamp := CASE WHEN OLD.granted_at IS NULL THEN NEW.granted_at
		              WHEN NEW.granted_at IS NULL THEN OLD.granted_at
		              ELSE LEAST(OLD.granted_at, NEW.granted_at) END;
		IF stamp IS NOT DISTINCT FROM OLD.granted_at THEN
			RETURN NULL;
		END IF;
		NEW := OLD;
		NEW.granted_at := stamp;
		RETURN NEW;
	END IF;
	SELECT r.granted_at INTO stamp FROM crdt_reconcile.rights_requests r WHERE r.request_id = NEW.request_id;
	IF NOT FOUND THEN
		RETURN NEW;
	END IF;
	IF stamp IS NULL AND NEW.granted_at IS NOT NULL THEN
		UPDATE crdt_reconcile.rights_requests r SET granted_at = NEW.granted_at WHERE r.request_id = NEW.request_id;
	END IF;
	RETURN NULL;
END
$$;
CREATE TRIGGER rights_request_merge BEFORE INSERT OR UPDATE ON crdt_reconcile.rights_requests
	FOR EACH ROW EXECUTE FUNCTION crdt_reconcile.rights_request_merge();
ALTER TABLE crdt_reconcile.rights_requests ENABLE ALWAYS TRIGGER rights_request_merge;

-- WHERE clause text matching the row of rel whose primary key is key ($1).
CREATE FUNCTION crdt_reconcile.rights_row_match(rel pg_catalog.regclass, key pg_catalog.jsonb)
	RETURNS pg_catalog.text
	LANGUAGE plpgsql STABLE
	SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	clause pg_catalog.text;
	wanted pg_catalog.int4;
BEGIN
	IF key IS NULL OR pg_catalog.jsonb_typeof(key) <> 'object' THEN
		RAISE EXCEPTION 'the row key must be a jsonb object of the primary key columns'
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	SELECT pg_catalog.string_agg(pg_catalog.format('%I OPERATOR(pg_catalog.=) ($1 OPERATOR(pg_catalog.->>) %L)::%s',
	                                               a.attname, a.attname, pg_catalog.format_type(a.atttypid, a.atttypmod)),
	                             ' AND ' ORDER BY a.attnum),
	       pg_catalog.count(*)
	INTO clause, wanted
	FROM pg_catalog.pg_index i
	JOIN pg_catalog.pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey)
	WHERE i.indrelid = rel AND i.indisprimary;
	IF clause IS NULL OR wanted <> (SELECT pg_catalog.count(*) FROM pg_catalog.jsonb_object_keys(key))
	   OR EXISTS (SELECT FROM pg_catalog.jsonb_object_keys(key) k
	              WHERE NOT EXISTS (SELECT FROM pg_catalog.pg_index i
	                                JOIN pg_catalog.pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey)
	                                WHERE i.indrelid = rel AND i.indisprimary AND a.attname = k)) THEN
		RAISE EXCEPTION 'the row key % does not name exactly the primary key columns of %', key, rel
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	RETURN clause;
END
$$;

-- Asks for amount rights on the bcounter column of one row, for this
-- replica (crdt.replica_id), from granter, or by default from the replica
-- that holds the most rights in this node's copy of the value.  Runs with
-- the caller's rights: who may not update the column may not ask.
CREATE FUNCTION crdt_reconcile.request_rights(rel pg_catalog.regclass, key pg_catalog.jsonb,
		"column" pg_catalog.name, amount pg_catalog.int8, granter pg_catalog.text DEFAULT NULL)
	RETURNS pg_catalog.uuid
	LANGUAGE plpgsql
	SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	me pg_catalog.text := @extschema@.crdt_replica_id();
	current @extschema@.bcounter;
	chosen pg_catalog.text := granter;
	id pg_catalog.uuid;
	found_rows pg_catalog.int8;
BEGIN
	IF me IS NULL THEN
		RAISE EXCEPTION 'crdt.replica_id must be set: rights are requested for this replica'
			USING ERRCODE = 'object_not_in_prerequisite_state';
	END IF;
	IF amount IS NULL OR amount <= 0 THEN
		RAISE EXCEPTION 'the amount of rights to request must be positive' USING ERRCODE = 'invalid_parameter_value';
	END IF;
	IF NOT EXISTS (SELECT FROM crdt_reconcile.tracked t WHERE t.relation = rel) THEN
		RAISE EXCEPTION '% is not a tracked table', rel USING ERRCODE = 'invalid_parameter_value';
	END IF;
	IF (SELECT crdt_reconcile.base_type(a.atttypid) FROM pg_catalog.pg_attribute a
	    WHERE a.attrelid = rel AND a.attname = "column" AND NOT a.attisdropped)
	   IS DISTINCT FROM '@extschema@.bcounter'::pg_catalog.regtype THEN
		RAISE EXCEPTION 'column % of % is not a bcounter', "column", rel USING ERRCODE = 'invalid_parameter_value';
	END IF;
	IF NOT pg_catalog.has_column_privilege(rel, "column", 'UPDATE') THEN
		RAISE EXCEPTION 'permission denied to request rights on column % of %', "column", rel
			USING ERRCODE = 'insufficient_privilege';
	END IF;
	EXECUTE pg_catalog.format('SELECT %I FROM %s WHERE %s', "column", rel, crdt_reconcile.rights_row_match(rel, key))
		INTO current USING key;
	GET DIAGNOSTICS found_rows = ROW_COUNT;
	IF found_rows = 0 THEN
		RAISE EXCEPTION 'no row of % has the key %', rel, key USING ERRCODE = 'no_data_found';
	END IF;
	IF chosen IS NULL THEN
		SELECT e.replica INTO chosen FROM @extschema@.crdt_entries(current) e
		WHERE e.replica <> me AND e.rights > 0 ORDER BY e.rights DESC, e.replica LIMIT 1;
		IF chosen IS NULL THEN
			RAISE EXCEPTION 'no other replica holds rights on this row''s %', "column"
				USING ERRCODE = 'check_violation';
		END IF;
	END IF;
	INSERT INTO crdt_reconcile.rights_requests (relation_name, row_key, column_name, amount, requester, granter)
	VALUES (rel::pg_catalog.text, key, "column", amount, me, chosen)
	RETURNING request_id INTO id;
	RETURN id;
END
$$;
COMMENT ON FUNCTION crdt_reconcile.request_rights(pg_catalog.regclass, pg_catalog.jsonb, pg_catalog.name, pg_catalog.int8, pg_catalog.text) IS
	'asks for bcounter rights on one row''s column for this replica; granted by crdt_reconcile.grant_requests() on the granter';

-- Grants the pending requests that name this replica as granter, each in
-- its own subtransaction: locks the request, transfers the rights with the
-- caller's rights on the table (a request the caller may not serve, or
-- one beyond this replica's rights, stays pending), stamps it granted.
-- Run it from the application or from pg_cron (see the README).
CREATE FUNCTION crdt_reconcile.grant_requests(max_requests pg_catalog.int4 DEFAULT 1000)
	RETURNS TABLE (request_id pg_catalog.uuid, granted pg_catalog.bool, reason pg_catalog.text)
	LANGUAGE plpgsql
	SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	me pg_catalog.text := @extschema@.crdt_replica_id();
	r crdt_reconcile.rights_requests;
	rel pg_catalog.regclass;
	n pg_catalog.int8;
BEGIN
	IF me IS NULL THEN
		RAISE EXCEPTION 'crdt.replica_id must be set: requests are granted by the replica they name'
			USING ERRCODE = 'object_not_in_prerequisite_state';
	END IF;
	FOR r IN SELECT * FROM crdt_reconcile.rights_requests q
	         WHERE q.granter = me AND q.granted_at IS NULL ORDER BY q.requested_at, q.request_id LIMIT max_requests LOOP
		request_id := r.request_id;
		BEGIN
			-- the lock serializes sessions granting at once; the recheck sees a stamp one of them made
			PERFORM FROM crdt_reconcile.rights_requests q
			WHERE q.request_id = r.request_id AND q.granted_at IS NULL FOR UPDATE;
			IF NOT FOUND THEN
				CONTINUE;
			END IF;
			rel := pg_catalog.to_regclass(r.relation_name);
			IF rel IS NULL OR NOT pg_catalog.has_column_privilege(rel, r.column_name, 'UPDATE') THEN
				granted := false;
				reason := 'this role may not update the column';
				RETURN NEXT;
				CONTINUE;
			END IF;
			EXECUTE pg_catalog.format('UPDATE %s SET %I = @extschema@.crdt_transfer(%I, $2, $3, $4) WHERE %s',
			                          rel, r.column_name, r.column_name, crdt_reconcile.rights_row_match(rel, r.row_key))
				USING r.row_key, r.amount, r.requester, me;
			GET DIAGNOSTICS n = ROW_COUNT;
			IF n <> 1 THEN
				RAISE EXCEPTION 'no row of % has the key %', rel, r.row_key USING ERRCODE = 'no_data_found';
			END IF;
			UPDATE crdt_reconcile.rights_requests q SET granted_at = pg_catalog.clock_timestamp()
			WHERE q.request_id = r.request_id;
			granted := true;
			reason := NULL;
		EXCEPTION WHEN check_violation OR no_data_found OR insufficient_privilege THEN
			granted := false;
			reason := SQLERRM;
		END;
		RETURN NEXT;
	END LOOP;
END
$$;
COMMENT ON FUNCTION crdt_reconcile.grant_requests(pg_catalog.int4) IS
	'grants, by transfer, the pending bcounter rights requests naming this replica as granter; each at most once';

-- ===================================================================
-- Definitions that several changes above touch, once, in their 0.5 form:
-- tracking_problem knows the sequence and bounded-counter types as CRDT
-- columns; create_publication (with the tombstone collection section
-- below) publishes the retired replicas, the rights requests and the mesh
-- nodes.

CREATE OR REPLACE FUNCTION crdt_reconcile.tracking_problem(rel pg_catalog.regclass, shape pg_catalog.text,
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

-- ===================================================================
-- Tombstone collection (issue 16): tombstones carry the mesh nodes that
-- acknowledged their clock (seen_by, merged with the clock as a pair), the
-- mesh's nodes, and collect_tombstones removes a tombstone once every node
-- has acknowledged it.  An upgraded mesh adds crdt_reconcile.mesh_nodes to
-- its publications (publication_status says so) and each node joins it
-- (collect_tombstones or join_mesh).

ALTER TABLE crdt_reconcile.tombstones ADD COLUMN seen_by @extschema@.gset NOT NULL DEFAULT '{}';

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
CREATE OR REPLACE FUNCTION crdt_reconcile.tombstone_merge() RETURNS pg_catalog.trigger
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

-- One step of tombstone collection on this node; run it now and then (from
-- pg_cron or the application), never inside a longer transaction.  A round
-- acknowledges the tombstones this node holds in three steps, each taken
-- when it can be: it opens (the tombstones this node has not acknowledged
-- yet, with their clocks); once no transaction older than the round is
-- left here, it notes the WAL position (every write this node made without
-- having seen those tombstones is before it); once every logical slot of
-- this database has confirmed that position (every subscriber has all of
-- it), it acknowledges them (adds this node to seen_by, which replicates).
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
GRANT EXECUTE ON FUNCTION crdt_reconcile.join_mesh(pg_catalog.text) TO crdt_reconcile_admin;
GRANT EXECUTE ON FUNCTION crdt_reconcile.leave_mesh(pg_catalog.text) TO crdt_reconcile_admin;
GRANT EXECUTE ON FUNCTION crdt_reconcile.collect_tombstones() TO crdt_reconcile_admin;

CREATE OR REPLACE FUNCTION crdt_reconcile.create_publication(publication pg_catalog.name,
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
		publication, concat_ws(', ', members, 'crdt_reconcile.tombstones', 'crdt_reconcile.mesh_nodes',
		                        'crdt_reconcile.retired_replicas', 'crdt_reconcile.rights_requests'));
	EXECUTE statement;
	IF me IS NOT NULL AND NOT EXISTS (SELECT FROM crdt_reconcile.this_node) THEN
		PERFORM crdt_reconcile.join_mesh(me);
	END IF;
	RETURN statement;
END
$$;

CREATE OR REPLACE VIEW crdt_reconcile.publication_status AS
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
            WHEN t.shape = 'merge_in_place' AND t.clock_column IS NOT NULL AND NOT EXISTS (
                 SELECT FROM pg_catalog.pg_publication_tables x WHERE x.pubname = p.pubname
                 AND x.schemaname = 'crdt_reconcile' AND x.tablename = 'mesh_nodes')
            THEN 'does not publish crdt_reconcile.mesh_nodes: tombstones are never collected'
            WHEN t.shape = 'replica_rows' AND pt.rowfilter IS NULL
            THEN 'publishes every replica''s rows, not only this replica''s: in a mesh they travel in circles'
       END AS problem
FROM pg_catalog.pg_publication p
JOIN pg_catalog.pg_publication_tables pt ON pt.pubname = p.pubname
JOIN crdt_reconcile.tracked t
  ON t.relation OPERATOR(pg_catalog.=) pg_catalog.to_regclass(pg_catalog.format('%I.%I', pt.schemaname, pt.tablename));
COMMENT ON FUNCTION crdt_reconcile.create_publication(pg_catalog.name, pg_catalog.regclass[]) IS
	'creates the publication a mesh node needs: tracked tables (replica rows filtered to this replica), tombstones, mesh nodes, no truncate; joins this node to the mesh';

-- ==== retire2 (issue 12) ====
-- Dropping retirement markers: the acknowledgement round shared with
-- tombstone collection, crdt_compact, the registry's acknowledgements and
-- compaction groups, compact_replicas in two steps, the retired_writer kind.

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

REVOKE ALL ON FUNCTION crdt_reconcile.mesh_self() FROM PUBLIC;
REVOKE ALL ON FUNCTION crdt_reconcile.mesh_incomplete(pg_catalog.text) FROM PUBLIC;
REVOKE ALL ON FUNCTION crdt_reconcile.round_advance(pg_catalog.regclass, pg_catalog.bool) FROM PUBLIC;

-- The second step (docs/RETIREMENT.md, "Dropping the markers"): the
-- markers and entries of replicas replaced by one marker of their
-- compaction group, holding the sum.  compact_replicas uses it once it is
-- safe; the tracked-table trigger lifts every written value through the
-- registry's groups.
CREATE FUNCTION @extschema@.crdt_compact(value @extschema@.vclock, replicas pg_catalog.text[],
		into_group pg_catalog.text) RETURNS @extschema@.vclock
	AS 'MODULE_PATHNAME', 'vclock_compact' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.crdt_compact(value @extschema@.gcounter, replicas pg_catalog.text[],
		into_group pg_catalog.text) RETURNS @extschema@.gcounter
	AS 'MODULE_PATHNAME', 'gcounter_compact' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.crdt_compact(value @extschema@.pncounter, replicas pg_catalog.text[],
		into_group pg_catalog.text) RETURNS @extschema@.pncounter
	AS 'MODULE_PATHNAME', 'pncounter_compact' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.crdt_compact(@extschema@.gcounter, pg_catalog.text[], pg_catalog.text) IS
	'the markers and entries of replicas replaced by one marker of their compaction group (exact once every copy holds their final entries)';

ALTER TABLE crdt_reconcile.retired_replicas
	ADD COLUMN acknowledged_by @extschema@.orset NOT NULL DEFAULT '{}',
	ADD COLUMN compacted_into pg_catalog.text;

-- Every backend (apply workers too) caches the compaction groups of the
-- registry for the tracked-table trigger: a change drops the caches.
CREATE FUNCTION crdt_reconcile.registry_changed() RETURNS pg_catalog.trigger
	AS 'MODULE_PATHNAME', 'crdt_registry_changed' LANGUAGE C;
CREATE TRIGGER registry_changed AFTER INSERT OR UPDATE OR DELETE ON crdt_reconcile.retired_replicas
	FOR EACH ROW EXECUTE FUNCTION crdt_reconcile.registry_changed();
ALTER TABLE crdt_reconcile.retired_replicas ENABLE ALWAYS TRIGGER registry_changed;

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
-- anything twice.  orset and mvreg keep a retired replica's dots (see
-- docs/RETIREMENT.md), so nothing is folded there; nor in the row clocks
-- of tracked tables, which count the nodes' writes, not the agents'.
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
	FOR c IN SELECT * FROM crdt_reconcile.compactable_columns() LOOP
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

-- The counter and clock columns (not row clocks) of the tracked tables
-- that the caller may read and update; a NOTICE for the others.
CREATE FUNCTION crdt_reconcile.compactable_columns(OUT relation pg_catalog.regclass, OUT column_name pg_catalog.name)
	RETURNS SETOF pg_catalog.record
	LANGUAGE plpgsql STABLE
	SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	c record;
BEGIN
	FOR c IN SELECT * FROM crdt_reconcile.retirable_columns() x
	         WHERE x.type_name IN ('vclock', 'gcounter', 'pncounter') AND NOT x.row_clock LOOP
		IF NOT pg_catalog.has_column_privilege(c.relation, c.column_name, 'UPDATE')
		   OR NOT pg_catalog.has_column_privilege(c.relation, c.column_name, 'SELECT') THEN
			RAISE NOTICE 'compact_replicas: skipping %.%: no SELECT and UPDATE privilege', c.relation, c.column_name;
			CONTINUE;
		END IF;
		relation := c.relation;
		column_name := c.column_name;
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

REVOKE ALL ON FUNCTION crdt_reconcile.acknowledge_retired(pg_catalog.text) FROM PUBLIC;
REVOKE ALL ON FUNCTION crdt_reconcile.assign_groups(pg_catalog.text) FROM PUBLIC;

ALTER TABLE crdt_reconcile.conflicts DROP CONSTRAINT conflicts_kind_check;
ALTER TABLE crdt_reconcile.conflicts ADD CONSTRAINT conflicts_kind_check CHECK (kind IN ('concurrent_update',
	'stale_update', 'insert_exists', 'multi_value', 'invariant_violation', 'merge_logged', 'update_deleted',
	'retired_writer'));

-- ==== bcounter2 (issue 13) ====
-- resolve() reaches a bcounter, rtext or rlist value by the type's own
-- operations (as src/sql/audit.sql), instead of replacing the CRDT state.

-- The counter at the wanted value by this replica's own operation: an
-- increment, or a decrement within its rights (SQLSTATE 23514 naming
-- them: rights are moved to it with crdt_transfer or request_rights).
CREATE FUNCTION crdt_reconcile.bcounter_arbitrate(b @extschema@.bcounter, wanted pg_catalog.int8)
	RETURNS @extschema@.bcounter
	LANGUAGE sql STABLE
	SET search_path = pg_catalog, pg_temp
	AS $$
SELECT CASE WHEN w.d > 0 THEN @extschema@.crdt_increment(w.b, w.d)
            WHEN w.d < 0 THEN @extschema@.crdt_decrement(w.b, -w.d)
            ELSE w.b END
FROM (SELECT v.b, wanted - @extschema@.crdt_value(v.b) AS d
      FROM (SELECT coalesce(b, '{}'::@extschema@.bcounter) AS b) v) w
$$;

-- How many elements two arrays have in common at their start, and then
-- at their end: what lies between is all that differs.
CREATE FUNCTION crdt_reconcile.common_ends(cur pg_catalog.jsonb, wanted pg_catalog.jsonb,
		OUT pre pg_catalog.int4, OUT suf pg_catalog.int4)
	LANGUAGE plpgsql IMMUTABLE
	SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	n pg_catalog.int4 := pg_catalog.jsonb_array_length(cur);
	m pg_catalog.int4 := pg_catalog.jsonb_array_length(wanted);
BEGIN
	pre := 0;
	suf := 0;
	WHILE pre < least(n, m) AND cur -> pre = wanted -> pre LOOP
		pre := pre + 1;
	END LOOP;
	WHILE suf < least(n, m) - pre AND cur -> (n - 1 - suf) = wanted -> (m - 1 - suf) LOOP
		suf := suf + 1;
	END LOOP;
END
$$;

-- The text made the wanted one by one splice of the characters that
-- differ: the common beginning and end are kept, so that concurrent
-- edits there survive.
CREATE FUNCTION crdt_reconcile.rtext_arbitrate(t @extschema@.rtext, wanted pg_catalog.text)
	RETURNS @extschema@.rtext LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
SELECT CASE WHEN x.cur = wanted THEN t
            ELSE @extschema@.crdt_splice(t, e.pre, pg_catalog.length(x.cur) - e.pre - e.suf,
                     pg_catalog.substr(wanted, e.pre + 1, pg_catalog.length(wanted) - e.pre - e.suf)) END
FROM (SELECT coalesce(@extschema@.crdt_value(t), '') AS cur) x,
     crdt_reconcile.common_ends(pg_catalog.to_jsonb(pg_catalog.string_to_array(x.cur, NULL)),
                                pg_catalog.to_jsonb(pg_catalog.string_to_array(wanted, NULL))) e
$$;

-- The list made the wanted one: the elements between the common first
-- and last ones deleted, the wanted ones inserted there.
CREATE FUNCTION crdt_reconcile.rlist_arbitrate(l @extschema@.rlist, wanted pg_catalog.jsonb)
	RETURNS @extschema@.rlist
	LANGUAGE plpgsql STABLE
	SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	cur pg_catalog.jsonb := coalesce(@extschema@.crdt_value(l), '[]');
	n pg_catalog.int4 := pg_catalog.jsonb_array_length(cur);
	m pg_catalog.int4 := pg_catalog.jsonb_array_length(wanted);
	e record;
BEGIN
	e := crdt_reconcile.common_ends(cur, wanted);
	IF n - e.pre - e.suf > 0 THEN
		l := @extschema@.crdt_delete(l, e.pre, n - e.pre - e.suf);
	END IF;
	FOR k IN e.pre .. m - e.suf - 1 LOOP
		l := @extschema@.crdt_insert(l, k, wanted -> k);
	END LOOP;
	RETURN l;
END
$$;

CREATE OR REPLACE FUNCTION crdt_reconcile.arbitrated_expression(col pg_catalog.name, typ pg_catalog.regtype,
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
	WHEN 'bcounter' THEN
		-- an increment, or a decrement within this replica's rights (else 23514)
		IF pg_catalog.jsonb_typeof(value) <> 'number' OR (value::pg_catalog.text)::pg_catalog.numeric < 0 THEN
			RAISE EXCEPTION 'a bcounter is arbitrated with a number of at least 0, not %', value
				USING ERRCODE = 'invalid_parameter_value';
		END IF;
		RETURN pg_catalog.format('crdt_reconcile.bcounter_arbitrate(%s, %L::pg_catalog.int8)',
			base, value::pg_catalog.text);
	WHEN 'rtext' THEN
		IF pg_catalog.jsonb_typeof(value) <> 'string' THEN
			RAISE EXCEPTION 'an rtext is arbitrated with a string, not %', value
				USING ERRCODE = 'invalid_parameter_value';
		END IF;
		RETURN pg_catalog.format('crdt_reconcile.rtext_arbitrate(%s, %L::pg_catalog.text)', base, value #>> '{}');
	WHEN 'rlist' THEN
		IF pg_catalog.jsonb_typeof(value) <> 'array' THEN
			RAISE EXCEPTION 'an rlist is arbitrated with an array of elements, not %', value
				USING ERRCODE = 'invalid_parameter_value';
		END IF;
		RETURN pg_catalog.format('crdt_reconcile.rlist_arbitrate(%s, %L::pg_catalog.jsonb)', base, value);
	WHEN 'vclock' THEN
		RAISE EXCEPTION 'a vclock column cannot be arbitrated' USING ERRCODE = 'invalid_parameter_value';
	ELSE
		RETURN pg_catalog.format('(pg_catalog.jsonb_populate_record(NULL::%s, %L::pg_catalog.jsonb)).%I',
			rel, pg_catalog.jsonb_build_object(col, value), col);
	END CASE;
END
$$;

-- ---------------------------------------------------------------------------
-- compaction (helper session): orset and mvreg compacted too (issue 12):
-- crdt_compact for orset and mvreg, crdt_compact_status for every
-- retirable type, context_replicas; compactable_columns returns the type
-- (dropped and created again), fold_replicas, compact_replicas and
-- metadata_size in their final form (docs/RETIREMENT.md).
-- ---------------------------------------------------------------------------
CREATE FUNCTION @extschema@.crdt_compact(value @extschema@.orset, replicas pg_catalog.text[],
		into_group pg_catalog.text) RETURNS @extschema@.orset
	AS 'MODULE_PATHNAME', 'orset_compact' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.crdt_compact(value @extschema@.mvreg, replicas pg_catalog.text[],
		into_group pg_catalog.text) RETURNS @extschema@.mvreg
	AS 'MODULE_PATHNAME', 'mvreg_compact' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.crdt_compact_status(value @extschema@.vclock, replicas pg_catalog.text[],
		into_group pg_catalog.text) RETURNS pg_catalog.text
	AS 'MODULE_PATHNAME', 'vclock_compact_status' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.crdt_compact_status(value @extschema@.gcounter, replicas pg_catalog.text[],
		into_group pg_catalog.text) RETURNS pg_catalog.text
	AS 'MODULE_PATHNAME', 'gcounter_compact_status' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.crdt_compact_status(value @extschema@.pncounter, replicas pg_catalog.text[],
		into_group pg_catalog.text) RETURNS pg_catalog.text
	AS 'MODULE_PATHNAME', 'pncounter_compact_status' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.crdt_compact_status(value @extschema@.orset, replicas pg_catalog.text[],
		into_group pg_catalog.text) RETURNS pg_catalog.text
	AS 'MODULE_PATHNAME', 'orset_compact_status' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.crdt_compact_status(value @extschema@.mvreg, replicas pg_catalog.text[],
		into_group pg_catalog.text) RETURNS pg_catalog.text
	AS 'MODULE_PATHNAME', 'mvreg_compact_status' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.crdt_compact(@extschema@.orset, pg_catalog.text[], pg_catalog.text) IS
	'the dots and context entries of replicas renamed into their compaction group (their final counters end to end); 55000 when the value is not ready';
COMMENT ON FUNCTION @extschema@.crdt_compact_status(@extschema@.orset, pg_catalog.text[], pg_catalog.text) IS
	'what crdt_compact would do: unchanged, ready, or waiting (the contexts of the replicas are not final)';


CREATE FUNCTION crdt_reconcile.context_replicas(value_text pg_catalog.text) RETURNS SETOF pg_catalog.text
	LANGUAGE sql IMMUTABLE STRICT
	SET search_path = pg_catalog, pg_temp
	AS $$
	SELECT pg_catalog.jsonb_object_keys(
		CASE WHEN pg_catalog.jsonb_typeof(j) OPERATOR(pg_catalog.=) 'array' THEN j OPERATOR(pg_catalog.->) 0 ELSE j END
		OPERATOR(pg_catalog.->) 'context')
	FROM (SELECT value_text::pg_catalog.jsonb AS j) s
$$;

DROP FUNCTION crdt_reconcile.compactable_columns();
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

CREATE OR REPLACE FUNCTION crdt_reconcile.fold_replicas()
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

CREATE OR REPLACE FUNCTION crdt_reconcile.compact_replicas()
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

CREATE OR REPLACE FUNCTION crdt_reconcile.metadata_size()
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
