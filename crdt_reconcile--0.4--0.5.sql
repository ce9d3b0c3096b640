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
