#!/usr/bin/env bash
# make bench-repair — anti-entropy between two throwaway nodes.
#
# Two servers with the same tracked table of BENCH_ROWS rows (default
# 200,000: a gcounter, an orset, a text and a float8 per row, a row clock
# and a writer tag), then BENCH_DIFF_PERCENT (default 1) of the rows
# changed, half on each node, in four kinds: rows deleted (tombstones), CRDT
# values changed, a plain value changed, both.
# Prints, for crdt_reconcile.repair() on each node from the other, the time,
# the Merkle levels and nodes compared, the rows fetched and changed, and
# checks that the nodes end equal; then the same differences once more,
# repaired by CALL crdt_reconcile.repair_in_batches (BENCH_BATCH rows per
# committed batch, default 1,000), with the time of its phases.
source "$(dirname "$0")/../test/lib.sh"

ROWS=${BENCH_ROWS:-200000}
DIFF_PERCENT=${BENCH_DIFF_PERCENT:-1}
BATCH=${BENCH_BATCH:-1000}
# rows changed per kind and node: ROWS * DIFF_PERCENT / 100 / 8
PERIOD=$(awk -v p="$DIFF_PERCENT" 'BEGIN { printf "%d", 800 / p }')

ensure_packages
build_and_install
make_workdir
for n in a b; do
	start_cluster "$n" "shared_buffers = '256MB'" "max_wal_size = '2GB'" "crdt.replica_id = 'node_$n'"
	psql_on "$n" <<SQL
CREATE EXTENSION crdt_reconcile;
CREATE EXTENSION dblink;
CREATE TABLE bench (k int PRIMARY KEY, n gcounter, tags orset, label text, v float8, clk vclock, writer lwwreg);
INSERT INTO bench
SELECT k, ('{"a":' || k || ',"b":' || (k % 7 + 1) || '}')::gcounter,
       ('{"elements":{"t' || (k % 13) || '":[["a",1]]},"context":{"a":1}}')::orset, 'label ' || k, k / 3.0
FROM generate_series(1, $ROWS) k;
SELECT count(*) FROM crdt_reconcile.track('bench', clock_column => 'clk', writer_column => 'writer');
VACUUM ANALYZE bench;
SQL
done >/dev/null
conn_a="host=$WORK port=$PORT_a dbname=postgres user=postgres"
conn_b="host=$WORK port=$PORT_b dbname=postgres user=postgres"

# differ ROUND: on each node, PERIOD-spaced keys of four kinds (offset per
# node; other keys in every round)
differ() {
	local n o
	for n in a b; do
		o=$(( $1 * 8 + $([ "$n" = a ] && echo 0 || echo 1) ))
		psql_on "$n" <<SQL
DELETE FROM bench WHERE k % $PERIOD = $o;
UPDATE bench SET n = crdt_increment(n, 1), tags = crdt_add(tags, 'node_$n') WHERE k % $PERIOD = 2 + $o;
UPDATE bench SET label = label || ' changed on node_$n' WHERE k % $PERIOD = 4 + $o;
UPDATE bench SET v = -v, n = crdt_increment(n, 2) WHERE k % $PERIOD = 6 + $o;
SQL
	done
	# rows that differ, compared row by row over dblink
	psql_on a -At -c "
SELECT count(*) FROM (SELECT k, md5(t::text) AS h FROM bench t) x
FULL JOIN dblink('$conn_b', 'SELECT k, md5(t::text) FROM bench t') AS y(k int, h text) USING (k)
WHERE x.h IS DISTINCT FROM y.h"
}

now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.2f", b - a }'; }
digest_of() { psql_on "$1" -At -c "SELECT rows || ' ' || hash FROM crdt_reconcile.digest('bench', 0)"; }

log "differences: $DIFF_PERCENT% of $ROWS rows"
differing=$(differ 0)
echo "rows: $ROWS per node; rows that differ between the nodes: $differing"
printf '%-22s %8s %7s %15s %16s %13s %13s %11s\n' "repair" "seconds" "levels" "nodes_compared" "nodes_differing" \
	"rows_fetched" "rows_changed" "tombstones"
fetched_total=0
for pair in "a b" "b a"; do
	set -- $pair
	conn_var="conn_$2"
	start=$(now)
	out=$(psql_on "$1" -At -F ' ' -c "SELECT levels, nodes_compared, nodes_differing, rows_fetched, rows_changed, tombstones_fetched
		FROM crdt_reconcile.repair('bench', '${!conn_var}')")
	seconds=$(since "$start")
	read -r levels compared ndiff fetched changed tombstones <<<"$out"
	fetched_total=$((fetched_total + fetched + tombstones))
	printf '%-22s %8s %7s %15s %16s %13s %13s %11s\n' "node_$1 from node_$2" "$seconds" "$levels" "$compared" "$ndiff" \
		"$fetched" "$changed" "$tombstones"
done
[ "$(digest_of a)" = "$(digest_of b)" ] || die "the nodes differ after repairing both ways"
echo "both ways: $fetched_total rows and tombstones fetched for $differing differing rows ($(awk -v f="$fetched_total" -v d="$differing" 'BEGIN { printf "%.2f", f / d }')x); digests equal"

log "as many differences again (other keys), repaired in committed batches of $BATCH rows"
differing=$(differ 1)
echo "rows that differ: $differing"
for pair in "a b" "b a"; do
	set -- $pair
	conn_var="conn_$2"
	start=$(now)
	out=$(psql_on "$1" -At -F ' ' -c "CALL crdt_reconcile.repair_in_batches('bench', '${!conn_var}', $BATCH)")
	seconds=$(since "$start")
	read -r _ _ levels compared ndiff fetched changed tombstones batches <<<"$out"
	echo "CALL repair_in_batches on node_$1 from node_$2: $seconds s, $batches batches, $fetched rows fetched, $changed changed, $tombstones tombstones"
done
[ "$(digest_of a)" = "$(digest_of b)" ] || die "the nodes differ after repairing both ways in batches"
echo "digests equal"

log "where the time goes (node_a from node_b, after new differences)"
differing=$(differ 2)
psql_on a -At <<SQL
\\timing on
SELECT 'snapshot and descent: ' || levels || ' levels, ' || nodes_compared || ' nodes compared, '
       || rows_to_fetch || ' rows to fetch in ' || batches || ' batches'
FROM crdt_reconcile.repair_start('bench', '$conn_b', 1000000);
SELECT 'fetch and merge: ' || rows_fetched || ' rows fetched, ' || rows_changed || ' changed, '
       || tombstones_fetched || ' tombstones'
FROM crdt_reconcile.repair_batch('bench', 1);
SELECT 'finished' FROM crdt_reconcile.repair_finish('bench');
SELECT 'digest(bench, 8) of ' || sum(rows) || ' rows' FROM crdt_reconcile.digest('bench', 8);
SQL
