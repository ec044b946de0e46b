#!/usr/bin/env bash
# Generates the Kotlin, Swift and Python bindings from the compiled library (uniffi library
# mode). Generated files are outputs: never edit them by hand, rerun this.
#
#   bindings/generate.sh [debug|release] [OUT_DIR]
#
# debug (default) is what the tests load; release is the small library the apps ship
# (fat LTO, opt-level "s"; stripped after generation, since uniffi reads its metadata from
# the unstripped file). OUT_DIR defaults to target/bindings/<profile>.
set -euo pipefail
cd "$(dirname "$0")/.."

profile="${1:-debug}"
out="${2:-target/bindings/$profile}"
case "$profile" in
  # The whole workspace, never `-p`: the same feature set as the tests, so nothing is
  # compiled twice.
  debug) cargo build --workspace --locked ;;
  release)
    cargo build --workspace --locked
    cargo build --locked --release -p linli-bindings ;;
  *) echo "usage: $0 [debug|release] [OUT_DIR]" >&2; exit 2 ;;
esac

case "$(uname -s)" in
  Darwin) lib="target/$profile/liblinli.dylib" ;;
  *) lib="target/$profile/liblinli.so" ;;
esac
rm -rf "$out"
mkdir -p "$out"
for language in kotlin swift python; do
  target/debug/uniffi-bindgen generate --library "$lib" --language "$language" \
    --out-dir "$out/$language" --no-format >/dev/null
done
name=$(basename "$lib")
cp "$lib" "$out/python/"
mkdir -p "$out/lib"
cp "$lib" "$out/lib/"
if [ "$profile" = release ]; then
  strip "$out/lib/$name" "$out/python/$name"
fi
echo "bindings in $out ($(du -h "$out/lib/$name" | cut -f1) library)"
