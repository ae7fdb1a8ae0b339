#!/bin/bash
# SPDX-License-Identifier: MIT
# e2e-lane: isolated (its own namespaces or files only: runs beside the shared lane)
#
# wl_chroot: a process inside a chroot() is checkpointed, killed and
# restored with the same root and working directory, its files and memory;
# checked first after a freeze and thaw.
. "$(dirname "$0")/lib.sh"

crfs_mount
root=$T_DIR/root
mkdir -p "$root"
start_workload "$T_DIR/chroot.log" "$CRFS_TESTS/wl_chroot" "$root"
pid=$WL_PID
wait_ready "$T_DIR/chroot.log" "$pid"
[ "$(readlink "/proc/$pid/root")" = "$root" ] ||
	fail "workload's root is $(readlink "/proc/$pid/root"), not $root"
cr_attach ch "$pid"
cr_freeze ch
cr_thaw ch
timeout "$T_CTL_TIMEOUT" rmdir "$MNT/ch" || fail "rmdir $MNT/ch failed"
checkpoint ch "$pid" "$T_DIR/ckpt"
grep -qx "root $root" "$T_DIR/ckpt/$pid/attr" ||
	fail "$pid/attr does not name the root $root"
kill_and_reap ch "$pid"
restore_bg "$T_DIR/ckpt" "$pid"
[ "$(readlink "/proc/$pid/root")" = "$root" ] ||
	fail "restored root is $(readlink "/proc/$pid/root"), not $root"
[ "$(readlink "/proc/$pid/cwd")" = "$root/sub" ] ||
	fail "restored cwd is $(readlink "/proc/$pid/cwd"), not $root/sub"
kill -USR1 "$pid" || fail "cannot signal restored pid $pid"
expect_pass "$T_DIR/chroot.log" "$RESTORE_PID" 30
pass
