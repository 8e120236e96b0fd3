#!/bin/bash
# Set-up for building and testing vswitch on Debian 12. Idempotent.
#
# As root: installs the Debian packages the build and every test suite need,
# reserves 2 MiB hugepages and mounts hugetlbfs. Prints what it did.
# Environment: VSWITCH_HUGEPAGES (default 2048 pages = 4 GiB).
set -euo pipefail

# Build.
PKGS_BUILD=(gcc meson ninja-build pkg-config dpdk dpdk-dev libdpdk-dev libnuma-dev
	python3-pyelftools)
# Test peers and tools: QEMU guests (vm suite), OVS-DPDK (benchmark),
# clang's libFuzzer and sanitizer runtimes (fuzz suite), iproute2 and
# procps for the harnesses, gnuplot for the benchmark plots.
PKGS_TEST=(qemu-system-x86 busybox-static cpio kmod openvswitch-switch-dpdk iproute2
	procps clang libclang-rt-14-dev gnuplot-nox coreutils util-linux psmisc)
# The vm suite's guest image (scripts/vm/vm.sh): the vDPA simulator modules
# are built against these headers; vm.sh downloads the kernel image and
# linux-source-6.1 of the same version itself (apt-get download, never
# installed) and installs the exact headers version when it differs.
PKGS_TEST+=(make xz-utils linux-headers-cloud-amd64)

HUGEPAGES=${VSWITCH_HUGEPAGES:-2048}

say() { echo "setup: $*"; }

if [ "$(id -u)" != 0 ]; then
	echo "setup: must run as root: it installs Debian packages (${PKGS_BUILD[*]} ${PKGS_TEST[*]})," >&2
	echo "setup: reserves ${HUGEPAGES} 2 MiB hugepages and mounts hugetlbfs on /dev/hugepages." >&2
	echo "setup: run: sudo $0" >&2
	exit 1
fi

missing=()
for p in "${PKGS_BUILD[@]}" "${PKGS_TEST[@]}"; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
		missing+=("$p")
	fi
done
if [ ${#missing[@]} -gt 0 ]; then
	say "installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -q >/dev/null
	apt-get install -y -q --no-install-recommends "${missing[@]}" >/tmp/vswitch-setup-apt.log 2>&1 || {
		tail -20 /tmp/vswitch-setup-apt.log >&2
		echo "setup: apt-get install failed (log: /tmp/vswitch-setup-apt.log)" >&2
		exit 1
	}
else
	say "packages: all ${#PKGS_BUILD[@]} build and ${#PKGS_TEST[@]} test packages present"
fi

# Debian's openvswitch-switch package starts its services; the benchmark
# starts its own ovsdb-server and ovs-vswitchd, so keep the system ones off.
if command -v systemctl >/dev/null 2>&1 && systemctl is-active -q openvswitch-switch 2>/dev/null; then
	systemctl stop openvswitch-switch || true
	say "stopped the system openvswitch-switch service (the benchmark runs its own)"
fi

nr=/proc/sys/vm/nr_hugepages
cur=$(cat $nr)
if [ "$cur" -lt "$HUGEPAGES" ]; then
	echo "$HUGEPAGES" >$nr
	got=$(cat $nr)
	say "hugepages: $cur -> $got x 2 MiB"
	if [ "$got" -lt "$HUGEPAGES" ]; then
		say "warning: only $got of $HUGEPAGES hugepages could be reserved"
	fi
else
	say "hugepages: $cur x 2 MiB reserved (>= $HUGEPAGES)"
fi

if ! grep -q ' hugetlbfs ' /proc/mounts; then
	mkdir -p /dev/hugepages
	mount -t hugetlbfs nodev /dev/hugepages
	say "mounted hugetlbfs on /dev/hugepages"
else
	say "hugetlbfs: mounted"
fi

# DPDK keeps per-process runtime state under /var/run/dpdk/<file-prefix>.
mkdir -p /var/run/dpdk
