#!/bin/bash
# SPDX-License-Identifier: MIT
#
# wl_files holds one open file of every kind crfs restores (see the
# workload for the list), shared across dup() and fork().  First the
# checkpoint is taken and the container thawed: peeking at pipes and
# sockets must have taken nothing, and the workload checks everything
# in place.  Then a second run is checkpointed, killed and restored, and
# checks the same things again.
. "$(dirname "$0")/lib.sh"

crfs_mount
for mode in thaw restore; do
	work=$T_DIR/work-$mode
	mkdir -p "$work"
	log=$T_DIR/files-$mode.log
	start_workload "$log" "$CRFS_TESTS/wl_files" "$work"
	wrapper=$WL_PID
	wait_root "$log" "$wrapper"
	root=$ROOT_PID
	track_tree "$root"
	checkpoint "f$mode" "$root" "$T_DIR/ckpt-$mode"
	grep -q ' unix ' "$T_DIR/ckpt-$mode/files" || fail "files lists no unix socket"
	grep -q " accepted=" "$T_DIR/ckpt-$mode/files" || fail "files marks no accepted connection"
	grep -q " connect=" "$T_DIR/ckpt-$mode/files" || fail "files marks no pending connection"
	if [ "$mode" = thaw ]; then
		cr_thaw "f$mode"
		kill -USR1 "$root" || fail "cannot signal $root"
		expect_pass "$log" "$wrapper" 30
		timeout "$T_CTL_TIMEOUT" rmdir "$MNT/f$mode" || fail "rmdir f$mode"
		continue
	fi
	kill_and_reap "f$mode" "$root" "$wrapper"
	restore_bg "$T_DIR/ckpt-$mode" "$root"
	track_tree "$root"
	kill -USR1 "$root" || fail "cannot signal restored root $root"
	expect_pass "$log" "$RESTORE_PID" 30
done
pass
