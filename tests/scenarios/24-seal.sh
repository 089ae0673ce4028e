#!/usr/bin/env bash
# Scenario 24: 'kith seal' / 'kith open' between two people, each with two
# devices, on real avahi in namespaces.
#
#   lan 192.0.2.0/24: a1 .241 and a2 .242 (Alice's laptop and phone, one
#   account), b1 .243 and b2 .244 (Bob's laptop and phone, one account),
#   c .245 (Carol, her own account); kithd on a1, a2, b1, b2
#
# 1. Each account's devices are paired first; then a1 and b1 exchange an
#    invitation over the LAN (found by mDNS), and a2 and b2 get the other's
#    card by sync.
# 2. A 1 GiB random file sealed on a1 for bob (--out), opened on b2 (--out):
#    same SHA-256; peak RSS of 'kith seal' and 'kith open' under 64 MiB
#    (ASan build), wall times and throughput printed ("FIGURES:").
# 3. A short text sealed both ways: b2 -> alice armoured on stdout, opened
#    on a1 and a2; a1 -> bob, opened on b1 and b2; the same bytes come out,
#    and 'open --json' names the sender as 'kith contacts --json' there
#    does (alias, fingerprint, account), verified, from the right device.
# 4. One byte flipped in the middle of an envelope, and an envelope cut
#    short: 'kith open --out' exits 3 and leaves neither the file nor a
#    temporary file (.NAME.kith-*).
# 5. 'kith open --out' of the 1 GiB envelope killed with SIGKILL halfway:
#    the file does not exist, and nothing else is left (the plaintext goes
#    to an unnamed O_TMPFILE file until it is whole and verified).
# 6. b1 revokes b2; b1 seals for alice, and a1's 'open --json' says
#    roster_updated (Bob's new roster kept); what a1 seals for bob then
#    opens on b1 and is refused on b2 (exit 3, not sealed for this device).
# 7. c becomes a contact of bob alone (invitation b1 <-> c over the LAN),
#    seals for bob (b1 opens it); the same envelope forwarded to a1 is
#    refused there (exit 3, not sealed for this device).
# 8. a1 creates the group "team" with bob; b1 opens the group envelope
#    (group stored, 'kith group list' shows it); a file sealed by a1 for
#    --group team opens on b1 with the same bytes; b2 (revoked) opens
#    neither the group envelope nor the file (exit 3).
set -euo pipefail
. "$(dirname "$0")/../lib/kith.sh"
kith_setup
host_add a1 192.0.2.241
host_add a2 192.0.2.242
host_add b1 192.0.2.243
host_add b2 192.0.2.244
host_add c 192.0.2.245

SVC=https://chat.example.org/g/seal
MAXRSS_KB=$((64 * 1024))
D=$HOSTS_TMP/desk		# where envelopes are handed over
mkdir -p "$D"

# A JSON member of a one-line document (dotted path, numbers index arrays).
jget() { python3 -c 'import json,sys; d=json.load(sys.stdin)
for k in sys.argv[1].split("."): d=d[int(k)] if k.isdigit() else d[k]
print(d)' "$1"; }
# The contact of HOST named ALIAS, as 'kith contacts --json' gives it:
# "FINGERPRINT ACCOUNT".
contact_of() {
	kith_on "$1" --json contacts | python3 -c '
import json, sys
c = [x for x in json.load(sys.stdin)["contacts"] if x["alias"] == sys.argv[1]]
assert len(c) == 1, c
print(c[0]["fingerprint"], c[0]["account"])' "$2"
}
# Wait until HOST holds a contact named ALIAS (by sync), or fail.
wait_contact() {
	local h=$1 alias=$2 i
	for ((i = 0; i < 300 * ${KITH_SLOW:-1}; i++)); do
		kith_on "$h" --json contacts 2>/dev/null | python3 -c '
import json, sys
sys.exit(0 if any(x["alias"] == sys.argv[1]
    for x in json.load(sys.stdin)["contacts"]) else 1)' "$alias" && return 0
		sleep 0.2
	done
	fail "$h never got the contact '$alias' by sync"
}
# No FILE and no temporary file of it (.FILE.kith-*) in its directory.
no_output() {
	local f=$1 left
	[ ! -e "$f" ] || fail "$2: $f exists"
	left=$(find "$(dirname "$f")" -maxdepth 1 -name ".$(basename "$f").kith-*" | head -5)
	[ -z "$left" ] || fail "$2: temporary file left behind: $left"
}
# kith on HOST, its exit status in RC (set -e does not end the scenario).
RC=0
try_on() {
	RC=0
	kith_on "$@" || RC=$?
}
# Check an 'open --json' document (file DOC) from HOST for what SENDER
# (its host) sealed as the contact ALIAS: the sender as 'kith contacts'
# on HOST names it, verified, the sending device, BYTES of plaintext.
check_opened() {
	local doc=$1 h=$2 sender=$3 alias=$4 bytes=$5 fp acct
	read -r fp acct < <(contact_of "$h" "$alias") || fail "$h: no contact $alias"
	python3 - "$doc" "$alias" "$fp" "$acct" "$sender" "$bytes" <<'EOF' ||
import json, sys
d = json.load(open(sys.argv[1]))
alias, fp, acct, dev, nbytes = sys.argv[2:7]
s = d["sender"]
want = {"ok": True, "kind": "data", "bytes": int(nbytes)}
for k, v in want.items():
	assert d[k] == v, "%s is %r, not %r" % (k, d[k], v)
for k, v in {"alias": alias, "fingerprint": fp, "account": acct,
    "device_name": dev, "verified": True, "how": "contact"}.items():
	assert s[k] == v, "sender.%s is %r, not %r" % (k, s[k], v)
EOF
		{ cat "$doc" >&2; fail "$h: 'open --json' of what $sender sealed does not name $alias ($fp) as kith contacts does"; }
}

# --- accounts: each paired before the invitation --------------------------------
kith_account a1
kith_pair a1 a2
kith_account b1
kith_pair b1 b2
kith_account c
for h in a1 a2 b1 b2; do kithd_start "$h"; done
wait_mesh a1 a2
wait_mesh b1 b2
pass "alice (a1, a2) and bob (b1, b2) each paired, agents in sync ($(elapsed) s)"

# --- 1. the invitation over the LAN; the other devices get it by sync ----------------
out=$(kith_on a1 --json invite create --service "$SVC" --alias alice \
	--qr-png "$D/inv.png" --no-hints) || fail "invite create: $out"
wait_log a1 "announcing an open invitation as [0-9a-f]{16}" 10
scan=$(kith_on b1 invite scan "$D/inv.png" --alias bob 2>&1) ||
	{ echo "$scan" >&2; fail "b1 could not scan the invitation"; }
grep -q "Answered over the network" <<<"$scan" || fail "no LAN answer: $scan"
wait_contact a2 bob
wait_contact b2 alice
read -r fp_bob acct_bob < <(contact_of a1 bob) || fail "a1 holds no contact bob"
read -r fp_alice acct_alice < <(contact_of b1 alice) || fail "b1 holds no contact alice"
[ "$(contact_of a2 bob)" = "$fp_bob $acct_bob" ] || fail "a2's bob differs from a1's"
[ "$(contact_of b2 alice)" = "$fp_alice $acct_alice" ] || fail "b2's alice differs from b1's"
[ "$acct_bob" = "$(kith_on b1 --json devices | jget account)" ] || fail "a1's bob is not b1's account"
[ "$acct_alice" = "$(kith_on a1 --json devices | jget account)" ] || fail "b1's alice is not a1's account"
pass "1. a1 and b1 exchanged cards over the LAN; a2 holds bob ($fp_bob), b2 holds alice ($fp_alice) by sync ($(elapsed) s)"

# --- 2. a 1 GiB file, a1 -> bob, opened on b2 -----------------------------------------
# measured HOST TAG ARGS...: kith ARGS on HOST, peak RSS (kB) and wall time
# (ms) to $HOSTS_TMP/TAG.kb and TAG.ms; exit status in RC.
# (KITH_METER=rss: tests/tools/rss even where GNU time is installed.)
if [ "${KITH_METER-}" != rss ] && /usr/bin/time -v true >/dev/null 2>&1; then
	METER=gnu-time
else
	echo "NOTE: peak RSS by $TOOLS/rss (GNU time, package 'time', absent or not asked for)" >&2
	METER=rss
fi
measured() {
	local h=$1 tag=$2 t0 t1 m=$HOSTS_TMP/$2.meter
	shift 2
	RC=0
	t0=$(date +%s%N)
	if [ "$METER" = gnu-time ]; then
		host_exec "$h" /usr/bin/time -v -o "$m" "$KITH" --home "$(kith_home "$h")" \
			--passphrase-file "$PASSFILE" "$@" || RC=$?
		sed -n 's/.*Maximum resident set size (kbytes): *\([0-9]*\).*/\1/p' "$m" >"$HOSTS_TMP/$tag.kb"
	else
		host_exec "$h" "$TOOLS/rss" "$m" "$KITH" --home "$(kith_home "$h")" \
			--passphrase-file "$PASSFILE" "$@" || RC=$?
		sed -n 's/.*maxrss_kb=\([0-9]*\).*/\1/p' "$m" >"$HOSTS_TMP/$tag.kb"
	fi
	t1=$(date +%s%N)
	echo $(( (t1 - t0) / 1000000 )) >"$HOSTS_TMP/$tag.ms"
	[ -s "$HOSTS_TMP/$tag.kb" ] || { cat "$m" >&2; fail "no peak RSS measured for $tag"; }
}
BIG=$HOSTS_TMP/big.bin
# 1 GiB, unless the disk cannot hold the input, the envelope and what
# opens (a machine of this workplace once had 287 MiB free): then a
# quarter of what is free, said plainly.
MIB=1024
avail_mib=$(( $(df -Pk "$HOSTS_TMP" | awk 'NR == 2 { print $4 }') / 1024 ))
if [ "$avail_mib" -lt $((4 * 1024 + 256)) ]; then
	MIB=$(( (avail_mib - 256) / 4 ))
	[ "$MIB" -ge 300 ] || hosts__skip "only $avail_mib MiB free in $HOSTS_TMP: too little to seal a large file"
	echo "NOTE: only $avail_mib MiB free: the large file is $MIB MiB, not 1 GiB"
fi
SIZE=$((MIB << 20))
head -c "$SIZE" /dev/urandom >"$BIG"
big_sum=$(sha256sum "$BIG" | cut -d' ' -f1)
measured a1 seal --json seal --to bob --out "$D/big.kseal" "$BIG" >"$HOSTS_TMP/seal.json"
[ "$RC" = 0 ] || fail "kith seal of $MIB MiB failed (exit $RC)"
python3 - "$HOSTS_TMP/seal.json" "$fp_bob" "$SIZE" <<'EOF' || { cat "$HOSTS_TMP/seal.json" >&2; fail "seal --json says something else"; }
import json, sys
d = json.load(open(sys.argv[1]))
assert d["ok"] is True and d["bytes"] == int(sys.argv[3]) and d["armour"] is False, d
assert d["self"] is True, d
r = d["recipients"]
assert len(r) == 1 and r[0]["alias"] == "bob" and r[0]["fingerprint"] == sys.argv[2], r
assert r[0]["key"] == "roster" and r[0]["devices"] == 2, r
EOF
env_bytes=$(stat -c %s "$D/big.kseal")
[ "$env_bytes" -gt "$SIZE" ] || fail "the envelope holds only $env_bytes bytes"
mkdir -p "$HOSTS_TMP/b2out"
measured b2 open --json open --out "$HOSTS_TMP/b2out/big.bin" "$D/big.kseal" >"$HOSTS_TMP/open.json"
[ "$RC" = 0 ] || fail "kith open of $MIB MiB on b2 failed (exit $RC)"
check_opened "$HOSTS_TMP/open.json" b2 a1 alice "$SIZE"
[ "$(sha256sum "$HOSTS_TMP/b2out/big.bin" | cut -d' ' -f1)" = "$big_sum" ] ||
	fail "b2 opened $MIB MiB that differ from what a1 sealed"
rm -f "$HOSTS_TMP/b2out/big.bin"
seal_kb=$(cat "$HOSTS_TMP/seal.kb")
open_kb=$(cat "$HOSTS_TMP/open.kb")
seal_ms=$(cat "$HOSTS_TMP/seal.ms")
open_ms=$(cat "$HOSTS_TMP/open.ms")
mbps() { awk -v ms="$1" -v mib="$MIB" 'BEGIN { printf "%.1f", mib / (ms / 1000) }'; }
FIG="seal $MIB MiB: $(awk -v m="$seal_ms" 'BEGIN{printf "%.1f", m/1000}') s, $(mbps "$seal_ms") MiB/s, peak RSS $((seal_kb / 1024)) MiB; open $MIB MiB: $(awk -v m="$open_ms" 'BEGIN{printf "%.1f", m/1000}') s, $(mbps "$open_ms") MiB/s, peak RSS $((open_kb / 1024)) MiB (ASan build, RSS by $METER; envelope $env_bytes bytes)"
echo "FIGURES: $FIG"
[ "$seal_kb" -le "$MAXRSS_KB" ] || fail "kith seal of $MIB MiB peaked at $seal_kb kB RSS (more than 64 MiB)"
[ "$open_kb" -le "$MAXRSS_KB" ] || fail "kith open of $MIB MiB peaked at $open_kb kB RSS (more than 64 MiB)"
pass "2. $MIB MiB sealed on a1 for bob, opened on b2 with the same SHA-256, both under 64 MiB RSS ($(elapsed) s)"

# --- 3. a short text, both ways --------------------------------------------------------
MSG=$HOSTS_TMP/msg.txt
printf 'Bob to Alice: the door code is 4711.\nSee you Thursday, ünïcödé and all.\n' >"$MSG"
msg_bytes=$(stat -c %s "$MSG")
kith_on b2 seal --to alice <"$MSG" >"$D/b2-alice.asc" 2>"$HOSTS_TMP/seal.err" ||
	{ cat "$HOSTS_TMP/seal.err" >&2; fail "b2 could not seal for alice"; }
head -1 "$D/b2-alice.asc" | grep -qx -- "-----BEGIN KITH SEALED MESSAGE-----" ||
	fail "b2's envelope is not armoured text: $(head -c 200 "$D/b2-alice.asc")"
tail -1 "$D/b2-alice.asc" | grep -qx -- "-----END KITH SEALED MESSAGE-----" || fail "armour does not end"
! grep -q "door code" "$D/b2-alice.asc" || fail "the plaintext shows in the envelope"
# a1 reads the envelope from a file, a2 from standard input.
for h in a1 a2; do
	arg=("$D/b2-alice.asc")
	[ "$h" = a2 ] && arg=()
	kith_on "$h" open ${arg[@]+"${arg[@]}"} <"$D/b2-alice.asc" >"$HOSTS_TMP/$h.msg" 2>"$HOSTS_TMP/$h.err" ||
		{ cat "$HOSTS_TMP/$h.err" >&2; fail "$h could not open what b2 sealed for alice"; }
	cmp -s "$MSG" "$HOSTS_TMP/$h.msg" || fail "$h opened other bytes than b2 sealed"
	read -r fp _ < <(contact_of "$h" bob)
	grep -q "sealed by bob ($fp), device 'b2'" "$HOSTS_TMP/$h.err" ||
		{ cat "$HOSTS_TMP/$h.err" >&2; fail "$h does not say who sealed it"; }
	kith_on "$h" --json open --out "$HOSTS_TMP/$h.msg2" "$D/b2-alice.asc" >"$HOSTS_TMP/$h.json" ||
		fail "$h: open --json --out failed"
	cmp -s "$MSG" "$HOSTS_TMP/$h.msg2" || fail "$h: --out holds other bytes"
	check_opened "$HOSTS_TMP/$h.json" "$h" b2 bob "$msg_bytes"
	[ "$(jget roster_updated <"$HOSTS_TMP/$h.json")" = False ] || fail "$h: roster_updated with the roster held"
done
printf 'Alice to Bob: noted, 4711.\n' >"$MSG"
msg_bytes=$(stat -c %s "$MSG")
kith_on a1 seal --to bob --out "$D/a1-bob.kseal" "$MSG" 2>"$HOSTS_TMP/seal.err" ||
	{ cat "$HOSTS_TMP/seal.err" >&2; fail "a1 could not seal for bob"; }
grep -q "sealed for bob ($fp_bob): 2 devices" "$HOSTS_TMP/seal.err" ||
	{ cat "$HOSTS_TMP/seal.err" >&2; fail "a1 does not say it sealed for bob's 2 devices"; }
for h in b1 b2; do
	kith_on "$h" --json open --out "$HOSTS_TMP/$h.msg" "$D/a1-bob.kseal" >"$HOSTS_TMP/$h.json" ||
		fail "$h could not open what a1 sealed for bob"
	cmp -s "$MSG" "$HOSTS_TMP/$h.msg" || fail "$h opened other bytes than a1 sealed"
	check_opened "$HOSTS_TMP/$h.json" "$h" a1 alice "$msg_bytes"
	[ "$(jget name <"$HOSTS_TMP/$h.json")" = msg.txt ] || fail "$h: the file name carried is not msg.txt"
done
pass "3. text sealed b2 -> alice (armour) opened on a1 and a2, a1 -> bob opened on b1 and b2; senders as kith contacts names them ($(elapsed) s)"

# --- 4. an altered envelope and a short one ---------------------------------------------
head -c 16M /dev/urandom >"$HOSTS_TMP/mid.bin"
must kith_on a1 seal --to bob --out "$D/mid.kseal" "$HOSTS_TMP/mid.bin" 2>/dev/null
size=$(stat -c %s "$D/mid.kseal")
cp "$D/mid.kseal" "$D/flipped.kseal"
python3 - "$D/flipped.kseal" <<'EOF'
import os, sys
with open(sys.argv[1], "r+b") as f:
	f.seek(os.path.getsize(sys.argv[1]) // 2)
	b = f.read(1)
	f.seek(-1, 1)
	f.write(bytes([b[0] ^ 0x01]))
EOF
head -c $((size / 2)) "$D/mid.kseal" >"$D/short.kseal"
mkdir -p "$HOSTS_TMP/b2out"
for bad in flipped short; do
	try_on b2 open --out "$HOSTS_TMP/b2out/$bad.bin" "$D/$bad.kseal" 2>"$HOSTS_TMP/$bad.err"
	[ "$RC" = 3 ] || { cat "$HOSTS_TMP/$bad.err" >&2; fail "open of the $bad envelope: exit $RC, want 3"; }
	no_output "$HOSTS_TMP/b2out/$bad.bin" "open of the $bad envelope"
done
grep -q "does not verify" "$HOSTS_TMP/flipped.err" || fail "flipped: $(cat "$HOSTS_TMP/flipped.err")"
grep -q "cut short" "$HOSTS_TMP/short.err" || fail "short: $(cat "$HOSTS_TMP/short.err")"
# The untouched one still opens, in the same directory.
must kith_on b2 open --out "$HOSTS_TMP/b2out/mid.bin" "$D/mid.kseal" 2>/dev/null
cmp -s "$HOSTS_TMP/mid.bin" "$HOSTS_TMP/b2out/mid.bin" || fail "the 16 MiB envelope opened to other bytes"
pass "4. one byte flipped, or cut short: exit 3, no output file and no temporary file ($(elapsed) s)"

# --- 5. SIGKILL halfway through 'open --out' of 1 GiB -----------------------------------
OUT=$HOSTS_TMP/b2out/killed.bin
pid=$(host_bg b2 "$KITH" --home "$(kith_home b2)" --passphrase-file "$PASSFILE" \
	open --out "$OUT" "$D/big.kseal")
[ "$(cat "/proc/$pid/comm" 2>/dev/null)" = kith ] || fail "the PID $pid is not kith's"
# A quarter of the way: once it has written SIZE / 4 (its write count
# in /proc).
wrote() { awk '/^wchar:/ { print $2 }' "/proc/$pid/io" 2>/dev/null || echo 0; }
for ((i = 0; i < 1200; i++)); do
	[ "$(wrote)" -ge $((SIZE / 4)) ] && break
	[ -d "/proc/$pid" ] || break
	sleep 0.05
done
done_mib=$(( $(wrote) >> 20 ))
[ "$done_mib" -ge $((MIB / 4)) ] || { cat "$(host_bg_log b2)" >&2; fail "'kith open' wrote only $done_mib MiB before it ended"; }
kill -KILL "$pid" 2>/dev/null || true
rcf=$(host_bg_log b2)
rcf=${rcf%.log}.rc
for ((i = 0; i < 100; i++)); do [ -s "$rcf" ] && break; sleep 0.1; done
rc=$(cat "$rcf" 2>/dev/null || echo "?")
[ "$rc" = 137 ] || fail "'kith open' ended with $rc before it was killed (done too fast?)"
[ ! -e "$OUT" ] || fail "$OUT exists after 'kith open' was killed"
# The plaintext was written to an unnamed file (O_TMPFILE): nothing is
# left.  Only a file system without O_TMPFILE gets a named one, 0600.
left=$(find "$HOSTS_TMP/b2out" -maxdepth 1 -name ".killed.bin.kith-*")
if python3 -c 'import os, sys; os.close(os.open(sys.argv[1], os.O_TMPFILE | os.O_WRONLY, 0o600))' \
	"$HOSTS_TMP/b2out" 2>/dev/null; then
	[ -z "$left" ] || fail "a temporary file was left where O_TMPFILE works: $left"
	killed="nothing left (unnamed temporary file)"
elif [ -z "$left" ]; then
	killed="no temporary file left"
else
	[ "$(wc -l <<<"$left")" = 1 ] || fail "several temporary files: $left"
	[[ $(basename "$left") =~ ^\.killed\.bin\.kith-[A-Za-z0-9]{6}$ ]] ||
		fail "temporary file $left is not named .killed.bin.kith-XXXXXX"
	mode=$(stat -c %a "$left")
	[ "$mode" = 600 ] || fail "temporary file $left has mode $mode, want 600"
	killed="temporary file $(basename "$left") left ($(( $(stat -c %s "$left") >> 20 )) MiB), mode 0600"
	rm -f "$left"
fi
pass "5. 'kith open --out' killed with SIGKILL after $done_mib MiB: no $OUT; $killed"
rm -f "$BIG"

# --- 6. bob revokes b2 ------------------------------------------------------------------
out=$(kith_on b1 --json revoke b2) || fail "kith revoke b2 on b1: $out"
v_bob=$(jget roster_version <<<"$out")
printf 'Bob: my phone was stolen; use the laptop.\n' >"$MSG"
must kith_on b1 seal --to alice --out "$D/b1-alice.kseal" "$MSG" 2>/dev/null
kith_on a1 --json open --out "$HOSTS_TMP/a1.revnote" "$D/b1-alice.kseal" >"$HOSTS_TMP/a1.json" ||
	fail "a1 could not open b1's note"
cmp -s "$MSG" "$HOSTS_TMP/a1.revnote" || fail "a1 opened other bytes than b1 sealed"
[ "$(jget roster_updated <"$HOSTS_TMP/a1.json")" = True ] ||
	{ cat "$HOSTS_TMP/a1.json" >&2; fail "a1 did not keep bob's new roster"; }
check_opened "$HOSTS_TMP/a1.json" a1 b1 bob "$(stat -c %s "$MSG")"
printf 'Alice: understood, this is for the laptop only.\n' >"$MSG"
out=$(kith_on a1 --json seal --to bob --out "$D/a1-bob2.kseal" "$MSG") || fail "a1 seal after revocation: $out"
[ "$(jget recipients.0.devices <<<"$out")" = 1 ] || fail "a1 still seals for ${out}"
[ "$(jget recipients.0.roster_version <<<"$out")" = "$v_bob" ] || fail "a1 seals with another roster than $v_bob: $out"
must kith_on b1 open --out "$HOSTS_TMP/b1.msg2" "$D/a1-bob2.kseal" 2>/dev/null
cmp -s "$MSG" "$HOSTS_TMP/b1.msg2" || fail "b1 opened other bytes"
try_on b2 open --out "$HOSTS_TMP/b2out/rev.bin" "$D/a1-bob2.kseal" 2>"$HOSTS_TMP/rev.err"
[ "$RC" = 3 ] || { cat "$HOSTS_TMP/rev.err" >&2; fail "b2 (revoked) opening a1's new envelope: exit $RC, want 3"; }
grep -q "not sealed for this device" "$HOSTS_TMP/rev.err" || fail "b2 says: $(cat "$HOSTS_TMP/rev.err")"
no_output "$HOSTS_TMP/b2out/rev.bin" "b2's refused open"
pass "6. b2 revoked (bob's roster $v_bob); a1 learned it from b1's envelope and seals for b1 alone: b2 refused with exit 3 ($(elapsed) s)"

# --- 7. a stranger's envelope forwarded ---------------------------------------------------
out=$(kith_on b1 --json invite create --service https://files.example.net --alias bob \
	--qr-png "$D/inv-c.png") || fail "b1 invite create: $out"
scan=$(kith_on c invite scan "$D/inv-c.png" --alias carol 2>&1) ||
	{ echo "$scan" >&2; fail "c could not scan b1's invitation"; }
grep -q "Answered over the network" <<<"$scan" || fail "no LAN answer for c: $scan"
printf 'Carol: for Bob only.\n' >"$MSG"
must kith_on c seal --to bob --out "$D/c-bob.kseal" "$MSG" 2>/dev/null
kith_on b1 --json open --out "$HOSTS_TMP/b1.carol" "$D/c-bob.kseal" >"$HOSTS_TMP/b1.json" ||
	fail "b1 could not open carol's envelope"
cmp -s "$MSG" "$HOSTS_TMP/b1.carol" || fail "b1 opened other bytes than c sealed"
check_opened "$HOSTS_TMP/b1.json" b1 c carol "$(stat -c %s "$MSG")"
try_on a1 open --out "$HOSTS_TMP/a1.carol" "$D/c-bob.kseal" 2>"$HOSTS_TMP/carol.err"
[ "$RC" = 3 ] || { cat "$HOSTS_TMP/carol.err" >&2; fail "a1 opening carol's envelope to bob: exit $RC, want 3"; }
grep -q "not sealed for this device" "$HOSTS_TMP/carol.err" || fail "a1 says: $(cat "$HOSTS_TMP/carol.err")"
no_output "$HOSTS_TMP/a1.carol" "a1's refused open"
! kith_on a1 --json contacts | grep -q carol || fail "a1 holds carol now"
pass "7. carol, bob's contact only: b1 opens her envelope, a1 is refused it with exit 3 ($(elapsed) s)"

# --- 8. a group -----------------------------------------------------------------------------
out=$(kith_on a1 --json group create team --member bob --out "$D/team.kseal") ||
	fail "group create: $out"
gid=$(jget group.id <<<"$out")
kith_on b1 --json open "$D/team.kseal" >"$HOSTS_TMP/b1.group.json" ||
	fail "b1 could not open the group envelope"
python3 - "$HOSTS_TMP/b1.group.json" "$gid" "$fp_alice" <<'EOF' ||
import json, sys
d = json.load(open(sys.argv[1]))
assert d["kind"] == "group", d
assert d["group"] == {"name": "team", "id": sys.argv[2], "stored": True}, d
assert d["sender"]["fingerprint"] == sys.argv[3] and d["sender"]["verified"], d
EOF
	{ cat "$HOSTS_TMP/b1.group.json" >&2; fail "b1's open of the group envelope says otherwise"; }
kith_on b1 --json group list | python3 -c '
import json, sys
g = [x for x in json.load(sys.stdin)["groups"] if x["name"] == "team"]
assert len(g) == 1 and g[0]["id"] == sys.argv[1], g
assert sorted(m["account"] for m in g[0]["members"]) == sorted(sys.argv[2:4]), g
assert g[0]["creator"] == sys.argv[2], g' "$gid" "$acct_alice" "$acct_bob" ||
	fail "b1's 'kith group list' has no group team of alice (creator) and bob"
head -c 300000 /dev/urandom >"$HOSTS_TMP/team.bin"
out=$(kith_on a1 --json seal --group team --out "$D/team-file.kseal" "$HOSTS_TMP/team.bin") ||
	fail "seal --group team: $out"
[ "$(jget group.id <<<"$out")" = "$gid" ] || fail "seal --group names another group: $out"
kith_on b1 --json open --out "$HOSTS_TMP/b1.team" "$D/team-file.kseal" >"$HOSTS_TMP/b1.json" ||
	fail "b1 could not open the file sealed for team"
cmp -s "$HOSTS_TMP/team.bin" "$HOSTS_TMP/b1.team" || fail "b1 opened other bytes than a1 sealed for team"
[ "$(jget group.name <"$HOSTS_TMP/b1.json")" = team ] || fail "b1's open does not name the group"
check_opened "$HOSTS_TMP/b1.json" b1 a1 alice 300000
for f in team team-file; do
	try_on b2 open --out "$HOSTS_TMP/b2out/$f.bin" "$D/$f.kseal" 2>"$HOSTS_TMP/$f.err"
	[ "$RC" = 3 ] || { cat "$HOSTS_TMP/$f.err" >&2; fail "b2 (revoked) opening $f.kseal: exit $RC, want 3"; }
	grep -q "not sealed for this device" "$HOSTS_TMP/$f.err" || fail "b2 says: $(cat "$HOSTS_TMP/$f.err")"
	no_output "$HOSTS_TMP/b2out/$f.bin" "b2's refused open of $f"
done
kith_on b2 --json group list | grep -q '"team"' && fail "b2 (revoked) holds the group team"
pass "8. group team: b1 got the key and opened a file sealed for it; b2 (revoked) opens neither (exit 3) ($(elapsed) s)"

for h in a1 a2 b1; do kithd_stop "$h"; done
kithd_check b2
pass "scenario 24: seal/open across two accounts of two devices each, 1 GiB, tampering, SIGKILL, revocation, a stranger, a group in $(elapsed) s; $FIG"
