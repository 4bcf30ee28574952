#!/usr/bin/env bash
# A council-level reader of a sector ceptor: ceptord publishes a port-scan
# incident into Redis; ceptor-feed --format redis reads the council stream
# back as events of kind incident carrying the incident's id, type, sector,
# entity and rule; --state makes a second read start after the first.
set -euo pipefail
cd "$(dirname "$0")/../../.."
. tests/lib/assert.sh
BIN=${BIN:-build/bin}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/ceptor-feedredis.XXXXXX")
. tests/lib/redis.sh
cleanup() { redis_stop; rm -rf "$WORK"; }
trap cleanup EXIT
redis_start

SCANNER=198.51.100.23
"$BIN/ceptor-gen" scan "$WORK/scan.pcap" --src "$SCANNER" --dst 192.0.2.10 \
	--ports 30 --start-port 1000 --noise 100 --seed 3 2>/dev/null
"$BIN/ceptord" --once --rules rules/default --pcap "$WORK/scan.pcap" \
	--redis "$REDIS_URL" --spool "$WORK/spool" 2>"$WORK/ceptord.log" ||
	fail "ceptord failed: $(cat "$WORK/ceptord.log")"
KEY='ceptor:{council}:incidents'
n=$(redis_cli XLEN "$KEY")
[ "$n" -ge 1 ] || fail "no incident published"
id=$(redis_cli --raw XRANGE "$KEY" - + COUNT 1 | awk 'prev == "id" { print; exit } { prev = $0 }')

"$BIN/ceptor-feed" --format redis --source council --state "$WORK/pos" \
	"$REDIS_URL/$KEY" >"$WORK/out.jsonl" 2>"$WORK/err" || fail "read failed: $(cat "$WORK/err")"
expect_eq "$(wc -l <"$WORK/out.jsonl")" "$n" "one event per stream entry"
ev=$(head -n 1 "$WORK/out.jsonl")
expect_eq "$(jq -r '[.kind,.type,.src_ip,.name,.source,.report_id] | join(" ")' <<<"$ev")" \
	"incident scan $SCANNER ceptor-portscan-tcp council $id" "incident event fields"
expect_eq "$(jq -r .count <<<"$ev")" 30 "incident count"

# The position is kept: a second read finds nothing, a third finds one.
"$BIN/ceptor-feed" --format redis --state "$WORK/pos" --stats "$REDIS_URL/$KEY" >"$WORK/st.json"
expect_eq "$(jq -r .read "$WORK/st.json")" 0 "nothing read twice"
redis_cli XADD "$KEY" '*' id P3-2026-000077 version 1 sector water \
	last_seen 2026-02-01T00:00:00Z >/dev/null
"$BIN/ceptor-feed" --format redis --state "$WORK/pos" "$REDIS_URL/$KEY" >"$WORK/new.jsonl"
expect_eq "$(jq -r '.report_id + " " + .sector' "$WORK/new.jsonl")" "P3-2026-000077 water" "only the new entry"

# A bad URL and an unreachable server: exit 1 with a reason.
if "$BIN/ceptor-feed" --format redis "$REDIS_URL" 2>"$WORK/bad.err"; then fail "URL without a key accepted"; fi
grep -q "stream key" "$WORK/bad.err" || fail "no reason for the bad URL: $(cat "$WORK/bad.err")"
# Credentials in the URL never appear in messages (they reach the journal).
if "$BIN/ceptor-feed" --format redis 'redis://ceptor:s3cret-pw@127.0.0.1:1/k' 2>"$WORK/auth.err"; then
	fail "an unreachable server was read"
fi
grep -q "cannot connect" "$WORK/auth.err" || fail "no reason: $(cat "$WORK/auth.err")"
if grep -q "s3cret-pw" "$WORK/auth.err"; then fail "password printed: $(cat "$WORK/auth.err")"; fi
echo "feed_redis: all checks passed"
