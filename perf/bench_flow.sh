#!/usr/bin/env bash
# perf/bench_flow.sh - IPFIX and NetFlow v9 records decoded per second by
# ceptor-flow, against nfdump's nfcapd on the same export packets.
#
#   BIN=build/bin O=build/bench FLOWS=20000 COPIES=50 ROUNDS=4 bash perf/bench_flow.sh
#
# softflowd turns a generated capture (ceptor-gen flows) into export
# packets over loopback while tcpdump records them (one recording per
# version); the recording is then repeated COPIES times into one file
# (each copy from its own exporter address 127.1.x.y, so that the sequence
# numbers stay in order per exporter).  Timed, best of RUNS:
#   ceptor-flow -r F --stats         offline decode of the file, no output
#   ceptor-flow --listen --stats     }  each on a fresh loopback port, fed
#   nfcapd -w DIR                    }  by $O/perf/bench_udpsend: the UDP
#                                       payloads of F, ROUNDS times, as fast
#                                       as the kernel takes them, each copy
#                                       from its own bound 127.1.x.y socket
# For the two receivers the clock runs from the sender's first datagram
# until the receiver exited: once the sender is done and the receiver's
# socket queue is empty (ss), it gets SIGTERM, and nfcapd writes its file
# on exit.  Their figure is the flow records they decoded (ceptor-flow's
# "read"; nfcapd's stored flows, counted by nfdump -I) over that time; a
# receiver that cannot keep up loses datagrams at its socket, and the
# share it got is printed with its rate.  Rows:
#   ROW <what> <ours> <peer> <ours/peer> <command>
# The --listen row is the comparison on the same packets along the same
# path (UDP receive and decode); the offline row is the decoder alone.
# nfcapd stores what it decodes (uncompressed nffile), ceptor-flow --stats
# only counts: that part of the peer's work is not ours.
# Needs root (tcpdump on lo), softflowd, nfcapd, nfdump, tcpdump, ss and
# $O/perf/bench_udpsend (make FLAVOUR=bench); skips with a message when
# one is missing.  Loopback only; it kills only the processes it started.
# Figures, not a test: nothing fails on speed.
set -euo pipefail

BIN=${BIN:-build/bin}
O=${O:-build/bench}
FLOWS=${FLOWS:-20000}
COPIES=${COPIES:-50}
ROUNDS=${ROUNDS:-4}
RUNS=${RUNS:-3}
SEND=$O/perf/bench_udpsend

for b in ceptor-gen ceptor-flow; do
	[[ -x $BIN/$b ]] || { echo "bench_flow: $BIN/$b not found (make, or set BIN)" >&2; exit 1; }
done
[[ -x $SEND ]] || { echo "bench_flow: $SEND not found (make FLAVOUR=bench, or set O)" >&2; exit 1; }
for t in softflowd nfcapd nfdump tcpdump ss python3 bc; do
	command -v "$t" >/dev/null 2>&1 || { echo "bench_flow: $t not installed; skipped" >&2; exit 0; }
done
[[ $(id -u) = 0 ]] || { echo "bench_flow: needs root for tcpdump on lo; skipped" >&2; exit 0; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/ceptor-bench-flow.XXXXXX")
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
	[[ -n ${KEEP:-} ]] || rm -rf "$tmp"
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
	# marker dropped; Ethernet frames as tcpdump recorded them on lo.
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

# receive KIND FILE: one timed run of a receiver on a fresh port, fed by
# the sender; prints "SECONDS RECORDS SENT_DATAGRAMS".  KIND is ceptor
# (ceptor-flow --listen --stats) or nfcapd.
receive() {
	local kind=$1 f=$2 port dir rp out t0 t1 got sent
	port=$(free_port); dir=$(mktemp -d "$tmp/rx.XXXXXX")
	if [[ $kind = nfcapd ]]; then
		# As large a buffer as ceptor-flow asks for (the kernel caps it
		# at net.core.rmem_max for nfcapd, which does not force it).
		nfcapd -p "$port" -b 127.0.0.1 -w "$dir" -t 3600 -B 67108864 \
			>"$dir.log" 2>&1 &
	else
		"$BIN/ceptor-flow" --listen "127.0.0.1:$port" --stats \
			>"$dir.json" 2>"$dir.log" &
	fi
	rp=$!; pids+=("$rp")
	wait_for listening "$port"
	read -r sent _ t0 _ < <("$SEND" "$f" "127.0.0.1:$port" "$ROUNDS" 2>/dev/null)
	# Drained: nothing left in its socket queue (checked every 10 ms).
	for _ in $(seq 1 3000); do
		[[ $(ss -Hunl "sport = :$port" | awk '{print $2}') = 0 ]] && break
		sleep 0.01
	done
	kill -TERM "$rp"; wait "$rp" || true
	t1=$(date +%s.%N)
	if [[ $kind = nfcapd ]]; then
		got=$(nfdump -R "$dir" -I 2>/dev/null | awk '$1 == "Flows:" { n = $2 } END { print n }' || true)
	else
		got=$(sed -n 's/.*"read":\([0-9]*\).*/\1/p' "$dir.json")
	fi
	echo "$(echo "$t1 - $t0" | bc -l) ${got:-0} $sent"
	rm -rf "$dir" "$dir.log" "$dir.json"
}

# best KIND FILE: the fastest of RUNS runs, as "SECONDS RECORDS SENT".
best() {
	local b="" t g s bt bg bs
	for ((r = 0; r < RUNS; r++)); do
		read -r t g s < <(receive "$1" "$2")
		if [[ -z $b ]] || (($(echo "$g / $t > $bg / $bt" | bc -l))); then
			b=1 bt=$t bg=$g bs=$s
		fi
	done
	echo "$bt $bg $bs"
}

mrps() { awk -v n="$1" -v t="$2" 'BEGIN { printf "%.2f", n / t / 1e6 }'; }
share() { awk -v g="$1" -v w="$2" 'BEGIN { printf "%.0f %%", 100 * g / w }'; }

for v in 10 9; do
	name=$([[ $v = 10 ]] && echo IPFIX || echo "NetFlow v9")
	f=$tmp/export$v.pcap
	record "$v" "$f"
	recs=$("$BIN/ceptor-flow" -r "$f" --stats | sed -n 's/.*"read":\([0-9]*\).*/\1/p')
	want=$((recs * ROUNDS))
	cat "$f" >/dev/null
	t_off=$(best_of "$BIN/ceptor-flow" -r "$f" --stats)
	read -r t_us g_us _ < <(best ceptor "$f")
	read -r t_nf g_nf sent < <(best nfcapd "$f")
	off=$(mrps "$recs" "$t_off")
	us=$(mrps "$g_us" "$t_us")
	nf=$(mrps "$g_nf" "$t_nf")
	if ((g_nf > 0)); then
		peer="nfcapd (UDP) $nf M rec/s, got $(share "$g_nf" "$want")"
		r_off=$(awk -v a="$off" -v b="$nf" 'BEGIN { printf "%.2f", a / b }')
		r_us=$(awk -v a="$us" -v b="$nf" 'BEGIN { printf "%.2f", a / b }')
	else
		peer="nfcapd n/a (stored nothing of $want sent records)"
		r_off=n/a r_us=n/a
	fi
	printf 'ROW\t%s receive+decode (ceptor-flow --listen --stats, UDP)\t%s M rec/s, got %s\t%s\t%s\t%s\n' \
		"$name" "$us" "$(share "$g_us" "$want")" "$peer" "$r_us" "bash perf/bench_flow.sh"
	printf 'ROW\t%s decode offline (ceptor-flow -r --stats)\t%s M rec/s\t%s\t%s\t%s\n' \
		"$name" "$off" "$peer" "$r_off" "bash perf/bench_flow.sh"
	echo "bench_flow: $name: $recs records in $(stat -c %s "$f") bytes of capture;" \
		"UDP runs: $sent datagrams, $want records sent per run; best of $RUNS" >&2
done
