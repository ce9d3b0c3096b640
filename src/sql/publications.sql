-- ------------------------------------------------------------ publications

-- The publication a node of a mesh needs: every tracked table (or those
-- given), replica-rows tables filtered to this replica's own rows, the
-- tombstones, the mesh's node list, the retired replicas and the bcounter
-- rights requests, no TRUNCATE (tracked tables refuse it), partitioned
-- tables through their root; this node joins the mesh under its
-- crdt.replica_id, when it is set (the first time).  Run as a role that owns those tables (the
-- tombstones belong to the extension's owner): usually a superuser.
CREATE FUNCTION crdt_reconcile.create_publication(publication pg_catalog.name,
		tables pg_catalog.regclass[] DEFAULT NULL)
	RETURNS pg_catalog.text
	LANGUAGE plpgsql
	SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	me pg_catalog.text := @extschema@.crdt_replica_id();
	members pg_catalog.text;
	statement pg_catalog.text;
BEGIN
	IF EXISTS (SELECT FROM crdt_reconcile.tracked t WHERE t.shape = 'replica_rows'
	           AND (tables IS NULL OR t.relation = ANY (tables))) AND me IS NULL THEN
		RAISE EXCEPTION 'crdt.replica_id must be set: replica-rows tables publish this replica''s rows'
			USING ERRCODE = 'object_not_in_prerequisite_state';
	END IF;
	IF tables IS NOT NULL AND EXISTS (SELECT FROM pg_catalog.unnest(tables) r
	                                  WHERE NOT EXISTS (SELECT FROM crdt_reconcile.tracked t WHERE t.relation = r)) THEN
		RAISE EXCEPTION 'every table of a crdt_reconcile publication must be tracked'
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	SELECT pg_catalog.string_agg(CASE WHEN t.shape = 'replica_rows'
	                                  THEN pg_catalog.format('%s WHERE (%I = %L)', t.relation, t.replica_column, me)
	                                  ELSE t.relation::pg_catalog.text END, ', ' ORDER BY t.relation::pg_catalog.text)
	INTO members
	FROM crdt_reconcile.tracked t WHERE tables IS NULL OR t.relation = ANY (tables);
	statement := pg_catalog.format(
		'CREATE PUBLICATION %I FOR TABLE %s WITH (publish = ''insert, update, delete'', publish_via_partition_root = true)',
		publication, concat_ws(', ', members, 'crdt_reconcile.tombstones', 'crdt_reconcile.mesh_nodes',
		                        'crdt_reconcile.retired_replicas', 'crdt_reconcile.rights_requests'));
	EXECUTE statement;
	IF me IS NOT NULL AND NOT EXISTS (SELECT FROM crdt_reconcile.this_node) THEN
		PERFORM crdt_reconcile.join_mesh(me);
	END IF;
	RETURN statement;
END
$$;
COMMENT ON FUNCTION crdt_reconcile.create_publication(pg_catalog.name, pg_catalog.regclass[]) IS
	'creates the publication a mesh node needs: tracked tables (replica rows filtered to this replica), tombstones, mesh nodes, no truncate; joins this node to the mesh';

-- On a publishing node: each publication of a tracked table, and what is
-- wrong with it for a mesh (NULL when nothing is).
CREATE VIEW crdt_reconcile.publication_status AS
SELECT p.pubname AS publication, t.relation, t.shape,
       p.pubtruncate AS publishes_truncate,
       EXISTS (SELECT FROM pg_catalog.pg_publication_tables x WHERE x.pubname = p.pubname
               AND x.schemaname = 'crdt_reconcile' AND x.tablename = 'tombstones') AS publishes_tombstones,
       pt.rowfilter,
       CASE WHEN p.pubtruncate THEN 'publishes TRUNCATE, which tracked tables refuse: the subscribers'' apply would stop (publish = ''insert, update, delete'')'
            WHEN NOT p.pubdelete THEN 'does not publish deletes'
            WHEN t.shape = 'merge_in_place' AND t.clock_column IS NOT NULL AND NOT EXISTS (
                 SELECT FROM pg_catalog.pg_publication_tables x WHERE x.pubname = p.pubname
                 AND x.schemaname = 'crdt_reconcile' AND x.tablename = 'tombstones')
            THEN 'does not publish crdt_reconcile.tombstones: deletes will not converge'
            WHEN t.shape = 'merge_in_place' AND t.clock_column IS NOT NULL AND NOT EXISTS (
                 SELECT FROM pg_catalog.pg_publication_tables x WHERE x.pubname = p.pubname
                 AND x.schemaname = 'crdt_reconcile' AND x.tablename = 'mesh_nodes')
            THEN 'does not publish crdt_reconcile.mesh_nodes: tombstones are never collected'
            WHEN t.shape = 'replica_rows' AND pt.rowfilter IS NULL
            THEN 'publishes every replica''s rows, not only this replica''s: in a mesh they travel in circles'
       END AS problem
FROM pg_catalog.pg_publication p
JOIN pg_catalog.pg_publication_tables pt ON pt.pubname = p.pubname
JOIN crdt_reconcile.tracked t
  ON t.relation OPERATOR(pg_catalog.=) pg_catalog.to_regclass(pg_catalog.format('%I.%I', pt.schemaname, pt.tablename));
GRANT SELECT ON crdt_reconcile.publication_status TO crdt_reconcile_admin;
