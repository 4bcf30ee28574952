#!/usr/bin/env bash
# Scenario: `ceptorctl exercise run` replays the shipped scenarios
# (tests/scenarios/*.yml) through a live ceptord and collector processes
# into a private redis-server, at each scenario's time scale:
#   1. each of the three (finance botnet, telecom misconfiguration,
#      earthquake) meets every expectation: exit 0, one "seen" line per
#      expectation, "result: N of N expectations met";
#   1b. a pcap input goes through ceptor-pcap; --speed overrides the
#      scenario's time scale;
#   2. --json gives the same verdict as one JSON object;
#   3. nothing is written to a non-exercise ceptor: key, and the rings
#      and processes of the runs are gone;
#   4. an expectation the engine cannot meet: exit 1 and a "missed" line;
#   5. a malformed scenario: exit 2 and FILE:LINE for each problem, and
#      a scenario file that does not exist: exit 2;
#   0. first, the collector options it relies on: --exercise marks every
#      event, --retime=SPEED moves times to now at SPEED and paces them.
#
# Needs: BIN, jq, a redis-server to start.
set -euo pipefail
cd "$(dirname "$0")/../../.."
. tests/lib/assert.sh
BIN=${BIN:-build/bin}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/ceptor-exercise-test.XXXXXX")
HERE=tests/integration/exercise
. tests/lib/redis.sh
cleanup() { redis_stop; rm -rf "$WORK"; }
trap cleanup EXIT
redis_start
EX() { "$BIN/ceptorctl" --redis "$REDIS_URL" exercise run "$@"; }

# 0. The collector options.
printf '%s\n' '{"ts":"2020-01-01T00:00:00Z","kind":"feed","type":"scan","src_ip":"192.0.2.1"}' \
	'{"ts":"2020-01-01T00:01:00Z","kind":"feed","type":"scan","src_ip":"192.0.2.1"}' >"$WORK/two.jsonl"
before=$(date +%s)
"$BIN/ceptor-feed" --format jsonl "$WORK/two.jsonl" --exercise --retime=60 >"$WORK/two.out"
after=$(date +%s)
expect_eq "$(jq -r .exercise "$WORK/two.out" | sort -u)" true "--exercise marks every event"
t1=$(date -u -d "$(sed -n 1p "$WORK/two.out" | jq -r .ts)" +%s.%N)
t2=$(date -u -d "$(sed -n 2p "$WORK/two.out" | jq -r .ts)" +%s.%N)
expect_eq "$(awk -v a="$t1" -v b="$t2" 'BEGIN { printf "%.3f", b - a }')" 1.000 \
	"--retime=60: a minute apart becomes a second"
expect_eq "$(awk -v t="$t1" -v a="$before" -v b="$after" 'BEGIN { print (t >= a - 1 && t <= b + 1) }')" 1 \
	"--retime: the first event takes the current time"
expect_eq "$((after - before >= 1))" 1 "--retime paces the events"
expect_eq "$("$BIN/ceptor-feed" --format jsonl "$WORK/two.jsonl" | jq -r '.exercise // false' | sort -u)" false \
	"without --exercise: no mark"
set +e
"$BIN/ceptor-feed" --format jsonl "$WORK/two.jsonl" --retime=0 >/dev/null 2>"$WORK/retime.err"
expect_eq "$?" 2 "--retime=0 is a usage error"
set -e

# 1. The shipped scenarios.
for sc in finance_botnet telecom_misconfig earthquake; do
	f=tests/scenarios/$sc.yml
	n=$(grep -cE '^  - (name: .*)?$' <(sed -n '/^expect:/,$p' "$f") || true)
	start=$(date +%s.%N)
	set +e
	EX "$f" >"$WORK/$sc.txt" 2>"$WORK/$sc.err"
	rc=$?
	set -e
	took=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
	cat "$WORK/$sc.txt" | grep -v '^  extra ' || true
	expect_eq "$rc" 0 "$sc: exit status (took ${took}s; stderr: $(head -c 300 "$WORK/$sc.err"))"
	expect_eq "$(grep -c '^  seen ' "$WORK/$sc.txt")" "$n" "$sc: every expectation seen"
	expect_eq "$(grep -c '^  missed ' "$WORK/$sc.txt" || true)" 0 "$sc: none missed"
	expect_eq "$(tail -1 "$WORK/$sc.txt")" "result: $n of $n expectations met" "$sc: result line"
	expect_eq "$(awk -v t="$took" 'BEGIN { print (t < 30) }')" 1 "$sc: well under 30 s"
done
expect_match "$(cat "$WORK/earthquake.txt")" 'seen    Blackout: incident electricity type power_loss P1 or higher within 1800s after grid-power-loss -- P1-' \
	"earthquake: the blackout line names its incident"
expect_match "$(cat "$WORK/telecom_misconfig.txt")" 'seen    Logistics warned of the misconfiguration: advisory logistics from telecom' \
	"telecom: the logistics advisory"

# 1b. A capture, at another speed than the file says.
"$BIN/ceptor-gen" scan "$WORK/scan.pcap" --src 198.51.100.23 --dst 192.0.2.10 \
	--ports 40 --noise 100 --seed 7 2>/dev/null
cat >"$WORK/pcap.yml" <<YML
name: A port scan from a capture
speed: 1
inputs:
  - name: bank-tap
    at: 0
    format: pcap
    file: scan.pcap
    sector: finance
expect:
  - incident: finance
    title: Telnet
    within: 60
    after: bank-tap
YML
start=$(date +%s)
EX "$WORK/pcap.yml" --speed 10 >"$WORK/pcap.txt" 2>"$WORK/pcap.err" ||
	fail "pcap scenario: $(cat "$WORK/pcap.txt" "$WORK/pcap.err")"
# The capture's SYN to port 23 is a detection (no correlation window to
# wait for): its incident comes within a publish round.
expect_match "$(cat "$WORK/pcap.txt")" 'seen    incident finance title "Telnet" within 60s -- P' \
	"pcap: the incident from the capture"
expect_match "$(head -1 "$WORK/pcap.txt")" ', speed 10$' "--speed overrides the file"
expect_eq "$(( $(date +%s) - start < 15 ))" 1 "--speed 10: done in seconds"

# 2. --json.
EX tests/scenarios/earthquake.yml --json >"$WORK/eq.json"
expect_eq "$(jq -r '.passed' "$WORK/eq.json")" true "--json: passed"
expect_eq "$(jq -r '[.expectations[] | .outcome] | unique | join(",")' "$WORK/eq.json")" seen \
	"--json: every outcome seen"
expect_eq "$(jq -r '.expectations[] | select(.name == "Blackout") | .priority' "$WORK/eq.json")" P1 \
	"--json: the priority seen"
expect_eq "$(jq -r '[.expectations[] | .delay_s >= 0 and .delay_s <= .within_s] | all' "$WORK/eq.json")" true \
	"--json: every delay within its limit"
expect_eq "$(jq -r '[.extras[] | .kind] | length > 0' "$WORK/eq.json")" true "--json: extras listed"

# 3. Exercise streams only; nothing left behind.
expect_eq "$(redis_cli --raw KEYS 'ceptor:*' | tr -d '\n')" "" "no key under ceptor:"
expect_match "$(redis_cli --raw KEYS 'ceptor-exercise:*' | sort | tr '\n' ' ')" \
	'ceptor-exercise:\{finance\}:incidents' "exercise streams written"
expect_eq "$(redis_cli --raw XRANGE 'ceptor-exercise:{finance}:incidents' - + |
	awk 'prev == "json" { print } { prev = $0 }' | jq -r .exercise | sort -u)" true \
	"every incident document says exercise"
expect_eq "$(ls /dev/shm | grep -c '^ceptor-ex-' || true)" 0 "the runs' rings are unlinked"

# 4. An unmet expectation.
set +e
mkdir "$WORK/tmp"
TMPDIR=$WORK/tmp EX "$HERE/unmet.yml" >"$WORK/unmet.txt" 2>"$WORK/unmet.err"
rc=$?
set -e
expect_eq "$(ls -A "$WORK/tmp")" "" "the run's directory (config, spool, logs) is removed"
cat "$WORK/unmet.txt" | grep -v '^  extra ' || true
expect_eq "$rc" 1 "unmet: exit 1"
expect_match "$(cat "$WORK/unmet.txt")" $'\n  missed  A gas incident that never comes: incident gas within 600s -- nothing matched' \
	"unmet: the missed line"
expect_match "$(cat "$WORK/unmet.txt")" $'\n  seen    Carrier misconfiguration' "unmet: the met one still seen"
expect_eq "$(tail -1 "$WORK/unmet.txt")" "result: 1 of 2 expectations met -- FAILED" "unmet: result line"

# 5. A malformed scenario, a missing one.
set +e
EX "$HERE/malformed.yml" >"$WORK/bad.txt" 2>"$WORK/bad.err"
rc=$?
set -e
expect_eq "$rc" 2 "malformed: exit 2"
expect_match "$(cat "$WORK/bad.err")" "$HERE/malformed.yml:5: at must be a time" "malformed: FILE:LINE of the bad offset"
expect_match "$(cat "$WORK/bad.err")" "$HERE/malformed.yml:10: unknown expectation key \"colour\"" \
	"malformed: FILE:LINE of the unknown key"
expect_eq "$(wc -c <"$WORK/bad.txt")" 0 "malformed: no report"
set +e
EX "$WORK/nope.yml" >/dev/null 2>"$WORK/nope.err"
rc=$?
set -e
expect_eq "$rc" 2 "missing scenario: exit 2"
expect_match "$(cat "$WORK/nope.err")" "nope.yml: cannot open" "missing scenario: named"
echo "exercise scenario: all checks passed"
