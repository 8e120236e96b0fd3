"""Memory of a switch process: resident set (VmRSS, which excludes hugetlb
pages), hugepages it allocated itself and hugepages it maps from the VMs
(guest memory, shared with the VM process). The VMs here are DPDK processes
whose hugepage files carry a known prefix; every other hugetlb mapping is
the switch's own (hugetlbfs files of its prefix, or DPDK's memfd segments
when it runs --in-memory, as OVS does)."""

import re


def usage(pid, guest_prefixes):
    """{rss_kb, huge_own_kb, huge_guest_kb} of @pid, or None if it is gone."""
    try:
        with open("/proc/%d/status" % pid) as f:
            status = f.read()
        with open("/proc/%d/smaps" % pid) as f:
            smaps = f.read()
    except OSError:
        return None
    m = re.search(r"^VmRSS:\s+(\d+) kB", status, re.M)
    res = {"rss_kb": int(m.group(1)) if m else 0, "huge_own_kb": 0, "huge_guest_kb": 0}
    path = ""
    for line in smaps.splitlines():
        if re.match(r"^[0-9a-f]+-[0-9a-f]+ ", line):
            parts = line.split(None, 5)
            path = parts[5] if len(parts) > 5 else ""
            continue
        m = re.match(r"^(Shared|Private)_Hugetlb:\s+(\d+) kB", line)
        if not m or not int(m.group(2)):
            continue
        name = path.rsplit("/", 1)[-1]
        if any(name.startswith(p + "map_") for p in guest_prefixes):
            res["huge_guest_kb"] += int(m.group(2))
        else:
            res["huge_own_kb"] += int(m.group(2))
    return res
