#!/usr/bin/env bash
# Runs the Python binding tests against freshly generated bindings and a real demo server.
#
#   bindings/tests/python/run.sh [pytest args…]
#
# Uses (creating it once) a venv in target/py-venv with pytest; regenerates the debug
# bindings (target/bindings/debug/python); builds the workspace (the demo server) if stale.
# Exits with pytest's code; "no tests collected" (5) counts as a failure.
set -euo pipefail
cd "$(dirname "$0")/../../.."

venv=target/py-venv
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
fi
if ! "$venv/bin/python" -c 'import pytest' 2>/dev/null; then
  "$venv/bin/pip" install --quiet pytest
fi

bindings/generate.sh debug
# The demo server, built with the whole workspace (one feature set, as the tests build it);
# cargo rebuilds it when its sources changed, and does nothing otherwise.
cargo build --workspace --locked

status=0
PYTHONDONTWRITEBYTECODE=1 "$venv/bin/python" -m pytest bindings/tests/python "$@" || status=$?
if [ "$status" -eq 5 ]; then
  echo "run.sh: pytest collected no tests" >&2
  exit 1
fi
exit "$status"
