# tests/lib/cluster.sh - start and stop a private Redis Cluster on free
# loopback ports: 3 masters and 3 replicas (6 redis-server processes),
# node timeout 2000 ms.  Sourced by integration tests and perf scripts; it
# only ever signals the processes it started, by PID.
#
#   cluster_start          waits for cluster_state:ok and every replica in
#                          sync, then sets CLUSTER_DIR, CLUSTER_PORTS (6 ports, the
#                          first three are the masters at creation),
#                          CLUSTER_PIDS (same order), CLUSTER_URL (the
#                          first node's redis:// URL); returns 1 on failure
#                          with a reason on stderr
#   cluster_stop           stops every server it started (SIGTERM, then
#                          SIGKILL after 5 s) and removes CLUSTER_DIR
#   cluster_kill PORT      SIGKILL the server on PORT (by its PID)
#   cluster_wait_ok [S]    until every live node says cluster_state:ok
#                          (at most S seconds, default 15)
#   cluster_pid PORT       the PID of the server on PORT
#   cluster_masters        "PORT" of each live master, one per line
#   cluster_cli ARGS...    redis-cli -c (following redirections) via a
#                          live node

CLUSTER_PORTS=()
CLUSTER_PIDS=()
CLUSTER_DIR=
CLUSTER_URL=

# A base port with 6 free ports and their bus ports (port + 10000).  Both
# stay below Linux's ephemeral range (32768 and up by default), where a
# client socket may hold a port that no connect probe can see.
cluster__free_base() {
	local tries=0 base i
	while [ "$tries" -lt 40 ]; do
		tries=$((tries + 1))
		base=$((12000 + (RANDOM * 32768 + RANDOM) % 10700))
		for i in 0 1 2 3 4 5; do
			if (exec 3<>"/dev/tcp/127.0.0.1/$((base + i))") 2>/dev/null ||
				(exec 3<>"/dev/tcp/127.0.0.1/$((base + i + 10000))") 2>/dev/null; then
				continue 2
			fi
		done
		echo "$base"
		return 0
	done
	return 1
}

cluster_pid() {
	local i
	for i in "${!CLUSTER_PORTS[@]}"; do
		if [ "${CLUSTER_PORTS[$i]}" = "$1" ]; then
			echo "${CLUSTER_PIDS[$i]}"
			return 0
		fi
	done
	return 1
}

cluster__alive() { # port
	local pid
	pid=$(cluster_pid "$1") && [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null
}

cluster_wait_ok() {
	local limit=$((${1:-15} * 10)) i port ok
	for i in $(seq 1 "$limit"); do
		ok=1
		for port in "${CLUSTER_PORTS[@]}"; do
			cluster__alive "$port" || continue
			if ! redis-cli -p "$port" CLUSTER INFO 2>/dev/null |
				grep -q '^cluster_state:ok'; then
				ok=0
				break
			fi
		done
		[ "$ok" = 1 ] && return 0
		sleep 0.1
	done
	echo "cluster.sh: the cluster is not ok after ${1:-15} s" >&2
	return 1
}

# Start six servers on free ports; 1 when one of them does not come up
# (a port taken between the probe and the bind), after stopping the rest.
cluster__servers() {
	local base port i
	base=$(cluster__free_base) || {
		echo "cluster.sh: no 6 free loopback ports found" >&2
		return 1
	}
	CLUSTER_PORTS=()
	CLUSTER_PIDS=()
	for i in 0 1 2 3 4 5; do
		port=$((base + i))
		mkdir -p "$CLUSTER_DIR/$port"
		redis-server --port "$port" --bind 127.0.0.1 --save '' \
			--appendonly no --daemonize no --dir "$CLUSTER_DIR/$port" \
			--cluster-enabled yes --cluster-node-timeout 2000 \
			--cluster-config-file "$CLUSTER_DIR/$port/nodes.conf" \
			--logfile "$CLUSTER_DIR/$port/redis.log" &
		CLUSTER_PIDS+=("$!")
		CLUSTER_PORTS+=("$port")
	done
	export CLUSTER_DIR
	for port in "${CLUSTER_PORTS[@]}"; do
		for i in $(seq 1 50); do
			redis-cli -p "$port" PING >/dev/null 2>&1 && continue 2
			cluster__alive "$port" || break
			sleep 0.1
		done
		echo "cluster.sh: redis-server on port $port did not start:" >&2
		tail -2 "$CLUSTER_DIR/$port/redis.log" >&2 2>/dev/null || true
		local pid
		for pid in "${CLUSTER_PIDS[@]}"; do kill -9 "$pid" 2>/dev/null || true; done
		for pid in "${CLUSTER_PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
		CLUSTER_PIDS=()
		return 1
	done
	return 0
}

cluster_start() {
	local port i tries
	CLUSTER_DIR=$(mktemp -d "${TMPDIR:-/tmp}/ceptor-cluster.XXXXXX")
	for tries in 1 2 3 4 5; do
		cluster__servers && break
		[ "$tries" = 5 ] && return 1
		echo "cluster.sh: trying other ports" >&2
	done
	local nodes=()
	for port in "${CLUSTER_PORTS[@]}"; do nodes+=("127.0.0.1:$port"); done
	if ! redis-cli --cluster create "${nodes[@]}" --cluster-replicas 1 \
		--cluster-yes >"$CLUSTER_DIR/create.log" 2>&1; then
		echo "cluster.sh: redis-cli --cluster create failed:" >&2
		tail -5 "$CLUSTER_DIR/create.log" >&2
		return 1
	fi
	cluster_wait_ok 15 || return 1
	# WAIT counts replicas that are in sync: wait for each master's.
	for i in $(seq 1 150); do
		local synced=0
		for port in $(cluster_masters); do
			redis-cli -p "$port" INFO replication 2>/dev/null |
				grep -q '^slave0:.*state=online' &&
				synced=$((synced + 1))
		done
		[ "$synced" -ge 3 ] && break
		sleep 0.1
	done
	if [ "$synced" -lt 3 ]; then
		echo "cluster.sh: replicas not in sync after 15 s" >&2
		return 1
	fi
	CLUSTER_URL="redis://127.0.0.1:${CLUSTER_PORTS[0]}"
	export CLUSTER_URL
	return 0
}

cluster_kill() {
	local pid
	pid=$(cluster_pid "$1") || return 1
	kill -9 "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
}

cluster_masters() {
	local port
	for port in "${CLUSTER_PORTS[@]}"; do
		cluster__alive "$port" || continue
		if redis-cli -p "$port" ROLE 2>/dev/null | head -1 | grep -qx master; then
			echo "$port"
		fi
	done
}

cluster_cli() {
	local port
	for port in "${CLUSTER_PORTS[@]}"; do
		cluster__alive "$port" || continue
		redis-cli -c -p "$port" "$@"
		return
	done
	echo "cluster.sh: no live node" >&2
	return 1
}

cluster_stop() {
	local pid i
	for pid in "${CLUSTER_PIDS[@]}"; do
		kill "$pid" 2>/dev/null || true
	done
	for pid in "${CLUSTER_PIDS[@]}"; do
		for i in $(seq 1 50); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -9 "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
	CLUSTER_PIDS=()
	if [ -n "${CLUSTER_DIR:-}" ]; then rm -rf "$CLUSTER_DIR"; fi
	CLUSTER_DIR=
	return 0
}
