#!/usr/bin/env bash
#
# 01-discovery: DNS-SD between two hosts, each with its own avahi-daemon.
#
#   host a 192.0.2.11 ---- br0 ---- host b 192.0.2.12
#   discprobe announce              discprobe browse
#
# 1. b finds a's instance, with a's address, the port and the TXT record.
# 2. A filter that wants another instance lets nothing through.
# 3. The announcer withdraws cleanly on SIGTERM; b then stops finding it,
#    both daemons still answer, and a new announcement is found.  An
#    announcer killed with SIGKILL disappears too.
# 4. No avahi-daemon or dbus-daemon runs in the machine's own network
#    namespace, and none of ours, nor any namespace, is left afterwards.
#
# Environment: KITH_TOOLS (directory holding discprobe), else KITH_BIN (the
# kith binary's directory; discprobe is looked for beside it and in the
# build tree's tests/ above it).  Exit 0 pass, 1 fail, 77 skip.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR source=../lib/hosts.sh
. "$here/../lib/hosts.sh"

name=01-discovery
t0=$(date +%s%N)

say() {
	echo "$name: $*"
}

# Print what there is to see, then fail.
fail() {
	local f
	echo "$name: FAIL: $*" >&2
	if [ -n "${HOSTS_TMP-}" ] && [ -d "$HOSTS_TMP" ]; then
		for f in "$HOSTS_TMP"/*/*.log "$HOSTS_TMP"/out/*; do
			[ -s "$f" ] || continue
			echo "--- $f" >&2
			tail -n 40 "$f" >&2
		done
	fi
	exit 1
}

find_discprobe() {
	local d i
	for d in "${KITH_TOOLS-}" "${KITH_BIN-}"; do
		if [ -n "$d" ] && [ -x "$d/discprobe" ]; then
			echo "$d/discprobe"
			return 0
		fi
	done
	if [ -n "${KITH_BIN-}" ]; then
		d=$KITH_BIN
		for i in 1 2 3 4; do
			if [ -x "$d/tests/discprobe" ]; then
				echo "$d/tests/discprobe"
				return 0
			fi
			d=$(dirname "$d")
		done
	fi
	for d in "$here/../../build/tests" "$here/../../build"; do
		if [ -x "$d/discprobe" ]; then
			echo "$(cd "$d" && pwd)/discprobe"
			return 0
		fi
	done
	return 1
}

if ! DISCPROBE=$(find_discprobe); then
	if [ -n "${KITH_TOOLS-}${KITH_BIN-}" ]; then
		echo "$name: FAIL: discprobe not found (KITH_TOOLS, KITH_BIN)" >&2
		exit 1
	fi
	echo "SKIP: discprobe not found; set KITH_TOOLS" >&2
	exit 77
fi

# A sanitizer build must fail loudly, not look like a timeout (exit 1).
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}exitcode=66"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:+$UBSAN_OPTIONS:}print_stacktrace=1"

sanitizer_check() {
	if grep -qE 'Sanitizer|runtime error:' "$@" 2>/dev/null; then
		fail "sanitizer report in $*"
	fi
}

# Processes named ${1} whose network namespace is the machine's own.
root_ns=$(readlink /proc/self/ns/net)
count_in_root_ns() {
	local d n=0
	for d in /proc/[0-9]*; do
		[ "$(cat "$d/comm" 2>/dev/null)" = "$1" ] || continue
		[ "$(readlink "$d/ns/net" 2>/dev/null)" = "$root_ns" ] || continue
		n=$((n + 1))
	done
	echo "$n"
}
avahi_before=$(count_in_root_ns avahi-daemon)
dbus_before=$(count_in_root_ns dbus-daemon)

# probe HOST OUT ARGS...: run discprobe on HOST, stdout to OUT, stderr to
# OUT.err; its exit code in $rc.
probe() {
	local host=$1 out=$2
	shift 2
	rc=0
	host_exec "$host" "$DISCPROBE" "$@" >"$out" 2>"$out.err" || rc=$?
	sanitizer_check "$out.err"
}

# exit_status LOG SECONDS: the exit status host_bg recorded beside LOG.
exit_status() {
	local i
	for ((i = 0; i < $2 * 10; i++)); do
		if [ -s "${1%.log}.rc" ]; then
			cat "${1%.log}.rc"
			return 0
		fi
		sleep 0.1
	done
	echo "still running"
}

# wait_log FILE PATTERN SECONDS: wait until FILE holds a line PATTERN.
wait_log() {
	local i
	for ((i = 0; i < $3 * 10; i++)); do
		grep -qx "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

# Both daemons still up and running?
daemons_ok() {
	local h
	for h in a b; do
		host_exec "$h" dbus-send --system --print-reply \
		    --reply-timeout=2000 --dest=org.freedesktop.Avahi / \
		    org.freedesktop.Avahi.Server.GetState 2>/dev/null |
		    grep -q "int32 2" || fail "avahi-daemon on $h is not running"
	done
}

hosts_init
host_add a 192.0.2.11
host_add b 192.0.2.12
mkdir "$HOSTS_TMP/out"
out=$HOSTS_TMP/out
say "hosts up after $(( ($(date +%s%N) - t0) / 1000000 )) ms"

# Both daemons live in the hosts' namespaces, none in ours.
for h in a b; do
	found=0
	for p in $(ip netns pids "k$$-$h"); do
		[ "$(cat "/proc/$p/comm" 2>/dev/null)" = avahi-daemon ] &&
		    found=1
	done
	[ "$found" = 1 ] || fail "no avahi-daemon in host $h's namespace"
done
[ "$(count_in_root_ns avahi-daemon)" = "$avahi_before" ] ||
    fail "an avahi-daemon runs in the machine's network namespace"

# 1. a announces; b finds it with a's address, the port and the TXT.
apid=$(host_bg a "$DISCPROBE" announce kith-test-a 4242 v=1 id=abc)
alog=$(host_bg_log a)
wait_log "$alog" "announcing kith-test-a port 4242" 10 ||
    fail "announcer did not start"

probe b "$out/find" browse --want kith-test-a --timeout 15000
[ "$rc" = 0 ] || fail "b did not find kith-test-a (exit $rc)"
line=$(grep -m1 '^kith-test-a ' "$out/find") ||
    fail "no line for kith-test-a"
read -r inst addr port txt <<<"$line"
[ "$inst" = kith-test-a ] || fail "instance: $inst"
[ "$addr" = "$(host_ip a)" ] || fail "address: $addr, want $(host_ip a)"
[ "$port" = 4242 ] || fail "port: $port"
# Avahi does not keep the order of TXT strings; compare as sets.
keys=$(echo "${txt#txt:}" | tr , '\n' | sort | tr '\n' ' ')
[ "$keys" = "id=abc v=1 " ] || fail "TXT: $txt"
grep -v '^kith-test-a ' "$out/find" && fail "unexpected services found"
say "1. found: $line"

# 2. A filter for another instance: nothing resolved, timeout (exit 1).
probe b "$out/other" browse --want other --timeout 3000
[ "$rc" = 1 ] || fail "browse --want other: exit $rc, want 1"
[ ! -s "$out/other" ] || fail "filtered-out instance reported"
say "2. filtered out: nothing reported"

# 3. SIGTERM: the announcer withdraws and exits cleanly.
kill -TERM "$apid"
wait_log "$alog" "withdrawn kith-test-a" 10 ||
    fail "announcer did not withdraw cleanly on SIGTERM"
st=$(exit_status "$alog" 10)
[ "$st" = 0 ] || fail "announcer after SIGTERM: exit status $st, want 0"
sanitizer_check "$alog"
daemons_ok

# The goodbye packet leaves b's cache entry a second to live (RFC 6762
# 10.1); after that, b must not find the service any more.
sleep 2
probe b "$out/gone" browse --want kith-test-a --timeout 3000
[ "$rc" = 1 ] || fail "withdrawn service still found (exit $rc)"

# A new announcement after all that is found.
apid=$(host_bg a "$DISCPROBE" announce kith-test-a2 4243 v=2)
alog=$(host_bg_log a)
probe b "$out/again" browse --want kith-test-a2 --timeout 15000
[ "$rc" = 0 ] || fail "b did not find kith-test-a2 (exit $rc)"
grep -qx "kith-test-a2 $(host_ip a) 4243 txt:v=2" "$out/again" ||
    fail "kith-test-a2 reported wrong: $(cat "$out/again")"

# SIGKILL: no goodbye from the program, but avahi-daemon withdraws the
# records of a client that went away.
kill -KILL "$apid"
st=$(exit_status "$alog" 10)
[ "$st" = 137 ] || fail "announcer after SIGKILL: exit status $st"
sleep 2
daemons_ok
probe b "$out/killed" browse --want kith-test-a2 --timeout 3000
[ "$rc" = 1 ] || fail "killed announcer's service still found (exit $rc)"
sanitizer_check "$alog"
say "3. after SIGTERM and SIGKILL: withdrawn, daemons fine, re-announce found"

# 4. Nothing in the machine's namespace; nothing left after cleanup.
[ "$(count_in_root_ns avahi-daemon)" = "$avahi_before" ] ||
    fail "an avahi-daemon runs in the machine's network namespace"
[ "$(count_in_root_ns dbus-daemon)" = "$dbus_before" ] ||
    fail "a dbus-daemon runs in the machine's network namespace"
tmp=$HOSTS_TMP
hosts_cleanup
left=$(ip netns list | awk '{ print $1 }' | grep -E "^(k$$-.*|kb-$$)\$" ||
    true)
if [ -n "$left" ]; then
	echo "$name: FAIL: network namespaces left: ${left//$'\n'/ }" >&2
	exit 1
fi
for d in /proc/[0-9]*; do
	if tr '\0' ' ' <"$d/cmdline" 2>/dev/null | grep -qF "$tmp/"; then
		echo "$name: FAIL: still running: $(tr '\0' ' ' <"$d/cmdline")" >&2
		exit 1
	fi
done
[ "$(count_in_root_ns avahi-daemon)" = "$avahi_before" ] || {
	echo "$name: FAIL: avahi-daemon in the machine's namespace" >&2
	exit 1
}
say "4. no daemon in the machine's namespace, nothing left"

say "PASS in $(( ($(date +%s%N) - t0) / 1000000 )) ms"
