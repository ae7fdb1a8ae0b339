#!/bin/bash
# SPDX-License-Identifier: MIT
# e2e-lane: isolated (its own namespaces or files only: runs beside the shared lane)
#
# wl_mqueue in an IPC namespace of its own (unshare --ipc): its queues are
# that namespace's; checkpointed, found unchanged after a thaw, and made
# again in the new IPC namespace restore makes, not in the host's.
. "$(dirname "$0")/lib.sh"

# not "name" (see t_mqueue); a broken run could make them in the host's
mq_name=/crfs-mqns-$$
trap 'rc=$?; "$CRFS_TESTS/wl_mqueue" unlink "$mq_name" 2>/dev/null; (exit $rc); _cleanup' EXIT

crfs_mount
start_workload "$T_DIR/mq.log" unshare --ipc --fork "$CRFS_TESTS/wl_mqueue" "$mq_name"
outer=$WL_PID
wait_line "$T_DIR/mq.log" '^READY$' 20 "$outer"
pid=$(pgrep -P "$outer")
[ -n "$pid" ] || fail "no child of unshare $outer"
track_pid "$pid"
"$CRFS_TESTS/wl_mqueue" take "$mq_name" && fail "$mq_name-a is in the host's namespace"

checkpoint mqns "$pid" "$T_DIR/ckpt"
grep -q "mqueue" "$T_DIR/ckpt/files" || fail "no mqueue file in the image"
cr_thaw mqns
kill -USR1 "$pid" || fail "cannot signal $pid"
wait_line "$T_DIR/mq.log" '^ROUND 1$' 10 "$pid"
grep -q '^FAIL' "$T_DIR/mq.log" &&
	fail "after thaw: $(grep '^FAIL' "$T_DIR/mq.log" | tr '\n' ';')"

cr_freeze mqns
cr_copy mqns "$T_DIR/ckpt2"
kill_and_reap mqns "$pid" "$outer"
restore_bg "$T_DIR/ckpt2" "$pid"
[ "$(readlink "/proc/$pid/ns/ipc")" != "$(readlink /proc/self/ns/ipc)" ] ||
	fail "restored pid $pid is in the host's IPC namespace"
"$CRFS_TESTS/wl_mqueue" take "$mq_name" && fail "restore made $mq_name-a in the host's namespace"
kill -USR1 "$pid" || fail "cannot signal restored pid $pid"
expect_pass "$T_DIR/mq.log" "$RESTORE_PID" 30
pass
