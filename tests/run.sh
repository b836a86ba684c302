#!/usr/bin/env bash
# run.sh - install what is needed, build Sanji twice (gcc with -Werror, and
# clang with AddressSanitizer + UndefinedBehaviorSanitizer + libFuzzer), and
# run the whole ctest suite in both.  Exits non-zero on any failure.
#
#   ./tests/run.sh                 everything
#   SANJI_TEST_LABEL=unit ./tests/run.sh   only one ctest label
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

./deploy/install-deps.sh

jobs=$(nproc)
label_args=()
if [ -n "${SANJI_TEST_LABEL:-}" ]; then
  label_args=(-L "$SANJI_TEST_LABEL")
fi

build_and_test() {
  local dir=$1; shift
  echo "== configure $dir"
  cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" >/dev/null
  echo "== build $dir"
  cmake --build "$dir" -j "$jobs"
  echo "== test $dir"
  (cd "$dir" && ctest --output-on-failure --timeout 600 -j "$jobs" "${label_args[@]}")
}

build_and_test build/release -DCMAKE_C_COMPILER=gcc
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
LSAN_OPTIONS=suppressions=$root/tests/lsan.supp \
  build_and_test build/asan -DCMAKE_C_COMPILER=clang -DSANJI_SANITIZE=ON
echo "== all tests passed"
