#!/usr/bin/env python3
"""The module graph of each crate has no cycle: imports run one way, downhill.

Every `crate::a::b` path in a file is an arrow from the file's module to `a` and to `a::b` (when
that is a module); `super::x` is resolved the same way. Test modules (`tests.rs`, `mod tests`
blocks) are left out: a test may look at anything. Prints the cycles it finds and exits 1.
"""
import re
import sys
from pathlib import Path

PATH = re.compile(r"\b(crate|super)((?:::[a-z_][a-z0-9_]*)+)")
GROUP = re.compile(r"\b(crate|super)::\{([^}]*)\}")


def modules(src: Path):
    """Module path (tuple) -> file, for a crate rooted at src/lib.rs."""
    found = {}
    for f in src.rglob("*.rs"):
        rel = f.relative_to(src).with_suffix("")
        parts = tuple(p for p in rel.parts if p not in ("lib", "main", "mod"))
        if parts and parts[-1] == "tests":
            continue
        found[parts] = f
    return found


def strip_tests(text: str) -> str:
    """Drop `#[cfg(test)] mod tests { ... }` blocks."""
    m = re.search(r"#\[cfg\(test\)\]\s*mod tests\s*\{", text)
    return text[: m.start()] if m else text


def edges(mods):
    graph = {m: set() for m in mods}
    for mod, f in mods.items():
        text = strip_tests(f.read_text())
        text = re.sub(r"//.*", "", text)
        refs = []
        for kind, group in GROUP.findall(text):
            refs += [(kind, "::" + g.strip().split("::")[0]) for g in group.split(",") if g.strip()]
        refs += PATH.findall(text)
        for kind, path in refs:
            names = [p for p in path.split("::") if p]
            base = () if kind == "crate" else mod[:-1]
            while names and names[0] == "super":
                base, names = base[:-1], names[1:]
            target = base
            for name in names:
                if target + (name,) in mods:
                    target += (name,)
                else:
                    break
            # An arrow to a module's own ancestor is the module's parent re-exporting it: ignore
            # only self-references.
            if target != mod and target and not mod[: len(target)] == target:
                graph[mod].add(target)
    return graph


def cycles(graph):
    """Strongly connected components with more than one module (Tarjan)."""
    index, low, stack, on, out, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph[v]:
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
                out.append(sorted(comp))

    sys.setrecursionlimit(10000)
    for v in graph:
        if v not in index:
            visit(v)
    return out


def main():
    root = Path(__file__).resolve().parent.parent
    bad = 0
    for src in [root / "src", *sorted((root / "crates").glob("*/src"))]:
        mods = modules(src)
        graph = edges(mods)
        found = cycles(graph)
        name = src.parent.name if src.parent != root else "trafficgen"
        arrows = sum(len(v) for v in graph.values())
        for comp in found:
            bad += 1
            names = ", ".join("::".join(m) for m in comp)
            print(f"FAIL  {name}: import cycle among {names}")
        if not found:
            print(f"ok    {name}: {len(mods)} modules, {arrows} import arrows, no cycle")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
