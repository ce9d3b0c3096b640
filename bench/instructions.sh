#!/usr/bin/env bash
# make bench-instructions — the instructions crdt_merge executes per input
# row, against sum(bigint) on the same rows: a measure that, unlike time,
# does not move with what else the machine runs.
#
# Loads bench/load_counters.sql for 1,000 keys x 100 replicas (BENCH_KEYS
# keys), stops the server, and runs each GROUP BY key query in a
# single-user backend under callgrind (valgrind), counting only what the
# executor runs (standard_ExecutorRun: scan, hashing, aggregation, final
# functions).  Prints instructions per row and their ratio to sum(bigint)
# for each counter type and row layout.  What the ratio leaves out: cache
# misses, which the time ratios of `make bench` include.
#
# Then the jsonb cast of a gcounter against the same jsonb made through
# text and jsonb_in, per row of the same scan.
#
# Then the write path of `make bench-track`: instructions per upsert
# statement, parse to commit (the whole backend, 2,500 statements less
# 500, so that start-up cancels out), for the bigint upsert and the tracked
# gcounter upserts (without and with a row clock, without and with
# history), random keys over 10,000 rows.
source "$(dirname "$0")/../test/lib.sh"
KEYS=${BENCH_KEYS:-1000}
ROWS=$((KEYS * 100))

ensure_packages
command -v valgrind >/dev/null || {
	log "installing valgrind"
	as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq valgrind >/dev/null
}
build_and_install
make_workdir
start_cluster instr "jit = off" "max_parallel_workers_per_gather = 0" "work_mem = '1GB'" "autovacuum = off"
log "loading $ROWS replica rows"
psql_on instr -v keys="$KEYS" < "$ROOT/bench/load_counters.sql"
psql_on instr <<'SQL'
SET crdt.replica_id = 'bench';
CREATE TABLE plain_counts (k int PRIMARY KEY, n bigint NOT NULL);
CREATE TABLE tracked_counts (k int PRIMARY KEY, n gcounter);
CREATE TABLE history_counts (k int PRIMARY KEY, n gcounter);
CREATE TABLE clocked_counts (k int PRIMARY KEY, n gcounter, clk vclock);
CREATE TABLE clocked_history_counts (k int PRIMARY KEY, n gcounter, clk vclock);
SELECT crdt_reconcile.track('tracked_counts');
SELECT crdt_reconcile.track('history_counts', history => true);
SELECT crdt_reconcile.track('clocked_counts', clock_column => 'clk');
SELECT crdt_reconcile.track('clocked_history_counts', clock_column => 'clk', history => true);
INSERT INTO plain_counts SELECT k, 0 FROM generate_series(1, 10000) k;
INSERT INTO tracked_counts SELECT k, '{}' FROM generate_series(1, 10000) k;
INSERT INTO history_counts SELECT k, '{}' FROM generate_series(1, 10000) k;
INSERT INTO clocked_counts SELECT k, '{}', '{}' FROM generate_series(1, 10000) k;
INSERT INTO clocked_history_counts SELECT k, '{}', '{}' FROM generate_series(1, 10000) k;
SQL
psql_on instr -c "VACUUM FREEZE ANALYZE"
as_server pg_ctl -D "$WORK/instr" -m fast -w stop >/dev/null

# collected [CALLGRIND OPTION]: the statements on stdin in a single-user
# backend under callgrind; prints the instructions it counted
collected() {
	as_server valgrind --tool=callgrind --callgrind-out-file="$WORK/callgrind.out" "$@" \
		"$PG_BIN/postgres" --single -D "$WORK/instr" \
		-c jit=off -c max_parallel_workers_per_gather=0 -c work_mem=1GB postgres \
		>/dev/null 2>"$WORK/callgrind.err"
	! grep -q ERROR: "$WORK/callgrind.err" || { cat "$WORK/callgrind.err" >&2; die "a statement failed"; }
	awk '/Collected :/ { print $NF }' "$WORK/callgrind.err"
}

# per_row SQL: instructions executed under standard_ExecutorRun, per input row
per_row() {
	echo "$1" | collected --toggle-collect=standard_ExecutorRun | awk -v rows="$ROWS" '{ printf "%.0f\n", $1 / rows }'
}

# upserts TABLE N: N upserts of bench/track.sh's kind into TABLE, keys from a fixed seed
upserts() {
	awk -v t="$1" -v n="$2" 'BEGIN {
		srand(7)
		for (i = 0; i < n; i++) {
			k = 1 + int(rand() * 10000)
			if (t == "plain_counts")
				printf "INSERT INTO plain_counts AS t (k, n) VALUES (%d, 1) ON CONFLICT (k) DO UPDATE SET n = t.n + 1\n", k
			else
				printf "INSERT INTO %s AS t (k, n) VALUES (%d, crdt_increment(NULL::gcounter, 1)) " \
					"ON CONFLICT (k) DO UPDATE SET n = crdt_increment(t.n, 1)\n", t, k
		}
	}'
}

# per_statement TABLE: instructions per upsert statement, parse to commit
per_statement() {
	local few many
	few=$({ echo "SET crdt.replica_id = 'bench'"; upserts "$1" 500; } | collected)
	many=$({ echo "SET crdt.replica_id = 'bench'"; upserts "$1" 2500; } | collected)
	awk -v a="$few" -v b="$many" 'BEGIN { printf "%.0f\n", (b - a) / 2000 }'
}

echo
echo "crdt_reconcile instructions per row — $(date -u +%Y-%m-%d), PostgreSQL $($PG_CONFIG --version | awk '{print $2}'), $ROWS rows, $KEYS keys, callgrind"
printf '%-36s %12s %12s %8s\n' "GROUP BY key" "crdt_merge" "sum(bigint)" "ratio"
for table in replica_rows interleaved_rows interleaved_unsorted_rows shuffled_rows; do
	base=$(per_row "SELECT count(m) FROM (SELECT key, sum(v) AS m FROM $table GROUP BY key) s")
	for col in c:gcounter clock:vclock budget:pncounter bounded:bcounter; do
		ours=$(per_row "SELECT count(m) FROM (SELECT key, crdt_merge(${col%%:*}) AS m FROM $table GROUP BY key) s")
		printf '%-36s %12s %12s %7.3fx\n' "${col#*:}, $table" "$ours" "$base" "$(awk "BEGIN { print $ours / $base }")"
	done
done

echo
echo "the jsonb cast, instructions per row (a one-entry gcounter), against the same jsonb through text and jsonb_in"
ours=$(per_row "SELECT count(c::jsonb) FROM replica_rows")
base=$(per_row "SELECT count(c::text::jsonb) FROM replica_rows")
printf '%-36s %12s %12s %7.3fx\n' "c::jsonb vs c::text::jsonb" "$ours" "$base" "$(awk "BEGIN { print $ours / $base }")"

echo
echo "upserts of make bench-track, instructions per statement (parse to commit), callgrind"
printf '%-36s %12s %12s %8s\n' "INSERT ... ON CONFLICT DO UPDATE" "statement" "bigint" "ratio"
base=$(per_statement plain_counts)
for table in tracked_counts:"gcounter, tracked" clocked_counts:"gcounter, tracked, row clock ticked" \
	history_counts:"gcounter, tracked, history on" clocked_history_counts:"row clock and history"; do
	ours=$(per_statement "${table%%:*}")
	printf '%-36s %12s %12s %7.3fx\n' "${table#*:}" "$ours" "$base" "$(awk "BEGIN { print $ours / $base }")"
done
