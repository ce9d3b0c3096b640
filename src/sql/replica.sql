-- ------------------------------------------------------ replica identity

CREATE FUNCTION @extschema@.crdt_replica_id() RETURNS pg_catalog.text
	AS 'MODULE_PATHNAME', 'crdt_replica_id' LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.crdt_replica_id() IS
	'the replica that mutators act for by default (the crdt.replica_id setting), NULL when unset';

