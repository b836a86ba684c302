#!/usr/bin/env bash
# link_costs.sh - what Sanji costs on a village line (docs/PERFORMANCE.md
# "Village links"): a benchmark that prints figures, not a test.
#
# A whole local network (deploy/localnet.sh, real processes, real TLS) with
# sanji-faultproxy between the station of 张官营村 and its township relay,
# so that every byte the station's link carries is counted (TLS included:
# Sanji has no plaintext mode) and the line can be made a village line.
# It measures, with the `sanji` CLI as a cadre would use it:
#
#   1. a connection: TLS handshake, Hello, the feed caught up, nothing to
#      send (`sanji sync` with nothing to do), bytes each way, median of 5;
#   2. one case's life on the village link, step by step: registration,
#      escalation, the township's 签收 and 办结 coming down the feed,
#      feedback; each step's bytes less one connection (the CLI connects
#      for every command, a desk stays connected);
#   3. a station that was offline for a month: 50 actions saved at the
#      station, 300 feed changes waiting (the township's 签收 and 办结 of
#      150 cases), then one `sanji sync` over 256 kbit/s with 300 ms round
#      trip: time and bytes; the same catch-up over the unthrottled
#      loopback, for comparison;
#   4. a reconnect on that line (a link that drops every minute pays this
#      each time): the time of `sanji sync` with nothing to do, median of 5.
#
#   tests/bench/link_costs.sh [BUILD_DIR]     (default build/release)
#
# Needs root or a user that may run PostgreSQL (pg_cluster.sh's rules), like
# localnet.sh.  Leaves nothing behind (the network is cleaned at exit).
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
build=$(cd "${1:-$root/build/release}" && pwd)
cli=$build/client/sanji
proxy_bin=$build/tests/chaos/sanji-faultproxy
for b in "$cli" "$proxy_bin"; do
  [ -x "$b" ] || { echo "link_costs: $b is missing: build first (cmake --build $build)" >&2; exit 1; }
done

net=$(mktemp -d /tmp/sanji-link.XXXXXX)
export SANJI_NET_DIR=$net SANJI_BUILD_DIR=$build SANJI_PASSWORD=sanji123
export SANJI_PORT_BASE=$((21000 + RANDOM % 2000 * 4))
relay_port=$((SANJI_PORT_BASE + 1))
proxy_port=$((SANJI_PORT_BASE + 10)) control_port=$((SANJI_PORT_BASE + 11))
proxy_pid=

cleanup() {
  [ -z "$proxy_pid" ] || kill "$proxy_pid" 2>/dev/null || true
  "$root/deploy/localnet.sh" clean >/dev/null 2>&1 || true
  rm -rf "$net"
}
trap cleanup EXIT

V=410423101201 T=410423101000
"$root/deploy/localnet.sh" start >"$net/localnet.log" 2>&1 || { cat "$net/localnet.log" >&2; exit 1; }
station=$net/station-$V/client.conf desk=$net/desk-$T/client.conf
# The same station through the proxy: only the relay's address differs.
sed "s/^address = .*/address = 127.0.0.1:$proxy_port/" "$station" >"$net/station-$V/proxied.conf"
slow=$net/station-$V/proxied.conf
"$proxy_bin" --listen "$proxy_port" --target "$relay_port" --control "$control_port" \
  --log-level warn 2>"$net/proxy.log" &
proxy_pid=$!

ctl() { # command -> the proxy's reply
  local reply
  exec 3<>"/dev/tcp/127.0.0.1/$control_port"
  printf '%s\n' "$1" >&3
  IFS= read -r reply <&3
  exec 3>&-
  printf '%s\n' "$reply"
}
for _ in $(seq 50); do ctl status >/dev/null 2>&1 && break; sleep 0.1; done
counter() { ctl status | tr ' ' '\n' | sed -n "s/^$1=//p"; }
ms() { date +%s%3N; }
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

# sanji at a node; exit 5 (saved, not yet confirmed) is not a failure here.
at() { # config args...
  local c=$1 rc=0
  shift
  "$cli" --config "$c" "$@" >"$net/last.out" 2>&1 || rc=$?
  if [ "$rc" -ne 0 ] && [ "$rc" -ne 5 ]; then
    echo "link_costs: sanji $* failed ($rc):" >&2
    cat "$net/last.out" >&2
    exit 1
  fi
}
# Runs sanji through the proxy; prints "up down ms" for what it carried.
measured() {
  local up0 down0 t0 t1
  up0=$(counter bytes_up) down0=$(counter bytes_down) t0=$(ms)
  at "$slow" "$@"
  t1=$(ms)
  echo "$(($(counter bytes_up) - up0)) $(($(counter bytes_down) - down0)) $((t1 - t0))"
}
case_of() { sed -n 's/.*"case":"\([^"]*\)".*/\1/p' "$net/last.out"; }

at "$station" login "p-$V-01"
at "$desk" login "p-$T-01"
at "$slow" sync --wait 10

echo "sanji link costs: station $V through sanji-faultproxy to its relay (TLS 1.3, mutual)"
echo "machine: $(nproc) CPUs, $(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1); build $build"

# --- 1. a connection -------------------------------------------------------------
for _ in 1 2 3 4 5; do measured sync --wait 10; done >"$net/conn"
conn_up=$(cut -d' ' -f1 "$net/conn" | median) conn_down=$(cut -d' ' -f2 "$net/conn" | median)
conn_ms=$(cut -d' ' -f3 "$net/conn" | median)
echo
echo "1. one connection with nothing to do (handshake, Hello, feed caught up), median of 5:"
echo "   up $conn_up bytes, down $conn_down bytes, $conn_ms ms on loopback"

# --- 2. one case's life -------------------------------------------------------------
ID=410423195803121021
step() { # label sanji-args... ; prints the step less one connection
  local label=$1 r
  shift
  r=$(measured "$@")
  set -- $r
  printf '   %-34s up %6d  down %6d bytes\n' "$label" $(($1 - conn_up)) $(($2 - conn_down))
  tot_up=$((tot_up + $1 - conn_up)) tot_down=$((tot_down + $2 - conn_down))
}
tot_up=0 tot_down=0
echo
echo "2. one case's life on the village link (each step less one connection):"
step "register (诉求登记)" --json register --item HJ-004 --name 李建国 --id $ID \
  --phone 13937510001 --text "儿子婚后户口迁到本村" --wait-applied
C=$(case_of)
step "escalate (上报)" escalate "$C" --wait-applied
at "$desk" sync --wait 10
at "$desk" accept "$C" --wait-applied
at "$desk" resolve "$C" --result "户口迁移手续已办结" --wait-applied
step "feed: 签收 and 办结 come down" sync --wait 10
step "feedback (结果反馈)" feedback "$C" --satisfaction 满意 --wait-applied
printf '   %-34s up %6d  down %6d bytes\n' "the whole life" $tot_up $tot_down

# --- 3. a month offline ------------------------------------------------------------------
echo
echo "3. a month offline: 50 actions saved at the station, 300 feed changes waiting"
catch_up() { # label: prepares the month, then one sync through the proxy as it is set
  local i c ids=() r
  for i in $(seq 150); do
    at "$station" --json register --item HJ-004 --name "王$i" --id $ID --phone 13937510001 \
      --text "户口迁移 $i" --wait 0
    ids+=("$(case_of)")
  done
  at "$station" sync --wait 60
  for c in "${ids[@]}"; do at "$station" escalate "$c" --wait 0; done
  at "$station" sync --wait 60
  # The station is away now; its township works on.
  at "$desk" sync --wait 60
  for c in "${ids[@]}"; do at "$desk" accept "$c" --wait 0; done
  at "$desk" sync --wait 60
  for c in "${ids[@]}"; do at "$desk" resolve "$c" --result "已办结" --wait 0; done
  at "$desk" sync --wait 60
  for i in $(seq 50); do
    at "$station" register --item YB-002 --name "赵$i" --id $ID --phone 13937510001 \
      --text "离线登记 $i" --wait 0
  done
  r=$(measured sync --wait 900)
  set -- $r
  at "$slow" status --offline --json
  grep -q '"outbox":{"saved":0,"stored":0,' "$net/last.out" ||
    echo "   (not everything was recorded by the county within the sync: $(cat "$net/last.out"))"
  printf '   %-34s %7.1f s, up %7d  down %7d bytes\n' "$label" "$(awk "BEGIN {print $3 / 1000}")" $1 $2
}
label="loopback, no limit:"
catch_up
ctl "rate 256" >/dev/null
ctl "delay 150" >/dev/null
label="256 kbit/s, 300 ms round trip:"
catch_up

# --- 4. a reconnect on the village line -----------------------------------------------
for _ in 1 2 3 4 5; do measured sync --wait 30; done >"$net/reconn"
echo
echo "4. a reconnect on the 256 kbit/s, 300 ms line with nothing to do, median of 5:"
echo "   $(cut -d' ' -f3 "$net/reconn" | median) ms, up $(cut -d' ' -f1 "$net/reconn" | median)," \
  "down $(cut -d' ' -f2 "$net/reconn" | median) bytes"
