#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""import_circles.py DIR...: print every circle of files that depend on each
other among the C and Python files of the DIRs, one line per set of files
tied in circles, with one circle through them ("a.c b.c c.c: a.c -> b.c ->
a.c"), and exit 1 if there is one (0 if none, 2 on bad usage).

What counts as "depends on":
- C: `#include "x.h"` of a file of the DIRs (by name, as -I finds it), and a
  call of a function that another .c file of the DIRs defines without
  `static` (through the shared header, which hides the tie from #include).
- Python: `import` and `from ... import` of a module of the same package,
  anywhere in the file, including imports inside functions.

Files outside the DIRs (the kernel's headers, the standard library) are not
part of any circle.  Used by tests/host/import_circles.bats.
"""

import ast
import os
import re
import sys

C_INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)
# A function defined at file scope: a line that starts in column 0 with a
# type, ends in "name(" and is not static; its body follows.
C_DEFINITION = re.compile(
    r"^(?!static\b|extern\b|typedef\b|struct\s+\w+\s*\{|#)"
    r"[A-Za-z_][\w \t\*]*?\b([A-Za-z_]\w*)\s*\([^;{]*?\)\s*\{", re.M)
C_COMMENT = re.compile(r"/\*.*?\*/|//[^\n]*", re.S)
C_STRING = re.compile(r'"(?:\\.|[^"\\\n])*"' r"|'(?:\\.|[^'\\\n])*'")
C_CALL = re.compile(r"\b([A-Za-z_]\w*)\s*\(")
C_ATTRIBUTE = re.compile(r"__attribute__\s*\(\((?:[^()]|\([^()]*\))*\)\)\s*")


def read(path):
    with open(path, encoding="utf-8", errors="replace") as f:
        return f.read()


def c_edges(files):
    """{file: {file it depends on}} for the .c and .h files given."""
    by_name = {}
    for f in files:
        by_name.setdefault(os.path.basename(f), []).append(f)
    text = {f: read(f) for f in files}
    code = {f: C_ATTRIBUTE.sub("", C_STRING.sub('""', C_COMMENT.sub(" ", t)))
            for f, t in text.items()}
    defined = {}
    for f in files:
        if f.endswith(".c"):
            for name in C_DEFINITION.findall(code[f]):
                defined.setdefault(name, f)
    edges = {f: set() for f in files}
    for f in files:
        for inc in C_INCLUDE.findall(text[f]):
            cands = by_name.get(os.path.basename(inc), [])
            # The includer's own directory first, as the compiler looks.
            same = [c for c in cands
                    if os.path.dirname(c) == os.path.dirname(f)]
            for target in (same or cands)[:1]:
                if target != f:
                    edges[f].add(target)
        if f.endswith(".c"):
            for name in C_CALL.findall(code[f]):
                target = defined.get(name)
                if target and target != f:
                    edges[f].add(target)
    return edges


def py_edges(files):
    """{file: {module file of the same package it imports}}."""
    edges = {f: set() for f in files}
    for f in files:
        pkg = os.path.dirname(f)
        here = {os.path.splitext(os.path.basename(g))[0]: g
                for g in files if os.path.dirname(g) == pkg}
        try:
            tree = ast.parse(read(f), f)
        except SyntaxError as e:
            sys.exit("import_circles.py: %s: %s" % (f, e))
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.ImportFrom) and node.level == 1:
                if node.module:
                    names.append(node.module.split(".")[0])
                else:
                    names.extend(a.name for a in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 \
                    and node.module:
                pkgname = os.path.basename(pkg)
                parts = node.module.split(".")
                if parts[0] == pkgname and len(parts) > 1:
                    names.append(parts[1])
                elif parts[0] == pkgname:
                    names.extend(a.name for a in node.names)
            elif isinstance(node, ast.Import):
                for a in node.names:
                    parts = a.name.split(".")
                    if parts[0] == os.path.basename(pkg) and len(parts) > 1:
                        names.append(parts[1])
            for name in names:
                target = here.get(name)
                if target and target != f:
                    edges[f].add(target)
    return edges


def circles(edges):
    """The strongly connected components of more than one file (Tarjan),
    each with one shortest circle through its first file."""
    index, low, stack, on, found = {}, {}, [], set(), []
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
            if len(comp) > 1:
                found.append(sorted(comp))

    sys.setrecursionlimit(10000)
    for v in sorted(edges):
        if v not in index:
            visit(v)
    return [(comp, path_through(edges, comp)) for comp in sorted(found)]


def path_through(edges, comp):
    """A shortest circle from the first file of comp back to it."""
    start, inside = comp[0], set(comp)
    prev = {start: None}
    frontier = [start]
    while frontier:
        nxt = []
        for v in frontier:
            for w in sorted(edges[v] & inside):
                if w == start:
                    path = [v]
                    while prev[path[-1]] is not None:
                        path.append(prev[path[-1]])
                    return path[::-1] + [start]
                if w not in prev:
                    prev[w] = v
                    nxt.append(w)
        frontier = nxt
    return comp + [start]


def main(argv):
    if len(argv) < 2 or argv[1] in ("-h", "--help"):
        print(__doc__.strip())
        return 0 if len(argv) == 2 else 2
    cfiles, pyfiles = [], []
    for d in argv[1:]:
        if not os.path.isdir(d):
            print("import_circles.py: %s: not a directory" % d,
                  file=sys.stderr)
            return 2
        for name in sorted(os.listdir(d)):
            path = os.path.join(d, name)
            if name.endswith((".c", ".h")) and not name.endswith(".mod.c"):
                cfiles.append(path)
            elif name.endswith(".py"):
                pyfiles.append(path)
    edges = c_edges(cfiles)
    edges.update(py_edges(pyfiles))
    found = circles(edges)
    for comp, path in found:
        print("%s: %s" % (" ".join(comp), " -> ".join(path)))
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
