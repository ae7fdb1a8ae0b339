#!/bin/bash
# SPDX-License-Identifier: MIT
# e2e-lane: exclusive (timing, or host-wide events: runs alone)
#
# A process checkpointed 3 s into an 8 s sleep, relative (nanosleep) and
# absolute (clock_nanosleep TIMER_ABSTIME), must finish its sleep after the
# restore: return 0, not EINTR, after >= 8 s in all and without starting
# the sleep over (a restarted sleep would take >= 11 s; 2.5 s of slack).
. "$(dirname "$0")/lib.sh"

SLEEP=8
DELAY=3
SLACK=2.5

crfs_mount
for mode in rel abs; do
	log=$T_DIR/$mode.log
	start_workload "$log" "$CRFS_TESTS/wl_nanosleep" "$mode" "$SLEEP" "$SLACK"
	pid=$WL_PID
	wait_ready "$log" "$pid"
	wait_sleeping "$pid"
	sleep "$DELAY"
	checkpoint "ns-$mode" "$pid" "$T_DIR/ckpt-$mode"
	kill_and_reap "ns-$mode" "$pid"
	restore_bg "$T_DIR/ckpt-$mode" "$pid"
	expect_pass "$log" "$RESTORE_PID" 30
	note "$mode: $(grep '^#' "$log")"
done
pass
