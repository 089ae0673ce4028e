#!/usr/bin/env bash
# The main job: a real pairing and history transfer between two devices on
# this machine.  Two simulated hosts in network namespaces, each with its own
# dbus-daemon and avahi-daemon (mDNS only on the test link, never on this
# machine's own network):
#
#   laptop 192.0.2.101 ---- LAN bridge ---- phone 192.0.2.102
#
# The laptop makes an account and a history of 20,000 messages; 'kith pair'
# shows its code as a QR (terminal and PNG); the phone reads the PNG with
# ZBar, finds the laptop by mDNS, joins, and receives the history.
#
#   tests/demo.sh BUILD_DIR
set -euo pipefail
build=$(cd "${1:-build/release}" && pwd)
export KITH_BIN=$build/syncd KITH_TOOLS=$build/tests
. "$(dirname "$0")/lib/kith.sh"
kith_setup
echo "== two hosts: laptop and phone, each with its own avahi-daemon"
host_add laptop 192.0.2.101
host_add phone 192.0.2.102

echo "== laptop: kith init --name laptop"
kith_on laptop init --name laptop
echo "== laptop: kith history import (20,000 messages)"
"$TOOLS/genhist" 20000 1024 42 > "$HOSTS_TMP/history.jsonl"
kith_on laptop history import "$HOSTS_TMP/history.jsonl"

echo "== laptop: kith pair"
pair_start laptop
host_exec laptop "$KITH" --home "$(kith_home laptop)" status
echo "The pairing code was written as a PNG: $PAIR_PNG"
"$TOOLS/ticketforge" "$PAIR_PNG" same >/dev/null  # the PNG decodes

echo "== phone: kith join PHOTO --name phone"
kith_on phone join "$PAIR_PNG" --name phone
pair_wait || { cat "$PAIR_LOG"; fail "kith pair did not finish"; }

echo "== phone: kith devices"
kith_on phone devices
same_history laptop phone
echo "== both devices export the same $(kith_on phone history count) messages."
echo "DEMO OK"
