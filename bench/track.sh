#!/usr/bin/env bash
# make bench-track — the cost of the tracked-table trigger on the write path.
#
# pgbench, 4 clients, 10,000 keys: INSERT ... ON CONFLICT DO UPDATE that
# increments a gcounter in a tracked table, against the same upsert adding
# to a bigint in an untracked table, interleaved run by run; plus the same
# gcounter upsert with a row clock (vclock column ticked on every write),
# and both gcounter upserts again with history on (track(..., history =>
# true)).
# Prints the median tps of each, the ratio to the bigint baseline, and the
# WAL bytes per increment (pg_current_wal_lsn before and after each run).
# CRDT_PG_STAGE=DIR runs the server from a private PostgreSQL tree (see
# test/lib.sh); BENCH_PORT=N puts it on that port instead of a random one.
source "$(dirname "$0")/../test/lib.sh"
pgbench_settings
KEYS=10000

ensure_packages
build_and_install
make_workdir
start_cluster track "shared_buffers = '256MB'" "synchronous_commit = off" "autovacuum = off" \
	"max_wal_size = '4GB'" "checkpoint_timeout = '30min'"

psql_on track <<SQL
CREATE EXTENSION crdt_reconcile;
ALTER DATABASE postgres SET crdt.replica_id = 'bench';
CREATE TABLE plain_counts (k int PRIMARY KEY, n bigint NOT NULL);
CREATE TABLE tracked_counts (k int PRIMARY KEY, n gcounter);
CREATE TABLE clocked_counts (k int PRIMARY KEY, n gcounter, clk vclock);
CREATE TABLE history_plain_counts (k int PRIMARY KEY, n gcounter);
CREATE TABLE history_counts (k int PRIMARY KEY, n gcounter, clk vclock);
SELECT crdt_reconcile.track('tracked_counts');
SELECT crdt_reconcile.track('clocked_counts', clock_column => 'clk');
SELECT crdt_reconcile.track('history_plain_counts', history => true);
SELECT crdt_reconcile.track('history_counts', clock_column => 'clk', history => true);
SET crdt.replica_id = 'bench';
INSERT INTO plain_counts SELECT k, 0 FROM generate_series(1, $KEYS) k;
INSERT INTO tracked_counts SELECT k, '{}' FROM generate_series(1, $KEYS) k;
INSERT INTO clocked_counts SELECT k, '{}', '{}' FROM generate_series(1, $KEYS) k;
INSERT INTO history_plain_counts SELECT k, '{}' FROM generate_series(1, $KEYS) k;
INSERT INTO history_counts SELECT k, '{}', '{}' FROM generate_series(1, $KEYS) k;
VACUUM ANALYZE;
SQL

cat > "$WORK/plain.sql" <<SQL
\set k random(1, $KEYS)
INSERT INTO plain_counts AS t (k, n) VALUES (:k, 1) ON CONFLICT (k) DO UPDATE SET n = t.n + 1;
SQL
for table in tracked_counts clocked_counts history_plain_counts history_counts; do
	cat > "$WORK/$table.sql" <<SQL
\set k random(1, $KEYS)
INSERT INTO $table AS t (k, n) VALUES (:k, crdt_increment(NULL::gcounter, 1))
ON CONFLICT (k) DO UPDATE SET n = crdt_increment(t.n, 1);
SQL
done
chmod 644 "$WORK"/*.sql

# run NAME: one pgbench run; appends "tps wal_bytes_per_increment" to $WORK/NAME.runs
run() { pgbench_run track postgres "$WORK/$1.sql" "$CLIENTS" "$SECONDS_PER_RUN" >> "$WORK/$1.runs"; }

log "pgbench: $RUNS interleaved runs of ${SECONDS_PER_RUN}s each, $CLIENTS clients, $KEYS keys"
for i in $(seq "$RUNS"); do
	for name in plain tracked_counts clocked_counts history_plain_counts history_counts; do
		run "$name"
	done
done

plain_tps=$(cut -d' ' -f1 "$WORK/plain.runs" | median_of)
printf '%-44s %10s %8s %14s\n' "upsert" "tps" "ratio" "WAL B/incr"
for name in plain tracked_counts clocked_counts history_plain_counts history_counts; do
	read -r tps wal <<<"$(run_medians "$WORK/$name.runs")"
	case $name in
		plain) label="bigint, untracked (baseline)" ;;
		tracked_counts) label="gcounter, tracked" ;;
		clocked_counts) label="gcounter, tracked, row clock ticked" ;;
		history_plain_counts) label="gcounter, tracked, history on" ;;
		history_counts) label="gcounter, tracked, row clock, history on" ;;
	esac
	printf '%-44s %10.0f %8.2f %14.1f\n' "$label" "$tps" "$(awk -v a="$tps" -v b="$plain_tps" 'BEGIN { print a / b }')" "$wal"
done
echo "all runs (tps, WAL bytes per increment):"
for name in plain tracked_counts clocked_counts history_plain_counts history_counts; do
	echo "  $name: $(tr '\n' ';' < "$WORK/$name.runs")"
done
# history: its records and their index, per record (one per increment)
psql_on track -At -c "SELECT 'history: ' || count(*) || ' records, '
	|| round(pg_total_relation_size('crdt_reconcile.history')::numeric / greatest(count(*), 1), 1) || ' bytes per record with its index ('
	|| round(pg_relation_size('crdt_reconcile.history')::numeric / greatest(count(*), 1), 1) || ' table, '
	|| round(pg_indexes_size('crdt_reconcile.history')::numeric / greatest(count(*), 1), 1) || ' index)'
	FROM crdt_reconcile.history WHERE kind <> 'checkpoint'"
