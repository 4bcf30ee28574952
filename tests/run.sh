#!/usr/bin/env bash
# tests/run.sh - the whole test suite, as `make test` runs it.
#
#   tests/run.sh [all|unit|integration|tsan|fuzz]
#   CEPTOR_TEST_ONLY=REGEX tests/run.sh   only the tests whose name matches
#
# Starts one private redis-server on a free loopback port for the suite
# (CEPTOR_TEST_REDIS_URL), runs every libcheck binary in $O/tests and every
# tests/integration/*/run.sh, then every fuzz target briefly (built in
# build/fuzz with clang; skipped with a notice without it), stops the
# server (also on failure), and ends
# with one line: "N passed, N failed".
set -uo pipefail

mode=${1:-all}
cd "$(dirname "$0")/.."
ROOT=$PWD
: "${FLAVOUR:=release}" "${O:=build/$FLAVOUR}"
if [ "$FLAVOUR" = release ]; then : "${BIN:=build/bin}"; else : "${BIN:=$O/bin}"; fi
export ROOT FLAVOUR O BIN
export CEPTOR_BIN=$ROOT/$BIN
# The shared conformance data sits beside the checkout when it exists.
if [ -z "${CEPTOR_SHARED_DATA:-}" ] && [ -d "$ROOT/../shared/data" ]; then
	export CEPTOR_SHARED_DATA=$ROOT/../shared/data
fi
[ -n "${CEPTOR_SHARED_DATA:-}" ] ||
	echo "notice: ../shared/data not found; conformance tests will skip"

# Sanitizer runs: fail loudly, keep going through the suite.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export TSAN_OPTIONS=${TSAN_OPTIONS:-halt_on_error=1:second_deadlock_stack=1}

. tests/lib/redis.sh
# The server goes with the run however it ends; an interrupted run ends
# (a trap on INT/TERM alone would stop the server and go on without it).
trap 'redis_stop' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
redis_start || { echo "cannot start redis-server"; echo "0 passed, 1 failed"; exit 1; }
export CEPTOR_TEST_REDIS_URL=$REDIS_URL
echo "redis-server $REDIS_URL (pid $REDIS_PID) for this run"

passed=0 failed=0 failures=()
LOG=$(mktemp -d "${TMPDIR:-/tmp}/ceptor-test.XXXXXX")

run_one() { # name, command...
	local name=$1; shift
	if [ -n "${CEPTOR_TEST_ONLY:-}" ] && ! [[ $name =~ $CEPTOR_TEST_ONLY ]]; then
		return 0
	fi
	local log="$LOG/$(echo "$name" | tr '/ ' '__').log"
	local start=$SECONDS
	if "$@" >"$log" 2>&1; then
		# libcheck binaries count their checks; scripts count as one.
		local n
		n=$(sed -n 's/^[0-9]*%: Checks: \([0-9]*\).*/\1/p' "$log" | tail -1)
		passed=$((passed + ${n:-1}))
		printf '  ok    %-40s %3ss %s\n' "$name" $((SECONDS - start)) "${n:+($n checks)}"
	else
		local nf
		nf=$(sed -n 's/.*Failures: \([0-9]*\), Errors: \([0-9]*\).*/\1 \2/p' "$log" | tail -1)
		local c
		c=$(sed -n 's/^[0-9]*%: Checks: \([0-9]*\).*/\1/p' "$log" | tail -1)
		if [ -n "$nf" ] && [ -n "$c" ]; then
			set -- $nf
			failed=$((failed + $1 + $2))
			passed=$((passed + c - $1 - $2))
		else
			failed=$((failed + 1))
		fi
		failures+=("$name")
		printf '  FAIL  %-40s %3ss\n' "$name" $((SECONDS - start))
		sed 's/^/        | /' "$log" | tail -40
	fi
}

if [ "$mode" = all ] || [ "$mode" = unit ] || [ "$mode" = tsan ]; then
	echo "unit tests ($FLAVOUR)"
	for t in "$O"/tests/test_*; do
		[ -x "$t" ] || continue
		name=$(basename "$t")
		# Under ThreadSanitizer: the concurrency unit tests, then every
		# integration test (ceptord runs collector threads against its core).
		if [ "$mode" = tsan ] && ! grep -qx "$name" tests/tsan.list; then
			continue
		fi
		run_one "$name" "$t"
	done
fi
if [ "$mode" = all ] || [ "$mode" = integration ] || [ "$mode" = tsan ]; then
	echo "integration tests ($FLAVOUR)"
	for s in tests/integration/*/run.sh; do
		[ -f "$s" ] || continue
		run_one "integration/$(basename "$(dirname "$s")")" bash "$s"
	done
fi

# Fuzz targets, briefly: each one's seeds plus CEPTOR_FUZZ_RUNS mutations,
# at most CEPTOR_FUZZ_SECONDS each (make fuzz runs them for long).  They
# build in the fuzz flavour (clang, libFuzzer, ASan + UBSan), one target
# at a time, so that a target that does not build fails alone.
if [ "$mode" = all ] || [ "$mode" = fuzz ]; then
	fuzz_names=()
	for f in tests/fuzz/fuzz_*.c; do
		[ -f "$f" ] || continue
		f=$(basename "$f" .c)
		if [ -n "${CEPTOR_TEST_ONLY:-}" ] && ! [[ fuzz/${f#fuzz_} =~ $CEPTOR_TEST_ONLY ]]; then
			continue
		fi
		fuzz_names+=("${f#fuzz_}")
	done
	if [ ${#fuzz_names[@]} -gt 0 ]; then
		echo "fuzz targets (seeds + ${CEPTOR_FUZZ_RUNS:-20000} runs, at most ${CEPTOR_FUZZ_SECONDS:-8} s each)"
		if bash tests/fuzz/run.sh --check; then
			fuzz_one() { # name
				# Not this run's make: its jobserver is not ours.
				MAKEFLAGS= make --no-print-directory -j"$(nproc)" FLAVOUR=fuzz \
					"build/fuzz/fuzz/fuzz_$1" &&
				O=build/fuzz bash tests/fuzz/run.sh --runs "${CEPTOR_FUZZ_RUNS:-20000}" \
					--seconds "${CEPTOR_FUZZ_SECONDS:-8}" "$1"
			}
			for n in "${fuzz_names[@]}"; do
				run_one "fuzz/$n" fuzz_one "$n"
			done
		else
			echo "notice: fuzz targets skipped (no clang with libFuzzer)"
		fi
	fi
fi

rm -rf "$LOG"
echo
[ ${#failures[@]} -gt 0 ] && echo "failed: ${failures[*]}"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
