#!/bin/bash
# SPDX-License-Identifier: MIT
# e2e-lane: isolated (its own namespaces or files only: runs beside the shared lane)
#
# Processes checkpointed while blocked in pause() and in sigsuspend() must
# stay blocked after the restore until the test's signal arrives, and
# sigsuspend's temporary mask must hold while the original one comes back
# afterwards (see wl_pause.c).  pause is restored with -d (the root is not
# our grandchild: only its log tells), sigsuspend in the background.
. "$(dirname "$0")/lib.sh"

crfs_mount

log=$T_DIR/pause.log
start_workload "$log" "$CRFS_TESTS/wl_pause" pause
pid=$WL_PID
wait_ready "$log" "$pid"
wait_sleeping "$pid"
checkpoint pa "$pid" "$T_DIR/ckpt-pause"
kill_and_reap pa "$pid"
restore_detached "$T_DIR/ckpt-pause" "$pid"
# a restore that turned the pause into EINTR would exit by itself now
sleep 0.5
proc_alive "$pid" || fail "restored pause() returned without a signal: $(grep FAIL "$log" | head -n 2)"
kill -USR1 "$pid"
expect_pass "$log" "$pid" 20

log=$T_DIR/sigsuspend.log
start_workload "$log" "$CRFS_TESTS/wl_pause" sigsuspend
pid=$WL_PID
wait_ready "$log" "$pid"
wait_sleeping "$pid"
checkpoint su "$pid" "$T_DIR/ckpt-sigsuspend"
kill_and_reap su "$pid"
restore_bg "$T_DIR/ckpt-sigsuspend" "$pid"
# SIGUSR2 is blocked only by sigsuspend's temporary mask: it must neither
# wake the process nor be lost
kill -USR2 "$pid"
sleep 0.5
proc_alive "$pid" || fail "SIGUSR2 woke the restored sigsuspend(): temporary mask lost"
kill -USR1 "$pid"
expect_pass "$log" "$RESTORE_PID" 20
pass
