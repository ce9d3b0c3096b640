#!/usr/bin/env bash
# make demo — a fleet of three PostgreSQL nodes on loopback, replicating
# each other with logical replication, with one agent per node writing
# shared state concurrently: a task list (orset), a budget (bcounter), a
# plan (mvreg), a lead (lwwreg) and a status (plain column) in one tracked
# row per board, plus each agent's own counter in replica rows.  Midway,
# node_c is cut off from the others; the agents keep working; then the
# partition heals.  Printed per node: the converged state, the digests
# agreeing, the conflicts recorded and the replication status.
# Installs what is missing; cleans up after itself.
source "$(dirname "$0")/lib.sh"

STEPS=${DEMO_STEPS:-120}
NODES=(node_a node_b node_c)

ensure_packages
build_and_install
make_workdir
started=$(date +%s)

log "starting three throwaway PostgreSQL $PG_MAJOR nodes as $SERVER_USER in $WORK"
for n in "${NODES[@]}"; do
	start_cluster "$n" "wal_level = logical" "crdt.replica_id = '$n'" "max_logical_replication_workers = 8" \
		"max_worker_processes = 16" "wal_receiver_status_interval = 1s"
	psql_on "$n" < "$ROOT/test/demo/fleet_setup.sql" >/dev/null
	# board (all rows), work (this node's rows), the tombstones; no TRUNCATE
	psql_on "$n" -c "SELECT crdt_reconcile.create_publication('fleet')" >/dev/null
done
conninfo() { local var="PORT_$1"; echo "host=$WORK port=${!var} dbname=postgres user=postgres"; }
for to in "${NODES[@]}"; do
	for from in "${NODES[@]}"; do
		[ "$to" = "$from" ] && continue
		psql_on "$to" -c "CREATE SUBSCRIPTION ${to}_from_${from} CONNECTION '$(conninfo "$from")'
			PUBLICATION fleet WITH (copy_data = false)" 2>/dev/null
	done
done
log "full mesh: each node publishes board (all rows) and work (its own rows) and subscribes to the others"

# partition NODE DISABLE|ENABLE: cut NODE off from the others, both ways
partition() {
	local other
	for other in "${NODES[@]}"; do
		[ "$other" = "$1" ] && continue
		psql_on "$1" -c "ALTER SUBSCRIPTION ${1}_from_${other} $2" >/dev/null
		psql_on "$other" -c "ALTER SUBSCRIPTION ${other}_from_${1} $2" >/dev/null
	done
}

# headquarters (on node_a) grants each board 300 credits — less than the
# agents would spend — and hands the rights to spend them to the nodes,
# unevenly (160, 100, 40): an agent spends only what its node holds, asks
# for more when that runs out, and nodes with rights to spare grant them
# (by transfer)
psql_on node_a -c "SET crdt.replica_id = 'hq'" -c "INSERT INTO board (name, budget)
	SELECT b, crdt_transfer(crdt_transfer(crdt_transfer(crdt_increment(NULL::bcounter, 300), 160, 'node_a'),
	                                      100, 'node_b'), 40, 'node_c')
	FROM unnest(ARRAY['launch', 'research']) b" >/dev/null
for attempt in $(seq 60); do
	[ "$(psql_on node_b -At -c "SELECT count(*) FROM board")$(psql_on node_c -At -c "SELECT count(*) FROM board")" = 22 ] && break
	sleep 0.25
done

log "one agent per node runs $STEPS steps, concurrently"
pids=()
seed=0.1
for n in "${NODES[@]}"; do
	psql_on "$n" -c "CALL agent_work($STEPS, $seed)" >/dev/null &
	pids+=($!)
	seed=$(awk "BEGIN { print $seed + 0.2 }")
done
sleep 0.5
log "partition: node_c is cut off from node_a and node_b while the agents work"
partition node_c DISABLE
for pid in "${pids[@]}"; do
	wait "$pid" || die "an agent failed"
done
log "the agents are done; healing the partition"
partition node_c ENABLE

state() { psql_on "$1" -At -c "SELECT md5(string_agg(bucket || ':' || hash, ',' ORDER BY bucket)) FROM crdt_reconcile.digest('board')" \
	-c "SELECT md5(string_agg(bucket || ':' || hash, ',' ORDER BY bucket)) FROM crdt_reconcile.digest('work')" | tr '\n' ' '; }
for attempt in $(seq 120); do
	a=$(state node_a); b=$(state node_b); c=$(state node_c)
	[ "$a" = "$b" ] && [ "$b" = "$c" ] && break
	sleep 0.5
done
[ "$a" = "$b" ] && [ "$b" = "$c" ] || die "the nodes did not converge"
log "converged: the three nodes' digests agree"

for n in "${NODES[@]}"; do
	printf '\n==================== %s ====================\n' "$n"
	psql_on "$n" < "$ROOT/test/demo/fleet_report.sql"
done

spent=0
refused=0
for n in "${NODES[@]}"; do
	spent=$((spent + $(psql_on "$n" -At -c "SELECT coalesce(sum(credits), 0) FROM spent_here")))
	refused=$((refused + $(psql_on "$n" -At -c "SELECT count(*) FROM refused_here")))
done
lefts=$(for n in "${NODES[@]}"; do psql_on "$n" -At -c "SELECT sum(crdt_value(budget)) FROM board"; done | sort -u)
left=$(echo "$lefts" | head -1)
printf '\nRights requests (replicated; each granted at most once, by the node it names):\n'
psql_on node_a -c "SELECT requester, granter, amount, granted_at IS NOT NULL AS granted FROM crdt_reconcile.rights_requests ORDER BY requested_at"
# what pg_cron would do on each node once a minute: grant what is still pending
granted_late=0
for n in "${NODES[@]}"; do
	granted_late=$((granted_late + $(psql_on "$n" -At -c "SELECT count(*) FILTER (WHERE granted) FROM crdt_reconcile.grant_requests()")))
done
printf 'granted after the agents stopped (a last grant_requests() on every node): %s\n' "$granted_late"
grants=$(psql_on node_a -At -c "SELECT count(*) FILTER (WHERE granted_at IS NOT NULL) || ' of ' || count(*) FROM crdt_reconcile.rights_requests")
printf '\nGranted 600 credits; the three agents spent %s (their own logs), %s spendings were refused for want of rights,\n' "$spent" "$refused"
printf 'rights requests granted: %s; budget left on every node: %s (%s)\n' "$grants" "$left" \
	"$([ "$(echo "$lefts" | wc -l)" -eq 1 ] && [ "$left" -ge 0 ] && [ "$left" -eq $((600 - spent)) ] && echo "the same everywhere, never below zero, nothing lost, nothing counted twice" || echo MISMATCH)"
[ "$(echo "$lefts" | wc -l)" -eq 1 ] || die "the nodes show different budgets: $lefts"
[ "$left" -ge 0 ] && [ "$left" -eq $((600 - spent)) ] || die "budget mismatch"
log "demo finished in $(( $(date +%s) - started )) s; stopping and removing the three nodes"
