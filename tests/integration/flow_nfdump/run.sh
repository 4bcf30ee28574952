#!/usr/bin/env bash
# ceptor-flow agrees with nfdump's nfcapd, record for record, on NetFlow v5,
# NetFlow v9 and IPFIX export packets made by softflowd.
#
# For each version: softflowd reads a generated capture of multi-packet
# flows (ceptor-gen flows: TCP, UDP, ICMP, ICMPv6 over IPv4 and IPv6) and
# exports its flows over loopback UDP to a private nfcapd while tcpdump
# records the export packets.  ceptor-flow then decodes that recording, so
# both collectors saw byte-identical packets.  The records nfdump prints and
# the events ceptor-flow dumps must agree exactly on first-seen time (ms),
# protocol, addresses, ports (ICMP type.code), packets and bytes.
#
# Needs root (tcpdump on lo) and softflowd, nfcapd, nfdump, tcpdump
# (tools/deps.sh installs them); without them it prints a notice and passes.
set -euo pipefail
cd "$(dirname "$0")/../../.."
. tests/lib/assert.sh
BIN=${BIN:-build/bin}

skip() {
	echo "notice: flow_nfdump skipped: $*"
	exit 0
}
for t in softflowd nfcapd nfdump tcpdump ss jq; do
	command -v "$t" >/dev/null 2>&1 || skip "$t is not installed"
done
[ "$(id -u)" = 0 ] || skip "capturing on lo needs root"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/ceptor-flow-nfdump.XXXXXX")
PIDS=()
cleanup() {
	for p in "${PIDS[@]}"; do
		kill "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
	[ -n "${KEEP:-}" ] || rm -rf "$WORK"
}
trap cleanup EXIT

# wait_for CMD...: retry a condition until it holds; no clock is asserted,
# the bound only keeps a broken tool from hanging the suite.
wait_for() {
	for _ in $(seq 1 600); do
		"$@" && return 0
		sleep 0.05
	done
	return 1
}

# A UDP port nobody listens on.
free_port() {
	local p
	for _ in $(seq 1 50); do
		p=$((20000 + RANDOM % 20000))
		[ -z "$(ss -Hunl "sport = :$p")" ] && { echo "$p"; return 0; }
	done
	return 1
}
listening() { [ -n "$(ss -Hunl "sport = :$1")" ]; }
queue_empty() { [ "$(ss -Hunl "sport = :$1" | awk '{print $2}')" = 0 ]; }
marker_seen() { tcpdump -r "$1" -nn 2>/dev/null | grep -q 'length 10$'; }

"$BIN/ceptor-gen" flows "$WORK/in.pcap" --flows 400 --seed 11 2>/dev/null

# The fields both sides print, one record per line, sorted.
NFFMT='fmt:%tfs|%pr|%sa|%sp|%da|%dp|%pkt|%byt'
ours() {
	"$BIN/ceptor-flow" -r "$1" --dump 2>"$WORK/flow.err" | jq -r '
		def ms: .ts | sub("T"; " ") | .[0:23];
		[ms, .proto, .src_ip, (if .proto == 1 or .proto == 58 then 0 else .src_port // 0 end),
		 .dst_ip,
		 (if .proto == 1 or .proto == 58 then "\(.icmp_type // 0).\(.icmp_code // 0)" else .dst_port // 0 end),
		 .packets, .bytes] | map(tostring) | join("|")' | sort
}

for v in 5 9 10; do
	echo "NetFlow version $v"
	port=$(free_port) || fail "no free UDP port"
	mkdir -p "$WORK/nf$v"
	nfcapd -p "$port" -b 127.0.0.1 -w "$WORK/nf$v" -t 3600 \
		>"$WORK/nfcapd$v.log" 2>&1 &
	nfpid=$!
	PIDS+=("$nfpid")
	wait_for listening "$port" || fail "nfcapd did not bind: $(cat "$WORK/nfcapd$v.log")"

	tcpdump -i lo -U -w "$WORK/export$v.pcap" "udp port $port" \
		>"$WORK/tcpdump$v.log" 2>&1 &
	tdpid=$!
	PIDS+=("$tdpid")
	if ! wait_for grep -q "listening on" "$WORK/tcpdump$v.log"; then
		skip "tcpdump cannot capture on lo: $(cat "$WORK/tcpdump$v.log")"
	fi

	# -c none: softflowd 1.1.0 blocks on its control socket when it
	# reads a file; at the end of the file it exports every flow and exits.
	softflowd -d -r "$WORK/in.pcap" -n "127.0.0.1:$port" -v "$v" -6 \
		-c none -p "$WORK/softflowd.pid" >"$WORK/softflowd$v.log" 2>&1 ||
		fail "softflowd -v $v failed: $(cat "$WORK/softflowd$v.log")"

	# A 10-byte end marker: once tcpdump has it and nfcapd's socket queue
	# is empty, both have everything softflowd sent before it.
	printf 'ceptor-end' >"/dev/udp/127.0.0.1/$port"
	wait_for marker_seen "$WORK/export$v.pcap" || fail "tcpdump never saw the end marker"
	wait_for queue_empty "$port" || fail "nfcapd did not drain its socket"
	kill -TERM "$nfpid"
	wait "$nfpid" || true
	kill -INT "$tdpid"
	wait "$tdpid" || true

	# nfcapd 1.7 swaps flowStartSysUpTime (22) and flowEndSysUpTime (21)
	# in IPFIX: its "last seen" is systemInitTime + element 22, the flow
	# start, and its "first seen" the end (so its durations come out
	# negative).  ceptor-flow follows RFC 7011 / IANA; compare its start
	# with the column that holds element 22.
	fmt=$NFFMT
	[ "$v" = 10 ] && fmt=${NFFMT/\%tfs/%te}
	TZ=UTC nfdump -R "$WORK/nf$v" -q -N -o "$fmt" | sed -E 's/ *\| */|/g; s/^ +//; s/ +$//' | sort >"$WORK/nfdump$v.txt"
	ours "$WORK/export$v.pcap" >"$WORK/ours$v.txt"
	if [ "$v" = 9 ]; then
		# nfcapd 1.7 drops the ICMPv6 type and code that v9 records
		# carry in the destination port (it prints 0.0); ceptor-flow
		# keeps them (softflowd's echo requests are 128.0).  Compare
		# everything else of those records, and check ours separately.
		bad=$(awk -F'|' '$2 == 58 && $6 != "128.0"' "$WORK/ours$v.txt" | wc -l)
		expect_eq "$bad" 0 "v9 ICMPv6 records that are not echo requests (128.0)"
		for f in nfdump ours; do
			awk -F'|' -v OFS='|' '$2 == 58 { $6 = "-" } { print }' \
				"$WORK/$f$v.txt" >"$WORK/$f$v.tmp"
			mv "$WORK/$f$v.tmp" "$WORK/$f$v.txt"
		done
	fi
	n_peer=$(wc -l <"$WORK/nfdump$v.txt")
	n_ours=$(wc -l <"$WORK/ours$v.txt")
	[ "$n_peer" -gt 0 ] || fail "v$v: nfdump has no records: $(cat "$WORK/nfcapd$v.log")"
	if ! diff "$WORK/nfdump$v.txt" "$WORK/ours$v.txt" >"$WORK/diff$v.txt"; then
		head -20 "$WORK/diff$v.txt" >&2
		fail "v$v: ceptor-flow ($n_ours records) and nfdump ($n_peer) disagree"
	fi
	expect_eq "$n_ours" "$n_peer" "v$v records equal to nfdump's"
	v6=$(grep -c ':' <(cut -d'|' -f3 "$WORK/ours$v.txt") || true)
	if [ "$v" != 5 ]; then
		[ "$v6" -gt 0 ] || fail "v$v: no IPv6 flows compared"
		echo "  ok: v$v includes $v6 IPv6 flows"
	fi
	multi=$(awk -F'|' '$7 > 1' "$WORK/ours$v.txt" | wc -l)
	[ "$multi" -gt 0 ] || fail "v$v: no multi-packet flows compared"

	# The recording's only damage is the end marker, reported with the
	# file and its byte offset; templates and exporters are counted.
	"$BIN/ceptor-flow" -r "$WORK/export$v.pcap" --stats >"$WORK/stats$v.json" 2>"$WORK/stats$v.err"
	expect_eq "$(jq -r .malformed "$WORK/stats$v.json")" 1 "v$v damaged packets (the marker)"
	expect_eq "$(jq -r .read "$WORK/stats$v.json")" "$n_peer" "v$v stats read"
	expect_eq "$(jq -r .exporters "$WORK/stats$v.json")" 1 "v$v exporters"
	grep -q "export$v.pcap: byte offset [0-9]*: exporter 127.0.0.1" "$WORK/stats$v.err" ||
		fail "v$v: marker report does not name file and offset: $(cat "$WORK/stats$v.err")"
	# ceptord hosts the same decoder as a collector thread: --flow-pcap
	# gives the engine exactly these records (and the one bad packet).
	"$BIN/ceptord" --once --rules rules/default --flow-pcap "$WORK/export$v.pcap" \
		--redis none --spool "$WORK/spool$v" >/dev/null 2>"$WORK/engine$v.err" ||
		fail "v$v: ceptord --flow-pcap failed: $(cat "$WORK/engine$v.err")"
	grep -q "ceptord: info: $n_peer events, .* 1 malformed input records" "$WORK/engine$v.err" ||
		fail "v$v: ceptord --flow-pcap did not see $n_peer records: $(cat "$WORK/engine$v.err")"
	if [ "$v" != 5 ]; then
		[ "$(jq -r .templates "$WORK/stats$v.json")" -gt 0 ] || fail "v$v: no templates counted"
		[ "$(jq -r .options_records "$WORK/stats$v.json")" -gt 0 ] ||
			fail "v$v: softflowd's options records not counted"
	fi
done
echo "ceptor-flow and nfdump agree on v5, v9 and IPFIX"
