#!/usr/bin/env bash
# test/fuzz/replay.sh BUILD_DIR TARGET... — make fuzz-replay.
#
# Runs every target once over its committed seed corpus (test/fuzz/corpus/
# <target>/, as a directory with -runs=0) and once per file in test/fuzz/
# crashes/<target>/ (regression inputs; libFuzzer runs a file argument once).
# Prints the output of failing runs, then one summary line, and exits
# non-zero on any failure.
set -u
here="$(cd "$(dirname "$0")" && pwd)"
build="$1"
shift

targets=0
inputs=0
failures=0
tmp="$(mktemp -d)"
log="$tmp/log"
trap 'rm -rf "$tmp"' EXIT

run() {
	local target="$1"
	shift
	if ! "$build/$target" -runs=0 -artifact_prefix="$tmp/" "$@" >"$log" 2>&1; then
		failures=$((failures + 1))
		echo "fuzz replay: $target FAILED on $*" >&2
		tail -n 60 "$log" >&2
	fi
}

for target in "$@"; do
	targets=$((targets + 1))
	corpus="$here/corpus/$target"
	if [ -d "$corpus" ] && [ -n "$(ls -A "$corpus")" ]; then
		inputs=$((inputs + $(find "$corpus" -type f | wc -l)))
		run "$target" "$corpus"
	fi
	if [ -d "$here/crashes/$target" ]; then
		while IFS= read -r -d '' file; do
			inputs=$((inputs + 1))
			run "$target" "$file"
		done < <(find "$here/crashes/$target" -type f ! -name '*.md' -print0 | sort -z)
	fi
done

echo "fuzz replay: $targets targets, $inputs inputs, $failures failures"
[ "$failures" -eq 0 ]
