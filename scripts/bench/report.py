"""Results of a benchmark run: per-window and per-case CSV files, a Markdown
report with the ratios vswitch/testpmd and vswitch/OVS, PNG plots drawn by
gnuplot, and the copy of all that into doc/perf.md."""

import csv
import datetime
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys

SWITCHES = [("testpmd", "testpmd io"), ("ovs-normal", "OVS NORMAL"), ("ovs-p2p", "OVS p2p"),
            ("vswitch", "vswitch"), ("vswitch-ethdev", "vswitch engine + net_vhost"),
            ("vswitch-mbuf", "vswitch, one copy off"), ("vswitch-base", "vswitch, base build")]
# ratio columns: (switch, reference)
RATIOS = [("vswitch", "testpmd"), ("vswitch", "ovs-normal"), ("vswitch", "ovs-p2p"),
          ("vswitch-ethdev", "testpmd"), ("vswitch-ethdev", "ovs-normal"),
          ("vswitch-mbuf", "testpmd"), ("vswitch", "vswitch-mbuf"), ("vswitch", "vswitch-base")]
LABEL = dict(SWITCHES)
UNSTABLE_SPREAD = 0.20
DOC_BEGIN = "<!-- bench-results:begin (scripts/bench.sh --update-doc writes this part) -->"
DOC_END = "<!-- bench-results:end -->"
ROUNDS_NEEDED = 3
ROUNDS_DISAGREE = 0.10
WINDOW_FIELDS = ["round", "kind", "switch", "variant", "frame", "ring", "queues", "ports", "active",
                 "window", "seconds", "mpps", "min_port_mpps", "cpp", "sw_busy_cycles", "sw_rx", "sw_tx",
                 "sw_busy", "gen_busy", "gen_cpp",
                 "foreign_gen_cpu", "foreign_sw_cpu", "steal_gen_cpu", "steal_sw_cpu", "contended",
                 "reason"]
CASE_FIELDS = ["kind", "switch", "variant", "frame", "ring", "queues", "ports", "active", "status",
               "rounds", "windows_kept", "windows_total", "mpps_median", "mpps_min", "mpps_max",
               "cpp_median", "cpp_min", "cpp_max", "gen_cpp_median", "gen_busy_median",
               "sw_busy_median", "flag", "features", "error"]
KEY = ["kind", "switch", "frame", "ring", "queues", "ports", "active", "variant"]


def _cmd(*args):
    try:
        return subprocess.run(list(args), capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        return ""


def _pkg(name):
    return _cmd("dpkg-query", "-W", "-f=${Version}", name) or "not installed"


def environment(bench):
    cpu = re.search(r"^Model name:\s*(.+)$", _cmd("lscpu"), re.M)
    hyp = re.search(r"^Hypervisor vendor:\s*(.+)$", _cmd("lscpu"), re.M)
    memtotal = 0
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemTotal:"):
                memtotal = int(line.split()[1]) // 1024
    root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
    commit = _cmd("git", "-C", root, "describe", "--always", "--dirty")
    a = bench.a
    return {
        "date": datetime.datetime.now().strftime("%Y-%m-%d %H:%M %Z").strip(),
        "host": "%s, %d CPUs%s, %d MiB RAM, kernel %s" % (
            cpu.group(1) if cpu else platform.processor(), os.cpu_count() or 0,
            " (guest of %s)" % hyp.group(1) if hyp else "", memtotal, platform.release()),
        "versions": "DPDK %s, Open vSwitch %s, vswitch %s" % (
            _pkg("dpdk"), _pkg("openvswitch-switch-dpdk"), commit or "?"),
        "command": "scripts/bench.sh " + " ".join(sys.argv[1:]),
        "settings": ("frames %s B (FCS included: %s B in the ring); rings %s; queue pairs %s; "
                     "virtqueue size %d; %d x 32 packets per stream circulating (tx_first); "
                     "%.0f s warm-up, %.0f s windows, %d uncontended wanted (at most %d), "
                     "%d round(s); contended: other processes > %.0f %% or steal > %.0f %% of "
                     "either CPU" % (
                         ",".join(map(str, a.sizes)), ",".join(str(s - 4) for s in a.sizes),
                         ",".join(a.rings), ",".join(map(str, a.queues)), a.ring, a.burst,
                         a.warmup, a.window, a.runs, a.max_windows, a.rounds,
                         100 * a.max_foreign, 100 * a.max_steal)),
        "cpus": "generator (testpmd, all threads) on CPU %d; switch worker on CPU %d, its other "
                "threads on CPU %d" % (a.gen_cpu, a.switch_cpu, a.gen_cpu),
        "placements": bench.placements,
        "smoke": a.smoke,
    }


def _stats(vals):
    vals = [v for v in vals if v is not None]
    if not vals:
        return None, None, None
    return statistics.median(vals), min(vals), max(vals)


def summarize(cases):
    """Pools the rounds of each case; medians over uncontended windows (over
    all windows, flagged, when every window was contended)."""
    groups = {}
    for c in cases:
        key = tuple(c.get(k, "") for k in KEY)
        groups.setdefault(key, []).append(c)
    out = []
    for key, cs in groups.items():
        row = dict(zip(KEY, key))
        row["rounds"] = len({c.get("round", 0) for c in cs})
        wins = [w for c in cs for w in c["windows"]]
        kept = [w for w in wins if not w["contended"]]
        ok = [c for c in cs if c["status"] == "ok"]
        row["status"] = "ok" if ok else cs[0]["status"]
        row["error"] = "; ".join(sorted({c["error"] for c in cs if c["error"]}))
        row["features"] = " ".join(sorted({c["features"] for c in cs if c.get("features")}))
        row["windows_total"] = len(wins)
        row["windows_kept"] = len(kept)
        use = kept or wins
        row["mpps_median"], row["mpps_min"], row["mpps_max"] = _stats([w["mpps"] for w in use])
        row["cpp_median"], row["cpp_min"], row["cpp_max"] = _stats([w["cpp"] for w in use])
        row["gen_busy_median"] = _stats([w["gen_busy"] for w in use])[0]
        row["gen_cpp_median"], row["gen_cpp_min"], row["gen_cpp_max"] = _stats(
            [w.get("gen_cpp") for w in use])
        row["sw_busy_median"] = _stats([w["sw_busy"] for w in use])[0]
        flag = ""
        if wins and not kept:
            flag = "contended"
        elif row["mpps_median"] and (row["mpps_max"] - row["mpps_min"]) / row["mpps_median"] > UNSTABLE_SPREAD:
            flag = "unstable"
        row["flag"] = flag
        out.append(row)
    return out


def _fmt(v, nd=2):
    if v is None or v == "":
        return ""
    if isinstance(v, float):
        return ("%." + str(nd) + "f") % v
    return str(v)


def _write_csv(path, rows, fields):
    with open(path, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=fields, extrasaction="ignore")
        w.writeheader()
        for r in rows:
            w.writerow({k: _fmt(r.get(k), 4) for k in fields})


def _find(summary, kind, sw, frame=64, ring="split", queues=1, ports=2, active=2, variant=""):
    for r in summary:
        if (r["kind"], r["switch"], r["frame"], r["ring"], r["queues"], r["ports"], r["active"],
                r.get("variant", "")) == (kind, sw, frame, ring, queues, ports, active, variant):
            return r
    return None


def _cell(r, what, nd):
    if r is None:
        return "-"
    if r["status"] == "unsupported":
        return "unsupported"
    if r["status"] != "ok" and not r["windows_total"]:
        return "**failed**"
    med = r[what + "_median"]
    if med is None:
        return "n/a"
    s = "%.*f (%.*f-%.*f)" % (nd, med, nd, r[what + "_min"], nd, r[what + "_max"])
    if r["flag"] == "contended":
        s += " \\*"
    elif r["flag"] == "unstable":
        s += " ~"
    if r["status"] == "failed":
        s += " **failed**"
    return s


def _ratio(a, b, what):
    if not a or not b or a["status"] != "ok" or b["status"] != "ok":
        return "-"
    x, y = a[what + "_median"], b[what + "_median"]
    return "%.2f" % (x / y) if x and y else "-"


def _case_table(summary, what, nd, title, unavailable):
    frames = sorted({r["frame"] for r in summary if r["kind"] == "throughput"})
    rings = [g for g in ("split", "packed") if any(r["ring"] == g for r in summary)]
    queues = sorted({r["queues"] for r in summary if r["kind"] == "throughput"})
    present = [s for s, _ in SWITCHES if any(r["switch"] == s for r in summary) or s in unavailable]
    head = ["frame", "ring", "qp"] + [LABEL[s] for s in present]
    ratios = [(a, b) for a, b in RATIOS if a in present and b in present]
    head += ["%s / %s" % (LABEL[a], LABEL[b]) for a, b in ratios]
    lines = ["### " + title, "", "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for fr in frames:
        for ring in rings:
            for q in queues:
                rows = {s: _find(summary, "throughput", s, fr, ring, q) for s in present}
                if not any(rows.values()):
                    continue
                cells = [str(fr), ring, str(q)]
                for s in present:
                    if s in unavailable and (rows[s] is None or rows[s]["status"] == "unsupported"):
                        cells.append("not available yet" if s.startswith("vswitch") else "not available")
                    else:
                        cells.append(_cell(rows[s], what, nd))
                cells += [_ratio(rows[a], rows[b], what) for a, b in ratios]
                lines.append("| " + " | ".join(cells) + " |")
    return lines


def round_medians(cases):
    """Per case and round: the medians of that round's uncontended windows
    (all of them when every one was contended). Returns {key: {round: {what:
    median}}} with what in mpps, cpp, gen_cpp."""
    out = {}
    for c in cases:
        if c["status"] != "ok":
            continue
        wins = c["windows"]
        use = [w for w in wins if not w["contended"]] or wins
        if not use:
            continue
        key = tuple(c.get(k, "") for k in KEY)
        out.setdefault(key, {})[c.get("round", 0)] = {
            what: _stats([w.get(what) for w in use])[0] for what in ("mpps", "cpp", "gen_cpp")}
    return out


def _key(kind, sw, frame=64, ring="split", queues=1, ports=2, active=2, variant=""):
    return (kind, sw, frame, ring, queues, ports, active, variant)


def round_ratios(rm, a_key, b_key, what):
    """The ratio a/b of each round both measured (same round: interleaved,
    the same minutes of the machine)."""
    a, b = rm.get(a_key, {}), rm.get(b_key, {})
    out = []
    for rnd in sorted(set(a) & set(b)):
        x, y = a[rnd].get(what), b[rnd].get(what)
        if x and y:
            out.append(x / y)
    return out


def verdict(ratios, op, limit, unit="round"):
    """A bar over per-round ratios: (text, met). Met only with at least
    ROUNDS_NEEDED rounds that agree within ROUNDS_DISAGREE of their median
    and a median on the right side of the limit."""
    if not ratios:
        return "not measured", False
    med = statistics.median(ratios)
    lo, hi = min(ratios), max(ratios)
    spread = (hi - lo) / med if med else 0
    txt = "%.2f (%.2f-%.2f, %d %s%s)" % (med, lo, hi, len(ratios), unit, "" if len(ratios) == 1 else "s")
    ok = med >= limit if op == ">=" else med <= limit
    if len(ratios) < ROUNDS_NEEDED:
        return txt + ": not settled (%d of %d %ss)" % (len(ratios), ROUNDS_NEEDED, unit), False
    if spread > ROUNDS_DISAGREE:
        return txt + ": **flagged** (%ss disagree by %.0f %%; would be %s)" % (
            unit, 100 * spread, "met" if ok else "not met"), False
    return txt + (": **met**" if ok else ": **NOT met**"), ok


def _bar(summary, rm=None):
    """The performance bar of issue 8, checked against this run: the median
    of per-round ratios (see verdict())."""
    out = []
    rm = rm or {}

    def check(desc, a, b, what, op, limit):
        txt, _ = verdict(round_ratios(rm, a, b, what), op, limit)
        out.append("- %s (%s %.2f): %s" % (desc, op, limit, txt))

    for fr in (64, 1518):
        v, t = _key("throughput", "vswitch", fr), _key("throughput", "testpmd", fr)
        check("%d B split 1 qp, Mpps vswitch/testpmd" % fr, v, t, "mpps", ">=", 1.0)
        check("%d B split 1 qp, cycles/packet vswitch/testpmd" % fr, v, t, "cpp", "<=", 1.0)
        if fr == 64:
            check("64 B split 1 qp, cycles/packet vswitch/OVS NORMAL", v,
                  _key("throughput", "ovs-normal", 64), "cpp", "<=", 0.67)
    ports = sorted({r["ports"] for r in summary if r["kind"] == "scaling"})
    if ports:
        check("scaling, Mpps with %d ports (2 with traffic) / 2 ports" % ports[-1],
              _key("scaling", "vswitch", 64, "split", 1, ports[-1], 2),
              _key("scaling", "vswitch", 64, "split", 1, 2, 2), "mpps", ">=", 0.9)
    return out


def _cells(summary):
    frames = sorted({r["frame"] for r in summary if r["kind"] == "throughput"})
    rings = [g for g in ("split", "packed") if any(r["ring"] == g for r in summary)]
    queues = sorted({r["queues"] for r in summary if r["kind"] == "throughput"})
    return [(f, g, q) for f in frames for g in rings for q in queues]


def issue15(summary, rm, latency, regions):
    """Issue 15's bars: items 0, 1, 3 and 4, cell by cell, each the median of
    the per-round ratios with their range (item 5)."""
    L = ["### Issue 15: verdicts over interleaved rounds", "",
         "Each figure is the median of the per-round ratios (both switches measured in the "
         "same round, minutes apart), with the rounds' range; a verdict needs %d rounds, and a "
         "cell whose rounds disagree by more than %.0f %% of the median is **flagged**, not counted "
         "as met." % (ROUNDS_NEEDED, 100 * ROUNDS_DISAGREE), ""]
    cells = [c for c in _cells(summary)
             if _find(summary, "throughput", "vswitch", *c) is not None]
    tally = {}

    def add(bar, met):
        t = tally.setdefault(bar, [0, 0])
        t[0] += int(met)
        t[1] += 1

    if cells:
        L += ["Item 1 (switch busy cycles per forwarded packet, vswitch / testpmd io <= 0.80 and "
              "vswitch / OVS NORMAL <= 0.67) and item 0 (the generator's busy cycles per packet, "
              "facing vswitch / facing testpmd io <= 1.00):", "",
              "| frame | ring | qp | cycles vswitch / testpmd | cycles vswitch / OVS NORMAL | "
              "generator cycles facing vswitch / facing testpmd | Mpps vswitch / testpmd |",
              "|---|---|---|---|---|---|---|"]
        for fr, ring, q in cells:
            v = _key("throughput", "vswitch", fr, ring, q)
            t = _key("throughput", "testpmd", fr, ring, q)
            o = _key("throughput", "ovs-normal", fr, ring, q)
            a, ma = verdict(round_ratios(rm, v, t, "cpp"), "<=", 0.80)
            b, mb = verdict(round_ratios(rm, v, o, "cpp"), "<=", 0.67)
            g, mg = verdict(round_ratios(rm, v, t, "gen_cpp"), "<=", 1.00)
            m, _ = verdict(round_ratios(rm, v, t, "mpps"), ">=", 1.00)
            add("item 1, vswitch / testpmd <= 0.80", ma)
            add("item 1, vswitch / OVS NORMAL <= 0.67", mb)
            add("item 0, generator <= 1.00", mg)
            L.append("| %d | %s | %d | %s | %s | %s | %s |" % (fr, ring, q, a, b, g,
                                                                m.split(":")[0]))
        L.append("")
    col = [c for c in cells if _find(summary, "throughput", "vswitch", *c, variant="in_order")]
    if col:
        L += ["Item 3, the extra column: the VMs with in_order on (the headline above has it off, "
              "as QEMU's default). Ratios as above, no bar:", "",
              "| frame | ring | qp | cycles vswitch / testpmd | generator cycles vswitch / testpmd "
              "| Mpps vswitch / testpmd | vswitch cycles, in_order on / off |",
              "|---|---|---|---|---|---|---|"]
        for fr, ring, q in col:
            v = _key("throughput", "vswitch", fr, ring, q, variant="in_order")
            t = _key("throughput", "testpmd", fr, ring, q, variant="in_order")
            v0 = _key("throughput", "vswitch", fr, ring, q)
            cells_txt = [verdict(round_ratios(rm, *x), "<=", 99)[0].split(":")[0] for x in (
                (v, t, "cpp"), (v, t, "gen_cpp"), (v, t, "mpps"), (v, v0, "cpp"))]
            L.append("| %d | %s | %d | %s |" % (fr, ring, q, " | ".join(cells_txt)))
        L.append("")
    if regions:
        L += ["Item 3, memory regions: lib/virtq's device side (`vswitch-test virtq_perf_regions`, "
              "in-process, 64 B, the guest's buffers alternating between the regions from one "
              "buffer to the next: the worst case for a cache of the last region) against the "
              "same with one region, <= 1.05 (with the copy: the bar; the ring work alone beside "
              "it):", "", "| operation | ring work, 2 / 1 regions | ring work, 4 / 1 | with copy, "
              "2 / 1 regions | with copy, 4 / 1 |", "|---|---|---|---|---|"]
        by = {}
        for x in regions:
            by.setdefault(x["what"], {})[x["mode"]] = x
        for what, modes in by.items():
            row = [what]
            for mode in ("ring work", "with copy"):
                x = modes.get(mode)
                for n in ("2", "4"):
                    if not x:
                        row.append("-")
                        continue
                    txt, met = verdict(x["runs" + n], "<=", 1.05, unit="run")
                    if mode == "with copy":
                        add("item 3, %s regions <= 1.05" % n, met)
                    else:
                        txt = txt.split(":")[0]
                    row.append(txt)
            L.append("| " + " | ".join(row) + " |")
        L.append("")
    lat = [l for l in latency if l["status"] == "ok"]
    if lat:
        L += ["Item 4, latency tail: vswitch's p99 and p99.9 over testpmd io's in the same round "
              "(<= 1.00):", "", "| percentile | vswitch / testpmd io | vswitch (us, per round) | "
              "testpmd io (us, per round) |", "|---|---|---|---|"]
        for pk, name in (("p99_ns", "p99"), ("p999_ns", "p99.9")):
            v = {l["round"]: l[pk] for l in lat if l["switch"] == "vswitch"}
            t = {l["round"]: l[pk] for l in lat if l["switch"] == "testpmd"}
            rs = sorted(set(v) & set(t))
            txt, met = verdict([v[r] / t[r] for r in rs if t[r]], "<=", 1.0)
            add("item 4, %s <= testpmd" % name, met)
            L.append("| %s | %s | %s | %s |" % (name, txt, ", ".join("%.1f" % (v[r] / 1e3) for r in rs),
                                               ", ".join("%.1f" % (t[r] / 1e3) for r in rs)))
        L.append("")
    if tally:
        L += ["Tally: " + "; ".join("%s: %d of %d met" % (k, v[0], v[1]) for k, v in tally.items())
              + ".", ""]
    return L


REGION_RE = (r"virtq perf regions (.+?)\s+64 B (ring work|with copy)\s*: 1 region\s+([\d.]+) "
             r"cycles/pkt, 2 regions\s+([\d.]+) \(([\d.]+)x; runs ([\d., ]+)\), 4 regions\s+([\d.]+) "
             r"\(([\d.]+)x; runs ([\d., ]+)\)")


def parse_regions(text):
    """vswitch-test virtq_perf_regions' lines -> [{what, mode, r2, r4,
    runs2, runs4}] (runs: the per-run ratios)."""
    out = []
    for m in re.finditer(REGION_RE, text):
        out.append({"what": m.group(1).strip(), "mode": m.group(2), "c1": float(m.group(3)),
                    "r2": float(m.group(5)), "r4": float(m.group(8)),
                    "runs2": [float(x) for x in m.group(6).split(",") if x.strip()],
                    "runs4": [float(x) for x in m.group(9).split(",") if x.strip()]})
    return out


def markdown(env, summary, windows, latency, memory, unavailable, img_prefix="", cases=None,
             regions=None):
    rm = round_medians(cases or [])
    n_cont = sum(1 for w in windows if w["contended"])
    L = ["## Results" + (" (smoke run)" if env["smoke"] else ""), "",
         "- Date: %s" % env["date"], "- Machine: %s" % env["host"], "- Software: %s" % env["versions"],
         "- Command: `%s`" % env["command"], "- Settings: %s" % env["settings"],
         "- CPUs: %s" % env["cpus"],
         "- Contention: %d of %d windows were contended and left out of the medians%s"
         % (n_cont, len(windows), "" if not n_cont else " (see windows.csv, column reason)"), ""]
    if windows and n_cont * 2 > len(windows):
        L += ["**Indicative only: most windows were contended (other processes on the two CPUs); "
              "the figures below are not the switches' performance. Rerun on a quiet machine.**", ""]
    for name, why in sorted(unavailable.items()):
        L.append("- **%s: %s**" % (LABEL.get(name, name), why))
    if unavailable:
        L.append("")
    L += ["Median over the uncontended windows, (min-max) in brackets; \\* every window of the case "
          "was contended (figures from all of them); ~ the windows spread by more than %.0f %%."
          % (100 * UNSTABLE_SPREAD), ""]
    L += _case_table(summary, "mpps", 2, "Throughput, Mpps (both directions summed, received by the VMs)",
                     unavailable)
    L += [""]
    L += _case_table(summary, "cpp", 0, "Switch worker busy cycles per forwarded packet", unavailable)
    L += ["", "![Mpps by frame size](%smpps_by_size.png) ![cycles per packet by frame size](%scpp_by_size.png)"
          % (img_prefix, img_prefix), ""]
    busy = [r for r in summary if r["kind"] == "throughput" and r["gen_busy_median"] is not None]
    if busy:
        L += ["Generator busy (cycles of polls that moved packets / all cycles), median over the "
              "throughput cases: " + ", ".join(
                  "%s %.0f %%" % (LABEL.get(s, s), 100 * statistics.median(
                      [r["gen_busy_median"] for r in busy if r["switch"] == s]))
                  for s, _ in SWITCHES if any(r["switch"] == s for r in busy)) + ".", ""]
    gen = [r for r in summary if r["kind"] == "throughput" and r.get("gen_cpp_median")]
    if gen:
        L += _case_table(summary, "gen_cpp", 0, "Generator (the VMs) busy cycles per packet it "
                         "received and sent back", unavailable)
        L += [""]
    L += issue15(summary, rm, latency, regions or [])
    L += ["### Performance bar (issue 8)", ""] + _bar(summary, rm) + [""]
    scal = [r for r in summary if r["kind"] == "scaling"]
    if scal:
        L += ["### Scaling: 64 B, split ring, 1 queue pair", "",
              "| switch | ports attached | ports with traffic | Mpps | cycles/packet | vs 2 ports |",
              "|---|---|---|---|---|---|"]
        for s, lab in SWITCHES:
            base = _find(summary, "scaling", s, 64, "split", 1, 2, 2)
            for r in sorted([r for r in scal if r["switch"] == s], key=lambda r: (r["active"] != 2, r["ports"])):
                L.append("| %s | %d | %d | %s | %s | %s |" % (
                    lab, r["ports"], r["active"], _cell(r, "mpps", 2), _cell(r, "cpp", 0),
                    _ratio(r, base, "mpps")))
        L += ["", "![scaling](%sscaling.png)" % img_prefix, ""]
    if latency:
        L += ["### Latency: round trip of a 64 B probe through the switch, twice (VM A -> B -> A)", "",
              "| switch | round | p50 us | p99 us | p99.9 us | max us | probes | lost | note |",
              "|---|---|---|---|---|---|---|---|---|"]
        for l in latency:
            if l["status"] != "ok":
                L.append("| %s | %d | | | | | | | %s |" % (LABEL.get(l["switch"], l["switch"]),
                                                        l.get("round", 0), l["error"][:120]))
                continue
            L.append("| %s | %d | %.1f | %.1f | %.1f | %.1f | %d | %d | %s |" % (
                LABEL.get(l["switch"], l["switch"]), l.get("round", 0), l["p50_ns"] / 1e3, l["p99_ns"] / 1e3,
                l["p999_ns"] / 1e3, l["max_ns"] / 1e3, l["received"], l["lost"],
                "contended: " + l["reason"] if l.get("contended") else ""))
        L.append("")
        sched = [(l["switch"], l.get("round", 0), l.get("sched", "")) for l in latency
                 if l["status"] == "ok" and l.get("sched")]
        if sched:
            L += ["Thread wake-ups and preemptions during the measured part (from "
                  "/proc/PID/task/TID/status; threads below 0.5/s left out), per switch and round:",
                  ""]
            for sw, rnd, txt in sched:
                L.append("- %s, round %d: %s" % (LABEL.get(sw, sw), rnd, txt))
            L.append("")
    if memory:
        L += ["### Memory of the switch process (traffic on all ports)", "",
              "| switch | ports | resident MiB | own hugepages MiB | guest memory mapped MiB |",
              "|---|---|---|---|---|"]
        for m in memory:
            L.append("| %s | %d | %.1f | %.1f | %.1f |" % (
                LABEL.get(m["switch"], m["switch"]), m["ports"], m["rss_kb"] / 1024,
                m["huge_own_kb"] / 1024, m["huge_guest_kb"] / 1024))
        L.append("")
        per = []
        for s, lab in SWITCHES:
            ms = sorted([m for m in memory if m["switch"] == s], key=lambda m: m["ports"])
            if len(ms) >= 2 and ms[-1]["ports"] > ms[0]["ports"]:
                d = ms[-1]["ports"] - ms[0]["ports"]
                per.append("%s %d KiB resident + %d KiB own hugepages" % (
                    lab, round((ms[-1]["rss_kb"] - ms[0]["rss_kb"]) / d),
                    round((ms[-1]["huge_own_kb"] - ms[0]["huge_own_kb"]) / d)))
        if per:
            L += ["Per VM port (difference between the largest and smallest port count): "
                  + "; ".join(per) + ".", ""]
    failed = [r for r in summary if r["status"] == "failed"]
    if failed:
        L += ["### Failed cases", ""]
        for r in failed:
            L.append("- %s %s %d B %s %d qp %d ports: %s" % (r["kind"], r["switch"], r["frame"], r["ring"],
                                                          r["queues"], r["ports"], r["error"][:300]))
        L.append("")
    if env["placements"]:
        L += ["### Thread placement (as read from /proc while running)", ""]
        seen = set()
        for lines in env["placements"].values():
            for l in lines:
                l = re.sub(r"\(pid \d+\)", "", l)
                if l not in seen:
                    seen.add(l)
                    L.append("- " + l)
        L.append("")
    return "\n".join(L)


def _gnuplot(script, out_png, notes):
    if not shutil.which("gnuplot"):
        notes.append("gnuplot not found: %s not drawn" % out_png)
        return None
    r = subprocess.run(["gnuplot"], input=script, capture_output=True, text=True, timeout=60)
    if r.returncode != 0 or not os.path.exists(out_png):
        notes.append("gnuplot failed for %s: %s" % (out_png, r.stderr.strip()[-300:]))
        return None
    return out_png


def plots(out, summary, notes, caveat=""):
    """@caveat goes under each title (e.g. how many windows were contended)."""
    files = []
    sub = ("\\n" + caveat) if caveat else ""
    frames = sorted({r["frame"] for r in summary if r["kind"] == "throughput"})
    present = [s for s, _ in SWITCHES if any(r["switch"] == s and r["kind"] == "throughput"
                                             and r["mpps_median"] for r in summary)]
    for what, ylabel, name in (("mpps", "Mpps (both directions)", "mpps_by_size"),
                               ("cpp", "switch busy cycles per packet", "cpp_by_size")):
        if not frames or not present:
            break
        dat = os.path.join(out, name + ".dat")
        with open(dat, "w") as f:
            f.write("# frame " + " ".join("%s_med %s_min %s_max" % (s, s, s) for s in present) + "\n")
            for fr in frames:
                vals = []
                for s in present:
                    r = _find(summary, "throughput", s, fr)
                    m = r and r[what + "_median"]
                    vals += ["%.4f %.4f %.4f" % (m, r[what + "_min"], r[what + "_max"]) if m else "? ? ?"]
                f.write("%d %s\n" % (fr, " ".join(vals)))
        png = os.path.join(out, name + ".png")
        using = ", ".join("'%s' using %d:%d:%d%s title '%s'" % (
            dat, 2 + 3 * i, 3 + 3 * i, 4 + 3 * i, ":xtic(1)" if i == 0 else "", LABEL[s])
            for i, s in enumerate(present))
        script = """set terminal pngcairo noenhanced size 800,480 font ',10'
set output '%s'
set datafile missing '?'
set title "%s by frame size, split ring, 1 queue pair (median, min-max bars)%s"
set style data histograms
set style histogram errorbars gap 2 lw 1
set style fill solid 0.7 border -1
set xlabel 'frame size, bytes'
set ylabel '%s'
set yrange [0:*]
set key top right
set grid ytics
plot %s
""" % (png, ylabel.split(" (")[0], sub, ylabel, using)
        if _gnuplot(script, png, notes):
            files.append(png)
    scal = [r for r in summary if r["kind"] == "scaling" and r["mpps_median"]]
    if scal:
        dat = os.path.join(out, "scaling.dat")
        series = []
        with open(dat, "w") as f:
            for s, lab in SWITCHES:
                for on_all in (False, True):
                    rows = sorted([r for r in scal if r["switch"] == s and
                                   ((r["active"] == r["ports"]) if on_all else (r["active"] == 2))],
                                  key=lambda r: r["ports"])
                    if not rows:
                        continue
                    f.write("# %s %s\n" % (s, "all" if on_all else "two"))
                    for r in rows:
                        f.write("%d %.4f %.4f %.4f\n" % (r["ports"], r["mpps_median"], r["mpps_min"], r["mpps_max"]))
                    f.write("\n\n")
                    series.append("%s, traffic on %s" % (lab, "all ports" if on_all else "2 ports"))
        png = os.path.join(out, "scaling.png")
        plot = ", ".join("'%s' index %d using 1:2:3:4 with yerrorlines title '%s'" % (dat, i, t)
                         for i, t in enumerate(series))
        script = """set terminal pngcairo noenhanced size 800,480 font ',10'
set output '%s'
set title "Aggregate Mpps by VM ports attached (64 B, split ring, 1 queue pair)%s"
set xlabel 'VM ports attached'
set ylabel 'Mpps (all ports summed)'
set logscale x 2
set xrange [1.6:40]
set xtics (2, 4, 8, 16, 32)
set yrange [0:*]
set key bottom left
set grid
plot %s
""" % (png, sub, plot)
        if _gnuplot(script, png, notes):
            files.append(png)
    return files


def write_all(out, env, windows, summary, latency, memory, unavailable, args, cases=None,
              regions=None):
    del args
    os.makedirs(out, exist_ok=True)
    files = []
    p = os.path.join(out, "windows.csv")
    _write_csv(p, windows, WINDOW_FIELDS)
    files.append(p)
    p = os.path.join(out, "results.csv")
    _write_csv(p, summary, CASE_FIELDS)
    files.append(p)
    if latency:
        p = os.path.join(out, "latency.csv")
        _write_csv(p, latency, ["switch", "round", "status", "sent", "measured", "received", "lost", "min_ns",
                                "p50_ns", "p90_ns", "p99_ns", "p999_ns", "max_ns", "mean_ns",
                                "contended", "reason", "sched", "error"])
        files.append(p)
    if memory:
        p = os.path.join(out, "memory.csv")
        _write_csv(p, memory, ["switch", "ports", "rss_kb", "huge_own_kb", "huge_guest_kb"])
        files.append(p)
    notes = []
    n_cont = sum(1 for w in windows if w["contended"])
    caveat = ("indicative only: %d of %d windows contended" % (n_cont, len(windows))
              if n_cont else "")
    files += plots(out, summary, notes, caveat)
    md = markdown(env, summary, windows, latency, memory, unavailable, cases=cases, regions=regions)
    if notes:
        md += "\n" + "\n".join("- " + n for n in notes) + "\n"
    p = os.path.join(out, "report.md")
    with open(p, "w") as f:
        f.write(md)
    files.append(p)
    with open(os.path.join(out, "report-doc.md"), "w") as f:
        f.write(markdown(env, summary, windows, latency, memory, unavailable, img_prefix="perf/",
                         cases=cases, regions=regions))
    return files


def update_doc(out, root):
    doc = os.path.join(root, "doc", "perf.md")
    with open(doc) as f:
        text = f.read()
    i, j = text.find(DOC_BEGIN), text.find(DOC_END)
    if i < 0 or j < i:
        raise SystemExit("bench: %s lacks the markers %s ... %s" % (doc, DOC_BEGIN, DOC_END))
    with open(os.path.join(out, "report-doc.md")) as f:
        section = f.read()
    text = text[:i + len(DOC_BEGIN)] + "\n" + section.rstrip() + "\n" + text[j:]
    with open(doc, "w") as f:
        f.write(text)
    dest = os.path.join(root, "doc", "perf")
    os.makedirs(dest, exist_ok=True)
    for name in ("mpps_by_size.png", "cpp_by_size.png", "scaling.png"):
        src = os.path.join(out, name)
        if os.path.exists(src):
            shutil.copy(src, os.path.join(dest, name))
