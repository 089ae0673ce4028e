# shellcheck shell=bash
#
# kith.sh: what kith's scenarios share on top of hosts.sh.
#
#   kith_setup                find the binaries, hosts_init, a passphrase file
#   kith_on HOST ARGS...      run kith on HOST with HOST's own home
#   kith_home HOST            that home's path
#   pair_start HOST ARGS...   start 'kith pair --json --yes --qr-png' on HOST
#                             in the background; sets PAIR_PID, PAIR_PNG,
#                             PAIR_PORT, PAIR_LOG
#   pair_wait                 wait for that pair to end; its exit status
#   must CMD...               run CMD; fail the scenario if it fails
#   must_fail REGEX CMD...    CMD must fail, its stderr matching REGEX
#   same_history A B          both hosts export the same history
#   pass MSG / fail MSG       report
here_lib=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=hosts.sh
. "$here_lib/hosts.sh"

kith_setup() {
	local src
	src=$(cd "$here_lib/../.." && pwd)
	KITH=${KITH_BIN:-$src/build/asan/syncd}/kith
	TOOLS=${KITH_TOOLS:-$(dirname "$KITH")/../tests}
	[ -x "$KITH" ] || { echo "kith not built at $KITH" >&2; exit 1; }
	export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
	hosts_init
	PASSFILE=$HOSTS_TMP/passphrase
	echo "correct horse battery staple" > "$PASSFILE"
	chmod 600 "$PASSFILE"
}

kith_home() {
	echo "$HOSTS_TMP/$1/kith"
}

kith_on() {
	local h=$1
	shift
	host_exec "$h" "$KITH" --home "$(kith_home "$h")" \
		--passphrase-file "$PASSFILE" "$@"
}

pair_start() {
	local h=$1 i
	shift
	PAIR_PNG=$HOSTS_TMP/$h/pair-$RANDOM.png
	PAIR_PID=$(host_bg "$h" "$KITH" --home "$(kith_home "$h")" \
		--passphrase-file "$PASSFILE" pair --json --yes \
		--qr-png "$PAIR_PNG" "$@")
	PAIR_LOG=$(host_bg_log "$h")
	for i in $(seq 1 100); do
		PAIR_PORT=$(sed -n 's/.*"event":"waiting","port":\([0-9]*\).*/\1/p' \
			"$PAIR_LOG" 2>/dev/null | head -1)
		[ -n "$PAIR_PORT" ] && [ -s "$PAIR_PNG" ] && return 0
		kill -0 "$PAIR_PID" 2>/dev/null || break
		sleep 0.1
	done
	cat "$PAIR_LOG" >&2
	fail "kith pair did not start"
}

pair_wait() {
	local i rcfile=${PAIR_LOG%.log}.rc
	for i in $(seq 1 600); do
		[ -s "$rcfile" ] && break
		sleep 0.1
	done
	# host_bg writes the exit status of 'kith pair' beside its log.
	[ "$(cat "$rcfile" 2>/dev/null)" = 0 ]
}

pass() { echo "PASS: $*"; }
fail() { echo "FAIL: $*" >&2; exit 1; }

must() {
	"$@" || fail "command failed: $*"
}

must_fail() {
	local re=$1 err
	shift
	err=$HOSTS_TMP/must_fail.err
	if "$@" 2>"$err" >/dev/null; then
		fail "should have failed: $*"
	fi
	grep -Eq "$re" "$err" || { cat "$err" >&2; fail "error does not say /$re/: $*"; }
	cat "$err"
}

same_history() {
	kith_on "$1" history export > "$HOSTS_TMP/$1.export" || fail "export on $1"
	kith_on "$2" history export > "$HOSTS_TMP/$2.export" || fail "export on $2"
	[ -s "$HOSTS_TMP/$1.export" ] || fail "empty export on $1"
	cmp -s "$HOSTS_TMP/$1.export" "$HOSTS_TMP/$2.export" ||
		fail "histories of $1 and $2 differ"
}
