#!/bin/bash
# SPDX-License-Identifier: MIT
# e2e-lane: isolated (its own namespaces or files only: runs beside the shared lane)
#
# wl_mqueue in an IPC namespace of its own (unshare --ipc): its queues are
# that namespace's; checkpointed, found unchanged after a thaw, and made
# again in the new IPC namespace restore makes, not in the host's, with
# the namespace's limits of POSIX queues (fs.mqueue.*).
. "$(dirname "$0")/lib.sh"

# not "name" (see t_mqueue); a broken run could make them in the host's
mq_name=/crfs-mqns-$$
trap 'rc=$?; "$CRFS_TESTS/wl_mqueue" unlink "$mq_name" 2>/dev/null; (exit $rc); _cleanup' EXIT

crfs_mount
# the namespace's own POSIX queue limits, changed (ipc_namespace of zdtm)
mq_limits="queues_max=77 msg_max=33 msgsize_max=9000 msg_default=7 msgsize_default=1234"
start_workload "$T_DIR/mq.log" unshare --ipc --fork sh -c '
	for kv in $1; do echo "${kv#*=}" >"/proc/sys/fs/mqueue/${kv%%=*}" || exit 1; done
	exec "$0" "$2"' "$CRFS_TESTS/wl_mqueue" "$mq_limits" "$mq_name"
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
for kv in $mq_limits; do
	got=$(nsenter -t "$pid" --ipc cat "/proc/sys/fs/mqueue/${kv%%=*}" 2>&1) ||
		fail "cannot read fs.mqueue.${kv%%=*} of pid $pid: $got"
	[ "$got" = "${kv#*=}" ] ||
		fail "restored IPC namespace: fs.mqueue.${kv%%=*} is $got, want ${kv#*=}"
done
kill -USR1 "$pid" || fail "cannot signal restored pid $pid"
expect_pass "$T_DIR/mq.log" "$RESTORE_PID" 30
pass
