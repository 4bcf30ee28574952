#!/usr/bin/env bash
# perf/bench_flow.sh - IPFIX and NetFlow v9 records decoded per second by
# ceptor-flow, against nfdump's nfcapd on the same export packets.
#
#   BIN=build/bin FLOWS=20000 COPIES=50 bash perf/bench_flow.sh
#
# softflowd turns a generated capture (ceptor-gen flows) into export
# packets over loopback while tcpdump records them (one recording per
# version); the recording is then repeated COPIES times into one file
# (each copy from its own exporter address, so that the sequence numbers
# stay in order per exporter).  Timed, best of RUNS:
#   ceptor-flow -r F --stats       offline decode, no output
#   nfcapd fed the same datagrams  over loopback UDP by tcpreplay at full
#                                  speed, until nfdump counts them all in
#                                  the file nfcapd wrote (the peer has no
#                                  offline reader of export packets)
# The peer's figure includes UDP delivery and its file writing, so the
# ratio favours us; it is printed as a reference, not a race.  Rows:
#   ROW <what> <ours> <peer> <ours/peer> <command>
# Needs root (tcpdump on lo), softflowd, nfcapd, nfdump, tcpdump,
# tcpreplay; skips with a message when one is missing.  Figures, not a
# test: nothing fails on speed.
set -euo pipefail

BIN=${BIN:-build/bin}
FLOWS=${FLOWS:-20000}
COPIES=${COPIES:-50}
RUNS=${RUNS:-3}

for b in ceptor-gen ceptor-flow; do
	[[ -x $BIN/$b ]] || { echo "bench_flow: $BIN/$b not found (make, or set BIN)" >&2; exit 1; }
done
for t in softflowd nfcapd nfdump tcpdump tcpreplay ss python3; do
	command -v "$t" >/dev/null 2>&1 || { echo "bench_flow: $t not installed; skipped" >&2; exit 0; }
done
[[ $(id -u) = 0 ]] || { echo "bench_flow: needs root for tcpdump on lo; skipped" >&2; exit 0; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/ceptor-bench-flow.XXXXXX")
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
	rm -rf "$tmp"
}
trap cleanup EXIT

wait_for() { for _ in $(seq 1 1200); do "$@" && return 0; sleep 0.05; done; return 1; }
free_port() {
	local p
	for _ in $(seq 1 50); do
		p=$((20000 + RANDOM % 20000))
		[[ -z $(ss -Hunl "sport = :$p") ]] && { echo "$p"; return 0; }
	done
	return 1
}
listening() { [[ -n $(ss -Hunl "sport = :$1") ]]; }

"$BIN/ceptor-gen" flows "$tmp/in.pcap" --flows "$FLOWS" --seed 3 2>/dev/null

# record VERSION OUT: softflowd's export packets for in.pcap, recorded.
record() {
	local v=$1 out=$2 port td nf
	port=$(free_port)
	# A collector must listen, or softflowd's connected socket fails.
	mkdir -p "$tmp/rec$v"
	nfcapd -p "$port" -b 127.0.0.1 -w "$tmp/rec$v" -t 3600 >/dev/null 2>&1 &
	nf=$!; pids+=("$nf")
	wait_for listening "$port"
	tcpdump -i lo -U -w "$out.raw" "udp port $port" >"$tmp/td.log" 2>&1 &
	td=$!
	wait_for grep -q "listening on" "$tmp/td.log"
	softflowd -d -r "$tmp/in.pcap" -n "127.0.0.1:$port" -v "$v" -6 -c none \
		-p "$tmp/sf.pid" >/dev/null 2>&1
	printf 'ceptor-end' >"/dev/udp/127.0.0.1/$port" || true
	wait_for sh -c "tcpdump -r '$out.raw' -nn 2>/dev/null | grep -q 'length 10\$'"
	kill -INT "$td"; wait "$td" || true
	kill -TERM "$nf"; wait "$nf" || true
	# COPIES copies, each from its own source address 127.1.x.y, end
	# marker dropped; raw IP link type so tcpreplay and we read it alike.
	python3 - "$out.raw" "$out" "$COPIES" <<'PY'
import struct, sys
src, dst, copies = sys.argv[1], sys.argv[2], int(sys.argv[3])
d = open(src, 'rb').read()
pk, off = [], 24
while off + 16 <= len(d):
    ts, tu, cl, wl = struct.unpack('<IIII', d[off:off + 16]); off += 16
    fr = d[off:off + cl]; off += cl
    if len(fr) - 42 != 10:
        pk.append(fr)
with open(dst, 'wb') as f:
    f.write(struct.pack('<IHHiIII', 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
    for c in range(copies):
        for i, fr in enumerate(pk):
            ip = bytearray(fr)
            ip[14 + 12:14 + 16] = bytes([127, 1, c >> 8, c & 255])
            ip[14 + 10:14 + 12] = b'\0\0'          # IP checksum
            s = 0
            for k in range(14, 34, 2):
                s += ip[k] << 8 | ip[k + 1]
            while s >> 16:
                s = (s & 0xffff) + (s >> 16)
            ip[24:26] = struct.pack('>H', ~s & 0xffff)
            ip[14 + 20 + 6:14 + 20 + 8] = b'\0\0'  # no UDP checksum
            f.write(struct.pack('<IIII', c, i, len(ip), len(ip)) + bytes(ip))
PY
}

best_of() {
	local best="" t0 t1 t
	for ((i = 0; i < RUNS; i++)); do
		t0=$(date +%s.%N); "$@" >/dev/null 2>&1; t1=$(date +%s.%N)
		t=$(echo "$t1 - $t0" | bc -l)
		if [[ -z $best ]] || (($(echo "$t < $best" | bc -l))); then best=$t; fi
	done
	echo "$best"
}

# peer_once FILE RECORDS: nfcapd on a fresh port and directory, the
# datagrams replayed to it; the time until nfdump sees every record.
peer_once() {
	local f=$1 want=$2 port dir np t0 t1 got
	port=$(free_port); dir=$(mktemp -d "$tmp/nf.XXXXXX")
	# Rewrite the destination port for this run.
	tcprewrite --portmap="0-65535:$port" --fixcsum -i "$f" -o "$tmp/replay.pcap" 2>/dev/null
	nfcapd -p "$port" -b 127.0.0.1 -w "$dir" -t 3600 -B 200000000 >/dev/null 2>&1 &
	np=$!; pids+=("$np")
	wait_for listening "$port"
	t0=$(date +%s.%N)
	tcpreplay -q -i lo -t "$tmp/replay.pcap" >/dev/null 2>&1
	# Drained: its socket queue is empty; then it writes its file on exit.
	wait_for sh -c "[ \"\$(ss -Hunl 'sport = :$port' | awk '{print \$2}')\" = 0 ]"
	kill -TERM "$np"; wait "$np" || true
	t1=$(date +%s.%N)
	got=$(nfdump -R "$dir" -q -o 'fmt:%pkt' 2>/dev/null | wc -l)
	echo "$(echo "$t1 - $t0" | bc -l) $got"
	rm -rf "$dir"
}

mrps() { awk -v n="$1" -v t="$2" 'BEGIN { printf "%.2f", n / t / 1e6 }'; }

for v in 10 9; do
	name=$([[ $v = 10 ]] && echo IPFIX || echo "NetFlow v9")
	f=$tmp/export$v.pcap
	record "$v" "$f"
	recs=$("$BIN/ceptor-flow" -r "$f" --stats | sed -n 's/.*"read":\([0-9]*\).*/\1/p')
	cat "$f" >/dev/null
	t_ours=$(best_of "$BIN/ceptor-flow" -r "$f" --stats)
	best="" got=0
	for ((r = 0; r < RUNS; r++)); do
		read -r t g < <(peer_once "$f" "$recs")
		if [[ -z $best ]] || (($(echo "$t < $best" | bc -l))); then best=$t got=$g; fi
	done
	ours=$(mrps "$recs" "$t_ours")
	if ((got * 100 >= recs * 99)); then
		peer="nfcapd (UDP, tcpreplay) $(mrps "$got" "$best") M rec/s"
		ratio=$(awk -v a="$recs" -v ta="$t_ours" -v b="$got" -v tb="$best" \
			'BEGIN { printf "%.2f", (a / ta) / (b / tb) }')
	else
		# The replay did not reach nfcapd whole: no figure beats a wrong one.
		peer="nfcapd n/a (stored $got of $recs replayed records)"
		ratio="n/a"
	fi
	printf 'ROW\t%s decode (ceptor-flow --stats -r)\t%s M rec/s\t%s\t%s\t%s\n' \
		"$name" "$ours" "$peer" "$ratio" "bash perf/bench_flow.sh"
	echo "bench_flow: $name: $recs records in $(stat -c %s "$f") bytes of capture; best of $RUNS" >&2
done
