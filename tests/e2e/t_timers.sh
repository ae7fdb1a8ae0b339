#!/bin/bash
# SPDX-License-Identifier: MIT
# e2e-lane: exclusive (timing, or host-wide events: runs alone)
#
# wl_timers: interval and POSIX timers (ids with a gap, clocks, SIGEV_NONE,
# SIGEV_SIGNAL, SIGEV_THREAD_ID) survive checkpoint, kill and restore with
# their time left and period, and fire afterwards with their values.
. "$(dirname "$0")/lib.sh"

crfs_mount
start_workload "$T_DIR/timers.log" "$CRFS_TESTS/wl_timers"
pid=$WL_PID
wait_ready "$T_DIR/timers.log" "$pid"
checkpoint tm "$pid" "$T_DIR/ckpt"
grep -q '^posix 2 ' "$T_DIR/ckpt/$pid/timers" ||
	fail "$pid/timers lacks timer 2: $(tr '\n' '|' <"$T_DIR/ckpt/$pid/timers")"
kill_and_reap tm "$pid"
restore_bg "$T_DIR/ckpt" "$pid"
kill -USR1 "$pid" || fail "cannot signal restored pid $pid"
expect_pass "$T_DIR/timers.log" "$RESTORE_PID" 30
pass
