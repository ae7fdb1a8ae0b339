#!/bin/bash
# SPDX-License-Identifier: MIT
# e2e-lane: isolated (its own namespaces or files only: runs beside the shared lane)
#
# wl_epolldup: epoll interests on descriptors duplicated, closed, reused
# or overwritten since they were added.  Frozen and thawed, then
# checkpointed, killed and restored; each time every interest must report
# with its data, and MOD/DEL work on those under live numbers.
. "$(dirname "$0")/lib.sh"

crfs_mount
for mode in thaw restore; do
	log=$T_DIR/epolldup-$mode.log
	start_workload "$log" "$CRFS_TESTS/wl_epolldup"
	pid=$WL_PID
	wait_ready "$log" "$pid"
	checkpoint "ed$mode" "$pid" "$T_DIR/ckpt-$mode"
	verify_after "$mode" "ed$mode" "$pid" "$log" "$T_DIR/ckpt-$mode"
done
pass
