#!/usr/bin/env bash
# make bench-lifting — what retired and compacted replicas cost the
# tracked-table write path (docs/RETIREMENT.md: the trigger lifts written
# orset and mvreg values through the registry's compaction groups, and the
# mutators refuse writers the registry lists).
#
# pgbench, 4 clients, 10,000 keys: INSERT ... ON CONFLICT DO UPDATE that
# adds an element (one of 50) to an orset column and sets an mvreg column
# of a tracked table, as replica 'bench'.  Every row first holds what 40
# agents wrote (an element each, and each set the register in turn).  Four
# tracked configurations, against the same upsert adding to a bigint in an
# untracked table, interleaved run by run:
#   agents       the 40 agents are live: empty registry (database postgres)
#   single       the same elements written by one replica, so the values
#                have about the size of compacted ones: empty registry
#   single_reg   the same in database retired, whose registry lists the 40
#                agents, retired and compacted into group ~1: crdt_add and
#                crdt_set look the writer up in the registry, the trigger
#                checks every written value against the group's ids
#   retired      the 40 agents' own values there, compacted: the same, and
#                the values carry the group's marker (mutators split it off
#                and put it back)
# single_reg against single is the cost of the registry checks; retired
# against single_reg, of the marker; retired against agents, what
# compaction changes overall (smaller values).
# Prints the median tps of each, the ratio to the bigint baseline and to
# single (of the medians, and the median of the per-round ratios), the WAL
# bytes per write (pg_current_wal_lsn before and after each run) and the
# mean column sizes after the runs.
# CRDT_PG_STAGE=DIR runs the server from a private PostgreSQL tree (see
# test/lib.sh); BENCH_PORT=N puts it on that port instead of a random one.
source "$(dirname "$0")/../test/lib.sh"
pgbench_settings
KEYS=10000
AGENTS=40
ELEMENTS=50

ensure_packages
build_and_install
make_workdir
start_cluster lifting "shared_buffers = '256MB'" "synchronous_commit = off" "autovacuum = off" \
	"max_wal_size = '4GB'" "checkpoint_timeout = '30min'"

psql_on lifting -c "CREATE DATABASE retired"
for db in postgres retired; do
	psql_on lifting -d "$db" -c "CREATE EXTENSION crdt_reconcile" -c "ALTER DATABASE $db SET crdt.replica_id = 'bench'"
done
# sets_table DB TABLE WRITER: a tracked table of KEYS rows, each holding
# what AGENTS writes made (as agent-000... when WRITER is empty, else all as
# WRITER): built once as a value, then copied into every row
sets_table() {
	psql_on lifting -d "$1" >/dev/null <<SQL
CREATE TABLE $2 (k int PRIMARY KEY, tags orset NOT NULL DEFAULT '{}', mood mvreg NOT NULL DEFAULT '{}');
SELECT crdt_reconcile.track('$2');
CREATE TEMP TABLE v AS SELECT '{}'::orset AS tags, '{}'::mvreg AS mood;
DO \$\$
DECLARE
	w text;
BEGIN
	FOR a IN 0 .. $AGENTS - 1 LOOP
		w := coalesce(nullif('$3', ''), pg_catalog.format('agent-%s', lpad(a::text, 3, '0')));
		UPDATE v SET tags = crdt_add(tags, 'a' || a, w), mood = crdt_set(mood, to_jsonb(a), w);
	END LOOP;
END \$\$;
INSERT INTO $2 SELECT k, v.tags, v.mood FROM generate_series(1, $KEYS) k, v;
SQL
}
sets_table postgres agents_bag ''
sets_table postgres single_bag 'prefill'
sets_table retired agents_bag ''
sets_table retired single_bag 'prefill'
psql_on lifting -d retired -At >/dev/null <<SQL
SELECT count(*) FROM (SELECT crdt_reconcile.retire_replica(pg_catalog.format('agent-%s', lpad(a::text, 3, '0')), 'pool')
                      FROM generate_series(0, $AGENTS - 1) a) r;
-- a node alone: compaction completes in one call (the group ~1, the dots renamed)
SELECT count(*) FROM crdt_reconcile.compact_replicas();
SQL
psql_on lifting -c "CREATE TABLE plain_counts (k int PRIMARY KEY, n bigint NOT NULL)" \
	-c "INSERT INTO plain_counts SELECT k, 0 FROM generate_series(1, $KEYS) k"
for db in postgres retired; do
	psql_on lifting -d "$db" -c "VACUUM ANALYZE"
done
# the retired database really is compacted: one group, no retired id left in the contexts
state=$(psql_on lifting -d retired -At -c "SELECT (SELECT string_agg(DISTINCT coalesce(compacted_into, 'none'), ',')
	FROM crdt_reconcile.retired_replicas) || ' ' || count(*) FILTER (WHERE x.k IN (SELECT replica FROM crdt_reconcile.retired_replicas))
	FROM agents_bag, LATERAL (SELECT crdt_reconcile.context_replicas(tags::text)
	                          UNION ALL SELECT crdt_reconcile.context_replicas(mood::text)) x(k)")
[ "$state" = "~1 0" ] || die "the retired database is not compacted (groups, retired ids in contexts: $state)"

cat > "$WORK/plain.sql" <<SQL
\set k random(1, $KEYS)
INSERT INTO plain_counts AS t (k, n) VALUES (:k, 1) ON CONFLICT (k) DO UPDATE SET n = t.n + 1;
SQL
for table in agents_bag single_bag; do
	cat > "$WORK/$table.sql" <<SQL
\set k random(1, $KEYS)
\set e random(1, $ELEMENTS)
INSERT INTO $table AS t (k, tags, mood) VALUES (:k, crdt_add(NULL::orset, 'e' || :e), crdt_set(NULL::mvreg, to_jsonb(:e)))
ON CONFLICT (k) DO UPDATE SET tags = crdt_add(t.tags, 'e' || :e), mood = crdt_set(t.mood, to_jsonb(:e));
SQL
done
chmod 644 "$WORK"/*.sql
NAMES="plain agents single single_reg retired"
script_of() { case $1 in plain) echo plain ;; single*) echo single_bag ;; *) echo agents_bag ;; esac; }
db_of() { case $1 in single_reg | retired) echo retired ;; *) echo postgres ;; esac; }

# run NAME: one pgbench run; appends "tps wal_bytes_per_write" to $WORK/NAME.runs
run() {
	pgbench_run lifting "$(db_of "$1")" "$WORK/$(script_of "$1").sql" "$CLIENTS" "$SECONDS_PER_RUN" >> "$WORK/$1.runs"
}

log "pgbench: $RUNS interleaved runs of ${SECONDS_PER_RUN}s each, $CLIENTS clients, $KEYS keys"
for i in $(seq "$RUNS"); do
	for name in $NAMES; do
		run "$name"
	done
done

plain_tps=$(cut -d' ' -f1 "$WORK/plain.runs" | median_of)
single_tps=$(cut -d' ' -f1 "$WORK/single.runs" | median_of)
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
# paired_ratio NAME BASE: the median over the rounds of NAME's tps / BASE's
# tps in the same round (steadier than the ratio of medians when the
# machine's load drifts between rounds)
paired_ratio() {
	paste -d' ' "$WORK/$1.runs" "$WORK/$2.runs" | awk '{ print $1 / $3 }' | median_of | awk '{ printf "%.2f", $1 }'
}
printf '%-58s %8s %7s %7s %9s %9s %12s %16s\n' "upsert" "tps" "ratio" "paired" "/single" "paired" \
	"WAL B/write" "bytes tags/mood"
for name in $NAMES; do
	read -r tps wal <<<"$(run_medians "$WORK/$name.runs")"
	sizes=-
	[ "$name" = plain ] || sizes=$(psql_on lifting -d "$(db_of "$name")" -At -c "SELECT round(avg(pg_column_size(tags)))
		|| '/' || round(avg(pg_column_size(mood))) FROM $(script_of "$name")")
	case $name in
		plain) label="bigint, untracked (baseline)" ;;
		agents) label="orset+mvreg, tracked, $AGENTS live agents" ;;
		single) label="orset+mvreg, tracked, one writer (size control)" ;;
		single_reg) label="orset+mvreg, tracked, one writer, $AGENTS retired in registry" ;;
		retired) label="orset+mvreg, tracked, $AGENTS agents retired+compacted" ;;
	esac
	printf '%-58s %8.0f %7s %7s %9s %9s %12.1f %16s\n' "$label" "$tps" "$(ratio "$tps" "$plain_tps")" \
		"$(paired_ratio "$name" plain)" "$(ratio "$tps" "$single_tps")" "$(paired_ratio "$name" single)" "$wal" "$sizes"
done
echo "all runs (tps, WAL bytes per write):"
for name in $NAMES; do
	echo "  $name: $(tr '\n' ';' < "$WORK/$name.runs")"
done
# nothing in the runs named a retired replica: no late copy was lifted or refused
psql_on lifting -d retired -At -c "SELECT 'retired_writer conflicts recorded during the runs: ' || count(*)
	FROM crdt_reconcile.conflicts WHERE kind = 'retired_writer'"
