#!/usr/bin/env bash
# Scenario: a TCP SYN scan of 50 ports on one host, mixed with ordinary
# traffic, goes capture -> ceptor-pcap decoder -> shm ring -> correlation
# core -> incident -> a real redis-server.  Exactly one incident must
# appear, naming the scanner and the 50 distinct ports, in the telecom
# sector's stream and the council stream, and nowhere else: a scan is not
# an outage, so no other sector is predicted to be hit or advised.
#
# Needs: BIN (binaries), CEPTOR_TEST_REDIS_URL or a redis-server to start.
set -euo pipefail
cd "$(dirname "$0")/../../.."
. tests/lib/assert.sh
BIN=${BIN:-build/bin}
HERE=tests/integration/portscan
WORK=$(mktemp -d "${TMPDIR:-/tmp}/ceptor-portscan.XXXXXX")
. tests/lib/redis.sh
cleanup() { redis_stop; rm -rf "$WORK"; }
trap cleanup EXIT
redis_start # a private server: this test counts every key in it

SCANNER=198.51.100.23
TARGET=192.0.2.10
"$BIN/ceptor-gen" scan "$WORK/scan.pcap" --src "$SCANNER" --dst "$TARGET" \
	--ports 50 --start-port 1000 --noise 400 --seed 7 2>/dev/null

# 1. Through Redis, with the config's telecom tap taking the capture.
sed "s|^    overflow: block|    overflow: block\n    files: [\"$WORK/scan.pcap\"]|" \
	"$HERE/ceptor.yml" >"$WORK/ceptor.yml"
"$BIN/ceptord" -c "$WORK/ceptor.yml" --once --redis "$REDIS_URL" \
	--spool "$WORK/spool" 2>"$WORK/ceptord.log" ||
	fail "ceptord failed: $(cat "$WORK/ceptord.log")"

keys=$(redis_cli --raw KEYS '*' | grep -v '^ceptor:{stats:' | sort | tr '\n' ' ')
expect_eq "$keys" "ceptor:{council}:incidents ceptor:{telecom}:incidents " \
	"streams written"
expect_eq "$(redis_cli XLEN 'ceptor:{telecom}:incidents')" 1 "telecom incidents"
expect_eq "$(redis_cli XLEN 'ceptor:{council}:incidents')" 1 "council incidents"

# The flat fields analysts filter on.
field() { redis_cli --raw XRANGE 'ceptor:{telecom}:incidents' - + |
	awk -v f="$1" 'prev == f { print; exit } { prev = $0 }'; }
expect_match "$(field id)" '^P[1-5]-[0-9]{4}-[0-9]{6}$' "incident id"
expect_eq "$(field version)" 1 "version"
expect_eq "$(field status)" open "status"
expect_eq "$(field sector)" telecom "sector"
expect_eq "$(field title)" "TCP port scan" "title"
expect_eq "$(field severity)" high "severity"
expect_eq "$(field tlp)" AMBER "tlp"
expect_eq "$(field sources)" 1 "sources"
expect_match "$(field priority)" '^P[1-5]$' "priority"
expect_eq "$(field id | cut -d- -f1)" "$(field priority)" "id carries the class"
json=$(field json)
expect_eq "$(jq -r .entity <<<"$json")" "$SCANNER" "entity is the scanner"
expect_eq "$(jq -r .count <<<"$json")" 50 "distinct ports counted"
expect_eq "$(jq -r .key <<<"$json")" "src_ip=$SCANNER" "group key"
expect_eq "$(jq -r '.sources[0].name' <<<"$json")" tap-telecom "source name"
expect_eq "$(jq -r '.sources[0].reliability' <<<"$json")" B "source grade"

# 2. ceptorctl tail reads it back, ranked.
"$BIN/ceptorctl" --redis "$REDIS_URL" tail >"$WORK/tail.txt" ||
	fail "ceptorctl tail failed"
grep -q "TCP port scan" "$WORK/tail.txt" || fail "tail does not show the incident"
grep -q "$(field id)" "$WORK/tail.txt" || fail "tail does not show the id"
"$BIN/ceptorctl" --redis "$REDIS_URL" tail --json >"$WORK/tail.json"
expect_eq "$(wc -l <"$WORK/tail.json")" 1 "tail --json lines (deduplicated)"
expect_eq "$(jq -r .entity "$WORK/tail.json")" "$SCANNER" "tail --json entity"

# 3. A second run numbers its incident afresh (the id counter persisted in
#    the spool directory), so consumers deduplicating by (id, version) keep it.
"$BIN/ceptord" -c "$WORK/ceptor.yml" --once --redis "$REDIS_URL" \
	--spool "$WORK/spool" 2>>"$WORK/ceptord.log"
ids=$(redis_cli --raw XRANGE 'ceptor:{telecom}:incidents' - + |
	awk 'prev == "id" { print } { prev = $0 }' | sort -u | wc -l)
expect_eq "$ids" 2 "distinct ids over two runs"

# 4. The same events as JSON Lines (ceptor-pcap --dump) through --feed give
#    the same incident on --stdout, without Redis.
"$BIN/ceptor-pcap" -r "$WORK/scan.pcap" --dump >"$WORK/scan.jsonl"
"$BIN/ceptord" --once --rules rules/default --feed "jsonl:$WORK/scan.jsonl" \
	--redis none --stdout --spool "$WORK/spool2" >"$WORK/stdout.jsonl" \
	2>>"$WORK/ceptord.log"
expect_eq "$(wc -l <"$WORK/stdout.jsonl")" 2 "stdout messages (sector + council)"
expect_eq "$(jq -r 'select(.stream=="ceptor:{unknown}:incidents") | .count' "$WORK/stdout.jsonl")" \
	50 "count through the JSON Lines path"
expect_eq "$(jq -r 'select(.stream=="ceptor:{unknown}:incidents") | .entity' "$WORK/stdout.jsonl")" \
	"$SCANNER" "entity through the JSON Lines path"

# 5. Ordinary traffic alone raises nothing.
"$BIN/ceptor-gen" scan "$WORK/quiet.pcap" --src "$SCANNER" --dst "$TARGET" \
	--ports 5 --noise 400 --seed 9 2>/dev/null
"$BIN/ceptord" --once --rules rules/default --pcap "$WORK/quiet.pcap" \
	--redis none --stdout --spool "$WORK/spool3" >"$WORK/quiet.jsonl" \
	2>>"$WORK/ceptord.log"
expect_eq "$(wc -l <"$WORK/quiet.jsonl")" 0 "incidents from quiet traffic"
echo "portscan scenario: all checks passed"
