-- ------------------------------------------------------------ conflict audit

-- Every conflict a tracked table's merge recorded.  The trigger writes the
-- records as the audit table's owner, whatever the writer's rights; who
-- reads and resolves which records is up to the policies below.
CREATE SEQUENCE crdt_reconcile.conflicts_id_seq AS pg_catalog.int8;
CREATE TABLE crdt_reconcile.conflicts (
	id pg_catalog.int8 PRIMARY KEY
		DEFAULT pg_catalog.nextval('crdt_reconcile.conflicts_id_seq'::pg_catalog.regclass),
	detected_at pg_catalog.timestamptz NOT NULL DEFAULT pg_catalog.clock_timestamp(),
	relation pg_catalog.regclass NOT NULL,
	row_key pg_catalog.jsonb NOT NULL,
	column_name pg_catalog.name,
	kind pg_catalog.text NOT NULL CHECK (kind IN ('concurrent_update', 'stale_update', 'insert_exists',
		'multi_value', 'invariant_violation', 'merge_logged', 'update_deleted', 'retired_writer')),
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
-- an applied write looks up the open records of its row, to close those it settled
CREATE INDEX conflicts_open_row ON crdt_reconcile.conflicts (relation, row_key) WHERE status = 'open';
SELECT pg_catalog.pg_extension_config_dump('crdt_reconcile.conflicts', '');
SELECT pg_catalog.pg_extension_config_dump('crdt_reconcile.conflicts_id_seq', '');
COMMENT ON TABLE crdt_reconcile.conflicts IS
	'every conflict a tracked table''s merge recorded: both sides, the result, and its resolution';

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

ALTER TABLE crdt_reconcile.conflicts ENABLE ROW LEVEL SECURITY;
CREATE POLICY conflicts_read ON crdt_reconcile.conflicts FOR SELECT
	USING (crdt_reconcile.may_read_conflict(relation, column_name, row_key));
CREATE POLICY conflicts_resolve ON crdt_reconcile.conflicts FOR UPDATE
	USING (crdt_reconcile.may_resolve_conflict(relation, column_name, row_key))
	WITH CHECK (crdt_reconcile.may_resolve_conflict(relation, column_name, row_key));
CREATE POLICY conflicts_purge ON crdt_reconcile.conflicts FOR DELETE
	USING (pg_catalog.pg_has_role('crdt_reconcile_admin', 'MEMBER'));
GRANT SELECT ON crdt_reconcile.conflicts TO PUBLIC;
GRANT UPDATE (status, resolution, resolved_value, resolved_at, resolved_by, note)
	ON crdt_reconcile.conflicts TO PUBLIC;
GRANT DELETE ON crdt_reconcile.conflicts TO crdt_reconcile_admin;

-- Who resolved and when is stamped here, so it cannot be forged.  The one
-- exception is the trigger closing a record that a replicated write
-- settled: it writes as the audit table's owner and names the origin.
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

-- One pass over the set and the wanted elements (C), instead of a
-- mutator call per element.
CREATE FUNCTION crdt_reconcile.set_arbitrate(s @extschema@.gset, wanted pg_catalog.text[])
	RETURNS @extschema@.gset AS 'MODULE_PATHNAME', 'crdt_set_arbitrate' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION crdt_reconcile.set_arbitrate(s @extschema@.twopset, wanted pg_catalog.text[])
	RETURNS @extschema@.twopset AS 'MODULE_PATHNAME', 'crdt_set_arbitrate' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION crdt_reconcile.set_arbitrate(s @extschema@.orset, wanted pg_catalog.text[],
		replica pg_catalog.text DEFAULT NULL)
	RETURNS @extschema@.orset AS 'MODULE_PATHNAME', 'crdt_set_arbitrate' LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION crdt_reconcile.set_arbitrate(@extschema@.orset, pg_catalog.text[], pg_catalog.text) IS
	'the set holding exactly the wanted elements, by the set''s own rules (used by resolve)';

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

-- The arbitrated value is written as an ordinary UPDATE under the
-- caller's rights; keys are matched with the primary key's own operators
-- (any key type, any search_path), a partitioned table through its root.
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
