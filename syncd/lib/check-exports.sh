#!/bin/sh
# check-exports.sh LIBKITH_SO KITH_H: the shared library exports exactly
# the functions kith.h declares KITH_API, and its SONAME is libkith.so.0.
# Anything else exported (an internal kith function, a dependency's
# symbol) fails: it would become ABI by accident.
set -eu
so=$1 hdr=$2
want=$(sed -n 's/^KITH_API [^(]*[ *]\(kith_[a-z0-9_]*\)(.*/\1/p' "$hdr" | sort)
[ -n "$want" ] || { echo "no KITH_API function found in $hdr"; exit 1; }
# Defined dynamic symbols, without the versioning/loader entries (none of
# ours are absolute; sanitizer builds add none either).
got=$(nm -D --defined-only "$so" | awk '$2 != "A" { print $3 }' | sort)
if [ "$got" != "$want" ]; then
	echo "libkith exports other than kith.h's KITH_API functions:"
	printf '%s\n' "$want" > "${TMPDIR:-/tmp}/kith-exports-want.$$"
	printf '%s\n' "$got" | diff "${TMPDIR:-/tmp}/kith-exports-want.$$" - || true
	rm -f "${TMPDIR:-/tmp}/kith-exports-want.$$"
	exit 1
fi
soname=$(readelf -d "$so" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
[ "$soname" = libkith.so.0 ] || { echo "SONAME is '$soname', want libkith.so.0"; exit 1; }
echo "libkith exports $(printf '%s\n' "$got" | wc -l) symbols, all of kith.h; SONAME $soname"
