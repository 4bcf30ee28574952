#!/usr/bin/env bash
# Scenario: hot reload without loss.  A producer (ceptor-pcap processes, one
# after another on ceptord's ring, each at full speed) sends a fixed stream
# of port scans from 30 scanners plus noise, while the rule set is reloaded
# 100 times: alternately the same rules and the same rules plus an
# unrelated one, with two broken sets among them that must be rejected
# (FILE:LINE, exit 1) while the running set stays.  The incidents printed
# with --stdout must then equal, per rule and entity (count and evidence),
# those of a run of the same stream without reloads.  lateness is 2 s, so
# events wait in the reorder buffer across swaps.
#
# Needs: BIN, jq.  Every wait is bounded; only this script's PIDs are
# killed.
set -euo pipefail
cd "$(dirname "$0")/../../.."
. tests/lib/assert.sh
BIN=${BIN:-build/bin}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/ceptor-reload.XXXXXX")
RING=
ENGINE_PID= PRODUCER_PID=
NFILES=30
NRELOADS=100
cleanup() {
	for p in $PRODUCER_PID $ENGINE_PID; do
		kill "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
	rm -f /dev/shm/ceptor-test-reload-$$-*
	rm -rf "$WORK"
}
trap cleanup EXIT

# wait_for WHAT 'SHELL TEST' [SECONDS]: until the test holds (default 30 s).
wait_for() {
	local i n=$(( ${3:-30} * 10 ))
	for i in $(seq 1 $n); do
		if eval "$2"; then
			return 0
		fi
		sleep 0.1
	done
	fail "waited ${3:-30} s for $1"
}
status_json() { cat "$WORK/spool/status.json" 2>/dev/null || echo '{}'; }
input_field() { status_json | jq -r "(.inputs // [])[] | select(.name==\"tap\") | $1"; }

mkdir -p "$WORK/rules" "$WORK/spool"
cp rules/default/*.yml "$WORK/rules/"
config() { # ring name: each run has a fresh ring
	cat >"$WORK/ceptor.yml" <<YML
redis: none
spool: $WORK/spool
rules: [$WORK/rules]
lateness: 2s
collectors:
  - kind: ring
    name: tap
    ring: $1
    sector: telecom
YML
}
cat >"$WORK/extra.yml" <<'YML'
title: SCTP to port 1 (unrelated to the stream)
id: test-reload-extra
level: low
logsource: {product: ceptor, category: packet}
detection:
  sel: {proto: 132, dst_port: 1}
  condition: sel
YML
printf 'title: broken\nid: test-reload-broken\ndetection:\n  sel: {proto: 6}\n  condition: nosuch\n' >"$WORK/broken.yml"

# The fixed stream: scanner i at 198.51.100.i, 90 s of event time apart.
for i in $(seq 1 $NFILES); do
	"$BIN/ceptor-gen" scan "$WORK/s$i.pcap" --src "198.51.100.$i" \
		--dst "192.0.2.$((i % 5 + 1))" --ports $((15 + i % 20)) \
		--noise 2000 --seed "$i" --time-offset $((i * 90)) 2>/dev/null
done

TOTAL=0
for i in $(seq 1 $NFILES); do
	TOTAL=$((TOTAL + $("$BIN/ceptor-pcap" -r "$WORK/s$i.pcap" --stats | jq .decoded)))
done

produce() {
	for i in $(seq 1 $NFILES); do
		"$BIN/ceptor-pcap" -r "$WORK/s$i.pcap" --ring "$RING" \
			--overflow block 2>>"$WORK/producer.log" || return 1
		sleep 0.2
	done
}

# run LABEL RELOADS: one engine over the whole stream; incidents in
# $WORK/LABEL.jsonl.
run() {
	local label=$1 reloads=$2 ok=0 rejected=0 rc i
	RING=/ceptor-test-reload-$$-$label
	config "$RING"
	rm -f "$WORK/rules/extra.yml" "$WORK/rules/broken.yml" "$WORK/spool/status.json"
	"$BIN/ceptord" -c "$WORK/ceptor.yml" --stdout >"$WORK/$label.jsonl" \
		2>"$WORK/$label.log" &
	ENGINE_PID=$!
	wait_for "ceptord's first status" \
		'test "$(status_json | jq -r .state)" = running'
	produce &
	PRODUCER_PID=$!
	for i in $(seq 1 "$reloads"); do
		if [ "$i" = 33 ] || [ "$i" = 66 ]; then
			cp "$WORK/broken.yml" "$WORK/rules/"
			rc=0
			"$BIN/ceptorctl" reload --spool "$WORK/spool" \
				>"$WORK/out" 2>"$WORK/err" || rc=$?
			expect_eq "$rc" 1 "reload $i: a broken set is rejected"
			expect_match "$(cat "$WORK/err")" "broken.yml:5: " \
				"reload $i: FILE:LINE of the error"
			rm -f "$WORK/rules/broken.yml"
			rejected=$((rejected + 1))
			continue
		fi
		if [ $((i % 2)) = 0 ]; then
			cp "$WORK/extra.yml" "$WORK/rules/"
		else
			rm -f "$WORK/rules/extra.yml"
		fi
		"$BIN/ceptorctl" reload --spool "$WORK/spool" >"$WORK/out" \
			2>"$WORK/err" || fail "reload $i failed: $(cat "$WORK/err")"
		ok=$((ok + 1))
	done
	wait "$PRODUCER_PID" || fail "producer failed: $(cat "$WORK/producer.log")"
	PRODUCER_PID=
	wait_for "the ring drained" \
		'test "$(input_field "(.dequeued == $TOTAL) and .producer.state == \"closed\"")" = true' 60
	if [ "$reloads" -gt 0 ]; then
		expect_eq "$(status_json | jq -r .rules.generation)" $((ok + 1)) \
			"$label: every good reload swapped a set in"
		expect_eq "$(status_json | jq -r .rules.reload_failures)" "$rejected" \
			"$label: broken sets counted"
	fi
	echo "  $label: $ok reloads, $rejected rejected"
	kill -TERM "$ENGINE_PID"
	wait "$ENGINE_PID" || fail "ceptord failed: $(tail -5 "$WORK/$label.log")"
	ENGINE_PID=
	expect_eq "$(status_json | jq -r .engine.events)" "$TOTAL" \
		"$label: every event of the stream went through the engine"
}

# The last version of each incident, by rule and entity.
summary() {
	jq -c 'select((.stream | endswith(":incidents")) and
		(.stream | test("council") | not))' "$1" | jq -sc '
		group_by(.id) | map(max_by(.version)) |
		map({rule, key, count, evidence}) | sort'
}

run plain 0
run reloaded "$NRELOADS"
PLAIN=$(summary "$WORK/plain.jsonl")
RELOADED=$(summary "$WORK/reloaded.jsonl")
N=$(jq length <<<"$PLAIN")
SCANS=$(jq '[.[] | select(.rule == "ceptor-portscan-tcp")] | length' <<<"$PLAIN")
echo "  $N incidents without reloads, $SCANS port scans"
[ "$SCANS" -ge 10 ] || fail "the stream should raise port scan incidents (got $SCANS)"
if [ "$PLAIN" != "$RELOADED" ]; then
	diff <(jq -c '.[]' <<<"$PLAIN") <(jq -c '.[]' <<<"$RELOADED") | head -20
	fail "incidents differ with reloads"
fi
expect_eq "$(jq length <<<"$RELOADED")" "$N" "incidents with $NRELOADS reloads"
grep -q "rules reloaded: generation" "$WORK/reloaded.log" ||
	fail "ceptord did not log the reloads"

# rules_watch: a rule file written into the directory reloads by itself;
# a broken one is rejected and counted.
rm -f "$WORK/rules/extra.yml" "$WORK/spool/status.json"
config "/ceptor-test-reload-$$-watch"
echo "rules_watch: true" >>"$WORK/ceptor.yml"
"$BIN/ceptord" -c "$WORK/ceptor.yml" 2>"$WORK/watch.log" &
ENGINE_PID=$!
wait_for "ceptord's first status" 'test "$(status_json | jq -r .state)" = running'
expect_eq "$(status_json | jq -r .rules.watch)" true "status says rules_watch"
cp "$WORK/extra.yml" "$WORK/rules/"
wait_for "a reload on a new rule file" \
	'test "$(status_json | jq -r .rules.generation)" = 2'
expect_eq "$(status_json | jq -r .rules.last_reload.added)" 1 "watch: one rule added"
cp "$WORK/broken.yml" "$WORK/rules/"
wait_for "a rejected reload on a broken file" \
	'test "$(status_json | jq -r .rules.reload_failures)" = 1'
expect_match "$(status_json | jq -r .rules.last_error)" "broken.yml:5: " \
	"watch: FILE:LINE in the status"
expect_eq "$(status_json | jq -r .rules.generation)" 2 "watch: the running set stays"
kill -TERM "$ENGINE_PID"
wait "$ENGINE_PID" || fail "ceptord failed: $(tail -5 "$WORK/watch.log")"
ENGINE_PID=
echo "PASS"
