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
