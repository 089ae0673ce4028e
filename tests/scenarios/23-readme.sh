#!/usr/bin/env bash
# Scenario 23: the README's quick start, run as written.
#
#   laptop 192.0.2.231 ---- LAN bridge ---- phone 192.0.2.232
#                                  \------- bob   192.0.2.233   (avahi on each)
#
# Every fenced block of README.md whose info string is "sh HOST" runs, in
# order, on simulated host HOST: each line as bash runs it, in a working
# directory the hosts share (the desk where a QR code is photographed),
# with `kith` and `kithd` of this build first on PATH and each host's
# default home.  The passphrase comes from KITH_PASSPHRASE_FILE, the way
# kith(1) documents for scripts; `kith pair` runs on a pseudo-terminal and
# is answered "y" when it asks to confirm the new device, as a person
# would.  Any command that fails fails the test; then what the quick start
# promises is checked: two paired devices with the same history, a
# contact known on both sides with the same fingerprint, and a note Bob
# sealed for Alice opened on her laptop.
set -euo pipefail
. "$(dirname "$0")/../lib/kith.sh"
kith_setup
README=$(cd "$(dirname "$0")/../.." && pwd)/README.md
DESK=$HOSTS_TMP/desk
mkdir -p "$DESK" "$HOSTS_TMP/bin"
ln -s "$KITH" "$HOSTS_TMP/bin/kith"
ln -s "$KITHD" "$HOSTS_TMP/bin/kithd"
"$TOOLS/genhist" 500 300 5 >"$DESK/mail.jsonl"

# The blocks, as "HOST<TAB>LINE" in README order.
python3 - "$README" >"$HOSTS_TMP/steps" <<'EOF'
import re, sys
host = None
for line in open(sys.argv[1]):
	m = re.match(r"^```sh ([a-z]+)\s*$", line)
	if host is None and m:
		host = m.group(1)
	elif host is not None and line.startswith("```"):
		host = None
	elif host is not None and line.strip():
		print("%s\t%s" % (host, line.rstrip("\n")))
EOF
steps=$(wc -l <"$HOSTS_TMP/steps")
[ "$steps" -ge 10 ] || fail "README.md has only $steps quick-start lines"
for h in $(cut -f1 "$HOSTS_TMP/steps" | sort -u); do
	case $h in
	laptop) host_add laptop 192.0.2.231 ;;
	phone) host_add phone 192.0.2.232 ;;
	bob) host_add bob 192.0.2.233 ;;
	*) fail "README.md names a host '$h' this test does not build" ;;
	esac
done

# on HOST CMD...: the environment of a person's shell on that device.
on() {
	local h=$1
	shift
	host_exec "$h" env PATH="$HOSTS_TMP/bin:$PATH" \
		KITH_HOME="$(kith_home "$h")" KITH_PASSPHRASE_FILE="$PASSFILE" \
		"$@"
}

# kith pair waits for the new device: it runs in the background, on a
# pseudo-terminal that answers its question.
pty_answer() {
	python3 - "$@" <<'EOF'
import os, pty, select, sys, time
pid, fd = pty.fork()
if pid == 0:
	os.execvp("bash", ["bash", "-c", sys.argv[1]])
answered, out, end = False, b"", time.time() + 300
while time.time() < end:
	r, _, _ = select.select([fd], [], [], 0.5)
	if r:
		try:
			b = os.read(fd, 4096)
		except OSError:
			break
		if not b:
			break
		sys.stdout.buffer.write(b)
		sys.stdout.flush()
		out += b
		if not answered and b"[y/N]" in out:
			os.write(fd, b"y\n")
			answered = True
_, st = os.waitpid(pid, 0)
sys.exit(os.waitstatus_to_exitcode(st))
EOF
}

pair_pid=
n=0
while IFS=$'\t' read -r h line; do
	n=$((n + 1))
	echo "--- $h \$ $line"
	if [[ $line =~ ^kith\ pair ]]; then
		png=$(sed -n 's/.*--qr-png \([^ ]*\).*/\1/p' <<<"$line")
		[ -n "$png" ] || fail "the quick start's 'kith pair' writes no PNG to scan"
		pair_pid=$(host_bg "$h" env PATH="$HOSTS_TMP/bin:$PATH" \
			KITH_HOME="$(kith_home "$h")" \
			KITH_PASSPHRASE_FILE="$PASSFILE" \
			bash -c "cd '$DESK' && $(declare -f pty_answer); pty_answer \"\$1\"" \
			_ "$line")
		pair_log=$(host_bg_log "$h")
		for i in $(seq 1 200); do
			[ -s "$DESK/$png" ] && break
			sleep 0.1
		done
		[ -s "$DESK/$png" ] || { cat "$pair_log" >&2; fail "'$line' wrote no code"; }
		continue
	fi
	if ! out=$(cd "$DESK" && on "$h" timeout 300 bash -c "$line" </dev/null 2>&1); then
		echo "$out" >&2
		[ -n "$pair_pid" ] && cat "$pair_log" >&2
		fail "README step $n on $h failed: $line"
	fi
	echo "$out" | grep -v '[█▀▄]' | tail -8
	printf '%s\n' "$out" >"$HOSTS_TMP/step.$n"
	if [[ $line =~ ^kith\ join ]]; then
		PAIR_LOG=$pair_log
		pair_wait || { cat "$pair_log" >&2; fail "'kith pair' on the laptop did not end well"; }
		grep -q "\[y/N\]" "$pair_log" || fail "'kith pair' never asked to confirm the phone"
	fi
done <"$HOSTS_TMP/steps"
pass "the README's $steps quick-start lines ran on $(cut -f1 "$HOSTS_TMP/steps" | sort -u | wc -l) hosts"

# What the quick start promises.
grep -qx 500 "$HOSTS_TMP"/step.* || fail "the phone's 'kith history count' did not print 500"
# Since then the invitation (a record too) reaches the phone by sync.
for i in $(seq 1 100); do
	nl=$(on laptop kith history count)
	np=$(on phone kith history count)
	[ "$nl" = "$np" ] && break
	sleep 0.2
done
[ "$nl" -gt 500 ] && [ "$nl" = "$np" ] ||
	{ tail -n 20 "$(kith_home laptop)/kithd.log" "$(kith_home phone)/kithd.log" >&2; fail "laptop holds $nl records and the phone $np (500 imported, and the invitation)"; }
on laptop kith devices --json | python3 -c '
import json, sys
d = json.load(sys.stdin)
names = sorted(x["name"] for x in d["devices"] if x["status"] == "active")
sys.exit(0 if names == ["laptop", "phone"] else "active devices: %s" % names)'
pass "laptop and phone paired, both hold $nl records"
fp_alice=$(on laptop kith status --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["fingerprint"])')
grep -q "Answered over the network" "$HOSTS_TMP"/step.* ||
	{ cat "$(kith_home laptop)/kithd.log" >&2; fail "Bob's scan did not exchange cards with the laptop's agent"; }
on bob kith contacts --json | python3 -c '
import json, sys
c = json.load(sys.stdin)["contacts"]
sys.exit(0 if any(x["alias"] == "alice" for x in c) else "bob has no contact alice: %s" % c)'
on laptop kith contacts --json | python3 -c '
import json, sys
c = json.load(sys.stdin)["contacts"]
sys.exit(0 if any(x["alias"] == "bob" for x in c) else "alice has no contact bob: %s" % c)'
# The phone learns the contact by sync, from the laptop's agent.
for i in $(seq 1 100); do
	on phone kith contacts --json | grep -q '"alias":"bob"' && break
	sleep 0.2
done
on phone kith contacts --json | grep -q '"alias":"bob"' || fail "the phone never learned of Bob"
pass "Bob and Alice are each other's contacts; the phone has Bob by sync (alice's device fingerprint $fp_alice)"
# Bob's sealed note, opened on Alice's laptop: the note, from Bob.
opened=$(grep -l "The door code is 4711." "$HOSTS_TMP"/step.* | head -1) ||
	fail "no README step printed Bob's note opened"
grep -q "sealed by bob" "$opened" || fail "the opened note does not say Bob sealed it: $(cat "$opened")"
! grep -q "4711" "$DESK/note.kseal" || fail "the sealed note holds the text in clear"
pass "Bob's note sealed for Alice opened on her laptop, signed by Bob"
