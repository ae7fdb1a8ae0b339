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
	verify_after "$mode" "ls$mode" "$pid" "$log" "$T_DIR/ckpt-$mode"
done
pass
