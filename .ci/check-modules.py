#!/usr/bin/env python3
"""The module graph of each crate has no cycle, and imports run downhill through the layers.

Every `crate::a::b` path in a file is an arrow from the file's module to `a` and to `a::b` (when
that is a module); `super::x` is resolved the same way. Test modules (`tests.rs`, `mod tests`
blocks) are left out: a test may look at anything.

The layers are the top-level modules that a crate's `lib.rs` declares after a line
`// Layers, top first:`, in that order: a module may import its own layer or one declared after it, never
one declared before it. Prints every cycle and every upward import, and exits 1 if there is one.
`--self-test` runs the checker's own tests.
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


LAYERS_LINE = "// Layers, top first:"


def layers(src: Path):
    """Top-level module names declared after `lib.rs`'s layers line: the layers, top first."""
    lib = src / "lib.rs"
    text = lib.read_text() if lib.exists() else ""
    _, marker, declared = text.partition(LAYERS_LINE)
    return re.findall(r"^(?:pub(?:\([a-z]+\))? )?mod (\w+);", declared, re.M) if marker else []


def upward(graph, order):
    """Arrows from a module to a layer above its own: (from, to) pairs."""
    rank = {name: i for i, name in enumerate(order)}
    out = []
    for mod, targets in graph.items():
        if not mod or mod[0] not in rank:
            continue
        for target in targets:
            if target[0] in rank and rank[target[0]] < rank[mod[0]]:
                out.append((mod, target))
    return sorted(out)


def check(src: Path, name: str):
    """Print the findings for one crate; the number of failures."""
    mods = modules(src)
    graph = edges(mods)
    found = cycles(graph)
    order = layers(src)
    up = upward(graph, order)
    for comp in found:
        print(f"FAIL  {name}: import cycle among {', '.join('::'.join(m) for m in comp)}")
    for mod, target in up:
        print(f"FAIL  {name}: {'::'.join(mod)} imports {'::'.join(target)}, a layer above it ({' > '.join(order)})")
    if not found and not up:
        arrows = sum(len(v) for v in graph.values())
        layered = f", {len(order)} layers ({' > '.join(order)}) respected" if order else ""
        print(f"ok    {name}: {len(mods)} modules, {arrows} import arrows, no cycle{layered}")
    return len(found) + len(up)


def self_test():
    """A planted upward import and a planted cycle are both caught; a downhill tree passes."""
    import tempfile

    def crate(files):
        root = Path(tempfile.mkdtemp())
        for rel, text in files.items():
            (root / rel).parent.mkdir(parents=True, exist_ok=True)
            (root / rel).write_text(text)
        return root

    lib = LAYERS_LINE + "\npub mod top;\nmod low;\n"
    good = crate({"lib.rs": lib, "top.rs": "use crate::low::x;\n", "low.rs": "pub fn x() {}\n"})
    assert check(good, "good") == 0
    bad = crate({"lib.rs": lib, "top.rs": "pub fn y() {}\n", "low.rs": "use crate::top::y;\n"})
    assert check(bad, "planted upward import") == 1
    nested = crate({
        "lib.rs": lib, "top.rs": "mod a;\n", "top/a.rs": "pub fn y() {}\n",
        "low.rs": "mod b;\n", "low/b.rs": "fn f() { crate::top::a::y() }\n",
    })
    assert check(nested, "planted upward import, nested") == 1
    tests_may = crate({
        "lib.rs": lib, "top.rs": "pub fn y() {}\n",
        "low.rs": "#[cfg(test)]\nmod tests {\n    use crate::top::y;\n}\n",
    })
    assert check(tests_may, "a test looking up") == 0
    cycle = crate({"lib.rs": "mod a;\nmod b;\n", "a.rs": "use crate::b::x;\n", "b.rs": "use crate::a::y;\n"})
    assert check(cycle, "planted cycle") >= 1
    print("ok    self-test: upward imports and cycles are caught")


def main():
    if sys.argv[1:] == ["--self-test"]:
        self_test()
        return
    root = Path(__file__).resolve().parent.parent
    bad = 0
    for src in [root / "src", *sorted((root / "crates").glob("*/src"))]:
        name = src.parent.name if src.parent != root else "trafficgen"
        bad += check(src, name)
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
