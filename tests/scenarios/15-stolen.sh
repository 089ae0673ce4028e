#!/usr/bin/env bash
# Scenario 15: a thief with a copy of a device's home, without the account
# passphrase, tries to take the account over.
#
#   a 192.0.2.151   b 192.0.2.152   c 192.0.2.153   (the owner's devices)
#   t 192.0.2.154   (the thief, holding a copy of b's home)
#   x 192.0.2.155   (the thief's own new device)
#
# 1. a creates the account and enrols b (roster 2); the thief copies b's
#    home now; then a enrols c (roster 3).  a, b, c run their agents.
# 2. Powered off, the copy reveals nothing: every command needs the
#    passphrase.  Unlocked (the owner's agent runs on t), the thief still
#    cannot enrol: 'kith pair' on t with a guessed passphrase, x scanning its code:
#    both end with an error saying the passphrase was wrong.  Without any
#    passphrase and no terminal, kith says how to give one.
# 3. Revoke: 'kith revoke a' on t fails: wrong passphrase.
# 4. Old roster: t speaks the sync protocol with b's keys to a and to c and
#    pushes roster 2 (older): both log it as older and ignored.  A forged
#    roster 3 (c marked revoked, signature kept) does not verify: both log
#    it and close the session.
# 5. Nothing changed on a, b, c: roster 3, same hash, c active, same
#    history; x holds no account.
set -euo pipefail
. "$(dirname "$0")/../lib/kith.sh"
kith_setup
host_add a 192.0.2.151
host_add b 192.0.2.152
host_add c 192.0.2.153
host_add t 192.0.2.154
host_add x 192.0.2.155

# --- 1. the account, and the copy -------------------------------------------
kith_account a
"$TOOLS/genhist" 30 200 15 > "$HOSTS_TMP/base.jsonl"
must kith_on a history import "$HOSTS_TMP/base.jsonl" >/dev/null
kith_pair a b
kith_on b devices --export "$HOSTS_TMP/roster2" >/dev/null
mkdir -p "$HOSTS_TMP/t"
cp -a "$(kith_home b)" "$(kith_home t)"
kith_pair a c
for h in a b c; do kithd_start "$h"; done
wait_mesh a b c
snapshot() {	# what must not change
	local h
	for h in a b c; do
		kith_on "$h" devices --json | grep -o '"roster_hash":"[0-9a-f]*"'
		kith_on "$h" history export | sha256sum
	done
}
snapshot > "$HOSTS_TMP/before"
grep -c roster_hash "$HOSTS_TMP/before" | grep -qx 3 || fail "snapshot incomplete"
pass "a, b, c in sync at roster 3; the thief holds b's home as of roster 2 ($(elapsed) s)"

# --- 2. enrol a device of the thief's ------------------------------------------
echo "password123" > "$HOSTS_TMP/guess"
# Powered off, the copy opens nothing: device.key is sealed.
must_fail "wrong passphrase: this device stays locked" \
	host_exec t "$KITH" --home "$(kith_home t)" --passphrase-file "$HOSTS_TMP/guess" history export
# Stolen while unlocked: the owner had unlocked its agent; the thief uses
# it (and the device keys it holds) from here on.
kithd_start t --no-mdns
png=$HOSTS_TMP/t/pair.png
ppid=$(host_bg t "$KITH" --home "$(kith_home t)" --passphrase-file "$HOSTS_TMP/guess" \
	pair --json --yes --qr-png "$png")
plog=$(host_bg_log t)
for ((i = 0; i < 100; i++)); do [ -s "$png" ] && break; sleep 0.1; done
[ -s "$png" ] || fail "kith pair on t did not show a code"
must_fail "passphrase was not given correctly on the other device" kith_on x join "$png" --name x
for ((i = 0; i < 100; i++)); do [ -s "${plog%.log}.rc" ] && break; sleep 0.1; done
[ "$(cat "${plog%.log}.rc")" != 0 ] || fail "kith pair on t succeeded"
grep -q "wrong account passphrase" "$plog" || { cat "$plog" >&2; fail "kith pair on t did not say the passphrase was wrong"; }
[ -z "$(ls "$(kith_home x)"/kith.db 2>/dev/null)" ] || ! kith_on x devices >/dev/null 2>&1 ||
	fail "x holds an account"
must_fail "not a terminal to ask on: give it with --passphrase-file FILE" \
	host_exec t env -u KITH_PASSPHRASE_FILE "$KITH" --home "$(kith_home t)" revoke a </dev/null
pass "enrolment from the copy refused on both sides: wrong passphrase ($ppid)"

# --- 3. revoke the owner's devices -------------------------------------------
# (The copy, of roster 2, knows a and b only.)
must_fail "wrong passphrase; nothing was changed" \
	host_exec t "$KITH" --home "$(kith_home t)" --passphrase-file "$HOSTS_TMP/guess" revoke a
pass "revoking a from the copy refused: wrong passphrase"

# --- 4. push an old roster, and a forged one ---------------------------------
# b's own agent stops: with it running, a or c may keep their session with
# the real b and close the thief's (both are "b"; the lower initiator key
# decides), before the thief's roster is read.
kithd_stop b
# The copy does not list c: its Noise key is in roster 3, which is public.
kith_on a devices --export "$HOSTS_TMP/roster3" >/dev/null
kx_c=$(python3 -c 'import sys; b=open(sys.argv[1],"rb").read(); i=b.find(bytes.fromhex(sys.argv[2])); print(b[i+32:i+64].hex())' \
	"$HOSTS_TMP/roster3" "$(device_id c)")
target() { if [ "$1" = c ]; then echo "kx:$kx_c"; else id8 "$1"; fi; }
for h in a c; do
	out=$(host_exec t env KITH_PASSPHRASE_FILE="$PASSFILE" "$TOOLS/rosterpush" "$(kith_home t)" "$(host_ip "$h")" \
		"$(kithd_port "$h")" "$(target "$h")" "$HOSTS_TMP/roster2" 2>&1 || true)
	[[ $out == connected* ]] || fail "t could not connect to $h as b (test broken?): $out"
	wait_log "$h" "b \($(id8 b)\) sent roster version 2, older than ours \(3\): ignored" 10
done
pass "roster 2 pushed with b's keys: a and c ignore it as older"

# Roster 3 with c marked revoked (and its grant taken out, so that the
# format holds), under a higher version: only the signature is wrong.
python3 - "$HOSTS_TMP/roster3" "$HOSTS_TMP/forged" "$(device_id c)" <<'EOF'
import sys
b = bytearray(open(sys.argv[1], 'rb').read())
c = bytes.fromhex(sys.argv[3])
i = b.find(c)
assert i > 0 and b[i + 64] == 1
b[i + 64] = 2                               # c: revoked
gs = len(b) - 64 - 3 * 112                  # three grants: a, b, c
assert int.from_bytes(b[gs - 2:gs], 'big') == 3
j = b.find(c, gs)
assert j >= gs
del b[j:j + 112]
b[gs - 2:gs] = (2).to_bytes(2, 'big')
b[5:13] = (9).to_bytes(8, 'big')            # version 9
open(sys.argv[2], 'wb').write(bytes(b))
EOF
must_fail "does not verify" host_exec a "$KITH" --home "$(kith_home a)" roster verify "$HOSTS_TMP/forged"
for h in a c; do
	out=$(host_exec t env KITH_PASSPHRASE_FILE="$PASSFILE" "$TOOLS/rosterpush" "$(kith_home t)" "$(host_ip "$h")" \
		"$(kithd_port "$h")" "$(target "$h")" "$HOSTS_TMP/forged" 2>&1 || true)
	[[ $out == connected* ]] || fail "t could not connect to $h: $out"
	wait_log "$h" "b \($(id8 b)\) sent a roster that does not verify: ignored" 10
done
pass "a forged roster 9 (c revoked) does not verify: refused by a and c"

# --- 5. nothing changed ------------------------------------------------------
sleep 1
snapshot > "$HOSTS_TMP/after"
cmp -s "$HOSTS_TMP/before" "$HOSTS_TMP/after" || { diff "$HOSTS_TMP/before" "$HOSTS_TMP/after" >&2; fail "something changed on a, b or c"; }
for h in a b c; do
	kith_on "$h" devices --json | grep -o "{[^{}]*\"id\":\"$(device_id c)\"[^{}]*}" | grep -q '"status":"active"' ||
		fail "$h does not list c as active"
done
kithd_stop a
kithd_stop c
kithd_stop t
pass "rosters (same hash), histories and c's status unchanged on a, b, c ($(elapsed) s)"
