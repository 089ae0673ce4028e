#!/usr/bin/env bash
# setup.sh: the two commands of the README.
#
#   ./setup.sh demo    install what is needed, build, and pair two devices
#                      on this machine (two simulated hosts, real mDNS), then
#                      move a history of 20,000 messages to the new one
#   ./setup.sh test    install what is needed, build with AddressSanitizer
#                      and UBSan (and a plain build for the scenarios run
#                      under valgrind), run the whole test suite (ctest)
#
# Options after the word: test --quick runs the quick subset (ctest -L quick).
set -euo pipefail
cd "$(dirname "$0")"
top=$PWD
jobs=$(nproc 2>/dev/null || echo 2)

build() {	# build DIR CMAKE-ARGS...
	local dir=$1
	shift
	cmake -S "$top" -B "$dir" "$@" >/dev/null
	cmake --build "$dir" -j "$jobs" -- --no-print-directory >/dev/null
}

case "${1:-}" in
demo)
	packaging/install-deps.sh
	build build/release -DCMAKE_BUILD_TYPE=RelWithDebInfo
	exec bash tests/demo.sh build/release
	;;
test)
	packaging/install-deps.sh
	vg=
	if [ "${2:-}" != --quick ]; then
		# A second build, without sanitizers, for the scenarios that
		# run under valgrind (ctest -L valgrind).
		build build/vg -DCMAKE_BUILD_TYPE=RelWithDebInfo \
			-DKITH_WERROR=ON
		vg=$top/build/vg
	fi
	build build/asan -DCMAKE_BUILD_TYPE=Debug -DKITH_SANITIZE=ON \
		-DKITH_WERROR=ON -DKITH_VALGRIND_BUILD="$vg"
	cd build/asan
	if [ "${2:-}" = --quick ]; then
		exec ctest -L quick --output-on-failure -j "$jobs"
	fi
	exec ctest --output-on-failure -j "$jobs"
	;;
*)
	echo "usage: ./setup.sh demo | ./setup.sh test [--quick]" >&2
	exit 2
	;;
esac
