"""The generator and the switches under test, one class each, all driven the
same way by bench.py:

    sw.start(ports, queues, packed)   the switch, with one vhost-user socket per VM port
    gen.start()                       the "VMs": testpmd with net_virtio_user ports
    sw.after_vms()                    e.g. start forwarding, wait for links
    sw.reset(); ...; sw.counters()    busy cycles and packets over a window
    sw.stop(); gen.stop()

Every DPDK process gets its own --file-prefix "<run tag>-<role>", bounded
hugepage memory (--socket-limit) and no PCI."""

import glob
import json
import os
import re
import shutil
import subprocess
import time

from procs import BenchError, Proc, TestpmdProc, parse_fwd_stats, thread_cpus

TESTPMD = shutil.which("dpdk-testpmd") or "/usr/bin/dpdk-testpmd"
OVS_VSWITCHD_DPDK = "/usr/lib/openvswitch-switch-dpdk/ovs-vswitchd-dpdk"
OVS_SCHEMA = "/usr/share/openvswitch/vswitch.ovsschema"
VIRTIO_NET_F_CSUM = 0
VIRTIO_NET_F_GUEST_CSUM = 1
VIRTIO_NET_F_GUEST_TSO4 = 7
VIRTIO_NET_F_HOST_TSO4 = 11
VIRTIO_NET_F_MRG_RXBUF = 15
VIRTIO_NET_F_MQ = 22
VIRTIO_F_RING_PACKED = 34
VIRTIO_F_IN_ORDER = 35
# DPDK 22.11 RTE_ETH_{RX,TX}_OFFLOAD_* bits
RX_OFFLOAD_UDP_CKSUM = 1 << 2
RX_OFFLOAD_TCP_CKSUM = 1 << 3
RX_OFFLOAD_TCP_LRO = 1 << 4
TX_OFFLOAD_UDP_CKSUM = 1 << 2
TX_OFFLOAD_TCP_CKSUM = 1 << 3
TX_OFFLOAD_TCP_TSO = 1 << 5
# what the generator's ports must have negotiated with offloads on
OFFLOAD_FEATURES = [VIRTIO_NET_F_CSUM, VIRTIO_NET_F_GUEST_CSUM, VIRTIO_NET_F_GUEST_TSO4,
                    VIRTIO_NET_F_HOST_TSO4, VIRTIO_NET_F_MRG_RXBUF]


class Unsupported(BenchError):
    """The switch does not support this case (reported, not a failure)."""


def vm_mac(i):
    return "02:00:00:00:%02x:%02x" % ((i + 1) >> 8, (i + 1) & 0xff)


def eal_common(ctx, role, mem_mb, log_level="*:notice"):
    prefix = "%s-%s" % (ctx.tag, role)
    return prefix, ["--no-pci", "--file-prefix", prefix, "--single-file-segments",
                    "--socket-limit", str(mem_mb), "--log-level", log_level]


def remove_dpdk_runtime(prefix):
    """Removes what a killed DPDK process leaves: its runtime directory and
    hugepage files (only files of this run's prefix)."""
    shutil.rmtree("/var/run/dpdk/%s" % prefix, ignore_errors=True)
    for f in glob.glob("/dev/hugepages/%smap_*" % prefix):
        try:
            os.unlink(f)
        except OSError:
            pass


class Ctx:
    """What every participant needs: run tag, directories, CPUs, tools."""

    def __init__(self, tag, tmp, logs, build, gen_cpu, sw_cpu, ring, burst):
        self.tag = tag
        self.tmp = tmp
        self.logs = logs
        self.build = build
        self.gen_cpu = gen_cpu
        self.sw_cpu = sw_cpu
        self.ring = ring
        self.burst = burst
        self.seq = 0

    def log(self, what):
        self.seq += 1
        return os.path.join(self.logs, "%03d-%s.log" % (self.seq, what))


class Generator:
    """testpmd with one net_virtio_user port per VM, mac forwarding: port 2k
    and 2k+1 address each other (--eth-peer), so each packet crosses the
    switch from one VM to the other and back through the generator."""

    def __init__(self, ctx, sockets, queues, packed, frame, server, active=None, in_order=False,
                 offloads=True):
        self.ctx = ctx
        self.in_order = in_order
        self.offloads = offloads
        self.sockets = sockets
        self.queues = queues
        self.packed = packed
        self.frame = frame
        self.server = server
        self.active = active or len(sockets)
        self.proc = None
        self.prefix = None

    def argv(self):
        n = len(self.sockets)
        streams = self.active * self.queues
        mbufs = n * self.queues * 2 * self.ctx.ring + streams * self.ctx.burst * 32 + 4096
        mbufs = int(mbufs * 1.25)
        mem = 512 + mbufs * 2304 // (1 << 20)
        # virtio init at debug level prints each port's negotiated features
        # (a "*:notice" next to it would silence that)
        self.prefix, eal = eal_common(self.ctx, "gen", mem, "pmd.net.virtio.init:debug")
        vdevs = []
        for i, s in enumerate(self.sockets):
            # mrg_rxbuf on, as a Linux guest; in_order as asked (QEMU's
            # default, and so a real guest's, is off; virtio_user's is on)
            vdevs += ["--vdev", "net_virtio_user%d,path=%s,queues=%d,queue_size=%d,packed_vq=%d,"
                      "server=%d,mac=%s,mrg_rxbuf=1,in_order=%d"
                      % (i, s, self.queues, self.ctx.ring, int(self.packed), int(self.server),
                         vm_mac(i), int(self.in_order))]
        peers = ["--eth-peer=%d,%s" % (i, vm_mac(i ^ 1)) for i in range(n)]
        return ([TESTPMD, "--lcores=0@%d,1@%d" % (self.ctx.gen_cpu, self.ctx.gen_cpu)] + eal + vdevs
                + ["--", "-i", "--forward-mode=mac", "--nb-cores=1", "--rxq=%d" % self.queues,
                   "--txq=%d" % self.queues, "--rxd=%d" % self.ctx.ring, "--txd=%d" % self.ctx.ring,
                   "--burst=32", "--total-num-mbufs=%d" % mbufs, "--txpkts=%d" % (self.frame - 4),
                   "--record-core-cycles", "--disable-link-check"] + self.offload_args() + peers)

    def offload_args(self):
        """The offloads a Linux guest's virtio-net negotiates: the virtio
        PMD asks for GUEST_CSUM and GUEST_TSO4/6 when receive checksum and
        LRO are enabled, for CSUM and HOST_TSO4/6 when transmit checksum
        and TSO are (the frames themselves carry no offload request)."""
        if not self.offloads:
            return []
        rx = RX_OFFLOAD_UDP_CKSUM | RX_OFFLOAD_TCP_CKSUM | RX_OFFLOAD_TCP_LRO
        tx = TX_OFFLOAD_UDP_CKSUM | TX_OFFLOAD_TCP_CKSUM | TX_OFFLOAD_TCP_TSO
        return ["--rx-offloads=0x%x" % rx, "--tx-offloads=0x%x" % tx]

    def start(self, timeout):
        self.proc = TestpmdProc("generator", self.argv(), self.ctx.log("generator"),
                                cpus=self.ctx.gen_cpu, stdin=True).start()
        self.proc.ready(timeout)
        macs = set(re.findall(r"^Port (\d+): ([0-9A-Fa-f:]{17})", self.proc.output(), re.M))
        if len(macs) != len(self.sockets):
            raise BenchError("generator set up %d ports, expected %d; log %s:\n%s"
                             % (len(macs), len(self.sockets), self.proc.log, self.proc.tail()))
        self.check_features()
        if self.active < len(self.sockets):
            self.proc.cmd("set portlist %s" % ",".join(str(i) for i in range(self.active)))

    def check_features(self):
        """The switch may refuse what the VM offers (packed ring, MQ): then
        the case would silently measure something else. Refuse it here."""
        feats = [int(f, 16) for f in re.findall(r"features after negotiate = ([0-9a-fA-F]+)",
                                                  self.proc.output())]
        if len(feats) < len(self.sockets):
            raise BenchError("generator log shows %d negotiated feature sets for %d ports"
                             % (len(feats), len(self.sockets)))
        self.features = feats[-len(self.sockets):]
        for i, f in enumerate(self.features):
            if bool(f & (1 << VIRTIO_F_RING_PACKED)) != self.packed:
                raise Unsupported("port %d: the switch negotiated a %s ring (features 0x%x)"
                                  % (i, "packed" if f & (1 << VIRTIO_F_RING_PACKED) else "split", f))
            if self.queues > 1 and not f & (1 << VIRTIO_NET_F_MQ):
                raise Unsupported("port %d: the switch did not negotiate multiqueue (features 0x%x)"
                                  % (i, f))
            if bool(f & (1 << VIRTIO_F_IN_ORDER)) != self.in_order:
                raise Unsupported("port %d: in_order %s asked, %s negotiated (features 0x%x)"
                                  % (i, "on" if self.in_order else "off",
                                     "on" if f & (1 << VIRTIO_F_IN_ORDER) else "off", f))
            missing = [b for b in OFFLOAD_FEATURES if self.offloads and not f & (1 << b)]
            if missing:
                raise Unsupported("port %d: offload feature bits %s not negotiated (features 0x%x)"
                                  % (i, ",".join(map(str, missing)), f))

    def start_traffic(self):
        out = self.proc.cmd("start tx_first %d" % self.ctx.burst)
        if "forwards packets on" not in out:
            raise BenchError("generator did not start forwarding:\n%s" % out[-800:])

    def port_stats(self):
        from procs import parse_port_stats
        return parse_port_stats(self.proc.cmd("show port stats all"))

    def fwd_reset(self):
        self.proc.cmd("clear fwd stats all")

    def fwd_stats(self):
        return parse_fwd_stats(self.proc.cmd("show fwd stats all"))

    def stop(self):
        if self.proc:
            self.proc.stop()
            remove_dpdk_runtime(self.prefix)


class Switch:
    """Base: name, what it is, whether it owns the sockets (server)."""

    name = "?"
    label = "?"
    server = True
    max_queues = 8

    def __init__(self, ctx):
        self.ctx = ctx
        self.procs = []

    def available(self):
        return True, ""

    def pid(self):
        """The forwarding process (for memory and placement)."""
        return self.procs[0].pid if self.procs else None

    def pids(self):
        return [p.pid for p in self.procs if p.alive()]


    def check_alive(self):
        for p in self.procs:
            if not p.alive():
                raise BenchError("%s exited (status %s); log %s:\n%s"
                                 % (p.name, p.p.poll(), p.log, p.tail()))

    def worker_on_switch_cpu(self):
        return str(self.ctx.sw_cpu) in thread_cpus(self.pid())


class TestpmdSwitch(Switch):
    """dpdk-testpmd, one net_vhost port per VM, io forwarding (no switching
    logic): port 2k <-> 2k+1. Busy cycles from --record-core-cycles."""

    name = "testpmd"
    label = "testpmd io (net_vhost)"

    def available(self):
        if not os.access(TESTPMD, os.X_OK):
            return False, "dpdk-testpmd not found"
        return True, ""

    def start(self, sockets, queues, packed):
        del packed  # the VM offers the ring layout; net_vhost accepts both
        n = len(sockets)
        mbufs = 16384 + n * queues * 512
        self.prefix, eal = eal_common(self.ctx, "sw", 512 + mbufs * 2304 // (1 << 20))
        vdevs = []
        for i, s in enumerate(sockets):
            # tso=1: net_vhost offers HOST_TSO4/6 only when asked (the
            # generator negotiates the offloads a Linux guest does)
            vdevs += ["--vdev", "net_vhost%d,iface=%s,queues=%d,tso=1" % (i, s, queues)]
        argv = ([TESTPMD, "--lcores=0@%d,1@%d" % (self.ctx.gen_cpu, self.ctx.sw_cpu)] + eal + vdevs
                + ["--", "-i", "--forward-mode=io", "--nb-cores=1", "--rxq=%d" % queues,
                   "--txq=%d" % queues, "--total-num-mbufs=%d" % mbufs, "--record-core-cycles",
                   "--disable-link-check"])
        # Started under taskset -c <gen cpu>: DPDK puts its control threads
        # on the process's CPUs outside the lcore list; the worker lcore is
        # pinned to the switch CPU by --lcores.
        self.proc = TestpmdProc("switch testpmd", argv, self.ctx.log("testpmd-switch"),
                                cpus=self.ctx.gen_cpu, stdin=True).start()
        self.procs = [self.proc]
        self.proc.ready(30)
        # Forwarding runs before the VMs connect: a net_vhost queue that is
        # not ready yet just returns no packets.
        out = self.proc.cmd("start")
        if "forwards packets on" not in out:
            raise BenchError("switch testpmd did not start forwarding:\n%s" % out[-800:])

    def after_vms(self):
        pass

    def reset(self):
        self.proc.cmd("clear fwd stats all")

    def counters(self):
        d = parse_fwd_stats(self.proc.cmd("show fwd stats all"))
        return {"busy_cycles": d["cycles"], "rx": d["rx_packets"], "tx": d["tx_packets"]}


    def stop(self):
        if self.procs:
            self.proc.stop()
            remove_dpdk_runtime(self.prefix)
            self.procs = []


class OvsSwitch(Switch):
    """Open vSwitch with DPDK (Debian's openvswitch-switch-dpdk), started
    here without systemd: its own ovsdb-server on a fresh database in a
    temporary directory, ovs-vswitchd with dpdk-init, one PMD thread on the
    switch CPU, a netdev bridge with one dpdkvhostuserclient port per VM
    (OVS connects; the VMs are the socket servers). mode 'normal' keeps the
    bridge's NORMAL (MAC learning) flow; 'p2p' replaces it with
    in_port=2k+1 -> output:2k+2 and back."""

    server = False

    def __init__(self, ctx, mode):
        super().__init__(ctx)
        self.mode = mode
        self.name = "ovs-" + mode
        self.label = "OVS-DPDK " + ("NORMAL" if mode == "normal" else "port-to-port flows")
        self.dir = None
        self.env = None

    def available(self):
        for tool in ("ovsdb-tool", "ovsdb-server", "ovs-vsctl", "ovs-appctl", "ovs-ofctl"):
            if not shutil.which(tool):
                return False, "%s not found (Debian package openvswitch-switch)" % tool
        if not os.access(OVS_VSWITCHD_DPDK, os.X_OK):
            return False, "%s not found (Debian package openvswitch-switch-dpdk)" % OVS_VSWITCHD_DPDK
        return True, ""

    def _run(self, *args, timeout=30):
        r = subprocess.run(list(args), env=self.env, capture_output=True, text=True, timeout=timeout)
        if r.returncode != 0:
            raise BenchError("%s failed (%d): %s" % (" ".join(args), r.returncode,
                                                     (r.stderr or r.stdout).strip()[-600:]))
        return r.stdout

    def vsctl(self, *args, timeout=30):
        return self._run("ovs-vsctl", "--timeout=%d" % timeout, *args, timeout=timeout + 5)

    def appctl(self, *args):
        return self._run("ovs-appctl", "-t", os.path.join(self.dir, "ovs-vswitchd.ctl"), *args)

    def start(self, sockets, queues, packed):
        del queues, packed  # both come from the VM side for vhost-user client ports
        self.dir = os.path.join(self.ctx.tmp, "ovs")
        shutil.rmtree(self.dir, ignore_errors=True)
        os.makedirs(self.dir)
        d = self.dir
        self.env = dict(os.environ, OVS_RUNDIR=d, OVS_LOGDIR=d, OVS_DBDIR=d, OVS_SYSCONFDIR=d)
        self._run("ovsdb-tool", "create", os.path.join(d, "conf.db"), OVS_SCHEMA)
        db = Proc("ovsdb-server", ["ovsdb-server", os.path.join(d, "conf.db"),
                                   "--remote=punix:%s/db.sock" % d, "--pidfile=%s/ovsdb-server.pid" % d,
                                   "--unixctl=%s/ovsdb-server.ctl" % d,
                                   "--log-file=%s/ovsdb-server.log" % d],
                  self.ctx.log("ovsdb-server"), cpus=self.ctx.gen_cpu, env=self.env).start()
        self.procs = [db]
        deadline = time.monotonic() + 10
        while not os.path.exists(os.path.join(d, "db.sock")):
            self.check_alive()
            if time.monotonic() > deadline:
                raise BenchError("ovsdb-server did not create its socket; log %s" % db.log)
            time.sleep(0.05)
        n = len(sockets)
        self.prefix = "%s-ovs" % self.ctx.tag
        self.vsctl("--no-wait", "init")
        self.vsctl("--no-wait", "set", "Open_vSwitch", ".",
                   "other_config:dpdk-init=true",
                   "other_config:dpdk-lcore-mask=0x%x" % (1 << self.ctx.gen_cpu),
                   "other_config:pmd-cpu-mask=0x%x" % (1 << self.ctx.sw_cpu),
                   "other_config:dpdk-socket-limit=%d" % (1024 + 16 * n),
                   # checksum and TSO offloads towards the guests, as the
                   # generator negotiates them (a Linux guest's shape)
                   "other_config:userspace-tso-enable=true",
                   "other_config:dpdk-extra=--file-prefix=%s --no-pci --single-file-segments"
                   % self.prefix)
        # ovs-vswitchd's own threads (main, handlers, revalidators, vhost
        # events) share the generator's CPU; only the PMD thread moves to the
        # switch CPU (pmd-cpu-mask).
        vs = Proc("ovs-vswitchd", [OVS_VSWITCHD_DPDK, "unix:%s/db.sock" % d,
                                   "--pidfile=%s/ovs-vswitchd.pid" % d,
                                   "--unixctl=%s/ovs-vswitchd.ctl" % d,
                                   "--log-file=%s/ovs-vswitchd.log" % d],
                  self.ctx.log("ovs-vswitchd"), cpus=self.ctx.gen_cpu, env=self.env).start()
        self.procs = [vs, db]
        deadline = time.monotonic() + 60
        while self.vsctl("--no-wait", "get", "Open_vSwitch", ".", "dpdk_initialized").strip() != "true":
            self.check_alive()
            if time.monotonic() > deadline:
                raise BenchError("ovs-vswitchd: DPDK not initialised after 60 s; log %s/ovs-vswitchd.log" % d)
            time.sleep(0.2)
        args = ["add-br", "br0", "--", "set", "bridge", "br0", "datapath_type=netdev"]
        for i, s in enumerate(sockets):
            args += ["--", "add-port", "br0", "vm%d" % i, "--", "set", "Interface", "vm%d" % i,
                     "type=dpdkvhostuserclient", "options:vhost-server-path=%s" % s,
                     "ofport_request=%d" % (i + 1)]
        self.vsctl(*args, timeout=60)
        if self.mode == "p2p":
            self._run("ovs-ofctl", "del-flows", "br0")
            flows = []
            for i in range(0, n - 1, 2):
                flows.append("in_port=%d,actions=output:%d" % (i + 1, i + 2))
                flows.append("in_port=%d,actions=output:%d" % (i + 2, i + 1))
            flow_file = os.path.join(d, "flows.txt")
            with open(flow_file, "w") as f:
                f.write("\n".join(flows) + "\n")
            self._run("ovs-ofctl", "add-flows", "br0", flow_file)
        self.nports = n

    def after_vms(self):
        deadline = time.monotonic() + 30 + self.nports
        while True:
            out = self.vsctl("--no-wait", "--columns=name,link_state", "--format=csv",
                             "--no-headings", "list", "Interface")
            up = sum(1 for l in out.splitlines() if l.startswith("vm") and l.endswith(",up"))
            if up == self.nports:
                return
            self.check_alive()
            if time.monotonic() > deadline:
                raise BenchError("OVS: %d of %d vhost-user ports up after %.0f s; log %s/ovs-vswitchd.log"
                                 % (up, self.nports, 30 + self.nports, self.dir))
            time.sleep(0.2)

    def reset(self):
        self.appctl("dpif-netdev/pmd-stats-clear")

    def counters(self):
        return parse_ovs_pmd(self.appctl("dpif-netdev/pmd-stats-show"),
                             self.appctl("dpif-netdev/pmd-perf-show"))


    def stop(self):
        if not self.procs:
            return
        if self.procs[0].alive():
            try:
                self.appctl("exit", "--cleanup")
            except (BenchError, subprocess.TimeoutExpired):
                pass
        for p in self.procs:
            p.stop(timeout=5)
        remove_dpdk_runtime(self.prefix)
        self.procs = []


class VswitchSwitch(Switch):
    """This project's vswitch, L2 learning (its default mode), one
    vhost-user server port per VM, worker lcore on the switch CPU. Busy
    cycles from 'vswitchctl --json show lcores'."""

    name = "vswitch"
    label = "vswitch (L2 learning)"
    extra_opts = []

    def __init__(self, ctx):
        super().__init__(ctx)
        self.bin = os.path.join(ctx.build, "app", "vswitch", "vswitch")
        self.ctl_bin = os.path.join(ctx.build, "app", "vswitchctl", "vswitchctl")
        self.base = None
        self.cpp_note = ""

    def available(self):
        if not os.access(self.bin, os.X_OK):
            return False, ("NOT AVAILABLE YET: %s is not built (app/vswitch has not landed "
                           "in this tree)" % self.bin)
        return True, ""

    def port_spec(self, i, sock, queues):
        spec = "vhost-user,path=%s,name=vm%d" % (sock, i)
        if queues > 1:
            spec += ",queues=%d" % queues
        return spec

    def start(self, sockets, queues, packed):
        del packed
        n = len(sockets)
        self.prefix, eal = eal_common(self.ctx, "sw", 1024 + 16 * n)
        self.ctl = os.path.join(self.ctx.tmp, "vswitch.ctl")
        ports = []
        for i, s in enumerate(sockets):
            ports += ["--port", self.port_spec(i, s, queues)]
        argv = ([self.bin, "-l", "%d,%d" % (self.ctx.gen_cpu, self.ctx.sw_cpu)] + eal
                + ["--", "--ctl", self.ctl] + self.extra_opts + ports)
        self.proc = Proc("vswitch", argv, self.ctx.log("vswitch"), cpus=self.ctx.gen_cpu).start()
        self.procs = [self.proc]
        deadline = time.monotonic() + 30
        while not all(os.path.exists(s) for s in sockets + [self.ctl]):
            if not self.proc.alive():
                st = self.proc.p.poll()
                first = [l for l in self.proc.output().splitlines()[1:] if l.strip()][:1]
                if st == 2:
                    raise Unsupported("vswitch rejected the command line (exit 2): %s"
                                      % (first[0] if first else "no message"))
                self.check_alive()
            if time.monotonic() > deadline:
                raise BenchError("vswitch: sockets not created after 30 s; log %s:\n%s"
                                 % (self.proc.log, self.proc.tail()))
            time.sleep(0.05)

    def after_vms(self):
        pass

    def ctl_json(self, *cmd):
        r = subprocess.run([self.ctl_bin, "--ctl", self.ctl, "--json"] + list(cmd),
                           capture_output=True, text=True, timeout=10)
        if r.returncode != 0:
            raise BenchError("vswitchctl --json %s failed (%d): %s"
                             % (" ".join(cmd), r.returncode, (r.stderr or r.stdout).strip()[-400:]))
        return r.stdout

    def lcores(self):
        tot = parse_vswitch_lcores(self.ctl_json("show", "lcores"))
        if tot["tx"] is None:
            # no per-lcore transmit count: the ports' transmitted packets
            # are the packets the (single) worker forwarded
            tot["tx"] = parse_vswitch_ports_tx(self.ctl_json("show", "ports"))
        return tot

    def reset(self):
        try:
            self.base = self.lcores()
            self.cpp_note = ""
        except (BenchError, OSError, ValueError, subprocess.TimeoutExpired) as e:
            self.base = None
            self.cpp_note = "no cycles: %s" % e

    def counters(self):
        if self.base is None:
            return None
        now = self.lcores()
        return {k: now[k] - self.base[k] for k in ("busy_cycles", "rx", "tx")}


    def stop(self):
        if self.procs:
            self.proc.stop(timeout=5)
            remove_dpdk_runtime(self.prefix)
            self.procs = []


def parse_ovs_pmd(stats, perf):
    """OVS PMD threads -> summed {busy_cycles, rx, tx}. Busy cycles are the
    'processing cycles' of dpif-netdev/pmd-stats-show (cycles of iterations
    that received packets); packets are 'Rx packets' and 'Tx packets' of
    dpif-netdev/pmd-perf-show, whose own 'cycles/pkt' is busy cycles / Rx.
    The 'main thread' section (non-PMD) is not a PMD and is left out."""
    busy = rx = tx = 0
    for block in re.split(r"^pmd thread ", stats, flags=re.M)[1:]:
        block = re.split(r"^main thread", block, flags=re.M)[0]
        m = re.search(r"processing cycles:\s*(\d+)", block)
        busy += int(m.group(1)) if m else 0
    for block in re.split(r"^pmd thread ", perf, flags=re.M)[1:]:
        m = re.search(r"Rx packets:\s*(\d+)", block)
        rx += int(m.group(1)) if m else 0
        m = re.search(r"Tx packets:\s*(\d+)", block)
        tx += int(m.group(1)) if m else 0
    return {"busy_cycles": busy, "rx": rx, "tx": tx}


def parse_vswitch_lcores(text):
    """'vswitchctl --json show lcores' -> summed {busy_cycles, rx, tx}.
    Accepts a list of lcore objects or {"lcores": [...]}; each worker lcore
    carries cumulative 'busy_cycles' and 'rx_packets'/'tx_packets'."""
    doc = json.loads(text)
    lcores = doc.get("lcores") if isinstance(doc, dict) else doc
    if not isinstance(lcores, list):
        raise ValueError("no 'lcores' list in vswitchctl output")
    tot = {"busy_cycles": 0, "rx": 0, "tx": 0}
    seen = False
    has_tx = True
    for lc in lcores:
        if not isinstance(lc, dict) or "busy_cycles" not in lc:
            continue
        seen = True
        tot["busy_cycles"] += int(lc["busy_cycles"])
        tot["rx"] += int(lc.get("rx_packets", lc.get("packets", 0)))
        if "tx_packets" in lc or "packets" in lc:
            tot["tx"] += int(lc.get("tx_packets", lc.get("packets", 0)))
        else:
            has_tx = False
    if not seen:
        raise ValueError("no lcore with 'busy_cycles' in vswitchctl output")
    if not has_tx:
        tot["tx"] = None
    return tot


def parse_vswitch_ports_tx(text):
    """'vswitchctl --json show ports' -> packets transmitted by all ports.
    Accepts a list of port objects or {"ports": [...]}."""
    doc = json.loads(text)
    ports = doc.get("ports") if isinstance(doc, dict) else doc
    if not isinstance(ports, list) or not all(isinstance(p, dict) and "tx_packets" in p
                                              for p in ports):
        raise ValueError("no 'ports' list with 'tx_packets' in vswitchctl output")
    return sum(int(p["tx_packets"]) for p in ports)


class VswitchEthdevSwitch(VswitchSwitch):
    """vswitch's engine with DPDK's net_vhost as the VM ports (its 'ethdev'
    port type): the same librte_vhost as the testpmd reference, so the
    difference is the switching engine. Not the vswitch case itself, which
    uses vswitch's own vhost-user port type."""

    name = "vswitch-ethdev"
    label = "vswitch engine, net_vhost ports"

    def port_spec(self, i, sock, queues):
        # the devargs are quoted: their own keys (queues) would otherwise be
        # taken for the ethdev port type's
        return ('ethdev,devargs="net_vhost%d,iface=%s,queues=%d,tso=1",queues=%d,name=vm%d'
                % (i, sock, queues, queues, i))


class VswitchMbufSwitch(VswitchSwitch):
    """vswitch with one copy between VMs off (--one-copy 0): every frame
    through an mbuf, as before one copy; the same-run reference for what
    one copy gains."""

    name = "vswitch-mbuf"
    label = "vswitch, one copy off"
    extra_opts = ["--one-copy", "0"]


class VswitchBaseSwitch(VswitchSwitch):
    """vswitch as built in another build directory (VS_BENCH_BASE=DIR, e.g.
    a build of main before a change): the same-run reference for a change's
    effect, measured in the same rounds as the tree's own vswitch."""

    name = "vswitch-base"
    label = "vswitch, base build"

    def __init__(self, ctx):
        super().__init__(ctx)
        self.base_dir = os.environ.get("VS_BENCH_BASE", "")
        if self.base_dir:
            self.bin = os.path.join(self.base_dir, "app", "vswitch", "vswitch")
            self.ctl_bin = os.path.join(self.base_dir, "app", "vswitchctl", "vswitchctl")

    def available(self):
        if not self.base_dir:
            return False, "NOT AVAILABLE: set VS_BENCH_BASE to the base build directory"
        return super().available()


def make_switches(ctx, names):
    table = {
        "testpmd": lambda: TestpmdSwitch(ctx),
        "ovs-normal": lambda: OvsSwitch(ctx, "normal"),
        "ovs-p2p": lambda: OvsSwitch(ctx, "p2p"),
        "vswitch": lambda: VswitchSwitch(ctx),
        "vswitch-ethdev": lambda: VswitchEthdevSwitch(ctx),
        "vswitch-mbuf": lambda: VswitchMbufSwitch(ctx),
        "vswitch-base": lambda: VswitchBaseSwitch(ctx),
    }
    out = []
    for n in names:
        if n not in table:
            raise SystemExit("bench: unknown switch '%s' (known: %s)" % (n, ", ".join(table)))
        out.append(table[n]())
    return out
