#!/usr/bin/env bash
# sanji-backup-store.sh - an online backup of a relay's or a station's
# SQLite store, checked and kept with the newest KEEP others.
#
#   sanji-backup-store.sh [-k KEEP] STORE DIR
#
# Uses SQLite's online backup (`sqlite3 STORE ".backup FILE"`), which
# copies a consistent state of the store, its WAL included, while
# sanji-relayd or the station's program keeps writing; a plain `cp` of a
# live store can miss what is still in relay.db-wal.  The copy is checked
# (PRAGMA integrity_check) before it takes its name
# DIR/<store name>-YYYYmmddTHHMMSSZ.db; then all but the newest KEEP copies
# of that store (default 14) are removed.
#
# Run it as the store's owner (sanji for the relay).  What an old copy of a
# relay store brings back, and what it loses, is in docs/OPERATIONS.md
# section 7.
#
# Exit status: 0 with the copy's path on stdout; non-zero with a message on
# stderr (nothing is removed then).
set -euo pipefail

die() { echo "sanji-backup-store: $*" >&2; exit 1; }

keep=14
if [ "${1:-}" = "-k" ]; then
  [ $# -ge 2 ] || die "usage: sanji-backup-store.sh [-k KEEP] STORE DIR"
  keep=$2
  shift 2
fi
[ $# -eq 2 ] || die "usage: sanji-backup-store.sh [-k KEEP] STORE DIR"
store=$1
dir=$2
case "$keep" in ''|*[!0-9]*|0) die "KEEP must be a number of copies, at least 1 (got '$keep')" ;; esac
[ -f "$store" ] || die "no store $store"
[ -d "$dir" ] || die "no folder $dir (make it first, writable by the user running this)"
command -v sqlite3 > /dev/null || die "sqlite3 not found (apt-get install sqlite3)"

name=$(basename "$store" .db)
stamp=$(date -u +%Y%m%dT%H%M%SZ)
out="$dir/$name-$stamp.db"
part="$out.part"
trap 'rm -f "$part"' EXIT
# A busy store (a commit in progress) is waited for, up to 30 s.
sqlite3 -batch "$store" ".timeout 30000" ".backup '$part'" ||
  die "the online backup of $store failed; no copy was made"
# One self-contained file: the copy leaves WAL mode (the program that
# opens a restored copy turns it on again).
sqlite3 -batch "$part" "PRAGMA journal_mode=DELETE;" > /dev/null ||
  die "the copy cannot be read back"
check=$(sqlite3 -batch "$part" "PRAGMA integrity_check;") || die "the copy cannot be read back"
[ "$check" = "ok" ] || die "the copy fails its integrity check: $check"
mv "$part" "$out"
trap - EXIT

ls -1 "$dir/$name"-*.db 2>/dev/null | sort | head -n -"$keep" | while read -r old; do
  rm -f -- "$old"
done
echo "$out"
