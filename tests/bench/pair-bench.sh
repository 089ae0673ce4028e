#!/usr/bin/env bash
# Benchmark: the first transfer to a new device over loopback, pairing
# included, next to the speed of ChaCha20-Poly1305 on one core measured in
# the same run.
#
#   tests/bench/pair-bench.sh [BUILD_DIR] [N_SMALL]   (default build/release,
#                                                      1000000 records)
#
# Two runs: N_SMALL records of about 1 KiB, and 1 GiB in 16 MiB records.
# Prints records/s, MB/s and the peak RSS of both sides.  mDNS is kept off
# (the system bus is pointed at nothing) so no daemon of this machine is
# touched; the joiner uses --peer.
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$top/build/release}
nsmall=${2:-1000000}
case $build in /*) ;; *) build=$top/$build ;; esac
K=$build/syncd/kith
T=$build/tests
[ -x "$K" ] || { echo "build first: ./setup.sh demo, or cmake in $build" >&2; exit 1; }
tmp=$(mktemp -d)
pids=()
cleanup() {
	local p
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	rm -rf "$tmp"
}
trap cleanup EXIT
export DBUS_SYSTEM_BUS_ADDRESS=unix:path=/nonexistent AVAHI_COMPAT_NOWARN=1
echo "benchmark passphrase" > "$tmp/pass"

aead=$("$T/aeadbench" 2 | sed 's/aead_MBps=//')

run() {	# run LABEL COUNT SIZE
	local label=$1 count=$2 size=$3 a=$tmp/$1.a b=$tmp/$1.b port i
	"$K" --home "$a" --passphrase-file "$tmp/pass" init --name old >/dev/null 2>&1
	local t0 t1
	t0=$(date +%s.%N)
	"$T/genhist" "$count" "$size" 1 | "$K" --home "$a" history import - >/dev/null
	t1=$(date +%s.%N)
	local bytes
	bytes=$("$K" --home "$a" status --json | sed -n 's/.*"record_bytes":\([0-9]*\).*/\1/p')

	"$T/rss" "$tmp/$label.pair.rss" "$K" --home "$a" --passphrase-file "$tmp/pass" \
		pair --yes --json --qr-png "$tmp/$label.png" --timeout 600 \
		> "$tmp/$label.pair.out" 2>&1 &
	pids+=($!)
	for i in $(seq 1 100); do
		port=$(sed -n 's/.*"port":\([0-9]*\).*/\1/p' "$tmp/$label.pair.out" | head -1)
		[ -n "$port" ] && [ -s "$tmp/$label.png" ] && break
		sleep 0.1
	done
	"$T/rss" "$tmp/$label.join.rss" "$K" --home "$b" join "$tmp/$label.png" \
		--name new --peer 127.0.0.1:"$port" >/dev/null 2>&1
	wait "${pids[-1]}"
	local wall prss jrss n
	wall=$(sed -n 's/.*wall_s=\([0-9.]*\).*/\1/p' "$tmp/$label.join.rss")
	jrss=$(sed -n 's/maxrss_kb=\([0-9]*\).*/\1/p' "$tmp/$label.join.rss")
	prss=$(sed -n 's/maxrss_kb=\([0-9]*\).*/\1/p' "$tmp/$label.pair.rss")
	n=$("$K" --home "$b" history count)
	[ "$n" = "$count" ] || { echo "FAILED: $label: new device holds $n of $count" >&2; exit 1; }
	cmp -s <("$K" --home "$a" history export) <("$K" --home "$b" history export) ||
		{ echo "FAILED: $label: histories differ" >&2; exit 1; }
	awk -v l="$label" -v n="$count" -v b="$bytes" -v w="$wall" \
	    -v imp="$(awk -v a="$t0" -v b="$t1" 'BEGIN{print b-a}')" -v pr="$prss" -v jr="$jrss" -v aead="$aead" 'BEGIN {
		printf "%-14s %9d rec %8.1f MB  transfer %6.2f s  %9.0f rec/s  %7.1f MB/s  (%.2f x AEAD)  RSS old %5.1f MiB new %5.1f MiB  import %.1f s\n",
		    l, n, b / 1e6, w, n / w, b / 1e6 / w, (b / 1e6 / w) / aead, pr / 1024, jr / 1024, imp
	}'
	[ -z "${BENCH_VERBOSE:-}" ] || cat "$tmp/$label".*.rss
	rm -rf "$a" "$b"
}

echo "reference: ChaCha20-Poly1305, one core, 64 KiB messages: $aead MB/s"
run small "$nsmall" 1024
[ -n "${BENCH_SMALL_ONLY:-}" ] || run large 64 16777000
