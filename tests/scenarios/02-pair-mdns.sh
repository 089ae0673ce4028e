#!/usr/bin/env bash
# Scenario 2: pair across two hosts found by mDNS, and compare histories.
#
#   laptop 192.0.2.11 (avahi) ---- LAN bridge ---- phone 192.0.2.12 (avahi)
#
# The laptop holds an account and 3,000 messages (a few of 256 KiB); it runs
# 'kith pair', the phone scans the PNG of the code with ZBar and finds the
# laptop on mDNS; afterwards both hold the same history and roster.
set -euo pipefail
. "$(dirname "$0")/../lib/kith.sh"
kith_setup
host_add laptop 192.0.2.11
host_add phone 192.0.2.12

must kith_on laptop init --name laptop >/dev/null
"$TOOLS/genhist" 3000 1024 7 > "$HOSTS_TMP/hist.jsonl"
"$TOOLS/genhist" 8 262144 8 >> "$HOSTS_TMP/hist.jsonl"
must kith_on laptop history import "$HOSTS_TMP/hist.jsonl" >/dev/null

pair_start laptop
out=$(kith_on phone join "$PAIR_PNG" --name phone 2>&1) ||
	{ echo "$out"; cat "$PAIR_LOG"; fail "join"; }
echo "$out" | grep -q "found on the local network by mDNS" ||
	{ echo "$out"; fail "the phone did not find the laptop by mDNS"; }
pair_wait || { cat "$PAIR_LOG"; fail "pair did not finish"; }
pass "paired through mDNS"

same_history laptop phone
n=$(kith_on phone history count)
[ "$n" = 3008 ] || fail "phone holds $n records, not 3008"
pass "phone holds the same 3008 records"

kith_on laptop devices --json > "$HOSTS_TMP/l.json"
kith_on phone devices --json > "$HOSTS_TMP/p.json"
grep -q '"roster_version":2' "$HOSTS_TMP/p.json" || fail "phone roster"
[ "$(grep -o '"status":"active"' "$HOSTS_TMP/p.json" | wc -l)" = 2 ] ||
	fail "phone does not list two active devices"
cmp -s <(sed 's/"this":[a-z]*//g' "$HOSTS_TMP/l.json") \
	<(sed 's/"this":[a-z]*//g' "$HOSTS_TMP/p.json") ||
	fail "the two rosters differ"
pass "both hold roster version 2 with two active devices"

# Nothing of a message is in the phone's files in clear.
if grep -rqa "message 1234" "$(kith_home phone)"; then
	fail "plaintext found in the phone's home"
fi
pass "no plaintext at rest on the phone"
