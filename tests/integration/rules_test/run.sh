#!/usr/bin/env bash
# Scenario: `ceptorctl rules test` over the default rule pack and its cases
# (rules/tests/), and proof that it catches what it should:
#   1. every case of rules/tests/ passes against rules/default (exit 0);
#   2. a broken telnet rule (tests/integration/rules_test/broken/) fails
#      the telnet cases, with exit 1 and the expectation that failed;
#   3. a malformed case file is reported as FILE:LINE and fails;
#   4. usage errors and rules that do not compile exit 2.
#
# Needs: BIN (binaries).
set -euo pipefail
cd "$(dirname "$0")/../../.."
. tests/lib/assert.sh
BIN=${BIN:-build/bin}
HERE=tests/integration/rules_test
WORK=$(mktemp -d "${TMPDIR:-/tmp}/ceptor-rules-test.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

# 1. The default pack passes its own cases, one per rule file at least.
"$BIN/ceptorctl" rules test rules/default rules/tests >"$WORK/ok.txt" 2>&1 ||
	fail "default pack cases failed: $(cat "$WORK/ok.txt")"
for r in rules/default/*.yml; do
	[ -f "rules/tests/$(basename "$r")" ] ||
		fail "no cases for $r in rules/tests/"
done
expect_eq "$(grep -c '^PASS' "$WORK/ok.txt")" \
	"$(grep -c '^  - name:' rules/tests/*.yml | awk -F: '{ s += $2 } END { print s }')" \
	"every case passed"
expect_match "$(tail -1 "$WORK/ok.txt")" '^rules test: [0-9]+ cases, [0-9]+ passed, 0 failed$' \
	"summary line"

# 2. A broken rule is caught.
mkdir "$WORK/broken"
cp rules/default/*.yml "$WORK/broken/"
cp "$HERE/broken/telnet.yml" "$WORK/broken/telnet.yml"
set +e
"$BIN/ceptorctl" rules test "$WORK/broken" rules/tests >"$WORK/broken.txt" 2>&1
rc=$?
set -e
expect_eq "$rc" 1 "exit status with a broken rule"
grep -q '^FAIL  rules/tests/telnet.yml:3: a bare SYN to TCP/23' "$WORK/broken.txt" ||
	fail "the broken telnet rule was not caught: $(cat "$WORK/broken.txt")"
grep -q 'expected signal ceptor-telnet-attempt count 1, times 1; found 0' "$WORK/broken.txt" ||
	fail "the failed expectation is not shown: $(cat "$WORK/broken.txt")"
grep -q '^PASS  rules/tests/portscan.yml' "$WORK/broken.txt" ||
	fail "unrelated cases should still pass"
expect_match "$(tail -1 "$WORK/broken.txt")" ', [1-9][0-9]* failed$' "summary counts failures"

# 3. A malformed case file names its line.
set +e
"$BIN/ceptorctl" rules test rules/default "$HERE/bad_case.yml" >"$WORK/bad.txt" 2>&1
rc=$?
set -e
expect_eq "$rc" 1 "exit status with a malformed case file"
grep -q "bad_case.yml:8: unknown key 'severity'" "$WORK/bad.txt" ||
	fail "malformed case not reported with its line: $(cat "$WORK/bad.txt")"

# 4. Usage errors and rules that do not compile.
set +e
"$BIN/ceptorctl" rules test rules/default >/dev/null 2>&1
expect_eq "$?" 2 "exit status without cases"
"$BIN/ceptorctl" rules test tests/rules/bad_cidr.yml rules/tests >/dev/null 2>&1
expect_eq "$?" 2 "exit status when the rules do not compile"
set -e
echo "rules_test scenario: all checks passed"
