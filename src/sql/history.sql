-- ------------------------------------------------------------ history and time travel

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
-- one index serves provenance (a row's records) and as_of for one row; no
-- other, to keep a record small and its write cheap: a hash index (about 37
-- bytes a record and no jsonb comparisons on insert; a btree on (relation,
-- row_key, id) took 72 bytes and 1.7 times the time to insert into)
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

-- as_of before the history of rel begins (or before what compaction kept)
-- cannot answer; the bounds it can answer within.
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
