#!/usr/bin/env bash
# Scenario: analyst feedback moves the reliability of the upstreams that
# made an incident.  Two operators report one indicator (reliability C);
# `ceptorctl feedback ID false-positive` appends to the spool's
# feedback.jsonl; the running ceptord picks it up on its status tick,
# closes the incident and lowers both operators to D, which new evidence
# shows (reliability_override) within 10 s.  After a restart the override
# still holds (reliability.json) and the verdict is not applied again
# (feedback.pos).
set -euo pipefail
cd "$(dirname "$0")/../../.."
. tests/lib/assert.sh
BIN=${BIN:-build/bin}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/ceptor-feedback.XXXXXX")
RING=/ceptor-test-feedback-$$
ENGINE_PID=
cleanup() {
	[ -n "$ENGINE_PID" ] && kill "$ENGINE_PID" 2>/dev/null && wait "$ENGINE_PID" 2>/dev/null
	rm -f "/dev/shm${RING}"
	rm -rf "$WORK"
}
trap cleanup EXIT

mkdir "$WORK/rules"
cat >"$WORK/rules/report.yml" <<'YML'
title: Operator reports a failure
id: fb-report
level: high
logsource: {product: ceptor, category: report}
detection:
  rep: {trigger: serious_failure}
  condition: rep
YML
cat >"$WORK/ceptor.yml" <<YML
rules: $WORK/rules
redis: none
spool: $WORK/spool
publish_interval_ms: 200
collectors:
  - kind: ring
    name: reports
    ring: $RING
    reliability: C
    credibility: 3
YML

start_engine() { # $1: output file
	"$BIN/ceptord" -c "$WORK/ceptor.yml" --stdout >"$1" 2>>"$WORK/engine.log" &
	ENGINE_PID=$!
	for _ in $(seq 100); do
		[ -e "/dev/shm${RING}" ] && break
		sleep 0.05
	done
	[ -e "/dev/shm${RING}" ] || fail "ceptord did not open $RING: $(cat "$WORK/engine.log")"
}
stop_engine() {
	kill -TERM "$ENGINE_PID"
	wait "$ENGINE_PID" || fail "ceptord exit status"
	ENGINE_PID=
}
report() { # $1: report id, $2: reporter
	local now
	now=$(date -u +%Y-%m-%dT%H:%M:%S.000000Z)
	echo "{\"ts\":\"$now\",\"kind\":\"report\",\"type\":\"defect\",\"trigger\":\"serious_failure\",\"report_id\":\"$1\",\"reporter\":\"$2\",\"indicator\":\"bad.example\",\"reliability\":\"C\",\"credibility\":\"3\",\"sector\":\"rail\"}" \
		>"$WORK/$1.jsonl"
	# The ring's name can show before ceptord has initialised it: retry.
	for _ in $(seq 50); do
		"$BIN/ceptor-feed" --format jsonl --ring "$RING" "$WORK/$1.jsonl" \
			>/dev/null 2>"$WORK/feed.err" && return 0
		grep -q "not initialised yet" "$WORK/feed.err" ||
			fail "collector failed: $(cat "$WORK/feed.err")"
		sleep 0.1
	done
	fail "collector failed: $(cat "$WORK/feed.err")"
}
# wait_for FILE JQ-FILTER WHAT: at most 10 s for a line of FILE to match.
wait_for() {
	for _ in $(seq 100); do
		[ -n "$(jq -c "select(.explanation and (.stream|test(\"council\")|not)) | select($2)" "$1" 2>/dev/null)" ] && return 0
		kill -0 "$ENGINE_PID" 2>/dev/null || fail "ceptord died: $(cat "$WORK/engine.log")"
		sleep 0.1
	done
	fail "$3 not within 10 s: $(cat "$1" "$WORK/engine.log")"
}

start_engine "$WORK/out1.jsonl"
report R-1 op-a
report R-2 op-b
wait_for "$WORK/out1.jsonl" '.explanation.agreeing == 2' "incident from two upstreams"
ID=$(jq -r 'select(.explanation and .explanation.agreeing == 2) | .id' "$WORK/out1.jsonl" | head -1)
expect_eq "$(jq -r "select(.id==\"$ID\" and .explanation) | .explanation.sources[].reliability" "$WORK/out1.jsonl" | sort -u)" \
	"C" "reliability before feedback"
# The reporters are published, and graded, under their keyed pseudonyms.
UPS=$(jq -r "select(.id==\"$ID\" and .explanation) | .explanation.sources[].upstream" "$WORK/out1.jsonl" | sort -u)
expect_eq "$(echo "$UPS" | grep -cE '^op-[0-9a-f]{32}$')" 2 "two pseudonymous upstreams"
! grep -q '"op-[ab]"' "$WORK/out1.jsonl" || fail "a raw reporter name was published"
PA=$(echo "$UPS" | head -1) PB=$(echo "$UPS" | tail -1)

# ceptorctl: usage and refusals.
set +e
"$BIN/ceptorctl" feedback --spool "$WORK/spool" not-an-id false-positive 2>/dev/null
expect_eq "$?" 1 "malformed id exits 1"
"$BIN/ceptorctl" feedback --spool "$WORK/nowhere" "$ID" false-positive 2>/dev/null
expect_eq "$?" 1 "missing spool exits 1"
"$BIN/ceptorctl" feedback --spool "$WORK/spool" "$ID" maybe 2>/dev/null
expect_eq "$?" 2 "bad verdict is a usage error"
"$BIN/ceptorctl" feedback --spool "$WORK/spool" "$ID" 2>/dev/null
expect_eq "$?" 2 "missing verdict is a usage error"
set -e
[ ! -e "$WORK/spool/feedback.jsonl" ] || fail "a refused verdict was recorded"

out=$("$BIN/ceptorctl" feedback --spool "$WORK/spool" "$ID" false-positive) ||
	fail "ceptorctl feedback failed"
case "$out" in *"recorded: $ID false-positive"*) ;; *) fail "ceptorctl said: $out" ;; esac
expect_eq "$(jq -r '.id + " " + .verdict' "$WORK/spool/feedback.jsonl")" \
	"$ID false-positive" "the verdict line"

# The false positive closes the incident (republished).
wait_for "$WORK/out1.jsonl" ".id==\"$ID\" and .status==\"closed\"" "closing $ID"
# New evidence from one of the upstreams: both are D now, by override.
report R-3 op-a
wait_for "$WORK/out1.jsonl" \
	".id==\"$ID\" and .status!=\"closed\" and ([.explanation.sources[] | select(.reliability==\"D\" and .reliability_override==true)] | length) == 2" \
	"lower reliability after the false positive"
expect_eq "$(jq -r --arg a "$PA" --arg b "$PB" '.[$a] + .[$b]' "$WORK/spool/reliability.json")" "DD" \
	"reliability.json"
expect_eq "$(cat "$WORK/spool/feedback.pos")" "$(stat -c %s "$WORK/spool/feedback.jsonl")" \
	"feedback.pos after applying"
grep -q "feedback: $ID false-positive" "$WORK/engine.log" ||
	fail "ceptord did not log the verdict: $(cat "$WORK/engine.log")"
stop_engine

# Restart: the overrides come back from reliability.json, the verdict is not
# applied again (the table no longer knows the id: it would be logged).
: >"$WORK/engine.log"
start_engine "$WORK/out2.jsonl"
report R-4 op-b
wait_for "$WORK/out2.jsonl" \
	'[.explanation.sources[] | select(.reliability=="D" and .reliability_override==true)] | length == 1' \
	"override after restart"
sleep 1.5 # two status ticks
expect_eq "$(jq -r --arg a "$PA" --arg b "$PB" '.[$a] + .[$b]' "$WORK/spool/reliability.json")" "DD" \
	"reliability.json after restart"
if grep -q "feedback: $ID" "$WORK/engine.log"; then
	fail "feedback applied again after restart: $(cat "$WORK/engine.log")"
fi
stop_engine
echo "feedback: all checks passed"
