-- ----------------------------------------------------- register functions

-- Stamped max(clock_timestamp(), current + 1 microsecond): VOLATILE.
CREATE FUNCTION @extschema@.crdt_set(r @extschema@.lwwreg, value pg_catalog.jsonb,
		replica pg_catalog.text DEFAULT NULL)
	RETURNS @extschema@.lwwreg
	AS 'MODULE_PATHNAME', 'lwwreg_set' LANGUAGE C VOLATILE PARALLEL SAFE;
-- A write at an explicit time has its own name: crdt_set(r, $1, $2) with
-- untyped parameters could silently mean either form.
CREATE FUNCTION @extschema@.crdt_set_at(r @extschema@.lwwreg, value pg_catalog.jsonb,
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

