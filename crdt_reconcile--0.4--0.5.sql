/* crdt_reconcile--0.4--0.5.sql — from 0.4 to 0.5.  Each change keeps its
 * own section below, in the order the sections were written; the full
 * script of 0.5 is built from src/sql/, and sql/upgrade.sql checks that
 * this script brings a 0.4 database to exactly the same objects.
 */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION crdt_reconcile UPDATE TO '0.5'" to load this file. \quit

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
-- by the replica they name; create_publication publishes them too.

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
		publication, concat_ws(', ', members, 'crdt_reconcile.tombstones', 'crdt_reconcile.rights_requests'));
	EXECUTE statement;
	RETURN statement;
END
$$;

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

-- bcounter columns are CRDT columns of tracked tables
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
		  AND t.typname IN ('vclock', 'gcounter', 'pncounter', 'gset', 'twopset', 'orset', 'lwwreg', 'mvreg', 'bcounter'));
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
