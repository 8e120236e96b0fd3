"""CPU contention detection for a measurement window.

During a window the generator busy-polls one CPU and the switch worker the
other, so on those CPUs every tick should belong to the benchmark's own
threads. A snapshot records /proc/stat per CPU, the ticks of each of our
threads (attributed to the CPU it runs on; all of them are pinned) and the
ticks of every other process. Between two snapshots:

  foreign(cpu) = (busy ticks of cpu - ticks of our threads on cpu) / ticks of cpu
  steal(cpu)   = steal ticks of cpu / ticks of cpu   (the hypervisor took it)

A window is contended when foreign or steal exceeds its threshold on either
CPU; the processes that used the most CPU meanwhile are named."""

import os
import time

_HZ = os.sysconf("SC_CLK_TCK")


def _read_proc_stat():
    cpus = {}
    with open("/proc/stat") as f:
        for line in f:
            if not line.startswith("cpu") or line.startswith("cpu "):
                continue
            parts = line.split()
            v = [int(x) for x in parts[1:]]
            v += [0] * (8 - len(v))
            user, nice, system, idle, iowait, irq, softirq, steal = v[:8]
            cpus[int(parts[0][3:])] = {
                "busy": user + nice + system + irq + softirq,
                "steal": steal,
                "total": user + nice + system + idle + iowait + irq + softirq + steal,
            }
    return cpus


def _stat_fields(path):
    with open(path) as f:
        s = f.read()
    rp = s.rfind(")")
    comm = s[s.find("(") + 1:rp]
    return comm, s[rp + 2:].split()


def _our_ticks(pids):
    """{tid: (cpu, ticks)} for every thread of @pids."""
    out = {}
    for pid in pids:
        try:
            tids = os.listdir("/proc/%d/task" % pid)
        except OSError:
            continue
        for tid in tids:
            try:
                _, f = _stat_fields("/proc/%d/task/%s/stat" % (pid, tid))
            except OSError:
                continue
            # fields after comm start at stat field 3: utime is field 14,
            # stime 15, processor 39
            out[int(tid)] = (int(f[36]), int(f[11]) + int(f[12]))
    return out


def _all_ticks(exclude):
    out = {}
    for d in os.listdir("/proc"):
        if not d.isdigit() or int(d) in exclude:
            continue
        try:
            comm, f = _stat_fields("/proc/%s/stat" % d)
        except (OSError, IndexError):
            continue
        out[int(d)] = (comm, int(f[11]) + int(f[12]))
    return out


def snapshot(our_pids):
    pids = set(p for p in our_pids if p)
    pids.add(os.getpid())
    return {
        "time": time.monotonic(),
        "cpus": _read_proc_stat(),
        "ours": _our_ticks(pids),
        "others": _all_ticks(pids),
    }


def assess(a, b, cpus, max_foreign, max_steal):
    """Compares two snapshots on @cpus. Returns a dict: foreign{cpu},
    steal{cpu} (fractions of that CPU), top [(comm, fraction of a CPU)],
    contended (bool) and reason (text)."""
    res = {"foreign": {}, "steal": {}, "top": [], "contended": False, "reason": ""}
    ours_on = {c: 0 for c in cpus}
    for tid, (cpu, ticks) in b["ours"].items():
        before = a["ours"].get(tid, (cpu, 0))[1]
        if cpu in ours_on:
            ours_on[cpu] += max(0, ticks - before)
    reasons = []
    for c in cpus:
        ca, cb = a["cpus"].get(c), b["cpus"].get(c)
        if ca is None or cb is None:
            continue
        total = max(1, cb["total"] - ca["total"])
        foreign = max(0, (cb["busy"] - ca["busy"]) - ours_on[c]) / total
        steal = max(0, cb["steal"] - ca["steal"]) / total
        res["foreign"][c] = foreign
        res["steal"][c] = steal
        if foreign > max_foreign:
            reasons.append("CPU %d: %.0f %% used by other processes" % (c, 100 * foreign))
        if steal > max_steal:
            reasons.append("CPU %d: %.0f %% stolen by the hypervisor" % (c, 100 * steal))
    elapsed = max(1e-3, b["time"] - a["time"])
    top = []
    for pid, (comm, ticks) in b["others"].items():
        # a process started after snapshot a used all its ticks in the window
        d = ticks - a["others"].get(pid, (comm, 0))[1]
        if d > 0:
            top.append((comm, d / _HZ / elapsed))
    top.sort(key=lambda x: -x[1])
    res["top"] = top[:3]
    if reasons:
        res["contended"] = True
        busy = ", ".join("%s %.0f %%" % (n, 100 * f) for n, f in res["top"] if f >= 0.01)
        res["reason"] = "; ".join(reasons) + (" (busiest others: %s)" % busy if busy else "")
    return res
