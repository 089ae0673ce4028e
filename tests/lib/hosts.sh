# shellcheck shell=bash
#
# hosts.sh: simulated hosts for kith's integration scenarios.  Source it,
# then:
#
#   hosts_init                      bridge namespace, $HOSTS_TMP, cleanup trap
#   host_add NAME IP [--no-avahi] [--link SEG]
#                                   a host on segment SEG (default "lan"),
#                                   with its own dbus-daemon and
#                                   avahi-daemon; IP may carry a /PREFIX
#                                   (default /24)
#   host_link NAME SEG IP           give host NAME one more interface
#                                   (kveth1, kveth2, ...) on segment SEG;
#                                   restarts the host's avahi-daemon so
#                                   that it serves every interface (do it
#                                   before starting programs that talk to
#                                   avahi on that host)
#   host_link_down NAME [IFACE] [--far]
#   host_link_up NAME [IFACE] [--far]
#                                   cut host NAME off (every interface, or
#                                   IFACE alone) and reconnect it; see
#                                   "Partitions" below
#   host_impair NAME [IFACE] [SETTING...]
#                                   an impaired link: put the userspace
#                                   impairer (tests/tools/netem.c, see
#                                   "Impaired links" below) between host
#                                   NAME's IFACE (default kveth0) and its
#                                   bridge, with SETTINGs such as loss=10
#                                   delay=300 jitter=100 reorder=5 dup=2
#                                   flap=3/5; called again, it replaces the
#                                   settings at runtime (no SETTING: a clean
#                                   link, still through the impairer)
#   host_impair_stats NAME [IFACE]  the impairer's counters now, one line a
#                                   direction ("netem up: in=... out=...
#                                   lost=... flapped=... duplicated=...
#                                   early=... out_of_order=...")
#   host_exec NAME CMD...           run CMD on the host, in the foreground
#   host_bg NAME CMD...             run CMD on the host in the background;
#                                   prints its PID (also in $HOST_BG_PID),
#                                   logs to $HOSTS_TMP/NAME/bg.N.log (also
#                                   in $HOST_BG_LOG); once CMD ends, its
#                                   exit status is in bg.N.rc beside the log
#   host_bg_log NAME                path of the host's latest host_bg log
#   host_ip NAME [SEG]              the host's address (on SEG; default:
#                                   its first interface's), no prefix
#   host_ifaces NAME                the host's interfaces, one a line
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
#   avahi-daemon  mDNS on the host's kveth* only, IPv4 only, host name
#                 kith-NAME.local, no reflector
#
# Segments.  The picture above is segment "lan", bridge br0.  Any other
# segment SEG is a bridge br-SEG in the same namespace kb-$$, created the
# first time a host links to it; bridges are not connected to each other
# and no host forwards or reflects mDNS, so hosts that share no segment
# cannot reach each other at all.  A host's first interface is kveth0
# (bridge port v-NAME); host_link adds kveth1, kveth2, ... (bridge ports
# v-NAME-1, ...).  Give each segment its own subnet.  A chain A - B - C:
#
#     host_add a 192.0.2.11 --link one
#     host_add b 192.0.2.12 --link one
#     host_link b two 198.51.100.12
#     host_add c 198.51.100.13 --link two
#
# Partitions.  host_link_down sets the host's own end of the veth down
# (kveth*): the host's kernel sees its link go, its routes through it go,
# its avahi-daemon drops the interface (and finds its peers again once the
# link is back), like a laptop leaving the Wi-Fi.  Nothing is sent on the
# way out: no FIN, no RST, no mDNS goodbye, so TCP sessions across the cut
# are broken only by timeouts.  With --far, the bridge's end (v-NAME...)
# goes down instead: the host's link stays configured with no carrier, its
# avahi-daemon notices nothing, and every packet to or from it is lost,
# like a cable cut between two switches.  host_link_up undoes either.
#
# Impaired links.  This machine's kernel (and CI's) has no sch_netem, so
# impairment is done in userspace, at the packet level.  host_impair takes
# the host's bridge port v-NAME out of its bridge and runs the netem tool
# in kb-$$ between it and a second veth pair, n-NAME <-> m-NAME, whose end
# m-NAME is the bridge port now:
#
#                     netns kb-$$
#          +--------------------------------------------+
#          |                  br0                       |
#          |            +------+------+                 |
#          |          m-a    v-b     v-...              |
#          |           |      |                         |
#          |          n-a     |   (veth pair n-a/m-a)   |
#          |           |      |                         |
#          |   [netem v-a n-a]|   AF_PACKET raw sockets |
#          |           |      |                         |
#          |          v-a     |                         |
#          +-----------|------|-------------------------+
#                      |      |
#            k$$-a kveth0    kveth0 k$$-b
#
# The tool forwards every frame unmodified (mDNS multicast and ARP too),
# delaying, dropping, duplicating and reordering them per direction ("up":
# from the host, "down": towards it); see tests/tools/netem.c for the
# settings.  Checksum and segmentation offloads are turned off on the two
# interfaces that transmit into it (the host's kveth and m-NAME), so that
# it sees wire-sized frames with their checksums done, as a real link
# would.  Its settings are in $HOSTS_TMP/NAME/netem.IFACE.conf, read again
# on SIGHUP; its log (seed, settings, counters) is netem.IFACE.log there;
# it is a recorded process, stopped by hosts_cleanup (and prints its
# counters as it goes).  Ports of a host's further links: v-NAME-N gives
# n-NAME-N and m-NAME-N.  The tool is $HOSTS_NETEM (default:
# $KITH_TOOLS/netem).
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
HOSTS_NETEM=${HOSTS_NETEM:-${KITH_TOOLS:+$KITH_TOOLS/netem}}
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
# in the array HOSTS__ENV: the host's system bus, its own HOME and its own
# XDG_RUNTIME_DIR ($HOSTS_TMP/NAME/xdg, mode 0700, where kithd puts its
# control socket), no other XDG directories or session bus of the caller's.
hosts__env() {
	local dir="$HOSTS_TMP/$1"
	HOSTS__ENV=(env -u XDG_CONFIG_HOME -u XDG_DATA_HOME
	    -u XDG_STATE_HOME -u XDG_CACHE_HOME -u KITH_SOCKET
	    -u DBUS_SESSION_BUS_ADDRESS
	    "DBUS_SYSTEM_BUS_ADDRESS=unix:path=$dir/bus"
	    "XDG_RUNTIME_DIR=$dir/xdg"
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
	echo "lan br0" >"$HOSTS_TMP/segments"
}

# The bridge of segment SEG, created on first use.
hosts__bridge() {
	local seg=$1 s br
	[[ $seg =~ ^[a-z0-9]{1,10}$ ]] ||
	    hosts__fail "segment name '$seg': 1-10 of [a-z0-9]"
	while read -r s br; do
		[ "$s" = "$seg" ] && { echo "$br"; return 0; }
	done <"$HOSTS_TMP/segments"
	br="br-$seg"
	hosts__ip -n "$HOSTS_BR" link add "$br" type bridge forward_delay 0
	hosts__ip -n "$HOSTS_BR" link set "$br" up
	echo "$seg $br" >>"$HOSTS_TMP/segments"
	echo "$br"
}

# hosts__addr IP: IP with its prefix (default /24), or fail.
hosts__addr() {
	local ip=$1
	[[ $ip =~ ^[0-9]{1,3}(\.[0-9]{1,3}){3}(/[0-9]{1,2})?$ ]] ||
	    hosts__fail "bad IPv4 address '$ip'"
	[[ $ip == */* ]] || ip="$ip/24"
	echo "$ip"
}

# hosts__plug NAME SEG IP: a new veth from host NAME to segment SEG; the
# host's end is kvethN, N the number of links the host had.  Appends
# "IFACE SEG IP/PREFIX PORT" to $HOSTS_TMP/NAME/links.
hosts__plug() {
	local name=$1 seg=$2 addr br n ifc port ns
	ns=$(hosts__ns "$name")
	addr=$(hosts__addr "$3") || exit 1
	br=$(hosts__bridge "$seg") || exit 1
	n=$(wc -l <"$HOSTS_TMP/$name/links")
	ifc="kveth$n"
	if [ "$n" = 0 ]; then port="v-$name"; else port="v-$name-$n"; fi
	if grep -q " $seg " "$HOSTS_TMP/$name/links"; then
		hosts__fail "host $name is on segment $seg already"
	fi
	hosts__ip -n "$HOSTS_BR" link add "$port" type veth peer name "$ifc" \
	    netns "$ns"
	hosts__ip -n "$HOSTS_BR" link set "$port" master "$br" up
	hosts__ip -n "$ns" addr add "$addr" dev "$ifc"
	hosts__ip -n "$ns" link set "$ifc" up
	echo "$ifc $seg $addr $port" >>"$HOSTS_TMP/$name/links"
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
	local dir=$1 name=$2 ifaces
	ifaces=$(awk '{ printf "%s%s", (NR > 1 ? "," : ""), $1 }' "$dir/links")
	cat >"$dir/avahi-daemon.conf" <<EOF
# avahi-daemon for simulated host $name: mDNS on its veths only, IPv4 only.
[server]
host-name=kith-$name
domain-name=local
use-ipv4=yes
use-ipv6=no
allow-interfaces=$ifaces
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
	local name=${1-} ip=${2-} avahi=1 seg=lan ns dir pid start
	[ -n "$HOSTS_TMP" ] || hosts__fail "hosts_init has not been called"
	[[ $name =~ ^[a-z0-9]{1,10}$ ]] ||
	    hosts__fail "host name '$name': 1-10 of [a-z0-9]"
	[[ $ip =~ ^[0-9]{1,3}(\.[0-9]{1,3}){3}(/[0-9]{1,2})?$ ]] ||
	    hosts__fail "host $name: bad IPv4 address '$ip'"
	shift 2
	while [ $# -gt 0 ]; do
		case $1 in
		--no-avahi) avahi=0 ;;
		--link)
			[ $# -ge 2 ] || hosts__fail "host_add: --link SEG"
			seg=$2
			shift
			;;
		*) hosts__fail "host_add: unknown option '$1'" ;;
		esac
		shift
	done
	ns=$(hosts__ns "$name")
	dir="$HOSTS_TMP/$name"
	[ ! -e "$dir" ] || hosts__fail "host $name exists already"
	mkdir -p "$dir/run/avahi-daemon" "$dir/services" "$dir/home" \
	    "$dir/xdg"
	chmod 700 "$dir/xdg"
	# The longest socket path: kithd's, $dir/xdg/kith/kithd-<16>.sock.
	(( ${#dir} + 32 < 108 )) || hosts__fail "$dir: too long for a socket"
	: >"$dir/links"

	echo "$ns" >>"$HOSTS_TMP/netns"
	hosts__ip netns add "$ns"
	hosts__ip -n "$ns" link set lo up
	hosts__plug "$name" "$seg" "$ip"
	echo "${ip%/*}" >"$dir/ip"
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

# Stop host NAME's avahi-daemon, if it runs (by the PID we recorded).
hosts__stop_avahi() {
	local name=$1 dir="$HOSTS_TMP/$1" pid start i
	pid=$(cat "$dir/avahi.pid" 2>/dev/null) || return 0
	start=$(awk -v p="$pid" '$1 == p { s = $2 } END { print s }' \
	    "$HOSTS_TMP/pids")
	rm -f "$dir/avahi.pid"
	[ -n "$start" ] && hosts__alive "$pid" "$start" || return 0
	kill -TERM "$pid" 2>/dev/null || true
	for ((i = 0; i < 100; i++)); do
		hosts__alive "$pid" "$start" || break
		sleep 0.05
	done
	if hosts__alive "$pid" "$start"; then
		kill -KILL "$pid" 2>/dev/null || true
		for ((i = 0; i < 40; i++)); do
			hosts__alive "$pid" "$start" || break
			sleep 0.05
		done
	fi
	hosts__alive "$pid" "$start" &&
	    hosts__fail "host $name: avahi-daemon $pid does not stop"
	wait "$pid" 2>/dev/null || true
	return 0
}

host_link() {
	local name=${1-} seg=${2-} ip=${3-} dir
	hosts__need_host "$name"
	if [ -z "$seg" ] || [ -z "$ip" ]; then
		hosts__fail "usage: host_link NAME SEG IP"
	fi
	dir="$HOSTS_TMP/$name"
	hosts__plug "$name" "$seg" "$ip"
	# avahi-daemon reads allow-interfaces once, at start.
	if [ -f "$dir/avahi-daemon.conf" ]; then
		hosts__write_avahi_conf "$dir" "$name"
		if [ -f "$dir/avahi.pid" ]; then
			hosts__stop_avahi "$name"
			hosts__start_avahi "$name"
		fi
	fi
}

host_ifaces() {
	hosts__need_host "${1-}"
	awk '{ print $1 }' "$HOSTS_TMP/$1/links"
}

# hosts__updown NAME up|down [IFACE] [--far]
hosts__updown() {
	local name=$1 how=$2 ifc='' far=0 i s a port found=0
	shift 2
	for a in "$@"; do
		case $a in
		--far) far=1 ;;
		kveth*) ifc=$a ;;
		*) hosts__fail "host_link_$how: bad argument '$a'" ;;
		esac
	done
	while read -r i s a port; do
		[ -z "$ifc" ] || [ "$ifc" = "$i" ] || continue
		found=1
		if [ "$far" = 1 ]; then
			hosts__ip -n "$HOSTS_BR" link set "$port" "$how"
		else
			hosts__ip -n "$(hosts__ns "$name")" link set "$i" "$how"
		fi
	done <"$HOSTS_TMP/$name/links"
	[ "$found" = 1 ] || hosts__fail "host $name has no interface '$ifc'"
}

host_link_down() {
	hosts__need_host "${1-}"
	hosts__updown "$1" down "${@:2}"
}

host_link_up() {
	hosts__need_host "${1-}"
	hosts__updown "$1" up "${@:2}"
}

# hosts__link NAME IFACE: IFACE's line in NAME's links ("IFACE SEG ADDR
# PORT"), or fail.
hosts__link() {
	local i s a port
	while read -r i s a port; do
		[ "$i" = "$2" ] && { echo "$i $s $a $port"; return 0; }
	done <"$HOSTS_TMP/$1/links"
	hosts__fail "host $1 has no interface '$2'"
}

host_impair() {
	local name=${1-} ifc=kveth0 line seg port br np mp base pid i n
	hosts__need_host "$name"
	shift
	if [[ ${1-} == kveth* ]]; then
		ifc=$1
		shift
	fi
	line=$(hosts__link "$name" "$ifc") || exit 1
	read -r _ seg _ port <<<"$line"
	base="$HOSTS_TMP/$name/netem.$ifc"
	# The settings first: a running tool reads them on SIGHUP, a new one
	# at start.
	printf '%s\n' "$@" >"$base.conf.tmp"
	mv "$base.conf.tmp" "$base.conf"
	if [ -s "$base.pid" ]; then
		pid=$(cat "$base.pid")
		hosts__alive "$pid" "$(cat "$base.start")" ||
		    hosts__fail "host $name: netem on $ifc has died: $(tail -n 5 "$base.log")"
		n=$(grep -c 'settings read again' "$base.log" || true)
		kill -HUP "$pid"
		# Done when it has logged the new settings.
		for ((i = 0; i < 250; i++)); do
			[ "$(grep -c 'settings read again' "$base.log")" -gt \
			    "$n" ] && return 0
			sleep 0.02
		done
		tail -n 5 "$base.log" >&2
		hosts__fail "host $name: netem on $ifc did not take the settings"
	fi
	[ -x "$HOSTS_NETEM" ] ||
	    hosts__fail "host_impair: no netem tool at '$HOSTS_NETEM' (set HOSTS_NETEM)"
	br=$(hosts__bridge "$seg") || exit 1
	np="n-${port#v-}"
	mp="m-${port#v-}"
	hosts__ip -n "$HOSTS_BR" link set "$port" nomaster
	hosts__ip -n "$HOSTS_BR" link add "$np" type veth peer name "$mp"
	hosts__ip -n "$HOSTS_BR" link set "$mp" master "$br" up
	hosts__ip -n "$HOSTS_BR" link set "$np" up
	ip netns exec "$(hosts__ns "$name")" "$HOSTS_NETEM" --no-offload \
	    "$ifc" || hosts__fail "host $name: offloads on $ifc stay on"
	ip netns exec "$HOSTS_BR" "$HOSTS_NETEM" --no-offload "$mp" ||
	    hosts__fail "host $name: offloads on $mp stay on"
	setsid ip netns exec "$HOSTS_BR" "$HOSTS_NETEM" --conf "$base.conf" \
	    --stats "$base.stats" "$port" "$np" </dev/null >>"$base.log" 2>&1 &
	pid=$!
	hosts__record "$pid"
	echo "$pid" >"$base.pid"
	hosts__starttime "$pid" >"$base.start"
	for ((i = 0; i < 250; i++)); do
		grep -q '^netem: forwarding' "$base.log" 2>/dev/null && return 0
		hosts__alive "$pid" "$(cat "$base.start")" || break
		sleep 0.02
	done
	cat "$base.log" >&2
	hosts__fail "host $name: netem on $ifc did not start"
}

host_impair_stats() {
	local name=${1-} ifc=${2:-kveth0} base pid i
	hosts__need_host "$name"
	base="$HOSTS_TMP/$name/netem.$ifc"
	[ -s "$base.pid" ] || hosts__fail "host $name: $ifc is not impaired"
	pid=$(cat "$base.pid")
	rm -f "$base.stats"
	if hosts__alive "$pid" "$(cat "$base.start")"; then
		kill -USR1 "$pid"
		for ((i = 0; i < 250; i++)); do
			[ -s "$base.stats" ] && { cat "$base.stats"; return 0; }
			sleep 0.02
		done
	fi
	hosts__fail "host $name: no counters from netem on $ifc"
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
	local i s a p
	hosts__need_host "${1-}"
	if [ -z "${2-}" ]; then
		cat "$HOSTS_TMP/$1/ip"
		return 0
	fi
	while read -r i s a p; do
		[ "$s" = "$2" ] && { echo "${a%/*}"; return 0; }
	done <"$HOSTS_TMP/$1/links"
	hosts__fail "host $1 is not on segment '$2'"
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
