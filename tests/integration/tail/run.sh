#!/usr/bin/env bash
# Scenario: `ceptorctl tail` on real incidents that ceptord --once published
# to a private redis-server:
#   1. piped, the ranked table carries no ANSI colour; on a terminal (script
#      gives one) P1 rows are red, and NO_COLOR turns colour off;
#   2. --json prints one JSON object per incident, each once;
#   3. filters: --sector (repeatable and comma lists), --priority P2 (that
#      class or more urgent), --tlp GREEN (that marking or less strict);
#   4. --group: XGROUP CREATE ... MKSTREAM, XREADGROUP; without --ack
#      nothing is acknowledged (XPENDING keeps the count) and the same
#      consumer is shown its pending entries again; --ack acknowledges
#      them (XPENDING 0) and the next read has nothing new; another
#      consumer of the group gets only what is new;
#   5. --follow prints an incident published after it started, once,
#      although it lands on several streams;
#   6. --exercise reads ceptor-exercise: streams only;
#   7. bad options are usage errors (exit 2).
#
# Needs: BIN, jq, script (bsdutils), a redis-server to start.
set -euo pipefail
cd "$(dirname "$0")/../../.."
. tests/lib/assert.sh
BIN=${BIN:-build/bin}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/ceptor-tail.XXXXXX")
. tests/lib/redis.sh
FOLLOW_PID=
cleanup() {
	if [ -n "$FOLLOW_PID" ]; then
		kill "$FOLLOW_PID" 2>/dev/null || true
		wait "$FOLLOW_PID" 2>/dev/null || true
	fi
	redis_stop
	rm -rf "$WORK"
}
trap cleanup EXIT
redis_start
command -v script >/dev/null || fail "script(1) missing (bsdutils)"

report() { # id sector type class trigger tlp rel cred [extra]
	printf '{"report_id":"%s","ts":"2026-05-01T10:00:00Z","reporter":{"org":"Org %s","contacts":{"phone":"+81-3-0000-0000","email":"soc@%s.example"}},"sector":"%s","cause":{"class":"%s","type":"%s"},"trigger":"%s","tlp":"%s","reliability":"%s","credibility":"%s"%s}\n' \
		"$1" "$1" "$1" "$2" "$4" "$3" "$5" "$6" "$7" "$8" "${9:-}"
}
{
	report EL-1 electricity power_loss disaster serious_failure AMBER A 2
	report TE-1 telecom misconfig unintentional serious_failure GREEN B 2
	report LO-1 logistics comm_loss disaster secondary_damage CLEAR C 3
	# No spread: an intrusion is no outage; TLP:RED stays in its sector.
	report FI-1 finance intrusion cyber damage_detected AMBER B 2
	report GA-1 gas defect unintentional serious_failure RED B 2
} >"$WORK/reports.json"
"$BIN/ceptord" --once --rules rules/default --feed "report:$WORK/reports.json" \
	--redis "$REDIS_URL" --spool "$WORK/spool" 2>"$WORK/ceptord.log" ||
	fail "ceptord failed: $(cat "$WORK/ceptord.log")"
T() { "$BIN/ceptorctl" --redis "$REDIS_URL" tail "$@"; }

# What was published, from Redis itself: each incident's own-sector
# message (id priority sector tlp).
truth=$(for k in $(redis_cli --raw KEYS 'ceptor:{*}:incidents' | grep -v council); do
	redis_cli --raw XRANGE "$k" - + | awk 'prev == "json" { print } { prev = $0 }'
done | jq -r '[.id, .priority, .sector, .tlp] | @tsv' | sort -u)
expect_eq "$(wc -l <<<"$truth")" 5 "five incidents published"
EL=$(awk '$3 == "electricity" { print $1 }' <<<"$truth")
TE=$(awk '$3 == "telecom" { print $1 }' <<<"$truth")
LO=$(awk '$3 == "logistics" { print $1 }' <<<"$truth")
FI=$(awk '$3 == "finance" { print $1 }' <<<"$truth")
GA=$(awk '$3 == "gas" { print $1 }' <<<"$truth")
expect_match "$EL" '^P1-' "the power loss is P1"
expect_match "$LO" '^P[3-5]-' "the freight company's loss is P3 or lower"

# 1. Colour only on a terminal.
T >"$WORK/table.txt"
expect_eq "$(grep -c $'\033' "$WORK/table.txt" || true)" 0 "piped: no ANSI escapes"
expect_eq "$(grep -c -e "$EL" -e "$TE" -e "$LO" -e "$FI" -e "$GA" "$WORK/table.txt")" 5 "table: every incident"
expect_eq "$(sed -n 2p "$WORK/table.txt" | awk '{ print $1 }')" "$EL" "table: P1 first"
script -qfec "$BIN/ceptorctl --redis $REDIS_URL tail" /dev/null </dev/null >"$WORK/tty.txt"
expect_match "$(grep "$EL" "$WORK/tty.txt")" $'^\033\\[1;31m' "terminal: P1 row in bold red"
expect_match "$(grep "$EL" "$WORK/tty.txt" | tr -d '\r')" $'\033\\[0m$' "terminal: colour reset at the end of the row"
NO_COLOR=1 script -qfec "$BIN/ceptorctl --redis $REDIS_URL tail" /dev/null </dev/null >"$WORK/nocolor.txt"
expect_eq "$(grep -c $'\033\\[' "$WORK/nocolor.txt" || true)" 0 "NO_COLOR: no colour on a terminal"

# 2. --json: one object per incident.
T --json >"$WORK/all.jsonl"
expect_eq "$(jq -r .id "$WORK/all.jsonl" | sort | tr '\n' ' ')" \
	"$(printf '%s\n' "$EL" "$TE" "$LO" "$FI" "$GA" | sort | tr '\n' ' ')" "--json: each incident once"

# 3. Filters.  An incident is on its own sector's stream and on those of
# the sectors it is predicted to reach.
ids() { jq -r .id | sort | tr '\n' ' '; }
sorted() { printf '%s\n' "$@" | sort | tr '\n' ' '; }
expect_eq "$(T --sector finance --json | ids)" "$(sorted "$EL" "$TE" "$LO" "$FI")" \
	"--sector finance: its own and the outages predicted to reach it"
expect_eq "$(T --sector gas --json | ids)" "$(sorted "$EL" "$TE" "$LO" "$GA")" "--sector gas"
expect_eq "$(T --sector finance,gas --json | ids)" "$(sorted "$EL" "$TE" "$LO" "$FI" "$GA")" "--sector a,b"
expect_eq "$(T --sector gas --sector finance --json | ids)" "$(sorted "$EL" "$TE" "$LO" "$FI" "$GA")" \
	"--sector a --sector b"
want_p2=$(awk '$2 == "P1" || $2 == "P2" { print $1 }' <<<"$truth" | sort | tr '\n' ' ')
expect_eq "$(T --priority P2 --json | ids)" "$want_p2" "--priority P2"
expect_eq "$(T --priority P2 --json | jq -r .priority | sort -u | grep -vc '^P[12]$' || true)" 0 \
	"--priority P2: nothing below P2"
expect_eq "$(T --tlp GREEN --json | ids)" "$(sorted "$TE" "$LO")" "--tlp GREEN: GREEN and CLEAR"
expect_eq "$(T --tlp CLEAR --json | ids)" "$(sorted "$LO")" "--tlp CLEAR"

# 4. Consumer groups.
PEND() { redis_cli XPENDING "$1" analysts | head -1; }
pending_all() { local n=0 k c
	for k in $(redis_cli --raw KEYS 'ceptor:{*}:incidents' | grep -v council); do
		c=$(PEND "$k"); n=$((n + c)); done; echo "$n"; }
T --group analysts --consumer a1 --json >"$WORK/g1.jsonl"
expect_eq "$(ids <"$WORK/g1.jsonl")" "$(sorted "$EL" "$TE" "$LO" "$FI" "$GA")" "group: every incident, once"
expect_eq "$(redis_cli XINFO GROUPS 'ceptor:{unknown}:incidents' | grep -c analysts)" 1 \
	"group created on an empty sector stream too (MKSTREAM)"
entries=$(for k in $(redis_cli --raw KEYS 'ceptor:{*}:incidents' | grep -v council); do
	redis_cli XLEN "$k"; done | awk "{ n += \$1 } END { print n }")
expect_eq "$(pending_all)" "$entries" "no --ack: every entry read is pending"
T --group analysts --consumer a1 --json >"$WORK/g2.jsonl"
expect_eq "$(ids <"$WORK/g2.jsonl")" "$(sorted "$EL" "$TE" "$LO" "$FI" "$GA")" "no --ack: shown again to the same consumer"
expect_eq "$(pending_all)" "$entries" "still pending"
T --group analysts --consumer a1 --json --ack >"$WORK/g3.jsonl"
expect_eq "$(wc -l <"$WORK/g3.jsonl")" 5 "--ack: shown once more"
expect_eq "$(pending_all)" 0 "--ack: nothing pending"
expect_eq "$(T --group analysts --consumer a1)" "no new incidents for group analysts" "then nothing new"
# A filter: what it does not show stays pending.
report TE-2 telecom defect unintentional serious_failure RED B 2 >"$WORK/red.json"
"$BIN/ceptord" --once --rules rules/default --feed "report:$WORK/red.json" \
	--redis "$REDIS_URL" --spool "$WORK/spool" 2>>"$WORK/ceptord.log" || fail "ceptord (RED)"
expect_eq "$(T --group analysts --consumer a2 --tlp AMBER --ack --json | wc -l)" 0 \
	"--tlp AMBER hides the RED incident"
expect_eq "$(PEND 'ceptor:{telecom}:incidents')" 1 "the hidden one is not acknowledged"
expect_eq "$(T --group analysts --consumer a2 --ack --json | jq -r .tlp)" RED \
	"the same consumer sees it without the filter"
expect_eq "$(PEND 'ceptor:{telecom}:incidents')" 0 "and acknowledges it"

# 5. --follow.
T --follow --json >"$WORK/follow.jsonl" 2>"$WORK/follow.err" &
FOLLOW_PID=$!
sleep 1
report EL-9 electricity power_loss disaster serious_failure AMBER A 2 >"$WORK/late.json"
"$BIN/ceptord" --once --rules rules/default --feed "report:$WORK/late.json" \
	--redis "$REDIS_URL" --spool "$WORK/spool" 2>>"$WORK/ceptord.log" || fail "ceptord (late)"
NEW=$(redis_cli --raw XREVRANGE 'ceptor:{electricity}:incidents' + - COUNT 1 |
	awk 'prev == "id" { print } { prev = $0 }')
for _ in $(seq 1 50); do
	grep -q "$NEW" "$WORK/follow.jsonl" && break
	sleep 0.1
done
sleep 1.2 # another round of reads: a copy on a second stream would show now
kill "$FOLLOW_PID"
wait "$FOLLOW_PID" || true
FOLLOW_PID=
expect_eq "$(jq -r .id "$WORK/follow.jsonl" | grep -c "$NEW")" 1 \
	"--follow: the new incident once, though on $(redis_cli --raw KEYS 'ceptor:{*}:incidents' | wc -l) streams"
expect_eq "$(jq -r .id "$WORK/follow.jsonl" | grep -c "$EL" || true)" 1 \
	"--follow: the snapshot first (each incident once)"

# 6. --exercise: the exercise streams only.
expect_eq "$(T --exercise)" "no incidents in ceptor-exercise:{*}:incidents" "--exercise: none yet"
report EX-1 water power_loss disaster serious_failure AMBER B 2 ',"exercise":true' >"$WORK/ex.json"
"$BIN/ceptord" --once --rules rules/default --feed "report:$WORK/ex.json" \
	--redis "$REDIS_URL" --spool "$WORK/spool" 2>>"$WORK/ceptord.log" || fail "ceptord (exercise)"
expect_eq "$(T --exercise --json | jq -r .sector | sort -u | tr '\n' ' ')" "water " "--exercise: the exercise incident"
expect_eq "$(T --json | jq -r .sector | grep -c water || true)" 0 "not in the live tail"

# 7. Usage errors.
set +e
T --priority P9 >/dev/null 2>&1; expect_eq $? 2 "--priority P9"
T --tlp PURPLE >/dev/null 2>&1; expect_eq $? 2 "--tlp PURPLE"
T --ack >/dev/null 2>&1; expect_eq $? 2 "--ack without --group"
T --sector mars >/dev/null 2>&1; expect_eq $? 2 "--sector mars"
set -e
echo "tail scenario: all checks passed"
