#!/usr/bin/env bash
# Scenario: ceptord publishes to Redis across hosts through TLS, with the
# stunnel sidecars of deploy/redis (hiredis 0.14 has no TLS), on loopback:
#   ceptord -> 127.0.0.1:CLIENT (stunnel-client.conf, plain)
#           => TLS, both sides verified against a throwaway CA
#           => 127.0.0.1:TLS (stunnel-server.conf) -> redis-server (plain)
#   1. the configurations are deploy/redis's own, with only the paths,
#      ports and the dropped setuid changed for the test;
#   2. a TLS handshake really happens on the TLS port (openssl s_client
#      sees the server certificate; a plain client gets no Redis reply);
#   3. ceptord --once through the tunnel: the incidents arrive in Redis;
#   4. a client that trusts another CA refuses the server, and a client
#      whose certificate comes from another CA is refused by the server:
#      no Redis reply through either;
#   5. the other server side README.md offers: Redis 7's own tls-port
#      (tls-auth-clients yes) behind the same client stunnel.
#
# Needs: BIN (binaries), stunnel4 and openssl (tools/deps.sh), redis-server.
set -euo pipefail
cd "$(dirname "$0")/../../.."
. tests/lib/assert.sh
BIN=${BIN:-build/bin}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/ceptor-deploy-stunnel.XXXXXX")
PIDS=()
. tests/lib/redis.sh
cleanup() {
	local p
	for p in "${PIDS[@]}"; do
		kill "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
	redis_stop
	[ -n "${KEEP:-}" ] || rm -rf "$WORK"
}
trap cleanup EXIT

STUNNEL=$(command -v stunnel4 || command -v stunnel || true)
if [ -z "$STUNNEL" ] || ! command -v openssl >/dev/null; then
	tools/deps.sh ensure >/dev/null 2>&1 || true
	STUNNEL=$(command -v stunnel4 || command -v stunnel || true)
fi
if [ -z "$STUNNEL" ] || ! command -v openssl >/dev/null; then
	echo "notice: stunnel4 or openssl missing and tools/deps.sh could not install them; deploy_stunnel skipped"
	exit 0
fi

# A throwaway PKI: our CA, the Redis host's certificate (redis.isac.example,
# the name stunnel-client.conf checks) and a ceptord host's; and a rogue CA
# with a client certificate of its own.
P=$WORK/pki
mkdir -p "$P"
ec() { echo -newkey ec -pkeyopt ec_paramgen_curve:prime256v1; }
ca() { # NAME CN
	openssl req -x509 $(ec) -nodes -days 2 -subj "/CN=$2" \
		-addext basicConstraints=critical,CA:TRUE \
		-addext keyUsage=critical,keyCertSign,cRLSign \
		-keyout "$P/$1.key" -out "$P/$1.pem" 2>/dev/null
}
leaf() { # NAME CN CA EKU
	openssl req $(ec) -nodes -subj "/CN=$2" -keyout "$P/$1.key" \
		-out "$P/$1.csr" 2>/dev/null
	printf 'subjectAltName=DNS:%s\nextendedKeyUsage=%s\n' "$2" "$4" >"$P/$1.ext"
	openssl x509 -req -in "$P/$1.csr" -CA "$P/$3.pem" -CAkey "$P/$3.key" \
		-CAcreateserial -days 2 -extfile "$P/$1.ext" -out "$P/$1.pem" 2>/dev/null
}
ca ca "ceptor test CA"
ca rogue "some other CA"
leaf server redis.isac.example ca serverAuth
leaf client ceptord.site-a.example ca clientAuth
leaf rogue-client ceptord.site-b.example rogue clientAuth
openssl verify -CAfile "$P/ca.pem" "$P/server.pem" >/dev/null || fail "test PKI: server cert"
if openssl verify -CAfile "$P/ca.pem" "$P/rogue-client.pem" >/dev/null 2>&1; then
	fail "test PKI: the rogue client certificate verifies against our CA"
fi

redis_start
free_tcp_port() {
	local p
	for _ in $(seq 1 50); do
		p=$((20000 + (RANDOM * 32768 + RANDOM) % 40000))
		(exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return 0; }
	done
	return 1
}
TLS_PORT=$(free_tcp_port) || fail "no free port"

# conf SHIPPED OUT ACCEPT CONNECT [sed expressions...]: deploy/redis's file
# with this test's paths and ports; setuid/setgid dropped (the test's
# keys are not the stunnel4 user's).
conf() {
	local in=$1 out=$2 accept=$3 connect=$4
	shift 4
	sed -e "s|/etc/stunnel/ceptor/|$P/|g" \
		-e "s|^accept = .*|accept = 127.0.0.1:$accept|" \
		-e "s|^connect = .*|connect = 127.0.0.1:$connect|" \
		-e '/^setuid =/d' -e '/^setgid =/d' "$@" "$in" >"$out"
	grep -q '^foreground = yes' "$out" || fail "$in: not foreground = yes"
}
# start_stunnel CONF LOG PORT: run it in the foreground (its PID is ours)
# and wait until it accepts.
start_stunnel() {
	"$STUNNEL" "$1" >"$2" 2>&1 &
	PIDS+=("$!")
	local pid=$! i
	for i in $(seq 1 50); do
		(exec 3<>"/dev/tcp/127.0.0.1/$3") 2>/dev/null && return 0
		kill -0 "$pid" 2>/dev/null || fail "stunnel $1 exited: $(cat "$2")"
		sleep 0.1
	done
	fail "stunnel $1 does not accept on $3: $(cat "$2")"
}
conf deploy/redis/stunnel-server.conf "$WORK/server.conf" "$TLS_PORT" "$REDIS_PORT"
start_stunnel "$WORK/server.conf" "$WORK/server.log" "$TLS_PORT"
CLIENT_PORT=$(free_tcp_port) || fail "no free port"
conf deploy/redis/stunnel-client.conf "$WORK/client.conf" "$CLIENT_PORT" "$TLS_PORT"
expect_eq "$(grep -c '^checkHost = redis.isac.example$' "$WORK/client.conf")" 1 \
	"the client checks the server's name"
start_stunnel "$WORK/client.conf" "$WORK/client.log" "$CLIENT_PORT"

# 2. TLS on the wire.
hs=$(openssl s_client -connect "127.0.0.1:$TLS_PORT" -CAfile "$P/ca.pem" \
	-cert "$P/client.pem" -key "$P/client.key" -verify_return_error \
	-servername redis.isac.example </dev/null 2>&1 || true)
expect_match "$hs" 'subject=CN ?= ?redis.isac.example' "the TLS port presents the Redis host's certificate"
expect_match "$hs" 'Verify return code: 0 \(ok\)' "and it verifies against our CA"
plain=$(timeout 5 redis-cli -p "$TLS_PORT" PING 2>&1 || true)
[ "$plain" != PONG ] || fail "plain Redis answered on the TLS port"
echo "  ok: a plain client gets no Redis reply on the TLS port"
expect_eq "$(redis-cli -p "$CLIENT_PORT" PING)" PONG "PING through the tunnel"

# 3. ceptord through the tunnel.
FIRST=2026-03-02T08:00:00Z
printf '{"report_id":"EL-1","ts":"%s","reporter":{"org":"Grid Operator East","contacts":{"phone":"+81-3-0000-0001","email":"soc@grid.example"}},"sector":"electricity","system":{"class":"power_management"},"cause":{"class":"disaster","type":"power_loss"},"trigger":"serious_failure","tlp":"AMBER","text":"substation outage"}\n' \
	"$FIRST" >"$WORK/report.json"
"$BIN/ceptord" --once --rules rules/default --feed "report:$WORK/report.json" \
	--redis "redis://127.0.0.1:$CLIENT_PORT" --spool "$WORK/spool" \
	2>"$WORK/ceptord.log" || fail "ceptord failed: $(cat "$WORK/ceptord.log")"
if grep -q 'cannot connect\|spooling' "$WORK/ceptord.log"; then
	fail "ceptord did not get through: $(cat "$WORK/ceptord.log")"
fi
expect_eq "$(redis_cli XLEN 'ceptor:{electricity}:incidents')" 1 "the incident arrived through TLS"
expect_eq "$(redis_cli XLEN 'ceptor:{council}:incidents')" 1 "the council's copy arrived"
expect_match "$(redis_cli --raw XRANGE 'ceptor:{electricity}:incidents' - + | sed -n 3p)" \
	'^P[1-5]-2026-[0-9]{6}$' "incident id"
expect_match "$(cat "$WORK/server.log")" 'Certificate accepted at depth=0: CN=ceptord.site-a.example' \
	"the server checked the ceptord host's certificate"

# 4. The wrong CA, either way round.
BAD_PORT=$(free_tcp_port) || fail "no free port"
conf deploy/redis/stunnel-client.conf "$WORK/bad-ca.conf" "$BAD_PORT" "$TLS_PORT" \
	-e "s|^CAfile = .*|CAfile = $P/rogue.pem|"
start_stunnel "$WORK/bad-ca.conf" "$WORK/bad-ca.log" "$BAD_PORT"
out=$(timeout 10 redis-cli -p "$BAD_PORT" PING 2>&1 || true)
[ "$out" != PONG ] || fail "a client trusting another CA got through"
echo "  ok: a client trusting another CA gets no reply (\"${out:0:60}\")"
expect_match "$(cat "$WORK/bad-ca.log")" 'certificate verify failed|CERT: Verification error|unable to get local issuer' \
	"and its stunnel says why"

ROGUE_PORT=$(free_tcp_port) || fail "no free port"
conf deploy/redis/stunnel-client.conf "$WORK/rogue.conf" "$ROGUE_PORT" "$TLS_PORT" \
	-e "s|^cert = .*|cert = $P/rogue-client.pem|" -e "s|^key = .*|key = $P/rogue-client.key|"
start_stunnel "$WORK/rogue.conf" "$WORK/rogue.log" "$ROGUE_PORT"
out=$(timeout 10 redis-cli -p "$ROGUE_PORT" PING 2>&1 || true)
[ "$out" != PONG ] || fail "a client with a certificate from another CA got through"
echo "  ok: a client certificate from another CA gets no reply (\"${out:0:60}\")"
expect_match "$(cat "$WORK/server.log")" 'Rejected by CERT at depth=0: CN=ceptord.site-b.example' \
	"and the server's stunnel says why"

# And ceptord through the refused tunnel: nothing published, all spooled.
"$BIN/ceptord" --once --rules rules/default --feed "report:$WORK/report.json" \
	--redis "redis://127.0.0.1:$BAD_PORT" --spool "$WORK/spool-bad" \
	2>"$WORK/ceptord-bad.log" || true
expect_match "$(cat "$WORK/ceptord-bad.log")" 'publisher: .*spooling until it is back' \
	"ceptord reports the broken link and spools"
expect_eq "$(redis_cli XLEN 'ceptor:{electricity}:incidents')" 1 "nothing more arrived"

# 5. Redis terminating TLS itself (README.md, "Redis 7's own TLS"), the
# same client configuration in front of it.
TLS2_PORT=$(free_tcp_port) || fail "no free port"
mkdir -p "$WORK/redis-tls"
redis-server --port 0 --bind 127.0.0.1 --save '' --appendonly no \
	--daemonize no --dir "$WORK/redis-tls" --logfile "$WORK/redis-tls/redis.log" \
	--tls-port "$TLS2_PORT" --tls-cert-file "$P/server.pem" \
	--tls-key-file "$P/server.key" --tls-ca-cert-file "$P/ca.pem" \
	--tls-auth-clients yes --tls-protocols "TLSv1.2 TLSv1.3" &
PIDS+=("$!")
for i in $(seq 1 50); do
	(exec 3<>"/dev/tcp/127.0.0.1/$TLS2_PORT") 2>/dev/null && break
	sleep 0.1
done
C2_PORT=$(free_tcp_port) || fail "no free port"
conf deploy/redis/stunnel-client.conf "$WORK/client2.conf" "$C2_PORT" "$TLS2_PORT"
start_stunnel "$WORK/client2.conf" "$WORK/client2.log" "$C2_PORT"
expect_eq "$(redis-cli -p "$C2_PORT" PING)" PONG "PING through the tunnel to Redis's tls-port"
"$BIN/ceptord" --once --rules rules/default --feed "report:$WORK/report.json" \
	--redis "redis://127.0.0.1:$C2_PORT" --spool "$WORK/spool2" \
	2>"$WORK/ceptord2.log" || fail "ceptord failed: $(cat "$WORK/ceptord2.log")"
expect_eq "$(redis-cli -p "$C2_PORT" XLEN 'ceptor:{electricity}:incidents')" 1 \
	"the incident arrived at Redis's own TLS port"
R2_PORT=$(free_tcp_port) || fail "no free port"
conf deploy/redis/stunnel-client.conf "$WORK/rogue2.conf" "$R2_PORT" "$TLS2_PORT" \
	-e "s|^cert = .*|cert = $P/rogue-client.pem|" -e "s|^key = .*|key = $P/rogue-client.key|"
start_stunnel "$WORK/rogue2.conf" "$WORK/rogue2.log" "$R2_PORT"
out=$(timeout 10 redis-cli -p "$R2_PORT" PING 2>&1 || true)
[ "$out" != PONG ] || fail "Redis's tls-port let in a client certificate from another CA"
echo "  ok: Redis's tls-port refuses a client certificate from another CA (\"${out:0:60}\")"
echo "deploy_stunnel scenario: all checks passed"
