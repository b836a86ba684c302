#!/usr/bin/env bash
# pg_cluster.sh - start and stop a private PostgreSQL 15 cluster for tests.
#
#   pg_cluster.sh start DIR   initdb a cluster in DIR/data (if not there yet),
#                             start it on a free 127.0.0.1 port with its socket
#                             in DIR, create role and database "sanji", write
#                             the conninfo to DIR/conninfo and print it:
#                               host=127.0.0.1 port=N dbname=sanji user=sanji
#   pg_cluster.sh stop DIR    pg_ctl stop -m immediate, then remove DIR.
#
# The cluster is private: it listens on 127.0.0.1 only, trusts local
# connections (it exists only for the test run), and uses small buffers.
# fsync stays on, because the guarantees under test are about durability.
#
#   pg_cluster.sh halt DIR    pg_ctl stop -m fast, keeping DIR and its data
#                             (a later start brings the same cluster back).
#   pg_cluster.sh path DIR    print the physical folder of the cluster in DIR
#                             (the one to hand to PostgreSQL's own programs).
#   pg_cluster.sh prepare DIR make DIR a folder the cluster's owner can
#                             reach, as start does, and print its physical
#                             path (for a standby made by pg_basebackup).
#
# PostgreSQL refuses to run as root.  When run as root, the cluster runs as
# the system user "sanji-test" (created on first use, no home directory).
# That user cannot pass through a folder such as /root (mode 0700) or one
# made by mktemp -d, where a clone and its build tree may well live, so the
# cluster itself lives in a private folder made for it under /tmp
# (/tmp/sanji-pg.XXXXXX, mode 0700, owned by sanji-test) and DIR becomes a
# symbolic link to it, owned by root: the caller keeps reading DIR/conninfo
# as before, nothing in the caller's tree is owned by the test user, and
# "stop" removes both.  PostgreSQL's own programs, run as sanji-test, must be
# given the physical folder ("path"), never a path through DIR.  When run as
# another user, the cluster runs as that user, in DIR itself.
#
# Exit status: 0 on success; non-zero with a message on stderr otherwise.
set -euo pipefail

PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
TEST_USER=sanji-test

die() { echo "pg_cluster: $*" >&2; exit 1; }

usage() { die "usage: pg_cluster.sh start|stop DIR"; }

[ $# -eq 2 ] || usage
cmd=$1
dir=$2

# Runs a command as the cluster's owner.
as_owner() {
  if [ "$(id -u)" -eq 0 ]; then
    # runuser keeps no tty and needs no password; cd into DIR so that the
    # owner never needs to read the caller's working directory.
    (cd "$dir" && runuser -u "$TEST_USER" -- "$@")
  else
    (cd "$dir" && "$@")
  fi
}

free_port() {
  # Ask the kernel for a free port; a race with another process is possible
  # but harmless: pg_ctl start then fails and we try again.
  python3 - <<'EOF' 2>/dev/null || echo $(( 20000 + RANDOM % 20000 ))
import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()
EOF
}

# Points DIR at a folder the cluster's owner can reach and sets $dir to its
# physical path.  As root: an existing link is kept (a halted cluster comes
# back with its data); an empty folder or a missing DIR becomes a link to a
# new private folder under /tmp; a folder that already holds a cluster is
# used in place if the test user can reach it.
place() {
  if [ "$(id -u)" -ne 0 ]; then
    mkdir -p "$dir"
    dir=$(cd "$dir" && pwd -P)
    return 0
  fi
  if ! id "$TEST_USER" >/dev/null 2>&1; then
    useradd --system --no-create-home --shell /usr/sbin/nologin "$TEST_USER" \
      || die "cannot create system user $TEST_USER"
  fi
  if [ -L "$dir" ] && [ ! -d "$dir" ]; then
    rm -f "$dir"                          # a link left by an interrupted run
  fi
  if [ -d "$dir" ] && [ ! -L "$dir" ] && [ -z "$(ls -A "$dir")" ]; then
    rmdir "$dir"
  fi
  if [ ! -e "$dir" ]; then
    mkdir -p "$(dirname "$dir")"
    local private
    private=$(mktemp -d /tmp/sanji-pg.XXXXXX) || die "cannot make a private folder under /tmp"
    chown "$TEST_USER:" "$private"
    chmod 700 "$private"
    ln -s "$private" "$dir" || { rmdir "$private"; die "cannot link $dir to $private"; }
  fi
  dir=$(cd "$dir" && pwd -P)
  chown -R "$TEST_USER:" "$dir"
  runuser -u "$TEST_USER" -- test -w "$dir" \
    || die "user $TEST_USER cannot write $dir (a parent directory is not searchable?); remove it and start again"
}

start() {
  [ -x "$PGBIN/initdb" ] || die "no PostgreSQL 15 at $PGBIN (install postgresql-15)"
  place
  # A cluster left running by an interrupted run is stopped first, so that
  # a start always yields a fresh, known port.
  if [ -f "$dir/data/postmaster.pid" ]; then
    as_owner "$PGBIN/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
  fi
  if [ ! -f "$dir/data/PG_VERSION" ]; then
    as_owner "$PGBIN/initdb" -D "$dir/data" -U postgres --auth=trust \
      --encoding=UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 \
      || { cat "$dir/initdb.log" >&2; die "initdb failed in $dir/data"; }
  fi
  local port tries=0
  while :; do
    port=$(free_port)
    if as_owner "$PGBIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 start \
         -o "-c listen_addresses=127.0.0.1 -c port=$port -c unix_socket_directories=$dir \
             -c shared_buffers=16MB -c max_connections=60 -c fsync=on \
             -c max_wal_size=256MB -c log_min_messages=warning" >/dev/null 2>&1; then
      break
    fi
    tries=$((tries + 1))
    [ $tries -lt 5 ] || { tail -n 20 "$dir/server.log" >&2 || true; die "cannot start PostgreSQL in $dir"; }
  done
  local psql=(/usr/lib/postgresql/15/bin/psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$port" -U postgres)
  [ -x "${psql[0]}" ] || psql[0]=psql
  if ! "${psql[@]}" -d postgres -tAc "SELECT 1 FROM pg_roles WHERE rolname='sanji'" | grep -q 1; then
    "${psql[@]}" -d postgres -c "CREATE ROLE sanji LOGIN CREATEDB" >/dev/null
    "${psql[@]}" -d postgres -c "CREATE DATABASE sanji OWNER sanji" >/dev/null
  fi
  echo "host=127.0.0.1 port=$port dbname=sanji user=sanji" >"$dir/conninfo"
  [ "$(id -u)" -ne 0 ] || chown "$TEST_USER:" "$dir/conninfo"
  chmod a+r "$dir/conninfo"
  cat "$dir/conninfo"
}

# Stops the server of the cluster in physical folder $1, if it runs; $2 the
# shutdown mode: fast (a checkpoint first: the data is kept) by default,
# immediate for a cluster about to be deleted, whose shutdown checkpoint
# would only write what is thrown away (tens of seconds on a loaded
# machine after a whole suite's databases).
halt_in() {
  local d=$1 mode=${2:-fast}
  if [ -f "$d/data/postmaster.pid" ]; then
    as_owner "$PGBIN/pg_ctl" -D "$d/data" -m "$mode" -w -t 60 stop >/dev/null 2>&1 \
      || die "pg_ctl stop failed in $d/data"
  fi
}

stop() {
  if [ -L "$dir" ]; then
    local link=$dir
    if [ -d "$dir" ]; then
      dir=$(cd "$dir" && pwd -P)
      halt_in "$dir" immediate
      rm -rf "$dir"
    fi
    rm -f "$link"
    return 0
  fi
  [ -d "$dir" ] || exit 0
  dir=$(cd "$dir" && pwd -P)
  halt_in "$dir" immediate
  rm -rf "$dir"
}

halt() {
  [ -d "$dir" ] || exit 0
  dir=$(cd "$dir" && pwd -P)
  halt_in "$dir"
}

path() {
  [ -d "$dir" ] || die "no cluster folder at $dir"
  cd "$dir" && pwd -P
}

case "$cmd" in
  start) start ;;
  stop) stop ;;
  halt) halt ;;
  path) path ;;
  prepare) place; echo "$dir" ;;
  *) usage ;;
esac
