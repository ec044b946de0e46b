#!/usr/bin/env python3
"""Checks the app's strings without a Mac: both Localizable.strings parse, hold the same keys
with the same format specifiers, and hold every key the Swift code uses.

    python3 ios/check_strings.py

A key is a string literal like "visit.record" (or "sync.pending \\(n)", whose key is
"sync.pending %lld") passed where SwiftUI takes a LocalizedStringKey; SF Symbol names
(`systemImage:` / `systemName:`) and reverse-DNS identifiers ("cn.linli…") are not keys.
"""

import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
APP = HERE / "LinliApp"
TABLES = {
    "zh-Hans": APP / "Resources/zh-Hans.lproj/Localizable.strings",
    "en": APP / "Resources/en.lproj/Localizable.strings",
}

ENTRY = re.compile(r'^"((?:[^"\\]|\\.)*)"\s*=\s*"((?:[^"\\]|\\.)*)";\s*$')
SPECIFIER = re.compile(r"%(?:\d+\$)?(?:lld|@|d)")
KEY_START = re.compile(r"^[a-z_]+\.[a-z_.]+")


def parse_strings(path):
    """The table as {key: value}; any line that is not an entry, comment or blank fails."""
    table, in_comment = {}, False
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        stripped = line.strip()
        if in_comment:
            in_comment = "*/" not in stripped
            continue
        if not stripped or stripped.startswith("//"):
            continue
        if stripped.startswith("/*"):
            in_comment = "*/" not in stripped
            continue
        m = ENTRY.match(stripped)
        if not m:
            sys.exit(f"{path}:{n}: not a .strings entry: {line}")
        key, value = m.groups()
        if key in table:
            sys.exit(f"{path}:{n}: duplicate key {key!r}")
        table[key] = value
    return table


def specifiers(text):
    """Format specifiers in order of their argument (positional ones by position)."""
    found = SPECIFIER.findall(text)
    plain = [re.sub(r"\d+\$", "", s) for s in found]
    if all("$" in s for s in found) and found:
        order = [int(re.match(r"%(\d+)\$", s).group(1)) for s in found]
        plain = [p for _, p in sorted(zip(order, plain))]
    return ["%lld" if s == "%d" else s for s in plain]


def swift_literals(text):
    """String literals of Swift source with each interpolation replaced by '{}'."""
    i, out = 0, []
    while (start := text.find('"', i)) != -1:
        j, buf = start + 1, []
        while j < len(text) and text[j] != '"':
            if text.startswith("\\(", j):
                depth, j = 1, j + 2
                while depth:
                    depth += {"(": 1, ")": -1}.get(text[j], 0)
                    j += 1
                buf.append("{}")
                continue
            if text[j] == "\\":
                buf.append(text[j:j + 2])
                j += 2
                continue
            buf.append(text[j])
            j += 1
        out.append((text[max(0, start - 80):start], "".join(buf)))
        i = j + 1
    return out


def used_keys():
    keys = {}
    for path in sorted(APP.rglob("*.swift")):
        for before, literal in swift_literals(path.read_text(encoding="utf-8")):
            if not KEY_START.match(literal) or literal.startswith("cn."):
                continue
            # The argument the literal is in: since the last ',' or '(' on its line.
            argument = re.split(r"[,(\n]", before)[-1]
            if "systemImage:" in argument or "systemName:" in argument:
                continue
            keys.setdefault(literal, path.name)
    return keys


def main():
    tables = {lang: parse_strings(path) for lang, path in TABLES.items()}
    problems = []
    zh, en = tables["zh-Hans"], tables["en"]
    for key in sorted(zh.keys() ^ en.keys()):
        problems.append(f"only in {'zh-Hans' if key in zh else 'en'}: {key!r}")
    for lang, table in tables.items():
        for key, value in table.items():
            if specifiers(key) != specifiers(value):
                problems.append(f"{lang}: {key!r} → {value!r}: format specifiers differ")
    normalised = {SPECIFIER.sub("{}", k): k for k in zh}
    for literal, file in sorted(used_keys().items()):
        if literal not in normalised:
            problems.append(f"{file}: {literal!r} has no entry")
    unused = set(normalised) - set(used_keys())
    for key in sorted(unused):
        problems.append(f"unused key {normalised[key]!r}")
    for p in problems:
        print(p)
    print(f"{len(zh)} keys in zh-Hans and en; {len(used_keys())} used in Swift; "
          f"{len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
