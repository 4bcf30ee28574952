#!/usr/bin/env bash
# deploy/demo.sh - `make demo`: the whole pipeline on the bundled samples.
#
# Starts a private redis-server on a free loopback port (or uses REDIS_URL
# when set), runs ceptord --once over deploy/samples/ (a capture with a port
# scan, and a JSON Lines feed), prints the incidents read back from Redis
# with ceptorctl tail, and stops the server it started.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-build/bin}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/ceptor-demo.XXXXXX")
. tests/lib/redis.sh
cleanup() { redis_stop; rm -rf "$WORK"; }
trap cleanup EXIT

if [ -n "${REDIS_URL:-}" ]; then
	url=$REDIS_URL
	echo "demo: using Redis at $url"
else
	redis_start
	url=$REDIS_URL
	echo "demo: started redis-server on $url (pid $REDIS_PID)"
fi

echo "demo: ceptord --once -c deploy/demo.yml --redis $url"
"$BIN/ceptord" --once -c deploy/demo.yml --redis "$url" --spool "$WORK/spool"
echo
echo "demo: incidents in Redis, ranked (ceptorctl --redis $url tail):"
"$BIN/ceptorctl" --redis "$url" tail
echo
echo "demo: the top one as JSON for scripts: ceptorctl --redis $url tail --json --count 1"
"$BIN/ceptorctl" --redis "$url" tail --json --count 1 | jq .
echo
