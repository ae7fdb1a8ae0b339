#!/bin/bash
# SPDX-License-Identifier: MIT
#
# wl_zdtm_fd: descriptor properties CRIU's zdtm suite checks (status flags,
# F_SETOWN_EX owners, a packet-mode pipe, a directory read half way, an
# unlinked sparse file, two names of one unlinked inode, O_TMPFILE, a
# removed directory, one-shot inotify and epoll, a PIDFD_THREAD pidfd,
# UDP_CORK/SEGMENT/GRO), checked by the workload after a freeze and thaw,
# and after checkpoint -> kill -> restore; secret memory (memfd_secret)
# and a corked UDP socket holding data are refused by name.
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

# refused_case WHAT TEXT: refused by name; the thawed workload still has it
refused_case() {
	local what=$1 text=$2 log=$T_DIR/$1.log pid
	mkdir -p "$T_DIR/$what.dir"
	WL_ZDTM_SET=$what start_workload "$log" "$CRFS_TESTS/wl_zdtm_fd" "$T_DIR/$what.dir"
	pid=$WL_PID
	wait_ready "$log" "$pid"
	expect_refused "$what" "$pid" "$text"
	timeout "$T_CTL_TIMEOUT" rmdir "$MNT/$what" || fail "rmdir $MNT/$what failed"
	kill -USR1 "$pid" || fail "cannot signal pid $pid"
	expect_pass "$log" "$pid" 30
}

# secret memory cannot be read
refused_case secretmem "secret memory (memfd_secret) is not supported"
grep -q '^PASS secretmem' "$T_DIR/secretmem.log" || fail "secretmem.log: no PASS secretmem"
# what a cork holds back is in no queue crfs can read
refused_case udpcork "a corked UDP socket with data not yet sent (UDP_CORK) is not supported"
pass
