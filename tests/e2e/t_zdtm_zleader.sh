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

# restore_case NAME ROOT PID LOG: checkpoint ROOT's tree, whose process
# PID has an exited leader (the image says so, without a directory for
# it), kill and restore it: the leader is a zombie again; then SIGUSR1
# and the verdict, with crfs-restore's exit status (the root's)
restore_case() {
	local d=$T_DIR/$1.ckpt
	checkpoint "$1" "$2" "$d"
	grep -qx 'leader_exited 1' "$d/$3/attr" || fail "$d/$3/attr lacks 'leader_exited 1'"
	[ -e "$d/$3/task/$3" ] && fail "$d/$3/task/$3 exists for the exited leader"
	kill_and_reap "$1" "$2"
	restore_bg "$d" "$2"
	[ "$(proc_state "$3")" = Z ] || fail "restored leader $3: state $(proc_state "$3"), want Z"
	kill -USR1 "$3" || fail "cannot signal restored pid $3"
	expect_pass "$4" "$RESTORE_PID" 30
}

# as the root, freeze -> thaw
log=$T_DIR/thaw.log
start_workload "$log" "$wl"
pid=$WL_PID
wait_ready "$log" "$pid"
freeze_thaw_check thaw "$log" "$pid"

# as the root, checkpoint -> kill -> restore: crfs-restore, its parent,
# exits with its status
log=$T_DIR/root.log
start_workload "$log" "$wl"
pid=$WL_PID
wait_ready "$log" "$pid"
restore_case root "$pid" "$pid" "$log"

# as a child of the root, leaving by the exit syscall: its parent (bash)
# waits for it and exits with its status
log=$T_DIR/child.log
start_workload "$log" bash -c '"$1" raw child; exit $?' bash "$wl"
sh=$WL_PID
wait_line "$log" '^READY$' 20 "$sh"
kid=$(pgrep -P "$sh")
[ -n "$kid" ] || fail "no workload under bash $sh"
restore_case child "$sh" "$kid" "$log"
pass
