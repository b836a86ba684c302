#!/usr/bin/env bash
# sanji-restore-county-wal.sh - lays down a new PostgreSQL data directory
# for the county from a base backup and the WAL that pg_receivewal kept,
# ready to replay every transaction the WAL holds (docs/OPERATIONS.md
# section 7, "Nothing lost: base backup and streamed WAL").
#
#   sanji-restore-county-wal.sh BASE WALDIR DATADIR
#
# BASE     a plain-format base backup (pg_basebackup -Fp -X stream -D BASE)
# WALDIR   the folder pg_receivewal writes, its current segment ending in
#          .partial included
# DATADIR  the data directory to make; it must not exist or be empty
#
# Copies BASE to DATADIR, and sets in DATADIR/postgresql.auto.conf a
# restore_command that takes each segment from WALDIR (the .partial one
# too: with pg_receivewal --synchronous it holds the last committed
# transactions), recovery to the end of the WAL, and no synchronous standby
# (the restored server must not wait for a pg_receivewal that does not run
# yet); then writes recovery.signal.  It starts nothing: start PostgreSQL
# on DATADIR, wait until it accepts writes (recovery done), start
# pg_receivewal again into a new, empty folder, set synchronous_standby_names
# again, take a new base backup, then start sanji-countyd.
#
# Run it as the user PostgreSQL runs as (postgres), with the server that
# owned DATADIR stopped.
#
# Exit status: 0 when DATADIR is ready; non-zero with a message on stderr.
set -euo pipefail

die() { echo "sanji-restore-county-wal: $*" >&2; exit 1; }

[ $# -eq 3 ] || die "usage: sanji-restore-county-wal.sh BASE WALDIR DATADIR"
base=$1
waldir=$2
data=$3
[ -f "$base/PG_VERSION" ] || die "$base is not a plain-format base backup (no PG_VERSION)"
[ -f "$base/backup_label" ] || die "$base has no backup_label: not a base backup"
[ -d "$waldir" ] || die "no WAL folder $waldir"
if [ -e "$data" ] && [ -n "$(ls -A "$data" 2>/dev/null)" ]; then
  die "$data exists and is not empty; move the old data directory aside first"
fi
waldir=$(cd "$waldir" && pwd -P)
case "$waldir" in *"'"*|*" "*) die "the WAL folder's path may hold no quote or space: $waldir" ;; esac

mkdir -p "$data"
chmod 0700 "$data"
cp -a "$base"/. "$data"/
rm -f "$data/postmaster.pid" "$data/standby.signal"
cat >> "$data/postgresql.auto.conf" <<CONF
# sanji-restore-county-wal.sh $(date -u +%Y-%m-%dT%H:%M:%SZ): recovery from $waldir
restore_command = 'f=$waldir/%f; if [ -f \$f ]; then cp \$f %p; elif [ -f \$f.partial ]; then cp \$f.partial %p; else exit 1; fi'
recovery_target_timeline = 'latest'
synchronous_standby_names = ''
CONF
touch "$data/recovery.signal"
echo "ready: start PostgreSQL on $data"
