#!/usr/bin/env bash
# Scenario 14: revoke a device while another is away; the one that comes
# back learns of it before it syncs anything.
#
#   a 192.0.2.141   b 192.0.2.142   c 192.0.2.143
#   (avahi on each, one bridge)
#
# 1. a, b, c hold one account and 20 records, in sync.  The agents of b and
#    c stop (away); b writes one record while away.
# 2. On a, 'kith revoke c' (roster 4, epoch 2); a writes one record.
# 3. b's agent starts: its log shows roster version 4 taken from a before
#    anything else of the session (no record either way before it: a
#    learns b's away record only after), then the record of a; b lists c
#    as revoked.
# 4. c's agent starts with its old roster: a and b both refuse it (c is
#    told it was revoked); c never gets b's away record nor a's new one.
#    A record b writes now is under epoch 2: c has no key for it.
set -euo pipefail
. "$(dirname "$0")/../lib/kith.sh"
kith_setup
host_add a 192.0.2.141
host_add b 192.0.2.142
host_add c 192.0.2.143

# --- 1. in sync, then b and c away ------------------------------------------
kith_account a
"$TOOLS/genhist" 20 200 14 > "$HOSTS_TMP/base.jsonl"
must kith_on a history import "$HOSTS_TMP/base.jsonl" >/dev/null
kith_pair a b
kith_pair a c
for h in a b c; do kithd_start "$h"; done
wait_mesh a b c
kithd_stop b
kithd_stop c
must kith_on b history add '{"service":"mail.example","id":"b-away","body":"written while away"}' >/dev/null
pass "a, b, c in sync with 20 records; b and c away, b wrote one record ($(elapsed) s)"

# --- 2. revoke c on a ---------------------------------------------------------
out=$(kith_on a revoke c --json) || fail "revoke: $out"
[[ $out == *'"roster_version":4'* ]] || fail "revoke said: $out"
must kith_on a history add '{"service":"mail.example","id":"a-after","body":"after the revocation"}' >/dev/null
pass "c revoked on a while b and c were away; a wrote one record"

# --- 3. b comes back ----------------------------------------------------------
kithd_start b
wait_log b "caught up with a \($(id8 a)\)" 30
log=$(kithd_log b)
ln_conn=$(grep -nE "(connected to|connection from) a \($(id8 a)\)" "$log" | head -1 | cut -d: -f1)
ln_roster=$(grep -n "roster version 4 from a ($(id8 a))" "$log" | head -1 | cut -d: -f1)
ln_cu=$(grep -n "caught up with a ($(id8 a))" "$log" | head -1 | cut -d: -f1)
[ -n "$ln_conn" ] && [ -n "$ln_roster" ] && [ -n "$ln_cu" ] ||
	{ cat "$log" >&2; fail "b's log lacks the session with a, roster 4 or caught up"; }
[ "$ln_conn" -lt "$ln_roster" ] && [ "$ln_roster" -lt "$ln_cu" ] ||
	{ cat "$log" >&2; fail "b did not take roster 4 first (lines $ln_conn, $ln_roster, $ln_cu)"; }
ln_wait=$(grep -n "a ($(id8 a)) holds roster version 4, newer than ours: nothing is sent before it" "$log" | head -1 | cut -d: -f1)
[ -n "$ln_wait" ] && [ "$ln_wait" -lt "$ln_roster" ] ||
	{ cat "$log" >&2; fail "b did not hold back until it had roster 4"; }
# Between connecting and taking the roster, nothing of the session.
if sed -n "$((ln_conn + 1)),$((ln_roster - 1))p" "$log" | grep -E "caught up|records|connected to c|connection from c"; then
	fail "b synced something before it took roster 4"
fi
# a logged b's roster version as older, and got b's record only after
# sending it the roster.
ln_send=$(grep -n "sending roster version 4 to b ($(id8 b))" "$(kithd_log a)" | tail -1 | cut -d: -f1)
ln_acu=$(grep -n "caught up with b ($(id8 b)): received 1 records (1 new)" "$(kithd_log a)" | tail -1 | cut -d: -f1)
[ -n "$ln_send" ] && [ -n "$ln_acu" ] && [ "$ln_send" -lt "$ln_acu" ] ||
	{ tail -20 "$(kithd_log a)" >&2; fail "a did not send roster 4 before taking b's record"; }
wait_count b 22 30
wait_count a 22 30
kith_on b devices --json | grep -o "{[^{}]*\"id\":\"$(device_id c)\"[^{}]*}" | grep -q '"status":"revoked"' ||
	fail "b does not list c as revoked"
pass "b took roster 4 from a before any record moved, then synced (22 records both)"

# --- 4. c comes back, with its old roster ----------------------------------
nc=$(kith_count c)
kithd_start c
wait_log c "refused us: this device was revoked by a" 60
wait_log c "this device is not an active device of the account any more" 10
# Whichever c tried first told it; the other must refuse c's keys as well.
kith_on c devices --export "$HOSTS_TMP/c.roster" >/dev/null
for h in a b; do
	out=$(host_exec c env KITH_PASSPHRASE_FILE="$PASSFILE" "$TOOLS/rosterpush" "$(kith_home c)" "$(host_ip "$h")" "$(kithd_port "$h")" "$(id8 "$h")" "$HOSTS_TMP/c.roster" 2>&1 || true)
	[ "$out" = refused ] || fail "$h did not refuse c: $out"
done
must kith_on b history add '{"service":"mail.example","id":"b-now","body":"epoch 2"}' >/dev/null
wait_count a 23 30
sleep 2
[ "$(kith_count c)" = "$nc" ] || fail "c's history changed: $(kith_count c), was $nc"
for id in b-away a-after b-now; do
	if kith_on c history export | grep -q "\"$id\""; then fail "c holds $id"; fi
done
out=$(host_exec c env KITH_PASSPHRASE_FILE="$PASSFILE" "$TOOLS/tryopen" "$(kith_home c)" "$(kith_home b)/kith.db")
echo "$out"
grep -Eq '^epoch 2: opened 0, no key [1-9][0-9]*, failed 0$' <<<"$out" || fail "c could read epoch 2 of b: $out"
pass "c refused by a and b, told it was revoked, got none of the 3 later records, no key for epoch 2"

for h in a b c; do kithd_stop "$h"; done
pass "agents stopped cleanly ($(elapsed) s)"
