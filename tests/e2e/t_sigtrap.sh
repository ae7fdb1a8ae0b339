#!/bin/bash
# SPDX-License-Identifier: MIT
# e2e-lane: isolated (its own files only: runs beside the shared lane)
#
# SIGTRAP's action, mask bit and pending state through a freeze and thaw,
# and through checkpoint, kill and restore: the freeze single-steps the
# syscalls it runs in a task (one ptrace stop each), and the kernel resets
# the action of a forced SIGTRAP that is blocked or ignored (wl_sigtrap.c:
# ignored with SA_RESTART; a handler with SIGTRAP blocked; the same with
# SIGTRAP and SIGUSR2 pending, in the main thread's queue and in a second
# thread's).  A thread's own pending SIGTRAP was lost by the restore (the
# SIGTRAP of its restorer's trap merged with it): found by this test.
# And a second thread's own queue of SIGUSR2 tgkill'd (SI_TKILL) and
# SIGRTMIN sigqueued, tgkill'd, sigqueued, taken in that order: the
# restore failed with EPERM (the restorer's main thread queued it); the
# thread queues its own now, at its trap.
. "$(dirname "$0")/lib.sh"

crfs_mount

for mode in ign blocked pending thread ownqueue; do
	log=$T_DIR/thaw-$mode.log
	start_workload "$log" "$CRFS_TESTS/wl_sigtrap" "$mode"
	pid=$WL_PID
	wait_ready "$log" "$pid"
	wait_sleeping "$pid"
	cr_attach "th$mode" "$pid"
	cr_freeze "th$mode"
	cr_thaw "th$mode"
	kill -USR1 "$pid"
	expect_pass "$log" "$pid" 20

	log=$T_DIR/$mode.log
	start_workload "$log" "$CRFS_TESTS/wl_sigtrap" "$mode"
	pid=$WL_PID
	wait_ready "$log" "$pid"
	wait_sleeping "$pid"
	checkpoint "ck$mode" "$pid" "$T_DIR/ck-$mode"
	kill_and_reap "ck$mode" "$pid"
	restore_bg "$T_DIR/ck-$mode" "$pid"
	kill -USR1 "$pid"
	expect_pass "$log" "$RESTORE_PID" 20
done
pass
