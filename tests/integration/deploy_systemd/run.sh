#!/usr/bin/env bash
# Scenario: the systemd units in deploy/systemd are valid, hardened as
# deploy/GUIDE.md says, and their command lines work under that hardening.
#   1. Settings, read from the files: every unit runs as ceptor with
#      NoNewPrivileges, ProtectSystem=strict, ReadWritePaths=/var/lib/ceptor
#      only, StateDirectory, PrivateTmp, ProtectHome, RestrictAddressFamilies,
#      MemoryDenyWriteExecute, SystemCallArchitectures=native,
#      Restart=on-failure; ceptor-pcap@ alone holds capabilities (CAP_NET_RAW
#      CAP_NET_ADMIN); nothing that would take /dev/shm (the rings) away
#      (DynamicUser, RemoveIPC=yes, InaccessiblePaths or TemporaryFileSystem
#      over /dev/shm); ceptord reloads with SIGHUP; ceptor-flow@ reads
#      /etc/ceptor/flow-%i.env.
#   2. systemd-analyze verify on each unit (ExecStart pointing at the built
#      binaries in a copy): no complaint.  Shown to catch a misspelt key and
#      a missing binary on doctored copies.
#   3. systemd-analyze security --offline: each unit's exposure at most 2.5.
#   4. systemd-sysusers --dry-run creates the ceptor user from ceptor.conf.
#   5. The units' own command lines (%i and their environment files
#      expanded, paths moved into a temporary directory), run as an
#      unprivileged user (nobody) with the unit's capabilities (setpriv),
#      no_new_privs and memory-deny-write-execute (the kernel's PR_SET_MDWE),
#      under strace: ceptord with a |re rule and three ring inputs;
#      ceptor-flow@, ceptor-feed@ and ceptor-pcap@lo attach to its rings and
#      deliver (a NetFlow v5 packet, a dropped feed file that makes an
#      incident through the regex rule, packets on lo); every system call
#      each made is in its unit's SystemCallFilter, and every socket family
#      in its RestrictAddressFamilies.
# systemd is not PID 1 here, so the units are not started by systemd; step
# 5 reproduces what their settings do to the process.  Parts that need
# root (5: setpriv, pcap), strace, or a kernel with PR_SET_MDWE print a
# notice when skipped; steps 1-4 always run (systemd comes from deps.sh).
#
# Needs: BIN (binaries), systemd (systemd-analyze, systemd-sysusers), jq,
# ss, strace, redis-server, python3.
set -euo pipefail
cd "$(dirname "$0")/../../.."
ROOT=$PWD
. tests/lib/assert.sh
BIN=${BIN:-build/bin}
case $BIN in /*) BINABS=$BIN ;; *) BINABS=$ROOT/$BIN ;; esac
HERE=$ROOT/tests/integration/deploy_systemd
U=deploy/systemd
UNITS="ceptord.service ceptor-pcap@.service ceptor-flow@.service ceptor-feed@.service"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/ceptor-deploy-systemd.XXXXXX")
TAG=test$$
PIDS=()
. tests/lib/redis.sh
# stop PID [SIGNAL]: PID is an strace; signal the program it runs (its
# child), then wait for strace, which exits with the program's status.
stop() {
	local c
	for c in $(cat /proc/"$1"/task/*/children 2>/dev/null || true); do
		kill -"${2:-TERM}" "$c" 2>/dev/null || true
	done
	wait "$1"
}
cleanup() {
	local p
	for p in "${PIDS[@]}"; do
		stop "$p" 2>/dev/null || true
	done
	redis_stop
	rm -f /dev/shm/ceptor-"$TAG"-* 2>/dev/null || true
	[ -n "${KEEP:-}" ] || rm -rf "$WORK"
}
trap cleanup EXIT

# setting UNIT KEY: each value of KEY in UNIT's [Service] section, one a line.
setting() {
	awk -v k="$2" '/^\[/ { sec = $0; next }
		sec == "[Service]" && index($0, k "=") == 1 { print substr($0, length(k) + 2) }' \
		"$U/$1"
}
# one UNIT KEY VALUE: KEY is set once, to VALUE.
one() {
	expect_eq "$(setting "$1" "$2" | tr '\n' '|')" "$3|" "$1: $2"
}

# 1. Settings.
for u in $UNITS; do
	[ -f "$U/$u" ] || fail "$U/$u is missing"
	for kv in User=ceptor Group=ceptor NoNewPrivileges=yes ProtectSystem=strict \
		ReadWritePaths=/var/lib/ceptor PrivateTmp=yes ProtectHome=yes \
		MemoryDenyWriteExecute=yes SystemCallArchitectures=native \
		Restart=on-failure RemoveIPC=no; do
		one "$u" "${kv%%=*}" "${kv#*=}"
	done
	expect_match "$(setting "$u" StateDirectory)" '^ceptor(/[^ ]+)?$' "$u: StateDirectory"
	expect_match "$(setting "$u" RestrictAddressFamilies)" '^AF_' "$u: RestrictAddressFamilies"
	expect_match "$(setting "$u" SystemCallFilter | head -1)" '^@system-service$' "$u: SystemCallFilter"
	for bad in DynamicUser PrivateIPC InaccessiblePaths TemporaryFileSystem; do
		[ -z "$(setting "$u" "$bad")" ] || fail "$u sets $bad= (the rings live in /dev/shm)"
	done
	exe=$(setting "$u" ExecStart | awk '{ print $1 }')
	expect_match "$exe" '^/usr/local/bin/ceptor' "$u: ExecStart binary"
	[ -x "$BIN/${exe##*/}" ] || fail "$u: ExecStart names ${exe##*/}, which make does not build"
	if [ "$u" = ceptor-pcap@.service ]; then
		one "$u" AmbientCapabilities "CAP_NET_RAW CAP_NET_ADMIN"
		one "$u" CapabilityBoundingSet "CAP_NET_RAW CAP_NET_ADMIN"
	else
		one "$u" AmbientCapabilities ""
		one "$u" CapabilityBoundingSet ""
	fi
done
one ceptord.service ExecReload '/bin/kill -HUP $MAINPID'
one ceptord.service ExecStart '/usr/local/bin/ceptord -c /etc/ceptor/ceptor.yml'
one ceptor-flow@.service EnvironmentFile /etc/ceptor/flow-%i.env
expect_match "$(setting ceptor-pcap@.service ExecStart)" ' -i %i ' "pcap: instance = interface"
expect_match "$(setting ceptor-feed@.service ExecStart)" ' --watch .* /var/lib/ceptor/feeds/%i$' \
	"feed: watches /var/lib/ceptor/feeds/%i"
grep -q '^u ceptor ' "$U/ceptor.conf" || fail "$U/ceptor.conf does not create user ceptor"

# Units with the binaries where make put them, for systemd-analyze.
mkdir -p "$WORK/units"
for u in $UNITS; do
	sed "s|/usr/local/bin/|$BINABS/|g" "$U/$u" >"$WORK/units/$u"
done
instance() { # template instance
	case $1 in
	ceptor-pcap@.service) echo ceptor-pcap@lo.service ;;
	ceptor-flow@.service) echo ceptor-flow@edge.service ;;
	ceptor-feed@.service) echo ceptor-feed@reports.service ;;
	*) echo "$1" ;;
	esac
}

if ! command -v systemd-analyze >/dev/null; then
	tools/deps.sh ensure >/dev/null 2>&1 || true
fi
if ! command -v systemd-analyze >/dev/null; then
	echo "notice: systemd-analyze is not installed (tools/deps.sh installs systemd); steps 2-4 skipped"
else
	# 2. verify: silence is success.  Lines that only say this is not a
	# booted systemd host are shown and set aside.
	ENV_NOISE='System has not been booted with systemd|Failed to connect to bus|cgroup|/run/systemd|Failed to create .*control group'
	verify() { # DIR UNIT: the complaints
		(cd "$1" && systemd-analyze verify "$1/$2" 2>&1 || true) >"$WORK/verify.out"
		if grep -Eq "$ENV_NOISE" "$WORK/verify.out"; then
			echo "notice: environment lines from systemd-analyze set aside:" >&2
			grep -E "$ENV_NOISE" "$WORK/verify.out" | sed 's/^/  /' >&2
		fi
		grep -Ev "$ENV_NOISE" "$WORK/verify.out" || true
	}
	for u in $UNITS; do
		out=$(verify "$WORK/units" "$(instance "$u")")
		[ -z "$out" ] || fail "systemd-analyze verify $(instance "$u"): $out"
		echo "  ok: systemd-analyze verify $(instance "$u"): no complaint"
	done
	# The check can fail: a misspelt key, and a binary that is not there.
	mkdir -p "$WORK/bad"
	sed 's/^NoNewPrivileges=/NoNewPrivilege=/' "$WORK/units/ceptord.service" >"$WORK/bad/ceptord.service"
	expect_match "$(verify "$WORK/bad" ceptord.service)" "NoNewPrivilege" \
		"verify catches a misspelt key"
	sed "s|$BINABS/ceptor-flow|$WORK/no-such-binary|" "$WORK/units/ceptor-flow@.service" \
		>"$WORK/bad/ceptor-flow@.service"
	expect_match "$(verify "$WORK/bad" ceptor-flow@edge.service)" "no-such-binary" \
		"verify catches a missing binary"

	# 3. Exposure, as systemd rates it (0 = locked down, 10 = unsafe).
	for u in $UNITS; do
		out=$(cd "$WORK/units" && systemd-analyze security --offline=true \
			"$WORK/units/$(instance "$u")" 2>&1 || true)
		level=$(sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p' <<<"$out")
		if [ -z "$level" ]; then
			echo "notice: systemd-analyze security --offline gave no level for $u (older systemd?): $(tail -1 <<<"$out")"
			continue
		fi
		awk -v l="$level" 'BEGIN { exit !(l <= 2.5) }' ||
			fail "$u: exposure $level > 2.5: $(grep '✗' <<<"$out" | head -20)"
		echo "  ok: $u exposure $level (at most 2.5)"
	done

	# 4. The user.
	if command -v systemd-sysusers >/dev/null; then
		# Installed where the package would put it, in an empty root.
		mkdir -p "$WORK/sysroot/etc" "$WORK/sysroot/usr/lib/sysusers.d"
		cp "$U/ceptor.conf" "$WORK/sysroot/usr/lib/sysusers.d/ceptor.conf"
		out=$(systemd-sysusers --dry-run --root="$WORK/sysroot" 2>&1) ||
			fail "systemd-sysusers rejects $U/ceptor.conf: $out"
		expect_match "$out" "Creating user '?ceptor'? " "sysusers creates ceptor"
	else
		echo "notice: systemd-sysusers missing; $U/ceptor.conf not checked"
	fi
fi

# 5. The command lines, run as the units run them.
skip5() { echo "notice: step 5 skipped: $*"; echo "deploy_systemd: all checks passed (step 5 skipped)"; exit 0; }
[ "$(id -u)" = 0 ] || skip5 "needs root (setpriv to nobody, capture on lo)"
for t in strace setpriv jq ss python3 redis-server; do
	command -v "$t" >/dev/null || skip5 "$t is not installed"
done
python3 "$HERE/mdwe.py" true 2>/dev/null || skip5 "the kernel has no PR_SET_MDWE (Linux 6.3+)"

# The file system the units expect, under $WORK: /etc/ceptor, /var/lib.
E=$WORK/etc/ceptor
V=$WORK/var/lib
mkdir -p "$E/rules/test" "$V/ceptor"
cp -r rules/default "$E/rules/default"
cp rules/sectors.yml "$E/rules/sectors.yml"
cat >"$E/rules/test/onion.yml" <<'YML'
title: Contact with an onion service
id: test-deploy-onion
status: experimental
level: high
type: c2
logsource:
  product: ceptor
detection:
  sel:
    indicator|re: '^[a-z2-7]{16}\.onion$'
  condition: sel
YML
redis_start
cat >"$E/ceptor.yml" <<YML
site: deploy-systemd-test
redis: $REDIS_URL
rules: [rules/default, rules/test]
ring_capacity: 1024
collectors:
  - kind: ring
    name: tap-lo
    ring: /ceptor-$TAG-pcap-lo
    overflow: drop
  - kind: ring
    name: flow-edge
    ring: /ceptor-$TAG-flow-edge
    overflow: drop
  - kind: ring
    name: feed-reports
    ring: /ceptor-$TAG-feed-reports
    sector: finance
YML
free_port() {
	local p
	for _ in $(seq 1 50); do
		p=$((20000 + RANDOM % 20000))
		[ -z "$(ss -Hunl "sport = :$p")" ] && { echo "$p"; return 0; }
	done
	return 1
}
FLOW_PORT=$(free_port) || fail "no free UDP port"
printf 'LISTEN=127.0.0.1:%s\nOPTS=--reliability B --credibility 3 --sector telecom\n' \
	"$FLOW_PORT" >"$E/flow-edge.env"
printf 'FORMAT=jsonl\nOPTS=--reliability B --credibility 2 --tlp AMBER\n' >"$E/feed-reports.env"
printf 'BPF=tcp port %s\nOPTS=--buffer-size 4M --sector telecom --timeout 50\n' \
	"$REDIS_PORT" >"$E/pcap-lo.env"
mkdir -p "$WORK/trace" # strace writes as the service user
chown -R nobody:nogroup "$WORK/var" "$WORK/trace"
chmod 755 "$WORK"

# The unit files with the test's paths and ring names.
mkdir -p "$WORK/run"
for u in $UNITS; do
	sed -e "s|/usr/local/bin/|$BINABS/|g" -e "s|/etc/ceptor|$E|g" -e "s|/var/lib|$V|g" \
		-e "s|--ring /ceptor-|--ring /ceptor-$TAG-|" "$U/$u" >"$WORK/run/$u"
done

# cmdline UNIT INSTANCE: ExecStart (or ExecStartPre) as systemd would run
# it, one argument a line: %i, Environment=, EnvironmentFile= (a leading -:
# optional), ${VAR} as one argument, $VAR split on blanks.
cmdline() {
	local file=$WORK/run/$1 inst=$2 key=${3:-ExecStart} line pair ef name val tok
	declare -A env=()
	while IFS= read -r line; do
		for pair in $line; do env[${pair%%=*}]=${pair#*=}; done
	done < <(U=$WORK/run setting "$1" Environment)
	while IFS= read -r ef; do
		ef=${ef//%i/$inst}
		if [ ! -f "${ef#-}" ]; then
			[ "${ef:0:1}" = - ] && continue
			fail "$1: EnvironmentFile ${ef} is missing"
		fi
		while IFS= read -r line; do
			[[ $line =~ ^([A-Za-z_][A-Za-z0-9_]*)=(.*)$ ]] || continue
			env[${BASH_REMATCH[1]}]=${BASH_REMATCH[2]}
		done <"${ef#-}"
	done < <(U=$WORK/run setting "$1" EnvironmentFile)
	line=$(U=$WORK/run setting "$1" "$key" | head -1)
	line=${line//%i/$inst}
	for tok in $line; do
		if [[ $tok =~ ^\$([A-Za-z_][A-Za-z0-9_]*)$ ]]; then
			for val in ${env[${BASH_REMATCH[1]}]:-}; do printf '%s\n' "$val"; done
			continue
		fi
		while [[ $tok =~ \$\{([A-Za-z_][A-Za-z0-9_]*)\} ]]; do
			name=${BASH_REMATCH[1]}
			tok=${tok//\$\{$name\}/${env[$name]:-}}
		done
		printf '%s\n' "$tok"
	done
}
# run_unit UNIT INSTANCE CAPS LOG: start the command line in the
# background as nobody, with the unit's capabilities, no_new_privs, MDWE,
# under strace (trace in $WORK/trace/LOG.strace).  Sets LAST_PID.
run_unit() {
	local unit=$1 inst=$2 caps=$3 log=$4 args=()
	mapfile -t args < <(cmdline "$unit" "$inst")
	local priv=(setpriv --reuid=nobody --regid=nogroup --clear-groups --no-new-privs)
	if [ -n "$caps" ]; then
		priv+=(--inh-caps="$caps" --ambient-caps="$caps" --bounding-set=-all,"$caps")
	else
		priv+=(--inh-caps=-all --bounding-set=-all)
	fi
	echo "  $unit ($inst): ${args[*]}"
	# MDWE first (python as root), then the user and capabilities; both
	# survive the execs that follow, as systemd's settings do.
	# LeakSanitizer cannot work under ptrace (strace): in the asan
	# flavour these runs check memory errors, not leaks (make asan finds
	# leaks in every other test).
	(cd "${5:-/}" && ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
		exec python3 "$HERE/mdwe.py" "${priv[@]}" \
		strace -f -qq -o "$WORK/trace/${log##*/}.strace" "${args[@]}") 2>"$log" &
	LAST_PID=$!
	PIDS+=("$LAST_PID")
}
status_json() { "$BIN/ceptorctl" status --spool "$V/ceptor/spool" --json 2>/dev/null || true; }
input() { status_json | jq -r ".inputs[] | select(.name==\"$1\") | $2"; }
wait_for() { # WHAT 'SHELL TEST': at most 15 s
	local i
	for i in $(seq 1 150); do
		if eval "$2"; then return 0; fi
		sleep 0.1
	done
	fail "waited 15 s for $1; inputs: $(status_json | jq -c .inputs 2>/dev/null)"
}

# ceptord: ExecStartPre, then ExecStart, from WorkingDirectory.
wd=$(U=$WORK/run setting ceptord.service WorkingDirectory)
mapfile -t pre < <(cmdline ceptord.service "" ExecStartPre)
(cd "$wd" && XDG_STATE_HOME=$V setpriv --reuid=nobody --regid=nogroup --clear-groups \
	--no-new-privs "${pre[@]}") >"$WORK/check.out" 2>&1 ||
	fail "ExecStartPre (${pre[*]}) failed: $(cat "$WORK/check.out")"
expect_match "$(cat "$WORK/check.out")" 'configuration OK: .* 3 inputs, sector graph rules/sectors.yml' \
	"ExecStartPre: --check from WorkingDirectory"
export XDG_STATE_HOME=$V # the unit's Environment=XDG_STATE_HOME=/var/lib
run_unit ceptord.service "" "" "$WORK/ceptord.log" "$wd"
ENGINE=$LAST_PID
wait_for "ceptord running" 'test "$(status_json | jq -r .state)" = running'
expect_eq "$(stat -c %U "/dev/shm/ceptor-$TAG-flow-edge")" nobody "ring owned by the service user"
expect_eq "$(stat -c %a "/dev/shm/ceptor-$TAG-flow-edge")" 600 "ring mode"

run_unit ceptor-flow@.service edge "" "$WORK/flow.log"
FLOW=$LAST_PID
# StateDirectory= makes the watched directory under systemd.
FEEDDIR=$V/ceptor/feeds/reports
mkdir -p "$FEEDDIR"
chown nobody:nogroup "$FEEDDIR"
run_unit ceptor-feed@.service reports "" "$WORK/feed.log"
FEED=$LAST_PID
run_unit ceptor-pcap@.service lo +net_raw,+net_admin "$WORK/pcap.log"
PCAP=$LAST_PID
for n in flow-edge feed-reports tap-lo; do
	wait_for "$n attached" 'test "$(input '"$n"' .producer.state)" = alive'
	echo "  ok: $n: collector attached to ceptord's ring"
done

# Input for each.  Flow: one NetFlow v5 packet of one record.
hex() { printf '%0*x' "$1" "$2"; }
now=$(date +%s)
pkt="0005$(hex 4 1)$(hex 8 600000)$(hex 8 "$now")$(hex 8 0)$(hex 8 0)00000000"
pkt+="c6336407c000020b00000000000100020000000500000190" # no 0x0a byte: bash flushes a datagram at a newline
pkt+="$(hex 8 599000)$(hex 8 599000)$(hex 4 40001)01bb0012060000000000181800""00"
printf "$(sed 's/../\\x&/g' <<<"$pkt")" >"/dev/udp/127.0.0.1/$FLOW_PORT"
wait_for "the flow record" 'test "$(input flow-edge .producer.run.captured)" = 1'
echo "  ok: ceptor-flow@edge received a NetFlow record"
# Feed: a file dropped into the watched directory.
printf '{"ts":"%s","kind":"feed","type":"c2","indicator":"abcdefghijklmnop.onion","sector":"finance"}\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" \
	>"$WORK/onion.part"
chown nobody:nogroup "$WORK/onion.part"
mv "$WORK/onion.part" "$FEEDDIR/onion.jsonl"
ONION_RULE='"rule":"test-deploy-onion"'
wait_for "the regex rule's incident" \
	'[[ $(redis_cli --raw XRANGE "ceptor:{finance}:incidents" - +) == *"$ONION_RULE"* ]]'
echo "  ok: ceptor-feed@reports -> ceptord (|re rule, no JIT) -> Redis"
# pcap: TCP on lo to the Redis port.
for i in 1 2 3; do redis_cli PING >/dev/null; done
wait_for "packets on lo" 'test "$(input tap-lo .producer.run.captured)" -gt 0'
echo "  ok: ceptor-pcap@lo captured with ambient CAP_NET_RAW as nobody"
if grep -q 'drop\|privilege' "$WORK/pcap.log"; then
	echo "  ceptor-pcap: $(grep -m1 'drop\|privilege' "$WORK/pcap.log")"
fi

# Stop as systemd does (SIGTERM), collectors first.
for pair in "$PCAP:ceptor-pcap" "$FLOW:ceptor-flow" "$FEED:ceptor-feed" "$ENGINE:ceptord"; do
	rc=0
	stop "${pair%%:*}" || rc=$?
	expect_eq "$rc" 0 "${pair#*:}: exit status after SIGTERM"
done
PIDS=()

# Every system call and socket family, against the unit's filters.
expand_set() { # @group or name: the syscall names
	local s
	case $1 in
	@*) systemd-analyze syscall-filter "$1" | tail -n +2 | sed 's/^ *//' |
		grep -v '^#' | grep . | while read -r s; do expand_set "$s"; done ;;
	*) echo "$1" ;;
	esac
}
allowed_set() { # UNIT: what its SystemCallFilter= lines allow
	local line allow="" deny="" w
	while IFS= read -r line; do
		if [ "${line:0:1}" = "~" ]; then
			for w in ${line:1}; do deny+="$(expand_set "$w")"$'\n'; done
		else
			for w in $line; do allow+="$(expand_set "$w")"$'\n'; done
		fi
	done < <(setting "$1" SystemCallFilter)
	comm -23 <(grep . <<<"$allow" | sort -u) <(grep . <<<"$deny" | sort -u)
}
expect_eq "$(allowed_set ceptord.service | grep -cx setrlimit || true)" 0 \
	"ceptord's filter denies @resources (setrlimit)"
for pair in ceptord.service:ceptord ceptor-flow@.service:flow \
	ceptor-feed@.service:feed ceptor-pcap@.service:pcap; do
	unit=${pair%%:*} trace=$WORK/trace/${pair#*:}.log.strace
	[ -s "$trace" ] || fail "no strace output for $unit"
	used=$(sed -E -n 's/^[0-9]+ +(<\.\.\. )?([a-z0-9_]+)(\(| resumed>).*/\2/p' "$trace" | sort -u)
	[ "$(wc -l <<<"$used")" -gt 20 ] || fail "$unit: only $(wc -l <<<"$used") syscalls traced"
	outside=$(comm -23 <(echo "$used") <(allowed_set "$unit"))
	[ -z "$outside" ] || fail "$unit: system calls outside its SystemCallFilter: $(echo $outside)"
	echo "  ok: $unit: all $(wc -l <<<"$used") system calls it made are in its SystemCallFilter"
	fams=$(grep -oE 'socket\((AF_[A-Z0-9]+)' "$trace" | sed 's/socket(//' | sort -u || true)
	for f in $fams; do
		[[ " $(setting "$unit" RestrictAddressFamilies) " == *" $f "* ]] ||
			fail "$unit: opened an $f socket, not in RestrictAddressFamilies"
	done
	echo "  ok: $unit: socket families (${fams:-none}) are all in RestrictAddressFamilies" | tr '\n' ' '
	echo
done
# The comparison can fail: ceptor-pcap drops its capabilities with capset,
# which ceptord's stricter filter (no @privileged) would kill; that is why
# the pcap unit keeps @privileged.
used=$(sed -E -n 's/^[0-9]+ +(<\.\.\. )?([a-z0-9_]+)(\(| resumed>).*/\2/p' \
	"$WORK/trace/pcap.log.strace" | sort -u)
expect_match "$(comm -23 <(echo "$used") <(allowed_set ceptord.service) | tr '\n' ' ')" \
	'(^| )capset ' "ceptor-pcap's calls against ceptord's filter: capset falls outside"
echo "deploy_systemd: all checks passed"
