#!/usr/bin/env bash
# Scenario 19: pairing, first transfer and ongoing sync across a bad link.
#
#   laptop 192.0.2.191 --[netem]-- LAN --+-- phone  192.0.2.192
#                                        +-- tablet 192.0.2.193
#                                        +-- ref    192.0.2.194
#
# The laptop's link runs through tests/tools/netem (hosts.sh host_impair),
# which forwards its frames at the packet level, mDNS included, and impairs
# them in both directions; everything the laptop says or hears crosses it.
#
# 0. A clean link (through the tool, no impairment): ref joins the laptop's
#    account and its N records; the reference time.
# 1. "bad": 10% loss, 300 ms +-100 ms delay (so frames reorder), 5% sent
#    early, 5% duplicated, each way.  The phone finds the laptop by mDNS and
#    joins: the same history both sides, exactly N records.
# 2. Ongoing sync: the agents of laptop and phone run; M records are added
#    on each, first on the clean link (the reference), then on the bad one:
#    both converge to the union of what was imported, each record once.
# 3. A flapping link, down 3 s in every 5: the tablet joins.  'kith join'
#    either completes or stops with a clear message; run again, it resumes
#    and completes, and the records received over all its runs add up to
#    exactly N, with the same history as the laptop's.  Then the tablet's
#    agent runs too and records added on all three converge while the link
#    still flaps.
# Figures: time of each step, against the clean link, and what the tool
# did to the frames (lost, flapped, duplicated, early, out of order).
set -euo pipefail
. "$(dirname "$0")/../lib/kith.sh"
kith_setup
host_add laptop 192.0.2.191
host_add phone 192.0.2.192
host_add tablet 192.0.2.193
host_add ref 192.0.2.194

N=2000		# records of the first transfers, about 200 bytes each
M=150		# records added on each side during ongoing sync
BAD="loss=10 delay=300 jitter=100 reorder=5 dup=5"
FLAP="flap=3/5"

ms_since() { echo $(( ($(date +%s%N) - $1) / 1000000 )); }
secs() { printf '%d.%01d s' $(($1 / 1000)) $(($1 % 1000 / 100)); }

# netem_mark TAG: the tool's counters now, kept as $HOSTS_TMP/netem.TAG.
netem_mark() {
	host_impair_stats laptop > "$HOSTS_TMP/netem.$1" ||
		fail "no counters from the laptop's netem"
}
# netem_delta A B: what the tool did between marks A and B, each way.
netem_delta() {
	awk '
	FNR == 1 { f++ }
	{
		d = $2; sub(":", "", d)
		for (i = 3; i <= NF; i++) {
			split($i, kv, "=")
			v[f, d, kv[1]] = kv[2]
		}
		dirs[d] = 1
	}
	END {
		n = split("in out lost flapped duplicated early out_of_order overflow txerr", ks, " ")
		for (d in dirs) {
			s = "  " d ":"
			for (i = 1; i <= n; i++)
				s = s " " ks[i] "=" (v[2, d, ks[i]] - v[1, d, ks[i]])
			print s
		}
	}' "$HOSTS_TMP/netem.$1" "$HOSTS_TMP/netem.$2"
}
# netem_get TAG DIR KEY: one counter of a mark.
netem_get() {
	sed -n "s/^netem $2: .* $3=\([0-9]*\).*/\1/p" "$HOSTS_TMP/netem.$1"
}

must kith_on laptop init --name laptop >/dev/null
"$TOOLS/genhist" $N 200 19 > "$HOSTS_TMP/base.jsonl"
must kith_on laptop history import "$HOSTS_TMP/base.jsonl" >/dev/null
host_impair laptop
pass "laptop holds $N records; its link runs through netem ($(elapsed) s)"

# join HOST: 'kith pair' on the laptop, 'kith join' (mDNS) on HOST, timed
# into JOIN_MS; fails unless both end well with N records on HOST.
join() {
	local h=$1 t0 out
	t0=$(date +%s%N)
	pair_start laptop
	out=$(kith_on "$h" --json join "$PAIR_PNG" --name "$h" 2>&1) ||
		{ echo "$out"; cat "$PAIR_LOG"; fail "$h could not join"; }
	pair_wait || { cat "$PAIR_LOG"; fail "'kith pair' for $h did not end well"; }
	JOIN_MS=$(ms_since "$t0")
	[[ $out == *"\"received\":$N,"* ]] ||
		{ echo "$out"; fail "$h did not receive exactly $N records"; }
}

# --- 0. the clean reference --------------------------------------------------
netem_mark c0
join ref
t_clean=$JOIN_MS
netem_mark c1
same_history laptop ref
[ "$(kith_count ref)" = $N ] || fail "ref holds $(kith_count ref), not $N"
[ "$(netem_get c1 up lost)" = 0 ] && [ "$(netem_get c1 up duplicated)" = 0 ] ||
	fail "the clean link lost or duplicated frames"
pass "clean link: ref joined with $N records in $(secs "$t_clean")"
netem_delta c0 c1

# --- 1. pairing and first transfer over the bad link -------------------------
host_impair laptop $BAD
netem_mark a0
join phone
t_bad=$JOIN_MS
netem_mark a1
same_history laptop phone
[ "$(kith_count phone)" = $N ] || fail "phone holds $(kith_count phone), not $N"
grep -q '"roster_version":3' <(kith_on phone devices --json) ||
	fail "phone's roster is not version 3"
lost=$(( $(netem_get a1 up lost) - $(netem_get a0 up lost) ))
dups=$(( $(netem_get a1 up duplicated) - $(netem_get a0 up duplicated) ))
[ "$lost" -gt 0 ] && [ "$dups" -gt 0 ] ||
	fail "the bad link did not drop and duplicate frames (lost $lost, duplicated $dups)"
pass "bad link ($BAD): phone found the laptop by mDNS and joined with exactly $N records, same history, in $(secs "$t_bad") (clean: $(secs "$t_clean"))"
netem_delta a0 a1

# --- 2. ongoing sync ---------------------------------------------------------
# add_on HOST SEED: M new records on HOST, kept in $HOSTS_TMP/all.jsonl.
add_on() {
	"$TOOLS/genhist" $M 200 "$2" > "$HOSTS_TMP/add.$2.jsonl"
	must kith_on "$1" history import "$HOSTS_TMP/add.$2.jsonl" >/dev/null
	cat "$HOSTS_TMP/add.$2.jsonl" >> "$HOSTS_TMP/all.jsonl"
}
# converged HOST...: every HOST holds exactly the records imported so far.
converged() {
	wait_same "$@" 180
	LC_ALL=C sort "$HOSTS_TMP/all.jsonl" | cmp -s - "$HOSTS_TMP/same" ||
		fail "the common history of $* is not the records imported, each once"
}
cp "$HOSTS_TMP/base.jsonl" "$HOSTS_TMP/all.jsonl"

host_impair laptop
kithd_start laptop
kithd_start phone
wait_mesh laptop phone 60
t0=$(date +%s%N)
add_on laptop 201
add_on phone 202
converged laptop phone
t_sync_clean=$(ms_since "$t0")
pass "clean link: $M records added on each side converged in $(secs "$t_sync_clean")"

host_impair laptop $BAD
netem_mark b0
t0=$(date +%s%N)
add_on laptop 211
add_on phone 212
converged laptop phone
t_sync_bad=$(ms_since "$t0")
netem_mark b1
[ "$(kith_count laptop)" = $((N + 4 * M)) ] || fail "laptop holds $(kith_count laptop) records"
pass "bad link: $M records added on each side converged in $(secs "$t_sync_bad") (clean: $(secs "$t_sync_clean")); $((N + 4 * M)) records each, none twice"
netem_delta b0 b1

# --- 3. a flapping link ------------------------------------------------------
host_impair laptop $FLAP
netem_mark f0
t0=$(date +%s%N)
pair_start laptop
jimg=$PAIR_PNG
runs=0 got=0
while :; do
	runs=$((runs + 1))
	[ "$runs" -le 8 ] || fail "the tablet did not finish joining in 8 runs"
	had=$(kith_count tablet)
	[ "$had" != -1 ] || had=0
	if out=$(kith_on tablet --json join ${jimg:+"$jimg"} --name tablet 2>&1); then
		r=$(echo "$out" | sed -n 's/.*"received":\([0-9]*\).*/\1/p')
		got=$((got + r))
		echo "run $runs: joined, $r records received (had $had)"
		break
	fi
	# It stopped: it must say why and what to do, and keep what it has.
	echo "run $runs: $(echo "$out" | tail -n 1)"
	echo "$out" | grep -Eq "run 'kith (join|pair)' again" ||
		{ echo "$out"; fail "an interrupted join does not say what to do"; }
	now=$(kith_count tablet)
	[ "$now" -ge "$had" ] || fail "the tablet lost records ($had, then $now)"
	got=$((got + now - had))
	if echo "$out" | grep -q "run 'kith pair' again"; then
		# The laptop's code ran out: a new one, scanned again.
		pair_wait || true
		pair_start laptop
		jimg=$PAIR_PNG
	else
		jimg=	# resume with the code the tablet kept
	fi
	sleep 1
done
pair_wait || { cat "$PAIR_LOG"; fail "'kith pair' for the tablet did not end well"; }
t_flap=$(ms_since "$t0")
netem_mark f1
same_history laptop tablet
n=$(kith_count tablet)
[ "$n" = $((N + 4 * M)) ] || fail "tablet holds $n, not $((N + 4 * M))"
[ "$got" = "$n" ] || fail "the tablet's runs received $got records in all, for $n held: some came twice"
[ "$(( $(netem_get f1 up flapped) - $(netem_get f0 up flapped) ))" -gt 0 ] ||
	fail "the link did not flap during the join"
pass "flapping link ($FLAP): the tablet joined in $runs run(s), $(secs "$t_flap"), $n records, each received once, same history"
netem_delta f0 f1

kithd_start tablet
t0=$(date +%s%N)
add_on laptop 221
add_on phone 222
add_on tablet 223
converged laptop phone tablet
t_sync_flap=$(ms_since "$t0")
netem_mark f2
pass "flapping link: $M records added on each of three converged in $(secs "$t_sync_flap")"
netem_delta f1 f2

for h in laptop phone tablet; do kithd_stop "$h"; done

echo "figures (records of about 200 bytes; ASan build):"
echo "  first transfer of $N: clean $(secs "$t_clean"), bad $(secs "$t_bad"), flapping $(secs "$t_flap") ($runs run(s))"
echo "  sync of 2 x $M: clean $(secs "$t_sync_clean"), bad $(secs "$t_sync_bad"); 3 x $M while flapping $(secs "$t_sync_flap")"
echo "  netem over the whole run:"
netem_delta c0 f2
pass "all done in $(elapsed) s"
