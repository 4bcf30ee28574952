#!/usr/bin/env bash
# perf/bench_e2e.sh - end to end: ceptord --once over a large capture with
# the default rule pack, against tcpdump reading and rewriting it.
#
#   BIN=build/bench/bin PACKETS=1000000 bash perf/bench_e2e.sh
#
# The capture is ceptor-gen mix (TCP/UDP/ICMP over IPv4/IPv6, ~586 B mean,
# 10 % VLAN), read once before timing so that both read the page cache.
# Ours: ceptord --once --rules rules/default --pcap F --redis none (the
# hosted pcap thread decodes into its ring, the core thread matches,
# correlates and ranks: both cores busy), packets per second of the whole
# run, start to exit, and its peak resident memory.  Peer: tcpdump -r F -w
# /dev/null.  Best of RUNS (default 3) for each; wall time and peak RSS
# from python3's resource module (no GNU time needed).
#
# Output: ROW<TAB>what<TAB>ours<TAB>peer<TAB>ratio<TAB>command (perf/run.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-build/bench/bin}
PACKETS=${PACKETS:-1000000}
RUNS=${RUNS:-3}
for b in ceptor-gen ceptord; do
	[ -x "$BIN/$b" ] || { echo "bench_e2e: $BIN/$b not found" >&2; exit 1; }
done
command -v tcpdump >/dev/null || { echo "bench_e2e: tcpdump not installed" >&2; exit 1; }
WORK=$(mktemp -d "${TMPDIR:-/tmp}/ceptor-bench-e2e.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
cap=$WORK/mix.pcap
"$BIN/ceptor-gen" mix "$cap" --packets "$PACKETS" --seed 3 2>/dev/null
cat "$cap" >/dev/null

# measure CMD...: "SECONDS MAXRSS_KIB" of one run (its output discarded).
measure() {
	python3 - "$@" <<'PY'
import resource, subprocess, sys, time
t = time.monotonic()
rc = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode
dt = time.monotonic() - t
if rc != 0:
    sys.exit("bench_e2e: %s exited %d" % (sys.argv[1], rc))
print("%.6f %d" % (dt, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss))
PY
}
best() { # CMD...: the fastest of RUNS runs, "SECONDS MAXRSS_KIB"
	local b="" r
	for _ in $(seq "$RUNS"); do
		rm -rf "$WORK/spool"
		r=$(measure "$@")
		if [ -z "$b" ] || awk -v a="${r% *}" -v c="${b% *}" 'BEGIN { exit !(a < c) }'; then
			b=$r
		fi
	done
	echo "$b"
}
ours=$(best "$BIN/ceptord" --once --rules rules/default --pcap "$cap" --redis none \
	--spool "$WORK/spool")
peer=$(best tcpdump -r "$cap" -w /dev/null)
read -r ot orss <<<"$ours"
read -r pt prss <<<"$peer"
awk -v n="$PACKETS" -v ot="$ot" -v pt="$pt" -v orss="$orss" -v prss="$prss" 'BEGIN {
	o = n / ot; p = n / pt
	printf "ROW\tend to end: ceptord --once, default rules, %d-packet mixed capture (goal: at least 1x tcpdump)\t%.2f M pkt/s, peak %.0f MB\t%.2f M pkt/s, peak %.0f MB\t%.2f\tBIN=build/bench/bin bash perf/bench_e2e.sh (peer: tcpdump -r F -w /dev/null)\n",
		n, o / 1e6, orss / 1024, p / 1e6, prss / 1024, o / p
}'
