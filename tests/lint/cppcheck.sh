#!/usr/bin/env bash
# cppcheck.sh BUILD SRC: run cppcheck over the project's own sources as
# BUILD compiled them (BUILD/compile_commands.json: the same defines and
# include paths), with the suppressions of SRC/tests/lint/cppcheck.supp.
# Fails on any finding, or if cppcheck cannot run.
set -euo pipefail
build=$1
src=$2
jobs=${KITH_LINT_JOBS:-2}
command -v cppcheck > /dev/null || { echo "cppcheck.sh: cppcheck is not" \
    "installed (packaging/install-deps.sh installs it)" >&2; exit 1; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
python3 "$src/tests/lint/ccdb.py" "$build" "$src" \
    "$tmp/compile_commands.json" > "$tmp/files"

# warning, style, performance, portability: all but "information" (which
# reports the system headers it was not given) and unusedFunction (off
# with -j; a library exports what its tests use).  The system headers are
# left out on purpose: libc's and libuv's would cost minutes and find
# nothing of ours; posix.cfg and jansson.cfg stand for them.
rc=0
cppcheck --project="$tmp/compile_commands.json" -j "$jobs" --quiet \
    --std=c11 --enable=warning,style,performance,portability \
    --library=posix --library="$src/tests/lint/jansson.cfg" \
    --inline-suppr --suppressions-list="$src/tests/lint/cppcheck.supp" \
    --cppcheck-build-dir="$tmp" --error-exitcode=1 \
    --template='{file}:{line}:{column}: {severity}: {message} [{id}]' \
    2> "$tmp/out" || rc=$?
n=$(wc -l < "$tmp/files")
if [ "$rc" -ne 0 ] || [ -s "$tmp/out" ]; then
	cat "$tmp/out" >&2
	echo "cppcheck: exit $rc, $(grep -c ': ' "$tmp/out" || true)" \
	    "finding(s) in $n files" >&2
	exit 1
fi
echo "cppcheck: $n files, 0 findings"
