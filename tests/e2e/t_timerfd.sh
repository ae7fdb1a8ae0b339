#!/bin/bash
# SPDX-License-Identifier: MIT
# e2e-lane: exclusive (timing, or host-wide events: runs alone)
#
# wl_timerfd: timerfds relative and absolute (TFD_TIMER_ABSTIME on
# CLOCK_REALTIME, MONOTONIC, BOOTTIME; TFD_TIMER_CANCEL_ON_SET), periodic,
# disarmed, with expirations not yet read.  First frozen and thawed, then
# checkpointed, killed and, two seconds later, restored: an absolute timer
# must still fire at its time, not two seconds late.
. "$(dirname "$0")/lib.sh"

crfs_mount
for mode in thaw restore; do
	log=$T_DIR/timerfd-$mode.log
	start_workload "$log" "$CRFS_TESTS/wl_timerfd"
	pid=$WL_PID
	wait_ready "$log" "$pid"
	checkpoint "tf$mode" "$pid" "$T_DIR/ckpt-$mode"
	grep -q ' timerfd .*tflags=3 .*expires=' "$T_DIR/ckpt-$mode/files" ||
		fail "files has no cancel-on-set timer with its time: $(grep timerfd "$T_DIR/ckpt-$mode/files" | tr '\n' '|')"
	if [ "$mode" = thaw ]; then
		cr_thaw "tf$mode"
		kill -USR1 "$pid" || fail "cannot signal $pid"
		expect_pass "$log" "$pid" 20
		timeout "$T_CTL_TIMEOUT" rmdir "$MNT/tf$mode" || fail "rmdir tf$mode"
		continue
	fi
	kill_and_reap "tf$mode" "$pid"
	sleep 2
	restore_bg "$T_DIR/ckpt-$mode" "$pid"
	kill -USR1 "$pid" || fail "cannot signal restored pid $pid"
	expect_pass "$log" "$RESTORE_PID" 20
done
pass
