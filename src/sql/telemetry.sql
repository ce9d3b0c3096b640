-- ------------------------------------------------------------ telemetry

CREATE VIEW crdt_reconcile.conflict_stats WITH (security_invoker = true) AS
SELECT c.relation, c.kind,
       pg_catalog.count(*) AS total,
       pg_catalog.count(*) FILTER (WHERE c.status = 'open') AS open,
       pg_catalog.count(*) FILTER (WHERE c.detected_at > pg_catalog.now() - '1 hour'::pg_catalog.interval) AS last_hour,
       pg_catalog.max(c.detected_at) AS last_detected
FROM crdt_reconcile.conflicts c
GROUP BY c.relation, c.kind;
GRANT SELECT ON crdt_reconcile.conflict_stats TO PUBLIC;

-- Counters in shared memory, like the pg_stat_* views: since server start
-- (or the last reset), not crash-safe, one atomic add per event.
CREATE FUNCTION crdt_reconcile.merge_counters(
		OUT database pg_catalog.oid, OUT relation pg_catalog.oid,
		OUT local_writes pg_catalog.int8, OUT merges_applied pg_catalog.int8,
		OUT inserts_merged pg_catalog.int8, OUT stale_skipped pg_catalog.int8,
		OUT echoes_skipped pg_catalog.int8, OUT conflicts_recorded pg_catalog.int8)
	RETURNS SETOF record
	AS 'MODULE_PATHNAME', 'crdt_merge_counters' LANGUAGE C VOLATILE;
CREATE FUNCTION crdt_reconcile.reset_merge_stats(rel pg_catalog.regclass DEFAULT NULL) RETURNS pg_catalog.void
	AS 'MODULE_PATHNAME', 'crdt_reset_merge_stats' LANGUAGE C VOLATILE;
REVOKE ALL ON FUNCTION crdt_reconcile.reset_merge_stats(pg_catalog.regclass) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION crdt_reconcile.reset_merge_stats(pg_catalog.regclass) TO crdt_reconcile_admin;

-- merge_counters() itself shows only this database's relations that the
-- caller may read (admins: all, and the overflow row, relation NULL).
CREATE VIEW crdt_reconcile.merge_stats AS
SELECT s.relation::pg_catalog.regclass AS relation, s.local_writes, s.merges_applied, s.inserts_merged,
       s.stale_skipped, s.echoes_skipped, s.conflicts_recorded
FROM crdt_reconcile.merge_counters() s;
GRANT SELECT ON crdt_reconcile.merge_stats TO PUBLIC;

-- Reconciliation lag of a replica-rows table: per replica, how far its
-- rows' clocks are behind the merged clock of their keys.
CREATE FUNCTION crdt_reconcile.replica_lag(rel pg_catalog.regclass,
		OUT replica pg_catalog.text, OUT keys pg_catalog.int8, OUT keys_behind pg_catalog.int8,
		OUT max_distance pg_catalog.int8, OUT total_distance pg_catalog.numeric)
	RETURNS SETOF record
	LANGUAGE plpgsql STABLE
	SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	t crdt_reconcile.tracked;
	key_list pg_catalog.text;
BEGIN
	IF NOT EXISTS (SELECT FROM pg_class c WHERE c.oid = rel) THEN
		RETURN;		-- a dropped table's settings linger until untracked
	END IF;
	SELECT * INTO t FROM crdt_reconcile.tracked x WHERE x.relation = rel;
	IF NOT FOUND OR t.shape <> 'replica_rows' OR t.clock_column IS NULL THEN
		RAISE EXCEPTION '% is not a tracked replica_rows table with a clock column', rel
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	SELECT pg_catalog.string_agg(pg_catalog.format('%I', k), ', ') INTO key_list
	FROM pg_catalog.unnest(t.key_columns) k WHERE k <> t.replica_column;
	RETURN QUERY EXECUTE pg_catalog.format(
		'WITH merged AS (SELECT %1$s, @extschema@.crdt_merge(%3$I) AS clock FROM %2$s GROUP BY %1$s) '
		'SELECT r.%4$I, pg_catalog.count(*), pg_catalog.count(*) FILTER (WHERE d.distance > 0), '
		'       pg_catalog.max(d.distance), pg_catalog.sum(d.distance) '
		'FROM %2$s r JOIN merged m USING (%1$s) '
		'CROSS JOIN LATERAL (SELECT @extschema@.vclock_distance(r.%3$I, m.clock) AS distance) d '
		'GROUP BY r.%4$I ORDER BY r.%4$I',
		key_list, rel, t.clock_column, t.replica_column);
END
$$;

CREATE VIEW crdt_reconcile.reconciliation_lag WITH (security_invoker = true) AS
SELECT t.relation, l.*
FROM crdt_reconcile.tracked t
CROSS JOIN LATERAL crdt_reconcile.replica_lag(t.relation) l
WHERE t.shape = 'replica_rows' AND t.clock_column IS NOT NULL
  AND coalesce(pg_catalog.has_table_privilege(t.relation, 'SELECT'), false);
GRANT SELECT ON crdt_reconcile.reconciliation_lag TO PUBLIC;

-- ------------------------------------------------------------ replication health

-- Per subscription and tracked table on this (subscribing) node: the
-- table's sync state, the apply worker, and how far behind it is.
CREATE VIEW crdt_reconcile.replication_status AS
SELECT s.subname AS subscription,
       sr.srrelid::pg_catalog.regclass AS relation,
       t.shape,
       CASE sr.srsubstate WHEN 'i' THEN 'initialize' WHEN 'd' THEN 'copying' WHEN 'f' THEN 'copied'
            WHEN 's' THEN 'synchronized' WHEN 'r' THEN 'ready' ELSE sr.srsubstate::pg_catalog.text END AS sync_state,
       s.subenabled AS enabled,
       st.pid AS worker_pid,
       st.received_lsn,
       st.latest_end_lsn,
       st.last_msg_receipt_time,
       pg_catalog.now() - st.last_msg_send_time AS apply_lag,
       pg_catalog.now() - st.latest_end_time AS confirmed_lag
FROM pg_catalog.pg_subscription s
JOIN pg_catalog.pg_subscription_rel sr ON sr.srsubid = s.oid
JOIN crdt_reconcile.tracked t ON t.relation::pg_catalog.oid OPERATOR(pg_catalog.=) sr.srrelid
LEFT JOIN pg_catalog.pg_stat_subscription st ON st.subid = s.oid AND st.relid IS NULL
WHERE s.subdbid = (SELECT d.oid FROM pg_catalog.pg_database d WHERE d.datname = pg_catalog.current_database());
GRANT SELECT ON crdt_reconcile.replication_status TO crdt_reconcile_admin;

-- Per peer on this (publishing) node: how much WAL each subscriber's slot
-- has not confirmed yet.
CREATE VIEW crdt_reconcile.peer_status AS
SELECT r.slot_name, r.active, r.active_pid,
       pg_catalog.pg_wal_lsn_diff(pg_catalog.pg_current_wal_lsn(), r.confirmed_flush_lsn) AS unconfirmed_bytes,
       sr.application_name, sr.state, sr.replay_lag
FROM pg_catalog.pg_replication_slots r
LEFT JOIN pg_catalog.pg_stat_replication sr ON sr.pid = r.active_pid
WHERE r.slot_type = 'logical'
  AND r.database = pg_catalog.current_database();
GRANT SELECT ON crdt_reconcile.peer_status TO crdt_reconcile_admin;
