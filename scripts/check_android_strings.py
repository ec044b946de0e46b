#!/usr/bin/env python3
"""Checks the Android app's strings without the Android SDK: both string tables parse, hold
the same keys with the same format arguments, and hold every `R.string.x` the Kotlin uses.

    python3 scripts/check_android_strings.py

values/strings.xml is Chinese (the default), values-en/strings.xml English. A key missing
from either table, a key in one table only, or a key no Kotlin file uses fails the check
(exit 1), as a missing resource would fail the Gradle build or show a blank on screen.
"""

import re
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
APP = ROOT / "android/app/src/main"
TABLES = {
    "values (zh)": APP / "res/values/strings.xml",
    "values-en": APP / "res/values-en/strings.xml",
}
# Kotlin that uses string resources: the screens, and the app's own files (notifications).
SOURCES = APP / "java/cn/linli/app"

USE = re.compile(r"\bR\.string\.([A-Za-z0-9_]+)")
# The manifest names resources as @string/x (the app's label).
MANIFEST = APP / "AndroidManifest.xml"
XML_USE = re.compile(r"@string/([A-Za-z0-9_]+)")
# Android format arguments: %d, %s, %1$d, %2$02d, …
ARGUMENT = re.compile(r"%(?:(\d+)\$)?[-0#+ ]*\d*(?:\.\d+)?([dsfx])")


def raw_values(path):
    """Each string's text as written in the file (before XML unescaping)."""
    text = path.read_text(encoding="utf-8")
    return re.findall(r'<string name="([^"]+)"[^>]*>(.*?)</string>', text, re.S)


def parse(path):
    """The table as {key: text}; a duplicate key or a malformed file fails."""
    try:
        root = ET.parse(path).getroot()
    except ET.ParseError as e:
        sys.exit(f"{path}: not well-formed XML: {e}")
    table = {}
    for node in root.iter("string"):
        key = node.get("name")
        if key in table:
            sys.exit(f"{path}: duplicate key {key!r}")
        table[key] = "".join(node.itertext())
    return table


def arguments(text):
    """The format arguments in argument order, as conversion letters."""
    found = ARGUMENT.findall(text.replace("%%", ""))
    if found and all(pos for pos, _ in found):
        found = sorted(found, key=lambda f: int(f[0]))
    return [conv for _, conv in found]


def used_keys():
    keys = {}
    for path in sorted(SOURCES.rglob("*.kt")):
        for key in USE.findall(path.read_text(encoding="utf-8")):
            keys.setdefault(key, path.relative_to(ROOT))
    for key in XML_USE.findall(MANIFEST.read_text(encoding="utf-8")):
        keys.setdefault(key, MANIFEST.relative_to(ROOT))
    return keys


def main():
    tables = {name: parse(path) for name, path in TABLES.items()}
    (zh_name, zh), (en_name, en) = tables.items()
    used = used_keys()
    problems = []
    for key in sorted(zh.keys() ^ en.keys()):
        problems.append(f"only in {zh_name if key in zh else en_name}: {key!r}")
    for key in sorted(zh.keys() & en.keys()):
        if arguments(zh[key]) != arguments(en[key]):
            problems.append(f"{key!r}: format arguments differ: {zh[key]!r} / {en[key]!r}")
    # aapt2 refuses an apostrophe that is neither escaped nor inside double quotes.
    for name, path in TABLES.items():
        for key, value in raw_values(path):
            if re.search(r"(?<!\\)'", value) and not value.startswith('"'):
                problems.append(f"{name}: {key!r}: unescaped apostrophe (write \\')")
    for key, file in sorted(used.items()):
        for name, table in tables.items():
            if key not in table:
                problems.append(f"{file}: R.string.{key} missing from {name}")
    for key in sorted((zh.keys() | en.keys()) - used.keys()):
        problems.append(f"unused key {key!r}")
    for p in problems:
        print(p)
    print(f"{len(zh)} keys in values and {len(en)} in values-en; {len(used)} used in Kotlin; "
          f"{len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
