#!/usr/bin/env bash
# Scenario: live inputs never hold each other up.  A partner's feed trickles
# in through a pipe (one old-dated record every 100 ms, for 10 s) while a
# busy collector pushes 5,000 current events through a small ring that
# blocks when full.  The busy collector must finish long before the trickle
# ends (it would wait for the trickle if the engine held it back), and the
# trickle's records reach the engine while its pipe is still open (the feed
# collector hands over a half-full batch before a read would wait).
set -euo pipefail
cd "$(dirname "$0")/../../.."
. tests/lib/assert.sh
BIN=${BIN:-build/bin}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/ceptor-livemerge.XXXXXX")
RA=/ceptor-test-lma-$$ RB=/ceptor-test-lmb-$$
PIDS=()
cleanup() {
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
	rm -f "/dev/shm${RA}" "/dev/shm${RB}"
	rm -rf "$WORK"
}
trap cleanup EXIT

cat >"$WORK/ceptor.yml" <<YML
rules: rules/default/portscan.yml
redis: none
spool: $WORK/spool
ring_capacity: 256
collectors:
  - {kind: ring, name: busy, ring: $RA}
  - {kind: ring, name: partner, ring: $RB}
YML
"$BIN/ceptord" -c "$WORK/ceptor.yml" 2>"$WORK/engine.log" &
PIDS+=($!)
for _ in $(seq 100); do
	[ -e "/dev/shm${RA}" ] && [ -e "/dev/shm${RB}" ] && break
	sleep 0.05
done
[ -e "/dev/shm${RB}" ] || fail "ceptord did not open its rings: $(cat "$WORK/engine.log")"

now=$(date -u +%s)
awk -v now="$now" 'BEGIN { for (i = 1; i <= 5000; i++)
	printf "{\"ts\":\"%s.%06dZ\",\"kind\":\"packet\",\"proto\":6,\"tcp_flags\":2,\"src_ip\":\"192.0.2.%d\",\"dst_ip\":\"198.51.100.7\",\"dst_port\":%d}\n",
		strftime("%Y-%m-%dT%H:%M:%S", now + int(i / 1000), 1), i % 1000 * 1000, i % 250 + 1, i % 60000 + 1 }' \
	>"$WORK/busy.jsonl"

# The trickle: a pipe kept open, one 2023 record every 100 ms.
mkfifo "$WORK/pipe"
"$BIN/ceptor-feed" --format jsonl --ring "$RB" - <"$WORK/pipe" 2>"$WORK/partner.log" &
PIDS+=($!)
(
	for i in $(seq 100); do
		printf '{"ts":"2023-11-14T22:13:%02d.%06dZ","kind":"feed","type":"scan","src_ip":"198.51.100.%d"}\n' \
			$((i / 10)) $((i % 10 * 100000)) $((i % 200 + 1))
		sleep 0.1
	done
	touch "$WORK/trickle.done"
) >"$WORK/pipe" &
PIDS+=($!)

# The first trickled records arrive while the pipe is open.
got=0
for _ in $(seq 100); do
	got=$(jq -r '.inputs[] | select(.name=="partner") | .dequeued' "$WORK/spool/status.json" 2>/dev/null || echo 0)
	[ "${got:-0}" -ge 1 ] && break
	sleep 0.1
done
[ "${got:-0}" -ge 1 ] || fail "trickled records sat in the feed collector's batch"
[ -e "$WORK/trickle.done" ] && fail "the trickle ended before its first record arrived"

# The busy input, 5,000 current events through a 256-record ring (made
# before the trickle starts, so that only the engine's pace is measured).
"$BIN/ceptor-feed" --format jsonl --ring "$RA" "$WORK/busy.jsonl" 2>"$WORK/busy.log" ||
	fail "busy collector failed: $(cat "$WORK/busy.log")"
[ -e "$WORK/trickle.done" ] &&
	fail "the busy collector finished only after the trickle ended: the quiet input held it"
echo "  ok: 5,000 busy events through while the trickle still runs"
for _ in $(seq 100); do
	[ "$(jq -r '.inputs[] | select(.name=="busy") | .dequeued' "$WORK/spool/status.json")" = 5000 ] && break
	sleep 0.1
done
expect_eq "$(jq -r '.inputs[] | select(.name=="busy") | .dequeued' "$WORK/spool/status.json")" 5000 \
	"busy events taken by the engine"
echo "live_merge: all checks passed"
