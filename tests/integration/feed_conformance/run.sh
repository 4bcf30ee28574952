#!/usr/bin/env bash
# Conformance over real-format Shadowserver samples (../shared/data/feeds/,
# certtools/intelmq test data, AGPL-3.0-or-later; read in place, not
# copied): every data row of every file gives one event with the right
# fields, and malformed rows are reported with file:line and skipped.
# Without the shared data this test says so and passes.
set -euo pipefail
cd "$(dirname "$0")/../../.."
. tests/lib/assert.sh
BIN=${BIN:-build/bin}
D=${CEPTOR_SHARED_DATA:-}/feeds/shadowserver-legacy
if [ -z "${CEPTOR_SHARED_DATA:-}" ] || [ ! -d "$D" ]; then
	echo "notice: shared feed data not found; feed conformance skipped"
	exit 0
fi
WORK=$(mktemp -d "${TMPDIR:-/tmp}/ceptor-feedconf.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

# file  type  data-rows  malformed  (microsoft_sinkhole's first 14 rows
# predate its last column: 28 fields under a 29-column header)
while read -r file type rows bad; do
	[ -f "$D/$file" ] || fail "$file missing from the shared data"
	"$BIN/ceptor-feed" --format csv-shadowserver "$D/$file" >"$WORK/out.jsonl" 2>"$WORK/err" ||
		fail "$file: exit status $?"
	"$BIN/ceptor-feed" --format csv-shadowserver --stats "$D/$file" >"$WORK/st.json" 2>/dev/null
	# Independent of the reader: data rows are the non-blank lines after
	# the header (none of these files quotes a line break).
	lines=$(tail -n +2 "$D/$file" | grep -c .)
	expect_eq "$lines" "$rows" "$file data rows"
	expect_eq "$(jq -r '"\(.read) \(.decoded) \(.malformed)"' "$WORK/st.json")" \
		"$rows $((rows - bad)) $bad" "$file read/decoded/malformed"
	expect_eq "$(wc -l <"$WORK/out.jsonl")" "$((rows - bad))" "$file events"
	expect_eq "$(jq -r '[.kind, .type] | join(" ")' "$WORK/out.jsonl" | sort -u)" \
		"feed $type" "$file kind and type"
	expect_eq "$(jq -r 'select((.src_ip // .dst_ip) == null or .ts == null) | 1' "$WORK/out.jsonl" | wc -l)" \
		0 "$file: every event has its host and time"
	expect_eq "$(grep -c "^$D/$file:[0-9]*: " "$WORK/err" || true)" \
		"$(( bad > 10 ? 10 : bad ))" "$file bad rows reported"
done <<'LIST'
botnet_drone.csv c2 102 0
caida_ip_spoofer.csv misconfig 5 0
darknet.csv scan 133 0
ddos_amplification.csv dos 2 0
drone_brute_force.csv brute_force 1 0
hp_http_scan.csv scan 2 0
microsoft_sinkhole.csv sinkhole 107 14
scan_telnet.csv vuln 2 0
sinkhole6_http.csv sinkhole 3 0
sinkhole_dns.csv sinkhole 2 0
sinkhole_http_drone.csv sinkhole 86 0
LIST

grep -q "microsoft_sinkhole.csv:2: 28 fields, the header has 29" <("$BIN/ceptor-feed" --format csv "$D/microsoft_sinkhole.csv" 2>&1 >/dev/null) ||
	fail "short microsoft_sinkhole row not reported at line 2"

# Spot checks against rows read by eye.
row() { "$BIN/ceptor-feed" --format csv "$D/$1" 2>/dev/null | sed -n "${2}p" | jq -r "$3"; }
expect_eq "$(row botnet_drone.csv 1 '[.ts,.src_ip,.src_port,.dst_ip,.dst_port,.proto,.name,.count] | join(" ")')" \
	"2011-04-23T00:00:05.000000Z 210.23.139.130 3218 74.208.164.166 80 6 dorkbot 1" "botnet_drone row 1"
expect_eq "$(row botnet_drone.csv 2 '.indicator + " " + .name')" "015.example.com spyeye" "botnet_drone row 2"
expect_eq "$(row sinkhole6_http.csv 1 '[.src_ip,.src_port,.dst_ip,.dst_port,.name] | join(" ")')" \
	"2001:db8:abcd:12:: 36738 2a02:1668:1034::2 80 ghost-push" "sinkhole6_http row 1"
expect_eq "$(row sinkhole_dns.csv 1 '[.src_ip,.indicator,.name] | join(" ")')" \
	"198.51.100.1 4.winsrw.com boaxxe" "sinkhole_dns row 1"
expect_eq "$(row drone_brute_force.csv 1 '[.src_ip,.src_port,.dst_ip,.dst_port,.name] | join(" ")')" \
	"198.51.100.169 38880 198.51.100.196 22 ssh" "drone_brute_force row 1"
expect_eq "$(row ddos_amplification.csv 1 '[.dst_ip,.dst_port,.src_port,.count,.bytes,.name] | join(" ")')" \
	"192.0.2.10 53 13 15 2220 daytime" "ddos_amplification row 1"
expect_eq "$(row caida_ip_spoofer.csv 1 '.src_ip + " " + .indicator')" \
	"137.97.71.0 137.97.71.0/24" "caida_ip_spoofer row 1"
expect_eq "$(row scan_telnet.csv 1 '[.src_ip,.src_port,.proto,.name] | join(" ")')" \
	"198.123.245.145 5678 6 telnet-alt" "scan_telnet row 1"
expect_eq "$(row darknet.csv 2 '[.src_ip,.dst_port,.count,.name] | join(" ")')" \
	"198.51.100.4 80 2 mirai-like" "darknet row 2"

# The whole folder at once.
"$BIN/ceptor-feed" --format csv --stats "$D" >"$WORK/all.json" 2>/dev/null
expect_eq "$(jq -r '"\(.files) \(.read) \(.decoded) \(.malformed)"' "$WORK/all.json")" \
	"11 445 431 14" "folder totals"
echo "feed_conformance: all checks passed"
