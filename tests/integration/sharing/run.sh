#!/usr/bin/env bash
# Scenario: sharing rules (DESIGN.md section 6, engine/core/share.h)
# through ceptord --once and a real redis-server.
#   1. An AMBER electricity outage under `agreements:` reaches the
#      incidents streams of electricity and of the predicted sectors that
#      have an arrangement, and advisories go only to those; the others are
#      counted as withheld in status.json.  The council gets its summary.
#   2. A TLP:RED report naming its recipients (finance, rail) reaches
#      exactly their streams (rail has no arrangement: withheld); no
#      council, no advisories, not even its own sector.
#   3. A RED report from a source whose config names the recipients
#      (medical) reaches medical only.
#   4. A GREEN report about a SCADA system (plant_control) reaches every
#      sector that runs that class (rules/sectors.yml: electricity, gas),
#      whether or not they have an arrangement.
#   5. A bad `agreements:` entry stops --check with FILE:LINE.
#
# Needs: BIN (binaries), jq, a redis-server to start (a private one).
set -euo pipefail
cd "$(dirname "$0")/../../.."
. tests/lib/assert.sh
BIN=${BIN:-build/bin}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/ceptor-sharing.XXXXXX")
. tests/lib/redis.sh
cleanup() { redis_stop; [ -n "${KEEP:-}" ] || rm -rf "$WORK"; }
trap cleanup EXIT
redis_start

FIRST=2026-03-02T08:00:00Z
report() { # report_id sector system cause type tlp [extra json members]
	printf '{"report_id":"%s","ts":"%s","reporter":{"org":"Operator %s"},"sector":"%s","system":{"class":"%s"},"cause":{"class":"%s","type":"%s"},"trigger":"serious_failure","tlp":"%s"%s,"text":"report"}\n' \
		"$1" "$FIRST" "$1" "$2" "$3" "$4" "$5" "$6" "${7:-}"
}
report EL-1 electricity power_management disaster power_loss AMBER >"$WORK/amber.json"
report EL-2 electricity power_management disaster power_loss RED \
	',"recipients":["finance","rail"]' >"$WORK/red.json"
report EL-3 electricity power_management disaster power_loss RED >"$WORK/red-src.json"
report GS-1 electricity plant_control cyber intrusion GREEN >"$WORK/scada.json"

AGREED="electricity water finance"
cat >"$WORK/ceptor.yml" <<YML
site: test
rules: [rules/default]
sectors: rules/sectors.yml
agreements: [$(echo $AGREED | sed 's/ /, /g')]
collectors:
  - kind: feed
    name: grid-reports
    format: report
    files: [$WORK/red-src.json]
    tlp: RED
    recipients: [medical]
YML
"$BIN/ceptord" --check -c "$WORK/ceptor.yml" >/dev/null || fail "--check failed"
run() { # ceptord options
	redis_cli FLUSHALL >/dev/null
	"$BIN/ceptord" -c "$WORK/ceptor.yml" --once --spool "$WORK/spool" \
		--redis "$REDIS_URL" "$@" 2>>"$WORK/ceptord.log" ||
		fail "ceptord failed: $(tail -5 "$WORK/ceptord.log")"
}
keys() { redis_cli --raw KEYS 'ceptor:*' | grep -v '^ceptor:{stats:' | sort | tr '\n' ' '; }
agreed() { case " $AGREED " in *" $1 "*) return 0 ;; esac; return 1; }

# What the graph predicts for an electricity outage.
predicted=$("$BIN/ceptorctl" impact --what-if electricity --json | jq -r '.spread[].sector')
[ -n "$predicted" ] || fail "no prediction for electricity"

# 1. AMBER under agreements.  (The config's own input, the RED report with
# configured recipients, is left out here: a config of its own below.)
sed -i '/^collectors:/,$d' "$WORK/ceptor.yml"
run --feed "report:$WORK/amber.json"
want="ceptor:{council}:incidents ceptor:{electricity}:incidents"
withheld=0
for s in $predicted; do
	if agreed "$s"; then
		want="$want ceptor:{$s}:incidents ceptor:{$s}:advisories"
	else
		withheld=$((withheld + 1))
	fi
done
want=$(tr ' ' '\n' <<<"$want" | sort | tr '\n' ' ')
expect_eq "$(keys)" "$want" "AMBER: streams of sectors under an arrangement"
[ "$withheld" -gt 0 ] || fail "the prediction reaches no sector without an arrangement"
expect_eq "$(jq -r .engine.withheld "$WORK/spool/status.json")" "$withheld" \
	"status.json counts the withheld sectors"

# 2. RED with named recipients: finance (agreed) and rail (not).
run --feed "report:$WORK/red.json"
expect_eq "$(keys)" "ceptor:{finance}:incidents " "RED: only the named recipient with an arrangement"
expect_eq "$(redis_cli --raw XRANGE 'ceptor:{finance}:incidents' - + | awk 'p == "tlp" { print; exit } { p = $0 }')" \
	RED "RED: marking kept"
expect_eq "$(jq -r .engine.withheld "$WORK/spool/status.json")" 1 "RED: rail withheld"

# 3. RED from a source whose config names its recipients.
AGREED="$AGREED medical"
cat >>"$WORK/ceptor.yml" <<YML
collectors:
  - kind: feed
    name: grid-reports
    format: report
    files: [$WORK/red-src.json]
    tlp: RED
    recipients: [medical]
YML
sed -i 's/^agreements: .*/agreements: [electricity, water, finance, medical]/' "$WORK/ceptor.yml"
run
expect_eq "$(keys)" "ceptor:{medical}:incidents " "RED: the source's configured recipients"

# 4. A GREEN report about SCADA: every sector running plant_control.
sed -i '/^collectors:/,$d' "$WORK/ceptor.yml"
run --feed "report:$WORK/scada.json"
got=$(keys)
for k in 'ceptor:{electricity}:incidents' 'ceptor:{gas}:incidents' 'ceptor:{council}:incidents'; do
	case " $got" in *" $k "*) ;; *) fail "SCADA: $k missing from: $got" ;; esac
done
for k in $got; do
	case $k in
	'ceptor:{electricity}:incidents' | 'ceptor:{gas}:incidents' | 'ceptor:{council}:incidents') ;;
	*:advisories) ;; # an intrusion predicts nothing; tolerated if the graph says so
	*) fail "SCADA: unexpected stream $k" ;;
	esac
done

# 5. A bad agreements entry.
printf 'site: test\nrules: [rules/default]\nagreements: [finance, banks]\n' >"$WORK/bad.yml"
if "$BIN/ceptord" --check -c "$WORK/bad.yml" >/dev/null 2>"$WORK/bad.log"; then
	fail "--check accepted a bad agreements entry"
fi
expect_match "$(cat "$WORK/bad.log")" 'bad.yml:3:.*"banks" is not a sector' "FILE:LINE of a bad agreements entry"
echo "sharing scenario: all checks passed"
