#!/usr/bin/env bash
# clone_check.sh - the PostgreSQL part of the suite from a copy of this tree
# in a folder only its owner may enter (mode 0700), as a clone under /root
# or under a `mktemp -d` folder is.  As root, PostgreSQL runs as the
# unprivileged sanji-test user, who cannot pass through such a folder; this
# check keeps every test cluster reachable (tests/lib/pg_cluster.sh) and
# keeps the test user from owning anything in the tree.
#
#   tests/clone_check.sh            copy, build the PostgreSQL tests, run them
#
# The copy holds the tracked files and the untracked ones git does not
# ignore, as they are now (uncommitted changes included).  It is removed at
# the end.  Exit status: 0 when every test passed and nothing in the copy
# is owned by the test user; non-zero otherwise.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)

top=$(mktemp -d /tmp/sanji-clone-check.XXXXXX)
trap 'rm -rf "$top"' EXIT
chmod 700 "$top"
copy=$top/sanji
mkdir "$copy"
(cd "$root" && git ls-files -z --cached --others --exclude-standard) |
  tar -C "$root" --null -T - --ignore-failed-read -cf - 2>/dev/null | tar -C "$copy" -xf -

echo "== clone check: PostgreSQL tests from $copy (parent mode $(stat -c %a "$top"))"
build=$copy/build/release
cmake -S "$copy" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_C_COMPILER=gcc \
  -DSANJI_DESKTOP=OFF >/dev/null
# Only what the PostgreSQL tests need: the shared cluster's users and the
# county server with its own private cluster.
cmake --build "$build" -j "$(nproc)" --target test_server_migrate test_server_import \
  test_server_apply test_countyd >/dev/null
(cd "$build" && ctest --output-on-failure --no-tests=error \
  -R '^(pg_cluster_start|pg_cluster_stop|test_server_migrate|test_server_import|test_server_apply|test_countyd)$')

if [ "$(id -u)" -eq 0 ] && id sanji-test >/dev/null 2>&1; then
  owned=$(find "$copy" -user sanji-test -print -quit)
  if [ -n "$owned" ]; then
    echo "clone check: $owned (and maybe more) is owned by the test user sanji-test" >&2
    exit 1
  fi
fi
echo "== clone check passed"
