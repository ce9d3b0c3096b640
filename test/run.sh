#!/usr/bin/env bash
# make test — everything a fresh Debian 12 machine needs, then every test:
#   1. core unit and property tests, built with ASan + UBSan (no server)
#   2. the pg_regress suite (sql/ + expected/) on a throwaway server
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

if [ "${#failed[@]}" -eq 0 ]; then
	echo "crdt_reconcile make test: PASS — $unit_summary; $fuzz_summary; regress: $regress_summary"
else
	echo "crdt_reconcile make test: FAIL (${failed[*]}) — $unit_summary; $fuzz_summary; regress: $regress_summary"
	exit 1
fi
