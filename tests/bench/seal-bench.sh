#!/usr/bin/env bash
# Benchmark: 'kith seal' and 'kith open' of one large file (1 GiB by
# default) in tmpfs, binary and armoured.  Next to them, measured in the
# same run: reading and copying the file, and the libsodium primitives the
# envelope format streams through, on one core (tests/tools/sealref).
#
#   tests/bench/seal-bench.sh
#
#   KITH_BIN=DIR     the directory holding kith (default build/release/syncd)
#   KITH_TOOLS=DIR   the directory holding sealref (default
#                    KITH_BIN/../tests)
#
# A release build, for instance:
#   cmake -S . -B build/release -DCMAKE_BUILD_TYPE=Release &&
#   cmake --build build/release -j2 --target kith sealref
# A small size makes a quick run: BENCH_SIZE=64M tests/bench/seal-bench.sh.
#
# What it does, all under one mktemp -d (removed at the end):
# 1. The directory is made in /dev/shm (tmpfs: no disk in the figures)
#    when it has room, on its file system and in free memory, for the
#    input, both envelopes and an opened copy (about 4.4 x BENCH_SIZE);
#    else the size is halved until it fits (64 MiB at least), with a
#    note; with no usable /dev/shm, under TMPDIR, with a note.
# 2. Two accounts, A and B (kith init), and an invitation exchanged
#    without network: A's 'invite create --alias alice', B's 'invite scan
#    --alias bob --no-lan', A's scan of B's reply; A then holds B as its
#    verified contact "bob".  The input is BENCH_SIZE bytes of
#    /dev/urandom.
# 3. References, each the median of BENCH_RUNS runs: 'cat input >
#    /dev/null' and 'cp input' to the same tmpfs; sealref over BENCH_SIZE
#    bytes in 64 KiB chunks of a buffer in cache, one core:
#    crypto_secretstream_xchacha20poly1305 push and pull,
#    crypto_aead_xchacha20poly1305_ietf, BLAKE2b-512 (crypto_generichash),
#    base64 of the armour's 48-byte lines both ways, and
#    "secretstream+BLAKE2b", per chunk the hash update then the push:
#    what seal must do for every byte (a frame, and the hash its signature
#    covers).  That last one is the reference of the "x ref" column;
#    sealref also gives the two measured apart with their times added
#    (printed beside it), and open's counterpart, pull then hash.
# 4. Fixed cost: 'kith seal' of an empty file and 'kith open' of its
#    envelope (unlocking the device key, opening the store, the header),
#    BENCH_RUNS times each.
# 5. A seals for bob: 'kith seal --to bob --out ENV --binary INPUT', then
#    --armour, BENCH_RUNS times each; B opens: 'kith open --out OUT ENV'
#    of each envelope, BENCH_RUNS times.  All with --json, which changes
#    only what they print: every run must report BENCH_SIZE bytes, and
#    the first open of each envelope must give back the input (cmp,
#    outside the time).  The output file is removed before each run,
#    outside the time, so that no run pays for freeing the last one's
#    pages.  kith, cat, cp and sealref each run on one thread.
#
# Columns: "s" seconds of wall time (median of BENCH_RUNS runs; "-" for
# sealref's figures, which are rates), "MB/s" BENCH_SIZE over s (1 MB =
# 10^6 bytes; for open too, the plaintext's size, not the envelope's),
# "net MB/s" BENCH_SIZE over (s - the fixed cost of 4.), "x ref" MB/s over
# the "secretstream+BLAKE2b" reference's, "peak RSS" the largest of the
# runs' maximum resident set sizes, in MiB (/usr/bin/time -v; without it,
# VmHWM of /proc/PID/status read every 10 ms, which can miss a peak
# reached in the last 10 ms).  After the table, one JSON line a figure:
#   {"bench":"seal","case":"seal_binary","bytes":N,"runs":R,"s":S,
#    "mbps":M,"net_mbps":M,"ratio":X,"rss_kb":K}
# (s, net_mbps, rss_kb where the row has them).
#
# Environment:
#   BENCH_SIZE=B     input size, bytes or with an IEC suffix (512M, 1G);
#                    default 1G (1 GiB)
#   BENCH_RUNS=N     runs per case (default 3)
#   BENCH_RSS=poll   VmHWM polling even when /usr/bin/time is there
#   KEEP_TMP=1       keep the temporary directory (it holds ~4 x the size)
set -euo pipefail
export LC_ALL=C
top=$(cd "$(dirname "$0")/../.." && pwd)
KITH_BIN=${KITH_BIN:-$top/build/release/syncd}
KITH_TOOLS=${KITH_TOOLS:-$KITH_BIN/../tests}
K=$KITH_BIN/kith
R=$KITH_TOOLS/sealref
for f in "$K" "$R"; do
	[ -x "$f" ] || {
		echo "$f not built: cmake -S $top -B $top/build/release" \
		    "-DCMAKE_BUILD_TYPE=Release && cmake --build" \
		    "$top/build/release --target kith sealref (or set" \
		    "KITH_BIN, KITH_TOOLS)" >&2
		exit 1
	}
done
runs=${BENCH_RUNS:-3}
case $runs in '' | *[!0-9]* | 0) echo "BENCH_RUNS: a number, 1 or more" >&2; exit 2 ;; esac
size=$(numfmt --from=iec "${BENCH_SIZE:-1G}" 2>/dev/null) || size=
case $size in '' | *[!0-9]*)
	echo "BENCH_SIZE: bytes, or with K, M or G (1G)" >&2; exit 2 ;; esac
[ "$size" -ge 65536 ] || { echo "BENCH_SIZE: 64 KiB at least" >&2; exit 2; }
asked=$size

. "$(dirname "$0")/lib.sh"

# --- 1. where ------------------------------------------------------------
# need BYTES: what the run holds at once: the input, the binary envelope
# (+ 20 B a 64 KiB frame), the armoured one (4/3, and a newline every 64
# characters), the opened copy; and 64 MiB for the homes and the slack.
need() { awk -v s="$1" 'BEGIN { printf "%.0f", s * 4.4 + 67108864 }'; }
# room DIR: bytes free on DIR's file system, and, for a tmpfs, in memory
# (its pages are memory) less 512 MiB for everything else.
room() {
	local fs avail mem
	fs=$(df --output=fstype "$1" | tail -1 | tr -d ' ')
	avail=$(($(df -k --output=avail "$1" | tail -1) * 1024))
	if [ "$fs" = tmpfs ]; then
		mem=$(awk '/^MemAvailable:/ { printf "%.0f", $2 * 1024 - 536870912 }' \
			/proc/meminfo)
		[ "$mem" -ge "$avail" ] || avail=$mem
	fi
	echo "$avail"
}
notes=()
note() { notes+=("$*"); }
base=
if [ -d /dev/shm ] && [ -w /dev/shm ] &&
    [ "$(df --output=fstype /dev/shm | tail -1 | tr -d ' ')" = tmpfs ]; then
	free=$(room /dev/shm)
	while [ "$(need "$size")" -gt "$free" ] && [ "$size" -gt 67108864 ]; do
		size=$((size / 2 > 67108864 ? size / 2 : 67108864))
	done
	if [ "$(need "$size")" -le "$free" ]; then
		base=/dev/shm
		[ "$size" = "$asked" ] || note "/dev/shm has $((free >> 20))" \
		    "MiB free, less than the ~4.4 x $asked bytes asked need:" \
		    "$size bytes instead"
	else
		note "/dev/shm has $((free >> 20)) MiB free, too little even" \
		    "for 64 MiB"
		size=$asked
	fi
else
	note "no writable tmpfs at /dev/shm"
fi
if [ -z "$base" ]; then
	base=${TMPDIR:-/tmp}
	free=$(room "$base")
	while [ "$(need "$size")" -gt "$free" ] && [ "$size" -gt 67108864 ]; do
		size=$((size / 2 > 67108864 ? size / 2 : 67108864))
	done
	[ "$(need "$size")" -le "$free" ] ||
		fail "$base has $((free >> 20)) MiB free: too little for 64 MiB"
	note "working under $base, not in /dev/shm: the figures include" \
	    "its file system (a disk, unless it is a tmpfs too)"
	[ "$size" = "$asked" ] || note "$base has $((free >> 20)) MiB" \
	    "free, less than the ~4.4 x $asked bytes asked need: $size" \
	    "bytes instead"
fi
workdir "$base/seal-bench.XXXXXX"
export DBUS_SYSTEM_BUS_ADDRESS=unix:path=/nonexistent AVAHI_COMPAT_NOWARN=1
P=$tmp/pass
A=$tmp/home-a
B=$tmp/home-b
IN=$tmp/input
echo "benchmark passphrase" > "$P"
chmod 600 "$P"

# A read end that is never written: 'read -t' on it sleeps without a fork.
mkfifo "$tmp/never"
exec {never}<>"$tmp/never"

rssmode=poll
[ -x /usr/bin/time ] && [ "${BENCH_RSS:-}" != poll ] && rssmode="time"

# timed_rss OUT CMD...: as timed, but prints "SECONDS PEAK_RSS_KB".
timed_rss() {
	local out=$1 t0 t1 rc=0 pid hwm=0 v
	shift
	if [ "$rssmode" = time ]; then
		t0=$(now)
		/usr/bin/time -v -o "$tmp/time.out" "$@" >"$out" 2>&1 || rc=$?
		t1=$(now)
		hwm=$(sed -n 's/^[[:space:]]*Maximum resident set size (kbytes): *//p' \
			"$tmp/time.out")
	else
		t0=$(now)
		"$@" >"$out" 2>&1 &
		pid=$!
		while [ -r "/proc/$pid/status" ]; do
			v=$(sed -n 's/^VmHWM:[[:space:]]*\([0-9]*\) kB/\1/p' \
				"/proc/$pid/status" 2>/dev/null) || v=
			[ -z "$v" ] || hwm=$v
			# A zombie has no VmHWM: it is over.
			[ -n "$v" ] || break
			read -r -t 0.01 -u "$never" _ || true
		done
		wait "$pid" || rc=$?
		t1=$(now)
	fi
	if [ "$rc" != 0 ]; then
		echo "command failed (status $rc, $(secs "$t0" "$t1") s): $*" >&2
		cat "$out" >&2
		exit 1
	fi
	echo "$(secs "$t0" "$t1") ${hwm:--}"
}

# maxof FILE FIELD: the largest of a column ("-" when there is none).
maxof() {
	cut -d' ' -f"$2" "$1" | awk '$1 != "-" { if (!n++ || $1 > m) m = $1 }
		END { print n ? m : "-" }'
}

# json_bytes FILE: the "bytes" of a kith --json answer.
json_bytes() { sed -n 's/.*"bytes":\([0-9]*\).*/\1/p' "$1" | head -1; }

# --- 2. the accounts and the input ----------------------------------------
cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)
echo "seal-bench: $(date -u +%FT%TZ), $(nproc) CPUs (${cpu:-?})," \
	"$size bytes, $runs runs per case"
echo "kith: $K"
if grep -qa __asan_init "$K"; then
	echo "WARNING: this kith is an ASan build: not release figures"
fi
echo "temporary directory: $tmp ($(df -h --output=fstype,avail "$tmp" |
	tail -1 | awk '{ print $1 ", " $2 " free" }'))"
for n in "${notes[@]}"; do echo "NOTE: $n"; done
echo "peak RSS: $([ "$rssmode" = time ] && echo "/usr/bin/time -v" ||
	echo "VmHWM of /proc/PID/status, every 10 ms")"
# Other work on the machine shows in every figure: say how much there was.
echo "load average at the start: $(cut -d' ' -f1-3 /proc/loadavg)"

kith_a() { "$K" --home "$A" --passphrase-file "$P" "$@"; }
kith_b() { "$K" --home "$B" --passphrase-file "$P" "$@"; }
kith_a init --name a >"$tmp/init-a.out" 2>&1 ||
	{ cat "$tmp/init-a.out" >&2; fail "kith init (a)"; }
kith_b init --name b >"$tmp/init-b.out" 2>&1 ||
	{ cat "$tmp/init-b.out" >&2; fail "kith init (b)"; }
kith_a --json invite create --service https://chat.example.org \
	--alias alice >"$tmp/invite.out" 2>&1 ||
	{ cat "$tmp/invite.out" >&2; fail "kith invite create"; }
code=$(sed -n 's/.*"code":"\([^"]*\)".*/\1/p' "$tmp/invite.out")
[ -n "$code" ] || { cat "$tmp/invite.out" >&2; fail "no code in the invitation"; }
kith_b --json invite scan --code "$code" --alias bob --no-lan \
	>"$tmp/scan.out" 2>&1 ||
	{ cat "$tmp/scan.out" >&2; fail "kith invite scan (b)"; }
reply=$(sed -n 's/.*"reply":"\([^"]*\)".*/\1/p' "$tmp/scan.out")
[ -n "$reply" ] || { cat "$tmp/scan.out" >&2; fail "no reply in b's scan"; }
kith_a invite scan --code "$reply" >"$tmp/reply.out" 2>&1 ||
	{ cat "$tmp/reply.out" >&2; fail "kith invite scan of the reply (a)"; }

t0=$(now)
head -c "$size" /dev/urandom >"$IN"
[ "$(fsize "$IN")" = "$size" ] || fail "the input is not $size bytes"
echo "input: $size bytes of /dev/urandom in $(secs "$t0" "$(now)") s"
mb=$(awk -v b="$size" 'BEGIN { print b / 1e6 }')

# The table: rows go to $tmp/rows as "key|label|s|mbps|net|rss_kb", the
# ratio added when the reference is known.
: >"$tmp/rows"
row() { echo "$1|$2|$3|$4|$5|$6" >>"$tmp/rows"; }
mbps() { awk -v m="$mb" -v s="$1" 'BEGIN { printf "%.1f", (s > 0 ? m / s : 0) }'; }

# --- 3. references --------------------------------------------------------
: >"$tmp/r.cat"; : >"$tmp/r.cp"; : >"$tmp/r.sealref"
for r in $(seq 1 "$runs"); do
	timed /dev/null cat "$IN" >>"$tmp/r.cat"
	echo >>"$tmp/r.cat"
	rm -f "$tmp/copy"
	timed "$tmp/ref.out" cp "$IN" "$tmp/copy" >>"$tmp/r.cp"
	echo >>"$tmp/r.cp"
	rm -f "$tmp/copy"
	"$R" "$size" >>"$tmp/r.sealref" ||
		fail "sealref $size (status $?)"
done
s=$(median "$tmp/r.cat")
row cat "cat input > /dev/null" "$s" "$(mbps "$s")" - -
s=$(median "$tmp/r.cp")
row cp "cp input (same file system)" "$s" "$(mbps "$s")" - -
# ref NAME: sealref's median figure for NAME (MB/s).
ref() {
	sed -n "s/^$1_MBps=//p" "$tmp/r.sealref" >"$tmp/r.one"
	[ -s "$tmp/r.one" ] || fail "sealref gave no $1_MBps"
	median "$tmp/r.one"
}
row secretstream_push "secretstream push, 64 KiB" - "$(ref ss_push)" - -
row secretstream_pull "secretstream pull, 64 KiB" - "$(ref ss_pull)" - -
row aead_xchacha20poly1305 "XChaCha20-Poly1305 IETF, 64 KiB" - \
	"$(ref aead_x)" - -
row blake2b512 "BLAKE2b-512" - "$(ref blake2b)" - -
refmbps=$(ref ss_blake2b)
row secretstream_blake2b "secretstream+BLAKE2b (= ref)" - "$refmbps" - -
row secretstream_blake2b_sum "  the two apart, times added" - \
	"$(ref ss_blake2b_sum)" - -
row secretstream_pull_blake2b "secretstream pull+BLAKE2b" - \
	"$(ref ss_pull_blake2b)" - -
row base64_encode "base64 encode, 48 B lines" - "$(ref b64_enc)" - -
row base64_decode "base64 decode, 64-char lines" - "$(ref b64_dec)" - -

# --- 4. fixed cost --------------------------------------------------------
: >"$tmp/empty"
: >"$tmp/f.seal"; : >"$tmp/f.open"
for r in $(seq 1 "$runs"); do
	rm -f "$tmp/empty.env" "$tmp/empty.out"
	timed "$tmp/f.out" "$K" --home "$A" --passphrase-file "$P" seal \
		--to bob --out "$tmp/empty.env" --binary "$tmp/empty" \
		>>"$tmp/f.seal"
	echo >>"$tmp/f.seal"
	timed "$tmp/f.out" "$K" --home "$B" --passphrase-file "$P" open \
		--out "$tmp/empty.out" "$tmp/empty.env" >>"$tmp/f.open"
	echo >>"$tmp/f.open"
done
fix_seal=$(median "$tmp/f.seal")
fix_open=$(median "$tmp/f.open")
rm -f "$tmp/empty.env" "$tmp/empty.out"

# --- 5. seal and open -----------------------------------------------------
# kcase KEY LABEL FIXED CHECK OUT HOME ARGS...: BENCH_RUNS timed runs of
# 'kith --home HOME --json ARGS...', which writes OUT; OUT removed before
# each; the first run's OUT compared with the input when CHECK is "cmp";
# FIXED is the fixed cost for "net MB/s".  Adds the row.
kcase() {
	local key=$1 label=$2 fixed=$3 check=$4 out=$5 home=$6 r t got s
	shift 6
	: >"$tmp/k.$key"
	for r in $(seq 1 "$runs"); do
		rm -f "$out"
		t=$(timed_rss "$tmp/k.out" "$K" --home "$home" \
			--passphrase-file "$P" --json "$@")
		got=$(json_bytes "$tmp/k.out")
		[ "$got" = "$size" ] || { cat "$tmp/k.out" >&2
			fail "$label: kith says $got bytes, not $size"; }
		echo "$t" >>"$tmp/k.$key"
		if [ "$r" = 1 ] && [ "$check" = cmp ]; then
			cmp -s "$IN" "$out" ||
				fail "$label: the opened file differs from the input"
		fi
	done
	s=$(median "$tmp/k.$key" 1)
	row "$key" "$label" "$s" "$(mbps "$s")" \
		"$(awk -v m="$mb" -v s="$s" -v f="$fixed" 'BEGIN {
			printf "%s", (s - f > 0 ? sprintf("%.1f", m / (s - f)) : "-") }')" \
		"$(maxof "$tmp/k.$key" 2)"
}
kcase seal_binary "kith seal --binary" "$fix_seal" - "$tmp/env.bin" "$A" \
	seal --to bob --out "$tmp/env.bin" --binary "$IN"
kcase seal_armour "kith seal --armour" "$fix_seal" - "$tmp/env.asc" "$A" \
	seal --to bob --out "$tmp/env.asc" --armour "$IN"
kcase open_binary "kith open (binary)" "$fix_open" cmp "$tmp/out" "$B" \
	open --out "$tmp/out" "$tmp/env.bin"
kcase open_armour "kith open (armoured)" "$fix_open" cmp "$tmp/out" "$B" \
	open --out "$tmp/out" "$tmp/env.asc"
rm -f "$tmp/out"

# --- the table ------------------------------------------------------------
echo
# over ENVELOPE: its size over the input's, as a percentage.
over() {
	awk -v e="$(fsize "$1")" -v s="$size" \
		'BEGIN { printf "%+.4f%%", (e - s) * 100 / s }'
}
echo "envelopes of $size bytes: binary $(fsize "$tmp/env.bin") bytes" \
	"($(over "$tmp/env.bin")), armoured $(fsize "$tmp/env.asc") bytes" \
	"($(over "$tmp/env.asc"))"
echo "fixed cost (an empty file, median of $runs): seal $fix_seal s," \
	"open $fix_open s"
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)" \
	"($(nproc) CPUs)"
echo
echo "$size bytes (median of $runs runs each; 1 MB = 10^6 bytes;" \
	"x ref: over secretstream+BLAKE2b):"
printf '%-34s %8s %9s %9s %7s %9s\n' case s MB/s "net MB/s" "x ref" \
	"peak RSS"
awk -F'|' -v ref="$refmbps" '
	$1 == "secretstream_push" { print "references, one core (sealref):" }
	$1 == "seal_binary" { print "kith:" }
	{
		x = (ref > 0) ? sprintf("%.2f", $4 / ref) : "-"
		rss = ($6 == "-") ? "-" : sprintf("%.1f MiB", $6 / 1024)
		printf "%-34s %8s %9s %9s %7s %9s\n", $2, $3, $4, $5, x, rss
	}' "$tmp/rows"
echo
awk -F'|' -v ref="$refmbps" -v b="$size" -v n="$runs" '{
	printf "{\"bench\":\"seal\",\"case\":\"%s\",\"bytes\":%d,\"runs\":%d", $1, b, n
	if ($3 != "-") printf ",\"s\":%s", $3
	printf ",\"mbps\":%s", $4
	if ($5 != "-") printf ",\"net_mbps\":%s", $5
	printf ",\"ratio\":%.3f", (ref > 0) ? $4 / ref : 0
	if ($6 != "-") printf ",\"rss_kb\":%d", $6
	printf "}\n"
}' "$tmp/rows"
