#!/usr/bin/env bash
# Scenario: the second channel (engine/alert.h).  Redis is unreachable;
# an electricity outage (P1) and a water misconfiguration (P4) are
# reported.  The P1 incident still leaves through the configured command
# (its JSON on stdin, CEPTOR_ID and CEPTOR_PRIORITY in the environment);
# the P4 one does not; exercises never do; everything waits in the spool
# for Redis.  A failing command is counted and logged, a hung one is
# killed at alert_timeout and does not hold ceptord.
#
# Needs: BIN (binaries), jq.  No Redis on purpose.
set -euo pipefail
cd "$(dirname "$0")/../../.."
. tests/lib/assert.sh
BIN=${BIN:-build/bin}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/ceptor-alert.XXXXXX")
trap '[ -n "${KEEP:-}" ] || rm -rf "$WORK"' EXIT

rep() { # report_id sector system cause type [extra]
	printf '{"report_id":"%s","ts":"2026-03-02T08:00:00Z","reporter":{"org":"Op %s"},"sector":"%s","system":{"class":"%s"},"cause":{"class":"%s","type":"%s"},"trigger":"serious_failure","tlp":"AMBER","reliability":"A","credibility":"1"%s}\n' \
		"$1" "$1" "$2" "$3" "$4" "$5" "${6:-}"
}
{
	rep EL-1 electricity power_management disaster power_loss
	rep WA-1 water water_control unintentional misconfig
	rep EX-1 electricity power_management disaster power_loss ',"exercise":true'
} >"$WORK/reports.json"

# A closed loopback port: nothing listens on port 1.
config() { # alert_command [extra yaml]
	cat >"$WORK/ceptor.yml" <<YML
site: test
rules: [rules/default]
redis: redis://127.0.0.1:1
alert_command: '$1'
${2:-}
YML
}
run() {
	"$BIN/ceptord" -c "$WORK/ceptor.yml" --once --spool "$WORK/spool" \
		--feed "report:$WORK/reports.json" 2>"$WORK/ceptord.log"
}

config 'printf "%s %s " "$CEPTOR_ID" "$CEPTOR_PRIORITY" >>'"$WORK"'/alerts.txt; cat >>'"$WORK"'/alerts.txt'
run || true # the run ends with messages spooled for Redis
[ -s "$WORK/alerts.txt" ] || fail "no alert while Redis was down: $(cat "$WORK/ceptord.log")"
expect_eq "$(awk '{ print $2 }' "$WORK/alerts.txt" | sort -u)" "P1" "only P1/P2 leave on the second channel"
ID=$(awk '{ print $1 }' "$WORK/alerts.txt" | sort -u)
expect_match "$ID" '^P1-2026-[0-9]{6}$' "the alert names the incident"
doc=$(head -1 "$WORK/alerts.txt" | cut -d' ' -f3-)
expect_eq "$(jq -r .id <<<"$doc")" "$ID" "the incident's JSON on stdin"
expect_eq "$(jq -r .sector <<<"$doc")" electricity "the JSON is the electricity outage"
! grep -q '"exercise":true' "$WORK/alerts.txt" || fail "an exercise paged someone"
expect_eq "$(jq -r .alerts.sent "$WORK/spool/status.json")" "$(wc -l <"$WORK/alerts.txt")" \
	"status counts the alerts sent"
ls "$WORK"/spool/*.spool* >/dev/null 2>&1 || ls "$WORK/spool" | grep -q spool ||
	fail "nothing spooled for Redis: $(ls "$WORK/spool")"

# A failing command: counted, logged once per failure.
config 'cat >/dev/null; exit 3'
run || true
expect_eq "$(jq -r .alerts.failed "$WORK/spool/status.json")" 1 "a failing command is counted"
grep -q "alert command for P1-.* failed" "$WORK/ceptord.log" ||
	fail "the failure is not logged: $(cat "$WORK/ceptord.log")"

# A hung command is killed at alert_timeout.
# The command starts a child of its own (as "| mail" would): the whole
# group goes at the timeout, nothing is left behind.
config 'sleep 30 & echo $! >'"$WORK"'/child.pid; wait' 'alert_timeout: 500ms'
start=$(date +%s)
run || true
[ $(( $(date +%s) - start )) -lt 20 ] || fail "a hung alert command held ceptord"
child=$(cat "$WORK/child.pid")
sleep 0.2
# Gone, or a zombie waiting for whoever reaps orphans here.
state=$(ps -o stat= -p "$child" 2>/dev/null | cut -c1)
case $state in "" | Z) ;; *) kill "$child"; fail "the alert command's child $child outlived the timeout" ;; esac
grep -q "alert command for P1-.* timed out" "$WORK/ceptord.log" ||
	fail "the timeout is not logged: $(cat "$WORK/ceptord.log")"

# alert_priority P5 sends the water incident (P3 or below) too; a bad value
# is FILE:LINE.
: >"$WORK/alerts.txt"
config 'printf "%s\n" "$CEPTOR_PRIORITY" >>'"$WORK"'/alerts.txt; cat >/dev/null' 'alert_priority: P5'
run || true
expect_eq "$(wc -l <"$WORK/alerts.txt")" 2 "alert_priority P5: both incidents"
expect_match "$(sort -u "$WORK/alerts.txt" | tr '\n' ' ')" '^P1 P[345] $' "alert_priority P5: P1 and the water one"
config 'true' 'alert_priority: urgent'
if "$BIN/ceptord" --check -c "$WORK/ceptor.yml" >/dev/null 2>"$WORK/check.log"; then
	fail "--check accepted alert_priority: urgent"
fi
expect_match "$(cat "$WORK/check.log")" 'ceptor.yml:5: alert_priority must be one of P1..P5' \
	"FILE:LINE of a bad alert_priority"
echo "alert_channel scenario: all checks passed"
