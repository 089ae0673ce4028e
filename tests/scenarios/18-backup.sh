#!/usr/bin/env bash
# Scenario 18: history protected at rest, backed up by itself to a
# removable volume, restorable.
#
#   a 192.0.2.181  the device under test; its kithd runs in a mount
#                  namespace of the scenario's, where volumes come and go
#   b 192.0.2.182  a's second device (new records arrive from it by sync)
#   c 192.0.2.183  another person (a contact of a's, met by invitation)
#
# 0. Markers are planted in message bodies, subjects, service names and
#    contact names (an invitation answered by reply code).
# 1. Locked: a's kithd starts locked; with a wrong passphrase nothing
#    opens; 'kith unlock' opens it, then commands need no passphrase.
# (a) An ext4 image marked with 'kith backup --init' gets a full backup;
#    unmounted, 40 records written, mounted again while kithd runs: a
#    backup of exactly those 40 appears with no command.  b writes 25
#    records: the next backup adds exactly 25.
# (b) 'kith restore' (recovery code, and passphrase) into empty homes:
#    exports identical to a's.  A wrong passphrase restores nothing.
# (c) kill -9 of the backup writer and of kithd in the middle of a large
#    backup: the previous
#    backup restores exactly as it was; restarted, kithd completes the
#    backup and no temporary file is left.
# (KITHD_BACKUP_INTERVAL=3: new history is backed up 3 s apart, not 30.)
# (d) A 8 MiB volume fills up: a clear error (log, status, command), no
#    segment or temporary file left on it, the live store unchanged.
# (e) No marker in any file of a's and c's homes, of the volume, or of a
#    restored home (while a's export does hold every one).
set -euo pipefail
. "$(dirname "$0")/../lib/kith.sh"
command -v mkfs.ext4 >/dev/null || { echo "SKIP: mkfs.ext4 missing"; exit 77; }
kith_setup
host_add a 192.0.2.181
host_add b 192.0.2.182
host_add c 192.0.2.183

M_BODY=QZbodyMarker41
M_SUBJ=QZsubjectMarker42
M_SVC=qzservicemarker43
M_ALIAS=QZaliasMarker44
M_CONTACT=QZcontactMarker45
M_ISVC=qzinvitesvcmarker46

# --- the mount namespace and the volumes -----------------------------------
ka() { inns "$KITH" --home "$(kith_home a)" --passphrase-file "$PASSFILE" "$@"; }
USB=$HOSTS_TMP/a/usb
SMALL=$HOSTS_TMP/a/small
mkdir -p "$USB" "$SMALL"
truncate -s 384M "$HOSTS_TMP/usb.img"
truncate -s 8M "$HOSTS_TMP/small.img"
mkfs.ext4 -q -F "$HOSTS_TMP/usb.img"
mkfs.ext4 -q -F "$HOSTS_TMP/small.img"
mountns_start a "$USB" "$SMALL"
holder=$MNTNS_PID
mount_usb() { inns mount -o loop "$HOSTS_TMP/usb.img" "$USB"; }
umount_usb() {	# kithd may be writing there: retry, as a desktop would
	local i
	for ((i = 0; i < 100; i++)); do
		inns umount "$USB" 2>/dev/null && return 0
		sleep 0.1
	done
	fail "cannot unmount $USB"
}

# --- 0. accounts and markers -------------------------------------------------
kith_on a init --name a --json 2> "$HOSTS_TMP/init.err" >/dev/null || { cat "$HOSTS_TMP/init.err" >&2; fail "init"; }
sed -n 's/^Recovery code.*: \([A-Z2-7-]*\)$/\1/p' "$HOSTS_TMP/init.err" > "$HOSTS_TMP/code"
[ "$(wc -c < "$HOSTS_TMP/code")" = 40 ] || fail "no recovery code"
kith_pair a b
kith_account c
"$TOOLS/genhist" 2000 400 18 > "$HOSTS_TMP/base.jsonl"
must kith_on a history import "$HOSTS_TMP/base.jsonl" >/dev/null
must kith_on a history add --service "$M_SVC" --id m1 --subject "$M_SUBJ" --body "$M_BODY" >/dev/null
must kith_on a --json invite create --service "https://$M_ISVC.example/g" --alias "$M_ALIAS" \
	--qr-png "$HOSTS_TMP/inv.png" --no-hints >/dev/null
out=$(kith_on c invite scan "$HOSTS_TMP/inv.png" --alias "$M_CONTACT" --no-lan \
	--reply-png "$HOSTS_TMP/reply.png" 2>&1) || { echo "$out" >&2; fail "c could not scan a's invitation"; }
must kith_on a invite scan "$HOSTS_TMP/reply.png" >/dev/null
kith_on a contacts | grep -q "$M_CONTACT" || fail "a does not list c's card"
pass "markers planted in a body, a subject, a service name, contact names ($(elapsed) s)"

# --- 1. locked at start ------------------------------------------------------
KITHD_WRAP="nsenter -t $holder -m" kithd_start a KITH_PASSPHRASE_FILE= KITHD_BACKUP_INTERVAL=3
[ "$KITHD_PORT" = locked ] || fail "a's kithd did not start locked"
[ "$(kith_on a status --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["agent"]["locked"])')" = True ] ||
	fail "status does not say the agent is locked"
echo "not the passphrase" > "$HOSTS_TMP/wrong"
must_fail "wrong passphrase: this device stays locked" \
	host_exec a "$KITH" --home "$(kith_home a)" --passphrase-file "$HOSTS_TMP/wrong" history export
must_fail "not a terminal to ask on|passphrase" \
	host_exec a "$KITH" --home "$(kith_home a)" history export </dev/null
must kith_on a unlock >/dev/null
wait_log a "listening on port [0-9]+" 10
port=$(sed -n 's/.*listening on port \([0-9]*\).*/\1/p' "$(kithd_log a)" | head -1)
echo "$port" > "$HOSTS_TMP/a/kithd.port"
# Unlocked, kith commands borrow the agent's key: no passphrase asked.
host_exec a "$KITH" --home "$(kith_home a)" history export </dev/null > "$HOSTS_TMP/a.export0" ||
	fail "export without a passphrase while the agent is unlocked"
[ "$(wc -l < "$HOSTS_TMP/a.export0")" -ge 2001 ] || fail "short export"
kithd_start b
wait_mesh a b
pass "kithd starts locked, refuses a wrong passphrase, 'kith unlock' opens it; commands then need none"

# --- (a) automatic backups ---------------------------------------------------
mount_usb
ka backup --init "$USB" >/dev/null || fail "backup --init"
n0=$(kith_count a)
wait_log a "backup to $USB: backup 1, $n0 new records \(full\), $n0 in all" 15
umount_usb
# Written while the volume is away: the next mount takes them.
must kith_on a history import <("$TOOLS/genhist" 40 300 1817) >/dev/null
sleep 2
t0=$(date +%s%N)
mount_usb
wait_log a "backup to $USB: backup 2, 40 new records \(incremental\), $((n0 + 40)) in all" 15
t1=$(date +%s%N)
ms=$(( (t1 - t0) / 1000000 ))
must kith_on b history import <("$TOOLS/genhist" 25 300 1818) >/dev/null
wait_log a "backup to $USB: backup 3, 25 new records \(incremental\), $((n0 + 65)) in all" 30
set_dir=$(inns sh -c "ls -d $USB/kith-backup/*/")
nseg=$(inns sh -c "ls $set_dir | grep -c '^seg-'")
[ "$nseg" = 3 ] || fail "expected 3 segments, found $nseg"
kith_on a status --json | python3 -c '
import json, sys
b = json.load(sys.stdin)["backups"]
assert len(b) == 1 and b[0]["ok"] and b[0]["number"] == 3 and b[0]["records"] == 25, b
' || fail "kith status does not report backup 3"
pass "(a) marked: full backup of $n0; unmounted, 40 written, mounted: backup 2 adds the 40 ${ms} ms after the mount, no command; 25 from b by sync: backup 3 adds exactly 25"

# --- (b) restore --------------------------------------------------------------
kith_on a history export > "$HOSTS_TMP/a.export1"
R1=$HOSTS_TMP/a/r1
inns "$KITH" --home "$R1" restore "$USB" --code-file "$HOSTS_TMP/code" >/dev/null ||
	fail "restore with the recovery code"
inns "$KITH" --home "$R1" --passphrase-file "$PASSFILE" history export > "$HOSTS_TMP/r1.export"
cmp -s "$HOSTS_TMP/a.export1" "$HOSTS_TMP/r1.export" || fail "restored export differs from a's"
must_fail "wrong passphrase" inns "$KITH" --home "$HOSTS_TMP/a/r2" --passphrase-file "$HOSTS_TMP/wrong" restore "$USB"
[ ! -e "$HOSTS_TMP/a/r2/kith.db" ] || fail "a failed restore left a store"
inns "$KITH" --home "$HOSTS_TMP/a/r3" --passphrase-file "$PASSFILE" restore "$USB" >/dev/null ||
	fail "restore with the passphrase"
inns "$KITH" --home "$HOSTS_TMP/a/r3" --passphrase-file "$PASSFILE" history export |
	cmp -s - "$HOSTS_TMP/a.export1" || fail "restore with the passphrase: export differs"
[ "$(inns "$KITH" --home "$HOSTS_TMP/a/r3" history count)" = "$(kith_count a)" ] ||
	fail "restore with the passphrase: not every record (contacts, invitations)"
must_fail "already holds an account" inns "$KITH" --home "$R1" restore "$USB" --code-file "$HOSTS_TMP/code"
pass "(b) restore by recovery code and by passphrase: exports identical ($(wc -l < "$HOSTS_TMP/a.export1") lines), $(kith_count a) records with contacts; wrong passphrase: nothing"

# --- (b2) a set written by a device revoked since is passed over -------------
inns "$KITH" --home "$(kith_home b)" --passphrase-file "$PASSFILE" backup --to "$USB" >/dev/null ||
	fail "b could not back up to a's volume"
[ "$(inns sh -c "ls -d $USB/kith-backup/*/ | wc -l")" = 2 ] || fail "expected two sets (a's and b's)"
must kith_on a revoke b >/dev/null
wait_log a "backup to $USB: backup 4, 0 new records \(incremental\)" 30
# b's set made to look newest, as anyone who can write the medium could.
inns sh -c "touch $USB/kith-backup/*/man-*" 
for s in $(inns sh -c "ls $USB/kith-backup/" | grep -v TARGET); do
	[ "$USB/kith-backup/$s/" = "$set_dir" ] || bset=$s
done
inns sh -c "touch -d '+1 hour' $USB/kith-backup/$bset/man-*"
out=$(inns "$KITH" --home "$HOSTS_TMP/a/r5" --json restore "$USB" --code-file "$HOSTS_TMP/code") ||
	fail "restore with a revoked device's set on the medium: $out"
[[ $out == *'"device":"a"'* ]] || fail "restore took the set of revoked b: $out"
pass "(b2) b backs up to the same volume, then is revoked: restore takes a's set, though b's looks newer"

# --- (c) kill -9 in the middle of a backup -------------------------------------
"$TOOLS/genhist" 60000 1800 1819 > "$HOSTS_TMP/big.jsonl"
must kith_on a history import "$HOSTS_TMP/big.jsonl" >/dev/null &
imp=$!
inns sh -c "for i in \$(seq 1 6000); do ls -A $set_dir | grep -q '^\.tmp-seg' && exit 0; sleep 0.005; done; exit 1" ||
	fail "never saw the backup of the large import start"
# Power lost: the writer (kithd's 'kith backup' child) and kithd die.
writer=$(pgrep -P "$(kithd_pid a)" -x kith || true)
[ -n "$writer" ] || fail "no backup process under kithd"
kill -KILL "$writer"
kithd_kill a
wait "$imp" || fail "import"
inns sh -c "ls -A $set_dir" > "$HOSTS_TMP/after-kill"
grep -q '^\.tmp-seg' "$HOSTS_TMP/after-kill" || fail "the backup had ended before the kill (test too slow to catch it)"
grep -q '^man-00000005' "$HOSTS_TMP/after-kill" && fail "backup 5 was complete before the kill"
inns "$KITH" --home "$HOSTS_TMP/a/r4" restore "$USB" --code-file "$HOSTS_TMP/code" >/dev/null ||
	fail "restore after kill -9"
inns "$KITH" --home "$HOSTS_TMP/a/r4" --passphrase-file "$PASSFILE" history export > "$HOSTS_TMP/r4.export"
cmp -s "$HOSTS_TMP/a.export1" "$HOSTS_TMP/r4.export" || fail "after kill -9, the previous backup does not restore as it was"
KITHD_WRAP="nsenter -t $holder -m" kithd_start a KITHD_BACKUP_INTERVAL=3
nbig=$(kith_count a)
wait_log a "backup to $USB: backup 5, 60000 new records \(incremental\), $nbig in all" 60
inns sh -c "ls -a $set_dir" | grep -q '^\.tmp-' && fail "a temporary file was left after backup 5"
pass "(c) kill -9 mid-backup: backup 4 restores identical; restarted, backup 5 adds the 60000 and cleans up"

# --- (d) a volume that fills up ------------------------------------------------
kith_on a history export > "$HOSTS_TMP/a.export-pre-d"
inns mount -o loop "$HOSTS_TMP/small.img" "$SMALL"
ka backup --init "$SMALL" >/dev/null || fail "backup --init small"
wait_log a "backup to $SMALL failed: the backup medium is full" 30
left=$(inns sh -c "find $SMALL/kith-backup -name '*.kbs' -o -name '.tmp-*'")
[ -z "$left" ] || fail "the full volume holds: $left"
must_fail "the backup medium is full: free some space" ka backup --to "$SMALL"
kith_on a status | grep -q "backup:   $SMALL: FAILED at .*full" || fail "status does not show the failure"
kith_on a history export > "$HOSTS_TMP/a.export2"
cmp -s "$HOSTS_TMP/a.export-pre-d" "$HOSTS_TMP/a.export2" && [ "$(kith_count a)" = "$nbig" ] ||
	fail "the live store changed"
ka backup --to "$USB" | grep -q "up to date" || fail "the good volume is not up to date"
pass "(d) an 8 MiB volume: 'medium is full' in the log, status and command; nothing left on it; live store intact"

# --- (e) markers ---------------------------------------------------------------
for m in "$M_BODY" "$M_SUBJ" "$M_SVC" "$M_ALIAS" "$M_CONTACT" "$M_ISVC"; do
	grep -q "$m" "$HOSTS_TMP/a.export2" "$HOSTS_TMP/a.export0" <(kith_on a contacts) <(kith_on c contacts) \
		<(kith_on a invite list) ||
		fail "marker $m is not in a's history (the scan below would prove nothing)"
done
kithd_stop a
kithd_stop b
scanned=$( { find "$(kith_home a)" "$(kith_home c)" "$R1" -type f; inns find "$USB" "$SMALL" -type f; } | wc -l)
for m in "$M_BODY" "$M_SUBJ" "$M_SVC" "$M_ALIAS" "$M_CONTACT" "$M_ISVC"; do
	if grep -r -a -l -i "$m" "$(kith_home a)" "$(kith_home c)" "$R1"; then fail "marker $m found at rest"; fi
	if inns grep -r -a -l -i "$m" "$USB" "$SMALL"; then fail "marker $m found on a volume"; fi
done
pass "(e) none of 6 markers in $scanned files of two homes, a restored home and both volumes ($(elapsed) s)"
