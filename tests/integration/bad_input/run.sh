#!/usr/bin/env bash
# Bad input is reported with its file and position, counted, and the rest
# of the work goes on; a bad rule set or config stops ceptord before it
# starts, naming file and line.
set -euo pipefail
cd "$(dirname "$0")/../../.."
. tests/lib/assert.sh
BIN=${BIN:-build/bin}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/ceptor-badinput.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

"$BIN/ceptor-gen" scan "$WORK/scan.pcap" --src 198.51.100.99 --dst 192.0.2.1 \
	--ports 25 --start-port 1000 --noise 50 --seed 5 2>/dev/null

# A feed with broken lines between good ones.
"$BIN/ceptor-pcap" -r "$WORK/scan.pcap" --dump >"$WORK/good.jsonl"
{
	head -n 10 "$WORK/good.jsonl"
	echo '{"ts":"not a time","kind":"packet"}'
	echo '{"ts":"2026-01-01T00:00:00Z","sector":"outer-space"}'
	echo 'this is not json'
	tail -n +11 "$WORK/good.jsonl"
} >"$WORK/mixed.jsonl"
"$BIN/ceptor-feed" --format jsonl "$WORK/mixed.jsonl" --stats \
	>"$WORK/stats.json" 2>"$WORK/feed.err"
expect_eq "$(jq -r .malformed "$WORK/stats.json")" 3 "malformed rows counted"
expect_eq "$(jq -r .decoded "$WORK/stats.json")" "$(wc -l <"$WORK/good.jsonl")" "good rows kept"
grep -q "mixed.jsonl:11: field \"ts\"" "$WORK/feed.err" || fail "no file:line for bad ts: $(cat "$WORK/feed.err")"
grep -q "mixed.jsonl:12: field \"sector\"" "$WORK/feed.err" || fail "no file:line for bad sector"
grep -q "mixed.jsonl:13: offset 0" "$WORK/feed.err" || fail "no file:line for non-JSON"
echo "  ok: feed errors name file and line"

# The engine still finds the scan in the mixed feed.
"$BIN/ceptord" --once --rules rules/default --feed "jsonl:$WORK/mixed.jsonl" \
	--redis none --stdout --spool "$WORK/spool" >"$WORK/out.jsonl" 2>"$WORK/engine.err"
expect_eq "$(jq -r 'select(.stream=="ceptor:{unknown}:incidents" and .rule=="ceptor-portscan-tcp") | .count' "$WORK/out.jsonl")" \
	25 "scan found despite bad rows"

# A capture cut in the middle of a record: the packets before it are kept.
size=$(stat -c %s "$WORK/scan.pcap")
head -c $((size - 30)) "$WORK/scan.pcap" >"$WORK/cut.pcap"
"$BIN/ceptor-pcap" -r "$WORK/cut.pcap" --stats >"$WORK/cut.json" 2>"$WORK/cut.err" ||
	fail "a damaged capture that still had packets must exit 0"
read_all=$(jq -r .read "$WORK/cut.json")
[ "$read_all" -gt 0 ] || fail "no packets kept before the damage"
grep -q "cut.pcap" "$WORK/cut.err" || fail "damage report does not name the file: $(cat "$WORK/cut.err")"
echo "  ok: truncated capture: $read_all packets kept, file named"

# A file that is not a capture at all, and a missing one: exit 1.
echo "hello" >"$WORK/not.pcap"
if "$BIN/ceptor-pcap" -r "$WORK/not.pcap" --stats >/dev/null 2>"$WORK/not.err"; then
	fail "a file that is not a capture must fail when nothing was read"
fi
grep -q "not.pcap" "$WORK/not.err" || fail "error does not name the file"
echo "  ok: not a capture -> exit 1 with the file named"

# A rule set with an error is rejected whole with file:line; ceptord exits 1.
mkdir -p "$WORK/rules"
cp rules/default/*.yml "$WORK/rules/"
printf 'title: broken\nid: broken-1\nlogsource:\n  product: ceptor\ndetection:\n  sel:\n    no_such_field: 1\n  condition: sel\n' \
	>"$WORK/rules/zz-broken.yml"
if "$BIN/ceptord" --check --rules "$WORK/rules" 2>"$WORK/rules.err"; then
	fail "ceptord --check accepted a broken rule"
fi
grep -q "zz-broken.yml:7" "$WORK/rules.err" || fail "no file:line for the bad field: $(cat "$WORK/rules.err")"
if "$BIN/ceptorctl" rules check "$WORK/rules" 2>/dev/null; then
	fail "ceptorctl rules check accepted a broken rule"
fi
"$BIN/ceptorctl" rules check rules/default >/dev/null || fail "default rules rejected"
echo "  ok: broken rule -> file:line, exit 1"

# A config with an error names file and line.
printf 'site: x\nredis: none\ncollectors:\n  - kind: pcap\n    tlp: BLUE\n' >"$WORK/bad.yml"
if "$BIN/ceptord" --check -c "$WORK/bad.yml" --rules rules/default 2>"$WORK/cfg.err"; then
	fail "ceptord accepted a bad config"
fi
grep -q "bad.yml:5: tlp must be one of" "$WORK/cfg.err" || fail "config error: $(cat "$WORK/cfg.err")"
echo "  ok: bad config -> file:line"
echo "bad_input: all checks passed"
