#!/bin/bash
# SPDX-License-Identifier: MIT
# e2e-lane: isolated (its own namespaces or files only: runs beside the shared lane)
#
# wl_sysvipc in an IPC namespace of its own (unshare --ipc, with
# kernel.msgmni changed there): every object of the namespace and its
# limits are checkpointed; a thaw finds them unchanged; restore makes a new
# IPC namespace with the same limits and the objects with their ids, and
# nothing of it appears in the host's namespace.
. "$(dirname "$0")/lib.sh"

# a broken restore would make the set in the host's namespace: not kept
semkey=
trap 'rc=$?; [ -n "$semkey" ] && ipcrm -S "$semkey" 2>/dev/null; (exit $rc); _cleanup' EXIT

crfs_mount
WL_MSGMNI=12345 start_workload "$T_DIR/sysvipc.log" unshare --ipc --fork \
	sh -c 'echo 12345 >/proc/sys/kernel/msgmni && exec "$0" 2' \
	"$CRFS_TESTS/wl_sysvipc"
outer=$WL_PID
wait_line "$T_DIR/sysvipc.log" '^READY$' 20 "$outer"
pid=$(pgrep -P "$outer")
[ -n "$pid" ] || fail "no child of unshare $outer"
track_pid "$pid"
read -r _ _ q _ s < <(grep '^IDS ' "$T_DIR/sysvipc.log")

checkpoint ipcns "$pid" "$T_DIR/ckpt"
grep -qx 'msgmni 12345' "$T_DIR/ckpt/ipc/ns" ||
	fail "ipc/ns: $(tr '\n' '|' <"$T_DIR/ckpt/ipc/ns" 2>&1)"
[ -s "$T_DIR/ckpt/ipc/msg/$q" ] && [ -s "$T_DIR/ckpt/ipc/sem/$s" ] ||
	fail "the namespace's objects are not in the image: $(ls -R "$T_DIR/ckpt/ipc" | tr '\n' ' ')"
semkey=$(sed -n 's/^key //p' "$T_DIR/ckpt/ipc/sem/$s")

cr_thaw ipcns
kill -USR1 "$pid" || fail "cannot signal $pid"
wait_line "$T_DIR/sysvipc.log" '^ROUND 1$' 10 "$pid"
grep -q '^FAIL' "$T_DIR/sysvipc.log" &&
	fail "after thaw: $(grep '^FAIL' "$T_DIR/sysvipc.log" | tr '\n' ';')"

cr_freeze ipcns
cr_copy ipcns "$T_DIR/ckpt2"
kill_and_reap ipcns "$pid" "$outer"
restore_bg "$T_DIR/ckpt2" "$pid"
[ "$(readlink "/proc/$pid/ns/ipc")" != "$(readlink /proc/self/ns/ipc)" ] ||
	fail "restored pid $pid is in the host's IPC namespace"
ipcs -s | grep -qi "$semkey" && fail "semaphore set key $semkey made in the host's namespace"
kill -USR1 "$pid" || fail "cannot signal restored pid $pid"
expect_pass "$T_DIR/sysvipc.log" "$RESTORE_PID" 30
grep -q '^PASS ns.msgmni' "$T_DIR/sysvipc.log" || fail "msgmni was not checked"
pass
