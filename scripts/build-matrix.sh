#!/bin/bash
# Builds the tree with every compiler and build type people habitually pick,
# with -Werror, and prints one line per build:
#
#   scripts/build-matrix.sh [-o DIR] [-W] [NAME...]
#
# NAME is COMPILER-KIND: COMPILER gcc or clang, KIND one of
#   debug debugoptimized release minsize   meson's build types
#   lto      release with -Db_lto=true
#   plain    buildtype=plain with dpkg-buildflags' CPPFLAGS/CFLAGS/LDFLAGS
#            (DEB_BUILD_MAINT_OPTIONS=hardening=+all: _FORTIFY_SOURCE,
#            stack protector, format-security, -z relro -z now), the way
#            debian/rules builds the packages
# Without NAME: all twelve. Each tree is DIR/NAME (default DIR build-matrix,
# kept between runs, so a second run only rebuilds what changed); its
# output is DIR/NAME.log. -W builds without -Werror and counts the warnings
# instead (to list them all at once while fixing them).
#
# A line: "gcc-release           ok     0 warnings   52 s" or
# "gcc-minsize           FAILED 1 warnings   40 s  test/x.c:12: 'm' may be
# used uninitialized [...]  (log DIR/gcc-minsize.log)". Exit status 1 when
# any build failed or warned.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1

out=build-matrix
werror=true
while getopts "o:W" opt; do
	case $opt in
	o) out=$OPTARG ;;
	W) werror=false ;;
	*) sed -n '2,/^set/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2; exit 2 ;;
	esac
done
shift $((OPTIND - 1))

all=()
for c in gcc clang; do
	for k in debug debugoptimized release minsize lto plain; do
		all+=("$c-$k")
	done
done
[ $# -gt 0 ] || set -- "${all[@]}"
mkdir -p "$out"

options() { # kind: the meson options of that kind of build
	case $1 in
	debug | debugoptimized | release | minsize) echo "-Dbuildtype=$1" ;;
	lto) echo "-Dbuildtype=release -Db_lto=true" ;;
	plain) echo "-Dbuildtype=plain" ;;
	*) return 1 ;;
	esac
}

# Runs in a subshell: the plain build exports dpkg-buildflags' variables.
build_one() { # name dir log
	local name=$1 dir=$2 log=$3 cc=${1%%-*} kind=${1#*-} opts
	opts=$(options "$kind") || { echo "unknown kind $kind" >"$log"; return 2; }
	case $cc in gcc | clang) ;; *) echo "unknown compiler $cc" >"$log"; return 2 ;; esac
	command -v "$cc" >/dev/null || { echo "$cc is not installed" >"$log"; return 2; }
	export CC=$cc
	if [ "$kind" = plain ]; then
		command -v dpkg-buildflags >/dev/null ||
			{ echo "dpkg-buildflags is missing (dpkg-dev)" >"$log"; return 2; }
		export DEB_BUILD_MAINT_OPTIONS=hardening=+all
		eval "$(dpkg-buildflags --export=sh)"
		# meson reads CFLAGS and LDFLAGS; CPPFLAGS carries _FORTIFY_SOURCE.
		export CFLAGS="$CPPFLAGS $CFLAGS"
	fi
	# An existing tree is reconfigured (its compiler and flags stay what
	# they were at its first set-up); one that cannot be is made again.
	# shellcheck disable=SC2086
	if [ -f "$dir/build.ninja" ]; then
		meson setup --reconfigure "$dir" $opts -Dwerror=$werror >"$log" 2>&1 ||
			meson setup --wipe "$dir" $opts -Dwerror=$werror >"$log" 2>&1
	else
		meson setup "$dir" $opts -Dwerror=$werror >"$log" 2>&1
	fi || return 1
	nice -n 10 ninja -C "$dir" >>"$log" 2>&1
}

failed=0
for name in "$@"; do
	dir=$out/$name
	log=$out/$name.log
	start=$SECONDS
	(build_one "$name" "$dir" "$log")
	rc=$?
	secs=$((SECONDS - start))
	# Compiler diagnostics: "file:line:col: warning|error: ...".
	nwarn=$(grep -c -E '^[^ ]+:[0-9]+:[0-9]+: (warning|error):' "$log")
	first=$(grep -m1 -E '^[^ ]+:[0-9]+:[0-9]+: (warning|error):' "$log" |
		sed -E 's#^(\.\./)+##; s#^'"$PWD"'/##')
	if [ $rc -eq 0 ] && [ "$nwarn" -eq 0 ]; then
		printf '%-22s ok     %d warnings %4d s\n' "$name" 0 "$secs"
		continue
	fi
	failed=$((failed + 1))
	[ -n "$first" ] || first=$(tail -1 "$log")
	printf '%-22s FAILED %d warnings %4d s  %s  (log %s)\n' "$name" "$nwarn" "$secs" "$first" "$log"
done
[ $failed -eq 0 ]
