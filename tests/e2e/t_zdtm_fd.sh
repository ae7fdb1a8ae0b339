#!/bin/bash
# SPDX-License-Identifier: MIT
#
# wl_zdtm_fd: descriptor properties CRIU's zdtm suite checks (status flags,
# F_SETOWN_EX owners, a packet-mode pipe, a directory read half way, an
# unlinked sparse file, O_TMPFILE, a removed directory, one-shot inotify
# and epoll, a PIDFD_THREAD pidfd), checked by the workload after a freeze
# and thaw, and after checkpoint -> kill -> restore; secret memory
# (memfd_secret) is refused by name.
. "$(dirname "$0")/lib.sh"

crfs_mount

# run_case NAME restore|thaw
run_case() {
	local name=$1 how=$2 log=$T_DIR/$1.log pid
	mkdir -p "$T_DIR/$name.dir"
	start_workload "$log" "$CRFS_TESTS/wl_zdtm_fd" "$T_DIR/$name.dir"
	pid=$WL_PID
	wait_ready "$log" "$pid"
	if [ "$how" = thaw ]; then
		cr_attach "$name" "$pid"
		cr_freeze "$name"
		cr_thaw "$name"
		timeout "$T_CTL_TIMEOUT" rmdir "$MNT/$name" || fail "rmdir $MNT/$name failed"
		kill -USR1 "$pid" || fail "cannot signal pid $pid"
		expect_pass "$log" "$pid" 30
		return
	fi
	checkpoint "$name" "$pid" "$T_DIR/$name.ckpt"
	kill_and_reap "$name" "$pid"
	restore_bg "$T_DIR/$name.ckpt" "$pid"
	kill -USR1 "$pid" || fail "cannot signal restored pid $pid"
	expect_pass "$log" "$RESTORE_PID" 30
}

run_case fdthaw thaw
run_case fd restore

# secret memory cannot be read: refused by name, and the thawed workload
# still has it
log=$T_DIR/secret.log
mkdir -p "$T_DIR/secret.dir"
WL_ZDTM_SET=secretmem start_workload "$log" "$CRFS_TESTS/wl_zdtm_fd" "$T_DIR/secret.dir"
pid=$WL_PID
wait_ready "$log" "$pid"
expect_refused secret "$pid" "secret memory (memfd_secret) is not supported"
timeout "$T_CTL_TIMEOUT" rmdir "$MNT/secret" || fail "rmdir $MNT/secret failed"
kill -USR1 "$pid" || fail "cannot signal pid $pid"
expect_pass "$log" "$pid" 30
grep -q '^PASS secretmem' "$log" || fail "secret.log: no PASS secretmem"

pass
