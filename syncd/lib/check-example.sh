#!/bin/sh
# check-example.sh BUILD EXAMPLE.c CC [CFLAGS]: install libkith from the
# build BUILD into a temporary prefix (cmake --install, components libkith
# and libkith-dev), build EXAMPLE.c there as an outside app would (cc ...
# $(pkg-config --cflags --libs kith), kith.pc found by PKG_CONFIG_PATH),
# and run it: a roster check, then, against a real kithd (KITH_BIN) in a
# temporary home, a call, a subscriber's event and a refusal.
set -eu
build=$1 example=$2 cc=$3 cflags=${4:-}
: "${KITH_BIN:?KITH_BIN: the directory of kith and kithd}"
T=$(mktemp -d /tmp/kith-libex.XXXXXX)
kpid= wpid=
cleanup() {
	[ -z "$wpid" ] || kill "$wpid" 2>/dev/null || true
	if [ -n "$kpid" ]; then
		kill "$kpid" 2>/dev/null || true
		wait "$kpid" 2>/dev/null || true
	fi
	rm -rf "$T"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; [ ! -f "$T/kithd.log" ] || tail -20 "$T/kithd.log" >&2; exit 1; }

# 1. install, and what lands where
for comp in libkith libkith-dev; do
	cmake --install "$build" --prefix "$T/inst" --component "$comp" >/dev/null
done
[ -f "$T/inst/include/kith/kith.h" ] || fail "no include/kith/kith.h installed"
pc=$(find "$T/inst" -name kith.pc)
[ -n "$pc" ] || fail "no kith.pc installed"
libdir=$(dirname "$(dirname "$pc")")
[ "$(basename "$(dirname "$pc")")" = pkgconfig ] || fail "kith.pc not in LIBDIR/pkgconfig: $pc"
[ -L "$libdir/libkith.so" ] && [ -L "$libdir/libkith.so.0" ] &&
	[ -f "$libdir/libkith.so.0.1.0" ] || fail "libkith.so, .so.0, .so.0.1.0 not all in $libdir"
export PKG_CONFIG_PATH="$(dirname "$pc")"
want=$("$KITH_BIN/kith" --version | awk '{ print $2 }')
got=$(pkg-config --modversion kith)
[ "$got" = "$want" ] || fail "kith.pc version $got, kith --version $want"
flags=$(pkg-config --cflags --libs kith)
# kith.pc finds its prefix from where it is (${pcfiledir}).
inc=$(pkg-config --cflags-only-I kith | sed 's/^-I//; s/ *$//')
lib=$(pkg-config --libs-only-L kith | sed 's/^-L//; s/ *$//')
[ "$(cd "$inc" && pwd -P)" = "$(cd "$T/inst/include" && pwd -P)" ] &&
	[ "$(cd "$lib" && pwd -P)" = "$(cd "$libdir" && pwd -P)" ] &&
	[ "$(pkg-config --libs-only-l kith | sed 's/ *$//')" = -lkith ] ||
	fail "pkg-config --cflags --libs kith: '$flags' (not this prefix)"

# 2. build the example against the install alone
# shellcheck disable=SC2086
"$cc" -std=c11 -Wall -Wextra -Werror $cflags -o "$T/client" "$example" $flags ||
	fail "the example does not build with pkg-config's flags"
export LD_LIBRARY_PATH="$libdir"
ldd "$T/client" | grep -q "libkith.so.0 => $libdir/libkith.so.0" || fail "the example does not load the installed libkith.so.0"

# 3. run it: a roster check (offline)
printf 'correct horse battery\n' > "$T/pass"
chmod 600 "$T/pass"
mkdir -m 700 "$T/run"
export XDG_RUNTIME_DIR="$T/run"
unset KITH_SOCKET KITH_HOME 2>/dev/null || true
K="$KITH_BIN/kith --home $T/home --passphrase-file $T/pass"
$K init --name desk >/dev/null
$K devices --export "$T/roster" >/dev/null
dj=$($K devices --json)
acct=$(printf '%s' "$dj" | sed 's/.*"account":"\([0-9a-f]*\)".*/\1/')
dev=$(printf '%s' "$dj" | sed 's/.*"devices":\[{[^}]*"id":"\([0-9a-f]*\)".*/\1/')
[ ${#acct} = 64 ] && [ ${#dev} = 64 ] || fail "no account or device id in kith devices --json"
out=$("$T/client" check-roster "$T/roster" "$acct" "$dev" 2>/dev/null) || fail "check-roster refused a good roster: $out"
[ "$(printf '%s\n' "$out" | tail -1)" = accept ] || fail "check-roster: $out"
if "$T/client" check-roster "$T/roster" "$acct" "$(printf '%s' "$dev" | tr 0-9a-f 1-9a-f0)" >/dev/null 2>&1; then
	fail "check-roster accepted a device not on the roster"
fi

# 4. against a real agent (as root, in a network namespace of its own)
set --
[ "$(id -u)" != 0 ] || ! command -v unshare >/dev/null || set -- unshare -n
KITH_PASSPHRASE_FILE="$T/pass" "$@" "$KITH_BIN/kithd" --home "$T/home" \
	--foreground --no-mdns >"$T/kithd.log" 2>&1 &
kpid=$!
i=0
until "$T/client" -H "$T/home" call '{"op":"status"}' >"$T/status" 2>/dev/null; do
	i=$((i + 1))
	[ $i -lt 300 ] || fail "the agent did not answer the example client"
	sleep 0.1
done
grep -q "\"id\":\"$dev\"" "$T/status" || fail "status does not name this device: $(cat "$T/status")"
"$T/client" -H "$T/home" watch 1 >"$T/watch" 2>/dev/null &
wpid=$!
i=0
until grep -q subscribed "$T/watch"; do
	i=$((i + 1))
	[ $i -lt 300 ] || fail "the example's watch did not subscribe"
	sleep 0.1
done
out=$("$T/client" -H "$T/home" call '{"op":"append","record":{"service":"example.test","id":"ex1"}}' 2>/dev/null) ||
	fail "append: $out"
case "$out" in *'"added":true'*) ;; *) fail "append: $out" ;; esac
i=0
while kill -0 "$wpid" 2>/dev/null; do
	i=$((i + 1))
	[ $i -lt 300 ] || fail "the example's watch got no event"
	sleep 0.1
done
wait "$wpid" || fail "watch exited with $?"
wpid=
grep '"event":"record"' "$T/watch" | grep -q '"id":"ex1"' || fail "watch printed: $(cat "$T/watch")"
if out=$("$T/client" -H "$T/home" call '{"op":"launch"}' 2>/dev/null); then
	fail "an unknown op was not refused"
fi
case "$out" in *'"unknown_op"'*) ;; *) fail "refusal without the agent's reply: $out" ;; esac
# Sealed for this account by the library, opened by it and by kith open;
# altered, refused.
printf 'for my devices only\n' > "$T/msg"
"$T/client" -H "$T/home" seal '{"self": true}' < "$T/msg" > "$T/env" 2>/dev/null || fail "seal through the library"
head -c 8 "$T/env" | grep -q KITHSEAL || fail "the library's envelope is not one"
"$T/client" -H "$T/home" open < "$T/env" > "$T/back" 2>/dev/null || fail "open through the library"
cmp -s "$T/msg" "$T/back" || fail "the library opened other bytes than it sealed"
$K open "$T/env" 2>/dev/null | cmp -s "$T/msg" - || fail "kith open differs from what the library sealed"
n=$(wc -c < "$T/env")
{ head -c $((n - 40)) "$T/env"; printf 'x'; tail -c 39 "$T/env"; } > "$T/bad"
if "$T/client" -H "$T/home" open < "$T/bad" > "$T/back" 2>/dev/null; then
	fail "an altered envelope opened"
fi
echo "example built from the install via kith.pc ($flags), ran: roster accept, status, append, event, refusal, seal and open"
