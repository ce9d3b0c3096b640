# test/lib.sh — shared set-up for `make test`, `make demo` and `make bench`.
#
# Sourced, not run.  Works as root (CI: servers run as the postgres user via
# runuser) and as a normal user with sudo (servers run as that user).
# Every server is a throwaway cluster in a temp directory on a free port;
# all of them are stopped and removed on exit.

set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PG_MAJOR=15
PG_BIN=/usr/lib/postgresql/$PG_MAJOR/bin
PG_CONFIG=$PG_BIN/pg_config
# CRDT_PG_STAGE=DIR: build against the system PostgreSQL but install into, and
# run servers from, a private copy of its tree under DIR (PostgreSQL finds
# its files relative to its binaries), so that several checkouts can test
# at once without replacing each other's installed library.
PG_STAGE=${CRDT_PG_STAGE:-}
[ -z "$PG_STAGE" ] || PG_BIN=$PG_STAGE/usr/lib/postgresql/$PG_MAJOR/bin
export PATH="$PG_BIN:$PATH"

log() { printf '==> %s\n' "$*" >&2; }
die() { printf 'ERROR: %s\n' "$*" >&2; exit 1; }

if [ "$(id -u)" -eq 0 ]; then
	SERVER_USER=postgres
	as_root() { "$@"; }
	# from /, since the server user may not be allowed into the checkout
	as_server() { (cd / && runuser -u "$SERVER_USER" -- "$@"); }
else
	SERVER_USER=$(id -un)
	as_root() { sudo "$@"; }
	as_server() { "$@"; }
fi

# Installs the Debian packages that a fresh machine lacks (idempotent).
ensure_packages() {
	local missing=()
	[ -f "$($PG_CONFIG --includedir-server)/postgres.h" ] || missing+=("postgresql-server-dev-$PG_MAJOR")
	command -v clang >/dev/null || missing+=(clang)
	perl -MIPC::Run -e 1 2>/dev/null || missing+=(libipc-run-perl)
	[ -n "$(find /usr/lib/llvm-14/lib/clang -name 'libclang_rt.asan*.a' 2>/dev/null | head -n 1)" ] \
		|| missing+=(libclang-rt-14-dev)
	if [ "${#missing[@]}" -gt 0 ]; then
		log "installing ${missing[*]}"
		as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
		as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
	fi
}

build_and_install() {
	log "building crdt_reconcile"
	make -C "$ROOT" -s PG_CONFIG="$PG_CONFIG" >/dev/null
	if [ -n "$PG_STAGE" ]; then
		if [ ! -x "$PG_BIN/postgres" ]; then
			log "copying the PostgreSQL tree into $PG_STAGE"
			as_root mkdir -p "$PG_STAGE/usr/lib/postgresql" "$PG_STAGE/usr/share/postgresql"
			as_root cp -a "/usr/lib/postgresql/$PG_MAJOR" "$PG_STAGE/usr/lib/postgresql/"
			as_root cp -a "/usr/share/postgresql/$PG_MAJOR" "$PG_STAGE/usr/share/postgresql/"
		fi
		log "installing into $PG_STAGE$($PG_CONFIG --pkglibdir)"
		as_root make -C "$ROOT" -s PG_CONFIG="$PG_CONFIG" DESTDIR="$PG_STAGE" install >/dev/null
		return
	fi
	log "installing into $($PG_CONFIG --pkglibdir)"
	as_root make -C "$ROOT" -s PG_CONFIG="$PG_CONFIG" install >/dev/null
}

# A scratch directory the server user owns, removed (servers first) on exit.
WORK=
CLUSTERS=()
make_workdir() {
	WORK=$(mktemp -d "${TMPDIR:-/tmp}/crdt_reconcile.XXXXXX")
	chmod 755 "$WORK"
	[ "$(id -u)" -ne 0 ] || chown "$SERVER_USER" "$WORK"
	trap cleanup EXIT
}

cleanup() {
	local dir
	for dir in "${CLUSTERS[@]:-}"; do
		[ -n "$dir" ] || continue
		as_server pg_ctl -D "$dir" -m immediate stop >/dev/null 2>&1 || true
	done
	[ -z "$WORK" ] || rm -rf "$WORK"
}

# Prints a TCP port that nothing listens on, starting from a random base.
free_port() {
	local port=$((20000 + RANDOM % 20000))
	while (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do
		port=$((port + 1))
	done
	echo "$port"
}

# start_cluster NAME [postgresql.conf lines...]: initdb + start; sets PORT_<NAME>.
start_cluster() {
	local name=$1
	shift
	local dir=$WORK/$name
	local port
	port=$(free_port)
	as_server initdb -D "$dir" -A trust -E UTF8 --locale=C.UTF-8 -U postgres >/dev/null
	{
		echo "port = $port"
		echo "listen_addresses = '127.0.0.1'"
		echo "unix_socket_directories = '$WORK'"
		echo "fsync = off"
		printf '%s\n' "$@"
	} | as_server tee -a "$dir/postgresql.conf" >/dev/null
	CLUSTERS+=("$dir")
	as_server pg_ctl -D "$dir" -l "$WORK/$name.log" -w start >/dev/null \
		|| { cat "$WORK/$name.log" >&2; die "cluster $name did not start"; }
	printf -v "PORT_$name" '%s' "$port"
}

# psql_on NAME [psql args...]: psql as superuser on cluster NAME.
psql_on() {
	local name=$1
	shift
	local var="PORT_$name"
	as_server psql -X -q -v ON_ERROR_STOP=1 -h "$WORK" -p "${!var}" -U postgres -d postgres "$@"
}

# pgbench_run NAME DB SCRIPT CLIENTS SECONDS: one pgbench run of SCRIPT on
# database DB of cluster NAME; prints "tps wal_bytes_per_transaction" (the
# WAL position before and after the run: nothing else may write meanwhile).
pgbench_run() {
	local name=$1 db=$2 script=$3 clients=$4 seconds=$5 var="PORT_$1" before after out tps txns
	before=$(psql_on "$name" -At -c "SELECT pg_current_wal_lsn()")
	out=$(as_server pgbench -n -h "$WORK" -p "${!var}" -U postgres -c "$clients" -j "$clients" \
		-T "$seconds" -f "$script" "$db")
	after=$(psql_on "$name" -At -c "SELECT pg_current_wal_lsn()")
	tps=$(sed -n 's/^tps = \([0-9.]*\).*/\1/p' <<<"$out")
	txns=$(sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p' <<<"$out")
	psql_on "$name" -At -c "SELECT '$tps', round(pg_wal_lsn_diff('$after', '$before') / $txns, 1)" | tr '|' ' '
}

# The pgbench benchmarks' settings: RUNS, SECONDS_PER_RUN and CLIENTS from
# BENCH_RUNS, BENCH_SECONDS and BENCH_CLIENTS; BENCH_PORT=N a fixed port.
pgbench_settings() {
	RUNS=${BENCH_RUNS:-5}
	SECONDS_PER_RUN=${BENCH_SECONDS:-15}
	CLIENTS=${BENCH_CLIENTS:-4}
	[ -z "${BENCH_PORT:-}" ] || free_port() { echo "$BENCH_PORT"; }
}

# The median of the numbers on stdin, one a line.
median_of() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# run_medians FILE: of pgbench_run's lines in FILE, the median tps and WAL bytes per write.
run_medians() { echo "$(cut -d' ' -f1 "$1" | median_of) $(cut -d' ' -f2 "$1" | median_of)"; }
