#!/usr/bin/env bash
# Scenario: the flow and feed collector processes beat.  ceptor-flow
# --listen --ring and ceptor-feed --watch --ring each feed a ring input of a
# running ceptord; neither reports by hand: the shared collector CLI
# (engine/lib/cli.c) publishes their counters and a heartbeat.  Checked in
# `ceptorctl status --json` (ceptord's status document) and `status --ring`
# (the shared memory alone):
#   - as soon as each is up: producer alive, reports true, its pid, 0 counts;
#   - after input: captured = the records each read (flow records; feed
#     rows, the malformed one included), malformed = the damaged input,
#     and kernel_drops 0; the ring got the events;
#   - after more than CEP_RING_STALE_MS (5 s) with no input at all: still
#     alive, with a heartbeat younger than 2 s (the idle loops tick);
#   - after SIGTERM: closed, with the same final counts.
#
# Needs: BIN (binaries), jq, ss, redis-server.  Every wait is bounded.
set -euo pipefail
cd "$(dirname "$0")/../../.."
. tests/lib/assert.sh
BIN=${BIN:-build/bin}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/ceptor-status-coll.XXXXXX")
RING_FLOW=/ceptor-test-stcf-$$
RING_FEED=/ceptor-test-stcd-$$
ENGINE_PID= FLOW_PID= FEED_PID=
. tests/lib/redis.sh
stop_pid() {
	if [ -n "$1" ]; then
		kill "$1" 2>/dev/null || true
		wait "$1" 2>/dev/null || true
	fi
}
cleanup() {
	stop_pid "$FLOW_PID"
	stop_pid "$FEED_PID"
	stop_pid "$ENGINE_PID"
	redis_stop
	rm -f "/dev/shm${RING_FLOW}" "/dev/shm${RING_FEED}"
	[ -n "${KEEP:-}" ] || rm -rf "$WORK"
}
trap cleanup EXIT
for t in jq ss; do
	command -v "$t" >/dev/null 2>&1 || { echo "notice: status_collectors skipped: $t is not installed"; exit 0; }
done
redis_start

# wait_for WHAT 'SHELL TEST': evaluate the test until it holds, at most 10 s.
wait_for() {
	local i
	for i in $(seq 1 100); do
		if eval "$2"; then
			return 0
		fi
		sleep 0.1
	done
	fail "waited 10 s for $1; inputs: $(status_json | jq -c .inputs)"
}
status_json() { "$BIN/ceptorctl" status -c "$WORK/ceptor.yml" --json 2>/dev/null || true; }
input() { status_json | jq -r ".inputs[] | select(.name==\"$1\") | $2"; }
ring() { "$BIN/ceptorctl" status --ring "$1" --json 2>/dev/null | jq -r "$2" || true; }

free_port() {
	local p
	for _ in $(seq 1 50); do
		p=$((20000 + RANDOM % 20000))
		[ -z "$(ss -Hunl "sport = :$p")" ] && { echo "$p"; return 0; }
	done
	return 1
}

# One rule file of the default pack: this test is about the inputs, and
# should not depend on the rest of the pack.
mkdir -p "$WORK/rules"
cp rules/default/portscan.yml "$WORK/rules/"
cat >"$WORK/ceptor.yml" <<YML
site: status-collectors-test
redis: $REDIS_URL
spool: $WORK/spool
rules: [$WORK/rules]
ring_capacity: 1024
collectors:
  - kind: ring
    name: flow-edge
    ring: $RING_FLOW
    sector: electricity
  - kind: ring
    name: feed-intel
    ring: $RING_FEED
    sector: electricity
YML

"$BIN/ceptord" -c "$WORK/ceptor.yml" 2>"$WORK/engine.log" &
ENGINE_PID=$!
wait_for "state running" 'test "$(status_json | jq -r .state)" = running'
expect_eq "$(input flow-edge .producer.state)" none "flow ring: no producer yet"
expect_eq "$(input feed-intel .producer.state)" none "feed ring: no producer yet"

# 1. Both collectors up, no input yet: they report from the start.
PORT=$(free_port) || fail "no free UDP port"
"$BIN/ceptor-flow" --listen "127.0.0.1:$PORT" --ring "$RING_FLOW" \
	2>"$WORK/flow.err" &
FLOW_PID=$!
mkdir -p "$WORK/drop"
"$BIN/ceptor-feed" --format iplist --watch "$WORK/drop" --ring "$RING_FEED" \
	--state "$WORK/feed.state" 2>"$WORK/feed.err" &
FEED_PID=$!
wait_for "ceptor-flow listening" '[ -n "$(ss -Hunl "sport = :$PORT")" ]'
wait_for "flow producer reporting" 'test "$(input flow-edge ".producer.state + \" \" + (.producer.reports|tostring)")" = "alive true"'
wait_for "feed producer reporting" 'test "$(input feed-intel ".producer.state + \" \" + (.producer.reports|tostring)")" = "alive true"'
expect_eq "$(input flow-edge .producer.pid)" "$FLOW_PID" "flow producer pid"
expect_eq "$(input feed-intel .producer.pid)" "$FEED_PID" "feed producer pid"
expect_eq "$(input flow-edge .producer.run.captured)" 0 "flow: nothing captured yet"

# 2. Input.  Flow: three NetFlow v5 packets of two records each, and one
# packet whose header is cut short (one malformed).  Feed: five addresses
# and one line that is not an address, written elsewhere and moved in.
hex() { printf '%0*x' "$1" "$2"; }
v5_packet() { # SEQ: a v5 export packet of two TCP flow records
	local now up=600000 h r
	now=$(date +%s)
	h="0005$(hex 4 2)$(hex 8 $up)$(hex 8 "$now")$(hex 8 0)$(hex 8 "$1")00000000"
	for i in 1 2; do
		# src 198.51.100.7, dst 192.0.2.(10+i), next hop 0, if 1/2,
		# 5 packets, 400 bytes, first/last 1 s ago, ports 40000+i -> 443,
		# flags SYN|ACK, proto 6, tos 0, AS 0/0, masks 24/24, pad.
		r="c6336407c000020$(hex 1 $((10 + i)))00000000000100020000000500000190"
		r+="$(hex 8 $((up - 1000)))$(hex 8 $((up - 1000)))$(hex 4 $((40000 + i)))01bb"
		r+="0012060000000000181800 00"
		h+=${r// /}
	done
	printf '%s' "$h"
}
send_hex() { # HEX: one UDP datagram of these bytes to ceptor-flow
	printf "$(sed 's/../\\x&/g' <<<"$1")" >"/dev/udp/127.0.0.1/$PORT"
}
for s in 0 2 4; do
	send_hex "$(v5_packet "$s")"
done
send_hex "000500020000" # 6 bytes of a 24-byte header
printf '198.51.100.%d\n' 1 2 3 4 5 >"$WORK/list.part"
echo 'this is not an address' >>"$WORK/list.part"
mv "$WORK/list.part" "$WORK/drop/list.txt"

wait_for "flow counts" 'test "$(input flow-edge "[.producer.run.captured, .producer.run.malformed, .enqueued] | map(tostring) | join(\" \")")" = "6 1 6"'
expect_eq "$(input flow-edge .producer.run.kernel_drops)" 0 "flow: no socket drops"
# The feed's own counters for the same file: what --stats says.
STATS=$("$BIN/ceptor-feed" --format iplist "$WORK/drop/list.txt" --stats 2>/dev/null)
FEED_READ=$(jq -r .read <<<"$STATS")
FEED_BAD=$(jq -r .malformed <<<"$STATS")
FEED_EV=$(jq -r .decoded <<<"$STATS")
expect_eq "$FEED_BAD" 1 "feed --stats: one malformed line"
wait_for "feed counts" 'test "$(input feed-intel "[.producer.run.captured, .producer.run.malformed, .enqueued] | map(tostring) | join(\" \")")" = "$FEED_READ 1 $FEED_EV"'
echo "  flow: 6 records, 1 malformed; feed: $FEED_READ rows, $FEED_EV events"

# 3. Quiet for longer than the stale limit: both still alive, beating.
sleep 6
expect_eq "$(input flow-edge .producer.state)" alive "flow alive after 6 s idle"
expect_eq "$(input feed-intel .producer.state)" alive "feed alive after 6 s idle"
for r in "$RING_FLOW" "$RING_FEED"; do
	age=$(ring "$r" .producer.heartbeat_age_ms)
	[ -n "$age" ] && [ "$age" -lt 2000 ] ||
		fail "$r: heartbeat $age ms old after an idle spell (should beat every second)"
	echo "  ok: $r heartbeat ${age} ms old"
	expect_eq "$(ring "$r" .producer.state)" alive "status --ring $r: alive"
done
rc=0
"$BIN/ceptorctl" status --ring "$RING_FLOW" >/dev/null 2>&1 || rc=$?
expect_eq "$rc" 0 "status --ring of a beating flow collector exits 0"

# 4. Stopped: closed, the final counts kept.
kill -TERM "$FLOW_PID" "$FEED_PID"
wait "$FLOW_PID" || fail "ceptor-flow failed: $(cat "$WORK/flow.err")"
wait "$FEED_PID" || fail "ceptor-feed failed: $(cat "$WORK/feed.err")"
FLOW_PID= FEED_PID=
wait_for "both closed" 'test "$(input flow-edge .producer.state) $(input feed-intel .producer.state)" = "closed closed"'
expect_eq "$(input flow-edge .producer.run.captured)" 6 "flow: final captured"
expect_eq "$(input flow-edge .producer.run.malformed)" 1 "flow: final malformed"
expect_eq "$(input feed-intel .producer.run.captured)" "$FEED_READ" "feed: final captured"
expect_eq "$(ring "$RING_FEED" .producer.malformed)" 1 "status --ring: feed malformed"
wait_for "every event counted" 'test "$(status_json | jq -r .engine.events)" = "$((6 + FEED_EV))"'
echo "status_collectors: all checks passed"
