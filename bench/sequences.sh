#!/usr/bin/env bash
# make bench-sequences — merging two copies of an rtext document that each
# carry 1,000 concurrent edits, at several document sizes (bench/sequences.sql).
#
# For each size n: the median wall time of a || b (merge, the canonical
# bytes written), and of a built-in baseline on the same data that also
# touches every character, string_to_array(plain, NULL) of the merged
# text; the ratio of each merge time to the one at half the size (n log n
# allows a little over 2; the bound is 2.3); and the stored size of the
# merged state against its text.
# BENCH_SIZES (default "50000 100000 200000 400000"), BENCH_RUNS (21).
source "$(dirname "$0")/../test/lib.sh"

RUNS=${BENCH_RUNS:-21}
SIZES=${BENCH_SIZES:-50000 100000 200000 400000}

ensure_packages
build_and_install
make_workdir
start_cluster seqbench "shared_buffers = '512MB'" "jit = off" "autovacuum = off" \
	"max_parallel_workers_per_gather = 0"

psql_on seqbench -q < "$ROOT/bench/sequences.sql"
for n in $SIZES; do
	log "building the $n-character document and its two edited copies"
	psql_on seqbench -q <<SQL
INSERT INTO docs (n, base) VALUES ($n, base_doc($n));
UPDATE docs SET a = edited(base, 'editor-a', 1), b = edited(base, 'editor-b', 2) WHERE n = $n;
UPDATE docs SET plain = crdt_value(a || b) WHERE n = $n;
SQL
done
psql_on seqbench -q -c "VACUUM ANALYZE docs"

echo
echo "rtext merge benchmark — $(date -u +%Y-%m-%d), $(nproc) cores, PostgreSQL $($PG_CONFIG --version | awk '{print $2}'), median wall time of $RUNS runs"
printf '%-10s %12s %14s %9s %14s %14s %12s\n' "chars" "a || b" "to_array" "ratio" "vs half size" "merged bytes" "text bytes"
prev=""
for n in $SIZES; do
	read -r merge base bytes text <<<"$(psql_on seqbench -At -F ' ' -c "
		SELECT median_ms('SELECT a || b FROM docs WHERE n = $n', $RUNS),
		       median_ms('SELECT cardinality(string_to_array(plain, NULL)) FROM docs WHERE n = $n', $RUNS),
		       (SELECT octet_length(rtext_send(a || b)) FROM docs WHERE n = $n),
		       (SELECT octet_length(plain) FROM docs WHERE n = $n)")"
	growth=$( [ -n "$prev" ] && awk "BEGIN { printf \"%.2fx\", $merge / $prev }" || echo "-")
	printf '%-10s %9.1f ms %11.2f ms %8.1fx %14s %14s %12s\n' "$n" "$merge" "$base" \
		"$(awk "BEGIN { print $merge / $base }")" "$growth" "$bytes" "$text"
	prev=$merge
done
# the two merge orders give the same bytes
psql_on seqbench -At -c "SELECT 'a || b = b || a at every size: ' || bool_and(a || b = b || a) FROM docs"
