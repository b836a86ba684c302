#!/usr/bin/env bash
# run.sh - install what is needed, build Sanji twice (gcc with -Werror, and
# clang with AddressSanitizer + UndefinedBehaviorSanitizer + libFuzzer), run
# the whole ctest suite in both, then run the PostgreSQL tests once more from
# a copy of the tree inside a folder only root may enter (clone_check.sh).
# Exits non-zero on any failure, on a test that skipped itself, when
# nothing ran, and when a test left its PostgreSQL cluster behind.
#
#   ./tests/run.sh                          everything
#   SANJI_TEST_LABEL=unit ./tests/run.sh    only one ctest label (unit,
#                                           integration, e2e, chaos, fuzz, desk,
#                                           packages, upgrade);
#                                           the clone check runs with the full
#                                           suite only
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

./deploy/install-deps.sh

jobs=$(nproc)
label=${SANJI_TEST_LABEL:-}
ran=0

# Number of tests ctest would run in build folder $1 (with the label, if any).
count_tests() {
  local args=(-N)
  [ -z "$label" ] || args+=(-L "$label")
  (cd "$1" && ctest "${args[@]}") | sed -n 's/^Total Tests: \([0-9]*\)$/\1/p'
}

# cmocka prints "[  SKIPPED ]" for a test that called skip(), and the test
# program still exits 0; such a test must not pass unseen.
check_skips() {
  local log=$1/Testing/Temporary/LastTest.log skipped
  skipped=$(grep -a '^\[  SKIPPED \] ' "$log" 2>/dev/null | sort -u || true)
  if [ -n "$skipped" ]; then
    echo "== $(printf '%s\n' "$skipped" | wc -l) test(s) skipped themselves in $1:" >&2
    printf '%s\n' "$skipped" >&2
    echo "run.sh: a skipped test is a failure: install what it needs or fix it" >&2
    exit 1
  fi
}

build_and_test() {
  local dir=$1; shift
  echo "== configure $dir"
  cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" >/dev/null
  echo "== build $dir"
  cmake --build "$dir" -j "$jobs"
  local n
  n=$(count_tests "$dir")
  echo "== test $dir ($n tests${label:+ labelled $label})"
  if [ "${n:-0}" -eq 0 ]; then
    return 0   # a label only one of the builds has (fuzz: the sanitizer build)
  fi
  ran=$((ran + n))
  local args=(--output-on-failure --timeout 600 -j "$jobs" --no-tests=error)
  [ -z "$label" ] || args+=(-L "$label")
  (cd "$dir" && ctest "${args[@]}")
  check_skips "$dir"
}

# The PostgreSQL clusters the tests start live in private folders
# /tmp/sanji-pg.* (tests/lib/pg_cluster.sh); each must be gone when its test
# is.  Those there before this run (another run's, a person's) are not ours.
pg_folders() { ls -d /tmp/sanji-pg.* 2>/dev/null | sort || true; }
pg_before=$(pg_folders)
check_pg_leaks() {
  local leaked="" d
  for d in $(comm -13 <(printf '%s\n' "$pg_before") <(pg_folders)); do
    # A cluster still running belongs to a run going on beside this one.
    [ -f "$d/data/postmaster.pid" ] || leaked+="$d "
  done
  if [ -n "$leaked" ]; then
    echo "run.sh: test clusters left behind (a test removed its link to the cluster, not the" \
         "cluster: use tests/lib/pg_cluster.sh stop): $leaked" >&2
    exit 1
  fi
}

build_and_test build/release -DCMAKE_C_COMPILER=gcc
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
LSAN_OPTIONS=suppressions=$root/tests/lsan.supp \
  build_and_test build/asan -DCMAKE_C_COMPILER=clang -DSANJI_SANITIZE=ON

if [ "$ran" -eq 0 ]; then
  echo "run.sh: no test has the label '$label' in either build" >&2
  exit 1
fi
if [ -z "$label" ]; then
  ./tests/clone_check.sh
fi
check_pg_leaks
echo "== all tests passed"
