#!/usr/bin/env bash
# perf/run.sh - `make bench`: run every benchmark and print one table.
#
# Each benchmark (perf/bench_*.c built into $O/perf/, and perf/bench_*.sh)
# runs its peer in the same process or script and prints rows as
#   ROW<TAB>what<TAB>ours<TAB>peer<TAB>ratio<TAB>command
# Everything else it prints goes to the log.  Benchmarks never fail the
# build on speed; a benchmark that crashes is reported as such.
# bench_latency runs ceptord itself ($BIN/ceptord, live, on the redis-server
# started here) at two offered loads: about 45 s.
set -uo pipefail
cd "$(dirname "$0")/.."
: "${O:=build/bench}" "${BIN:=build/bench/bin}"
export O BIN
. tests/lib/redis.sh
trap 'redis_stop' EXIT INT TERM
redis_start && export CEPTOR_BENCH_REDIS_URL=$REDIS_URL

rows=$(mktemp)
log=$(mktemp)
for b in "$O"/perf/bench_* perf/bench_*.sh; do
	[ -e "$b" ] || continue
	echo "bench: $b" >&2
	case "$b" in
	*.sh) bash "$b" ;;
	*) "$b" ;;
	esac >"$log.out" 2>>"$log" || echo "bench: $b failed (see output above)" >&2
	grep '^ROW' "$log.out" >>"$rows"
	grep -v '^ROW' "$log.out" >&2
done

echo
cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)
echo "ceptor benchmarks on $(nproc) CPUs (${cpu:-unknown CPU}), $(uname -r), $(date -u +%Y-%m-%d)"
printf '| %s | %s | %s | %s | %s |\n' what ours peer ratio command
printf '|---|---|---|---|---|\n'
while IFS=$'\t' read -r _ what ours peer ratio cmd; do
	printf '| %s | %s | %s | %s | `%s` |\n' "$what" "$ours" "$peer" "$ratio" "$cmd"
done <"$rows"
rm -f "$rows" "$log" "$log.out"
