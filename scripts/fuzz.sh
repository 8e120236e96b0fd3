#!/bin/bash
# Runs one fuzz target for longer than the fuzz suite does:
#
#   scripts/fuzz.sh TARGET SECONDS [libFuzzer options...]
#
# TARGET is a name from test/fuzz/meson.build (virtq_dev, vhost_user_backend,
# packet_path; "fuzz_" may be given too). The target is built in the clang
# sanitizer tree ($BUILD, default build-asan, configured if missing). The
# working corpus lives outside the source tree, in
# $FUZZ_DIR/TARGET/corpus (default FUZZ_DIR=/var/tmp/vswitch-fuzz), seeded
# from test/fuzz/corpus/TARGET and kept between runs; failing inputs go to
# $FUZZ_DIR/TARGET/crashes. The run is nice'd (the machine is shared) and
# ends with libFuzzer's statistics: executions per second and in total.
#
# Reproduce a crash: build-asan/test/fuzz/fuzz_TARGET FILE
# Add an input to the committed seeds after minimising it:
#   build-asan/test/fuzz/fuzz_TARGET -minimize_crash=1 -runs=10000 FILE
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
[ $# -ge 2 ] || { sed -n '2,/^set/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 2; }
target=${1#fuzz_}
secs=$2
shift 2
BUILD=${BUILD:-build-asan}
FUZZ_DIR=${FUZZ_DIR:-/var/tmp/vswitch-fuzz}

if [ ! -f "$BUILD/build.ninja" ]; then
	CC=clang meson setup "$BUILD" -Db_sanitize=address,undefined -Db_lundef=false -Dfuzz=enabled -Dwerror=true ||
		exit 1
fi
ninja -C "$BUILD" "test/fuzz/fuzz_$target" >/dev/null || {
	echo "fuzz.sh: cannot build fuzz_$target in $BUILD (is it a clang tree with -Dfuzz?)" >&2
	exit 1
}
work=$FUZZ_DIR/$target
mkdir -p "$work/corpus" "$work/crashes"
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
echo "fuzz.sh: fuzz_$target for $secs s; corpus $work/corpus, crashes $work/crashes"
nice -n 19 "$BUILD/test/fuzz/fuzz_$target" -max_total_time="$secs" -timeout=10 \
	-rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$work/crashes/" \
	"$@" "$work/corpus" "test/fuzz/corpus/$target" 2>&1 |
	grep -v -E '^(libvhost|virtq|EAL|VHOST|vswitch):' | tee "$work/last.log" |
	grep -E '^(#[0-9]+.*(pulse|DONE|INITED)|stat::|Done|==[0-9]+==|SUMMARY|fuzz invariant|artifact)'
rc=${PIPESTATUS[0]}
echo "fuzz.sh: exit $rc; full log $work/last.log"
exit "$rc"
