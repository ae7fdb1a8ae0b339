#!/bin/bash
# SPDX-License-Identifier: MIT
# e2e-lane: isolated (its own namespaces or files only: runs beside the shared lane)
#
# wl_vmapolicy: mappings with NUMA policies of their own (mbind: every
# mode, with MPOL_F_STATIC_NODES, _RELATIVE_NODES, _NUMA_BALANCING; a
# mapping split by a policy on its middle pages; shared memory), beside
# mappings without one in a thread that has a policy (which numa_maps
# shows for them).  Both ways the freeze finds them (CRFS_VMA_POLICIES:
# asking the task of every mapping, or of those numa_maps lists) must
# write PID/mempolicy exactly as the workload says (its EXPECT lines, no
# more), and the workload checks every page's policy and bytes after a
# freeze -> thaw and after checkpoint -> kill -> restore.
. "$(dirname "$0")/lib.sh"

# same_policies LOG FILE: FILE has the EXPECT lines of LOG, and no others
same_policies() {
	local want got
	want=$(sed -n 's/^EXPECT //p' "$1" | sort)
	got=$(sort "$2" 2>/dev/null)
	[ -n "$want" ] || fail "${1##*/} has no EXPECT lines"
	[ "$want" = "$got" ] ||
		fail "$2 differs from the policies set: want '$(echo "$want" | tr '\n' '|')', got '$(echo "$got" | tr '\n' '|')'"
}

for ask in task numa_maps; do
	_unmount
	CRFS_VMA_POLICIES=$ask crfs_mount
	for how in thaw restore; do
		name=p$ask$how
		log=$T_DIR/$name.log
		start_workload "$log" "$CRFS_TESTS/wl_vmapolicy"
		pid=$WL_PID
		wait_ready "$log" "$pid"
		checkpoint "$name" "$pid" "$T_DIR/ckpt-$name"
		same_policies "$log" "$T_DIR/ckpt-$name/$pid/mempolicy"
		verify_after "$how" "$name" "$pid" "$log" "$T_DIR/ckpt-$name"
	done
done
pass
