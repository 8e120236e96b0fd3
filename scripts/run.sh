#!/bin/bash
# The README's run command: set-up (run profile), build, then start vswitch
# with two vhost-user server sockets and the management socket under a
# runtime directory. Prints the QEMU command line that attaches a VM to each
# socket; QEMU reconnects by itself when vswitch restarts.
#
#   scripts/run.sh [EAL args] [-- vswitch options]
#
# Without EAL arguments the cores come from what this process may run on:
# the main lcore (control thread) on the first CPU, one worker on the last
# one (both on CPU 0 on a one-CPU machine). Options after "--" go to vswitch;
# any --port among them replaces the two default ports.
#
# Environment: BUILD (build directory, default build), VSWITCH_RUNDIR
# (default /run/vswitch), VSWITCH_SETUP=0 skips scripts/setup.sh.
set -euo pipefail

cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
RUNDIR=${VSWITCH_RUNDIR:-/run/vswitch}

log() { echo "run.sh: $*"; }

EAL=()
OPTS=()
while [ $# -gt 0 ]; do
	if [ "$1" = -- ]; then
		shift
		OPTS=("$@")
		break
	fi
	EAL+=("$1")
	shift
done

if [ "${VSWITCH_SETUP:-1}" = 0 ]; then
	:
elif [ "$(id -u)" = 0 ]; then
	scripts/setup.sh run
else
	log "not root: skipping scripts/setup.sh (packages and hugepages must already be there)"
fi

if [ ! -f "$BUILD/build.ninja" ]; then
	meson setup "$BUILD" || {
		log "meson setup $BUILD failed (above)"
		exit 1
	}
fi
# The two programs only (the tests are scripts/test.sh's business).
ninja -C "$BUILD" app/vswitch/vswitch app/vswitchctl/vswitchctl || {
	log "the build failed (above)"
	exit 1
}
VSWITCH=$BUILD/app/vswitch/vswitch
CTL=$BUILD/app/vswitchctl/vswitchctl

# The CPUs this process may use, as a list ("0-3,6" -> 0 1 2 3 6).
allowed_cpus() {
	local list part
	list=$(awk '/^Cpus_allowed_list:/ {print $2}' /proc/self/status)
	for part in ${list//,/ }; do
		if [[ $part == *-* ]]; then
			seq "${part%-*}" "${part#*-}"
		else
			echo "$part"
		fi
	done
}

if [ ${#EAL[@]} -eq 0 ]; then
	mapfile -t cpus < <(allowed_cpus)
	first=${cpus[0]:-0}
	last=${cpus[${#cpus[@]} - 1]:-0}
	if [ "$first" = "$last" ]; then
		# One CPU: the worker shares it with the control thread (slow, but it runs).
		EAL=(--lcores "0@$first,1@$first")
		log "one CPU ($first): the worker shares it with the control thread"
	else
		EAL=(-l "$first,$last")
	fi
	EAL+=(--no-pci --file-prefix vswitch --single-file-segments)
	log "EAL: ${EAL[*]} (${#cpus[@]} CPU(s) available; pass EAL arguments to choose)"
fi

mkdir -p "$RUNDIR"
if "$CTL" --ctl "$RUNDIR/vswitch.ctl" show ports >/dev/null 2>&1; then
	log "a vswitch is already running on $RUNDIR/vswitch.ctl" >&2
	exit 1
fi
ports=()
if ! printf '%s\n' "${OPTS[@]+"${OPTS[@]}"}" | grep -q -- '^--port'; then
	# A socket left by a killed switch would make the new one's bind fail.
	rm -f "$RUNDIR/vm1.sock" "$RUNDIR/vm2.sock"
	ports=(--port "vhost-user,path=$RUNDIR/vm1.sock,name=vm1"
		--port "vhost-user,path=$RUNDIR/vm2.sock,name=vm2")
	n=1
	for vm in vm1 vm2; do
		cat <<MSG
To attach a VM to $vm (QEMU reconnects when vswitch restarts):
  qemu-system-x86_64 -m 1G -object memory-backend-memfd,id=mem,size=1G,share=on \\
    -numa node,memdev=mem -chardev socket,id=chr0,path=$RUNDIR/$vm.sock,reconnect=1 \\
    -netdev vhost-user,id=net0,chardev=chr0 \\
    -device virtio-net-pci,netdev=net0,mac=52:54:00:00:00:0$n ...
MSG
		n=$((n + 1))
	done
fi
log "manage it with: $CTL --ctl $RUNDIR/vswitch.ctl show ports"
exec "$VSWITCH" "${EAL[@]}" -- --ctl "$RUNDIR/vswitch.ctl" --stats 10 \
	"${ports[@]+"${ports[@]}"}" "${OPTS[@]+"${OPTS[@]}"}"
