#!/usr/bin/env bash
# Scenario: nothing lost when Redis or the engine dies (DESIGN.md 2.4).
#   1. A live ceptord publishes a steady stream of new incidents (events
#      from 2,000 listed addresses, fed through a collector process over
#      about 6 s).  The redis-server (with an fsync'd append-only file, so
#      that what it acknowledged survives) is SIGKILLed mid-run and
#      restarted on the same port 2 s later.  At the end, every message
#      ceptord produced (its --stdout copy: stream, id, version) is in
#      Redis, and after dropping repeats by (stream, id, version), exactly
#      once; repeats are at most the batches in flight at the kill.
#   2. With Redis down, ceptord spools every message; it is then SIGKILLed.
#      The next ceptord (same spool) replays them all once Redis is back.
#
# Needs: BIN (binaries), jq, redis-server.
set -euo pipefail
cd "$(dirname "$0")/../../.."
. tests/lib/assert.sh
BIN=${BIN:-build/bin}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/ceptor-delivery.XXXXXX")
RING=/ceptor-test-delivery-$$
ENGINE_PID= FEED_PID= RPID=
cleanup() {
	for p in $FEED_PID $ENGINE_PID $RPID; do
		kill "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
	rm -f "/dev/shm$RING"
	[ -n "${KEEP:-}" ] || rm -rf "$WORK"
}
trap cleanup EXIT

# A server on a free loopback port that we can kill and bring back on the
# same port (an append-only file fsync'd at every write keeps what it
# acknowledged).
mkdir "$WORK/redis"
redis_up() { # returns 1 when the port cannot be bound
	redis-server --port "$PORT" --bind 127.0.0.1 --save '' --appendonly yes \
		--appendfsync always --dir "$WORK/redis" --daemonize no \
		--logfile "$WORK/redis/log" &
	RPID=$!
	for _ in $(seq 100); do
		# PONG, not LOADING: the append-only file has been read.
		[ "$(redis-cli -p "$PORT" PING 2>/dev/null)" = PONG ] && return 0
		kill -0 "$RPID" 2>/dev/null || break
		sleep 0.05
	done
	wait "$RPID" 2>/dev/null || true
	RPID=
	return 1
}
for _ in $(seq 40); do
	PORT=$((20000 + (RANDOM * 32768 + RANDOM) % 12000)) # below the ephemeral range
	(exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && continue
	redis_up && break
done
[ -n "$RPID" ] || fail "no loopback port for redis-server"
redis_again() { redis_up || fail "redis-server did not come back on $PORT: $(tail -3 "$WORK/redis/log")"; }
redis_kill() { kill -9 "$RPID"; wait "$RPID" 2>/dev/null || true; RPID=; }
rcli() { redis-cli -p "$PORT" "$@"; }

cat >"$WORK/ceptor.yml" <<YML
site: test
rules: [rules/default]
redis: redis://127.0.0.1:$PORT
spool: $WORK/spool
publish_interval_ms: 100
publish_batch: 64
collectors:
  - kind: ring
    name: tap
    ring: $RING
YML

# N packet events, each from its own address in the listed 2001:db8:bad::/48.
events() { # first count
	local now i
	now=$(date -u +%Y-%m-%dT%H:%M:%S)
	for i in $(seq "$1" $(($1 + $2 - 1))); do
		printf '{"ts":"%s.%06dZ","kind":"packet","type":"traffic","src_ip":"2001:db8:bad::%x","dst_ip":"192.0.2.10","proto":6,"src_port":443,"dst_port":50000,"bytes":60,"packets":1}\n' \
			"$now" "$i" "$i"
	done
}
start_engine() { # stdout file
	"$BIN/ceptord" -c "$WORK/ceptor.yml" --stdout >"$1" 2>>"$WORK/engine.log" &
	ENGINE_PID=$!
	for _ in $(seq 100); do [ -e "/dev/shm$RING" ] && return 0; sleep 0.05; done
	fail "ceptord did not create its ring: $(cat "$WORK/engine.log")"
}
status() { jq -r "$1" "$WORK/spool/status.json" 2>/dev/null || echo 0; }
stop_engine() { # SIGTERM; ceptord must exit 0 (a lost message fails the run)
	local rc=0
	kill -TERM "$ENGINE_PID"
	wait "$ENGINE_PID" || rc=$?
	ENGINE_PID=
	expect_eq "$rc" 0 "ceptord's exit status"
}
# Waits until the publisher has nothing left to deliver: every message
# the engine produced is acknowledged (or, with Redis down, spooled).
settle() { # jq expression that must hold, what
	for _ in $(seq 200); do
		[ "$(status "$1")" = true ] && return 0
		sleep 0.1
	done
	fail "$2: $(cat "$WORK/spool/status.json")"
}
# (stream id version) of every message in Redis, one per line, repeats kept.
in_redis() {
	for k in $(rcli --raw KEYS 'ceptor:{*}:incidents'); do
		rcli --raw XRANGE "$k" - + | awk -v k="$k" '
			p == "id" { id = $0 } p == "version" { print k, id, $0 } { p = $0 }'
	done
}
produced() { jq -r '.stream + " " + .id + " " + (.version|tostring)' "$1"; }
same_set() { # want got what
	if [ "$1" = "$2" ]; then
		echo "  ok: $3 ($(wc -l <<<"$1") messages)"
	else
		fail "$3: $(diff <(echo "$1") <(echo "$2") | head -5)"
	fi
}

# 1. Redis killed mid-run.
start_engine "$WORK/out1.jsonl"
# 20 chunks of 100 events, 0.3 s apart; Redis dies after about 2 s and
# comes back 2 s later.
for chunk in $(seq 0 19); do
	events $((chunk * 100 + 1)) 100
	sleep 0.3
done | "$BIN/ceptor-feed" --format jsonl --ring "$RING" - 2>"$WORK/feed.log" &
FEED_PID=$!
sleep 2
redis_kill
echo "redis-server killed after $(wc -l <"$WORK/out1.jsonl") messages"
sleep 2
redis_again
echo "redis-server back"
wait "$FEED_PID"; FEED_PID=
settle '.publisher.connected and .publisher.spool_bytes < 64 and .publisher.published >= .engine.messages' \
	"ceptord never caught up"
sleep 0.5
kill -TERM "$ENGINE_PID"; wait "$ENGINE_PID" || fail "ceptord exited $?"; ENGINE_PID=
made=$(produced "$WORK/out1.jsonl" | sort -u)
n_made=$(wc -l <<<"$made")
[ "$n_made" -ge 4000 ] || fail "expected messages about 2,000 incidents, got $n_made"
in_redis >"$WORK/redis1.txt"
same_set "$made" "$(sort -u "$WORK/redis1.txt")" \
	"every message produced is in Redis after dedup by (stream, id, version)"
dups=$(( $(wc -l <"$WORK/redis1.txt") - $(sort -u "$WORK/redis1.txt" | wc -l) ))
echo "1: $n_made messages, $dups repeats after the kill (at least once)"
[ "$dups" -le 256 ] || fail "$dups repeats: more than the batches in flight"
[ "$(status .publisher.disconnects)" -ge 1 ] || fail "the kill was not noticed"
rm -f "/dev/shm$RING"

# 2. Redis down; ceptord spools and is SIGKILLed; the next one replays.
redis_kill
rm -rf "$WORK/redis/appendonlydir" "$WORK/redis/"*.aof # part 2 starts empty
start_engine "$WORK/out2.jsonl"
"$BIN/ceptor-feed" --format jsonl --ring "$RING" <(events 5001 500) 2>>"$WORK/feed.log"
settle '.engine.messages >= 1000 and .publisher.spooled >= .engine.messages' \
	"ceptord did not spool everything"
kill -9 "$ENGINE_PID"; wait "$ENGINE_PID" 2>/dev/null || true; ENGINE_PID=
made2=$(produced "$WORK/out2.jsonl" | sort -u)
redis_again
expect_eq "$(rcli DBSIZE)" 0 "part 2 starts with an empty Redis"
start_engine "$WORK/out3.jsonl"
settle '.publisher.connected and .publisher.spool_bytes < 64 and .publisher.replayed > 0' \
	"the spool was not replayed"
stop_engine
same_set "$made2" "$(in_redis | sort -u)" \
	"every message spooled before SIGKILL is in Redis after the restart"
expect_eq "$(wc -l <"$WORK/out3.jsonl")" 0 "the restart produced nothing new"

# 3. A server that answers "-BUSY" (a script running past the busy-reply
# threshold) is not refusing the messages: they wait and go through.
rcli FLUSHALL >/dev/null
rcli CONFIG SET busy-reply-threshold 50 >/dev/null
start_engine "$WORK/out4.jsonl"
rcli EVAL "local s = redis.call('TIME')[1] while redis.call('TIME')[1] - s < 2 do end return 1" 0 \
	>/dev/null &
BUSY_PID=$!
for _ in $(seq 100); do # until the server says it is busy
	case $(rcli PING 2>&1) in BUSY*) break ;; esac
	sleep 0.01
done
case $(rcli PING 2>&1) in BUSY*) ;; *) fail "the server never became busy" ;; esac
"$BIN/ceptor-feed" --format jsonl --ring "$RING" <(events 7001 200) 2>>"$WORK/feed.log"
wait "$BUSY_PID" || true
settle '.publisher.connected and .publisher.spool_bytes < 64 and .publisher.published >= .engine.messages and .engine.messages >= 400' \
	"ceptord did not get through the busy server"
stop_engine
same_set "$(produced "$WORK/out4.jsonl" | sort -u)" "$(in_redis | sort -u)" \
	"messages answered -BUSY are delivered once the script ends"
expect_eq "$(status .publisher.errors)" 0 "-BUSY is no refusal"
grep -q "BUSY" "$WORK/engine.log" || fail "ceptord never met a BUSY reply: $(tail -3 "$WORK/engine.log")"

# 4. A hung Redis (SIGSTOP: connected, never answering) does not stall
# correlation: the publisher thread waits out its command timeout while
# the core goes on (new incidents on --stdout, status.json rewritten every
# second); once the server runs again every message arrives.
rcli FLUSHALL >/dev/null
start_engine "$WORK/out5.jsonl"
"$BIN/ceptor-feed" --format jsonl --ring "$RING" <(events 8001 50) 2>>"$WORK/feed.log"
settle '.publisher.connected and .publisher.published >= 100' "no publishing before the freeze"
kill -STOP "$RPID"
frozen_at=$(date +%s%N)
for wave in 0 1 2; do
	before=$(wc -l <"$WORK/out5.jsonl")
	"$BIN/ceptor-feed" --format jsonl --ring "$RING" <(events $((8101 + wave * 50)) 50) 2>>"$WORK/feed.log"
	for _ in $(seq 30); do
		[ "$(wc -l <"$WORK/out5.jsonl")" -ge $((before + 100)) ] && break
		sleep 0.05
	done
	[ "$(wc -l <"$WORK/out5.jsonl")" -ge $((before + 100)) ] ||
		fail "wave $wave: the core stalled behind a hung Redis"
	age=$(( $(date +%s%3N) - $(status .now_ms) ))
	[ "$age" -lt 2500 ] || fail "wave $wave: status.json is ${age} ms old: the core stalled"
	sleep 2
done
echo "4: $(( ($(date +%s%N) - frozen_at) / 1000000 )) ms with Redis frozen, the core never waited"
kill -CONT "$RPID"
settle '.publisher.connected and .publisher.spool_bytes < 64 and .publisher.published >= .engine.messages and .engine.messages >= 400' \
	"ceptord did not catch up after the freeze"
stop_engine
same_set "$(produced "$WORK/out5.jsonl" | sort -u)" "$(in_redis | sort -u)" \
	"every message produced while Redis hung is in Redis"
echo "delivery scenario: all checks passed"
