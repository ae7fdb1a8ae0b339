#!/bin/bash
# SPDX-License-Identifier: MIT
# e2e-lane: isolated (its own namespaces or files only: runs beside the shared lane)
#
# wl_leases: a read and a write lease (F_SETLEASE), one with its break
# signal set by F_SETSIG.  Frozen and thawed (the freeze must not have
# broken them), then checkpointed, killed and restored: F_GETLEASE says
# the same, and a conflicting open breaks each with its signal.
. "$(dirname "$0")/lib.sh"

crfs_mount
for mode in thaw restore; do
	work=$T_DIR/work-$mode
	mkdir -p "$work"
	log=$T_DIR/leases-$mode.log
	start_workload "$log" "$CRFS_TESTS/wl_leases" "$work"
	pid=$WL_PID
	wait_ready "$log" "$pid"
	checkpoint "ls$mode" "$pid" "$T_DIR/ckpt-$mode"
	grep -q ' lease=r' "$T_DIR/ckpt-$mode/files" && grep -q ' lease=w' "$T_DIR/ckpt-$mode/files" ||
		fail "files lacks the leases: $(tr '\n' '|' <"$T_DIR/ckpt-$mode/files")"
	if [ "$mode" = thaw ]; then
		cr_thaw "ls$mode"
		kill -USR1 "$pid" || fail "cannot signal $pid"
		expect_pass "$log" "$pid" 20
		timeout "$T_CTL_TIMEOUT" rmdir "$MNT/ls$mode" || fail "rmdir ls$mode"
		continue
	fi
	kill_and_reap "ls$mode" "$pid"
	restore_bg "$T_DIR/ckpt-$mode" "$pid"
	kill -USR1 "$pid" || fail "cannot signal restored pid $pid"
	expect_pass "$log" "$RESTORE_PID" 20
done
pass
