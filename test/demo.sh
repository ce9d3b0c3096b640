#!/usr/bin/env bash
# make demo — three agents update shared state concurrently in replica rows
# on a throwaway PostgreSQL, then the rows are merged with crdt_merge and
# the clocks compared.  Installs what is missing, cleans up after itself.
source "$(dirname "$0")/lib.sh"

STEPS=${DEMO_STEPS:-300}

ensure_packages
build_and_install
make_workdir
log "starting a throwaway PostgreSQL $PG_MAJOR as $SERVER_USER in $WORK"
start_cluster demo
psql_on demo < "$ROOT/test/demo/setup.sql" >/dev/null

log "agents agent-a, agent-b and agent-c run $STEPS steps each, concurrently"
started=$(date +%s%N)
pids=()
seed=0.1
for agent in agent-a agent-b agent-c; do
	PGOPTIONS="-c crdt.replica_id=$agent" psql_on demo -c "CALL agent_work($STEPS, $seed)" >/dev/null &
	pids+=($!)
	seed=$(awk "BEGIN { print $seed + 0.2 }")
done
for pid in "${pids[@]}"; do
	wait "$pid" || die "an agent failed"
done
log "done in $(( ($(date +%s%N) - started) / 1000000 )) ms: $((3 * STEPS)) transactions committed concurrently"

psql_on demo < "$ROOT/test/demo/report.sql"
log "stopping and removing the throwaway cluster"
