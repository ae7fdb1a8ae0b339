#!/bin/bash
# SPDX-License-Identifier: MIT
# e2e-lane: shared ipc (the host's IPC namespace)
#
# wl_mqueue: POSIX message queues (named, one through an O_NONBLOCK
# write-only descriptor, one unlinked but open, one shared with a child)
# are checkpointed with their attributes, modes, flags and messages; a
# thaw finds them unchanged (read and written back in order); after kill
# the named ones are still there (the kernel keeps them) and restore
# replaces them, makes the unlinked one again and reopens every
# descriptor with its flags.  A leftover that changed is not the image's:
# restore refuses it by name; changed back but held open by a process, it
# is refused too; once no one holds it, it is replaced.
. "$(dirname "$0")/lib.sh"

# not "name": lib.sh functions have a local of that name, which the EXIT
# trap would see when one of them fails
mq_name=/crfs-mq-$$
trap 'rc=$?; "$CRFS_TESTS/wl_mqueue" unlink "$mq_name" 2>/dev/null; (exit $rc); _cleanup' EXIT

crfs_mount
start_workload "$T_DIR/mq.log" "$CRFS_TESTS/wl_mqueue" "$mq_name"
pid=$WL_PID
wait_ready "$T_DIR/mq.log" "$pid"

checkpoint mq "$pid" "$T_DIR/ckpt"
grep -q "mqueue" "$T_DIR/ckpt/files" || fail "no mqueue file in the image"

# round 1: after a thaw, nothing changed
cr_thaw mq
kill -USR1 "$pid" || fail "cannot signal $pid"
wait_line "$T_DIR/mq.log" '^ROUND 1$' 10 "$pid"
grep -q '^FAIL' "$T_DIR/mq.log" &&
	fail "after thaw: $(grep '^FAIL' "$T_DIR/mq.log" | tr '\n' ';')"

# round 2: from a second image, after kill
cr_freeze mq
cr_copy mq "$T_DIR/ckpt2"
kill_and_reap mq "$pid"
"$CRFS_TESTS/wl_mqueue" take "$mq_name" || fail "cannot change the leftover $mq_name-a"
"$CRFS_BIN/crfs-restore" "$T_DIR/ckpt2" </dev/null >"$T_DIR/restore.out" \
	2>"$T_DIR/restore.err" && fail "crfs-restore replaced a changed $mq_name-a"
grep -qF "POSIX message queue $mq_name-a exists and is not the image's" \
	"$T_DIR/restore.err" || fail "refusal does not name the queue: $(head -c 300 "$T_DIR/restore.err")"
proc_alive "$pid" && fail "pid $pid runs after the refused restore"
"$CRFS_TESTS/wl_mqueue" give "$mq_name" || fail "cannot change $mq_name-a back"
"$CRFS_TESTS/wl_mqueue" hold "$mq_name" >"$T_DIR/hold.log" 2>&1 &
holder=$!
track_pid "$holder"
wait_line "$T_DIR/hold.log" '^HELD$' 10 "$holder"
"$CRFS_BIN/crfs-restore" "$T_DIR/ckpt2" </dev/null >"$T_DIR/restore.out" \
	2>"$T_DIR/restore.err" && fail "crfs-restore replaced $mq_name-a, which another process holds"
grep -qF "POSIX message queue $mq_name-a exists and a process has it open" \
	"$T_DIR/restore.err" || fail "refusal does not name the held queue: $(head -c 300 "$T_DIR/restore.err")"
proc_alive "$pid" && fail "pid $pid runs after the refused restore"
kill "$holder"
wait_exit "$holder" 10 || fail "holder $holder did not exit"
restore_bg "$T_DIR/ckpt2" "$pid"
kill -USR1 "$pid" || fail "cannot signal restored pid $pid"
expect_pass "$T_DIR/mq.log" "$RESTORE_PID" 30
pass
