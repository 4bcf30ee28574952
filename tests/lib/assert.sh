# tests/lib/assert.sh - assertions for shell tests; each failure names what
# was expected and what came, and ends the test with status 1.

fail() {
	echo "FAIL: $*" >&2
	exit 1
}

expect_eq() { # actual expected what
	if [ "$1" != "$2" ]; then
		fail "$3: expected '$2', got '$1'"
	fi
	echo "  ok: $3 = $2"
}

expect_match() { # actual regex what
	if ! [[ $1 =~ $2 ]]; then
		fail "$3: '$1' does not match /$2/"
	fi
	echo "  ok: $3 ~ $2"
}
