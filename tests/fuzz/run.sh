#!/bin/bash
# SPDX-License-Identifier: MIT
#
# run.sh SECONDS|smoke: build-fuzz/fuzz_parsers on each parser in turn
# (FUZZ_PARSER=NAME, the names of its parsers[] table), SECONDS each, then
# build-fuzz/fuzz_restore (crfs-restore's loaders on real checkpoints, one
# file replaced) SECONDS times four; or, for "smoke", 40 seconds on all
# parsers at once (a selector byte first) and 20 on fuzz_restore.  The
# parsers' seeds come from tests/fuzz/seeds/NAME (made by mkseeds.sh from
# real images); fuzz_restore's checkpoints are made fresh by mkimage.sh
# (they must match this host) into build-fuzz/images, and its seeds are
# their files.  What the fuzzer finds new grows build-fuzz/corpus/NAME; a
# crash, leak, UB report, timeout or OOM is kept in build-fuzz/crashes/.
# One line per run, then
#	fuzz: N parsers and the restore loaders, N executions, N failed
# and a non-zero status if any failed.
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
FZ=$ROOT/build-fuzz
BIN=$FZ/fuzz_parsers
for b in "$BIN" "$FZ/fuzz_restore"; do
	[ -x "$b" ] || { echo "fuzz: no $b (make fuzz builds it)" >&2; exit 2; }
done
mapfile -t names < <(sed -n 's/^\t{ "\([^"]*\)", f_[a-z_]* },$/\1/p' \
	"$ROOT/tests/fuzz/fuzz_parsers.c")
[ ${#names[@]} -gt 0 ] || { echo "fuzz: no parsers found" >&2; exit 2; }
secs=${1:-60}
mkdir -p "$FZ/crashes" "$FZ/logs"
total=0 nfail=0

# fuzz NAME SECONDS CORPUS...: one run; FUZZ_PARSER=NAME unless NAME is
# "all" or "restore" (fuzz_restore)
fuzz() {
	local n=$1 s=$2 log=$FZ/logs/$1.log rc runs pe=(FUZZ_PARSER="$1")
	local bin=$BIN len=8192
	shift 2
	[ "$n" = all ] && pe=()
	if [ "$n" = restore ]; then
		pe=(FUZZ_IMAGES="$FZ/images") bin=$FZ/fuzz_restore len=65536
	fi
	env "${pe[@]}" timeout -k 5 $((s + 60)) "$bin" \
		-max_total_time="$s" -max_len=$len -timeout=10 \
		-rss_limit_mb=2048 -malloc_limit_mb=256 -print_final_stats=1 \
		-artifact_prefix="$FZ/crashes/$n-" "$@" >"$log" 2>&1
	rc=$?
	runs=$(sed -n 's/^stat::number_of_executed_units: *\([0-9]*\)/\1/p' "$log")
	: "${runs:=0}"
	total=$((total + runs))
	if [ $rc -eq 0 ]; then
		printf 'fuzz %-11s %9d executions, ok\n' "$n" "$runs"
		return
	fi
	nfail=$((nfail + 1))
	printf 'fuzz %-11s %9d executions, FAILED (%d), input in %s\n' "$n" \
		"$runs" "$rc" "$(grep -o "$FZ/crashes/[^ ]*" "$log" | tail -n 1)"
	grep -A12 -m1 -E '^==[0-9]+==ERROR|runtime error' "$log" | sed 's/^/# /'
}

# restore SECONDS: fuzz_restore on fresh checkpoints, seeded with their
# files: a checkpoint's index (name order) and the file's (manifest order,
# one past the last: image; two past: an added mounts file, seeded from
# the mounts parser's seeds) as two bytes, then the file
restore() {
	local seeds=$FZ/seeds-restore i=0 k d rel
	if ! "$ROOT/tests/fuzz/mkimage.sh" "$FZ/images" >"$FZ/logs/mkimage.log" 2>&1; then
		nfail=$((nfail + 1))
		echo "fuzz restore: cannot make the checkpoints:"
		tail -n 20 "$FZ/logs/mkimage.log" | sed 's/^/# /'
		return
	fi
	rm -rf "$seeds" && mkdir -p "$seeds" "$FZ/corpus/restore"
	for d in $(cd "$FZ/images" && ls | LC_ALL=C sort); do
		k=0
		for rel in $(awk '$1 == "file" { print $2 }' "$FZ/images/$d/image") image; do
			# pages are not text: the index says what they hold
			[ "${rel##*/}" = pages ] && { k=$((k + 1)); continue; }
			{ printf "\\$(printf %03o $i)\\$(printf %03o $k)"
			  head -c 65000 "$FZ/images/$d/$rel"; } >"$seeds/$d-${rel//\//_}"
			k=$((k + 1))
		done
		# one past image: a mount tree added to the checkpoint
		for f in "$ROOT/tests/fuzz/seeds/mounts"/*; do
			{ printf "\\$(printf %03o $i)\\$(printf %03o $k)"
			  cat "$f"; } >"$seeds/$d-mounts-${f##*/}"
		done
		i=$((i + 1))
	done
	fuzz restore "$1" "$FZ/corpus/restore" "$seeds"
}

if [ "$secs" = smoke ]; then
	# one run over all parsers at once: each seed behind its parser's
	# selector byte, the fuzzer mutates that byte too
	all=$FZ/corpus/all
	mkdir -p "$all"
	for i in "${!names[@]}"; do
		for f in "$ROOT/tests/fuzz/seeds/${names[$i]}"/*; do
			[ -f "$f" ] || continue
			{ printf "\\$(printf %03o "$i")"; cat "$f"; } \
				>"$all/seed-${names[$i]}-${f##*/}"
		done
	done
	fuzz all 40 "$all"
	restore 20
	echo "fuzz: ${#names[@]} parsers and the restore loaders, $total executions, $nfail failed"
	[ $nfail -eq 0 ]
	exit
fi
for n in "${names[@]}"; do
	seeds=()
	[ -d "$ROOT/tests/fuzz/seeds/$n" ] && seeds=("$ROOT/tests/fuzz/seeds/$n")
	mkdir -p "$FZ/corpus/$n"
	fuzz "$n" "$secs" "$FZ/corpus/$n" "${seeds[@]}"
done
restore $((secs * 4))
echo "fuzz: ${#names[@]} parsers and the restore loaders, $total executions, $nfail failed"
[ $nfail -eq 0 ]
