#!/usr/bin/env python3
"""Checks a shared library's ABI against its version script and headers.

    abi-check.py --lib LIB.so --soname SONAME --map version.map --prefix PFX
                 [--clang CLANG] [-I DIR]... --headers H...
    abi-check.py --self-test (same options): the check must fail on a map
                 with a symbol removed or added and on a header left out

Three lists must be the same set of names:
  - the symbols the library exports (.dynsym: defined, global or weak,
    default visibility), each carrying a named version node of the map
    (not the unversioned base) and the library's SONAME as given;
  - the map's global symbols: every node named, names listed one by one
    (no wildcard: a wildcard would export whatever matches by accident),
    "local: *;" hiding the rest;
  - the functions and variables the public headers declare (read by
    clang's AST, so static inline functions and macros are not counted).
Each name starts with the library's prefix. A difference is printed with
what to do about it; exit 1. Exit 77 (skipped) with the reason when
pyelftools or clang is missing.
"""
import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

SKIP = 77


def skip(why):
    print(f"SKIP: {why}")
    sys.exit(SKIP)


def parse_map(path):
    """Returns ({symbol: node}, [problems]) from a GNU ld version script."""
    text = open(path, encoding="utf-8").read()
    text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)
    text = re.sub(r"#[^\n]*", " ", text)
    problems, symbols = [], {}
    hides_rest = False
    pos = 0
    node_re = re.compile(r"\s*([A-Za-z_][A-Za-z0-9_.]*)?\s*\{(.*?)\}\s*([A-Za-z_][A-Za-z0-9_.]*)?\s*;",
                         re.S)
    while text[pos:].strip():
        m = node_re.match(text, pos)
        if not m:
            problems.append(f"{path}: cannot parse from: {text[pos:pos + 40].strip()!r}")
            break
        pos = m.end()
        node, body = m.group(1), m.group(2)
        if not node:
            problems.append(f"{path}: an anonymous node: every node needs a name "
                            "(the version the symbols carry)")
            node = "(anonymous)"
        scope = None
        for item in re.split(r"[;\s]+", body):
            if not item:
                continue
            if item in ("global:", "local:"):
                scope = item[:-1]
            elif scope == "local":
                hides_rest |= item == "*"
            elif scope != "global":
                problems.append(f"{path}: {item} outside global:/local: in node {node}")
            elif any(c in item for c in "*?["):
                problems.append(f"{path}: wildcard {item} in node {node}: list each "
                                "symbol by name")
            else:
                if item in symbols:
                    problems.append(f"{path}: {item} listed twice")
                symbols[item] = node
    if not hides_rest:
        problems.append(f"{path}: no \"local: *;\": symbols outside the map would be exported")
    return symbols, problems


def read_elf(path):
    """Returns (soname, {symbol: version or None}) of a shared library."""
    try:
        from elftools.elf.elffile import ELFFile
        from elftools.elf.dynamic import DynamicSection
    except ImportError:
        skip("python3 module elftools missing (Debian: python3-pyelftools)")
    soname = None
    exported = {}
    with open(path, "rb") as f:
        elf = ELFFile(f)
        for sec in elf.iter_sections():
            if isinstance(sec, DynamicSection):
                for tag in sec.iter_tags():
                    if tag.entry.d_tag == "DT_SONAME":
                        soname = tag.soname
        dynsym = elf.get_section_by_name(".dynsym")
        versym = elf.get_section_by_name(".gnu.version")
        verdef = elf.get_section_by_name(".gnu.version_d")
        names = {}  # version index -> name, from the definitions
        node_names = set()
        if verdef is not None:
            for vd, auxs in verdef.iter_versions():
                aux = next(iter(auxs))
                names[vd["vd_ndx"]] = aux.name
                if not vd["vd_flags"] & 1:  # VER_FLG_BASE: the file's own name
                    node_names.add(aux.name)
        if dynsym is None:
            return soname, exported
        for i, sym in enumerate(dynsym.iter_symbols()):
            if not sym.name or sym["st_shndx"] == "SHN_UNDEF":
                continue
            if sym["st_info"]["bind"] not in ("STB_GLOBAL", "STB_WEAK"):
                continue
            if sym["st_other"]["visibility"] != "STV_DEFAULT":
                continue
            # A version definition is also an absolute symbol of its name.
            if sym.name in node_names and sym["st_shndx"] == "SHN_ABS":
                continue
            version = None
            if versym is not None:
                ndx = versym.get_symbol(i)["ndx"]
                if isinstance(ndx, int):
                    version = names.get(ndx & 0x7FFF) if ndx & 0x7FFF > 1 else None
            exported[sym.name] = version
    return soname, exported


def header_decls(clang, includes, headers):
    """Returns {name: header} for the functions and variables the headers declare."""
    if not clang or not shutil.which(clang):
        skip("clang not found: the public headers' declarations are read with its AST")
    real = {os.path.realpath(h): h for h in headers}
    with tempfile.NamedTemporaryFile("w", suffix=".c", delete=False) as f:
        for h in headers:
            f.write(f'#include "{os.path.realpath(h)}"\n')
        src = f.name
    try:
        cmd = [clang, "-fsyntax-only", "-Xclang", "-ast-dump=json", "-D_GNU_SOURCE"]
        cmd += [f"-I{d}" for d in includes] + [src]
        out = subprocess.run(cmd, capture_output=True, text=True, check=False)
    finally:
        os.unlink(src)
    if out.returncode != 0:
        print(out.stderr, file=sys.stderr)
        sys.exit(f"abi-check: clang cannot read the headers: {' '.join(cmd)}")
    decls, cur = {}, None
    for d in json.loads(out.stdout).get("inner", []):
        loc = d.get("loc", {})
        f = loc.get("file") or loc.get("spellingLoc", {}).get("file") or \
            loc.get("expansionLoc", {}).get("file")
        if f:  # the AST names a file only where it changes
            cur = os.path.realpath(f)
        if d.get("isImplicit") or cur not in real:
            continue
        if d["kind"] == "FunctionDecl" and d.get("storageClass") != "static":
            decls[d["name"]] = os.path.basename(real[cur])
        elif d["kind"] == "VarDecl" and d.get("storageClass") == "extern":
            decls[d["name"]] = os.path.basename(real[cur])
    return decls


def compare(a, mapname, soname, exported, mapped, declared, problems):
    """Appends every difference to problems."""
    lib = os.path.basename(a.lib)
    if soname != a.soname:
        problems.append(f"{lib}: SONAME {soname}, expected {a.soname} (meson soversion)")
    for s in sorted(set(exported) - set(mapped)):
        problems.append(f"{lib} exports {s}, which {mapname} does not list")
    for s in sorted(set(mapped) - set(exported)):
        problems.append(f"{mapname} lists {s} ({mapped[s]}), which {lib} does not define")
    for s in sorted(set(exported) & set(mapped)):
        if exported[s] != mapped[s]:
            problems.append(f"{lib}: {s} carries version {exported[s] or 'none (base)'}, "
                            f"the map puts it in {mapped[s]}")
    for s in sorted(set(declared) - set(mapped)):
        problems.append(f"{declared[s]} declares {s}, which {mapname} does not list "
                        "(add it to the newest node, or make it static inline)")
    for s in sorted(set(mapped) - set(declared)):
        problems.append(f"{mapname} lists {s}, which no public header declares "
                        "(remove it, or declare it in a header the library installs)")
    for s in sorted(set(exported) | set(mapped) | set(declared)):
        if not s.startswith(a.prefix):
            problems.append(f"{s} lacks the library's prefix {a.prefix}")


def check(a, map_path=None, headers=None):
    """Returns the list of problems (empty: the ABI matches)."""
    map_path = map_path or a.map
    mapped, problems = parse_map(map_path)
    soname, exported = read_elf(a.lib)
    declared = header_decls(a.clang, a.include, headers if headers is not None else a.headers)
    compare(a, map_path, soname, exported, mapped, declared, problems)
    return problems


def self_test(a):
    """The check must pass as is and fail on each kind of drift."""
    base = check(a)
    if base:
        print("\n".join(base))
        return 1
    text = open(a.map, encoding="utf-8").read()
    mapped, _ = parse_map(a.map)
    victim = sorted(mapped)[0]
    victim_header = header_decls(a.clang, a.include, a.headers)[victim]
    cases = {
        f"map without {victim}": (re.sub(rf"\b{re.escape(victim)}\s*;", "", text, count=1),
                                  None),
        f"map with an extra {a.prefix}abi_check_nonexistent":
            (text.replace("global:", f"global:\n\t\t{a.prefix}abi_check_nonexistent;", 1),
             None),
        f"map with {victim} in a node of another name":
            (re.sub(r"^(\s*)([A-Za-z_][A-Za-z0-9_.]*)(\s*\{)", r"\1\2_OTHER\3", text,
                    count=1, flags=re.M), None),
        f"headers without {victim_header}":
            (text, [h for h in a.headers if os.path.basename(h) != victim_header]),
    }
    failed = 0
    with tempfile.TemporaryDirectory() as d:
        for name, (mtext, hdrs) in cases.items():
            p = os.path.join(d, "version.map")
            with open(p, "w", encoding="utf-8") as f:
                f.write(mtext)
            found = check(a, p, hdrs)
            print(f"abi-check self-test: {name}: "
                  f"{'caught (' + found[0] + ')' if found else 'NOT caught'}")
            failed += not found
    return 1 if failed else 0


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--lib", required=True)
    p.add_argument("--soname", required=True)
    p.add_argument("--map", required=True)
    p.add_argument("--prefix", required=True)
    p.add_argument("--clang", default="clang")
    p.add_argument("-I", "--include", action="append", default=[])
    p.add_argument("--headers", nargs="+", required=True)
    p.add_argument("--self-test", action="store_true")
    a = p.parse_args()
    if a.self_test:
        return self_test(a)
    problems = check(a)
    if problems:
        print("\n".join(problems))
        print(f"abi-check: {len(problems)} difference(s) between {os.path.basename(a.lib)}, "
              f"{a.map} and the public headers")
        return 1
    mapped, _ = parse_map(a.map)
    nodes = sorted(set(mapped.values()))
    print(f"abi-check: {os.path.basename(a.lib)} ({a.soname}): {len(mapped)} symbols, "
          f"version node(s) {', '.join(nodes)}, the same in the map and the headers")
    return 0


if __name__ == "__main__":
    sys.exit(main())
