#!/usr/bin/env bash
# ceptor-feed reads every format of a generated fixture set (ceptor-gen
# feeds): each file gives the counters its EXPECT line names, bad rows are
# reported as FILE:LINE and skipped, the fields come out right, what --dump
# prints reads back unchanged through --format jsonl, and standard input,
# directories and --report work.
set -euo pipefail
cd "$(dirname "$0")/../../.."
. tests/lib/assert.sh
BIN=${BIN:-build/bin}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/ceptor-feedfmt.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
G=$WORK/feeds
"$BIN/ceptor-gen" feeds "$G"

# 1. Every fixture file: the counters of its EXPECT line.
while read -r fmt path read decoded malformed failed; do
	rc=0
	"$BIN/ceptor-feed" --format "$fmt" --stats "$G/$path" >"$WORK/st.json" \
		2>"$WORK/err" || rc=$?
	got=$(jq -r '"\(.read) \(.decoded) \(.malformed) \(.files_failed)"' "$WORK/st.json")
	expect_eq "$got" "$read $decoded $malformed $failed" "$path read/decoded/malformed/failed"
	if [ "$failed" = 1 ]; then
		expect_eq "$rc" 1 "$path: nothing readable -> exit 1"
	else
		expect_eq "$rc" 0 "$path exit status"
	fi
done <"$G/EXPECT"

# 2. Bad rows name file and line, once each.
drone=$G/csv/2024-05-01-botnet_drone-asn.csv
"$BIN/ceptor-feed" --format csv-shadowserver "$drone" >"$WORK/drone.jsonl" 2>"$WORK/drone.err"
grep -q "botnet_drone-asn.csv:12: 11 fields, the header has 12" "$WORK/drone.err" ||
	fail "no file:line for the short row: $(cat "$WORK/drone.err")"
grep -q "botnet_drone-asn.csv:13: bad timestamp" "$WORK/drone.err" || fail "no file:line for the bad time"
grep -q "botnet_drone-asn.csv:14: bad address" "$WORK/drone.err" || fail "no file:line for the bad address"
expect_eq "$(grep -c 'botnet_drone-asn.csv:[0-9]*:' "$WORK/drone.err")" 3 "one line per bad row"

# 3. The fields of the botnet drone report.
first=$(head -n 1 "$WORK/drone.jsonl")
expect_eq "$(jq -r '[.kind,.type,.src_ip,.src_port,.dst_ip,.dst_port,.proto,.count,.name,.indicator,.sector,.ts] | join(" ")' <<<"$first")" \
	"feed c2 192.0.2.10 1025 198.51.100.1 80 6 3 dorkbot c2.example.net electricity 2024-05-01T00:00:01.000000Z" \
	"first drone row"
expect_eq "$(jq -r 'select(.name=="andromeda") | .src_ip' "$WORK/drone.jsonl")" 192.0.2.30 "quoted comma row kept"
expect_eq "$(jq -r 'select(.name=="tinba") | .src_ip' "$WORK/drone.jsonl")" 192.0.2.31 "multi-line field row kept"
expect_eq "$(jq -r 'select(.name=="ramnit") | .src_ip + " " + .ts' "$WORK/drone.jsonl")" \
	"2001:db8::7 2024-05-01T00:01:00.000000Z" "IPv6 host, +00 zone"
expect_eq "$(jq -r 'select(.src_ip=="192.0.2.40") | .name' "$WORK/drone.jsonl")" \
	"x-very-long-family-name" "long family cut to the field"

# 4. The other report types, one field set each.
one() { "$BIN/ceptor-feed" --format csv "$G/csv/$1" 2>/dev/null | head -n 1 | jq -r "$2"; }
expect_eq "$(one sinkhole_http_drone.csv '[.type,.src_ip,.dst_ip,.dst_port,.name,.indicator] | join(" ")')" \
	"sinkhole 203.0.113.1 198.51.100.100 80 avalanche-nymaim sinkhole.example.org" "sinkhole http"
expect_eq "$(one darknet.csv '[.type,.src_ip,.dst_port,.proto,.count,.name] | join(" ")')" \
	"scan 192.0.2.51 23 6 10 mirai" "darknet"
expect_eq "$(one drone_brute_force.csv '[.type,.src_ip,.dst_ip,.dst_port,.name] | join(" ")')" \
	"brute_force 198.51.100.61 192.0.2.200 22 ssh" "brute force"
expect_eq "$(one ddos_amplification.csv '[.type,.dst_ip,.dst_port,.src_port,.bytes,.count,(.src_ip // "-")] | join(" ")')" \
	"dos 192.0.2.77 80 123 2700 15 -" "amplification victim"
expect_eq "$("$BIN/ceptor-feed" --format csv "$G/csv/2024-05-02-scan_telnet-asn.csv" | jq -r '.type + " " + .name' | tr '\n' ',')" \
	"vuln telnet,vuln telnet-alt,vuln telnet," "exposed telnet"
expect_eq "$(one sinkhole_dns.csv '[.type,.indicator,.name,.count] | join(" ")')" \
	"sinkhole bad.example.com boaxxe 2" "sinkhole dns"
expect_eq "$(one mystery.csv '.type')" c2 "report type from the header"

# 5. Indicator lists and reports.
"$BIN/ceptor-feed" --format iplist "$G/iplist/indicators.txt" >"$WORK/intel.jsonl" 2>/dev/null
expect_eq "$(jq -r .indicator "$WORK/intel.jsonl" | tr '\n' ' ')" \
	"192.0.2.1 2001:db8::1 198.51.100.0/24 2001:db8:100::/48 evil.example.net c2.example.org " \
	"indicators"
expect_eq "$(jq -r .kind "$WORK/intel.jsonl" | sort -u)" intel "indicator kind"
"$BIN/ceptor-feed" --format report "$G/report/reports.json" >"$WORK/rep.jsonl" 2>"$WORK/rep.err"
expect_eq "$(jq -r 'select(.report_id=="R-0001") | [.type,.sector,.reporter,(.system // "-"),(.damage_likely // false)] | join(" ")' "$WORK/rep.jsonl" | tr '\n' ',')" \
	"intrusion electricity Kanto Power - false,intrusion electricity Kanto Power power_management true," \
	"report and its update"
expect_eq "$(jq -r 'select(.report_id=="R-0003") | .trigger + " " + ((.damage_likely // false) | tostring)' "$WORK/rep.jsonl")" \
	"attack_detected false" "attack detected without likely damage"
expect_eq "$(jq -r 'select(.report_id=="R-0002") | .damage_likely' "$WORK/rep.jsonl")" true "serious failure"
grep -q "reports.json:15: field \"sector\"" "$WORK/rep.err" || fail "report error line: $(cat "$WORK/rep.err")"

# 6. Round trip: what --dump prints, --format jsonl reads back unchanged.
cat "$WORK/drone.jsonl" "$WORK/intel.jsonl" "$WORK/rep.jsonl" >"$WORK/all.jsonl"
"$BIN/ceptor-feed" --format jsonl "$WORK/all.jsonl" >"$WORK/again.jsonl"
cmp -s "$WORK/all.jsonl" "$WORK/again.jsonl" || fail "jsonl round trip changed events"
echo "  ok: dump -> jsonl round trip is byte-identical"

# 7. Standard input, --report, a directory, the source options.
got=$(cat "$G/csv/darknet.csv" | "$BIN/ceptor-feed" --format csv --report darknet - --stats | jq -r .decoded)
expect_eq "$got" 4 "stdin with --report"
got=$(cat "$G/csv/darknet.csv" | "$BIN/ceptor-feed" --format csv - --stats | jq -r .decoded)
expect_eq "$got" 4 "stdin, report type from the header"
"$BIN/ceptor-feed" --format csv --stats "$G/csv" >"$WORK/dir.json" 2>/dev/null || true
expect_eq "$(jq -r '"\(.files) \(.decoded) \(.files_failed)"' "$WORK/dir.json")" "9 31 1" "directory of reports"
expect_eq "$("$BIN/ceptor-feed" --format csv --source partner --sector gas --tlp GREEN --reliability B "$G/csv/darknet.csv" | head -n 1 | jq -r '[.source,.sector,.tlp,.reliability] | join(" ")')" \
	"partner gas GREEN B" "source defaults stamped"
if "$BIN/ceptor-feed" --format nosuch x 2>/dev/null; then fail "unknown format accepted"; fi
if "$BIN/ceptor-feed" --format csv --report weather x 2>/dev/null; then fail "unknown report accepted"; fi
echo "feed_formats: all checks passed"
