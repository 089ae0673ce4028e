#!/usr/bin/env bash
# Scenario 3: no mDNS daemon anywhere: the phone reaches the laptop through
# the address hints carried in the code.
#
#   laptop 192.0.2.21 (no avahi) ---- LAN bridge ---- phone 192.0.2.22 (no avahi)
set -euo pipefail
. "$(dirname "$0")/../lib/kith.sh"
kith_setup
host_add laptop 192.0.2.21 --no-avahi
host_add phone 192.0.2.22 --no-avahi

must kith_on laptop init --name laptop >/dev/null
"$TOOLS/genhist" 2000 700 3 | kith_on laptop history import - >/dev/null

pair_start laptop
out=$(kith_on phone join "$PAIR_PNG" --name phone 2>&1) ||
	{ echo "$out"; cat "$PAIR_LOG"; fail "join"; }
echo "$out" | grep -q "Connected to 192.0.2.21 (address carried in the code)" ||
	{ echo "$out"; fail "the phone did not use the address hint"; }
pair_wait || fail "pair did not finish"
same_history laptop phone
pass "paired through the address hints; histories identical"
