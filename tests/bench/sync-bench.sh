#!/usr/bin/env bash
# Benchmark: sync between two devices of one account, each on a host of
# its own (network namespaces, a real avahi-daemon per host; nothing in
# the machine's own namespace).
#
#   tests/bench/sync-bench.sh [BUILD_DIR]        (default build/release)
#
#   a 192.0.2.31 (avahi, kithd) ---- LAN bridge ---- b 192.0.2.32 (avahi, kithd)
#          \                                                 /
#           +----- latbench (this machine: Unix sockets) ---+
#
# 1. Propagation: latbench appends BENCH_APPENDS records, one at a time,
#    on a and times each until b's agent reports it to a subscribed client;
#    the reference, in the same run, is the round trip of a "count" request
#    on a's own socket.
# 2. Catch-up: b's agent is stopped (SIGTERM), 1,000 new records (~200 B)
#    go into a, b's agent starts again, and we time it from the start until
#    its log says "caught up with ... received N records (M new)" with the
#    1,000 new records counted; b must then hold as many records as a.  This
#    over base histories of 10,000, 100,000 and 1,000,000 records that b
#    already held before it stopped; the reference, in the same run, is the
#    same catch-up on an empty base (a fresh account for each of its runs,
#    so that its base is 0 records every time).  The base of a size's later
#    runs holds the 1,000 records of its earlier runs too.  A base is
#    loaded honestly: with b's agent stopped, a is topped up to the size
#    (latbench's records count) by 'kith history import' of genhist
#    records, then b's agent starts and takes them all by sync; that time
#    is printed too.
#
# Which device calls: when two devices find each other, the one with the
# lower device key calls at once and the other only 2 s later (kithd's
# rule against two connections).  A restarted b finds a at once (a has
# been announcing all along), but if a holds the lower key, b waits for a
# to find b's own new announcement and call.  So start->caught up depends
# on the key order, which is random per account: the reference accounts
# are made again until their order is the main account's, and the output
# says which order that is.
#
# Columns of the table: "start->caught up" runs from just before kithd is
# started to the caught-up line's timestamp, mDNS discovery and connection
# included; "connected->caught up" runs from b's first "connected to" or
# "connection from" line to the caught-up line, both timestamps from b's
# log.  Each is the median of BENCH_RUNS runs; "x ref" is its ratio to the
# reference's median.
#
# Environment:
#   BENCH_SMALL_ONLY=1    skip the 1,000,000-record base
#   BENCH_SIZES="..."     base sizes (default "10000 100000 1000000")
#   BENCH_RUNS=N          catch-up runs per size (default 3)
#   BENCH_NEW=N           records added while b is stopped (default 1000)
#   BENCH_APPENDS=N       latbench appends (default 1000)
#   BENCH_VERBOSE=1       kithd -v, and every run's figures
#   KEEP_TMP=1            keep $HOSTS_TMP (logs, homes) afterwards
set -euo pipefail
export LC_ALL=C
top=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$top/build/release}
case $build in /*) ;; *) build=$top/$build ;; esac
[ -x "$build/syncd/kithd" ] || {
	echo "build first: cmake -S $top -B $build -DCMAKE_BUILD_TYPE=Release &&" \
	    "cmake --build $build" >&2
	exit 1
}
export KITH_BIN=$build/syncd KITH_TOOLS=$build/tests
# shellcheck source=tests/lib/kith.sh
. "$top/tests/lib/kith.sh"
KITHD=$KITH_BIN/kithd

sizes=${BENCH_SIZES:-10000 100000 1000000}
[ -z "${BENCH_SMALL_ONLY:-}" ] || sizes=$(echo "$sizes" | tr ' ' '\n' |
	awk '$1 < 1000000' | tr '\n' ' ')
runs=${BENCH_RUNS:-3}
new=${BENCH_NEW:-1000}
appends=${BENCH_APPENDS:-1000}
vflag=()
[ -z "${BENCH_VERBOSE:-}" ] || vflag=(-v)

kith_setup
TOOLS=$KITH_TOOLS
for t in latbench genhist kith-client; do
	[ -x "$TOOLS/$t" ] || fail "$TOOLS/$t not built"
done
host_add a 192.0.2.31
host_add b 192.0.2.32

# --- helpers -----------------------------------------------------------
# A series TAG is one account on a and b: homes $HOSTS_TMP/HOST/kith-TAG,
# sockets $HOSTS_TMP/HOST/TAG.sock (KITH_SOCKET, for kithd and kith alike).

home_of() { echo "$HOSTS_TMP/$1/kith-$2"; }
sock_of() { echo "$HOSTS_TMP/$1/$2.sock"; }

# kon HOST TAG ARGS...: kith on HOST, in series TAG.
kon() {
	local h=$1 tag=$2
	shift 2
	host_exec "$h" env KITH_SOCKET="$(sock_of "$h" "$tag")" "$KITH" \
		--home "$(home_of "$h" "$tag")" --passphrase-file "$PASSFILE" "$@"
}

# kclient HOST TAG ARGS...: the example client on that agent's socket.
kclient() {
	local h=$1 tag=$2
	shift 2
	"$TOOLS/kith-client" -s "$(sock_of "$h" "$tag")" "$@"
}

now() { echo "$EPOCHREALTIME"; }

# ms A B: milliseconds from time A to time B (seconds, fractional).
ms() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", (b - a) * 1000 }'; }

# logtime LINE: the TIMESTAMP that starts a kithd log line, as Unix seconds.
logtime() {
	local ts=${1%% *}
	date -d "$ts" +%s.%N 2>/dev/null ||
		fail "cannot read the time of kithd's log line: $1"
}

# lower_side TAG: the host whose device key is the lower, "a" or "b".
lower_side() {
	local tag=$1 j ia ib
	j=$(kon a "$tag" devices --json) || fail "devices on a ($tag)"
	ia=$(echo "$j" | sed -n 's/.*"name":"a-'"$tag"'","id":"\([0-9a-f]*\)".*/\1/p')
	ib=$(echo "$j" | sed -n 's/.*"name":"b-'"$tag"'","id":"\([0-9a-f]*\)".*/\1/p')
	if [ -z "$ia" ] || [ -z "$ib" ]; then
		fail "device ids of $tag not found in: $j"
	fi
	if [[ $ia < $ib ]]; then echo a; else echo b; fi
}

# new_series TAG [LOWER]: an account on a, b joined to it by a pairing;
# with LOWER, made again until LOWER ("a" or "b") has the lower key.
new_series() {
	local tag=$1 want=${2-} i
	for i in $(seq 1 20); do
		pair_series "$tag"
		if [ -z "$want" ] || [ "$(lower_side "$tag")" = "$want" ]; then
			return 0
		fi
		rm -rf "$(home_of a "$tag")" "$(home_of b "$tag")"
	done
	fail "no account for $tag where $want holds the lower key in 20 tries"
}

pair_series() {
	local tag=$1 png log pid i port=
	kon a "$tag" init --name "a-$tag" >/dev/null || fail "init $tag"
	png=$HOSTS_TMP/a/pair-$tag.png
	pid=$(host_bg a env KITH_SOCKET="$(sock_of a "$tag")" "$KITH" \
		--home "$(home_of a "$tag")" --passphrase-file "$PASSFILE" \
		pair --json --yes --qr-png "$png")
	log=$(host_bg_log a)
	for i in $(seq 1 100); do
		port=$(sed -n 's/.*"event":"waiting","port":\([0-9]*\).*/\1/p' \
			"$log" 2>/dev/null | head -1)
		[ -n "$port" ] && [ -s "$png" ] && break
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	[ -n "$port" ] || { cat "$log" >&2; fail "kith pair did not start"; }
	kon b "$tag" join "$png" --name "b-$tag" >"$HOSTS_TMP/join-$tag.out" 2>&1 ||
		{ cat "$HOSTS_TMP/join-$tag.out" "$log" >&2; fail "join $tag"; }
	for i in $(seq 1 600); do
		[ -s "${log%.log}.rc" ] && break
		sleep 0.1
	done
	[ "$(cat "${log%.log}.rc" 2>/dev/null)" = 0 ] ||
		{ cat "$log" >&2; fail "kith pair $tag did not finish"; }
}

# agent_start HOST TAG: start kithd; sets AGENT_PID[HOST], AGENT_LOG[HOST]
# and AGENT_T0[HOST] (the time just before it was started).
declare -A AGENT_PID AGENT_LOG AGENT_T0
agent_start() {
	local h=$1 tag=$2
	rm -f "$(sock_of "$h" "$tag")"
	AGENT_T0[$h]=$(now)
	AGENT_PID[$h]=$(host_bg "$h" env KITH_SOCKET="$(sock_of "$h" "$tag")" \
		"$KITHD" --home "$(home_of "$h" "$tag")" --foreground \
		"${vflag[@]}")
	AGENT_LOG[$h]=$(host_bg_log "$h")
}

# agent_wait_ready HOST TAG: until its socket answers.
agent_wait_ready() {
	local h=$1 tag=$2 i
	for i in $(seq 1 200); do
		kclient "$h" "$tag" status >/dev/null 2>&1 && return 0
		[ ! -s "${AGENT_LOG[$h]%.log}.rc" ] || break
		sleep 0.05
	done
	cat "${AGENT_LOG[$h]}" >&2
	fail "kithd on $h ($tag) does not answer on its socket"
}

# agent_stop HOST: SIGTERM to our kithd, by PID; wait until it has exited.
agent_stop() {
	local h=$1 i rc
	[ -n "${AGENT_PID[$h]:-}" ] || return 0
	kill -TERM "${AGENT_PID[$h]}" 2>/dev/null || true
	for i in $(seq 1 200); do
		[ -s "${AGENT_LOG[$h]%.log}.rc" ] && break
		sleep 0.05
	done
	rc=$(cat "${AGENT_LOG[$h]%.log}.rc" 2>/dev/null) ||
		fail "kithd on $h did not stop within 10 s of SIGTERM"
	[ "$rc" = 0 ] || {
		tail -20 "${AGENT_LOG[$h]}" >&2
		fail "kithd on $h exited with status $rc"
	}
	AGENT_PID[$h]=
}

# peers_live TAG: until a and b each list the other as a live peer.
peers_live() {
	local tag=$1 i
	for i in $(seq 1 600); do
		if kclient a "$tag" --json status 2>/dev/null |
			grep -q '"state":"live"' &&
		    kclient b "$tag" --json status 2>/dev/null |
			grep -q '"state":"live"'; then
			return 0
		fi
		sleep 0.05
	done
	tail -20 "${AGENT_LOG[a]}" "${AGENT_LOG[b]}" >&2
	fail "a and b ($tag) did not connect within 30 s"
}

count() { kon "$1" "$2" history count; }

# wait_caught_up HOST NEW TIMEOUT: until HOST's agent log has caught-up
# lines whose "(M new)" add up to NEW or more; prints the line that got
# there.  (b may hold two sessions with a at once, one each way.)
wait_caught_up() {
	local h=$1 want=$2 limit=$3 i line
	for ((i = 0; i < limit * 50; i++)); do
		line=$(awk -v want="$want" '
			/caught up with .*: received [0-9]+ records \([0-9]+ new\)/ {
				s = $0
				sub(/.*received [0-9]+ records \(/, "", s)
				sub(/ new\).*/, "", s)
				got += s
				if (got >= want) { print; exit }
			}' "${AGENT_LOG[$h]}")
		[ -z "$line" ] || { echo "$line"; return 0; }
		[ ! -s "${AGENT_LOG[$h]%.log}.rc" ] || break
		sleep 0.02
	done
	tail -20 "${AGENT_LOG[$h]}" >&2
	fail "kithd on $h did not catch up with $want new records within $limit s"
}

# The first line of HOST's log that says it met its peer.
connected_line() {
	grep -m1 -E 'connected to .* at |connection from .* at ' \
		"${AGENT_LOG[$1]}" || true
}

# The agent's own figure on a caught-up line, if it gives one ("in N ms",
# "in N s"), in ms; else "-".
agent_figure() {
	local f
	f=$(echo "$1" | sed -nE 's/.* in ([0-9.]+) ?(ms|s)\b.*/\1 \2/p')
	case $f in
	*" ms") echo "${f% ms}" ;;
	*" s") awk -v s="${f% s}" 'BEGIN { printf "%.1f", s * 1000 }' ;;
	*) echo - ;;
	esac
}

seed=100
# catchup TAG: one catch-up run; appends "total_ms sync_ms agent_ms base"
# to $HOSTS_TMP/runs-TAG.
catchup() {
	local tag=$1 base line tc t1 tconn n_a n_b i
	agent_stop b
	base=$(count b "$tag")
	seed=$((seed + 1))
	"$TOOLS/genhist" "$new" 200 "$seed" |
		kon a "$tag" history import - >/dev/null || fail "import on a"
	n_a=$(count a "$tag")
	[ "$n_a" = $((base + new)) ] ||
		fail "a holds $n_a records, not $((base + new))"
	agent_start b "$tag"
	line=$(wait_caught_up b "$new" 600)
	t1=$(logtime "$line")
	tc=$(connected_line b)
	[ -n "$tc" ] || fail "b caught up without a 'connected' line"
	tconn=$(logtime "$tc")
	agent_wait_ready b "$tag"
	for i in $(seq 1 100); do
		n_b=$(count b "$tag")
		[ "$n_b" != "$n_a" ] || break
		sleep 0.05
	done
	[ "$n_b" = "$n_a" ] || fail "b holds $n_b records after catch-up, a $n_a"
	echo "$(ms "${AGENT_T0[b]}" "$t1") $(ms "$tconn" "$t1")" \
		"$(agent_figure "$line")" "$base" >>"$HOSTS_TMP/runs-$tag"
	[ -z "${BENCH_VERBOSE:-}" ] ||
		echo "  $tag base $base: $(tail -1 "$HOSTS_TMP/runs-$tag") | $line"
}

# median FIELD FILE
median() {
	cut -d' ' -f"$1" "$2" | sort -g | awk '
		{ v[NR] = $1 }
		END { if (NR == 0 || v[1] == "-") print "-";
		      else if (NR % 2) print v[(NR + 1) / 2];
		      else printf "%.1f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

ratio() {
	awk -v a="$1" -v b="$2" 'BEGIN {
		if (a == "-" || b == "-" || b == 0) print "-";
		else printf "%.2f", a / b }'
}

# --- 1. propagation ----------------------------------------------------
echo "sync-bench: $(date -u +%FT%TZ), $(nproc) CPUs, build $build"
new_series main
agent_start a main
agent_start b main
agent_wait_ready a main
agent_wait_ready b main
peers_live main
lower=$(lower_side main)
echo
echo "1. propagation a -> b, $appends appends (ms; reference: count round trip on a's socket)"
"$TOOLS/latbench" -n "$appends" "$(sock_of a main)" "$(sock_of b main)" |
	sed 's/^/   /' || fail "latbench"
echo "   (a held $(count a main) records afterwards; \"count\" reads them all)"
agent_stop a
agent_stop b

# --- 2. catch-up -------------------------------------------------------
echo
echo "2. catch-up of $new new records after b's agent was stopped (ms)"
echo "   ($lower holds the lower device key, in the reference accounts too)"
for r in $(seq 1 "$runs"); do
	new_series "ref$r" "$lower"
	agent_start a "ref$r"
	agent_start b "ref$r"
	agent_wait_ready a "ref$r"
	agent_wait_ready b "ref$r"
	peers_live "ref$r"
	catchup "ref$r"
	cat "$HOSTS_TMP/runs-ref$r" >>"$HOSTS_TMP/runs-ref"
	agent_stop a
	agent_stop b
done
ref_total=$(median 1 "$HOSTS_TMP/runs-ref")
ref_sync=$(median 2 "$HOSTS_TMP/runs-ref")
ref_agent=$(median 3 "$HOSTS_TMP/runs-ref")

row() {
	printf '   %10s  %16s %6s  %20s %6s  %11s %6s\n' "$@"
}
row "base" "start->caught up" "x ref" "connected->caught up" "x ref" \
	"agent's own" "x ref"
row 0 "$ref_total" 1.00 "$ref_sync" 1.00 "$ref_agent" \
	"$(ratio "$ref_agent" "$ref_agent")"

agent_start a main
hseed=1
for size in $sizes; do
	# Top a up to SIZE records (the latbench records count), with b's
	# agent stopped, then let b catch up with all of them: b holds the
	# base before the measured runs.
	agent_stop b
	have=$(count a main)
	if [ "$have" -lt "$size" ]; then
		t0=$(now)
		"$TOOLS/genhist" $((size - have)) 200 "$hseed" |
			kon a main history import - >/dev/null || fail "import on a"
		hseed=$((hseed + 1))
		t1=$(now)
		agent_start b main
		line=$(wait_caught_up b $((size - have)) 3600)
		agent_wait_ready b main
		for i in $(seq 1 100); do
			[ "$(count b main)" != "$(count a main)" ] || break
			sleep 0.1
		done
		[ "$(count b main)" = "$(count a main)" ] ||
			fail "b does not hold a's $size records"
		echo "   (loading: $((size - have)) records imported on a in" \
			"$(ms "$t0" "$t1") ms; b took them in" \
			"$(ms "${AGENT_T0[b]}" "$(logtime "$line")") ms from its" \
			"start, $(agent_figure "$line") ms by its own count)"
	else
		agent_start b main
	fi
	peers_live main
	: >"$HOSTS_TMP/runs-main"
	for r in $(seq 1 "$runs"); do
		catchup main
	done
	tot=$(median 1 "$HOSTS_TMP/runs-main")
	syn=$(median 2 "$HOSTS_TMP/runs-main")
	own=$(median 3 "$HOSTS_TMP/runs-main")
	row "$size" "$tot" "$(ratio "$tot" "$ref_total")" \
		"$syn" "$(ratio "$syn" "$ref_sync")" \
		"$own" "$(ratio "$own" "$ref_agent")"
done
echo "   (medians of $runs runs; a size's later runs start with $new more" \
	"records each, those of its earlier runs)"
agent_stop a
agent_stop b
