#!/usr/bin/env bash
# build-deb.sh [OUTDIR]: build kith's Debian packages (kith, libkith0,
# libkith-dev, and the source package) from this checkout into OUTDIR
# (default: build/deb in the checkout).
#
# dpkg-buildpackage wants debian/ at the top of the source, and kith keeps
# it in packaging/debian/.  So the source is copied into a fresh temporary
# directory, kith-VERSION/: every file git knows of or would add, as it is
# in the working tree (git ls-files -co --exclude-standard), so that a
# developer's uncommitted edits are in the package, and nothing ignored
# (build trees) or deleted.  For a build of a commit alone, run this from a
# clean checkout of it.  That copy becomes kith_VERSION.orig.tar.gz, then
# packaging/debian/ is copied into it as debian/ and dpkg-buildpackage
# runs there, unsigned.  VERSION is the upstream part of
# packaging/debian/changelog, which must be CMake's project version.
#
# Needs: dpkg-dev, debhelper, and the build dependencies of
# packaging/debian/control (packaging/install-deps.sh installs them all).
set -euo pipefail

top=$(git -C "$(dirname "$0")" rev-parse --show-toplevel)
out=${1:-$top/build/deb}

full=$(dpkg-parsechangelog -l "$top/packaging/debian/changelog" -S Version)
upstream=${full%-*}
cmakever=$(sed -n 's/^project(kith VERSION \([0-9.]*\).*/\1/p' \
	"$top/CMakeLists.txt")
if [ "$upstream" != "$cmakever" ]; then
	echo "build-deb: packaging/debian/changelog says $upstream," \
		"CMakeLists.txt says $cmakever: add a changelog entry" >&2
	exit 1
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/kith-deb.XXXXXX")
trap 'rm -rf "$work"' EXIT
src=$work/kith-$upstream
mkdir "$src"

# Files listed by git but deleted in the working tree are left out.
(cd "$top" && git ls-files -z -co --exclude-standard) |
	(cd "$top" && while IFS= read -r -d '' f; do
		if [ -e "$f" ] || [ -L "$f" ]; then printf '%s\0' "$f"; fi
	done) |
	tar -C "$top" --null -T - -cf - | tar -C "$src" -xf -

# A reproducible orig tarball: names sorted, owner root, dates from the
# changelog.
epoch=$(dpkg-parsechangelog -l "$top/packaging/debian/changelog" \
	-S Timestamp)
tar -C "$work" --sort=name --owner=0 --group=0 --numeric-owner \
	--mtime="@$epoch" -czf "$work/kith_$upstream.orig.tar.gz" \
	"kith-$upstream"

cp -a "$top/packaging/debian" "$src/debian"

(cd "$src" && SOURCE_DATE_EPOCH=$epoch dpkg-buildpackage -us -uc \
	--jobs-try=auto)

mkdir -p "$out"
# The .changes names its files: keep them together.
find "$work" -maxdepth 1 -type f -name "kith*_$upstream*" \
	-exec cp -t "$out" {} +
find "$work" -maxdepth 1 -type f -name "libkith*_$upstream*" \
	-exec cp -t "$out" {} +
echo "build-deb: packages in $out:"
ls -1 "$out" | sed 's/^/  /'
