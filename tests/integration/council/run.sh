#!/usr/bin/env bash
# Scenario: the council tier (DESIGN.md section 8) on one Redis.
#   Two sector centres, "north" (finance) and "south" (telecom), each run
#   ceptord over their own operators' reports; both name the attacking
#   address 203.0.113.66, and north's also a phishing domain that south's
#   names too.  A third ceptord, the council (site "council", rules/council),
#   reads ceptor:{council}:incidents as a consumer group and publishes its
#   own incidents.  Shown:
#   1. the two sites' incidents about the address are one council incident
#      whose upstreams are the two sites (pseudonymous), whose confidence
#      exceeds either site's alone, and which the cross-site rule names;
#   2. the same for the shared domain;
#   3. the council never reads its own incidents back (skip_site), and a
#      second run reads nothing new: the group acknowledged everything
#      (ceptorctl status shows it caught up);
#   4. a site alone is no cross-site incident.
#
# Needs: BIN (binaries), jq, a redis-server to start (a private one).
set -euo pipefail
cd "$(dirname "$0")/../../.."
. tests/lib/assert.sh
BIN=${BIN:-build/bin}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/ceptor-council.XXXXXX")
. tests/lib/redis.sh
cleanup() { redis_stop; [ -n "${KEEP:-}" ] || rm -rf "$WORK"; }
trap cleanup EXIT
redis_start

ADDR=203.0.113.66
DOMAIN=login-update.example.net
rep() { # report_id minute reporter sector extra-json
	printf '{"report_id":"%s","ts":"2026-03-02T08:%02d:00Z","reporter":{"org":"%s"},"sector":"%s","cause":{"class":"cyber","type":"intrusion"},"trigger":"damage_detected","tlp":"GREEN","reliability":"B","credibility":"2"%s}\n' \
		"$1" "$2" "$3" "$4" "$5"
}
rep N-1 1 "Bank North" finance ",\"src_ip\":\"$ADDR\"" >"$WORK/north.json"
rep N-2 2 "Bank North" finance ",\"indicator\":\"$DOMAIN\"" >>"$WORK/north.json"
rep S-1 5 "Telco South" telecom ",\"src_ip\":\"$ADDR\"" >"$WORK/south.json"
rep S-2 6 "Telco South" telecom ",\"indicator\":\"$DOMAIN\"" >>"$WORK/south.json"

site() { # name input
	cat >"$WORK/$1.yml" <<YML
site: $1
rules: [rules/default]
sectors: rules/sectors.yml
redis: $REDIS_URL
spool: $WORK/$1-spool
YML
	"$BIN/ceptord" -c "$WORK/$1.yml" --once --feed "report:$2" 2>>"$WORK/$1.log" ||
		fail "site $1: $(cat "$WORK/$1.log")"
}
site north "$WORK/north.json"
site south "$WORK/south.json"
C='ceptor:{council}:incidents'
msgs() { redis_cli --raw XRANGE "$C" - + | awk 'p == "json" { print } { p = $0 }'; }
expect_eq "$(msgs | jq -r .site | sort -u | tr '\n' ' ')" "north south " "both sites in the council stream"
site_conf() { msgs | jq -r --arg s "$1" --arg e "$2" 'select(.site == $s and .entity == $e) | .confidence' | sort -n | tail -1; }
cn=$(site_conf north "$ADDR") cs=$(site_conf south "$ADDR")
[ -n "$cn" ] && [ -n "$cs" ] || fail "a site has no incident about $ADDR"

cat >"$WORK/council.yml" <<YML
site: council
rules: [rules/council]
sectors: rules/sectors.yml
redis: $REDIS_URL
spool: $WORK/council-spool
collectors:
  - kind: feed
    name: sector-centres
    format: redis
    files: ["$REDIS_URL/$C?group=council&consumer=c1&skip_site=council"]
    reliability: B
    credibility: 2
    tlp: GREEN
YML
"$BIN/ceptord" --check -c "$WORK/council.yml" >/dev/null || fail "council config"
council() { "$BIN/ceptord" -c "$WORK/council.yml" --once --stdout 2>>"$WORK/council.log" ||
	fail "council: $(cat "$WORK/council.log")"; }
council >"$WORK/c1.jsonl"
ours() { jq -c 'select(.kind != "advisory" and (.stream | test("council")))' "$1"; }
about() { ours "$1" | jq -c --arg e "$2" 'select(.entity == $e or .entity_key == ("indicator:" + $e))' |
	jq -s -c 'sort_by(.version) | last // empty'; }

# 1. The address.
a=$(about "$WORK/c1.jsonl" "$ADDR")
[ -n "$a" ] || fail "no council incident about $ADDR: $(head -c 600 "$WORK/c1.jsonl")"
expect_eq "$(jq -r '.explanation.sources | length' <<<"$a")" 2 "two sites upstream"
expect_eq "$(jq -r '[.explanation.sources[].upstream | test("^op-[0-9a-f]{32}$")] | all' <<<"$a")" true \
	"sites appear as pseudonyms"
ca=$(jq -r .confidence <<<"$a")
awk -v a="$ca" -v n="$cn" -v s="$cs" 'BEGIN { exit !(a > n && a > s) }' ||
	fail "council confidence $ca is not above north $cn and south $cs"
jq -e '[.rules[].rule] | index("council-cross-site-address")' <<<"$a" >/dev/null ||
	fail "the cross-site rule did not name it: $(jq -c '[.rules[].rule]' <<<"$a")"
expect_eq "$(jq -r .site <<<"$a")" council "published as the council"
echo "address: north $cn, south $cs -> council $ca"

# 2. The domain.
d=$(about "$WORK/c1.jsonl" "$DOMAIN")
[ -n "$d" ] || fail "no council incident about $DOMAIN"
expect_eq "$(jq -r '.explanation.sources | length' <<<"$d")" 2 "domain: two sites"
jq -e '[.rules[].rule] | index("council-cross-site-indicator")' <<<"$d" >/dev/null ||
	fail "the indicator rule did not name it"

# 3. Its own incidents are in the stream now, and not read back; the group
# acknowledged all it read.
expect_match "$(msgs | jq -r .site | sort -u | tr '\n' ' ')" "council" "council published to the stream"
council >"$WORK/c2.jsonl"
expect_eq "$(ours "$WORK/c2.jsonl" | wc -l)" 0 "a second council run reads nothing new"
expect_eq "$(redis_cli XINFO GROUPS "$C" | awk 'p == "pending" { print; exit } { p = $0 }')" 0 \
	"nothing pending for the group"
"$BIN/ceptorctl" --redis "$REDIS_URL" status --spool "$WORK/council-spool" >"$WORK/st.txt" 2>"$WORK/st.err" || true
expect_eq "$(awk '$1 == "ceptor:{council}:incidents" && $3 == "council" { print $5, $7 }' "$WORK/st.txt")" "0 ok" \
	"ceptorctl status: the council group caught up"

# 4. One site alone: no cross-site rule.
redis_cli FLUSHALL >/dev/null
rm -rf "$WORK/council-spool"
site north "$WORK/north.json"
council >"$WORK/c3.jsonl"
! ours "$WORK/c3.jsonl" | jq -e 'select([.rules[].rule] | index("council-cross-site-address"))' >/dev/null ||
	fail "one site alone made a cross-site incident"
expect_eq "$(about "$WORK/c3.jsonl" "$ADDR" | jq -r '.explanation.sources | length')" 1 "one site: one upstream"
echo "council scenario: all checks passed"
