#!/usr/bin/env bash
# Runs the Python binding tests against freshly generated bindings and a real demo server.
#
#   bindings/tests/python/run.sh [pytest args…]
#
# Uses (creating it once) a venv in target/py-venv with pytest; regenerates the debug
# bindings (target/bindings/debug/python); builds the demo server if missing or stale.
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
# Built when missing, or older than its sources (a stale server may speak an older protocol).
server=target/debug/linli-demo
if [ ! -x "$server" ] ||
  [ -n "$(find domain/src core/src sync-server/src demo/src Cargo.lock -newer "$server" -print -quit)" ]; then
  cargo build --locked -p linli-demo
fi

status=0
PYTHONDONTWRITEBYTECODE=1 "$venv/bin/python" -m pytest bindings/tests/python "$@" || status=$?
if [ "$status" -eq 5 ]; then
  echo "run.sh: pytest collected no tests" >&2
  exit 1
fi
exit "$status"
