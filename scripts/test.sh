#!/usr/bin/env bash
# Sets up what the tests need and runs every test. The README's test command; CI runs it too.
# LINLI_HEAVY=1 also runs the long property tests (more cases).
set -euo pipefail
cd "$(dirname "$0")/.."

export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"

echo "== format"
cargo fmt --all -- --check

echo "== lint"
cargo clippy --workspace --all-targets --locked -- -D warnings

echo "== rust tests"
cargo test --workspace --locked

echo "== kotlin bindings (JVM, real library, real server)"
bash bindings/tests/kotlin/run.sh

echo "== python bindings (pytest, real library, real server)"
bash bindings/tests/python/run.sh -q
