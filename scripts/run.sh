#!/usr/bin/env bash
# The main job: builds and starts the sync server on an embedded SQLite file with a demo
# community (users and device tokens printed), runs simulated devices through it, and keeps
# serving until Ctrl-C. Extra arguments go to `linli-demo`.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v cargo >/dev/null || { echo "Rust is needed: https://rustup.rs" >&2; exit 1; }
# The whole workspace, as the tests build it: after ./scripts/test.sh this compiles nothing.
cargo build --workspace --locked
exec target/debug/linli-demo "$@"
