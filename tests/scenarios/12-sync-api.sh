#!/usr/bin/env bash
# Scenario 12: the control socket (docs/API.md), driven by the example
# client docs/examples/kith-client.c across two synced devices.
#
#   a 192.0.2.121 ---- LAN ---- b 192.0.2.122   (avahi, kithd -v on both)
#
# 1. The socket that 'kith status --json' names (agent.socket) is where
#    API.md section 1 puts it, mode 0600, in a directory of mode 0700.
# 2. Subscribers on a and b; a client appends a record on a through a's
#    socket: the response says added, with a's device id as origin, a seq
#    and a rid; both subscribers receive the 'record' event with that
#    origin, seq, rid and record.
# 3. The same (service, id) appended again: added false, and no second
#    event.  A record without "id": error bad_record.
# 4. A record appended on b through b's socket reaches a's history too, and
#    'read' on a finds both.
set -euo pipefail
. "$(dirname "$0")/../lib/kith.sh"
kith_setup
CLIENT=$TOOLS/kith-client
[ -x "$CLIENT" ] || fail "the example client is not built at $CLIENT"
host_add a 192.0.2.121
host_add b 192.0.2.122

kith_group a b
kithd_start a
kithd_start b
wait_peers a b
wait_peers b a

# --- 1. where the socket is -------------------------------------------------
sock_of() {	# sock_of HOST: agent.socket from 'kith status --json'
	local s
	s=$(kith_on "$1" status --json | grep -o '"socket":"[^"]*"' | head -1 |
		sed 's/^"socket":"\(.*\)"$/\1/')
	[ -n "$s" ] || fail "'kith status --json' on $1 names no agent.socket: $(kith_on "$1" status --json)"
	echo "$s"
}
sock_a=$(sock_of a)
sock_b=$(sock_of b)
for h in a b; do
	s=$(sock_of "$h")
	home=$(cd "$(kith_home "$h")" && pwd -P)
	hash=$(printf '%s' "$home" | b2sum -l 256 | cut -c1-16)
	[ "$s" = "$HOSTS_TMP/$h/xdg/kith/kithd-$hash.sock" ] ||
		fail "$h's socket is $s, not \$XDG_RUNTIME_DIR/kith/kithd-$hash.sock (API.md section 1)"
	[ -S "$s" ] || fail "$s is not a socket"
	m=$(stat -c '%a %u' "$s")
	[ "$m" = "600 $(id -u)" ] || fail "socket $s: mode and owner $m, want 600 $(id -u)"
	m=$(stat -c '%a %u' "$(dirname "$s")")
	[ "$m" = "700 $(id -u)" ] || fail "$(dirname "$s"): mode and owner $m, want 700 $(id -u)"
done
pass "sockets at \$XDG_RUNTIME_DIR/kith/kithd-<hash>.sock, mode 0600, directory 0700"

# --- 2. append on a, events on a and b --------------------------------------
subscribe() {	# subscribe HOST SOCKET: a subscriber; its log in SUB_LOG
	host_bg "$1" "$CLIENT" -s "$2" subscribe record >/dev/null
	SUB_LOG=$(host_bg_log "$1")
	for ((i = 0; i < 100; i++)); do
		grep -q "subscribed to" "$SUB_LOG" && return 0
		sleep 0.1
	done
	cat "$SUB_LOG" >&2
	fail "kith-client could not subscribe on $1"
}
subscribe a "$sock_a"; sub_a=$SUB_LOG
subscribe b "$sock_b"; sub_b=$SUB_LOG

rec='{"service":"api.test","id":"m1","time":1795000000000,"body":"hello"}'
resp=$(host_exec a "$CLIENT" -s "$sock_a" --json append "$rec") ||
	fail "append on a failed: $resp"
echo "append -> $resp"
r=$(echo "$resp" | tr -d ' ')
[[ $r == *'"ok":true'* && $r == *'"added":true'* ]] || fail "append on a: $resp"
origin=$(echo "$r" | grep -o '"origin":"[0-9a-f]*"' | cut -d'"' -f4)
seq=$(echo "$r" | grep -o '"seq":[0-9]*' | cut -d: -f2)
rid=$(echo "$r" | grep -o '"rid":"[0-9a-f]*"' | cut -d'"' -f4)
[ "$origin" = "$(device_id a)" ] || fail "origin $origin is not a's device id $(device_id a)"
[ -n "$seq" ] && [ -n "$rid" ] || fail "no seq or rid in the response"

# event_for LOG ID: the record event of record ID in a subscriber's log.
event_for() {
	tr -d ' ' < "$1" | grep '"event":"record"' | grep "\"id\":\"$2\"" || true
}
for log in "$sub_a" "$sub_b"; do
	for ((i = 0; i < 100; i++)); do
		[ -n "$(event_for "$log" m1)" ] && break
		sleep 0.1
	done
	ev=$(event_for "$log" m1)
	[ -n "$ev" ] || { cat "$log" >&2; fail "no record event for m1 in $log"; }
	[ "$(echo "$ev" | wc -l)" = 1 ] || fail "several events for m1: $ev"
	ev_seq=$(echo "$ev" | grep -o '"seq":[0-9]*' | cut -d: -f2)
	[[ $ev == *"\"origin\":\"$origin\""* && $ev_seq == "$seq" &&
	   $ev == *"\"rid\":\"$rid\""* ]] || fail "event does not match the append: $ev"
	[[ $ev == *'"record":{"service":"api.test","id":"m1","time":1795000000000,"body":"hello"}'* ]] ||
		fail "event does not carry the record: $ev"
done
pass "the subscribers on a and b both received the record event (origin a, seq $seq)"

# --- 3. duplicate, bad record -----------------------------------------------
resp=$(host_exec a "$CLIENT" -s "$sock_a" --json append "$rec") ||
	fail "second append on a failed: $resp"
[[ $(echo "$resp" | tr -d ' ') == *'"added":false'* ]] || fail "second append: $resp"
err=$(host_exec a "$CLIENT" -s "$sock_a" append '{"service":"api.test"}' 2>&1) &&
	fail "a record without id was accepted: $err"
[[ $err == *bad_record* ]] || fail "a record without id: '$err', want bad_record"
sleep 2
for log in "$sub_a" "$sub_b"; do
	[ "$(event_for "$log" m1 | wc -l)" = 1 ] || fail "a duplicate gave a second event in $log"
done
pass "a duplicate is not added and gives no event; a record without id: bad_record"

# --- 4. the other way, and read ---------------------------------------------
rec2='{"service":"api.test","id":"m2","time":1795000000001,"body":"from_b"}'
resp=$(host_exec b "$CLIENT" -s "$sock_b" --json append "$rec2") || fail "append on b: $resp"
for ((i = 0; i < 100; i++)); do
	[ -n "$(event_for "$sub_a" m2)" ] && break
	sleep 0.1
done
[ -n "$(event_for "$sub_a" m2)" ] || fail "a's subscriber did not receive m2 from b"
out=$(host_exec a "$CLIENT" -s "$sock_a" read --service api.test)
[ "$(echo "$out" | tr -d ' ' | grep -c '"service":"api.test"')" = 2 ] ||
	fail "read on a: $out"
out=$(host_exec a "$CLIENT" -s "$sock_a" read --service api.test --since 1795000000001)
[ "$(echo "$out" | grep -c .)" = 1 ] && [[ $out == *m2* ]] || fail "read --since on a: $out"
pass "b's append reached a's subscriber; read on a finds both, --since only the later"

for h in a b; do kithd_stop "$h"; done
pass "agents stopped cleanly; scenario took $(elapsed) s"
