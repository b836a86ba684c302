#!/usr/bin/env bash
# test_packages.sh - the .deb packages on this machine, as a county would use
# them: build them with deploy/packages.sh (lintian must find no error),
# check what each holds, install all five with apt-get, check the user,
# directories, modes and units the maintainer scripts made (and that nothing
# was enabled or started), run a county (on a private PostgreSQL from
# tests/lib/pg_cluster.sh), a relay and the station CLI from the installed
# paths with their compiled-in defaults, reinstall (the edited configuration
# must stay, with its owner and mode), remove (configuration and store stay),
# then purge the packages and check that nothing of them is left.
#
#   test_packages.sh SOURCE_DIR WORK_DIR
#
# WORK_DIR holds the package build (kept between runs, so a rerun only
# rebuilds what changed) and the run's temporary files.  Runs as root (it
# installs packages) on a machine without Sanji packages; it leaves the
# machine as it found it: the packages are purged, and the user sanji is
# removed if the test made it, also when a step fails (trap).  A run killed
# outright (ctest's timeout) leaves a marker, and the next run purges what
# that run installed before it starts.
#
# Waits are for events (a port that accepts, a process that exits), bounded
# only by a deadline that catches a hang.
set -euo pipefail

[ $# -eq 2 ] || { echo "usage: $0 SOURCE_DIR WORK_DIR" >&2; exit 2; }
src=$(cd "$1" && pwd)
work=$2
mkdir -p "$work"
work=$(cd "$work" && pwd)

PKGS=(sanji-station sanji-relay sanji-county sanji-pki sanji-common)
MARKER=/run/sanji-test-packages.installed
HANG_S=120            # a hang, not a slow machine (tests/lib/proc.h SJ_TEST_HANG_MS)
COUNTY=410423000000
TOWNSHIP=410423101000
VILLAGE=410423101201

log() { echo "test_packages: $*" >&2; }
fail() { log "FAIL: $*"; exit 1; }

if [ "$(id -u)" -ne 0 ]; then
  fail "must run as root: it installs and purges the packages (run the suite as root)"
fi
for tool in apt-get dpkg dpkg-deb setpriv ss desktop-file-validate appstreamcli systemd-analyze; do
  command -v "$tool" >/dev/null || fail "$tool is missing: run deploy/install-deps.sh"
done

# Another apt or dpkg (unattended-upgrades, an administrator, another
# suite on the machine) may hold the package database's lock for a while:
# wait for it rather than fail.  apt waits by itself with this option; dpkg
# cannot, so dpkg_waiting() retries while dpkg says the lock is taken.
APT_GET=(apt-get -o DPkg::Lock::Timeout=900)
dpkg_waiting() { # dpkg ARGS...: its output on stdout, its status
  local i out rc
  for i in $(seq 180); do
    rc=0
    out=$(DEBIAN_FRONTEND=noninteractive dpkg "$@" 2>&1) || rc=$?
    case $rc:$out in
      0:*) ;;
      *"lock"*"another process"*) [ "$i" -eq 1 ] && log "dpkg's lock is taken: waiting"; sleep 5; continue ;;
    esac
    printf '%s\n' "$out"
    return "$rc"
  done
  printf '%s\n' "$out"
  return 1
}

installed() { # PACKAGE: installed, or only its configuration left
  local s
  s=$(dpkg-query -W -f='${db:Status-Abbrev}' "$1" 2>/dev/null) || return 1
  [ -n "${s// /}" ] && [ "${s:0:1}" != n ] && [ "${s:1:1}" != n ]
}

purge_all() {
  local present=()
  for p in "${PKGS[@]}"; do installed "$p" && present+=("$p"); done
  [ ${#present[@]} -eq 0 ] || dpkg_waiting --purge "${present[@]}" >&2
}

# --- the machine as it is now ------------------------------------------------------
if [ -e "$MARKER" ]; then
  log "a killed run left packages installed: purging them first"
  purge_all
  # shellcheck disable=SC1090
  . "$MARKER"   # made_user=...
  if [ "${made_user:-0}" = 1 ]; then
    userdel sanji 2>/dev/null || true
    groupdel sanji 2>/dev/null || true
  fi
  rm -f "$MARKER"
fi
for p in "${PKGS[@]}"; do
  if installed "$p"; then
    fail "$p is installed on this machine; this test would purge it: remove it first"
  fi
done
for path in /etc/sanji /var/lib/sanji /var/log/sanji; do
  [ ! -e "$path" ] || fail "$path exists (a Sanji installed by hand?); this test would remove it"
done
made_user=1
if getent passwd sanji >/dev/null || getent group sanji >/dev/null; then made_user=0; fi

tmp=$(mktemp -d /tmp/sanji-pkgtest.XXXXXX)
pids=()
pg_dir=$tmp/pg

cleanup() {
  local rc=$?
  set +e
  for pid in "${pids[@]}"; do
    kill -TERM "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
  done
  [ ! -e "$pg_dir" ] || "$src/tests/lib/pg_cluster.sh" stop "$pg_dir" >/dev/null 2>&1
  rm -f /etc/sanji/ca.crt /etc/sanji/county.crt /etc/sanji/county.key \
        /etc/sanji/relay.crt /etc/sanji/relay.key
  purge_all
  if [ "$made_user" = 1 ]; then
    userdel sanji 2>/dev/null
    groupdel sanji 2>/dev/null
  fi
  rm -f "$MARKER"
  if [ $rc -ne 0 ]; then
    for f in "$tmp"/*.log; do
      [ -f "$f" ] || continue
      echo "---- $f (end)" >&2
      tail -n 30 "$f" >&2
    done
  fi
  rm -rf "$tmp"
  exit $rc
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

# Runs an installed program with a clean environment: nothing of the build
# (SANJI_LOCALEDIR, PATH to the build folder) may help it.
# Both take leading NAME=value words as more environment.
clean_env() { env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 "$@"; }
as_sanji() { # [NAME=value...] PROGRAM ARGS...: as the daemons' user, as systemd runs them
  local vars=()
  while [[ $1 == *=* ]]; do vars+=("$1"); shift; done
  clean_env "${vars[@]}" setpriv --reuid=sanji --regid=sanji --init-groups "$@"
}
# The same for a daemon started in the background: exec, so that $! is the
# daemon itself (env and setpriv exec it in turn), which the test signals.
daemon_as_sanji() {
  local vars=()
  while [[ $1 == *=* ]]; do vars+=("$1"); shift; done
  exec env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 "${vars[@]}" \
    setpriv --reuid=sanji --regid=sanji --init-groups "$@"
}

# A port below Linux's ephemeral range (32768-60999), so that no outgoing
# connection holds it, and that no socket of any state uses now.
free_port() {
  local p
  for _ in $(seq 200); do
    p=$((20000 + RANDOM % 12000))
    if [ -z "$(ss -Htan "sport = :$p")" ]; then echo "$p"; return; fi
  done
  fail "no free port"
}

wait_port() { # PORT PID LOG
  local deadline=$((SECONDS + HANG_S))
  until (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; do
    kill -0 "$2" 2>/dev/null || fail "the daemon exited before it listened on $1 (see $3)"
    [ $SECONDS -lt $deadline ] || fail "nothing listens on $1 after ${HANG_S}s (see $3)"
    sleep 0.1
  done
}

mode_of() { stat -c '%U:%G %a' "$1"; }
expect_mode() { # PATH "user:group mode"
  local got
  got=$(mode_of "$1") || fail "$1 is missing"
  [ "$got" = "$2" ] || fail "$1 is $got, want $2"
}

# --- build and lint ----------------------------------------------------------------
log "building the packages (deploy/packages.sh $work/build)"
mapfile -t debs < <("$src/deploy/packages.sh" "$work/build")
[ ${#debs[@]} -eq 5 ] || fail "deploy/packages.sh made ${#debs[@]} packages, want 5"
if grep -q '^E: ' "$work/build/debs/lintian.txt"; then
  fail "lintian errors: $(grep '^E: ' "$work/build/debs/lintian.txt")"
fi
grep -q '^[WE]: ' "$work/build/debs/lintian.txt" || true   # warnings are reported, not fatal

version=$(dpkg-deb -f "${debs[0]}" Version)
deb_of() { local d; for d in "${debs[@]}"; do [[ $(basename "$d") == "$1"_* ]] && echo "$d"; done; }

# --- what each package holds ---------------------------------------------------------
holds() { # PACKAGE PATH...
  local list pkg=$1; shift
  list=$(dpkg-deb -c "$(deb_of "$pkg")" | awk '{print $6}' | sed 's|^\./|/|')
  for path in "$@"; do
    grep -qx "$path" <<<"$list" || fail "$pkg does not hold $path"
  done
}
holds sanji-common /usr/share/locale/zh_CN/LC_MESSAGES/sanji.mo \
  /usr/share/doc/sanji-common/OPERATIONS.md /usr/share/doc/sanji-common/OPERATIONS.zh_CN.md \
  /usr/share/doc/sanji-common/copyright \
  /usr/share/sanji/backup/sanji-backup-county.sh /usr/share/sanji/backup/sanji-restore-county.sh \
  /usr/share/sanji/backup/sanji-restore-county-wal.sh /usr/share/sanji/backup/sanji-backup-store.sh \
  /usr/share/sanji/backup/sanji-backup-county.timer /usr/share/sanji/backup/sanji-pg-receivewal.service
holds sanji-county /usr/sbin/sanji-countyd /lib/systemd/system/sanji-countyd.service \
  /etc/sanji/countyd.conf /usr/share/sanji/demo/orgunits.csv /usr/share/doc/sanji-county/changelog.gz
holds sanji-relay /usr/sbin/sanji-relayd /usr/bin/sanji-relayctl \
  /lib/systemd/system/sanji-relayd.service /etc/sanji/relayd.conf
holds sanji-station /usr/bin/sanji /usr/bin/sanji-desk \
  /usr/share/applications/org.sanji.Desk.desktop \
  /usr/share/icons/hicolor/scalable/apps/org.sanji.Desk.svg \
  /usr/share/metainfo/org.sanji.Desk.metainfo.xml \
  /usr/share/doc/sanji-station/examples/client.conf
holds sanji-pki /usr/bin/sanji-pki
[ "$(dpkg-deb -f "$(deb_of sanji-common)" Architecture)" = all ] || fail "sanji-common is not Architecture: all"
for pkg in sanji-county sanji-relay; do
  dpkg-deb -f "$(deb_of "$pkg")" Depends | grep -q 'libsystemd0' ||
    fail "$pkg does not depend on libsystemd0 (dpkg-shlibdeps)"
  dpkg-deb -f "$(deb_of "$pkg")" Depends | grep -q 'libmicrohttpd12' ||
    fail "$pkg does not depend on libmicrohttpd12 (dpkg-shlibdeps; GET /metrics)"
done
dpkg-deb -f "$(deb_of sanji-station)" Depends | grep -q 'libgtk-4-1' ||
  fail "sanji-station does not depend on libgtk-4-1 (dpkg-shlibdeps)"
# `sanji stats --format xlsx` and the desk's Excel export (libxlsxwriter).
dpkg-deb -f "$(deb_of sanji-station)" Depends | grep -q 'libxlsxwriter' ||
  fail "sanji-station does not depend on libxlsxwriter (dpkg-shlibdeps)"
[ "$(dpkg-deb --info "$(deb_of sanji-county)" conffiles)" = /etc/sanji/countyd.conf ] ||
  fail "sanji-county's conffiles is not /etc/sanji/countyd.conf"
[ "$(dpkg-deb --info "$(deb_of sanji-relay)" conffiles)" = /etc/sanji/relayd.conf ] ||
  fail "sanji-relay's conffiles is not /etc/sanji/relayd.conf"

# --- install -------------------------------------------------------------------------------
log "installing ${PKGS[*]} $version"
printf 'made_user=%s\n' "$made_user" >"$MARKER"
DEBIAN_FRONTEND=noninteractive "${APT_GET[@]}" install -y -qq --no-install-recommends "${debs[@]}" \
  >"$tmp/apt.log" 2>&1 || { cat "$tmp/apt.log" >&2; fail "apt-get install of the packages failed"; }

getent passwd sanji | grep -q ':/var/lib/sanji:/usr/sbin/nologin$' ||
  fail "user sanji: $(getent passwd sanji) (want home /var/lib/sanji, shell nologin)"
[ "$(id -gn sanji)" = sanji ] || fail "user sanji's group is $(id -gn sanji)"
expect_mode /etc/sanji "root:sanji 750"
expect_mode /etc/sanji/countyd.conf "root:sanji 640"
expect_mode /etc/sanji/relayd.conf "root:sanji 640"
expect_mode /var/lib/sanji "sanji:sanji 750"
expect_mode /var/log/sanji "sanji:sanji 750"
# Installed, not enabled, not started.
for unit in sanji-countyd.service sanji-relayd.service; do
  [ -f "/lib/systemd/system/$unit" ] || fail "/lib/systemd/system/$unit missing"
  if find /etc/systemd/system -name "$unit" 2>/dev/null | grep -q .; then
    fail "$unit was enabled or masked by the installation: $(find /etc/systemd/system -name "$unit")"
  fi
  out=$(SYSTEMD_LOG_COLOR=0 systemd-analyze verify "/lib/systemd/system/$unit" 2>&1) ||
    fail "systemd-analyze verify $unit: $out"
  [ -z "$out" ] || fail "systemd-analyze verify $unit: $out"
done
# (Only the installed programs count: other test runs may run their own builds.)
runs_installed() { # PROGRAM-PATH
  local pid
  for pid in $(pgrep -x "$(basename "$1")"); do
    [ "$(readlink "/proc/$pid/exe" 2>/dev/null)" != "$1" ] || return 0
  done
  return 1
}
! runs_installed /usr/sbin/sanji-countyd || fail "sanji-countyd runs after the installation"
! runs_installed /usr/sbin/sanji-relayd || fail "sanji-relayd runs after the installation"
# The configuration as installed starts nothing: a required key is missing.
if out=$(as_sanji /usr/sbin/sanji-countyd --config /etc/sanji/countyd.conf run 2>&1); then
  fail "sanji-countyd ran with the unedited /etc/sanji/countyd.conf"
fi
grep -q 'CONFIG_MISSING' <<<"$out" || fail "unedited countyd.conf: $out (want CONFIG_MISSING)"
if out=$(as_sanji /usr/sbin/sanji-relayd --config /etc/sanji/relayd.conf run 2>&1); then
  fail "sanji-relayd ran with the unedited /etc/sanji/relayd.conf"
fi
grep -q 'CONFIG_MISSING' <<<"$out" || fail "unedited relayd.conf: $out (want CONFIG_MISSING)"
desktop-file-validate /usr/share/applications/org.sanji.Desk.desktop >&2 ||
  fail "desktop-file-validate org.sanji.Desk.desktop"
appstreamcli validate --no-net /usr/share/metainfo/org.sanji.Desk.metainfo.xml >"$tmp/appstream.log" 2>&1 ||
  fail "appstreamcli validate: $(cat "$tmp/appstream.log")"
grep -q "<release version=\"$version\"" /usr/share/metainfo/org.sanji.Desk.metainfo.xml ||
  fail "org.sanji.Desk.metainfo.xml has no <release> of version $version"
# The installed programs find the installed catalogue (/usr/share/locale).
help=$(clean_env /usr/bin/sanji --help 2>&1 || true)
grep -q '命令：' <<<"$help" || fail "sanji --help is not translated (sanji.mo not found): $help"
help=$(clean_env LANGUAGE=en /usr/bin/sanji --help 2>&1 || true)
grep -q 'Commands:' <<<"$help" || fail "LANGUAGE=en sanji --help: $help"

# --- certificates from the installed CA tool -------------------------------------------
log "PKI with /usr/bin/sanji-pki"
pki() { clean_env /usr/bin/sanji-pki "$@" >>"$tmp/pki.log" 2>&1 || fail "sanji-pki $*"; }
pki init --dir "$tmp/ca" --county "$COUNTY" --name 鲁山县
pki issue --dir "$tmp/ca" --role county --unit "$COUNTY" --host 127.0.0.1 --out "$tmp/county"
pki issue --dir "$tmp/ca" --role relay --unit "$TOWNSHIP" --host 127.0.0.1 --out "$tmp/relay"
pki issue --dir "$tmp/ca" --role village --unit "$VILLAGE" --out "$tmp/station"
# At the default paths of both daemons (tls.ca, tls.cert, tls.key), as
# docs/OPERATIONS.md installs them: keys 0600 sanji, the rest 0644.
install -m 0644 "$tmp/ca/ca.crt" /etc/sanji/ca.crt
for node in county relay; do
  install -m 0644 "$tmp/$node.crt" "/etc/sanji/$node.crt"
  install -m 0600 -o sanji -g sanji "$tmp/$node.key" "/etc/sanji/$node.key"
done

# --- the county ------------------------------------------------------------------------------
log "county: private PostgreSQL, migrate, demo-load, run"
conninfo=$("$src/tests/lib/pg_cluster.sh" start "$pg_dir" | tail -n 1)
county_port=$(free_port)
cat >/etc/sanji/countyd.conf <<EOF
# test_packages: the county of the package test
[listen]
address = "127.0.0.1:$county_port"
[database]
conninfo = "$conninfo"
[county]
code = ${COUNTY:0:6}
EOF
as_sanji /usr/sbin/sanji-countyd --config /etc/sanji/countyd.conf migrate >"$tmp/migrate.log" 2>&1 ||
  fail "sanji-countyd migrate (see $tmp/migrate.log)"
as_sanji /usr/sbin/sanji-countyd --config /etc/sanji/countyd.conf demo-load /usr/share/sanji/demo \
  >"$tmp/demo-load.log" 2>&1 || fail "sanji-countyd demo-load /usr/share/sanji/demo"
daemon_as_sanji /usr/sbin/sanji-countyd --config /etc/sanji/countyd.conf run >"$tmp/countyd.log" 2>&1 &
pids+=($!)
county_pid=$!
wait_port "$county_port" "$county_pid" "$tmp/countyd.log"
[ "$(readlink "/proc/$county_pid/exe")" = /usr/sbin/sanji-countyd ] ||
  fail "pid $county_pid is $(readlink "/proc/$county_pid/exe"), not /usr/sbin/sanji-countyd"

# --- the relay, its stderr taken for the journal -----------------------------------------
# JOURNAL_STREAM names the log file as systemd names the journal's stream:
# every line must then carry the syslog priority of its level (log.h).
log "relay: run, store at its default /var/lib/sanji/relay.db"
relay_port=$(free_port)
cat >/etc/sanji/relayd.conf <<EOF
# test_packages: the relay of 张官营镇
[listen]
address = 127.0.0.1:$relay_port
[county]
addresses = 127.0.0.1:$county_port
node = county:$COUNTY
EOF
: >"$tmp/relayd.log"
journal=$(stat -c '%d:%i' "$tmp/relayd.log")
daemon_as_sanji JOURNAL_STREAM="$journal" /usr/sbin/sanji-relayd --config /etc/sanji/relayd.conf run \
  >>"$tmp/relayd.log" 2>&1 &
pids+=($!)
relay_pid=$!
wait_port "$relay_port" "$relay_pid" "$tmp/relayd.log"

# --- a village station ------------------------------------------------------------------------
log "station: login and register with /usr/bin/sanji, until the county records it"
mkdir -p "$tmp/station-store"
cat >"$tmp/client.conf" <<EOF
[node]
cert = $tmp/station.crt
key = $tmp/station.key
ca = /etc/sanji/ca.crt
[server]
address = 127.0.0.1:$relay_port
peer = relay:$TOWNSHIP
[store]
path = $tmp/station-store/client.db
[person]
default = p-$VILLAGE-01
EOF
cli() { clean_env SANJI_PASSWORD=sanji123 /usr/bin/sanji --config "$tmp/client.conf" "$@"; }
cli login >>"$tmp/station.log" 2>&1 || fail "sanji login (see $tmp/station.log)"
out=$(cli register --item YB-002 --name 王秀兰 --id 410423195803121021 --phone 13703751201 \
        --text "帮忙激活医保电子凭证" --wait "$HANG_S" --wait-applied 2>&1) ||
  { echo "$out" >>"$tmp/station.log"; fail "sanji register --wait-applied: $out"; }
grep -q '县已记录' <<<"$out" || fail "register: no 县已记录 (recorded by the county) in: $out"
grep -q '事项编号 410423-' <<<"$out" || fail "register: no case number in: $out"
status=$(as_sanji /usr/bin/sanji-relayctl --config /etc/sanji/relayd.conf 2>&1) ||
  fail "sanji-relayctl: $status"
grep -q '在线' <<<"$status" || fail "sanji-relayctl does not show the county link up: $status"

# --- stop, and the priorities in the relay's log ---------------------------------------------
for pid in "$relay_pid" "$county_pid"; do
  kill -TERM "$pid"
  rc=0
  wait "$pid" || rc=$?
  [ $rc -eq 0 ] || fail "a daemon (pid $pid) exited with $rc after SIGTERM"
done
pids=()
bad=$(grep -v -E '^(<7>[^ ]* level=debug |<6>[^ ]* level=info |<4>[^ ]* level=warn |<3>[^ ]* level=error )' \
        "$tmp/relayd.log" || true)
[ -z "$bad" ] || fail "relay log lines without the priority of their level: $bad"
grep -q '^<6>' "$tmp/relayd.log" || fail "no info line in the relay's log"
"$src/tests/lib/pg_cluster.sh" stop "$pg_dir" >/dev/null

# --- reinstall, remove: the operator's configuration stays ------------------------------------
# A reinstall (what an upgrade does to an unchanged conffile) keeps the
# edited configuration, its owner and mode, and the relay's store.
log "reinstalling sanji-county and sanji-relay, then removing everything"
cp /etc/sanji/countyd.conf "$tmp/countyd.conf.edited"
cp /etc/sanji/relayd.conf "$tmp/relayd.conf.edited"
dpkg_waiting -i "$(deb_of sanji-county)" "$(deb_of sanji-relay)" \
  >"$tmp/reinstall.log" 2>&1 || { cat "$tmp/reinstall.log" >&2; fail "dpkg -i (reinstall) failed"; }
cmp -s /etc/sanji/countyd.conf "$tmp/countyd.conf.edited" || fail "the reinstall changed countyd.conf"
cmp -s /etc/sanji/relayd.conf "$tmp/relayd.conf.edited" || fail "the reinstall changed relayd.conf"
expect_mode /etc/sanji/countyd.conf "root:sanji 640"
expect_mode /etc/sanji/relayd.conf "root:sanji 640"
expect_mode /etc/sanji "root:sanji 750"
[ -f /var/lib/sanji/relay.db ] || fail "the reinstall lost /var/lib/sanji/relay.db"
# remove: the programs go, the configuration and the store stay.
DEBIAN_FRONTEND=noninteractive "${APT_GET[@]}" remove -y -qq "${PKGS[@]}" >"$tmp/remove.log" 2>&1 ||
  { cat "$tmp/remove.log" >&2; fail "apt-get remove failed"; }
[ ! -e /usr/sbin/sanji-countyd ] || fail "/usr/sbin/sanji-countyd is left after apt-get remove"
cmp -s /etc/sanji/relayd.conf "$tmp/relayd.conf.edited" || fail "apt-get remove changed relayd.conf"
[ -f /var/lib/sanji/relay.db ] || fail "apt-get remove deleted the relay's store"

# --- purge ------------------------------------------------------------------------------------------
# The certificates and keys are the operator's files, which a purge keeps;
# remove them as an operator would, then nothing of Sanji may be left.
log "purging"
rm -f /etc/sanji/ca.crt /etc/sanji/county.crt /etc/sanji/county.key \
      /etc/sanji/relay.crt /etc/sanji/relay.key
# dpkg, not apt: after the remove, apt no longer knows the local packages
# that left nothing behind (no conffiles).
dpkg_waiting --purge "${PKGS[@]}" >"$tmp/purge.log" 2>&1 ||
  { cat "$tmp/purge.log" >&2; fail "dpkg --purge failed"; }
for p in "${PKGS[@]}"; do
  installed "$p" && fail "$p is still installed after the purge"
done
left=$(ls -d /etc/sanji /var/lib/sanji /var/log/sanji /usr/bin/sanji* /usr/sbin/sanji* \
          /lib/systemd/system/sanji* /usr/share/sanji /usr/share/doc/sanji-* \
          /usr/share/locale/*/LC_MESSAGES/sanji.mo /usr/share/applications/org.sanji.* \
          /usr/share/metainfo/org.sanji.* /usr/share/icons/hicolor/*/apps/org.sanji.* \
          /etc/systemd/system/sanji* /var/lib/systemd/deb-systemd-helper-*/sanji* \
          /var/lib/systemd/deb-systemd-helper-enabled/*/sanji* 2>/dev/null || true)
[ -z "$left" ] || fail "left after the purge: $left"
if dpkg-statoverride --list | grep -q '/etc/sanji'; then
  fail "statoverrides left after the purge: $(dpkg-statoverride --list | grep /etc/sanji)"
fi
log "ok: built, linted, installed, ran county + relay + station from /usr, purged clean"
