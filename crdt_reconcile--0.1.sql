/* crdt_reconcile--0.1.sql — CRDT column types and merge aggregates */

-- complain if script is sourced in psql, rather than via CREATE EXTENSION
\echo Use "CREATE EXTENSION crdt_reconcile" to load this file. \quit

/*
 * Conventions of this script
 * - Every reference is schema-qualified (@extschema@ or pg_catalog), so
 *   look-alike objects elsewhere on the search_path are never picked up.
 * - Equality, hashing and crdt_hash work on canonical bytes and are shared
 *   by every type (C symbols crdt_bytes_*).
 * - Mutators take an optional replica and fall back to crdt.replica_id, so
 *   they are STABLE; everything else is IMMUTABLE.  All are PARALLEL SAFE.
 * - crdt_merge(a, b) and crdt_delta treat NULL as the empty state; a NULL
 *   state given to a mutator is the empty state too (as array_append does).
 */

-- Aggregate support shared by vclock, gcounter and pncounter: the
-- transition state has the same shape for all three.
CREATE FUNCTION @extschema@.counter_merge_combine(pg_catalog.internal, pg_catalog.internal)
	RETURNS pg_catalog.internal
	AS 'MODULE_PATHNAME', 'counter_merge_combine' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION @extschema@.counter_merge_serialize(pg_catalog.internal) RETURNS pg_catalog.bytea
	AS 'MODULE_PATHNAME', 'counter_merge_serialize' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.counter_merge_deserialize(pg_catalog.bytea, pg_catalog.internal)
	RETURNS pg_catalog.internal
	AS 'MODULE_PATHNAME', 'counter_merge_deserialize' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

-- ------------------------------------------------------------------ vclock

CREATE TYPE @extschema@.vclock;

CREATE FUNCTION @extschema@.vclock_in(pg_catalog.cstring) RETURNS @extschema@.vclock
	AS 'MODULE_PATHNAME', 'vclock_in' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.vclock_out(@extschema@.vclock) RETURNS pg_catalog.cstring
	AS 'MODULE_PATHNAME', 'vclock_out' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.vclock_recv(pg_catalog.internal) RETURNS @extschema@.vclock
	AS 'MODULE_PATHNAME', 'vclock_recv' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.vclock_send(@extschema@.vclock) RETURNS pg_catalog.bytea
	AS 'MODULE_PATHNAME', 'vclock_send' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE TYPE @extschema@.vclock (
	INPUT = @extschema@.vclock_in,
	OUTPUT = @extschema@.vclock_out,
	RECEIVE = @extschema@.vclock_recv,
	SEND = @extschema@.vclock_send,
	INTERNALLENGTH = VARIABLE,
	STORAGE = extended
);

CREATE FUNCTION @extschema@.vclock_eq(@extschema@.vclock, @extschema@.vclock) RETURNS pg_catalog.bool
	AS 'MODULE_PATHNAME', 'crdt_bytes_eq' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
CREATE FUNCTION @extschema@.vclock_ne(@extschema@.vclock, @extschema@.vclock) RETURNS pg_catalog.bool
	AS 'MODULE_PATHNAME', 'crdt_bytes_ne' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
CREATE FUNCTION @extschema@.vclock_hash(@extschema@.vclock) RETURNS pg_catalog.int4
	AS 'MODULE_PATHNAME', 'crdt_bytes_hash' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
CREATE FUNCTION @extschema@.vclock_hash_extended(@extschema@.vclock, pg_catalog.int8) RETURNS pg_catalog.int8
	AS 'MODULE_PATHNAME', 'crdt_bytes_hash_extended' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;

CREATE OPERATOR @extschema@.= (
	LEFTARG = @extschema@.vclock, RIGHTARG = @extschema@.vclock,
	FUNCTION = @extschema@.vclock_eq,
	COMMUTATOR = OPERATOR(@extschema@.=), NEGATOR = OPERATOR(@extschema@.<>),
	RESTRICT = pg_catalog.eqsel, JOIN = pg_catalog.eqjoinsel, HASHES, MERGES
);
CREATE OPERATOR @extschema@.<> (
	LEFTARG = @extschema@.vclock, RIGHTARG = @extschema@.vclock,
	FUNCTION = @extschema@.vclock_ne,
	COMMUTATOR = OPERATOR(@extschema@.<>), NEGATOR = OPERATOR(@extschema@.=),
	RESTRICT = pg_catalog.neqsel, JOIN = pg_catalog.neqjoinsel
);
CREATE OPERATOR CLASS @extschema@.vclock_hash_ops DEFAULT FOR TYPE @extschema@.vclock USING hash AS
	OPERATOR 1 @extschema@.= (@extschema@.vclock, @extschema@.vclock),
	FUNCTION 1 @extschema@.vclock_hash(@extschema@.vclock),
	FUNCTION 2 @extschema@.vclock_hash_extended(@extschema@.vclock, pg_catalog.int8);

-- A fixed total order for sorting and btree (no causal meaning).
CREATE FUNCTION @extschema@.vclock_cmp(@extschema@.vclock, @extschema@.vclock) RETURNS pg_catalog.int4
	AS 'MODULE_PATHNAME', 'vclock_cmp' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.vclock_sort_lt(@extschema@.vclock, @extschema@.vclock) RETURNS pg_catalog.bool
	AS 'MODULE_PATHNAME', 'vclock_sort_lt' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.vclock_sort_le(@extschema@.vclock, @extschema@.vclock) RETURNS pg_catalog.bool
	AS 'MODULE_PATHNAME', 'vclock_sort_le' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.vclock_sort_ge(@extschema@.vclock, @extschema@.vclock) RETURNS pg_catalog.bool
	AS 'MODULE_PATHNAME', 'vclock_sort_ge' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.vclock_sort_gt(@extschema@.vclock, @extschema@.vclock) RETURNS pg_catalog.bool
	AS 'MODULE_PATHNAME', 'vclock_sort_gt' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE OPERATOR @extschema@.~<~ (
	LEFTARG = @extschema@.vclock, RIGHTARG = @extschema@.vclock, FUNCTION = @extschema@.vclock_sort_lt,
	COMMUTATOR = OPERATOR(@extschema@.~>~), NEGATOR = OPERATOR(@extschema@.~>=~),
	RESTRICT = pg_catalog.scalarltsel, JOIN = pg_catalog.scalarltjoinsel
);
CREATE OPERATOR @extschema@.~<=~ (
	LEFTARG = @extschema@.vclock, RIGHTARG = @extschema@.vclock, FUNCTION = @extschema@.vclock_sort_le,
	COMMUTATOR = OPERATOR(@extschema@.~>=~), NEGATOR = OPERATOR(@extschema@.~>~),
	RESTRICT = pg_catalog.scalarlesel, JOIN = pg_catalog.scalarlejoinsel
);
CREATE OPERATOR @extschema@.~>=~ (
	LEFTARG = @extschema@.vclock, RIGHTARG = @extschema@.vclock, FUNCTION = @extschema@.vclock_sort_ge,
	COMMUTATOR = OPERATOR(@extschema@.~<=~), NEGATOR = OPERATOR(@extschema@.~<~),
	RESTRICT = pg_catalog.scalargesel, JOIN = pg_catalog.scalargejoinsel
);
CREATE OPERATOR @extschema@.~>~ (
	LEFTARG = @extschema@.vclock, RIGHTARG = @extschema@.vclock, FUNCTION = @extschema@.vclock_sort_gt,
	COMMUTATOR = OPERATOR(@extschema@.~<~), NEGATOR = OPERATOR(@extschema@.~<=~),
	RESTRICT = pg_catalog.scalargtsel, JOIN = pg_catalog.scalargtjoinsel
);
CREATE OPERATOR CLASS @extschema@.vclock_ops DEFAULT FOR TYPE @extschema@.vclock USING btree AS
	OPERATOR 1 @extschema@.~<~ (@extschema@.vclock, @extschema@.vclock),
	OPERATOR 2 @extschema@.~<=~ (@extschema@.vclock, @extschema@.vclock),
	OPERATOR 3 @extschema@.= (@extschema@.vclock, @extschema@.vclock),
	OPERATOR 4 @extschema@.~>=~ (@extschema@.vclock, @extschema@.vclock),
	OPERATOR 5 @extschema@.~>~ (@extschema@.vclock, @extschema@.vclock),
	FUNCTION 1 @extschema@.vclock_cmp(@extschema@.vclock, @extschema@.vclock);

CREATE FUNCTION @extschema@.crdt_merge(@extschema@.vclock, @extschema@.vclock) RETURNS @extschema@.vclock
	AS 'MODULE_PATHNAME', 'vclock_merge' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE OPERATOR @extschema@.|| (
	LEFTARG = @extschema@.vclock, RIGHTARG = @extschema@.vclock,
	FUNCTION = @extschema@.crdt_merge,
	COMMUTATOR = OPERATOR(@extschema@.||)
);
CREATE FUNCTION @extschema@.crdt_delta(newer @extschema@.vclock, since @extschema@.vclock) RETURNS @extschema@.vclock
	AS 'MODULE_PATHNAME', 'vclock_delta' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION @extschema@.crdt_hash(@extschema@.vclock) RETURNS pg_catalog.int8
	AS 'MODULE_PATHNAME', 'crdt_bytes_stable_hash' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.crdt_value(@extschema@.vclock) RETURNS pg_catalog.int8
	AS 'MODULE_PATHNAME', 'vclock_value' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.vclock_to_jsonb(@extschema@.vclock) RETURNS pg_catalog.jsonb
	AS 'MODULE_PATHNAME', 'vclock_to_jsonb' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.vclock_from_jsonb(pg_catalog.jsonb) RETURNS @extschema@.vclock
	AS 'MODULE_PATHNAME', 'vclock_from_jsonb' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.vclock_to_json(@extschema@.vclock) RETURNS pg_catalog.json
	AS 'MODULE_PATHNAME', 'vclock_to_json' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.vclock_from_json(pg_catalog.json) RETURNS @extschema@.vclock
	AS 'MODULE_PATHNAME', 'vclock_from_json' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE CAST (@extschema@.vclock AS pg_catalog.jsonb)
	WITH FUNCTION @extschema@.vclock_to_jsonb(@extschema@.vclock) AS ASSIGNMENT;
CREATE CAST (pg_catalog.jsonb AS @extschema@.vclock)
	WITH FUNCTION @extschema@.vclock_from_jsonb(pg_catalog.jsonb) AS ASSIGNMENT;
CREATE CAST (@extschema@.vclock AS pg_catalog.json)
	WITH FUNCTION @extschema@.vclock_to_json(@extschema@.vclock) AS ASSIGNMENT;
CREATE CAST (pg_catalog.json AS @extschema@.vclock)
	WITH FUNCTION @extschema@.vclock_from_json(pg_catalog.json) AS ASSIGNMENT;

CREATE FUNCTION @extschema@.vclock_merge_trans(pg_catalog.internal, @extschema@.vclock) RETURNS pg_catalog.internal
	AS 'MODULE_PATHNAME', 'vclock_merge_trans' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION @extschema@.vclock_merge_final(pg_catalog.internal) RETURNS @extschema@.vclock
	AS 'MODULE_PATHNAME', 'vclock_merge_final' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE AGGREGATE @extschema@.crdt_merge(@extschema@.vclock) (
	SFUNC = @extschema@.vclock_merge_trans,
	STYPE = pg_catalog.internal,
	SSPACE = 1024,
	FINALFUNC = @extschema@.vclock_merge_final,
	COMBINEFUNC = @extschema@.counter_merge_combine,
	SERIALFUNC = @extschema@.counter_merge_serialize,
	DESERIALFUNC = @extschema@.counter_merge_deserialize,
	PARALLEL = SAFE
);

-- ------------------------------------------------------------------ gcounter

CREATE TYPE @extschema@.gcounter;

CREATE FUNCTION @extschema@.gcounter_in(pg_catalog.cstring) RETURNS @extschema@.gcounter
	AS 'MODULE_PATHNAME', 'gcounter_in' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.gcounter_out(@extschema@.gcounter) RETURNS pg_catalog.cstring
	AS 'MODULE_PATHNAME', 'gcounter_out' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.gcounter_recv(pg_catalog.internal) RETURNS @extschema@.gcounter
	AS 'MODULE_PATHNAME', 'gcounter_recv' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.gcounter_send(@extschema@.gcounter) RETURNS pg_catalog.bytea
	AS 'MODULE_PATHNAME', 'gcounter_send' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE TYPE @extschema@.gcounter (
	INPUT = @extschema@.gcounter_in,
	OUTPUT = @extschema@.gcounter_out,
	RECEIVE = @extschema@.gcounter_recv,
	SEND = @extschema@.gcounter_send,
	INTERNALLENGTH = VARIABLE,
	STORAGE = extended
);

CREATE FUNCTION @extschema@.gcounter_eq(@extschema@.gcounter, @extschema@.gcounter) RETURNS pg_catalog.bool
	AS 'MODULE_PATHNAME', 'crdt_bytes_eq' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
CREATE FUNCTION @extschema@.gcounter_ne(@extschema@.gcounter, @extschema@.gcounter) RETURNS pg_catalog.bool
	AS 'MODULE_PATHNAME', 'crdt_bytes_ne' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
CREATE FUNCTION @extschema@.gcounter_hash(@extschema@.gcounter) RETURNS pg_catalog.int4
	AS 'MODULE_PATHNAME', 'crdt_bytes_hash' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
CREATE FUNCTION @extschema@.gcounter_hash_extended(@extschema@.gcounter, pg_catalog.int8) RETURNS pg_catalog.int8
	AS 'MODULE_PATHNAME', 'crdt_bytes_hash_extended' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;

CREATE OPERATOR @extschema@.= (
	LEFTARG = @extschema@.gcounter, RIGHTARG = @extschema@.gcounter,
	FUNCTION = @extschema@.gcounter_eq,
	COMMUTATOR = OPERATOR(@extschema@.=), NEGATOR = OPERATOR(@extschema@.<>),
	RESTRICT = pg_catalog.eqsel, JOIN = pg_catalog.eqjoinsel, HASHES, MERGES
);
CREATE OPERATOR @extschema@.<> (
	LEFTARG = @extschema@.gcounter, RIGHTARG = @extschema@.gcounter,
	FUNCTION = @extschema@.gcounter_ne,
	COMMUTATOR = OPERATOR(@extschema@.<>), NEGATOR = OPERATOR(@extschema@.=),
	RESTRICT = pg_catalog.neqsel, JOIN = pg_catalog.neqjoinsel
);
CREATE OPERATOR CLASS @extschema@.gcounter_hash_ops DEFAULT FOR TYPE @extschema@.gcounter USING hash AS
	OPERATOR 1 @extschema@.= (@extschema@.gcounter, @extschema@.gcounter),
	FUNCTION 1 @extschema@.gcounter_hash(@extschema@.gcounter),
	FUNCTION 2 @extschema@.gcounter_hash_extended(@extschema@.gcounter, pg_catalog.int8);

-- A fixed total order for sorting and btree (no causal meaning).
CREATE FUNCTION @extschema@.gcounter_cmp(@extschema@.gcounter, @extschema@.gcounter) RETURNS pg_catalog.int4
	AS 'MODULE_PATHNAME', 'gcounter_cmp' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.gcounter_sort_lt(@extschema@.gcounter, @extschema@.gcounter) RETURNS pg_catalog.bool
	AS 'MODULE_PATHNAME', 'gcounter_sort_lt' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.gcounter_sort_le(@extschema@.gcounter, @extschema@.gcounter) RETURNS pg_catalog.bool
	AS 'MODULE_PATHNAME', 'gcounter_sort_le' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.gcounter_sort_ge(@extschema@.gcounter, @extschema@.gcounter) RETURNS pg_catalog.bool
	AS 'MODULE_PATHNAME', 'gcounter_sort_ge' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.gcounter_sort_gt(@extschema@.gcounter, @extschema@.gcounter) RETURNS pg_catalog.bool
	AS 'MODULE_PATHNAME', 'gcounter_sort_gt' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE OPERATOR @extschema@.~<~ (
	LEFTARG = @extschema@.gcounter, RIGHTARG = @extschema@.gcounter, FUNCTION = @extschema@.gcounter_sort_lt,
	COMMUTATOR = OPERATOR(@extschema@.~>~), NEGATOR = OPERATOR(@extschema@.~>=~),
	RESTRICT = pg_catalog.scalarltsel, JOIN = pg_catalog.scalarltjoinsel
);
CREATE OPERATOR @extschema@.~<=~ (
	LEFTARG = @extschema@.gcounter, RIGHTARG = @extschema@.gcounter, FUNCTION = @extschema@.gcounter_sort_le,
	COMMUTATOR = OPERATOR(@extschema@.~>=~), NEGATOR = OPERATOR(@extschema@.~>~),
	RESTRICT = pg_catalog.scalarlesel, JOIN = pg_catalog.scalarlejoinsel
);
CREATE OPERATOR @extschema@.~>=~ (
	LEFTARG = @extschema@.gcounter, RIGHTARG = @extschema@.gcounter, FUNCTION = @extschema@.gcounter_sort_ge,
	COMMUTATOR = OPERATOR(@extschema@.~<=~), NEGATOR = OPERATOR(@extschema@.~<~),
	RESTRICT = pg_catalog.scalargesel, JOIN = pg_catalog.scalargejoinsel
);
CREATE OPERATOR @extschema@.~>~ (
	LEFTARG = @extschema@.gcounter, RIGHTARG = @extschema@.gcounter, FUNCTION = @extschema@.gcounter_sort_gt,
	COMMUTATOR = OPERATOR(@extschema@.~<~), NEGATOR = OPERATOR(@extschema@.~<=~),
	RESTRICT = pg_catalog.scalargtsel, JOIN = pg_catalog.scalargtjoinsel
);
CREATE OPERATOR CLASS @extschema@.gcounter_ops DEFAULT FOR TYPE @extschema@.gcounter USING btree AS
	OPERATOR 1 @extschema@.~<~ (@extschema@.gcounter, @extschema@.gcounter),
	OPERATOR 2 @extschema@.~<=~ (@extschema@.gcounter, @extschema@.gcounter),
	OPERATOR 3 @extschema@.= (@extschema@.gcounter, @extschema@.gcounter),
	OPERATOR 4 @extschema@.~>=~ (@extschema@.gcounter, @extschema@.gcounter),
	OPERATOR 5 @extschema@.~>~ (@extschema@.gcounter, @extschema@.gcounter),
	FUNCTION 1 @extschema@.gcounter_cmp(@extschema@.gcounter, @extschema@.gcounter);

CREATE FUNCTION @extschema@.crdt_merge(@extschema@.gcounter, @extschema@.gcounter) RETURNS @extschema@.gcounter
	AS 'MODULE_PATHNAME', 'gcounter_merge' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE OPERATOR @extschema@.|| (
	LEFTARG = @extschema@.gcounter, RIGHTARG = @extschema@.gcounter,
	FUNCTION = @extschema@.crdt_merge,
	COMMUTATOR = OPERATOR(@extschema@.||)
);
CREATE FUNCTION @extschema@.crdt_delta(newer @extschema@.gcounter, since @extschema@.gcounter) RETURNS @extschema@.gcounter
	AS 'MODULE_PATHNAME', 'gcounter_delta' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION @extschema@.crdt_hash(@extschema@.gcounter) RETURNS pg_catalog.int8
	AS 'MODULE_PATHNAME', 'crdt_bytes_stable_hash' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.crdt_value(@extschema@.gcounter) RETURNS pg_catalog.int8
	AS 'MODULE_PATHNAME', 'gcounter_value' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.gcounter_to_jsonb(@extschema@.gcounter) RETURNS pg_catalog.jsonb
	AS 'MODULE_PATHNAME', 'gcounter_to_jsonb' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.gcounter_from_jsonb(pg_catalog.jsonb) RETURNS @extschema@.gcounter
	AS 'MODULE_PATHNAME', 'gcounter_from_jsonb' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.gcounter_to_json(@extschema@.gcounter) RETURNS pg_catalog.json
	AS 'MODULE_PATHNAME', 'gcounter_to_json' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.gcounter_from_json(pg_catalog.json) RETURNS @extschema@.gcounter
	AS 'MODULE_PATHNAME', 'gcounter_from_json' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE CAST (@extschema@.gcounter AS pg_catalog.jsonb)
	WITH FUNCTION @extschema@.gcounter_to_jsonb(@extschema@.gcounter) AS ASSIGNMENT;
CREATE CAST (pg_catalog.jsonb AS @extschema@.gcounter)
	WITH FUNCTION @extschema@.gcounter_from_jsonb(pg_catalog.jsonb) AS ASSIGNMENT;
CREATE CAST (@extschema@.gcounter AS pg_catalog.json)
	WITH FUNCTION @extschema@.gcounter_to_json(@extschema@.gcounter) AS ASSIGNMENT;
CREATE CAST (pg_catalog.json AS @extschema@.gcounter)
	WITH FUNCTION @extschema@.gcounter_from_json(pg_catalog.json) AS ASSIGNMENT;

CREATE FUNCTION @extschema@.gcounter_merge_trans(pg_catalog.internal, @extschema@.gcounter) RETURNS pg_catalog.internal
	AS 'MODULE_PATHNAME', 'gcounter_merge_trans' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION @extschema@.gcounter_merge_final(pg_catalog.internal) RETURNS @extschema@.gcounter
	AS 'MODULE_PATHNAME', 'gcounter_merge_final' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE AGGREGATE @extschema@.crdt_merge(@extschema@.gcounter) (
	SFUNC = @extschema@.gcounter_merge_trans,
	STYPE = pg_catalog.internal,
	SSPACE = 1024,
	FINALFUNC = @extschema@.gcounter_merge_final,
	COMBINEFUNC = @extschema@.counter_merge_combine,
	SERIALFUNC = @extschema@.counter_merge_serialize,
	DESERIALFUNC = @extschema@.counter_merge_deserialize,
	PARALLEL = SAFE
);

-- ------------------------------------------------------------------ pncounter

CREATE TYPE @extschema@.pncounter;

CREATE FUNCTION @extschema@.pncounter_in(pg_catalog.cstring) RETURNS @extschema@.pncounter
	AS 'MODULE_PATHNAME', 'pncounter_in' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.pncounter_out(@extschema@.pncounter) RETURNS pg_catalog.cstring
	AS 'MODULE_PATHNAME', 'pncounter_out' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.pncounter_recv(pg_catalog.internal) RETURNS @extschema@.pncounter
	AS 'MODULE_PATHNAME', 'pncounter_recv' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.pncounter_send(@extschema@.pncounter) RETURNS pg_catalog.bytea
	AS 'MODULE_PATHNAME', 'pncounter_send' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE TYPE @extschema@.pncounter (
	INPUT = @extschema@.pncounter_in,
	OUTPUT = @extschema@.pncounter_out,
	RECEIVE = @extschema@.pncounter_recv,
	SEND = @extschema@.pncounter_send,
	INTERNALLENGTH = VARIABLE,
	STORAGE = extended
);

CREATE FUNCTION @extschema@.pncounter_eq(@extschema@.pncounter, @extschema@.pncounter) RETURNS pg_catalog.bool
	AS 'MODULE_PATHNAME', 'crdt_bytes_eq' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
CREATE FUNCTION @extschema@.pncounter_ne(@extschema@.pncounter, @extschema@.pncounter) RETURNS pg_catalog.bool
	AS 'MODULE_PATHNAME', 'crdt_bytes_ne' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
CREATE FUNCTION @extschema@.pncounter_hash(@extschema@.pncounter) RETURNS pg_catalog.int4
	AS 'MODULE_PATHNAME', 'crdt_bytes_hash' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
CREATE FUNCTION @extschema@.pncounter_hash_extended(@extschema@.pncounter, pg_catalog.int8) RETURNS pg_catalog.int8
	AS 'MODULE_PATHNAME', 'crdt_bytes_hash_extended' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;

CREATE OPERATOR @extschema@.= (
	LEFTARG = @extschema@.pncounter, RIGHTARG = @extschema@.pncounter,
	FUNCTION = @extschema@.pncounter_eq,
	COMMUTATOR = OPERATOR(@extschema@.=), NEGATOR = OPERATOR(@extschema@.<>),
	RESTRICT = pg_catalog.eqsel, JOIN = pg_catalog.eqjoinsel, HASHES, MERGES
);
CREATE OPERATOR @extschema@.<> (
	LEFTARG = @extschema@.pncounter, RIGHTARG = @extschema@.pncounter,
	FUNCTION = @extschema@.pncounter_ne,
	COMMUTATOR = OPERATOR(@extschema@.<>), NEGATOR = OPERATOR(@extschema@.=),
	RESTRICT = pg_catalog.neqsel, JOIN = pg_catalog.neqjoinsel
);
CREATE OPERATOR CLASS @extschema@.pncounter_hash_ops DEFAULT FOR TYPE @extschema@.pncounter USING hash AS
	OPERATOR 1 @extschema@.= (@extschema@.pncounter, @extschema@.pncounter),
	FUNCTION 1 @extschema@.pncounter_hash(@extschema@.pncounter),
	FUNCTION 2 @extschema@.pncounter_hash_extended(@extschema@.pncounter, pg_catalog.int8);

-- A fixed total order for sorting and btree (no causal meaning).
CREATE FUNCTION @extschema@.pncounter_cmp(@extschema@.pncounter, @extschema@.pncounter) RETURNS pg_catalog.int4
	AS 'MODULE_PATHNAME', 'pncounter_cmp' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.pncounter_sort_lt(@extschema@.pncounter, @extschema@.pncounter) RETURNS pg_catalog.bool
	AS 'MODULE_PATHNAME', 'pncounter_sort_lt' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.pncounter_sort_le(@extschema@.pncounter, @extschema@.pncounter) RETURNS pg_catalog.bool
	AS 'MODULE_PATHNAME', 'pncounter_sort_le' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.pncounter_sort_ge(@extschema@.pncounter, @extschema@.pncounter) RETURNS pg_catalog.bool
	AS 'MODULE_PATHNAME', 'pncounter_sort_ge' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.pncounter_sort_gt(@extschema@.pncounter, @extschema@.pncounter) RETURNS pg_catalog.bool
	AS 'MODULE_PATHNAME', 'pncounter_sort_gt' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE OPERATOR @extschema@.~<~ (
	LEFTARG = @extschema@.pncounter, RIGHTARG = @extschema@.pncounter, FUNCTION = @extschema@.pncounter_sort_lt,
	COMMUTATOR = OPERATOR(@extschema@.~>~), NEGATOR = OPERATOR(@extschema@.~>=~),
	RESTRICT = pg_catalog.scalarltsel, JOIN = pg_catalog.scalarltjoinsel
);
CREATE OPERATOR @extschema@.~<=~ (
	LEFTARG = @extschema@.pncounter, RIGHTARG = @extschema@.pncounter, FUNCTION = @extschema@.pncounter_sort_le,
	COMMUTATOR = OPERATOR(@extschema@.~>=~), NEGATOR = OPERATOR(@extschema@.~>~),
	RESTRICT = pg_catalog.scalarlesel, JOIN = pg_catalog.scalarlejoinsel
);
CREATE OPERATOR @extschema@.~>=~ (
	LEFTARG = @extschema@.pncounter, RIGHTARG = @extschema@.pncounter, FUNCTION = @extschema@.pncounter_sort_ge,
	COMMUTATOR = OPERATOR(@extschema@.~<=~), NEGATOR = OPERATOR(@extschema@.~<~),
	RESTRICT = pg_catalog.scalargesel, JOIN = pg_catalog.scalargejoinsel
);
CREATE OPERATOR @extschema@.~>~ (
	LEFTARG = @extschema@.pncounter, RIGHTARG = @extschema@.pncounter, FUNCTION = @extschema@.pncounter_sort_gt,
	COMMUTATOR = OPERATOR(@extschema@.~<~), NEGATOR = OPERATOR(@extschema@.~<=~),
	RESTRICT = pg_catalog.scalargtsel, JOIN = pg_catalog.scalargtjoinsel
);
CREATE OPERATOR CLASS @extschema@.pncounter_ops DEFAULT FOR TYPE @extschema@.pncounter USING btree AS
	OPERATOR 1 @extschema@.~<~ (@extschema@.pncounter, @extschema@.pncounter),
	OPERATOR 2 @extschema@.~<=~ (@extschema@.pncounter, @extschema@.pncounter),
	OPERATOR 3 @extschema@.= (@extschema@.pncounter, @extschema@.pncounter),
	OPERATOR 4 @extschema@.~>=~ (@extschema@.pncounter, @extschema@.pncounter),
	OPERATOR 5 @extschema@.~>~ (@extschema@.pncounter, @extschema@.pncounter),
	FUNCTION 1 @extschema@.pncounter_cmp(@extschema@.pncounter, @extschema@.pncounter);

CREATE FUNCTION @extschema@.crdt_merge(@extschema@.pncounter, @extschema@.pncounter) RETURNS @extschema@.pncounter
	AS 'MODULE_PATHNAME', 'pncounter_merge' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE OPERATOR @extschema@.|| (
	LEFTARG = @extschema@.pncounter, RIGHTARG = @extschema@.pncounter,
	FUNCTION = @extschema@.crdt_merge,
	COMMUTATOR = OPERATOR(@extschema@.||)
);
CREATE FUNCTION @extschema@.crdt_delta(newer @extschema@.pncounter, since @extschema@.pncounter) RETURNS @extschema@.pncounter
	AS 'MODULE_PATHNAME', 'pncounter_delta' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION @extschema@.crdt_hash(@extschema@.pncounter) RETURNS pg_catalog.int8
	AS 'MODULE_PATHNAME', 'crdt_bytes_stable_hash' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.crdt_value(@extschema@.pncounter) RETURNS pg_catalog.int8
	AS 'MODULE_PATHNAME', 'pncounter_value' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.pncounter_to_jsonb(@extschema@.pncounter) RETURNS pg_catalog.jsonb
	AS 'MODULE_PATHNAME', 'pncounter_to_jsonb' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.pncounter_from_jsonb(pg_catalog.jsonb) RETURNS @extschema@.pncounter
	AS 'MODULE_PATHNAME', 'pncounter_from_jsonb' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.pncounter_to_json(@extschema@.pncounter) RETURNS pg_catalog.json
	AS 'MODULE_PATHNAME', 'pncounter_to_json' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.pncounter_from_json(pg_catalog.json) RETURNS @extschema@.pncounter
	AS 'MODULE_PATHNAME', 'pncounter_from_json' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE CAST (@extschema@.pncounter AS pg_catalog.jsonb)
	WITH FUNCTION @extschema@.pncounter_to_jsonb(@extschema@.pncounter) AS ASSIGNMENT;
CREATE CAST (pg_catalog.jsonb AS @extschema@.pncounter)
	WITH FUNCTION @extschema@.pncounter_from_jsonb(pg_catalog.jsonb) AS ASSIGNMENT;
CREATE CAST (@extschema@.pncounter AS pg_catalog.json)
	WITH FUNCTION @extschema@.pncounter_to_json(@extschema@.pncounter) AS ASSIGNMENT;
CREATE CAST (pg_catalog.json AS @extschema@.pncounter)
	WITH FUNCTION @extschema@.pncounter_from_json(pg_catalog.json) AS ASSIGNMENT;

CREATE FUNCTION @extschema@.pncounter_merge_trans(pg_catalog.internal, @extschema@.pncounter) RETURNS pg_catalog.internal
	AS 'MODULE_PATHNAME', 'pncounter_merge_trans' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION @extschema@.pncounter_merge_final(pg_catalog.internal) RETURNS @extschema@.pncounter
	AS 'MODULE_PATHNAME', 'pncounter_merge_final' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE AGGREGATE @extschema@.crdt_merge(@extschema@.pncounter) (
	SFUNC = @extschema@.pncounter_merge_trans,
	STYPE = pg_catalog.internal,
	SSPACE = 1024,
	FINALFUNC = @extschema@.pncounter_merge_final,
	COMBINEFUNC = @extschema@.counter_merge_combine,
	SERIALFUNC = @extschema@.counter_merge_serialize,
	DESERIALFUNC = @extschema@.counter_merge_deserialize,
	PARALLEL = SAFE
);

-- ------------------------------------------------------ replica identity

CREATE FUNCTION @extschema@.crdt_replica_id() RETURNS pg_catalog.text
	AS 'MODULE_PATHNAME', 'crdt_replica_id' LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.crdt_replica_id() IS
	'the replica that mutators act for by default (the crdt.replica_id setting), NULL when unset';

-- ------------------------------------------------------- vclock functions

CREATE FUNCTION @extschema@.crdt_tick(clock @extschema@.vclock, replica pg_catalog.text DEFAULT NULL)
	RETURNS @extschema@.vclock
	AS 'MODULE_PATHNAME', 'vclock_tick' LANGUAGE C STABLE PARALLEL SAFE;
CREATE FUNCTION @extschema@.vclock_compare(a @extschema@.vclock, b @extschema@.vclock) RETURNS pg_catalog.text
	AS 'MODULE_PATHNAME', 'vclock_compare' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.vclock_concurrent(a @extschema@.vclock, b @extschema@.vclock) RETURNS pg_catalog.bool
	AS 'MODULE_PATHNAME', 'vclock_concurrent' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.vclock_distance(a @extschema@.vclock, b @extschema@.vclock) RETURNS pg_catalog.int8
	AS 'MODULE_PATHNAME', 'vclock_distance' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.crdt_get(clock @extschema@.vclock, replica pg_catalog.text) RETURNS pg_catalog.int8
	AS 'MODULE_PATHNAME', 'vclock_get' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.crdt_entries(clock @extschema@.vclock,
		OUT replica pg_catalog.text, OUT count pg_catalog.int8)
	RETURNS SETOF pg_catalog.record
	AS 'MODULE_PATHNAME', 'vclock_entries' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.vclock_lt(@extschema@.vclock, @extschema@.vclock) RETURNS pg_catalog.bool
	AS 'MODULE_PATHNAME', 'vclock_lt' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.vclock_le(@extschema@.vclock, @extschema@.vclock) RETURNS pg_catalog.bool
	AS 'MODULE_PATHNAME', 'vclock_le' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.vclock_gt(@extschema@.vclock, @extschema@.vclock) RETURNS pg_catalog.bool
	AS 'MODULE_PATHNAME', 'vclock_gt' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.vclock_ge(@extschema@.vclock, @extschema@.vclock) RETURNS pg_catalog.bool
	AS 'MODULE_PATHNAME', 'vclock_ge' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

-- Happened-before is a partial order: no negators, no btree opclass.
CREATE OPERATOR @extschema@.< (
	LEFTARG = @extschema@.vclock, RIGHTARG = @extschema@.vclock,
	FUNCTION = @extschema@.vclock_lt, COMMUTATOR = OPERATOR(@extschema@.>)
);
CREATE OPERATOR @extschema@.<= (
	LEFTARG = @extschema@.vclock, RIGHTARG = @extschema@.vclock,
	FUNCTION = @extschema@.vclock_le, COMMUTATOR = OPERATOR(@extschema@.>=)
);
CREATE OPERATOR @extschema@.> (
	LEFTARG = @extschema@.vclock, RIGHTARG = @extschema@.vclock,
	FUNCTION = @extschema@.vclock_gt, COMMUTATOR = OPERATOR(@extschema@.<)
);
CREATE OPERATOR @extschema@.>= (
	LEFTARG = @extschema@.vclock, RIGHTARG = @extschema@.vclock,
	FUNCTION = @extschema@.vclock_ge, COMMUTATOR = OPERATOR(@extschema@.<=)
);

-- ------------------------------------------------------ counter functions

CREATE FUNCTION @extschema@.crdt_increment(counter @extschema@.gcounter, by pg_catalog.int8 DEFAULT 1,
		replica pg_catalog.text DEFAULT NULL)
	RETURNS @extschema@.gcounter
	AS 'MODULE_PATHNAME', 'gcounter_increment' LANGUAGE C STABLE PARALLEL SAFE;
CREATE FUNCTION @extschema@.crdt_get(counter @extschema@.gcounter, replica pg_catalog.text) RETURNS pg_catalog.int8
	AS 'MODULE_PATHNAME', 'gcounter_get' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.crdt_entries(counter @extschema@.gcounter,
		OUT replica pg_catalog.text, OUT count pg_catalog.int8)
	RETURNS SETOF pg_catalog.record
	AS 'MODULE_PATHNAME', 'gcounter_entries' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.crdt_increment(counter @extschema@.pncounter, by pg_catalog.int8 DEFAULT 1,
		replica pg_catalog.text DEFAULT NULL)
	RETURNS @extschema@.pncounter
	AS 'MODULE_PATHNAME', 'pncounter_increment' LANGUAGE C STABLE PARALLEL SAFE;
CREATE FUNCTION @extschema@.crdt_decrement(counter @extschema@.pncounter, by pg_catalog.int8 DEFAULT 1,
		replica pg_catalog.text DEFAULT NULL)
	RETURNS @extschema@.pncounter
	AS 'MODULE_PATHNAME', 'pncounter_decrement' LANGUAGE C STABLE PARALLEL SAFE;
CREATE FUNCTION @extschema@.crdt_get(counter @extschema@.pncounter, replica pg_catalog.text) RETURNS pg_catalog.int8
	AS 'MODULE_PATHNAME', 'pncounter_get' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.crdt_entries(counter @extschema@.pncounter,
		OUT replica pg_catalog.text, OUT increments pg_catalog.int8, OUT decrements pg_catalog.int8)
	RETURNS SETOF pg_catalog.record
	AS 'MODULE_PATHNAME', 'pncounter_entries' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

-- ---------------------------------------------------------------- comments

COMMENT ON TYPE @extschema@.vclock IS 'vector clock: replica id -> event count, ordered by happened-before';
COMMENT ON TYPE @extschema@.gcounter IS 'grow-only counter CRDT: per-replica contributions merged by maximum';
COMMENT ON TYPE @extschema@.pncounter IS 'positive/negative counter CRDT: two grow-only halves, value P - N';
