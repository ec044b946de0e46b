#!/usr/bin/env bash
# Sets up what the tests need and runs every test. The README's test command; CI runs it too.
# LINLI_HEAVY=1 also runs the long property tests (more cases).
#
# Every cargo call builds the whole workspace with one feature set (`--workspace`, never
# `-p`): the test, binding and demo steps then share every compiled crate, so nothing is
# built twice and a second run compiles nothing.
set -euo pipefail
cd "$(dirname "$0")/.."

export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
# A one-shot build gains nothing from incremental caches, and they take gigabytes of disk.
export CARGO_INCREMENTAL="${CARGO_INCREMENTAL:-0}"

started=$SECONDS
step_started=$SECONDS
step_name=""
step() {
  if [ -n "$step_name" ]; then
    echo "== $step_name: $((SECONDS - step_started)) s"
  fi
  step_name="$1"
  step_started=$SECONDS
  [ -z "$step_name" ] || echo "== $step_name"
}

step "format"
cargo fmt --all -- --check

step "modules (no import circles, no oversized files)"
python3 scripts/check_modules.py

step "apps (strings, Swift syntax and mirrors; no Android SDK or Swift compiler here)"
bash ios/check.sh
python3 scripts/check_android_strings.py

step "lint"
cargo clippy --workspace --all-targets --locked -- -D warnings

step "build (libraries and binaries, once)"
cargo build --workspace --locked

step "rust tests"
cargo test --workspace --locked

step "benchmarks (smoke sizes; full sizes: cargo bench -p linli-benchmarks)"
cargo test --workspace --benches --locked

step "kotlin bindings (JVM, real library, real server)"
bash bindings/tests/kotlin/run.sh

step "python bindings (pytest, real library, real server)"
bash bindings/tests/python/run.sh -q

step "browser (headless Chromium, real server)"
bash tests/browser/run.sh -q

step ""
if [ -d target ]; then echo "== disk: target holds $(du -sh target | cut -f1)"; fi
echo "== all tests passed in $((SECONDS - started)) s"
