#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Where the vswitch worker spends its instructions: vswitch under callgrind
# (collecting inside vs_worker_poll only), fed by the benchmark's generator
# (dpdk-testpmd, two net_virtio_user "VMs" in mac forwarding, tx_first), then
# instructions per forwarded packet of the worker's parts. Instruction
# counts, unlike cycles, do not move with the neighbours on a shared machine.
#
#   scripts/bench/profile-worker.sh [--build DIR] [--size BYTES] [--seconds N]
#                                   [--ports N] [--queues Q] [--one-copy 0|1]
#                                   [--state-dir DIR] [--capture PORT]
#                                   [--ring split|packed | --packed 0|1] [--in-order 0|1]
#                                   [--offloads 0|1] [--switch vswitch|testpmd]
#                                   [--out DIR]
#
# --size: frame size with FCS (64); --seconds: measured part (20);
# --ports: VM ports attached (2); traffic always on the first two, the
# others idle (the scaling case); --queues: queue pairs per VM port (1; the
# generator sends on all of them); --one-copy: vswitch's --one-copy (1, the
# default: frames between the VMs copied straight from buffer to buffer; 0:
# through an mbuf, as before); --state-dir: vswitch's --state-dir (crash-safe
# transactions, doc/vhost_user_port.md; default none); --capture: capture
# port PORT (vm0, vm1, ...) both ways with `vswitchctl capture` while the
# traffic runs (with --ports 3 and PORT vm2: the cost of a capture for the
# ports not captured); --ring: the VMs' ring layout (split; --packed 1 is
# --ring packed, net_virtio_user's packed_vq=1); --in-order:
# the VMs' in_order (1, virtio_user's default; the benchmark's headline is
# 0); --offloads: the VMs negotiate the offloads a Linux guest does, as in
# the benchmark (0); the VMs have mrg_rxbuf on, as in the benchmark.
# --switch testpmd: instead of vswitch, dpdk-testpmd io forwarding with one
# net_vhost port per VM (the benchmark's "testpmd io", librte_vhost), its
# forwarding thread under callgrind while it forwards: instructions per
# forwarded packet of the whole thread, to compare with vswitch's "whole
# worker" line (Debian's DPDK has no symbols: totals only). Needs root,
# hugepages, dpdk-testpmd and valgrind. Takes about a minute with 2 ports;
# each more port adds several seconds of vhost-user set-up under valgrind
# (on a busy machine 32 ports may not come up in the time allowed). Every
# process it starts is stopped on every path.
set -u

BUILD=build
SIZE=64
SECS=20
NP=2
NQ=1
ONECOPY=1
STATE=
CAPTURE=
OUT=
PACKED=0
INORDER=1
OFFLOADS=0
SWITCH=vswitch
while [ $# -gt 0 ]; do
	case $1 in
	--build) BUILD=$2; shift ;;
	--size) SIZE=$2; shift ;;
	--seconds) SECS=$2; shift ;;
	--ports) NP=$2; shift ;;
	--one-copy) ONECOPY=$2; shift ;;
	--state-dir) STATE=$2; shift ;;
	--capture) CAPTURE=$2; shift ;;
	--out) OUT=$2; shift ;;
	--queues) NQ=$2; shift ;;
	--ring) case $2 in split) PACKED=0 ;; packed) PACKED=1 ;; *) PACKED=bad ;; esac; shift ;;
	--packed) PACKED=$2; shift ;;
	--in-order) INORDER=$2; shift ;;
	--offloads) OFFLOADS=$2; shift ;;
	--switch) SWITCH=$2; shift ;;
	-h | --help) sed -n 4,40p "$0"; exit 0 ;;
	*) echo "profile-worker: unknown option $1" >&2; exit 2 ;;
	esac
	shift
done
case $NP in '' | *[!0-9]*) echo "profile-worker: --ports wants a number" >&2; exit 2 ;; esac
case $NQ in 1 | 2 | 4 | 8) ;; *) echo "profile-worker: --queues wants 1, 2, 4 or 8" >&2; exit 2 ;; esac
case $ONECOPY in 0 | 1) ;; *) echo "profile-worker: --one-copy wants 0 or 1" >&2; exit 2 ;; esac
case $PACKED in 0 | 1) ;; *) echo "profile-worker: --ring wants split or packed (--packed 0 or 1)" >&2; exit 2 ;; esac
case $INORDER in 0 | 1) ;; *) echo "profile-worker: --in-order wants 0 or 1" >&2; exit 2 ;; esac
case $OFFLOADS in 0 | 1) ;; *) echo "profile-worker: --offloads wants 0 or 1" >&2; exit 2 ;; esac
case $SWITCH in vswitch | testpmd) ;; *) echo "profile-worker: --switch wants vswitch or testpmd" >&2; exit 2 ;; esac
if [ "$NP" -lt 2 ] || [ "$NP" -gt 32 ]; then
	echo "profile-worker: --ports must be 2..32" >&2
	exit 2
fi
for p in valgrind callgrind_annotate callgrind_control dpdk-testpmd; do
	command -v $p >/dev/null || { echo "profile-worker: $p not found" >&2; exit 77; }
done
VSWITCH=$BUILD/app/vswitch/vswitch
CTL=$BUILD/app/vswitchctl/vswitchctl
if [ "$SWITCH" = vswitch ]; then
	[ -x "$VSWITCH" ] && [ -x "$CTL" ] || { echo "profile-worker: build $BUILD first" >&2; exit 77; }
fi

TMP=$(mktemp -d /tmp/profile-worker.XXXXXX)
OUT=${OUT:-$TMP/out}
mkdir -p "$OUT"
VPID=
GPID=
cleanup() {
	[ -n "$GPID" ] && kill -TERM "$GPID" 2>/dev/null
	[ -n "$VPID" ] && kill -TERM "$VPID" 2>/dev/null
	[ -n "$GPID" ] && wait "$GPID" 2>/dev/null
	[ -n "$VPID" ] && wait "$VPID" 2>/dev/null
	rm -f "$TMP"/*.sock "$TMP"/vswitch.ctl "$TMP"/gen.in "$TMP"/sw.in "$TMP"/capture.pcapng
}
trap cleanup EXIT
trap 'exit 1' INT TERM

PORTS=()
VDEVS=()
PEERS=()
for i in $(seq 0 $((NP - 1))); do
	mac=02:00:00:00:00:$(printf %02x $((i + 1)))
	peer=02:00:00:00:00:$(printf %02x $(((i ^ 1) + 1)))
	PORTS+=(--port "vhost-user,path=$TMP/vm$i.sock,name=vm$i,queues=$NQ")
	VDEVS+=(--vdev "net_virtio_user$i,path=$TMP/vm$i.sock,queues=$NQ,queue_size=256,packed_vq=$PACKED,server=0,mac=$mac,mrg_rxbuf=1,in_order=$INORDER")
	PEERS+=("--eth-peer=$i,$peer")
	SWVDEVS+=(--vdev "net_vhost$i,iface=$TMP/vm$i.sock,queues=$NQ,tso=1")
done
MBUFS=$(((NP * NQ * 512 + 2048 + 4096 * NQ) * 5 / 4))
# As the benchmark's VMs (switches.py offload_args): receive checksum and
# LRO, transmit checksum and TSO, so the offload bits a Linux guest
# negotiates are negotiated (the frames ask for none).
GENOFF=()
[ "$OFFLOADS" = 1 ] && GENOFF=(--rx-offloads=0x$(printf %x $((0x4 | 0x8 | 0x10))) --tx-offloads=0x$(printf %x $((0x4 | 0x8 | 0x20))))

# testpmd io (librte_vhost) in the switch's place: see the header.
if [ "$SWITCH" = testpmd ]; then
	mkfifo "$TMP/sw.in" "$TMP/gen.in"
	taskset -c 1 valgrind --tool=callgrind --fair-sched=yes --instr-atstart=no \
		--separate-threads=yes --callgrind-out-file="$OUT/callgrind.out" \
		dpdk-testpmd --lcores=0@1,1@1 --no-pci --file-prefix "prof-$$-sw" --single-file-segments \
		--socket-limit 1056 "${SWVDEVS[@]}" -- -i --forward-mode=io --nb-cores=1 \
		--rxq=$NQ --txq=$NQ --total-num-mbufs=$((16384 + NP * NQ * 512)) --disable-link-check --record-burst-stats \
		<"$TMP/sw.in" >"$OUT/testpmd-switch.log" 2>&1 &
	VPID=$!
	exec 4>"$TMP/sw.in"
	for _ in $(seq 1 180); do
		grep -q 'testpmd> ' "$OUT/testpmd-switch.log" && break
		kill -0 $VPID 2>/dev/null || { echo "profile-worker: testpmd io exited; $OUT/testpmd-switch.log" >&2; exit 1; }
		sleep 1
	done
	# As the benchmark: forwarding runs before the VMs connect (a queue
	# not ready yet just has no packets).
	echo "start" >&4
	sleep 3
	taskset -c 0 dpdk-testpmd --lcores=0@0,1@0 --no-pci --file-prefix "prof-$$-gen" \
		--single-file-segments --socket-limit $((512 + MBUFS * 2304 / 1048576)) "${VDEVS[@]}" -- \
		-i --forward-mode=mac --nb-cores=1 --rxq=$NQ --txq=$NQ --rxd=256 --txd=256 --burst=32 \
		--total-num-mbufs=$MBUFS --txpkts=$((SIZE - 4)) --disable-link-check "${GENOFF[@]}" "${PEERS[@]}" \
		<"$TMP/gen.in" >"$OUT/generator.log" 2>&1 &
	GPID=$!
	exec 3>"$TMP/gen.in"
	for _ in $(seq 1 180); do
		grep -q 'testpmd> ' "$OUT/generator.log" && break
		kill -0 $GPID 2>/dev/null || { echo "profile-worker: the generator exited; $OUT/generator.log" >&2; exit 1; }
		sleep 1
	done
	sleep 5 # the vhost-user set-up under valgrind
	echo "set portlist 0,1" >&3
	echo "start tx_first 32" >&3
	sleep 3
	# Counted from here to the stop: forwarding only (its statistics
	# cleared here too).
	callgrind_control -i on $VPID >/dev/null
	echo "clear fwd stats all" >&4
	sleep "$SECS"
	echo "stop" >&4
	for _ in $(seq 1 60); do
		grep -q 'Accumulated forward statistics' "$OUT/testpmd-switch.log" && break
		sleep 1
	done
	callgrind_control -i off $VPID >/dev/null
	echo "show port xstats all" >&3
	echo "stop" >&3
	echo "quit" >&3
	exec 3>&-
	wait $GPID
	GPID=
	echo "quit" >&4
	exec 4>&-
	wait $VPID
	VPID=
	python3 - "$OUT" <<'PYEOF'
import glob, re, subprocess, sys
out = sys.argv[1]
log = open(out + "/testpmd-switch.log").read()
# "Accumulated forward statistics for all ports" at stop: TX-packets.
m = re.findall(r"Accumulated forward statistics for all ports.*?TX-packets:\s*(\d+)", log, re.S)
tx = int(m[-1]) if m else 0
best, fname = 0, None
for f in glob.glob(out + "/callgrind.out*"):
    ann = subprocess.run(["callgrind_annotate", "--threshold=100", f], capture_output=True,
                         text=True).stdout
    t = sum(int(x.replace(",", "")) for x in re.findall(r"^\s*([\d,]+)\s+\(100.0%\)\s+PROGRAM TOTALS", ann, re.M))
    if t > best:
        best, fname = t, f
print("profile-worker: testpmd io, %d forwarded" % tx)
if tx == 0:
    print("profile-worker: no packet forwarded; see %s" % out)
    sys.exit(1)
print("forwarding thread (%s): %d instructions, %.0f per forwarded packet" % (fname, best, best / tx))
gen = open(out + "/generator.log").read()
perq = {}
for m in re.finditer(r"^\s*rx_q(\d+)_good_packets:\s*(\d+)", gen, re.M):
    perq[int(m.group(1))] = perq.get(int(m.group(1)), 0) + int(m.group(2))
if perq:
    print("VMs received, by queue: %s" % ", ".join("q%d %d" % (q, perq[q]) for q in sorted(perq)))
PYEOF
	exit $?
fi

# The switch: its worker on CPU 1, as in the benchmark. --fair-sched: the
# busy-polling worker must not starve vswitch's control thread under
# valgrind's one-thread-at-a-time scheduling.
taskset -c 1 valgrind --tool=callgrind --fair-sched=yes --toggle-collect=vs_worker_poll \
	--callgrind-out-file="$OUT/callgrind.out" \
	"$VSWITCH" -l 0,1 --no-pci --file-prefix "prof-$$-sw" --single-file-segments \
	--socket-limit 1056 --log-level '*:notice' -- --ctl "$TMP/vswitch.ctl" --one-copy "$ONECOPY" ${STATE:+--state-dir "$STATE"} "${PORTS[@]}" \
	>"$OUT/vswitch.log" 2>&1 &
VPID=$!
for _ in $(seq 1 120); do
	[ -S "$TMP/vswitch.ctl" ] && break
	kill -0 $VPID 2>/dev/null || { echo "profile-worker: vswitch exited; $OUT/vswitch.log" >&2; exit 1; }
	sleep 1
done
[ -S "$TMP/vswitch.ctl" ] || { echo "profile-worker: vswitch not ready in 120 s" >&2; exit 1; }

mkfifo "$TMP/gen.in"
taskset -c 0 dpdk-testpmd --lcores=0@0,1@0 --no-pci --file-prefix "prof-$$-gen" \
	--single-file-segments --socket-limit $((512 + MBUFS * 2304 / 1048576)) "${VDEVS[@]}" -- \
	-i --forward-mode=mac --nb-cores=1 --rxq=$NQ --txq=$NQ --rxd=256 --txd=256 --burst=32 \
	--total-num-mbufs=$MBUFS --txpkts=$((SIZE - 4)) --disable-link-check "${GENOFF[@]}" "${PEERS[@]}" \
	<"$TMP/gen.in" >"$OUT/generator.log" 2>&1 &
GPID=$!
exec 3>"$TMP/gen.in"

# Start the traffic once the generator's ports are started (its prompt:
# net_virtio_user sets each device up twice, at configure and at start, and
# under valgrind the switch may see the first up long before the second) and
# every port is up on the switch's side (under valgrind the vhost-user
# set-up takes seconds per port). Traffic started between the two set-ups
# was lost (the fixed tx_first set then never circulated).
for _ in $(seq 1 120); do
	grep -q 'testpmd> ' "$OUT/generator.log" && break
	kill -0 $GPID 2>/dev/null || { echo "profile-worker: the generator exited; $OUT/generator.log" >&2; exit 1; }
	sleep 1
done
lcores() { "$CTL" --ctl "$TMP/vswitch.ctl" --json show lcores 2>/dev/null; }
links_up() { "$CTL" --ctl "$TMP/vswitch.ctl" --json show ports 2>/dev/null | grep -o '"state":"up"' | wc -l; }
up=0
for _ in $(seq 1 $((60 + 10 * NP))); do
	up=$(links_up)
	[ "$up" -ge "$NP" ] && break
	kill -0 $GPID 2>/dev/null || { echo "profile-worker: the generator exited; $OUT/generator.log" >&2; exit 1; }
	sleep 1
done
if [ "$up" -lt "$NP" ]; then
	echo "profile-worker: $up of $NP ports up after $((60 + 10 * NP)) s (valgrind is slow; fewer --ports?)" >&2
	exit 1
fi
if [ -n "$CAPTURE" ]; then
	"$CTL" --ctl "$TMP/vswitch.ctl" capture "$CAPTURE" "$TMP/capture.pcapng" dir=both ||
		{ echo "profile-worker: capture $CAPTURE failed" >&2; exit 1; }
fi
echo "set portlist 0,1" >&3
echo "start tx_first 32" >&3
sleep 3
lcores >"$OUT/lcores-start.json"
sleep "$SECS"
lcores >"$OUT/lcores-end.json"
if [ -n "$CAPTURE" ]; then
	"$CTL" --ctl "$TMP/vswitch.ctl" capture stop "$CAPTURE" | tee "$OUT/capture.txt"
fi
echo "show port xstats all" >&3
echo "stop" >&3
echo "quit" >&3
exec 3>&-
wait $GPID
GPID=
kill -TERM $VPID
wait $VPID
VPID=

python3 - "$OUT" "$NP" <<'EOF'
import json, re, subprocess, sys
out, nports = sys.argv[1], int(sys.argv[2])
log = open(out + "/vswitch.log").read()
# The final table vswitch prints at exit: port rows with tx-packets.
tx = sum(int(m.group(1)) for m in re.finditer(
    r"^vm\d+\s+\S+\s+\S+\s+\d+\s+\d+\s+\d+\s+(\d+)", log, re.M))
end = json.load(open(out + "/lcores-end.json"))["lcores"][0]
ann = subprocess.run(["callgrind_annotate", "--inclusive=yes", "--threshold=100",
                      out + "/callgrind.out"], capture_output=True, text=True).stdout
def incl(fn):
    for line in ann.splitlines():
        m = re.match(r"\s*([\d,]+)\s+\([^)]*\)\s+\S*:%s \[" % re.escape(fn), line)
        if m:
            return int(m.group(1).replace(",", ""))
    return 0
total = sum(int(m.group(1).replace(",", "")) for m in
            re.finditer(r"^\s*([\d,]+)\s+\(100.0%\)\s+PROGRAM TOTALS", ann, re.M))
proc, flush, deq = incl("process"), incl("flush"), incl("vu_dequeue")
# One copy: taking the frames (past the empty-ring look, which is polling),
# switching and copying them, returning them.
oc = incl("vu_take_frames") + incl("vs_onecopy_forward")
print("profile-worker: %d ports, %d forwarded, %d poll rounds (%d with packets)"
      % (nports, tx, end["iterations"], end["busy_iterations"]))
if tx == 0:
    print("profile-worker: no packet forwarded; see %s" % out)
    sys.exit(1)
print("instructions per forwarded packet:")
print("  dequeue (vu_dequeue, guest TX ring -> mbufs)    %6.0f" % (deq / tx))
print("  switching (process, without flush)              %6.0f" % ((proc - flush) / tx))
print("  transmit (flush: vu_tx_burst, enqueue + free)   %6.0f" % (flush / tx))
if oc:
    # process and flush run inside it only for frames that took the mbuf path.
    print("  one copy (vu_take_frames, vs_onecopy_forward:   %6.0f" % (oc / tx))
    print("            switch, copy, return; mbuf path inside)")
    proc, deq = 0, 0
print("  busy path total                                 %6.0f" % ((proc + deq + oc) / tx))
txn = incl("vu_txn_commit")
if txn:
    # Crash-safe mode: the journal record and the publication (called from
    # the engine's rx_done or one copy's end of a poll: not all inside the above).
    print("  commits (vu_txn_commit: journal, publish)       %6.0f" % (txn / tx))
print("whole worker (vs_worker_poll, polling included)   %6.0f" % (total / tx))
# Which of the VMs' queues the switch delivered on (the generator's
# counters since its start, all ports summed).
gen = open(out + "/generator.log").read()
perq = {}
for m in re.finditer(r"^\s*rx_q(\d+)_good_packets:\s*(\d+)", gen, re.M):
    perq[int(m.group(1))] = perq.get(int(m.group(1)), 0) + int(m.group(2))
if perq:
    print("VMs received, by queue: %s" % ", ".join("q%d %d" % (q, perq[q]) for q in sorted(perq)))
idle = total - proc - deq - oc
print("polling (rounds, empty ports): %.0f instructions per round, %.1f per port"
      % (idle / end["iterations"], idle / end["iterations"] / nports))
print("callgrind output: %s/callgrind.out (callgrind_annotate --inclusive=yes)" % out)
EOF
