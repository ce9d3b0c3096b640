#!/usr/bin/env bash
# make test — everything a fresh Debian 12 machine needs, then every test:
#   1. core unit and property tests, built with ASan + UBSan (no server)
#   2. the pg_regress suite (sql/ + expected/) on a throwaway server
#   3. the isolation specs (test/isolation/) with pg_isolation_regress
#   4. multi-node TAP tests over logical replication (test/tap/t/*.pl)
#      (2-4 through PGXS's `make installcheck`)
#   5. dump and restore of every type and of a tracked table (test/dump_restore.sh)
#   6. pgbench stress on tracked tables, STRESS_SECONDS (default 60) (test/stress.sh)
# Prints one summary line and exits non-zero on any failure.
source "$(dirname "$0")/lib.sh"

ensure_packages
build_and_install
make_workdir

failed=()

log "core unit and property tests (ASan + UBSan)"
if make -C "$ROOT" -s unit 2>&1 | tee "$WORK/unit.log" | grep -v '^ok ' >&2 \
	&& [ "${PIPESTATUS[0]}" -eq 0 ]; then
	unit_summary=$(grep '^unit:' "$WORK/unit.log" | tail -n 1)
else
	failed+=(unit)
	unit_summary="unit tests FAILED"
fi

log "fuzz targets: replay of the seed corpus and regression inputs"
if make -C "$ROOT" -s fuzz-replay >"$WORK/fuzz.log" 2>&1; then
	fuzz_summary=$(grep '^fuzz replay:' "$WORK/fuzz.log" | tail -n 1)
else
	cat "$WORK/fuzz.log" >&2
	failed+=(fuzz)
	fuzz_summary=$(grep '^fuzz replay:' "$WORK/fuzz.log" | tail -n 1 || true)
	fuzz_summary=${fuzz_summary:-"fuzz replay FAILED"}
fi

# The three server-side suites run through PGXS's own `make installcheck`
# (as packagers run it), one suite at a time, each on its own throwaway
# server.  The server user may not be able to read the checkout (CI clones
# into a private directory), so they run from a copy it owns.
mkdir "$WORK/tree" "$WORK/tree/test"
cp -r "$ROOT/Makefile" "$ROOT/sql" "$ROOT/expected" "$WORK/tree/"
cp -r "$ROOT/test/isolation" "$ROOT/test/tap" "$WORK/tree/test/"
[ "$(id -u)" -ne 0 ] || chown -R "$SERVER_USER" "$WORK/tree"

# installcheck LOG [make variables...]: one suite; the others switched off by the caller
installcheck() {
	local log=$1
	shift
	as_server make -C "$WORK/tree" -s installcheck PG_CONFIG="$PG_CONFIG" bindir="$PG_BIN" "$@" \
		> "$WORK/$log" 2>&1
}

# run_suite NAME DIFFS [make variables...]: a pg_regress-style suite; sets NAME_summary
run_suite() {
	local name=$1 diffs=$2
	shift 2
	if installcheck "$name.log" "$@"; then
		printf -v "${name}_summary" '%s' "$(grep -Eo 'All [0-9]+ tests passed' "$WORK/$name.log" || true)"
	else
		failed+=("$name")
		cat "$WORK/$name.log" >&2
		printf -v "${name}_summary" '%s' \
			"$(grep -Eo '[0-9]+ of [0-9]+ tests failed' "$WORK/$name.log" || echo "$name failed")"
		[ ! -f "$diffs" ] || { log "$diffs (first 400 lines)"; head -n 400 "$diffs" >&2; }
	fi
}

log "pg_regress suite on a throwaway server (make installcheck)"
run_suite regress "$WORK/tree/regression.diffs" ISOLATION= TAP_TESTS= \
	REGRESS_OPTS="--temp-instance=$WORK/tree/tmp_regress --port=$(free_port) --encoding=UTF8 --no-locale --dbname=crdt_regress"

log "isolation specs on a throwaway server (make installcheck)"
run_suite isolation "$WORK/tree/output_iso/regression.diffs" REGRESS= TAP_TESTS= \
	ISOLATION_OPTS="--inputdir=test/isolation --temp-instance=$WORK/tree/tmp_isolation --port=$(free_port)"

log "multi-node TAP tests (PostgreSQL::Test::Cluster, logical replication; make installcheck)"
if installcheck tap.log REGRESS= ISOLATION=; then
	tap_summary="TAP: $(grep -Eo 'Files=[0-9]+, Tests=[0-9]+' "$WORK/tap.log") PASS"
else
	failed+=(tap)
	tap_summary="TAP FAILED"
	tail -n 60 "$WORK/tap.log" >&2
	for f in "$WORK"/tree/tmp_check/log/regress_log_*; do
		[ -f "$f" ] && { echo "== $f (last 80 lines)" >&2; tail -n 80 "$f" >&2; }
	done
fi

# run_script NAME WHAT SCRIPT: a script whose last line is its summary; sets NAME_summary
run_script() {
	local name=$1 what=$2 script=$3
	if "$script" > "$WORK/$name.log" 2>&1; then
		printf -v "${name}_summary" '%s' "$(tail -n 1 "$WORK/$name.log")"
	else
		failed+=("$name")
		printf -v "${name}_summary" '%s' "$what FAILED"
		tail -n 40 "$WORK/$name.log" >&2
	fi
}

log "dump and restore (pg_dump custom and plain, COPY binary)"
run_script dump "dump/restore" "$ROOT/test/dump_restore.sh"

log "stress: pgbench on tracked tables for ${STRESS_SECONDS:-60} s (test/stress.sh)"
run_script stress "stress" "$ROOT/test/stress.sh"

if [ "${#failed[@]}" -eq 0 ]; then
	echo "crdt_reconcile make test: PASS — $unit_summary; $fuzz_summary; regress: $regress_summary; isolation: $isolation_summary; $tap_summary; $dump_summary; $stress_summary"
else
	echo "crdt_reconcile make test: FAIL (${failed[*]}) — $unit_summary; ${fuzz_summary:-}; regress: $regress_summary; isolation: ${isolation_summary:-}; ${tap_summary:-}; ${dump_summary:-}; ${stress_summary:-}"
	exit 1
fi
