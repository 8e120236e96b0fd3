#!/usr/bin/env python3
"""The benchmark: vswitch against dpdk-testpmd (net_vhost, io forwarding)
and OVS-DPDK (NORMAL and port-to-port flows), same topology, same cores.
Called by scripts/bench.sh, which does the set-up and the build first; see
doc/perf.md for what is measured and how.

Exit status: 0 done (smoke: every available switch forwarded), 1 a switch
failed (smoke) or the harness failed, 2 bad arguments, 77 the machine lacks
what is needed (smoke: reported as a skipped test)."""

import argparse
import datetime
import os
import shutil
import signal
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import cpuwatch  # noqa: E402
import mem  # noqa: E402
import procs  # noqa: E402
import report  # noqa: E402
from procs import BenchError  # noqa: E402
from switches import (Ctx, Generator, Unsupported, make_switches, remove_dpdk_runtime,  # noqa: E402
                      vm_mac)

SMOKE_MIN_MPPS = 0.05
ALL_SWITCHES = ["testpmd", "ovs-normal", "ovs-p2p", "vswitch", "vswitch-ethdev"]
SCALING_SWITCHES = ["testpmd", "ovs-normal", "vswitch", "vswitch-ethdev"]


class Interrupted(Exception):
    pass


def on_signal(sig, _frame):
    raise Interrupted("signal %d" % sig)


def int_list(s):
    return [int(x) for x in s.split(",") if x]


def parse_args(argv):
    ap = argparse.ArgumentParser(prog="bench.sh", description=__doc__.split("\n\n")[0])
    ap.add_argument("--smoke", action="store_true",
                    help="a few seconds per switch; checks only that every available switch forwards")
    ap.add_argument("--build", default="build", help="meson build directory (vswitch, vs-latprobe)")
    ap.add_argument("--out", help="output directory (default BUILD/bench/<date-time>)")
    ap.add_argument("--switches", default=",".join(ALL_SWITCHES),
                    help="comma list of: %s (and vswitch-mbuf: vswitch with one copy off; "
                    "vswitch-base: the vswitch built in $VS_BENCH_BASE, for before/after "
                    "in one run)"
                    % ", ".join(ALL_SWITCHES))
    ap.add_argument("--sizes", type=int_list, default=[64, 512, 1518],
                    help="frame sizes in bytes, FCS included (default 64,512,1518)")
    ap.add_argument("--rings", default="split,packed", help="split,packed")
    ap.add_argument("--queues", type=int_list, default=[1, 2], help="queue pairs per port (1,2)")
    ap.add_argument("--runs", type=int, default=2,
                    help="clean windows wanted per case and round (default 2)")
    ap.add_argument("--max-windows", type=int, help="windows at most per case (default 2 x runs)")
    ap.add_argument("--rounds", type=int, default=3,
                    help="repeat the whole matrix and the latency runs, restarting every process "
                    "(default 3; a verdict needs at least 3: it is the median of the rounds' "
                    "ratios, and rounds that disagree by more than 10 %% flag the cell)")
    ap.add_argument("--window", type=float, default=3.0, help="seconds per window (default 3)")
    ap.add_argument("--warmup", type=float, default=2.0, help="seconds before the first window")
    ap.add_argument("--burst", type=int, default=32,
                    help="tx_first bursts of 32 packets per stream that circulate (default 32)")
    ap.add_argument("--ring", type=int, default=256, help="virtqueue size (default 256)")
    ap.add_argument("--gen-cpu", type=int, default=0, help="CPU of the generator (default 0)")
    ap.add_argument("--switch-cpu", type=int, default=1, help="CPU of the switch worker (default 1)")
    ap.add_argument("--scaling-ports", type=int_list, default=[2, 8, 32],
                    help="VM ports attached in the scaling runs (default 2,8,32; empty: none)")
    ap.add_argument("--parts", default="throughput,scaling,latency,regions",
                    help="what to measure (default throughput,scaling,latency,regions; regions: "
                    "lib/virtq's cost of a guest with 2 and 4 memory regions, vswitch-test "
                    "virtq_perf_regions)")
    ap.add_argument("--in-order", type=int, choices=(0, 1), default=0,
                    help="the VMs' in_order in the headline cases (default 0, as QEMU's default "
                    "and so real guests)")
    ap.add_argument("--no-in-order-column", action="store_true",
                    help="leave out the extra column: testpmd and vswitch with the other in_order")
    ap.add_argument("--no-offloads", action="store_true",
                    help="VMs negotiate no offloads (default: CSUM, GUEST_CSUM, TSO4/6 as a Linux "
                    "guest, besides MRG_RXBUF)")
    ap.add_argument("--no-scaling", action="store_true", help="same as leaving scaling out of --parts")
    ap.add_argument("--no-latency", action="store_true", help="same as leaving latency out of --parts")
    ap.add_argument("--latency-rate", type=float, default=10000, help="probes per second")
    ap.add_argument("--latency-duration", type=float, default=5.0, help="seconds measured")
    ap.add_argument("--max-foreign", type=float, default=0.05,
                    help="a window is contended when other processes used more than this "
                    "fraction of either CPU (default 0.05)")
    ap.add_argument("--max-steal", type=float, default=0.02,
                    help="... or the hypervisor stole more than this fraction (default 0.02)")
    ap.add_argument("--update-doc", action="store_true",
                    help="write the results into doc/perf.md and doc/perf/*.png")
    a = ap.parse_args(argv)
    a.switches = [s for s in a.switches.split(",") if s]
    a.parts = [p for p in a.parts.split(",") if p]
    for p in a.parts:
        if p not in ("throughput", "scaling", "latency", "regions"):
            ap.error("--parts: unknown part '%s'" % p)
    if a.no_scaling and "scaling" in a.parts:
        a.parts.remove("scaling")
    if a.no_latency and "latency" in a.parts:
        a.parts.remove("latency")
    a.rings = [r for r in a.rings.split(",") if r]
    for r in a.rings:
        if r not in ("split", "packed"):
            ap.error("--rings: '%s' is neither split nor packed" % r)
    for q in a.queues:
        if q not in (1, 2, 3, 4):
            ap.error("--queues: %d is not in 1..4" % q)
    for s in a.sizes:
        if not 64 <= s <= 1518:
            ap.error("--sizes: %d is not in 64..1518" % s)
    if a.smoke:
        a.sizes, a.rings, a.queues = [64], ["split"], [1]
        a.runs, a.max_windows, a.rounds = 1, 1, 1
        a.window, a.warmup = 2.0, 1.0
        a.parts = [p for p in a.parts if p not in ("scaling", "regions")]
        a.no_in_order_column = True
        a.latency_duration = 1.0
    if a.max_windows is None:
        a.max_windows = 2 * a.runs
    if a.runs < 1 or a.max_windows < a.runs or a.window <= 0 or a.rounds < 1:
        ap.error("need runs >= 1, max-windows >= runs, window > 0, rounds >= 1")
    if a.gen_cpu == a.switch_cpu:
        ap.error("--gen-cpu and --switch-cpu must differ")
    if "scaling" not in a.parts:
        a.scaling_ports = []
    return a


class Bench:
    def __init__(self, args):
        self.a = args
        self.tag = "bench-%d" % os.getpid()
        self.tmp = "/tmp/%s" % self.tag
        stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
        self.out = os.path.abspath(args.out or os.path.join(args.build, "bench", stamp))
        self.logs = os.path.join(self.out, "logs")
        self.ctx = Ctx(self.tag, self.tmp, self.logs, os.path.abspath(args.build), args.gen_cpu,
                       args.switch_cpu, args.ring, args.burst)
        self.windows = []      # every measured window (also the contended ones)
        self.cases = []        # one entry per (round, switch, case)
        self.latency = []
        self.memory = []
        self.regions = []
        self.placements = {}
        self.unavailable = {}  # switch -> reason
        self.failures = []

    def say(self, msg):
        print("bench: " + msg, flush=True)

    def loud(self, msg):
        bar = "!" * 72
        print("%s\nbench: %s\n%s" % (bar, msg, bar), flush=True)

    # --- one throughput case -------------------------------------------------

    def sockets(self, sw, n):
        socks = [os.path.join(self.tmp, "%s-vm%d.sock" % (sw.name, i)) for i in range(n)]
        for s in socks:
            if os.path.exists(s):
                os.unlink(s)
        return socks

    def check_placement(self, sw, gen):
        lines = [procs.placement("generator", gen.proc.pid), procs.placement(sw.label, sw.pid())]
        for l in lines:
            self.say("  placement: " + l)
        self.placements[sw.name] = lines
        gen_cpus = procs.thread_cpus(gen.proc.pid)
        if gen_cpus != {str(self.a.gen_cpu)}:
            raise BenchError("generator threads are not all on CPU %d: %s" % (self.a.gen_cpu, gen_cpus))
        if not sw.worker_on_switch_cpu():
            raise BenchError("%s has no thread pinned to CPU %d" % (sw.label, self.a.switch_cpu))

    def measure_window(self, sw, gen, base):
        ours = [gen.proc.pid] + sw.pids()
        def timed(fn):
            # the counters are read somewhere inside the call: take its middle
            t = time.monotonic()
            r = fn()
            return r, (t + time.monotonic()) / 2

        gen.port_stats()  # testpmd's pps are "since the last show": starts the window
        _, g0 = timed(gen.fwd_reset)
        _, s0 = timed(sw.reset)
        snap0 = cpuwatch.snapshot(ours)
        t0 = time.monotonic()
        time.sleep(self.a.window)
        stats = gen.port_stats()
        seconds = time.monotonic() - t0
        snap1 = cpuwatch.snapshot(ours)
        swc, s1 = timed(sw.counters)
        g, g1 = timed(gen.fwd_stats)
        sw.check_alive()
        active = base["active"]
        per_port = [stats.get(p, {}).get("rx_pps", 0) for p in range(active)]
        pps = sum(per_port)
        hz = (g["mhz"] or 0) * 1e6
        con = cpuwatch.assess(snap0, snap1, [self.a.gen_cpu, self.a.switch_cpu],
                              self.a.max_foreign, self.a.max_steal)
        w = dict(base)
        w.update({
            "seconds": round(seconds, 3),
            "mpps": pps / 1e6,
            "min_port_mpps": min(per_port) / 1e6,
            "gen_busy": (g["cycles"] / (hz * (g1 - g0))) if hz else None,
            # the generator's busy cycles per packet it received (and sent
            # back): what the VMs pay per packet facing this switch
            "gen_cpp": (g["cycles"] / g["cycles_packets"]) if g["cycles_packets"] else None,
            "sw_busy_cycles": swc["busy_cycles"] if swc else None,
            "sw_rx": swc["rx"] if swc else None,
            "sw_tx": swc["tx"] if swc else None,
            "cpp": (swc["busy_cycles"] / swc["tx"]) if swc and swc["tx"] else None,
            "sw_busy": (swc["busy_cycles"] / (hz * (s1 - s0))) if swc and hz else None,
            "foreign_gen_cpu": con["foreign"].get(self.a.gen_cpu),
            "foreign_sw_cpu": con["foreign"].get(self.a.switch_cpu),
            "steal_gen_cpu": con["steal"].get(self.a.gen_cpu),
            "steal_sw_cpu": con["steal"].get(self.a.switch_cpu),
            "contended": con["contended"],
            "reason": con["reason"],
        })
        return w

    def run_case(self, sw, rnd, kind, frame, ring, queues, ports, active, variant=""):
        """@variant "" is the headline shape; "in_order" the VMs with the
        other in_order setting (the extra column)."""
        in_order = bool(self.a.in_order) != (variant == "in_order")
        base = {"round": rnd, "kind": kind, "switch": sw.name, "frame": frame, "ring": ring,
                "queues": queues, "ports": ports, "active": active, "variant": variant}
        case = dict(base, status="ok", error="", windows=[])
        what = "%s %s: %d B, %s ring, %d queue pair%s, %d ports (%d with traffic), in_order %s" % (
            kind, sw.name, frame, ring, queues, "s" if queues > 1 else "", ports, active,
            "on" if in_order else "off")
        self.say(what)
        gen = None
        try:
            if queues > sw.max_queues:
                raise Unsupported("%s supports up to %d queue pairs" % (sw.name, sw.max_queues))
            socks = self.sockets(sw, ports)
            sw.start(socks, queues, ring == "packed")
            gen = Generator(self.ctx, socks, queues, ring == "packed", frame, server=not sw.server,
                            active=active, in_order=in_order, offloads=not self.a.no_offloads)
            gen.start(timeout=30 + 2 * ports)
            case["features"] = " ".join("0x%x" % f for f in sorted(set(gen.features)))
            sw.after_vms()
            self.check_placement(sw, gen)
            gen.start_traffic()
            time.sleep(self.a.warmup)
            kept = 0
            for i in range(self.a.max_windows):
                w = self.measure_window(sw, gen, dict(base, window=i))
                case["windows"].append(w)
                self.windows.append(w)
                cpp = "%.0f" % w["cpp"] if w["cpp"] else "n/a"
                flag = "  CONTENDED: " + w["reason"] if w["contended"] else ""
                self.say("  window %d: %.3f Mpps, %s busy cycles/packet, generator %s busy (%s cycles/packet), "
                         "switch %s busy%s" % (i, w["mpps"], cpp, pct(w["gen_busy"]),
                                               "%.0f" % w["gen_cpp"] if w["gen_cpp"] else "n/a",
                                               pct(w["sw_busy"]), flag))
                if w["mpps"] <= 0:
                    raise BenchError("no packets forwarded in window %d" % i)
                if w["min_port_mpps"] <= 0:
                    # each VM port is the destination of one direction: a
                    # switch forwarding one way only still shows some Mpps
                    raise BenchError("a VM port received nothing in window %d: the switch does "
                                     "not forward towards it" % i)
                kept += 0 if w["contended"] else 1
                if kept >= self.a.runs:
                    break
            if getattr(sw, "cpp_note", ""):
                self.say("  " + sw.cpp_note)
                case["error"] = sw.cpp_note
            usage = mem.usage(sw.pid(), [gen.prefix])
            if usage:
                case["mem"] = usage
        except Unsupported as e:
            case["status"] = "unsupported"
            case["error"] = str(e)
            self.say("  unsupported: %s" % e)
        except BenchError as e:
            case["status"] = "failed"
            case["error"] = str(e)
            self.loud("%s FAILED: %s" % (what, e))
        finally:
            if gen:
                gen.stop()
            sw.stop()
        self.cases.append(case)
        return case

    # --- latency ---------------------------------------------------------------

    def run_latency(self, sw, rnd=0):
        probe = os.path.join(self.ctx.build, "app", "latprobe", "vs-latprobe")
        res = {"switch": sw.name, "status": "ok", "error": "", "round": rnd}
        self.say("latency %s: 64 B probes at %.0f/s for %.1f s" % (sw.name, self.a.latency_rate,
                                                                  self.a.latency_duration))
        if not os.access(probe, os.X_OK):
            res.update(status="failed", error="%s not built" % probe)
            self.loud("latency: %s" % res["error"])
            self.latency.append(res)
            return res
        p = None
        try:
            socks = self.sockets(sw, 2)
            sw.start(socks, 1, False)
            prefix = "%s-probe" % self.tag
            vdevs = []
            for i, s in enumerate(socks):
                vdevs += ["--vdev", "net_virtio_user%d,path=%s,queues=1,queue_size=%d,server=%d,mac=%s"
                          % (i, s, self.a.ring, int(not sw.server), vm_mac(i))]
            warm = 1.0 if not self.a.smoke else 0.5
            argv = ([probe, "-l", str(self.a.gen_cpu), "--no-pci", "--file-prefix", prefix,
                     "--single-file-segments", "--socket-limit", "256", "--log-level", "*:notice"]
                    + vdevs + ["--", "--rate", str(self.a.latency_rate), "--duration",
                               str(self.a.latency_duration), "--warmup", str(warm)])
            p = procs.Proc("latprobe", argv, self.ctx.log("latprobe-" + sw.name),
                           cpus=self.a.gen_cpu).start()
            # The probe prints its settings once both links are up; its
            # warm-up probes then teach the switch the two MACs.
            deadline = time.monotonic() + 40
            while "latprobe: rate=" not in p.output():
                if not p.alive():
                    raise BenchError("probe exited %s; log %s:\n%s" % (p.p.poll(), p.log, p.tail()))
                if time.monotonic() > deadline:
                    raise BenchError("probe links not up after 40 s; log %s:\n%s" % (p.log, p.tail()))
                time.sleep(0.05)
            # Contention is assessed over the measured part, while the probe
            # still runs (its ticks must be counted as ours).
            time.sleep(warm)
            snap0 = cpuwatch.snapshot([p.pid] + sw.pids())
            cs0 = {pid: procs.ctxt_switches(pid) for pid in [p.pid] + sw.pids()}
            t0 = time.monotonic()
            time.sleep(self.a.latency_duration * 0.9)
            snap1 = cpuwatch.snapshot([p.pid] + sw.pids())
            # Where a tail can come from: how often each thread of the
            # switch and of the probe woke up or was preempted meanwhile.
            dt = time.monotonic() - t0
            sched = []
            for pid, before in cs0.items():
                who = "probe" if pid == p.pid else sw.name
                for comm, cpus, wake, pre in procs.ctxt_delta(before, procs.ctxt_switches(pid), dt):
                    if wake + pre >= 0.5:
                        sched.append("%s/%s (CPU %s): %.0f wake-ups/s, %.0f preemptions/s"
                                     % (who, comm, cpus, wake, pre))
            res["sched"] = "; ".join(sched)
            st = p.wait(self.a.latency_duration + 30)
            if st is None:
                raise BenchError("probe still running %.0f s after its end; log %s"
                                 % (30, p.log))
            line = [l for l in p.output().splitlines() if l.startswith("latprobe: sent=")]
            if not line:
                raise BenchError("probe exited %s without a result; log %s:\n%s" % (st, p.log, p.tail()))
            kv = dict(x.split("=", 1) for x in line[-1].split()[1:])
            for k, v in kv.items():
                res[k] = float(v)
            con = cpuwatch.assess(snap0, snap1, [self.a.gen_cpu, self.a.switch_cpu],
                                  self.a.max_foreign, self.a.max_steal)
            res["contended"] = con["contended"]
            res["reason"] = con["reason"]
            if st != 0 or not res.get("received"):
                raise BenchError("no probe came back (probe exit %s): %s" % (st, line[-1]))
            self.say("  p50 %.1f us, p99 %.1f us, p99.9 %.1f us (%d probes, %d lost)%s"
                     % (res["p50_ns"] / 1e3, res["p99_ns"] / 1e3, res["p999_ns"] / 1e3,
                        res["received"], res["lost"],
                        "  CONTENDED: " + con["reason"] if con["contended"] else ""))
            self.say("  threads: " + (res["sched"] or "none woke or was preempted"))
        except Unsupported as e:
            res.update(status="unsupported", error=str(e))
            self.say("  unsupported: %s" % e)
        except BenchError as e:
            res.update(status="failed", error=str(e))
            self.loud("latency %s FAILED: %s" % (sw.name, e))
        finally:
            if p:
                p.stop(timeout=3)
                remove_dpdk_runtime("%s-probe" % self.tag)
            sw.stop()
        self.latency.append(res)
        return res

    def run_throughput_round(self, rnd, live):
        column = [sw for sw in live if sw.name in ("testpmd", "vswitch")]
        for frame in self.a.sizes:
            for ring in self.a.rings:
                for q in self.a.queues:
                    # switches interleaved, so all see the same machine state
                    for sw in list(live):
                        c = self.run_case(sw, rnd, "throughput", frame, ring, q, 2, 2)
                        if (sw.name.startswith("vswitch") and c["status"] == "unsupported"
                                and q == 1 and "rejected the command line" in c["error"]):
                            self.unavailable[sw.name] = "NOT AVAILABLE YET: " + c["error"]
                            self.loud("%s: NOT AVAILABLE YET: %s" % (sw.name, c["error"]))
                            live.remove(sw)
                    if not self.a.no_in_order_column:
                        for sw in column:
                            if sw in live:
                                self.run_case(sw, rnd, "throughput", frame, ring, q, 2, 2,
                                              variant="in_order")

    def run_regions(self):
        """lib/virtq's perf test of a guest with 1, 2 and 4 memory regions
        (the benchmark's generator, testpmd, cannot be given two: see
        doc/perf.md). Its own runs interleave the three layouts."""
        exe = os.path.join(self.ctx.build, "app", "test", "vswitch-test")
        self.say("regions: %s virtq_perf_regions" % exe)
        if not os.access(exe, os.X_OK):
            self.loud("regions: %s not built" % exe)
            return
        log = self.ctx.log("virtq-perf-regions")
        try:
            r = subprocess.run(["taskset", "-c", str(self.a.switch_cpu), exe, "virtq_perf_regions"],
                               capture_output=True, text=True, timeout=600)
            out = r.stdout + r.stderr
        except (OSError, subprocess.TimeoutExpired) as e:
            out, r = "failed: %s" % e, None
        with open(log, "w") as f:
            f.write(out)
        self.regions = report.parse_regions(out)
        for x in self.regions:
            self.say("  %s %s: 2 regions %.2fx, 4 regions %.2fx one region" % (
                x["what"], x["mode"], x["r2"], x["r4"]))
        if not self.regions:
            self.loud("regions: no result; log %s" % log)

    # --- the whole run ---------------------------------------------------------

    def preflight(self):
        if os.geteuid() != 0:
            return "not root: DPDK needs hugepages and /var/run/dpdk (run scripts/bench.sh as root)"
        try:
            with open("/proc/meminfo") as f:
                free = int([l.split()[1] for l in f if l.startswith("HugePages_Free:")][0])
        except (OSError, IndexError, ValueError):
            free = 0
        if free < 1024:
            return "only %d free 2 MiB hugepages (need 1024): run scripts/setup.sh test (or bench)" % free
        if not any(" hugetlbfs " in l for l in open("/proc/mounts")):
            return "hugetlbfs is not mounted: run scripts/setup.sh test"
        if os.cpu_count() is not None and max(self.a.gen_cpu, self.a.switch_cpu) >= os.cpu_count():
            return "CPU %d does not exist" % max(self.a.gen_cpu, self.a.switch_cpu)
        return None

    def run(self):
        why = self.preflight()
        if why:
            self.loud("cannot run: " + why)
            return 77
        os.makedirs(self.logs, exist_ok=True)
        os.makedirs(self.tmp, exist_ok=True)
        switches = make_switches(self.ctx, self.a.switches)
        ok, why = make_switches(self.ctx, ["testpmd"])[0].available()
        if not ok:
            self.loud("cannot run: %s (testpmd is also the generator)" % why)
            return 77
        self.say("run %s: generator on CPU %d, switch worker on CPU %d; output in %s"
                 % (self.tag, self.a.gen_cpu, self.a.switch_cpu, self.out))
        self.say("each case: %.0f s warm-up, then %.0f s windows until %d uncontended (at most %d)"
                 % (self.a.warmup, self.a.window, self.a.runs, self.a.max_windows))
        live = []
        for sw in switches:
            ok, why = sw.available()
            if ok:
                live.append(sw)
            else:
                self.unavailable[sw.name] = why
                self.loud("%s: %s" % (sw.label, why))
        started = time.monotonic()
        if "regions" in self.a.parts:
            self.run_regions()
        # Rounds repeat everything that carries a verdict, in turn: each
        # round's ratios come from the same minutes of the machine's life.
        for rnd in range(self.a.rounds):
            if "throughput" in self.a.parts:
                self.run_throughput_round(rnd, live)
            if "latency" in self.a.parts:
                for sw in live:
                    self.run_latency(sw, rnd)
        for n in self.a.scaling_ports:
            for active in sorted({2, n}):
                for sw in live:
                    if sw.name in SCALING_SWITCHES:
                        c = self.run_case(sw, 0, "scaling", 64, "split", 1, n, active)
                        if c.get("mem") and active == n:
                            self.memory.append(dict(switch=sw.name, ports=n, **c["mem"]))
        self.say("measured in %.0f s" % (time.monotonic() - started))
        return self.finish(live)

    def finish(self, live):
        env = report.environment(self)
        summary = report.summarize(self.cases)
        files = report.write_all(self.out, env, self.windows, summary, self.latency, self.memory,
                                 self.unavailable, self.a, cases=self.cases, regions=self.regions)
        for f in files:
            self.say("wrote %s" % f)
        print(open(os.path.join(self.out, "report.md")).read(), flush=True)
        if self.a.update_doc:
            report.update_doc(self.out, os.path.join(os.path.dirname(__file__), "..", ".."))
            self.say("updated doc/perf.md and doc/perf/")
        rc = 0
        if self.a.smoke:
            rc = self.smoke_verdict(live, summary)
        else:
            bad = [c for c in self.cases if c["status"] == "failed"]
            bad += [l for l in self.latency if l["status"] == "failed"]
            if bad:
                self.loud("%d case(s) failed: see above and %s" % (len(bad), self.logs))
                rc = 1
        if not self.a.out:  # build/bench/latest -> the newest default run
            latest = os.path.join(os.path.dirname(self.out), "latest")
            try:
                if os.path.islink(latest):
                    os.unlink(latest)
                os.symlink(os.path.basename(self.out), latest)
            except OSError:
                pass
        return rc

    def smoke_verdict(self, live, summary):
        bad = []
        for sw in live:
            rows = [s for s in summary if s["switch"] == sw.name and s["kind"] == "throughput"]
            if not rows:
                bad.append("%s: no result" % sw.name)
                continue
            r = rows[0]
            if r["status"] == "unsupported" and sw.name.startswith("vswitch"):
                continue
            if r["status"] != "ok" or not r["mpps_median"] or r["mpps_median"] < SMOKE_MIN_MPPS:
                bad.append("%s: %s %s" % (sw.name, r["status"], r.get("error", "")[:300]))
            elif not r["cpp_median"]:
                msg = "%s: forwarded but its busy cycles were not read" % sw.name
                if sw.name.startswith("vswitch"):  # its contract, reported, not a smoke failure
                    self.loud(msg)
                else:
                    bad.append(msg)
        for l in self.latency:
            if l["status"] == "failed":
                bad.append("latency %s: %s" % (l["switch"], l["error"][:300]))
        for name, why in self.unavailable.items():
            self.loud("smoke: %s not measured: %s" % (name, why))
        if bad:
            self.loud("SMOKE FAILED: " + " | ".join(bad))
            return 1
        self.say("smoke passed: %s forwarded traffic" % ", ".join(s.name for s in live))
        return 0


def pct(x):
    return "%.0f %%" % (100 * x) if x is not None else "n/a"


def main(argv):
    args = parse_args(argv)
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, on_signal)
    # The harness and the tools it runs (ovs-appctl, vswitchctl) stay off
    # the switch CPU.
    os.sched_setaffinity(0, {args.gen_cpu})
    b = Bench(args)
    rc = 1
    try:
        rc = b.run()
    except Interrupted as e:
        b.loud("interrupted (%s): stopping everything" % e)
        rc = 130
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        procs.cleanup_all()
        for role in ("gen", "sw", "ovs", "probe"):
            remove_dpdk_runtime("%s-%s" % (b.tag, role))
        shutil.rmtree(b.tmp, ignore_errors=True)
    return rc


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
