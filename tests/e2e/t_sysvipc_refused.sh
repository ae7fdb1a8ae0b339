#!/bin/bash
# SPDX-License-Identifier: MIT
# e2e-lane: shared ipc (the host's IPC namespace)
#
# wl_sysvipc_refused: SysV objects crfs cannot restore exactly are refused
# by name at freeze (a semaphore set changed while a process has SEM_UNDO
# adjustments, a queue a process outside the tree used, a shared memory
# segment not attached, a part of an attach), and the thaw leaves the
# workload and its objects as they were.
. "$(dirname "$0")/lib.sh"

ipc_cleanup() {
	local ids
	ids=$(sed -n 's/^IDS msg \([0-9]*\) sem \([0-9]*\) shm \([0-9]*\) \([0-9]*\)$/\1 \2 \3 \4/p' \
		"$T_DIR/refused.log" 2>/dev/null)
	set -- $ids
	[ -n "${1:-}" ] && ipcrm -q "$1" 2>/dev/null
	[ -n "${2:-}" ] && ipcrm -s "$2" 2>/dev/null
	[ -n "${3:-}" ] && ipcrm -m "$3" 2>/dev/null
	[ -n "${4:-}" ] && ipcrm -m "$4" 2>/dev/null
	return 0
}
trap 'rc=$?; ipc_cleanup; (exit $rc); _cleanup' EXIT

crfs_mount
start_workload "$T_DIR/refused.log" "$CRFS_TESTS/wl_sysvipc_refused"
pid=$WL_PID
wait_ready "$T_DIR/refused.log" "$pid"
read -r _ _ q _ s _ m part < <(grep '^IDS ' "$T_DIR/refused.log")

expect_refused ipc "$pid" "SysV semaphore set $s (key 0x0): changed by semop while process $pid has a SEM_UNDO list, whose adjustments cannot be read (not supported)"
for text in "SysV message queue $q (key 0x0): also used by process " \
	    "SysV shared memory segment $m (key 0x0): not attached by the tree: not supported yet" \
	    "(/SYSV00000000 (deleted)): a part of a SysV shared memory attach is not supported yet"; do
	cr_freeze ipc
	ctl_read ipc | grep -qF -- "$text" ||
		fail "ctl does not say '$text': $(ctl_read ipc | tr '\n' '|')"
	cr_thaw ipc
done
ipcs -q | grep -qw "$q" && ipcs -s | grep -qw "$s" && ipcs -m | grep -qw "$m" ||
	fail "an object is gone after the thaw"
kill -USR1 "$pid" || fail "cannot signal $pid"
expect_pass "$T_DIR/refused.log" "$pid" 10
pass
