#!/usr/bin/env bash
# pg_wal.sh - the county's "nothing lost" backup on a private test cluster
# made by tests/lib/pg_cluster.sh: a base backup and the WAL streamed
# synchronously by pg_receivewal, the data directory destroyed, and the
# restore by deploy/backup/sanji-restore-county-wal.sh
# (docs/OPERATIONS.md section 7).
#
#   pg_wal.sh receive DIR   on the running cluster in DIR: a physical slot
#                           sanji_wal, pg_receivewal --synchronous into
#                           DIR/wal (in the background, ending by itself
#                           when the server goes), synchronous_standby_names
#                           = 'sanji_wal'; waits until it is the synchronous
#                           standby, so that every commit from then on is in
#                           DIR/wal before it is acknowledged.
#   pg_wal.sh base DIR      pg_basebackup -Fp -X stream -c fast into DIR/base.
#   pg_wal.sh crash DIR     the server stopped at once (pg_ctl -m immediate,
#                           as a power cut), pg_receivewal waited for, and
#                           DIR/data removed: the database's disk is lost.
#   pg_wal.sh restore DIR   sanji-restore-county-wal.sh DIR/base DIR/wal
#                           DIR/data, then the cluster started again
#                           (pg_cluster.sh start: a new port, DIR/conninfo
#                           rewritten and printed) and waited for until its
#                           recovery is over and it takes writes.
#
# Like pg_cluster.sh, it runs PostgreSQL's programs as the calling user, or
# as the system user "sanji-test" when run as root; "pg_cluster.sh stop DIR"
# removes everything, pg_receivewal having ended with its server.
#
# Exit status: 0 on success; non-zero with a message on stderr otherwise.
set -euo pipefail

PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
TEST_USER=sanji-test
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)

die() { echo "pg_wal: $*" >&2; exit 1; }

[ $# -eq 2 ] || die "usage: pg_wal.sh receive|base|crash|restore DIR"
cmd=$1
dir=$(cd "$2" && pwd -P) || die "no cluster folder $2"

as_owner() {
  if [ "$(id -u)" -eq 0 ]; then
    (cd "$dir" && runuser -u "$TEST_USER" -- "$@")
  else
    (cd "$dir" && "$@")
  fi
}

port() { sed -n 's/.*port=\([0-9]*\).*/\1/p' "$dir/conninfo"; }
su_conn() { echo "host=127.0.0.1 port=$(port) user=postgres"; }
psql_su() { "$PGBIN/psql" -X -q -v ON_ERROR_STOP=1 -d "$(su_conn) dbname=postgres" "$@"; }

# Polls a query of the superuser until it prints want (at most 60 s).
wait_for() {
  local sql=$1 want=$2 i
  for i in $(seq 1 600); do
    [ "$(psql_su -tAc "$sql" 2>/dev/null || true)" = "$want" ] && return 0
    sleep 0.1
  done
  die "waited 60 s for \"$sql\" to give $want"
}

receive() {
  as_owner mkdir -p "$dir/wal"
  as_owner "$PGBIN/pg_receivewal" --create-slot --if-not-exists --slot=sanji_wal \
    -d "$(su_conn) dbname=replication" >/dev/null
  # In the background, its output (and the subshell's) away from the
  # caller's: a caller reading our output until it ends must not wait for
  # pg_receivewal, which runs until its server stops.
  local run=()
  [ "$(id -u)" -ne 0 ] || run=(runuser -u "$TEST_USER" --)
  (cd "$dir" && exec "${run[@]}" "$PGBIN/pg_receivewal" -D "$dir/wal" --slot=sanji_wal \
     --synchronous --no-loop -d "$(su_conn) application_name=sanji_wal") \
    >"$dir/receivewal.log" 2>&1 </dev/null &
  psql_su -c "ALTER SYSTEM SET synchronous_standby_names = 'sanji_wal'" -c "SELECT pg_reload_conf()" >/dev/null
  wait_for "SELECT sync_state FROM pg_stat_replication WHERE application_name = 'sanji_wal'" sync
}

base() {
  as_owner "$PGBIN/pg_basebackup" -D "$dir/base" -Fp -X stream -c fast -d "$(su_conn)" >/dev/null 2>&1 ||
    die "pg_basebackup failed in $dir"
}

crash() {
  as_owner "$PGBIN/pg_ctl" -D "$dir/data" -m immediate -w -t 60 stop >/dev/null 2>&1 ||
    die "pg_ctl stop -m immediate failed in $dir"
  local i
  for i in $(seq 1 600); do
    pgrep -u "$(id -u "$TEST_USER" 2>/dev/null || id -u)" -f "pg_receivewal -D $dir/wal" >/dev/null || break
    sleep 0.1
  done
  ! pgrep -f "pg_receivewal -D $dir/wal" >/dev/null || die "pg_receivewal did not end with its server"
  rm -rf "$dir/data"
}

restore() {
  as_owner "$ROOT/deploy/backup/sanji-restore-county-wal.sh" "$dir/base" "$dir/wal" "$dir/data" >/dev/null
  "$HERE/pg_cluster.sh" start "$dir" >/dev/null
  wait_for "SELECT pg_is_in_recovery()" f
  cat "$dir/conninfo"
}

case "$cmd" in
  receive) receive ;;
  base) base ;;
  crash) crash ;;
  restore) restore ;;
  *) die "usage: pg_wal.sh receive|base|crash|restore DIR" ;;
esac
