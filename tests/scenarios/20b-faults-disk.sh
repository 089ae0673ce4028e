#!/usr/bin/env bash
# Scenario 20b: a full disk, damaged store files, and clocks that are
# wrong or jump.
#
#   old 192.0.2.205 ---- LAN ---- new 192.0.2.206
#
# 1. Full disk.  'new' joins with its home on a small ext4 image (mounted
#    in a mount namespace of the scenario's) that a ballast file fills:
#    'kith join' fails saying the disk is full and what to do; the store
#    passes PRAGMA integrity_check and 'kith history count' works; once
#    the ballast is removed, 'kith join' again resumes with exactly the
#    records that were missing.
# 2. Damage.  Copies of a home get kith.db truncated (to 0, to a page, to
#    half), bytes flipped in kith.db's pages, header and in device.key:
#    every command that reads the history refuses with an error that names
#    the damage; none prints a shorter history.
# 3. Clocks.  Under libfaketime: a device two days ahead and one a day
#    behind sync through their agents (--peer), and an agent whose clock
#    jumps back and forth while it syncs; every device ends with every
#    record.  A pairing code is refused when it has really expired on the
#    shower's clock, and tried by a joiner whose clock runs ahead.  Then
#    one agent's store is cut to half under it: its commands say so, and
#    the others go on syncing.
set -euo pipefail
. "$(dirname "$0")/../lib/kith.sh"
command -v mkfs.ext4 >/dev/null || { echo "SKIP: mkfs.ext4 missing"; exit 77; }
command -v sqlite3 >/dev/null || { echo "SKIP: sqlite3 missing"; exit 77; }
kith_setup
host_add old 192.0.2.205 --no-avahi
host_add new 192.0.2.206 --no-avahi
injected=0
survived=0
lost=0

db_check() {	# db_check FILE WHAT: PRAGMA integrity_check says ok
	local r
	r=$(${DB_WRAP-} sqlite3 "$1" "PRAGMA integrity_check" 2>&1) || true
	[ "$r" = ok ] || fail "$2: integrity_check of $1 says: $r"
}

total=30000
must kith_on old init --name old >/dev/null
"$TOOLS/genhist" $total 160 21 > "$HOSTS_TMP/src.jsonl"
must kith_on old history import "$HOSTS_TMP/src.jsonl" >/dev/null
kith_on old history export > "$HOSTS_TMP/old.export"
pass "old holds $total records ($(elapsed) s)"

# --- 1. a full disk ---------------------------------------------------------
VOL=$HOSTS_TMP/new/vol
mkdir -p "$VOL"
truncate -s 32M "$HOSTS_TMP/vol.img"
mkfs.ext4 -q -F -m 0 "$HOSTS_TMP/vol.img"
mountns_start new "$VOL"
holder=$MNTNS_PID
inns mount -o loop "$HOSTS_TMP/vol.img" "$VOL"
# Leave about 7 MB: the history needs about 9 (and its WAL as much again).
free_kb=$(inns df -k --output=avail "$VOL" | tail -1)
inns dd if=/dev/zero of="$VOL/ballast" bs=1k count=$((free_kb - 7168)) status=none 2>/dev/null || true
H=$VOL/kith
kv() { inns "$KITH" --home "$H" --passphrase-file "$PASSFILE" "$@"; }

pair_start old --timeout 900
injected=$((injected + 1))
if kv join "$PAIR_PNG" --name new > "$HOSTS_TMP/full.out" 2> "$HOSTS_TMP/full.err"; then
	fail "join succeeded on a full disk"
fi
cat "$HOSTS_TMP/full.err"
grep -Eiq "disk.*full|no space" "$HOSTS_TMP/full.err" ||
	fail "join on a full disk does not say the disk is full"
grep -Eiq "free|space|move|--home" "$HOSTS_TMP/full.err" ||
	fail "join on a full disk does not say what to do"
DB_WRAP=inns db_check "$H/kith.db" "after the disk filled up"
n1=$(kv history count) || fail "'kith history count' fails after the disk filled up"
[ "$n1" -lt $total ] || fail "the full disk held all $total records?"
grep -q "($n1 new records kept)" "$HOSTS_TMP/full.err" ||
	fail "join says it kept other than the $n1 records the store holds"
inns rm "$VOL/ballast"
out=$(kv --json join --name new) || { echo "$out" >&2; fail "join again after space was freed"; }
got=$(echo "$out" | sed -n 's/.*"received":\([0-9]*\).*/\1/p')
[ "$got" = $((total - n1)) ] || fail "with $n1 records held, the resumed join received $got, not $((total - n1))"
pair_wait || fail "'kith pair' did not end well"
kv history export | cmp -s - "$HOSTS_TMP/old.export" || fail "new's export differs from old's after the resume"
DB_WRAP=inns db_check "$H/kith.db" "after the resume"
survived=$((survived + 1))
pass "1. full disk: join stops with $n1 of $total records and says so; store intact; space freed, the resume adds exactly $got"

# --- 2. damaged files -------------------------------------------------------
SEED=${KITH_FAULT_SEED:-$(( $(date +%s%N) % 32768 ))}
RANDOM=$SEED
echo "SEED=$SEED (KITH_FAULT_SEED=$SEED replays the damage offsets)"
OH=$(kith_home old)
DB_SIZE=$(stat -c %s "$OH/kith.db")
KEY_SIZE=$(stat -c %s "$OH/device.key")
kd() { host_exec old "$KITH" --home "$HOSTS_TMP/dmg" --passphrase-file "$PASSFILE" "$@"; }
flip() {	# flip FILE OFFSET: xor one byte with a random non-zero value
	local b
	b=$(od -An -tu1 -j "$2" -N1 "$1" | tr -d ' ')
	printf "$(printf '\\%03o' $(( b ^ (RANDOM % 255 + 1) )))" |
		dd of="$1" bs=1 seek="$2" conv=notrunc status=none
}
# damage WHAT FILE_RE CMD...: damage a fresh copy of old's home with CMD
# (run in it); then export must fail naming FILE_RE, unless the damage
# fell where nothing is read (then the export must be old's, exactly),
# and never may an export succeed with other contents.
ndmg=0
undetected=0
damage() {
	local what=$1 re=$2 rc=0
	shift 2
	rm -rf "$HOSTS_TMP/dmg"
	cp -a "$OH" "$HOSTS_TMP/dmg"
	(cd "$HOSTS_TMP/dmg" && "$@")
	injected=$((injected + 1))
	ndmg=$((ndmg + 1))
	kd history export > "$HOSTS_TMP/dmg.export" 2> "$HOSTS_TMP/dmg.err" || rc=$?
	if [ "$rc" = 0 ]; then
		cmp -s "$HOSTS_TMP/dmg.export" "$HOSTS_TMP/old.export" ||
			fail "$what: export succeeded with another history ($(wc -l < "$HOSTS_TMP/dmg.export") lines)"
		[[ $re == *any ]] || fail "$what: not detected"
		undetected=$((undetected + 1))
		echo "  $what: fell where nothing is read; export identical"
	else
		grep -Eq "$re" "$HOSTS_TMP/dmg.err" ||
			{ cat "$HOSTS_TMP/dmg.err" >&2; fail "$what: the error does not say /$re/"; }
		echo "  $what: $(tail -1 "$HOSTS_TMP/dmg.err" | cut -c1-110)"
	fi
	survived=$((survived + 1))
}
DBRE='kith.db is damaged|could not be decrypted'
KEYRE='device.key is damaged'
damage "kith.db truncated to 0" 'kith.db is damaged' truncate -s 0 kith.db
damage "kith.db truncated to one page" 'kith.db is damaged' truncate -s 16384 kith.db
damage "kith.db truncated to half" 'kith.db is damaged' truncate -s $((DB_SIZE / 2)) kith.db
damage "kith.db cut by its last page" 'kith.db is damaged' truncate -s $((DB_SIZE - 16384)) kith.db
damage "kith.db removed" 'kith.db is damaged' rm kith.db
damage "kith.db header byte 19 (read format)" 'kith.db is damaged' flip kith.db 19
damage "kith.db header byte 16 (page size)" 'kith.db is damaged' flip kith.db 16
# A byte inside a record's box: authenticated, so that record fails.
off=$(python3 - "$OH/kith.db" <<'PY'
import sqlite3, sys
db = sqlite3.connect("file:%s?mode=ro" % sys.argv[1], uri=True)
box = db.execute("SELECT box FROM rec WHERE box IS NOT NULL LIMIT 1 OFFSET 12345").fetchone()[0]
data = open(sys.argv[1], "rb").read()
print(data.find(box[40:72]) + 5)
PY
)
[ "$off" -gt 5 ] || fail "cannot find a record's box in kith.db"
damage "a byte of one record's box" 'could not be decrypted' flip kith.db "$off"
grep -q "1 record(s) could not be decrypted" "$HOSTS_TMP/dmg.err" || fail "not one record counted as damaged"
for i in $(seq 1 12); do
	off=$(( (RANDOM * 32768 + RANDOM) % DB_SIZE ))
	damage "kith.db byte $off" "$DBRE|any" flip kith.db "$off"
done
damage "device.key emptied" "$KEYRE" truncate -s 0 device.key
damage "device.key cut to 100 bytes" "$KEYRE" truncate -s 100 device.key
damage "device.key removed" "$KEYRE" rm device.key
damage "device.key magic" "$KEYRE" flip device.key 3
damage "device.key public key" "$KEYRE" flip device.key $((8 + RANDOM % 64))
damage "device.key sealed part" "$KEYRE" flip device.key $((72 + RANDOM % (KEY_SIZE - 72)))
# The passphrase is still told apart from damage.
echo "not it" > "$HOSTS_TMP/wrong"
rm -rf "$HOSTS_TMP/dmg"; cp -a "$OH" "$HOSTS_TMP/dmg"
must_fail "wrong passphrase" host_exec old "$KITH" --home "$HOSTS_TMP/dmg" \
	--passphrase-file "$HOSTS_TMP/wrong" history export >/dev/null
# A record's rowid (its origin and seq) changed in a leaf page: every
# read still succeeds and the export is the same, but the record now sits
# at another seq, which sync would serve.  Only quick_check sees it.
rm -rf "$HOSTS_TMP/dmg"; cp -a "$OH" "$HOSTS_TMP/dmg"
off=$(python3 - "$HOSTS_TMP/dmg/kith.db" <<'PY'
import sqlite3, sys
path = sys.argv[1]
db = sqlite3.connect(path)
db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
psz = db.execute("PRAGMA page_size").fetchone()[0]
db.close()
data = bytearray(open(path, "rb").read())
def varint(b, o):
    v = 0
    for i in range(9):
        c = b[o + i]
        if i == 8:
            return (v << 8) | c, o + 9
        v = (v << 7) | (c & 0x7f)
        if c < 0x80:
            return v, o + i + 1
for pg in range(2, len(data) // psz):
    base = pg * psz
    if data[base] != 0x0d:
        continue
    ncell = int.from_bytes(data[base + 3:base + 5], "big")
    if ncell < 8:
        continue
    cp = int.from_bytes(data[base + 8 + 2 * 4:base + 10 + 2 * 4], "big")
    _, o = varint(data, base + cp)
    rowid, end = varint(data, o)
    if rowid >> 40 != 1 or end - o != 6:
        continue
    data[end - 1] ^= 0x20	# seq +- 32: out of order among its neighbours
    open(path, "r+b").write(data)
    print(end - 1)
    break
PY
)
[ -n "$off" ] || fail "no leaf page of records found in kith.db"
[ "$(sqlite3 "$HOSTS_TMP/dmg/kith.db" "PRAGMA quick_check" 2>&1 | head -1)" != ok ] ||
	fail "quick_check does not see the rowid changed at byte $off"
[ "$(sqlite3 "$HOSTS_TMP/dmg/kith.db" "SELECT count(*) FROM rec")" = $total ] ||
	fail "the rowid change at byte $off is not the silent kind"
injected=$((injected + 1))
must_fail "kith.db is damaged" kd history export
if host_exec old env KITH_PASSPHRASE_FILE="$PASSFILE" "$KITHD" --home "$HOSTS_TMP/dmg" \
	--foreground --no-mdns > "$HOSTS_TMP/kd.out" 2>&1; then
	fail "kithd started on a damaged store"
fi
grep -q "kith.db is damaged" "$HOSTS_TMP/kd.out" || { cat "$HOSTS_TMP/kd.out" >&2; fail "kithd does not say the store is damaged"; }
survived=$((survived + 1))
pass "2. $ndmg damaged copies of a home (kith.db cut, removed, header, a record, 12 random bytes; device.key 6 ways): each refused naming the file, or (for $undetected bytes in unused space) exported identical; never a shorter history; a record moved to another seq in its page (byte $off): export and kithd refuse it; a wrong passphrase is still told apart"

# --- 3. clocks ----------------------------------------------------------------
LIBFT=
for f in /usr/lib/*/faketime/libfaketime.so.1 /usr/lib/faketime/libfaketime.so.1; do
	[ -e "$f" ] && LIBFT=$f && break
done
if [ -z "$LIBFT" ]; then
	echo "note: libfaketime missing: part 3 skipped"
else
host_add ahead 192.0.2.207 --no-avahi
host_add behind 192.0.2.208 --no-avahi
# ASan wants to be the first library; libfaketime is preloaded before it.
# Monotonic time stays real: timers and timeouts run on it.
FTENV=(LD_PRELOAD="$LIBFT" FAKETIME_DONT_FAKE_MONOTONIC=1
	ASAN_OPTIONS="$ASAN_OPTIONS:verify_asan_link_order=0")
# kf HOST OFFSET ARGS: kith on HOST with its clock OFFSET away ("+2d").
kf() {
	local h=$1 o=$2
	shift 2
	host_exec "$h" env "${FTENV[@]}" FAKETIME="$o" "$KITH" --home "$(kith_home "$h")" \
		--passphrase-file "$PASSFILE" "$@"
}
[ "$(host_exec ahead env "${FTENV[@]}" FAKETIME=+2d date +%s)" -gt $(( $(date +%s) + 172000 )) ] ||
	fail "libfaketime does not move the clock"

# A joiner two days ahead: the code looks expired to it, the shower decides.
pair_start old --timeout 900
kf ahead +2d join "$PAIR_PNG" --name ahead > "$HOSTS_TMP/ahead.out" 2> "$HOSTS_TMP/ahead.err" ||
	{ cat "$HOSTS_TMP/ahead.err" >&2; fail "a joiner two days ahead could not join"; }
grep -q "By this device's clock the code expired" "$HOSTS_TMP/ahead.err" ||
	fail "the joiner ahead did not say the code looked expired"
pair_wait || fail "'kith pair' on old"
# A shower two days ahead, a joiner a day behind.
PAIR_PNG=$HOSTS_TMP/ahead/pair.png
pid=$(host_bg ahead env "${FTENV[@]}" FAKETIME=+2d "$KITH" --home "$(kith_home ahead)" \
	--passphrase-file "$PASSFILE" pair --json --yes --qr-png "$PAIR_PNG")
for ((i = 0; i < 100; i++)); do [ -s "$PAIR_PNG" ] && break; sleep 0.1; done
out=$(kf behind -1d --json join "$PAIR_PNG" --name behind) || { echo "$out" >&2; fail "the joiner a day behind"; }
[[ $out == *"\"records\":$total"* ]] || fail "behind: $out"
wait_gone() { local i; for ((i = 0; i < $2 * 20; i++)); do kill -0 "$1" 2>/dev/null || return 0; sleep 0.05; done; return 1; }
wait_gone "$pid" 10 || fail "'kith pair' on ahead did not end"
pass "3a. a joiner two days ahead joins (the shower's clock decides); a shower two days ahead serves a joiner a day behind"

# A code that has really expired, on the shower's clock: its clock jumps
# 20 minutes past a 5-minute code.
echo "+0" > "$HOSTS_TMP/old.ft"
PAIR_PNG=$HOSTS_TMP/old/pair-late.png
pid=$(host_bg old env "${FTENV[@]}" FAKETIME_TIMESTAMP_FILE="$HOSTS_TMP/old.ft" FAKETIME_NO_CACHE=1 \
	"$KITH" --home "$OH" --passphrase-file "$PASSFILE" pair --json --yes --timeout 300 --qr-png "$PAIR_PNG")
for ((i = 0; i < 100; i++)); do [ -s "$PAIR_PNG" ] && break; sleep 0.1; done
[ -s "$PAIR_PNG" ] || fail "no code from old"
echo "+20m" > "$HOSTS_TMP/old.ft"
injected=$((injected + 1))
must_fail "expired" kf new +20m join "$PAIR_PNG" --name late
must_fail "did not accept this code" host_exec new "$KITH" --home "$HOSTS_TMP/new/late2" \
	--passphrase-file "$PASSFILE" join "$PAIR_PNG" --name late2
kill -TERM "$pid" 2>/dev/null || true
wait_gone "$pid" 10 || fail "'kith pair' did not end on SIGTERM"
kith_on old devices | grep -q late && fail "a device joined with an expired code"
survived=$((survived + 1))
pass "3b. a code past its expiry on the shower's clock is refused (joiner's clock late or not); nobody enrolled"

# Sync between clocks two days apart, through their agents (--peer: the
# mDNS tags change every 15 minutes and admit one window of skew, §11.1).
ip_old=$(host_ip old) ip_ahead=$(host_ip ahead) ip_behind=$(host_ip behind)
echo "-1d" > "$HOSTS_TMP/behind.ft"
kithd_start old --no-mdns --port 4040 --peer "$ip_ahead:4040" --peer "$ip_behind:4040"
kithd_start ahead "${FTENV[@]}" FAKETIME=+2d --no-mdns --port 4040 \
	--peer "$ip_old:4040" --peer "$ip_behind:4040"
kithd_start behind "${FTENV[@]}" FAKETIME_TIMESTAMP_FILE="$HOSTS_TMP/behind.ft" FAKETIME_NO_CACHE=1 \
	--no-mdns --port 4040 --peer "$ip_old:4040" --peer "$ip_ahead:4040"
"$TOOLS/genhist" 300 200 2201 | kf ahead +2d history import - >/dev/null || fail "import on ahead"
"$TOOLS/genhist" 300 200 2202 | kf behind -1d history import - >/dev/null || fail "import on behind"
"$TOOLS/genhist" 300 200 2203 | kith_on old history import - >/dev/null || fail "import on old"
want=$((total + 900))
wait_same old ahead behind 120
[ "$(kith_count old)" = $want ] || fail "old holds $(kith_count old), not $want"
pass "3c. clocks two days ahead and a day behind: 300 new records on each reach all three ($want)"

# behind's clock jumps while records flow: back and forth by days.
"$TOOLS/genhist" 6000 200 2204 > "$HOSTS_TMP/late.jsonl"
kith_on old history import "$HOSTS_TMP/late.jsonl" >/dev/null &
imp=$!
jumps=0
for o in +3h -2d +1y -1d +10m -3d +0; do
	echo "$o" > "$HOSTS_TMP/behind.ft"
	jumps=$((jumps + 1))
	injected=$((injected + 1))
	"$TOOLS/genhist" 20 200 $((2300 + jumps)) |
		kf behind "$o" history import - >/dev/null || fail "import on behind at $o"
	sleep 0.7
done
wait "$imp" || fail "import on old"
want=$((want + 6000 + 20 * jumps))
wait_same old ahead behind 120
[ "$(kith_count behind)" = $want ] || fail "behind holds $(kith_count behind), not $want"
survived=$((survived + jumps))
pass "3d. behind's agent clock jumped $jumps times (+3h -2d +1y -1d +10m -3d +0) while 6000 records came from old and 140 from behind: all three hold the same $want"

# behind's store is cut to half under its running agent: its commands
# say so, and the damage does not reach the others, who go on syncing.
BH=$(kith_home behind)
truncate -s $(( $(stat -c %s "$BH/kith.db") / 2 )) "$BH/kith.db"
injected=$((injected + 1))
must_fail "kith.db is damaged" kith_on behind history export
"$TOOLS/genhist" 200 200 2400 | kith_on old history import - >/dev/null || fail "import on old"
want=$((want + 200))
wait_same old ahead 60
[ "$(kith_count ahead)" = $want ] || fail "ahead holds $(kith_count ahead), not $want"
kith_on old history export | cmp -s - <(kith_on ahead history export) || fail "old and ahead differ"
survived=$((survived + 1))
kithd_stop old
kithd_stop ahead
kithd_kill behind
kithd_check behind
pass "3e. behind's kith.db cut to half under its agent: its export refuses naming kith.db; old and ahead go on and agree on $want records"
fi

lost=0
echo "FIGURES: fault injections $injected, survived $survived, records lost $lost, seed $SEED, wall $(elapsed) s"
[ "$survived" = "$injected" ] || fail "$((injected - survived)) injections not survived"
pass "scenario 20b: $injected faults (full disk, damaged files, clocks), all survived, 0 records lost ($(elapsed) s)"
