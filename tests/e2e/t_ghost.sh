#!/bin/bash
# SPDX-License-Identifier: MIT
# e2e-lane: isolated (its own namespaces or files only: runs beside the shared lane)
#
# wl_ghost: a deleted working directory and root, a removed directory held
# open, a file held open in a directory removed since, an unlinked FIFO
# with bytes queued and device node, deleted files' owner, mode and times,
# a deleted name of a file with another link, and a mapped file's times.
# Frozen and thawed first (the freeze must not touch any of it), then
# checkpointed, killed and restored; no ghost may be left behind.
. "$(dirname "$0")/lib.sh"

crfs_mount
for mode in thaw restore; do
	work=$T_DIR/work-$mode
	mkdir -p "$work"
	log=$T_DIR/ghost-$mode.log
	start_workload "$log" "$CRFS_TESTS/wl_ghost" "$work"
	wrapper=$WL_PID
	wait_root "$log" "$wrapper"
	root=$ROOT_PID
	track_tree "$root"
	checkpoint "gh$mode" "$root" "$T_DIR/ckpt-$mode"
	grep -q ' ghost=1' "$T_DIR/ckpt-$mode/files" ||
		fail "files marks no ghost: $(tr '\n' '|' <"$T_DIR/ckpt-$mode/files")"
	if [ "$mode" = thaw ]; then
		cr_thaw "gh$mode"
		kill -USR1 "$root" || fail "cannot signal $root"
		expect_pass "$log" "$wrapper" 20
		timeout "$T_CTL_TIMEOUT" rmdir "$MNT/gh$mode" || fail "rmdir gh$mode"
		continue
	fi
	kill_and_reap "gh$mode" "$root" "$wrapper"
	restore_bg "$T_DIR/ckpt-$mode" "$root"
	track_tree "$root"
	kill -USR1 "$root" || fail "cannot signal restored root $root"
	expect_pass "$log" "$RESTORE_PID" 20
	# (listed only now: reading the directory sets its atime)
	left=$(ls -A "$work" | grep -v -x -e link-live -e mapped -e held -e held-dir -e held-fifo |
	       tr '\n' ' ')
	[ -z "$left" ] || fail "restore left in $work: $left"
done
pass
