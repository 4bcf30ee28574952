#!/usr/bin/env bash
# Scenario: ceptord's Prometheus endpoint (deploy/METRICS.md).  A live
# ceptord (not --once) with --metrics on a free loopback port and two ring
# inputs: a ceptor-feed process sends N jsonl events, five of them C2
# contacts that a rule turns into five incidents, and a ceptor-pcap
# process overflows a 64-record ring under --overflow drop.  Scraped with
# curl, the text must
#   - parse line by line as exposition format 0.0.4, with HELP and TYPE for
#     every family, valid names, counters in _total (check_format.py, which
#     also runs the Python client's parser; promtool too when installed);
#   - count what was fed: events in = N for the feed, ring drops = what the
#     collector says it had refused, rule matches = 5, and incidents by
#     priority equal to the priorities of the incidents in Redis;
#   - never go down between two scrapes for any counter;
# and the server answers several scrapes in a row, 404 for another path,
# 405 for another method, 431 for an oversized request, and goes away with
# ceptord on SIGTERM (exit 0, even with a client holding a connection).
# The Grafana dashboard must be valid JSON naming only metrics the scrape
# has, and a bad `metrics:` value must fail --check with FILE:LINE.
#
# Needs: BIN, curl, jq, redis-server, python3-prometheus-client (all from
# tools/deps.sh); promtool optional.  Every wait is bounded (15 s).
set -euo pipefail
cd "$(dirname "$0")/../../.."
. tests/lib/assert.sh
BIN=${BIN:-build/bin}
HERE=tests/integration/metrics
DASH=deploy/grafana/ceptor.json
WORK=$(mktemp -d "${TMPDIR:-/tmp}/ceptor-metrics.XXXXXX")
RING_FEED=/ceptor-test-metrics-feed-$$
RING_TAP=/ceptor-test-metrics-tap-$$
ENGINE_PID=
HOLD_OPEN=0
. tests/lib/redis.sh
cleanup() {
	[ "$HOLD_OPEN" = 1 ] && exec 5<&- 5>&- 2>/dev/null
	if [ -n "$ENGINE_PID" ]; then
		kill "$ENGINE_PID" 2>/dev/null || true
		wait "$ENGINE_PID" 2>/dev/null || true
	fi
	redis_stop
	rm -f "/dev/shm${RING_FEED}" "/dev/shm${RING_TAP}"
	rm -rf "$WORK"
}
trap cleanup EXIT
for tool in curl jq /usr/bin/python3; do
	command -v "$tool" >/dev/null || fail "$tool is missing: run tools/deps.sh"
done
/usr/bin/python3 -c 'import prometheus_client.parser' 2>/dev/null ||
	fail "python3-prometheus-client is missing: run tools/deps.sh"
redis_start

# ---- 1. The config key: --check names FILE:LINE for a bad value ----------
mkdir "$WORK/rules"
cat >"$WORK/rules/c2.yml" <<'YML'
title: Botnet C2 contact
id: metrics-c2
level: high
logsource: {product: ceptor}
detection:
  sel: {type: c2}
  condition: sel
---
title: Intrusion into plant control
id: metrics-intrusion
level: critical
logsource: {product: ceptor}
detection:
  sel: {type: intrusion}
  condition: sel
YML
check_config() { # VALUE [EXTRA LINE]: run --check on a config with metrics: VALUE
	printf 'rules: %s\nredis: none\nspool: %s\nmetrics: %s\n%s\n' \
		"$WORK/rules" "$WORK/spool-check" "$1" "${2:-}" >"$WORK/check.yml"
	rc=0
	"$BIN/ceptord" -c "$WORK/check.yml" --check >"$WORK/check.out" 2>"$WORK/check.err" || rc=$?
}
check_config 127.0.0.1:9464
expect_eq "$rc" 0 "--check accepts metrics: 127.0.0.1:9464"
check_config "\"[::1]:9464\"" # quoted: [ starts a YAML list
expect_eq "$rc" 0 "--check accepts metrics: [::1]:9464"
check_config off
expect_eq "$rc" 0 "--check accepts metrics: off"
check_config 127.0.0.1
expect_eq "$rc" 1 "--check refuses a metrics address without a port"
expect_match "$(cat "$WORK/check.err")" "^$WORK/check.yml:4: metrics must be off or ADDR:PORT" \
	"no port: FILE:LINE"
check_config 127.0.0.1:99999
expect_eq "$rc" 1 "--check refuses port 99999"
expect_match "$(cat "$WORK/check.err")" "check.yml:4: .*port must be a number from 1 to 65535" \
	"bad port: FILE:LINE"
check_config metrics.example:9464
expect_eq "$rc" 1 "--check refuses a host name"
expect_match "$(cat "$WORK/check.err")" "check.yml:4: .*is not an IP address" "host name: FILE:LINE"
check_config 192.0.2.7:9464
expect_eq "$rc" 1 "--check refuses a non-loopback address"
expect_match "$(cat "$WORK/check.err")" "check.yml:4: metrics address 192.0.2.7 is not a loopback address.*metrics_public: true" \
	"non-loopback: FILE:LINE and the way out"
check_config 192.0.2.7:9464 "metrics_public: true"
expect_eq "$rc" 0 "--check accepts a non-loopback address with metrics_public: true"
check_config 127.0.0.1:9464 "metrics_public: maybe"
expect_eq "$rc" 1 "--check refuses metrics_public: maybe"
expect_match "$(cat "$WORK/check.err")" "check.yml:5: metrics_public must be true or false" \
	"metrics_public: FILE:LINE"
rc=0
"$BIN/ceptord" --rules "$WORK/rules" --redis none --metrics 0.0.0.0:9464 --check \
	>/dev/null 2>"$WORK/cli.err" || rc=$?
expect_eq "$rc" 2 "--metrics 0.0.0.0:9464 without --metrics-public is a usage error"
expect_match "$(cat "$WORK/cli.err")" "not a loopback address.*--metrics-public" "the command line says why"

# ---- 2. A live engine on a free loopback port -----------------------------
cat >"$WORK/ceptor.yml" <<YML
site: metrics-test
redis: $REDIS_URL
spool: $WORK/spool
rules: $WORK/rules
sectors: none
ring_capacity: 64
publish_interval_ms: 200
collectors:
  - kind: ring
    name: feed-a
    ring: $RING_FEED
    sector: finance
  - kind: ring
    name: tap-edge
    ring: $RING_TAP
    sector: telecom
    overflow: drop
YML
PORT=
for attempt in 1 2 3 4 5 6 7 8; do
	port=$((20000 + (RANDOM * 32768 + RANDOM) % 40000))
	(exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && continue # taken
	"$BIN/ceptord" -c "$WORK/ceptor.yml" --metrics "127.0.0.1:$port" \
		2>"$WORK/engine.log" &
	ENGINE_PID=$!
	for _ in $(seq 150); do
		curl -sf -o /dev/null "http://127.0.0.1:$port/metrics" && { PORT=$port; break; }
		kill -0 "$ENGINE_PID" 2>/dev/null || break
		sleep 0.1
	done
	[ -n "$PORT" ] && break
	kill "$ENGINE_PID" 2>/dev/null || true
	wait "$ENGINE_PID" 2>/dev/null || true
	ENGINE_PID=
	# Only a port taken between the probe and the bind is worth a retry.
	grep -q "Address already in use" "$WORK/engine.log" ||
		fail "ceptord did not serve /metrics: $(cat "$WORK/engine.log")"
done
[ -n "$PORT" ] || fail "no free loopback port for --metrics after 8 tries"
URL="http://127.0.0.1:$PORT/metrics"
echo "  ceptord $ENGINE_PID serves $URL"
expect_match "$(cat "$WORK/engine.log")" "metrics: serving http://127.0.0.1:$PORT/metrics" \
	"ceptord says where it serves"

scrape() { curl -sS --max-time 5 "$URL" -o "$1"; }
value() { # FILE SERIES: the value of one series (exact name and labels)
	awk -v s="$2" '$1 == s { print $2; found = 1 } END { if (!found) print "missing" }' "$1"
}
sum_of() { # FILE FAMILY: the sum of a family's samples
	awk -v n="$2" '$1 ~ "^"n"([{]|$)" { s += $2 } END { print s + 0 }' "$1"
}
wait_value() { # WHAT SERIES EXPECTED
	local i
	for i in $(seq 150); do
		scrape "$WORK/w.txt"
		[ "$(value "$WORK/w.txt" "$2")" = "$3" ] && return 0
		sleep 0.1
	done
	fail "waited 15 s for $1 ($2 = $3); last: $(value "$WORK/w.txt" "$2")"
}

# The first scrape: the format, and nothing counted yet.
scrape "$WORK/s0.txt"
/usr/bin/python3 "$HERE/check_format.py" "$WORK/s0.txt" >"$WORK/families.txt" ||
	fail "the first scrape is not valid exposition format (above)"
echo "  ok: $(wc -l <"$WORK/families.txt") families parse, each with HELP and TYPE"
expect_eq "$(value "$WORK/s0.txt" ceptor_up)" 1 "ceptor_up"
expect_eq "$(value "$WORK/s0.txt" ceptor_events_total)" 0 "no events yet"
expect_eq "$(value "$WORK/s0.txt" ceptor_publisher_enabled)" 1 "publisher enabled"
expect_eq "$(value "$WORK/s0.txt" 'ceptor_input_ring_capacity{input="feed-a",kind="ring"}')" 64 \
	"ring capacity of feed-a"

# Several scrapes in a row, and the headers of one.
codes=$(for _ in $(seq 20); do curl -s -o /dev/null -w '%{http_code} ' "$URL"; done)
expect_eq "$codes" "$(printf '200 %.0s' $(seq 20))" "20 scrapes in a row"
headers=$(curl -sS -D - -o /dev/null "$URL" | tr -d '\r')
expect_match "$headers" "Content-Type: text/plain; version=0.0.4" "content type of format 0.0.4"
expect_match "$headers" "Connection: close" "one request per connection"
expect_eq "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/")" 404 "/ is 404"
expect_eq "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/metricsx")" 404 "/metricsx is 404"
expect_eq "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/status.json")" 404 "/status.json is 404"
expect_eq "$(curl -s -o /dev/null -w '%{http_code}' -X POST "$URL")" 405 "POST /metrics is 405"
expect_eq "$(curl -s -o /dev/null -w '%{http_code}' -I "$URL")" 200 "HEAD /metrics is 200"
expect_eq "$(curl -s -o /dev/null -w '%{http_code}' -H "X-Pad: $(head -c 9000 /dev/zero | tr '\0' a)" "$URL")" \
	431 "a 9 KB request head is refused"
expect_eq "$(curl -s -o /dev/null -w '%{http_code}' "$URL?x=1")" 200 "a query string is ignored"

# ---- 3. Feed events; the counters say what was fed ------------------------
# Five C2 contacts in finance and two intrusions in electricity (other
# severities and sectors: other priorities), the rest plain traffic.
N=40
now=$(date -u +%Y-%m-%dT%H:%M:%S.000000Z)
for i in $(seq 1 $N); do
	if [ "$i" -le 5 ]; then
		echo "{\"ts\":\"$now\",\"kind\":\"feed\",\"type\":\"c2\",\"src_ip\":\"203.0.113.$i\",\"dst_ip\":\"192.0.2.9\",\"sector\":\"finance\"}"
	elif [ "$i" -le 7 ]; then
		echo "{\"ts\":\"$now\",\"kind\":\"report\",\"type\":\"intrusion\",\"src_ip\":\"203.0.113.$((i + 50))\",\"dst_ip\":\"192.0.2.10\",\"sector\":\"electricity\"}"
	else
		echo "{\"ts\":\"$now\",\"kind\":\"flow\",\"type\":\"traffic\",\"src_ip\":\"198.51.100.$i\",\"dst_ip\":\"192.0.2.9\",\"proto\":6,\"dst_port\":443}"
	fi
done >"$WORK/events.jsonl"
"$BIN/ceptor-feed" --format jsonl --ring "$RING_FEED" "$WORK/events.jsonl" 2>"$WORK/feed.err" ||
	fail "ceptor-feed failed: $(cat "$WORK/feed.err")"
wait_value "the feed's events" 'ceptor_input_events_total{input="feed-a",kind="ring"}' "$N"
wait_value "seven incidents" 'ceptor_incident_versions_total{status="open"}' 7
scrape "$WORK/s1.txt"
/usr/bin/python3 "$HERE/check_format.py" "$WORK/s1.txt" >/dev/null ||
	fail "the scrape after events is not valid exposition format (above)"
expect_eq "$(value "$WORK/s1.txt" ceptor_events_total)" "$N" "ceptor_events_total = N"
expect_eq "$(value "$WORK/s1.txt" ceptor_rule_matches_total)" 7 "seven rule hits"
expect_eq "$(value "$WORK/s1.txt" ceptor_signals_total)" 7 "seven signals"
expect_eq "$(sum_of "$WORK/s1.txt" ceptor_incidents_created_total)" 7 "seven incidents created"
expect_eq "$(sum_of "$WORK/s1.txt" ceptor_incidents_open)" 7 "seven incidents open"
expect_eq "$(value "$WORK/s1.txt" 'ceptor_input_drops_total{input="feed-a",kind="ring",where="ring"}')" 0 \
	"a block ring drops nothing"
# By priority: what the analysts' streams say, the latest version of each
# incident on the council's summary stream (every incident not TLP:RED).
redis_cli XRANGE 'ceptor:{council}:incidents' - + >"$WORK/stream.txt"
awk 'prev == "id" { id = $0 } prev == "priority" { pr[id] = $0 } { prev = $0 }
	END { for (i in pr) print pr[i] }' "$WORK/stream.txt" >"$WORK/priorities.txt"
expect_eq "$(wc -l <"$WORK/priorities.txt")" 7 "seven incidents in the council stream"
[ "$(sort -u "$WORK/priorities.txt" | wc -l)" -ge 2 ] ||
	fail "expected incidents of two priorities at least, got: $(sort -u "$WORK/priorities.txt" | tr '\n' ' ')"
for p in 1 2 3 4 5; do
	want=$(grep -cxE "P?$p" "$WORK/priorities.txt" || true)
	expect_eq "$(value "$WORK/s1.txt" "ceptor_incidents_open{priority=\"P$p\"}")" "$want" \
		"open P$p = P$p incidents in the council stream"
	expect_eq "$(value "$WORK/s1.txt" "ceptor_incidents_created_total{priority=\"P$p\"}")" "$want" \
		"created P$p"
done
# An analyst marks one P3 incident a false positive: it is closed and
# republished, and leaves the open gauge (created stays).
P3_ID=$(awk 'prev == "id" { id = $0 } prev == "priority" && $0 == "P3" { print id; exit }
	{ prev = $0 }' "$WORK/stream.txt")
[ -n "$P3_ID" ] || fail "no P3 incident id in the council stream"
"$BIN/ceptorctl" feedback --spool "$WORK/spool" "$P3_ID" false-positive >/dev/null 2>"$WORK/fb.err" ||
	fail "ceptorctl feedback failed: $(cat "$WORK/fb.err")"
wait_value "the closed version" 'ceptor_incident_versions_total{status="closed"}' 1
scrape "$WORK/s1.txt"
expect_eq "$(value "$WORK/s1.txt" 'ceptor_incidents_open{priority="P3"}')" 1 "open P3 after closing $P3_ID"
expect_eq "$(sum_of "$WORK/s1.txt" ceptor_incidents_open)" 6 "six incidents open"
expect_eq "$(value "$WORK/s1.txt" 'ceptor_incidents_created_total{priority="P3"}')" 2 "created P3 stays 2"

# The publisher: every message handed over was acknowledged by Redis.
MSG=$(value "$WORK/s1.txt" ceptor_messages_total)
[ "$MSG" -ge 14 ] || fail "expected at least 14 messages (7 incidents x sector + council), got $MSG"
wait_value "Redis acknowledging every message" ceptor_publish_acked_total "$MSG"
expect_eq "$(value "$WORK/s1.txt" ceptor_redis_connected)" 1 "Redis connected"
expect_eq "$(value "$WORK/s1.txt" ceptor_redis_errors_total)" 0 "no Redis errors"

# A capture process overflows its 64-record ring: drops per input.
"$BIN/ceptor-gen" scan "$WORK/scan.pcap" --src 198.51.100.66 --dst 192.0.2.20 \
	--ports 40 --start-port 1000 --noise 100000 --seed 5 2>/dev/null
"$BIN/ceptor-pcap" -r "$WORK/scan.pcap" --ring "$RING_TAP" --overflow drop \
	2>"$WORK/pcap.err" || fail "ceptor-pcap failed: $(cat "$WORK/pcap.err")"
REFUSED=$(sed -n 's/.* \([0-9][0-9]*\) events refused.*/\1/p' "$WORK/pcap.err")
[ -n "$REFUSED" ] && [ "$REFUSED" -gt 0 ] ||
	fail "the 64-record ring refused nothing: $(cat "$WORK/pcap.err")"
ENQ=$("$BIN/ceptorctl" status --ring "$RING_TAP" --json | jq -r .enqueued)
wait_value "the tap's events" 'ceptor_input_events_total{input="tap-edge",kind="ring"}' "$ENQ"
wait_value "the tap's ring drops" 'ceptor_input_drops_total{input="tap-edge",kind="ring",where="ring"}' "$REFUSED"
echo "  collector: $REFUSED events refused, $ENQ enqueued"
scrape "$WORK/s2.txt"
expect_eq "$(value "$WORK/s2.txt" ceptor_events_total)" "$((N + ENQ))" "events total = feed + tap"
fill=$(value "$WORK/s2.txt" 'ceptor_input_ring_fill_ratio{input="tap-edge",kind="ring"}')
expect_match "$fill" '^0\.[0-9]{6}$|^1\.0{6}$' "ring fill is a ratio in [0, 1]"

# ---- 4. Counters never go down between two scrapes ------------------------
/usr/bin/python3 "$HERE/check_format.py" "$WORK/s2.txt" >"$WORK/families2.txt" ||
	fail "the third scrape is not valid exposition format (above)"
counters=$(awk '$2 == "counter" { print $1 }' "$WORK/families2.txt")
went_down=$(awk -v list="$counters" '
	BEGIN { n = split(list, c, "\n"); for (i = 1; i <= n; i++) counter[c[i]] = 1 }
	/^#/ { next }
	{ name = $1; sub(/[{].*/, "", name); if (!(name in counter)) next }
	FNR == NR { first[$1] = $2; next }
	($1 in first) && $2 + 0 < first[$1] + 0 { print $1 " " first[$1] " -> " $2 }
	($1 in first) { compared++ }
	END { print "compared " compared + 0 > "/dev/stderr" }' "$WORK/s1.txt" "$WORK/s2.txt" 2>"$WORK/cmp.txt")
[ -z "$went_down" ] || fail "counters went down between two scrapes: $went_down"
ncmp=$(sed -n 's/compared //p' "$WORK/cmp.txt")
[ "$ncmp" -ge 30 ] || fail "only $ncmp counter series compared"
echo "  ok: $ncmp counter series, none went down"
[ "$(value "$WORK/s2.txt" ceptor_metrics_scrapes_total)" -gt "$(value "$WORK/s1.txt" ceptor_metrics_scrapes_total)" ] ||
	fail "ceptor_metrics_scrapes_total did not grow"

# promtool, when the machine has it (the prometheus package; not installed
# by tools/deps.sh: ~100 MB with a server for one check).
if command -v promtool >/dev/null; then
	promtool check metrics <"$WORK/s2.txt" || fail "promtool check metrics failed"
	echo "  ok: promtool check metrics"
else
	echo "  notice: promtool not installed; format checked by check_format.py and prometheus_client only"
fi

# ---- 5. The Grafana dashboard ---------------------------------------------
jq empty "$DASH" || fail "$DASH is not valid JSON"
expect_eq "$(jq '.schemaVersion >= 36' "$DASH")" true "dashboard schemaVersion >= 36"
expect_eq "$(jq -r '.templating.list[] | select(.type == "datasource" and .query == "prometheus") | .name' "$DASH")" \
	datasource "a Prometheus datasource variable"
expect_eq "$(jq -r '.templating.list[] | select(.name == "sector") | .type' "$DASH")" custom "a sector variable"
expect_eq "$(jq -r '[.panels[] | select(.datasource.type == "redis-datasource" and .type == "table")
	| .targets[] | select(.command == "xrevrange") | .keyName] | unique | join(" ")' "$DASH")" \
	'ceptor:{$sector}:incidents' "a Redis table panel: XREVRANGE ceptor:{\$sector}:incidents"
# Every panel with a Prometheus query uses the datasource variable.
expect_eq "$(jq '[.panels[] | select(.targets) | select(.datasource.type == "prometheus")
	| select(.datasource.uid != "${datasource}")] | length' "$DASH")" 0 "panels use \$datasource"
# Every metric an expression (or a variable query) names is exported.
# A histogram's series (_bucket, _sum, _count) name its family.
jq -r '[.. | objects | (.expr?, .definition?) | strings] | .[]' "$DASH" |
	grep -o 'ceptor_[a-z_]*' |
	awk -v fam="$WORK/families2.txt" 'BEGIN {
		while ((getline l < fam) > 0) { split(l, f, " "); if (f[2] == "histogram") h[f[1]] = 1 }
	} {
		b = $0; sub(/_(bucket|sum|count)$/, "", b)
		print (b != $0 && b in h) ? b : $0
	}' | sort -u >"$WORK/dash_metrics.txt"
cut -d' ' -f1 "$WORK/families2.txt" | sort -u >"$WORK/exported.txt"
missing=$(comm -23 "$WORK/dash_metrics.txt" "$WORK/exported.txt" | tr '\n' ' ')
[ -z "$missing" ] || fail "the dashboard queries metrics ceptord does not export: $missing"
echo "  ok: the dashboard's $(wc -l <"$WORK/dash_metrics.txt") metrics are all exported"
for want in ceptor_input_events_total ceptor_input_drops_total ceptor_input_ring_fill_ratio \
	ceptor_rule_matches_total ceptor_incidents_open ceptor_publish_acked_total \
	ceptor_spool_bytes ceptor_redis_errors_total ceptor_ingest_to_ack_seconds; do
	grep -qx "$want" "$WORK/dash_metrics.txt" || fail "the dashboard has no panel for $want"
done
echo "  ok: panels for events, drops, ring fill, rule hits, incidents, publish rate, spool, Redis errors, ingest to ack"

# ---- 6. SIGTERM: ceptord stops cleanly, the server thread with it ---------
# A client that opened a connection and sent half a request must not hold
# the stop up: the server thread waits on the client and the stop at once.
exec 5<>"/dev/tcp/127.0.0.1/$PORT"
HOLD_OPEN=1
printf 'GET /metr' >&5
threads=$(ls "/proc/$ENGINE_PID/task" | wc -l)
kill -TERM "$ENGINE_PID"
start=$(date +%s%N)
rc=0
wait "$ENGINE_PID" || rc=$?
ENGINE_PID=
ms=$((($(date +%s%N) - start) / 1000000))
expect_eq "$rc" 0 "ceptord exits 0 on SIGTERM"
# The server thread waits for a client at most CEP_METRICS_IO_MS (2 s) but
# wakes at once for the stop: well under that with the client still there.
[ "$ms" -lt 1900 ] || fail "ceptord took $ms ms to stop (a held client delayed the join?)"
echo "  ok: stopped in $ms ms with $threads threads before (a half-open client held)"
rest=$(timeout 5 cat <&5 || true)
exec 5<&- 5>&-
HOLD_OPEN=0
expect_eq "$rest" "" "the held connection was closed without an answer"
rc=0
curl -s -o /dev/null --max-time 2 "$URL" || rc=$?
expect_eq "$rc" 7 "nothing listens on the port after the stop (curl: cannot connect)"
if grep -E "^ceptord: (error|warn).*metrics" "$WORK/engine.log" >"$WORK/bad.log"; then
	fail "ceptord logged metrics problems: $(cat "$WORK/bad.log")"
fi
echo "metrics: all checks passed"
