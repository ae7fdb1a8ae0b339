#!/bin/bash
# SPDX-License-Identifier: MIT
# e2e-lane: shared ipc (the host's IPC namespace)
#
# wl_sysvshm: SysV shared memory segments only the workload uses (one at
# an address it chose, one read-only and already removed; a child has both
# attached too) are saved with
# their bytes; a thaw finds them unchanged; after kill the one not removed
# is still there (we overwrite it), and restore makes both again with
# their ids and bytes, attached again at their addresses, read-only where
# they were, and the removed one removed again.
. "$(dirname "$0")/lib.sh"

ipc_cleanup() {
	local ids
	ids=$(sed -n 's/^IDS shm \([0-9]*\) \([0-9]*\)$/\1 \2/p' \
		"$T_DIR/sysvshm.log" 2>/dev/null)
	set -- $ids
	[ -n "${1:-}" ] && ipcrm -m "$1" 2>/dev/null
	[ -n "${2:-}" ] && ipcrm -m "$2" 2>/dev/null
	return 0
}
trap 'rc=$?; ipc_cleanup; (exit $rc); _cleanup' EXIT

crfs_mount
start_workload "$T_DIR/sysvshm.log" "$CRFS_TESTS/wl_sysvshm" 2
pid=$WL_PID
wait_ready "$T_DIR/sysvshm.log" "$pid"
read -r _ _ a b < <(grep '^IDS ' "$T_DIR/sysvshm.log")

checkpoint shm "$pid" "$T_DIR/ckpt"
[ "$(stat -c %s "$T_DIR/ckpt/ipc/shm/$a.data")" = $((3 * 4096 + 104)) ] ||
	fail "ipc/shm/$a.data: $(ls -l "$T_DIR/ckpt/ipc/shm" | tr '\n' ' ')"
grep -qx 'removed 1' "$T_DIR/ckpt/ipc/shm/$b" ||
	fail "ipc/shm/$b: $(tr '\n' '|' <"$T_DIR/ckpt/ipc/shm/$b")"
grep -q " sysv " "$T_DIR/ckpt/$pid/maps" || fail "no sysv mapping in $pid/maps"

cr_thaw shm
kill -USR1 "$pid" || fail "cannot signal $pid"
wait_line "$T_DIR/sysvshm.log" '^ROUND 1$' 10 "$pid"
grep -q '^FAIL' "$T_DIR/sysvshm.log" &&
	fail "after thaw: $(grep '^FAIL' "$T_DIR/sysvshm.log" | tr '\n' ';')"

cr_freeze shm
cr_copy shm "$T_DIR/ckpt2"
kill_and_reap shm "$pid"
wait_for 10 eval '! ipcs -m | grep -qw "$b"' ||
	fail "segment $b still there after its attachers were killed"
ipcs -m | grep -qw "$a" || fail "segment $a vanished at kill"
"$CRFS_TESTS/wl_sysvshm" tamper "$a" || fail "cannot change the leftover"
restore_bg "$T_DIR/ckpt2" "$pid"
kill -USR1 "$pid" || fail "cannot signal restored pid $pid"
expect_pass "$T_DIR/sysvshm.log" "$RESTORE_PID" 30
ipcs -m | grep -qw "$b" && fail "segment $b outlived its last attach"
pass
