#!/usr/bin/env bash
# tests/fuzz/run.sh - run the libFuzzer targets of tests/fuzz/ (README.md).
#
#   tests/fuzz/run.sh --check
#       exit 0 when clang can build and link a libFuzzer target here;
#       otherwise say what is missing and exit 1
#   tests/fuzz/run.sh --seconds N [NAME...]
#       fuzz each target for N seconds (what `make fuzz` runs)
#   tests/fuzz/run.sh --runs N [--seconds S] [NAME...]
#       replay each target's seeds, then N mutations, at most S seconds
#       (what `make test` runs, S defaults to 10)
#
# NAME is a target's name without fuzz_ (pcap, event); default: every
# binary $O/fuzz/fuzz_* (O defaults to build/fuzz, the fuzz flavour).
# Each target starts from a scratch copy of tests/fuzz/corpus/NAME/ in
# $O/fuzz-work/NAME/corpus, so the committed seeds never grow, with the
# dictionary tests/fuzz/NAME.dict when there is one.  A crash, a sanitizer
# report, a leak, a timeout (10 s for one input) or running out of memory
# (2 GiB) fails the target: libFuzzer stops at the first one and leaves the
# input in $O/crashes/NAME/ (crash-*, leak-*, timeout-*, oom-*), and this
# script prints the command that replays it.  The full log stays in
# $O/fuzz-work/NAME/log.  Exit status: 0 when every target ran clean.
set -uo pipefail

cd "$(dirname "$0")/../.."
: "${O:=build/fuzz}"
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

check() {
	local cc=${CC_FUZZ:-clang} tmp
	if ! command -v "$cc" >/dev/null 2>&1; then
		echo "notice: $cc not found; the fuzz targets need clang with libFuzzer" \
		     "(make deps installs clang and libclang-rt-14-dev)"
		return 1
	fi
	tmp=$(mktemp -d "${TMPDIR:-/tmp}/ceptor-fuzzcheck.XXXXXX")
	printf '%s\n' '#include <stddef.h>' '#include <stdint.h>' \
		'int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);' \
		'int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)' \
		'{ (void)d; (void)n; return 0; }' >"$tmp/t.c"
	if ! "$cc" -fsanitize=fuzzer,address,undefined -o "$tmp/t" "$tmp/t.c" \
		>"$tmp/log" 2>&1; then
		echo "notice: $cc cannot link a libFuzzer target (is libclang-rt-14-dev" \
		     "installed? make deps installs it):"
		sed 's/^/  | /' "$tmp/log" | head -5
		rm -rf "$tmp"
		return 1
	fi
	rm -rf "$tmp"
	return 0
}

seconds= runs= names=()
while [ $# -gt 0 ]; do
	case $1 in
	--check) check; exit $? ;;
	--seconds) seconds=$2; shift 2 ;;
	--runs) runs=$2; shift 2 ;;
	-h|--help) sed -n '2,23s/^# \{0,1\}//p' "$0"; exit 0 ;;
	-*) echo "tests/fuzz/run.sh: unknown option $1" >&2; exit 2 ;;
	*) names+=("${1#fuzz_}"); shift ;;
	esac
done
if [ -z "$seconds" ] && [ -z "$runs" ]; then
	echo "tests/fuzz/run.sh: give --seconds N and/or --runs N (see --help)" >&2
	exit 2
fi
[ -n "$runs" ] && [ -z "$seconds" ] && seconds=10
if [ ${#names[@]} -eq 0 ]; then
	for b in "$O"/fuzz/fuzz_*; do
		[ -x "$b" ] && names+=("$(basename "$b" | sed 's/^fuzz_//')")
	done
fi
if [ ${#names[@]} -eq 0 ]; then
	echo "no fuzz targets in $O/fuzz/ (build them with make FLAVOUR=fuzz fuzz-build)" >&2
	exit 1
fi

failed=()
for name in "${names[@]}"; do
	bin=$O/fuzz/fuzz_$name
	work=$O/fuzz-work/$name
	crashes=$O/crashes/$name
	if [ ! -x "$bin" ]; then
		echo "FAIL  fuzz_$name: $bin is not built"
		failed+=("$name")
		continue
	fi
	rm -rf "$work"
	mkdir -p "$work/corpus" "$crashes"
	if [ -d "tests/fuzz/corpus/$name" ]; then
		cp -R "tests/fuzz/corpus/$name/." "$work/corpus/"
	else
		echo "notice: tests/fuzz/corpus/$name/ does not exist; fuzz_$name starts from nothing"
	fi
	touch "$work/start"
	args=(-artifact_prefix="$crashes/" -timeout=10 -rss_limit_mb=2048
	      -max_total_time="$seconds" -print_final_stats=1)
	[ -n "$runs" ] && args+=(-runs="$runs")
	[ -f "tests/fuzz/$name.dict" ] && args+=(-dict="tests/fuzz/$name.dict")
	start=$SECONDS
	"$bin" "${args[@]}" "$work/corpus" >"$work/log" 2>&1
	rc=$?
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/log" | tail -1)
	new=$(find "$crashes" -type f -newer "$work/start" 2>/dev/null | sort)
	# libFuzzer exits non-zero on every finding; the log is checked too, in
	# case a sanitizer was told to recover and the run went on.
	if [ $rc -ne 0 ] || [ -n "$new" ] ||
	   grep -qE 'ERROR: (AddressSanitizer|LeakSanitizer|UndefinedBehaviorSanitizer|libFuzzer)|runtime error:' "$work/log"; then
		failed+=("$name")
		echo "FAIL  fuzz_$name (exit $rc after $((SECONDS - start)) s); log: $work/log"
		grep -E -m 3 'ERROR:|runtime error:|SUMMARY:' "$work/log" | sed 's/^/  | /'
		for f in $new; do
			echo "  input kept: $f"
			echo "  replay:     $bin $f"
		done
	else
		echo "ok    fuzz_$name: ${execs:-?} runs in $((SECONDS - start)) s," \
		     "$(find "$work/corpus" -type f | wc -l) inputs in the scratch corpus"
	fi
done
[ ${#failed[@]} -eq 0 ] || { echo "fuzz: failed: ${failed[*]}"; exit 1; }
exit 0
