-- ------------------------------------------------------ bounded counter functions

CREATE FUNCTION @extschema@.crdt_value(@extschema@.bcounter) RETURNS pg_catalog.int8
	AS 'MODULE_PATHNAME', 'bcounter_value' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
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
