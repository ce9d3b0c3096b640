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
echo "rtext merge benchmark — $(date -u +%Y-%m-%d), $(nproc) cores, PostgreSQL $($PG_CONFIG --version | awk '{print $2}'), $RUNS runs each: median (shortest)"
printf '%-8s %22s %22s %7s %17s %13s %11s\n' "chars" "a || b" "to_array (baseline)" "ratio" "vs half size" "merged bytes" "text bytes"
prev=""
prev_min=""
for n in $SIZES; do
	read -r merge merge_min base base_min bytes text <<<"$(psql_on seqbench -At -F ' ' -c "
		SELECT m.median, m.shortest, b.median, b.shortest,
		       (SELECT octet_length(rtext_send(a || b)) FROM docs WHERE n = $n),
		       (SELECT octet_length(plain) FROM docs WHERE n = $n)
		FROM timing('SELECT a || b FROM docs WHERE n = $n', $RUNS) m,
		     timing('SELECT cardinality(string_to_array(plain, NULL)) FROM docs WHERE n = $n', $RUNS) b")"
	growth="-"
	[ -n "$prev" ] && growth=$(awk "BEGIN { printf \"%.2fx (%.2fx)\", $merge / $prev, $merge_min / $prev_min }")
	printf '%-8s %9.1f (%6.1f) ms %9.2f (%6.2f) ms %6.1fx %17s %13s %11s\n' "$n" "$merge" "$merge_min" \
		"$base" "$base_min" "$(awk "BEGIN { print $merge / $base }")" "$growth" "$bytes" "$text"
	prev=$merge
	prev_min=$merge_min
done
# the two merge orders give the same bytes
psql_on seqbench -At -c "SELECT 'a || b = b || a at every size: ' || bool_and(a || b = b || a) FROM docs"
