#!/usr/bin/env bash
# What can be checked of the iOS app on Linux (no Swift compiler here): the strings tables
# (check_strings.py) and every Swift file's syntax plus the state classes' mirror of android's
# (check_swift.py, tree-sitter-swift from PyPI, installed once into the shared venv).
set -euo pipefail
cd "$(dirname "$0")/.."

venv=target/py-venv
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
fi
if ! "$venv/bin/python" -c 'import tree_sitter, tree_sitter_swift' 2>/dev/null; then
  "$venv/bin/pip" install --quiet tree-sitter tree-sitter-swift
fi
python3 ios/check_strings.py
"$venv/bin/python" ios/check_swift.py
