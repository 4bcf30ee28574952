#!/usr/bin/env bash
# Scenario: a collector process killed with SIGKILL loses none of the events
# it had committed to its ring, a restarted collector carries on, and
# ceptord keeps running throughout.
#
# The collector cannot know what it committed before the kill, so the test
# checks what the ring guarantees: every record the killed producer
# published (the ring's tail, read from the segment once the producer is
# dead) reaches the engine exactly once, whole, and nothing else does.
# Events are numbered; each becomes its own incident through two rules:
#   killtest-event   a detection rule (no group-by): one incident per source
#                    address, whose evidence counts the events that hit it;
#   killtest-record  an event_count correlation grouped by src_ip and
#                    indicator, two fields at opposite ends of the 256-byte
#                    record, so that a record mixing two events shows up.
# Event i of batch b has src_ip 10.b.(i/256).(i%256), indicator kill-b-i
# and ts 2026-01-0bT00:00:00 plus i microseconds.
#
# Three producers, one after the other, on one ring of 256 records:
#   A  ceptord is stopped (SIGSTOP), ceptor-feed fills the ring and blocks
#      waiting for room with committed, unconsumed records; SIGKILL it.
#   B  a new ceptor-feed takes the still full ring over, ceptord goes on
#      (SIGCONT); this one reads from a pipe that stays open, so it is
#      killed in the middle of its input, with lines read but not yet
#      committed.  All 256 of A and exactly B's committed prefix must come
#      through.
#   C  a last ceptor-feed reads its whole file and closes the ring, and
#      ceptord --once ends with status 0.
set -euo pipefail
cd "$(dirname "$0")/../../.."
. tests/lib/assert.sh
BIN=${BIN:-build/bin}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/ceptor-kill.XXXXXX")
RING=/ceptor-test-kill-$$
SHM=/dev/shm${RING}
CAP=256
NA=2000 NB=2000 WB=1000 NC=500
ENGINE_PID= FEED_PID= FIFO_OPEN=0 SEG_OPEN=0
cleanup() {
	if [ "$FIFO_OPEN" = 1 ]; then exec 3>&-; fi
	if [ "$SEG_OPEN" = 1 ]; then exec 4<&-; fi
	if [ -n "$FEED_PID" ]; then
		kill -KILL "$FEED_PID" 2>/dev/null || true
		wait "$FEED_PID" 2>/dev/null || true
	fi
	if [ -n "$ENGINE_PID" ]; then
		kill -CONT "$ENGINE_PID" 2>/dev/null || true
		kill -TERM "$ENGINE_PID" 2>/dev/null || true
		wait "$ENGINE_PID" 2>/dev/null || true
	fi
	rm -f "$SHM"
	rm -rf "$WORK"
}
trap cleanup EXIT

# Counters of the ring, read from the segment (layout in
# engine/lib/ring_priv.h, pinned there by static asserts) through fd 4,
# which keeps it readable after ceptord unlinks the name at its exit.
SEG=/dev/fd/4
ring_u64() { od -An -t u8 -j "$1" -N 8 "$SEG" | tr -d ' '; }
ring_u32() { od -An -t u4 -j "$1" -N 4 "$SEG" | tr -d ' '; }
tail_of() { ring_u64 128; }    # records committed since creation
head_of() { ring_u64 256; }    # records consumed since creation
closed_of() { ring_u32 144; }  # 1 after cep_ring_close()
producer_pid() { ring_u32 148; } # the last cep_ring_reopen()'s process
prod_sleeping() { ring_u32 512; }

# wait_for WHAT CONDITION...: poll (up to 60 s, a guard against a hang,
# not a measure of speed) until the command succeeds.
wait_for() {
	local what=$1; shift
	for _ in $(seq 1 1200); do
		"$@" && return 0
		sleep 0.05
	done
	fail "waited 60 s for $what: $(tail -5 "$WORK/engine.log")"
}
engine_alive() {
	kill -0 "$ENGINE_PID" 2>/dev/null ||
		fail "ceptord died: $(tail -5 "$WORK/engine.log")"
}

gen() { # batch count file
	awk -v b="$1" -v n="$2" 'BEGIN {
		for (i = 1; i <= n; i++)
			printf "{\"ts\":\"2026-01-0%dT00:00:00.%06dZ\",\"kind\":\"feed\"," \
			       "\"type\":\"scan\",\"src_ip\":\"10.%d.%d.%d\"," \
			       "\"indicator\":\"kill-%d-%d\",\"count\":%d}\n",
			       b, i, b, int(i / 256), i % 256, b, i, i
	}' >"$3"
}
gen 1 "$NA" "$WORK/a.jsonl"
gen 2 "$NB" "$WORK/b.jsonl"
gen 3 "$NC" "$WORK/c.jsonl"

mkdir "$WORK/rules"
cat >"$WORK/rules/kill.yml" <<'YML'
title: Every kill-test event
id: killtest-event
level: low
type: scan
generate: true
logsource:
  product: ceptor
  category: feed
detection:
  sel:
    kind: feed
    indicator: 'kill-*'
  condition: sel
---
title: Kill-test record integrity
id: killtest-record
level: low
type: scan
correlation:
  type: event_count
  rules: [killtest-event]
  group-by: [src_ip, indicator]
  timespan: 1h
  condition:
    gte: 1
YML
cat >"$WORK/ceptor.yml" <<YML
rules: $WORK/rules
redis: none
publish_interval_ms: 100
ring_capacity: $CAP
collectors:
  - kind: ring
    name: killtap
    ring: $RING
    sector: water
YML
"$BIN/ceptord" --check -c "$WORK/ceptor.yml" >"$WORK/check.txt" ||
	fail "the test's configuration does not load: $(cat "$WORK/check.txt")"

"$BIN/ceptord" -c "$WORK/ceptor.yml" --once --stdout --spool "$WORK/spool" \
	>"$WORK/out.jsonl" 2>"$WORK/engine.log" &
ENGINE_PID=$!
ring_ready() { [ -e "$SHM" ] && [ "$(head -c 8 "$SHM" 2>/dev/null)" = CEPRING1 ]; }
wait_for "ceptord to create $RING" ring_ready
exec 4<"$SHM"
SEG_OPEN=1
# Layouts 1 and 2 place these counters alike; a later one may not.
case $(ring_u32 8) in
1|2) ;;
*) fail "ring layout version $(ring_u32 8): check the offsets in this test" ;;
esac
expect_eq "$(tail_of) $(head_of)" "0 0" "a new ring"

# --- A: killed while blocked on a full ring ---------------------------------
kill -STOP "$ENGINE_PID"
"$BIN/ceptor-feed" --format jsonl --source killer-a --ring "$RING" "$WORK/a.jsonl" \
	2>"$WORK/feed-a.log" &
FEED_PID=$!
ring_full() { [ "$(tail_of)" -eq "$CAP" ]; }
producer_parked() { [ "$(prod_sleeping)" -eq 1 ]; }
wait_for "ceptor-feed to fill the ring" ring_full
wait_for "ceptor-feed to wait for room" producer_parked
kill -KILL "$FEED_PID"
rc=0; { wait "$FEED_PID"; } 2>/dev/null || rc=$?
FEED_PID=
expect_eq "$rc" 137 "first collector ended by SIGKILL"
kA=$(tail_of)
expect_eq "$kA" "$CAP" "records committed by the killed collector (a full ring)"
expect_eq "$(head_of)" 0 "none consumed while ceptord was stopped"
expect_eq "$(closed_of)" 0 "the killed collector left the stream open"
engine_alive

# --- B: restarted on the full ring, then killed mid-input -------------------
# The next collector takes the ring over while the dead one's records still
# fill it (ceptord is still stopped), so its reopen must keep them.  It
# reads from a pipe that stays open, so that the kill finds lines read but
# not yet committed.
mkfifo "$WORK/pipe"
"$BIN/ceptor-feed" --format jsonl --source killer-b --ring "$RING" - \
	<"$WORK/pipe" 2>"$WORK/feed-b.log" &
FEED_PID=$!
exec 3>"$WORK/pipe"
FIFO_OPEN=1
reopened() { [ "$(producer_pid)" -eq "$FEED_PID" ]; }
wait_for "the second collector to take the ring over" reopened
expect_eq "$(tail_of) $(head_of) $(closed_of)" "$kA 0 0" \
	"the takeover kept the dead collector's records"
kill -CONT "$ENGINE_PID"
head -n "$WB" "$WORK/b.jsonl" >&3
# The collector hands records over in batches of CEP_COLLECTOR_BATCH; with
# its input still open it may hold back less than one batch.
batch=$(sed -n 's/^#define CEP_COLLECTOR_BATCH \([0-9]*\).*/\1/p' include/ceptor/collector.h)
[ -n "$batch" ] || fail "CEP_COLLECTOR_BATCH not found in include/ceptor/collector.h"
b_committed() { [ "$(tail_of)" -ge $((kA + WB - batch + 1)) ]; }
wait_for "the second collector to commit what it read" b_committed
kill -KILL "$FEED_PID"
rc=0; { wait "$FEED_PID"; } 2>/dev/null || rc=$?
FEED_PID=
exec 3>&-
FIFO_OPEN=0
expect_eq "$rc" 137 "second collector ended by SIGKILL"
kB=$(($(tail_of) - kA))
[ "$kB" -gt 0 ] && [ "$kB" -le "$WB" ] ||
	fail "second collector committed $kB records of the $WB it was given"
echo "  ok: the second collector committed $kB of the $WB lines it was given"
engine_alive
drained() { [ "$(head_of)" -eq "$(tail_of)" ]; }
wait_for "ceptord to drain the dead collectors' records" drained
engine_alive
echo "  ok: ceptord consumed the $((kA + kB)) records of the killed collectors"

# --- C: a collector that runs to the end -------------------------------------
"$BIN/ceptor-feed" --format jsonl --source finisher --ring "$RING" "$WORK/c.jsonl" \
	2>"$WORK/feed-c.log" || fail "third collector failed: $(cat "$WORK/feed-c.log")"
engine_done() { ! kill -0 "$ENGINE_PID" 2>/dev/null; }
wait_for "ceptord --once to end after the ring closed" engine_done
rc=0; wait "$ENGINE_PID" || rc=$?
ENGINE_PID=
expect_eq "$rc" 0 "ceptord exit status"
expect_eq "$(tail_of) $(head_of)" "$((kA + kB + NC)) $((kA + kB + NC))" \
	"ring: committed = consumed"

# --- what the engine saw ------------------------------------------------------
total=$((kA + kB + NC))
expect_match "$(cat "$WORK/engine.log")" "[^0-9]$total events" \
	"events dequeued by ceptord (its exit summary)"

# Expected: "batch index count evidence first_seen" for every committed event.
{
	for i in $(seq 1 "$kA"); do echo "1 $i"; done
	for i in $(seq 1 "$kB"); do echo "2 $i"; done
	for i in $(seq 1 "$NC"); do echo "3 $i"; done
} | awk '{ printf "%d %d 1 1 2026-01-0%dT00:00:00.%06dZ\n", $1, $2, $1, $2 }' |
	sort >"$WORK/expected"

# Each incident may be published in several versions and on two streams;
# the latest version of each carries its final evidence.
latest() { # rule
	jq -c --arg r "$1" 'select(.rule == $r)' "$WORK/out.jsonl" |
		jq -rs 'group_by(.key) | map(max_by(.version)) | .[] |
			"\(.key) \(.count) \(.evidence) \(.first_seen) \(.last_seen)"'
}
latest killtest-event | awk '
	{ split($1, k, /[=.]/)   # src_ip=10.B.X.Y
	  if (k[1] != "src_ip" || k[2] != 10 || $4 != $5) { print "BAD " $0; next }
	  printf "%d %d %s %s %s\n", k[3], k[4] * 256 + k[5], $2, $3, $4 }' |
	sort >"$WORK/seen-event"
latest killtest-record | awk '
	{ split($1, k, /[=.,-]/)  # src_ip=10.B.X.Y,indicator=kill-B-I
	  if (k[1] != "src_ip" || k[6] != "indicator" || k[8] != k[3] ||
	      k[9] != k[4] * 256 + k[5] || $4 != $5) { print "TORN " $0; next }
	  printf "%d %d %s %s %s\n", k[3], k[9], $2, $3, $4 }' |
	sort >"$WORK/seen-record"

for what in event record; do
	if ! diff "$WORK/expected" "$WORK/seen-$what" >"$WORK/diff-$what"; then
		echo "expected < > seen (killtest-$what):" >&2
		head -20 "$WORK/diff-$what" >&2
		fail "killtest-$what: the engine did not see exactly events A1..A$kA," \
		     "B1..B$kB and C1..C$NC, each once and whole"
	fi
	echo "  ok: killtest-$what: exactly A1..A$kA, B1..B$kB, C1..C$NC, each once, whole"
done
echo "collector_kill: all checks passed"
