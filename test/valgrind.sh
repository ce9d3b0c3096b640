#!/usr/bin/env bash
# The pg_regress suite once, with the server under Valgrind (memcheck).
# Not part of `make test`: it takes a long time (hours on a 2-core VM).
#
#   test/valgrind.sh [test ...]      default: every test of the suite
#
# Every server process runs under
#   valgrind --leak-check=no --trace-children=yes --error-exitcode=99
#            --suppressions=test/valgrind.supp $VALGRIND_OPTS
# with one log per process (VALGRIND_OPTS=--track-origins=yes shows where
# uninitialised bytes came from, at twice the time).  A process with a Valgrind error exits with
# code 99, which the postmaster treats as a crash, so an error also shows
# in the suite's results.  Prints one summary line: the number of Valgrind
# errors, and how many of them have crdt_reconcile.so on their stack.
source "$(dirname "$0")/lib.sh"

command -v valgrind >/dev/null || die "valgrind is not installed"
ensure_packages
build_and_install
make_workdir

dir=$WORK/valgrind
port=$(free_port)
mkdir -p "$dir/logs" "$dir/regress"
[ "$(id -u)" -ne 0 ] || chown -R "$SERVER_USER" "$dir"
as_server initdb -D "$dir/data" -A trust -E UTF8 --no-locale -U postgres >/dev/null
{
	echo "port = $port"
	echo "listen_addresses = ''"
	echo "unix_socket_directories = '$WORK'"
	echo "fsync = off"
	# Valgrind is slow: no timeouts that a slow backend could trip
	echo "autovacuum = off"
	echo "checkpoint_timeout = 1h"
	# LLVM JIT is no code of ours, and loading it trips a known false
	# positive of the dynamic loader (strncmp in is_dst)
	echo "jit = off"
} | as_server tee -a "$dir/data/postgresql.conf" >/dev/null
cp "$ROOT/test/valgrind.supp" "$dir/valgrind.supp"
cp -r "$ROOT/sql" "$ROOT/expected" "$dir/regress/"
[ "$(id -u)" -ne 0 ] || chown -R "$SERVER_USER" "$dir"

log "starting the server under Valgrind (logs in $dir/logs)"
as_server valgrind --leak-check=no --trace-children=yes --error-exitcode=99 \
	--num-callers=30 --suppressions="$dir/valgrind.supp" ${VALGRIND_OPTS:-} \
	--log-file="$dir/logs/%p.log" \
	"$PG_BIN/postgres" -D "$dir/data" > "$dir/server.log" 2>&1 &
CLUSTERS+=("$dir/data")
for _ in $(seq 1 300); do
	as_server pg_isready -q -h "$WORK" -p "$port" && break
	sleep 1
done
as_server pg_isready -q -h "$WORK" -p "$port" || { cat "$dir/server.log" >&2; die "the server did not start"; }

# --use-existing does not create the database: as pg_regress would
as_server psql -X -q -v ON_ERROR_STOP=1 -h "$WORK" -p "$port" -U postgres -d postgres \
	-c "CREATE DATABASE crdt_regress TEMPLATE template0 ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C'" \
	-c "ALTER DATABASE crdt_regress SET lc_messages TO 'C'" -c "ALTER DATABASE crdt_regress SET lc_monetary TO 'C'" \
	-c "ALTER DATABASE crdt_regress SET lc_numeric TO 'C'" -c "ALTER DATABASE crdt_regress SET lc_time TO 'C'" \
	-c "ALTER DATABASE crdt_regress SET bytea_output TO 'hex'" \
	-c "ALTER DATABASE crdt_regress SET timezone_abbreviations TO 'Default'"

tests=${*:-$(make -C "$ROOT" -s print-regress)}
pg_regress="$(dirname "$($PG_CONFIG --pgxs)")/../test/regress/pg_regress"
log "pg_regress under Valgrind: $tests"
regress_ok=true
as_server "$pg_regress" --use-existing --host="$WORK" --port="$port" \
	--inputdir="$dir/regress" --outputdir="$dir/regress" --bindir="$PG_BIN" \
	--encoding=UTF8 --no-locale --dbname=crdt_regress $tests >&2 || regress_ok=false
as_server pg_ctl -D "$dir/data" -m fast -w -t 600 stop >/dev/null || true

# Which processes reported errors, and whether our code is on the stack.
errors=0
ours=0
for f in "$dir"/logs/*.log; do
	n=$(sed -n 's/.*ERROR SUMMARY: \([0-9]*\) errors.*/\1/p' "$f" | tail -n 1)
	[ "${n:-0}" -gt 0 ] || continue
	errors=$((errors + n))
	if grep -q 'crdt_reconcile.so' "$f"; then
		ours=$((ours + n))
		log "Valgrind errors involving crdt_reconcile in $f:"
		cat "$f" >&2
	else
		log "Valgrind errors outside crdt_reconcile in $f (first 40 lines):"
		head -n 40 "$f" >&2
	fi
done
crashes=$(grep -c 'exited with exit code 99' "$dir/server.log" || true)
processes=$(ls "$dir"/logs/*.log | wc -l)
if [ "$errors" -eq 0 ] && [ "$crashes" -eq 0 ] && $regress_ok; then
	echo "valgrind: PASS — pg_regress ($tests) under memcheck, $processes server processes, 0 errors"
else
	[ ! -f "$dir/regress/regression.diffs" ] || head -n 200 "$dir/regress/regression.diffs" >&2
	echo "valgrind: FAIL — $errors errors ($ours with crdt_reconcile on the stack), $crashes processes exited with 99, pg_regress $($regress_ok && echo passed || echo failed)"
	exit 1
fi
