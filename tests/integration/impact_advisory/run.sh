#!/usr/bin/env bash
# Scenario: an electricity operator reports a power loss (ceptor-feed
# format "report") and ceptord --once publishes to a real redis-server:
#   1. one incident, in ceptor:{electricity}:incidents and the council's
#      stream, and in the incidents stream of each sector the graph
#      predicts the outage to reach;
#   2. one advisory on each predicted sector's ceptor:{S}:advisories, with
#      id = the incident's, source_sector electricity, and expected_at =
#      first_seen + the path's delay; the prediction (the incident's
#      "impact" and the order of the advisories on --stdout) runs in order
#      of expected impact: telecom, water, ...;
#   3. sectors whose path is weaker than the file's threshold get nothing
#      (the graph is rules/sectors.yml with the threshold raised to 0.7,
#      named by the config's `sectors:` key);
#   4. a TLP:RED report stays in ceptor:{electricity}:incidents alone;
#   5. an exercise report advises on ceptor-exercise: streams only;
#   6. --sectors none predicts nothing; a sectors file that does not load
#      stops ceptord with FILE:LINE.
#
# Needs: BIN (binaries), jq, a redis-server to start (a private one: this
# test counts every key in it).
set -euo pipefail
cd "$(dirname "$0")/../../.."
. tests/lib/assert.sh
BIN=${BIN:-build/bin}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/ceptor-impact-advisory.XXXXXX")
. tests/lib/redis.sh
cleanup() { redis_stop; rm -rf "$WORK"; }
trap cleanup EXIT
redis_start

FIRST=2026-03-02T08:00:00Z
report() { # report_id tlp [extra json members]
	printf '{"report_id":"%s","ts":"%s","reporter":{"org":"Grid Operator East","contacts":{"phone":"+81-3-0000-0001","email":"soc@grid.example"}},"sector":"electricity","system":{"class":"power_management"},"cause":{"class":"disaster","type":"power_loss"},"trigger":"serious_failure","tlp":"%s"%s,"text":"substation outage, region east"}\n' \
		"$1" "$FIRST" "$2" "${3:-}"
}
report EL-1 AMBER >"$WORK/amber.json"
report EL-2 RED >"$WORK/red.json"
report EL-3 AMBER ',"exercise":true' >"$WORK/exercise.json"

# The graph: the default one, cut at 0.7.
sed 's/^threshold: .*/threshold: 0.7/' rules/sectors.yml >"$WORK/sectors.yml"
grep -q '^threshold: 0.7$' "$WORK/sectors.yml" || fail "cannot raise the threshold"
cat >"$WORK/ceptor.yml" <<YML
site: test
rules: [rules/default]
sectors: $WORK/sectors.yml
YML
"$BIN/ceptord" --check -c "$WORK/ceptor.yml" >"$WORK/check.txt" ||
	fail "--check failed"
expect_match "$(cat "$WORK/check.txt")" "sector graph $WORK/sectors.yml" \
	"--check names the graph"

# What the model predicts, as ceptorctl states it; the default weights
# give this order (strength x criticality, then delay).
"$BIN/ceptorctl" impact --sectors "$WORK/sectors.yml" --what-if electricity \
	--json >"$WORK/whatif.json"
predicted=$(jq -r '.spread[].sector' "$WORK/whatif.json" | tr '\n' ' ')
expect_eq "$predicted" "telecom water finance medical rail government " \
	"sectors predicted above the threshold, by expected impact"
CUT="gas aviation logistics"

run() { # input, then ceptord options
	local in=$1; shift
	"$BIN/ceptord" -c "$WORK/ceptor.yml" --once --feed "report:$in" \
		--spool "$WORK/spool" "$@" 2>>"$WORK/ceptord.log"
}

# 1-3. Through Redis.
run "$WORK/amber.json" --redis "$REDIS_URL" || fail "ceptord failed: $(cat "$WORK/ceptord.log")"
want=$( { printf '%s\n' 'ceptor:{council}:incidents' 'ceptor:{electricity}:incidents'
	for s in $predicted; do
		printf '%s\n' "ceptor:{$s}:incidents" "ceptor:{$s}:advisories"
	done; } | sort | tr '\n' ' ')
expect_eq "$(redis_cli --raw KEYS '*' | grep -v '^ceptor:{stats:' | sort | tr '\n' ' ')" "$want" "streams written"
expect_eq "$(redis_cli XLEN 'ceptor:{electricity}:incidents')" 1 "one electricity incident"
expect_eq "$(redis_cli XLEN 'ceptor:{council}:incidents')" 1 "council incidents"

# field STREAM NAME: a flat field of the stream's first message.
field() { redis_cli --raw XRANGE "$1" - + COUNT 1 |
	awk -v f="$2" 'prev == f { print; exit } { prev = $0 }'; }
ID=$(field 'ceptor:{electricity}:incidents' id)
expect_match "$ID" '^P[1-5]-2026-[0-9]{6}$' "incident id"
json=$(field 'ceptor:{electricity}:incidents' json)
expect_eq "$(jq -r '[.impact[].sector] | join(" ")' <<<"$json") " "$predicted" \
	"the incident's predicted impact, in order"
first_s=$(date -u -d "$FIRST" +%s)
for s in $predicted; do
	A="ceptor:{$s}:advisories"
	expect_eq "$(redis_cli XLEN "$A")" 1 "$s: one advisory"
	expect_eq "$(field "ceptor:{$s}:incidents" id)" "$ID" "$s: the incident in its stream"
	expect_eq "$(field "$A" id)" "$ID" "$s: advisory id"
	expect_eq "$(field "$A" version)" 1 "$s: advisory version"
	expect_eq "$(field "$A" sector)" "$s" "$s: advised sector"
	expect_eq "$(field "$A" source_sector)" electricity "$s: source sector"
	expect_eq "$(field "$A" tlp)" AMBER "$s: advisory tlp"
	expect_eq "$(field "$A" priority)" "${ID%%-*}" "$s: advisory priority"
	expect_eq "$(field "$A" title)" "$(field 'ceptor:{electricity}:incidents' title)" \
		"$s: advisory title"
	delay=$(jq -r --arg s "$s" '.spread[] | select(.sector == $s) | .delay_s' "$WORK/whatif.json")
	strength=$(jq -r --arg s "$s" '.spread[] | select(.sector == $s) | .strength' "$WORK/whatif.json")
	want_at=$(date -u -d "@$((first_s + delay))" +%Y-%m-%dT%H:%M:%S.000000Z)
	expect_eq "$(field "$A" expected_at)" "$want_at" "$s: expected_at = first_seen + $delay s"
	expect_eq "$(printf '%.2f' "$(field "$A" strength)")" "$(printf '%.2f' "$strength")" \
		"$s: strength"
	expect_eq "$(field "$A" json | jq -r .expected_at)" "$want_at" "$s: advisory json"
done
for s in $CUT; do
	expect_eq "$(redis_cli EXISTS "ceptor:{$s}:advisories" "ceptor:{$s}:incidents")" 0 \
		"$s (below the threshold): nothing"
done

# ceptorctl graph --redis: the current outage highlighted from the streams
# (electricity out, its predicted spread shaded), with the open incidents
# named on their sector's node; the same as --highlight electricity.
"$BIN/ceptorctl" graph --sectors "$WORK/sectors.yml" --redis "$REDIS_URL" \
	>"$WORK/current.dot" || fail "ceptorctl graph --redis failed"
grep -q '"electricity" \[.*1 open, '"${ID%%-*}"'.*OUT", fillcolor="#d62728"' "$WORK/current.dot" ||
	fail "graph: electricity not out with its incident: $(grep electricity "$WORK/current.dot")"
for s in $predicted; do
	grep -q "^  \"$s\" \[.*hit " "$WORK/current.dot" || fail "graph: $s not highlighted"
done
"$BIN/ceptorctl" graph --sectors "$WORK/sectors.yml" --highlight electricity \
	>"$WORK/hl.dot"
expect_eq "$(grep -c 'hit \|OUT' "$WORK/current.dot")" "$(grep -c 'hit \|OUT' "$WORK/hl.dot")" \
	"graph --redis highlights what --highlight electricity does"
if "$BIN/ceptorctl" graph --redis redis://127.0.0.1:1 >/dev/null 2>"$WORK/graph.err"; then
	fail "graph with an unreachable Redis succeeded"
fi
expect_match "$(cat "$WORK/graph.err")" "cannot use Redis" "graph: unreachable Redis named"
if command -v dot >/dev/null; then
	"$BIN/ceptorctl" graph --sectors "$WORK/sectors.yml" --redis "$REDIS_URL" \
		-o "$WORK/current.svg" || fail "graph -o svg failed"
	grep -q '<svg' "$WORK/current.svg" || fail "graph: not an SVG"
	grep -q '1 open' "$WORK/current.svg" || fail "graph: SVG lacks the open incident"
fi

# --stdout: the advisories, each with its stream key, strongest first.
run "$WORK/amber.json" --redis none --stdout >"$WORK/out.jsonl"
expect_eq "$(jq -r 'select(.kind == "advisory") | .sector' "$WORK/out.jsonl" | tr '\n' ' ')" \
	"$predicted" "stdout: advisories in order of expected impact"
expect_eq "$(jq -r 'select(.kind == "advisory") | .stream' "$WORK/out.jsonl" | head -1)" \
	'ceptor:{telecom}:advisories' "stdout: advisory stream key"
expect_eq "$(jq -r 'select(.kind != "advisory") | .stream' "$WORK/out.jsonl" | wc -l)" \
	$((2 + $(wc -w <<<"$predicted"))) "stdout: incident messages"

# 4. TLP:RED: its own sector only.
redis_cli FLUSHALL >/dev/null
run "$WORK/red.json" --redis "$REDIS_URL" || fail "ceptord failed (RED)"
expect_eq "$(redis_cli --raw KEYS '*' | grep -v '^ceptor:{stats:' | sort | tr '\n' ' ')" \
	'ceptor:{electricity}:incidents ' "TLP:RED stays in electricity"
expect_eq "$(field 'ceptor:{electricity}:incidents' tlp)" RED "TLP:RED marking"

# 5. An exercise: exercise streams only.
redis_cli FLUSHALL >/dev/null
run "$WORK/exercise.json" --redis "$REDIS_URL" || fail "ceptord failed (exercise)"
expect_eq "$(redis_cli --raw KEYS "ceptor:*" | tr -d "\n")" "" "exercise: no live streams"
expect_eq "$(redis_cli XLEN 'ceptor-exercise:{telecom}:advisories')" 1 "exercise advisory"
expect_eq "$(redis_cli XLEN 'ceptor-exercise:{electricity}:incidents')" 1 "exercise incident"

# 6. No graph: no prediction; a graph that does not load: no start.
run "$WORK/amber.json" --redis none --stdout --sectors none >"$WORK/none.jsonl"
expect_eq "$(jq -r 'select(.kind == "advisory")' "$WORK/none.jsonl" | wc -l)" 0 \
	"--sectors none: no advisories"
expect_eq "$(wc -l <"$WORK/none.jsonl")" 2 "--sectors none: sector and council"
printf 'version: 1\nthreshold: 2\n' >"$WORK/broken.yml"
sed "s|^sectors: .*|sectors: $WORK/broken.yml|" "$WORK/ceptor.yml" >"$WORK/broken-cfg.yml"
if "$BIN/ceptord" -c "$WORK/broken-cfg.yml" --once --feed "report:$WORK/amber.json" \
	--redis none --spool "$WORK/spool" 2>"$WORK/broken.log"; then
	fail "ceptord started with a broken sectors file"
fi
expect_match "$(cat "$WORK/broken.log")" "broken.yml:[0-9]+: " "FILE:LINE of the sectors file"
expect_match "$(cat "$WORK/broken.log")" "broken-cfg.yml:3: sectors: " "FILE:LINE of the config key"
if "$BIN/ceptord" --check -c "$WORK/broken-cfg.yml" >/dev/null 2>&1; then
	fail "--check accepted a broken sectors file"
fi
echo "impact_advisory scenario: all checks passed"
