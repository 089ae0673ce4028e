#!/usr/bin/env bash
# systemd_unit.sh: the kithd user unit (packaging/systemd/kithd.service.in)
# as systemd itself reads it, offline: `systemd-analyze --user verify` on
# the test copy configured with this build's kithd (verify wants an
# ExecStart that exists), with MANPATH holding our man pages so that its
# Documentation= check finds them.  Any output at all fails (systemd
# prints unknown keys and bad values as warnings and may still exit 0).
# Then: the installed copy differs from the test copy only in ExecStart,
# which names the installed kithd, and the unit says what kithd needs.
#
# Usage: systemd_unit.sh SRCDIR UNIT TESTUNIT BINDIR
#   UNIT: the configured unit to install; TESTUNIT: its test copy;
#   BINDIR: CMAKE_INSTALL_FULL_BINDIR.  Exit 77 (skip) without systemd.
set -u
src=$(realpath "$1") unit=$(realpath "$2") testunit=$(realpath "$3") bindir=$4
command -v systemd-analyze >/dev/null ||
	{ echo "systemd-analyze missing (Debian: systemd): skipped"; exit 77; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }

# A user manager's lookup wants $XDG_RUNTIME_DIR; none runs here.
mkdir -m 700 "$tmp/run"
for p in kith.1 kithd.8 kith-dns-sd.7; do
	mkdir -p "$tmp/man/man${p##*.}"
	cp "$src/syncd/man/$p" "$tmp/man/man${p##*.}/"
done
out=$(cd "$tmp" && XDG_RUNTIME_DIR=$tmp/run MANPATH=$tmp/man \
	systemd-analyze --user verify "$testunit" 2>&1)
rc=$?
[ "$rc" = 0 ] || fail "systemd-analyze --user verify exits $rc"
[ -z "$out" ] || fail "systemd-analyze --user verify says:"$'\n'"$out"

d=$(diff "$unit" "$testunit" | grep '^[<>]')
want="< ExecStart=$bindir/kithd --foreground"
[ "$(echo "$d" | grep '^<')" = "$want" ] ||
	fail "installed unit's ExecStart: $(echo "$d" | grep '^<')"
[ "$(echo "$d" | wc -l)" = 2 ] ||
	fail "installed and test units differ beyond ExecStart:"$'\n'"$d"

# What kithd relies on, and what the issue asks of the unit.
for l in 'Type=notify' 'Restart=on-failure' 'WantedBy=default.target' \
    'NoNewPrivileges=yes' 'PrivateTmp=yes' 'UMask=0077' 'LimitCORE=0' \
    'RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6' \
    'MemoryDenyWriteExecute=yes' 'SystemCallArchitectures=native'; do
	grep -qx "$l" "$unit" || fail "no line '$l'"
done
grep -q '^Documentation=.*man:kithd(8)' "$unit" ||
	fail "Documentation= does not name man:kithd(8)"
grep -q '^RestartSec=' "$unit" || fail "no RestartSec="
# The home and socket must come from the user's environment: a unit that
# pins KITH_HOME, KITH_SOCKET or XDG_* would split the agent from kith.
grep -Eq '^(Environment=.*(KITH_HOME|KITH_SOCKET|XDG_)|--home)' "$unit" &&
	fail "the unit sets the home or the socket"

[ "$fails" = 0 ] && echo "kithd.service: systemd-analyze clean, $(grep -c '^[A-Z]' "$unit") settings"
exit $((fails > 0))
