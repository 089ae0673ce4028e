#!/usr/bin/env bash
# Scenario 16: every device lost; the recovery code rebuilds the account.
#
#   a 192.0.2.161   b 192.0.2.162   (the devices that are lost)
#   n 192.0.2.163   r 192.0.2.164   s 192.0.2.165   (new devices)
#
# 1. a creates the account (its recovery code kept), enrols b; 30 records.
#    The roster is exported, as a service would hold it (roster 2).  Then
#    both devices are "lost": their agents stop.
# 2. Bad codes: a typo is told apart from a wrong code; the code of another
#    account does not fit roster 2; no --roster and no --revoke-others is
#    refused with what to do.
# 3. 'kith recover --roster roster2' on n: roster 3 keeps a and b, adds n,
#    epoch 2.  b turns up again: n's agent (kithd --peer b) reaches it, b
#    takes roster 3 (with XK: it did not know n), sends n the epoch-1 key
#    and the 30 records, which n can read.
# 4. 'kith recover --roster roster3 --revoke-others' on r: roster 4, a, b
#    and n revoked by r, epoch 3.  'kith roster verify' as a service: roster
#    4 follows roster 3, a is revoked, r is active.  a's agent, pointed at
#    r, is refused.
# 5. 'kith recover --revoke-others' on s without a roster: a reset roster
#    of a clock-made version above 4; the service check accepts it over
#    roster 4 and refuses r (not listed).
set -euo pipefail
. "$(dirname "$0")/../lib/kith.sh"
kith_setup
host_add a 192.0.2.161
host_add b 192.0.2.162
host_add n 192.0.2.163
host_add r 192.0.2.164
host_add s 192.0.2.165

# --- 1. an account, then every device lost ----------------------------------
kith_on a init --name a --json 2> "$HOSTS_TMP/init.err" >/dev/null || { cat "$HOSTS_TMP/init.err" >&2; fail "init"; }
code=$(sed -n 's/^Recovery code.*: \([A-Z2-7-]*\)$/\1/p' "$HOSTS_TMP/init.err")
[ ${#code} = 39 ] || fail "no recovery code in: $(cat "$HOSTS_TMP/init.err")"
echo "$code" > "$HOSTS_TMP/code"
"$TOOLS/genhist" 30 200 16 > "$HOSTS_TMP/base.jsonl"
must kith_on a history import "$HOSTS_TMP/base.jsonl" >/dev/null
kith_pair a b
kith_on a devices --export "$HOSTS_TMP/roster2" >/dev/null
kith_on a history export > "$HOSTS_TMP/history"
pass "account on a and b, 30 records, roster 2 exported ($(elapsed) s)"

# --- 2. bad codes --------------------------------------------------------------
typo=$(python3 -c 'import sys; c=sys.argv[1]; i=5; a="ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"; print(c[:i]+a[(a.index(c[i])+1)%32]+c[i+1:])' "$code")
echo "$typo" > "$HOSTS_TMP/typo"
must_fail "has a typo" kith_on n recover --name n --roster "$HOSTS_TMP/roster2" --code-file "$HOSTS_TMP/typo"
mkdir -p "$HOSTS_TMP/other"
"$KITH" --home "$HOSTS_TMP/other/kith" --passphrase-file "$PASSFILE" init --name o --json 2> "$HOSTS_TMP/other.err" >/dev/null
sed -n 's/^Recovery code.*: \([A-Z2-7-]*\)$/\1/p' "$HOSTS_TMP/other.err" > "$HOSTS_TMP/othercode"
must_fail "not the one of the account in" kith_on n recover --name n --roster "$HOSTS_TMP/roster2" --code-file "$HOSTS_TMP/othercode"
must_fail "add --revoke-others" kith_on n recover --name n --code-file "$HOSTS_TMP/code"
! kith_on n devices >/dev/null 2>&1 || fail "a failed recovery left an account on n"
pass "a typo, another account's code, and a recovery without roster or --revoke-others are refused"

# --- 3. recover on n; b turns up and sends the history ---------------------
out=$(kith_on n recover --name n --roster "$HOSTS_TMP/roster2" --code-file "$HOSTS_TMP/code" --json) ||
	fail "recover on n: $out"
[[ $out == *'"roster_version":3'* && $out == *'"epoch":2'* && $out == *'"active":3'* ]] || fail "recover said: $out"
kithd_start b
kithd_start n --peer "$(host_ip b):$(kithd_port b)"
wait_log b "roster version 3 from the device at $(host_ip n)" 30
wait_log n "received the keys of 1 history epoch from b \($(id8 b)\)" 30
wait_count n 30 30
kith_on n history export > "$HOSTS_TMP/n.history"
cmp -s "$HOSTS_TMP/history" "$HOSTS_TMP/n.history" || fail "n's history differs from the lost devices'"
must kith_on n history add '{"service":"mail.example","id":"after-recovery","body":"epoch 2"}' >/dev/null
wait_count b 31 30
kithd_stop b
kithd_stop n
pass "n recovered with roster 3; b took it, gave n the epoch-1 key and the 30 records (readable); n's new record reached b"

# --- 4. recover on r, revoking every earlier device -----------------------
kith_on n devices --export "$HOSTS_TMP/roster3" >/dev/null
out=$(kith_on r recover --name r --roster "$HOSTS_TMP/roster3" --revoke-others --code-file "$HOSTS_TMP/code" --json) ||
	fail "recover on r: $out"
[[ $out == *'"roster_version":4'* && $out == *'"epoch":3'* && $out == *'"active":1'* ]] || fail "recover said: $out"
kith_on r devices --json > "$HOSTS_TMP/r.devices"
for h in a b n; do
	entry=$(grep -o "{[^{}]*\"id\":\"$(device_id "$h")\"[^{}]*}" "$HOSTS_TMP/r.devices")
	[[ $entry == *'"status":"revoked"'* && $entry == *"\"revoked_by\":\"$(device_id r)\""* ]] ||
		fail "r does not list $h as revoked by r: $entry"
done
kith_on r devices --export "$HOSTS_TMP/roster4" >/dev/null
acct=$(kith_on r devices --json | sed -n 's/.*"account":"\([0-9a-f]*\)".*/\1/p')
[ ${#acct} = 64 ] || fail "no account key in devices --json"
# A service, with no kith home, pinned to the account key, holding roster 3.
svc() { "$KITH" --home "$HOSTS_TMP/service" roster verify "$HOSTS_TMP/roster4" --account "$acct" --held "$HOSTS_TMP/roster3" "$@"; }
svc --device "$(device_id r)" >/dev/null || fail "the service check refuses r"
must_fail "is older than" "$KITH" --home "$HOSTS_TMP/service" roster verify "$HOSTS_TMP/roster3" --account "$acct" --held "$HOSTS_TMP/roster4"
out=$(svc --device "$(device_id a)" 2>&1) && fail "the service check accepts a: $out"
[[ $out == *REVOKED* ]] || fail "the service check does not say a is revoked: $out"
# The same, with the library, as docs/examples/roster-check.c does it.
chk() { "$TOOLS/roster-check" "$acct" "$@"; }
[ "$(chk "$HOSTS_TMP/roster4" "$HOSTS_TMP/roster3" "$(device_id r)")" = accept ] || fail "roster-check refuses r"
[ "$(chk "$HOSTS_TMP/roster4" "$HOSTS_TMP/roster3" "$(device_id a)" || true)" = "refuse: device revoked" ] ||
	fail "roster-check does not refuse a as revoked"
[ "$(chk "$HOSTS_TMP/roster3" "$HOSTS_TMP/roster4" "$(device_id n)" || true)" = "refuse: roster: older than what is held" ] ||
	fail "roster-check accepts a rollback to roster 3"
[ "$(chk "$HOSTS_TMP/roster3" - "$(device_id n)")" = accept ] || fail "roster-check refuses n on roster 3 alone"
kithd_start r
kithd_start a --peer "$(host_ip r):$(kithd_port r)"
wait_log a "$(host_ip r):$(kithd_port r) refused us" 30
wait_log r "refused connection from $(host_ip a)" 10
[ "$(kith_count r)" = 0 ] || fail "r holds records: $(kith_count r)"
kithd_stop a
kithd_stop r
pass "r recovered with a, b, n revoked (roster 4, epoch 3); a service sees a revoked, r active; a is refused"

# --- 5. recover on s with nothing: a reset roster ---------------------------
out=$(kith_on s recover --name s --revoke-others --code-file "$HOSTS_TMP/code" --json) || fail "recover on s: $out"
[[ $out == *'"reset":true'* ]] || fail "recover said: $out"
kith_on s devices --export "$HOSTS_TMP/reset" >/dev/null
v=$(kith_on s devices --json | sed -n 's/.*"roster_version":\([0-9]*\).*/\1/p')
[ "$v" -gt $(( $(date +%s) << 19 )) ] || fail "the reset roster's version $v is not above any counted one"
"$KITH" --home "$HOSTS_TMP/service" roster verify "$HOSTS_TMP/reset" --account "$acct" --held "$HOSTS_TMP/roster4" \
	--device "$(device_id s)" >/dev/null || fail "the service refuses the reset roster"
out=$("$KITH" --home "$HOSTS_TMP/service" roster verify "$HOSTS_TMP/reset" --account "$acct" --device "$(device_id r)" 2>&1) &&
	fail "the service accepts r after the reset: $out"
[[ $out == *"not on this roster"* ]] || fail "verify said: $out"
pass "s recovered with a reset roster (version $v): accepted over roster 4, r no longer listed ($(elapsed) s)"
