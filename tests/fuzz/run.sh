#!/bin/bash
# SPDX-License-Identifier: MIT
#
# run.sh SECONDS|smoke: build-fuzz/fuzz_parsers on each parser in turn
# (FUZZ_PARSER=NAME, the names of its parsers[] table), SECONDS each; or,
# for "smoke", one minute on all of them at once (a selector byte first).  Seeds come from tests/fuzz/seeds/NAME
# (made by mkseeds.sh from real images); what the fuzzer finds new grows
# build-fuzz/corpus/NAME; a crash, leak, UB report, timeout or OOM is kept
# in build-fuzz/crashes/.  One line per parser, then
#	fuzz: N parsers, N executions, N failed
# and a non-zero status if any failed.
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
FZ=$ROOT/build-fuzz
BIN=$FZ/fuzz_parsers
[ -x "$BIN" ] || { echo "fuzz: no $BIN (make fuzz builds it)" >&2; exit 2; }
mapfile -t names < <(sed -n 's/^\t{ "\([^"]*\)", f_[a-z_]* },$/\1/p' \
	"$ROOT/tests/fuzz/fuzz_parsers.c")
[ ${#names[@]} -gt 0 ] || { echo "fuzz: no parsers found" >&2; exit 2; }
secs=${1:-60}
mkdir -p "$FZ/crashes" "$FZ/logs"
total=0 nfail=0

# fuzz NAME SECONDS CORPUS...: one run; FUZZ_PARSER=NAME unless NAME is "all"
fuzz() {
	local n=$1 s=$2 log=$FZ/logs/$1.log rc runs pe=(FUZZ_PARSER="$1")
	shift 2
	[ "$n" = all ] && pe=()
	env "${pe[@]}" timeout -k 5 $((s + 60)) "$BIN" \
		-max_total_time="$s" -max_len=8192 -timeout=10 \
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
	fuzz all 60 "$all"
	echo "fuzz: ${#names[@]} parsers, $total executions, $nfail failed"
	[ $nfail -eq 0 ]
	exit
fi
for n in "${names[@]}"; do
	seeds=()
	[ -d "$ROOT/tests/fuzz/seeds/$n" ] && seeds=("$ROOT/tests/fuzz/seeds/$n")
	mkdir -p "$FZ/corpus/$n"
	fuzz "$n" "$secs" "$FZ/corpus/$n" "${seeds[@]}"
done
echo "fuzz: ${#names[@]} parsers, $total executions, $nfail failed"
[ $nfail -eq 0 ]
