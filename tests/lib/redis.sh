# tests/lib/redis.sh - start and stop a private redis-server on a free
# loopback port.  Sourced by tests/run.sh, deploy/demo.sh and integration
# tests; it never touches a server it did not start.
#
#   redis_start        sets REDIS_PID, REDIS_PORT, REDIS_URL, REDIS_DIR
#   redis_stop         stops that server (by PID) and removes its directory
#   redis_cli ARGS...  redis-cli against it

redis_start() {
	local port tries=0
	REDIS_DIR=$(mktemp -d "${TMPDIR:-/tmp}/ceptor-redis.XXXXXX")
	while :; do
		tries=$((tries + 1))
		if [ "$tries" -gt 40 ]; then
			echo "redis.sh: no free loopback port found for redis-server" >&2
			return 1
		fi
		port=$((20000 + (RANDOM * 32768 + RANDOM) % 40000))
		# Something answers there already: try another port.
		if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
			continue
		fi
		redis-server --port "$port" --bind 127.0.0.1 --save '' \
			--appendonly no --daemonize no --dir "$REDIS_DIR" \
			--logfile "$REDIS_DIR/redis.log" &
		REDIS_PID=$!
		local i
		for i in $(seq 1 50); do
			if redis-cli -p "$port" PING >/dev/null 2>&1; then
				REDIS_PORT=$port
				REDIS_URL="redis://127.0.0.1:$port"
				export REDIS_PID REDIS_PORT REDIS_URL REDIS_DIR
				return 0
			fi
			# It died (port taken between probe and bind): next port.
			kill -0 "$REDIS_PID" 2>/dev/null || break
			sleep 0.1
		done
		kill "$REDIS_PID" 2>/dev/null || true
		wait "$REDIS_PID" 2>/dev/null || true
	done
}

redis_stop() {
	if [ -n "${REDIS_PID:-}" ]; then
		# Callers may run under set -e: a server that is already gone
		# must not end them.
		kill "$REDIS_PID" 2>/dev/null || true
		local i
		for i in $(seq 1 50); do
			kill -0 "$REDIS_PID" 2>/dev/null || break
			sleep 0.1
		done
		kill -9 "$REDIS_PID" 2>/dev/null || true
		wait "$REDIS_PID" 2>/dev/null || true
		REDIS_PID=
	fi
	if [ -n "${REDIS_DIR:-}" ]; then rm -rf "$REDIS_DIR"; fi
	REDIS_DIR=
	return 0
}

redis_cli() {
	redis-cli -p "$REDIS_PORT" "$@"
}
