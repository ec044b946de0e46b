#!/usr/bin/env bash
# The admin console's browser tests: headless Chromium (Debian's, never a downloaded one)
# driven by Selenium against the real `linli-demo` server, with phones as real device
# stores through the Python bindings.
#
#   tests/browser/run.sh [pytest args…]
#
# Installs what is missing, once: chromium, its driver and CJK fonts (apt); selenium and
# pytest into the shared venv target/py-venv. Regenerates the debug bindings and builds the
# workspace (both do nothing when fresh). Screenshots go to target/browser-artifacts/.
# Exits with pytest's code; "no tests collected" (5) counts as a failure.
set -euo pipefail
cd "$(dirname "$0")/../.."

missing=()
for package in chromium chromium-driver fonts-noto-cjk; do
  dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

venv=target/py-venv
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
fi
if ! "$venv/bin/python" -c 'import pytest, selenium, openpyxl' 2>/dev/null; then
  # openpyxl: an independent reader of the exported XLSX ledgers.
  "$venv/bin/pip" install --quiet --disable-pip-version-check pytest selenium openpyxl
fi

bindings/generate.sh debug >/dev/null
# The demo server, built with the whole workspace (one feature set, as the tests build it);
# cargo rebuilds it when its sources changed, and does nothing otherwise.
cargo build --workspace --locked --quiet

# Screenshots of this run only: the board, an incident page, and any failure's.
mkdir -p target/browser-artifacts
rm -f target/browser-artifacts/*.png
status=0
# SE_OFFLINE: Selenium Manager must not try to download a driver or a browser.
SE_OFFLINE=true PYTHONDONTWRITEBYTECODE=1 \
  "$venv/bin/python" -m pytest tests/browser "$@" || status=$?
if [ "$status" -eq 5 ]; then
  echo "run.sh: pytest collected no tests" >&2
  exit 1
fi
exit "$status"
