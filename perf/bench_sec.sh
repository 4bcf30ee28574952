#!/usr/bin/env bash
# perf/bench_sec.sh - the port-scan workload through SEC and through ceptor.
#
# Workload: per source address, count SYNs to distinct destination ports
# within 60 s; 20 distinct ports raise one alert.  The same events go to
# SEC (Debian `sec`) as a text log and to ceptord as JSON Lines:
#   ceptord --once --rules rules/default/portscan.yml --feed jsonl:FILE \
#           --redis none --stdout
# with the default pack's ceptor-portscan-tcp rule.  SEC has no distinct
# count, so its rules are the usual idiom: a Single rule that remembers
# (source, port) in a 60-s context and emits an internal DISTINCT event the
# first time, and a SingleWithThreshold (window 60, thresh 20) over those.
#
# The data: NSCAN scanners, each sending a burst of 25 SYNs to 25 ports,
# among noise sources that each touch at most 10 ports, so both engines
# must find exactly NSCAN alerts whatever their window semantics (SEC counts
# wall-clock time, ceptor event time).  The figure is events per second of
# the whole run (process start to exit, input parsing included) for each;
# ratio = ceptor / SEC.  Both alert counts must equal NSCAN, or the
# benchmark fails.
#
# Output: ROW<TAB>what<TAB>ours<TAB>peer<TAB>ratio<TAB>command (perf/run.sh).
# Environment: BIN (ceptord's directory, default build/bench/bin), NEVENTS
# (default 200000), NSCAN (default 400).  At 50,000 events ceptord's start
# (about 30 ms: rule compile, spool, the sector graph) was a third of its
# run; SEC slows as its contexts grow, so the ratio rises with NEVENTS
# (279x at 500,000 events, where SEC takes nearly 3 minutes).
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-build/bench/bin}
NEVENTS=${NEVENTS:-200000}
NSCAN=${NSCAN:-400}
command -v sec >/dev/null || { echo "bench_sec: sec is not installed (apt-get install sec)" >&2; exit 1; }
[ -x "$BIN/ceptord" ] || { echo "bench_sec: no $BIN/ceptord" >&2; exit 1; }
WORK=$(mktemp -d "${TMPDIR:-/tmp}/ceptor-bench-sec.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

# One generator, two renderings of the same events: one event per 10 ms of
# event time; a scanner's 25 SYNs are consecutive (0.25 s); noise sources
# draw their port from 10 ports.
awk -v n="$NEVENTS" -v nscan="$NSCAN" -v logf="$WORK/events.log" \
    -v jsonl="$WORK/events.jsonl" 'BEGIN {
	srand(7)
	every = int(n / nscan)
	i = 0; s = 0
	while (i < n) {
		if (s < nscan && i % every == 0) {
			src = sprintf("198.51.%d.%d", int(s / 250), s % 250 + 1)
			for (p = 0; p < 25 && i < n; p++) {
				emit(src, 1000 + p)
			}
			s++
			continue
		}
		src = sprintf("10.%d.%d.%d", int(rand() * 4), int(rand() * 250),
			      int(rand() * 250) + 1)
		emit(src, 8000 + int(rand() * 10))
	}
}
function emit(src, port,   t, sec, ms) {
	t = i * 10; sec = int(t / 1000); ms = t % 1000
	ts = sprintf("2026-01-01T%02d:%02d:%02d.%03dZ", int(sec / 3600),
		     int(sec / 60) % 60, sec % 60, ms)
	printf "%s SYN src=%s dst=192.0.2.10 dport=%d\n", ts, src, port > logf
	printf "{\"ts\":\"%s\",\"source\":\"bench\",\"kind\":\"packet\",\"src_ip\":\"%s\",\"dst_ip\":\"192.0.2.10\",\"src_port\":40000,\"dst_port\":%d,\"proto\":6,\"tcp_flags\":2}\n", ts, src, port > jsonl
	i++
}'
n=$(wc -l <"$WORK/events.log")

cat >"$WORK/portscan.sec" <<'EOF'
type=Single
ptype=RegExp
pattern=SYN src=(\S+) dst=\S+ dport=(\d+)
context=!SEEN_$1_$2
desc=first $1 $2
action=create SEEN_$1_$2 60; event DISTINCT $1

type=SingleWithThreshold
ptype=RegExp
pattern=^DISTINCT (\S+)
desc=portscan $1
action=write - ALERT $1
window=60
thresh=20
EOF

now() { date +%s.%N; }
rate() { awk -v n="$1" -v a="$2" -v b="$3" 'BEGIN { printf "%.0f", n / (b - a) }'; }
fmt() { awk -v r="$1" 'BEGIN { if (r >= 1e6) printf "%.2f M ev/s", r / 1e6; else printf "%.0f k ev/s", r / 1e3 }'; }

t0=$(now)
sec --conf="$WORK/portscan.sec" --input="$WORK/events.log" --notail \
	--fromstart --log=/dev/null >"$WORK/sec.out" 2>"$WORK/sec.err"
t1=$(now)
sec_alerts=$(grep -c '^ALERT ' "$WORK/sec.out" || true)

t2=$(now)
"$BIN/ceptord" --once --rules rules/default/portscan.yml \
	--feed "jsonl:$WORK/events.jsonl" --redis none --stdout \
	--spool "$WORK/spool" >"$WORK/ceptor.out" 2>"$WORK/ceptor.err"
t3=$(now)
# Each incident is published to its sector's stream and the council's.
cep_alerts=$(grep -c '"stream":"ceptor:{council}:incidents"' "$WORK/ceptor.out" || true)

sec_rate=$(rate "$n" "$t0" "$t1")
cep_rate=$(rate "$n" "$t2" "$t3")
echo "bench_sec: $n events, $NSCAN scanners; SEC $sec_alerts alerts in $(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.2f", b-a}') s, ceptor $cep_alerts incidents in $(awk -v a="$t2" -v b="$t3" 'BEGIN{printf "%.2f", b-a}') s" >&2
if [ "$sec_alerts" != "$NSCAN" ] || [ "$cep_alerts" != "$NSCAN" ]; then
	echo "bench_sec: alert counts differ: expected $NSCAN, SEC $sec_alerts, ceptor $cep_alerts" >&2
	exit 1
fi
printf 'ROW\tport scan, %s events, %s alerts (ceptord --once vs SEC)\t%s\tSEC %s\t%s\tbash perf/bench_sec.sh\n' \
	"$n" "$NSCAN" "$(fmt "$cep_rate")" "$(fmt "$sec_rate")" \
	"$(awk -v a="$cep_rate" -v b="$sec_rate" 'BEGIN { printf "%.1f", a / b }')"
