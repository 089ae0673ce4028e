#!/usr/bin/env bash
# Scenario 22: kith as a script sees it (docs/CLI.md, kith(1)).
#
#   a 192.0.2.221 (avahi) ---- LAN bridge ---- b 192.0.2.222 (avahi)
#
# 1. Every command with --json prints exactly one JSON document on stdout,
#    whose top-level keys are those docs/CLI.md lists for it, with "ok"
#    true exactly when the exit status is 0; a failure's document carries
#    "error", "code" and "exit" equal to the exit status.
# 2. Exit statuses are distinct: 2 usage, 3 refused, 4 unreachable,
#    5 damaged, 6 a passphrase needed with no terminal.
# 3. Nothing prompts or hangs without a terminal: every command here runs
#    under setsid (no controlling terminal) with stdin from /dev/null and
#    a time limit.
# 4. Envelopes (docs/CLI.md §4): a's account and b's (bob) become contacts
#    by a reply code (no network); a seals for bob and b opens it, to a
#    file and (with --json, no --out) into the document's "data"; a makes
#    the group "team" with bob ("you" first among its members), b opens
#    its envelope (the key kept, no --out file written), lists it, seals
#    to it, and a opens that.  Exit statuses: an altered envelope 3, one
#    cut inside its header 3 (cut short), a file that is no envelope 1,
#    an unknown contact 2; a refused open or seal writes nothing.
set -euo pipefail
. "$(dirname "$0")/../lib/kith.sh"
kith_setup
host_add a 192.0.2.221
host_add b 192.0.2.222
DOC=$(cd "$(dirname "$0")/../.." && pwd)/docs/CLI.md
OUT=$HOSTS_TMP/cli
mkdir -p "$OUT"
n=0

# run NAME EXPECTED-EXIT HOST kith-args...: run kith --json on HOST with no
# terminal (in HOST's home, or RUN_HOME), record its stdout, stderr and
# exit status for the checks.
run() {
	local name=$1 want=$2 h=$3 rc=0
	shift 3
	n=$((n + 1))
	host_exec "$h" timeout 120 setsid -w "$KITH" --json \
		--home "${RUN_HOME:-$(kith_home "$h")}" "$@" </dev/null \
		>"$OUT/$n.out" 2>"$OUT/$n.err" || rc=$?
	printf '%s\t%s\t%s\t%s\n' "$n" "$name" "$want" "$rc" >>"$OUT/index"
	if [ "$rc" != "$want" ]; then
		cat "$OUT/$n.out" "$OUT/$n.err" >&2
		fail "$name: exit status $rc, not $want"
	fi
}
P=(--passphrase-file "$PASSFILE")

# --- the account, and every command that needs no second device -----------
run "init" 0 a init --name laptop "${P[@]}"
run "status" 0 a status
"$TOOLS/genhist" 50 200 3 >"$HOSTS_TMP/h.jsonl"
run "history import" 0 a history import "$HOSTS_TMP/h.jsonl" "${P[@]}"
run "history add" 0 a history add '{"service":"cli.test","id":"x1"}' "${P[@]}"
run "history count" 0 a history count
run "history export" 0 a history export "${P[@]}"
run "history export --out" 0 a history export --out "$HOSTS_TMP/e.jsonl" "${P[@]}"
run "devices" 0 a devices
run "devices --export" 0 a devices --export "$HOSTS_TMP/r1.krst"
run "roster verify" 0 a roster verify "$HOSTS_TMP/r1.krst"
run "unlock" 0 a unlock "${P[@]}"
run "contacts" 0 a contacts "${P[@]}"
run "invite create" 0 a invite create --service https://chat.example.org \
	--alias alice --qr-png "$HOSTS_TMP/inv.png" "${P[@]}"
run "invite list" 0 a invite list "${P[@]}"
run "invite verify" 0 a invite verify "$HOSTS_TMP/inv.png" --roster "$HOSTS_TMP/r1.krst"
id=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["id"])' \
	"$OUT/$((n - 2)).out")
mkdir -p "$HOSTS_TMP/a/stick"
run "backup --init" 0 a backup --init "$HOSTS_TMP/a/stick"
run "backup" 0 a backup "${P[@]}"
run "--version" 0 a --version
# A new device from the stick, and the account rebuilt from its code.
run "restore" 0 b restore "$HOSTS_TMP/a/stick" --name tablet "${P[@]}"
host_exec b rm -rf "$(kith_home b)"
sed -n 's/^Recovery code[^:]*: *//p' "$OUT/1.err" >"$HOSTS_TMP/code"
[ -s "$HOSTS_TMP/code" ] || fail "init printed no recovery code"
run "recover" 0 b recover --name rebuilt --roster "$HOSTS_TMP/r1.krst" \
	--code-file "$HOSTS_TMP/code" "${P[@]}"
host_exec b rm -rf "$(kith_home b)"

# --- pairing, and an invitation between two people ----------------------------
pair_start a
run "join" 0 b join "$PAIR_PNG" --name phone "${P[@]}"
pair_wait || { cat "$PAIR_LOG" >&2; fail "pair on a"; }
# pair's one document is its last line on stdout; its events went to
# stderr (host_bg keeps both in one log, so take the last line).
tail -1 "$PAIR_LOG" >"$OUT/pair.out"
n=$((n + 1))
cp "$OUT/pair.out" "$OUT/$n.out"
: >"$OUT/$n.err"
printf '%s\t%s\t%s\t%s\n' "$n" "pair" 0 0 >>"$OUT/index"
grep -q '"event":"waiting"' "$PAIR_LOG" || fail "pair --json gave no waiting event"
run "passphrase" 0 b passphrase "${P[@]}" --new-passphrase-file "$PASSFILE"
run "revoke" 0 a revoke phone "${P[@]}"
run "devices --export" 0 a devices --export "$HOSTS_TMP/r2.krst"
run "roster verify --device (revoked)" 3 a roster verify "$HOSTS_TMP/r2.krst" \
	--device "$(kith_on a devices --json | python3 -c 'import json,sys
for d in json.load(sys.stdin)["devices"]:
    if d["name"] == "phone": print(d["id"])')"
run "invite revoke" 0 a invite revoke "${id:0:8}" "${P[@]}"
# A second account on b answers an invitation by reply code.
host_exec b rm -rf "$(kith_home b)"
run "init" 0 b init --name bob "${P[@]}"
run "invite create" 0 a invite create --service https://chat.example.org \
	--alias alice --qr-png "$HOSTS_TMP/inv2.png" "${P[@]}"
run "invite scan" 0 b invite scan "$HOSTS_TMP/inv2.png" --alias bob "${P[@]}"
scanned=$n
run "contacts" 0 b contacts "${P[@]}"
pass "every command printed its document (${n} runs)"

# --- envelopes: seal, open, group ------------------------------------------------
# jcheck N WHAT PYTHON: the document of run N (as d) passes PYTHON's asserts.
jcheck() {
	python3 -c 'import base64, json, sys
d = json.load(open(sys.argv[1]))
exec(sys.argv[2])' "$OUT/$1.out" "$3" || { cat "$OUT/$1.out" >&2; fail "$2"; }
}
# With no agent on a, b's scan answered by a reply code; a scans it, and
# the two accounts are each other's contacts ("alice" on b, "bob" on a).
reply=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["reply"])' \
	"$OUT/$scanned.out") || fail "b's invite scan gave no reply code"
run "invite scan" 0 a invite scan --code "$reply" "${P[@]}"
jcheck "$n" "a did not take bob's reply" 'assert d["contact"] == "bob" and d["new"] is True, d'
E=$HOSTS_TMP/env
mkdir -p "$E"
printf 'the figures for Tuesday\n' >"$E/msg.txt"
run "seal" 0 a seal --to bob --out "$E/m.kseal" "$E/msg.txt" "${P[@]}"
jcheck "$n" "seal --json says otherwise" '
assert d["file"].endswith("/m.kseal") and d["bytes"] == 24 and d["self"] is True, d
assert [r["alias"] for r in d["recipients"]] == ["bob"] and "group" not in d, d'
run "open" 0 b open --out "$E/m.out" "$E/m.kseal" "${P[@]}"
cmp -s "$E/msg.txt" "$E/m.out" || fail "open --out wrote other bytes than were sealed"
jcheck "$n" "open --out --json says otherwise" '
assert d["kind"] == "data" and d["bytes"] == 24 and d["name"] == "msg.txt", d
assert d["file"].endswith("/m.out") and "data" not in d, d
s = d["sender"]
assert (s["alias"], s["how"], s["verified"]) == ("alice", "contact", True), s'
run "open" 0 b open "$E/m.kseal" "${P[@]}"
jcheck "$n" "open --json without --out does not carry the plaintext" '
assert d["file"] is None and base64.b64decode(d["data"]) == b"the figures for Tuesday\n", d'
run "group create" 0 a group create team --member bob --out "$E/team.kseal" "${P[@]}"
jcheck "$n" "group create --json says otherwise" '
g = d["group"]
assert g["name"] == "team" and d["file"].endswith("/team.kseal"), d
assert [m["alias"] for m in g["members"]] == ["you", "bob"], g'
run "open" 0 b open --out "$E/team.out" "$E/team.kseal" "${P[@]}"
[ ! -e "$E/team.out" ] || fail "opening a group's envelope wrote its --out file"
jcheck "$n" "open of the group's envelope says otherwise" '
assert d["kind"] == "group" and d["bytes"] == 0 and d["file"] is None, d
assert d["group"]["name"] == "team" and d["group"]["stored"] is True and "data" not in d, d'
run "group list" 0 b group list "${P[@]}"
jcheck "$n" "b's group list says otherwise" '
[g] = d["groups"]
assert g["name"] == "team" and "key" not in g, g
assert sorted((m["alias"], m["contact"]) for m in g["members"]) == [("alice", True), ("you", False)], g'
run "seal" 0 b seal --group team --out "$E/g.kseal" "$E/msg.txt" "${P[@]}"
jcheck "$n" "seal --group --json says otherwise" '
assert d["group"]["name"] == "team" and d["recipients"] == [], d'
run "open" 0 a open "$E/g.kseal" "${P[@]}"
jcheck "$n" "a's open of bob's message to the group says otherwise" '
assert d["group"]["name"] == "team" and d["sender"]["alias"] == "bob", d
assert base64.b64decode(d["data"]) == b"the figures for Tuesday\n", d'
# Refusals, and what each leaves behind: one byte flipped in the middle,
# and the envelope cut inside its 12-byte header.
python3 -c 'import sys
b = bytearray(open(sys.argv[1], "rb").read())
open(sys.argv[2] + "/cut.kseal", "wb").write(b[:10])
b[len(b) // 2] ^= 1
open(sys.argv[2] + "/bad.kseal", "wb").write(b)' "$E/m.kseal" "$E"
run "refused: open (altered)" 3 b open --out "$E/bad.out" "$E/bad.kseal" "${P[@]}"
jcheck "$n" "an altered envelope: not 'authentication failed'" \
	'assert d["code"] == "authentication failed", d'
[ -z "$(find "$E" -name bad.out -o -name '.bad.out.kith-*')" ] ||
	fail "a refused open left a file: $(ls -a "$E")"
run "refused: open (cut in its header)" 3 b open "$E/cut.kseal" "${P[@]}"
jcheck "$n" "an envelope cut in its header: not cut short" \
	'assert d["code"] == "stream cut before its end", d'
run "failed: open (not an envelope)" 1 b open "$E/msg.txt" "${P[@]}"
jcheck "$n" "a file that is no envelope: not 'not a kith code'" \
	'assert d["code"] == "not a kith code", d'
run "usage: seal (unknown contact)" 2 a seal --to nobody --out "$E/n.kseal" "$E/msg.txt" "${P[@]}"
[ ! -e "$E/n.kseal" ] || fail "seal for an unknown contact wrote an envelope"
# A new generation of the group (bob already in it: the key renewed);
# removing its last member is a usage error, a change by bob refused.
run "group add" 0 a group add team --member bob --out "$E/team2.kseal" "${P[@]}"
jcheck "$n" "group add --json says otherwise" '
g = d["group"]
assert g["name"] == "team" and g["generation"] == 2 and len(g["members"]) == 2, d'
run "open" 0 b open "$E/team2.kseal" "${P[@]}"
run "group list" 0 b group list "${P[@]}"
jcheck "$n" "b's group list after the change says otherwise" '
[g] = d["groups"]
assert g["name"] == "team" and g["generation"] == 2, d'
run "usage: group remove (no member left)" 2 a group remove team --member bob --out "$E/team3.kseal" "${P[@]}"
[ ! -e "$E/team3.kseal" ] || fail "a refused group remove wrote an envelope"
run "refused: group add (not the creator)" 3 b group add team --member alice --out "$E/team4.kseal" "${P[@]}"
[ ! -e "$E/team4.kseal" ] || fail "a refused group add wrote an envelope"
# bob makes a group with the name of one of alice's, and hands it to her:
# sealing to the name is ambiguous now (2), but alice still changes her
# own group of that name.
run "group create" 0 a group create crew --member bob --out "$E/crew-a.kseal" "${P[@]}"
run "group create" 0 b group create crew --member alice --out "$E/crew-b.kseal" "${P[@]}"
run "open" 0 a open "$E/crew-b.kseal" "${P[@]}"
run "usage: seal --group (two groups of the name)" 2 a seal --group crew --out "$E/c.kseal" "$E/msg.txt" "${P[@]}"
[ ! -e "$E/c.kseal" ] || fail "seal to an ambiguous group wrote an envelope"
cat "$OUT/$n.out" "$OUT/$n.err" | grep -q "give the id" || fail "seal to an ambiguous group does not say how to name one"
run "group add (bob's group of the name held too)" 0 a group add crew --member bob --out "$E/crew2.kseal" "${P[@]}"
jcheck "$n" "group add of alice's crew beside bob's says otherwise" '
g = d["group"]
assert g["name"] == "crew" and g["generation"] == 2 and g["members"][0]["alias"] == "you", d'

# Bob's roster handed to alice by hand: the one she learned from his
# envelope already (not updated); her own roster is no roster of his (3).
run "devices --export" 0 b devices --export "$E/bob.krst"
run "contacts update" 0 a contacts update bob --roster "$E/bob.krst" "${P[@]}"
jcheck "$n" "contacts update --json says otherwise" '
assert d["alias"] == "bob" and d["updated"] is False and d["roster_version"] >= 1, d'
run "devices --export" 0 a devices --export "$E/alice.krst"
run "refused: contacts update (another account's roster)" 3 a contacts update bob --roster "$E/alice.krst" "${P[@]}"
pass "seal, open, group create, group list: documents as docs/CLI.md §4 says; an altered envelope and one cut short exit 3, a file that is none 1, an unknown contact 2, and nothing is left"

# --- exit statuses -----------------------------------------------------------------
run "usage: unknown option" 2 a status --bogus
run "usage: unknown command" 2 a frobnicate
run "usage: missing value" 2 a devices --export
run "usage: bad timeout" 2 a pair --timeout 5 "${P[@]}"
echo "not the passphrase" >"$HOSTS_TMP/wrong"
run "refused: wrong passphrase" 3 a revoke laptop --passphrase-file "$HOSTS_TMP/wrong"
# A tampered roster does not verify.
python3 - "$HOSTS_TMP/r1.krst" "$HOSTS_TMP/bad.krst" <<'EOF'
import sys
b = bytearray(open(sys.argv[1], "rb").read())
b[len(b) // 2] ^= 1
open(sys.argv[2], "wb").write(b)
EOF
run "refused: tampered roster" 3 a roster verify "$HOSTS_TMP/bad.krst"
# A pairing code whose shower is gone: nobody answers.
pair_start a --timeout 10
kill "$PAIR_PID" 2>/dev/null || true
for i in $(seq 1 50); do kill -0 "$PAIR_PID" 2>/dev/null || break; sleep 0.1; done
host_exec b rm -rf "$(kith_home b)"
run "unreachable: the shower is gone" 4 b join "$PAIR_PNG" --name p2 "${P[@]}"
# A shower with no terminal to confirm on (and no --yes) declines.
pb=$(host_bg a timeout 120 setsid -w "$KITH" --home "$(kith_home a)" --json "${P[@]}" \
	pair --qr-png "$HOSTS_TMP/nc.png")
pblog=$(host_bg_log a)
for i in $(seq 1 100); do [ -s "$HOSTS_TMP/nc.png" ] && break; sleep 0.1; done
host_exec b rm -rf "$(kith_home b)"
run "refused: no confirmation" 3 b join "$HOSTS_TMP/nc.png" --name p3 "${P[@]}"
for i in $(seq 1 100); do [ -s "${pblog%.log}.rc" ] && break; sleep 0.1; done
[ "$(cat "${pblog%.log}.rc")" = 3 ] || { cat "$pblog" >&2; fail "pair with no terminal exited $(cat "${pblog%.log}.rc"), not 3"; }
grep -q -- "--yes" "$pblog" || { cat "$pblog" >&2; fail "pair did not say to use --yes"; }
# A passphrase needed, no terminal and no --passphrase-file.
run "needpass: history export" 6 a history export
run "needpass: revoke" 6 a revoke phone
grep -q -- "--passphrase-file" "$OUT/$n.out" || fail "the failure does not name --passphrase-file"
# A damaged store.
cp -a "$(kith_home a)" "$HOSTS_TMP/a/broken"
python3 - "$HOSTS_TMP/a/broken/kith.db" <<'EOF'
import sys
p = sys.argv[1]
b = bytearray(open(p, "rb").read())
for i in range(4096, len(b), 4096):
	b[i + 100:i + 400] = bytes(300)
open(p, "wb").write(b)
EOF
RUN_HOME=$HOSTS_TMP/a/broken run "damaged: history export" 5 a history export "${P[@]}"
pass "exit statuses: 2 usage, 3 refused, 4 unreachable, 5 damaged, 6 no terminal"

# --- every document against docs/CLI.md ---------------------------------------
python3 - "$OUT" "$DOC" <<'EOF'
import json, re, sys
out, doc = sys.argv[1], sys.argv[2]
# docs/CLI.md: rows "| `kith CMD` | `key`, `key?`, ... |"
spec = {}
for line in open(doc):
	m = re.match(r"\|\s*`kith ([^`]+)`\s*\|(.*)\|\s*$", line)
	f = re.match(r"\|\s*any failure\s*\|(.*)\|\s*$", line)
	if m:
		keys = re.findall(r"`([a-z_]+\??)`", m.group(2))
		spec[m.group(1).strip()] = keys
	elif f:
		spec["(any failure)"] = re.findall(r"`([a-z_]+\??)`", f.group(1))
fail = []
fail_keys = set(spec.get("(any failure)", []))
if not fail_keys:
	fail.append("docs/CLI.md has no row for (any failure)")
for row in open(out + "/index"):
	n, name, want, rc = row.rstrip("\n").split("\t")
	rc = int(rc)
	text = open("%s/%s.out" % (out, n)).read()
	try:
		d = json.loads(text)
	except ValueError as e:
		fail.append("%s: stdout is not one JSON document (%s): %r" % (name, e, text[:200]))
		continue
	if not isinstance(d, dict) or not isinstance(d.get("ok"), bool):
		fail.append("%s: no boolean 'ok'" % name)
		continue
	if d["ok"] != (rc == 0):
		fail.append("%s: ok=%s with exit status %d" % (name, d["ok"], rc))
	if rc != 0:
		for k in ("error", "code", "exit"):
			if k not in d:
				fail.append("%s: failure without '%s'" % (name, k))
		if d.get("exit") != rc:
			fail.append("%s: exit %r in JSON, %d for real" % (name, d.get("exit"), rc))
		if rc == 2 and d.get("code") != "usage":
			fail.append("%s: a usage error with code %r" % (name, d.get("code")))
	cmd = re.sub(r"^(usage|failed|refused|unreachable|needpass|damaged): ", "", name)
	cmd = re.sub(r" \(.*\)$", "", cmd)
	if rc != 0 and cmd not in spec:
		continue	# a failure: checked against (any failure) above
	if cmd not in spec:
		fail.append("%s: not documented in docs/CLI.md" % cmd)
		continue
	allowed = {k.rstrip("?") for k in spec[cmd]} | (fail_keys if rc else set())
	required = {k for k in spec[cmd] if not k.endswith("?")}
	extra = set(d) - allowed
	missing = required - set(d) if rc == 0 else set()
	if extra:
		fail.append("%s: keys not in docs/CLI.md: %s" % (cmd, sorted(extra)))
	if missing:
		fail.append("%s: documented keys missing: %s" % (cmd, sorted(missing)))
# Every command of the doc was seen at least once.
seen = {re.sub(r" \(.*\)$", "", re.sub(r"^[a-z]+: ", "", r.split("\t")[1]))
	for r in open(out + "/index")}
for c in spec:
	if c != "(any failure)" and c not in seen:
		fail.append("docs/CLI.md documents '%s', which this test never ran" % c)
print("checked %d documents against %d commands of docs/CLI.md" %
	(sum(1 for _ in open(out + "/index")), len(spec) - 1))
if fail:
	print("\n".join(fail))
	sys.exit(1)
EOF
pass "every document has the keys docs/CLI.md gives it"
