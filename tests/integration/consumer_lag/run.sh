#!/usr/bin/env bash
# Scenario: `ceptorctl status` reports the consumer groups of the incident
# streams: length, pending, lag, and entries trimmed before a group read
# them (lost to that group), with a warning on stderr.
#
# Needs: BIN (binaries), jq, a redis-server to start (a private one).
set -euo pipefail
cd "$(dirname "$0")/../../.."
. tests/lib/assert.sh
BIN=${BIN:-build/bin}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/ceptor-lag.XXXXXX")
. tests/lib/redis.sh
cleanup() { redis_stop; [ -n "${KEEP:-}" ] || rm -rf "$WORK"; }
trap cleanup EXIT
redis_start

rep() { printf '{"report_id":"%s","ts":"2026-03-02T08:0%s:00Z","reporter":{"org":"Op"},"sector":"finance","cause":{"class":"cyber","type":"intrusion"},"trigger":"damage_detected","src_ip":"192.0.2.%s","tlp":"GREEN"}\n' "$1" "$2" "$2"; }
{ rep F-1 1; rep F-2 2; rep F-3 3; rep F-4 4; } >"$WORK/in.json"
"$BIN/ceptord" --once --rules rules/default --sectors none --feed "report:$WORK/in.json" \
	--redis "$REDIS_URL" --spool "$WORK/spool" 2>"$WORK/ceptord.log" ||
	fail "ceptord: $(cat "$WORK/ceptord.log")"
S='ceptor:{finance}:incidents'
n=$(redis_cli XLEN "$S")
[ "$n" -ge 4 ] || fail "expected 4 finance incidents, got $n"

# "desk" reads everything; "night" reads one entry; "late" joins and reads
# nothing, and then the stream is trimmed to its last entry.
redis_cli XGROUP CREATE "$S" desk 0 >/dev/null
redis_cli XGROUP CREATE "$S" night 0 >/dev/null
redis_cli XGROUP CREATE "$S" late 0 >/dev/null
redis_cli XREADGROUP GROUP desk a COUNT 100 STREAMS "$S" '>' >/dev/null
redis_cli XREADGROUP GROUP night a COUNT 1 STREAMS "$S" '>' >/dev/null

status() { "$BIN/ceptorctl" --redis "$REDIS_URL" status --spool "$WORK/spool" "$@" || true; }
status >"$WORK/st1.txt" 2>"$WORK/st1.err"
grep -q '^consumer groups' "$WORK/st1.txt" || fail "no consumer groups section: $(cat "$WORK/st1.txt")"
row() { awk -v g="$2" '$1 == "ceptor:{finance}:incidents" && $3 == g' "$1"; }
expect_eq "$(row "$WORK/st1.txt" desk | awk '{ print $4, $5, $6, $7 }')" "$n 0 0 ok" "desk: all read, pending $n"
expect_eq "$(row "$WORK/st1.txt" night | awk '{ print $5, $6, $7 }')" "$((n - 1)) 0 behind" "night: behind"
expect_eq "$(row "$WORK/st1.txt" late | awk '{ print $5, $6, $7 }')" "$n 0 behind" "late: behind by all"
! grep -q "group" "$WORK/st1.err" || fail "a warning without loss: $(cat "$WORK/st1.err")"

redis_cli XTRIM "$S" MAXLEN 1 >/dev/null
status >"$WORK/st2.txt" 2>"$WORK/st2.err"
expect_eq "$(row "$WORK/st2.txt" late | awk '{ print $6, $7 }')" "$((n - 1)) LOST" "late lost what was trimmed"
expect_eq "$(row "$WORK/st2.txt" night | awk '{ print $6, $7 }')" "$((n - 2)) LOST" "night lost what it had not read"
expect_eq "$(row "$WORK/st2.txt" desk | awk '{ print $6, $7 }')" "0 ok" "desk lost nothing"
grep -q "group late lost $((n - 1)) entries of $S" "$WORK/st2.err" ||
	fail "no warning on stderr: $(cat "$WORK/st2.err")"

status --json >"$WORK/st.json" 2>/dev/null
expect_eq "$(jq -r '.consumer_groups[] | select(.group == "late") | .lost' "$WORK/st.json")" "$((n - 1))" \
	"--json: consumer_groups"
expect_eq "$(jq -r .program "$WORK/st.json")" ceptord "--json: still the status document"

# Without a Redis named, status does not look.
"$BIN/ceptorctl" status --spool "$WORK/spool" >"$WORK/st3.txt" 2>/dev/null || true
! grep -q '^consumer groups' "$WORK/st3.txt" || fail "groups shown without a Redis named"
echo "consumer_lag scenario: all checks passed"
