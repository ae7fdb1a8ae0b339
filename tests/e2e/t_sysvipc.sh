#!/bin/bash
# SPDX-License-Identifier: MIT
# e2e-lane: shared ipc (the host's IPC namespace)
#
# wl_sysvipc: a SysV message queue and semaphore set of the host's IPC
# namespace that only the workload uses are checkpointed; a thaw finds them
# unchanged (the messages were copied, not received); after kill they are
# still there (the kernel keeps them; we change them), and restore replaces
# them with the image's own, with their ids, keys, owners, modes, values and messages.
. "$(dirname "$0")/lib.sh"

# the objects the workload made, removed whatever happens
ipc_cleanup() {
	local ids
	ids=$(sed -n 's/^IDS msg \([0-9]*\) sem \([0-9]*\)$/\1 \2/p' \
		"$T_DIR/sysvipc.log" 2>/dev/null)
	set -- $ids
	[ -n "${1:-}" ] && ipcrm -q "$1" 2>/dev/null
	[ -n "${2:-}" ] && ipcrm -s "$2" 2>/dev/null
	return 0
}
trap 'rc=$?; ipc_cleanup; (exit $rc); _cleanup' EXIT

crfs_mount
start_workload "$T_DIR/sysvipc.log" "$CRFS_TESTS/wl_sysvipc" 2
pid=$WL_PID
wait_ready "$T_DIR/sysvipc.log" "$pid"
read -r _ _ q _ s < <(grep '^IDS ' "$T_DIR/sysvipc.log")

checkpoint ipc "$pid" "$T_DIR/ckpt"
[ -s "$T_DIR/ckpt/ipc/msg/$q" ] || fail "no ipc/msg/$q in the image"
[ -s "$T_DIR/ckpt/ipc/sem/$s" ] || fail "no ipc/sem/$s in the image"
n=$(wc -l <"$T_DIR/ckpt/ipc/msg/$q.messages")
[ "$n" = 4 ] || fail "ipc/msg/$q.messages has $n lines, want 4"
grep -qx "values 3@$pid 0@$pid 17@$pid" "$T_DIR/ckpt/ipc/sem/$s" ||
	fail "ipc/sem/$s: $(tr '\n' '|' <"$T_DIR/ckpt/ipc/sem/$s")"

# round 1: after a thaw, nothing changed
cr_thaw ipc
kill -USR1 "$pid" || fail "cannot signal $pid"
wait_line "$T_DIR/sysvipc.log" '^ROUND 1$' 10 "$pid"
grep -q '^FAIL' "$T_DIR/sysvipc.log" &&
	fail "after thaw: $(grep '^FAIL' "$T_DIR/sysvipc.log" | tr '\n' ';')"

# round 2: from a second image, after kill
cr_freeze ipc
cr_copy ipc "$T_DIR/ckpt2"
cmp -s "$T_DIR/ckpt/ipc/msg/$q.messages" "$T_DIR/ckpt2/ipc/msg/$q.messages" ||
	fail "the messages changed between two checkpoints"
kill_and_reap ipc "$pid"
ipcs -q | grep -qw "$q" || fail "queue $q vanished at kill: the test cannot check its replacement"
# what the kill left changes: restore must replace it with the image's own
"$CRFS_TESTS/wl_sysvipc" tamper "$q" "$s" || fail "cannot change the leftovers"
restore_bg "$T_DIR/ckpt2" "$pid"
kill -USR1 "$pid" || fail "cannot signal restored pid $pid"
expect_pass "$T_DIR/sysvipc.log" "$RESTORE_PID" 30
! ipcs -q | grep -qw "$q" || fail "queue $q still there after the workload removed it"
pass
