#!/usr/bin/env bash
# attach_costs.sh - attachments on a village line (docs/PERFORMANCE.md
# "Attachments on a village line"): a benchmark that prints figures, not a
# test.
#
# A whole local network (deploy/localnet.sh, real processes, real TLS) with
# sanji-faultproxy between the station of 张官营村 and its relay, set to a
# village line: 256 kbit/s each way and 300 ms round trip (`rate 256`,
# `delay 150`).  One station client on one link (sanji-attach-bench, as a
# desk holds its link) registers a case every 3 s, ten in all:
#
#   1. with nothing else on the line (the registrations' own latency);
#   2. while it uploads a 2 MB scan with the default share
#      (attachment.in_flight = 2): the upload's time, saved -> every chunk
#      recorded by the county, and the registrations' latency meanwhile;
#   3. the same with attachment.in_flight = 64 (no share to speak of), to
#      show what the share buys.
#
# The proxy drops no packets (it has no loss mode): TCP's retransmissions
# under loss are not in these figures.
#
#   tests/bench/attach_costs.sh [BUILD_DIR]     (default build/release)
#
# Needs what localnet.sh needs.  Leaves nothing behind.
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
build=$(cd "${1:-$root/build/release}" && pwd)
cli=$build/client/sanji
proxy_bin=$build/tests/chaos/sanji-faultproxy
bench=$build/tests/bench/sanji-attach-bench
for b in "$cli" "$proxy_bin" "$bench"; do
  [ -x "$b" ] || { echo "attach_costs: $b is missing: build first (cmake --build $build)" >&2; exit 1; }
done

net=$(mktemp -d /tmp/sanji-attach.XXXXXX)
export SANJI_NET_DIR=$net SANJI_BUILD_DIR=$build SANJI_PASSWORD=sanji123
export SANJI_PORT_BASE=$((23000 + RANDOM % 2000 * 4))
relay_port=$((SANJI_PORT_BASE + 1))
proxy_port=$((SANJI_PORT_BASE + 10)) control_port=$((SANJI_PORT_BASE + 11))
proxy_pid=

cleanup() {
  [ -z "$proxy_pid" ] || kill "$proxy_pid" 2>/dev/null || true
  "$root/deploy/localnet.sh" clean >/dev/null 2>&1 || true
  rm -rf "$net"
}
trap cleanup EXIT

V=410423101201
"$root/deploy/localnet.sh" start >"$net/localnet.log" 2>&1 || { cat "$net/localnet.log" >&2; exit 1; }
station=$net/station-$V/client.conf
slow=$net/station-$V/proxied.conf
sed "s/^address = .*/address = 127.0.0.1:$proxy_port/" "$station" >"$slow"
"$proxy_bin" --listen "$proxy_port" --target "$relay_port" --control "$control_port" \
  --log-level warn 2>"$net/proxy.log" &
proxy_pid=$!
ctl() {
  local reply
  exec 3<>"/dev/tcp/127.0.0.1/$control_port"
  printf '%s\n' "$1" >&3
  IFS= read -r reply <&3
  exec 3>&-
  printf '%s\n' "$reply"
}
for _ in $(seq 50); do ctl status >/dev/null 2>&1 && break; sleep 0.1; done

"$cli" --config "$station" login "p-$V-01" >/dev/null
"$cli" --config "$station" --json register --item MZ-001 --name 李建国 \
  --id 11010519491231002X --phone 13937510001 --text "申请" --wait-applied >"$net/reg.out"
C=$(sed -n 's/.*"case":"\([^"]*\)".*/\1/p' "$net/reg.out")
{ printf '%%PDF-1.4\n'; head -c $((2 * 1024 * 1024 - 9)) /dev/urandom; } >"$net/scan.pdf"
"$cli" --config "$slow" sync --wait 30 >/dev/null || true
ctl "rate 256" >/dev/null
ctl "delay 150" >/dev/null

echo "sanji attachments on a village line: station $V through sanji-faultproxy (256 kbit/s, 300 ms RTT, no loss)"
echo "machine: $(nproc) CPUs, $(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1); build $build"
echo "1. registrations alone:          $("$bench" "$slow" "$C" - 10 3000)"
echo "2. 2 MB scan, in_flight = 2:     $("$bench" "$slow" "$C" "$net/scan.pdf" 10 3000)"
printf '[attachment]\nin_flight = 64\n' >>"$slow"
echo "3. 2 MB scan, in_flight = 64:    $("$bench" "$slow" "$C" "$net/scan.pdf" 10 3000)"
