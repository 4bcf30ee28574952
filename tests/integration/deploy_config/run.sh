#!/usr/bin/env bash
# Scenario: deploy/ceptor.yml, the configuration reference, stays whole
# and true:
#   1. ceptord --check -c deploy/ceptor.yml accepts it (from the source
#      tree's root, where its relative rule paths resolve);
#   2. every key that engine/lib/config.c accepts (its strcmp(key, "...")
#      chain and the collector source keys) appears in deploy/ceptor.yml,
#      set or commented out; the check is shown to catch a missing key on a
#      copy with one key removed;
#   3. the loader's message for an unknown key names every top-level key;
#   4. a configuration with mistakes gets one FILE:LINE line per mistake,
#      each saying what was expected, and exit status 1.
#
# Needs: BIN (binaries).
set -euo pipefail
cd "$(dirname "$0")/../../.."
. tests/lib/assert.sh
BIN=${BIN:-build/bin}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/ceptor-deploy-config.XXXXXX")
cleanup() { rm -rf "$WORK"; }
trap cleanup EXIT

# 1. The reference file is a valid configuration.
"$BIN/ceptord" --check -c deploy/ceptor.yml >"$WORK/check.out" 2>"$WORK/check.err" ||
	fail "ceptord --check -c deploy/ceptor.yml failed: $(cat "$WORK/check.err")"
expect_match "$(cat "$WORK/check.out")" '^configuration OK: [1-9][0-9]* rules, 3 inputs' \
	"--check on deploy/ceptor.yml"

# 2. The keys the loader accepts.
keys=$( { grep -o 'strcmp(key\(_name(k)\)\?, "[a-z_]*")' engine/lib/config.c |
		sed 's/.*"\([a-z_]*\)")/\1/'
	  # The collector source keys live in a table: { "name", "..." }.
	  sed -n '/source_keys\[\]\[2\] = {/,/^};/p' engine/lib/config.c |
		sed -n 's/^[[:space:]]*{ "\([a-z_]*\)",.*/\1/p'; } | sort -u)
nkeys=$(wc -w <<<"$keys")
# A floor, so that a change in the loader's shape that the pattern misses
# fails here rather than checking nothing.
[ "$nkeys" -ge 30 ] || fail "found only $nkeys keys in engine/lib/config.c: $keys"
echo "  ok: $nkeys keys in engine/lib/config.c"

undocumented() { # FILE: print the loader's keys FILE does not mention
	local k
	for k in $keys; do
		# "key:" at the start of a line, possibly commented out, possibly a
		# list item ("- kind:").
		grep -Eq "^[[:space:]]*(#[[:space:]]*)?(-[[:space:]]+)?$k:" "$1" ||
			echo "$k"
	done
}
missing=$(undocumented deploy/ceptor.yml)
[ -z "$missing" ] ||
	fail "keys accepted by engine/lib/config.c but not documented in deploy/ceptor.yml: $(echo $missing)"
echo "  ok: deploy/ceptor.yml documents every key"
# The check itself: a copy without log_level (and without the interface
# example) must be caught, by name.
grep -Ev '^[[:space:]]*(#[[:space:]]*)?(log_level|interface):' deploy/ceptor.yml \
	>"$WORK/short.yml"
expect_eq "$(undocumented "$WORK/short.yml" | tr '\n' ' ')" "interface log_level " \
	"a copy missing two keys is caught"

# 3. The unknown-key message lists every top-level key.
printf 'colectors: []\n' >"$WORK/typo.yml"
if "$BIN/ceptord" --check -c "$WORK/typo.yml" >/dev/null 2>"$WORK/typo.err"; then
	fail "--check accepted an unknown key"
fi
msg=$(cat "$WORK/typo.err")
expect_match "$msg" "^$WORK/typo.yml:1: unknown key \"colectors\" \\(expected one of " \
	"unknown key: FILE:LINE and what is expected"
# Top-level keys: those in load_root() (up to load_root's end).
root=$(sed -n '/^static void load_root/,/^}/p' engine/lib/config.c |
	grep -o 'strcmp(key, "[a-z_]*")' | sed 's/.*"\([a-z_]*\)")/\1/')
for k in $root; do
	[[ $msg =~ [\ ,\(]$k[,\)] ]] || fail "the unknown-key message does not name \"$k\": $msg"
done
echo "  ok: the message names all $(wc -w <<<"$root") top-level keys"

# 4. Several mistakes, each with its line and what was expected.
cat >"$WORK/bad.yml" <<'YML'
site: test
rules: [rules/default]
lateness: 5 minutes
ring_capacity: 1000
log: journal
log_level: loud
collectors:
  - kind: pcap
    name: tap
    reliability: Z
    tlp: PINK
    interfaces: eth0
  - kind: carrier-pigeon
YML
set +e
"$BIN/ceptord" --check -c "$WORK/bad.yml" >"$WORK/bad.out" 2>"$WORK/bad.err"
rc=$?
set -e
expect_eq "$rc" 1 "--check exit status on a bad configuration"
B=$WORK/bad.yml
want=(
	"$B:3: lateness must be 0 or a duration such as 500ms, 2s, 1m (at most 86400 s), not \"5 minutes\""
	"$B:4: ring_capacity must be a power of two"
	"$B:5: log must be stderr or syslog, not \"journal\""
	"$B:6: log_level must be one of error, warn, info, debug, not \"loud\""
	"$B:10: reliability must be one of A..F, not \"Z\""
	"$B:11: tlp must be one of CLEAR, GREEN, AMBER, AMBER+STRICT, RED, not \"PINK\""
	"$B:12: unknown collector key \"interfaces\" (a pcap collector takes"
	"$B:13: collector kind must be pcap, flow, feed or ring, not \"carrier-pigeon\""
)
for w in "${want[@]}"; do
	grep -qF -- "$w" "$WORK/bad.err" || fail "missing error line \"$w\" in: $(cat "$WORK/bad.err")"
	echo "  ok: $w"
done
expect_eq "$(wc -l <"$WORK/bad.err")" "${#want[@]}" "one line per mistake"

# A YAML syntax error: the file and the line of the problem.
printf 'site: test\nrules: [rules/default\nredis: none\n' >"$WORK/syntax.yml"
if "$BIN/ceptord" --check -c "$WORK/syntax.yml" >/dev/null 2>"$WORK/syntax.err"; then
	fail "--check accepted a YAML syntax error"
fi
expect_match "$(cat "$WORK/syntax.err")" "^$WORK/syntax.yml:[34]: " "YAML syntax error: FILE:LINE"

# The command line's log options are checked too.
set +e
"$BIN/ceptord" --check --log-level loud -c deploy/ceptor.yml >/dev/null 2>"$WORK/opt.err"
rc=$?
set -e
expect_eq "$rc" 2 "--log-level loud: usage error"
expect_match "$(cat "$WORK/opt.err")" 'must be one of error, warn, info, debug, not "loud"' \
	"--log-level loud: what is expected"
echo "deploy_config scenario: all checks passed"
