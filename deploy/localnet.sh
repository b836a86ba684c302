#!/usr/bin/env bash
# localnet.sh - a whole Sanji network on this machine, on loopback: the county
# CA and certificates, a private PostgreSQL, the county server with the demo
# county 鲁山县, two township relays and four village stations.
#
#   deploy/localnet.sh start    build what is missing, then start everything
#   deploy/localnet.sh stop     stop every process and PostgreSQL (data kept)
#   deploy/localnet.sh status   what runs where
#   deploy/localnet.sh clean    stop, then delete the network's folder
#
# Everything lives in $SANJI_NET_DIR (default /tmp/sanji-net): pki/ (the CA,
# node certificates and keys, 0600), pg/ (the database cluster), county/,
# relay-<township>/, station-<village>/ and desk-*/ (configs, stores, logs).
# Ports: SANJI_PORT_BASE (default 17443) for the county, +1 and +2 for the
# relays.
# PostgreSQL runs as an unprivileged user (as root: sanji-test), so
# tests/lib/pg_cluster.sh keeps the cluster in a private folder under /tmp
# that this user can reach, and pg/ links to it; "clean" removes both.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
net=${SANJI_NET_DIR:-/tmp/sanji-net}
build=${SANJI_BUILD_DIR:-$root/build/release}
bin_pki=$build/deploy/pki/sanji-pki
bin_county=$build/server/sanji-countyd
bin_relay=$build/relay/sanji-relayd
bin_cli=$build/client/sanji

COUNTY=410423000000
# Ports: the county on SANJI_PORT_BASE, the relays on the next ones, so that
# two networks (say, a test's and a person's) can run side by side.
PORT_BASE=${SANJI_PORT_BASE:-17443}
COUNTY_PORT=$PORT_BASE
# township code -> relay port
declare -A RELAY_PORT=([410423101000]=$((PORT_BASE + 1)) [410423102000]=$((PORT_BASE + 2)))
# county departments with a desk (codes of deploy/demo/departments.csv, each
# with staff in department_staff.csv): desk-dept-<code>, direct to the county
DEPARTMENTS="mzj rsj ybj cl"
# village code -> its township
declare -A STATION_TOWNSHIP=(
  [410423101201]=410423101000 [410423101202]=410423101000
  [410423102201]=410423102000 [410423102202]=410423102000
)

say() { printf '%s\n' "$*"; }
die() { printf 'localnet: %s\n' "$*" >&2; exit 1; }

build_all() {
  if [ ! -x "$bin_county" ] || [ ! -x "$bin_pki" ] || [ ! -x "$bin_relay" ] || [ ! -x "$bin_cli" ]; then
    say "== 编译 Sanji (building) in $build"
    cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_C_COMPILER=gcc >/dev/null
    cmake --build "$build" -j "$(nproc)" >/dev/null
  fi
}

# --- PKI --------------------------------------------------------------------

issue() { # role unit out [name] [host]
  local role=$1 unit=$2 out=$3 name=${4:-} host=${5:-}
  [ -f "$out.crt" ] && return 0
  local args=(issue --dir "$net/pki/ca" --role "$role" --unit "$unit" --out "$out")
  [ -n "$name" ] && args+=(--name "$name")
  [ -n "$host" ] && args+=(--host "$host")
  "$bin_pki" "${args[@]}" >/dev/null
}

make_pki() {
  mkdir -p "$net/pki"
  chmod 700 "$net/pki"
  if [ ! -f "$net/pki/ca/ca.crt" ]; then
    say "== 建立县级证书中心 (county CA) 鲁山县"
    "$bin_pki" init --dir "$net/pki/ca" --county "$COUNTY" --name "鲁山县" >/dev/null
  fi
  issue county "$COUNTY" "$net/pki/county" "" "127.0.0.1,localhost"
  issue county-desk "$COUNTY" "$net/pki/county-desk-ops1" ops1
  local t v d
  for d in $DEPARTMENTS; do
    issue department-desk "$COUNTY" "$net/pki/department-desk-$d" "$d"
  done
  for t in "${!RELAY_PORT[@]}"; do
    issue relay "$t" "$net/pki/relay-$t" "" "127.0.0.1,localhost"
    issue township-desk "$t" "$net/pki/township-desk-$t"
  done
  for v in "${!STATION_TOWNSHIP[@]}"; do
    issue village "$v" "$net/pki/station-$v"
  done
  say "   证书已签发 (certificates issued) in $net/pki"
}

# --- PostgreSQL and the county ------------------------------------------------

start_pg() {
  if [ -f "$net/pg/data/postmaster.pid" ] && [ -f "$net/pg/conninfo" ]; then
    return 0
  fi
  say "== 启动县级数据库 (private PostgreSQL 15)"
  "$root/tests/lib/pg_cluster.sh" start "$net/pg" >/dev/null
}

conninfo() { cat "$net/pg/conninfo"; }

write_county_config() {
  mkdir -p "$net/county"
  cat >"$net/county/countyd.conf" <<EOF
# sanji-countyd for the local network (see docs/SERVER.md for every key)
[listen]
address = "127.0.0.1:$COUNTY_PORT"
[tls]
ca = $net/pki/ca/ca.crt
cert = $net/pki/county.crt
key = $net/pki/county.key
crl = "$net/pki/ca/crl.pem"
[database]
conninfo = "$(conninfo)"
[county]
code = "${COUNTY:0:6}"
[sweep]
interval = 10s
EOF
}

load_county() {
  write_county_config
  # Migrating is harmless when the schema is current, and brings an older
  # network up to date after an upgrade.
  "$bin_county" --config "$net/county/countyd.conf" migrate >/dev/null
  if [ ! -f "$net/county/loaded" ]; then
    say "== 导入鲁山县示例数据 (demo data: 25 townships, 502 villages, 122 items, 1057 persons)"
    "$bin_county" --config "$net/county/countyd.conf" demo-load "$root/deploy/demo" >"$net/county/demo-load.log"
    touch "$net/county/loaded"
  fi
}

# Starts a daemon in the background; NAME.pid holds its pid, and NAME.status
# its exit status once it has ended, so that "stop" can tell a clean end
# (0 on SIGTERM) from a crash or a sanitizer's report.
start_daemon() { # name logfile cmd...
  local name=$1 log=$2; shift 2
  local pidf=$net/$name.pid statusf=$net/$name.status
  if [ -f "$pidf" ] && kill -0 "$(cat "$pidf")" 2>/dev/null; then
    return 0
  fi
  # A daemon that ended badly since the last start is remembered for "stop".
  if [ -f "$statusf" ] && [ "$(cat "$statusf")" != 0 ]; then
    echo "$name $(cat "$statusf")" >>"$net/ended-badly"
  fi
  rm -f "$pidf" "$statusf"
  # The watching shell holds none of the caller's descriptors: a caller
  # reading this script's output through a pipe must see its end.
  (
    "$@" >>"$log" 2>&1 &
    echo $! >"$pidf.new" && mv "$pidf.new" "$pidf"
    rc=0
    wait $! || rc=$?
    echo "$rc" >"$statusf"
  ) </dev/null >/dev/null 2>&1 &
  # Generous limits: they only catch a hang; a loaded machine or a
  # sanitizer build starts slowly, not wrongly.
  local i
  for i in $(seq 1 1200); do
    [ -f "$pidf" ] && return 0
    sleep 0.1
  done
  die "$name did not start (see $log)"
}

wait_port() { # port what [pidfile]: stops early when the daemon has ended
  local i
  for i in $(seq 1 1200); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then
      return 0
    fi
    if [ -n "${3:-}" ] && ! kill -0 "$(cat "$3" 2>/dev/null)" 2>/dev/null; then
      die "$2 ended before it listened on port $1 (see its log in $net)"
    fi
    sleep 0.1
  done
  die "$2 did not start listening on port $1 (see its log in $net)"
}

start_county() {
  say "== 启动县级服务器 sanji-countyd on 127.0.0.1:$COUNTY_PORT"
  start_daemon county "$net/county/countyd.log" "$bin_county" --config "$net/county/countyd.conf" run
  wait_port "$COUNTY_PORT" sanji-countyd "$net/county.pid"
}

# --- relays -----------------------------------------------------------------

write_relay_config() { # township
  local t=$1 d=$net/relay-$1
  mkdir -p "$d"
  cat >"$d/relayd.conf" <<EOF
# sanji-relayd of township $t (see docs/RELAY.md for every key)
[listen]
address = 127.0.0.1:${RELAY_PORT[$t]}
[county]
addresses = 127.0.0.1:$COUNTY_PORT
node = county:$COUNTY
[tls]
ca = $net/pki/ca/ca.crt
cert = $net/pki/relay-$t.crt
key = $net/pki/relay-$t.key
crl = "$net/pki/ca/crl.pem"
[store]
path = $d/relay.db
[upstream]
backoff_max = 5s
[link]
heartbeat = 5s
EOF
}

start_relays() {
  local t
  for t in "${!RELAY_PORT[@]}"; do
    write_relay_config "$t"
    say "== 启动乡镇中继 sanji-relayd $t on 127.0.0.1:${RELAY_PORT[$t]}"
    start_daemon "relay-$t" "$net/relay-$t/relayd.log" \
      "$bin_relay" --config "$net/relay-$t/relayd.conf" run
  done
  for t in "${!RELAY_PORT[@]}"; do
    wait_port "${RELAY_PORT[$t]}" "sanji-relayd $t" "$net/relay-$t.pid"
  done
}

# --- clients: village stations, township desks, the county desk --------------

write_client_config() { # dir cert-prefix address peer person [station-phone]
  local d=$1 crt=$2 addr=$3 peer=$4 person=$5 phone=${6:-}
  mkdir -p "$d"
  cat >"$d/client.conf" <<EOF
# sanji / sanji-desk for $(basename "$d") (see docs/CLI.md)
[node]
cert = $crt.crt
key = $crt.key
ca = $net/pki/ca/ca.crt
crl = $net/pki/ca/crl.pem
[server]
address = $addr
peer = $peer
[store]
path = $d/client.db
[person]
default = $person
EOF
  if [ -n "$phone" ]; then
    printf '[station]\nphone = %s\n' "$phone" >>"$d/client.conf"
  fi
}

write_clients() {
  local v t
  for v in "${!STATION_TOWNSHIP[@]}"; do
    t=${STATION_TOWNSHIP[$v]}
    # A made-up phone for the station's papers (受理回执): 0375-55 and the
    # village's last five digits.
    write_client_config "$net/station-$v" "$net/pki/station-$v" "127.0.0.1:${RELAY_PORT[$t]}" \
      "relay:$t" "p-$v-01" "0375-55${v: -5}"
  done
  for t in "${!RELAY_PORT[@]}"; do
    write_client_config "$net/desk-$t" "$net/pki/township-desk-$t" "127.0.0.1:${RELAY_PORT[$t]}" \
      "relay:$t" "p-$t-01"
  done
  write_client_config "$net/desk-county" "$net/pki/county-desk-ops1" "127.0.0.1:$COUNTY_PORT" \
    "county:$COUNTY" "p-$COUNTY-01"
  local d
  for d in $DEPARTMENTS; do
    write_client_config "$net/desk-dept-$d" "$net/pki/department-desk-$d" "127.0.0.1:$COUNTY_PORT" \
      "county:$COUNTY" "p-$COUNTY-$d-01"
  done
}

start_all() {
  mkdir -p "$net"
  build_all
  make_pki
  start_pg
  load_county
  start_county
  start_relays
  write_clients
  say "== 本地网络已启动 (local network up) in $net"
}

# Stops every daemon with SIGTERM and waits for each to end; fails, naming
# it, when one ended with a status other than 0 (a crash, a sanitizer's
# leak report, a refusal to stop), so that a test using the network sees it.
stop_all() {
  local pidf name bad=0 i
  for pidf in "$net"/*.pid; do
    [ -f "$pidf" ] || continue
    kill "$(cat "$pidf")" 2>/dev/null || true
  done
  for pidf in "$net"/*.pid; do
    [ -f "$pidf" ] || continue
    name=$(basename "$pidf" .pid)
    for i in $(seq 1 600); do
      [ -f "$net/$name.status" ] && break
      if ! kill -0 "$(cat "$pidf")" 2>/dev/null; then
        # Ended: its status follows at once (or never, for a daemon an
        # older localnet.sh started, which writes none).
        sleep 0.2
        break
      fi
      sleep 0.1
    done
    if [ ! -f "$net/$name.status" ]; then
      if kill -0 "$(cat "$pidf")" 2>/dev/null; then
        echo "localnet: $name did not stop within 60 s of SIGTERM" >&2
        bad=1
      fi
      # Started by an older localnet.sh: no status to read.
    elif [ "$(cat "$net/$name.status")" != 0 ]; then
      echo "localnet: $name ended with status $(cat "$net/$name.status") (see its log in $net)" >&2
      bad=1
    fi
    rm -f "$pidf" "$net/$name.status"
  done
  if [ -f "$net/ended-badly" ]; then
    while read -r name status; do
      echo "localnet: $name had ended with status $status before it was started again" >&2
    done <"$net/ended-badly"
    rm -f "$net/ended-badly"
    bad=1
  fi
  "$root/tests/lib/pg_cluster.sh" halt "$net/pg"
  say "== 本地网络已停止 (stopped); data kept in $net"
  return $bad
}

status_all() {
  local pidf
  for pidf in "$net"/*.pid; do
    [ -f "$pidf" ] || continue
    local name
    name=$(basename "$pidf" .pid)
    if kill -0 "$(cat "$pidf")" 2>/dev/null; then
      say "$name: 运行中 (running, pid $(cat "$pidf"))"
    else
      say "$name: 已停止 (not running)"
    fi
  done
}

case "${1:-}" in
  start) start_all ;;
  stop) stop_all ;;
  status) status_all ;;
  clean)
    rc=0
    stop_all || rc=$?
    "$root/tests/lib/pg_cluster.sh" stop "$net/pg"   # its private folder too
    rm -rf "$net"
    say "== 已删除 (removed) $net"
    exit $rc
    ;;
  *) die "usage: deploy/localnet.sh start|stop|status|clean" ;;
esac
