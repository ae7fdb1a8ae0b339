#!/bin/bash
# SPDX-License-Identifier: MIT
# e2e-lane: isolated (its own namespaces or files only: runs beside the shared lane)
#
# wl_foreign_ns: state in another namespace than its process's, which
# restore would put back in the process's, is refused by name: a thread
# that unshared its network, UTS, IPC, cgroup or mount namespace, or a
# pid namespace for its children; a thread with a descriptor table, a
# working directory, a personality or a SysV semaphore undo list of its
# own; a socket made in a
# network namespace other than the root's (before an unshare, or in one
# left again with setns, also a unix socketpair).  Each tree runs on after
# the refusal and checks, after a thaw, that its thread or socket is where
# it was.
. "$(dirname "$0")/lib.sh"

crfs_mount

# refused MODE TEXT: wl_foreign_ns MODE is refused, saying TEXT
refused() {
	local mode=$1 text=$2 log=$T_DIR/$1.log pid
	start_workload "$log" "$CRFS_TESTS/wl_foreign_ns" "$mode"
	pid=$WL_PID
	wait_ready "$log" "$pid" 30
	expect_refused "$mode" "$pid" "$text"
	timeout "$T_CTL_TIMEOUT" rmdir "$MNT/$mode" || fail "rmdir $MNT/$mode failed"
	kill -USR1 "$pid" || fail "cannot signal pid $pid"
	expect_pass "$log" "$pid" 30
}

refused thread-net "its net namespace (net:["
refused thread-uts "its uts namespace (uts:["
refused thread-ipc "its ipc namespace (ipc:["
refused thread-cgroup "its cgroup namespace (cgroup:["
refused thread-pidc "its pid_for_children namespace (unshared, no process created in it yet)"
refused thread-mnt "its mnt namespace (mnt:["
refused thread-fs "has a working directory, root and umask of its own (unshare(CLONE_FS)): not supported"
refused thread-files "has a descriptor table of its own (unshare(CLONE_FILES)): not supported"
refused thread-pers "its personality 0x40000 differs from its main thread's"
refused thread-sem "has a SEM_UNDO list of its own (unshare(CLONE_SYSVSEM)), whose adjustments cannot be read: not supported"
SK="sockets of a network namespace other than the root's are not supported"
refused sock-setns "$SK"
refused sock-before "$SK"
refused sock-unix "$SK"
pass
