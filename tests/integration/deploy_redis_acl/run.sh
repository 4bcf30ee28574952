#!/usr/bin/env bash
# Scenario: Redis ACLs from deploy/redis/users.acl (DESIGN.md section 6),
# loaded by a private redis-server with passwords from
# deploy/redis/acl-passwords.sh:
#   1. ceptord --once publishes as ceptor-engine (redis://USER:PASS@...):
#      the incident, the predicted sectors' copies, the advisories and the
#      statistics sets all arrive, and Redis refused nothing;
#   2. ceptor-engine cannot read (XREAD, XRANGE), delete (DEL, XDEL,
#      FLUSHALL), run other commands (SET, CONFIG) or write outside
#      ceptor:* / ceptor-exercise:*;
#   3. analyst-finance keeps a consumer group on its own sector's stream
#      (XGROUP CREATE, XREADGROUP, XACK, XPENDING, XINFO) and reads it
#      (XRANGE, XREVRANGE, XLEN, XREAD), but gets NOPERM on telecom's stream
#      and cannot write, trim or delete its own; ceptorctl tail --sector
#      finance works with its credentials, --sector telecom does not;
#   4. ceptor-council reads the sector streams (ceptor-feed --format redis
#      with credentials in the URL) and cannot write;
#   5. a wrong password is refused: ceptord spools and says why; nobody
#      gets in without a password (user default is off).
#
# Needs: BIN (binaries), jq, redis-server 6 or later, openssl.
set -euo pipefail
cd "$(dirname "$0")/../../.."
. tests/lib/assert.sh
BIN=${BIN:-build/bin}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/ceptor-deploy-acl.XXXXXX")
RPID=
cleanup() {
	if [ -n "$RPID" ]; then
		kill "$RPID" 2>/dev/null || true
		wait "$RPID" 2>/dev/null || true
	fi
	rm -rf "$WORK"
}
trap cleanup EXIT

# The shipped template, with passwords: what an operator installs.
deploy/redis/acl-passwords.sh deploy/redis/users.acl "$WORK/users.acl" \
	"$WORK/pw" 2>/dev/null || fail "acl-passwords.sh failed"
pass() { cat "$WORK/pw/$1.pass"; }
expect_eq "$(stat -c %a "$WORK/pw/ceptor-engine.pass")" 600 "password file mode"
if grep -qF "$(pass ceptor-engine)" "$WORK/users.acl"; then
	fail "the ACL file holds a password in clear"
fi

# A private redis-server with that aclfile on a free loopback port.
for try in $(seq 1 40); do
	PORT=$((20000 + (RANDOM * 32768 + RANDOM) % 40000))
	(exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && continue
	redis-server --port "$PORT" --bind 127.0.0.1 --save '' --appendonly no \
		--daemonize no --dir "$WORK" --logfile "$WORK/redis.log" \
		--aclfile "$WORK/users.acl" &
	RPID=$!
	for i in $(seq 1 50); do
		[ "$(redis-cli -p "$PORT" --user ceptor-admin --pass "$(pass ceptor-admin)" \
			--no-auth-warning PING 2>/dev/null)" = PONG ] && break 2
		kill -0 "$RPID" 2>/dev/null || break
		sleep 0.1
	done
	kill "$RPID" 2>/dev/null || true
	wait "$RPID" 2>/dev/null || true
	RPID=
done
[ -n "$RPID" ] || fail "redis-server did not start with the ACL file: $(tail -3 "$WORK/redis.log")"

as() { # USER redis-cli ARGS...: the reply, errors included
	local user=$1; shift
	redis-cli -p "$PORT" --user "$user" --pass "$(pass "$user")" \
		--no-auth-warning --raw "$@" 2>&1 || true
}
denied() { # USER what ARGS...
	local user=$1 what=$2; shift 2
	expect_match "$(as "$user" "$@")" '^NOPERM' "$user: $what refused"
}
admin() { as ceptor-admin "$@"; }

# 5a. Without a password, nothing.
expect_match "$(redis-cli -p "$PORT" PING 2>&1 || true)" 'NOAUTH' "no password: NOAUTH"

# 1. The engine publishes: an electricity power loss reaches electricity,
# the council, the predicted sectors (finance, telecom among them) and
# their advisories, and the statistics sets.
printf '{"report_id":"EL-1","ts":"2026-03-02T08:00:00Z","reporter":{"org":"Grid Operator East","contacts":{"phone":"+81-3-0000-0001","email":"soc@grid.example"}},"sector":"electricity","system":{"class":"power_management"},"cause":{"class":"disaster","type":"power_loss"},"trigger":"serious_failure","tlp":"AMBER","text":"substation outage"}\n' \
	>"$WORK/report.json"
ENGINE_URL="redis://ceptor-engine:$(pass ceptor-engine)@127.0.0.1:$PORT"
"$BIN/ceptord" --once --rules rules/default --feed "report:$WORK/report.json" \
	--redis "$ENGINE_URL" --spool "$WORK/spool" 2>"$WORK/ceptord.log" ||
	fail "ceptord failed: $(cat "$WORK/ceptord.log")"
if grep -qi 'refused\|NOPERM\|cannot connect' "$WORK/ceptord.log"; then
	fail "Redis refused the engine: $(cat "$WORK/ceptord.log")"
fi
expect_eq "$(admin XLEN 'ceptor:{electricity}:incidents')" 1 "electricity incident arrived"
expect_eq "$(admin XLEN 'ceptor:{council}:incidents')" 1 "council incident arrived"
expect_eq "$(admin XLEN 'ceptor:{finance}:incidents')" 1 "finance copy arrived"
expect_eq "$(admin XLEN 'ceptor:{telecom}:incidents')" 1 "telecom copy arrived"
expect_eq "$(admin XLEN 'ceptor:{finance}:advisories')" 1 "finance advisory arrived"
nstats=$(admin KEYS 'ceptor:{stats:*' | grep -c . || true)
[ "$nstats" -gt 0 ] || fail "no statistics sets (SADD/EXPIRE refused?)"
echo "  ok: $nstats statistics sets written"
expect_match "$(admin TTL "$(admin KEYS 'ceptor:{stats:*' | head -1)")" '^[1-9][0-9]*$' \
	"statistics set has its EXPIRE"
ID=$(admin XRANGE 'ceptor:{finance}:incidents' - + | awk 'p == "id" { print; exit } { p = $0 }')
expect_match "$ID" '^P[1-5]-2026-[0-9]{6}$' "incident id"

# 2. The engine may only append to its own prefixes.
expect_eq "$(as ceptor-engine PING)" PONG "ceptor-engine: PING"
denied ceptor-engine XREAD XREAD STREAMS 'ceptor:{finance}:incidents' 0
denied ceptor-engine XRANGE XRANGE 'ceptor:{finance}:incidents' - +
denied ceptor-engine DEL DEL 'ceptor:{finance}:incidents'
denied ceptor-engine XDEL XDEL 'ceptor:{finance}:incidents' 0-1
denied ceptor-engine XTRIM XTRIM 'ceptor:{finance}:incidents' MAXLEN 0
denied ceptor-engine FLUSHALL FLUSHALL
denied ceptor-engine SET SET 'ceptor:x' 1
denied ceptor-engine "CONFIG GET" CONFIG GET '*'
denied ceptor-engine "XADD outside ceptor:*" XADD 'other:stream' '*' f v
denied ceptor-engine "SADD outside ceptor:*" SADD 'other:set' m
expect_match "$(as ceptor-engine XADD 'ceptor-exercise:{finance}:incidents' '*' f v)" \
	'^[0-9]+-[0-9]+$' "ceptor-engine: XADD to an exercise stream"

# 3. analyst-finance: its own sector's streams, through a consumer group.
F='ceptor:{finance}:incidents'
T='ceptor:{telecom}:incidents'
expect_eq "$(as analyst-finance PING)" PONG "analyst-finance: PING"
expect_eq "$(as analyst-finance XGROUP CREATE "$F" soc 0)" OK "analyst-finance: XGROUP CREATE"
got=$(as analyst-finance XREADGROUP GROUP soc desk1 COUNT 10 STREAMS "$F" '>')
expect_match "$got" "$ID" "analyst-finance: XREADGROUP gets the incident"
entry=$(sed -n 2p <<<"$got")
expect_match "$entry" '^[0-9]+-[0-9]+$' "entry id"
expect_match "$(as analyst-finance XPENDING "$F" soc)" '^1' "analyst-finance: XPENDING"
expect_eq "$(as analyst-finance XACK "$F" soc "$entry")" 1 "analyst-finance: XACK"
expect_match "$(as analyst-finance XINFO GROUPS "$F")" 'soc' "analyst-finance: XINFO GROUPS"
expect_match "$(as analyst-finance XINFO STREAM "$F")" 'length' "analyst-finance: XINFO STREAM"
expect_eq "$(as analyst-finance XLEN "$F")" 1 "analyst-finance: XLEN"
expect_match "$(as analyst-finance XRANGE "$F" - +)" "$ID" "analyst-finance: XRANGE"
expect_match "$(as analyst-finance XREVRANGE "$F" + - COUNT 1)" "$ID" "analyst-finance: XREVRANGE"
expect_match "$(as analyst-finance XREAD COUNT 1 STREAMS 'ceptor:{finance}:advisories' 0)" \
	"$ID" "analyst-finance: XREAD of its advisories"
denied analyst-finance "XREADGROUP on telecom" XREADGROUP GROUP soc desk1 STREAMS "$T" '>'
denied analyst-finance "XRANGE on telecom" XRANGE "$T" - +
denied analyst-finance "XREAD on telecom" XREAD STREAMS "$T" 0
denied analyst-finance "XGROUP CREATE on telecom" XGROUP CREATE "$T" soc 0
denied analyst-finance "XREAD on the council" XREAD STREAMS 'ceptor:{council}:incidents' 0
denied analyst-finance "XADD on its own stream" XADD "$F" '*' f v
denied analyst-finance "DEL of its own stream" DEL "$F"
denied analyst-finance "XDEL on its own stream" XDEL "$F" "$entry"
denied analyst-finance "XTRIM on its own stream" XTRIM "$F" MAXLEN 0
denied analyst-finance "XGROUP DESTROY" XGROUP DESTROY "$F" soc
denied analyst-finance KEYS KEYS '*'
expect_eq "$(admin XLEN "$F")" 1 "finance stream untouched"
# ceptorctl tail, logged in as the analyst.
AF_URL="redis://analyst-finance:$(pass analyst-finance)@127.0.0.1:$PORT"
"$BIN/ceptorctl" tail --sector finance --redis "$AF_URL" >"$WORK/tail.out" 2>&1 ||
	fail "ceptorctl tail as analyst-finance failed: $(cat "$WORK/tail.out")"
expect_match "$(cat "$WORK/tail.out")" "$ID" "ceptorctl tail --sector finance as analyst-finance"
if "$BIN/ceptorctl" tail --sector telecom --redis "$AF_URL" >"$WORK/tail2.out" 2>&1; then
	grep -q "$ID" "$WORK/tail2.out" && fail "ceptorctl tail showed telecom to analyst-finance"
fi
expect_match "$(cat "$WORK/tail2.out")" 'NOPERM' "ceptorctl tail --sector telecom as analyst-finance: NOPERM"
expect_match "$(as analyst-telecom XRANGE "$T" - +)" "$ID" "analyst-telecom reads telecom"
denied analyst-telecom "XRANGE on finance" XRANGE "$F" - +

# 4. The council's feed collector reads the sector streams with its user.
"$BIN/ceptor-feed" --format redis --dump \
	"redis://ceptor-council:$(pass ceptor-council)@127.0.0.1:$PORT/ceptor:{electricity}:incidents" \
	>"$WORK/council.jsonl" 2>"$WORK/council.log" ||
	fail "ceptor-feed as ceptor-council failed: $(cat "$WORK/council.log")"
expect_eq "$(wc -l <"$WORK/council.jsonl")" 1 "ceptor-council: one upstream incident read"
expect_match "$(cat "$WORK/council.jsonl")" '"kind":"incident"' "ceptor-council: as an incident event"
denied ceptor-council XADD XADD 'ceptor:{electricity}:incidents' '*' f v
denied ceptor-council DEL DEL 'ceptor:{electricity}:incidents'
# ... and as a consumer group (XGROUP CREATE, XREADGROUP, XACK).
"$BIN/ceptor-feed" --format redis --dump \
	"redis://ceptor-council:$(pass ceptor-council)@127.0.0.1:$PORT/ceptor:{electricity}:incidents?group=council" \
	>"$WORK/council-group.jsonl" 2>"$WORK/council-group.log" ||
	fail "ceptor-feed as ceptor-council in a group failed: $(cat "$WORK/council-group.log")"
expect_eq "$(wc -l <"$WORK/council-group.jsonl")" 1 "ceptor-council: one incident read as a group"
expect_eq "$(admin XINFO GROUPS 'ceptor:{electricity}:incidents' | awk 'p == "pending" { print; exit } { p = $0 }')" 0 \
	"ceptor-council: the group acknowledged it"

# 5b. A wrong password: refused, spooled, said once.
"$BIN/ceptord" --once --rules rules/default --feed "report:$WORK/report.json" \
	--redis "redis://ceptor-engine:wrong@127.0.0.1:$PORT" --spool "$WORK/spool2" \
	2>"$WORK/wrong.log" || true
expect_match "$(cat "$WORK/wrong.log")" 'WRONGPASS|invalid username-password' \
	"wrong password: the log says why"
if grep -q 'wrong@' "$WORK/wrong.log"; then
	fail "the log shows the password: $(grep 'wrong@' "$WORK/wrong.log")"
fi
expect_eq "$(admin XLEN 'ceptor:{electricity}:incidents')" 1 "wrong password: nothing published"
echo "deploy_redis_acl scenario: all checks passed"
