#!/usr/bin/env bash
# Scenario: the analysts' page (ceptor-web) over real incidents.
#   1. ceptord --once turns operator reports into incidents in a private
#      redis-server: an electricity outage (spread predicted over the graph
#      of rules/sectors.yml cut at 0.7), a critical report whose rule title
#      carries <script> and <img onerror>, a low one, and a gas outage that
#      the 6 h horizon closes.
#   2. A live ceptord on the same spool and Redis, fed through a ring by a
#      ceptor-feed that watches a directory (an alive collector), sees one
#      rail report twice (versions 1 and 2 of one incident).
#   3. /api/incidents: the open incidents, each once at its latest version,
#      closed ones dropped, in the order that ceptord's own messages give
#      (priority class, then score); /api/graph: the hit and predicted
#      sectors and the edges of the predicted paths; /api/status: the
#      collectors with events and liveness.
#   4. Headless Chromium loads the page: the DOM holds the incidents in rank
#      order, the <script> title as text (no element made of it), the
#      highlighted sectors and the collector rows; the screenshot is a
#      1280x900 PNG with the hit red and predicted orange on it.
#   5. Live: a false-positive verdict closes the rail incident, and the
#      page drops it at its next poll; the collector that stops shows down.
#   6. HTTP: 404, 405 (Allow), 400, 431, HEAD; a non-loopback --listen, a
#      broken sectors file and Redis gone are clear errors.
#
# Needs: BIN (binaries), jq, curl, python3, redis-server, chromium (from
# tools/deps.sh; skipped with a notice when it cannot be installed).
set -euo pipefail
cd "$(dirname "$0")/../../.."
. tests/lib/assert.sh
BIN=${BIN:-build/bin}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/ceptor-web.XXXXXX")
RING=/ceptor-test-web-$$
ENGINE_PID= FEED_PID= WEB_PID= WEB2_PID= CHROME_PID=
. tests/lib/redis.sh
stop_pid() { # pid: TERM, wait up to 5 s, then KILL
	[ -n "$1" ] || return 0
	kill "$1" 2>/dev/null || true
	for _ in $(seq 50); do kill -0 "$1" 2>/dev/null || break; sleep 0.1; done
	kill -9 "$1" 2>/dev/null || true
	wait "$1" 2>/dev/null || true
}
cleanup() {
	stop_pid "$CHROME_PID"
	stop_pid "$WEB_PID"
	stop_pid "$WEB2_PID"
	stop_pid "$FEED_PID"
	stop_pid "$ENGINE_PID"
	redis_stop
	rm -f "/dev/shm${RING}"
	rm -rf "$WORK"
}
trap cleanup EXIT

# Chromium, curl and python3 come from tools/deps.sh (make deps); install
# what is missing.
have_tools() {
	local t
	for t in chromium curl python3 jq; do
		command -v "$t" >/dev/null 2>&1 || return 1
	done
}
if ! have_tools; then
	bash tools/deps.sh ensure >&2 || true
fi
if ! have_tools; then
	echo "notice: chromium, curl, python3 or jq is missing and tools/deps.sh could not install them; skipping the web test"
	exit 0
fi
redis_start

# --- 1. incidents from ceptord --once ----------------------------------------
mkdir "$WORK/rules"
cat >"$WORK/rules/reports.yml" <<'YML'
title: Operator reports a failure
id: web-failure
level: high
logsource: {product: ceptor, category: report}
detection:
  rep: {trigger: serious_failure}
  condition: rep
---
title: <script>document.title='pwned'</script><img src=x onerror="document.body.dataset.pwned=1"> damage found
id: web-damage
level: critical
logsource: {product: ceptor, category: report}
detection:
  rep: {trigger: damage_detected}
  condition: rep
---
title: Secondary damage expected
id: web-secondary
level: low
logsource: {product: ceptor, category: report}
detection:
  rep: {trigger: secondary_damage}
  condition: rep
YML
sed 's/^threshold: .*/threshold: 0.7/' rules/sectors.yml >"$WORK/sectors.yml"
grep -q '^threshold: 0.7$' "$WORK/sectors.yml" || fail "cannot raise the threshold"
PREDICTED=$("$BIN/ceptorctl" impact --sectors "$WORK/sectors.yml" --what-if electricity --json |
	jq -r '[.spread[].sector] | sort | join(" ")')
expect_eq "$PREDICTED" "finance government medical rail telecom water" \
	"the graph's prediction for electricity"

report() { # id ts sector cause type trigger
	printf '{"report_id":"%s","ts":"%s","reporter":{"org":"Operator %s","contacts":{"phone":"+81-3-0000-0001","email":"soc@op.example"}},"sector":"%s","system":{"class":"network_systems"},"cause":{"class":"%s","type":"%s"},"trigger":"%s","tlp":"AMBER","text":"test"}\n' \
		"$1" "$2" "$1" "$3" "$4" "$5" "$6"
}
{
	report GA-1 2026-03-01T23:00:00Z gas disaster power_loss serious_failure
	report EL-1 2026-03-02T08:00:00Z electricity disaster power_loss serious_failure
	report FI-1 2026-03-02T08:01:00Z finance cyber malware damage_detected
	report LO-1 2026-03-02T08:02:00Z logistics unintentional defect secondary_damage
} >"$WORK/reports.json"
cat >"$WORK/ceptor.yml" <<YML
site: web-test
rules: [$WORK/rules]
sectors: $WORK/sectors.yml
redis: $REDIS_URL
spool: $WORK/spool
publish_interval_ms: 200
collectors:
  - kind: ring
    name: ops-ring
    ring: $RING
    sector: rail
    overflow: block
YML
"$BIN/ceptord" --once --rules "$WORK/rules" --sectors "$WORK/sectors.yml" \
	--feed "report:$WORK/reports.json" --redis "$REDIS_URL" --spool "$WORK/spool" \
	--stdout >"$WORK/once.jsonl" 2>"$WORK/once.log" ||
	fail "ceptord --once failed: $(cat "$WORK/once.log")"
incident_msgs() { jq -c 'select(.kind != "advisory")' "$@"; }
id_of() { # rule id
	incident_msgs "$WORK/once.jsonl" | jq -r --arg r "$1" 'select(.rule == $r) | .id' | sort -u
}
EL=$(incident_msgs "$WORK/once.jsonl" | jq -r 'select(.sector == "electricity") | .id' | sort -u)
GA=$(incident_msgs "$WORK/once.jsonl" | jq -r 'select(.sector == "gas") | .id' | sort -u)
FI=$(id_of web-damage)
LO=$(id_of web-secondary)
for v in EL GA FI LO; do
	expect_match "${!v}" '^P[1-5]-2026-[0-9]{6}$' "$v: one incident"
done
expect_eq "$(incident_msgs "$WORK/once.jsonl" | jq -r --arg id "$GA" 'select(.id == $id) | .status' | sort -u)" \
	closed "the gas incident is closed (6 h without evidence)"

# --- 2. a live ceptord, a collector process, an incident with two versions -
"$BIN/ceptord" -c "$WORK/ceptor.yml" --stdout >"$WORK/live.jsonl" 2>"$WORK/engine.log" &
ENGINE_PID=$!
wait_status() { # jq filter on status.json, what
	for _ in $(seq 100); do
		jq -e "$1" "$WORK/spool/status.json" >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	fail "waited 10 s for $2: $(cat "$WORK/spool/status.json" "$WORK/engine.log" 2>/dev/null)"
}
wait_status '.state == "running"' "ceptord running"
mkdir "$WORK/inbox"
"$BIN/ceptor-feed" --format jsonl --watch "$WORK/inbox" --ring "$RING" \
	--source ops-ring 2>"$WORK/feed.log" &
FEED_PID=$!
wait_status '.inputs[] | select(.name == "ops-ring") | .producer.alive' "an alive collector"
rail_report() { # n: the same report id, later each time
	local ts
	ts=$(date -u -d "-$((10 - $1)) min" +%Y-%m-%dT%H:%M:%S.000000Z)
	printf '{"ts":"%s","kind":"report","type":"defect","trigger":"serious_failure","report_id":"RA-1","reporter":"rail-op","sector":"rail","reliability":"C","credibility":"3","text":"version %s"}\n' \
		"$ts" "$1" >"$WORK/rail.tmp"
	mv "$WORK/rail.tmp" "$WORK/inbox/rail-$1.jsonl"
}
wait_live() { # jq select filter on the live messages, what
	for _ in $(seq 100); do
		[ -n "$(incident_msgs "$WORK/live.jsonl" | jq -c "select($1)" 2>/dev/null)" ] && return 0
		kill -0 "$ENGINE_PID" 2>/dev/null || fail "ceptord died: $(cat "$WORK/engine.log")"
		sleep 0.1
	done
	fail "$2 not within 10 s: $(cat "$WORK/engine.log" "$WORK/feed.log")"
}
rail_report 1
wait_live '.sector == "rail" and .version == 1' "the rail incident"
RA=$(incident_msgs "$WORK/live.jsonl" | jq -r 'select(.sector == "rail") | .id' | head -1)
rail_report 2
wait_live ".id == \"$RA\" and .version == 2" "version 2 of $RA"
expect_eq "$(redis_cli XLEN 'ceptor:{rail}:incidents' | tr -d ' ')" \
	"$(incident_msgs "$WORK/once.jsonl" "$WORK/live.jsonl" | jq -r 'select(.stream == "ceptor:{rail}:incidents") | .id' | wc -l)" \
	"rail stream holds every version"

# --- 3. the JSON endpoints ---------------------------------------------------
"$BIN/ceptor-web" --listen 127.0.0.1:0 --redis "$REDIS_URL" --spool "$WORK/spool" \
	--sectors "$WORK/sectors.yml" 2>"$WORK/web.log" &
WEB_PID=$!
for _ in $(seq 50); do
	grep -q 'serving http://' "$WORK/web.log" && break
	kill -0 "$WEB_PID" 2>/dev/null || fail "ceptor-web died: $(cat "$WORK/web.log")"
	sleep 0.1
done
URL=$(sed -n 's|.*serving \(http://127\.0\.0\.1:[0-9]*/\).*|\1|p' "$WORK/web.log")
expect_match "$URL" '^http://127\.0\.0\.1:[0-9]+/$' "ceptor-web's address"
PORT=${URL##*:}
PORT=${PORT%/}

# What the page must list, from ceptord's own messages: the latest version
# of each id, closed ones out, by class, score, confidence, the most
# recently seen, id.
EXPECTED=$(incident_msgs "$WORK/once.jsonl" "$WORK/live.jsonl" | jq -rs '
	group_by(.id) | map(max_by(.version)) | map(select(.status != "closed"))
	| sort_by([(.priority[1:] | tonumber), -.score, -.confidence,
		-(.last_seen | sub("\\.[0-9]+Z$"; "Z") | fromdate), .id])
	| map(.id) | join(" ")')
curl -sS -D "$WORK/inc.h" "${URL}api/incidents" >"$WORK/inc.json"
expect_match "$(head -1 "$WORK/inc.h")" '^HTTP/1.1 200' "/api/incidents status"
expect_match "$(cat "$WORK/inc.h")" 'Content-Type: application/json' "/api/incidents type"
expect_eq "$(grep -i '^content-length:' "$WORK/inc.h" | tr -dc 0-9)" "$(stat -c %s "$WORK/inc.json")" \
	"Content-Length = body"
expect_eq "$(jq -r '[.incidents[].id] | join(" ")' "$WORK/inc.json")" "$EXPECTED" \
	"open incidents in rank order"
expect_eq "$(jq -r '.incidents[0].id' "$WORK/inc.json")" "$EL" "the electricity outage ranks first"
expect_match "$(jq -r '[.incidents[].priority] | unique | length' "$WORK/inc.json")" '^[3-9]$' \
	"the list spans several priority classes"
expect_eq "$(jq -r "[.incidents[] | select(.id == \"$GA\")] | length" "$WORK/inc.json")" 0 \
	"the closed gas incident is dropped"
expect_eq "$(jq -r "[.incidents[] | select(.id == \"$RA\") | .version] | join(\" \")" "$WORK/inc.json")" 2 \
	"$RA listed once, at version 2"
expect_eq "$(jq -r '[.incidents[].rank] == [range(1; (.incidents | length) + 1)]' "$WORK/inc.json")" true \
	"ranks 1..n"
expect_eq "$(jq -r '.incidents | map([(.priority[1:] | tonumber), -.score]) | . == sort' "$WORK/inc.json")" true \
	"sorted by class, then score"
expect_eq "$(jq -r "[.incidents[] | select(.id == \"$FI\") | .title][0]" "$WORK/inc.json")" \
	"$(sed -n 's/^title: \(<script>.*\)$/\1/p' "$WORK/rules/reports.yml")" "the <script> title, verbatim in JSON"
expect_eq "$(jq -r "[.incidents[] | select(.id == \"$EL\") | .impact[].sector] | sort | join(\" \")" "$WORK/inc.json")" \
	"$PREDICTED" "the electricity incident's predicted spread"

curl -sS "${URL}api/graph" >"$WORK/graph.json"
HIT=$(jq -r '.incidents[].sector' "$WORK/inc.json" | sort -u | tr '\n' ' ' | sed 's/ $//')
expect_eq "$(jq -r '.hit | sort | join(" ")' "$WORK/graph.json")" "$HIT" "hit sectors"
WANT_PRED=$(jq -r '[.incidents[].impact[].sector] | unique | .[]' "$WORK/inc.json" |
	grep -vxF -f <(tr ' ' '\n' <<<"$HIT") | tr '\n' ' ' | sed 's/ $//')
expect_eq "$(jq -r '.predicted | sort | join(" ")' "$WORK/graph.json")" "$WANT_PRED" "predicted sectors"
expect_match "$WANT_PRED" 'telecom' "telecom among the predicted"
expect_eq "$(jq -r '.sectors | length' "$WORK/graph.json")" 10 "ten sector nodes"
expect_eq "$(jq -r '.edges | length' "$WORK/graph.json")" \
	"$("$BIN/ceptorctl" graph --sectors "$WORK/sectors.yml" | grep -c '^ *"[a-z]*" -> "[a-z]*"')" "every edge of the graph"
expect_eq "$(jq -r '.edges[] | select(.from == "electricity" and .to == "telecom") | .spread' "$WORK/graph.json")" \
	true "electricity -> telecom is on a predicted path"
NONE=$(jq -r '[.sectors[] | select(.state == "none") | .name] | sort | join(" ")' "$WORK/graph.json")
expect_match "$NONE" '[a-z]' "some sectors unaffected"

# status.json is rewritten once a second, and incidents now go out at
# once: wait for the tick that counted the collector's two events.
for _ in $(seq 50); do
	curl -sS "${URL}api/status" >"$WORK/status.json"
	[ "$(jq -r '.inputs[] | select(.name == "ops-ring") | .events' "$WORK/status.json")" = 2 ] && break
	sleep 0.1
done
expect_eq "$(jq -r '.running' "$WORK/status.json")" true "status: ceptord running"
expect_eq "$(jq -r '.site' "$WORK/status.json")" web-test "status: site"
expect_eq "$(jq -r '.inputs[] | select(.name == "ops-ring") | .kind + " " + (.alive | tostring)' "$WORK/status.json")" \
	"ring true" "status: the collector, alive"
expect_eq "$(jq -r '.inputs[] | select(.name == "ops-ring") | .events' "$WORK/status.json")" 2 \
	"status: the collector's events"
expect_eq "$(jq -r '.inputs[] | select(.name == "ops-ring") | .drops' "$WORK/status.json")" 0 \
	"status: no drops"

# -c: Redis, spool and sector graph from ceptord's own configuration.
"$BIN/ceptor-web" -c "$WORK/ceptor.yml" --listen 127.0.0.1:0 2>"$WORK/web-c.log" &
WEB2_PID=$!
for _ in $(seq 50); do
	grep -q 'serving http://' "$WORK/web-c.log" && break
	sleep 0.1
done
URL2=$(sed -n 's|.*serving \(http://127\.0\.0\.1:[0-9]*/\).*|\1|p' "$WORK/web-c.log")
expect_match "$URL2" '^http://127\.0\.0\.1:[0-9]+/$' "-c: ceptor-web's address"
expect_eq "$(curl -sS "${URL2}api/status" | jq -r .site)" web-test "-c: the config's spool"
expect_eq "$(curl -sS "${URL2}api/graph" | jq -r .threshold)" 0.7 "-c: the config's sector graph"
expect_eq "$(curl -sS "${URL2}api/incidents" | jq -r '[.incidents[].id] | join(" ")')" "$EXPECTED" \
	"-c: the config's Redis"
stop_pid "$WEB2_PID"
WEB2_PID=
rc=0
printf 'site: [broken\n' >"$WORK/broken-cfg.yml"
"$BIN/ceptor-web" -c "$WORK/broken-cfg.yml" 2>"$WORK/broken-cfg.err" || rc=$?
expect_eq "$rc" 1 "-c: a broken configuration stops ceptor-web"
expect_match "$(cat "$WORK/broken-cfg.err")" "broken-cfg\.yml:[0-9]+" "-c: FILE:LINE of the configuration"

# --- 4. the page in headless Chromium ----------------------------------------
chrome() { # output file, then chromium options
	local out=$1
	shift
	timeout 90 chromium --headless --no-sandbox --disable-gpu --no-first-run \
		--user-data-dir="$WORK/chrome" --virtual-time-budget=5000 "$@" \
		>"$out" 2>>"$WORK/chrome.log" &
	CHROME_PID=$!
	wait "$CHROME_PID" || fail "chromium failed: $(tail -5 "$WORK/chrome.log")"
	CHROME_PID=
}
chrome "$WORK/dom.html" --dump-dom "$URL"
DOM=$(cat "$WORK/dom.html")
expect_match "$DOM" 'data-polls="[1-9]' "the page's script ran and polled"
expect_eq "$(grep -o '<tr class="incident" data-id="[^"]*"' "$WORK/dom.html" | sed 's/.*data-id="//; s/"$//' | tr '\n' ' ' | sed 's/ $//')" \
	"$EXPECTED" "DOM: incident rows in rank order"
expect_match "$DOM" '&lt;script&gt;document\.title=.pwned.&lt;/script&gt;&lt;img src=x onerror=' \
	"DOM: the <script> title as text"
if grep -q '<img' "$WORK/dom.html" || grep -q 'data-pwned' "$WORK/dom.html" ||
	grep -q '<title>pwned' "$WORK/dom.html"; then
	fail "DOM: the title was interpreted as markup"
fi
echo "  ok: DOM: no element made from the title"
for s in $HIT; do
	expect_match "$DOM" "<g class=\"sector hit\" data-sector=\"$s\" data-state=\"hit\">" "DOM: $s hit"
done
for s in $WANT_PRED; do
	expect_match "$DOM" "<g class=\"sector predicted\" data-sector=\"$s\" data-state=\"predicted\">" \
		"DOM: $s predicted"
done
for s in $NONE; do
	expect_match "$DOM" "<g class=\"sector none\" data-sector=\"$s\" data-state=\"none\">" "DOM: $s unaffected"
done
expect_match "$DOM" '<circle [^>]*fill="#d32f2f"' "DOM: a red node"
expect_match "$DOM" '<path [^>]*class="edge spread" data-from="electricity" data-to="telecom"' \
	"DOM: the electricity -> telecom edge highlighted"
expect_match "$DOM" '<tr class="input live" data-name="ops-ring" data-alive="true">' \
	"DOM: the collector row, alive"
expect_match "$DOM" '<td class="num events">2</td>' "DOM: the collector's events"

chrome "$WORK/chrome.out" --window-size=1280,900 --screenshot="$WORK/page.png" "$URL"
python3 tests/integration/web/png_check.py "$WORK/page.png" 1280 900 d32f2f f57c00 ||
	fail "the screenshot"
echo "  ok: screenshot 1280x900, not blank, red and orange nodes"
# CEPTOR_WEB_SCREENSHOT=FILE keeps the screenshot for a human to look at.
if [ -n "${CEPTOR_WEB_SCREENSHOT:-}" ]; then cp "$WORK/page.png" "$CEPTOR_WEB_SCREENSHOT"; fi

# --- 5. live: a verdict closes the rail incident, the collector stops --------
"$BIN/ceptorctl" feedback --spool "$WORK/spool" "$RA" false-positive >/dev/null ||
	fail "ceptorctl feedback failed"
wait_live ".id == \"$RA\" and .status == \"closed\"" "closing $RA"
for _ in $(seq 50); do
	curl -sS "${URL}api/incidents" >"$WORK/inc2.json"
	jq -e "[.incidents[] | select(.id == \"$RA\")] | length == 0" "$WORK/inc2.json" >/dev/null && break
	sleep 0.2
done
expect_eq "$(jq -r "[.incidents[] | select(.id == \"$RA\")] | length" "$WORK/inc2.json")" 0 \
	"$RA dropped once closed (versions 1 and 2 still in Redis)"
chrome "$WORK/dom2.html" --dump-dom "$URL"
if grep -q "data-id=\"$RA\"" "$WORK/dom2.html"; then fail "the page still shows $RA"; fi
echo "  ok: the page no longer shows $RA"
stop_pid "$FEED_PID"
FEED_PID=
wait_status '.inputs[] | select(.name == "ops-ring") | .producer.alive == false' "the collector gone"
expect_eq "$(curl -sS "${URL}api/status" | jq -r '.inputs[] | select(.name == "ops-ring") | .alive')" false \
	"status: the stopped collector is down"
stop_pid "$ENGINE_PID"
ENGINE_PID=
expect_eq "$(curl -sS "${URL}api/status" | jq -r '.state + " " + (.running | tostring)')" "stopped false" \
	"status: ceptord stopped"

# --- 6. HTTP and failures -------------------------------------------------------
code() { curl -s -o /dev/null -w '%{http_code}' "$@"; }
# A client that sends half a request holds no one else up.
exec 6<>"/dev/tcp/127.0.0.1/$PORT"
printf 'GET / HTTP/1.1\r\n' >&6
expect_eq "$(code --max-time 3 "${URL}api/graph")" 200 "a half-sent request blocks no one"
exec 6<&-
expect_eq "$(code "${URL}nope")" 404 "unknown path: 404"
expect_eq "$(code "${URL}api/incidents/x")" 404 "unknown API path: 404"
expect_eq "$(code -X POST "${URL}api/incidents")" 405 "POST: 405"
expect_match "$(curl -s -D - -o /dev/null -X DELETE "$URL")" 'Allow: GET, HEAD' "405 names the methods"
expect_eq "$(code -H "X-Big: $(head -c 9000 /dev/zero | tr '\0' a)" "$URL")" 431 "oversized head: 431"
raw() { # bytes to send: what the server answers (it closes after one reply)
	local out
	exec 5<>"/dev/tcp/127.0.0.1/$PORT"
	printf '%b' "$1" >&5
	out=$(timeout 5 cat <&5 | tr -d '\r')
	exec 5<&-
	printf '%s' "$out"
}
expect_match "$(raw 'GARBAGE\r\n\r\n')" '^HTTP/1.1 400' "malformed request line: 400"
expect_match "$(raw 'GET nothing HTTP/1.1\r\n\r\n')" '^HTTP/1.1 400' "a target without /: 400"
head_reply=$(raw "HEAD / HTTP/1.1\r\nHost: localhost:$PORT\r\n\r\n")
expect_match "$head_reply" 'Content-Type: text/html; charset=utf-8' "HEAD /: the page's type"
expect_match "$head_reply" "Content-Length: $(curl -s "$URL" | wc -c)" "HEAD /: the page's length"
expect_eq "$(sed -n '/^$/,$p' <<<"$head_reply" | tr -d '\n')" "" "HEAD: no body"
# DNS rebinding: a page whose name was pointed at 127.0.0.1 is refused.
expect_eq "$(curl -s -o /dev/null -w '%{http_code}' -H "Host: evil.example:$PORT" "${URL}api/incidents")" 421 \
	"a foreign Host name: 421"
expect_eq "$(curl -s -o /dev/null -w '%{http_code}' -H "Host: 127.0.0.1:$PORT" "${URL}api/status")" 200 \
	"the loopback Host: 200"
expect_match "$(curl -s -D - -o /dev/null "$URL")" "Content-Security-Policy: default-src 'none'; script-src 'self'" \
	"the page's Content-Security-Policy"
expect_match "$(curl -s -D - -o /dev/null "${URL}app.js")" 'Content-Type: text/javascript' "app.js type"

redis_stop
sleep 0.6 # past the 0.5 s snapshot cache
expect_eq "$(code "${URL}api/incidents")" 503 "Redis gone: 503"
expect_match "$(curl -s "${URL}api/incidents" | jq -r .error)" "^Redis at 127\.0\.0\.1:[0-9]+: " \
	"Redis gone: the error names Redis"
expect_match "$(curl -s "${URL}api/graph" | jq -r .incidents_error)" "^Redis at " \
	"Redis gone: the graph still answers, saying why"
rc=0
timeout 5 "$BIN/ceptor-web" --listen "127.0.0.1:$PORT" --sectors "$WORK/sectors.yml" \
	2>"$WORK/busy.err" || rc=$?
expect_eq "$rc" 1 "a port in use: exit 1"
expect_match "$(cat "$WORK/busy.err")" "cannot listen on 127\.0\.0\.1:$PORT: Address already in use" \
	"a port in use: the error names the address"
stop_pid "$WEB_PID"
WEB_PID=

rc=0
"$BIN/ceptor-web" --listen 0.0.0.0:0 --sectors "$WORK/sectors.yml" 2>"$WORK/remote.err" || rc=$?
expect_eq "$rc" 2 "a non-loopback address is refused"
expect_match "$(cat "$WORK/remote.err")" "not a loopback address.*--allow-remote" "refusal says why"
printf 'version: 1\nthreshold: 2\n' >"$WORK/broken.yml"
rc=0
"$BIN/ceptor-web" --listen 127.0.0.1:0 --sectors "$WORK/broken.yml" 2>"$WORK/broken.err" || rc=$?
expect_eq "$rc" 1 "a broken sectors file stops ceptor-web"
expect_match "$(cat "$WORK/broken.err")" "broken\.yml:[0-9]+: " "FILE:LINE of the sectors file"
rc=0
"$BIN/ceptor-web" --listen 127.0.0.1:0 --redis 'redis://:x@' --sectors "$WORK/sectors.yml" \
	2>"$WORK/url.err" || rc=$?
expect_eq "$rc" 2 "a bad Redis URL is a usage error"
echo "web scenario: all checks passed"
