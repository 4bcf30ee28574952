#!/usr/bin/env bash
# Scenario: a live engine whose input goes quiet still closes windows.
# A failure report arrives through a collector process and nothing else
# follows; the absence rule "no update within 3 s" must fire while the
# engine keeps running (event time moves on with the clock once every
# input has been quiet for a second), not only at shutdown.
set -euo pipefail
cd "$(dirname "$0")/../../.."
. tests/lib/assert.sh
BIN=${BIN:-build/bin}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/ceptor-advance.XXXXXX")
RING=/ceptor-test-advance-$$
ENGINE_PID=
cleanup() {
	[ -n "$ENGINE_PID" ] && kill "$ENGINE_PID" 2>/dev/null && wait "$ENGINE_PID" 2>/dev/null
	rm -f "/dev/shm${RING}"
	rm -rf "$WORK"
}
trap cleanup EXIT

mkdir "$WORK/rules"
cat >"$WORK/rules/absence.yml" <<'YML'
title: Failure reported
id: adv-failure
logsource: {product: ceptor, category: report}
detection:
  rep: {trigger: serious_failure}
  condition: rep
---
title: Report updated
id: adv-update
logsource: {product: ceptor, category: report}
detection:
  rep: {trigger: serious_failure}
  condition: rep
---
title: Failure report not updated within 3 s
id: adv-no-update
level: medium
correlation:
  type: absence
  rules: [adv-failure, adv-update]
  group-by: [report_id]
  timespan: 3s
---
title: Damage reported
id: adv-damage
level: low
logsource: {product: ceptor, category: report}
detection:
  rep: {trigger: damage_detected}
  condition: rep
---
title: Damage that may spread
id: adv-damage-spread
level: low
logsource: {product: ceptor, category: report}
detection:
  rep: {trigger: damage_detected, may_spread: true}
  condition: rep
YML
cat >"$WORK/ceptor.yml" <<YML
rules: $WORK/rules
redis: none
spool: $WORK/spool
lateness: 1s
publish_interval_ms: 200
collectors:
  - kind: ring
    name: reports
    ring: $RING
YML
"$BIN/ceptord" -c "$WORK/ceptor.yml" --stdout >"$WORK/out.jsonl" 2>"$WORK/engine.log" &
ENGINE_PID=$!
for _ in $(seq 100); do
	[ -e "/dev/shm${RING}" ] && break
	sleep 0.05
done
[ -e "/dev/shm${RING}" ] || fail "ceptord did not open $RING: $(cat "$WORK/engine.log")"
now=$(date -u +%Y-%m-%dT%H:%M:%S.000000Z)
echo "{\"ts\":\"$now\",\"kind\":\"report\",\"type\":\"defect\",\"trigger\":\"serious_failure\",\"report_id\":\"R-1\",\"sector\":\"rail\"}" \
	>"$WORK/report.jsonl"
"$BIN/ceptor-feed" --format jsonl --ring "$RING" "$WORK/report.jsonl" || fail "collector failed"
# At most 20 s for the absence incident while the engine runs.
for _ in $(seq 200); do
	grep -q '"adv-no-update"' "$WORK/out.jsonl" 2>/dev/null && break
	kill -0 "$ENGINE_PID" 2>/dev/null || break
	sleep 0.1
done
kill -0 "$ENGINE_PID" 2>/dev/null || fail "ceptord died: $(cat "$WORK/engine.log")"
grep -q '"adv-no-update"' "$WORK/out.jsonl" ||
	fail "no absence incident while running: $(cat "$WORK/out.jsonl" "$WORK/engine.log")"
expect_eq "$(jq -r 'select(.rule=="adv-no-update" and (.stream|test("council")|not)) | .key' "$WORK/out.jsonl" | sort -u)" \
	"report_id=R-1" "absence incident for the report"

# An update held by the rate limit goes out while the inputs are quiet:
# a damage report opens the incident of R-2 (published), and a second
# rule about the same report 0.1 s later is an update inside the hold; it
# must reach --stdout without any further event, not only at shutdown.
t1=$(date -u +%Y-%m-%dT%H:%M:%S.100000Z)
t2=$(date -u +%Y-%m-%dT%H:%M:%S.200000Z)
printf '{"ts":"%s","kind":"report","type":"defect","trigger":"damage_detected","report_id":"R-2","sector":"rail"}\n' "$t1" >"$WORK/r2.jsonl"
printf '{"ts":"%s","kind":"report","type":"defect","trigger":"damage_detected","may_spread":true,"report_id":"R-2","sector":"rail"}\n' "$t2" >"$WORK/r2b.jsonl"
"$BIN/ceptor-feed" --format jsonl --ring "$RING" "$WORK/r2.jsonl" || fail "collector failed"
for _ in $(seq 100); do
	jq -e 'select(.key == "report_id=R-2")' "$WORK/out.jsonl" >/dev/null 2>&1 && break
	sleep 0.1
done
v1=$(jq -r 'select(.key == "report_id=R-2") | .version' "$WORK/out.jsonl" | sort -n | tail -1)
[ -n "$v1" ] || fail "no incident for R-2"
"$BIN/ceptor-feed" --format jsonl --ring "$RING" "$WORK/r2b.jsonl" || fail "collector failed"
for _ in $(seq 150); do
	v=$(jq -r 'select(.key == "report_id=R-2") | .version' "$WORK/out.jsonl" | sort -n | tail -1)
	[ "$v" -gt "$v1" ] && break
	sleep 0.1
done
[ "$v" -gt "$v1" ] || fail "the held update of R-2 did not go out while the inputs were quiet"
kill -TERM "$ENGINE_PID"
wait "$ENGINE_PID" || fail "ceptord exit status"
ENGINE_PID=
echo "live_advance: all checks passed"
