#!/bin/bash
# Set-up for building, running, testing or benchmarking vswitch on Debian 12.
# Idempotent; prints what it did.
#
#   scripts/setup.sh [run|test|bench]     (default: run)
#
# As root: installs the Debian packages of the profile (each profile includes
# the ones before it), reserves 2 MiB hugepages unless at least that many
# are reserved already (never fewer), and mounts hugetlbfs.
#
#   run    build and start the switch: a compiler, meson, ninja, DPDK's
#          development package, libnuma, jansson, pyelftools; 256 hugepages
#          (512 MiB)
#   test   every test suite: adds dpdk-dev (testpmd, dpdk-dumpcap,
#          dpdk-telemetry.py), QEMU, clang and its fuzzer runtime, the guest
#          image's pieces (busybox, kernel headers, ...), tcpdump, and
#          dpkg-dev, debhelper, lintian (the package suite); 1024
#          hugepages (2 GiB: the benchmark's smoke test in the interop suite
#          needs that much free)
#   bench  the benchmark: adds Open vSwitch with DPDK and gnuplot; 2048
#          hugepages (4 GiB)
#
# It never stops, starts or reconfigures a system service: packages that
# come with one (bench: openvswitch-switch) are installed without starting
# it (a policy-rc.d for the install, as Debian allows). The benchmark runs its
# own Open vSwitch in a private directory and leaves a system one alone
# unless asked (scripts/bench.sh --stop-system-ovs).
#
# Environment: VSWITCH_HUGEPAGES overrides the profile's number of pages.
set -euo pipefail

PROFILE=${1:-run}

PKGS_RUN=(gcc libc6-dev meson ninja-build pkg-config libdpdk-dev libnuma-dev libjansson-dev
	python3-pyelftools)
# dpdk-dev: dpdk-testpmd (the real peer of the interop suite), dpdk-dumpcap,
# dpdk-telemetry.py. QEMU guests (vm suite); clang's libFuzzer and sanitizer
# runtimes (fuzz suite, ASan build); iproute2 and procps for the harnesses;
# tcpdump reads the captures. The vm suite's guest image (scripts/vm/vm.sh):
# the vDPA simulator modules are built against these headers; vm.sh
# downloads the kernel image and linux-source-6.1 of the same version itself
# (apt-get download, never installed) and installs the exact headers version
# when it differs.
PKGS_TEST=(dpdk-dev qemu-system-x86 busybox-static cpio kmod iproute2 procps clang
	libclang-rt-14-dev coreutils util-linux psmisc tcpdump make xz-utils
	linux-headers-cloud-amd64)
# The package suite (scripts/package-test.sh): the Debian packages built
# from debian/ and checked by lintian.
PKGS_TEST+=(dpkg-dev debhelper lintian)
PKGS_BENCH=(openvswitch-switch-dpdk gnuplot-nox)

case "$PROFILE" in
run)
	PKGS=("${PKGS_RUN[@]}")
	PAGES=256
	;;
test)
	PKGS=("${PKGS_RUN[@]}" "${PKGS_TEST[@]}")
	PAGES=1024
	;;
bench)
	PKGS=("${PKGS_RUN[@]}" "${PKGS_TEST[@]}" "${PKGS_BENCH[@]}")
	PAGES=2048
	;;
-h | --help)
	sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'
	exit 0
	;;
*)
	echo "setup: unknown profile '$PROFILE' (run, test or bench)" >&2
	exit 2
	;;
esac
HUGEPAGES=${VSWITCH_HUGEPAGES:-$PAGES}

say() { echo "setup ($PROFILE): $*"; }

if [ "$(id -u)" != 0 ]; then
	echo "setup: must run as root: it installs Debian packages (${PKGS[*]})," >&2
	echo "setup: reserves ${HUGEPAGES} 2 MiB hugepages and mounts hugetlbfs on /dev/hugepages." >&2
	echo "setup: run: sudo $0 $PROFILE" >&2
	exit 1
fi

# A policy-rc.d that refuses every service start, for the install only
# (Debian's interface for "install, do not start"); an existing one is kept.
POLICY=/usr/sbin/policy-rc.d
OWN_POLICY=0
no_service_starts() {
	[ -e "$POLICY" ] && return 0
	printf '#!/bin/sh\n# scripts/setup.sh: no service starts while it installs\nexit 101\n' >"$POLICY"
	chmod 755 "$POLICY"
	OWN_POLICY=1
}
restore_policy() {
	if [ "$OWN_POLICY" = 1 ]; then
		rm -f "$POLICY"
	fi
}
trap restore_policy EXIT

missing=()
for p in "${PKGS[@]}"; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
		missing+=("$p")
	fi
done
if [ ${#missing[@]} -gt 0 ]; then
	say "installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	no_service_starts
	apt-get update -q >/dev/null
	apt-get install -y -q --no-install-recommends "${missing[@]}" >/tmp/vswitch-setup-apt.log 2>&1 || {
		tail -20 /tmp/vswitch-setup-apt.log >&2
		echo "setup: apt-get install failed (log: /tmp/vswitch-setup-apt.log)" >&2
		exit 1
	}
	restore_policy
	OWN_POLICY=0
else
	say "packages: all ${#PKGS[@]} present"
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
