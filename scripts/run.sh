#!/bin/bash
# The README's run command: set-up, build, then start vswitch on a working
# default without any NIC: two vhost-user server sockets under a runtime
# directory, the management socket beside them. Prints the QEMU command line
# that attaches a VM to each socket. Extra arguments are passed to vswitch
# after "--" (they replace the default ports when any --port is given).
set -euo pipefail

cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
RUNDIR=${VSWITCH_RUNDIR:-/run/vswitch}

if [ "$(id -u)" = 0 ]; then
	scripts/setup.sh
else
	echo "run.sh: not root: skipping scripts/setup.sh (packages and hugepages must already be there)"
fi
[ -f "$BUILD/build.ninja" ] || meson setup "$BUILD" >/dev/null
ninja -C "$BUILD" >/dev/null

VSWITCH=$BUILD/app/vswitch/vswitch
if [ ! -x "$VSWITCH" ]; then
	echo "run.sh: vswitch is not built yet (app/vswitch does not exist in this tree);" >&2
	echo "run.sh: the libraries and tests are: run scripts/test.sh" >&2
	exit 1
fi

mkdir -p "$RUNDIR"
# VM ports: vswitch's own vhost-user driver when this build has it, else
# DPDK's vhost PMD through the ethdev port type (the same sockets for QEMU).
if grep -q '^  vhost-user,' <<<"$("$VSWITCH" --help)"; then
	vm_port() { echo "vhost-user,path=$RUNDIR/$1.sock,name=$1"; }
else
	echo "run.sh: this build has no vhost-user port type yet: VM ports use DPDK's net_vhost (ethdev port type)"
	vm_port() { echo "ethdev,devargs=net_vhost$2,iface=$RUNDIR/$1.sock,name=$1"; }
fi
# A running switch keeps its sockets; stale ones (a killed switch) would make
# the new one's sockets fail.
if "$BUILD/app/vswitchctl/vswitchctl" --ctl "$RUNDIR/vswitch.ctl" show ports >/dev/null 2>&1; then
	echo "run.sh: a vswitch is already running on $RUNDIR/vswitch.ctl" >&2
	exit 1
fi
rm -f "$RUNDIR/vm1.sock" "$RUNDIR/vm2.sock"
ports=()
if ! printf '%s\n' "$@" | grep -q -- '--port'; then
	ports=(--port "$(vm_port vm1 0)" --port "$(vm_port vm2 1)")
fi

for vm in vm1 vm2; do
	cat <<MSG
To attach a VM to $vm:
  qemu-system-x86_64 -m 1G -object memory-backend-memfd,id=mem,size=1G,share=on \\
    -numa node,memdev=mem -chardev socket,id=chr0,path=$RUNDIR/$vm.sock \\
    -netdev vhost-user,id=net0,chardev=chr0 -device virtio-net-pci,netdev=net0 ...
MSG
done
echo "Manage it with: $BUILD/app/vswitchctl/vswitchctl --ctl $RUNDIR/vswitch.ctl show ports"
exec "$VSWITCH" -l 0,1 --no-pci --file-prefix vswitch --single-file-segments -- \
	--ctl "$RUNDIR/vswitch.ctl" --stats 10 "${ports[@]}" "$@"
