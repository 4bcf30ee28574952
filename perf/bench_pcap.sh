#!/usr/bin/env bash
# perf/bench_pcap.sh - offline pcap decode rate against tcpdump.
#
#   BIN=build/bin PACKETS=2000000 bash perf/bench_pcap.sh
#
# Writes a mixed capture (ceptor-gen mix: TCP/UDP/ICMP over IPv4/IPv6,
# ~586 B mean, 10 % VLAN) into a temporary directory, then times, best of 3:
#   ceptor-pcap -r F --stats            decode only, no output
#   ceptor-pcap -r F --dump >/dev/null  decode and JSON Lines
#   tcpdump -r F -w /dev/null           the peer: read and rewrite
# and prints one tab-separated row per measurement:
#   ROW <what> <ours> <peer> <ours/peer> <command>
# The file is read once before timing so that every run reads from the
# page cache.  Figures, not a test: nothing fails on speed.
set -euo pipefail

BIN=${BIN:-build/bin}
PACKETS=${PACKETS:-2000000}
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
trap 'rm -rf "$tmp"' EXIT
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

mpps() { awk -v n="$PACKETS" -v t="$1" 'BEGIN { printf "%.2f", n / t / 1e6 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b / a }'; }

peer="tcpdump -w /dev/null $(mpps "$t_peer") M pkt/s"
cmd="bash perf/bench_pcap.sh"
printf 'ROW\tpcap decode (--stats)\t%s M pkt/s\t%s\t%s\t%s\n' \
	"$(mpps "$t_stats")" "$peer" "$(ratio "$t_stats" "$t_peer")" "$cmd"
printf 'ROW\tpcap decode+JSON (--dump)\t%s M pkt/s\t%s\t%s\t%s\n' \
	"$(mpps "$t_dump")" "$peer" "$(ratio "$t_dump" "$t_peer")" "$cmd"
echo "bench_pcap: $PACKETS packets, $((size / 1048576)) MiB," \
	"mean $((size / PACKETS - 16)) B per packet; best of $RUNS" >&2
