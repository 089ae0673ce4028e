#!/usr/bin/env bash
# manpages.sh: the man pages say what the programs do.  For every command
# `kith --help` lists, and every subcommand its `kith CMD --help` shows,
# the options its --help shows must be exactly the options kith(1)
# documents for it (one .TP entry each under its .SS), and likewise the
# global options and kithd(8) against `kithd --help`; both directions are
# listed on failure.  Then each page must lint clean: mandoc -Tlint (if
# installed), groff -ww, man --warnings.
#
# Usage: manpages.sh SRCDIR BINDIR
set -u
src=$1 bin=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0

# --help must not depend on this machine: no home, no agent, no passphrase.
export KITH_HOME=$tmp/nohome KITH_SOCKET=$tmp/nosock
unset KITH_PASSPHRASE_FILE KITH_RECOVERY_FILE KITH_NEW_PASSPHRASE_FILE

python3 - "$src" "$bin" <<'EOF' || fails=$((fails + 1))
import os, re, subprocess, sys

src, bindir = sys.argv[1], sys.argv[2]
KITH = os.path.join(bindir, "kith")
KITHD = os.path.join(bindir, "kithd")
OPT = re.compile(r"(?<![\w-])(--?[A-Za-z][\w-]*)")
IGNORE = {"-h", "--help"}          # every command takes them (kith(1) says so)

# Where --help and the man page may differ: nowhere.  (An entry here
# that no longer happens fails the test, so that the list cannot go stale.)
KNOWN = set()


def run(*argv):
    p = subprocess.run(list(argv), capture_output=True, text=True,
                       timeout=60)
    return p.returncode, p.stdout + p.stderr


def usage_block(text):
    """The usage lines: 'usage:' and the indented lines that follow it."""
    lines = text.splitlines()
    for i, l in enumerate(lines):
        if l.startswith("usage:"):
            out = [l[len("usage:"):]]
            for m in lines[i + 1:]:
                if not m[:1].isspace():
                    break
                out.append(m)
            return out
    return []


def help_options(text):
    """Options in the usage lines and in '  --opt ARG  what' lines."""
    opts = set()
    for l in usage_block(text):
        opts |= set(OPT.findall(l))
    for l in text.splitlines():
        m = re.match(r"\s+(-[\w-]+)(?:,\s*(-[\w-]+))?", l)
        if m:
            opts |= {o for o in m.groups() if o}
    return opts - IGNORE


def subcommands(cmd, text):
    """{sub: [usage lines]} from 'kith CMD sub|sub2 ...' usage lines."""
    subs, cur = {}, None
    for l in usage_block(text):
        # One space: 'kith backup      back up to ...' is a description.
        m = re.match(r"\s*kith " + re.escape(cmd) + r" (\S+)", l)
        if m:
            cur = None
            words = m.group(1).split("|")
            if all(re.fullmatch(r"[a-z]+", w) for w in words):
                for w in words:
                    subs.setdefault(w, [])
                cur = words[0] if len(words) == 1 else None
                if cur:
                    subs[cur].append(l)
        elif cur and not l.lstrip().startswith("kith "):
            subs[cur].append(l)
    return subs


# --- what --help says
rc, top = run(KITH, "--help")
if rc != 0:
    sys.exit("kith --help exits %d" % rc)
helps = {"global": set(OPT.findall(usage_block(top)[0])) - IGNORE}
cmds = []
incmds = False
for l in top.splitlines():
    if l.startswith("commands:"):
        incmds = True
    elif incmds and re.match(r"  [a-z]+\b", l):
        c = l.split()[0]
        if c not in cmds:
            cmds.append(c)
    elif incmds and not l.strip():
        break
if len(cmds) < 5:
    sys.exit("kith --help lists only %r" % cmds)
problems = set()
for c in cmds:
    rc, t = run(KITH, c, "--help")
    if rc != 0 or not usage_block(t):
        problems.add((c, "no --help", ""))
    subs = subcommands(c, t)
    if not subs:
        helps[c] = help_options(t)
        continue
    # 'kith contacts' beside 'kith contacts update ...': the command
    # alone is one too, with no options of its own.
    if any(re.fullmatch(r"\s*kith " + re.escape(c) + r"\s*", l)
           for l in usage_block(t)):
        helps[c] = set()
    for s, lines in subs.items():
        rc2, t2 = run(KITH, c, s, "--help")
        if rc2 == 0 and usage_block(t2):
            helps[c + " " + s] = help_options(t2)
        else:
            problems.add((c + " " + s, "no --help", ""))
            helps[c + " " + s] = set().union(
                *[set(OPT.findall(l)) for l in lines]) - IGNORE
rc, t = run(KITHD, "--help")
helps["kithd"] = help_options(t) if rc == 0 else set()
if rc != 0:
    problems.add(("kithd", "no --help", ""))


# --- what the pages document
def roff_text(l):
    l = re.sub(r"\\f[BIRP]|\\f\(..|\\&|\\%|\\c$", "", l)
    return l.replace("\\-", "-").replace('"', " ")


def man_options(path, sections):
    """{key: options of the .TP/.TQ tags} for the .SH/.SS keys wanted."""
    doc, sh, ss, tag = {}, None, None, False
    for l in open(path, encoding="utf-8"):
        l = l.rstrip("\n")
        if l.startswith(".SH"):
            sh, ss = l[3:].strip().strip('"'), None
            continue
        if l.startswith(".SS"):
            ss = l[3:].strip().strip('"')
            if sections.get(sh) == "SS":
                doc.setdefault(ss, set())
            continue
        if l.startswith((".TP", ".TQ")):
            tag = True
            continue
        if tag:
            tag = False
            key = sections.get(sh)
            if key == "SS":
                key = ss
            if key is None:
                continue
            words = roff_text(re.sub(r"^\.\w+\s*", "", l)).split()
            doc.setdefault(key, set())
            if words and words[0].startswith("-"):
                doc[key] |= set(OPT.findall(" ".join(words))) - IGNORE
    return doc


docs = man_options(os.path.join(src, "syncd/man/kith.1"),
                   {"OPTIONS": "global", "COMMANDS": "SS"})
docs.update(man_options(os.path.join(src, "syncd/man/kithd.8"),
                        {"OPTIONS": "kithd"}))

for key in sorted(set(helps) | set(docs)):
    if key not in docs:
        problems.add((key, "not in the man page", ""))
        continue
    if key not in helps:
        problems.add((key, "in the man page, not in --help", ""))
        continue
    for o in helps[key] - docs[key]:
        problems.add((key, "--help only", o))
    for o in docs[key] - helps[key]:
        problems.add((key, "man only", o))

bad = 0
for p in sorted(problems - KNOWN):
    print("MISMATCH %s: %s %s" % p)
    bad += 1
for p in sorted(KNOWN - problems):
    print("FIXED, remove from KNOWN: %s: %s %s" % p)
    bad += 1
for p in sorted(problems & KNOWN):
    print("known (the lead fixes --help): %s: %s %s" % p)
n = sum(len(v) for v in docs.values())
print("%d commands and subcommands, %d options documented, %d mismatches"
      % (len(docs), n, bad))
sys.exit(1 if bad else 0)
EOF

# Lint: every tool that is here, every page; any word from them fails.
for page in "$src"/syncd/man/*.[1-8]; do
	name=${page##*/}
	if command -v mandoc >/dev/null; then
		out=$(mandoc -Tlint -Wwarning "$page" 2>&1)
		[ -z "$out" ] || { echo "mandoc $name:"$'\n'"$out"; fails=$((fails + 1)); }
	fi
	out=$(groff -man -ww -z "$page" 2>&1)
	[ -z "$out" ] || { echo "groff $name:"$'\n'"$out"; fails=$((fails + 1)); }
	if command -v man >/dev/null; then
		out=$(MANWIDTH=80 man --warnings -l "$page" 2>&1 >/dev/null)
		[ -z "$out" ] || { echo "man $name:"$'\n'"$out"; fails=$((fails + 1)); }
	fi
done
command -v mandoc >/dev/null || echo "note: mandoc not installed (Debian: mandoc): its lint skipped"
exit $((fails > 0))
