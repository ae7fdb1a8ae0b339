#!/bin/bash
# SPDX-License-Identifier: MIT
# e2e-lane: shared ipc (the host's IPC namespace)
#
# Bad input: the image's SysV message queue id is taken on the restoring
# host by another queue.  crfs-restore refuses, naming the id, before it
# makes anything: no process, no semaphore set, no queue is left behind.
# Once the id is free, the same image restores (every object made anew).
. "$(dirname "$0")/lib.sh"

other=
ipc_cleanup() {
	local ids
	ids=$(sed -n 's/^IDS msg \([0-9]*\) sem \([0-9]*\)$/\1 \2/p' \
		"$T_DIR/sysvipc.log" 2>/dev/null)
	set -- $ids
	[ -n "${1:-}" ] && ipcrm -q "$1" 2>/dev/null
	[ -n "${2:-}" ] && ipcrm -s "$2" 2>/dev/null
	[ -n "$other" ] && ipcrm -q "$other" 2>/dev/null
	return 0
}
trap 'rc=$?; ipc_cleanup; (exit $rc); _cleanup' EXIT

crfs_mount
start_workload "$T_DIR/sysvipc.log" "$CRFS_TESTS/wl_sysvipc" 1
pid=$WL_PID
wait_ready "$T_DIR/sysvipc.log" "$pid"
read -r _ _ q _ s < <(grep '^IDS ' "$T_DIR/sysvipc.log")
checkpoint ipc "$pid" "$T_DIR/ckpt"
kill_and_reap ipc "$pid"
semkey=$(sed -n 's/^key //p' "$T_DIR/ckpt/ipc/sem/$s")

# a clean host, but for another queue with the image's id
ipcrm -q "$q" && ipcrm -s "$s" || fail "cannot remove the leftovers"
echo "$q" >/proc/sys/kernel/msg_next_id
other=$(ipcmk -Q | grep -Eo '[0-9]+$')
[ "$other" = "$q" ] || fail "made queue '$other', not $q (another test took the id?)"

"$CRFS_BIN/crfs-restore" "$T_DIR/ckpt" </dev/null >"$T_DIR/restore.out" \
	2>"$T_DIR/restore.err" && fail "crfs-restore succeeded with id $q taken"
grep -qE "SysV message queue $q \(key 0x0\) of the image: id $q \(key 0x[0-9a-f]+\) is taken on this host" \
	"$T_DIR/restore.err" || fail "refusal does not name the id: $(head -c 300 "$T_DIR/restore.err")"
proc_alive "$pid" && fail "pid $pid runs after the refused restore"
ipcs -s | grep -qi "$semkey" && fail "the semaphore set (key $semkey) was left behind"
[ "$(ipcs -q | grep -cw "$q")" = 1 ] || fail "queue $q: $(ipcs -q | grep -w "$q")"

# the id free again: the image restores
ipcrm -q "$other" || fail "cannot remove queue $other"
other=
restore_bg "$T_DIR/ckpt" "$pid"
kill -USR1 "$pid" || fail "cannot signal restored pid $pid"
expect_pass "$T_DIR/sysvipc.log" "$RESTORE_PID" 30
pass
