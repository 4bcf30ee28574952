#!/usr/bin/env bash
# Scenario: the pcap collector runs as its own process and feeds a running
# ceptord through the shared-memory ring the engine created; ceptord --once
# ends when the collector closes the ring, and finds the scan.
set -euo pipefail
cd "$(dirname "$0")/../../.."
. tests/lib/assert.sh
BIN=${BIN:-build/bin}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/ceptor-ringproc.XXXXXX")
RING=/ceptor-test-ring-$$
ENGINE_PID=
cleanup() {
	[ -n "$ENGINE_PID" ] && kill "$ENGINE_PID" 2>/dev/null && wait "$ENGINE_PID" 2>/dev/null
	rm -f "/dev/shm${RING}"
	rm -rf "$WORK"
}
trap cleanup EXIT

"$BIN/ceptor-gen" scan "$WORK/scan.pcap" --src 198.51.100.66 --dst 192.0.2.20 \
	--ports 30 --start-port 1000 --noise 200 --seed 3 2>/dev/null

"$BIN/ceptord" --once --rules rules/default --ring "$RING" --redis none \
	--stdout --spool "$WORK/spool" >"$WORK/out.jsonl" 2>"$WORK/engine.log" &
ENGINE_PID=$!
for _ in $(seq 1 100); do
	[ -e "/dev/shm${RING}" ] && break
	sleep 0.05
done
[ -e "/dev/shm${RING}" ] || fail "ceptord did not create $RING: $(cat "$WORK/engine.log")"

"$BIN/ceptor-pcap" -r "$WORK/scan.pcap" --ring "$RING" --source tap-proc ||
	fail "ceptor-pcap --ring failed"
for _ in $(seq 1 100); do
	kill -0 "$ENGINE_PID" 2>/dev/null || break
	sleep 0.05
done
kill -0 "$ENGINE_PID" 2>/dev/null && fail "ceptord did not end after the ring closed"
wait "$ENGINE_PID" || fail "ceptord failed: $(cat "$WORK/engine.log")"
ENGINE_PID=

expect_eq "$(jq -r 'select(.stream=="ceptor:{unknown}:incidents" and .rule=="ceptor-portscan-tcp") | .entity' "$WORK/out.jsonl")" \
	198.51.100.66 "scanner found through the process ring"
expect_eq "$(jq -r 'select(.stream=="ceptor:{unknown}:incidents" and .rule=="ceptor-portscan-tcp") | .count' "$WORK/out.jsonl")" \
	30 "distinct ports"
expect_eq "$(jq -r 'select(.stream=="ceptor:{unknown}:incidents" and .rule=="ceptor-portscan-tcp") | .sources[0].name' "$WORK/out.jsonl")" \
	ring0 "the engine names the instance, not the collector"
echo "collector_process: all checks passed"
