#!/usr/bin/env bash
# test_upgrade.sh - a network of the previous release upgraded while it
# works: the county and one relay move to this tree's programs, the other
# relay and the stations stay on the previous release.
#
#   tests/upgrade/test_upgrade.sh SOURCE_DIR BUILD_DIR
#
# The previous release is PREVIOUS below: the last commit before the Debian
# packages (the first release a county could install), taken from this
# clone's history with `git archive` and built (its four programs only) in a
# temporary folder. Its own deploy/localnet.sh starts its network (county,
# two relays, demo county) on free ports; this tree's localnet.sh then
# restarts what was stopped with the new programs, which migrates the
# database, as docs/OPERATIONS.md "Upgrades" says. Shown:
#   - the schema is migrated to this tree's last migration;
#   - a case a station saved while the county was down, held in the
#     upgraded relay's store across its upgrade, is recorded once;
#   - an old station through the upgraded relay, an old station through the
#     old relay, and a new station through the upgraded relay each register
#     a case the new county records: old and new programs talk, each link at
#     the lower protocol level of its ends (docs/PROTOCOL.md), so that the
#     old relay is never sent the duty roster, which it does not know;
#   - the new station is given the duty roster (its link runs at level 2).
# Waits are for events; nothing is timed. Exit status 0 when all holds.
set -euo pipefail

src=$(cd "${1:?usage: test_upgrade.sh SOURCE_DIR BUILD_DIR}" && pwd)
build=$(cd "${2:?usage: test_upgrade.sh SOURCE_DIR BUILD_DIR}" && pwd)
# The previous release: the commit before the packaging work.
PREVIOUS=89437fa2200cf4c90d91fb46b64b5294d5f9744a

fail() { echo "test_upgrade: FAIL: $*" >&2; exit 1; }
log() { echo "== $(date +%T) $*"; }

git -C "$src" cat-file -e "$PREVIOUS^{commit}" 2>/dev/null ||
  fail "the previous release $PREVIOUS is not in this clone's history (a shallow clone? run: git fetch --unshallow)"

tmp=$(mktemp -d /tmp/sanji-upgrade.XXXXXX)
chmod 755 "$tmp"   # PostgreSQL runs as an unprivileged user under it
net=$tmp/net
old_src=$tmp/old-src
old_build=$tmp/old-build
cleanup() {
  local rc=$? what=clean
  [ $rc -eq 0 ] || [ -z "${SANJI_UPGRADE_KEEP:-}" ] || what=stop
  if [ -d "$net" ]; then
    SANJI_NET_DIR=$net SANJI_BUILD_DIR=$build "$src/deploy/localnet.sh" $what >/dev/null 2>&1 || true
  fi
  if [ $what = clean ]; then
    rm -rf "$tmp"
  else
    echo "test_upgrade: kept $tmp (the database cluster too: $src/tests/lib/pg_cluster.sh stop $net/pg)" >&2
  fi
}
trap cleanup EXIT

# A free base port with the two after it free too, below Linux's ephemeral
# range (32768-60999) so that no outgoing connection takes one meanwhile.
free_base() {
  local p i
  for i in $(seq 1 200); do
    p=$((20000 + (RANDOM % 1200) * 10))
    if [ -z "$(ss -Htan "( sport = :$p or sport = :$((p + 1)) or sport = :$((p + 2)) )")" ]; then
      echo "$p"
      return
    fi
  done
  fail "no free ports"
}

log "the previous release ($PREVIOUS) from this clone's history, built in $old_build"
mkdir -p "$old_src"
git -C "$src" archive "$PREVIOUS" | tar -x -C "$old_src"
# Debug (-O0): the quickest to compile; only the programs the network runs
# (the CA tool of this tree makes the same certificates).
cmake -S "$old_src" -B "$old_build" -DCMAKE_BUILD_TYPE=Debug -DCMAKE_C_COMPILER=gcc >/dev/null
cmake --build "$old_build" -j "$(nproc)" --target sanji-countyd sanji-relayd sanji >/dev/null
mkdir -p "$old_build/deploy/pki"
ln -sf "$build/deploy/pki/sanji-pki" "$old_build/deploy/pki/sanji-pki"

export SANJI_NET_DIR=$net SANJI_PORT_BASE
SANJI_PORT_BASE=$(free_base)
ZGY=410423101201     # 张官营村, township 410423101000 (relay upgraded)
ZGY2=410423101202    # a second village of the same township (a new station)
XT=410423102201      # a village of township 410423102000 (relay kept old)
T_UP=410423101000
T_OLD=410423102000

log "the previous release's network (its own localnet.sh)"
SANJI_BUILD_DIR=$old_build "$old_src/deploy/localnet.sh" start >"$tmp/old-start.log" 2>&1 ||
  { cat "$tmp/old-start.log" >&2; fail "the previous release's network did not start"; }
# The old stations keep the old program and the configuration it wrote
# (this tree's localnet.sh writes keys the old program does not know).
for v in $ZGY $XT; do cp "$net/station-$v/client.conf" "$tmp/old-$v.conf"; done

old_cli() { # village args...
  local v=$1; shift
  env -u LANGUAGE -u LC_ALL -u LC_MESSAGES -u LANG SANJI_PASSWORD=sanji123 \
    "$old_build/client/sanji" --config "$tmp/old-$v.conf" "$@"
}
new_cli() { # village args...
  local v=$1; shift
  env -u LANGUAGE -u LC_ALL -u LC_MESSAGES -u LANG SANJI_PASSWORD=sanji123 \
    "$build/client/sanji" --config "$net/station-$v/client.conf" "$@"
}
psql_county() { psql -X -At "$(cat "$net/pg/conninfo")" -c "$1"; }
cases_with() { psql_county "SELECT count(*) FROM cases WHERE request_text = '$1'"; }
# Registers a 政策咨询-type case (MZ-001) at a village; $1 the CLI function.
register() { # cli village text [wait options...]
  local cli=$1 v=$2 text=$3; shift 3
  "$cli" "$v" register --item MZ-001 --name 王五 --id 11010519491231002X --phone 13800138000 \
    --text "$text" "$@"
}
# Stops one daemon localnet.sh started, with SIGTERM, and waits for it to
# end (the previous release's localnet.sh records no exit status; this
# tree's does, and a status other than 0 fails the test).
stop_daemon() { # name
  local pidf=$net/$1.pid pid i
  pid=$(cat "$pidf")
  kill "$pid"
  for i in $(seq 1 600); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  ! kill -0 "$pid" 2>/dev/null || fail "$1 did not stop within 60 s of SIGTERM"
  if [ -f "$net/$1.status" ] && [ "$(cat "$net/$1.status")" != 0 ]; then
    fail "$1 ended with status $(cat "$net/$1.status")"
  fi
  rm -f "$pidf" "$net/$1.status"
}

old_cli $ZGY login p-$ZGY-01 >/dev/null || fail "old station $ZGY: login"
old_cli $XT login p-$XT-01 >/dev/null || fail "old station $XT: login"
register old_cli $ZGY "升级前登记" --wait-applied --wait 120 >/dev/null ||
  fail "old network: a case was not recorded"
[ "$(cases_with 升级前登记)" = 1 ] || fail "old network: case not in the county database"
old_schema=$(psql_county "SELECT max(version) FROM schema_version")

log "the county stops; a station saves a case the relay holds"
stop_daemon county
out=$(register old_cli $ZGY "县里停机时登记" --wait 60 2>&1) ||
  fail "old station while the county is down: $out"
stop_daemon "relay-$T_UP"

log "upgrade: the county (migrated) and relay $T_UP to this tree's programs"
SANJI_BUILD_DIR=$build "$src/deploy/localnet.sh" start >"$tmp/new-start.log" 2>&1 ||
  { cat "$tmp/new-start.log" >&2; fail "the upgraded network did not start"; }
new_schema=$(psql_county "SELECT max(version) FROM schema_version")
want_schema=$(ls "$src/server/migrations" | sed -n 's/^\([0-9]*\)_.*\.sql$/\1/p' | sort -n | tail -1)
[ "$new_schema" -eq "$((10#$want_schema))" ] ||
  fail "schema version $new_schema after the upgrade, want $want_schema (was $old_schema)"
[ "$new_schema" -gt "$old_schema" ] || fail "no migration ran (schema $old_schema -> $new_schema)"
# The old relay still runs the old program.
grep -q "$old_build/relay/sanji-relayd" "/proc/$(cat "$net/relay-$T_OLD.pid")/cmdline" ||
  fail "relay $T_OLD is not the previous release's program any more"

# A duty roster: what the old relay must never be sent.
"$build/server/sanji-countyd" --config "$net/county/countyd.conf" --by upgrade-test \
  duty add $ZGY2 "$(TZ=Asia/Shanghai date +%F)" p-$ZGY2-01 >/dev/null ||
  fail "duty add at the upgraded county"

log "the case held across the relay's upgrade is recorded once"
for i in $(seq 1 600); do
  [ "$(cases_with 县里停机时登记)" = 1 ] && break
  sleep 0.2
done
[ "$(cases_with 县里停机时登记)" = 1 ] || fail "the case queued in relay $T_UP's store did not reach the county"

log "old station through the upgraded relay"
register old_cli $ZGY "旧村站经新中继" --wait-applied --wait 120 >/dev/null ||
  fail "old station $ZGY through the upgraded relay"
log "old station through the old relay, to the upgraded county"
register old_cli $XT "旧村站经旧中继" --wait-applied --wait 120 >/dev/null ||
  fail "old station $XT through the old relay and the new county; the old relay's log ends:
$(tail -5 "$net/relay-$T_OLD/relayd.log")"
log "new station through the upgraded relay"
new_cli $ZGY2 login p-$ZGY2-01 >/dev/null || fail "new station $ZGY2: login"
register new_cli $ZGY2 "新村站经新中继" --wait-applied --wait 120 >/dev/null ||
  fail "new station $ZGY2 through the upgraded relay"
for t in 升级前登记 县里停机时登记 旧村站经新中继 旧村站经旧中继 新村站经新中继; do
  [ "$(cases_with "$t")" = 1 ] || fail "case '$t': $(cases_with "$t") rows, want 1"
done
duty=""
for i in $(seq 1 300); do
  new_cli $ZGY2 sync --wait 30 >/dev/null 2>&1 || true
  duty=$(new_cli $ZGY2 duty 2>&1 || true)
  case "$duty" in *p-$ZGY2-01*|*"$(psql_county "SELECT name FROM person WHERE id = 'p-$ZGY2-01'")"*) break ;; esac
  sleep 0.2
done
case "$duty" in
  *p-$ZGY2-01*|*"$(psql_county "SELECT name FROM person WHERE id = 'p-$ZGY2-01'")"*) ;;
  *) fail "the new station has no duty roster: $duty" ;;
esac
# The old relay's link to the county stayed up: it was never sent a body it
# does not know (that would have ended its link with FRAME_NO_BODY).
if grep -q 'NO_BODY\|no body' "$net/relay-$T_OLD/relayd.log"; then
  fail "the old relay was sent a message it does not know: $(grep 'NO_BODY\|no body' "$net/relay-$T_OLD/relayd.log" | head -3)"
fi
log "all held: schema $old_schema -> $new_schema; old and new programs talk"
