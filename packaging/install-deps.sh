#!/usr/bin/env bash
# install-deps.sh: install what kith needs to build, test and run, from
# Debian 12's packages.  Idempotent; quiet when everything is there.
#
# avahi-daemon is needed only by the tests (each simulated host starts its
# own, inside a network namespace).  Installing it must not start one on
# this machine's own network, where it would announce on eth0: so the
# install runs with a policy-rc.d that forbids starting services, and a
# daemon we installed is left disabled.
#
# dpkg-dev, debhelper and lintian build and check the Debian packages
# (packaging/build-deb.sh, tests/package/deb.sh); man-db and systemd
# (systemd-analyze) check the installed man pages and user unit.
set -euo pipefail

PKGS=(
	build-essential cmake pkg-config git
	libsodium-dev libuv1-dev libavahi-compat-libdnssd-dev
	libqrencode-dev libzbar-dev libsqlite3-dev libjansson-dev
	libpng-dev libjpeg-dev
	avahi-daemon dbus-daemon dbus-bin iproute2 util-linux procps psmisc
	valgrind python3 sqlite3 e2fsprogs faketime qrencode time
	clang-tidy cppcheck
	dpkg-dev debhelper lintian man-db systemd mandoc groff-base
	bash-completion zsh
)

missing=()
for p in "${PKGS[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' ||
		missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" != 0 ]; then
	echo "install-deps: missing packages: ${missing[*]}" >&2
	echo "install-deps: run as root (or with sudo) to install them" >&2
	exit 1
fi

had_avahi=0
dpkg-query -W -f='${Status}' avahi-daemon 2>/dev/null | grep -q 'ok installed' &&
	had_avahi=1

policy=/usr/sbin/policy-rc.d
made_policy=0
if [ ! -e "$policy" ]; then
	printf '#!/bin/sh\nexit 101\n' > "$policy"
	chmod 755 "$policy"
	made_policy=1
fi
cleanup() { if [ "$made_policy" = 1 ]; then rm -f "$policy"; fi; }
trap cleanup EXIT

echo "install-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null

if [ "$had_avahi" = 0 ] && [ -d /run/systemd/system ]; then
	systemctl disable --now avahi-daemon.service avahi-daemon.socket \
		>/dev/null 2>&1 || true
	echo "install-deps: avahi-daemon installed for the tests and left" \
		"disabled on this machine's own network" >&2
fi
