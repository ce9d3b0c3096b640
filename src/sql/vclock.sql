-- ------------------------------------------------------- vclock functions

CREATE FUNCTION @extschema@.crdt_value(@extschema@.vclock) RETURNS pg_catalog.int8
	AS 'MODULE_PATHNAME', 'vclock_value' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
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

