#!/usr/bin/env bash
# make bench — crdt_merge against sum(bigint) on the same rows.
#
# Loads 1,000,000 replica rows (10,000 keys x 100 replicas), then times,
# serially, GROUP BY key with crdt_merge and with sum(v), in rounds that
# run every cell once, and prints the median ratio for each counter type
# and each row layout: (key, replica) order as loaded; keys interleaved
# as replicas write them (replica after replica), with the replicas in id
# order and in another order; and random physical order.  Then the hash
# aggregate's memory per group, a spill check (1,000,000 groups under a
# small work_mem, serial and parallel, against sorted grouping), the
# stored size of a 100-replica gcounter, how merging N rows into one key
# scales, and the set aggregates against array_agg(DISTINCT).
# Times are the backend's CPU time per statement (log_executor_stats), the
# ratios also by execution time (EXPLAIN ANALYZE, TIMING OFF).
#
# BENCH_SECTIONS picks sections (default: all of
# "counters memory spill scaling sets"); BENCH_RUNS (rounds of the
# counters) and BENCH_SET_RUNS set the number of runs.
source "$(dirname "$0")/../test/lib.sh"

RUNS=${BENCH_RUNS:-11}
SET_RUNS=${BENCH_SET_RUNS:-5}		# the set queries take seconds each
SECTIONS=${BENCH_SECTIONS:-counters memory spill scaling sets}
section() { [[ " $SECTIONS " == *" $1 "* ]]; }

ensure_packages
build_and_install
make_workdir
start_cluster bench "shared_buffers = '2GB'" "work_mem = '1GB'" "jit = off" \
	"max_parallel_workers_per_gather = 0" "autovacuum = off"

log "loading 1,000,000 replica rows"
cat "$ROOT/bench/load_counters.sql" "$ROOT/bench/load.sql" | psql_on bench -v keys=10000

# exec_times SQL: one run in a session that has already loaded the
# extension and its catalog entries: the backend's CPU time for it (user +
# system, from log_executor_stats) and its execution time, in milliseconds.
# The machine is shared: CPU time leaves out the time spent waiting for a core.
exec_times() {
	psql_on bench -At -c "SELECT crdt_merge(c) FROM one_key_repeated WHERE n <= 10" \
		-c "SET client_min_messages = log" -c "SET log_executor_stats = on" \
		-c "EXPLAIN (ANALYZE, TIMING OFF, FORMAT JSON) $1" 2>&1 | awk '
		/ s user, / && !/\[/ { gsub(/!/, ""); cpu = ($1 + $4) * 1000 }
		/"Execution Time"/ { gsub(/[^0-9.]/, ""); wall = $0 }
		END { print cpu, wall }'
}

exec_ms() { exec_times "$1" | awk '{ print $1 }'; }

# median_ms SQL RUNS: the median CPU time of RUNS runs of SQL.
median_ms() {
	local run times=()
	for run in $(seq "$2"); do
		times+=("$(exec_ms "$1")")
	done
	printf '%s\n' "${times[@]}" | median_of
}

# The counters section's cells: a label, a crdt_merge query and its baseline.
CELL_LABEL=() CELL_CRDT=() CELL_BASE=()
add_cell() { CELL_LABEL+=("$1"); CELL_CRDT+=("$2"); CELL_BASE+=("$3"); }

# compare_cells: RUNS rounds, each running every cell once (its crdt_merge
# query, then its baseline), so that a cell's runs are spread over the
# whole section: a burst of load from the machine's other guests then falls
# on one round of every cell, not on every run of one cell.  For each cell:
# the median CPU times, their ratio, the ratio of the median execution
# times, and the median of the runs' own CPU ratios (each against the
# baseline run right after it).
compare_cells() {
	local n=${#CELL_LABEL[@]} run c cpu wall
	local -a crdt_cpu base_cpu crdt_wall base_wall paired
	for c in $(seq 0 $((n - 1))); do
		exec_times "${CELL_CRDT[$c]}" >/dev/null
		exec_times "${CELL_BASE[$c]}" >/dev/null
	done
	for run in $(seq "$RUNS"); do
		for c in $(seq 0 $((n - 1))); do
			read -r cpu wall <<<"$(exec_times "${CELL_CRDT[$c]}")"
			crdt_cpu[c]+=" $cpu"
			crdt_wall[c]+=" $wall"
			read -r cpu wall <<<"$(exec_times "${CELL_BASE[$c]}")"
			base_cpu[c]+=" $cpu"
			base_wall[c]+=" $wall"
			paired[c]+=" $(awk "BEGIN { print ${crdt_cpu[c]##* } / $cpu }")"
		done
	done
	local cc bc cw bw pr
	for c in $(seq 0 $((n - 1))); do
		cc=$(tr ' ' '\n' <<<"${crdt_cpu[c]# }" | median_of)
		bc=$(tr ' ' '\n' <<<"${base_cpu[c]# }" | median_of)
		cw=$(tr ' ' '\n' <<<"${crdt_wall[c]# }" | median_of)
		bw=$(tr ' ' '\n' <<<"${base_wall[c]# }" | median_of)
		pr=$(tr ' ' '\n' <<<"${paired[c]# }" | median_of)
		printf '%-40s %10.1f ms %10.1f ms %8.2fx %8.2fx %8.2fx\n' "${CELL_LABEL[$c]}" "$cc" "$bc" \
			"$(awk "BEGIN { print $cc / $bc }")" "$(awk "BEGIN { print $cw / $bw }")" "$pr"
	done
}

echo
echo "crdt_reconcile benchmark — $(date -u +%Y-%m-%d), $(nproc) cores, PostgreSQL $($PG_CONFIG --version | awk '{print $2}'), median of $RUNS rounds (each runs every cell once), serial"
echo "times: the backend's CPU time per statement (user + system); ratio: of the median CPU times;"
echo "by wall: of the medians of EXPLAIN ANALYZE execution times; paired: the median of each run's CPU ratio"

# The tables holding the same 1,000,000 rows in each layout, with labels.
LAYOUTS=(replica_rows interleaved_rows interleaved_unsorted_rows shuffled_rows)
declare -A LAYOUT_LABEL=(
	[replica_rows]="(key, replica) order"
	[interleaved_rows]="keys interleaved"
	[interleaved_unsorted_rows]="interleaved, ids unsorted"
	[shuffled_rows]="random order"
)

if section counters; then
	echo
	echo "rows: in (key, replica) order; keys interleaved as replicas write them (replica after"
	echo "replica, replicas in id order, or in an order unrelated to their ids); in random order"
	printf '%-40s %13s %13s %9s %9s %9s\n' "1,000,000 rows, GROUP BY 10,000 keys" "crdt_merge" "sum(bigint)" "ratio" "by wall" "paired"
	for col in c:gcounter clock:vclock budget:pncounter bounded:bcounter; do
		for table in "${LAYOUTS[@]}"; do
			add_cell "${col#*:}, ${LAYOUT_LABEL[$table]}" \
				"SELECT key, crdt_merge(${col%%:*}) FROM $table GROUP BY key" \
				"SELECT key, sum(v) FROM $table GROUP BY key"
		done
	done
	add_cell "gcounter, one group (no GROUP BY)" "SELECT crdt_merge(c) FROM replica_rows" \
		"SELECT sum(v) FROM replica_rows"
	compare_cells

	# The merged states are the same bytes whatever the layout.
	prints=$(for table in "${LAYOUTS[@]}"; do
		psql_on bench -At -c "SELECT md5(string_agg(crdt_hash(c)::text || crdt_hash(clock)::text
		                                            || crdt_hash(budget)::text || crdt_hash(bounded)::text, ',' ORDER BY key))
		                      FROM (SELECT key, crdt_merge(c) c, crdt_merge(clock) clock,
		                                   crdt_merge(budget) budget, crdt_merge(bounded) bounded
		                            FROM $table GROUP BY key) m"
	done | sort -u)
	echo "merged states, md5 of their crdt_hash in key order: $prints ($(echo "$prints" | wc -l) distinct over ${#LAYOUTS[@]} layouts)"
fi

if section memory; then
	echo
	echo "memory per group: hash aggregate peak memory of crdt_merge minus that of sum(bigint),"
	echo "rows generated in the given order, replicas 'agent-000'..:"
	# peak_kb SQL: the hash aggregate's peak memory in kB (work_mem high enough not to spill)
	peak_kb() {
		psql_on bench -At -c "SET work_mem = '4GB'" -c "EXPLAIN (ANALYZE, TIMING OFF, FORMAT JSON) $1" \
			| sed -n 's/.*"Peak Memory Usage": \([0-9]*\).*/\1/p'
	}
	# rows_from ORDER GROUPS REPLICAS: the FROM clause generating the rows
	rows_from() {
		if [ "$1" = key ]; then
			echo "generate_series(1, $2) k, LATERAL generate_series(0 * k, $3 - 1) i"
		else
			echo "generate_series(0, $3 - 1) i, LATERAL generate_series(1 + 0 * i, $2) k"
		fi
	}
	for spec in "gcounter 100000 100 key in" "gcounter 100000 100 interleaved in" \
		"gcounter 100000 100 key other" "gcounter 100000 100 interleaved other" \
		"pncounter 100000 100 interleaved in" "pncounter 100000 100 interleaved other" \
		"gcounter 1000000 4 key in" "gcounter 1000000 4 interleaved other"; do
		read -r type groups replicas order ids <<<"$spec"
		# ids in order, or in a fixed order unrelated to them (a stride coprime to the count)
		id="'agent-' || lpad(i::text, 3, '0')"
		[ "$ids" = in ] || id="'agent-' || lpad(((i * 37 + 11) % $replicas)::text, 3, '0')"
		value="crdt_increment('{}'::$type, 1 + (k + i) % 1000, $id)"
		[ "$type" = gcounter ] ||
			value="crdt_decrement(crdt_increment('{}'::pncounter, 2000, $id), 1 + (k + i) % 1000, $id)"
		from=$(rows_from "$order" "$groups" "$replicas")
		base=$(peak_kb "SELECT k, sum((k + i)::bigint) FROM $from GROUP BY k")
		kb=$(peak_kb "SELECT k, crdt_merge($value) FROM $from GROUP BY k")
		printf '  %-10s %9s x %3s  %-12s %-22s %6d bytes per group\n' "$type" "$groups" "$replicas" \
			"$([ "$order" = key ] && echo "key order" || echo interleaved)" \
			"$([ "$ids" = in ] && echo "ids in order" || echo "ids in another order")" \
			"$(( (kb - base) * 1024 / groups ))"
	done
fi

if section spill; then
	echo
	echo "spill check: 1,000,000 groups x 4 replicas, ids out of order in every group, work_mem = 1MB:"
	# Not analyzed on purpose: the planner then expects 200 groups, so it
	# also plans partial aggregation in parallel workers, whose states go
	# through serialize, deserialize and combine; every plan spills.
	psql_on bench <<'SQL'
CREATE TABLE spill_rows AS
SELECT k, 1 + (k * 7 + i) % 1000 AS v,
       crdt_increment('{}'::gcounter, 1 + (k * 7 + i) % 1000, 'replica-' || (i * 3 + k) % 4) AS c,
       crdt_decrement(crdt_increment('{}'::pncounter, 5000, 'replica-' || (i * 3 + k) % 4),
                      1 + (k * 7 + i) % 1000, 'replica-' || (i * 3 + k) % 4) AS p
FROM generate_series(0, 3) i, LATERAL generate_series(1 + 0 * i, 1000000) k;
VACUUM spill_rows;
SQL
	spill_query="SELECT k, crdt_merge(c) AS c, crdt_merge(p) AS p, sum(v) AS v FROM spill_rows GROUP BY k"
	small="SET work_mem = '1MB'; SET max_parallel_workers_per_gather = 0;"
	in_parallel="SET work_mem = '1MB'; SET max_parallel_workers_per_gather = 2;
		SET parallel_setup_cost = 0; SET parallel_tuple_cost = 0; SET min_parallel_table_scan_size = 0;"
	declare -A spill_plans=(
		[hashed]="$small"
		[partial_hashed]="$in_parallel SET enable_sort = off;"
		[partial_sorted]="$in_parallel SET enable_hashagg = on;"
		[sorted]="$small SET enable_hashagg = off;"
	)
	spill_results=()
	for plan in hashed partial_hashed partial_sorted sorted; do
		# what the plan did: its aggregate nodes, with batches and memory when hashed
		shape=$(psql_on bench -At -c "${spill_plans[$plan]}" \
			-c "EXPLAIN (ANALYZE, TIMING OFF, FORMAT JSON) $spill_query" | tr -d '\n' |
			grep -oE '"(Node Type|Strategy|Partial Mode|HashAgg Batches|Peak Memory Usage|Disk Usage)": ("[^"]*"|[0-9]+)' |
			sed 's/"//g' | paste -sd ' ' -)
		result=$(psql_on bench -At -c "${spill_plans[$plan]}" -c "
			SELECT count(*), md5(string_agg(crdt_hash(c)::text || crdt_hash(p)::text, ',' ORDER BY k)),
			       count(*) FILTER (WHERE crdt_value(c) <> v OR crdt_value(p) <> 5000 * 4 - v)
			FROM ($spill_query) m")
		printf '  %-15s groups | md5 of the states | groups with a wrong value: %s\n' "$plan" "$result"
		printf '  %-15s %s\n' "" "$shape"
		spill_results+=("$result")
	done
	if [ "$(printf '%s\n' "${spill_results[@]}" | sort -u | wc -l)" = 1 ] &&
		[ "${spill_results[0]##*|}" = 0 ]; then
		echo "  spill check: every plan gives the sorted plan's result"
	else
		echo "  spill check: FAILED: the plans' results differ"
	fi
	psql_on bench -c "DROP TABLE spill_rows"
fi

if section scaling; then
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
	for n in 125000 250000 500000 1000000; do
		line=$(printf '%10d' "$n")
		for table in one_key_distinct one_key_shuffled one_key_repeated; do
			ms=$(median_ms "SELECT crdt_merge(c) FROM (SELECT c FROM $table LIMIT $n) s" 5)
			line+=$(printf ' %9.1f ms %5.0f ns/row' "$ms" "$(awk "BEGIN { print $ms * 1000000 / $n }")")
		done
		echo "$line"
	done
fi

if section sets; then
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
fi
