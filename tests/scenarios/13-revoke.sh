#!/usr/bin/env bash
# Scenario 13: revoke a device while three are in sync.
#
#   a 192.0.2.131   b 192.0.2.132   c 192.0.2.133   d 192.0.2.134
#   (avahi on each, one bridge, kithd -v on a, b, c)
#
# 1. a, b, c hold one account and 40 records; their agents are all
#    connected.  d is enrolled under the name "b" too, so that the name is
#    ambiguous: 'kith revoke b' is refused, listing both.
# 2. A wrong passphrase changes nothing and says so.  'kith revoke c' on a
#    writes roster version 5, epoch 2.  b logs the revocation; c's agent
#    logs that a device refused it because it was revoked, and stops; c's
#    roster shows itself revoked.
# 3. Both a and b refuse c's keys at the handshake (a client speaking the
#    sync protocol with c's keys), with KK and with XK.
# 4. A record appended on a after the revocation reaches b and never c,
#    and with everything c holds it cannot be decrypted: every epoch-2
#    record of a's store is "no key" for c, every epoch-1 record opens.
# 5. 'kith passphrase' on a: b takes the new seal with roster 6; there the
#    old passphrase fails, even with the old seal put back, and the new one
#    works (b revokes d with it).
# 6. The agents stop cleanly.
set -euo pipefail
. "$(dirname "$0")/../lib/kith.sh"
kith_setup
host_add a 192.0.2.131
host_add b 192.0.2.132
host_add c 192.0.2.133
host_add d 192.0.2.134

# --- 1. three devices in sync ----------------------------------------------
kith_account a
"$TOOLS/genhist" 40 200 13 > "$HOSTS_TMP/base.jsonl"
must kith_on a history import "$HOSTS_TMP/base.jsonl" >/dev/null
kith_pair a b
kith_pair a c
for h in a b c; do kithd_start "$h"; done
wait_mesh a b c
pass "a, b, c in sync with 40 records ($(elapsed) s)"

pair_start a
out=$(kith_on d join "$PAIR_PNG" --name b 2>&1) || { echo "$out" >&2; fail "d could not join as 'b'"; }
pair_wait || fail "pairing d as 'b' did not end well"
out=$(must_fail "'b' names 2 devices" kith_on a revoke b 2>&1)
[ "$(grep -c '^  b  ' <<<"$out")" = 2 ] || fail "the two devices named b are not listed: $out"
kith_on a devices --json | grep -q '"roster_version":4' || fail "an ambiguous revoke changed the roster"
pass "'kith revoke b' refused as ambiguous, listing both devices named b"

# --- 2. revoke c from a -------------------------------------------------------
echo "not the passphrase" > "$HOSTS_TMP/wrong"
t0=$(date +%s%N)
must_fail "wrong passphrase; nothing was changed" \
	host_exec a "$KITH" --home "$(kith_home a)" --passphrase-file "$HOSTS_TMP/wrong" revoke c
t1=$(date +%s%N)
kith_on a devices --json | grep -q '"roster_version":4' || fail "a wrong passphrase changed the roster"
pass "wrong passphrase refused after $(( (t1 - t0) / 1000000 )) ms (Argon2id), roster unchanged"

out=$(kith_on a revoke c --json) || fail "kith revoke c failed: $out"
[[ $out == *'"roster_version":5'* && $out == *'"epoch":2'* ]] || fail "revoke said: $out"
wait_log b "device c \($(id8 c)\) revoked by a" 30
wait_log c "refused us: this device was revoked by a" 60
wait_log c "this device is not an active device of the account any more" 10
kith_on c devices --json > "$HOSTS_TMP/c.devices"
entry=$(grep -o "{[^{}]*\"id\":\"$(device_id c)\"[^{}]*}" "$HOSTS_TMP/c.devices")
[[ $entry == *'"status":"revoked"'* && $entry == *"\"revoked_by\":\"$(device_id a)\""* ]] ||
	fail "c does not show itself revoked by a: $entry"
for h in a b; do
	kith_on "$h" devices --json | grep -q '"roster_version":5' || fail "$h does not hold roster 5"
done
pass "c revoked: roster 5 on a and b, c told at the handshake and shows itself revoked by a"

# --- 3. both refuse c's keys ------------------------------------------------
cp "$(kith_home c)/kith.db" "$HOSTS_TMP/c-roster-src.db"
kith_on b devices --export "$HOSTS_TMP/r5" >/dev/null
for h in a b; do
	port=$(kithd_port "$h")
	peer=$(id8 "$h")
	out=$(host_exec c env KITH_PASSPHRASE_FILE="$PASSFILE" "$TOOLS/rosterpush" "$(kith_home c)" "$(host_ip "$h")" "$port" "$peer" "$HOSTS_TMP/r5" 2>&1 || true)
	[ "$out" = refused ] || fail "$h did not refuse c's keys with KK: $out"
	out=$(host_exec c env KITH_PASSPHRASE_FILE="$PASSFILE" "$TOOLS/rosterpush" "$(kith_home c)" "$(host_ip "$h")" "$port" "$peer" "$HOSTS_TMP/r5" --xk 2>&1 || true)
	[[ $out == connected*"got 37 "* ]] || fail "$h did not answer c's XK with REFUSE: $out"
	# REFUSE is the roster alone: no passphrase seal for a thief to attack.
	[[ $out == *"got 37 $(stat -c %s "$HOSTS_TMP/r5")"$'\n'* ]] || fail "REFUSE is not exactly the roster: $out"
	[[ $out != *"got 30 "* && $out != *"got 32 "* ]] || fail "$h sent c a HELLO or records: $out"
	wait_log "$h" "refused c \($(id8 c)\) at $(host_ip c):[0-9]+: revoked by a" 10
done
pass "a and b both refuse c: KK fails, XK gets REFUSE and nothing else"

# --- 4. what is written now never reaches c ---------------------------------
nc=$(kith_count c)
must kith_on a history add '{"service":"mail.example","id":"after-revoke","body":"c must not read this"}' >/dev/null
wait_count b 41 30
sleep 2
[ "$(kith_count c)" = "$nc" ] || fail "c's history changed after its revocation"
out=$(host_exec c env KITH_PASSPHRASE_FILE="$PASSFILE" "$TOOLS/tryopen" "$(kith_home c)" "$(kith_home a)/kith.db")
echo "$out"
grep -Eq '^epoch 2: opened 0, no key [1-9][0-9]*, failed 0$' <<<"$out" ||
	fail "c can open records of epoch 2, or there are none: $out"
grep -Eq '^epoch 1: opened 40, no key 0, failed 0$' <<<"$out" ||
	fail "the epoch-1 records are not all readable to c (test is broken?): $out"
out=$(host_exec b env KITH_PASSPHRASE_FILE="$PASSFILE" "$TOOLS/tryopen" "$(kith_home b)" "$(kith_home a)/kith.db")
grep -Eq '^epoch 2: opened [1-9][0-9]*, no key 0, failed 0$' <<<"$out" || fail "b cannot read epoch 2: $out"
must_fail "holds no key for the account's current history epoch" \
	kith_on c history add '{"service":"mail.example","id":"from-c","body":"x"}'
pass "the record written after the revocation reached b, not c; c holds no key for epoch 2, b does, and c cannot write"

# --- 5. a new passphrase reaches b through sync ------------------------------
seal() { sqlite3 "$(kith_home "$1")/kith.db" "SELECT hex(v) FROM meta WHERE k = 'sealed_pass'"; }
setseal() { sqlite3 "$(kith_home "$1")/kith.db" "UPDATE meta SET v = X'$2' WHERE k = 'sealed_pass'"; }
old_seal=$(seal b)
echo "a new passphrase, longer" > "$HOSTS_TMP/newpass"
out=$(kith_on a passphrase --new-passphrase-file "$HOSTS_TMP/newpass" --json) || fail "passphrase: $out"
[[ $out == *'"roster_version":6'* ]] || fail "passphrase said: $out"
wait_log b "roster version 6 from a \($(id8 a)\)" 30
new_seal=$(seal b)
[ -n "$new_seal" ] && [ "$new_seal" != "$old_seal" ] || fail "b did not take the new seal with roster 6"
# A copy of b from before the change still holds the old seal, which the
# old passphrase opens: with roster 6 there, it is refused all the same.
setseal b "$old_seal"
must_fail "holds an old seal of the account key" kith_on b revoke "$(id8 d)"
setseal b "$new_seal"
must_fail "wrong passphrase; nothing was changed" kith_on b revoke "$(id8 d)"
out=$(host_exec b "$KITH" --home "$(kith_home b)" --passphrase-file "$HOSTS_TMP/newpass" revoke "$(id8 d)" --json) ||
	fail "b could not revoke d with the new passphrase: $out"
[[ $out == *'"roster_version":7'* && $out == *'"epoch":3'* ]] || fail "revoke on b said: $out"
wait_log a "device b \($(id8 d)\) revoked by b \($(id8 b)\)" 30
pass "a changed the passphrase: on b the old one fails and the new one works (b revoked d: roster 7, epoch 3, a has it)"

kithd_stop a
kithd_stop b
kithd_stop c
pass "agents stopped cleanly ($(elapsed) s)"
