#!/usr/bin/env bash
# Scenario 21: kithd keeps serving its own devices under abuse, with bounded
# memory and descriptors, and says what it refused.
#
#   a 192.0.2.211, b 192.0.2.212   one account, both agents running
#   x 192.0.2.213                  the abuser (tests/tools/abuser)
#   n 192.0.2.214                  a new device, paired during phase 4
#   (one LAN, avahi everywhere)
#
# Through every phase, records appended on a and on b must reach the other
# (wait_count), and a's agent is measured: its peak RSS in the phase
# (VmHWM, reset through /proc/PID/clear_refs at the phase's start) and its
# descriptors (ls /proc/PID/fd, sampled every 0.2 s).
#
# 0. baseline: both agents idle, live with each other.
# 1. slowloris: 300 connections to a and 150 to b, from six addresses of
#    x, that never finish a handshake (a frame header, then a byte every
#    3 s), reopened 3 s after they are closed; b's agent is restarted in
#    the middle with --no-mdns --peer a, so that only b may call, and it
#    must get in to a though every slot for unfinished handshakes there
#    is taken.  a must log "too many unfinished handshakes".
# 2. flood: 20 connections sending 65,535-byte frames of random bytes as
#    fast as a takes them.
# 3. 200 _kith._tcp services announced from x, none of them ours: both
#    agents restarted, they find each other and sync.
# 4. 50 strangers at 'kith pair' on a (guessed keys, random frames,
#    silence) while the real new device n joins: n pairs, and the shower
#    reports the refusals.
# 5. the densest invitation the format allows (QR version 26) is scanned
#    from a PNG, in bounded time and memory; a code past the format is
#    refused clearly.
#
# Bounds (a's agent, which kith.sh starts with -v):
#   descriptors  at most the idle count + MAX_UNKNOWN (32, sess.c) + 20
#                (live sessions, control clients of the scenario's own
#                kith commands, a connection being accepted); the abuse
#                never reaches the control socket, so MAXCLIENTS (64,
#                ctl.c) does not enter.
#   memory       peak RSS at most the idle peak + 64 MB (32 unfinished
#                handshakes hold at most 2 x 64 KiB of input each; the rest
#                is ASan's quarantine, held to 16 MB here, and its
#                shadow).
#   log          at most 150 lines a phase, however many were refused.
set -euo pipefail
. "$(dirname "$0")/../lib/kith.sh"
kith_setup
host_add a 192.0.2.211
host_add b 192.0.2.212
host_add x 192.0.2.213
host_add n 192.0.2.214
a_ip=$(host_ip a)
b_ip=$(host_ip b)
# x speaks from six addresses: more than MAX_UNKNOWN / MAX_UNKNOWN_HOST.
x_from=$(host_ip x)
for i in 1 2 3 4 5; do
	host_exec x ip addr add "192.0.2.22$i/24" dev kveth0
	x_from="$x_from,192.0.2.22$i"
done
X_RE='192\.0\.2\.2(13|2[1-5])'
ABUSER=$TOOLS/abuser
[ -x "$ABUSER" ] || fail "abuser not built at $ABUSER"
MAX_UNKNOWN=32
FD_SLACK=20
RSS_SLACK_MB=64
LOG_MAX=150
# Freed memory ASan holds back: small, so that RSS measures kithd.
KD_ENV="ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:quarantine_size_mb=16"

# --- helpers of this scenario -------------------------------------------------
fds_of() { find "/proc/$1/fd" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l; }
hwm_of() { awk '/^VmHWM:/ { print $2 }' "/proc/$1/status"; }

# phase_begin: reset a's peak RSS, start sampling its descriptors.
phase_begin() {
	local pid
	pid=$(kithd_pid a)
	echo 5 > "/proc/$pid/clear_refs"
	: > "$HOSTS_TMP/fds"
	SAMPLER=$(host_bg x bash -c "while [ -d /proc/$pid ]; do
		find /proc/$pid/fd -mindepth 1 -maxdepth 1 2>/dev/null | wc -l
		sleep 0.2; done >> '$HOSTS_TMP/fds'")
	LOG0=$(wc -l < "$(kithd_log a)")
}

# phase_end NAME: the figures of the phase, checked against the bounds.
phase_end() {
	local name=$1 pid fmax hwm lines
	pid=$(kithd_pid a)
	kill "$SAMPLER" 2>/dev/null || true
	fmax=$(sort -n "$HOSTS_TMP/fds" | tail -1)
	hwm=$(hwm_of "$pid")
	lines=$(( $(wc -l < "$(kithd_log a)") - LOG0 ))
	printf 'FIGURES %-10s peak_rss=%6d kB  max_fds=%3d  log_lines=%4d  refused=%s\n' \
		"$name" "$hwm" "$fmax" "$lines" "$(refused_of a)"
	echo "$name $hwm $fmax $lines" >> "$HOSTS_TMP/figures"
	[ "$fmax" -le $((BASE_FDS + MAX_UNKNOWN + FD_SLACK)) ] ||
		fail "$name: a's agent held $fmax descriptors (idle: $BASE_FDS, bound $((BASE_FDS + MAX_UNKNOWN + FD_SLACK)))"
	[ "$hwm" -le $((BASE_HWM + RSS_SLACK_MB * 1024)) ] ||
		fail "$name: a's agent peaked at $hwm kB (idle: $BASE_HWM kB, bound +$RSS_SLACK_MB MB)"
	[ "$lines" -le $LOG_MAX ] ||
		fail "$name: a's agent wrote $lines log lines (at most $LOG_MAX)"
}

# What HOST's agent counts as refused, from 'kith status --json'.
refused_of() {
	kith_on "$1" status --json 2>/dev/null |
		grep -o '"refused":{[^}]*}' | sed 's/"refused"://' || echo "?"
}
refused_n() {
	refused_of "$1" | grep -o "\"$2\":[0-9]*" | cut -d: -f2
}

N=0
# one_each TAG: a record added on a and one on b; both must hold them all.
one_each() {
	must kith_on a history add "{\"service\":\"abuse.test\",\"id\":\"a-$1\",\"body\":\"from a during $1\"}" >/dev/null
	must kith_on b history add "{\"service\":\"abuse.test\",\"id\":\"b-$1\",\"body\":\"from b during $1\"}" >/dev/null
	N=$((N + 2))
	wait_count a "$N" 60
	wait_count b "$N" 60
}

# --- 0. baseline --------------------------------------------------------------
kith_group a b
N=$(kith_count a)
kithd_start a "$KD_ENV"
a_port=$KITHD_PORT
kithd_start b "$KD_ENV"
b_port=$KITHD_PORT
wait_peers a b
one_each idle
sleep 2
pid=$(kithd_pid a)
echo 5 > "/proc/$pid/clear_refs"
BASE_FDS=0
for i in $(seq 1 10); do
	f=$(fds_of "$pid")
	[ "$f" -gt "$BASE_FDS" ] && BASE_FDS=$f
	sleep 0.2
done
BASE_HWM=$(hwm_of "$pid")
printf 'FIGURES %-10s peak_rss=%6d kB  max_fds=%3d\n' baseline "$BASE_HWM" "$BASE_FDS"
pass "a and b live; idle: peak RSS $BASE_HWM kB, $BASE_FDS descriptors ($(elapsed) s)"

# --- 1. slowloris ---------------------------------------------------------------
phase_begin
host_bg x "$ABUSER" slow "$a_ip" "$a_port" 300 30 3000 "$x_from" >/dev/null
slow_a=$(host_bg_log x)
host_bg x "$ABUSER" slow "$b_ip" "$b_port" 150 30 3000 "$x_from" >/dev/null
slow_b=$(host_bg_log x)
sleep 6
one_each slow
# b comes back, and only b may call (no mDNS: a cannot find it), into
# a's full table of unfinished handshakes.
kithd_stop b
kithd_start b "$KD_ENV" --no-mdns --peer "$a_ip:$a_port"
wait_peers b a 30
# ...at its first call: no stranger keeps it out, or pushes it out.
if grep -E "refused us|failed the handshake" "$(kithd_log b)"; then
	fail "a turned b away while strangers held its handshake slots"
fi
one_each slow-restart
for f in "$slow_a" "$slow_b"; do
	for i in $(seq 1 300); do grep -q '^slow:' "$f" && break; sleep 0.1; done
	grep '^slow:' "$f" || fail "the slow abuser did not end"
done
phase_end slowloris
wait_log a "refused connection from $X_RE:[0-9]+: too many unfinished handshakes" 5
[ "$(refused_n a busy)" -ge 300 ] || fail "a refused only $(refused_n a busy) for being busy"
pass "slowloris: b got back in to a under 450 unfinished handshakes; records flowed"

# --- 2. flood of maximum-size frames ------------------------------------------
phase_begin
host_bg x "$ABUSER" flood "$a_ip" "$a_port" 20 20 >/dev/null
flood=$(host_bg_log x)
sleep 3
one_each flood
for i in $(seq 1 300); do grep -q '^flood:' "$flood" && break; sleep 0.1; done
grep '^flood:' "$flood" || fail "the flood abuser did not end"
phase_end flood
[ "$(refused_n a stranger)" -ge 20 ] || fail "a refused only $(refused_n a stranger) strangers"
wait_log a "refused connection from $X_RE:[0-9]+: not an active device of this account" 1
wait_log a "refused [0-9]+ more connections in the last [0-9]+ s, not logged one by one: .*stranger" 15
pass "flood: $(grep -o 'bytes_sent=[0-9]*' "$flood") of garbage frames refused; records flowed"

# --- 3. 200 services that are not ours ---------------------------------------
host_bg x "$ABUSER" services 200 60 >/dev/null
svc=$(host_bg_log x)
for i in $(seq 1 100); do grep -q '^services: announcing' "$svc" && break; sleep 0.1; done
grep '^services: announcing=200 of 200' "$svc" || { cat "$svc"; fail "x could not announce 200 services"; }
# Fresh agents: they must find each other among the 200.
kithd_stop a
kithd_stop b
kithd_start a "$KD_ENV"
kithd_start b "$KD_ENV"
phase_begin
wait_peers a b 40
one_each services
wait_log a "ignoring unrecognised service" 10
sleep 4
ign=$(grep -c "ignoring unrecognised service" "$(kithd_log a)")
[ "$ign" -ge 150 ] || fail "a's agent saw only $ign of the 200 services"
phase_end services
pass "200 foreign services: a saw $ign, resolved none, found b and synced"

# --- 4. strangers at 'kith pair' ------------------------------------------------
pair_start a --timeout 120
host_bg x "$ABUSER" pair "$a_ip" "$PAIR_PORT" 50 40 >/dev/null
strangers=$(host_bg_log x)
for i in $(seq 1 300); do grep -q '^pair: connected=' "$strangers" && break; sleep 0.1; done
grep -q '^pair: connected=50$' "$strangers" || { cat "$strangers"; fail "the 50 strangers could not all connect"; }
t0=$(date +%s)
out=$(kith_on n join "$PAIR_PNG" --name n 2>&1) ||
	{ echo "$out" >&2; cat "$PAIR_LOG" >&2; fail "n could not join a among 50 strangers"; }
pair_wait || { cat "$PAIR_LOG" >&2; fail "'kith pair' on a did not end well"; }
t_join=$(( $(date +%s) - t0 ))
# The summary line, not "pair: connected=", says the strangers are done.
for i in $(seq 1 450); do grep -q '^pair: strangers=' "$strangers" && break; sleep 0.1; done
grep '^pair: strangers=' "$strangers" || { cat "$strangers"; fail "the strangers did not end"; }
grep -o '"message":"[^"]*"' "$PAIR_LOG" | sort | uniq -c
grep -q "without this code tried to connect: refused" "$PAIR_LOG" ||
	fail "'kith pair' did not report strangers without the code"
grep -q "refused [0-9]* more connections" "$PAIR_LOG" ||
	fail "'kith pair' did not sum up the refusals"
grep -q 'shut_out=50 ' "$strangers" || fail "not every stranger was shut out"
# Those that spoke were refused for it (17 guessed keys, 17 random frames).
nocode=$(grep -o 'without this code, [0-9]* silent, [0-9]* closed to make room ([0-9]*' "$PAIR_LOG" |
	tail -1 | sed 's/.*(//')
[ "${nocode:-0}" -ge 34 ] || fail "'kith pair' counted ${nocode:-0} strangers without the code, not 34"
kith_on a devices --json | grep -q '"name":"n"' || fail "n is not on a's roster"
kith_on a devices --json | grep -q '"name":"stranger' && fail "a stranger is on the roster"
wait_count n "$(kith_count a)" 30
pass "n paired in $t_join s while 50 strangers tried; the shower said what it refused"

# --- 5. the densest invitation ------------------------------------------------------
host_exec n "$ABUSER" qr "$HOSTS_TMP/dense.png" | tee "$HOSTS_TMP/dense.txt"
grep -q 'version=26' "$HOSTS_TMP/dense.txt" || fail "the dense invitation is not of version 26"
host_exec n "$TOOLS/rss" "$HOSTS_TMP/dense.rss" "$KITH" --home "$(kith_home n)" \
	--passphrase-file "$PASSFILE" invite scan "$HOSTS_TMP/dense.png" \
	> "$HOSTS_TMP/dense.out" 2>&1 || { cat "$HOSTS_TMP/dense.out"; fail "the densest invitation was not taken"; }
grep -q "^Invitation from" "$HOSTS_TMP/dense.out" || { cat "$HOSTS_TMP/dense.out"; fail "scan did not show the invitation"; }
echo "FIGURES qr-dense   $(cat "$HOSTS_TMP/dense.rss")"
host_exec n "$ABUSER" qr "$HOSTS_TMP/over.png" over
must_fail "damaged|does not decode" host_exec n "$TOOLS/rss" "$HOSTS_TMP/over.rss" \
	"$KITH" --home "$(kith_home n)" --passphrase-file "$PASSFILE" invite scan "$HOSTS_TMP/over.png"
echo "FIGURES qr-over    $(cat "$HOSTS_TMP/over.rss")"
for f in dense over; do
	read -r kb s < <(sed 's/maxrss_kb=\([0-9]*\) wall_s=\([0-9.]*\).*/\1 \2/' "$HOSTS_TMP/$f.rss")
	[ "$kb" -le 200000 ] || fail "scanning the $f code took $kb kB"
	[ "${s%.*}" -lt 20 ] || fail "scanning the $f code took $s s"
done
pass "a version-26 invitation scans; one past the format is refused as damaged"

for h in a b; do kithd_stop "$h"; done
cat "$HOSTS_TMP/figures"
pass "agents stopped cleanly; scenario took $(elapsed) s"
