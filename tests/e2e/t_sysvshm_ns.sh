#!/bin/bash
# SPDX-License-Identifier: MIT
# e2e-lane: isolated (its own namespaces or files only: runs beside the shared lane)
#
# wl_sysvshm in an IPC namespace of its own (unshare --ipc): its segments
# are the namespace's; restore makes them in a new IPC namespace and
# attaches them again, and nothing appears in the host's namespace.
. "$(dirname "$0")/lib.sh"

crfs_mount
start_workload "$T_DIR/sysvshm.log" unshare --ipc --fork \
	"$CRFS_TESTS/wl_sysvshm" 2
outer=$WL_PID
wait_line "$T_DIR/sysvshm.log" '^READY$' 20 "$outer"
pid=$(pgrep -P "$outer")
[ -n "$pid" ] || fail "no child of unshare $outer"
track_pid "$pid"
read -r _ _ a b < <(grep '^IDS ' "$T_DIR/sysvshm.log")

checkpoint shmns "$pid" "$T_DIR/ckpt"
[ -s "$T_DIR/ckpt/ipc/ns" ] && [ -s "$T_DIR/ckpt/ipc/shm/$a.data" ] ||
	fail "image lacks ipc/ns or ipc/shm/$a.data"
cr_thaw shmns
kill -USR1 "$pid" || fail "cannot signal $pid"
wait_line "$T_DIR/sysvshm.log" '^ROUND 1$' 10 "$pid"
grep -q '^FAIL' "$T_DIR/sysvshm.log" &&
	fail "after thaw: $(grep '^FAIL' "$T_DIR/sysvshm.log" | tr '\n' ';')"

cr_freeze shmns
cr_copy shmns "$T_DIR/ckpt2"
key=$(sed -n 's/^key //p' "$T_DIR/ckpt2/ipc/shm/$a")
kill_and_reap shmns "$pid" "$outer"
restore_bg "$T_DIR/ckpt2" "$pid"
[ "$(readlink "/proc/$pid/ns/ipc")" != "$(readlink /proc/self/ns/ipc)" ] ||
	fail "restored pid $pid is in the host's IPC namespace"
ipcs -m | grep -qi "$key" && fail "segment key $key made in the host's namespace"
kill -USR1 "$pid" || fail "cannot signal restored pid $pid"
expect_pass "$T_DIR/sysvshm.log" "$RESTORE_PID" 30
pass
