#!/bin/bash
# SPDX-License-Identifier: MIT
# e2e-lane: shared (fanotify sees file events host-wide)
#
# wl_fanotify: fanotify groups with inode, ignore, mount and filesystem
# marks deliver their events after a freeze and thaw, and after
# checkpoint, kill and restore.  A mark on a deleted file is refused by
# name.
. "$(dirname "$0")/lib.sh"

crfs_mount
mkdir -p "$T_DIR/gone" "$T_DIR/work"
: >"$T_DIR/gone/held"
exec 8<"$T_DIR/gone/held"
start_workload "$T_DIR/gone.log" "$CRFS_TESTS/wl_fanotify" "$T_DIR/gone" gone
gone=$WL_PID
wait_ready "$T_DIR/gone.log" "$gone"
cr_attach gone "$gone"
ctl_write gone freeze || fail "freeze failed"
expect_state gone frozen 5
ctl=$(ctl_read gone)
grep -q "^unsupported process $gone fd [0-9]* (anon_inode:\[fanotify\]): a fanotify mark on a deleted file is not supported" <<<"$ctl" ||
	fail "no refusal: $(tr '\n' '|' <<<"$ctl")"
cr_thaw gone
kill_and_reap gone "$gone"
exec 8<&-

start_workload "$T_DIR/fan.log" "$CRFS_TESTS/wl_fanotify" "$T_DIR/work"
pid=$WL_PID
wait_ready "$T_DIR/fan.log" "$pid"
cr_attach fan "$pid"
cr_freeze fan
cr_thaw fan
timeout "$T_CTL_TIMEOUT" rmdir "$MNT/fan" || fail "rmdir $MNT/fan failed"
checkpoint fan "$pid" "$T_DIR/ckpt"
[ "$(grep -c ' fanotify ' "$T_DIR/ckpt/files")" = 3 ] ||
	fail "files lacks the 3 groups: $(grep fanotify "$T_DIR/ckpt/files" | tr '\n' '|')"
kill_and_reap fan "$pid"
restore_bg "$T_DIR/ckpt" "$pid"
kill -USR1 "$pid" || fail "cannot signal restored pid $pid"
expect_pass "$T_DIR/fan.log" "$RESTORE_PID" 30
pass
