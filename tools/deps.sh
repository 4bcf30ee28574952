#!/usr/bin/env bash
# tools/deps.sh - make sure the Debian packages ceptor builds, tests and
# demonstrates with are installed.
#
#   tools/deps.sh ensure    install what is missing (as root), else explain
#   tools/deps.sh install   the same; the name `make deps` uses
#   tools/deps.sh list      print the package list
#
# Only Debian packages, only through apt-get, and only the missing ones.
set -euo pipefail

PACKAGES=(
	build-essential pkg-config
	libpcap-dev libhiredis-dev libjemalloc-dev liburcu-dev libyaml-dev
	libpcre2-dev
	check
	redis-server redis-tools
	tcpdump jq graphviz curl python3 python3-prometheus-client
	chromium fonts-dejavu-core
	softflowd nfdump tcpreplay iproute2 sec
	clang libclang-rt-14-dev
	stunnel4 openssl systemd strace python3
)

missing=()
for p in "${PACKAGES[@]}"; do
	status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	[[ $status == "install ok installed" ]] || missing+=("$p")
done

case "${1:-ensure}" in
list) printf '%s\n' "${PACKAGES[@]}"; exit 0 ;;
ensure|install) ;;
*) echo "usage: $0 ensure|install|list" >&2; exit 2 ;;
esac

[[ ${#missing[@]} -eq 0 ]] && exit 0

echo "ceptor: missing Debian packages: ${missing[*]}" >&2
if [[ $(id -u) -ne 0 ]]; then
	echo "ceptor: run as root:  apt-get update && apt-get install -y ${missing[*]}" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >&2
apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
# Debian starts redis-server as a service on install; the tests and the demo
# start their own on a free port and never use that one.
echo "ceptor: installed ${missing[*]}" >&2
