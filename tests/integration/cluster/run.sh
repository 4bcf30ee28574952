#!/usr/bin/env bash
# Scenario: ceptord publishing to a real Redis Cluster (3 masters, 3
# replicas on loopback, tests/lib/cluster.sh), the URL naming one node.
#   a. ceptord --once, one operator report per sector (ten sectors), URL
#      of a replica: cluster mode is detected, every message --stdout
#      prints is in its stream, read back with redis-cli -c, each stream
#      on the master that owns its slot, streams on all three masters.
#   b. A live ceptord fed a stream of reports through a ring.  While it
#      publishes, the slot of ceptor:{council}:incidents (every incident
#      goes there) is migrated to another master by hand (MIGRATING /
#      IMPORTING, MIGRATE, a pause, SETSLOT NODE): the publisher follows
#      ASK, then MOVED.  Then that master is SIGKILLed by PID; its replica
#      takes over and publishing goes on.  At the end every message
#      ceptord produced (its --stdout) is in the cluster, counted by
#      (stream, id, version), unless WAIT reported it at risk; each
#      stream has them in the order ceptord produced them; nothing is
#      lost, refused or left in the spool.
#   c. A spool written while the URL's node is dead is replayed through
#      the cluster by the next ceptord --once.
#
# Needs: BIN (binaries), jq, redis-server and redis-cli (7.0: --cluster).
# Bounded: every wait has a limit; about 25 s in all.
# CEPTOR_KEEP_WORK=1 keeps the work directory (logs, streams read back).
set -euo pipefail
cd "$(dirname "$0")/../../.."
. tests/lib/assert.sh
BIN=${BIN:-build/bin}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/ceptor-cluster.XXXXXX")
RING=/ceptor-test-cluster-$$
ENGINE_PID=
FEED_PID=
. tests/lib/cluster.sh
cleanup() {
	if [ -n "$FEED_PID" ]; then
		kill "$FEED_PID" 2>/dev/null || true
		for _ in $(seq 1 50); do
			kill -0 "$FEED_PID" 2>/dev/null || break
			sleep 0.1
		done
		kill -9 "$FEED_PID" 2>/dev/null || true
		wait "$FEED_PID" 2>/dev/null || true
	fi
	if [ -n "$ENGINE_PID" ]; then
		kill "$ENGINE_PID" 2>/dev/null || true
		wait "$ENGINE_PID" 2>/dev/null || true
	fi
	cluster_stop
	rm -f "/dev/shm${RING}"
	if [ -n "${CEPTOR_KEEP_WORK:-}" ]; then echo "kept $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT

for tool in jq redis-server redis-cli; do
	command -v "$tool" >/dev/null || fail "$tool is missing (tools/deps.sh installs it)"
done
step() { echo "  [${SECONDS} s] $*"; }
cluster_start || fail "cannot start the local Redis Cluster"
step "cluster up: ports ${CLUSTER_PORTS[*]}"

SECTORS="electricity telecom finance aviation rail gas government medical water logistics"

# report ID SECTOR TS: one operator report (a power loss), JSON on one line.
report() {
	printf '{"report_id":"%s","ts":"%s","reporter":{"org":"Operator %s"},"sector":"%s","system":{"class":"power_management"},"cause":{"class":"disaster","type":"power_loss"},"trigger":"serious_failure","tlp":"AMBER","text":"outage %s"}\n' \
		"$1" "$3" "$2" "$2" "$1"
}

# The port of the master that owns SLOT now, from CLUSTER NODES.
slot_owner() {
	cluster_cli CLUSTER NODES | awk -v s="$1" '
		$3 ~ /master/ && $3 !~ /fail/ {
			for (i = 9; i <= NF; i++) {
				n = split($i, r, "-")
				lo = r[1]; hi = (n > 1 ? r[2] : r[1])
				if ($i !~ /^\[/ && s + 0 >= lo + 0 && s + 0 <= hi + 0) {
					split($2, a, "[:@]"); print a[2]; exit
				}
			}
		}'
}

# Every stream message in the cluster as "stream id version", one a line.
cluster_messages() { # streams...
	local s
	for s in "$@"; do
		cluster_cli --raw XRANGE "$s" - + | awk -v s="$s" '
			prev == "id" { id = $0 }
			prev == "version" { print s, id, $0 }
			{ prev = $0 }'
	done
}

# --stdout's messages as "stream id version", one a line.
stdout_messages() { jq -r '"\(.stream) \(.id) \(.version)"' "$1"; }

# ---- a. --once through one node, every sector ------------------------------
step "a. ceptord --once"
for s in $SECTORS; do report "R-$s" "$s" 2026-03-02T08:00:00Z; done >"$WORK/reports.json"
cat >"$WORK/ceptor.yml" <<YML
site: cluster-test
rules: [rules/default]
YML
# A replica's URL: any node will do.
REPLICA=
for p in "${CLUSTER_PORTS[@]}"; do
	if redis-cli -p "$p" ROLE | head -1 | grep -qx slave; then REPLICA=$p; break; fi
done
[ -n "$REPLICA" ] || fail "no replica in the cluster"
rc=0
"$BIN/ceptord" -c "$WORK/ceptor.yml" --once --stdout --feed "report:$WORK/reports.json" \
	--spool "$WORK/spool-a" --redis "redis://127.0.0.1:$REPLICA" \
	>"$WORK/a.jsonl" 2>"$WORK/a.log" || rc=$?
[ "$rc" = 0 ] || fail "ceptord --once exited $rc: $(tail -3 "$WORK/a.log")"
expect_match "$(cat "$WORK/a.log")" "is a cluster node: 3 masters" \
	"cluster mode detected through a replica's URL"
for s in $SECTORS; do
	grep -q "\"stream\":\"ceptor:{$s}:incidents\"" "$WORK/a.jsonl" ||
		fail "no incident for sector $s on --stdout"
done
stdout_messages "$WORK/a.jsonl" | sort >"$WORK/a.want"
mapfile -t streams_a < <(cut -d' ' -f1 "$WORK/a.want" | sort -u)
cluster_messages "${streams_a[@]}" | sort >"$WORK/a.have"
expect_eq "$(wc -l <"$WORK/a.have")" "$(wc -l <"$WORK/a.want")" \
	"as many messages in the cluster as ceptord printed (${#streams_a[@]} streams)"
expect_eq "$(comm -3 "$WORK/a.want" "$WORK/a.have" | head -3)" "" \
	"the same (stream, id, version) messages"
declare -A on_master=()
for s in "${streams_a[@]}"; do
	slot=$(cluster_cli CLUSTER KEYSLOT "$s")
	owner=$(slot_owner "$slot")
	[ -n "$owner" ] || fail "no owner for slot $slot of $s"
	expect_eq "$(redis-cli -p "$owner" EXISTS "$s")" 1 \
		"$s (slot $slot) on its master :$owner"
	on_master[$owner]=1
done
expect_eq "${#on_master[@]}" 3 "the streams spread over the three masters"
st=$WORK/spool-a/status.json
expect_eq "$(jq -r '.publisher.cluster' "$st")" true "status: cluster mode"
expect_eq "$(jq -r '.publisher.masters' "$st")" 3 "status: three masters"
expect_eq "$(jq -r '.publisher.lost + .publisher.errors' "$st")" 0 "status: nothing lost or refused"

# ---- b. live: slot migration, then a master killed ---------------------------
step "b. live ceptord"
cat >"$WORK/live.yml" <<YML
site: cluster-live
rules: [rules/default]
redis: redis://127.0.0.1:${CLUSTER_PORTS[1]}
spool: $WORK/spool-b
publish_interval_ms: 50
collectors:
  - kind: ring
    name: operators
    ring: $RING
    sector: electricity
YML
"$BIN/ceptord" -c "$WORK/live.yml" --stdout >"$WORK/b.jsonl" 2>"$WORK/b.log" &
ENGINE_PID=$!
for _ in $(seq 1 100); do [ -e "/dev/shm${RING}" ] && break; sleep 0.1; done
[ -e "/dev/shm${RING}" ] || fail "ceptord did not create its ring"

# The feeder: a watched directory; every 100 ms a file of ten reports
# (one per sector, event time now) is renamed into it.
mkdir -p "$WORK/in"
"$BIN/ceptor-feed" --format report --watch --ring "$RING" "$WORK/in" 2>"$WORK/feed.log" &
FEED_PID=$!
n=0
feed_for() { # seconds
	local end=$((SECONDS + $1)) s ts
	while [ "$SECONDS" -lt "$end" ]; do
		ts=$(date -u +%Y-%m-%dT%H:%M:%S.%3NZ)
		for s in $SECTORS; do
			n=$((n + 1))
			report "L-$n" "$s" "$ts"
		done >"$WORK/batch.tmp"
		mv "$WORK/batch.tmp" "$WORK/in/$(printf '%06d' "$n").json"
		sleep 0.1
	done
}
published() { jq -r '.publisher.published // 0' "$WORK/spool-b/status.json" 2>/dev/null || echo 0; }

feed_for 2
COUNCIL='ceptor:{council}:incidents'
slot=$(cluster_cli CLUSTER KEYSLOT "$COUNCIL")
src=$(slot_owner "$slot")
dst=
for p in $(cluster_masters); do [ "$p" != "$src" ] && { dst=$p; break; }; done
src_id=$(redis-cli -p "$src" CLUSTER MYID)
dst_id=$(redis-cli -p "$dst" CLUSTER MYID)
step "migrating slot $slot ($COUNCIL) :$src -> :$dst under load"
expect_eq "$(redis-cli -p "$dst" CLUSTER SETSLOT "$slot" IMPORTING "$src_id")" OK "IMPORTING"
expect_eq "$(redis-cli -p "$src" CLUSTER SETSLOT "$slot" MIGRATING "$dst_id")" OK "MIGRATING"
mapfile -t keys < <(redis-cli -p "$src" --raw CLUSTER GETKEYSINSLOT "$slot" 100)
expect_match "$(redis-cli -p "$src" MIGRATE 127.0.0.1 "$dst" "" 0 5000 KEYS "${keys[@]}")" \
	"OK" "MIGRATE ${keys[*]}"
# The key is gone from the source, the slot not yet moved: writes get ASK.
feed_for 1
for p in "$dst" "$src" $(cluster_masters); do
	redis-cli -p "$p" CLUSTER SETSLOT "$slot" NODE "$dst_id" >/dev/null
done
# Now the source answers MOVED until the publisher reads the map again.
feed_for 2
redirects=$(jq -r '.publisher.redirects' "$WORK/spool-b/status.json")
asks=$(jq -r '.publisher.asks' "$WORK/spool-b/status.json")
[ "$asks" -gt 0 ] || fail "no ASK followed during the migration (status: $(jq -c .publisher "$WORK/spool-b/status.json"))"
[ "$redirects" -gt "$asks" ] || fail "no MOVED followed after the migration (status: $(jq -c .publisher "$WORK/spool-b/status.json"))"
echo "  ok: $asks ASK and $((redirects - asks)) MOVED redirections followed during the migration"

# SIGKILL the council's master now; its replica takes over.
victim=$(slot_owner "$slot")
expect_eq "$victim" "$dst" "the slot is on its new master"
before=$(published)
step "SIGKILL master :$victim (pid $(cluster_pid "$victim")) after $before published"
cluster_kill "$victim"
killed_at=$SECONDS
feed_for 3
# The failover: a master for every slot again (bounded wait).
for _ in $(seq 1 100); do
	owner=$(slot_owner "$slot")
	[ -n "$owner" ] && [ "$owner" != "$victim" ] && break
	sleep 0.1
done
[ -n "$owner" ] && [ "$owner" != "$victim" ] || fail "no replica took over slot $slot"
step "replica :$owner took over after about $((SECONDS - killed_at)) s"
cluster_wait_ok 10 || fail "the cluster is not ok after the failover"
step "cluster ok again"
after_failover=$(published)
council_then=$(cluster_cli XLEN "$COUNCIL")
feed_for 3
kill -TERM "$FEED_PID"
wait "$FEED_PID" || fail "ceptor-feed failed: $(tail -3 "$WORK/feed.log")"
FEED_PID=
# Let the engine publish the last reports, then stop it (it flushes).
sleep 1
step "stopping ceptord"
kill -TERM "$ENGINE_PID"
rc=0
wait "$ENGINE_PID" || rc=$?
ENGINE_PID=
[ "$rc" = 0 ] || fail "ceptord exited $rc: $(tail -3 "$WORK/b.log")"

st=$WORK/spool-b/status.json
pub=$(jq -c .publisher "$st")
echo "  publisher: $pub"
expect_eq "$(jq -r .state "$st")" stopped "final status written"
expect_eq "$(jq -r '.publisher.lost' "$st")" 0 "nothing lost"
expect_eq "$(jq -r '.publisher.errors' "$st")" 0 "nothing refused"
# An empty spool is its 16-byte header.
expect_eq "$(jq -r '.publisher.spool_bytes <= 16 and .publisher.spooled == .publisher.replayed' "$st")" \
	true "nothing left in the spool"
[ "$(published)" -gt "$after_failover" ] || fail "nothing published after the failover"
[ "$(cluster_cli XLEN "$COUNCIL")" -gt "$council_then" ] ||
	fail "the migrated, failed-over stream got nothing after the failover"
echo "  ok: publishing went on after the failover ($after_failover -> $(published))"

# Every message ceptord produced is in the cluster, or WAIT said at risk.
step "reading the streams back"
stdout_messages "$WORK/b.jsonl" | sort -u >"$WORK/b.want"
mapfile -t streams_b < <(cut -d' ' -f1 "$WORK/b.want" | sort -u)
cluster_messages "${streams_b[@]}" | sort -u >"$WORK/b.have"
grep -o 'named (id/version):.*' "$WORK/b.log" | sed 's/^named (id\/version)://' |
	tr ' ' '\n' | sed -n 's/^\(.*\)\/\([0-9]*\)$/\1 \2/p' | sort -u >"$WORK/b.risk" || true
comm -23 "$WORK/b.want" "$WORK/b.have" >"$WORK/b.missing"
missing_unreported=0
while read -r stream id ver; do
	grep -qx "$id $ver" "$WORK/b.risk" || missing_unreported=$((missing_unreported + 1))
done <"$WORK/b.missing"
# Per-stream order: the first appearance of each message in its stream
# comes in the order ceptord produced them (messages WAIT lost left out).
stdout_messages "$WORK/b.jsonl" | awk '!seen[$0]++' | grep -vxFf "$WORK/b.missing" |
	sort -s -k1,1 >"$WORK/b.order.want" || true
cluster_messages "${streams_b[@]}" | awk '!seen[$0]++' | sort -s -k1,1 >"$WORK/b.order.have"
expect_eq "$(diff "$WORK/b.order.want" "$WORK/b.order.have" | head -4 | tr '\n' ';')" "" \
	"each stream holds its messages in the order ceptord produced them"
echo "  $(wc -l <"$WORK/b.want") messages produced, $(wc -l <"$WORK/b.missing") missing from the cluster, $(jq -r .publisher.at_risk "$st") at risk by WAIT"
[ "$(wc -l <"$WORK/b.want")" -ge 500 ] || fail "too little load: $(wc -l <"$WORK/b.want") messages"
expect_eq "$missing_unreported" 0 \
	"every message is in the cluster or was reported at risk (first missing: $(head -2 "$WORK/b.missing" | tr '\n' ';'))"
# ---- c. spooled while no node answers, replayed through the cluster -------
step "c. spool, then replay through the cluster"
for s in $SECTORS; do report "S-$s" "$s" 2026-03-02T09:00:00Z; done >"$WORK/c.json"
: >"$WORK/empty.json"
rc=0
"$BIN/ceptord" -c "$WORK/ceptor.yml" --once --stdout --feed "report:$WORK/c.json" \
	--spool "$WORK/spool-c" --redis "redis://127.0.0.1:$victim" \
	>"$WORK/c.jsonl" 2>"$WORK/c1.log" || rc=$?
[ "$rc" = 0 ] || fail "ceptord --once with the URL's node dead exited $rc: $(tail -3 "$WORK/c1.log")"
st=$WORK/spool-c/status.json
spooled=$(jq -r .publisher.spooled "$st")
# The messages, and the statistics commands beside them (publish/stats.h).
[ "$spooled" -ge "$(wc -l <"$WORK/c.jsonl")" ] ||
	fail "only $spooled spooled for $(wc -l <"$WORK/c.jsonl") messages"
echo "  ok: $spooled messages and commands spooled while the URL's node is dead"
expect_eq "$(jq -r .publisher.published "$st")" 0 "nothing published then"
rc=0
"$BIN/ceptord" -c "$WORK/ceptor.yml" --once --feed "report:$WORK/empty.json" \
	--spool "$WORK/spool-c" --redis "redis://127.0.0.1:$owner" 2>"$WORK/c2.log" || rc=$?
[ "$rc" = 0 ] || fail "the replaying ceptord exited $rc: $(tail -3 "$WORK/c2.log")"
expect_eq "$(jq -r .publisher.replayed "$st")" "$spooled" "the spool replayed through the cluster"
expect_eq "$(jq -r '.publisher.spool_bytes <= 16' "$st")" true "the spool is empty after the replay"
stdout_messages "$WORK/c.jsonl" | sort -u >"$WORK/c.want"
mapfile -t streams_c < <(cut -d' ' -f1 "$WORK/c.want" | sort -u)
cluster_messages "${streams_c[@]}" | sort -u >"$WORK/c.have"
expect_eq "$(comm -23 "$WORK/c.want" "$WORK/c.have" | wc -l)" 0 \
	"every replayed message is in its stream ($(wc -l <"$WORK/c.want") messages, ${#streams_c[@]} streams)"
step "PASS cluster"
