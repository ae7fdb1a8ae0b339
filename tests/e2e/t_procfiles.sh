#!/bin/bash
# SPDX-License-Identifier: MIT
# e2e-lane: isolated (its own namespaces or files only: runs beside the shared lane)
#
# wl_procfiles: files under /proc/PID of processes of the tree (alive, a
# zombie, one reaped) read the restored processes' data at their offsets
# after a freeze and thaw, and after checkpoint, kill and restore; the
# reaped one's still read ESRCH.  A file of a process outside the tree is
# refused by name.
. "$(dirname "$0")/lib.sh"

crfs_mount
start_workload "$T_DIR/out.log" "$CRFS_TESTS/wl_procfiles" outside
wait_ready "$T_DIR/out.log" "$WL_PID"
out=$(sed -n 's/^ROOT //p' "$T_DIR/out.log")
cr_attach out "$out"
ctl_write out freeze || fail "freeze failed"
expect_state out frozen 5
ctl=$(ctl_read out)
grep -q "^unsupported process $out fd [0-9]* (/proc/$WL_PID/stat): a file under /proc of a process outside the container is not supported" <<<"$ctl" ||
	fail "no refusal of /proc/$WL_PID/stat: $(tr '\n' '|' <<<"$ctl")"
cr_thaw out
kill_and_reap out "$out" "$WL_PID"

start_workload "$T_DIR/proc.log" "$CRFS_TESTS/wl_procfiles"
sub=$WL_PID
wait_ready "$T_DIR/proc.log" "$sub"
pid=$(sed -n 's/^ROOT //p' "$T_DIR/proc.log")
cr_attach pf "$pid"
cr_freeze pf
cr_thaw pf
timeout "$T_CTL_TIMEOUT" rmdir "$MNT/pf" || fail "rmdir $MNT/pf failed"
checkpoint pf "$pid" "$T_DIR/ckpt"
grep -q '^[0-9]* proc .* dead=1 ' "$T_DIR/ckpt/files" ||
	fail "files has no dead /proc file: $(grep proc "$T_DIR/ckpt/files" | tr '\n' '|')"
kill_and_reap pf "$pid" "$sub"
restore_bg "$T_DIR/ckpt" "$pid"
kill -USR1 "$pid" || fail "cannot signal restored pid $pid"
expect_pass "$T_DIR/proc.log" "$RESTORE_PID" 30
pass
