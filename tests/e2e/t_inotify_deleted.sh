#!/bin/bash
# SPDX-License-Identifier: MIT
# e2e-lane: isolated (its own namespaces or files only: runs beside the shared lane)
#
# wl_inotify_deleted: an inotify watch on a file deleted since, held open
# by the process, watches the restored unlinked file after a freeze and
# thaw, and after checkpoint, kill and restore.  A watch on a deleted
# inode that only a process outside the tree holds is refused by name.
. "$(dirname "$0")/lib.sh"

crfs_mount
mkdir -p "$T_DIR/gone" "$T_DIR/work"
: >"$T_DIR/gone/held"
exec 8<"$T_DIR/gone/held"
start_workload "$T_DIR/gone.log" "$CRFS_TESTS/wl_inotify_deleted" "$T_DIR/gone" gone
gone=$WL_PID
wait_ready "$T_DIR/gone.log" "$gone"
cr_attach gone "$gone"
ctl_write gone freeze || fail "freeze failed"
expect_state gone frozen 5
ctl=$(ctl_read gone)
grep -q "^unsupported process $gone fd [0-9]* (anon_inode:inotify): an inotify watch on a deleted file that no descriptor of the container holds is not supported" <<<"$ctl" ||
	fail "no refusal: $(tr '\n' '|' <<<"$ctl")"
cr_thaw gone
kill_and_reap gone "$gone"
exec 8<&-

start_workload "$T_DIR/ino.log" "$CRFS_TESTS/wl_inotify_deleted" "$T_DIR/work"
pid=$WL_PID
wait_ready "$T_DIR/ino.log" "$pid"
cr_attach ino "$pid"
cr_freeze ino
cr_thaw ino
timeout "$T_CTL_TIMEOUT" rmdir "$MNT/ino" || fail "rmdir $MNT/ino failed"
checkpoint ino "$pid" "$T_DIR/ckpt"
kill_and_reap ino "$pid"
restore_bg "$T_DIR/ckpt" "$pid"
kill -USR1 "$pid" || fail "cannot signal restored pid $pid"
expect_pass "$T_DIR/ino.log" "$RESTORE_PID" 30
pass
