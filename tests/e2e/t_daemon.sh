#!/bin/bash
# SPDX-License-Identifier: MIT
# e2e-lane: isolated (its own namespaces or files only: runs beside the shared lane)
#
# wl_daemon: a daemon that forked twice, the root of the tree, in a
# session whose leader has exited (and, with WL_ZDTM_SET=group, a group
# whose leader has exited too).  After checkpoint -> kill -> restore it
# is in the same session and group, their leaders still gone, with no
# controlling terminal: crfs-restore makes them again with helpers that
# take the leaders' pids (before, the root stayed in crfs-restore's).
# Also after a second checkpoint and restore of the restored daemon.
. "$(dirname "$0")/lib.sh"

crfs_mount
for set in "" group; do
	name=d${set:-plain}
	log=$T_DIR/$name.log
	WL_ZDTM_SET=$set start_workload "$log" "$CRFS_TESTS/wl_daemon"
	wrapper=$WL_PID
	wait_root "$log" "$wrapper"
	root=$ROOT_PID
	ids=$(ps -o pgid=,sid= -p "$root")
	checkpoint "$name" "$root" "$T_DIR/$name.ckpt"
	kill_and_reap "$name" "$root" "$wrapper"
	restore_bg "$T_DIR/$name.ckpt" "$root"
	[ "$(ps -o pgid=,sid= -p "$root")" = "$ids" ] ||
		fail "$name: group and session $(ps -o pgid=,sid= -p "$root"), were $ids"
	track_tree "$root"
	checkpoint "${name}2" "$root" "$T_DIR/$name.ckpt2"
	kill_and_reap "${name}2" "$root" "$RESTORE_PID"
	restore_bg "$T_DIR/$name.ckpt2" "$root"
	kill -USR1 "$root" || fail "cannot signal restored root $root"
	expect_pass "$log" "$RESTORE_PID" 30
	grep -q '^PASS daemon$' "$log" || fail "$name: no PASS daemon in $(tr '\n' '|' < "$log")"
done
pass
