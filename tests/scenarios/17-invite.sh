#!/usr/bin/env bash
# Scenario 17: invitations exchanged face to face, between people (each
# their own account), on real avahi in namespaces.
#
#   lan 192.0.2.0/24: a1 .171 and a2 .172 (Alice's laptop and phone, one
#   account, kithd on both), b .173 (Bob), c .174 (Carol)
#   far 198.51.100.0/24: d .181 (Dave), no link to the others
#
# (a) a1 makes an invitation without address hints ('--no-hints'), so that
#     only mDNS can find it; b scans the PNG: b's device finds a1's agent by
#     mDNS, the two exchange cards over Noise_IKpsk2; both list the other
#     as a verified contact, with the same fingerprints both sides show.
# (e) a2 gets Bob's contact card from a1 by sync.
# (c) c scans the same single-use invitation: a1's agent refuses ("used as
#     many times as it allows") and c stores nothing.
# (b) d, on no shared link, scans a second invitation: nothing answers,
#     d shows a reply code (PNG); a1 scans it: both hold the other's card.
# (d) a third invitation, withdrawn with 'kith invite revoke', is refused
#     by a1's agent when c answers it; 'kith invite list' says withdrawn.
# Bad input, each with a clear message and no change to the history:
#     a pairing code and a QR that is no kith code given to 'invite scan';
#     an altered invitation; an invitation for a service b belongs to
#     already; a reply that answers no invitation of the scanner; and
#     'kith invite verify' with Alice's roster once a2, which signed an
#     invitation, is revoked (and a2's agent refuses answers to it).
set -euo pipefail
. "$(dirname "$0")/../lib/kith.sh"
kith_setup
host_add a1 192.0.2.171
host_add a2 192.0.2.172
host_add b 192.0.2.173
host_add c 192.0.2.174
host_add d 198.51.100.181 --link far

SVC=https://chat.example.org/g/team
for h in a1 b c d; do kith_account "$h"; done
kith_pair a1 a2
kithd_start a1
kithd_start a2
wait_mesh a1 a2

# What "changes nothing" compares: the messages HOST exports and how many
# records it holds (contacts and invitations are records, not exported).
digest() {
	{ kith_on "$1" history export; kith_on "$1" history count; } | sha256sum | cut -c1-16
}
# A JSON member of a one-line document.
jget() { python3 -c 'import json,sys; d=json.load(sys.stdin)
for k in sys.argv[1].split("."): d=d[int(k)] if k.isdigit() else d[k]
print(d)' "$1"; }
# HOST's account fingerprint, computed here from the account key its roster
# names: BLAKE2b-48, in hex, as xxxx-xxxx-xxxx (docs/PROTOCOL.md §13).
own_fp() { kith_on "$1" devices --json | python3 -c '
import hashlib, json, sys
h = hashlib.blake2b(bytes.fromhex(json.load(sys.stdin)["account"]), digest_size=6).hexdigest()
print(h[0:4] + "-" + h[4:8] + "-" + h[8:12])'; }

# --- (a) create, scan, LAN answer found by mDNS --------------------------------
out=$(kith_on a1 --json invite create --service "$SVC" --alias alice \
	--qr-png "$HOSTS_TMP/inv1.png" --no-hints) || fail "invite create: $out"
ver=$(jget qr_version <<<"$out")
[ "$ver" -le 15 ] || fail "invitation QR is version $ver"
fp_a=$(jget fingerprint <<<"$out")
[ "$fp_a" = "$(own_fp a1)" ] || fail "create shows $fp_a, status $(own_fp a1)"
wait_log a1 "announcing an open invitation as [0-9a-f]{16}" 10
scan=$(kith_on b invite scan "$HOSTS_TMP/inv1.png" --alias bob 2>&1) ||
	{ echo "$scan" >&2; fail "b could not scan the invitation"; }
grep -q "found on the local network by mDNS" <<<"$scan" || fail "not found by mDNS: $scan"
grep -q "^Inviter's account fingerprint: $fp_a " <<<"$scan" || fail "b was not shown alice's fingerprint: $scan"
grep -q "Answered over the network" <<<"$scan" || fail "no LAN answer: $scan"
wait_log a1 "invitation [0-9a-f]{8} answered by account [0-9a-f]{8} from 192.0.2.173" 10
fp_b=$(own_fp b)
kith_on a1 --json contacts > "$HOSTS_TMP/a1.contacts"
kith_on b --json contacts > "$HOSTS_TMP/b.contacts"
[ "$(jget contacts.0.fingerprint < "$HOSTS_TMP/a1.contacts")" = "$fp_b" ] || fail "a1's contact is not bob's account"
[ "$(jget contacts.0.alias < "$HOSTS_TMP/a1.contacts")" = bob ] || fail "a1's contact is not named bob"
[ "$(jget contacts.0.how < "$HOSTS_TMP/a1.contacts")" = lan ] || fail "a1's contact not met over the LAN"
[ "$(jget contacts.0.fingerprint < "$HOSTS_TMP/b.contacts")" = "$fp_a" ] || fail "b's contact is not alice's account"
[ "$(jget contacts.0.role < "$HOSTS_TMP/b.contacts")" = inviter ] || fail "b's contact is not the inviter"
[ "$(jget issued.0.state < <(kith_on a1 --json invite list))" = used ] || fail "invitation 1 not used up"
pass "(a) invitation (QR version $ver) found by mDNS, cards exchanged: a1 holds bob ($fp_b), b holds alice ($fp_a) ($(elapsed) s)"

# --- (e) the contact reaches Alice's other device ---------------------------------
for i in $(seq 1 100); do
	n=$(kith_on a2 --json contacts | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["contacts"]))')
	[ "$n" = 1 ] && break
	sleep 0.2
done
[ "$(jget contacts.0.fingerprint < <(kith_on a2 --json contacts))" = "$fp_b" ] ||
	fail "bob's card did not reach a2"
pass "(e) bob's verified card reached a2 by sync ($(elapsed) s)"

# --- (c) the second person to scan a single-use invitation is refused --------------
before=$(digest c)
must_fail "refused the answer: it has been used as many times as it allows; nothing was stored" \
	kith_on c invite scan "$HOSTS_TMP/inv1.png" --alias carol
[ "$(digest c)" = "$before" ] || fail "c's history changed after the refusal"
wait_log a1 "refused the answer of account [0-9a-f]{8} .* used as many times" 10
[ "$(kith_on c --json contacts | jget contacts)" = "[]" ] || fail "c holds a contact"
pass "(c) carol, second on a single-use invitation, refused by a1's agent; nothing stored"

# --- (b) no shared link: the reply code -------------------------------------------
out=$(kith_on a1 --json invite create --service https://files.example.net --alias alice \
	--qr-png "$HOSTS_TMP/inv2.png") || fail "invite create 2: $out"
out=$(kith_on d invite scan "$HOSTS_TMP/inv2.png" --alias dave --reply-png "$HOSTS_TMP/reply.png" 2>&1) ||
	{ echo "$out" >&2; fail "d could not scan invitation 2"; }
grep -q "cannot be reached over the network" <<<"$out" || fail "d did not fall back to a reply: $out"
[ -s "$HOSTS_TMP/reply.png" ] || fail "no reply PNG"
out=$(kith_on a1 invite scan "$HOSTS_TMP/reply.png") || fail "a1 could not scan the reply: $out"
grep -q "dave (fingerprint $(own_fp d)) is now a verified contact" <<<"$out" || fail "a1 said: $out"
[ "$(jget contacts.0.fingerprint < <(kith_on d --json contacts))" = "$fp_a" ] || fail "d does not hold alice"
before=$(digest a1)
out=$(kith_on a1 --json invite scan "$HOSTS_TMP/reply.png") || fail "scanning the reply again: $out"
[ "$(jget new <<<"$out")" = False ] || fail "the same reply used a second slot: $out"
pass "(b) d on no shared link answered by reply code; both hold each other's card; a repeat changes nothing"

# --- (d) a withdrawn invitation -----------------------------------------------------
out=$(kith_on a1 --json invite create --service https://wiki.example.org --alias alice \
	--qr-png "$HOSTS_TMP/inv3.png") || fail "invite create 3: $out"
id3=$(jget id <<<"$out")
must kith_on a1 invite revoke "${id3:0:8}" >/dev/null
before=$(digest c)
must_fail "refused the answer: the inviter withdrew it; nothing was stored" \
	kith_on c invite scan "$HOSTS_TMP/inv3.png" --alias carol
[ "$(digest c)" = "$before" ] || fail "c's history changed"
wait_log a1 "refused the answer of account [0-9a-f]{8} .* withdrew it" 10
kith_on a1 --json invite list | python3 -c '
import json, sys
d = json.load(sys.stdin)
s = {i["id"]: i["state"] for i in d["issued"]}
assert s[sys.argv[1]] == "withdrawn", s' "$id3" || fail "invite list does not say withdrawn"
pass "(d) a withdrawn invitation is refused by the inviter's agent; carol stores nothing"

# --- bad input ------------------------------------------------------------------------
before=$(digest b)
pair_start a1
must_fail "pairing code, not an invitation: use 'kith join'" kith_on b invite scan "$PAIR_PNG"
kill "$PAIR_PID" 2>/dev/null || true
qrencode -o "$HOSTS_TMP/hello.png" "hello, world"
must_fail "not a kith invitation" kith_on b invite scan "$HOSTS_TMP/hello.png"
code=$(kith_on a1 --json invite create --service https://x.example --alias alice | jget code)
# One character changed in the middle of the signed bytes.
mid=$(( ${#code} / 2 ))
ch=${code:$mid:1}; [ "$ch" = A ] && nch=B || nch=A
bad=${code:0:$mid}$nch${code:$((mid + 1))}
must_fail "forged or was altered|damaged" kith_on b invite scan --code "$bad"
must_fail "invitation of your own account" kith_on a2 invite scan --code "$code"
must_fail "you already hold this invitation from alice, answered over the network" \
	kith_on b invite scan "$HOSTS_TMP/inv1.png"
must_fail "needs a QR code of version 1[6-9].*--no-hints" kith_on a1 invite create \
	--service "https://chat.example.org/$(printf 'x%.0s' $(seq 1 150))" --alias alice
out=$(kith_on a2 --json invite create --service "$SVC" --alias alice-phone) || fail "a2 create: $out"
must_fail "you already belong to $SVC" kith_on b invite scan --code "$(jget code <<<"$out")"
out=$(kith_on c --json invite create --service https://c.example --alias carol --no-hints) || fail "c create"
out=$(kith_on d --json invite scan --code "$(jget code <<<"$out")" --no-lan --alias dave) || fail "d scan c's: $out"
must_fail "answers no invitation issued by this account" kith_on b invite scan --code "$(jget reply <<<"$out")"
# Contacts cannot be planted as ordinary records (CLI direct, and through
# the agent's API: a1's kithd runs).
must_fail "kith's own" kith_on b history add '{"service":"kith:contact","id":"x"}'
printf '%s\n' '{"service":"kith:invite-use","id":"y/1"}' > "$HOSTS_TMP/plant.jsonl"
must_fail "kith's own" kith_on b history import "$HOSTS_TMP/plant.jsonl"
must_fail "kith's own" kith_on a1 history add '{"service":"kith:member","id":"z"}'
[ "$(digest b)" = "$before" ] || fail "b's history changed on bad input"
pass "bad input refused with a clear line each, b's history unchanged"

# A device that signed an invitation is revoked: services and its own agent refuse it.
out=$(kith_on a2 --json invite create --service https://z.example --alias alice-phone) || fail "a2 create z"
code_z=$(jget code <<<"$out")
must kith_on a1 invite verify --code "$code_z" >/dev/null
must kith_on a1 revoke a2 >/dev/null
kith_on a1 devices --export "$HOSTS_TMP/alice.roster" >/dev/null
must_fail "signed by a revoked device" kith_on c invite verify --code "$code_z" --roster "$HOSTS_TMP/alice.roster"
wait_log a2 "refused us: this device was revoked by a1" 60
before=$(digest c)
must_fail "refused the answer: the device that issued it has been revoked" \
	kith_on c invite scan --code "$code_z" --alias carol --peer "$(host_ip a2):$(kithd_port a2)"
[ "$(digest c)" = "$before" ] || fail "c's history changed"
pass "an invitation of a revoked device: 'invite verify --roster' and the device's own agent refuse it"

kithd_stop a1
kithd_stop a2
pass "scenario 17 done in $(elapsed) s"
