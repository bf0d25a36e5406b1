#!/usr/bin/env python3
"""mutation.py — reads tests/mutations/list and applies its mutations (used by
scripts/mutate.sh; the standard library only).

  mutation.py names LIST                 the names, one a line
  mutation.py field LIST NAME FIELD      one field (tests: space-separated)
  mutation.py check LIST ROOT            every snippet is found exactly once
                                         (else each problem named, exit 1)
  mutation.py apply LIST NAME ROOT SAVE  applies NAME in the tree at ROOT; the
                                         file's original goes to SAVE and its
                                         path (from ROOT) is printed
  mutation.py restore ROOT SAVE PATH     writes SAVE back to ROOT/PATH
"""
import os, sys

EXTS = (".c", ".h", ".lua", ".inc")
FIELDS = ("in", "find", "replace", "tests", "why")


def unescape(s):
    out, i = [], 0
    while i < len(s):
        c = s[i]
        if c == "\\" and i + 1 < len(s):
            n = s[i + 1]
            out.append({"n": "\n", "t": "\t", "\\": "\\"}.get(n, "\\" + n))
            i += 2
        else:
            out.append(c)
            i += 1
    return "".join(out)


def parse(path):
    muts, cur, errors = [], None, []
    with open(path) as f:
        for lineno, line in enumerate(f, 1):
            line = line.rstrip("\n")
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            if line.startswith("[") and line.endswith("]"):
                cur = {"name": line[1:-1], "line": lineno}
                muts.append(cur)
                continue
            key, sep, val = line.partition(": ")
            if not sep or key not in FIELDS or cur is None:
                errors.append("%s:%d: expected [name] or one of %s: ..., got %r" % (path, lineno, ", ".join(FIELDS), line))
                continue
            if key in cur:
                errors.append("%s:%d: %s given twice for %s" % (path, lineno, key, cur["name"]))
            cur[key] = val
    seen = set()
    for m in muts:
        for k in FIELDS:
            if k not in m:
                errors.append("%s:%d: [%s] has no %s:" % (path, m["line"], m["name"], k))
        if m["name"] in seen:
            errors.append("%s:%d: two mutations named %s" % (path, m["line"], m["name"]))
        seen.add(m["name"])
        if m.get("find") == m.get("replace"):
            errors.append("%s:%d: [%s] replaces its snippet with itself" % (path, m["line"], m["name"]))
    if errors:
        sys.exit("\n".join(errors))
    return muts


def files_in(root, where):
    p = os.path.join(root, where)
    if os.path.isfile(p):
        return [where]
    if not os.path.isdir(p):
        return None
    out = []
    for d, _, fs in os.walk(p):
        for f in sorted(fs):
            if f.endswith(EXTS):
                out.append(os.path.relpath(os.path.join(d, f), root))
    return sorted(out)


def locate(root, m):
    """(path, text) of the one file holding the snippet, or an error message"""
    files = files_in(root, m["in"])
    if files is None:
        return None, "[%s]: %s does not exist" % (m["name"], m["in"])
    find = unescape(m["find"])
    hits = []
    for rel in files:
        with open(os.path.join(root, rel), encoding="utf-8", errors="surrogateescape") as f:
            text = f.read()
        n = text.count(find)
        if n:
            hits.append((rel, n, text))
    total = sum(h[1] for h in hits)
    if total == 0:
        return None, "[%s]: the snippet is not found in %s: %s" % (m["name"], m["in"], m["find"])
    if total > 1:
        where = ", ".join("%s (%d)" % (h[0], h[1]) for h in hits)
        return None, "[%s]: the snippet is found %d times (%s), it must be unique: %s" % (m["name"], total, where, m["find"])
    return (hits[0][0], hits[0][2]), None


def main():
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "restore":
        root, save, rel = args
        with open(save, "rb") as f:
            data = f.read()
        with open(os.path.join(root, rel), "wb") as f:  # a new mtime: the build sees the change
            f.write(data)
        return
    muts = parse(args[0])
    by = {m["name"]: m for m in muts}
    if cmd == "names":
        for m in muts:
            print(m["name"])
    elif cmd == "field":
        m = by.get(args[1]) or sys.exit("no mutation named " + args[1])
        print(m[args[2]])
    elif cmd == "check":
        bad = 0
        for m in muts:
            hit, err = locate(args[1], m)
            if err:
                print("mutation: " + err, file=sys.stderr)
                bad += 1
        if bad:
            sys.exit("mutation: %d of %d snippets are not where the list says (update tests/mutations/list)" % (bad, len(muts)))
        print("mutation: %d mutations, every snippet found exactly once" % len(muts))
    elif cmd == "apply":
        name, root, save = args[1], args[2], args[3]
        m = by.get(name) or sys.exit("no mutation named " + name)
        hit, err = locate(root, m)
        if err:
            sys.exit("mutation: " + err)
        rel, text = hit
        with open(save, "w", encoding="utf-8", errors="surrogateescape") as f:
            f.write(text)
        with open(os.path.join(root, rel), "w", encoding="utf-8", errors="surrogateescape") as f:
            f.write(text.replace(unescape(m["find"]), unescape(m["replace"]), 1))
        print(rel)
    else:
        sys.exit("mutation.py: unknown command " + cmd)


main()
