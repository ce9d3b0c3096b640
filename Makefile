# crdt_reconcile — PGXS build.
#
#   make demo    install what is missing, build, run the scripted demo
#   make test    the same set-up, then core tests (ASan/UBSan) and pg_regress
#   make bench   the benchmark against sum(bigint); see bench/RESULTS.md
#   make bench-track  the tracked-table trigger under pgbench upserts
#   make bench-instructions  crdt_merge's instructions per row against sum(bigint) (callgrind)
#   make bench-lifting  orset/mvreg upserts with retired, compacted replicas in the registry
#   make bench-repair anti-entropy repair of 200,000 rows, 1% differing, between two nodes
#   make bench-sequences  merging two edited copies of a 50k..400k-character rtext
#   make unit    only the core unit and property tests
#
# The usual PGXS targets (all, install, installcheck) work as for any extension.

EXTENSION = crdt_reconcile
MODULE_big = crdt_reconcile
PGFILEDESC = "crdt_reconcile - CRDT column types and merge aggregates"
EXTVERSION = 0.5
# The full install script of the current version, which a fresh CREATE
# EXTENSION runs, is built by make from src/sql/ (see src/sql/build.sh), as
# pgvector builds its vector--X.sql, and installed from the build tree; it
# is not committed (only its sources are).  The upgrade script to the
# current, unreleased version is built too (src/sql/upgrade.sh), from a
# manifest that names the new and changed objects of the full script and
# holds what only an upgrade does.  Released versions' scripts never change,
# and are built too, each from its source src/sql/released/SCRIPT.in, which
# names the statements whose text is today's and holds the others' as it
# was released; src/sql/released.sh stops the build when one would come out
# other than its sha256 in src/sql/released.sha256.  To release X and start
# Y: move X's upgrade script into RELEASED (its manifest becomes
# src/sql/released/crdt_reconcile--W--X.sql.in, its sha256 goes into
# released.sha256), set EXTVERSION and default_version to Y and start
# src/sql/upgrade--X--Y.sql.in; sql/upgrade.sql checks the chain against the
# new full script.  Only 0.1's full script is kept: CREATE EXTENSION ...
# VERSION of an older release runs 0.1 and the upgrade scripts up to it.
PREVVERSION = 0.4
RELEASED = crdt_reconcile--0.1.sql crdt_reconcile--0.1--0.2.sql crdt_reconcile--0.2--0.3.sql \
	crdt_reconcile--0.3--0.4.sql
UPGRADE_BUILT = crdt_reconcile--$(PREVVERSION)--$(EXTVERSION).sql
DATA_built = $(RELEASED) crdt_reconcile--$(EXTVERSION).sql $(UPGRADE_BUILT)
# in the order they are written out; *.type.sql.in and *.family.sql.in are
# expanded per type and per aggregate family of src/sql/types.list
SQL_PARTS = $(addprefix src/sql/,header.sql aggregate.family.sql.in crdt.type.sql.in replica.sql \
	vclock.sql counters.sql counter_increment.type.sql.in counter_decrement.type.sql.in bcounter.sql sets.sql set.type.sql.in registers.sql sequences.sql tracked.sql audit.sql lifecycle.sql \
	tombstone_gc.sql telemetry.sql antientropy.sql publications.sql history.sql retire.type.sql.in compact.type.sql.in retire.sql rights.sql)

CORE_SRCS = src/core/base.c src/core/hash.c src/core/map.c src/core/keys.c src/core/counters.c \
	src/core/jsonlex.c src/core/sets.c src/core/dotted.c src/core/dotted_merge.c \
	src/core/dotted_build.c src/core/dotted_text.c src/core/dotted_mutate.c src/core/dotted_log.c \
	src/core/lww.c src/core/keyset.c src/core/runs.c src/core/json.c src/core/table.c src/core/table_merge.c src/core/tablesort.c \
	src/core/sequence.c src/core/sequence_ops.c src/core/sequence_edit.c src/core/sequence_text.c src/core/sequence_log.c src/core/retire.c src/core/dotted_compact.c \
	src/core/bcounter.c src/core/bcounter_log.c src/core/bcounter_text.c
GLUE_SRCS = src/module.c src/crdt_type.c src/vclock.c src/counters.c src/sets.c \
	src/registers.c src/aggregates.c src/tracked.c src/track_rows.c src/track_columns.c src/track_lifecycle.c src/audit.c \
	src/track_trigger.c \
	src/merge_stats.c src/antientropy.c \
	src/history.c src/history_record.c src/printed_jsonb.c src/sequences.c src/retire.c src/retired_registry.c src/compact.c src/bcounter.c
OBJS = $(CORE_SRCS:.c=.o) $(GLUE_SRCS:.c=.o)

REGRESS = setup upgrade vclock gcounter pncounter bcounter bcounter_track sets orset registers io_roundtrip merge_laws \
	aggregates parallel replica_id input_errors encoding track replica_rows arbitration convergence trust track_edges \
	antientropy hostile_input security \
	history sequences retire tombstone_gc
# `make installcheck` (against a running, installed server) runs all three
# suites: pg_regress (sql/, expected/), the isolation specs and the TAP tests
# (each TAP test starts its own nodes).  `make test` runs them on throwaway
# servers, as an unprivileged user, after the core's own tests.
ISOLATION = track_concurrency bcounter_grant retired_writer
ISOLATION_OPTS = --inputdir=test/isolation
TAP_TESTS = 1
PROVE_TESTS = test/tap/t/*.pl

PG_CPPFLAGS = -I$(srcdir)/src
EXTRA_CLEAN = test/unit/run_unit output_iso tmp_check

PG_CONFIG ?= $(shell test -x /usr/lib/postgresql/15/bin/pg_config && \
	echo /usr/lib/postgresql/15/bin/pg_config || echo pg_config)
PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

# PGXS does not track header dependencies.
$(OBJS): $(wildcard src/core/*.h)
$(GLUE_SRCS:.c=.o): src/crdt_reconcile.h src/merge_stats.h src/tracked.h src/history.h

# The core is pure C99 and is tested without a server, under sanitizers.
UNIT_CC ?= clang
UNIT_CFLAGS = -std=c99 -Wall -Wextra -Wpedantic -Werror -g -O1 \
	-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
UNIT_SRCS = test/unit/main.c test/unit/test_codec.c test/unit/test_text.c \
	test/unit/test_ops.c test/unit/test_laws.c test/unit/test_table.c test/unit/test_model.c test/unit/test_sets.c \
	test/unit/test_assign.c test/unit/test_table_log.c \
	test/unit/test_sequence.c test/unit/test_retire.c test/unit/test_compact.c test/unit/test_bcounter.c

test/unit/run_unit: $(UNIT_SRCS) $(CORE_SRCS) $(wildcard src/core/*.h) test/unit/unit.h \
	test/order_laws.h
	$(UNIT_CC) $(UNIT_CFLAGS) -Isrc/core -Itest/unit -o $@ $(UNIT_SRCS) $(CORE_SRCS)

# rebuilt when a part changes
crdt_reconcile--$(EXTVERSION).sql: src/sql/build.sh src/sql/types.list $(SQL_PARTS)
	$(SHELL) src/sql/build.sh $(SQL_PARTS) > $@.tmp
	mv $@.tmp $@

# A released script may take statements from the ones before it ("from").
crdt_reconcile--0.3--0.4.sql: crdt_reconcile--0.2--0.3.sql
$(RELEASED): %.sql: src/sql/released/%.sql.in src/sql/released.sh src/sql/released.sha256 src/sql/upgrade.sh \
		crdt_reconcile--$(EXTVERSION).sql
	$(SHELL) src/sql/released.sh $@ crdt_reconcile--$(EXTVERSION).sql $(filter $(RELEASED),$^)

$(UPGRADE_BUILT): src/sql/upgrade.sh src/sql/upgrade--$(PREVVERSION)--$(EXTVERSION).sql.in crdt_reconcile--$(EXTVERSION).sql
	$(SHELL) src/sql/upgrade.sh crdt_reconcile--$(EXTVERSION).sql src/sql/upgrade--$(PREVVERSION)--$(EXTVERSION).sql.in > $@.tmp
	mv $@.tmp $@

.PHONY: unit test demo bench bench-track bench-instructions bench-lifting bench-repair bench-sequences print-regress
unit: test/unit/run_unit
	test/unit/run_unit

test:
	test/run.sh

demo:
	test/demo.sh

bench:
	bench/run.sh

bench-track:
	bench/track.sh

bench-instructions:
	bench/instructions.sh

bench-lifting:
	bench/lifting.sh

bench-repair:
	bench/repair.sh

bench-sequences:
	bench/sequences.sh

print-regress:
	@echo $(REGRESS)


# ------------------------------------------------------------------ fuzzing
#
#   make fuzz          build the libFuzzer targets in test/fuzz/ and run each
#                      for FUZZ_SECONDS (FUZZ_JOBS at once) on the committed
#                      corpus plus a scratch corpus in FUZZ_SCRATCH; crashes
#                      are saved in test/fuzz/crashes/<target>/
#   make fuzz-replay   build them and run the committed corpus and every
#                      file in test/fuzz/crashes/ once (regression inputs)
#   make fuzz-corpus   rewrite the seed corpus test/fuzz/corpus/ from the
#                      generator test/fuzz/gen_corpus.c
#
# See test/fuzz/README.md.

FUZZ_TARGETS = parse binary aggstate laws json sequence bcounter
FUZZ_SECONDS ?= 180
FUZZ_JOBS ?= 1
FUZZ_SCRATCH ?= /tmp/crdt_reconcile-fuzz
FUZZ_CC ?= clang
FUZZ_CFLAGS = -std=c99 -Wall -Wextra -Wpedantic -Werror -g -O1 \
	-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
FUZZ_BUILD = test/fuzz/build
FUZZ_CORE_OBJS = $(patsubst src/core/%.c,$(FUZZ_BUILD)/core/%.o,$(CORE_SRCS))
FUZZ_BINS = $(addprefix $(FUZZ_BUILD)/,$(FUZZ_TARGETS))
EXTRA_CLEAN += $(FUZZ_BUILD)

$(FUZZ_BUILD)/core/%.o: src/core/%.c $(wildcard src/core/*.h)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -Isrc/core -c -o $@ $<

$(FUZZ_BUILD)/fuzz_common.o: test/fuzz/fuzz_common.c test/fuzz/fuzz_common.h $(wildcard src/core/*.h)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -Isrc/core -c -o $@ $<

$(FUZZ_BINS): $(FUZZ_BUILD)/%: test/fuzz/%.c $(FUZZ_BUILD)/fuzz_common.o $(FUZZ_CORE_OBJS) \
	test/fuzz/fuzz_common.h test/order_laws.h $(wildcard src/core/*.h)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -Isrc/core -o $@ $< $(FUZZ_BUILD)/fuzz_common.o $(FUZZ_CORE_OBJS)

# The corpus generator is a plain program (no libFuzzer), linked with the core.
$(FUZZ_BUILD)/gen_corpus: test/fuzz/gen_corpus.c test/fuzz/fuzz_common.c test/fuzz/fuzz_common.h \
	$(CORE_SRCS) $(wildcard src/core/*.h)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) -std=c99 -Wall -Wextra -Wpedantic -Werror -g -O1 -Isrc/core -o $@ \
		test/fuzz/gen_corpus.c test/fuzz/fuzz_common.c $(CORE_SRCS)

.PHONY: fuzz fuzz-build fuzz-replay fuzz-corpus
fuzz-build: $(FUZZ_BINS)

fuzz: fuzz-build
	test/fuzz/run.sh $(FUZZ_BUILD) $(FUZZ_SECONDS) $(FUZZ_JOBS) $(FUZZ_SCRATCH) $(FUZZ_TARGETS)

fuzz-replay: fuzz-build
	test/fuzz/replay.sh $(FUZZ_BUILD) $(FUZZ_TARGETS)

fuzz-corpus: $(FUZZ_BUILD)/gen_corpus
	rm -rf test/fuzz/corpus
	$(FUZZ_BUILD)/gen_corpus test/fuzz/corpus
