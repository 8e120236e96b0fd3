#!/bin/bash
# Regenerates the committed seed corpora of the fuzz targets (run by hand
# after changing an input format; needs a clang tree with -Dfuzz, and
# dpdk-testpmd for the recorded sessions):
#
#   test/fuzz/record-seeds.sh [BUILD]      (default build-asan)
#
# fuzz_virtq_dev:           lib/virtq's driver against its device (fuzz-seed-virtq)
# fuzz_vhost_user_backend:  real sessions recorded by fuzz-record-vhost-user:
#                           dpdk-testpmd's net_virtio_user (split, packed, two
#                           queue pairs; txonly, so its TX rings are full of
#                           real packets and its RX rings of real buffers),
#                           QEMU with a Linux guest (scripts/vm/vm.sh), and
#                           lib/vhost's own front-end (memory slots, inflight,
#                           log, config, status, reset)
# fuzz_packet_path:         fuzz-seed-packet (frames and virtio-net headers)
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD=${1:-build-asan}
ninja -C "$BUILD" test/fuzz/fuzz-seed-virtq test/fuzz/fuzz-record-vhost-user \
	test/fuzz/fuzz-seed-packet >/dev/null
C=test/fuzz/corpus
tmp=$(mktemp -d /tmp/fuzz-record.XXXXXX)
tp=
cleanup() {
	[ -n "$tp" ] && kill "$tp" 2>/dev/null || true
	rm -rf "$tmp" /var/run/dpdk/fuzz-record*
}
trap cleanup EXIT

mkdir -p "$C/virtq_dev" "$C/vhost_user_backend" "$C/packet_path"
"$BUILD/test/fuzz/fuzz-seed-virtq" "$C/virtq_dev"
"$BUILD/test/fuzz/fuzz-seed-packet" "$C/packet_path"
"$BUILD/test/fuzz/fuzz-record-vhost-user" --self "$C/vhost_user_backend"

# One testpmd session per configuration: it connects as the front-end,
# starts forwarding (txonly) for 3 s and quits at stdin EOF.
record_testpmd() { # name vdev-args testpmd-args...
	local name=$1 vdev=$2
	shift 2
	local sock=$tmp/$name.sock
	"$BUILD/test/fuzz/fuzz-record-vhost-user" "$sock" "$C/vhost_user_backend/$name" 30 &
	local rec=$!
	for _ in $(seq 50); do [ -S "$sock" ] && break; sleep 0.1; done
	(sleep 3; echo) | timeout 60 nice dpdk-testpmd -l 0,1 --no-pci --no-huge -m 256 \
		--file-prefix "fuzz-record-$name" --log-level=lib.eal:error \
		--vdev "net_virtio_user0,path=$sock,$vdev" -- \
		--forward-mode=txonly --total-num-mbufs=2048 --txd=64 --rxd=64 -a "$@" \
		>"$tmp/$name.testpmd.log" 2>&1 &
	tp=$!
	wait "$tp" || { tail -20 "$tmp/$name.testpmd.log"; echo "testpmd ($name) failed"; }
	tp=
	wait "$rec"
}
if command -v dpdk-testpmd >/dev/null; then
	record_testpmd testpmd-split queues=1,queue_size=64
	record_testpmd testpmd-packed queues=1,queue_size=64,packed_vq=1
	record_testpmd testpmd-split-2q queues=2,queue_size=64,mrg_rxbuf=0 --rxq=2 --txq=2
else
	echo "dpdk-testpmd is missing: no recorded testpmd sessions"
fi

# QEMU with a guest whose virtio-net driver brings eth0 up and pings: QEMU's
# own handshake (status, ring enables, its memory file), the guest's rings.
if command -v qemu-system-x86_64 >/dev/null; then
	sock=$tmp/qemu.sock
	"$BUILD/test/fuzz/fuzz-record-vhost-user" "$sock" "$C/vhost_user_backend/qemu-guest" 200 &
	rec=$!
	for _ in $(seq 50); do [ -S "$sock" ] && break; sleep 0.1; done
	scripts/vm/vm.sh run -m virtio_pci -m virtio_net -s -t 180 -n fuzz-record \
		-q -chardev -q "socket,id=c0,path=$sock" -q -netdev -q vhost-user,id=n0,chardev=c0 \
		-q -device -q "virtio-net-pci,netdev=n0,mac=52:54:00:00:00:02,vectors=0,romfile=" \
		-- 'ip link set eth0 up; ip addr add 10.0.0.1/24 dev eth0; sleep 1;
		    ping -c 3 -W 1 10.0.0.2; true' >"$tmp/qemu.log" 2>&1 ||
		{ tail -20 "$tmp/qemu.log"; echo "the QEMU session failed"; }
	wait "$rec" || true
else
	echo "qemu-system-x86_64 is missing: no recorded QEMU session"
fi
