-- ------------------------------------------------------ counter functions

CREATE FUNCTION @extschema@.crdt_value(@extschema@.gcounter) RETURNS pg_catalog.int8
	AS 'MODULE_PATHNAME', 'gcounter_value' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.crdt_value(@extschema@.pncounter) RETURNS pg_catalog.int8
	AS 'MODULE_PATHNAME', 'pncounter_value' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.crdt_get(counter @extschema@.gcounter, replica pg_catalog.text) RETURNS pg_catalog.int8
	AS 'MODULE_PATHNAME', 'gcounter_get' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.crdt_entries(counter @extschema@.gcounter,
		OUT replica pg_catalog.text, OUT count pg_catalog.int8)
	RETURNS SETOF pg_catalog.record
	AS 'MODULE_PATHNAME', 'gcounter_entries' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.crdt_get(counter @extschema@.pncounter, replica pg_catalog.text) RETURNS pg_catalog.int8
	AS 'MODULE_PATHNAME', 'pncounter_get' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.crdt_entries(counter @extschema@.pncounter,
		OUT replica pg_catalog.text, OUT increments pg_catalog.int8, OUT decrements pg_catalog.int8)
	RETURNS SETOF pg_catalog.record
	AS 'MODULE_PATHNAME', 'pncounter_entries' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

