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
	verify_after "$mode" "tf$mode" "$pid" "$log" "$T_DIR/ckpt-$mode" 2
done
pass
