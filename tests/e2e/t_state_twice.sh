#!/bin/bash
# SPDX-License-Identifier: MIT
# e2e-lane: isolated (its own namespaces or files only: runs beside the shared lane)
#
# A restored process must be as checkpointable as the original: whatever
# the restore left behind (mappings, fds, signal state, registers of the
# restorer) shows up in the second image and breaks the second restore.
# wl_state is checkpointed, restored, checkpointed again while still in
# its spin (its parent is now crfs-restore), restored again, and only
# then told to check itself.
. "$(dirname "$0")/lib.sh"

crfs_mount
mkdir -p "$T_DIR/work"
start_workload "$T_DIR/state.log" "$CRFS_TESTS/wl_state" "$T_DIR/work"
pid=$WL_PID
wait_ready "$T_DIR/state.log" "$pid"

checkpoint one "$pid" "$T_DIR/ckpt1"
kill_and_reap one "$pid"
restore_bg "$T_DIR/ckpt1" "$pid"
first_restore=$RESTORE_PID

checkpoint two "$pid" "$T_DIR/ckpt2"
kill_and_reap two "$pid" "$first_restore"
restore_bg "$T_DIR/ckpt2" "$pid"
kill -USR1 "$pid" || fail "cannot signal restored pid $pid"
expect_pass "$T_DIR/state.log" "$RESTORE_PID" 60
pass
