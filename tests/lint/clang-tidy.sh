#!/usr/bin/env bash
# clang-tidy.sh BUILD SRC: run clang-tidy, with SRC/.clang-tidy, over the
# project's own sources as BUILD compiled them (BUILD/compile_commands.json).
# Fails on any finding, or if clang-tidy cannot run.  Two files at a time.
set -euo pipefail
build=$1
src=$2
jobs=${KITH_LINT_JOBS:-2}
tidy=$(command -v clang-tidy || true)
[ -n "$tidy" ] || { echo "clang-tidy.sh: clang-tidy is not installed" \
    "(packaging/install-deps.sh installs it)" >&2; exit 1; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir "$tmp/db"
python3 "$src/tests/lint/ccdb.py" "$build" "$src" \
    "$tmp/db/compile_commands.json" > "$tmp/files"

# One output file a source, so parallel runs do not interleave; a source
# whose clang-tidy failed to run leaves its exit code beside its output.
# gcc-only warning options in the build's flags are not clang's business.
one() {
	local f=$1 out
	out=$tmp/out/$(printf '%s' "$f" | tr / _)
	"$tidy" -p "$tmp/db" --quiet --config-file="$src/.clang-tidy" \
	    --extra-arg=-Wno-unknown-warning-option "$f" > "$out" 2>&1 ||
		echo $? > "$out.rc"
}
export -f one
export tidy tmp src
mkdir "$tmp/out"
xargs -P "$jobs" -I{} bash -c 'one "$1"' _ {} < "$tmp/files"

n=$(wc -l < "$tmp/files")
cat "$tmp"/out/* | grep -E ': (warning|error): ' > "$tmp/findings" || true
found=$(wc -l < "$tmp/findings")
if [ "$found" -gt 0 ]; then
	cat "$tmp"/out/* | grep -vE '^[0-9]+ warnings? (and [0-9]+ errors? )?generated\.$' >&2
	echo "clang-tidy: $found finding(s) in $n files:" >&2
	grep -oE '\[[A-Za-z0-9.,_-]+\]$' "$tmp/findings" | sort | uniq -c | sort -rn >&2
	exit 1
fi
if ls "$tmp"/out/*.rc > /dev/null 2>&1; then
	for r in "$tmp"/out/*.rc; do
		echo "clang-tidy exited $(cat "$r") on ${r%.rc}:" >&2
		cat "${r%.rc}" >&2
	done
	exit 1
fi
echo "clang-tidy: $n files, 0 findings"
