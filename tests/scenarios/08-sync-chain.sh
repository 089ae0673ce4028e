#!/usr/bin/env bash
# Scenario 8: records cross a chain of devices that never see each other.
#
#   a 192.0.2.81 ---- segment one ---- b 192.0.2.82
#                                      b 198.51.100.82 ---- segment two ---- c 198.51.100.83
#
# a and c share no segment: no route, no mDNS between them (no reflector).
# b pairs with a, c pairs with b; then with every agent running, 2,000
# records imported on a and one added on c reach all three, carried by b;
# the exports are identical.  a's agent never finds, dials or hears from c,
# nor c's from a: the only lines of a's logs that name c are the roster
# notice 'new device c (..) enrolled by b (..)', and likewise on c.
set -euo pipefail
. "$(dirname "$0")/../lib/kith.sh"
kith_setup
host_add a 192.0.2.81 --link one
host_add b 192.0.2.82 --link one
host_link b two 198.51.100.82
host_add c 198.51.100.83 --link two
a_ip=$(host_ip a)
c_ip=$(host_ip c)

# The topology itself: b reaches both, a and c cannot reach each other.
reach() {	# reach HOST IP: a TCP connection to IP:9 gets an answer (RST)
	local out
	out=$(host_exec "$1" timeout 2 bash -c "echo > /dev/tcp/$2/9" 2>&1) || true
	[[ $out == *refused* ]]
}
reach a "$(host_ip b one)" || fail "a cannot reach b"
reach c "$(host_ip b two)" || fail "c cannot reach b"
! reach a "$c_ip" || fail "a reaches c"
! reach c "$a_ip" || fail "c reaches a"
pass "chain a - b - c; a and c cannot reach each other"

kith_account a
kith_pair a b
kith_pair b c
v=$(kith_on b devices --json | grep -o '"roster_version":[0-9]*' | cut -d: -f2)
[ "$v" = 3 ] || fail "b holds roster version $v, not 3"
pass "b paired with a, c paired with b ($(elapsed) s)"

for h in a b c; do kithd_start "$h"; done
wait_peers b a c
pass "b's agent is connected to a and to c"

"$TOOLS/genhist" 2000 800 81 > "$HOSTS_TMP/a.jsonl"
printf '{"service":"chain.test","id":"from-c","body":"written on c"}\n' > "$HOSTS_TMP/c.jsonl"
t0=$(date +%s%N)
must kith_on a history import "$HOSTS_TMP/a.jsonl" >/dev/null
must kith_on c history import "$HOSTS_TMP/c.jsonl" >/dev/null
for h in a b c; do wait_count "$h" 2001 60; done
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
wait_same a b c 30
LC_ALL=C sort "$HOSTS_TMP/a.jsonl" "$HOSTS_TMP/c.jsonl" | cmp -s - "$HOSTS_TMP/same" ||
	fail "the common history is not the records written on a and c"
pass "2,000 records from a and 1 from c reached all three in $ms ms; exports identical"

# The roster reached both ends too.
for h in a c; do
	kith_on "$h" devices --json | grep -q '"roster_version":3' ||
		fail "$h does not hold roster version 3"
done
wait_log a "new device c \($(id8 c)\) enrolled by b \($(id8 b)\)" 10

# a and c never met.
check_apart() {	# check_apart HOST OTHER
	local h=$1 o=$2 bad
	bad=$(kithd_logs "$h" | grep -E "$(id8 "$o")|$(host_ip "$o")" |
		grep -v "new device $o ($(id8 "$o")) enrolled by" || true)
	[ -z "$bad" ] || { echo "$bad" >&2; fail "$h's agent log mentions $o"; }
}
check_apart a c
check_apart c a
pass "a's log names c only in the roster notice, and c's names a likewise"

for h in a b c; do kithd_stop "$h"; done
pass "agents stopped cleanly; scenario took $(elapsed) s"
