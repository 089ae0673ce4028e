#!/usr/bin/env bash
# Scenario 6: an attacker on the path changes one byte.
#
#   laptop 192.0.2.51 ---- LAN ---- phone 192.0.2.52
#                                     flipproxy on the phone's loopback,
#                                     relaying to the laptop
#
# 1. a byte flipped in the handshake: the pairing fails, nothing changes;
# 2. a byte flipped deep in the history stream: the phone stops with a clear
#    error, keeps only authentic records, and a clean retry completes.
set -euo pipefail
. "$(dirname "$0")/../lib/kith.sh"
kith_setup
host_add laptop 192.0.2.51 --no-avahi
host_add phone 192.0.2.52 --no-avahi

must kith_on laptop init --name laptop >/dev/null
"$TOOLS/genhist" 5000 1024 9 | kith_on laptop history import - >/dev/null
kith_on laptop history export > "$HOSTS_TMP/before"

proxy() {	# proxy MODE OFFSET: relay phone:127.0.0.1:7000 -> laptop
	local pid log
	pid=$(host_bg phone "$TOOLS/flipproxy" 7000 192.0.2.51 "$PAIR_PORT" "$1" "$2")
	log=$(host_bg_log phone)
	for i in $(seq 1 50); do grep -q ready "$log" 2>/dev/null && return 0; sleep 0.1; done
	fail "proxy did not start"
}

# --- 1. handshake ------------------------------------------------------------
pair_start laptop
proxy flip-up 40
must_fail "did not accept this code" kith_on phone join "$PAIR_PNG" --name phone --peer 127.0.0.1:7000
kith_on laptop devices --json | grep -q '"roster_version":1' || fail "laptop roster changed"
pass "a flipped handshake byte fails the pairing; roster unchanged"

# --- 2. the history stream -------------------------------------------------
proxy flip-down 2000000
must_fail "tampered" kith_on phone join "$PAIR_PNG" --name phone --peer 127.0.0.1:7000
n=$(kith_on phone history count)
[ "$n" -gt 0 ] && [ "$n" -lt 5000 ] || fail "phone holds $n records"
kith_on phone history export > "$HOSTS_TMP/partial"
# Every record the phone kept is one the laptop holds, byte for byte.
sort "$HOSTS_TMP/before" > "$HOSTS_TMP/before.sorted"
sort "$HOSTS_TMP/partial" | comm -13 "$HOSTS_TMP/before.sorted" - > "$HOSTS_TMP/alien"
[ ! -s "$HOSTS_TMP/alien" ] || fail "the phone kept a record the laptop never sent"
pass "a flipped stream byte stops the transfer; $n authentic records kept"

must kith_on phone join --name phone --peer 192.0.2.51:"$PAIR_PORT" >/dev/null
pair_wait || fail "pair did not finish"
same_history laptop phone
kith_on laptop history export | cmp -s - "$HOSTS_TMP/before" || fail "laptop history changed"
pass "a clean retry completes; histories identical"
