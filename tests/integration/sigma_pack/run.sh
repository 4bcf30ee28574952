#!/usr/bin/env bash
# Scenario: a third-party Sigma pack next to our own rules.  A Zeek DNS
# rule on a field ceptor cannot map rejects the whole set by default, with
# FILE:LINE and the reason; with rules_skip_unsupported it is left out with
# a warning that says why, and the rest loads.  With SigmaHQ's network rules
# present (../shared/data), ceptord --check loads them the same way.
set -euo pipefail
cd "$(dirname "$0")/../../.."
. tests/lib/assert.sh
BIN=${BIN:-build/bin}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/ceptor-sigmapack.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

mkdir "$WORK/pack"
cat >"$WORK/pack/zeek_dns.yml" <<'YML'
title: DNS answer to a sinkholed name
id: 11111111-2222-3333-4444-555555555555
status: test
logsource:
  product: zeek
  service: dns
detection:
  selection:
    answers|contains: '0.0.0.0'
  condition: selection
level: medium
YML
cat >"$WORK/pack/zeek_query.yml" <<'YML'
title: DNS query for a known-bad domain
id: 11111111-2222-3333-4444-666666666666
status: test
logsource:
  product: zeek
  service: dns
detection:
  selection:
    query|endswith: '.bad.example'
  condition: selection
level: high
YML
cat >"$WORK/strict.yml" <<YML
rules: [rules/default, $WORK/pack]
redis: none
spool: $WORK/spool
YML
rc=0
"$BIN/ceptord" --check -c "$WORK/strict.yml" >"$WORK/strict.out" 2>&1 || rc=$?
expect_eq "$rc" 1 "an unmappable field rejects the set by default"
expect_match "$(cat "$WORK/strict.out")" "zeek_dns.yml:[0-9]+: .*answers.*no ceptor mapping" \
	"the error names the file, the line and the field"

cp "$WORK/strict.yml" "$WORK/tolerant.yml"
echo "rules_skip_unsupported: true" >>"$WORK/tolerant.yml"
"$BIN/ceptord" --check -c "$WORK/tolerant.yml" >"$WORK/tolerant.out" 2>&1 ||
	fail "skip_unsupported still rejected: $(cat "$WORK/tolerant.out")"
expect_match "$(cat "$WORK/tolerant.out")" "zeek_dns.yml:[0-9]+: warning: .*skipped" "the skip says why"
nown=$("$BIN/ceptorctl" rules check rules/default | sed -n 's/^\([0-9]*\) rules OK.*/\1/p')
expect_match "$(cat "$WORK/tolerant.out")" "configuration OK: $((nown + 1)) rules" \
	"our rules and the mappable query rule load"

if [ -z "${CEPTOR_SHARED_DATA:-}" ]; then
	echo "notice: ../shared/data not found; SigmaHQ network pack skipped"
	exit 0
fi
dirs=$(find "$CEPTOR_SHARED_DATA/sigma/sigmahq/rules/network" -type d | sed 's/.*/"&"/' | paste -sd, -)
cat >"$WORK/sigmahq.yml" <<YML
rules: [$dirs]
rules_skip_unsupported: true
redis: none
spool: $WORK/spool
YML
"$BIN/ceptord" --check -c "$WORK/sigmahq.yml" >"$WORK/sigmahq.out" 2>&1 ||
	fail "SigmaHQ network pack rejected: $(tail -5 "$WORK/sigmahq.out")"
loaded=$(sed -n 's/^configuration OK: \([0-9]*\) rules.*/\1/p' "$WORK/sigmahq.out")
skipped=$(grep -c "warning: .*skipped" "$WORK/sigmahq.out" || true)
echo "  SigmaHQ network rules: $loaded loaded, $skipped skipped with a reason"
[ "$loaded" -ge 28 ] || fail "only $loaded SigmaHQ network rules loaded"
echo "sigma_pack: all checks passed"
