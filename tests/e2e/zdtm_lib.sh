#!/bin/bash
# SPDX-License-Identifier: MIT
#
# Helpers of the zdtm audit tests (t_zdtm_*), sourced after lib.sh.  Their
# workloads take a directory of their own, set up what WL_ZDTM_SET names
# besides their defaults, print READY and check everything on SIGUSR1.

# zdtm_case WL NAME thaw|restore|twice: the workload's state after a
# freeze and thaw, or after checkpoint -> kill -> restore (image in
# $T_DIR/NAME.ckpt), or after that and a second checkpoint -> kill ->
# restore of the restored tree (NAME.ckpt2; zdtm's --iters 2); sets
# ZDTM_PID
zdtm_case() {
	local wl=$1 name=$2 how=$3 log=$T_DIR/$2.log pid
	mkdir -p "$T_DIR/$name.dir"
	start_workload "$log" "$CRFS_TESTS/$wl" "$T_DIR/$name.dir"
	pid=$WL_PID
	ZDTM_PID=$pid
	wait_ready "$log" "$pid"
	if [ "$how" = thaw ]; then
		cr_attach "$name" "$pid"
		cr_freeze "$name"
		cr_thaw "$name"
		timeout "$T_CTL_TIMEOUT" rmdir "$MNT/$name" || fail "rmdir $MNT/$name failed"
		kill -USR1 "$pid" || fail "cannot signal pid $pid"
		expect_pass "$log" "$pid" 30
		return
	fi
	checkpoint "$name" "$pid" "$T_DIR/$name.ckpt"
	kill_and_reap "$name" "$pid"
	restore_bg "$T_DIR/$name.ckpt" "$pid"
	if [ "$how" = twice ]; then
		track_tree "$pid"
		checkpoint "$name" "$pid" "$T_DIR/$name.ckpt2"
		kill_and_reap "$name" "$pid" "$RESTORE_PID"
		restore_bg "$T_DIR/$name.ckpt2" "$pid"
	fi
	kill -USR1 "$pid" || fail "cannot signal restored pid $pid"
	expect_pass "$log" "$RESTORE_PID" 30
}

# zdtm_refused WL WHAT TEXT: with WL_ZDTM_SET=WHAT the freeze refuses, ctl
# saying TEXT (PID in it stands for the workload's pid); after the thaw the
# workload still has what it set (log $T_DIR/WHAT.log)
zdtm_refused() {
	local wl=$1 what=$2 text=$3 log=$T_DIR/$2.log pid
	mkdir -p "$T_DIR/$what.dir"
	WL_ZDTM_SET=$what start_workload "$log" "$CRFS_TESTS/$wl" "$T_DIR/$what.dir"
	pid=$WL_PID
	wait_ready "$log" "$pid"
	expect_refused "$what" "$pid" "${text//PID/$pid}"
	timeout "$T_CTL_TIMEOUT" rmdir "$MNT/$what" || fail "rmdir $MNT/$what failed"
	kill -USR1 "$pid" || fail "cannot signal pid $pid"
	expect_pass "$log" "$pid" 30
}

# zdtm_freeze_fails NAME ROOT TEXT: attached at ROOT, the freeze fails and
# ctl's error line says TEXT; the tree runs on (container removed)
zdtm_freeze_fails() {
	local name=$1 root=$2 text=$3
	cr_attach "$name" "$root"
	ctl_write "$name" freeze && fail "$name: the freeze succeeded"
	ctl_read "$name" | grep -qF "error freeze failed: $text" ||
		fail "$name: ctl says $(ctl_read "$name" | tr '\n' '|')"
	expect_state "$name" running
	timeout "$T_CTL_TIMEOUT" rmdir "$MNT/$name" || fail "rmdir $MNT/$name failed"
}
