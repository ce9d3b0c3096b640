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
psql_on instr -c "VACUUM FREEZE ANALYZE"
as_server pg_ctl -D "$WORK/instr" -m fast -w stop >/dev/null

# per_row SQL: instructions executed under standard_ExecutorRun, per input row
per_row() {
	echo "$1" | as_server valgrind --tool=callgrind --callgrind-out-file="$WORK/callgrind.out" \
		--toggle-collect=standard_ExecutorRun "$PG_BIN/postgres" --single -D "$WORK/instr" \
		-c jit=off -c max_parallel_workers_per_gather=0 -c work_mem=1GB postgres \
		>/dev/null 2>"$WORK/callgrind.err"
	! grep -q ERROR: "$WORK/callgrind.err" || { cat "$WORK/callgrind.err" >&2; die "the query failed"; }
	awk -v rows="$ROWS" '/Collected :/ { printf "%.0f\n", $NF / rows }' "$WORK/callgrind.err"
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
