#!/usr/bin/env bash
# attach_costs.sh - attachments on a village line (docs/PERFORMANCE.md
# "Attachments on a village line"): a benchmark that prints figures, not a
# test.
#
# A whole local network (deploy/localnet.sh, real processes, real TLS) runs
# in a network namespace of its own; the station client of 张官营村 runs
# outside it and reaches its relay through a village line:
#
#   station --loopback--> sanji-faultproxy --TCP over a point-to-point link--> relay
#                         256 kbit/s each way   150 ms each way (300 ms RTT),  (in the
#                         (`rate 256`)          PCT % of the packets dropped   namespace)
#                                               each way
#
# The link is a pair of TUN devices, one in each namespace, joined by a
# small program (below) that holds every packet 150 ms before passing it
# on (the kernel here has no netem); nftables in the namespace drops PCT %
# of the packets each way (numgen random).  So the TCP connection from the
# proxy to the relay has a real 300 ms round trip and really loses
# segments (a TUN device does no segmentation offload: one segment per
# packet), and the kernel's loss recovery (fast retransmit, timeouts, tail
# loss probes) runs at that round trip, as on a village line.  The relay
# listens on the namespace's loopback as localnet.sh configures it; a DNAT
# rule brings the link to it.
#
# For each loss figure (--loss, default "0,2": 0 % then 2 %), one station
# client on one link (sanji-attach-bench, as a desk holds its link)
# registers a case every 3 s, ten in all:
#
#   1. with nothing else on the line (the registrations' own latency);
#   2. while it uploads a 2 MB scan with the default share
#      (attachment.in_flight = 2): the upload's time, saved -> every chunk
#      recorded by the county, and the registrations' latency meanwhile;
#   3. the same with attachment.in_flight = 64 (no share to speak of), to
#      show what the share buys.
#
# Each scenario runs RUNS times (--runs, default 3); then the link's
# counters: the packets that crossed it and those dropped.
#
#   tests/bench/attach_costs.sh [--loss PCT[,PCT...]] [--runs N] [BUILD_DIR]
#                                           (BUILD_DIR default build/release)
#
# Runs as root (ip netns, TUN devices, nftables; installs the nftables
# package when `nft` is missing); needs python3 (the link) and what
# localnet.sh needs.  Leaves nothing behind: the link, the namespace, the
# TUN devices, the nftables tables (in the namespace) and the network's
# folder go on exit, whether the run ends well or not.
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
losses=0,2 runs=3
while [ $# -gt 0 ]; do
  case $1 in
    --loss) losses=${2:?--loss needs PCT[,PCT...]}; shift 2 ;;
    --loss=*) losses=${1#--loss=}; shift ;;
    --runs) runs=${2:?--runs needs a count}; shift 2 ;;
    --runs=*) runs=${1#--runs=}; shift ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d'; exit 0 ;;
    -*) echo "attach_costs: unknown option $1" >&2; exit 2 ;;
    *) break ;;
  esac
done
for pct in ${losses//,/ }; do
  [[ $pct =~ ^[0-9]+$ ]] && [ "$pct" -le 100 ] ||
    { echo "attach_costs: --loss takes whole percentages 0..100, not '$pct'" >&2; exit 2; }
done
[[ $runs =~ ^[1-9][0-9]*$ ]] || { echo "attach_costs: --runs takes a count from 1, not '$runs'" >&2; exit 2; }
build=$(cd "${1:-$root/build/release}" && pwd)
cli=$build/client/sanji
proxy_bin=$build/tests/chaos/sanji-faultproxy
bench=$build/tests/bench/sanji-attach-bench
for b in "$cli" "$proxy_bin" "$bench"; do
  [ -x "$b" ] || { echo "attach_costs: $b is missing: build first (cmake --build $build)" >&2; exit 1; }
done
[ "$(id -u)" = 0 ] || { echo "attach_costs: run as root (network namespace, TUN, nftables)" >&2; exit 1; }
command -v python3 >/dev/null || { echo "attach_costs: python3 is missing (it runs the link)" >&2; exit 1; }
if ! command -v nft >/dev/null; then
  apt-get install -y nftables >/dev/null || { echo "attach_costs: cannot install nftables" >&2; exit 1; }
fi

net=$(mktemp -d /tmp/sanji-attach.XXXXXX)
export SANJI_NET_DIR=$net SANJI_BUILD_DIR=$build SANJI_PASSWORD=sanji123
export SANJI_PORT_BASE=$((23000 + RANDOM % 2000 * 4))
relay_port=$((SANJI_PORT_BASE + 1))
proxy_port=$((SANJI_PORT_BASE + 10)) control_port=$((SANJI_PORT_BASE + 11))
proxy_pid= bench_pid= link_pid=
# The namespace and the link's two ends (names of at most 15 characters),
# with addresses of 10.77/16 of their own.
ns=sanji-loss-$$ va=sjl$$a vb=sjl$$b
sub3=10.77.$((RANDOM % 250)) sub4=$((RANDOM % 63 * 4))
host_ip=$sub3.$((sub4 + 1)) ns_ip=$sub3.$((sub4 + 2))
in_ns() { ip netns exec "$ns" "$@"; }

cleanup() {
  [ -z "$bench_pid" ] || kill "$bench_pid" 2>/dev/null || true
  [ -z "$proxy_pid" ] || kill "$proxy_pid" 2>/dev/null || true
  if [ -e "/run/netns/$ns" ]; then
    in_ns "$root/deploy/localnet.sh" clean >/dev/null 2>&1 || true
    ip netns del "$ns" 2>/dev/null || true # takes its nftables tables with it
  fi
  [ -z "$link_pid" ] || kill "$link_pid" 2>/dev/null || true # its TUN devices go with it
  rm -rf "$net"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The link: two TUN devices (va here, vb for the namespace); every packet
# read from one is written to the other 150 ms later, in order.
cat >"$net/link.py" <<'EOF'
import fcntl, heapq, os, select, struct, sys, time

TUNSETIFF, IFF_TUN, IFF_NO_PI = 0x400454CA, 0x0001, 0x1000


def tun(name):
    fd = os.open("/dev/net/tun", os.O_RDWR)
    fcntl.ioctl(fd, TUNSETIFF, struct.pack("16sH", name.encode(), IFF_TUN | IFF_NO_PI))
    return fd


a, b = tun(sys.argv[1]), tun(sys.argv[2])
delay = int(sys.argv[3]) / 1000.0
other = {a: b, b: a}
due, seq = [], 0
print("ready", flush=True)
while True:
    now = time.monotonic()
    while due and due[0][0] <= now:
        _, _, fd, pkt = heapq.heappop(due)
        try:
            os.write(fd, pkt)
        except OSError:
            pass  # the far end is down: the packet is lost, as on a wire
    r, _, _ = select.select([a, b], [], [], max(0.0, due[0][0] - now) if due else None)
    now = time.monotonic()
    for fd in r:
        seq += 1
        heapq.heappush(due, (now + delay, seq, other[fd], os.read(fd, 65536)))
EOF
python3 "$net/link.py" "$va" "$vb" 150 >"$net/link.log" 2>&1 &
link_pid=$!
for _ in $(seq 50); do grep -q ready "$net/link.log" && break; sleep 0.1; done
grep -q ready "$net/link.log" || { cat "$net/link.log" >&2; echo "attach_costs: the link did not start" >&2; exit 1; }
ip netns add "$ns"
ip link set "$vb" netns "$ns"
ip addr add "$host_ip" peer "$ns_ip" dev "$va"
ip link set "$va" up
in_ns ip link set lo up
in_ns ip addr add "$ns_ip" peer "$host_ip" dev "$vb"
in_ns ip link set "$vb" up
in_ns sysctl -qw "net.ipv4.conf.$vb.route_localnet=1"
in_ns nft -f - <<EOF
table ip sanji_nat {
  chain pre { type nat hook prerouting priority -100; iifname "$vb" tcp dport $relay_port dnat to 127.0.0.1:$relay_port; }
}
table inet sanji_loss {
  chain in { type filter hook input priority 0; }
  chain out { type filter hook output priority 0; }
}
EOF
# Drops $1 percent of the packets each way, counters from zero.
set_loss() {
  local c
  for c in "in iifname" "out oifname"; do
    set -- "$1" ${c}
    in_ns nft flush chain inet sanji_loss "$2"
    in_ns nft add rule inet sanji_loss "$2" "$3" "$vb" counter
    in_ns nft add rule inet sanji_loss "$2" "$3" "$vb" numgen random mod 100 '<' "$1" counter drop
  done
}
# The counters of set_loss's rules, in words.
loss_counts() {
  in_ns nft list table inet sanji_loss | awk '
    /counter packets/ { for (i = 1; i <= NF; i++) if ($i == "packets") n = $(i + 1)
                        if (/drop/) d += n; else t += n }
    END { printf "%d packets on the link, %d dropped (%.2f %%)\n", t, d, t ? 100 * d / t : 0 }'
}

V=410423101201
in_ns "$root/deploy/localnet.sh" start >"$net/localnet.log" 2>&1 || { cat "$net/localnet.log" >&2; exit 1; }
station=$net/station-$V/client.conf
slow=$net/station-$V/proxied.conf
slow64=$net/station-$V/proxied64.conf
sed "s/^address = .*/address = 127.0.0.1:$proxy_port/" "$station" >"$slow"
cp "$slow" "$slow64"
printf '[attachment]\nin_flight = 64\n' >>"$slow64"
"$proxy_bin" --listen "$proxy_port" --target "$relay_port" --target-host "$ns_ip" \
  --control "$control_port" --log-level warn 2>"$net/proxy.log" &
proxy_pid=$!
ctl() {
  local reply
  exec 3<>"/dev/tcp/127.0.0.1/$control_port"
  printf '%s\n' "$1" >&3
  IFS= read -r reply <&3
  exec 3>&-
  printf '%s\n' "$reply"
}
# In a subshell: a refused connection ends the shell that tried it (exec).
for _ in $(seq 50); do (ctl status) >/dev/null 2>&1 && break; sleep 0.1; done

set_loss 0
in_ns "$cli" --config "$station" login "p-$V-01" >/dev/null
in_ns "$cli" --config "$station" --json register --item MZ-001 --name 李建国 \
  --id 11010519491231002X --phone 13937510001 --text "申请" --wait-applied >"$net/reg.out"
C=$(sed -n 's/.*"case":"\([^"]*\)".*/\1/p' "$net/reg.out")
{ printf '%%PDF-1.4\n'; head -c $((2 * 1024 * 1024 - 9)) /dev/urandom; } >"$net/scan.pdf"
"$cli" --config "$slow" sync --wait 30 >/dev/null || true
ctl "rate 256" >/dev/null

echo "sanji attachments on a village line: station $V through sanji-faultproxy (256 kbit/s each way),"
echo "  then a link into the network's namespace: 150 ms each way (300 ms RTT), a share of the packets dropped"
echo "machine: $(nproc) CPUs, $(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1); kernel $(uname -r)"
echo "build: $build; runs per scenario: $runs"
# One scenario: its label, then the bench's arguments.  The bench runs in
# the background so that a signal reaches the trap at once; a bench that
# fails ends the run.
run_bench() {
  local label=$1 out
  shift
  "$bench" "$@" >"$net/bench.out" &
  bench_pid=$!
  wait "$bench_pid" || { echo "attach_costs: sanji-attach-bench failed ($label)" >&2; exit 1; }
  bench_pid=
  out=$(cat "$net/bench.out")
  printf '  %-30s %s\n' "$label:" "$out"
}
for pct in ${losses//,/ }; do
  set_loss "$pct"
  echo "loss $pct %:"
  for _ in $(seq "$runs"); do run_bench "1. registrations alone" "$slow" "$C" - 10 3000; done
  for _ in $(seq "$runs"); do run_bench "2. 2 MB scan, in_flight = 2" "$slow" "$C" "$net/scan.pdf" 10 3000; done
  for _ in $(seq "$runs"); do run_bench "3. 2 MB scan, in_flight = 64" "$slow64" "$C" "$net/scan.pdf" 10 3000; done
  echo "  link: $(loss_counts)"
done
