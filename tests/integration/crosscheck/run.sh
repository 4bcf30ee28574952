#!/usr/bin/env bash
# Scenario: cross-checking through the real pipeline (collectors hosted by
# ceptord --once, the default rule pack, a real redis-server).
#   1. A botnet C2 address, 203.0.113.50, seen by three independent
#      upstreams: packets from it on a tap (ceptor-pcap), a Shadowserver
#      drone report naming as its C2 an address on an indicator list
#      (csv-shadowserver + iplist: the pack's sighting rule), and a bank's
#      IT-failure report naming it as the attacker (report).  They are one
#      incident (entity 203.0.113.50) whose confidence exceeds what any one
#      upstream alone gives, and whose explanation lists each of them (the
#      list entry alone is informational: no incident of its own).
#   2. The same report three times from one bank (three report ids) gives
#      exactly the confidence of one.
#   3. The bank is never named: not in Redis, not in the spool, not in the
#      log; it appears as its keyed pseudonym, the same in every run.
#   4. A burst of 100,000 identical hits is one incident with a bounded
#      number of versions in Redis (the rate limit), counting every hit.
#   5. An indicator list's /24 gathers the hits on its addresses: an
#      incident about the block, not one per address.
#
# Needs: BIN (binaries), jq, a redis-server to start (a private one).
set -euo pipefail
cd "$(dirname "$0")/../../.."
. tests/lib/assert.sh
BIN=${BIN:-build/bin}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/ceptor-crosscheck.XXXXXX")
. tests/lib/redis.sh
cleanup() { redis_stop; [ -n "${KEEP:-}" ] || rm -rf "$WORK"; }
trap cleanup EXIT
redis_start

C2=203.0.113.50
BANK="Bank of Example Holdings"
# Every input at the capture's time: ceptor-gen's captures start at
# 2023-11-14T22:13:20Z (+ --time-offset).
T0=1700000000
ts() { date -u -d "@$1" +%Y-%m-%dT%H:%M:%SZ; }
csvts() { date -u -d "@$1" '+%Y-%m-%d %H:%M:%S'; }

"$BIN/ceptor-gen" scan "$WORK/tap.pcap" --src "$C2" --dst 192.0.2.10 --ports 5 \
	--time-offset 60 >/dev/null || fail "ceptor-gen scan"
{
	echo '"timestamp","ip","port","asn","infection","cc_ip","cc_port","count"'
	echo "\"$(csvts $((T0 + 120)))\",\"192.0.2.77\",49152,64496,\"qakbot\",\"$C2\",443,4"
} >"$WORK/2023-11-14-botnet_drone-asn.csv"
printf '# C2 infrastructure\n%s ; qakbot tier 1\n' "$C2" >"$WORK/c2-list.txt"
touch -d "@$((T0 + 30))" "$WORK/c2-list.txt"
report() { # report_id seconds-after-T0
	printf '{"report_id":"%s","ts":"%s","reporter":{"org":"%s","contacts":{"phone":"+81-3-0000-0002","email":"csirt@bank.example"}},"sector":"finance","system":{"class":"banking_core"},"cause":{"class":"cyber","type":"intrusion"},"trigger":"damage_detected","src_ip":"%s","tlp":"AMBER","reliability":"B","credibility":"2","text":"C2 beaconing from the core banking segment"}\n' \
		"$1" "$(ts $((T0 + $2)))" "$BANK" "$C2"
}
report BK-1 180 >"$WORK/report.json"
{ report BK-1 180; report BK-2 240; report BK-3 300; } >"$WORK/reports3.json"

cat >"$WORK/ceptor.yml" <<YML
site: test
rules: [rules/default]
sectors: rules/sectors.yml
YML
run() { # ceptord options
	"$BIN/ceptord" -c "$WORK/ceptor.yml" --once --spool "$WORK/spool" \
		--redis "$REDIS_URL" "$@" 2>>"$WORK/ceptord.log" ||
		fail "ceptord failed: $(tail -5 "$WORK/ceptord.log")"
}
# The latest version of the incident about entity $1, from every incident
# stream (copies in predicted sectors' streams included: same id, version).
latest() {
	for k in $(redis_cli --raw KEYS 'ceptor:{*}:incidents'); do
		redis_cli --raw XRANGE "$k" - + | awk 'prev == "json" { print } { prev = $0 }'
	done | jq -c --arg e "$1" 'select(.entity == $e)' |
		jq -s -c 'sort_by(.version) | last // empty'
}
confidence_alone() { # ceptord input options
	redis_cli FLUSHALL >/dev/null
	run "$@"
	local c
	c=$(latest "$C2" | jq -r '.confidence')
	echo "${c:-0}"
}

# 1. Each upstream alone, then all four together.
c_tap=$(confidence_alone --pcap "$WORK/tap.pcap")
c_drone=$(confidence_alone --feed "csv-shadowserver:$WORK/2023-11-14-botnet_drone-asn.csv" \
	--feed "iplist:$WORK/c2-list.txt")
c_list=$(confidence_alone --feed "iplist:$WORK/c2-list.txt")
c_bank=$(confidence_alone --feed "report:$WORK/report.json")
echo "alone: tap $c_tap, list+drone $c_drone, list $c_list, bank $c_bank"
expect_eq "$c_list" 0 "a list entry alone is no incident"
for c in "$c_tap" "$c_drone" "$c_bank"; do
	awk -v c="$c" 'BEGIN { exit !(c > 0 && c < 1) }' ||
		fail "a single upstream should give a confidence in (0, 1), got $c"
done

redis_cli FLUSHALL >/dev/null
run --pcap "$WORK/tap.pcap" \
	--feed "csv-shadowserver:$WORK/2023-11-14-botnet_drone-asn.csv" \
	--feed "iplist:$WORK/c2-list.txt" --feed "report:$WORK/report.json"
all=$(latest "$C2")
[ -n "$all" ] || fail "no incident about $C2"
c_all=$(jq -r .confidence <<<"$all")
echo "together: $c_all ($(jq -r .id <<<"$all"), upstreams $(jq -r '[.explanation.sources[].upstream] | join(", ")' <<<"$all"))"
for c in "$c_tap" "$c_drone" "$c_list" "$c_bank"; do
	awk -v a="$c_all" -v c="$c" 'BEGIN { exit !(a > c) }' ||
		fail "together ($c_all) is not above a single upstream ($c)"
done
expect_eq "$(jq -r '.explanation.sources | length' <<<"$all")" 3 "three upstreams explained"
expect_eq "$(jq -r .entity_key <<<"$all")" "ip:$C2" "the C2 is the entity"
expect_eq "$(jq -r '.explanation.agreeing' <<<"$all")" 3 "three agree"
expect_eq "$(jq -r .explanation.credibility <<<"$all")" 1 \
	"credibility 1: confirmed by other sources"
nrules=$(jq -r '.rules | length' <<<"$all")
[ "$nrules" -ge 3 ] || fail "expected the rules of every upstream, got $nrules"
# One incident about the C2: every message about it carries one id.
ids=$(for k in $(redis_cli --raw KEYS 'ceptor:{*}:incidents'); do
	redis_cli --raw XRANGE "$k" - + | awk 'prev == "json" { print } { prev = $0 }'
done | jq -r --arg e "$C2" 'select(.entity == $e) | .id' | sort -u | wc -l)
expect_eq "$ids" 1 "one incident id for the C2"

# 2. One bank, three reports: no higher than one.
c_bank3=$(confidence_alone --feed "report:$WORK/reports3.json")
expect_eq "$c_bank3" "$c_bank" "three reports from one upstream weigh as one"

# 3. The bank is pseudonymous, and stably so.
PSEUDO=$(jq -r '.explanation.sources[].upstream | select(startswith("op-"))' <<<"$all")
expect_match "$PSEUDO" '^op-[0-9a-f]{32}$' "the bank's pseudonym"
dump=$(for k in $(redis_cli --raw KEYS '*'); do
	case $(redis_cli --raw TYPE "$k") in
	stream) redis_cli --raw XRANGE "$k" - + ;;
	set) redis_cli --raw SMEMBERS "$k" ;;
	hash) redis_cli --raw HGETALL "$k" ;;
	string) redis_cli --raw GET "$k" ;;
	esac
done)
! grep -qF "$BANK" <<<"$dump" || fail "the bank's name is in Redis"
grep -qF "$PSEUDO" <<<"$dump" || fail "the pseudonym is not in Redis"
! grep -rqF "$BANK" "$WORK/spool" || fail "the bank's name is in the spool"
! grep -qF "$BANK" "$WORK/ceptord.log" || fail "the bank's name is in the log"
redis_cli FLUSHALL >/dev/null
run --feed "report:$WORK/report.json"
expect_eq "$(latest "$C2" | jq -r '.explanation.sources[].upstream')" "$PSEUDO" \
	"the same pseudonym in the next run (SPOOL/reporter.key)"
expect_eq "$(stat -c %a "$WORK/spool/reporter.key")" 600 "reporter.key mode"
# A configured secret file gives other pseudonyms.
head -c 32 /dev/urandom | base64 >"$WORK/site.key"
chmod 600 "$WORK/site.key"
printf 'reporter_secret: %s\n' "$WORK/site.key" >>"$WORK/ceptor.yml"
redis_cli FLUSHALL >/dev/null
run --feed "report:$WORK/report.json"
other=$(latest "$C2" | jq -r '.explanation.sources[].upstream')
expect_match "$other" '^op-[0-9a-f]{32}$' "pseudonym under the site secret"
[ "$other" != "$PSEUDO" ] || fail "another secret gave the same pseudonym"
printf 'short\n' >"$WORK/short.key"
sed -i "s|^reporter_secret: .*|reporter_secret: $WORK/short.key|" "$WORK/ceptor.yml"
if "$BIN/ceptord" -c "$WORK/ceptor.yml" --once --spool "$WORK/spool" --redis none \
	--feed "report:$WORK/report.json" >/dev/null 2>"$WORK/short.log"; then
	fail "ceptord started with a 6-byte secret"
fi
expect_match "$(cat "$WORK/short.log")" "short.key: the reporter secret has 5 bytes" \
	"a short secret is refused, naming the file"
sed -i '/^reporter_secret:/d' "$WORK/ceptor.yml"

# 4. A burst: 100,000 identical packets from the C2, one second apart in
# event time would take a day; 1 ms apart is 100 s.
"$BIN/ceptor-gen" scan "$WORK/one.pcap" --src "$C2" --dst 192.0.2.10 --ports 1 \
	--time-offset 60 >/dev/null
"$BIN/ceptor-pcap" -r "$WORK/one.pcap" --dump |
	jq -c --arg c "$C2" 'select(.src_ip == $c)' | head -1 >"$WORK/one.jsonl"
expect_eq "$(jq -r .src_ip "$WORK/one.jsonl")" "$C2" "a packet from the C2 to repeat"
line=$(cat "$WORK/one.jsonl")
jq -c --argjson n 100000 --argjson t0 "$((T0 + 60))" \
	'. as $e | range($n) as $i |
	 ((($t0 + ($i / 1000 | floor)) | strftime("%Y-%m-%dT%H:%M:%S")) +
	  "." + ("00" + ($i % 1000 | tostring))[-3:] + "000Z") as $ts |
	 $e + {ts: $ts}' \
	<<<"$line" >"$WORK/burst.jsonl"
expect_eq "$(sed -n 1001p "$WORK/burst.jsonl" | jq -r .ts)" "2023-11-14T22:14:21.000000Z" \
	"burst times: 1 ms apart"
expect_eq "$(wc -l <"$WORK/burst.jsonl")" 100000 "burst events"
redis_cli FLUSHALL >/dev/null
run --feed "jsonl:$WORK/burst.jsonl"
versions=0 ids=""
for k in $(redis_cli --raw KEYS 'ceptor:{*}:incidents'); do
	[ "$k" = 'ceptor:{council}:incidents' ] && continue
	redis_cli --raw XRANGE "$k" - + | awk 'prev == "json" { print } { prev = $0 }' >>"$WORK/burst-out.jsonl"
done
# (Its victim also sees a SYN flood: an incident of its own, about 192.0.2.10.)
jq -c --arg c "$C2" 'select(.entity == $c)' "$WORK/burst-out.jsonl" >"$WORK/burst-c2.jsonl"
expect_eq "$(jq -r .id "$WORK/burst-c2.jsonl" | sort -u | wc -l)" 1 "the burst is one incident"
versions=$(wc -l <"$WORK/burst-c2.jsonl")
[ "$versions" -le 12 ] || fail "the burst made $versions versions (rate limit)"
expect_eq "$(jq -s -r 'sort_by(.version) | last | .evidence' "$WORK/burst-c2.jsonl")" 100000 \
	"the last version counts every hit as evidence"
expect_eq "$(jq -s -r 'sort_by(.version) | last | .confidence' "$WORK/burst-c2.jsonl")" "$c_tap" \
	"a source repeating itself 100,000 times weighs as once"
echo "burst: 100000 hits -> 1 incident, $versions versions"

# 5. A /24 on an indicator list gathers the hits on its addresses.  The
# pack's list rule only feeds correlations; a site rule makes listed
# blocks incidents of their own.
mkdir -p "$WORK/site-rules"
cat >"$WORK/site-rules/blocks.yml" <<'YML'
title: Listed network block
id: site-listed-block
level: medium
type: c2
logsource:
  product: ceptor
  category: intel
detection:
  entry:
    kind: intel
    indicator|contains: /
  condition: entry
YML
sed -i "s|^rules: .*|rules: [rules/default, $WORK/site-rules]|" "$WORK/ceptor.yml"
printf '203.0.113.0/24 ; C2 block\n' >"$WORK/block.txt"
touch -d "@$((T0 + 10))" "$WORK/block.txt"
"$BIN/ceptor-gen" scan "$WORK/other.pcap" --src 203.0.113.77 --dst 192.0.2.11 \
	--ports 3 --time-offset 90 >/dev/null
redis_cli FLUSHALL >/dev/null
run --feed "iplist:$WORK/block.txt" --pcap "$WORK/tap.pcap" --pcap "$WORK/other.pcap"
blk=$(latest 203.0.113.0/24)
[ -n "$blk" ] || fail "no incident about the block"
expect_eq "$(jq -r .entity_key <<<"$blk")" "prefix:203.0.113.0/24" "the block is the entity"
expect_eq "$(jq -r '.explanation.sources | length' <<<"$blk")" 3 "the list and both taps"
expect_eq "$(latest "$C2")" "" "no incident of its own for an address in the block"
echo "crosscheck scenario: all checks passed"
