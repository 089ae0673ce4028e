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
#    Then the phone's agent restarts on the bad link: it must find, dial
#    and handshake with the laptop's across it, and take what it missed.
# 3. A flapping link, down 3 s in every 5 (4 Mbit/s, 0.3 s queue): the laptop takes
#    X more records, which the phone's agent syncs across it; then the
#    tablet joins.  Its first 'kith join' is cut for good (netem drops
#    everything) two thirds of the way, and must stop by itself saying the
#    transfer was cut, how much it kept and to run it again.  Back to
#    flapping, it is run again until it completes; any run may stop, with
#    a clear message, and keeps what it stored; the last receives exactly
#    what the tablet lacked (as counted by kith, and as seen in the bytes
#    on the wire).  Same history as the laptop's.  Then the tablet's agent
#    runs too, and records added on all three converge while the link
#    flaps.
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
BAD=(loss=10 delay=300 jitter=100 reorder=5 dup=5)
FLAP=(flap=3/5 rate=4000 limit=100)	# 100 frames: 0.3 s of queue
X=6000		# records added on the laptop before the flapping, for a longer join

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
if [ "$(netem_get c1 up lost)" != 0 ] || [ "$(netem_get c1 up duplicated)" != 0 ]; then
	fail "the clean link lost or duplicated frames"
fi
# What a record costs on the wire, from the laptop, in a first transfer.
per_rec=$(( ($(netem_get c1 up bytes_out) - $(netem_get c0 up bytes_out)) / N ))
pass "clean link: ref joined with $N records in $(secs "$t_clean") ($per_rec bytes a record on the wire)"
netem_delta c0 c1

# --- 1. pairing and first transfer over the bad link -------------------------
host_impair laptop "${BAD[@]}"
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
if [ "$lost" -le 0 ] || [ "$dups" -le 0 ]; then
	fail "the bad link did not drop and duplicate frames (lost $lost, duplicated $dups)"
fi
pass "bad link (${BAD[*]}): phone found the laptop by mDNS and joined with exactly $N records, same history, in $(secs "$t_bad") (clean: $(secs "$t_clean"))"
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

host_impair laptop "${BAD[@]}"
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

# The phone's agent starts again while the link is bad: it must find the
# laptop, dial and finish the handshake across it (the agents' dial and
# handshake timeouts), and take what was added meanwhile.
kithd_stop phone
add_on laptop 213
t0=$(date +%s%N)
kithd_start phone
wait_mesh laptop phone 90
t_meet_bad=$(ms_since "$t0")
converged laptop phone
t_back_bad=$(ms_since "$t0")
netem_mark b2
pass "bad link: the phone's agent restarted, met the laptop again in $(secs "$t_meet_bad") and had its $M new records in $(secs "$t_back_bad")"
grep -E "timed out|cannot connect" "$(kithd_log phone)" "$(kithd_log laptop)" | sed 's/^/  /' || true

# --- 3. a flapping link ------------------------------------------------------
# X more records on the laptop, for a longer transfer; the phone's agent
# takes them across the flapping link first.  The tablet's 'kith join'
# runs while the link flaps; once two thirds are across, the cable is cut
# for good (netem drops everything) until that run stops by itself, which
# must say that the transfer was cut, how many records it kept and what to
# do.  The link flaps again, and 'kith join' is run again until it
# completes (at most 8 runs).  Every run that stops must say so clearly and
# keep what it stored; the one that completes must receive exactly the
# records the tablet lacked, none twice.
host_impair laptop "${FLAP[@]}"
"$TOOLS/genhist" $X 200 20 > "$HOSTS_TMP/more.jsonl"
must kith_on laptop history import "$HOSTS_TMP/more.jsonl" >/dev/null
cat "$HOSTS_TMP/more.jsonl" >> "$HOSTS_TMP/all.jsonl"
total=$((N + 5 * M + X))

tcount() {	# the tablet's records (0 before its home exists)
	local n
	n=$(kith_count tablet)
	[ "$n" = -1 ] && n=0
	echo "$n"
}
jrun() {	# one 'kith join' run on the tablet, in the background
	host_bg tablet "$KITH" --home "$(kith_home tablet)" \
		--passphrase-file "$PASSFILE" --json join \
		${jimg:+"$jimg"} --name tablet >/dev/null
	JLOG=$(host_bg_log tablet)
	JRC=${JLOG%.log}.rc
}
jwait() {	# wait SEC for the run to end
	local i
	for ((i = 0; i < $1 * 10; i++)); do
		[ -s "$JRC" ] && return 0
		sleep 0.1
	done
	return 1
}
# stopped BEFORE: the run ended in failure; it must say what to do and
# keep what it stored (and say how much, if it says).  Sets the next code.
stopped() {
	local before=$1 msg now kept
	msg=$(tail -n 1 "$JLOG")
	echo "run $runs: $msg"
	echo "$msg" | grep -Eq "run 'kith (join|pair)'( there)? again|cannot reach the device that showed the code" ||
		{ cat "$JLOG"; fail "run $runs of 'kith join' stopped without saying what to do"; }
	now=$(tcount)
	[ "$now" -ge "$before" ] || fail "the tablet lost records ($before, then $now)"
	if [[ $msg =~ transfer\ was\ cut\ \(([0-9]+)\ new\ records\ kept\) ]]; then
		kept=${BASH_REMATCH[1]}
		[ "$kept" = $((now - before)) ] ||
			fail "run $runs says it kept $kept records; the tablet stored $((now - before))"
	fi
	if [[ $msg == *"'kith pair'"* ]]; then
		# The laptop's code is over: a new one, scanned again.
		pair_wait || true
		pair_start laptop
		jimg=$PAIR_PNG
	elif [[ $msg != *"cannot reach"* ]]; then
		jimg=	# resume, with the code the tablet kept
	fi
}

up_bytes() {
	host_impair_stats laptop | sed -n 's/^netem up: .* bytes_out=\([0-9]*\).*/\1/p'
}

t0=$(date +%s%N)
converged laptop phone
t_sync_more=$(ms_since "$t0")
pass "flapping link: the phone's agent took the laptop's $X new records in $(secs "$t_sync_more")"

netem_mark f0
b0=$(up_bytes)
t0=$(date +%s%N)
pair_start laptop
jimg=$PAIR_PNG runs=0 cut=0
while :; do
	runs=$((runs + 1))
	[ "$runs" -le 8 ] || fail "the tablet did not finish joining in 8 runs"
	before=$(tcount)
	brun=$(up_bytes)
	jrun
	if [ "$cut" = 0 ]; then
		# The tablet commits in large batches: progress is seen on
		# the wire, as bytes the laptop sent.
		for ((i = 0; i < 1200; i++)); do
			[ $(( $(up_bytes) - b0 )) -ge $((total * per_rec * 2 / 3)) ] && break
			[ ! -s "$JRC" ] || break
			sleep 0.05
		done
		if [ ! -s "$JRC" ]; then
			host_impair laptop loss=100
			cut=1
			echo "run $runs: cable cut after $(( $(up_bytes) - b0 )) bytes from the laptop"
			t_cut=$(date +%s%N)
			jwait 90 || fail "the tablet's join still runs 90 s after the cable was cut"
			t_stop=$(ms_since "$t_cut")
			[ "$(cat "$JRC")" != 0 ] || { cat "$JLOG"; fail "the join completed across a cut cable"; }
			tail -n 1 "$JLOG" | grep -q "the transfer was cut (" ||
				{ cat "$JLOG"; fail "the join stopped by the cut does not say the transfer was cut"; }
			host_impair laptop "${FLAP[@]}"
			stopped "$before"
			n=$(tcount)
			[ "$n" -gt 0 ] && [ "$n" -lt $total ] ||
				fail "the cut did not land mid-transfer: the tablet holds $n of $total"
			pass "cut cable: the tablet's join stopped $(secs "$t_stop") after the cut, saying so"
			sleep 1
			continue
		fi
	fi
	jwait 300 || fail "run $runs of 'kith join' still runs after 300 s"
	if [ "$(cat "$JRC")" = 0 ]; then
		[ "$cut" = 1 ] || fail "the join completed before the cut (make X larger)"
		r=$(sed -n 's/.*"received":\([0-9]*\).*/\1/p' "$JLOG")
		echo "run $runs: joined, $r records received (had $before)"
		[ "$r" = $((total - before)) ] ||
			fail "the last run received $r records, not the $((total - before)) the tablet lacked"
		# 'received' counts new records only: that nothing was sent
		# again is seen on the wire.  Halfway between sending what
		# was lacking and sending everything again, retransmissions
		# of the flapping link included.
		sent=$(( $(up_bytes) - brun ))
		echo "run $runs: the laptop sent $sent bytes; $((r * per_rec)) for $r records, $((total * per_rec)) for all $total"
		[ "$sent" -lt $(( (r + total) * per_rec / 2 )) ] ||
			fail "the last run cost $sent bytes from the laptop: records the tablet held were sent again"
		break
	fi
	stopped "$before"
	sleep 1
done
pair_wait || { cat "$PAIR_LOG"; fail "'kith pair' for the tablet did not end well"; }
t_flap=$(ms_since "$t0")
netem_mark f1
same_history laptop tablet
n=$(kith_count tablet)
[ "$n" = $total ] || fail "tablet holds $n, not $total"
[ "$(( $(netem_get f1 up flapped) - $(netem_get f0 up flapped) ))" -gt 0 ] ||
	fail "the link did not flap during the join"
pass "flapping link (${FLAP[*]}) and a cut: the tablet joined in $runs runs, $(secs "$t_flap") in all, $n records, each received once, same history"
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
echo "  first transfer of $N: clean $(secs "$t_clean"), bad $(secs "$t_bad")"
echo "  first transfer of $total, flapping and cut once: $(secs "$t_flap") in $runs runs (stopped $(secs "$t_stop") after the cut)"
echo "  agent restarted on the bad link: met again in $(secs "$t_meet_bad"), $M records in $(secs "$t_back_bad")"
echo "  sync of 2 x $M: clean $(secs "$t_sync_clean"), bad $(secs "$t_sync_bad"); while flapping: $X one way $(secs "$t_sync_more"), 3 x $M $(secs "$t_sync_flap")"
echo "  netem over the whole run:"
netem_delta c0 f2
pass "all done in $(elapsed) s"
