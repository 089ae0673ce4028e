#!/usr/bin/env bash
# Scenario 10: a large sync survives kill -9 of the receiving agent, twice.
#
#   a 192.0.2.101 (link shaped to 40 Mbit/s) ---- LAN ---- b 192.0.2.102
#
# a and b are paired with an empty history; a then takes 100,000 records of
# about 500 bytes (50 MB).  Both agents run; b catches up from a.  b's agent
# is killed with SIGKILL once it holds about a fifth of the records, and
# again at about two thirds; each time it restarts, it must receive exactly
# the records it lacks (the version vector of what it committed), and end
# with all 100,000 records and the same export as a.
set -euo pipefail
. "$(dirname "$0")/../lib/kith.sh"
kith_setup
host_add a 192.0.2.101
host_add b 192.0.2.102
total=100000

kith_group a b
# A slow link, so that there is time to cut the transfer in its middle.
host_exec a tc qdisc add dev kveth0 root tbf rate 40mbit burst 64kb \
	latency 500ms || echo "note: no traffic shaping available"
"$TOOLS/genhist" $total 500 10 > "$HOSTS_TMP/big.jsonl"
must kith_on a history import "$HOSTS_TMP/big.jsonl" >/dev/null
[ "$(kith_count a)" = $total ] || fail "a holds $(kith_count a) records"
pass "a and b paired; a holds $total records of $(( $(wc -c < "$HOSTS_TMP/big.jsonl") / total )) bytes ($(elapsed) s)"

kithd_start a
t_sync=$(date +%s)

# cut N: start b's agent, kill it once it holds N records or more.
have=0
cut() {
	local at=$1 n i
	kithd_start b
	for ((i = 0; i < 600; i++)); do
		n=$(kith_count b)
		[ "$n" -ge "$at" ] && break
		kithd_running b || fail "b's agent ended by itself"
		sleep 0.1
	done
	kithd_kill b
	n=$(kith_count b)
	[ "$n" -gt "$have" ] && [ "$n" -lt $total ] ||
		fail "the kill did not land mid-transfer: b holds $n of $total (before: $have)"
	echo "kill -9 of b's agent with $n of $total records stored (aimed at $at)"
	have=$n
}

# check_resume HAD: b's latest agent logged that it caught up with a,
# having received exactly total - HAD records, all new.
check_resume() {
	local had=$1 line
	line=$(grep -m1 -E "caught up with a \($(id8 a)\)" "$(kithd_log b)" || true)
	[ -n "$line" ] || fail "b did not log 'caught up with a'"
	echo "$line"
	[[ $line =~ received\ ([0-9]+)\ records\ \(([0-9]+)\ new\) ]] ||
		fail "cannot read '$line'"
	[ "${BASH_REMATCH[2]}" = $((total - had)) ] ||
		fail "after a restart with $had records, b received ${BASH_REMATCH[2]} new records, not $((total - had))"
	[ "${BASH_REMATCH[1]}" = "${BASH_REMATCH[2]}" ] ||
		fail "after a restart with $had records, a sent b ${BASH_REMATCH[1]} records, ${BASH_REMATCH[2]} of them new"
}

cut $((total / 5))
pass "first cut: b held $have of $total"
first=$have
cut $((total * 2 / 3))
pass "second cut: b held $have of $total"
[ "$have" -gt "$first" ] || fail "b made no progress between the cuts"

kithd_start b
wait_count b $total 120
t_sync=$(( $(date +%s) - t_sync ))
wait_log b "caught up with a \($(id8 a)\)" 10
check_resume "$have"
pass "b restarted with $have records and received exactly the $((total - have)) it lacked"
wait_same a b 60
LC_ALL=C sort "$HOSTS_TMP/big.jsonl" | cmp -s - "$HOSTS_TMP/same" ||
	fail "the common history is not the records imported on a"
pass "b holds all $total records, export identical to a's; sync with two kills took ${t_sync} s"

kithd_stop a
kithd_stop b
pass "agents stopped cleanly; scenario took $(elapsed) s"
