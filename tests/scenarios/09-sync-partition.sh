#!/usr/bin/env bash
# Scenario 9: a device cut off from the others, written to on both sides,
# comes back and everything converges: nothing lost, nothing doubled.
#
#   a 192.0.2.91   b 192.0.2.92   c 192.0.2.93   (one LAN, avahi, kithd -v,
#                                                 KITHD_KEEPALIVE=2)
#
# Round 1: c's own link goes down (c's kernel and avahi see it, like a
#          laptop leaving the Wi-Fi).
# Round 2: the bridge's end of c's link goes down (c notices nothing; every
#          packet is lost, like a cable cut further away).
# Each round: the others log 'lost c', c logs 'lost a' and 'lost b'; while
# apart, 40 records are added on a, 40 on b (round 2) and 40 on c, and the
# same 5 records on a and on c; c cannot have the others' and they cannot
# have c's; then the link comes back and all three converge on exactly the
# union (counts and sorted exports).
set -euo pipefail
. "$(dirname "$0")/../lib/kith.sh"
kith_setup
host_add a 192.0.2.91
host_add b 192.0.2.92
host_add c 192.0.2.93

kith_group a b c
"$TOOLS/genhist" 300 500 91 > "$HOSTS_TMP/expect"
for h in a b c; do kithd_start "$h" KITHD_KEEPALIVE=2; done
wait_peers a b c
wait_peers b c
must kith_on a history import "$HOSTS_TMP/expect" >/dev/null
wait_same a b c 30
pass "three agents connected, 300 records everywhere ($(elapsed) s)"

# recs HOST ROUND N: N new records written on HOST, also kept in expect.
recs() {
	local f="$HOSTS_TMP/$1.$2.jsonl" i
	: > "$f"
	for ((i = 1; i <= $3; i++)); do
		printf '{"service":"part.test","id":"%s-%s-%d","body":"round %s on %s"}\n' \
			"$1" "$2" "$i" "$2" "$1" >> "$f"
	done
	must kith_on "$1" history import "$f" >/dev/null
	cat "$f" >> "$HOSTS_TMP/expect"
}
# both ROUND: the same 5 records written on a and on c.
both() {
	local f="$HOSTS_TMP/both.$1.jsonl" i
	: > "$f"
	for ((i = 1; i <= 5; i++)); do
		printf '{"service":"part.test","id":"both-%s-%d","body":"written twice"}\n' \
			"$1" "$i" >> "$f"
	done
	must kith_on a history import "$f" >/dev/null
	must kith_on c history import "$f" >/dev/null
	cat "$f" >> "$HOSTS_TMP/expect"
}

round() {	# round N [--far]
	local r=$1 far=${2-} u0 n_ab n_c t0 ms want i
	# lost lines so far, so that only new ones count
	local la lb lc
	t0=$(date +%s%N)
	wait_mesh a b c 60
	ms=$(( ($(date +%s%N) - t0) / 1000000 ))
	pass "round $r: a, b and c are all connected to each other (waited $ms ms)"
	u0=$(kith_count a)
	la=$(grep -c "lost c ($(id8 c))" "$(kithd_log a)" || true)
	lb=$(grep -c "lost c ($(id8 c))" "$(kithd_log b)" || true)
	lc=$(grep -c "lost [ab] (" "$(kithd_log c)" || true)

	host_link_down c ${far:+"$far"}
	t0=$(date +%s%N)
	# KITHD_KEEPALIVE=2: silent for 6 s, the session is dropped.
	for ((i = 0; i < 200; i++)); do
		[ "$(grep -c "lost c ($(id8 c))" "$(kithd_log a)" || true)" -gt "$la" ] &&
		[ "$(grep -c "lost c ($(id8 c))" "$(kithd_log b)" || true)" -gt "$lb" ] &&
		[ "$(grep -c "lost [ab] (" "$(kithd_log c)" || true)" -ge $((lc + 2)) ] && break
		sleep 0.1
	done
	[ "$i" -lt 200 ] || fail "round $r: the cut was not noticed within 20 s (keepalive 2 s)"
	ms=$(( ($(date +%s%N) - t0) / 1000000 ))
	pass "round $r: c cut off${far:+ ($far)}; a, b and c logged the loss after $ms ms"

	recs a "$r" 40
	[ -z "$far" ] || recs b "$r" 40
	recs c "$r" 40
	both "$r"
	n_ab=$((u0 + 40 + 5))
	[ -z "$far" ] || n_ab=$((n_ab + 40))
	n_c=$((u0 + 40 + 5))
	wait_count a "$n_ab" 10
	wait_count b "$n_ab" 10
	sleep 2		# time enough for a leak, were there a way through
	for h in a b; do
		[ "$(kith_count "$h")" = "$n_ab" ] || fail "round $r: $h holds $(kith_count "$h") records while apart, not $n_ab"
	done
	[ "$(kith_count c)" = "$n_c" ] || fail "round $r: c holds $(kith_count c) records while apart, not $n_c"
	want=$(LC_ALL=C sort -u "$HOSTS_TMP/expect" | wc -l)
	[ "$want" = $((n_ab + 40)) ] || fail "round $r: the union is $want records, not $((n_ab + 40))"
	pass "round $r: apart, a and b hold $n_ab records, c holds $n_c; the union is $want"

	host_link_up c ${far:+"$far"}
	t0=$(date +%s%N)
	for h in a b c; do wait_count "$h" "$want" 60; done
	ms=$(( ($(date +%s%N) - t0) / 1000000 ))
	wait_same a b c 30
	LC_ALL=C sort -u "$HOSTS_TMP/expect" | cmp -s - "$HOSTS_TMP/same" || {
		diff <(LC_ALL=C sort -u "$HOSTS_TMP/expect") "$HOSTS_TMP/same" | head >&2
		fail "round $r: the common history is not the union of what was written"
	}
	pass "round $r: link back; all three hold exactly the $want records of the union, $ms ms after"
}

round 1
round 2 --far
for h in a b c; do kithd_stop "$h"; done
pass "agents stopped cleanly; scenario took $(elapsed) s"
