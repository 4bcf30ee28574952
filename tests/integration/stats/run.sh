#!/usr/bin/env bash
# Scenario: incident statistics in Redis (engine/publish/stats.h).
#   1. An electricity operator reports a power loss, and ten minutes later
#      a telecom operator reports a communications loss: telecom is in the
#      outage's predicted impact, inside its window, so the telecom report
#      counts as one IT failure attributed to electricity's outage.  The
#      buckets (hour and day of first_seen) count 2 incidents: by sector,
#      by cause (disaster) and by type; ceptorctl stats shows them.
#   2. ceptord --once again over the same input: the incidents get new ids
#      but the same identity, so every count stays that of one run.
#   3. A water operator's misconfiguration, published while Redis is down:
#      the counting commands wait in the spool with the incidents and are
#      replayed by the next start; counts rise by exactly that incident.
#   4. Retention: hour buckets carry an 8-day TTL, day buckets 400 days.
#   5. Exercises are not counted.
#
# Needs: BIN (binaries), jq, a redis-server to start (a private one).
set -euo pipefail
cd "$(dirname "$0")/../../.."
. tests/lib/assert.sh
BIN=${BIN:-build/bin}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/ceptor-stats.XXXXXX")
. tests/lib/redis.sh
cleanup() { redis_stop; [ -n "${KEEP:-}" ] || rm -rf "$WORK"; }
trap cleanup EXIT
redis_start

# Event times near now, so that `ceptorctl stats` (the last 24 hours by
# default) sees them; both in one hour is not needed.
NOW=$(date -u +%s)
T0=$((NOW - 1800))
ts() { date -u -d "@$1" +%Y-%m-%dT%H:%M:%SZ; }
report() { # report_id ts sector system cause type [extra json members]
	printf '{"report_id":"%s","ts":"%s","reporter":{"org":"Operator %s","contacts":{"phone":"+81-3-0000-0001","email":"soc@%s.example"}},"sector":"%s","system":{"class":"%s"},"cause":{"class":"%s","type":"%s"},"trigger":"serious_failure","tlp":"AMBER"%s,"text":"outage"}\n' \
		"$1" "$(ts "$2")" "$3" "$3" "$3" "$4" "$5" "$6" "${7:-}"
}
report EL-1 "$T0" electricity power_management disaster power_loss >"$WORK/in.json"
report TC-1 $((T0 + 600)) telecom network_systems disaster comm_loss >>"$WORK/in.json"

cat >"$WORK/ceptor.yml" <<YML
site: test
rules: [rules/default]
sectors: rules/sectors.yml
YML
run() { # input, then ceptord options
	local in=$1; shift
	"$BIN/ceptord" -c "$WORK/ceptor.yml" --once --feed "report:$in" \
		--spool "$WORK/spool" "$@" 2>>"$WORK/ceptord.log"
}
stats() { "$BIN/ceptorctl" --redis "$REDIS_URL" stats --json "$@"; }

# 1. One run.
run "$WORK/in.json" --redis "$REDIS_URL" || fail "ceptord failed: $(cat "$WORK/ceptord.log")"
stats >"$WORK/s1.json" || fail "ceptorctl stats failed"
expect_eq "$(jq -r .incidents "$WORK/s1.json")" 2 "incidents counted"
expect_eq "$(jq -r .sector.electricity "$WORK/s1.json")" 1 "electricity"
expect_eq "$(jq -r .sector.telecom "$WORK/s1.json")" 1 "telecom"
expect_eq "$(jq -r .cause.disaster "$WORK/s1.json")" 2 "cause disaster"
expect_eq "$(jq -r .type.power_loss "$WORK/s1.json")" 1 "type power_loss"
expect_eq "$(jq -r .type.comm_loss "$WORK/s1.json")" 1 "type comm_loss"
expect_eq "$(jq -r .attributed "$WORK/s1.json")" 1 "attributed IT failures"
expect_eq "$(jq -c .attributed_by "$WORK/s1.json")" \
	'[{"outage":"electricity","failed":"telecom","count":1}]' \
	"attributed to electricity's outage"
expect_eq "$(jq -r '[.series[].incidents] | add' "$WORK/s1.json")" 2 "hourly series sums"
stats --days 2 >"$WORK/d1.json"
expect_eq "$(jq -r .incidents "$WORK/d1.json")" 2 "daily buckets"
expect_eq "$(jq -r .attributed "$WORK/d1.json")" 1 "daily attributed"
"$BIN/ceptorctl" --redis "$REDIS_URL" stats >"$WORK/table.txt"
expect_match "$(cat "$WORK/table.txt")" "electricity +-> telecom +1" "table: attribution"
expect_match "$(cat "$WORK/table.txt")" "comm_loss +1" "table: type"

# 2. The same input again: same counts.
run "$WORK/in.json" --redis "$REDIS_URL" || fail "ceptord failed (second run)"
expect_eq "$(redis_cli XLEN 'ceptor:{council}:incidents')" 4 \
	"the second run did publish its incidents (new ids)"
stats >"$WORK/s2.json"
expect_eq "$(jq -cS 'del(.from, .to)' "$WORK/s2.json")" \
	"$(jq -cS 'del(.from, .to)' "$WORK/s1.json")" "second run counts nothing new"

# 3. Redis down: the statistics spool with the incidents.
report EL-1 "$T0" electricity power_management disaster power_loss >"$WORK/in3.json"
report WA-1 $((T0 + 900)) water water_control unintentional misconfig >>"$WORK/in3.json"
DEAD="redis://127.0.0.1:$((REDIS_PORT == 65535 ? 65534 : REDIS_PORT + 1))"
run "$WORK/in3.json" --redis "$DEAD" || true
[ -s "$WORK/spool/ceptor.spool" ] || fail "nothing spooled while Redis was down"
expect_eq "$(jq -r .incidents <(stats))" 2 "nothing counted while Redis is down"
: >"$WORK/empty.json"
run "$WORK/empty.json" --redis "$REDIS_URL" || fail "ceptord failed (replay)"
stats >"$WORK/s3.json"
expect_eq "$(jq -r .incidents "$WORK/s3.json")" 3 "the spooled incident counted once"
expect_eq "$(jq -r .sector.water "$WORK/s3.json")" 1 "water"
expect_eq "$(jq -r .cause.unintentional "$WORK/s3.json")" 1 "cause unintentional"
expect_eq "$(jq -r .attributed "$WORK/s3.json")" 2 "water's failure attributed too"
expect_eq "$(jq -r '.attributed_by[] | select(.failed == "water") | .outage' "$WORK/s3.json")" \
	electricity "water's failure attributed to electricity"

# 4. Retention.
HB=$(date -u -d "@$T0" +%Y%m%d%H); DB=$(date -u -d "@$T0" +%Y%m%d)
ttl=$(redis_cli TTL "ceptor:{stats:h:$HB}:sector:electricity")
[ "$ttl" -gt $((8 * 86400 - 120)) ] && [ "$ttl" -le $((8 * 86400)) ] ||
	fail "hour bucket TTL $ttl, want 8 days"
ttl=$(redis_cli TTL "ceptor:{stats:d:$DB}:sector:electricity")
[ "$ttl" -gt $((400 * 86400 - 120)) ] && [ "$ttl" -le $((400 * 86400)) ] ||
	fail "day bucket TTL $ttl, want 400 days"

# 5. An exercise counts nothing.
report EX-1 $((T0 + 60)) gas plant_control disaster fire ',"exercise":true' >"$WORK/ex.json"
run "$WORK/ex.json" --redis "$REDIS_URL" || fail "ceptord failed (exercise)"
expect_eq "$(jq -r .incidents <(stats))" 3 "exercise not counted"

# stats_hours / stats_days 0: no statistics.
printf 'stats_hours: 0\nstats_days: 0\n' >>"$WORK/ceptor.yml"
redis_cli FLUSHALL >/dev/null
run "$WORK/in.json" --redis "$REDIS_URL" || fail "ceptord failed (stats off)"
expect_eq "$(redis_cli --raw KEYS 'ceptor:{stats:*' | grep -c . || true)" 0 "statistics off"
expect_eq "$(redis_cli XLEN 'ceptor:{council}:incidents')" 2 "statistics off: incidents still published"
echo "stats scenario: all checks passed"
