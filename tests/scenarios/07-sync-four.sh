#!/usr/bin/env bash
# Scenario 7: four devices of one account on one LAN keep each other in sync.
#
#   a 192.0.2.71   b 192.0.2.72   c 192.0.2.73   d 192.0.2.74
#   (all with avahi, all on one bridge, each running kithd -v)
#
# 1. a holds an account and 500 records; b and c are paired to it; their
#    agents start, find each other by mDNS and connect, all three pairs.
# 2. d is paired to b while the agents run: a and c, not involved, log
#    'new device d (..) enrolled by b (..)' and list d in 'kith devices';
#    d's agent connects to the three others.
# 3. One record added on each host (distinct ids) and the same record added
#    on a and c at once: all four end with identical exports, exactly the
#    records written, the duplicate stored once.  Then the same (service,
#    id) with different texts added on b and d at once (d's link down for
#    that moment, so that both store their own): stored once, and the same
#    text everywhere.
# 4. The agents stop cleanly (exit 0) on SIGTERM.
set -euo pipefail
. "$(dirname "$0")/../lib/kith.sh"
kith_setup
hosts=(a b c d)
host_add a 192.0.2.71
host_add b 192.0.2.72
host_add c 192.0.2.73
host_add d 192.0.2.74

# --- 1. three devices, three agents -----------------------------------------
kith_account a
"$TOOLS/genhist" 500 600 71 > "$HOSTS_TMP/base.jsonl"
must kith_on a history import "$HOSTS_TMP/base.jsonl" >/dev/null
kith_pair a b
kith_pair a c
for h in a b c; do
	[ "$(kith_count "$h")" = 500 ] || fail "$h holds $(kith_count "$h") records after pairing, not 500"
done
pass "account on a; b and c paired, 500 records each ($(elapsed) s)"

for h in a b c; do kithd_start "$h"; done
wait_peers a b c
wait_peers b a c
wait_peers c a b
# Each pair met through mDNS: at least one of the two logged that it found
# the other, with its address and port.  (Not always both: b's agent
# started with roster version 2, without c, and ignored c's announcement.)
found() {	# found H P: H's agent found P by mDNS
	grep -Eq "found $2 \($(id8 "$2")\) at $(host_ip "$2"):$(kithd_port "$2")\b" "$(kithd_log "$1")"
}
for pair in a:b a:c b:c; do
	h=${pair%:*} p=${pair#*:}
	for ((i = 0; i < 100; i++)); do
		found "$h" "$p" || found "$p" "$h" && break
		sleep 0.1
	done
	found "$h" "$p" || found "$p" "$h" || fail "neither $h nor $p logged that it found the other by mDNS"
done
pass "a, b, c found each other by mDNS and are connected ($(elapsed) s)"

# --- 2. d joins through b while the agents run ------------------------------
kith_pair b d
dv=$(kith_on b devices --json | grep -o '"roster_version":[0-9]*' | cut -d: -f2)
[ "$dv" = 4 ] || fail "b holds roster version $dv after enrolling d, not 4"
re_new="new device d \($(id8 d)\) enrolled by b \($(id8 b)\)"
wait_log a "$re_new" 30
wait_log c "$re_new" 30
for h in a c; do
	kith_on "$h" devices --json > "$HOSTS_TMP/$h.devices"
	grep -q '"roster_version":4' "$HOSTS_TMP/$h.devices" ||
		fail "$h: roster is not version 4: $(cat "$HOSTS_TMP/$h.devices")"
	entry=$(grep -o "{[^{}]*\"id\":\"$(device_id d)\"[^{}]*}" "$HOSTS_TMP/$h.devices" || true)
	[[ $entry == *'"status":"active"'* ]] || fail "$h does not list d as active: $entry"
	[[ $entry == *"\"added_by\":\"$(device_id b)\""* ]] ||
		fail "$h does not list d as enrolled by b: $entry"
done
pass "a and c, not in the pairing, logged d's enrolment by b and list d, enrolled by b (roster v4)"

kithd_start d
wait_peers d a b c
wait_peers a d
wait_peers c d
pass "d's agent is connected to a, b and c ($(elapsed) s)"

# --- 3. records on every host -----------------------------------------------
rec() { printf '{"service":"four.test","id":"%s","body":"%s"}' "$1" "$2"; }
expect=$HOSTS_TMP/expect
cp "$HOSTS_TMP/base.jsonl" "$expect"
t0=$(date +%s%N)
for h in "${hosts[@]}"; do
	must kith_on "$h" history add "$(rec "own-$h" "written on $h")" >/dev/null
	rec "own-$h" "written on $h" >> "$expect"; echo >> "$expect"
done
# The same record on a and c at once.
kith_on a history add "$(rec same-1 "one text")" > "$HOSTS_TMP/s1a" & p1=$!
kith_on c history add "$(rec same-1 "one text")" > "$HOSTS_TMP/s1c" & p2=$!
wait "$p1" || fail "add on a"
wait "$p2" || fail "add on c"
rec same-1 "one text" >> "$expect"; echo >> "$expect"

want=$((500 + 4 + 1))
for h in "${hosts[@]}"; do wait_count "$h" "$want" 30; done
t_all=$(( ($(date +%s%N) - t0) / 1000000 ))
wait_same a b c d 30
pass "each host holds $want records, exports identical; $t_all ms from the first add until all had them"
LC_ALL=C sort "$expect" | cmp -s - "$HOSTS_TMP/same" ||
	{ diff <(LC_ALL=C sort "$expect") "$HOSTS_TMP/same" | head >&2; fail "the histories are not the records written"; }
n1=$(grep -c '"id":"same-1"' "$HOSTS_TMP/same" || true)
[ "$n1" = 1 ] || fail "same-1 is stored $n1 times"
pass "every history is exactly the records written; same-1, added on a and c at once, is stored once"

for h in "${hosts[@]}"; do
	grep -q "caught up with" "$(kithd_log "$h")" || fail "$h never logged 'caught up with'"
done

# The same (service, id), different texts, on b and d at once.  To be
# sure that each stores its own before it hears of the other's, d's link is
# down for that moment (too short for the sessions to be dropped: the
# records wait in TCP's queues).
host_link_down d
kith_on b history add "$(rec same-2 "text of b")" > "$HOSTS_TMP/s2b" & p1=$!
kith_on d history add "$(rec same-2 "text of d")" > "$HOSTS_TMP/s2d" & p2=$!
wait "$p1" || fail "add on b"
wait "$p2" || fail "add on d"
host_link_up d
echo "add on b: $(cat "$HOSTS_TMP/s2b"); add on d: $(cat "$HOSTS_TMP/s2d")"
grep -q '^added' "$HOSTS_TMP/s2b" && grep -q '^added' "$HOSTS_TMP/s2d" ||
	fail "b and d did not both store same-2 as new"
want=$((want + 1))
for h in "${hosts[@]}"; do wait_count "$h" "$want" 30; done
# All four keep one text for it (the same one), within 15 s.
for ((i = 0; i < 30; i++)); do
	for h in "${hosts[@]}"; do
		kith_on "$h" history export | grep '"id":"same-2"' > "$HOSTS_TMP/s2.$h" || true
	done
	[ "$(cat "$HOSTS_TMP"/s2.? | sort -u | wc -l)" = 1 ] && break
	sleep 0.5
done
for h in "${hosts[@]}"; do echo "$h holds $(cat "$HOSTS_TMP/s2.$h")"; done
wait_same a b c d 15
n2=$(grep -c '"id":"same-2"' "$HOSTS_TMP/same" || true)
[ "$n2" = 1 ] || fail "same-2 is stored $n2 times"
pass "same-2, added on b and d with different texts, is stored once, the same everywhere: $(grep '"id":"same-2"' "$HOSTS_TMP/same")"


# --- 4. clean stop ----------------------------------------------------------
for h in "${hosts[@]}"; do kithd_stop "$h"; done
pass "four agents stopped cleanly; scenario took $(elapsed) s"
