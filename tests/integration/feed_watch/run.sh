#!/usr/bin/env bash
# A watched directory: files present at start and files that arrive later
# are each read once; after a restart (state in DIR/.ceptor-feed.state)
# nothing is read again, only what is new.  SIGTERM ends the watch cleanly.
set -euo pipefail
cd "$(dirname "$0")/../../.."
. tests/lib/assert.sh
BIN=${BIN:-build/bin}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/ceptor-feedwatch.XXXXXX")
PID=
cleanup() {
	if [ -n "$PID" ]; then kill "$PID" 2>/dev/null || true; wait "$PID" 2>/dev/null || true; fi
	rm -rf "$WORK"
}
trap cleanup EXIT
IN=$WORK/in
mkdir -p "$IN"

# Wait (bounded) until FILE has N lines; the count is what is asserted.
wait_lines() { # file n
	local i
	for i in $(seq 1 100); do
		[ "$(wc -l <"$1")" -ge "$2" ] && return 0
		sleep 0.1
	done
	return 0
}
# Write elsewhere, rename into place: the watcher sees a whole file.
drop() { # name content...
	local name=$1; shift
	printf '%s\n' "$@" >"$WORK/$name.tmp"
	mv "$WORK/$name.tmp" "$IN/$name"
}

drop a.txt 192.0.2.1 192.0.2.2
"$BIN/ceptor-feed" --format iplist --watch "$IN" >"$WORK/run1.jsonl" 2>"$WORK/run1.err" &
PID=$!
wait_lines "$WORK/run1.jsonl" 2
drop b.txt 192.0.2.3
wait_lines "$WORK/run1.jsonl" 3
printf '192.0.2.4\n' >"$IN/c.txt" # written in place: seen when closed
wait_lines "$WORK/run1.jsonl" 4
kill -TERM "$PID"
rc=0; wait "$PID" || rc=$?
PID=
expect_eq "$rc" 0 "SIGTERM ends the watch with status 0"
expect_eq "$(jq -r .indicator "$WORK/run1.jsonl" | tr '\n' ' ')" \
	"192.0.2.1 192.0.2.2 192.0.2.3 192.0.2.4 " "first run: each file once"
[ -s "$IN/.ceptor-feed.state" ] || fail "no state file written"
expect_eq "$(wc -l <"$IN/.ceptor-feed.state")" 3 "three files recorded"

# A restart: nothing old again; a new file is read.
drop d.txt example.org
"$BIN/ceptor-feed" --format iplist --watch "$IN" --stats >"$WORK/run2.json" 2>"$WORK/run2.err" &
PID=$!
# --stats prints at the end only; give the scan a moment by waiting for
# the state file to grow to four files.
for i in $(seq 1 100); do
	[ "$(wc -l <"$IN/.ceptor-feed.state")" -ge 4 ] && break
	sleep 0.1
done
kill -TERM "$PID"
wait "$PID" || true
PID=
expect_eq "$(jq -r '"\(.decoded) \(.skipped) \(.files)"' "$WORK/run2.json")" "1 3 1" \
	"restart: only the new file"

# An explicit --state elsewhere, without --watch: the directory once.
"$BIN/ceptor-feed" --format iplist --state "$WORK/st" --stats "$IN" >"$WORK/run3.json"
"$BIN/ceptor-feed" --format iplist --state "$WORK/st" --stats "$IN" >"$WORK/run4.json"
expect_eq "$(jq -r .decoded "$WORK/run3.json") $(jq -r .decoded "$WORK/run4.json")" "5 0" \
	"--state: second read finds nothing new"
echo "feed_watch: all checks passed"
