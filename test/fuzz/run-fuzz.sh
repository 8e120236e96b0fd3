#!/bin/bash
# The fuzz suite's wrapper around one libFuzzer target (registered per target
# by test/fuzz/meson.build):
#
#   run-fuzz.sh BINARY SEEDS ARTIFACTS [libFuzzer options...]
#
# Runs BINARY for $VT_FUZZ_SECONDS (default 60) with a fixed seed, on a
# scratch copy of the committed corpus SEEDS (new inputs go to the scratch
# directory, never into the source tree). Passes only when libFuzzer ran
# inputs and exited 0: a crash, a sanitizer report, a leak, a per-input
# timeout, an out-of-memory or the target's own invariant check fails it.
# A failing input is kept in ARTIFACTS and printed as base64 so the log alone
# reproduces it:  base64 -d > crash && BINARY crash
set -u
bin=$1
seeds=$2
art=$3
shift 3
secs=${VT_FUZZ_SECONDS:-60}
name=$(basename "$bin")

work=$(mktemp -d "${TMPDIR:-/tmp}/vswitch-$name.XXXXXX") || exit 1
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/corpus" "$work/art"

echo "$name: ${secs} s, seed 1, corpus $seeds ($(find "$seeds" -type f | wc -l) files)"
"$bin" -max_total_time="$secs" -seed=1 -timeout=10 -rss_limit_mb=2048 \
	-error_exitcode=1 -timeout_exitcode=1 -print_final_stats=1 \
	-artifact_prefix="$work/art/" "$@" "$work/corpus" "$seeds" >"$work/log" 2>&1
rc=$?

# The library logs of thousands of hostile inputs are noise: show the
# fuzzer's own lines, and everything from the first report on.
grep -E '^(INFO|#[0-9]+|stat::|Done)' "$work/log" | tail -40
# Sanitizer and libFuzzer reports (crash, leak, timeout, out-of-memory all
# print "==PID==ERROR: "), UBSan even when not fatal, the targets' own checks.
report=$(grep -n -m1 -E '==[0-9]+== ?ERROR: |runtime error: |fuzz invariant|deadly signal' "$work/log" | cut -d: -f1)
execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/log")
if [ -n "$report" ]; then
	tail -n +"$report" "$work/log" | head -150
fi
if [ $rc -ne 0 ] || [ -n "$report" ] || [ -z "$execs" ] || [ "$execs" -eq 0 ]; then
	mkdir -p "$art"
	for f in "$work"/art/*; do
		[ -f "$f" ] || continue
		cp "$f" "$art/"
		echo "$name: failing input kept in $art/$(basename "$f") ($(stat -c %s "$f") bytes); base64:"
		base64 -w 76 "$f" | head -200
	done
	echo "$name: FAILED (libFuzzer exit $rc, ${execs:-0} inputs run)"
	exit 1
fi
echo "$name: passed, $execs inputs in $secs s"
exit 0
