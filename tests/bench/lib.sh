# shellcheck shell=bash
# tests/bench/lib.sh: what the benchmarks share (sourced, not run).
#
#   fail MSG            stop the benchmark with MSG
#   now / secs T0 T1    wall clock, and the seconds between two readings
#   timed OUT CMD...    run CMD (both streams to OUT); print its seconds;
#                       stop the benchmark if it fails
#   median FILE [N]     the median of column N (default 1) of FILE
#   fsize FILE          its size in bytes
#   workdir [TEMPLATE]  make a directory (mktemp -d), its path in $tmp,
#                       removed at exit, interrupted too (KEEP_TMP=1 keeps
#                       it)

fail() { echo "FAILED: $*" >&2; exit 1; }

now() { echo "$EPOCHREALTIME"; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }

timed() {
	local out=$1 t0 t1 rc=0
	shift
	t0=$(now)
	"$@" >"$out" 2>&1 || rc=$?
	t1=$(now)
	if [ "$rc" != 0 ]; then
		echo "command failed (status $rc, $(secs "$t0" "$t1") s): $*" >&2
		cat "$out" >&2
		exit 1
	fi
	secs "$t0" "$t1"
}

median() {
	cut -d' ' -f"${2:-1}" "$1" | sort -g | awk '
		{ v[NR] = $1 }
		END { if (NR == 0) print "-";
		      else if (NR % 2) print v[(NR + 1) / 2];
		      else printf "%.3f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

fsize() { stat -c %s "$1"; }

workdir_cleanup() {
	if [ -n "${KEEP_TMP:-}" ]; then
		echo "kept $tmp" >&2
	else
		rm -rf "$tmp"
	fi
}

workdir() {
	tmp=$(mktemp -d "$@")
	trap workdir_cleanup EXIT
	# Interrupted, still clean up: it may hold gigabytes of memory.
	trap 'exit 130' INT
	trap 'exit 143' TERM
}
