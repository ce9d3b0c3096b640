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
