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

