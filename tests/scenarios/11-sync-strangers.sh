#!/usr/bin/env bash
# Scenario 11: two accounts on one LAN never sync with each other.
#
#   a 192.0.2.111  b 192.0.2.112    account 1
#   x 192.0.2.113  y 192.0.2.114    account 2 (its own 'kith init')
#   (one LAN, avahi everywhere, every agent with -v)
#
# 1. Each account syncs within itself (a with b, x with y), and ignores the
#    other's announcements: 'ignoring unrecognised service' on both sides;
#    no agent dials, finds or hears from a device of the other account.
# 2. x's agent restarted with --no-mdns --peer a:PORT tries a anyway: the
#    handshake fails; a logs 'refused connection from x...', x logs
#    'a:PORT refused us'.  b's agent restarted with --no-mdns --peer
#    x:PORT: x refuses b likewise.  (Without mDNS, so that they have no
#    session with their own account's devices: kithd tries a --peer
#    address only as one of the devices it is not connected to.)
# 3. No record crossed: each account holds its own records, and only them.
set -euo pipefail
. "$(dirname "$0")/../lib/kith.sh"
kith_setup
host_add a 192.0.2.111
host_add b 192.0.2.112
host_add x 192.0.2.113
host_add y 192.0.2.114
a_ip=$(host_ip a); b_ip=$(host_ip b); x_ip=$(host_ip x); y_ip=$(host_ip y)

kith_account a
"$TOOLS/genhist" 100 400 111 > "$HOSTS_TMP/one.jsonl"
must kith_on a history import "$HOSTS_TMP/one.jsonl" >/dev/null
kith_pair a b
kith_account x
"$TOOLS/genhist" 50 400 113 > "$HOSTS_TMP/two.jsonl"
must kith_on x history import "$HOSTS_TMP/two.jsonl" >/dev/null
kith_pair x y
[ "$(kith_on a status --json | grep -o '"account":"[0-9a-f]*"')" != \
  "$(kith_on x status --json | grep -o '"account":"[0-9a-f]*"')" ] ||
	fail "a and x belong to the same account"
pass "two accounts: a+b with 100 records, x+y with 50 ($(elapsed) s)"

# --- 1. side by side --------------------------------------------------------
for h in a b x y; do kithd_start "$h"; done
wait_peers a b
wait_peers x y
must kith_on a history add '{"service":"one.test","id":"live-a","body":"account one"}' >/dev/null
must kith_on x history add '{"service":"two.test","id":"live-x","body":"account two"}' >/dev/null
printf '%s\n' '{"service":"one.test","id":"live-a","body":"account one"}' >> "$HOSTS_TMP/one.jsonl"
printf '%s\n' '{"service":"two.test","id":"live-x","body":"account two"}' >> "$HOSTS_TMP/two.jsonl"
wait_count b 101 30
wait_count y 51 30
pass "each account syncs within itself: b holds 101, y holds 51"

# Every agent sees the other account's two announcements (the names they
# log as 'announcing as TAG'), and ignores them.
tag_of() {
	local t
	t=$(sed -n 's/.*: announcing as \([^ ]*\)$/\1/p' "$(kithd_log "$1")" | tail -1)
	[ -n "$t" ] || fail "$1's agent did not log 'announcing as'"
	echo "$t"
}
for h in a b x y; do
	case $h in a|b) others="x y" ;; *) others="a b" ;; esac
	for o in $others; do
		wait_log "$h" "ignoring unrecognised service $(tag_of "$o")\$" 20
	done
done
sleep 3		# give a wrong connection the time to happen
grep -h "ignoring unrecognised service" "$(kithd_log a)" "$(kithd_log x)" | head -4

# never_met HOST IP... : HOST's agent logs no dial, session, mDNS find or
# refusal with any of those addresses.
never_met() {
	local h=$1 ip bad
	shift
	for ip in "$@"; do
		bad=$(grep -E "(connecting to|at|from) ${ip//./\\.}:|${ip//./\\.}:[0-9]+ refused" \
			"$(kithd_log "$h")" || true)
		[ -z "$bad" ] || { echo "$bad" >&2; fail "$h's agent dealt with $ip"; }
	done
}
never_met a "$x_ip" "$y_ip"
never_met b "$x_ip" "$y_ip"
never_met x "$a_ip" "$b_ip"
never_met y "$a_ip" "$b_ip"
for h in a b x y; do
	! grep -E "refused" "$(kithd_log "$h")" ||
		fail "$h logged a refusal, though no one should have tried"
done
pass "no agent dialled, found or heard from a device of the other account"

# --- 2. explicit attempts ---------------------------------------------------
a_port=$(kithd_port a)
kithd_stop x
kithd_start x --no-mdns --peer "$a_ip:$a_port"
x_port=$KITHD_PORT
wait_log a "refused connection from ${x_ip//./\\.}:[0-9]+: not an active device of this account" 30
wait_log x "${a_ip//./\\.}:$a_port refused us" 30
pass "x with --peer $a_ip:$a_port: a refused it, x says so"

kithd_stop b
kithd_start b --no-mdns --peer "$x_ip:$x_port"
wait_log x "refused connection from ${b_ip//./\\.}:[0-9]+: not an active device of this account" 30
wait_log b "${x_ip//./\\.}:$x_port refused us" 30
pass "b with --peer $x_ip:$x_port: x refused it, b says so"
# no_session HOST IP...: no session of HOST's agent with those addresses.
no_session() {
	local h=$1 ip bad
	shift
	for ip in "$@"; do
		bad=$(grep -E "(connected to|connection from) .* at ${ip//./\\.}:" \
			"$(kithd_log "$h")" || true)
		[ -z "$bad" ] || { echo "$bad" >&2; fail "$h's agent has a session with $ip"; }
	done
}
no_session a "$x_ip" "$y_ip"
no_session b "$x_ip" "$y_ip"
no_session x "$a_ip" "$b_ip"

# --- 3. nothing crossed -----------------------------------------------------
kithd_stop b
kithd_stop x
kithd_start b
kithd_start x
wait_peers b a
wait_peers x y
sleep 2
for h in a b; do
	[ "$(kith_count "$h")" = 101 ] || fail "$h holds $(kith_count "$h") records, not 101"
done
for h in x y; do
	[ "$(kith_count "$h")" = 51 ] || fail "$h holds $(kith_count "$h") records, not 51"
done
wait_same a b 10
LC_ALL=C sort "$HOSTS_TMP/one.jsonl" | cmp -s - "$HOSTS_TMP/same" ||
	fail "account one's history is not its own records"
wait_same x y 10
LC_ALL=C sort "$HOSTS_TMP/two.jsonl" | cmp -s - "$HOSTS_TMP/same" ||
	fail "account two's history is not its own records"
pass "no record crossed: a and b hold their 101, x and y their 51"

for h in a b x y; do kithd_stop "$h"; done
pass "agents stopped cleanly; scenario took $(elapsed) s"
