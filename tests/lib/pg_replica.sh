#!/usr/bin/env bash
# pg_replica.sh - replication steps on private test clusters made by
# tests/lib/pg_cluster.sh (the county failover and province reporting paths
# of docs/SCALING.md, on loopback).
#
#   pg_replica.sh logical DIR
#       sets wal_level = logical on the running cluster in DIR (ALTER SYSTEM)
#       and restarts it with its original options, on the same port.
#   pg_replica.sh standby PRIMARY_DIR STANDBY_DIR NAME
#       pg_basebackup of the cluster in PRIMARY_DIR into STANDBY_DIR/data
#       (WAL streamed during the copy, standby.signal written), with
#       primary_conninfo naming the standby NAME (its application_name, the
#       name synchronous_standby_names refers to); starts it as a hot standby
#       on a free 127.0.0.1 port and writes STANDBY_DIR/conninfo as
#       pg_cluster.sh does.
#   pg_replica.sh promote DIR
#       promotes the standby in DIR (pg_ctl promote, waits until it accepts
#       writes).
#   pg_replica.sh stop DIR
#       stops the cluster in DIR and removes DIR (pg_cluster.sh stop).
#
# Like pg_cluster.sh, it runs PostgreSQL as the calling user, or as the
# system user "sanji-test" when run as root.  Every cluster trusts local
# connections: it exists only for the test run.
#
# Exit status: 0 on success; non-zero with a message on stderr otherwise.
set -euo pipefail

PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
TEST_USER=sanji-test
HERE=$(cd "$(dirname "$0")" && pwd)

die() { echo "pg_replica: $*" >&2; exit 1; }

usage() { die "usage: pg_replica.sh logical DIR | standby PRIMARY_DIR STANDBY_DIR NAME | promote DIR | stop DIR"; }

# Runs a command as the owner of the clusters, in directory $1.
as_owner_in() {
  local d=$1
  shift
  if [ "$(id -u)" -eq 0 ]; then
    (cd "$d" && runuser -u "$TEST_USER" -- "$@")
  else
    (cd "$d" && "$@")
  fi
}

# port_of DIR: the port from DIR/conninfo.
port_of() {
  [ -f "$1/conninfo" ] || die "no cluster in $1 (no conninfo)"
  sed -n 's/.*port=\([0-9]*\).*/\1/p' "$1/conninfo"
}

psql_su() {
  local port=$1
  shift
  "$PGBIN/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$port" -U postgres -d postgres "$@"
}

free_port() {
  python3 - <<'EOF' 2>/dev/null || echo $(( 20000 + RANDOM % 20000 ))
import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()
EOF
}

logical() {
  local dir
  dir=$(cd "$1" && pwd -P)
  local port
  port=$(port_of "$dir")
  psql_su "$port" -c "ALTER SYSTEM SET wal_level = logical" >/dev/null
  # pg_ctl restart reuses the options of the last start (postmaster.opts),
  # so the cluster comes back on the same port and socket directory.
  as_owner_in "$dir" "$PGBIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -m fast -w -t 60 \
    restart >/dev/null || { tail -n 20 "$dir/server.log" >&2 || true; die "restart failed in $dir"; }
  [ "$(psql_su "$port" -tAc "SHOW wal_level")" = logical ] || die "wal_level is not logical in $dir"
}

standby() {
  local pdir sdir name=$3
  pdir=$(cd "$1" && pwd -P)
  # The standby lives where its owner can reach it, like every test cluster.
  sdir=$("$HERE/pg_cluster.sh" prepare "$2") || die "cannot prepare $2"
  local pport
  pport=$(port_of "$pdir")
  as_owner_in "$sdir" "$PGBIN/pg_basebackup" -D "$sdir/data" -h 127.0.0.1 -p "$pport" \
    -U postgres -X stream -R -c fast >"$sdir/basebackup.log" 2>&1 \
    || { cat "$sdir/basebackup.log" >&2; die "pg_basebackup from $pdir failed"; }
  # -R wrote a primary_conninfo without a name; a later line of
  # postgresql.auto.conf overrides an earlier one.
  as_owner_in "$sdir" sh -c "printf '%s\n' \"primary_conninfo = 'host=127.0.0.1 port=$pport user=postgres application_name=$name'\" >>'$sdir/data/postgresql.auto.conf'"
  local port tries=0
  while :; do
    port=$(free_port)
    if as_owner_in "$sdir" "$PGBIN/pg_ctl" -D "$sdir/data" -l "$sdir/server.log" -w -t 60 start \
         -o "-c listen_addresses=127.0.0.1 -c port=$port -c unix_socket_directories=$sdir \
             -c shared_buffers=16MB -c max_connections=60 -c fsync=on -c hot_standby=on \
             -c max_wal_size=256MB -c log_min_messages=warning" >/dev/null 2>&1; then
      break
    fi
    tries=$((tries + 1))
    [ $tries -lt 5 ] || { tail -n 20 "$sdir/server.log" >&2 || true; die "cannot start the standby in $sdir"; }
  done
  [ "$(psql_su "$port" -tAc "SELECT pg_is_in_recovery()")" = t ] || die "$sdir is not a standby"
  echo "host=127.0.0.1 port=$port dbname=sanji user=sanji" >"$sdir/conninfo"
  [ "$(id -u)" -ne 0 ] || chown "$TEST_USER:" "$sdir/conninfo"
  chmod a+r "$sdir/conninfo"
  cat "$sdir/conninfo"
}

promote() {
  local dir
  dir=$(cd "$1" && pwd -P)
  as_owner_in "$dir" "$PGBIN/pg_ctl" -D "$dir/data" -w -t 60 promote >/dev/null \
    || die "pg_ctl promote failed in $dir"
  [ "$(psql_su "$(port_of "$dir")" -tAc "SELECT pg_is_in_recovery()")" = f ] \
    || die "$dir is still in recovery after promotion"
}

case "${1:-}" in
  logical) [ $# -eq 2 ] || usage; logical "$2" ;;
  standby) [ $# -eq 4 ] || usage; standby "$2" "$3" "$4" ;;
  promote) [ $# -eq 2 ] || usage; promote "$2" ;;
  stop) [ $# -eq 2 ] || usage; exec "$HERE/pg_cluster.sh" stop "$2" ;;
  *) usage ;;
esac
