#!/usr/bin/env bash
# Scenario: events from several inputs meet the windows in event-time
# order, whatever the threads' timing.  A partner's feed reports a scanner
# five seconds before the tap sees its scan; a temporal rule needs both.
# The feed arrives through a collector process that starts a second after
# ceptord has read the whole capture: had the engine taken records as they
# came, the report would be late (older than the watermark minus the
# allowed lateness) and the rule would never fire.  ceptord --once waits
# for the open ring, merges, and finds it; with both inputs hosted the
# result is the same.
set -euo pipefail
cd "$(dirname "$0")/../../.."
. tests/lib/assert.sh
BIN=${BIN:-build/bin}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/ceptor-merge.XXXXXX")
RING=/ceptor-test-merge-$$
ENGINE_PID=
cleanup() {
	[ -n "$ENGINE_PID" ] && kill "$ENGINE_PID" 2>/dev/null && wait "$ENGINE_PID" 2>/dev/null
	rm -f "/dev/shm${RING}"
	rm -rf "$WORK"
}
trap cleanup EXIT

mkdir "$WORK/rules"
cat >"$WORK/rules/merge.yml" <<'YML'
title: SYN seen on the tap
id: merge-syn
logsource: {product: ceptor, category: packet}
detection:
  syn: {proto: 6, tcp_flags: 2}
  condition: syn
---
title: Scanner reported by a partner
id: merge-report
logsource: {product: ceptor, category: feed}
detection:
  rep: {type: scan}
  condition: rep
---
title: Reported scanner seen scanning
id: merge-both
level: high
type: scan
correlation:
  type: temporal
  rules: [merge-report, merge-syn]
  group-by: [src_ip]
  timespan: 1m
YML
"$BIN/ceptor-gen" scan "$WORK/scan.pcap" --src 198.51.100.66 --dst 192.0.2.20 \
	--ports 30 --noise 100 --seed 3 --time-offset 10 2>/dev/null
echo '{"ts":"2023-11-14T22:13:25.000000Z","source":"partner","kind":"feed","type":"scan","src_ip":"198.51.100.66"}' \
	>"$WORK/feed.jsonl"

both() { # the incidents of rule merge-both, latest version of each
	jq -rs '[.[] | select(.rule == "merge-both" and (.stream | test("council") | not))]
		| group_by(.id) | map(max_by(.version)) | .[] | .entity' "$1"
}

# 1: the feed comes late, through a collector process.
"$BIN/ceptord" --once --rules "$WORK/rules" --pcap "$WORK/scan.pcap" --ring "$RING" \
	--redis none --stdout --spool "$WORK/spool1" >"$WORK/out1.jsonl" 2>"$WORK/engine1.log" &
ENGINE_PID=$!
for _ in $(seq 100); do
	[ -e "/dev/shm${RING}" ] && break
	sleep 0.05
done
[ -e "/dev/shm${RING}" ] || fail "ceptord did not open $RING: $(cat "$WORK/engine1.log")"
sleep 1 # the capture is read by now; the ring is still empty
"$BIN/ceptor-feed" --format jsonl --ring "$RING" "$WORK/feed.jsonl" ||
	fail "the feed collector failed"
wait "$ENGINE_PID" || fail "ceptord failed: $(cat "$WORK/engine1.log")"
ENGINE_PID=
expect_eq "$(both "$WORK/out1.jsonl")" "198.51.100.66" "late collector: the temporal rule fires once"
if grep -q "later than the allowed lateness" "$WORK/engine1.log"; then
	fail "events were late: $(cat "$WORK/engine1.log")"
fi

# 2: both inputs hosted by ceptord: the same incident.
"$BIN/ceptord" --once --rules "$WORK/rules" --pcap "$WORK/scan.pcap" \
	--feed "jsonl:$WORK/feed.jsonl" --redis none --stdout --spool "$WORK/spool2" \
	>"$WORK/out2.jsonl" 2>"$WORK/engine2.log" || fail "ceptord failed: $(cat "$WORK/engine2.log")"
expect_eq "$(both "$WORK/out2.jsonl")" "198.51.100.66" "hosted inputs: the temporal rule fires once"
echo "merge_order: all checks passed"
