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
# ZBar, finds the laptop by mDNS, joins, and receives the history.  Then
# both run the agent kithd, which finds the other device by mDNS and keeps
# them in sync: a message added on either side reaches the other.
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

echo "== both: kithd (the sync agent)"
kithd_start laptop
kithd_start phone
wait_peers laptop phone 30 || fail "the agents did not find each other"
n=$(kith_on laptop history count)
echo "== phone: kith history add (a new message)"
kith_on phone history add '{"service":"mail.example","id":"hello-from-the-phone","subject":"made on the phone"}'
wait_count laptop $((n + 1)) 30 || fail "the message did not reach the laptop"
echo "== laptop: kith history add (another one)"
kith_on laptop history add '{"service":"mail.example","id":"hello-from-the-laptop"}'
wait_count phone $((n + 2)) 30 || fail "the message did not reach the phone"
kith_on laptop status
same_history laptop phone
kithd_stop phone
kithd_stop laptop
echo "== in sync: both hold the same $((n + 2)) messages."
echo "DEMO OK"
