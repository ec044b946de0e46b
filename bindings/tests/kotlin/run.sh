#!/usr/bin/env bash
# Kotlin binding tests on the JVM: the generated bindings, the Android app's state classes
# (android/app/src/main/java/cn/linli/app/state), its secret store (…/secrets) and these
# tests, compiled together by kotlinc and run with JUnit 4 against the real debug library and
# a real sync server.
#
#   bindings/tests/kotlin/run.sh
#
# Installs on first use: kotlinc (npm, cached in target/kotlin-tools) and JNA + JUnit 4 (apt).
# Ends with a line `N passed, M failed`; exits non-zero when anything failed.
set -euo pipefail
cd "$(dirname "$0")/../../.."

kotlin_version=2.4.20
tools=target/kotlin-tools
out=target/kotlin-tests
bindings=target/bindings/debug
server=target/debug/linli-demo

# ---- tools -------------------------------------------------------------------------------

java_major=$(java -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.specification.version = //p')
if [ "${java_major:-0}" -lt 17 ]; then
  echo "run.sh: needs Java 17 or newer (found ${java_major:-none})" >&2
  exit 1
fi

compiler=$tools/node_modules/kotlin-compiler
if ! grep -q "\"version\": \"$kotlin_version\"" "$compiler/package.json" 2>/dev/null; then
  echo "installing kotlin-compiler $kotlin_version into $tools"
  npm install --prefix "$tools" --no-audit --no-fund --loglevel=error "kotlin-compiler@$kotlin_version"
fi

missing=()
[ -f /usr/share/java/jna.jar ] || missing+=(libjna-java)
[ -f /usr/share/java/junit4.jar ] || missing+=(junit4)
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# ---- the library, its bindings and the server --------------------------------------------

# The workspace as the tests build it (one feature set): nothing is compiled twice.
cargo build --workspace --locked
bindings/generate.sh debug

# ---- compile once: bindings + state classes + tests --------------------------------------

lib=$compiler/lib
classpath=/usr/share/java/jna.jar:/usr/share/java/junit4.jar:/usr/share/java/hamcrest-core.jar
classpath+=:$lib/kotlinx-coroutines-core-jvm.jar:$lib/kotlin-test.jar:$lib/kotlin-test-junit.jar
rm -rf "$out"
mkdir -p "$out"
echo "compiling (kotlinc, about 30 s)"
# -nowarn: the generated bindings warn by the hundred; our own code is kept warning-free by review.
"$compiler/bin/kotlinc" -jvm-target 17 -nowarn -cp "$classpath" -d "$out" \
  "$bindings/kotlin/uniffi/linli/linli.kt" \
  android/app/src/main/java/cn/linli/app/state/*.kt \
  android/app/src/main/java/cn/linli/app/secrets/*.kt \
  bindings/tests/kotlin/*.kt

# ---- run ---------------------------------------------------------------------------------

mapfile -t tests < <(cd "$out" && find . -name '*Test.class' ! -name '*$*' | sed 's|^\./||; s|\.class$||; s|/|.|g' | sort)
log=$out/junit.log
set +e
java -Djna.library.path="$bindings/lib" -Dlinli.server="$PWD/$server" \
  -cp "$out:$classpath:$lib/kotlin-stdlib.jar" \
  org.junit.runner.JUnitCore "${tests[@]}" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e

# JUnitCore ends with "OK (N tests)" or "Tests run: N,  Failures: F".
if ok=$(grep -oE '^OK \(([0-9]+) tests?\)' "$log" | grep -oE '[0-9]+'); then
  passed=$ok failed=0
elif summary=$(grep -oE '^Tests run: [0-9]+, +Failures: [0-9]+' "$log"); then
  read -r run failures < <(echo "$summary" | grep -oE '[0-9]+' | tr '\n' ' ')
  passed=$((run - failures)) failed=$failures
else
  passed=0 failed=1 # the runner itself failed (no summary line)
fi
if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then failed=1; fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
