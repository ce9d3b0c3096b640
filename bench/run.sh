#!/usr/bin/env bash
# make bench — crdt_merge(gcounter) against sum(bigint) on the same rows.
#
# Loads 1,000,000 replica rows (10,000 keys x 100 replicas), then times,
# serially and interleaved, GROUP BY key with crdt_merge(c) and with
# sum(v) and prints the median ratio — for rows in (key, replica) order as
# loaded, and for the same rows in random order; then the stored size of a
# 100-replica gcounter and how merging N rows into one key scales.
# Times are server-side execution times (EXPLAIN ANALYZE, TIMING OFF).
source "$(dirname "$0")/../test/lib.sh"

RUNS=${BENCH_RUNS:-11}
SET_RUNS=${BENCH_SET_RUNS:-5}		# the set queries take seconds each

ensure_packages
build_and_install
make_workdir
start_cluster bench "shared_buffers = '1GB'" "work_mem = '1GB'" "jit = off" \
	"max_parallel_workers_per_gather = 0" "autovacuum = off"

log "loading 1,000,000 replica rows"
psql_on bench < "$ROOT/bench/load.sql"

# exec_ms SQL: server-side execution time of one run, in milliseconds, in a
# session that has already loaded the extension and its catalog entries.
exec_ms() {
	psql_on bench -At -c "SELECT crdt_merge(c) FROM one_key_repeated WHERE n <= 10" \
		-c "EXPLAIN (ANALYZE, TIMING OFF, FORMAT JSON) $1" \
		| sed -n 's/.*"Execution Time": \([0-9.]*\).*/\1/p'
}

# median_ms SQL RUNS: the median of RUNS timings of SQL.
median_ms() {
	local run times=()
	for run in $(seq "$2"); do
		times+=("$(exec_ms "$1")")
	done
	printf '%s\n' "${times[@]}" | median
}

median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

compare() {
	local label=$1 crdt_sql=$2 base_sql=$3
	local crdt_times=() base_times=() run
	exec_ms "$crdt_sql" >/dev/null
	exec_ms "$base_sql" >/dev/null
	for run in $(seq "$RUNS"); do
		crdt_times+=("$(exec_ms "$crdt_sql")")
		base_times+=("$(exec_ms "$base_sql")")
	done
	local crdt_med base_med
	crdt_med=$(printf '%s\n' "${crdt_times[@]}" | median)
	base_med=$(printf '%s\n' "${base_times[@]}" | median)
	printf '%-40s %10.1f ms %10.1f ms %8.2fx\n' "$label" "$crdt_med" "$base_med" \
		"$(awk "BEGIN { print $crdt_med / $base_med }")"
}

echo
echo "crdt_reconcile benchmark — $(date -u +%Y-%m-%d), $(nproc) cores, PostgreSQL $($PG_CONFIG --version | awk '{print $2}'), median of $RUNS interleaved runs, serial"
echo
printf '%-40s %13s %13s %9s\n' "1,000,000 rows, GROUP BY 10,000 keys" "crdt_merge" "sum(bigint)" "ratio"
compare "gcounter" "SELECT key, crdt_merge(c) FROM replica_rows GROUP BY key" \
	"SELECT key, sum(v) FROM replica_rows GROUP BY key"
compare "vclock" "SELECT key, crdt_merge(clock) FROM replica_rows GROUP BY key" \
	"SELECT key, sum(v) FROM replica_rows GROUP BY key"
compare "pncounter" "SELECT key, crdt_merge(budget) FROM replica_rows GROUP BY key" \
	"SELECT key, sum(v) FROM replica_rows GROUP BY key"
compare "gcounter, rows in random order" "SELECT key, crdt_merge(c) FROM shuffled_rows GROUP BY key" \
	"SELECT key, sum(v) FROM shuffled_rows GROUP BY key"
compare "gcounter, one group (no GROUP BY)" "SELECT crdt_merge(c) FROM replica_rows" \
	"SELECT sum(v) FROM replica_rows"

echo
psql_on bench -At -F ' ' -c "
	SELECT pg_column_size(c), round((pg_column_size(c) - 1)::numeric / 100, 2)
	FROM (SELECT crdt_merge(crdt_increment('{}'::gcounter, 1 + (i * 7919) % 100000,
	                                       'agent-' || lpad(i::text, 3, '0'))) AS c
	      FROM generate_series(0, 99) i) s" | {
	read -r bytes per_entry
	echo "gcounter with 100 replicas 'agent-000'..'agent-099': $bytes bytes stored, $per_entry bytes per entry (target <= 14)"
}

echo
echo "merging N rows into one key (median of 5; the time per row must stay flat as N grows):"
printf '%10s %22s %22s %22s\n' "N" "new replica per row," "new replica per row," "100 replicas over"
printf '%10s %22s %22s %22s\n' "" "in id order" "in random order" "and over"
for n in 100000 200000 400000 800000; do
	line=$(printf '%10d' "$n")
	for table in one_key_distinct one_key_shuffled one_key_repeated; do
		ms=$(median_ms "SELECT crdt_merge(c) FROM (SELECT c FROM $table LIMIT $n) s" 5)
		line+=$(printf ' %9.1f ms %5.0f ns/row' "$ms" "$(awk "BEGIN { print $ms * 1000000 / $n }")")
	done
	echo "$line"
done

echo
printf '%-40s %13s %13s %9s\n' "sets: 1,000,000 rows x 10 elements (median of $SET_RUNS)" "crdt_merge" "array_agg" "speed-up"
speedup() {
	local label=$1 crdt_sql=$2 base_sql=$3
	local crdt_med base_med
	crdt_med=$(median_ms "$crdt_sql" "$SET_RUNS")
	base_med=$(median_ms "$base_sql" "$SET_RUNS")
	printf '%-40s %10.1f ms %10.1f ms %8.2fx\n' "$label" "$crdt_med" "$base_med" \
		"$(awk "BEGIN { print $base_med / $crdt_med }")"
}
baseline="SELECT key, array_agg(DISTINCT e) FROM set_rows, unnest(arr) e GROUP BY key"
speedup "gset, GROUP BY 10,000 keys" "SELECT key, crdt_merge(g) FROM set_rows GROUP BY key" "$baseline"
speedup "orset, GROUP BY 10,000 keys" "SELECT key, crdt_merge(o) FROM set_rows GROUP BY key" "$baseline"

echo
echo "one key, N distinct elements (10 per row; the ratio must stay <= 2.3):"
for type in g o; do
	t200=$(median_ms "SELECT crdt_merge($type) FROM (SELECT $type FROM set_one_key LIMIT 20000) s" 5)
	t400=$(median_ms "SELECT crdt_merge($type) FROM (SELECT $type FROM set_one_key LIMIT 40000) s" 5)
	printf '  %-6s 200,000: %8.1f ms   400,000: %8.1f ms   ratio %.2f\n' \
		"$([ "$type" = g ] && echo gset || echo orset)" "$t200" "$t400" "$(awk "BEGIN { print $t400 / $t200 }")"
done

echo
psql_on bench -At -F ' ' -c "
	SELECT round(pg_column_size(g)::numeric / crdt_cardinality(g), 2),
	       round(pg_column_size(o)::numeric / crdt_cardinality(o), 2),
	       round(pg_column_size(array_agg)::numeric / cardinality(array_agg), 2)
	FROM (SELECT crdt_merge(g) AS g, crdt_merge(o) AS o FROM set_rows WHERE key = 1) m,
	     (SELECT array_agg(DISTINCT e) FROM set_rows, unnest(arr) e WHERE key = 1) a" | {
	read -r g o a
	echo "bytes per element, merged state of one key (~630 elements 'element-NNN'): gset $g, orset $o (with its dots and context), text[] $a"
}
