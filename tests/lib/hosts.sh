# shellcheck shell=bash
#
# hosts.sh: simulated hosts for kith's integration scenarios.  Source it,
# then:
#
#   hosts_init                      bridge namespace, $HOSTS_TMP, cleanup trap
#   host_add NAME IP [--no-avahi]   a host on the bridge, with its own
#                                   dbus-daemon and avahi-daemon
#   host_exec NAME CMD...           run CMD on the host, in the foreground
#   host_bg NAME CMD...             run CMD on the host in the background;
#                                   prints its PID (also in $HOST_BG_PID),
#                                   logs to $HOSTS_TMP/NAME/bg.N.log (also
#                                   in $HOST_BG_LOG); once CMD ends, its
#                                   exit status is in bg.N.rc beside the log
#   host_bg_log NAME                path of the host's latest host_bg log
#   host_ip NAME                    the host's address
#   hosts_cleanup                   stop and remove everything (idempotent;
#                                   also run by the trap)
#
# Topology: every name carries the scenario shell's PID ($$), so parallel
# runs do not meet.  Nothing is added to the machine's own network
# namespace: no link, no address, no daemon.
#
#                     netns kb-$$ ("the LAN")
#          +------------------------------------------+
#          |                   br0                    |
#          |           +--------+--------+            |
#          |          v-a      v-b      v-...  (veth) |
#          +-----------|--------|---------------------+
#                      |        |
#      netns k$$-a     |        |     netns k$$-b
#   +------------------+-+    +-+------------------+
#   | kveth0             |    | kveth0             |
#   | 192.0.2.11/24      |    | 192.0.2.12/24      |
#   | lo                 |    | lo                 |
#   | dbus-daemon        |    | dbus-daemon        |
#   | avahi-daemon       |    | avahi-daemon       |
#   | commands, with     |    | commands, with     |
#   |  HOME=$HOSTS_TMP/  |    |  HOME=$HOSTS_TMP/  |
#   |       a/home       |    |       b/home       |
#   +--------------------+    +--------------------+
#
#   dbus-daemon   system-bus-like, on unix:path=$HOSTS_TMP/NAME/bus, which
#                 is DBUS_SYSTEM_BUS_ADDRESS for everything on the host
#   avahi-daemon  mDNS on kveth0 only, IPv4 only, host name kith-NAME.local
#
# avahi-daemon insists on /run/avahi-daemon/pid and refuses to start twice,
# so each one runs in a private mount namespace where $HOSTS_TMP/NAME/run is
# bind-mounted on /run (and an empty directory on /etc/avahi/services, so
# that the machine's static services are not published).
#
# Every process started here runs in its own session (setsid), so that it
# and its children can be signalled as a group.  (This needs job control
# off, as it is in scripts; if setsid had to fork, the PID shown would be
# wrong, though cleanup still finds the process in its namespace.)  PIDs are recorded in
# $HOSTS_TMP/pids with their start time, so that a PID reused by some other
# process after ours ended is never signalled.  The record is a file, not a
# variable, so that pid=$(host_bg ...), which runs in a subshell, is
# recorded too.  host_bg's waiter subshells (see host_bg) are recorded
# apart, in $HOSTS_TMP/waiters: they end by themselves when their command
# does.
#
# Needs root, ip (with netns), unshare, setsid, mount, dbus-daemon,
# dbus-send and avahi-daemon; without them the scenario exits 77 (skip).

HOSTS_TMP=
HOSTS_BR="kb-$$"
HOST_BG_PID=
HOST_BG_LOG=

hosts__skip() {
	echo "SKIP: $*" >&2
	exit 77
}

hosts__fail() {
	echo "hosts.sh: $*" >&2
	exit 1
}

hosts__ns() {
	printf 'k%s-%s\n' "$$" "$1"
}

hosts__need_host() {
	[ -n "$HOSTS_TMP" ] || hosts__fail "hosts_init has not been called"
	[ -f "$HOSTS_TMP/$1/ip" ] || hosts__fail "no host named '$1'"
}

# Start time of PID (field 22 of /proc/PID/stat), or nothing.
hosts__starttime() {
	local stat
	stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 0
	# The command name may hold spaces; it ends at the last ')'.
	stat=${stat##*) }
	# shellcheck disable=SC2086
	set -- $stat
	printf '%s\n' "${20-}"
}

# Is PID alive (not a zombie) and still the process we started at START?
hosts__alive() {
	local pid=$1 start=$2 stat
	stat=$(cat "/proc/$pid/stat" 2>/dev/null) || return 1
	stat=${stat##*) }
	case $stat in Z*|X*) return 1 ;; esac
	[ "$(hosts__starttime "$pid")" = "$start" ]
}

# hosts__record PID [LIST]: remember PID in $HOSTS_TMP/LIST (default pids).
hosts__record() {
	local start
	start=$(hosts__starttime "$1")
	[ -n "$start" ] || return 0
	echo "$1 $start" >>"$HOSTS_TMP/${2:-pids}"
}

# hosts__spawn NAME LOG CMD...: start CMD in NAME's namespace, in a session
# of its own, output appended to LOG; records the PID in HOSTS__PID.
hosts__spawn() {
	local name=$1 log=$2
	shift 2
	setsid ip netns exec "$(hosts__ns "$name")" "$@" </dev/null \
	    >>"$log" 2>&1 &
	HOSTS__PID=$!
	hosts__record "$HOSTS__PID"
}

# The environment every command on host NAME runs in, as a command prefix
# in the array HOSTS__ENV: the host's system bus, its own HOME, no XDG
# directories or session bus of the caller's.
hosts__env() {
	local dir="$HOSTS_TMP/$1"
	HOSTS__ENV=(env -u XDG_CONFIG_HOME -u XDG_DATA_HOME
	    -u XDG_STATE_HOME -u XDG_CACHE_HOME -u XDG_RUNTIME_DIR
	    -u DBUS_SESSION_BUS_ADDRESS
	    "DBUS_SYSTEM_BUS_ADDRESS=unix:path=$dir/bus"
	    AVAHI_COMPAT_NOWARN=1 "HOME=$dir/home")
}

hosts__ip() {
	ip "$@" || hosts__fail "ip $*: failed"
}

# The process group of PID, from /proc/PID/stat.
hosts__pgid() {
	local stat
	stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 0
	stat=${stat##*) }
	# shellcheck disable=SC2086
	set -- $stat
	printf '%s\n' "${3-}"
}

hosts_init() {
	local t
	[ "$(id -u)" = 0 ] || hosts__skip "needs root"
	for t in ip unshare setsid mount dbus-daemon dbus-send avahi-daemon; do
		command -v "$t" >/dev/null 2>&1 || hosts__skip "$t not found"
	done
	ip netns list >/dev/null 2>&1 || hosts__skip "ip netns unavailable"
	[ -z "$HOSTS_TMP" ] || hosts__fail "hosts_init called twice"

	HOSTS_TMP=$(mktemp -d "${TMPDIR:-/tmp}/kith-hosts.XXXXXX")
	: >"$HOSTS_TMP/pids"
	: >"$HOSTS_TMP/waiters"
	: >"$HOSTS_TMP/netns"
	trap 'hosts_cleanup' EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM

	echo "$HOSTS_BR" >>"$HOSTS_TMP/netns"
	ip netns add "$HOSTS_BR" 2>/dev/null ||
	    hosts__skip "cannot create a network namespace"
	hosts__ip -n "$HOSTS_BR" link set lo up
	hosts__ip -n "$HOSTS_BR" link add br0 type bridge forward_delay 0
	hosts__ip -n "$HOSTS_BR" link set br0 up
}

hosts__write_dbus_conf() {
	local dir=$1
	cat >"$dir/dbus.conf" <<EOF
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<!-- A system bus for one simulated host; everyone may do anything. -->
<busconfig>
  <type>system</type>
  <listen>unix:path=$dir/bus</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <allow own="org.freedesktop.Avahi"/>
    <allow send_destination="*" eavesdrop="true"/>
    <allow receive_sender="*"/>
  </policy>
</busconfig>
EOF
}

hosts__write_avahi_conf() {
	local dir=$1 name=$2
	cat >"$dir/avahi-daemon.conf" <<EOF
# avahi-daemon for simulated host $name: mDNS on its veth only, IPv4 only.
[server]
host-name=kith-$name
domain-name=local
use-ipv4=yes
use-ipv6=no
allow-interfaces=kveth0
enable-dbus=yes
ratelimit-interval-usec=1000000
ratelimit-burst=1000

[wide-area]
enable-wide-area=no

[publish]
publish-addresses=yes
publish-hinfo=no
publish-workstation=no
publish-domain=no
publish-aaaa-on-ipv4=no
publish-a-on-ipv6=no

[reflector]
enable-reflector=no
EOF
}

# Wait until dbus-send CALL... prints something matching PATTERN on host
# NAME's bus, or DEADLINE seconds pass.  Fails early if PID dies.
hosts__wait_bus() {
	local name=$1 pid=$2 start=$3 deadline=$4 pattern=$5
	shift 5
	local bus="unix:path=$HOSTS_TMP/$name/bus" i out
	for ((i = 0; i < deadline * 20; i++)); do
		out=$(dbus-send --bus="$bus" --print-reply \
		    --reply-timeout=2000 "$@" 2>/dev/null) &&
		    [[ $out == *$pattern* ]] && return 0
		hosts__alive "$pid" "$start" || return 1
		sleep 0.05
	done
	return 1
}

host_add() {
	local name=${1-} ip=${2-} avahi=1 ns dir pid start
	[ -n "$HOSTS_TMP" ] || hosts__fail "hosts_init has not been called"
	[[ $name =~ ^[a-z0-9]{1,10}$ ]] ||
	    hosts__fail "host name '$name': 1-10 of [a-z0-9]"
	[[ $ip =~ ^[0-9]{1,3}(\.[0-9]{1,3}){3}$ ]] ||
	    hosts__fail "host $name: bad IPv4 address '$ip'"
	case ${3-} in
	"") ;;
	--no-avahi) avahi=0 ;;
	*) hosts__fail "host_add: unknown option '$3'" ;;
	esac
	ns=$(hosts__ns "$name")
	dir="$HOSTS_TMP/$name"
	[ ! -e "$dir" ] || hosts__fail "host $name exists already"
	mkdir -p "$dir/run/avahi-daemon" "$dir/services" "$dir/home"
	(( ${#dir} + 4 < 100 )) || hosts__fail "$dir: too long for a socket"

	echo "$ns" >>"$HOSTS_TMP/netns"
	hosts__ip netns add "$ns"
	hosts__ip -n "$ns" link set lo up
	hosts__ip -n "$HOSTS_BR" link add "v-$name" type veth peer name kveth0 \
	    netns "$ns"
	hosts__ip -n "$HOSTS_BR" link set "v-$name" master br0 up
	hosts__ip -n "$ns" addr add "$ip/24" dev kveth0
	hosts__ip -n "$ns" link set kveth0 up
	echo "$ip" >"$dir/ip"
	[ "$avahi" = 1 ] || return 0

	hosts__write_dbus_conf "$dir"
	hosts__spawn "$name" "$dir/dbus.log" dbus-daemon --nofork \
	    --nopidfile --config-file="$dir/dbus.conf"
	pid=$HOSTS__PID
	start=$(hosts__starttime "$pid")
	hosts__wait_bus "$name" "$pid" "$start" 10 string \
	    --dest=org.freedesktop.DBus / org.freedesktop.DBus.GetId || {
		cat "$dir/dbus.log" >&2
		hosts__fail "host $name: dbus-daemon did not start"
	}

	hosts__write_avahi_conf "$dir" "$name"
	hosts__start_avahi "$name"
}

# Start host NAME's avahi-daemon and wait until it is ready; its PID goes
# to $HOSTS_TMP/NAME/avahi.pid.  (Separate from host_add so that a scenario
# can stop the daemon and start it again.)
hosts__start_avahi() {
	local name=$1 dir="$HOSTS_TMP/$1" pid start
	# The private mount namespace: see the top of this file.
	hosts__env "$name"
	# shellcheck disable=SC2016
	hosts__spawn "$name" "$dir/avahi.log" "${HOSTS__ENV[@]}" \
	    unshare -m --propagation private sh -c '
		mount --bind "$1/run" /run &&
		if [ -d /etc/avahi/services ]; then
			mount --bind "$1/services" /etc/avahi/services
		fi &&
		rm -f /run/avahi-daemon/pid /run/avahi-daemon/socket &&
		exec avahi-daemon --no-drop-root --no-chroot --no-rlimits \
		    --no-proc-title -f "$1/avahi-daemon.conf"' sh "$dir"
	pid=$HOSTS__PID
	start=$(hosts__starttime "$pid")
	echo "$pid" >"$dir/avahi.pid"

	# Ready when it owns its bus name and has finished probing its host
	# name (server state 2, AVAHI_SERVER_RUNNING).
	hosts__wait_bus "$name" "$pid" "$start" 15 "int32 2" \
	    --dest=org.freedesktop.Avahi / \
	    org.freedesktop.Avahi.Server.GetState || {
		cat "$dir/avahi.log" >&2
		hosts__fail "host $name: avahi-daemon did not become ready"
	}
}

host_exec() {
	local name=${1-}
	hosts__need_host "$name"
	shift
	hosts__env "$name"
	ip netns exec "$(hosts__ns "$name")" "${HOSTS__ENV[@]}" "$@"
}

host_bg() {
	local name=${1-} dir n base i pid
	hosts__need_host "$name"
	shift
	dir="$HOSTS_TMP/$name"
	# A counter in a file: pid=$(host_bg ...) runs in a subshell.
	n=$(($(cat "$dir/bg.count" 2>/dev/null || echo 0) + 1))
	echo "$n" >"$dir/bg.count"
	base="$dir/bg.$n"
	HOST_BG_LOG="$base.log"
	hosts__env "$name"

	# A waiter subshell starts the command, hands its PID over in
	# bg.N.pid and, once it ends, writes its exit status to bg.N.rc.  The
	# waiter's output goes nowhere, so that $(host_bg ...) returns at once.
	(
		p=
		setsid ip netns exec "$(hosts__ns "$name")" "${HOSTS__ENV[@]}" \
		    "$@" </dev/null >>"$HOST_BG_LOG" 2>&1 &
		p=$!
		echo "$p" >"$base.pid.tmp" && mv "$base.pid.tmp" "$base.pid"
		rc=0
		wait "$p" || rc=$?
		echo "$rc" >"$base.rc.tmp" && mv "$base.rc.tmp" "$base.rc"
	) </dev/null >/dev/null 2>&1 &
	hosts__record "$!" waiters
	for ((i = 0; i < 1000; i++)); do
		[ -s "$base.pid" ] && break
		sleep 0.01
	done
	pid=$(cat "$base.pid" 2>/dev/null) ||
	    hosts__fail "host_bg $name: could not start $*"
	hosts__record "$pid"
	# shellcheck disable=SC2034	# for callers
	HOST_BG_PID=$pid
	echo "$pid"
}

host_bg_log() {
	local name=${1-} n
	hosts__need_host "$name"
	n=$(cat "$HOSTS_TMP/$name/bg.count" 2>/dev/null) ||
	    hosts__fail "host $name has run nothing in the background"
	echo "$HOSTS_TMP/$name/bg.$n.log"
}

host_ip() {
	hosts__need_host "${1-}"
	cat "$HOSTS_TMP/$1/ip"
}

# Signal everything we started: recorded PIDs (as process groups when they
# lead one) and whatever still runs in our namespaces.
hosts__signal_all() {
	local sig=$1 pid start ns p
	while read -r pid start; do
		hosts__alive "$pid" "$start" || continue
		if [ "$(hosts__pgid "$pid")" = "$pid" ]; then
			kill "-$sig" -- "-$pid" 2>/dev/null
		else
			kill "-$sig" "$pid" 2>/dev/null
		fi
	done <"$HOSTS_TMP/pids"
	while read -r ns; do
		for p in $(ip netns pids "$ns" 2>/dev/null); do
			kill "-$sig" "$p" 2>/dev/null
		done
	done <"$HOSTS_TMP/netns"
}

# Is anything alive among our processes (or in LIST alone, if given)?
hosts__any_alive() {
	local pid start ns
	while read -r pid start; do
		hosts__alive "$pid" "$start" && return 0
	done <"$HOSTS_TMP/${1:-pids}"
	[ -z "${1-}" ] || return 1
	while read -r ns; do
		[ -z "$(ip netns pids "$ns" 2>/dev/null)" ] || return 0
	done <"$HOSTS_TMP/netns"
	return 1
}

hosts_cleanup() {
	local rc=$? i ns pid start
	local -
	set +e
	if [ -z "$HOSTS_TMP" ] || [ ! -d "$HOSTS_TMP" ]; then
		return "$rc"
	fi
	touch "$HOSTS_TMP/pids" "$HOSTS_TMP/waiters" "$HOSTS_TMP/netns"

	hosts__signal_all TERM
	for ((i = 0; i < 30; i++)); do
		hosts__any_alive || break
		sleep 0.1
	done
	if hosts__any_alive; then
		hosts__signal_all KILL
		for ((i = 0; i < 20; i++)); do
			hosts__any_alive || break
			sleep 0.1
		done
	fi
	# host_bg's waiters end once their command has; they are signalled
	# only if they have not, so that they reap it first.
	for ((i = 0; i < 10; i++)); do
		hosts__any_alive waiters || break
		sleep 0.1
	done
	while read -r pid start; do
		hosts__alive "$pid" "$start" && kill -KILL "$pid" 2>/dev/null
	done <"$HOSTS_TMP/waiters"

	# Reap our own children quietly, so that bash does not report them.
	while read -r pid start; do
		hosts__alive "$pid" "$start" || wait "$pid" 2>/dev/null
	done < <(cat "$HOSTS_TMP/pids" "$HOSTS_TMP/waiters")

	# Hosts first, the bridge last; also any of ours left unrecorded.
	{
		tac "$HOSTS_TMP/netns"
		ip netns list 2>/dev/null | awk '{print $1}' |
		    grep -E "^(k$$-|kb-$$\$)"
	} | awk '!seen[$0]++' | while read -r ns; do
		[ -e "/run/netns/$ns" ] && ip netns del "$ns" 2>/dev/null
	done
	: >"$HOSTS_TMP/pids"
	: >"$HOSTS_TMP/waiters"
	: >"$HOSTS_TMP/netns"

	if [ "${KEEP_TMP-}" = 1 ]; then
		echo "hosts.sh: kept $HOSTS_TMP" >&2
	else
		rm -rf "$HOSTS_TMP"
	fi
	HOSTS_TMP=
	return "$rc"
}
