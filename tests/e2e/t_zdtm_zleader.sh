#!/bin/bash
# SPDX-License-Identifier: MIT
# e2e-lane: isolated (its own namespaces or files only: runs beside the shared lane)
#
# wl_zdtm_zleader (zdtm's zombie_leader, pthread02): a process whose main
# thread has exited while two other threads run on.  After freeze -> thaw
# and checkpoint -> kill -> restore, as the tree's root (its leader left by
# pthread_exit) and as a child of it (by the exit syscall; its parent waits
# for it and exits with its status), the workload checks its pid and tids,
# the leader a zombie, the thread count, memory, signal mask and pending
# signal, and its exit status reaches its parent.
. "$(dirname "$0")/lib.sh"

crfs_mount
wl=$CRFS_TESTS/wl_zdtm_zleader

# the image says so, and has no directory for the leader
check_leader_image() {
	grep -qx 'leader_exited 1' "$1/$2/attr" || fail "$1/$2/attr lacks 'leader_exited 1'"
	[ -e "$1/$2/task/$2" ] && fail "$1/$2/task/$2 exists for the exited leader"
	return 0
}

# as the root, freeze -> thaw
log=$T_DIR/thaw.log
start_workload "$log" "$wl"
pid=$WL_PID
wait_ready "$log" "$pid"
cr_attach thaw "$pid"
cr_freeze thaw
cr_thaw thaw
timeout "$T_CTL_TIMEOUT" rmdir "$MNT/thaw" || fail "rmdir $MNT/thaw failed"
kill -USR1 "$pid" || fail "cannot signal pid $pid"
expect_pass "$log" "$pid" 30

# as the root, checkpoint -> kill -> restore: crfs-restore, its parent,
# exits with its status
log=$T_DIR/root.log
start_workload "$log" "$wl"
pid=$WL_PID
wait_ready "$log" "$pid"
checkpoint root "$pid" "$T_DIR/root.ckpt"
check_leader_image "$T_DIR/root.ckpt" "$pid"
kill_and_reap root "$pid"
restore_bg "$T_DIR/root.ckpt" "$pid"
[ "$(proc_state "$pid")" = Z ] || fail "restored leader $pid: state $(proc_state "$pid"), want Z"
kill -USR1 "$pid" || fail "cannot signal restored pid $pid"
expect_pass "$log" "$RESTORE_PID" 30

# as a child of the root, leaving by the exit syscall: its parent (bash)
# waits for it and exits with its status
log=$T_DIR/child.log
start_workload "$log" bash -c '"$1" raw child; exit $?' bash "$wl"
sh=$WL_PID
wait_line "$log" '^READY$' 20 "$sh"
kid=$(pgrep -P "$sh")
[ -n "$kid" ] || fail "no workload under bash $sh"
checkpoint child "$sh" "$T_DIR/child.ckpt"
check_leader_image "$T_DIR/child.ckpt" "$kid"
kill_and_reap child "$sh"
restore_bg "$T_DIR/child.ckpt" "$sh"
[ "$(proc_state "$kid")" = Z ] || fail "restored leader $kid: state $(proc_state "$kid"), want Z"
kill -USR1 "$kid" || fail "cannot signal restored pid $kid"
expect_pass "$log" "$RESTORE_PID" 30
pass
