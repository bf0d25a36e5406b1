#!/usr/bin/env python3
"""Dependency cycles between the files of one component, read from the object
files with nm: file A depends on file B when A uses a global symbol that B
defines. A cycle (two or more files that reach each other) means a function
sits in the wrong file; each component must be free of them, except the
pairs listed in ALLOWED.

Usage: depcycles.py BUILD_DIR   (prints each component's edges in cycles;
exit 1 when a cycle outside ALLOWED exists, 2 when no object was found)

Components: libwbcore (core/src and its folders), the Lua binding (lua/src),
the shell, and each plugin (plugins/NAME).
"""
import json
import os
import shlex
import subprocess
import sys

# the head starts the dashboard's server; the server reads the head's status
ALLOWED = {frozenset({"cluster/head.c", "cluster/dashboard.c"})}

COMPONENTS = [
    ("core", "core/CMakeFiles/wbcore.dir/src"),
    ("lua", "lua/CMakeFiles/wblua.dir/src"),
    ("shell", "shell/CMakeFiles/wb.dir"),
]


def plugin_components(build):
    base = os.path.join(build, "plugins")
    out = []
    if os.path.isdir(base):
        for name in sorted(os.listdir(base)):
            d = os.path.join("plugins", name, "CMakeFiles", "wbplugin_%s.dir" % name)
            if os.path.isdir(os.path.join(build, d)):
                out.append(("plugin " + name, d))
    return out


def built_objects(build):
    """The object files of the current build (compile_commands.json), so
    objects left over from files that were moved or deleted do not count;
    None when the build has no compile_commands.json."""
    path = os.path.join(build, "compile_commands.json")
    if not os.path.exists(path):
        return None
    out = set()
    for e in json.load(open(path)):
        args = shlex.split(e["command"])
        if "-o" in args:
            o = args[args.index("-o") + 1]
            out.add(os.path.realpath(os.path.join(e["directory"], o)))
    return out


def objects(root, current):
    objs = []
    for dirpath, _, files in os.walk(root):
        for f in files:
            if f.endswith(".c.o"):
                p = os.path.join(dirpath, f)
                if current is not None and os.path.realpath(p) not in current:
                    continue
                objs.append((os.path.relpath(p, root)[: -len(".o")], p))
    return sorted(objs)


def symbols(path):
    out = subprocess.run(["nm", "-P", path], capture_output=True, text=True, check=True).stdout
    defined, used = set(), set()
    for line in out.splitlines():
        parts = line.split()
        if len(parts) < 2:
            continue
        name, kind = parts[0], parts[1]
        if kind == "U":
            used.add(name)
        elif kind in "TDBRGSVWC":
            defined.add(name)
    return defined, used


def sccs(nodes, edges):
    """Tarjan's strongly connected components."""
    index, low, stack, on, res = {}, {}, [], set(), []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(edges.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            res.append(sorted(comp))

    sys.setrecursionlimit(10000)
    for v in sorted(nodes):
        if v not in index:
            visit(v)
    return res


def main():
    if len(sys.argv) != 2:
        print(__doc__.strip().splitlines()[0], file=sys.stderr)
        print("usage: depcycles.py BUILD_DIR", file=sys.stderr)
        return 2
    build = sys.argv[1]
    bad = 0
    seen_any = False
    current = built_objects(build)
    for comp, rel in COMPONENTS + plugin_components(build):
        root = os.path.join(build, rel)
        objs = objects(root, current)
        if not objs:
            continue
        seen_any = True
        definer, uses = {}, {}
        for name, path in objs:
            d, u = symbols(path)
            uses[name] = u
            for s in d:
                definer.setdefault(s, name)
        edges = {}
        why = {}
        for name in uses:
            for s in uses[name]:
                t = definer.get(s)
                if t and t != name:
                    edges.setdefault(name, set()).add(t)
                    why.setdefault((name, t), []).append(s)
        cycles = [c for c in sccs(uses.keys(), edges) if len(c) > 1]
        print("%s: %d files, %d cycles" % (comp, len(objs), len(cycles)))
        for c in cycles:
            allowed = frozenset(c) in ALLOWED
            print("  cycle%s: %s" % (" (allowed)" if allowed else "", " <-> ".join(c)))
            for a in c:
                for b in c:
                    if (a, b) in why:
                        syms = sorted(why[(a, b)])
                        more = " ..." if len(syms) > 4 else ""
                        print("    %s -> %s: %s%s" % (a, b, ", ".join(syms[:4]), more))
            if not allowed:
                bad += 1
    if not seen_any:
        print("depcycles: no object files under %s" % build, file=sys.stderr)
        return 2
    print("cycles outside the allowed list: %d" % bad)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
