"""Processes the benchmark starts: pinned with taskset, output logged to a
file, and killed on every path (cleanup_all(), plus PR_SET_PDEATHSIG so a
child dies even when the harness itself is SIGKILLed).

TestpmdProc drives an interactive dpdk-testpmd through its stdin: each
command is followed by an unknown command whose "Command not found" reply
marks the end of the command's output, so reads never race the output."""

import ctypes
import os
import re
import shutil
import signal
import subprocess
import time

_libc = ctypes.CDLL(None, use_errno=True)
_PR_SET_PDEATHSIG = 1
_started = []


class BenchError(Exception):
    """A case could not be measured; the message says why."""


def _child_setup():
    # Runs in the child between fork and exec: the child gets SIGKILL when
    # the harness thread that started it exits, however it exits; and it
    # leads its own process group, so that stop() also reaches anything it
    # starts itself.
    _libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    os.setpgid(0, 0)


class Proc:
    """One started program with stdout+stderr in a log file."""

    def __init__(self, name, argv, log, cpus=None, env=None, stdin=False, linebuf=False):
        self.name = name
        # stdbuf (an LD_PRELOAD) line-buffers a program that block-buffers a
        # redirected stdout, like testpmd; it breaks ASan builds, so only
        # where the output is read while the program runs.
        self.linebuf = linebuf
        self.argv = [str(a) for a in argv]
        self.log = log
        self.cpus = cpus
        self.env = env
        self.want_stdin = stdin
        self.p = None

    def start(self):
        cmd = list(self.argv)
        if self.linebuf and shutil.which("stdbuf"):
            cmd = ["stdbuf", "-oL", "-eL"] + cmd
        if self.cpus is not None:
            cmd = ["taskset", "-c", str(self.cpus)] + cmd
        env = dict(os.environ)
        if self.env:
            env.update(self.env)
        with open(self.log, "ab") as logf:
            logf.write(("# %s\n" % " ".join(cmd)).encode())
            logf.flush()
            self.p = subprocess.Popen(
                cmd,
                stdin=subprocess.PIPE if self.want_stdin else subprocess.DEVNULL,
                stdout=logf,
                stderr=subprocess.STDOUT,
                env=env,
                preexec_fn=_child_setup,
            )
        _started.append(self)
        return self

    @property
    def pid(self):
        return self.p.pid if self.p else None

    def alive(self):
        return self.p is not None and self.p.poll() is None

    def write(self, text):
        if not self.alive() or self.p.stdin is None:
            raise BenchError("%s exited (status %s); log %s:\n%s"
                             % (self.name, self.p.poll() if self.p else None, self.log,
                                self.tail()))
        try:
            self.p.stdin.write(text.encode())
            self.p.stdin.flush()
        except BrokenPipeError as e:
            raise BenchError("%s closed its stdin: %s\n%s" % (self.name, e, self.tail())) from e

    def size(self):
        try:
            return os.path.getsize(self.log)
        except OSError:
            return 0

    def output(self, start=0):
        try:
            with open(self.log, "rb") as f:
                f.seek(start)
                return f.read().decode(errors="replace")
        except OSError:
            return ""

    def tail(self, lines=15):
        return "\n".join("    | " + l for l in self.output().splitlines()[-lines:])

    def wait_output(self, pattern, timeout, start=0, count=1):
        """Waits until regex @pattern occurs @count times in the output
        written after byte @start; returns that output."""
        rx = re.compile(pattern)
        deadline = time.monotonic() + timeout
        while True:
            text = self.output(start)
            if len(rx.findall(text)) >= count:
                return text
            if not self.alive():
                raise BenchError("%s exited (status %s) before printing /%s/; log %s:\n%s"
                                 % (self.name, self.p.poll(), pattern, self.log, self.tail()))
            if time.monotonic() > deadline:
                raise BenchError("%s: no /%s/ within %.0f s; log %s:\n%s"
                                 % (self.name, pattern, timeout, self.log, self.tail()))
            time.sleep(0.05)

    def wait(self, timeout):
        """Waits for exit; returns the status or None on timeout."""
        try:
            return self.p.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None

    def _signal_group(self, sig):
        try:
            os.killpg(self.p.pid, sig)
        except (ProcessLookupError, PermissionError):
            pass

    def stop(self, quit_text=None, timeout=5.0):
        """Asks the program to quit (writes @quit_text, closes stdin), then
        SIGTERM, then SIGKILL. Returns the exit status."""
        if self.p is None:
            return None
        if self.p.poll() is None and self.p.stdin is not None:
            try:
                if quit_text:
                    self.p.stdin.write(quit_text.encode())
                self.p.stdin.close()
            except (BrokenPipeError, OSError, ValueError):
                pass
        for sig, wait_s in ((None, timeout), (signal.SIGTERM, 3.0), (signal.SIGKILL, 5.0)):
            if sig is not None and self.p.poll() is None:
                self._signal_group(sig)
            try:
                self.p.wait(timeout=wait_s)
                break
            except subprocess.TimeoutExpired:
                continue
        # whatever the program started and left behind in its group
        self._signal_group(signal.SIGKILL)
        if self.p.stdin is not None:
            try:
                self.p.stdin.close()
            except (BrokenPipeError, OSError, ValueError):
                pass
        return self.p.poll()


class TestpmdProc(Proc):
    """An interactive dpdk-testpmd (-i) driven through its stdin."""

    def __init__(self, name, argv, log, cpus=None, env=None, stdin=True):
        super().__init__(name, argv, log, cpus, env, stdin, linebuf=True)

    SENTINEL = "bench_sync"
    REPLY = "Command not found"

    def ready(self, timeout):
        """Waits until the command line accepts input (EAL and ports set up)."""
        start = self.size()
        self.write(self.SENTINEL + "\n")
        self.wait_output(self.REPLY, timeout, start)

    def cmd(self, line, timeout=15.0):
        """Runs one command; returns its output."""
        start = self.size()
        self.write(line + "\n" + self.SENTINEL + "\n")
        text = self.wait_output(self.REPLY, timeout, start)
        return text[: text.find(self.REPLY)]

    def stop(self, quit_text="quit\n", timeout=10.0):
        return super().stop(quit_text, timeout)


def parse_port_stats(text):
    """'show port stats all' -> {port: {rx_pps, tx_pps, rx_packets, ...}}"""
    ports = {}
    for block in re.split(r"#+ NIC statistics for port ", text)[1:]:
        m = re.match(r"(\d+)", block)
        if not m:
            continue
        d = {}
        for key, rx in (("rx_packets", r"RX-packets:\s*(\d+)"), ("tx_packets", r"TX-packets:\s*(\d+)"),
                        ("rx_missed", r"RX-missed:\s*(\d+)"), ("rx_nombuf", r"RX-nombuf:\s*(\d+)"),
                        ("rx_pps", r"Rx-pps:\s*(\d+)"), ("tx_pps", r"Tx-pps:\s*(\d+)")):
            v = re.search(rx, block)
            d[key] = int(v.group(1)) if v else 0
        ports[int(m.group(1))] = d
    return ports


def parse_fwd_stats(text):
    """'show fwd stats all' (with --record-core-cycles) -> accumulated
    {rx_packets, tx_packets, tx_dropped, cycles, cycles_packets}. testpmd
    22.11 adds a stream's cycles only for polls that received packets."""
    acc = text
    i = text.find("Accumulated forward statistics")
    if i >= 0:
        acc = text[i:]
    d = {}
    for key, rx in (("rx_packets", r"RX-packets:\s*(\d+)"), ("tx_packets", r"TX-packets:\s*(\d+)"),
                    ("tx_dropped", r"TX-dropped:\s*(\d+)")):
        v = re.search(rx, acc)
        d[key] = int(v.group(1)) if v else 0
    v = re.search(r"CPU cycles/packet=[\d.]+ \((?:total|busy) cycles=(\d+) / total \S+ packets=(\d+)\)"
                  r" at (\d+) MHz", acc)
    d["cycles"] = int(v.group(1)) if v else 0
    d["cycles_packets"] = int(v.group(2)) if v else 0
    d["mhz"] = int(v.group(3)) if v else 0
    return d


def cleanup_all():
    """Stops every process started by this harness, newest first."""
    for proc in reversed(_started):
        try:
            quit_text = "quit\n" if isinstance(proc, TestpmdProc) else None
            if proc.alive():
                proc.stop(quit_text, timeout=3.0)
        except Exception:  # cleanup must go on whatever one process does
            try:
                os.killpg(proc.p.pid, signal.SIGKILL)
            except Exception:
                pass
    _started.clear()


def started_pids():
    return [p.pid for p in _started if p.alive()]


def threads(pid):
    """[(tid, comm, cpus_allowed_list)] of a live process."""
    out = []
    try:
        tids = sorted(int(t) for t in os.listdir("/proc/%d/task" % pid))
    except OSError:
        return out
    for tid in tids:
        try:
            with open("/proc/%d/task/%d/comm" % (pid, tid)) as f:
                comm = f.read().strip()
            with open("/proc/%d/task/%d/status" % (pid, tid)) as f:
                cpus = re.search(r"Cpus_allowed_list:\s*(\S+)", f.read()).group(1)
        except (OSError, AttributeError):
            continue
        out.append((tid, comm, cpus))
    return out


def ctxt_switches(pid):
    """{(comm, tid): (voluntary, nonvoluntary, cpus)} context switches of
    each thread of @pid so far: voluntary ones are wake-ups (a thread that
    slept), nonvoluntary ones preemptions."""
    out = {}
    for tid, comm, cpus in threads(pid):
        try:
            with open("/proc/%d/task/%d/status" % (pid, tid)) as f:
                st = f.read()
            v = int(re.search(r"^voluntary_ctxt_switches:\s*(\d+)", st, re.M).group(1))
            n = int(re.search(r"^nonvoluntary_ctxt_switches:\s*(\d+)", st, re.M).group(1))
        except (OSError, AttributeError):
            continue
        out[(comm, tid)] = (v, n, cpus)
    return out


def ctxt_delta(a, b, seconds):
    """Per thread present at both ends: (comm, cpus, wake-ups/s,
    preemptions/s), busiest first."""
    rows = []
    for k, (v1, n1, cpus) in b.items():
        if k in a:
            v0, n0, _ = a[k]
            rows.append((k[0], cpus, (v1 - v0) / seconds, (n1 - n0) / seconds))
    return sorted(rows, key=lambda r: -(r[2] + r[3]))


def placement(label, pid):
    """One line: which CPUs the threads of @pid may run on."""
    by_cpu = {}
    for _, comm, cpus in threads(pid):
        by_cpu.setdefault(cpus, []).append(comm)
    parts = ["CPU %s: %s" % (c, ", ".join(sorted(set(n)))) for c, n in sorted(by_cpu.items())]
    return "%s (pid %d): %s" % (label, pid, "; ".join(parts))


def thread_cpus(pid):
    return {cpus for _, _, cpus in threads(pid)}
