#!/bin/bash
# SPDX-License-Identifier: MIT
# e2e-lane: isolated (its own namespaces or files only: runs beside the shared lane)
#
# wl_vmaflags: every VMA flag a program can set (madvise flags, mlock,
# lock-on-fault, MAP_LOCKED, MAP_NORESERVE, mseal) and the mm-wide
# mlockall(MCL_FUTURE [| MCL_ONFAULT]) and PR_SET_MEMORY_MERGE.  Each mode
# is checked after a checkpoint and thaw, and after checkpoint, kill and
# restore; the workload compares smaps VmFlags itself.
. "$(dirname "$0")/lib.sh"

crfs_mount
for mode in onfault current; do
	for how in thaw restore; do
		name=v$mode$how
		log=$T_DIR/$name.log
		start_workload "$log" "$CRFS_TESTS/wl_vmaflags" "$mode"
		pid=$WL_PID
		wait_ready "$log" "$pid"
		checkpoint "$name" "$pid" "$T_DIR/ckpt-$name"
		grep -q '^mlockall [1-9]' "$T_DIR/ckpt-$name/$pid/mm" ||
			fail "$pid/mm does not record mlockall"
		# MCL_CURRENT without MCL_ONFAULT clears lock-on-fault
		[ "$mode" = current ] ||
			grep -q 'locked,lockonfault' "$T_DIR/ckpt-$name/$pid/maps" ||
			fail "$pid/maps records no lockonfault"
		verify_after "$how" "$name" "$pid" "$log" "$T_DIR/ckpt-$name"
	done
done
pass
