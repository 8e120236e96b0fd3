#!/bin/bash
# The benchmark (doc/perf.md): vswitch against dpdk-testpmd (net_vhost, io
# forwarding) and OVS-DPDK (NORMAL and port-to-port flows), in one run on the
# same two cores. One command: set-up (Debian packages, hugepages; as root),
# build, measure, write the report.
#
#   scripts/bench.sh                 the full run (40-50 minutes)
#   scripts/bench.sh --smoke         a few seconds per switch: does each one forward?
#   scripts/bench.sh --update-doc    the full run, then the results into doc/perf.md
#   scripts/bench.sh --help          every option (sizes, rings, queues, windows, ...)
#
# Own options, before the rest: --no-setup (skip scripts/setup.sh bench),
# --no-build (use the build directory as it is), --build DIR (default: build),
# --stop-system-ovs (stop the system's Open vSwitch service for the run; it
# competes for the CPUs; it is never stopped unless asked, and not restarted).
# Everything it starts is stopped on every path: the harness stops its
# processes itself, each of them dies with the harness (PR_SET_PDEATHSIG), and
# the trap below kills whatever still carries this run's tag.
set -uo pipefail

cd "$(dirname "$0")/.."
ROOT=$(pwd)
BUILD=build
SETUP=1
DO_BUILD=1
STOP_OVS=0
ARGS=()
while [ $# -gt 0 ]; do
	case "$1" in
	--no-setup) SETUP=0 ;;
	--no-build) DO_BUILD=0 ;;
	--stop-system-ovs) STOP_OVS=1 ;;
	--build)
		BUILD=$2
		shift
		;;
	--build=*) BUILD=${1#--build=} ;;
	*) ARGS+=("$1") ;;
	esac
	shift
done

log() { echo "bench.sh: $*"; }

if printf '%s\n' "${ARGS[@]+"${ARGS[@]}"}" | grep -qx -- '-h\|--help'; then
	exec python3 scripts/bench/bench.py --help
fi

if [ "$SETUP" = 1 ]; then
	if [ "$(id -u)" != 0 ]; then
		log "must run as root (Debian packages, hugepages, DPDK); or pass --no-setup"
		exit 1
	fi
	scripts/setup.sh bench || exit 1
fi

# A system Open vSwitch (if any) competes for the CPUs; the benchmark runs its
# own ovsdb-server and ovs-vswitchd in a private directory, so it only stops
# the system's when asked: the host's own network may run through it.
system_ovs_pid() {
	local pid
	pid=$(cat /var/run/openvswitch/ovs-vswitchd.pid 2>/dev/null) || return 1
	kill -0 "$pid" 2>/dev/null && echo "$pid"
}
if pid=$(system_ovs_pid); then
	if [ "$STOP_OVS" = 1 ] && [ "$(id -u)" = 0 ]; then
		if command -v systemctl >/dev/null 2>&1 && systemctl is-active -q openvswitch-switch 2>/dev/null; then
			systemctl stop openvswitch-switch &&
				log "--stop-system-ovs: stopped the openvswitch-switch service (start it again with: systemctl start openvswitch-switch)"
		else
			/usr/share/openvswitch/scripts/ovs-ctl stop >/dev/null 2>&1 &&
				log "--stop-system-ovs: stopped the system's ovs-vswitchd (ovs-ctl stop)"
		fi
	else
		log "note: the system's ovs-vswitchd (pid $pid) is running and left alone; it may take CPU from the measurement (--stop-system-ovs stops it)"
	fi
fi

if [ "$DO_BUILD" = 1 ]; then
	if [ ! -f "$BUILD/build.ninja" ]; then
		meson setup "$BUILD" >"$BUILD.setup.log" 2>&1 || {
			tail -20 "$BUILD.setup.log"
			log "meson setup $BUILD failed"
			exit 1
		}
	fi
	ninja -C "$BUILD" >/dev/null || {
		log "build failed: ninja -C $BUILD"
		exit 1
	}
fi

HARNESS=
# Kills what is left of this run: the harness, then any process whose
# command line carries the run's tag (every DPDK process has it in its
# --file-prefix, OVS in its run directory).
cleanup() {
	trap - EXIT INT TERM HUP
	if [ -n "$HARNESS" ] && kill -0 "$HARNESS" 2>/dev/null; then
		kill -TERM "$HARNESS" 2>/dev/null
		for _ in $(seq 50); do
			kill -0 "$HARNESS" 2>/dev/null || break
			sleep 0.2
		done
		kill -KILL "$HARNESS" 2>/dev/null
	fi
	if [ -n "$HARNESS" ]; then
		local tag="bench-$HARNESS" pid
		# [-] and [/]: the patterns do not match grep's own command line
		for pid in $(grep -l -a -e "$tag[-]" -e "/tmp/$tag[/]" /proc/[0-9]*/cmdline 2>/dev/null |
			cut -d/ -f3); do
			[ "$pid" != $$ ] && kill -KILL "$pid" 2>/dev/null && log "killed leftover process $pid"
		done
		rm -rf "/tmp/$tag" /var/run/dpdk/"$tag"-* 2>/dev/null
		rm -f /dev/hugepages/"$tag"-* 2>/dev/null
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

python3 scripts/bench/bench.py --build "$BUILD" "${ARGS[@]+"${ARGS[@]}"}" &
HARNESS=$!
wait "$HARNESS"
rc=$?
# a signal interrupts wait: give the harness the chance to clean up itself
while kill -0 "$HARNESS" 2>/dev/null; do
	wait "$HARNESS"
	rc=$?
done
exit $rc
