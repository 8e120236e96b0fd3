#!/bin/bash
# The README's test command: set-up, build, run every suite but perf, then
# print one closing line "N passed, N failed, N skipped" summed over all of
# them. Exits non-zero when any test fails.
#
# Environment (for local use; CI sets none of these but CI=true):
#   SUITES   suites to run in the main build (default: fast interop vm fuzz
#            package)
#   ASAN     1 (default) also builds with ASan+UBSan and runs fast and fuzz there
#   BUILD    build directory (default: build); the sanitizer build is BUILD-asan
#   WERROR_BUILDS  extra builds made with -Werror (default: gcc-release
#            clang-release; names as scripts/build-matrix.sh takes them,
#            trees in BUILD-matrix; "none" skips them)
set -uo pipefail

cd "$(dirname "$0")/.."
ROOT=$(pwd)
SUITES=${SUITES:-fast interop vm fuzz package}
ASAN=${ASAN:-1}
BUILD=${BUILD:-build}

log() { echo "test.sh: $*"; }

if [ "$(id -u)" = 0 ]; then
	scripts/setup.sh test || exit 1
else
	log "not root: skipping scripts/setup.sh (packages and hugepages must already be there)"
fi

configure() { # dir [meson options...]; $CC (optional) picks the compiler
	local dir=$1
	shift
	local reconf=()
	# Modules are picked up with fs.exists() at configure time, which
	# does not make meson re-run when a module appears: reconfigure.
	[ -f "$dir/build.ninja" ] && reconf=(--reconfigure)
	# A tree configured with another compiler cannot be reconfigured to
	# this one: start it again.
	if [ -n "${CC:-}" ] && [ -f "$dir/build.ninja" ] &&
		! grep -A1 '^rule c_COMPILER$' "$dir/build.ninja" | grep -q "command = $CC "; then
		reconf=(--wipe)
	fi
	# Developers' and CI builds stop on a warning (meson.build).
	meson setup "${reconf[@]}" "$dir" -Dwerror=true "$@" >"$dir.setup.log" 2>&1 || {
		cat "$dir.setup.log"
		log "meson setup $dir failed"
		return 1
	}
}

PASSED=0
FAILED=0
SKIPPED=0
BROKEN=0

run_suites() { # build-dir suites...
	local dir=$1
	shift
	local args=() s
	for s in "$@"; do
		local listed
		listed=$(meson test -C "$dir" --no-rebuild --list --suite "$s" 2>/dev/null || true)
		if [ -n "$listed" ]; then
			args+=(--suite "$s")
		else
			log "$dir: suite $s has no tests yet"
		fi
	done
	[ ${#args[@]} -gt 0 ] || return 0
	local start=$SECONDS
	rm -f "$dir/meson-logs/testlog.json"
	meson test -C "$dir" --no-rebuild --print-errorlogs --num-processes 2 "${args[@]}"
	local rc=$?
	local json="$dir/meson-logs/testlog.json"
	if [ ! -f "$json" ]; then
		log "$dir: meson test left no testlog.json (rc $rc)"
		BROKEN=$((BROKEN + 1))
		return
	fi
	local summary ok fail skip
	summary=$(python3 scripts/testlog-summary.py "$json") || {
		log "$dir: cannot read $json"
		BROKEN=$((BROKEN + 1))
		return
	}
	read -r ok fail skip <<<"$(head -1 <<<"$summary")"
	log "$dir ($*): $ok passed, $fail failed, $skip skipped in $((SECONDS - start)) s"
	tail -n +2 <<<"$summary"
	PASSED=$((PASSED + ok))
	FAILED=$((FAILED + fail))
	SKIPPED=$((SKIPPED + skip))
	if [ $rc -ne 0 ] && [ "$fail" -eq 0 ]; then
		log "$dir: meson test failed (rc $rc) without a failed test"
		BROKEN=$((BROKEN + 1))
	fi
}

build() { # dir [meson options...]
	local dir=$1
	configure "$@" || { BROKEN=$((BROKEN + 1)); return 1; }
	log "building $dir"
	ninja -C "$dir" >"$dir.ninja.log" 2>&1 || {
		tail -50 "$dir.ninja.log"
		log "build of $dir failed"
		BROKEN=$((BROKEN + 1))
		return 1
	}
}

# shellcheck disable=SC2086
if build "$BUILD"; then
	run_suites "$BUILD" $SUITES
fi

if [ "$ASAN" = 1 ]; then
	# ASan+UBSan build: the fast and fuzz suites. The DPDK parts are
	# included; tests that cannot run under ASan skip themselves. It is
	# built with clang: libFuzzer (the fuzz suite's targets) needs it, and
	# its -Werror and UBSan checks differ from gcc's.
	asan_cc=clang
	if ! command -v clang >/dev/null 2>&1; then
		log "clang is missing: the sanitizer build uses the default compiler, without fuzz targets"
		asan_cc=
	fi
	if CC=$asan_cc build "$BUILD-asan" -Db_sanitize=address,undefined -Db_lundef=false; then
		ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1} \
			UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1} \
			run_suites "$BUILD-asan" fast fuzz
	fi
fi

# Release builds with -Werror, gcc and clang: warnings that only optimised
# builds show (maybe-uninitialized and the like) fail CI too. Built, not
# tested (the suites ran above); each build counts as one test in the
# closing line. scripts/build-matrix.sh builds the whole matrix.
werror_builds() {
	local names=${WERROR_BUILDS:-gcc-release clang-release} start=$SECONDS out line
	local ok=0 fail=0
	[ "$names" = none ] && return 0
	log "werror builds: $names"
	# shellcheck disable=SC2086
	out=$(scripts/build-matrix.sh -o "$BUILD-matrix" $names)
	echo "$out"
	while read -r line; do
		case $line in
		*" ok "*) ok=$((ok + 1)) ;;
		*" FAILED "*)
			fail=$((fail + 1))
			line=${line##*(log }
			grep -E '^[^ ]+:[0-9]+:[0-9]+: (warning|error):' "${line%)}" | head -20
			;;
		esac
	done <<<"$out"
	log "werror builds: $ok passed, $fail failed in $((SECONDS - start)) s"
	PASSED=$((PASSED + ok))
	FAILED=$((FAILED + fail))
	if [ $((ok + fail)) -ne "$(wc -w <<<"$names")" ]; then
		log "werror builds: build-matrix.sh did not report every build"
		BROKEN=$((BROKEN + 1))
	fi
}
werror_builds

if [ $BROKEN -gt 0 ]; then
	log "$BROKEN build or harness failure(s) counted as failed"
	FAILED=$((FAILED + BROKEN))
fi
echo "$PASSED passed, $FAILED failed, $SKIPPED skipped"
[ $FAILED -eq 0 ]
