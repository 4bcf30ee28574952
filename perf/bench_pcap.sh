#!/usr/bin/env bash
# perf/bench_pcap.sh - offline pcap decode rate against bare libpcap and
# tcpdump, and the live capture rate without drops.
#
#   BIN=build/bin O=build/bench PACKETS=2000000 bash perf/bench_pcap.sh
#
# Writes a mixed capture (ceptor-gen mix: TCP/UDP/ICMP over IPv4/IPv6,
# ~586 B mean, 10 % VLAN) into a temporary directory, then times, best of 3:
#   ceptor-pcap -r F --stats            decode only, no output
#   ceptor-pcap -r F --dump >/dev/null  decode and JSON Lines
#   $O/perf/bench_pcapread F            the floor: libpcap reading, no decode
#   tcpdump -r F -w /dev/null           the peer: read and rewrite
# and prints one tab-separated row per measurement:
#   ROW <what> <ours> <peer> <ours/peer> <command>
# The file is read once before timing so that every run reads from the
# page cache.
#
# Live row (root and `ip netns` only, else a note): in a namespace of its
# own with a veth pair, tcpreplay sends LIVE_PACKETS packets of the same
# mix at --topspeed, then at decreasing --mbps rates, into one end while
# ceptor-pcap -i --stats captures on the other; the row is the highest
# rate at which pcap_stats() reported no drop and every packet was read,
# against tcpreplay's own top speed.  At most one pass per rate step.
# Figures, not a test: nothing fails on speed.
set -euo pipefail

BIN=${BIN:-build/bin}
O=${O:-build/bench}
PACKETS=${PACKETS:-2000000}
LIVE_PACKETS=${LIVE_PACKETS:-200000}
RUNS=${RUNS:-3}

for b in ceptor-gen ceptor-pcap; do
	if [[ ! -x $BIN/$b ]]; then
		echo "bench_pcap: $BIN/$b not found (make, or set BIN)" >&2
		exit 1
	fi
done
if ! command -v tcpdump >/dev/null 2>&1; then
	echo "bench_pcap: tcpdump not installed" >&2
	exit 1
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/ceptor-bench-pcap.XXXXXX")
NS=ceptor-bench-pcap-$$
LIVE_PID=
cleanup() {
	if [[ -n $LIVE_PID ]] && kill -0 "$LIVE_PID" 2>/dev/null; then
		kill -TERM "$LIVE_PID" 2>/dev/null || true
		wait "$LIVE_PID" 2>/dev/null || true
	fi
	ip netns del "$NS" 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT
cap=$tmp/mix.pcap

"$BIN/ceptor-gen" mix "$cap" --packets "$PACKETS" --seed 1 2>/dev/null
cat "$cap" >/dev/null

# best_of CMD... : the smallest wall time in seconds over $RUNS runs.
best_of() {
	local best="" t0 t1 t
	for ((i = 0; i < RUNS; i++)); do
		t0=$(date +%s.%N)
		"$@" >/dev/null 2>&1
		t1=$(date +%s.%N)
		t=$(echo "$t1 - $t0" | bc -l)
		if [[ -z $best ]] || (($(echo "$t < $best" | bc -l))); then
			best=$t
		fi
	done
	echo "$best"
}

# Count what we read, so the rate is per packet actually decoded.
read_count=$("$BIN/ceptor-pcap" -r "$cap" --stats |
	sed -n 's/.*"read":\([0-9]*\).*/\1/p')
if [[ $read_count != "$PACKETS" ]]; then
	echo "bench_pcap: read $read_count packets, expected $PACKETS" >&2
	exit 1
fi
size=$(stat -c %s "$cap")

t_stats=$(best_of "$BIN/ceptor-pcap" -r "$cap" --stats)
t_dump=$(best_of sh -c "\"$BIN/ceptor-pcap\" -r \"$cap\" --dump >/dev/null")
t_peer=$(best_of tcpdump -r "$cap" -w /dev/null)
t_read=
if [[ -x $O/perf/bench_pcapread ]]; then
	t_read=$(best_of "$O/perf/bench_pcapread" "$cap")
fi

mpps() { awk -v n="$PACKETS" -v t="$1" 'BEGIN { printf "%.2f", n / t / 1e6 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b / a }'; }

peer="tcpdump -w /dev/null $(mpps "$t_peer") M pkt/s"
cmd="bash perf/bench_pcap.sh"
printf 'ROW\tpcap decode (--stats)\t%s M pkt/s\t%s\t%s\t%s\n' \
	"$(mpps "$t_stats")" "$peer" "$(ratio "$t_stats" "$t_peer")" "$cmd"
if [[ -n $t_read ]]; then
	printf 'ROW\tpcap decode (--stats) vs bare libpcap read\t%s M pkt/s\tpcap_next_ex only %s M pkt/s\t%s\t%s\n' \
		"$(mpps "$t_stats")" "$(mpps "$t_read")" \
		"$(ratio "$t_stats" "$t_read")" "$cmd"
else
	echo "bench_pcap: $O/perf/bench_pcapread not built; bare read row skipped" >&2
fi
printf 'ROW\tpcap decode+JSON (--dump)\t%s M pkt/s\t%s\t%s\t%s\n' \
	"$(mpps "$t_dump")" "$peer" "$(ratio "$t_dump" "$t_peer")" "$cmd"
echo "bench_pcap: $PACKETS packets, $((size / 1048576)) MiB," \
	"mean $((size / PACKETS - 16)) B per packet; best of $RUNS" >&2

# --- live capture without drops ----------------------------------------------
live_skip() {
	echo "bench_pcap: live row skipped: $*" >&2
	exit 0
}
[[ $(id -u) == 0 ]] || live_skip "not root"
command -v tcpreplay >/dev/null 2>&1 || live_skip "tcpreplay not installed"
ip netns add "$NS" 2>/dev/null || live_skip "ip netns not permitted"
ip netns exec "$NS" sysctl -qw net.ipv6.conf.all.disable_ipv6=1
ip netns exec "$NS" sysctl -qw net.ipv6.conf.default.disable_ipv6=1
ip -n "$NS" link add cep-tx type veth peer name cep-rx
ip -n "$NS" link set cep-tx up
ip -n "$NS" link set cep-rx up
live=$tmp/live.pcap
"$BIN/ceptor-gen" mix "$live" --packets "$LIVE_PACKETS" --seed 3 2>/dev/null

# live_pass RATE: replay at RATE (topspeed or Mbit/s); prints
# "read drops achieved_mbps achieved_pps".
live_pass() {
	local rate=$1 opt
	[[ $rate == topspeed ]] && opt=--topspeed || opt="--mbps=$rate"
	ip netns exec "$NS" "$BIN/ceptor-pcap" -i cep-rx --stats --no-drop \
		>"$tmp/live.json" 2>"$tmp/live.err" &
	LIVE_PID=$!
	for _ in $(seq 100); do
		grep -q capturing "$tmp/live.err" 2>/dev/null && break
		sleep 0.1
	done
	ip netns exec "$NS" tcpreplay $opt -i cep-tx "$live" >"$tmp/replay.out" 2>&1 || true
	sleep 1 # the last TPACKET_V3 block retires after 100 ms
	kill -INT "$LIVE_PID"
	wait "$LIVE_PID" || true
	LIVE_PID=
	local rd kd idr mbps pps
	rd=$(sed -n 's/.*"read":\([0-9]*\).*/\1/p' "$tmp/live.json")
	kd=$(sed -n 's/.*"kernel_drops":\([0-9]*\).*/\1/p' "$tmp/live.json")
	idr=$(sed -n 's/.*"if_drops":\([0-9]*\).*/\1/p' "$tmp/live.json")
	mbps=$(sed -n 's/.*Rated: [0-9.]* Bps, \([0-9.]*\) Mbps, \([0-9.]*\) pps.*/\1/p' "$tmp/replay.out")
	pps=$(sed -n 's/.*Rated: [0-9.]* Bps, [0-9.]* Mbps, \([0-9.]*\) pps.*/\1/p' "$tmp/replay.out")
	echo "${rd:-0} $((${kd:-0} + ${idr:-0})) ${mbps:-0} ${pps:-0}"
}

top_pps= best=
for rate in topspeed 8000 4000 2000 1000 500 250; do
	read -r rd drops mbps pps < <(live_pass "$rate")
	echo "bench_pcap: live at $rate: read $rd of $LIVE_PACKETS, drops $drops, sent at $mbps Mbit/s, $pps pkt/s" >&2
	[[ -z $top_pps ]] && top_pps=$pps
	if [[ $drops == 0 && $rd == "$LIVE_PACKETS" ]]; then
		best="$pps $mbps"
		break
	fi
done
if [[ -n $best ]]; then
	read -r pps mbps <<<"$best"
	printf 'ROW\tlive capture without drops (veth, TPACKET_V3)\t%s k pkt/s (%s Mbit/s)\ttcpreplay --topspeed %s k pkt/s\t%s\t%s\n' \
		"$(awk -v p="$pps" 'BEGIN { printf "%.0f", p / 1000 }')" "$mbps" \
		"$(awk -v p="$top_pps" 'BEGIN { printf "%.0f", p / 1000 }')" \
		"$(awk -v a="$pps" -v b="$top_pps" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }')" "$cmd"
else
	echo "bench_pcap: live capture dropped packets at every rate tried" >&2
fi
