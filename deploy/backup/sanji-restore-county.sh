#!/usr/bin/env bash
# sanji-restore-county.sh - restores a dump of sanji-backup-county.sh into
# an empty database.
#
#   sanji-restore-county.sh DUMP CONNINFO
#
# CONNINFO names the database to restore into: it must exist and be empty
# (no table in the public schema), e.g. made with
#   sudo -u postgres createdb -O sanji sanji
# The restore runs in one transaction, stopping at the first error (then
# nothing is restored), with the objects owned by CONNINFO's user.  It
# never drops or overwrites anything: a database that still holds tables
# is refused, so that the wrong conninfo cannot destroy the live record.
#
# Afterwards run `sanji-countyd migrate` (a dump of an older version is
# brought up to the program's schema) and start the server.  Read
# docs/OPERATIONS.md section 7 first: a dump is a point in the past.
#
# Exit status: 0 when restored; non-zero with a message on stderr.
set -euo pipefail

die() { echo "sanji-restore-county: $*" >&2; exit 1; }

[ $# -eq 2 ] || die "usage: sanji-restore-county.sh DUMP CONNINFO"
dump=$1
conninfo=$2
[ -r "$dump" ] || die "cannot read $dump"

PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
pgprog() { if [ -x "$PGBIN/$1" ]; then echo "$PGBIN/$1"; else command -v "$1" || die "$1 not found (apt-get install postgresql-client-15)"; fi; }
psql=$(pgprog psql)
pg_restore=$(pgprog pg_restore)

"$pg_restore" --list "$dump" > /dev/null || die "$dump is not a readable pg_dump archive"
tables=$("$psql" --no-psqlrc -Atq -d "$conninfo" \
  -c "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'") ||
  die "cannot connect to $conninfo"
[ "$tables" = "0" ] ||
  die "the database of $conninfo is not empty ($tables tables); restore into a new, empty database"
"$pg_restore" --no-owner --no-privileges --single-transaction --exit-on-error \
  --dbname="$conninfo" "$dump" || die "pg_restore failed; nothing was restored"
echo "restored $dump"
