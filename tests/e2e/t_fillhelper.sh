#!/bin/bash
# SPDX-License-Identifier: MIT
# e2e-lane: isolated (its own namespaces or files only: runs beside the shared lane)
#
# The restore's fill helper (restore/fill_helper.c), the second worker of
# the UFFDIO_COPY fill, and the runs cut at every 4 MiB of address it
# shares out.  wl_bench checks every byte of every process after the
# restore.  The helper is on by default (CRFS_FILL_HELPER=0 turns it
# off): the restores below without CRFS_FILL_HELPER prove the default.
# - one process of 48 MiB: its pages.idx has no run across a 4 MiB
#   boundary; a byte flipped in the last whole run of the big mapping,
#   with the helper filling everything (CRFS_FILL_HELPER=all), is refused
#   by the helper (its log says status 1) with the restorer's message
#   naming the file and the run, and nothing is left: no process of the
#   image, no helper; the same image restored as usual (both workers) is
#   refused the same way; the intact image restored with the helper
#   filling everything passes;
# - a tree of 6 processes of 16 MiB: restored with both workers, the
#   helper's log has a line for every process, all done, and the helper
#   filled runs (bytes of the big mappings) for some of them;
# - CRFS_FILL_HELPER=0: the same tree restores and passes with no helper
#   (its log stays empty).
. "$(dirname "$0")/lib.sh"

FLOG=$T_DIR/fill.log
CUT=$((4 << 20))

# runs_cut DIR PID: no run of PID crosses a multiple of 4 MiB; prints the
# last whole (4 MiB) run as "ADDR OFFSET"
runs_cut() {
	local a n src off h last=
	while read -r a n src off h; do
		if [ $((a / CUT)) != $(((a + n * 4096 - 1) / CUT)) ]; then
			echo "run $a of $n pages crosses a 4 MiB boundary" >&2
			return 1
		fi
		[ "$n" = 1024 ] && last="$a $off"
	done < <(tail -n +3 "$1/$2/pages.idx")
	[ -n "$last" ] || { echo "no whole run in $1/$2/pages.idx" >&2; return 1; }
	echo "$last"
}

# helper_gone LOG: the helper that wrote LOG's lines has exited
helper_gone() {
	local h
	for h in $(sed -n 's/^fill-helper \([0-9]*\):.*/\1/p' "$1" | sort -u); do
		wait_for 10 eval "! [ -e /proc/$h ]" ||
			fail "fill helper $h still exists ($(proc_state "$h"))"
	done
	return 0
}

crfs_mount

# --- one process: the cut, a corrupted run of the helper's, all by it -----
log=$T_DIR/one.log
start_workload "$log" "$CRFS_TESTS/wl_bench" 48
pid=$WL_PID
wait_line "$log" 'READY ROOT=' 60 "$pid"
checkpoint one "$pid" "$T_DIR/ckpt-one"
last=$(runs_cut "$T_DIR/ckpt-one" "$pid") || fail "runs of $pid are not cut at 4 MiB"
read -r addr off <<<"$last"
hex=$(printf '0x%x' "$((addr))")
note "last whole run at $hex (offset $off)"
kill_and_reap one "$pid"

cp -a "$T_DIR/ckpt-one" "$T_DIR/bad" || fail "cp of the image"
flip_byte "$T_DIR/bad/$pid/pages" $((off + (4 << 20) - 100))
re="$pid/pages: checksum mismatch in the pages of $hex \\(corrupted\\)"
: >"$FLOG"
CRFS_FILL_HELPER=all CRFS_FILL_LOG=$FLOG expect_restore_refused helper-bad \
	"$T_DIR/bad" "$pid" "$re"
grep -q "^fill-helper [0-9]*: pid $pid: .*status 1$" "$FLOG" ||
	fail "the helper did not report the bad run: $(tr '\n' '|' <"$FLOG")"
helper_gone "$FLOG"
note "helper refused: $(tail -n 1 "$T_DIR/restore-helper-bad.err")"

: >"$FLOG"
CRFS_FILL_LOG=$FLOG expect_restore_refused both-bad "$T_DIR/bad" "$pid" "$re"
helper_gone "$FLOG"

: >"$FLOG"
CRFS_FILL_HELPER=all CRFS_FILL_LOG=$FLOG restore_bg "$T_DIR/ckpt-one" "$pid"
kill -USR1 "$pid" || fail "cannot signal restored $pid"
expect_pass "$log" "$RESTORE_PID" 60
grep -Eq "^fill-helper [0-9]*: pid $pid: [1-9][0-9]* of .*status 0$" "$FLOG" ||
	fail "the helper filled nothing: $(tr '\n' '|' <"$FLOG")"
helper_gone "$FLOG"

# --- a tree: both workers, every process asks ------------------------------
log=$T_DIR/tree.log
start_workload "$log" "$CRFS_TESTS/wl_bench" 16 6
top=$WL_PID
wait_root "$log" "$top" 60
root=$ROOT_PID
track_tree "$root"
pids=$(tree_pids "$root" | sort -n)
[ "$(echo "$pids" | wc -l)" = 6 ] || fail "tree of $root: $(echo $pids)"
checkpoint tree "$root" "$T_DIR/ckpt-tree"
for p in $pids; do
	runs_cut "$T_DIR/ckpt-tree" "$p" >/dev/null || fail "runs of $p are not cut"
done
kill_and_reap tree "$root" "$top"
none_alive $pids

: >"$FLOG"
CRFS_FILL_LOG=$FLOG restore_bg "$T_DIR/ckpt-tree" "$root"
kill -USR1 "$root" || fail "cannot signal restored $root"
expect_pass "$log" "$RESTORE_PID" 60
helper_gone "$FLOG"
for p in $pids; do
	grep -q "^fill-helper [0-9]*: pid $p: .*status 0$" "$FLOG" ||
		fail "no request of process $p in the helper's log: $(tr '\n' '|' <"$FLOG")"
done
grep -v 'status 0$' "$FLOG" && fail "a request failed"
big=$(awk '$5 >= 1 && $9 >= 4194304' "$FLOG" | wc -l)
[ "$big" -ge 1 ] || fail "the helper filled no whole run: $(tr '\n' '|' <"$FLOG")"
note "helper: $(awk '$5 > 0' "$FLOG" | wc -l) of 6 processes had runs filled by it, $big a whole run or more"
for p in $pids; do
	wait_gone "$p" 20 || fail "restored $p still running after the pass"
done

: >"$FLOG"
CRFS_FILL_HELPER=0 CRFS_FILL_LOG=$FLOG restore_bg "$T_DIR/ckpt-tree" "$root"
kill -USR1 "$root" || fail "cannot signal restored $root"
expect_pass "$log" "$RESTORE_PID" 60
[ -s "$FLOG" ] && fail "CRFS_FILL_HELPER=0 still started the helper: $(tr '\n' '|' <"$FLOG")"
pass
