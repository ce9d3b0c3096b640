/* crdt_reconcile--0.1--0.2.sql — sets and registers: gset, twopset, orset,
 * lwwreg, mvreg, with the same generic machinery as the 0.1 types. */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION crdt_reconcile UPDATE TO '0.2'" to load this file. \quit

-- Aggregate support shared within each family (the transition state has
-- one shape per family; the serialized form says which type it holds).
CREATE FUNCTION @extschema@.set_merge_combine(pg_catalog.internal, pg_catalog.internal)
	RETURNS pg_catalog.internal
	AS 'MODULE_PATHNAME', 'set_merge_combine' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION @extschema@.set_merge_serialize(pg_catalog.internal) RETURNS pg_catalog.bytea
	AS 'MODULE_PATHNAME', 'set_merge_serialize' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.set_merge_deserialize(pg_catalog.bytea, pg_catalog.internal)
	RETURNS pg_catalog.internal
	AS 'MODULE_PATHNAME', 'set_merge_deserialize' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.dotted_merge_combine(pg_catalog.internal, pg_catalog.internal)
	RETURNS pg_catalog.internal
	AS 'MODULE_PATHNAME', 'dotted_merge_combine' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION @extschema@.dotted_merge_serialize(pg_catalog.internal) RETURNS pg_catalog.bytea
	AS 'MODULE_PATHNAME', 'dotted_merge_serialize' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.dotted_merge_deserialize(pg_catalog.bytea, pg_catalog.internal)
	RETURNS pg_catalog.internal
	AS 'MODULE_PATHNAME', 'dotted_merge_deserialize' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.lwwreg_merge_combine(pg_catalog.internal, pg_catalog.internal)
	RETURNS pg_catalog.internal
	AS 'MODULE_PATHNAME', 'lwwreg_merge_combine' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION @extschema@.lwwreg_merge_serialize(pg_catalog.internal) RETURNS pg_catalog.bytea
	AS 'MODULE_PATHNAME', 'lwwreg_merge_serialize' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.lwwreg_merge_deserialize(pg_catalog.bytea, pg_catalog.internal)
	RETURNS pg_catalog.internal
	AS 'MODULE_PATHNAME', 'lwwreg_merge_deserialize' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

-- ------------------------------------------------------------------ gset

CREATE TYPE @extschema@.gset;

CREATE FUNCTION @extschema@.gset_in(pg_catalog.cstring) RETURNS @extschema@.gset
	AS 'MODULE_PATHNAME', 'gset_in' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.gset_out(@extschema@.gset) RETURNS pg_catalog.cstring
	AS 'MODULE_PATHNAME', 'gset_out' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.gset_recv(pg_catalog.internal) RETURNS @extschema@.gset
	AS 'MODULE_PATHNAME', 'gset_recv' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.gset_send(@extschema@.gset) RETURNS pg_catalog.bytea
	AS 'MODULE_PATHNAME', 'gset_send' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE TYPE @extschema@.gset (
	INPUT = @extschema@.gset_in,
	OUTPUT = @extschema@.gset_out,
	RECEIVE = @extschema@.gset_recv,
	SEND = @extschema@.gset_send,
	INTERNALLENGTH = VARIABLE,
	STORAGE = extended
);

CREATE FUNCTION @extschema@.gset_eq(@extschema@.gset, @extschema@.gset) RETURNS pg_catalog.bool
	AS 'MODULE_PATHNAME', 'crdt_bytes_eq' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
CREATE FUNCTION @extschema@.gset_ne(@extschema@.gset, @extschema@.gset) RETURNS pg_catalog.bool
	AS 'MODULE_PATHNAME', 'crdt_bytes_ne' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
CREATE FUNCTION @extschema@.gset_hash(@extschema@.gset) RETURNS pg_catalog.int4
	AS 'MODULE_PATHNAME', 'crdt_bytes_hash' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
CREATE FUNCTION @extschema@.gset_hash_extended(@extschema@.gset, pg_catalog.int8) RETURNS pg_catalog.int8
	AS 'MODULE_PATHNAME', 'crdt_bytes_hash_extended' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;

CREATE OPERATOR @extschema@.= (
	LEFTARG = @extschema@.gset, RIGHTARG = @extschema@.gset,
	FUNCTION = @extschema@.gset_eq,
	COMMUTATOR = OPERATOR(@extschema@.=), NEGATOR = OPERATOR(@extschema@.<>),
	RESTRICT = pg_catalog.eqsel, JOIN = pg_catalog.eqjoinsel, HASHES, MERGES
);
CREATE OPERATOR @extschema@.<> (
	LEFTARG = @extschema@.gset, RIGHTARG = @extschema@.gset,
	FUNCTION = @extschema@.gset_ne,
	COMMUTATOR = OPERATOR(@extschema@.<>), NEGATOR = OPERATOR(@extschema@.=),
	RESTRICT = pg_catalog.neqsel, JOIN = pg_catalog.neqjoinsel
);
CREATE OPERATOR CLASS @extschema@.gset_hash_ops DEFAULT FOR TYPE @extschema@.gset USING hash AS
	OPERATOR 1 @extschema@.= (@extschema@.gset, @extschema@.gset),
	FUNCTION 1 @extschema@.gset_hash(@extschema@.gset),
	FUNCTION 2 @extschema@.gset_hash_extended(@extschema@.gset, pg_catalog.int8);

-- A fixed total order for sorting and btree (no causal meaning).
CREATE FUNCTION @extschema@.gset_cmp(@extschema@.gset, @extschema@.gset) RETURNS pg_catalog.int4
	AS 'MODULE_PATHNAME', 'gset_cmp' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.gset_sort_lt(@extschema@.gset, @extschema@.gset) RETURNS pg_catalog.bool
	AS 'MODULE_PATHNAME', 'gset_sort_lt' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.gset_sort_le(@extschema@.gset, @extschema@.gset) RETURNS pg_catalog.bool
	AS 'MODULE_PATHNAME', 'gset_sort_le' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.gset_sort_ge(@extschema@.gset, @extschema@.gset) RETURNS pg_catalog.bool
	AS 'MODULE_PATHNAME', 'gset_sort_ge' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.gset_sort_gt(@extschema@.gset, @extschema@.gset) RETURNS pg_catalog.bool
	AS 'MODULE_PATHNAME', 'gset_sort_gt' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE OPERATOR @extschema@.~<~ (
	LEFTARG = @extschema@.gset, RIGHTARG = @extschema@.gset, FUNCTION = @extschema@.gset_sort_lt,
	COMMUTATOR = OPERATOR(@extschema@.~>~), NEGATOR = OPERATOR(@extschema@.~>=~),
	RESTRICT = pg_catalog.scalarltsel, JOIN = pg_catalog.scalarltjoinsel
);
CREATE OPERATOR @extschema@.~<=~ (
	LEFTARG = @extschema@.gset, RIGHTARG = @extschema@.gset, FUNCTION = @extschema@.gset_sort_le,
	COMMUTATOR = OPERATOR(@extschema@.~>=~), NEGATOR = OPERATOR(@extschema@.~>~),
	RESTRICT = pg_catalog.scalarlesel, JOIN = pg_catalog.scalarlejoinsel
);
CREATE OPERATOR @extschema@.~>=~ (
	LEFTARG = @extschema@.gset, RIGHTARG = @extschema@.gset, FUNCTION = @extschema@.gset_sort_ge,
	COMMUTATOR = OPERATOR(@extschema@.~<=~), NEGATOR = OPERATOR(@extschema@.~<~),
	RESTRICT = pg_catalog.scalargesel, JOIN = pg_catalog.scalargejoinsel
);
CREATE OPERATOR @extschema@.~>~ (
	LEFTARG = @extschema@.gset, RIGHTARG = @extschema@.gset, FUNCTION = @extschema@.gset_sort_gt,
	COMMUTATOR = OPERATOR(@extschema@.~<~), NEGATOR = OPERATOR(@extschema@.~<=~),
	RESTRICT = pg_catalog.scalargtsel, JOIN = pg_catalog.scalargtjoinsel
);
CREATE OPERATOR CLASS @extschema@.gset_ops DEFAULT FOR TYPE @extschema@.gset USING btree AS
	OPERATOR 1 @extschema@.~<~ (@extschema@.gset, @extschema@.gset),
	OPERATOR 2 @extschema@.~<=~ (@extschema@.gset, @extschema@.gset),
	OPERATOR 3 @extschema@.= (@extschema@.gset, @extschema@.gset),
	OPERATOR 4 @extschema@.~>=~ (@extschema@.gset, @extschema@.gset),
	OPERATOR 5 @extschema@.~>~ (@extschema@.gset, @extschema@.gset),
	FUNCTION 1 @extschema@.gset_cmp(@extschema@.gset, @extschema@.gset);

CREATE FUNCTION @extschema@.crdt_merge(@extschema@.gset, @extschema@.gset) RETURNS @extschema@.gset
	AS 'MODULE_PATHNAME', 'gset_merge' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE OPERATOR @extschema@.|| (
	LEFTARG = @extschema@.gset, RIGHTARG = @extschema@.gset,
	FUNCTION = @extschema@.crdt_merge,
	COMMUTATOR = OPERATOR(@extschema@.||)
);
CREATE FUNCTION @extschema@.crdt_delta(newer @extschema@.gset, since @extschema@.gset) RETURNS @extschema@.gset
	AS 'MODULE_PATHNAME', 'gset_delta' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION @extschema@.crdt_hash(@extschema@.gset) RETURNS pg_catalog.int8
	AS 'MODULE_PATHNAME', 'crdt_bytes_stable_hash' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.gset_to_jsonb(@extschema@.gset) RETURNS pg_catalog.jsonb
	AS 'MODULE_PATHNAME', 'gset_to_jsonb' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.gset_from_jsonb(pg_catalog.jsonb) RETURNS @extschema@.gset
	AS 'MODULE_PATHNAME', 'gset_from_jsonb' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.gset_to_json(@extschema@.gset) RETURNS pg_catalog.json
	AS 'MODULE_PATHNAME', 'gset_to_json' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.gset_from_json(pg_catalog.json) RETURNS @extschema@.gset
	AS 'MODULE_PATHNAME', 'gset_from_json' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE CAST (@extschema@.gset AS pg_catalog.jsonb)
	WITH FUNCTION @extschema@.gset_to_jsonb(@extschema@.gset) AS ASSIGNMENT;
CREATE CAST (pg_catalog.jsonb AS @extschema@.gset)
	WITH FUNCTION @extschema@.gset_from_jsonb(pg_catalog.jsonb) AS ASSIGNMENT;
CREATE CAST (@extschema@.gset AS pg_catalog.json)
	WITH FUNCTION @extschema@.gset_to_json(@extschema@.gset) AS ASSIGNMENT;
CREATE CAST (pg_catalog.json AS @extschema@.gset)
	WITH FUNCTION @extschema@.gset_from_json(pg_catalog.json) AS ASSIGNMENT;

CREATE FUNCTION @extschema@.gset_merge_trans(pg_catalog.internal, @extschema@.gset) RETURNS pg_catalog.internal
	AS 'MODULE_PATHNAME', 'gset_merge_trans' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION @extschema@.gset_merge_final(pg_catalog.internal) RETURNS @extschema@.gset
	AS 'MODULE_PATHNAME', 'gset_merge_final' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE AGGREGATE @extschema@.crdt_merge(@extschema@.gset) (
	SFUNC = @extschema@.gset_merge_trans,
	STYPE = pg_catalog.internal,
	SSPACE = 1024,
	FINALFUNC = @extschema@.gset_merge_final,
	COMBINEFUNC = @extschema@.set_merge_combine,
	SERIALFUNC = @extschema@.set_merge_serialize,
	DESERIALFUNC = @extschema@.set_merge_deserialize,
	PARALLEL = SAFE
);


-- ------------------------------------------------------------------ twopset

CREATE TYPE @extschema@.twopset;

CREATE FUNCTION @extschema@.twopset_in(pg_catalog.cstring) RETURNS @extschema@.twopset
	AS 'MODULE_PATHNAME', 'twopset_in' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.twopset_out(@extschema@.twopset) RETURNS pg_catalog.cstring
	AS 'MODULE_PATHNAME', 'twopset_out' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.twopset_recv(pg_catalog.internal) RETURNS @extschema@.twopset
	AS 'MODULE_PATHNAME', 'twopset_recv' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.twopset_send(@extschema@.twopset) RETURNS pg_catalog.bytea
	AS 'MODULE_PATHNAME', 'twopset_send' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE TYPE @extschema@.twopset (
	INPUT = @extschema@.twopset_in,
	OUTPUT = @extschema@.twopset_out,
	RECEIVE = @extschema@.twopset_recv,
	SEND = @extschema@.twopset_send,
	INTERNALLENGTH = VARIABLE,
	STORAGE = extended
);

CREATE FUNCTION @extschema@.twopset_eq(@extschema@.twopset, @extschema@.twopset) RETURNS pg_catalog.bool
	AS 'MODULE_PATHNAME', 'crdt_bytes_eq' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
CREATE FUNCTION @extschema@.twopset_ne(@extschema@.twopset, @extschema@.twopset) RETURNS pg_catalog.bool
	AS 'MODULE_PATHNAME', 'crdt_bytes_ne' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
CREATE FUNCTION @extschema@.twopset_hash(@extschema@.twopset) RETURNS pg_catalog.int4
	AS 'MODULE_PATHNAME', 'crdt_bytes_hash' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
CREATE FUNCTION @extschema@.twopset_hash_extended(@extschema@.twopset, pg_catalog.int8) RETURNS pg_catalog.int8
	AS 'MODULE_PATHNAME', 'crdt_bytes_hash_extended' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;

CREATE OPERATOR @extschema@.= (
	LEFTARG = @extschema@.twopset, RIGHTARG = @extschema@.twopset,
	FUNCTION = @extschema@.twopset_eq,
	COMMUTATOR = OPERATOR(@extschema@.=), NEGATOR = OPERATOR(@extschema@.<>),
	RESTRICT = pg_catalog.eqsel, JOIN = pg_catalog.eqjoinsel, HASHES, MERGES
);
CREATE OPERATOR @extschema@.<> (
	LEFTARG = @extschema@.twopset, RIGHTARG = @extschema@.twopset,
	FUNCTION = @extschema@.twopset_ne,
	COMMUTATOR = OPERATOR(@extschema@.<>), NEGATOR = OPERATOR(@extschema@.=),
	RESTRICT = pg_catalog.neqsel, JOIN = pg_catalog.neqjoinsel
);
CREATE OPERATOR CLASS @extschema@.twopset_hash_ops DEFAULT FOR TYPE @extschema@.twopset USING hash AS
	OPERATOR 1 @extschema@.= (@extschema@.twopset, @extschema@.twopset),
	FUNCTION 1 @extschema@.twopset_hash(@extschema@.twopset),
	FUNCTION 2 @extschema@.twopset_hash_extended(@extschema@.twopset, pg_catalog.int8);

-- A fixed total order for sorting and btree (no causal meaning).
CREATE FUNCTION @extschema@.twopset_cmp(@extschema@.twopset, @extschema@.twopset) RETURNS pg_catalog.int4
	AS 'MODULE_PATHNAME', 'twopset_cmp' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.twopset_sort_lt(@extschema@.twopset, @extschema@.twopset) RETURNS pg_catalog.bool
	AS 'MODULE_PATHNAME', 'twopset_sort_lt' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.twopset_sort_le(@extschema@.twopset, @extschema@.twopset) RETURNS pg_catalog.bool
	AS 'MODULE_PATHNAME', 'twopset_sort_le' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.twopset_sort_ge(@extschema@.twopset, @extschema@.twopset) RETURNS pg_catalog.bool
	AS 'MODULE_PATHNAME', 'twopset_sort_ge' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.twopset_sort_gt(@extschema@.twopset, @extschema@.twopset) RETURNS pg_catalog.bool
	AS 'MODULE_PATHNAME', 'twopset_sort_gt' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE OPERATOR @extschema@.~<~ (
	LEFTARG = @extschema@.twopset, RIGHTARG = @extschema@.twopset, FUNCTION = @extschema@.twopset_sort_lt,
	COMMUTATOR = OPERATOR(@extschema@.~>~), NEGATOR = OPERATOR(@extschema@.~>=~),
	RESTRICT = pg_catalog.scalarltsel, JOIN = pg_catalog.scalarltjoinsel
);
CREATE OPERATOR @extschema@.~<=~ (
	LEFTARG = @extschema@.twopset, RIGHTARG = @extschema@.twopset, FUNCTION = @extschema@.twopset_sort_le,
	COMMUTATOR = OPERATOR(@extschema@.~>=~), NEGATOR = OPERATOR(@extschema@.~>~),
	RESTRICT = pg_catalog.scalarlesel, JOIN = pg_catalog.scalarlejoinsel
);
CREATE OPERATOR @extschema@.~>=~ (
	LEFTARG = @extschema@.twopset, RIGHTARG = @extschema@.twopset, FUNCTION = @extschema@.twopset_sort_ge,
	COMMUTATOR = OPERATOR(@extschema@.~<=~), NEGATOR = OPERATOR(@extschema@.~<~),
	RESTRICT = pg_catalog.scalargesel, JOIN = pg_catalog.scalargejoinsel
);
CREATE OPERATOR @extschema@.~>~ (
	LEFTARG = @extschema@.twopset, RIGHTARG = @extschema@.twopset, FUNCTION = @extschema@.twopset_sort_gt,
	COMMUTATOR = OPERATOR(@extschema@.~<~), NEGATOR = OPERATOR(@extschema@.~<=~),
	RESTRICT = pg_catalog.scalargtsel, JOIN = pg_catalog.scalargtjoinsel
);
CREATE OPERATOR CLASS @extschema@.twopset_ops DEFAULT FOR TYPE @extschema@.twopset USING btree AS
	OPERATOR 1 @extschema@.~<~ (@extschema@.twopset, @extschema@.twopset),
	OPERATOR 2 @extschema@.~<=~ (@extschema@.twopset, @extschema@.twopset),
	OPERATOR 3 @extschema@.= (@extschema@.twopset, @extschema@.twopset),
	OPERATOR 4 @extschema@.~>=~ (@extschema@.twopset, @extschema@.twopset),
	OPERATOR 5 @extschema@.~>~ (@extschema@.twopset, @extschema@.twopset),
	FUNCTION 1 @extschema@.twopset_cmp(@extschema@.twopset, @extschema@.twopset);

CREATE FUNCTION @extschema@.crdt_merge(@extschema@.twopset, @extschema@.twopset) RETURNS @extschema@.twopset
	AS 'MODULE_PATHNAME', 'twopset_merge' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE OPERATOR @extschema@.|| (
	LEFTARG = @extschema@.twopset, RIGHTARG = @extschema@.twopset,
	FUNCTION = @extschema@.crdt_merge,
	COMMUTATOR = OPERATOR(@extschema@.||)
);
CREATE FUNCTION @extschema@.crdt_delta(newer @extschema@.twopset, since @extschema@.twopset) RETURNS @extschema@.twopset
	AS 'MODULE_PATHNAME', 'twopset_delta' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION @extschema@.crdt_hash(@extschema@.twopset) RETURNS pg_catalog.int8
	AS 'MODULE_PATHNAME', 'crdt_bytes_stable_hash' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.twopset_to_jsonb(@extschema@.twopset) RETURNS pg_catalog.jsonb
	AS 'MODULE_PATHNAME', 'twopset_to_jsonb' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.twopset_from_jsonb(pg_catalog.jsonb) RETURNS @extschema@.twopset
	AS 'MODULE_PATHNAME', 'twopset_from_jsonb' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.twopset_to_json(@extschema@.twopset) RETURNS pg_catalog.json
	AS 'MODULE_PATHNAME', 'twopset_to_json' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.twopset_from_json(pg_catalog.json) RETURNS @extschema@.twopset
	AS 'MODULE_PATHNAME', 'twopset_from_json' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE CAST (@extschema@.twopset AS pg_catalog.jsonb)
	WITH FUNCTION @extschema@.twopset_to_jsonb(@extschema@.twopset) AS ASSIGNMENT;
CREATE CAST (pg_catalog.jsonb AS @extschema@.twopset)
	WITH FUNCTION @extschema@.twopset_from_jsonb(pg_catalog.jsonb) AS ASSIGNMENT;
CREATE CAST (@extschema@.twopset AS pg_catalog.json)
	WITH FUNCTION @extschema@.twopset_to_json(@extschema@.twopset) AS ASSIGNMENT;
CREATE CAST (pg_catalog.json AS @extschema@.twopset)
	WITH FUNCTION @extschema@.twopset_from_json(pg_catalog.json) AS ASSIGNMENT;

CREATE FUNCTION @extschema@.twopset_merge_trans(pg_catalog.internal, @extschema@.twopset) RETURNS pg_catalog.internal
	AS 'MODULE_PATHNAME', 'twopset_merge_trans' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION @extschema@.twopset_merge_final(pg_catalog.internal) RETURNS @extschema@.twopset
	AS 'MODULE_PATHNAME', 'twopset_merge_final' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE AGGREGATE @extschema@.crdt_merge(@extschema@.twopset) (
	SFUNC = @extschema@.twopset_merge_trans,
	STYPE = pg_catalog.internal,
	SSPACE = 1024,
	FINALFUNC = @extschema@.twopset_merge_final,
	COMBINEFUNC = @extschema@.set_merge_combine,
	SERIALFUNC = @extschema@.set_merge_serialize,
	DESERIALFUNC = @extschema@.set_merge_deserialize,
	PARALLEL = SAFE
);


-- ------------------------------------------------------------------ orset

CREATE TYPE @extschema@.orset;

CREATE FUNCTION @extschema@.orset_in(pg_catalog.cstring) RETURNS @extschema@.orset
	AS 'MODULE_PATHNAME', 'orset_in' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.orset_out(@extschema@.orset) RETURNS pg_catalog.cstring
	AS 'MODULE_PATHNAME', 'orset_out' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.orset_recv(pg_catalog.internal) RETURNS @extschema@.orset
	AS 'MODULE_PATHNAME', 'orset_recv' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.orset_send(@extschema@.orset) RETURNS pg_catalog.bytea
	AS 'MODULE_PATHNAME', 'orset_send' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE TYPE @extschema@.orset (
	INPUT = @extschema@.orset_in,
	OUTPUT = @extschema@.orset_out,
	RECEIVE = @extschema@.orset_recv,
	SEND = @extschema@.orset_send,
	INTERNALLENGTH = VARIABLE,
	STORAGE = extended
);

CREATE FUNCTION @extschema@.orset_eq(@extschema@.orset, @extschema@.orset) RETURNS pg_catalog.bool
	AS 'MODULE_PATHNAME', 'crdt_bytes_eq' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
CREATE FUNCTION @extschema@.orset_ne(@extschema@.orset, @extschema@.orset) RETURNS pg_catalog.bool
	AS 'MODULE_PATHNAME', 'crdt_bytes_ne' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
CREATE FUNCTION @extschema@.orset_hash(@extschema@.orset) RETURNS pg_catalog.int4
	AS 'MODULE_PATHNAME', 'crdt_bytes_hash' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
CREATE FUNCTION @extschema@.orset_hash_extended(@extschema@.orset, pg_catalog.int8) RETURNS pg_catalog.int8
	AS 'MODULE_PATHNAME', 'crdt_bytes_hash_extended' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;

CREATE OPERATOR @extschema@.= (
	LEFTARG = @extschema@.orset, RIGHTARG = @extschema@.orset,
	FUNCTION = @extschema@.orset_eq,
	COMMUTATOR = OPERATOR(@extschema@.=), NEGATOR = OPERATOR(@extschema@.<>),
	RESTRICT = pg_catalog.eqsel, JOIN = pg_catalog.eqjoinsel, HASHES, MERGES
);
CREATE OPERATOR @extschema@.<> (
	LEFTARG = @extschema@.orset, RIGHTARG = @extschema@.orset,
	FUNCTION = @extschema@.orset_ne,
	COMMUTATOR = OPERATOR(@extschema@.<>), NEGATOR = OPERATOR(@extschema@.=),
	RESTRICT = pg_catalog.neqsel, JOIN = pg_catalog.neqjoinsel
);
CREATE OPERATOR CLASS @extschema@.orset_hash_ops DEFAULT FOR TYPE @extschema@.orset USING hash AS
	OPERATOR 1 @extschema@.= (@extschema@.orset, @extschema@.orset),
	FUNCTION 1 @extschema@.orset_hash(@extschema@.orset),
	FUNCTION 2 @extschema@.orset_hash_extended(@extschema@.orset, pg_catalog.int8);

-- A fixed total order for sorting and btree (no causal meaning).
CREATE FUNCTION @extschema@.orset_cmp(@extschema@.orset, @extschema@.orset) RETURNS pg_catalog.int4
	AS 'MODULE_PATHNAME', 'orset_cmp' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.orset_sort_lt(@extschema@.orset, @extschema@.orset) RETURNS pg_catalog.bool
	AS 'MODULE_PATHNAME', 'orset_sort_lt' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.orset_sort_le(@extschema@.orset, @extschema@.orset) RETURNS pg_catalog.bool
	AS 'MODULE_PATHNAME', 'orset_sort_le' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.orset_sort_ge(@extschema@.orset, @extschema@.orset) RETURNS pg_catalog.bool
	AS 'MODULE_PATHNAME', 'orset_sort_ge' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.orset_sort_gt(@extschema@.orset, @extschema@.orset) RETURNS pg_catalog.bool
	AS 'MODULE_PATHNAME', 'orset_sort_gt' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE OPERATOR @extschema@.~<~ (
	LEFTARG = @extschema@.orset, RIGHTARG = @extschema@.orset, FUNCTION = @extschema@.orset_sort_lt,
	COMMUTATOR = OPERATOR(@extschema@.~>~), NEGATOR = OPERATOR(@extschema@.~>=~),
	RESTRICT = pg_catalog.scalarltsel, JOIN = pg_catalog.scalarltjoinsel
);
CREATE OPERATOR @extschema@.~<=~ (
	LEFTARG = @extschema@.orset, RIGHTARG = @extschema@.orset, FUNCTION = @extschema@.orset_sort_le,
	COMMUTATOR = OPERATOR(@extschema@.~>=~), NEGATOR = OPERATOR(@extschema@.~>~),
	RESTRICT = pg_catalog.scalarlesel, JOIN = pg_catalog.scalarlejoinsel
);
CREATE OPERATOR @extschema@.~>=~ (
	LEFTARG = @extschema@.orset, RIGHTARG = @extschema@.orset, FUNCTION = @extschema@.orset_sort_ge,
	COMMUTATOR = OPERATOR(@extschema@.~<=~), NEGATOR = OPERATOR(@extschema@.~<~),
	RESTRICT = pg_catalog.scalargesel, JOIN = pg_catalog.scalargejoinsel
);
CREATE OPERATOR @extschema@.~>~ (
	LEFTARG = @extschema@.orset, RIGHTARG = @extschema@.orset, FUNCTION = @extschema@.orset_sort_gt,
	COMMUTATOR = OPERATOR(@extschema@.~<~), NEGATOR = OPERATOR(@extschema@.~<=~),
	RESTRICT = pg_catalog.scalargtsel, JOIN = pg_catalog.scalargtjoinsel
);
CREATE OPERATOR CLASS @extschema@.orset_ops DEFAULT FOR TYPE @extschema@.orset USING btree AS
	OPERATOR 1 @extschema@.~<~ (@extschema@.orset, @extschema@.orset),
	OPERATOR 2 @extschema@.~<=~ (@extschema@.orset, @extschema@.orset),
	OPERATOR 3 @extschema@.= (@extschema@.orset, @extschema@.orset),
	OPERATOR 4 @extschema@.~>=~ (@extschema@.orset, @extschema@.orset),
	OPERATOR 5 @extschema@.~>~ (@extschema@.orset, @extschema@.orset),
	FUNCTION 1 @extschema@.orset_cmp(@extschema@.orset, @extschema@.orset);

CREATE FUNCTION @extschema@.crdt_merge(@extschema@.orset, @extschema@.orset) RETURNS @extschema@.orset
	AS 'MODULE_PATHNAME', 'orset_merge' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE OPERATOR @extschema@.|| (
	LEFTARG = @extschema@.orset, RIGHTARG = @extschema@.orset,
	FUNCTION = @extschema@.crdt_merge,
	COMMUTATOR = OPERATOR(@extschema@.||)
);
CREATE FUNCTION @extschema@.crdt_delta(newer @extschema@.orset, since @extschema@.orset) RETURNS @extschema@.orset
	AS 'MODULE_PATHNAME', 'orset_delta' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION @extschema@.crdt_hash(@extschema@.orset) RETURNS pg_catalog.int8
	AS 'MODULE_PATHNAME', 'crdt_bytes_stable_hash' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.orset_to_jsonb(@extschema@.orset) RETURNS pg_catalog.jsonb
	AS 'MODULE_PATHNAME', 'orset_to_jsonb' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.orset_from_jsonb(pg_catalog.jsonb) RETURNS @extschema@.orset
	AS 'MODULE_PATHNAME', 'orset_from_jsonb' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.orset_to_json(@extschema@.orset) RETURNS pg_catalog.json
	AS 'MODULE_PATHNAME', 'orset_to_json' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.orset_from_json(pg_catalog.json) RETURNS @extschema@.orset
	AS 'MODULE_PATHNAME', 'orset_from_json' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE CAST (@extschema@.orset AS pg_catalog.jsonb)
	WITH FUNCTION @extschema@.orset_to_jsonb(@extschema@.orset) AS ASSIGNMENT;
CREATE CAST (pg_catalog.jsonb AS @extschema@.orset)
	WITH FUNCTION @extschema@.orset_from_jsonb(pg_catalog.jsonb) AS ASSIGNMENT;
CREATE CAST (@extschema@.orset AS pg_catalog.json)
	WITH FUNCTION @extschema@.orset_to_json(@extschema@.orset) AS ASSIGNMENT;
CREATE CAST (pg_catalog.json AS @extschema@.orset)
	WITH FUNCTION @extschema@.orset_from_json(pg_catalog.json) AS ASSIGNMENT;

CREATE FUNCTION @extschema@.orset_merge_trans(pg_catalog.internal, @extschema@.orset) RETURNS pg_catalog.internal
	AS 'MODULE_PATHNAME', 'orset_merge_trans' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION @extschema@.orset_merge_final(pg_catalog.internal) RETURNS @extschema@.orset
	AS 'MODULE_PATHNAME', 'orset_merge_final' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE AGGREGATE @extschema@.crdt_merge(@extschema@.orset) (
	SFUNC = @extschema@.orset_merge_trans,
	STYPE = pg_catalog.internal,
	SSPACE = 1024,
	FINALFUNC = @extschema@.orset_merge_final,
	COMBINEFUNC = @extschema@.dotted_merge_combine,
	SERIALFUNC = @extschema@.dotted_merge_serialize,
	DESERIALFUNC = @extschema@.dotted_merge_deserialize,
	PARALLEL = SAFE
);


-- ------------------------------------------------------------------ mvreg

CREATE TYPE @extschema@.mvreg;

CREATE FUNCTION @extschema@.mvreg_in(pg_catalog.cstring) RETURNS @extschema@.mvreg
	AS 'MODULE_PATHNAME', 'mvreg_in' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.mvreg_out(@extschema@.mvreg) RETURNS pg_catalog.cstring
	AS 'MODULE_PATHNAME', 'mvreg_out' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.mvreg_recv(pg_catalog.internal) RETURNS @extschema@.mvreg
	AS 'MODULE_PATHNAME', 'mvreg_recv' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.mvreg_send(@extschema@.mvreg) RETURNS pg_catalog.bytea
	AS 'MODULE_PATHNAME', 'mvreg_send' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE TYPE @extschema@.mvreg (
	INPUT = @extschema@.mvreg_in,
	OUTPUT = @extschema@.mvreg_out,
	RECEIVE = @extschema@.mvreg_recv,
	SEND = @extschema@.mvreg_send,
	INTERNALLENGTH = VARIABLE,
	STORAGE = extended
);

CREATE FUNCTION @extschema@.mvreg_eq(@extschema@.mvreg, @extschema@.mvreg) RETURNS pg_catalog.bool
	AS 'MODULE_PATHNAME', 'crdt_bytes_eq' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
CREATE FUNCTION @extschema@.mvreg_ne(@extschema@.mvreg, @extschema@.mvreg) RETURNS pg_catalog.bool
	AS 'MODULE_PATHNAME', 'crdt_bytes_ne' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
CREATE FUNCTION @extschema@.mvreg_hash(@extschema@.mvreg) RETURNS pg_catalog.int4
	AS 'MODULE_PATHNAME', 'crdt_bytes_hash' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
CREATE FUNCTION @extschema@.mvreg_hash_extended(@extschema@.mvreg, pg_catalog.int8) RETURNS pg_catalog.int8
	AS 'MODULE_PATHNAME', 'crdt_bytes_hash_extended' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;

CREATE OPERATOR @extschema@.= (
	LEFTARG = @extschema@.mvreg, RIGHTARG = @extschema@.mvreg,
	FUNCTION = @extschema@.mvreg_eq,
	COMMUTATOR = OPERATOR(@extschema@.=), NEGATOR = OPERATOR(@extschema@.<>),
	RESTRICT = pg_catalog.eqsel, JOIN = pg_catalog.eqjoinsel, HASHES, MERGES
);
CREATE OPERATOR @extschema@.<> (
	LEFTARG = @extschema@.mvreg, RIGHTARG = @extschema@.mvreg,
	FUNCTION = @extschema@.mvreg_ne,
	COMMUTATOR = OPERATOR(@extschema@.<>), NEGATOR = OPERATOR(@extschema@.=),
	RESTRICT = pg_catalog.neqsel, JOIN = pg_catalog.neqjoinsel
);
CREATE OPERATOR CLASS @extschema@.mvreg_hash_ops DEFAULT FOR TYPE @extschema@.mvreg USING hash AS
	OPERATOR 1 @extschema@.= (@extschema@.mvreg, @extschema@.mvreg),
	FUNCTION 1 @extschema@.mvreg_hash(@extschema@.mvreg),
	FUNCTION 2 @extschema@.mvreg_hash_extended(@extschema@.mvreg, pg_catalog.int8);

-- A fixed total order for sorting and btree (no causal meaning).
CREATE FUNCTION @extschema@.mvreg_cmp(@extschema@.mvreg, @extschema@.mvreg) RETURNS pg_catalog.int4
	AS 'MODULE_PATHNAME', 'mvreg_cmp' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.mvreg_sort_lt(@extschema@.mvreg, @extschema@.mvreg) RETURNS pg_catalog.bool
	AS 'MODULE_PATHNAME', 'mvreg_sort_lt' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.mvreg_sort_le(@extschema@.mvreg, @extschema@.mvreg) RETURNS pg_catalog.bool
	AS 'MODULE_PATHNAME', 'mvreg_sort_le' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.mvreg_sort_ge(@extschema@.mvreg, @extschema@.mvreg) RETURNS pg_catalog.bool
	AS 'MODULE_PATHNAME', 'mvreg_sort_ge' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.mvreg_sort_gt(@extschema@.mvreg, @extschema@.mvreg) RETURNS pg_catalog.bool
	AS 'MODULE_PATHNAME', 'mvreg_sort_gt' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE OPERATOR @extschema@.~<~ (
	LEFTARG = @extschema@.mvreg, RIGHTARG = @extschema@.mvreg, FUNCTION = @extschema@.mvreg_sort_lt,
	COMMUTATOR = OPERATOR(@extschema@.~>~), NEGATOR = OPERATOR(@extschema@.~>=~),
	RESTRICT = pg_catalog.scalarltsel, JOIN = pg_catalog.scalarltjoinsel
);
CREATE OPERATOR @extschema@.~<=~ (
	LEFTARG = @extschema@.mvreg, RIGHTARG = @extschema@.mvreg, FUNCTION = @extschema@.mvreg_sort_le,
	COMMUTATOR = OPERATOR(@extschema@.~>=~), NEGATOR = OPERATOR(@extschema@.~>~),
	RESTRICT = pg_catalog.scalarlesel, JOIN = pg_catalog.scalarlejoinsel
);
CREATE OPERATOR @extschema@.~>=~ (
	LEFTARG = @extschema@.mvreg, RIGHTARG = @extschema@.mvreg, FUNCTION = @extschema@.mvreg_sort_ge,
	COMMUTATOR = OPERATOR(@extschema@.~<=~), NEGATOR = OPERATOR(@extschema@.~<~),
	RESTRICT = pg_catalog.scalargesel, JOIN = pg_catalog.scalargejoinsel
);
CREATE OPERATOR @extschema@.~>~ (
	LEFTARG = @extschema@.mvreg, RIGHTARG = @extschema@.mvreg, FUNCTION = @extschema@.mvreg_sort_gt,
	COMMUTATOR = OPERATOR(@extschema@.~<~), NEGATOR = OPERATOR(@extschema@.~<=~),
	RESTRICT = pg_catalog.scalargtsel, JOIN = pg_catalog.scalargtjoinsel
);
CREATE OPERATOR CLASS @extschema@.mvreg_ops DEFAULT FOR TYPE @extschema@.mvreg USING btree AS
	OPERATOR 1 @extschema@.~<~ (@extschema@.mvreg, @extschema@.mvreg),
	OPERATOR 2 @extschema@.~<=~ (@extschema@.mvreg, @extschema@.mvreg),
	OPERATOR 3 @extschema@.= (@extschema@.mvreg, @extschema@.mvreg),
	OPERATOR 4 @extschema@.~>=~ (@extschema@.mvreg, @extschema@.mvreg),
	OPERATOR 5 @extschema@.~>~ (@extschema@.mvreg, @extschema@.mvreg),
	FUNCTION 1 @extschema@.mvreg_cmp(@extschema@.mvreg, @extschema@.mvreg);

CREATE FUNCTION @extschema@.crdt_merge(@extschema@.mvreg, @extschema@.mvreg) RETURNS @extschema@.mvreg
	AS 'MODULE_PATHNAME', 'mvreg_merge' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE OPERATOR @extschema@.|| (
	LEFTARG = @extschema@.mvreg, RIGHTARG = @extschema@.mvreg,
	FUNCTION = @extschema@.crdt_merge,
	COMMUTATOR = OPERATOR(@extschema@.||)
);
CREATE FUNCTION @extschema@.crdt_delta(newer @extschema@.mvreg, since @extschema@.mvreg) RETURNS @extschema@.mvreg
	AS 'MODULE_PATHNAME', 'mvreg_delta' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION @extschema@.crdt_hash(@extschema@.mvreg) RETURNS pg_catalog.int8
	AS 'MODULE_PATHNAME', 'crdt_bytes_stable_hash' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.mvreg_to_jsonb(@extschema@.mvreg) RETURNS pg_catalog.jsonb
	AS 'MODULE_PATHNAME', 'mvreg_to_jsonb' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.mvreg_from_jsonb(pg_catalog.jsonb) RETURNS @extschema@.mvreg
	AS 'MODULE_PATHNAME', 'mvreg_from_jsonb' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.mvreg_to_json(@extschema@.mvreg) RETURNS pg_catalog.json
	AS 'MODULE_PATHNAME', 'mvreg_to_json' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.mvreg_from_json(pg_catalog.json) RETURNS @extschema@.mvreg
	AS 'MODULE_PATHNAME', 'mvreg_from_json' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE CAST (@extschema@.mvreg AS pg_catalog.jsonb)
	WITH FUNCTION @extschema@.mvreg_to_jsonb(@extschema@.mvreg) AS ASSIGNMENT;
CREATE CAST (pg_catalog.jsonb AS @extschema@.mvreg)
	WITH FUNCTION @extschema@.mvreg_from_jsonb(pg_catalog.jsonb) AS ASSIGNMENT;
CREATE CAST (@extschema@.mvreg AS pg_catalog.json)
	WITH FUNCTION @extschema@.mvreg_to_json(@extschema@.mvreg) AS ASSIGNMENT;
CREATE CAST (pg_catalog.json AS @extschema@.mvreg)
	WITH FUNCTION @extschema@.mvreg_from_json(pg_catalog.json) AS ASSIGNMENT;

CREATE FUNCTION @extschema@.mvreg_merge_trans(pg_catalog.internal, @extschema@.mvreg) RETURNS pg_catalog.internal
	AS 'MODULE_PATHNAME', 'mvreg_merge_trans' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION @extschema@.mvreg_merge_final(pg_catalog.internal) RETURNS @extschema@.mvreg
	AS 'MODULE_PATHNAME', 'mvreg_merge_final' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE AGGREGATE @extschema@.crdt_merge(@extschema@.mvreg) (
	SFUNC = @extschema@.mvreg_merge_trans,
	STYPE = pg_catalog.internal,
	SSPACE = 1024,
	FINALFUNC = @extschema@.mvreg_merge_final,
	COMBINEFUNC = @extschema@.dotted_merge_combine,
	SERIALFUNC = @extschema@.dotted_merge_serialize,
	DESERIALFUNC = @extschema@.dotted_merge_deserialize,
	PARALLEL = SAFE
);


-- ------------------------------------------------------------------ lwwreg

CREATE TYPE @extschema@.lwwreg;

CREATE FUNCTION @extschema@.lwwreg_in(pg_catalog.cstring) RETURNS @extschema@.lwwreg
	AS 'MODULE_PATHNAME', 'lwwreg_in' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.lwwreg_out(@extschema@.lwwreg) RETURNS pg_catalog.cstring
	AS 'MODULE_PATHNAME', 'lwwreg_out' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.lwwreg_recv(pg_catalog.internal) RETURNS @extschema@.lwwreg
	AS 'MODULE_PATHNAME', 'lwwreg_recv' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.lwwreg_send(@extschema@.lwwreg) RETURNS pg_catalog.bytea
	AS 'MODULE_PATHNAME', 'lwwreg_send' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE TYPE @extschema@.lwwreg (
	INPUT = @extschema@.lwwreg_in,
	OUTPUT = @extschema@.lwwreg_out,
	RECEIVE = @extschema@.lwwreg_recv,
	SEND = @extschema@.lwwreg_send,
	INTERNALLENGTH = VARIABLE,
	STORAGE = extended
);

CREATE FUNCTION @extschema@.lwwreg_eq(@extschema@.lwwreg, @extschema@.lwwreg) RETURNS pg_catalog.bool
	AS 'MODULE_PATHNAME', 'crdt_bytes_eq' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
CREATE FUNCTION @extschema@.lwwreg_ne(@extschema@.lwwreg, @extschema@.lwwreg) RETURNS pg_catalog.bool
	AS 'MODULE_PATHNAME', 'crdt_bytes_ne' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
CREATE FUNCTION @extschema@.lwwreg_hash(@extschema@.lwwreg) RETURNS pg_catalog.int4
	AS 'MODULE_PATHNAME', 'crdt_bytes_hash' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
CREATE FUNCTION @extschema@.lwwreg_hash_extended(@extschema@.lwwreg, pg_catalog.int8) RETURNS pg_catalog.int8
	AS 'MODULE_PATHNAME', 'crdt_bytes_hash_extended' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;

CREATE OPERATOR @extschema@.= (
	LEFTARG = @extschema@.lwwreg, RIGHTARG = @extschema@.lwwreg,
	FUNCTION = @extschema@.lwwreg_eq,
	COMMUTATOR = OPERATOR(@extschema@.=), NEGATOR = OPERATOR(@extschema@.<>),
	RESTRICT = pg_catalog.eqsel, JOIN = pg_catalog.eqjoinsel, HASHES, MERGES
);
CREATE OPERATOR @extschema@.<> (
	LEFTARG = @extschema@.lwwreg, RIGHTARG = @extschema@.lwwreg,
	FUNCTION = @extschema@.lwwreg_ne,
	COMMUTATOR = OPERATOR(@extschema@.<>), NEGATOR = OPERATOR(@extschema@.=),
	RESTRICT = pg_catalog.neqsel, JOIN = pg_catalog.neqjoinsel
);
CREATE OPERATOR CLASS @extschema@.lwwreg_hash_ops DEFAULT FOR TYPE @extschema@.lwwreg USING hash AS
	OPERATOR 1 @extschema@.= (@extschema@.lwwreg, @extschema@.lwwreg),
	FUNCTION 1 @extschema@.lwwreg_hash(@extschema@.lwwreg),
	FUNCTION 2 @extschema@.lwwreg_hash_extended(@extschema@.lwwreg, pg_catalog.int8);

-- A fixed total order for sorting and btree (no causal meaning).
CREATE FUNCTION @extschema@.lwwreg_cmp(@extschema@.lwwreg, @extschema@.lwwreg) RETURNS pg_catalog.int4
	AS 'MODULE_PATHNAME', 'lwwreg_cmp' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.lwwreg_sort_lt(@extschema@.lwwreg, @extschema@.lwwreg) RETURNS pg_catalog.bool
	AS 'MODULE_PATHNAME', 'lwwreg_sort_lt' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.lwwreg_sort_le(@extschema@.lwwreg, @extschema@.lwwreg) RETURNS pg_catalog.bool
	AS 'MODULE_PATHNAME', 'lwwreg_sort_le' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.lwwreg_sort_ge(@extschema@.lwwreg, @extschema@.lwwreg) RETURNS pg_catalog.bool
	AS 'MODULE_PATHNAME', 'lwwreg_sort_ge' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.lwwreg_sort_gt(@extschema@.lwwreg, @extschema@.lwwreg) RETURNS pg_catalog.bool
	AS 'MODULE_PATHNAME', 'lwwreg_sort_gt' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE OPERATOR @extschema@.~<~ (
	LEFTARG = @extschema@.lwwreg, RIGHTARG = @extschema@.lwwreg, FUNCTION = @extschema@.lwwreg_sort_lt,
	COMMUTATOR = OPERATOR(@extschema@.~>~), NEGATOR = OPERATOR(@extschema@.~>=~),
	RESTRICT = pg_catalog.scalarltsel, JOIN = pg_catalog.scalarltjoinsel
);
CREATE OPERATOR @extschema@.~<=~ (
	LEFTARG = @extschema@.lwwreg, RIGHTARG = @extschema@.lwwreg, FUNCTION = @extschema@.lwwreg_sort_le,
	COMMUTATOR = OPERATOR(@extschema@.~>=~), NEGATOR = OPERATOR(@extschema@.~>~),
	RESTRICT = pg_catalog.scalarlesel, JOIN = pg_catalog.scalarlejoinsel
);
CREATE OPERATOR @extschema@.~>=~ (
	LEFTARG = @extschema@.lwwreg, RIGHTARG = @extschema@.lwwreg, FUNCTION = @extschema@.lwwreg_sort_ge,
	COMMUTATOR = OPERATOR(@extschema@.~<=~), NEGATOR = OPERATOR(@extschema@.~<~),
	RESTRICT = pg_catalog.scalargesel, JOIN = pg_catalog.scalargejoinsel
);
CREATE OPERATOR @extschema@.~>~ (
	LEFTARG = @extschema@.lwwreg, RIGHTARG = @extschema@.lwwreg, FUNCTION = @extschema@.lwwreg_sort_gt,
	COMMUTATOR = OPERATOR(@extschema@.~<~), NEGATOR = OPERATOR(@extschema@.~<=~),
	RESTRICT = pg_catalog.scalargtsel, JOIN = pg_catalog.scalargtjoinsel
);
CREATE OPERATOR CLASS @extschema@.lwwreg_ops DEFAULT FOR TYPE @extschema@.lwwreg USING btree AS
	OPERATOR 1 @extschema@.~<~ (@extschema@.lwwreg, @extschema@.lwwreg),
	OPERATOR 2 @extschema@.~<=~ (@extschema@.lwwreg, @extschema@.lwwreg),
	OPERATOR 3 @extschema@.= (@extschema@.lwwreg, @extschema@.lwwreg),
	OPERATOR 4 @extschema@.~>=~ (@extschema@.lwwreg, @extschema@.lwwreg),
	OPERATOR 5 @extschema@.~>~ (@extschema@.lwwreg, @extschema@.lwwreg),
	FUNCTION 1 @extschema@.lwwreg_cmp(@extschema@.lwwreg, @extschema@.lwwreg);

CREATE FUNCTION @extschema@.crdt_merge(@extschema@.lwwreg, @extschema@.lwwreg) RETURNS @extschema@.lwwreg
	AS 'MODULE_PATHNAME', 'lwwreg_merge' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE OPERATOR @extschema@.|| (
	LEFTARG = @extschema@.lwwreg, RIGHTARG = @extschema@.lwwreg,
	FUNCTION = @extschema@.crdt_merge,
	COMMUTATOR = OPERATOR(@extschema@.||)
);
CREATE FUNCTION @extschema@.crdt_delta(newer @extschema@.lwwreg, since @extschema@.lwwreg) RETURNS @extschema@.lwwreg
	AS 'MODULE_PATHNAME', 'lwwreg_delta' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION @extschema@.crdt_hash(@extschema@.lwwreg) RETURNS pg_catalog.int8
	AS 'MODULE_PATHNAME', 'crdt_bytes_stable_hash' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.lwwreg_to_jsonb(@extschema@.lwwreg) RETURNS pg_catalog.jsonb
	AS 'MODULE_PATHNAME', 'lwwreg_to_jsonb' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.lwwreg_from_jsonb(pg_catalog.jsonb) RETURNS @extschema@.lwwreg
	AS 'MODULE_PATHNAME', 'lwwreg_from_jsonb' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.lwwreg_to_json(@extschema@.lwwreg) RETURNS pg_catalog.json
	AS 'MODULE_PATHNAME', 'lwwreg_to_json' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.lwwreg_from_json(pg_catalog.json) RETURNS @extschema@.lwwreg
	AS 'MODULE_PATHNAME', 'lwwreg_from_json' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE CAST (@extschema@.lwwreg AS pg_catalog.jsonb)
	WITH FUNCTION @extschema@.lwwreg_to_jsonb(@extschema@.lwwreg) AS ASSIGNMENT;
CREATE CAST (pg_catalog.jsonb AS @extschema@.lwwreg)
	WITH FUNCTION @extschema@.lwwreg_from_jsonb(pg_catalog.jsonb) AS ASSIGNMENT;
CREATE CAST (@extschema@.lwwreg AS pg_catalog.json)
	WITH FUNCTION @extschema@.lwwreg_to_json(@extschema@.lwwreg) AS ASSIGNMENT;
CREATE CAST (pg_catalog.json AS @extschema@.lwwreg)
	WITH FUNCTION @extschema@.lwwreg_from_json(pg_catalog.json) AS ASSIGNMENT;

CREATE FUNCTION @extschema@.lwwreg_merge_trans(pg_catalog.internal, @extschema@.lwwreg) RETURNS pg_catalog.internal
	AS 'MODULE_PATHNAME', 'lwwreg_merge_trans' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION @extschema@.lwwreg_merge_final(pg_catalog.internal) RETURNS @extschema@.lwwreg
	AS 'MODULE_PATHNAME', 'lwwreg_merge_final' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE AGGREGATE @extschema@.crdt_merge(@extschema@.lwwreg) (
	SFUNC = @extschema@.lwwreg_merge_trans,
	STYPE = pg_catalog.internal,
	SSPACE = 1024,
	FINALFUNC = @extschema@.lwwreg_merge_final,
	COMBINEFUNC = @extschema@.lwwreg_merge_combine,
	SERIALFUNC = @extschema@.lwwreg_merge_serialize,
	DESERIALFUNC = @extschema@.lwwreg_merge_deserialize,
	PARALLEL = SAFE
);


-- ---------------------------------------------------------- set functions

CREATE FUNCTION @extschema@.crdt_add(s @extschema@.gset, element pg_catalog.text)
	RETURNS @extschema@.gset
	AS 'MODULE_PATHNAME', 'gset_add' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION @extschema@.crdt_add(s @extschema@.twopset, element pg_catalog.text)
	RETURNS @extschema@.twopset
	AS 'MODULE_PATHNAME', 'twopset_add' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION @extschema@.crdt_add(s @extschema@.orset, element pg_catalog.text,
		replica pg_catalog.text DEFAULT NULL)
	RETURNS @extschema@.orset
	AS 'MODULE_PATHNAME', 'orset_add' LANGUAGE C STABLE PARALLEL SAFE;
CREATE FUNCTION @extschema@.crdt_remove(s @extschema@.twopset, element pg_catalog.text)
	RETURNS @extschema@.twopset
	AS 'MODULE_PATHNAME', 'twopset_remove' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION @extschema@.crdt_remove(s @extschema@.orset, element pg_catalog.text)
	RETURNS @extschema@.orset
	AS 'MODULE_PATHNAME', 'orset_remove' LANGUAGE C IMMUTABLE PARALLEL SAFE;

CREATE FUNCTION @extschema@.crdt_contains(s @extschema@.gset, element pg_catalog.text) RETURNS pg_catalog.bool
	AS 'MODULE_PATHNAME', 'gset_contains' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.crdt_cardinality(s @extschema@.gset) RETURNS pg_catalog.int4
	AS 'MODULE_PATHNAME', 'gset_cardinality' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.crdt_elements(s @extschema@.gset) RETURNS SETOF pg_catalog.text
	AS 'MODULE_PATHNAME', 'gset_elements' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.crdt_value(s @extschema@.gset) RETURNS pg_catalog.text[]
	AS 'MODULE_PATHNAME', 'gset_value' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.crdt_contains(s @extschema@.twopset, element pg_catalog.text) RETURNS pg_catalog.bool
	AS 'MODULE_PATHNAME', 'twopset_contains' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.crdt_cardinality(s @extschema@.twopset) RETURNS pg_catalog.int4
	AS 'MODULE_PATHNAME', 'twopset_cardinality' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.crdt_elements(s @extschema@.twopset) RETURNS SETOF pg_catalog.text
	AS 'MODULE_PATHNAME', 'twopset_elements' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.crdt_value(s @extschema@.twopset) RETURNS pg_catalog.text[]
	AS 'MODULE_PATHNAME', 'twopset_value' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.crdt_contains(s @extschema@.orset, element pg_catalog.text) RETURNS pg_catalog.bool
	AS 'MODULE_PATHNAME', 'orset_contains' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.crdt_cardinality(s @extschema@.orset) RETURNS pg_catalog.int4
	AS 'MODULE_PATHNAME', 'orset_cardinality' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.crdt_elements(s @extschema@.orset) RETURNS SETOF pg_catalog.text
	AS 'MODULE_PATHNAME', 'orset_elements' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.crdt_value(s @extschema@.orset) RETURNS pg_catalog.text[]
	AS 'MODULE_PATHNAME', 'orset_value' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.gset_from_text_array(pg_catalog.text[]) RETURNS @extschema@.gset
	AS 'MODULE_PATHNAME', 'gset_from_text_array' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE CAST (pg_catalog.text[] AS @extschema@.gset)
	WITH FUNCTION @extschema@.gset_from_text_array(pg_catalog.text[]) AS ASSIGNMENT;

-- ----------------------------------------------------- register functions

-- Stamped max(clock_timestamp(), current + 1 microsecond): VOLATILE.
CREATE FUNCTION @extschema@.crdt_set(r @extschema@.lwwreg, value pg_catalog.jsonb,
		replica pg_catalog.text DEFAULT NULL)
	RETURNS @extschema@.lwwreg
	AS 'MODULE_PATHNAME', 'lwwreg_set' LANGUAGE C VOLATILE PARALLEL SAFE;
CREATE FUNCTION @extschema@.crdt_set(r @extschema@.lwwreg, value pg_catalog.jsonb,
		at pg_catalog.timestamptz, replica pg_catalog.text DEFAULT NULL)
	RETURNS @extschema@.lwwreg
	AS 'MODULE_PATHNAME', 'lwwreg_set_at' LANGUAGE C STABLE PARALLEL SAFE;
CREATE FUNCTION @extschema@.crdt_value(r @extschema@.lwwreg) RETURNS pg_catalog.jsonb
	AS 'MODULE_PATHNAME', 'lwwreg_value' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.crdt_timestamp(r @extschema@.lwwreg) RETURNS pg_catalog.timestamptz
	AS 'MODULE_PATHNAME', 'lwwreg_timestamp' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.crdt_writer(r @extschema@.lwwreg) RETURNS pg_catalog.text
	AS 'MODULE_PATHNAME', 'lwwreg_writer' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.crdt_set(r @extschema@.mvreg, value pg_catalog.jsonb,
		replica pg_catalog.text DEFAULT NULL)
	RETURNS @extschema@.mvreg
	AS 'MODULE_PATHNAME', 'mvreg_set' LANGUAGE C STABLE PARALLEL SAFE;
CREATE FUNCTION @extschema@.crdt_value(r @extschema@.mvreg) RETURNS pg_catalog.jsonb[]
	AS 'MODULE_PATHNAME', 'mvreg_value' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.crdt_is_conflicted(r @extschema@.mvreg) RETURNS pg_catalog.bool
	AS 'MODULE_PATHNAME', 'mvreg_is_conflicted' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

-- ---------------------------------------------------------------- comments

COMMENT ON TYPE @extschema@.gset IS 'grow-only set of text elements; merge is union';
COMMENT ON TYPE @extschema@.twopset IS 'two-phase set: an element once removed never comes back';
COMMENT ON TYPE @extschema@.orset IS 'observed-remove set (add wins), without tombstones';
COMMENT ON TYPE @extschema@.lwwreg IS 'last-writer-wins register holding a jsonb value';
COMMENT ON TYPE @extschema@.mvreg IS 'multi-value register: concurrent writes are all kept';
