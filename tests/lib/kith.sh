# shellcheck shell=bash
#
# kith.sh: what kith's scenarios share on top of hosts.sh.
#
#   kith_setup                find the binaries (and the netem tool for
#                             host_impair), hosts_init, a passphrase file
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
#
# Accounts:
#   kith_account HOST         'kith init' on HOST (device name = HOST)
#   kith_pair OLD NEW [ARGS]  pair NEW into OLD's account ('kith pair' on
#                             OLD, 'kith join PNG --name NEW ARGS' on NEW)
#   kith_group HOST...        an account on the first HOST, every other
#                             one paired to it in turn
#   device_id HOST / id8 HOST this device's id (hex) / its first 8 digits
#
# The agent (one kithd per host at a time):
#   kithd_start HOST [VAR=VAL]... [ARGS]
#                             start 'kithd --home H --foreground -v ARGS'
#                             with VAR=VAL in its environment, unlocked
#                             with the passphrase file (KITH_PASSPHRASE_FILE=
#                             starts it locked); waits for 'listening on
#                             port N' (or 'locked': KITHD_PORT=locked);
#                             sets KITHD_PORT
#   kithd_stop HOST           SIGTERM; it must exit 0 within 10 s
#   kithd_kill HOST           SIGKILL; waits until it is gone
#   kithd_pid / kithd_port / kithd_log HOST
#                             of the host's latest kithd; kithd_logs HOST
#                             concatenates all its kithd logs
#   wait_log HOST ERE [SEC]   wait until the latest kithd log matches ERE
#   wait_peers HOST PEER... [SEC]
#                             until HOST's latest kithd logged a session
#                             with each PEER (either direction)
#   live_peers HOST           names of the devices HOST's agent has a live
#                             session with (from 'kith status --json')
#   wait_mesh HOST... [SEC]   until every HOST is live with every other
#   kith_count HOST           'kith history count' (-1 if it fails)
#   wait_count HOST N [SEC]   until HOST holds N records (default 60 s)
#   wait_same HOST... [SEC]   until every HOST exports the same history
#                             (sorted lines); puts it in $HOSTS_TMP/same
#   elapsed                   seconds since kith_setup, for figures
#
# A mount namespace (for loop-mounted volumes that only the test sees):
#   mountns_start HOST MOUNTPOINT...
#                             a private mount namespace on HOST, held by a
#                             sleeping process (its PID in MNTNS_PID); at
#                             exit, whatever the outcome, the MOUNTPOINTs
#                             are unmounted in it before hosts_cleanup
#   inns CMD...               run CMD on that HOST, in that namespace
#
# KITH_SLOW=N multiplies every wait above by N, for runs under valgrind
# (tests/valgrind/run sets it), where each process is 20-50 times slower.
here_lib=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=hosts.sh
. "$here_lib/hosts.sh"

kith_setup() {
	local src
	src=$(cd "$here_lib/../.." && pwd)
	KITH=${KITH_BIN:-$src/build/asan/syncd}/kith
	TOOLS=${KITH_TOOLS:-$(dirname "$KITH")/../tests}
	[ -x "$KITH" ] || { echo "kith not built at $KITH" >&2; exit 1; }
	KITHD=$(dirname "$KITH")/kithd
	# hosts.sh's host_impair runs tests/tools/netem.
	HOSTS_NETEM=${HOSTS_NETEM:-$TOOLS/netem}
	KITH_T0=$(date +%s%N)
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
	for i in $(seq 1 $((100 * ${KITH_SLOW:-1}))); do
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
	for i in $(seq 1 $((600 * ${KITH_SLOW:-1}))); do
		[ -s "$rcfile" ] && break
		sleep 0.1
	done
	# host_bg writes the exit status of 'kith pair' beside its log.
	[ "$(cat "$rcfile" 2>/dev/null)" = 0 ]
}

pass() { echo "PASS: $*"; }
fail() {
	local f
	# The end of every kithd log there is, to see why.
	for f in "${HOSTS_TMP:-/nonexistent}"/*/kithd.log; do
		[ -s "$f" ] || continue
		f=$(cat "$f")
		echo "--- ${f#"$HOSTS_TMP"/} (last 25 lines)" >&2
		tail -n 25 "$f" >&2
	done
	echo "FAIL: $*" >&2
	exit 1
}

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

elapsed() {
	local ms=$(( ($(date +%s%N) - KITH_T0) / 1000000 ))
	printf '%d.%01d\n' $((ms / 1000)) $((ms % 1000 / 100))
}

# --- accounts ---------------------------------------------------------------

kith_account() {
	kith_on "$1" init --name "$1" >/dev/null || fail "kith init on $1"
}

kith_pair() {
	local old=$1 new=$2 out
	shift 2
	pair_start "$old"
	out=$(kith_on "$new" join "$PAIR_PNG" --name "$new" "$@" 2>&1) ||
		{ echo "$out" >&2; cat "$PAIR_LOG" >&2; fail "$new could not join $old"; }
	pair_wait || { cat "$PAIR_LOG" >&2; fail "'kith pair' on $old did not end well"; }
}

kith_group() {
	local first=$1 h
	shift
	kith_account "$first"
	for h in "$@"; do
		kith_pair "$first" "$h"
	done
}

device_id() {
	local id f="$HOSTS_TMP/$1/device.id"
	[ ! -s "$f" ] || { cat "$f"; return 0; }
	id=$(kith_on "$1" devices --json |
		grep -o '"id":"[0-9a-f]*"[^{}]*"this":true' |
		sed 's/^"id":"\([0-9a-f]*\)".*/\1/')
	[ -n "$id" ] || fail "no device id on $1"
	echo "$id" > "$f"
	echo "$id"
}

id8() {
	local id
	id=$(device_id "$1") || exit 1
	echo "${id:0:8}"
}

# --- the agent --------------------------------------------------------------

kithd__file() {
	local f="$HOSTS_TMP/$1/kithd.$2"
	[ -s "$f" ] || fail "no kithd was started on $1"
	cat "$f"
}
kithd_pid() { kithd__file "$1" pid; }
kithd_port() { kithd__file "$1" port; }
kithd_log() { kithd__file "$1" log; }
kithd_logs() {
	local f
	while read -r f; do cat "$f"; done < "$HOSTS_TMP/$1/kithd.logs"
}

# Is HOST's latest kithd still running?
kithd_running() {
	local log
	[ -s "$HOSTS_TMP/$1/kithd.log" ] || return 1
	log=$(cat "$HOSTS_TMP/$1/kithd.log")
	[ ! -e "${log%.log}.rc" ]
}

# Exit status of HOST's latest kithd, once it has ended (waits SEC).
kithd__rc() {
	local rcf i
	rcf=$(kithd_log "$1")
	rcf=${rcf%.log}.rc
	for ((i = 0; i < $2 * 10 * ${KITH_SLOW:-1}; i++)); do
		[ -s "$rcf" ] && { cat "$rcf"; return 0; }
		sleep 0.1
	done
	echo "still running"
}

# Fail if a sanitizer spoke in HOST's kithd logs.
kithd_check() {
	if kithd_logs "$1" | grep -qE 'Sanitizer|runtime error:'; then
		kithd_logs "$1" | grep -E -A20 'Sanitizer|runtime error:' >&2
		fail "sanitizer report in kithd's log on $1"
	fi
}

kithd_start() {
	# Unlocked at start with the scenario's passphrase, unless the
	# caller gives KITH_PASSPHRASE_FILE= (empty: it starts locked).
	local h=$1 envs=("KITH_PASSPHRASE_FILE=$PASSFILE") pid log i port
	shift
	while [ $# -gt 0 ] && [[ $1 =~ ^[A-Za-z_][A-Za-z0-9_]*= ]]; do
		envs+=("$1")
		shift
	done
	[ -x "$KITHD" ] || fail "kithd not built at $KITHD"
	! kithd_running "$h" || fail "kithd runs on $h already"
	# KITHD_WRAP: a command prefix, e.g. "nsenter -t PID -m" to run it
	# in a mount namespace of the scenario's.
	# shellcheck disable=SC2086
	pid=$(host_bg "$h" ${KITHD_WRAP-} env ${envs[@]+"${envs[@]}"} "$KITHD" \
		--home "$(kith_home "$h")" --foreground -v "$@")
	log=$(host_bg_log "$h")
	echo "$pid" > "$HOSTS_TMP/$h/kithd.pid"
	echo "$log" > "$HOSTS_TMP/$h/kithd.log"
	echo "$log" >> "$HOSTS_TMP/$h/kithd.logs"
	for ((i = 0; i < 150 * ${KITH_SLOW:-1}; i++)); do
		port=$(sed -n 's/.*kithd\[[0-9]*\]: listening on port \([0-9][0-9]*\).*/\1/p' \
			"$log" | head -1)
		[ -n "$port" ] && break
		if grep -q "this device is locked" "$log" 2>/dev/null; then
			port=locked
			break
		fi
		[ ! -e "${log%.log}.rc" ] || { cat "$log" >&2; fail "kithd on $h exited at start"; }
		sleep 0.1
	done
	[ -n "$port" ] || { cat "$log" >&2; fail "kithd on $h did not say 'listening on port'"; }
	echo "$port" > "$HOSTS_TMP/$h/kithd.port"
	# shellcheck disable=SC2034	# for callers
	KITHD_PORT=$port
}

kithd_stop() {
	local h=$1 rc
	kithd_running "$h" || fail "kithd on $h ended before it was stopped (exit $(kithd__rc "$h" 0))"
	kill -TERM "$(kithd_pid "$h")" 2>/dev/null || true
	rc=$(kithd__rc "$h" 10)
	[ "$rc" = 0 ] || { tail -n 30 "$(kithd_log "$h")" >&2; fail "kithd on $h after SIGTERM: exit status $rc, want 0"; }
	kithd_check "$h"
}

kithd_kill() {
	local h=$1 rc
	kithd_running "$h" || fail "kithd on $h ended before it was killed (exit $(kithd__rc "$h" 0))"
	kill -KILL "$(kithd_pid "$h")" 2>/dev/null || true
	rc=$(kithd__rc "$h" 10)
	[ "$rc" = 137 ] || fail "kithd on $h after SIGKILL: exit status $rc"
}

wait_log() {
	local h=$1 re=$2 t=$((${3:-30} * ${KITH_SLOW:-1})) log i
	log=$(kithd_log "$h")
	for ((i = 0; i < t * 10; i++)); do
		grep -Eq -- "$re" "$log" && return 0
		sleep 0.1
	done
	tail -n 30 "$log" >&2
	fail "kithd on $h did not log /$re/ within $t s"
}

wait_peers() {
	local h=$1 peers=() t=30 p re
	shift
	for p in "$@"; do
		if [[ $p =~ ^[0-9]+$ ]] && [ ! -d "$HOSTS_TMP/$p" ]; then
			t=$p
		else
			peers+=("$p")
		fi
	done
	for p in "${peers[@]}"; do
		re="(connected to|connection from) $p \($(id8 "$p")\)"
		wait_log "$h" "$re" "$t"
	done
}

live_peers() {
	kith_on "$1" status --json 2>/dev/null |
		grep -o '{[^{}]*"state":"live"[^{}]*}' |
		sed -n 's/.*"name":"\([^"]*\)".*/\1/p' | sort || true
}

wait_mesh() {
	local hosts=() t=30 h p end ok
	for h in "$@"; do
		if [[ $h =~ ^[0-9]+$ ]] && [ ! -d "$HOSTS_TMP/$h" ]; then
			t=$h
		else
			hosts+=("$h")
		fi
	done
	end=$(( $(date +%s) + t * ${KITH_SLOW:-1} ))
	while :; do
		ok=1
		for h in "${hosts[@]}"; do
			live_peers "$h" > "$HOSTS_TMP/live.$h"
			for p in "${hosts[@]}"; do
				[ "$p" = "$h" ] && continue
				grep -qx "$p" "$HOSTS_TMP/live.$h" || ok=0
			done
		done
		[ "$ok" = 1 ] && return 0
		[ "$(date +%s)" -lt "$end" ] || break
		sleep 0.2
	done
	for h in "${hosts[@]}"; do
		echo "$h is live with: $(tr '\n' ' ' < "$HOSTS_TMP/live.$h")" >&2
	done
	fail "${hosts[*]}: not all connected to each other after $t s"
}

kith_count() {
	kith_on "$1" history count 2>/dev/null || echo -1
}

wait_count() {
	local h=$1 want=$2 t=$((${3:-60} * ${KITH_SLOW:-1})) n end
	end=$(( $(date +%s) + t ))
	while :; do
		n=$(kith_count "$h")
		[ "$n" = "$want" ] && return 0
		[ "$(date +%s)" -lt "$end" ] || break
		sleep 0.2
	done
	fail "$h holds $n records after $t s, not $want"
}

wait_same() {
	local hosts=() t=60 h first end n ns same
	for h in "$@"; do
		if [[ $h =~ ^[0-9]+$ ]] && [ ! -d "$HOSTS_TMP/$h" ]; then
			t=$h
		else
			hosts+=("$h")
		fi
	done
	[ ${#hosts[@]} -ge 2 ] || fail "wait_same: name two hosts or more"
	t=$((t * ${KITH_SLOW:-1}))
	first=${hosts[0]}
	end=$(( $(date +%s) + t ))
	while :; do
		# Counts first: cheap, and a history in flight differs there.
		ns=
		for h in "${hosts[@]}"; do
			ns="$ns $(kith_count "$h")"
		done
		if [ "$(echo "$ns" | tr ' ' '\n' | sed '/^$/d' | sort -u | wc -l)" = 1 ] &&
		   [[ $ns != *-1* ]]; then
			same=1
			kith_on "$first" history export 2>/dev/null |
				LC_ALL=C sort > "$HOSTS_TMP/same" || same=0
			[ -s "$HOSTS_TMP/same" ] || same=0
			for h in "${hosts[@]:1}"; do
				[ "$same" = 1 ] || break
				kith_on "$h" history export 2>/dev/null |
					LC_ALL=C sort > "$HOSTS_TMP/same.$h" || same=0
				cmp -s "$HOSTS_TMP/same" "$HOSTS_TMP/same.$h" || same=0
			done
			[ "$same" = 1 ] && return 0
		fi
		[ "$(date +%s)" -lt "$end" ] || break
		sleep 0.5
	done
	for h in "${hosts[@]}"; do
		echo "$h: $(kith_count "$h") records" >&2
	done
	fail "histories of ${hosts[*]} still differ after $t s"
}

mountns_start() {
	local i
	MNTNS_HOST=$1
	shift
	MNTNS_POINTS=("$@")
	MNTNS_PID=$(host_bg "$MNTNS_HOST" unshare -m --propagation private \
		sleep 3600)
	for ((i = 0; i < 50; i++)); do
		[ "$(readlink "/proc/$MNTNS_PID/ns/mnt")" != "$(readlink /proc/self/ns/mnt)" ] && break
		sleep 0.1
	done
	trap mountns__cleanup EXIT
}

inns() {
	host_exec "$MNTNS_HOST" nsenter -t "$MNTNS_PID" -m "$@"
}

mountns__cleanup() {
	local rc=$? m
	# hosts_cleanup reads the exit status from $?; under set -e a failed
	# run's (exit 1) would end the trap here and leave every host behind.
	set +e
	if [ -n "${MNTNS_PID-}" ] && [ -d "/proc/$MNTNS_PID" ]; then
		for m in "${MNTNS_POINTS[@]}"; do
			nsenter -t "$MNTNS_PID" -m umount "$m" 2>/dev/null
		done
	fi
	(exit "$rc")
	hosts_cleanup
}
