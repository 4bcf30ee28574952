#!/usr/bin/env bash
# Scenario: how --once ends.  (1) A ring that no collector ever feeds does
# not hold the run forever: ceptord says it waits, then ends that input and
# finishes the others.  (2) Stopped with SIGTERM while records are still
# waiting, ceptord processes them in event-time order across inputs, so
# two hosted feeds' correlations both come out and nothing is late.
set -euo pipefail
cd "$(dirname "$0")/../../.."
. tests/lib/assert.sh
BIN=${BIN:-build/bin}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/ceptor-stoporder.XXXXXX")
RING=/ceptor-test-stop-$$
ENGINE_PID=
cleanup() {
	[ -n "$ENGINE_PID" ] && kill "$ENGINE_PID" 2>/dev/null && wait "$ENGINE_PID" 2>/dev/null
	rm -f "/dev/shm${RING}"
	rm -rf "$WORK"
}
trap cleanup EXIT

mkdir "$WORK/rules"
cat >"$WORK/rules/count.yml" <<'YML'
title: Scan report
id: so-report
logsource: {product: ceptor, category: feed}
detection:
  rep: {type: scan}
  condition: rep
---
title: Reported again and again
id: so-repeated
level: high
correlation:
  type: event_count
  rules: [so-report]
  group-by: [src_ip]
  timespan: 10m
  condition: {gte: 100}
YML
# Two feeds, 600 reports a second apart, each about its own address.
for f in a b; do
	ip=$([ $f = a ] && echo 198.51.100.1 || echo 198.51.100.2)
	awk -v ip="$ip" 'BEGIN { for (i = 0; i < 600; i++)
		printf "{\"ts\":\"2026-01-01T%02d:%02d:%02d.000000Z\",\"kind\":\"feed\",\"type\":\"scan\",\"src_ip\":\"%s\"}\n",
			int(i / 3600), int(i / 60) % 60, i % 60, ip }' >"$WORK/$f.jsonl"
done
incidents() { # the rule's incidents (latest version of each), by entity
	jq -rs '[.[] | select(.rule == "so-repeated" and (.stream | test("council") | not))]
		| group_by(.id) | map(max_by(.version)) | map(.entity) | sort | join(" ")' "$1"
}

# (1) a ring nobody feeds
start=$SECONDS
"$BIN/ceptord" --once --rules "$WORK/rules" --feed "jsonl:$WORK/a.jsonl" --ring "$RING" \
	--redis none --stdout --spool "$WORK/s1" >"$WORK/out1.jsonl" 2>"$WORK/e1.log" &
ENGINE_PID=$!
for _ in $(seq 600); do
	kill -0 "$ENGINE_PID" 2>/dev/null || break
	sleep 0.1
done
kill -0 "$ENGINE_PID" 2>/dev/null && fail "ceptord --once still waits for a ring nobody feeds"
wait "$ENGINE_PID" || fail "ceptord failed: $(cat "$WORK/e1.log")"
ENGINE_PID=
grep -q "ring $RING has no producer" "$WORK/e1.log" || fail "no warning about the idle ring: $(cat "$WORK/e1.log")"
expect_eq "$(incidents "$WORK/out1.jsonl")" "198.51.100.1" "the fed input's incident"
rm -f "/dev/shm${RING}"

# (2) SIGTERM with both feeds waiting behind an empty ring (it holds the
# merge, so their records are all still there when the stop comes).
"$BIN/ceptord" --once --rules "$WORK/rules" --feed "jsonl:$WORK/a.jsonl" \
	--feed "jsonl:$WORK/b.jsonl" --ring "$RING" --redis none --stdout \
	--spool "$WORK/s2" >"$WORK/out2.jsonl" 2>"$WORK/e2.log" &
ENGINE_PID=$!
for _ in $(seq 100); do
	n=$(jq -r '[.inputs[] | select(.kind=="feed") | .enqueued] | add' "$WORK/s2/status.json" 2>/dev/null || echo 0)
	[ "${n:-0}" -ge 1200 ] && break
	sleep 0.1
done
kill -TERM "$ENGINE_PID"
wait "$ENGINE_PID" || fail "ceptord failed after SIGTERM: $(cat "$WORK/e2.log")"
ENGINE_PID=
expect_eq "$(incidents "$WORK/out2.jsonl")" "198.51.100.1 198.51.100.2" "both feeds' incidents after the stop"
if grep -q "later than the allowed lateness" "$WORK/e2.log"; then
	fail "records became late at the stop: $(cat "$WORK/e2.log")"
fi
echo "stop_order: all checks passed"
