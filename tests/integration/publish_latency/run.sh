#!/usr/bin/env bash
# Scenario: a live ceptord publishes a new incident at once, not at its
# publish interval, and measures ingest to acknowledged (engine/loop.h).
#   1. publish_interval_ms: 5000 and a collector process sending one Telnet
#      SYN stamped "now": the incident is in Redis well within 1 s, and
#      status.json (publisher.ingest_to_ack) and /metrics
#      (ceptor_ingest_to_ack_seconds) count its two messages (its sector's
#      stream and the council's) with a plausible latency;
#   2. an event stamped two hours ago (a replayed record; newer than the 6 h
#      after which an incident closes at once) is published, but its
#      messages are refused by the histogram, not counted as latency;
#   3. publish_prompt: false brings back rounds only every interval: the
#      same incident is NOT there after 1 s (so part 1 can fail) and comes
#      with the next round;
#   4. an offline run (--once) measures nothing, even for events stamped
#      "now";
#   5. a bad publish_prompt value fails --check with FILE:LINE.
#
# Needs: BIN, jq, curl, redis-server (tools/deps.sh).  Waits are bounded.
set -euo pipefail
cd "$(dirname "$0")/../../.."
. tests/lib/assert.sh
BIN=${BIN:-build/bin}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/ceptor-publat.XXXXXX")
RING=/ceptor-test-publat-$$
ENGINE_PID=
. tests/lib/redis.sh
cleanup() {
	if [ -n "$ENGINE_PID" ]; then
		kill "$ENGINE_PID" 2>/dev/null || true
		wait "$ENGINE_PID" 2>/dev/null || true
	fi
	redis_stop
	rm -f "/dev/shm${RING}"
	rm -rf "$WORK"
}
trap cleanup EXIT
for tool in jq curl; do
	command -v "$tool" >/dev/null || fail "$tool is missing: run tools/deps.sh"
done
redis_start

mkdir "$WORK/rules"
cat >"$WORK/rules/telnet.yml" <<'YML'
title: Connection attempt to Telnet
id: publat-telnet
level: medium
type: intrusion
logsource: {product: ceptor}
detection:
  syn: {kind: packet, proto: 6, dst_port: 23, tcp_flags: 2}
  condition: syn
YML
config() { # SPOOL PROMPT
	cat <<YML
site: latency-test
redis: $REDIS_URL
spool: $1
rules: $WORK/rules
sectors: none
publish_interval_ms: 5000
publish_prompt: $2
collectors:
  - kind: ring
    name: tap
    ring: $RING
    sector: telecom
YML
}
syn() { # TS SRC: one Telnet SYN as JSON Lines
	printf '{"ts":"%s","kind":"packet","type":"traffic","src_ip":"%s","dst_ip":"192.0.2.5","proto":6,"src_port":40000,"dst_port":23,"tcp_flags":2}\n' "$1" "$2"
}
now_ts() { date -u +%Y-%m-%dT%H:%M:%S.%6NZ; }
ms() { echo $(($(date +%s%N) / 1000000)); }
xlen() { redis_cli XLEN "$1"; }
status() { jq -r "$1" "$SPOOL/status.json" 2>/dev/null || echo missing; }
start_engine() { # CONFIG [ARGS...]
	local cfg=$1
	shift
	rm -f "/dev/shm${RING}"
	"$BIN/ceptord" -c "$cfg" "$@" 2>>"$WORK/engine.log" &
	ENGINE_PID=$!
	local i
	for i in $(seq 100); do
		[ -e "/dev/shm${RING}" ] && [ -e "$SPOOL/status.json" ] && return 0
		kill -0 "$ENGINE_PID" 2>/dev/null || break
		sleep 0.05
	done
	return 1
}
stop_engine() {
	kill -TERM "$ENGINE_PID"
	wait "$ENGINE_PID" || fail "ceptord exit status $?: $(cat "$WORK/engine.log")"
	ENGINE_PID=
}
wait_for() { # WHAT 'TEST' SECONDS
	local i
	for i in $(seq $(($3 * 20))); do
		eval "$2" && return 0
		sleep 0.05
	done
	fail "waited $3 s for $1"
}

# ---- 1. Prompt: the incident well within 1 s of a 5 s interval ----------
SPOOL=$WORK/spool1
config "$SPOOL" true >"$WORK/prompt.yml"
PORT=
for attempt in 1 2 3 4 5 6; do
	port=$((20000 + (RANDOM * 32768 + RANDOM) % 40000))
	(exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && continue # taken
	: >"$WORK/engine.log"
	if start_engine "$WORK/prompt.yml" --metrics "127.0.0.1:$port" &&
		curl -sf -o /dev/null "http://127.0.0.1:$port/metrics"; then
		PORT=$port
		break
	fi
	kill "$ENGINE_PID" 2>/dev/null || true
	wait "$ENGINE_PID" 2>/dev/null || true
	ENGINE_PID=
	grep -q "Address already in use" "$WORK/engine.log" ||
		fail "ceptord did not serve /metrics: $(cat "$WORK/engine.log")"
done
[ -n "$PORT" ] || fail "no free loopback port for --metrics after 6 tries"
expect_eq "$(status .publisher.ingest_to_ack.measured)" 0 "nothing measured before any event"
# The engine has run its first round; the next interval round is 5 s away.
sleep 0.3
syn "$(now_ts)" 198.51.100.77 >"$WORK/one.jsonl"
t0=$(ms)
"$BIN/ceptor-feed" --format jsonl --ring "$RING" "$WORK/one.jsonl" ||
	fail "ceptor-feed failed"
wait_for "the incident in Redis" '[ "$(xlen "ceptor:{telecom}:incidents")" = 1 ]' 5
took=$(($(ms) - t0))
echo "  the incident reached Redis $took ms after the collector started"
[ "$took" -lt 1000 ] ||
	fail "the incident took $took ms with publish_interval_ms 5000 (prompt publishing expected)"
expect_eq "$(xlen "ceptor:{council}:incidents")" 1 "the council's copy"
# The status document (written once a second) counts both messages.
wait_for "status counting two messages" '[ "$(status .publisher.ingest_to_ack.measured)" = 2 ]' 3
p99=$(status .publisher.ingest_to_ack.p99_ms)
mx=$(status .publisher.ingest_to_ack.max_ms)
echo "  status: p50 $(status .publisher.ingest_to_ack.p50_ms) ms, p99 $p99 ms, max $mx ms"
awk -v p="$p99" -v m="$mx" -v t="$took" 'BEGIN { exit !(p > 0 && p <= m && m < t + 50) }' ||
	fail "implausible latency: p99 $p99 ms, max $mx ms, seen in Redis after $took ms"
expect_eq "$(status .publisher.ingest_to_ack.refused)" 0 "nothing refused"
# The human status shows the same figures.
"$BIN/ceptorctl" status --spool "$SPOOL" >"$WORK/status.txt" || fail "ceptorctl status failed"
expect_match "$(cat "$WORK/status.txt")" \
	"ingest to ack: p50 [0-9.]+ ms, p99 $p99 ms, p99.9 [0-9.]+ ms, max $mx ms over 2 messages" \
	"ceptorctl status: ingest to ack"
# /metrics: the same two messages in the histogram, cumulative buckets.
curl -sS --max-time 5 "http://127.0.0.1:$PORT/metrics" -o "$WORK/m.txt"
val() { awk -v s="$1" '$1 == s { print $2; f = 1 } END { if (!f) print "missing" }' "$WORK/m.txt"; }
wait_for "the scrape counting two messages" \
	'curl -sS --max-time 5 "http://127.0.0.1:$PORT/metrics" -o "$WORK/m.txt"; [ "$(val ceptor_ingest_to_ack_seconds_count)" = 2 ]' 3
expect_eq "$(val 'ceptor_ingest_to_ack_seconds_bucket{le="+Inf"}')" 2 "+Inf bucket"
expect_eq "$(val 'ceptor_ingest_to_ack_seconds_bucket{le="60"}')" 2 "le=60 bucket"
expect_match "$(grep -c '^ceptor_ingest_to_ack_seconds_bucket' "$WORK/m.txt")" '^19$' "18 bounds and +Inf"
awk '/^ceptor_ingest_to_ack_seconds_bucket/ { v = $2 + 0; if (v < last) bad = 1; last = v }
	END { exit bad }' "$WORK/m.txt" || fail "the buckets are not cumulative: $(grep ingest_to_ack "$WORK/m.txt")"
/usr/bin/python3 tests/integration/metrics/check_format.py "$WORK/m.txt" >/dev/null ||
	fail "the scrape with the histogram is not valid exposition format (above)"

# ---- 2. An event two hours old: published, not taken for latency --------
syn "$(date -u -d '2 hours ago' +%Y-%m-%dT%H:%M:%S.%6NZ)" 198.51.100.78 >"$WORK/old.jsonl"
"$BIN/ceptor-feed" --format jsonl --ring "$RING" "$WORK/old.jsonl" || fail "ceptor-feed failed"
wait_for "the old event's incident" '[ "$(xlen "ceptor:{telecom}:incidents")" = 2 ]' 5
wait_for "status refusing its two messages" '[ "$(status .publisher.ingest_to_ack.refused)" = 2 ]' 3
expect_eq "$(status .publisher.ingest_to_ack.measured)" 2 "still two measured"
stop_engine

# ---- 3. publish_prompt: false, the old pace: part 1 would fail -----------
SPOOL=$WORK/spool3
config "$SPOOL" false >"$WORK/paced.yml"
redis_cli DEL "ceptor:{telecom}:incidents" "ceptor:{council}:incidents" >/dev/null
start_engine "$WORK/paced.yml" || fail "ceptord did not start: $(cat "$WORK/engine.log")"
sleep 0.3
syn "$(now_ts)" 198.51.100.79 >"$WORK/three.jsonl"
t0=$(ms)
"$BIN/ceptor-feed" --format jsonl --ring "$RING" "$WORK/three.jsonl" || fail "ceptor-feed failed"
sleep 1
expect_eq "$(xlen "ceptor:{telecom}:incidents")" 0 "no incident after 1 s with publish_prompt: false"
wait_for "the interval's round" '[ "$(xlen "ceptor:{telecom}:incidents")" = 1 ]' 7
echo "  with publish_prompt: false it came after $(($(ms) - t0)) ms"
stop_engine

# ---- 4. Offline (--once): nothing measured --------------------------------
SPOOL=$WORK/spool4
syn "$(now_ts)" 198.51.100.80 >"$WORK/four.jsonl"
"$BIN/ceptord" --once --rules "$WORK/rules" --sectors none --feed "jsonl:$WORK/four.jsonl" \
	--redis "$REDIS_URL" --spool "$SPOOL" 2>>"$WORK/engine.log" ||
	fail "ceptord --once failed: $(cat "$WORK/engine.log")"
expect_eq "$(status .state)" stopped "the offline run's status"
expect_eq "$(status .publisher.published)" 2 "the offline run published"
expect_eq "$(status .publisher.ingest_to_ack.measured)" 0 "an offline run measures nothing"
expect_eq "$(status .publisher.ingest_to_ack.refused)" 0 "nor refuses anything"

# ---- 5. A bad value: FILE:LINE -------------------------------------------
config "$WORK/spool5" sometimes >"$WORK/bad.yml"
rc=0
"$BIN/ceptord" -c "$WORK/bad.yml" --check >/dev/null 2>"$WORK/bad.err" || rc=$?
expect_eq "$rc" 1 "--check refuses publish_prompt: sometimes"
expect_match "$(cat "$WORK/bad.err")" "^$WORK/bad.yml:7: publish_prompt must be true or false" \
	"FILE:LINE and what is expected"
echo "publish_latency: all checks passed"
