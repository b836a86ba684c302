#!/usr/bin/env bash
# sanji-backup-county.sh - one logical backup of the county database
# (pg_dump, custom format), checked and kept with the newest KEEP others.
#
#   sanji-backup-county.sh [-k KEEP] CONNINFO DIR
#
# Writes DIR/sanji-county-YYYYmmddTHHMMSSZ.dump: first to a .part file,
# then checked with `pg_restore --list` (a truncated or damaged dump is
# refused), then renamed, so that DIR never holds a half-written dump
# under a dump's name.  Then removes all but the newest KEEP dumps
# (default 14).  CONNINFO is a libpq connection string, e.g.
# "dbname=sanji" (as the county's database.conninfo), run as a role that
# may read every table (the database's owner, or postgres).
#
# pg_dump takes a consistent snapshot while sanji-countyd runs; nothing
# has to stop.  What a restore of such a dump loses, and how relays and
# stations are brought back in line, is in docs/OPERATIONS.md section 7.
#
# PostgreSQL's programs are taken from $PGBIN (default
# /usr/lib/postgresql/15/bin), else from PATH.
#
# Exit status: 0 with the dump's path on stdout; non-zero with a message
# on stderr (nothing is removed then).
set -euo pipefail

die() { echo "sanji-backup-county: $*" >&2; exit 1; }

keep=14
if [ "${1:-}" = "-k" ]; then
  [ $# -ge 2 ] || die "usage: sanji-backup-county.sh [-k KEEP] CONNINFO DIR"
  keep=$2
  shift 2
fi
[ $# -eq 2 ] || die "usage: sanji-backup-county.sh [-k KEEP] CONNINFO DIR"
conninfo=$1
dir=$2
case "$keep" in ''|*[!0-9]*|0) die "KEEP must be a number of dumps, at least 1 (got '$keep')" ;; esac
[ -d "$dir" ] || die "no folder $dir (make it first, writable by the user running this)"

PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
pgprog() { if [ -x "$PGBIN/$1" ]; then echo "$PGBIN/$1"; else command -v "$1" || die "$1 not found (apt-get install postgresql-client-15)"; fi; }
pg_dump=$(pgprog pg_dump)
pg_restore=$(pgprog pg_restore)

stamp=$(date -u +%Y%m%dT%H%M%SZ)
out="$dir/sanji-county-$stamp.dump"
part="$out.part"
trap 'rm -f "$part"' EXIT
"$pg_dump" --format=custom --compress=6 --file="$part" --dbname="$conninfo" ||
  die "pg_dump failed; no backup was made"
toc=$("$pg_restore" --list "$part") || die "the dump cannot be read back; no backup was made"
grep -q 'TABLE DATA public schema_version' <<< "$toc" ||
  die "the dump has no schema_version table; is $conninfo the county's database?"
mv "$part" "$out"
trap - EXIT

# The newest KEEP dumps stay (names sort by time).
ls -1 "$dir"/sanji-county-*.dump 2>/dev/null | sort | head -n -"$keep" | while read -r old; do
  rm -f -- "$old"
done
echo "$out"
