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

CREATE FUNCTION @extschema@.gset_from_text_array(pg_catalog.text[]) RETURNS @extschema@.gset
	AS 'MODULE_PATHNAME', 'gset_from_text_array' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE CAST (pg_catalog.text[] AS @extschema@.gset)
	WITH FUNCTION @extschema@.gset_from_text_array(pg_catalog.text[]) AS ASSIGNMENT;

