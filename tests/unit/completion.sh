#!/bin/bash
# completion.sh: the bash completion of kith and kithd
# (packaging/completion/kith.bash), driven as readline drives it
# (COMP_WORDS, COMP_CWORD, COMP_LINE, COMP_POINT), against the real
# binaries and a real home of two devices paired over loopback; and the
# zsh one (_kith) loaded and run with compadd and the file completers
# stubbed, when zsh is installed.
#
# KITH_BIN: the directory of the built kith and kithd (ctest sets it).
# Exit 77 (skipped) without bash-completion.
set -u
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
src=$(cd "$here/../.." && pwd)
KITH=${KITH_BIN:-$src/build/asan/syncd}/kith
KITHD=$(dirname "$KITH")/kithd
COMPL=$src/packaging/completion
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
[ -x "$KITH" ] || { echo "kith not built at $KITH" >&2; exit 1; }

bc=$(pkg-config --variable=compatdir bash-completion 2>/dev/null)
bc=${bc%/bash_completion.d}/bash_completion
[ -r "$bc" ] || bc=/usr/share/bash-completion/bash_completion
[ -r "$bc" ] || { echo "SKIP: bash-completion is not installed" >&2; exit 77; }

T=$(mktemp -d)
PAIR_PID=
cleanup() {
	[ -z "$PAIR_PID" ] || kill "$PAIR_PID" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT
nfail=0 npass=0
ok() { npass=$((npass + 1)); echo "ok: $*"; }
bad() { nfail=$((nfail + 1)); echo "FAIL: $*"; }

# ---- a real home of two devices: laptop (A) and phone (B) ----------------
pf=$T/passphrase
echo "correct horse battery staple" > "$pf"
chmod 600 "$pf"
"$KITH" --home "$T/A" --passphrase-file "$pf" init --name laptop \
	>/dev/null 2>&1 || { echo "kith init failed" >&2; exit 1; }
"$KITH" --home "$T/A" --passphrase-file "$pf" pair --json --yes \
	--qr-png "$T/pair.png" >"$T/pair.log" 2>&1 &
PAIR_PID=$!
port=
for _ in $(seq 1 100); do
	port=$(sed -n 's/.*"event":"waiting","port":\([0-9]*\).*/\1/p' \
		"$T/pair.log" | head -1)
	[ -n "$port" ] && [ -s "$T/pair.png" ] && break
	sleep 0.1
done
[ -n "$port" ] || { cat "$T/pair.log" >&2; echo "kith pair did not start" >&2; exit 1; }
timeout 120 "$KITH" --home "$T/B" --passphrase-file "$pf" join "$T/pair.png" \
	--name phone --peer "127.0.0.1:$port" >"$T/join.log" 2>&1 ||
	{ cat "$T/join.log" "$T/pair.log" >&2; echo "kith join failed" >&2; exit 1; }
wait "$PAIR_PID" || { cat "$T/pair.log" >&2; echo "kith pair failed" >&2; exit 1; }
PAIR_PID=
inv=$("$KITH" --home "$T/A" --passphrase-file "$pf" --json invite create \
	--service https://chat.example.org --no-hints 2>/dev/null |
	sed -n 's/^{"ok":true,"id":"\([0-9a-f]*\)".*/\1/p')
[ -n "$inv" ] || { echo "kith invite create failed" >&2; exit 1; }

# A contact "carol" (her own account, C, met by reply code) and a group
# "team" with her, for --to, --member, --group and contacts update.
"$KITH" --home "$T/C" --passphrase-file "$pf" init --name carol \
	>/dev/null 2>&1 || { echo "kith init of C failed" >&2; exit 1; }
doc=$("$KITH" --home "$T/A" --passphrase-file "$pf" --json invite create \
	--service https://chat.example.org --alias alice --no-hints 2>/dev/null)
code=$(sed -n 's/.*"code":"\([^"]*\)".*/\1/p' <<<"$doc")
inv2=$(sed -n 's/^{"ok":true,"id":"\([0-9a-f]*\)".*/\1/p' <<<"$doc")
reply=$("$KITH" --home "$T/C" --passphrase-file "$pf" --json invite scan \
	--code "$code" --alias carol --no-lan 2>/dev/null |
	sed -n 's/.*"reply":"\([^"]*\)".*/\1/p')
if ! "$KITH" --home "$T/A" --passphrase-file "$pf" invite scan \
	--code "$reply" >/dev/null 2>&1 ||
	! "$KITH" --home "$T/A" --passphrase-file "$pf" group create team \
		--member carol --out "$T/team.kseal" >/dev/null 2>&1; then
	echo "a contact and a group for A: failed" >&2
	exit 1
fi

# ---- files for the value completions -------------------------------------
F=$T/files
mkdir -p "$F/sub dir" "$F/pics"
touch "$F/code.png" "$F/photo.JPG" "$F/snap.jpeg" "$F/notes.txt" \
	"$F/mail.jsonl" "$F/scan.pgm"

# ---- the driver ------------------------------------------------------------
# comp LINE: complete at the end of LINE in a fresh non-interactive bash
# with bash-completion and kith.bash loaded; prints COMPREPLY sorted, one
# per line; whatever the completion wrote on stderr goes to $T/err.
comp() {
	(
		cd "$F" || exit 1
		# shellcheck disable=SC1090
		. "$bc"
		# shellcheck disable=SC1091
		. "$COMPL/kith.bash"
		COMP_LINE=$1
		COMP_POINT=${#1}
		# readline splits words at blanks and at COMP_WORDBREAKS (the
		# '=' of --home=DIR is a word of its own).
		read -ra w <<<"${1//=/ = }"
		COMP_WORDS=("${w[@]}")
		[[ $1 == *" " || $1 == *= ]] && COMP_WORDS+=("")
		COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
		COMPREPLY=()
		_kith "${COMP_WORDS[0]}" "${COMP_WORDS[COMP_CWORD]}" \
			"${COMP_WORDS[COMP_CWORD - 1]}"
		printf '%s\n' "${COMPREPLY[@]}" | sed '/^$/d' | sort
	) 2>>"$T/err"
}

# same NAME "LINE" EXPECTED...: COMPREPLY is exactly EXPECTED.
same() {
	local name=$1 line=$2 got want
	shift 2
	got=$(comp "$line" | tr '\n' ' ')
	want=$(printf '%s\n' "$@" | sed '/^$/d' | sort | tr '\n' ' ')
	if [ "$got" = "$want" ]; then ok "$name"
	else bad "$name: '$line' gave [$got], want [$want]"; fi
}

# has NAME "LINE" WORD... / hasnt: COMPREPLY holds (none of) the WORDs.
has() {
	local name=$1 line=$2 got w
	shift 2
	got=$(comp "$line")
	for w in "$@"; do
		grep -qxF -- "$w" <<<"$got" ||
			{ bad "$name: '$line' gave [${got//$'\n'/ }], lacks $w"; return; }
	done
	ok "$name"
}
hasnt() {
	local name=$1 line=$2 got w
	shift 2
	got=$(comp "$line")
	for w in "$@"; do
		! grep -qxF -- "$w" <<<"$got" ||
			{ bad "$name: '$line' gave [${got//$'\n'/ }], with $w"; return; }
	done
	ok "$name"
}

k=$KITH
# Commands, from the brief's surface.
has "all commands" "$k " init status devices pair join revoke recover \
	unlock passphrase roster invite contacts backup restore history
same "commands from a prefix" "$k re" recover restore revoke
same "commands after a global option" "$k --json --home $T/A pa" pair \
	passphrase
has "global options" "$k --" --home --json --passphrase-file --help

# Options of a command, from its --help.
has "options of pair" "$k pair --" --qr-png --timeout --yes --home --json \
	--passphrase-file
hasnt "pair has no join options" "$k pair --" --name --peer --camera
has "options of join" "$k join --" --code --camera --name --peer
same "join options from a prefix" "$k join --c" --camera --code
has "options of invite create" "$k invite create --" --service --alias \
	--ttl --uses --qr-png --note
has "options of history export" "$k history export --" --out
hasnt "history export: not add's" "$k history export --" --service --subject
has "options of roster verify" "$k roster verify --" --account --held \
	--device
has "kithd options" "$KITHD --" --home --foreground --peer --port \
	--no-mdns --passphrase-file

# Subcommands.
same "subcommands of invite" "$k invite " create list revoke scan verify
same "subcommands of history" "$k history " add count export import
same "subcommand of roster" "$k roster " verify
same "invite subcommand from a prefix" "$k --home $T/A invite s" scan

# Device names from the selected home: active, not this device.
same "revoke on laptop's home" "$k --home $T/A revoke " phone
same "revoke on phone's home, --home after" "$k revoke --home $T/B " laptop
same "revoke with --home=DIR" "$k --home=$T/B revoke " laptop
export KITH_HOME=$T/B
same "revoke from \$KITH_HOME" "$k revoke " laptop
same "--home beats \$KITH_HOME" "$k --home $T/A revoke " phone
unset KITH_HOME
same "a device already named is not offered again" \
	"$k --home $T/A revoke phone " ""
same "a home that does not exist: no names" \
	"$k --home $T/nowhere revoke " ""

# Invitation ids (a locked device: the passphrase file of the line opens it;
# without one, nothing, and no prompt).
same "invite revoke: the issued invitations" \
	"$k --home $T/A --passphrase-file $pf invite revoke " "$inv" "$inv2"
same "invite revoke: locked, no passphrase file: nothing" \
	"$k --home $T/A invite revoke " ""

# Contacts and groups of the selected home.
same "seal --to: the contacts" \
	"$k --home $T/A --passphrase-file $pf seal --to " carol
same "seal --to a prefix" \
	"$k --home $T/A --passphrase-file $pf seal --to ca" carol
same "group create --member: the contacts" \
	"$k --home $T/A --passphrase-file $pf group create x --member " carol
same "contacts update: the contacts" \
	"$k --home $T/A --passphrase-file $pf contacts update " carol
same "seal --group: the groups" \
	"$k --home $T/A --passphrase-file $pf seal --group " team
same "seal --to on carol's home: alice" \
	"$k --home $T/C --passphrase-file $pf seal --to " alice
same "seal --to on a home with no contacts: nothing" \
	"$k --home $T/B --passphrase-file $pf seal --to " ""
has "options of seal" "$k seal --" --to --group --no-self --name --out \
	--armour --binary
has "options of open" "$k open --" --out --max-buffer

# Files.
same "join: images and directories only" "$k join " code.png photo.JPG \
	snap.jpeg "sub dir" pics
same "invite scan: images and directories" "$k invite scan " code.png \
	photo.JPG snap.jpeg "sub dir" pics
same "--qr-png: png and directories" "$k pair --qr-png " code.png \
	"sub dir" pics
same "--home: directories" "$k --home " "sub dir" pics
same "--home=: directories" "$k --home=" "sub dir" pics
same "backup --init: directories" "$k backup --init " "sub dir" pics
same "restore: directories" "$k restore " "sub dir" pics
same "history import: .jsonl" "$k history import " mail.jsonl "sub dir" pics
has "--passphrase-file: files" "$k status --passphrase-file " notes.txt \
	code.png
has "devices --export: files" "$k devices --export " notes.txt
same "--name takes no file" "$k join --name " ""

if [ -s "$T/err" ]; then
	bad "the completion wrote on stderr:"
	cat "$T/err"
else
	ok "nothing on stderr"
fi

# ---- zsh -------------------------------------------------------------------
if command -v zsh >/dev/null; then
	if zsh -n "$COMPL/_kith"; then ok "zsh: _kith parses"; else bad "zsh: _kith does not parse"; fi
	# zcomp LINE: run _kith as the completion system would, compadd and
	# the file completers printing what they are given.
	zcomp() {
		(cd "$F" && zsh -f -c '
			fpath=("$1" $fpath)
			autoload -Uz _kith
			# compadd keeps the matches of the word being completed.
			compadd() { local -a m
			    [[ $1 == -a ]] && m=(${(P)2}) || m=("${@[(r)--,-1][2,-1]}")
			    print -rl -- ${(M)m:#${words[CURRENT]}*}; }
			_files() { print -r -- "_files $*"; }
			_directories() { print -r -- _directories; }
			_message() { :; }
			words=(${(z)2})
			[[ $2 == *" " ]] && words+=("")
			CURRENT=${#words}
			_kith' zsh "$COMPL" "$1" 2>>"$T/zerr") | sort | tr '\n' ' '
	}
	zsame() {
		local got
		got=$(zcomp "$2")
		if [ "$got" = "$3" ]; then ok "zsh: $1"
		else bad "zsh: $1: '$2' gave [$got], want [$3]"; fi
	}
	zsame "commands from a prefix" "$k re" "recover restore revoke "
	zsame "subcommands of invite" "$k invite " \
		"create list revoke scan verify "
	zsame "revoke on laptop's home" "$k --home $T/A revoke " "phone "
	zsame "revoke on phone's home" "$k revoke --home $T/B " "laptop "
	zsame "join: images" "$k join " "_files -g *.(#i)(png|jpg|jpeg)(-.) "
	zsame "--home: directories" "$k --home " "_directories "
	zsame "seal --to: the contacts" \
		"$k --home $T/A --passphrase-file $pf seal --to " "carol "
	zsame "seal --group: the groups" \
		"$k --home $T/A --passphrase-file $pf seal --group " "team "
	zsame "contacts update: the contacts" \
		"$k --home $T/A --passphrase-file $pf contacts update " "carol "
	if [ -s "$T/zerr" ]; then
		bad "zsh: the completion wrote on stderr:"
		cat "$T/zerr"
	else
		ok "zsh: nothing on stderr"
	fi
else
	echo "zsh not installed: its checks skipped"
fi

echo "completion: $npass passed, $nfail failed"
[ "$nfail" -eq 0 ]
