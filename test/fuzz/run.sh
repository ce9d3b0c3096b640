#!/usr/bin/env bash
# test/fuzz/run.sh BUILD_DIR SECONDS JOBS SCRATCH TARGET... — make fuzz.
#
# Runs each target for SECONDS, JOBS of them at once, on a scratch corpus
# SCRATCH/<target> (new inputs go there, outside the repository) plus the
# committed seed corpus test/fuzz/corpus/<target>.  A crash is saved in
# test/fuzz/crashes/<target>/ and the run's log in SCRATCH/<target>.log.
# Prints one line per target (executions, corpus, crashes) and exits
# non-zero if any target crashed.
set -u
here="$(cd "$(dirname "$0")" && pwd)"
build="$1"
seconds="$2"
jobs="$3"
scratch="$4"
shift 4

fuzz_one() {
	local target="$1"
	local log="$scratch/$target.log"
	mkdir -p "$scratch/$target" "$here/crashes/$target" "$here/corpus/$target"
	"$build/$target" -max_total_time="$seconds" -timeout=25 -rss_limit_mb=2048 \
		-print_final_stats=1 -artifact_prefix="$here/crashes/$target/" \
		"$scratch/$target" "$here/corpus/$target" >"$log" 2>&1
	local rc=$?
	local execs
	execs=$(grep -Eo 'stat::number_of_executed_units: [0-9]+' "$log" | grep -Eo '[0-9]+$' | tail -n 1)
	if [ "$rc" -eq 0 ]; then
		echo "fuzz: $target ${seconds}s, ${execs:-?} executions, no crash"
	else
		echo "fuzz: $target CRASHED after ${execs:-?} executions (exit $rc); see $log and test/fuzz/crashes/$target/"
		grep -E -A12 'fuzz check failed|ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|runtime error' "$log" | head -n 40
	fi
	return "$rc"
}

mkdir -p "$scratch"
status=0
running=0

for target in "$@"; do
	fuzz_one "$target" &

	running=$((running + 1))
	if [ "$running" -ge "$jobs" ]; then
		wait -n || status=1
		running=$((running - 1))
	fi
done
while [ "$running" -gt 0 ]; do
	wait -n || status=1
	running=$((running - 1))
done
exit "$status"
