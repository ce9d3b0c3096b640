#!/usr/bin/env bash
# Stress: pgbench clients hammer 10 hot keys of two tracked tables for
# STRESS_SECONDS (default 60) — increments, orset and gset adds on a
# merge_in_place table, increments on a replica_rows table — from several
# replicas at once (one pgbench process per replica id, 8 clients in all).
# Afterwards every counter, every row clock and every set must match what
# the committed transactions did, exactly.  Part of `make test`; prints one
# summary line and exits non-zero on any mismatch.
source "$(dirname "$0")/lib.sh"

STRESS_SECONDS=${STRESS_SECONDS:-60}
REPLICAS=4
CLIENTS_PER_REPLICA=2
KEYS=10

ensure_packages
build_and_install
make_workdir
start_cluster stress "max_connections = 40"

psql_on stress >/dev/null <<'SQL'
CREATE EXTENSION crdt_reconcile;
-- one row per key, written by every replica
CREATE TABLE hot (k int PRIMARY KEY, n gcounter, tags orset, seen gset, clk vclock, writer lwwreg);
SELECT crdt_reconcile.track('hot', clock_column => 'clk', writer_column => 'writer');
-- one row per key and replica
CREATE TABLE per_replica (k int, replica text, n gcounter, clk vclock, PRIMARY KEY (k, replica));
SELECT crdt_reconcile.track('per_replica', shape => 'replica_rows', clock_column => 'clk',
                            replica_column => 'replica');
-- what each committed transaction did, written in the same transaction
CREATE TABLE done (k int, replica text, element text);
SQL

# One transaction: an increment and an add to a hot row, an increment of
# this replica's row of the same key, and its record.  Rows are always
# locked in that order, so clients never deadlock.
script=$WORK/stress.pgbench
cat > "$script" <<SQL
\\set k random(1, $KEYS)
\\set e random(1, 2000)
BEGIN;
INSERT INTO hot AS t (k, n, tags, seen)
VALUES (:k, crdt_increment(NULL::gcounter), crdt_add(NULL::orset, 'e' || :e), crdt_add(NULL::gset, 'e' || :e))
ON CONFLICT (k) DO UPDATE
SET n = crdt_increment(t.n), tags = crdt_add(t.tags, 'e' || :e), seen = crdt_add(t.seen, 'e' || :e);
INSERT INTO per_replica AS t (k, replica, n) VALUES (:k, crdt_replica_id(), crdt_increment(NULL::gcounter))
ON CONFLICT (k, replica) DO UPDATE SET n = crdt_increment(t.n);
INSERT INTO done VALUES (:k, crdt_replica_id(), 'e' || :e);
END;
SQL
chmod 644 "$script"

log "pgbench: $REPLICAS replicas x $CLIENTS_PER_REPLICA clients for $STRESS_SECONDS s on $KEYS hot keys"
pids=()
for r in $(seq 1 "$REPLICAS"); do
	as_server env PGOPTIONS="-c crdt.replica_id=node_$r" \
		pgbench -n -h "$WORK" -p "$PORT_stress" -U postgres -c "$CLIENTS_PER_REPLICA" -j "$CLIENTS_PER_REPLICA" \
		-T "$STRESS_SECONDS" -f "$script" postgres > "$WORK/pgbench_$r.log" 2>&1 &
	pids+=($!)
done
failed=()
for r in $(seq 1 "$REPLICAS"); do
	if ! wait "${pids[$((r - 1))]}"; then
		failed+=("pgbench node_$r")
		cat "$WORK/pgbench_$r.log" >&2
	fi
done

# committed transactions per replica, as pgbench counted them
committed=()
total=0
for r in $(seq 1 "$REPLICAS"); do
	n=$(sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p' "$WORK/pgbench_$r.log")
	bad=$(sed -n 's/^number of failed transactions: \([0-9]*\).*/\1/p' "$WORK/pgbench_$r.log")
	if [ -z "$n" ] || [ "${bad:-0}" != 0 ]; then
		failed+=("pgbench node_$r: processed '${n:-?}', failed '${bad:-?}'")
		n=0
	fi
	committed+=("$n")
	total=$((total + n))
done
counts=$(IFS=,; echo "${committed[*]}")

# Every check prints a row only when something is wrong.
problems=$(psql_on stress -At -v counts="{$counts}" <<'SQL'
WITH pgbench(replica, transactions) AS (
	SELECT 'node_' || i, c FROM unnest(:'counts'::bigint[]) WITH ORDINALITY AS u(c, i)),
per_key AS (
	SELECT k, count(*) AS writes, count(DISTINCT element) AS elements,
	       array_agg(DISTINCT element COLLATE "C" ORDER BY element COLLATE "C") AS element_list
	FROM done GROUP BY k)
-- the record agrees with pgbench: each committed transaction left one row
SELECT format('replica %s: pgbench committed %s transactions, %s recorded', p.replica, p.transactions,
              (SELECT count(*) FROM done d WHERE d.replica = p.replica))
FROM pgbench p WHERE p.transactions <> (SELECT count(*) FROM done d WHERE d.replica = p.replica)
UNION ALL
-- hot rows: the counter and the clock count every write, the sets hold every element added
SELECT format('hot key %s: %s writes, counter %s, clock %s, orset %s, gset %s', k, coalesce(w.writes, 0),
              crdt_value(h.n), crdt_value(h.clk), crdt_cardinality(h.tags), crdt_cardinality(h.seen))
FROM hot h FULL JOIN per_key w USING (k)
WHERE w.writes IS DISTINCT FROM crdt_value(h.n) OR w.writes IS DISTINCT FROM crdt_value(h.clk)
   OR w.element_list IS DISTINCT FROM crdt_value(h.tags) OR w.element_list IS DISTINCT FROM crdt_value(h.seen)
UNION ALL
-- each replica's entry of the hot rows' clocks counts its own writes
SELECT format('replica %s: %s transactions, ticked the hot clocks %s times', p.replica, p.transactions,
              (SELECT sum(crdt_get(h.clk, p.replica)) FROM hot h))
FROM pgbench p WHERE p.transactions <> (SELECT coalesce(sum(crdt_get(h.clk, p.replica)), 0) FROM hot h)
UNION ALL
-- replica rows: the converged counter of a key counts its writes, a replica's rows its transactions
SELECT format('per_replica key %s: %s writes, converged counter %s', k, coalesce(w.writes, 0), m.n)
FROM (SELECT k, crdt_value(crdt_merge(n)) AS n FROM per_replica GROUP BY k) m FULL JOIN per_key w USING (k)
WHERE w.writes IS DISTINCT FROM m.n
UNION ALL
SELECT format('replica %s: %s transactions, its rows count %s', p.replica, p.transactions,
              (SELECT sum(crdt_value(r.n)) FROM per_replica r WHERE r.replica = p.replica))
FROM pgbench p
WHERE p.transactions <> (SELECT coalesce(sum(crdt_value(r.n)), 0) FROM per_replica r WHERE r.replica = p.replica)
UNION ALL
-- local writes only: nothing to record
SELECT format('%s conflict records', count(*)) FROM crdt_reconcile.conflicts HAVING count(*) > 0;
SQL
) || failed+=("checking query failed")
[ -z "$problems" ] || { failed+=(mismatch); printf '%s\n' "$problems" >&2; }

elements=$(psql_on stress -At -c "SELECT sum(crdt_cardinality(tags)) FROM hot")
if [ "${#failed[@]}" -eq 0 ] && [ "$total" -gt 0 ]; then
	echo "stress: PASS — $total transactions in ${STRESS_SECONDS} s ($REPLICAS replicas x $CLIENTS_PER_REPLICA clients, $KEYS hot keys): tracked counters, row clocks and replica-row counters equal the committed transactions; orset and gset hold exactly the $elements (key, element) pairs added"
else
	echo "stress: FAIL (${failed[*]:-no transactions}) — $total transactions"
	exit 1
fi
