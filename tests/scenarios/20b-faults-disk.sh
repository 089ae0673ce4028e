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
#    record.  A pairing code is refused when it has really expired, and
#    accepted by a joiner whose clock is behind.
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
holder=$(host_bg new unshare -m --propagation private sleep 3600)
for ((i = 0; i < 50; i++)); do
	[ "$(readlink "/proc/$holder/ns/mnt")" != "$(readlink /proc/self/ns/mnt)" ] && break
	sleep 0.1
done
inns() { host_exec new nsenter -t "$holder" -m "$@"; }
VOL=$HOSTS_TMP/new/vol
mkdir -p "$VOL"
truncate -s 32M "$HOSTS_TMP/vol.img"
mkfs.ext4 -q -F -m 0 "$HOSTS_TMP/vol.img"
scen_cleanup() {
	local rc=$?
	if [ -n "${holder-}" ] && [ -d "/proc/$holder" ]; then
		nsenter -t "$holder" -m umount "$VOL" 2>/dev/null || true
	fi
	(exit "$rc")
	hosts_cleanup
}
trap scen_cleanup EXIT
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
