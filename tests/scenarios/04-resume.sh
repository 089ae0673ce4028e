#!/usr/bin/env bash
# Scenario 4: a first transfer cut by kill -9, on either side, resumes
# without re-sending what arrived, and ends identical.
#
#   laptop 192.0.2.31 ---- LAN (laptop's link shaped to 40 Mbit/s) ---- phone 192.0.2.32
#                      \-- tablet 192.0.2.33
#
# 1. The phone's 'kith join' is killed mid-transfer; 'kith join' again
#    (no code: it kept it) finishes with exactly the records it lacked.
# 2. The laptop's 'kith pair' is killed mid-transfer to the tablet; a new
#    'kith pair' and a scan of its new code finish the tablet's transfer.
set -euo pipefail
. "$(dirname "$0")/../lib/kith.sh"
kith_setup
host_add laptop 192.0.2.31 --no-avahi
host_add phone 192.0.2.32 --no-avahi
host_add tablet 192.0.2.33 --no-avahi

# A slow link, so that there is time to cut the transfer in its middle.
host_exec laptop tc qdisc add dev kveth0 root tbf rate 40mbit burst 64kb \
	latency 500ms || echo "note: no traffic shaping available"

total=40000
must kith_on laptop init --name laptop >/dev/null
"$TOOLS/genhist" $total 1024 11 | kith_on laptop history import - >/dev/null

count_on() { kith_on "$1" history count 2>/dev/null || echo 0; }

wait_some() {	# wait until HOST holds more than N records
	local i n
	for i in $(seq 1 300); do
		n=$(count_on "$1")
		[ "$n" -gt "$2" ] && return 0
		sleep 0.1
	done
	fail "$1 never received records"
}

# --- 1. the joiner is killed ----------------------------------------------
pair_start laptop
jpid=$(host_bg phone "$KITH" --home "$(kith_home phone)" --json join \
	"$PAIR_PNG" --name phone)
wait_some phone 2000
kill -9 "$jpid"
sleep 0.3
n1=$(count_on phone)
[ "$n1" -gt 0 ] && [ "$n1" -lt $total ] ||
	fail "the cut did not land mid-transfer ($n1 of $total)"
pass "joiner killed with $n1 of $total records stored"

out=$(kith_on phone --json join --name phone) || { echo "$out"; cat "$PAIR_LOG"; fail "resume"; }
got=$(echo "$out" | sed -n 's/.*"received":\([0-9]*\).*/\1/p')
[ "$got" = $((total - n1)) ] ||
	fail "resume received $got records, expected exactly $((total - n1))"
pair_wait || fail "pair did not finish"
same_history laptop phone
pass "joiner resumed: $got more records, none sent twice, histories identical"

# --- 2. the shower is killed ----------------------------------------------
pair_start laptop
jpid=$(host_bg tablet "$KITH" --home "$(kith_home tablet)" join \
	"$PAIR_PNG" --name tablet)
jlog=$(host_bg_log tablet)
wait_some tablet 2000
kill -9 "$PAIR_PID"
for i in $(seq 1 100); do kill -0 "$jpid" 2>/dev/null || break; sleep 0.1; done
grep -q "run 'kith join' again" "$jlog" || { cat "$jlog"; fail "joiner did not say how to resume"; }
n2=$(count_on tablet)
[ "$n2" -gt 0 ] && [ "$n2" -lt $total ] || fail "tablet holds $n2"
pass "shower killed; tablet kept $n2 records and says how to resume"

pair_start laptop
out=$(kith_on tablet --json join "$PAIR_PNG" --name tablet) || { echo "$out"; cat "$PAIR_LOG"; fail "resume 2"; }
got=$(echo "$out" | sed -n 's/.*"received":\([0-9]*\).*/\1/p')
[ "$got" = $((total - n2)) ] ||
	fail "second resume received $got, expected $((total - n2))"
pair_wait || fail "second pair did not finish"
grep -q "is back: resuming" "$PAIR_LOG" || true
same_history laptop tablet
v=$(kith_on laptop devices --json | grep -o '"roster_version":[0-9]*')
[ "$v" = '"roster_version":3' ] || fail "laptop roster is $v, expected version 3 (no double enrolment)"
pass "shower restarted: tablet finished with $got more records; roster version 3"
