#!/usr/bin/env bash
# make test — everything a fresh Debian 12 machine needs, then every test:
#   1. core unit and property tests, built with ASan + UBSan (no server)
#   2. the pg_regress suite (sql/ + expected/) on a throwaway server
#   3. the isolation specs (test/isolation/) with pg_isolation_regress
#   4. multi-node TAP tests over logical replication (test/tap/t/*.pl)
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

log "pg_regress suite on a throwaway server"
# The server user may not be able to read the checkout (CI clones into a
# private directory), so the suite runs from a copy it owns.
mkdir "$WORK/regress"
cp -r "$ROOT/sql" "$ROOT/expected" "$WORK/regress/"
[ "$(id -u)" -ne 0 ] || chown -R "$SERVER_USER" "$WORK/regress"
pg_regress="$(dirname "$($PG_CONFIG --pgxs)")/../test/regress/pg_regress"
tests=$(make -C "$ROOT" -s print-regress)
if as_server "$pg_regress" \
	--inputdir="$WORK/regress" --outputdir="$WORK/regress" \
	--bindir="$PG_BIN" --temp-instance="$WORK/regress/instance" --port="$(free_port)" \
	--encoding=UTF8 --no-locale --dbname=crdt_regress \
	$tests 2>&1 | tee "$WORK/regress.log" >&2 && [ "${PIPESTATUS[0]}" -eq 0 ]; then
	regress_summary=$(grep -Eo 'All [0-9]+ tests passed' "$WORK/regress.log" || true)
else
	failed+=(regress)
	regress_summary=$(grep -Eo '[0-9]+ of [0-9]+ tests failed' "$WORK/regress.log" || echo "pg_regress failed")
	if [ -f "$WORK/regress/regression.diffs" ]; then
		log "regression.diffs (first 400 lines)"
		head -n 400 "$WORK/regress/regression.diffs" >&2
	fi
fi

log "isolation specs on a throwaway server"
mkdir "$WORK/isolation"
cp -r "$ROOT/test/isolation/specs" "$ROOT/test/isolation/expected" "$WORK/isolation/"
[ "$(id -u)" -ne 0 ] || chown -R "$SERVER_USER" "$WORK/isolation"
pg_isolation_regress="$(dirname "$($PG_CONFIG --pgxs)")/../test/isolation/pg_isolation_regress"
specs=$(make -C "$ROOT" -s print-isolation)
if as_server "$pg_isolation_regress" \
	--inputdir="$WORK/isolation" --outputdir="$WORK/isolation" \
	--bindir="$PG_BIN" --temp-instance="$WORK/isolation/instance" --port="$(free_port)" \
	$specs 2>&1 | tee "$WORK/isolation.log" >&2 && [ "${PIPESTATUS[0]}" -eq 0 ]; then
	isolation_summary=$(grep -Eo 'All [0-9]+ tests passed' "$WORK/isolation.log" || true)
else
	failed+=(isolation)
	isolation_summary=$(grep -Eo '[0-9]+ of [0-9]+ tests failed' "$WORK/isolation.log" || echo "pg_isolation_regress failed")
	[ ! -f "$WORK/isolation/regression.diffs" ] || head -n 200 "$WORK/isolation/regression.diffs" >&2
fi

log "multi-node TAP tests (PostgreSQL::Test::Cluster, logical replication)"
mkdir "$WORK/tap"
cp -r "$ROOT/test/tap/t" "$WORK/tap/"
[ "$(id -u)" -ne 0 ] || chown -R "$SERVER_USER" "$WORK/tap"
pgxs_dir="$(dirname "$($PG_CONFIG --pgxs)")/.."
if (cd "$WORK/tap" && as_server env PATH="$PG_BIN:$PATH" PG_REGRESS="$pgxs_dir/test/regress/pg_regress" \
	TESTDIR="$WORK/tap" PERL5LIB="$pgxs_dir/test/perl" \
	prove -I "$pgxs_dir/test/perl" "$WORK/tap/t/"*.pl) > "$WORK/tap.log" 2>&1; then
	tap_summary="TAP: $(grep -Eo 'Files=[0-9]+, Tests=[0-9]+' "$WORK/tap.log") PASS"
else
	failed+=(tap)
	tap_summary="TAP FAILED"
	tail -n 60 "$WORK/tap.log" >&2
	for f in "$WORK"/tap/tmp_check/log/regress_log_*; do
		[ -f "$f" ] && { echo "== $f (last 80 lines)" >&2; tail -n 80 "$f" >&2; }
	done
fi

log "dump and restore (pg_dump custom and plain, COPY binary)"
if "$ROOT/test/dump_restore.sh" > "$WORK/dump.log" 2>&1; then
	dump_summary=$(tail -n 1 "$WORK/dump.log")
else
	failed+=(dump)
	dump_summary="dump/restore FAILED"
	tail -n 40 "$WORK/dump.log" >&2
fi

log "stress: pgbench on tracked tables for ${STRESS_SECONDS:-60} s (test/stress.sh)"
if "$ROOT/test/stress.sh" > "$WORK/stress.log" 2>&1; then
	stress_summary=$(tail -n 1 "$WORK/stress.log")
else
	failed+=(stress)
	stress_summary="stress FAILED"
	tail -n 40 "$WORK/stress.log" >&2
fi

if [ "${#failed[@]}" -eq 0 ]; then
	echo "crdt_reconcile make test: PASS — $unit_summary; $fuzz_summary; regress: $regress_summary; isolation: $isolation_summary; $tap_summary; $dump_summary; $stress_summary"
else
	echo "crdt_reconcile make test: FAIL (${failed[*]}) — $unit_summary; ${fuzz_summary:-}; regress: $regress_summary; isolation: ${isolation_summary:-}; ${tap_summary:-}; ${dump_summary:-}; ${stress_summary:-}"
	exit 1
fi
