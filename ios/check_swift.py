#!/usr/bin/env python3
"""Checks the Swift that cannot be compiled here (no Swift toolchain on Linux CI): every
`.swift` file under ios/ parses with tree-sitter-swift, and the LinliKit state classes mirror
android's state classes: each Kotlin class under android/.../state has a Swift file of the same
name, and each public method of the Kotlin class has a Swift method of the same name
(lowerCamelCase either side).

    python3 ios/check_swift.py   (needs `pip install tree-sitter tree-sitter-swift`)

This proves syntax and shape, not types: see ios/README.md for what was never compiled.
"""

import re
import sys
from pathlib import Path

import tree_sitter
import tree_sitter_swift

HERE = Path(__file__).resolve().parent
KOTLIN_STATE = HERE.parent / "android/app/src/main/java/cn/linli/app/state"
SWIFT_STATE = HERE / "LinliKit/Sources/LinliKit"

# Kotlin state files whose Swift counterpart has another shape on purpose.
NOT_MIRRORED = {"Forms"}
# Kotlin methods with no Swift counterpart, with why.
SKIPPED_METHODS = {
    # Swift async calls cannot be cancelled into Rust (see SyncScreenState.swift).
    ("SyncScreenState", "cancel"),
}
# Kotlin extension functions whose Swift form is an initializer (a regex on the Swift file).
ALIASES = {
    "toNotice": r"init\(_ error: Error\)",
    "refusedNotice": r"init\?\(refusedIn",
    "observe": r"init\(store: LinliStore, action:",
}

# A member (4 spaces in) or top-level function; nested ones (local, companion) are deeper.
KOTLIN_FUN = re.compile(r"^( {0}| {4})(?:override\s+)?(?:suspend\s+)?fun\s+(?:[A-Za-z_.<>]+\.)?([a-z][A-Za-z0-9_]*)\s*[(<]")
KOTLIN_PRIVATE = re.compile(r"^\s*(?:private|protected|internal)\s")


def errors(tree, src):
    out = []

    def walk(n):
        if n.type == "ERROR" or n.is_missing:
            line = n.start_point[0] + 1
            out.append(f"line {line}: {src[n.start_byte:n.end_byte][:60]!r}")
        for c in n.children:
            walk(c)

    walk(tree.root_node)
    return out


def kotlin_public_methods(text):
    names = set()
    for line in text.splitlines():
        m = KOTLIN_FUN.match(line)
        if m and not KOTLIN_PRIVATE.match(line) and "override" not in line:
            names.add(m.group(2))
    return names


def main():
    parser = tree_sitter.Parser(tree_sitter.Language(tree_sitter_swift.language()))
    problems = []
    files = sorted(HERE.rglob("*.swift"))
    for f in files:
        src = f.read_bytes()
        for e in errors(parser.parse(src), src.decode("utf-8", "replace")):
            problems.append(f"{f.relative_to(HERE.parent)}: does not parse: {e}")
    mirrored = 0
    for kt in sorted(KOTLIN_STATE.glob("*.kt")):
        if kt.stem in NOT_MIRRORED:
            continue
        swift = SWIFT_STATE / f"{kt.stem}.swift"
        if not swift.exists():
            problems.append(f"{kt.name}: no Swift mirror {swift.relative_to(HERE.parent)}")
            continue
        mirrored += 1
        swift_text = swift.read_text(encoding="utf-8")
        for name in sorted(kotlin_public_methods(kt.read_text(encoding="utf-8"))):
            if (kt.stem, name) in SKIPPED_METHODS:
                continue
            wanted = ALIASES.get(name, rf"\bfunc\s+{name}\b")
            if not re.search(wanted, swift_text):
                problems.append(f"{swift.name}: no `func {name}` (android's {kt.name} has it)")
    for p in problems:
        print(p)
    print(f"{len(files)} Swift files parsed; {mirrored} state classes mirrored; {len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
