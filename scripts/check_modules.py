#!/usr/bin/env python3
"""Checks the module graph of every crate: no import circles, and no source file over 600
lines of non-test code. Run by scripts/test.sh; exits non-zero on a problem.

A module's dependencies are the `crate::name` paths its file mentions (uses, and paths in
code), where `name` is a top-level module of the same crate. Submodules count as their
parent (`doc/read.rs` is part of `doc`). Test code (from the first `#[cfg(test)]`) is not
counted: tests may reach anywhere.
"""
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CRATES = ["domain", "core", "sync-server", "testkit", "demo", "bindings", "benchmarks"]
MAX_LINES = 600


def non_test(text: str) -> str:
    """The code before the first `#[cfg(test)]`, without comments (doc links are not imports)."""
    cut = text.find("#[cfg(test)]")
    code = text if cut < 0 else text[:cut]
    return re.sub(r"//[^\n]*", "", code)


def non_test_lines(text: str) -> int:
    cut = text.find("#[cfg(test)]")
    return (text if cut < 0 else text[:cut]).count("\n")


def check_crate(src: Path, problems: list) -> None:
    files = sorted(src.rglob("*.rs"))
    top = {f.relative_to(src).parts[0].removesuffix(".rs") for f in files}
    top -= {"lib", "main"}
    graph = {m: set() for m in top}
    for f in files:
        rel = f.relative_to(src).parts
        module = rel[0].removesuffix(".rs")
        code = non_test(f.read_text(encoding="utf-8"))
        lines = non_test_lines(f.read_text(encoding="utf-8"))
        if lines > MAX_LINES:
            problems.append(f"{f.relative_to(ROOT)}: {lines} lines of non-test code (> {MAX_LINES})")
        if module in ("lib", "main"):
            continue
        for name in re.findall(r"\bcrate::(\w+)", code):
            if name in top and name != module:
                graph[module].add(name)
        # `use crate::{a, b::c}` groups
        for group in re.findall(r"\bcrate::\{([^}]*)\}", code):
            for name in re.findall(r"(?:^|,)\s*(\w+)", group):
                if name in top and name != module:
                    graph[module].add(name)
    # Cycle search (depth first, colours).
    colour = {m: 0 for m in graph}
    stack = []

    def visit(m):
        colour[m] = 1
        stack.append(m)
        for n in sorted(graph[m]):
            if colour[n] == 1:
                cycle = stack[stack.index(n):] + [n]
                problems.append(f"{src.relative_to(ROOT)}: import circle {' -> '.join(cycle)}")
            elif colour[n] == 0:
                visit(n)
        stack.pop()
        colour[m] = 2

    for m in sorted(graph):
        if colour[m] == 0:
            visit(m)


def main() -> int:
    problems: list = []
    for crate in CRATES:
        src = ROOT / crate / "src"
        if src.is_dir():
            check_crate(src, problems)
    for p in problems:
        print(p)
    if problems:
        return 1
    print(f"module graphs: no import circles; no file over {MAX_LINES} lines of non-test code")
    return 0


if __name__ == "__main__":
    sys.exit(main())
