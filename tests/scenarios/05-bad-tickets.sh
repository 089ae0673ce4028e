#!/usr/bin/env bash
# Scenario 5: codes that must not let a device in.
#
#   laptop 192.0.2.41 ---- LAN ---- phone 192.0.2.42, thief 192.0.2.43
#
# 1. forged codes (another secret; another device key) are refused, and the
#    laptop keeps waiting for the real one;
# 2. a photographed code, used after the phone used it, is refused as used;
# 3. an expired code is refused, and 'kith pair' ends when it expires;
# and in every case the laptop's roster and history are unchanged.
set -euo pipefail
. "$(dirname "$0")/../lib/kith.sh"
kith_setup
host_add laptop 192.0.2.41 --no-avahi
host_add phone 192.0.2.42 --no-avahi
host_add thief 192.0.2.43 --no-avahi
host_exec laptop tc qdisc add dev kveth0 root tbf rate 40mbit burst 64kb \
	latency 500ms || echo "note: no traffic shaping available"

must kith_on laptop init --name laptop >/dev/null
"$TOOLS/genhist" 30000 1024 5 | kith_on laptop history import - >/dev/null
kith_on laptop history export > "$HOSTS_TMP/before"

# --- 1. forged codes --------------------------------------------------------
pair_start laptop
forged=$("$TOOLS/ticketforge" "$PAIR_PNG" secret)
must_fail "did not accept this code" kith_on thief join --code "$forged" --name thief
forged=$("$TOOLS/ticketforge" "$PAIR_PNG" static)
must_fail "did not accept this code" kith_on thief join --code "$forged" --name thief
grep -q "without this code" "$PAIR_LOG" || { cat "$PAIR_LOG"; fail "laptop did not log the refusal"; }
pass "forged codes refused"

# --- 2. a photograph of the code, used second ------------------------------
# The phone uses the code first; it is cut off mid-transfer so that the
# laptop still serves the code, then the thief tries the photograph.
jpid=$(host_bg phone "$KITH" --home "$(kith_home phone)" join "$PAIR_PNG" --name phone)
for i in $(seq 1 300); do
	n=$(kith_on phone history count 2>/dev/null || echo 0)
	[ "$n" -gt 1000 ] && break
	sleep 0.1
done
kill -9 "$jpid"
photo=$("$TOOLS/ticketforge" "$PAIR_PNG" same)
must_fail "already used" kith_on thief join --code "$photo" --name thief
pass "a used code is refused to a second device"
must kith_on phone join --name phone >/dev/null
pair_wait || fail "pair did not finish"
same_history laptop phone
pass "the real phone finished"
# After the pairing ended, the photo reaches nobody.
must_fail "cannot reach" kith_on thief join --code "$photo" --name thief

# --- 3. an expired code ------------------------------------------------------
pair_start laptop --timeout 10
sleep 11
must_fail "expired" kith_on thief join "$PAIR_PNG" --name thief
pair_wait && fail "pair should have ended as expired"
grep -q "expired" "$PAIR_LOG" || { cat "$PAIR_LOG"; fail "pair did not say it expired"; }
pass "an expired code is refused and pair ended"

# --- the laptop is unharmed -------------------------------------------------
kith_on laptop history export > "$HOSTS_TMP/after"
cmp -s "$HOSTS_TMP/before" "$HOSTS_TMP/after" || fail "laptop history changed"
kith_on laptop devices --json | grep -q '"name":"thief"' && fail "thief on the roster"
kith_on laptop devices --json | grep -q '"roster_version":2' || fail "roster version"
if kith_on thief status --json 2>/dev/null | grep -q '"enrolled":true'; then
	fail "thief enrolled"
fi
pass "laptop roster and history unchanged; the thief holds nothing"
