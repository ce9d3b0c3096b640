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
