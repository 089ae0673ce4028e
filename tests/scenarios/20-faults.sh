#!/usr/bin/env bash
# Scenario 20: kill -9 at points chosen at random, during first transfers
# and during backups; every cut resumes and nothing is lost or doubled.
#
#   old 192.0.2.201 (link shaped) ---- LAN ---- new 192.0.2.202
#
# 1. Transfers.  'old' holds TOTAL records.  New devices join it one after
#    another (each in its own home on 'new').  In every round either the
#    joiner ('kith join') or the shower ('kith pair') is killed with SIGKILL
#    after a random delay, which lands anywhere from the handshake to the
#    end of the stream; then the join is run again (with the same code
#    while its 'kith pair' lives, or the code of a new one).  After every kill both
#    stores pass PRAGMA integrity_check and the joiner holds no fewer
#    records than before.  The run that completes must be sent, and
#    store, exactly the records that device lacked (none sent twice); every device ends with old's export, and
#    the roster lists each device once.
# 2. Backups.  'kith backup --to' an ext4 image (loop-mounted in a mount
#    namespace of the scenario's) is killed at random delays, and so is
#    kithd's own backup child; each time the previous backup still
#    restores, and the next run completes (kithd's within 15 s, by itself,
#    also for a child started by a mount with nothing new to write).  The
#    last backup restores an export byte-identical to old's.
#
# KITH_FAULT_SEED=N replays a run; KITH_FAULT_KILLS sets the number of
# transfer kills (default 16) and KITH_FAULT_BKILLS that of backup kills
# (default 6).
set -euo pipefail
. "$(dirname "$0")/../lib/kith.sh"
command -v mkfs.ext4 >/dev/null || { echo "SKIP: mkfs.ext4 missing"; exit 77; }
command -v sqlite3 >/dev/null || { echo "SKIP: sqlite3 missing"; exit 77; }
SEED=${KITH_FAULT_SEED:-$(( $(date +%s%N) % 32768 ))}
RANDOM=$SEED
echo "SEED=$SEED (KITH_FAULT_SEED=$SEED replays the choice of kill points)"
KILLS=${KITH_FAULT_KILLS:-16}
BKILLS=${KITH_FAULT_BKILLS:-6}
kith_setup
host_add old 192.0.2.201 --no-avahi
host_add new 192.0.2.202 --no-avahi
total=30000
injected=0
survived=0

# A slow link, so that a transfer lasts a few seconds.
host_exec old tc qdisc add dev kveth0 root tbf rate 24mbit burst 32kb \
	latency 400ms || echo "note: no traffic shaping available"
must kith_on old init --name old >/dev/null
"$TOOLS/genhist" $total 160 20 > "$HOSTS_TMP/src.jsonl"
must kith_on old history import "$HOSTS_TMP/src.jsonl" >/dev/null
kith_on old history export > "$HOSTS_TMP/old.export"
pass "old holds $total records ($(elapsed) s)"

# kn HOME ARGS: kith on 'new' with that home.
kn() {
	local h=$1
	shift
	host_exec new "$KITH" --home "$h" --passphrase-file "$PASSFILE" "$@"
}

# Random number of milliseconds in [$1, $2].
rnd_ms() { echo $(( $1 + (RANDOM * 32768 + RANDOM) % ($2 - $1 + 1) )); }
msleep() { sleep "$(printf '%d.%03d' $(($1 / 1000)) $(($1 % 1000)))"; }

# Records in a home's store, read beside the running writer (WAL).
db_count() {
	[ -s "$1/kith.db" ] || { echo 0; return 0; }
	sqlite3 -readonly "file:$1/kith.db?mode=ro" \
		"SELECT count(*) FROM rec WHERE box IS NOT NULL" 2>/dev/null || echo -1
}

db_check() {	# db_check FILE WHAT: PRAGMA integrity_check says ok
	local r
	[ -s "$1" ] || return 0
	r=$(sqlite3 "$1" "PRAGMA integrity_check" 2>&1) || true
	[ "$r" = ok ] || fail "$2: integrity_check of $1 says: $r"
}

wait_gone() {	# wait_gone PID SEC
	local i
	for ((i = 0; i < $2 * 20; i++)); do
		kill -0 "$1" 2>/dev/null || return 0
		sleep 0.05
	done
	return 1
}

# --- 1. transfers ---------------------------------------------------------
pair_up=0
start_pair() {
	pair_start old --timeout 900
	pair_up=1
}
stop_pair() {	# the pair ends by itself once a device is done
	[ "$pair_up" = 1 ] || return 0
	pair_wait || { cat "$PAIR_LOG" >&2; fail "'kith pair' did not end well"; }
	pair_up=0
}

# check_done: the join of n$dev ended well, sent and storing exactly the
# records it lacked.
check_done() {
	wait_gone "$jpid" 10 || fail "the join of n$dev does not end"
	grep -q '"ok":true' "$jlog" || { cat "$jlog" >&2; fail "join of n$dev failed by itself"; }
	got=$(sed -n 's/.*"received":\([0-9]*\).*/\1/p' "$jlog")
	sent=$(sed -n 's/.*"sent":\([0-9]*\).*/\1/p' "$jlog")
	[ "$got" = $((total - have)) ] && [ "$sent" = "$got" ] ||
		fail "n$dev held $have of $total, was sent $sent records and stored $got; want $((total - have)) of each"
}

dev=0
home=
have=0
newdev() {
	dev=$((dev + 1))
	home=$HOSTS_TMP/new/d$dev
	have=0
}
newdev
# A first device joins uncut: how long a whole transfer takes here sets
# the range of the delays.
start_pair
t0=$(date +%s%N)
out=$(kn "$home" --json join "$PAIR_PNG" --name "n$dev") || { echo "$out" >&2; fail "n1 join"; }
full_ms=$(( ($(date +%s%N) - t0) / 1000000 ))
[[ $out == *"\"received\":$total,"* ]] || fail "n1: $out"
stop_pair
echo "a whole transfer of $total records takes $full_ms ms: kills land in 30..$full_ms ms"
newdev
t1=$(date +%s)
kills_j=0
kills_s=0
landed=()
while [ "$injected" -lt "$KILLS" ]; do
	[ "$pair_up" = 1 ] || start_pair
	# The shower dies in one round of three.
	victim=joiner
	[ $((RANDOM % 3)) = 0 ] && victim=shower
	delay=$(rnd_ms 30 "$full_ms")
	jpid=$(host_bg new "$KITH" --home "$home" --passphrase-file "$PASSFILE" \
		--json join "$PAIR_PNG" --name "n$dev")
	jlog=$(host_bg_log new)
	msleep "$delay"
	if ! kill -0 "$jpid" 2>/dev/null; then
		# Done before the kill: then it must have completed.
		check_done
		stop_pair
		echo "n$dev completed before the kill at ${delay} ms (received $got)"
		newdev
		continue
	fi
	injected=$((injected + 1))
	if [ $victim = joiner ]; then
		kill -9 "$jpid" 2>/dev/null || true	# (it may end meanwhile)
		kills_j=$((kills_j + 1))
	else
		if ! kill -9 "$PAIR_PID" 2>/dev/null; then
			# Gone: the join ended in the meantime, and well.
			check_done
			stop_pair
			injected=$((injected - 1))
			echo "n$dev completed just before the kill at ${delay} ms (received $got)"
			newdev
			continue
		fi
		kills_s=$((kills_s + 1))
		pair_up=0
	fi
	wait_gone "$jpid" 40 || fail "the joiner did not end after the $victim was killed"
	if [ $victim = shower ]; then
		wait_gone "$PAIR_PID" 10 || fail "killed shower still there"
		db_check "$(kith_home old)/kith.db" "old after kill -9"
	fi
	db_check "$home/kith.db" "n$dev after kill -9 of the $victim"
	n=$(db_count "$home")
	[ "$n" -ge "$have" ] || fail "n$dev held $have records, after the kill $n"
	[ "$n" -le $total ] || fail "n$dev holds $n records, more than $total"
	if [ $victim = joiner ] && [ "$n" = $total ]; then
		# Killed after its DONE: the shower is done and ends.
		for ((i = 0; i < 40; i++)); do
			[ -s "${PAIR_LOG%.log}.rc" ] && break
			sleep 0.05
		done
		[ -s "${PAIR_LOG%.log}.rc" ] && stop_pair
	fi
	landed+=("$victim@${delay}ms:$n")
	echo "kill -9 #$injected of the $victim after $delay ms: n$dev holds $n of $total"
	if grep -q '"ok":true' "$jlog"; then
		# The kill came after the join had ended: n$dev is complete.
		[ "$n" = $total ] || fail "n$dev said ok with $n records"
		survived=$((survived + 1))
		[ $victim = shower ] || stop_pair
		newdev
		continue
	fi
	have=$n
	survived=$((survived + 1))
done
# The last device: one more run, no kill.
[ "$pair_up" = 1 ] || start_pair
out=$(kn "$home" --json join "$PAIR_PNG" --name "n$dev") ||
	{ echo "$out" >&2; cat "$PAIR_LOG" >&2; fail "final join of n$dev"; }
got=$(echo "$out" | sed -n 's/.*"received":\([0-9]*\).*/\1/p')
sent=$(echo "$out" | sed -n 's/.*"sent":\([0-9]*\).*/\1/p')
[ "$got" = $((total - have)) ] && [ "$sent" = "$got" ] ||
	fail "n$dev resumed with $have of $total, was sent $sent and stored $got; want $((total - have)) of each"
stop_pair
t1=$(( $(date +%s) - t1 ))
lost=0
for ((d = 1; d <= dev; d++)); do
	h=$HOSTS_TMP/new/d$d
	kn "$h" history export > "$HOSTS_TMP/d$d.export" || fail "export of n$d"
	c=$(kn "$h" history count)
	[ "$c" = $total ] || { lost=$((lost + total - c)); fail "n$d holds $c records, not $total"; }
	cmp -s "$HOSTS_TMP/old.export" "$HOSTS_TMP/d$d.export" || fail "n$d's export differs from old's"
	db_check "$h/kith.db" "n$d at the end"
done
v=$(kith_on old devices --json | grep -o '"roster_version":[0-9]*')
[ "$v" = "\"roster_version\":$((dev + 1))" ] ||
	fail "old's roster is $v after $dev devices joined (a device enrolled twice?)"
nd=$(kith_on old devices --json | grep -o '"name":"n[0-9]*"' | sort | uniq -d | wc -l)
[ "$nd" = 0 ] || fail "a device name is listed twice"
echo "kill points (victim@delay:records held): ${landed[*]}"
pass "1. $injected kills ($kills_j joiner, $kills_s shower) over $dev new devices, all resumed; each holds old's $total records, export identical; roster version $((dev + 1)); ${t1} s"

# --- 2. backups -------------------------------------------------------------
ko() { inns "$KITH" --home "$(kith_home old)" --passphrase-file "$PASSFILE" "$@"; }
USB=$HOSTS_TMP/old/usb
mkdir -p "$USB"
truncate -s 256M "$HOSTS_TMP/usb.img"
mkfs.ext4 -q -F "$HOSTS_TMP/usb.img"
mountns_start old "$USB"
holder=$MNTNS_PID
inns mount -o loop "$HOSTS_TMP/usb.img" "$USB"
must ko backup --init "$USB" >/dev/null

# restore_check WHAT EXPORT: a restore of the medium into a new home gives
# exactly EXPORT.
nrest=0
restore_check() {
	local r
	nrest=$((nrest + 1))
	r=$HOSTS_TMP/old/r$nrest
	inns "$KITH" --home "$r" --passphrase-file "$PASSFILE" restore "$USB" >/dev/null ||
		fail "$1: restore"
	inns "$KITH" --home "$r" --passphrase-file "$PASSFILE" history export > "$r.export" ||
		fail "$1: export of the restored home"
	cmp -s "$2" "$r.export" || fail "$1: the restored export is not the one backed up ($(wc -l < "$r.export") lines, want $(wc -l < "$2"))"
	db_check "$r/kith.db" "$1: restored home"
}

t2=$(date +%s)
t0=$(date +%s%N)
must ko backup --to "$USB" >/dev/null
bk_ms=$(( ($(date +%s%N) - t0) / 1000000 ))
kith_on old history export > "$HOSTS_TMP/bk.export"
echo "a full backup of $total records takes $bk_ms ms"
restore_check "first backup" "$HOSTS_TMP/bk.export"
set_dir=$(inns sh -c "ls -d $USB/kith-backup/*/")

# Each round adds records, then cuts the backup of them (half of the
# kills are of 'kith backup --to', the other half of kithd's child).
bk_inj=0
round=0
while [ "$bk_inj" -lt $((BKILLS / 2)) ]; do
	round=$((round + 1))
	"$TOOLS/genhist" 6000 160 $((200 + round)) |
		kith_on old history import - >/dev/null || fail "import of round $round"
	delay=$(rnd_ms 10 $((bk_ms / 3)))
	bpid=$(host_bg old nsenter -t "$holder" -m "$KITH" --home "$(kith_home old)" \
		--passphrase-file "$PASSFILE" backup --to "$USB")
	blog=$(host_bg_log old)
	msleep "$delay"
	if ! kill -0 "$bpid" 2>/dev/null; then
		wait_gone "$bpid" 5 || true
		[ "$(cat "${blog%.log}.rc")" = 0 ] || { cat "$blog" >&2; fail "backup failed by itself"; }
		kith_on old history export > "$HOSTS_TMP/bk.export"
		echo "backup round $round completed before the kill at $delay ms"
		continue
	fi
	kill -9 "$bpid"
	wait_gone "$bpid" 10 || fail "killed backup still there"
	injected=$((injected + 1))
	bk_inj=$((bk_inj + 1))
	echo "kill -9 #$injected: 'kith backup --to' after $delay ms"
	# The medium holds the previous backup, whole, or the new one, whole.
	kith_on old history export > "$HOSTS_TMP/now.export"
	nrest=$((nrest + 1))
	r=$HOSTS_TMP/old/r$nrest
	inns "$KITH" --home "$r" --passphrase-file "$PASSFILE" restore "$USB" >/dev/null ||
		fail "restore after kill -9 of the backup"
	inns "$KITH" --home "$r" --passphrase-file "$PASSFILE" history export > "$r.export"
	if cmp -s "$r.export" "$HOSTS_TMP/now.export"; then
		echo "  (the new backup had been committed)"
	else
		cmp -s "$r.export" "$HOSTS_TMP/bk.export" ||
			fail "after kill -9 of the backup the medium restores neither the previous backup nor the new one"
	fi
	must ko backup --to "$USB" >/dev/null
	inns sh -c "ls -A $set_dir" | grep -q '^\.tmp-' && fail "a temporary file was left on the medium"
	kith_on old history export > "$HOSTS_TMP/bk.export"
	survived=$((survived + 1))
done

# after_log ERE MARK SEC: wait until a line matching ERE follows the
# last line matching MARK in old's kithd log.
after_log() {
	local i
	for ((i = 0; i < $3 * 10; i++)); do
		tac "$(kithd_log old)" | sed "/$(printf '%s' "$2" | sed 's/[/.]/\\&/g')/q" |
			grep -Eq -- "$1" && return 0
		sleep 0.1
	done
	return 1
}

# next_log LINES ERE SEC: print the first line of old's kithd log past
# its first LINES lines that matches ERE, waiting up to SEC for it.
next_log() {
	local i line
	for ((i = 0; i < $3 * 10; i++)); do
		line=$(tail -n +$(($1 + 1)) "$(kithd_log old)" | grep -E -m1 -- "$2") &&
			{ printf '%s\n' "$line"; return 0; }
		sleep 0.1
	done
	return 1
}

# kithd backs up by itself (every 2 s here); its 'kith backup' child is
# killed at a random delay after it starts.
KITHD_WRAP="nsenter -t $holder -m" kithd_start old KITHD_BACKUP_INTERVAL=2
while [ "$bk_inj" -lt "$BKILLS" ]; do
	round=$((round + 1))
	"$TOOLS/genhist" 6000 160 $((200 + round)) |
		kith_on old history import - >/dev/null || fail "import of round $round"
	# What kithd logs past this mark tells whether the kill landed: the
	# child may end, be reaped and be logged at any moment from here on
	# (a mark taken later missed an outcome logged just before it).
	mark=$(wc -l < "$(kithd_log old)")
	child=
	for ((i = 0; i < 600; i++)); do
		child=$(pgrep -P "$(kithd_pid old)" -x kith || true)
		[ -n "$child" ] && break
		sleep 0.02
	done
	[ -n "$child" ] || fail "kithd started no backup after new history"
	delay=$(rnd_ms 0 $((bk_ms / 4)))
	msleep "$delay"
	kill -0 "$child" 2>/dev/null || { echo "kithd's backup ended before the kill at $delay ms"; continue; }
	kill -9 "$child" 2>/dev/null || true	# it may have ended and been reaped
	outcome=$(next_log "$mark" "backup to $USB( failed|: backup [0-9]+|: up to date)" 10) ||
		fail "kithd logged neither the end nor the failure of its backup within 10 s of kill -9"
	case $outcome in
	*"backup to $USB failed"*) ;;
	*)
		echo "kithd's backup ended before the kill at $delay ms (${outcome##*: })"
		continue
		;;
	esac
	injected=$((injected + 1))
	bk_inj=$((bk_inj + 1))
	echo "kill -9 #$injected: kithd's backup child after $delay ms"
	# kithd reports the failure and backs up again by itself, after its
	# interval (2 s), not its 60 s period, even with no new history.
	n=$(kith_count old)
	# Then a backup of all n, or "up to date" when the killed child had
	# renamed its manifest into place just before it died.
	after_log "backup to $USB: (backup [0-9]+, [0-9]+ new records \(incremental\), $n in all|up to date)" \
		"backup to $USB failed" 15 ||
		fail "kithd did not back up the $n records within 15 s of its killed child"
	inns sh -c "ls -A $set_dir" | grep -q '^\.tmp-' && fail "a temporary file was left on the medium"
	survived=$((survived + 1))
done
# A child started by a mount, with nothing new to back up, killed: only
# kithd's retry after a killed child (its interval, not its 60 s period)
# brings the next look.
for ((i = 0; i < 300; i++)); do	# no backup under way
	pgrep -P "$(kithd_pid old)" -x kith >/dev/null || break
	sleep 0.1
done
inns umount "$USB"
mark=$(wc -l < "$(kithd_log old)")	# before the child can be logged
# (noatime: the same mount again would leave the mount table as it was)
inns mount -o loop,noatime "$HOSTS_TMP/usb.img" "$USB"
child=
for ((i = 0; i < 600; i++)); do
	child=$(pgrep -P "$(kithd_pid old)" -x kith || true)
	[ -n "$child" ] && break
	sleep 0.01
done
[ -n "$child" ] || fail "kithd started no backup when the medium came back"
kill -9 "$child" 2>/dev/null || true	# it may have ended and been reaped
outcome=$(next_log "$mark" "backup to $USB( failed|: backup [0-9]+|: up to date)" 10) ||
	fail "kithd logged neither the end nor the failure of its backup within 10 s of kill -9"
case $outcome in
*"backup to $USB failed"*)
	injected=$((injected + 1))
	bk_inj=$((bk_inj + 1))
	echo "kill -9 #$injected: kithd's backup child, started by a mount"
	after_log "backup to $USB: up to date" "backup to $USB failed" 15 ||
		fail "kithd did not look at $USB again within 15 s of its killed child"
	survived=$((survived + 1))
	;;
*) echo "kithd's backup started by the mount ended before the kill (${outcome##*: })" ;;
esac
kithd_stop old
kith_on old history export > "$HOSTS_TMP/bk.export"
must ko backup --to "$USB" >/dev/null
restore_check "the last backup" "$HOSTS_TMP/bk.export"
t2=$(( $(date +%s) - t2 ))
pass "2. $bk_inj kills of backups ($((BKILLS / 2)) of 'kith backup --to', $((bk_inj - BKILLS / 2)) of kithd's child): each time the medium restored a whole backup and the next run completed; the last restores byte-identical ($(wc -l < "$HOSTS_TMP/bk.export") records); ${t2} s"

lost=$(( lost + 0 ))
echo "FIGURES: fault injections $injected, survived $survived, records lost $lost, seed $SEED, wall $(elapsed) s"
[ "$survived" = "$injected" ] || fail "$((injected - survived)) injections not survived"
pass "scenario 20: $injected kills at random points (seed $SEED), all survived, 0 records lost ($(elapsed) s)"
