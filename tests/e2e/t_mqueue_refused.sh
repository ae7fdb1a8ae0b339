#!/bin/bash
# SPDX-License-Identifier: MIT
#
# wl_mqueue_refused: POSIX message queue descriptors (named and unlinked)
# are refused by name at freeze; they are not taken for files of the root
# directory.  The thaw leaves the queue and its message as they were.
. "$(dirname "$0")/lib.sh"

name=/crfs-mq-$$
trap 'rc=$?; "$CRFS_TESTS/wl_mqueue_refused" unlink "$name" 2>/dev/null; (exit $rc); _cleanup' EXIT

crfs_mount
start_workload "$T_DIR/mq.log" "$CRFS_TESTS/wl_mqueue_refused" "$name"
pid=$WL_PID
wait_ready "$T_DIR/mq.log" "$pid"
expect_refused mq "$pid" "($name): POSIX message queues are not supported yet"
ctl_read mq >/dev/null
cr_freeze mq
ctl_read mq | grep -q "(/crfs-mq-anon (deleted)): POSIX message queues are not supported yet" ||
	fail "the unlinked queue is not refused: $(ctl_read mq | tr '\n' '|')"
cr_thaw mq
kill -USR1 "$pid" || fail "cannot signal $pid"
expect_pass "$T_DIR/mq.log" "$pid" 10
pass
