#!/usr/bin/env bash
# Builds the core for iOS as ios/LinliKit/Linli.xcframework and generates its Swift bindings
# into ios/LinliKit/Sources/LinliBindings/linli.swift. Both are outputs: rerun, never edit.
#
#   ios/build-xcframework.sh                  on a Mac with Xcode and rustup: everything
#   ios/build-xcframework.sh --swift-only LIB anywhere: only the Swift file, header and
#                                             module map, from an already built LIB
#                                             (e.g. target/debug/liblinli.so on Linux)
#
# Slices: iPhone (aarch64-apple-ios) and Simulator (aarch64-apple-ios-sim + x86_64-apple-ios,
# joined with lipo). Release profile (fat LTO, opt-level "s"), static library only.
set -euo pipefail
cd "$(dirname "$0")/.."

kit=ios/LinliKit
build=ios/build
device=aarch64-apple-ios
simulators=(aarch64-apple-ios-sim x86_64-apple-ios)
export IPHONEOS_DEPLOYMENT_TARGET="${IPHONEOS_DEPLOYMENT_TARGET:-16.0}"

# Swift sources, the C header and a module map, from a compiled library (uniffi library mode
# reads the API from the library's metadata; it must not be stripped).
generate_swift() {
  local lib=$1
  cargo build --locked -p uniffi-bindgen
  rm -rf "$build/swift" "$build/headers"
  target/debug/uniffi-bindgen generate --library "$lib" --language swift \
    --out-dir "$build/swift" --no-format >/dev/null
  local header module
  header=$(cd "$build/swift" && ls ./*FFI.h)
  header=${header#./}
  module=${header%.h}
  grep -q "^module $module " "$build/swift/$module.modulemap" || {
    echo "unexpected module map from uniffi-bindgen:" >&2
    cat "$build/swift/$module.modulemap" >&2
    exit 1
  }
  # The header goes in its own folder (Xcode copies every xcframework's Headers into one
  # include/ directory); the module map stays at the root of Headers, where Xcode's explicit
  # module scanner looks. Written here rather than copied: uniffi's map adds
  # `use "_Builtin_stdbool"` / `use "_Builtin_stdint"`, which Xcode 26 toolchains reject.
  mkdir -p "$build/headers/$module"
  cp "$build/swift/$header" "$build/headers/$module/"
  cat >"$build/headers/module.modulemap" <<EOF
module $module {
    header "$module/$header"
    export *
}
EOF
  mkdir -p "$kit/Sources/LinliBindings"
  cp "$build/swift/linli.swift" "$kit/Sources/LinliBindings/linli.swift"
  echo "Swift bindings: $kit/Sources/LinliBindings/linli.swift (module $module)"
}

if [ "${1:-}" = --swift-only ]; then
  [ $# -eq 2 ] || { echo "usage: $0 --swift-only LIB" >&2; exit 2; }
  generate_swift "$2"
  exit 0
fi
[ $# -eq 0 ] || { echo "usage: $0 [--swift-only LIB]" >&2; exit 2; }

for tool in rustup xcodebuild lipo; do
  command -v "$tool" >/dev/null || { echo "$0: needs $tool (a Mac with Xcode and rustup)" >&2; exit 1; }
done

rustup target add "$device" "${simulators[@]}"
for target in "$device" "${simulators[@]}"; do
  # `cargo rustc --crate-type staticlib`: only the archive the app links, so the slow
  # fat-LTO link runs once per target instead of again for the unused cdylib.
  cargo rustc --locked --release -p linli-bindings --lib --crate-type staticlib --target "$target"
done

generate_swift "target/$device/release/liblinli.a"

mkdir -p "$build/ios-simulator"
lipo -create \
  "target/${simulators[0]}/release/liblinli.a" \
  "target/${simulators[1]}/release/liblinli.a" \
  -output "$build/ios-simulator/liblinli.a"

rm -rf "$kit/Linli.xcframework"
xcodebuild -create-xcframework \
  -library "target/$device/release/liblinli.a" -headers "$build/headers" \
  -library "$build/ios-simulator/liblinli.a" -headers "$build/headers" \
  -output "$kit/Linli.xcframework"

echo "built $kit/Linli.xcframework:"
du -sh "$kit/Linli.xcframework"/*/ 2>/dev/null || true
