#!/bin/bash
# Runs fuzz targets for longer than the fuzz suite does:
#
#   scripts/fuzz.sh TARGET SECONDS [libFuzzer options...]
#   scripts/fuzz.sh --all SECONDS [libFuzzer options...]
#
# TARGET is a name from test/fuzz/meson.build (virtq_dev, vhost_user_backend,
# packet_path; "fuzz_" may be given too); --all runs every target in turn,
# SECONDS each, one after the other (never two at once: the machine is
# shared). The targets are built in the clang sanitizer tree ($BUILD,
# default build-asan, configured if missing). The working corpus lives
# outside the source tree, in $FUZZ_DIR/TARGET/corpus (default
# FUZZ_DIR=/var/tmp/vswitch-fuzz), seeded from test/fuzz/corpus/TARGET and
# kept between runs; failing inputs go to $FUZZ_DIR/TARGET/crashes. The run
# is nice'd and ends with one line per target:
#
#   fuzz_virtq_dev: 8812345 inputs in 900 s (9791/s), 1350 edges, corpus 824 inputs, load 1.9-2.1; findings: none
#
# (load: the 1-minute load average at the start and the end: the machine is
# shared and the runs are nice'd, so the rate says as much about the others.)
#
# Exit status: 0 when no target found anything.
#
# Reproduce a crash: build-asan/test/fuzz/fuzz_TARGET FILE
# Add an input to the committed seeds after minimising it:
#   build-asan/test/fuzz/fuzz_TARGET -minimize_crash=1 -runs=10000 FILE
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
[ $# -ge 2 ] || { sed -n '2,/^set/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 2; }
if [ "$1" = --all ]; then
	targets=$(ls test/fuzz/fuzz_*.c | sed 's#.*/fuzz_##; s#\.c$##')
else
	targets=${1#fuzz_}
fi
secs=$2
shift 2
BUILD=${BUILD:-build-asan}
FUZZ_DIR=${FUZZ_DIR:-/var/tmp/vswitch-fuzz}

if [ ! -f "$BUILD/build.ninja" ]; then
	CC=clang meson setup "$BUILD" -Db_sanitize=address,undefined -Db_lundef=false \
		-Dfuzz=enabled -Dwerror=true || exit 1
fi

# One target: prints libFuzzer's progress, then its summary line into $summary.
run_target() { # target [libFuzzer options...]
	local target=$1 work rc start execs edges corp found
	shift
	ninja -C "$BUILD" "test/fuzz/fuzz_$target" >/dev/null || {
		echo "fuzz.sh: cannot build fuzz_$target in $BUILD (is it a clang tree with -Dfuzz?)" >&2
		summary+="fuzz_$target: not built"$'\n'
		return 1
	}
	work=$FUZZ_DIR/$target
	mkdir -p "$work/corpus" "$work/crashes"
	touch "$work/.start"
	echo "fuzz.sh: fuzz_$target for $secs s; corpus $work/corpus, crashes $work/crashes"
	start=$SECONDS
	load0=$(cut -d' ' -f1 /proc/loadavg)
	nice -n 19 "$BUILD/test/fuzz/fuzz_$target" -max_total_time="$secs" -timeout=10 \
		-rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$work/crashes/" \
		"$@" "$work/corpus" "test/fuzz/corpus/$target" 2>&1 |
		grep -v -E '^(libvhost|virtq|EAL|VHOST|vswitch):' | tee "$work/last.log" |
		grep -E '^(#[0-9]+.*(pulse|DONE|INITED)|stat::|Done|==[0-9]+==|SUMMARY|fuzz invariant|artifact)'
	rc=${PIPESTATUS[0]}
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/last.log")
	# The last progress line: "#N DONE cov: EDGES ft: F corp: INPUTS/SIZE ...".
	edges=$(grep -E '^#[0-9]+' "$work/last.log" | tail -1 | sed -n 's/.* cov: \([0-9]*\).*/\1/p')
	corp=$(grep -E '^#[0-9]+' "$work/last.log" | tail -1 | sed -n 's/.* corp: \([0-9]*\).*/\1/p')
	found=$(find "$work/crashes" -type f -newer "$work/.start" | wc -l)
	local took=$((SECONDS - start)) what=none
	if [ "$rc" -ne 0 ] || [ "$found" -gt 0 ]; then
		what="$found input(s) in $work/crashes (exit $rc; $(grep -m1 -E 'fuzz invariant|ERROR:|runtime error:' "$work/last.log" | cut -c1-160))"
	fi
	summary+="fuzz_$target: ${execs:-0} inputs in $took s ($(( ${execs:-0} / (took > 0 ? took : 1) ))/s), ${edges:-?} edges, corpus ${corp:-?} inputs, load $load0-$(cut -d' ' -f1 /proc/loadavg); findings: $what"$'\n'
	echo "fuzz.sh: exit $rc; full log $work/last.log"
	[ "$rc" -eq 0 ] && [ "$found" -eq 0 ]
}

summary=""
status=0
for t in $targets; do
	run_target "$t" "$@" || status=1
done
printf '%s' "$summary"
exit $status
