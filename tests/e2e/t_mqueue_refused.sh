#!/bin/bash
# SPDX-License-Identifier: MIT
# e2e-lane: shared ipc (the host's IPC namespace)
#
# wl_mqueue_refused: the POSIX message queues crfs cannot restore exactly
# are refused by name at freeze: one with an mq_notify registration, a full
# one.  The thaw leaves the queues and their messages as they were.
. "$(dirname "$0")/lib.sh"

# not "name": lib.sh functions have a local of that name, which the EXIT
# trap would see when one of them fails
mq_name=/crfs-mq-$$
trap 'rc=$?; "$CRFS_TESTS/wl_mqueue_refused" unlink "$mq_name" 2>/dev/null; (exit $rc); _cleanup' EXIT

crfs_mount
start_workload "$T_DIR/mq.log" "$CRFS_TESTS/wl_mqueue_refused" "$mq_name"
pid=$WL_PID
wait_ready "$T_DIR/mq.log" "$pid"
expect_refused mq "$pid" "($mq_name): a POSIX message queue with an mq_notify registration is not supported"
cr_freeze mq
ctl_read mq | grep -qF "($mq_name-full): a full POSIX message queue is not supported" ||
	fail "the full queue is not refused: $(ctl_read mq | tr '\n' '|')"
cr_thaw mq
kill -USR1 "$pid" || fail "cannot signal $pid"
expect_pass "$T_DIR/mq.log" "$pid" 10
pass
