#!/usr/bin/env bash
# deb.sh: kith's Debian packages, built and installed for real on this
# machine.  packaging/build-deb.sh builds them into a fresh directory;
# then lintian (any E: fails, W: are shown), every path the packages
# promise, hardening, kith's Depends against what ldd says kith and kithd
# load, and, installed with apt-get: the versions, the man pages, the
# systemd user unit as systemd reads it, and a program built against
# libkith with pkg-config.  Everything installed is purged at the end,
# whatever happened.
#
# Usage: deb.sh SRCDIR.  Exit 77 (skip) if not root, or if a kith package
# (or an unpackaged /usr/bin/kith) is already on the machine: this test
# removes only what it installed itself.
set -u
src=${1:-$(cd "$(dirname "$0")/../.." && pwd)}
skip() { echo "SKIP: $*"; exit 77; }
pkgs=(kith libkith0 libkith-dev)

[ "$(id -u)" = 0 ] || skip "needs root (it installs and purges packages)"
for p in "${pkgs[@]}"; do
	st=$(dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null)
	case "$st" in
	"" | un*) ;;
	*) skip "package $p is already on this machine ($st): not touching it" ;;
	esac
done
for f in /usr/bin/kith /usr/bin/kithd; do
	[ -e "$f" ] && skip "$f exists, from no package of this test"
done

tmp=$(mktemp -d)
installed=0
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
cleanup() {
	local rc=$? bad=0 p st
	if [ "$installed" = 1 ]; then
		dpkg --purge "${pkgs[@]}" >"$tmp/purge.log" 2>&1 ||
			{ echo "FAIL: dpkg --purge:"; cat "$tmp/purge.log"; bad=1; }
		for p in "${pkgs[@]}"; do
			st=$(dpkg-query -W -f='${db:Status-Abbrev}' "$p" \
				2>/dev/null)
			case "$st" in
			"" | un*) ;;
			*) echo "FAIL: $p still there after purge ($st)"; bad=1 ;;
			esac
		done
		if [ -e /usr/bin/kith ]; then
			echo "FAIL: /usr/bin/kith still there after purge"
			bad=1
		fi
		[ "$bad" = 0 ] && echo "purged: /usr/bin/kith is gone"
	fi
	rm -rf "$tmp"
	[ "$bad" = 1 ] && [ "$rc" = 0 ] && exit 1
	exit "$rc"
}
trap cleanup EXIT

for t in dpkg-buildpackage dh lintian man pkg-config cc \
    systemd-analyze; do
	command -v "$t" >/dev/null ||
		{ echo "FAIL: $t missing (packaging/install-deps.sh)"; exit 1; }
done

version=$(dpkg-parsechangelog -l "$src/packaging/debian/changelog" -S Version)
upstream=${version%-*}
ma=$(dpkg-architecture -qDEB_HOST_MULTIARCH)
arch=$(dpkg-architecture -qDEB_HOST_ARCH)
echo "kith $version ($arch)"

# Build.
t0=$(date +%s)
if ! bash "$src/packaging/build-deb.sh" "$tmp/out" >"$tmp/build.log" 2>&1; then
	tail -40 "$tmp/build.log"
	echo "FAIL: packaging/build-deb.sh"
	exit 1
fi
echo "built in $(($(date +%s) - t0)) s"
out=$tmp/out
changes=$out/kith_${version}_$arch.changes
for p in "${pkgs[@]}"; do
	[ -f "$out/${p}_${version}_$arch.deb" ] ||
		{ echo "FAIL: no ${p}_${version}_$arch.deb"; exit 1; }
done

# lintian: errors fail, warnings are shown.
lintian "$changes" >"$tmp/lintian.txt" 2>&1
grep '^W: ' "$tmp/lintian.txt"
nerr=$(grep -c '^E: ' "$tmp/lintian.txt")
nwarn=$(grep -c '^W: ' "$tmp/lintian.txt")
[ "$nerr" = 0 ] || { grep '^E: ' "$tmp/lintian.txt"; fail "lintian: $nerr errors"; }
echo "lintian: $nerr errors, $nwarn warnings"

# Every path each package promises (man pages compressed by dh).
want() { # PACKAGE PATH...: each PATH (an extended regex) in PACKAGE
	local p=$1 deb=$out/${1}_${version}_$arch.deb
	shift
	dpkg-deb -c "$deb" | awk '{print $6}' | sed 's|^\.||' >"$tmp/$p.list"
	for re in "$@"; do
		grep -Eqx "$re" "$tmp/$p.list" || fail "$p lacks $re"
	done
}
want kith /usr/bin/kith /usr/bin/kithd \
	/usr/share/man/man1/kith\\.1\\.gz /usr/share/man/man8/kithd\\.8\\.gz \
	/usr/share/man/man7/kith-dns-sd\\.7\\.gz \
	/usr/lib/systemd/user/kithd\\.service \
	/usr/share/bash-completion/completions/kith \
	/usr/share/bash-completion/completions/kithd \
	/usr/share/zsh/vendor-completions/_kith \
	"/usr/share/doc/kith/CLI\\.md(\\.gz)?" \
	"/usr/share/doc/kith/API\\.md(\\.gz)?"
want libkith0 "/usr/lib/$ma/libkith\\.so\\.0" \
	"/usr/lib/$ma/libkith\\.so\\.0\\.[0-9.]+"
want libkith-dev /usr/include/kith/kith\\.h "/usr/lib/$ma/libkith\\.so" \
	"/usr/lib/$ma/pkgconfig/kith\\.pc"
# libkith.so (the link for the linker) only in the -dev package.
grep -qx "/usr/lib/$ma/libkith\\.so" "$tmp/libkith0.list" &&
	fail "libkith0 holds libkith.so (belongs in libkith-dev)"

for p in "${pkgs[@]}"; do
	mkdir -p "$tmp/x/$p"
	dpkg-deb -x "$out/${p}_${version}_$arch.deb" "$tmp/x/$p"
done

# Hardening (hardening=+all): PIE, full RELRO with BIND_NOW.
for b in usr/bin/kith usr/bin/kithd "usr/lib/$ma/libkith.so.0"; do
	f=$tmp/x/kith/$b
	[ -e "$f" ] || f=$tmp/x/libkith0/$b
	[ -e "$f" ] || continue
	readelf -lW "$f" | grep -q GNU_RELRO || fail "$b: no RELRO"
	readelf -dW "$f" | grep -Eq 'BIND_NOW|FLAGS_1.*NOW' ||
		fail "$b: no BIND_NOW"
done
for b in kith kithd; do
	readelf -hW "$tmp/x/kith/usr/bin/$b" | grep -q 'DYN ' ||
		fail "$b is not PIE"
done

# The exact-version links between the three packages.
for p in kith libkith-dev; do
	dpkg-deb -f "$out/${p}_${version}_$arch.deb" Depends | tr ',' '\n' |
		grep -Eqx "[[:space:]]*libkith0 \\(= $version\\)" ||
		fail "$p does not depend on libkith0 (= $version)"
done
dpkg-deb -f "$out/kith_${version}_$arch.deb" Recommends |
	grep -qw avahi-daemon || fail "kith does not recommend avahi-daemon"

# kith's Depends must name, directly or through what they depend on, the
# package of every shared library kith and kithd load (libc aside).
deps_of() { # PACKAGE: names in its Depends and Pre-Depends
	local f
	f=$out/${1}_${version}_$arch.deb
	if [ -f "$f" ]; then
		dpkg-deb -f "$f" Depends Pre-Depends
	else
		dpkg-query -W -f='${Depends}, ${Pre-Depends}\n' "$1" 2>/dev/null
	fi | sed 's/^[A-Za-z-]*: //' | tr ',|' '\n\n' |
		sed 's/(.*//; s/:any//; s/[[:space:]]//g' | grep -v '^$'
}
declare -A closure=()
queue=(kith)
while [ ${#queue[@]} -gt 0 ]; do
	p=${queue[0]}
	queue=("${queue[@]:1}")
	for d in $(deps_of "$p"); do
		[ -n "${closure[$d]:-}" ] && continue
		closure[$d]=1
		queue+=("$d")
	done
done
# Providers too: a Depends on a virtual package counts for its providers.
for d in "${!closure[@]}"; do
	for prov in $(dpkg-query -W -f='${Package} ${Provides}\n' 2>/dev/null |
	    awk -v v="$d" '{ for (i = 2; i <= NF; i++) { s = $i;
	    gsub(/[(,].*/, "", s); if (s == v) print $1 } }'); do
		closure[$prov]=1
	done
done
nlibs=0
f0=$fails
for b in kith kithd; do
	ldd "$tmp/x/kith/usr/bin/$b" >"$tmp/ldd.$b" 2>&1 ||
		{ fail "ldd $b"; cat "$tmp/ldd.$b"; continue; }
	grep -q 'not found' "$tmp/ldd.$b" &&
		fail "$b: $(grep 'not found' "$tmp/ldd.$b" | tr -s '\t\n' '  ')"
	for lib in $(awk '$2 == "=>" && $3 ~ /^\// {print $3}' "$tmp/ldd.$b"); do
		real=$(readlink -f "$lib")
		owner=""
		# usrmerge: a package may name /lib/... or /usr/lib/...
		for cand in "$lib" "$real" "${lib#/usr}" "/usr${lib#/usr}" \
		    "${real#/usr}" "/usr${real#/usr}"; do
			owner=$(dpkg -S "$cand" 2>/dev/null | head -1 |
				sed 's/:.*//; s/, .*//')
			[ -n "$owner" ] && break
		done
		[ -n "$owner" ] || { fail "$b loads $lib, of no package"; continue; }
		nlibs=$((nlibs + 1))
		case "$owner" in libc6) continue ;; esac
		[ -n "${closure[$owner]:-}" ] ||
			fail "$b loads $lib ($owner), not in kith's Depends"
	done
done
[ "$fails" = "$f0" ] && echo "Depends: each of the $nlibs libraries kith" \
	"and kithd load is in the closure of kith's" \
	"$(dpkg-deb -f "$out/kith_${version}_$arch.deb" Depends |
	tr ',' '\n' | wc -l) Depends"

# Install for real: apt-get resolves the dependencies (and fails on one
# that is missing).  Recommends are left out: nothing else is installed.
dpkg-query -W -f='${Package}\n' | sort >"$tmp/before"
installed=1
(cd "$out" && DEBIAN_FRONTEND=noninteractive apt-get install -y \
	--no-install-recommends "./kith_${version}_$arch.deb" \
	"./libkith0_${version}_$arch.deb" \
	"./libkith-dev_${version}_$arch.deb") >"$tmp/apt.log" 2>&1 ||
	{ cat "$tmp/apt.log"; fail "apt-get install"; exit 1; }
dpkg-query -W -f='${Package}\n' | sort >"$tmp/after"
extra=$(comm -13 "$tmp/before" "$tmp/after" | grep -vx -e kith -e libkith0 \
	-e libkith-dev | tr '\n' ' ')
[ -z "$extra" ] || echo "note: apt-get also installed: $extra (left installed)"

v=$(/usr/bin/kith --version)
[ "$v" = "kith $upstream" ] || fail "kith --version says '$v', not 'kith $upstream'"
v=$(/usr/bin/kithd --version)
[ "$v" = "kithd $upstream" ] || fail "kithd --version says '$v', not 'kithd $upstream'"
cmakever=$(sed -n 's/^project(kith VERSION \([0-9.]*\).*/\1/p' \
	"$src/CMakeLists.txt")
[ "$upstream" = "$cmakever" ] ||
	fail "changelog's $upstream is not CMake's $cmakever"
echo "installed: kith --version and kithd --version say $upstream"

for m in "1 kith" "8 kithd" "7 kith-dns-sd"; do
	w=$(man -w $m 2>&1) || fail "man -w $m: $w"
	case "$w" in
	/usr/share/man/*) ;;
	*) fail "man -w $m: $w (a dpkg path-exclude in /etc/dpkg/dpkg.cfg.d?)" ;;
	esac
done

# The unit as systemd reads it; a user manager's lookup wants
# $XDG_RUNTIME_DIR, and none runs here.  Any output fails.
mkdir -m 700 "$tmp/run"
unit=/usr/lib/systemd/user/kithd.service
v=$(cd "$tmp" && XDG_RUNTIME_DIR=$tmp/run systemd-analyze --user verify \
	"$unit" 2>&1) || fail "systemd-analyze --user verify $unit: $v"
[ -z "$v" ] || fail "systemd-analyze --user verify $unit says: $v"
grep -qx 'ExecStart=/usr/bin/kithd --foreground' "$unit" ||
	fail "$unit: $(grep ExecStart "$unit")"

for c in kith kithd; do
	bash -n "/usr/share/bash-completion/completions/$c" ||
		fail "bash completion for $c: syntax"
done
echo "man -w finds kith(1), kithd(8), kith-dns-sd(7); systemd-analyze" \
	"--user verify: clean"

v=$(pkg-config --modversion kith 2>&1)
[ "$v" = "$upstream" ] || fail "pkg-config --modversion kith: '$v'"
cat >"$tmp/use.c" <<'EOF'
#include <stdio.h>
#include <kith/kith.h>

int
main(void)
{
	printf("%s\n", kith_lib_version());
	return (0);
}
EOF
if cc -Wall -Werror -o "$tmp/use" "$tmp/use.c" $(pkg-config --cflags --libs kith) \
    >"$tmp/cc.log" 2>&1; then
	v=$("$tmp/use")
	[ "$v" = "$upstream" ] || fail "kith_lib_version() says '$v'"
	echo "pkg-config: kith $upstream; a program built with it says $v"
	ldd "$tmp/use" |
		grep -Eq "libkith\\.so\\.0 => (/usr)?/lib/$ma/libkith\\.so\\.0 " ||
		fail "the program does not load /usr/lib/$ma/libkith.so.0"
else
	cat "$tmp/cc.log"
	fail "a program with pkg-config --cflags --libs kith does not build"
fi

if [ "$fails" = 0 ]; then
	echo "kith packages: built, lintian without errors, installed and used"
	exit 0
fi
echo "$fails failures"
exit 1
