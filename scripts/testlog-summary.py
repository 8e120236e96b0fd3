#!/usr/bin/env python3
"""Summarises a meson testlog.json: prints "passed failed skipped" on the
first line, then one line per skipped test with its reason and one per failed
test. Used by scripts/test.sh; CI reads only test.sh's closing line."""
import json
import sys

FAILED = {"FAIL", "TIMEOUT", "ERROR", "UNEXPECTEDPASS", "EXPECTEDFAIL", "INTERRUPT"}


def main(path):
    ok = fail = skip = 0
    notes = []
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            line = line.strip()
            if not line:
                continue
            t = json.loads(line)
            res = t.get("result", "")
            name = t.get("name", "?")
            out = t.get("stdout") or ""
            if res == "OK":
                ok += 1
            elif res == "SKIP":
                skip += 1
                why = [l[6:] for l in out.splitlines() if l.startswith("SKIP: ")]
                notes.append("  skipped %s: %s" % (name, why[0] if why else "(no reason printed)"))
            elif res in FAILED:
                fail += 1
                notes.append("  failed  %s: %s" % (name, res))
    print(ok, fail, skip)
    for n in notes:
        print(n)


if __name__ == "__main__":
    main(sys.argv[1])
