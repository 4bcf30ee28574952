#!/usr/bin/env bash
# deploy/redis/acl-passwords.sh - turn the users.acl template into the ACL
# file Redis loads, with a password for every user but `default`.
#
#   acl-passwords.sh TEMPLATE OUT PASSDIR
#
# For each `user NAME off ...` line of TEMPLATE (NAME is not default), the
# password is PASSDIR/NAME.pass when that file exists, else 32 random hex
# characters written there (mode 0600).  OUT gets the same line switched
# `on` with the password's SHA-256 (`#HEX`, last), so OUT never holds a password
# in clear; `default` stays off.  Run it again after adding a user: the
# existing passwords are kept.  Then point redis.conf at OUT (aclfile OUT)
# and restart Redis, or run ACL LOAD as ceptor-admin.
set -euo pipefail

if [ $# -ne 3 ]; then
	echo "usage: $0 TEMPLATE OUT PASSDIR" >&2
	exit 2
fi
template=$1 out=$2 passdir=$3
[ -r "$template" ] || { echo "$0: cannot read $template" >&2; exit 1; }
mkdir -p "$passdir"
chmod 0700 "$passdir"
umask 077
tmp=$(mktemp "$out.XXXXXX")
trap 'rm -f "$tmp"' EXIT
n=0
while IFS= read -r line || [ -n "$line" ]; do
	n=$((n + 1))
	case $line in
	'' ) continue ;;
	"user default "*) printf '%s\n' "$line" >>"$tmp"; continue ;;
	"user "*" off "*) ;;
	*)
		echo "$template:$n: expected \"user NAME off RULES...\", got \"$line\"" >&2
		exit 1 ;;
	esac
	name=${line#user }
	name=${name%% *}
	case $name in
	*[!A-Za-z0-9_.-]*) echo "$template:$n: bad user name \"$name\"" >&2; exit 1 ;;
	esac
	pass="$passdir/$name.pass"
	if [ ! -s "$pass" ]; then
		openssl rand -hex 16 >"$pass"
	fi
	hash=$(tr -d '\n' <"$pass" | sha256sum | cut -d' ' -f1)
	# Last on the line: rules apply left to right, after resetpass.
	printf '%s #%s\n' "$(printf '%s\n' "$line" |
		sed "s/^user $name off /user $name on /")" "$hash" >>"$tmp"
done <"$template"
chmod 0640 "$tmp"
mv "$tmp" "$out"
trap - EXIT
echo "wrote $out; passwords in $passdir/NAME.pass" >&2
