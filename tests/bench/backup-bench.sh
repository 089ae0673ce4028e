#!/usr/bin/env bash
# Benchmark: backup to a directory (a USB stick, say): a full backup of N
# records, then incremental ones that must cost in proportion to what is
# new, not to what the set already holds; and a restore of the result.
# Next to it, measured in the same run: reading and copying the store
# file, and the speed of ChaCha20-Poly1305 on one core.
#
#   tests/bench/backup-bench.sh [N]          (default 1000000 records)
#
#   KITH_BIN=DIR     the directory holding kith (default build/release/syncd)
#   KITH_TOOLS=DIR   the directory holding genhist and aeadbench (default
#                    KITH_BIN/../tests)
#
# A release build, for instance:
#   cmake -S . -B build/release -DCMAKE_BUILD_TYPE=Release &&
#   make -C build/release kith genhist aeadbench
# A small N makes a quick run: tests/bench/backup-bench.sh 20000.
#
# What it does, all under one mktemp -d (removed at the end):
# 1. A new account (kith init; its recovery code is read from the output),
#    N genhist records of about BENCH_RECSIZE bytes imported at once
#    ('kith history import'), 'kith history count' must say N.
# 2. References: 'cat kith.db > /dev/null' (warm cache: the import has
#    just written it), 'cp kith.db' to the target's file system, and that
#    copy with an fsync (a backup fsyncs what it writes), each the median
#    of BENCH_RUNS runs; aeadbench (IETF ChaCha20-Poly1305 over 64 KiB,
#    one core; backups use XChaCha20-Poly1305 secretstream) when built.
# 3. full: 'kith backup --to T' of the N records into a target just made
#    with 'kith backup --init T', BENCH_RUNS times, each into a new target
#    (a new target is the only way to make kith write a full backup
#    again); the last one is kept for what follows.
# 4. up to date: 'kith backup --to T' with nothing new, BENCH_RUNS times:
#    what every backup costs whatever it writes (unlocking the device key,
#    opening the store, checking the last manifest).
# 5. +K: K new records (genhist with seeds of their own, so their ids are
#    new) imported, then the backup timed; BENCH_RUNS times for each K in
#    BENCH_NEW (default N/1000, N/100, N/10: 1,000, 10,000 and 100,000
#    for the default N).  Each run adds to the set, so the set's total
#    grows as the runs go on.  Every one of these must say "incremental".
#    Then "up to date" once more, on the grown set of many segments.
# 6. restore: 'kith restore T --code-file C' into a new home, BENCH_RUNS
#    times; the new home's 'history count' must equal the source's.
#
# Before each timed command the file system is synced (sync -f), outside
# the time.
#
# Columns: "records" written by that backup, "in set" the records the
# backup holds afterwards, "MB" the bytes of the files new in the set
# directory after it (the segment and the manifest; 1 MB = 10^6 bytes),
# "s" seconds of wall time of the kith command (median of BENCH_RUNS runs,
# full backup included), "x full" that time over the full backup's,
# "new/all" records over in set: if an incremental backup is proportional
# to what is new, "x full" follows "new/all".  Every backup also pays the
# fixed cost of the up-to-date case (t0): "net" is (s - t0) / (full - t0),
# the part that depends on the records ("-" when t0 is over 3/4 of the
# full backup's time, as it is for a small N: noise, then).
#
# Environment:
#   BENCH_RUNS=N      runs per case (default 3)
#   BENCH_NEW="..."   new records per incremental case (see 5.)
#   BENCH_RECSIZE=B   genhist record size (default 200)
#   KEEP_TMP=1        keep the temporary directory (homes, target, logs)
set -euo pipefail
export LC_ALL=C
top=$(cd "$(dirname "$0")/../.." && pwd)
n=${1:-1000000}
case $n in '' | *[!0-9]*) echo "usage: $0 [N]" >&2; exit 2 ;; esac
[ "$n" -ge 10 ] || { echo "N must be at least 10" >&2; exit 2; }
KITH_BIN=${KITH_BIN:-$top/build/release/syncd}
KITH_TOOLS=${KITH_TOOLS:-$KITH_BIN/../tests}
K=$KITH_BIN/kith
G=$KITH_TOOLS/genhist
A=$KITH_TOOLS/aeadbench
for f in "$K" "$G"; do
	[ -x "$f" ] || {
		echo "$f not built: cmake -S $top -B $top/build/release" \
		    "-DCMAKE_BUILD_TYPE=Release && make -C $top/build/release" \
		    "kith genhist aeadbench (or set KITH_BIN, KITH_TOOLS)" >&2
		exit 1
	}
done
runs=${BENCH_RUNS:-3}
recsize=${BENCH_RECSIZE:-200}
news=${BENCH_NEW:-$(for d in 1000 100 10; do
	echo $(((n / d) > 0 ? n / d : 1)); done | tr '\n' ' ')}

. "$(dirname "$0")/lib.sh"
workdir
export DBUS_SYSTEM_BUS_ADDRESS=unix:path=/nonexistent AVAHI_COMPAT_NOWARN=1
H=$tmp/home
P=$tmp/pass
C=$tmp/code
echo "benchmark passphrase" > "$P"
chmod 600 "$P"

# settle: write back what is dirty on our file system (the deleted
# targets, the import), outside the timed commands.
settle() { sync -f "$tmp"; }

# mbps MB SECONDS
mbps() { awk -v m="$1" -v s="$2" 'BEGIN { printf "%.1f", (s > 0 ? m / s : 0) }'; }

# The store: kith.db and its write-ahead log, if one is left.
dbsize() {
	local s=0 f
	for f in "$H"/kith.db "$H"/kith.db-wal; do
		[ ! -f "$f" ] || s=$((s + $(fsize "$f")))
	done
	echo "$s"
}

# The set directory of target T (there is one device, so one set).
setdir() {
	local d
	d=$(find "$1/kith-backup" -mindepth 1 -maxdepth 1 -type d)
	if [ -z "$d" ] || [ "$(echo "$d" | wc -l)" != 1 ]; then
		fail "not one set in $1/kith-backup: $d"
	fi
	echo "$d"
}

# listing T: "name size" of every file of T's set.
listing() {
	find "$(setdir "$1")" -maxdepth 1 -type f -printf '%f %s\n' | sort
}

# newbytes BEFORE AFTER: bytes of the files in listing AFTER that are not
# in listing BEFORE (a file of the same name and size counts as the same).
newbytes() {
	comm -13 "$1" "$2" | awk '{ s += $2 } END { print s + 0 }'
}

seed=1000
# add K: K new records, ids of a seed of their own.
add() {
	local k=$1 have
	have=$("$K" --home "$H" history count)
	seed=$((seed + 1))
	"$G" "$k" "$recsize" "$seed" |
		"$K" --home "$H" --passphrase-file "$P" history import - \
		>"$tmp/import.out" 2>&1 ||
		{ cat "$tmp/import.out" >&2; fail "import of $k records"; }
	[ "$("$K" --home "$H" history count)" = $((have + k)) ] ||
		fail "after importing $k records to $have: $("$K" --home "$H" \
		    history count) records"
}

# backup T KIND: one timed 'kith backup --to T'; appends
# "seconds records bytes total" to $tmp/runs.  KIND is what its output
# must say: full, incremental or uptodate.
backup() {
	local t=$1 kind=$2 s out=$tmp/backup.out recs total
	listing "$t" >"$tmp/before" 2>/dev/null || : >"$tmp/before"
	settle
	s=$(timed "$out" "$K" --home "$H" --passphrase-file "$P" backup \
		--to "$t")
	listing "$t" >"$tmp/after"
	case $kind in
	uptodate)
		grep -q ": up to date (backup [0-9]*, [0-9]* records)" "$out" ||
			{ cat "$out" >&2; fail "expected an up-to-date backup"; }
		recs=0
		total=$(sed -n 's/.*up to date (backup [0-9]*, \([0-9]*\) records).*/\1/p' "$out")
		;;
	*)
		grep -q "new records ($kind, " "$out" ||
			{ cat "$out" >&2; fail "expected a $kind backup" \
			    "(an incremental one turns full after 32 segments)"; }
		recs=$(sed -n 's/.*written: \([0-9]*\) new records.*/\1/p' "$out")
		total=$(sed -n 's/.*; \([0-9]*\) in all.*/\1/p' "$out")
		;;
	esac
	if [ -z "$recs" ] || [ -z "$total" ]; then
		cat "$out" >&2
		fail "cannot read kith backup's output"
	fi
	echo "$s $recs $(newbytes "$tmp/before" "$tmp/after") $total" \
		>>"$tmp/runs"
}

# --- 1. the store --------------------------------------------------------
echo "backup-bench: $(date -u +%FT%TZ), $(nproc) CPUs, N=$n records of" \
	"~$recsize B, $runs runs per case"
echo "kith: $K"
if grep -qa __asan_init "$K"; then
	echo "WARNING: this kith is an ASan build: not release figures"
fi
echo "temporary directory: $tmp ($(df -h --output=fstype,avail "$tmp" |
	tail -1 | awk '{ print $1 ", " $2 " free" }'))"
"$K" --home "$H" --passphrase-file "$P" init --name bench >"$tmp/init.out" 2>&1 ||
	{ cat "$tmp/init.out" >&2; fail "kith init"; }
# The code is the indented line after "Recovery code, shown only once".
awk '/^Recovery code/ { f = 1; next }
     f && NF { gsub(/[ \t]/, ""); print; exit }' "$tmp/init.out" >"$C"
grep -qE '^[A-Z0-9]{4}(-[A-Z0-9]{4})+$' "$C" ||
	{ cat "$tmp/init.out" >&2; fail "no recovery code in kith init's output"; }
chmod 600 "$C"

t0=$(now)
"$G" "$n" "$recsize" 1 |
	"$K" --home "$H" --passphrase-file "$P" history import - \
	>"$tmp/import.out" 2>&1 ||
	{ cat "$tmp/import.out" >&2; fail "import of $n records"; }
t1=$(now)
have=$("$K" --home "$H" history count)
[ "$have" = "$n" ] || fail "history count says $have after importing $n"
db=$(dbsize)
echo "import: $n records in $(secs "$t0" "$t1") s" \
	"($(awk -v n="$n" -v s="$(secs "$t0" "$t1")" 'BEGIN { printf "%.0f", n / s }')" \
	"records/s); kith.db $(awk -v b="$db" 'BEGIN { printf "%.1f", b / 1e6 }') MB"

# --- 2. references -------------------------------------------------------
mkdir "$tmp/copy"
settle
: >"$tmp/r.cat"; : >"$tmp/r.cp"; : >"$tmp/r.cpsync"
for r in $(seq 1 "$runs"); do
	timed /dev/null cat "$H/kith.db" >>"$tmp/r.cat"
	echo >>"$tmp/r.cat"
	rm -f "$tmp/copy/kith.db"
	timed "$tmp/ref.out" cp "$H/kith.db" "$tmp/copy/" >>"$tmp/r.cp"
	echo >>"$tmp/r.cp"
	rm -f "$tmp/copy/kith.db"
	# shellcheck disable=SC2016
	timed "$tmp/ref.out" sh -c 'cp "$1" "$2/" && sync "$2/kith.db"' sh \
		"$H/kith.db" "$tmp/copy" >>"$tmp/r.cpsync"
	echo >>"$tmp/r.cpsync"
	rm -f "$tmp/copy/kith.db"
done
dbmb=$(awk -v b="$(fsize "$H/kith.db")" 'BEGIN { print b / 1e6 }')
ref_cat=$(median "$tmp/r.cat")
ref_cp=$(median "$tmp/r.cp")
ref_cpsync=$(median "$tmp/r.cpsync")
echo
echo "references (kith.db, $(printf '%.1f' "$dbmb") MB, median of $runs):"
printf '  %-32s %8.3f s %9s MB/s\n' "cat kith.db > /dev/null" "$ref_cat" \
	"$(mbps "$dbmb" "$ref_cat")"
printf '  %-32s %8.3f s %9s MB/s\n' "cp kith.db (same file system)" \
	"$ref_cp" "$(mbps "$dbmb" "$ref_cp")"
printf '  %-32s %8.3f s %9s MB/s\n' "cp kith.db + fsync" "$ref_cpsync" \
	"$(mbps "$dbmb" "$ref_cpsync")"
aead=-
if [ -x "$A" ]; then
	aead=$("$A" 2 | sed -n 's/^aead_MBps=//p')
	printf '  %-32s %10s %9s MB/s\n' "ChaCha20-Poly1305, 1 core" "" "$aead"
else
	echo "  (no $A: no AEAD reference)"
fi

# --- 3. full -------------------------------------------------------------
: >"$tmp/runs"
for r in $(seq 1 "$runs"); do
	[ "$r" = 1 ] || rm -rf "$tmp/target"
	mkdir "$tmp/target"
	"$K" --home "$H" backup --init "$tmp/target" >"$tmp/init-t.out" 2>&1 ||
		{ cat "$tmp/init-t.out" >&2; fail "kith backup --init"; }
	backup "$tmp/target" full
done
T=$tmp/target
full_s=$(median "$tmp/runs" 1)
full_b=$(median "$tmp/runs" 3)
full_n=$(median "$tmp/runs" 2)
[ "$full_n" = "$n" ] || fail "the full backup wrote $full_n records, not $n"
mv "$tmp/runs" "$tmp/runs.full"

# --- 4. up to date -------------------------------------------------------
: >"$tmp/runs"
for r in $(seq 1 "$runs"); do
	backup "$T" uptodate
done
up_s=$(median "$tmp/runs" 1)
mv "$tmp/runs" "$tmp/runs.up"

row() {
	printf '%-12s %9s %9s %9s %8s %10s %8s %8s %9s %7s\n' "$@"
}
# line CASE RUNSFILE: a row of the table from that case's runs.
line() {
	local s r b tot
	s=$(median "$2" 1)
	r=$(median "$2" 2)
	b=$(median "$2" 3)
	tot=$(median "$2" 4)
	awk -v c="$1" -v s="$s" -v r="$r" -v b="$b" -v tot="$tot" \
	    -v fs="$full_s" -v t0="$up_s" 'BEGIN {
		rps = (r > 0 && s > 0) ? sprintf("%.0f", r / s) : "-"
		mbs = (r > 0 && s > 0) ? sprintf("%.1f", b / 1e6 / s) : "-"
		# Only when the fixed cost is not most of the full backup.
		net = (fs - t0 > fs / 4) ? sprintf("%.4f", (s - t0) / (fs - t0)) : "-"
		printf "%-12s %9d %9d %9.2f %8.3f %10s %8s %8.4f %9.4f %7s\n",
		    c, r, tot, b / 1e6, s, rps, mbs, s / fs, r / tot, net
	}'
}

{
	echo
	echo "backups of $n records (seconds: median of $runs runs each;" \
		"\"in set\": records the backup holds after it):"
	row case records "in set" MB s rec/s MB/s "x full" "new/all" net
	line full "$tmp/runs.full"
	line "up to date" "$tmp/runs.up"
} | tee "$tmp/table"

# --- 5. incremental ------------------------------------------------------
for k in $news; do
	: >"$tmp/runs"
	for r in $(seq 1 "$runs"); do
		add "$k"
		backup "$T" incremental
		w=$(tail -1 "$tmp/runs" | cut -d' ' -f2)
		[ "$w" = "$k" ] ||
			fail "+$k: the backup wrote $w records, not $k"
	done
	line "+$k" "$tmp/runs" | tee -a "$tmp/table"
done
: >"$tmp/runs"
for r in $(seq 1 "$runs"); do
	backup "$T" uptodate
done
line "up to date" "$tmp/runs" | tee -a "$tmp/table"

# --- the set -------------------------------------------------------------
sd=$(setdir "$T")
nseg=$(find "$sd" -maxdepth 1 -name 'seg-*.kbs' | wc -l)
nman=$(find "$sd" -maxdepth 1 -name 'man-*.kbm' | wc -l)
nfiles=$(find "$sd" -maxdepth 1 -type f | wc -l)
bksize=$(find "$T/kith-backup" -type f -printf '%s\n' | awk '{ s += $1 } END { print s + 0 }')
db=$(dbsize)
echo
echo "the set: $nfiles files ($nseg segments, $nman manifests, LOCK);" \
	"backup $(awk -v b="$bksize" 'BEGIN { printf "%.1f", b / 1e6 }') MB" \
	"for $("$K" --home "$H" history count) records, kith.db" \
	"$(awk -v b="$db" 'BEGIN { printf "%.1f", b / 1e6 }') MB" \
	"(backup/kith.db $(awk -v a="$bksize" -v b="$db" 'BEGIN { printf "%.2f", a / b }'))"
awk -v fs="$full_s" -v fb="$full_b" -v cp="$ref_cpsync" -v aead="$aead" \
    -v db="$dbmb" 'BEGIN {
	r = fb / 1e6 / fs
	printf "full backup: %.1f MB/s = %.2f x cp+fsync of kith.db (%.1f MB/s)",
	    r, r / (db / cp), db / cp
	if (aead != "-") printf ", %.2f x AEAD", r / aead
	printf "\n"
}'

# --- 6. restore ----------------------------------------------------------
src=$("$K" --home "$H" history count)
: >"$tmp/runs"
for r in $(seq 1 "$runs"); do
	R=$tmp/restored
	rm -rf "$R"
	settle
	s=$(timed "$tmp/restore.out" "$K" --home "$R" restore "$T" \
		--code-file "$C")
	got=$(sed -n 's/^Restored \([0-9]*\) records.*/\1/p' "$tmp/restore.out")
	cnt=$("$K" --home "$R" --passphrase-file "$P" history count)
	if [ "$cnt" != "$src" ] || [ "$got" != "$src" ]; then
		cat "$tmp/restore.out" >&2
		fail "restore: $got restored, history count $cnt, the" \
		    "source holds $src"
	fi
	echo "$s $cnt" >>"$tmp/runs"
done
rs=$(median "$tmp/runs" 1)
echo "restore: $src records ($(awk -v b="$bksize" 'BEGIN { printf "%.1f", b / 1e6 }') MB of backup) in $rs s" \
	"(median of $runs), $(awk -v n="$src" -v s="$rs" 'BEGIN { printf "%.0f", n / s }') records/s," \
	"$(awk -v b="$bksize" -v s="$rs" 'BEGIN { printf "%.1f", b / 1e6 / s }') MB/s;" \
	"history count $cnt = the source's"
