#!/usr/bin/env bash
# Scenario: `ceptorctl impact` and `ceptorctl graph` on the default sector
# interdependency graph (rules/sectors.yml), and on a broken copy:
#   1. --what-if electricity lists the dependent sectors, strongest impact
#      first, with expected delays that add up along the path;
#   2. --down with two sectors ranks electricity before water;
#   3. --json is valid JSON (jq) and says the same as the text;
#   4. a broken sectors file is rejected with FILE:LINE and exit 1; usage
#      errors exit 2;
#   5. graph writes DOT that Graphviz parses (dot -Tsvg; that part skipped
#      with a notice when dot is not installed), with the highlighted
#      sector and its spread coloured; -o FILE.svg renders.
#
# Needs: BIN (binaries), jq.
set -euo pipefail
cd "$(dirname "$0")/../../.."
. tests/lib/assert.sh
BIN=${BIN:-build/bin}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/ceptor-impact.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
CTL="$BIN/ceptorctl"

# 0. The table: every sector, electricity first by blast radius.
"$CTL" impact >"$WORK/table.txt"
expect_eq "$(sed -n 2p "$WORK/table.txt" | awk '{ print $1 }')" electricity \
	"widest blast radius"
expect_eq "$(sed -n 3p "$WORK/table.txt" | awk '{ print $1 }')" telecom \
	"second widest blast radius"
expect_eq "$(grep -cE '^(telecom|finance|aviation|rail|electricity|gas|government|medical|water|logistics) ' "$WORK/table.txt")" 10 \
	"every sector in the table"

# 1. What an electricity outage spreads to.
"$CTL" impact --what-if electricity >"$WORK/whatif.txt"
grep -q '^an outage of electricity would spread to' "$WORK/whatif.txt" ||
	fail "no heading: $(cat "$WORK/whatif.txt")"
rows=$(sed -n '3,$p' "$WORK/whatif.txt")
expect_eq "$(echo "$rows" | wc -l)" 9 "sectors reached by an electricity outage"
for s in telecom water medical finance rail; do
	echo "$rows" | grep -q "^  $s " || fail "$s not reached: $rows"
done
echo "$rows" | grep -q '^  electricity ' && fail "the hit sector lists itself"
# Ordered by impact (column 3), descending.
expect_eq "$(echo "$rows" | awk '{ print $3 }' | sort -rn | tr '\n' ' ')" \
	"$(echo "$rows" | awk '{ print $3 }' | tr '\n' ' ')" "ordered by impact"
expect_eq "$(echo "$rows" | head -1 | awk '{ print $1 }')" telecom "hit hardest"
# finance is reached through telecom: 2h (electricity > telecom) + 0.
expect_match "$(echo "$rows" | grep '^  finance ')" \
	'^  finance +0\.81 +0\.73 +2h +electricity > telecom > finance$' \
	"finance via telecom, delays added"

# 2. Two sectors down: electricity is restored first.
"$CTL" impact --down water,electricity >"$WORK/down.txt"
ranks=$(awk '$1 ~ /^[0-9]+$/ { print $1 ":" $2 }' "$WORK/down.txt" | tr '\n' ' ')
expect_eq "$ranks" "1:electricity 2:water " "restoration order"
grep -q '^sectors hit meanwhile:' "$WORK/down.txt" || fail "no spread section"
grep -qE '^  (water|electricity) +[0-9]' <(sed -n '/meanwhile/,$p' "$WORK/down.txt") &&
	fail "down sectors listed as hit"

# 3. JSON, checked with jq.
"$CTL" impact --what-if electricity --down water,electricity --json >"$WORK/out.json"
jq -e . "$WORK/out.json" >/dev/null || fail "invalid JSON: $(cat "$WORK/out.json")"
expect_eq "$(jq -r '.what_if | join(",")' "$WORK/out.json")" electricity "json what_if"
expect_eq "$(jq -r '.spread | length' "$WORK/out.json")" 9 "json spread length"
expect_eq "$(jq -r '.spread[0].sector' "$WORK/out.json")" telecom "json first hit"
expect_eq "$(jq -r '.spread[] | select(.sector == "finance") | .delay_s' "$WORK/out.json")" \
	7200 "json finance delay"
expect_eq "$(jq -r '[.restore[].sector] | join(",")' "$WORK/out.json")" \
	electricity,water "json restoration order"
expect_eq "$(jq -r '.restore[0].relief > .restore[1].relief' "$WORK/out.json")" \
	true "json relief ordered"
"$CTL" impact --json | jq -e '.sectors | length == 10' >/dev/null ||
	fail "json table"

# 4. Broken files and usage errors.
sed -e 's/^    criticality: 0.8$/    criticality: 1.8/' \
	-e '/^  logistics:$/,/^$/d' rules/sectors.yml >"$WORK/bad.yml"
set +e
"$CTL" impact --sectors "$WORK/bad.yml" >/dev/null 2>"$WORK/bad.err"
rc=$?
set -e
expect_eq "$rc" 1 "exit status with a broken sectors file"
line=$(grep -n '^    criticality: 1.8$' "$WORK/bad.yml" | head -1 | cut -d: -f1)
grep -q "^$WORK/bad.yml:$line: criticality 1.8 is out of range" "$WORK/bad.err" ||
	fail "out-of-range weight not reported at line $line: $(cat "$WORK/bad.err")"
grep -q "^$WORK/bad.yml:[0-9]*: sector logistics missing" "$WORK/bad.err" ||
	fail "missing sector not reported: $(cat "$WORK/bad.err")"
for args in "impact --what-if narnia" "impact --down" "impact --bogus" \
	"graph --highlight narnia" "graph -o out.txt"; do
	set +e
	# shellcheck disable=SC2086
	"$CTL" $args >/dev/null 2>&1
	rc=$?
	set -e
	expect_eq "$rc" 2 "exit status of ceptorctl $args"
done

# 5. The graph.
"$CTL" graph --highlight electricity >"$WORK/g.dot"
head -1 "$WORK/g.dot" | grep -q '^digraph ceptor_sectors {$' || fail "not a digraph"
expect_eq "$(grep -cE '^  "[a-z]+" -> "' "$WORK/g.dot")" \
	"$(grep -cE "^ +[a-z]+: +\{ weight" rules/sectors.yml)" "one DOT edge per dependency"
grep -q '"electricity" \[.*OUT.*fillcolor="#d62728"' "$WORK/g.dot" ||
	fail "highlighted sector not marked"
grep -q '"water" \[.*hit 0.90 @ 6h' "$WORK/g.dot" || fail "spread not shown on water"
grep -q '"electricity" -> "water" \[label="0.9 / 6h".*color="#d62728"' "$WORK/g.dot" ||
	fail "strongest path edge not coloured"
"$CTL" graph -o "$WORK/plain.dot"
grep -q 'fillcolor="#d62728"' "$WORK/plain.dot" && fail "colour without --highlight"
if command -v dot >/dev/null 2>&1; then
	dot -Tsvg "$WORK/g.dot" -o "$WORK/g.svg" || fail "dot rejected the DOT"
	"$CTL" graph --highlight telecom,gas -o "$WORK/out.svg"
	grep -q '<svg' "$WORK/out.svg" || fail "no SVG written"
	echo "  ok: DOT parses, SVG rendered"
else
	echo "notice: dot (graphviz) not installed; DOT parse and SVG checks skipped"
	set +e
	"$CTL" graph -o "$WORK/out.svg" 2>"$WORK/nodot.err"
	rc=$?
	set -e
	expect_eq "$rc" 1 "graph -o .svg without dot"
fi
echo "impact: ok"
