#!/usr/bin/env bash
# Scenario: a long-running ceptord (no --once) consumes a ring that collector
# processes feed one after another; each closes the ring when done, and the
# next one reopens it.  Events from the ring take the grades the engine's
# configuration gives that collector, its TLP when stricter, and its sector.
# TLP:RED incidents stay out of the council stream.  The command line's
# --ring replaces the configuration's collectors.
set -euo pipefail
cd "$(dirname "$0")/../../.."
. tests/lib/assert.sh
BIN=${BIN:-build/bin}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/ceptor-restart.XXXXXX")
RING=/ceptor-test-restart-$$
ENGINE_PID=
cleanup() {
	if [ -n "$ENGINE_PID" ]; then
		kill "$ENGINE_PID" 2>/dev/null || true
		wait "$ENGINE_PID" 2>/dev/null || true
	fi
	rm -f "/dev/shm${RING}"
	rm -rf "$WORK"
}
trap cleanup EXIT

"$BIN/ceptor-gen" scan "$WORK/a.pcap" --src 198.51.100.1 --dst 192.0.2.20 \
	--ports 30 --start-port 1000 --noise 100 --seed 1 2>/dev/null
# The second capture is an hour later: event time moves on, as it does
# when a collector really restarts (an older one would be late data).
"$BIN/ceptor-gen" scan "$WORK/b.pcap" --src 198.51.100.2 --dst 192.0.2.20 \
	--ports 40 --start-port 1000 --noise 100 --seed 2 --time-offset 3600 2>/dev/null
cat >"$WORK/ceptor.yml" <<YML
rules: rules/default
redis: none
publish_interval_ms: 50
collectors:
  - kind: ring
    name: edge-tap
    ring: $RING
    reliability: C
    credibility: 3
    tlp: RED
    sector: rail
  - name: never-started
    kind: ring
    ring: $RING-unused
YML

# The engine must not wait for the config's second collector: --ring
# replaces the configured collectors, but keeps nothing of their grades,
# so first check the override, then run with the config alone.
"$BIN/ceptord" --check -c "$WORK/ceptor.yml" --ring "$RING" >"$WORK/check.txt"
grep -q "1 inputs" "$WORK/check.txt" || fail "--ring did not replace the collectors: $(cat "$WORK/check.txt")"
echo "  ok: --ring replaces the configured collectors"

sed -i '/never-started/,$d' "$WORK/ceptor.yml"
"$BIN/ceptord" -c "$WORK/ceptor.yml" --stdout --spool "$WORK/spool" \
	>"$WORK/out.jsonl" 2>"$WORK/engine.log" &
ENGINE_PID=$!
for _ in $(seq 1 100); do
	[ -e "/dev/shm${RING}" ] && break
	sleep 0.05
done
[ -e "/dev/shm${RING}" ] || fail "ceptord did not open $RING: $(cat "$WORK/engine.log")"

"$BIN/ceptor-pcap" -r "$WORK/a.pcap" --ring "$RING" || fail "first collector failed"
"$BIN/ceptor-pcap" -r "$WORK/b.pcap" --ring "$RING" || fail "second collector failed"

# Windows close on event time or at shutdown: stop the engine (SIGTERM),
# which processes what is in the ring, flushes and publishes.
sleep 0.5
kill -TERM "$ENGINE_PID"
wait "$ENGINE_PID" || fail "ceptord failed: $(cat "$WORK/engine.log")"
ENGINE_PID=

# Each incident may have been published more than once (versions); the
# latest version of each carries the final count.
scans=$(jq -rs '[.[] | select(.rule=="ceptor-portscan-tcp")] | group_by(.entity) |
	map(max_by(.version) | "\(.entity) \(.count)") | join(" ")' "$WORK/out.jsonl")
expect_eq "$scans" "198.51.100.1 30 198.51.100.2 40" "both collectors' scans, latest counts"
expect_eq "$(jq -r '.stream' "$WORK/out.jsonl" | sort -u | tr '\n' ' ')" \
	"ceptor:{rail}:incidents " "TLP:RED stays out of the council stream; sector from config"
expect_eq "$(jq -r '.tlp' "$WORK/out.jsonl" | sort -u)" RED "configured TLP is stricter"
expect_eq "$(jq -r '.sources[0] | "\(.name) \(.reliability)\(.credibility)"' "$WORK/out.jsonl" | sort -u)" \
	"edge-tap C3" "grades from the engine's configuration"
echo "collector_restart: all checks passed"
