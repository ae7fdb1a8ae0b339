#!/bin/bash
# SPDX-License-Identifier: MIT
# e2e-lane: isolated (its own namespaces or files only: runs beside the shared lane)
#
# wl_stopped: children stopped by SIGSTOP and SIGTSTP (one with two
# threads), with their stop collected by the parent or not, stay stopped
# across freeze and thaw and come back stopped after checkpoint, kill and
# restore; a stop signal sent while the tree is frozen takes effect at the
# thaw; one that arrives while crfs asks the task for its state (a SIGTSTP
# queued to a stopped process) is no reason to refuse the checkpoint.  Then the parent finds the stop reports
# it had not collected, continues each child with SIGCONT (WCONTINUED),
# and each child checks it ran on (see wl_stopped.c).
. "$(dirname "$0")/lib.sh"

stopped() {
	[ "$(proc_state "$1")" = T ]
}

# expect_stopped WHEN PID...: each in state T (job-control stop)
expect_stopped() {
	local when=$1 p
	shift
	for p in "$@"; do
		wait_for 5 stopped "$p" ||
			fail "$when: pid $p is in state '$(proc_state "$p")', not T"
	done
}

crfs_mount
log=$T_DIR/stopped.log
start_workload "$log" "$CRFS_TESTS/wl_stopped"
sub=$WL_PID
wait_root "$log" "$sub"
root=$ROOT_PID
track_tree "$root"
read -r s1 s2 s3 s4 s5 < <(sed -n 's/^KIDS //p' "$log")
[ -n "$s5" ] || fail "no KIDS line"
expect_stopped before "$s1" "$s2" "$s3"

cr_attach st "$root"
cr_freeze st
kill -STOP "$s4" || fail "cannot stop $s4"
cr_thaw st
expect_stopped "after thaw" "$s1" "$s2" "$s3" "$s4"
kill -USR2 "$root" || fail "cannot signal $root"
wait_line "$log" '^CHECKED thaw$' 20 "$root"
grep -q '^FAIL' "$log" && fail "after thaw: $(grep '^FAIL' "$log" | tr '\n' '|')"
stopped "$s5" && fail "s5 ($s5) stopped before its time"

kill -STOP "$s5" || fail "cannot stop $s5"
expect_stopped "before the checkpoint" "$s5"
kill -TSTP "$s5" || fail "cannot signal $s5"
cr_freeze st
cr_copy st "$T_DIR/ckpt"
grep -qx 'stop_signal 19' "$T_DIR/ckpt/$s5/attr" ||
	fail "$s5/attr: $(tr '\n' '|' <"$T_DIR/ckpt/$s5/attr")"
kill_and_reap st "$root" "$sub"
restore_bg "$T_DIR/ckpt" "$root"
track_tree "$root"
expect_stopped "after restore" "$s1" "$s2" "$s3" "$s4" "$s5"
kill -USR1 "$root" || fail "cannot signal restored root $root"
expect_pass "$log" "$RESTORE_PID" 30
for k in s1 s2 s3 s4 s5; do
	grep -qx "PASS R.$k.continued" "$log" || fail "no 'PASS R.$k.continued'"
	grep -qx "PASS $k.sigcont" "$log" || fail "no 'PASS $k.sigcont'"
done
pass
