/* crdt_reconcile--0.4--0.5.sql — from 0.4 to 0.5.  Each change keeps its
 * own section below, in the order the sections were written; the full
 * script of 0.5 is built from src/sql/, and sql/upgrade.sql checks that
 * this script brings a 0.4 database to exactly the same objects.
 */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION crdt_reconcile UPDATE TO '0.5'" to load this file. \quit

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

-- tracked tables treat rtext and rlist columns as CRDT columns
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
		                    'rtext', 'rlist'));
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
