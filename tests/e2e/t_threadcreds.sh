#!/bin/bash
# SPDX-License-Identifier: MIT
# e2e-lane: isolated (its own namespaces or files only: runs beside the shared lane)
#
# wl_threadcreds: threads with credentials of their own (uids, gids,
# groups, fsuid, effective capabilities, set with raw syscalls) get them
# back after checkpoint, kill and restore; the image holds task/TID/creds
# only for those that differ from the process.
. "$(dirname "$0")/lib.sh"

crfs_mount
log=$T_DIR/threadcreds.log
start_workload "$log" "$CRFS_TESTS/wl_threadcreds"
pid=$WL_PID
wait_ready "$log" "$pid"
checkpoint tc "$pid" "$T_DIR/ckpt"
n=$(ls "$T_DIR"/ckpt/"$pid"/task/*/creds 2>/dev/null | wc -l)
[ "$n" = 2 ] || fail "expected task/TID/creds for 2 threads, found $n"
grep -q '^uid 1001$' "$T_DIR"/ckpt/"$pid"/task/*/creds ||
	fail "no thread creds with uid 1001"
kill_and_reap tc "$pid"
restore_bg "$T_DIR/ckpt" "$pid"
kill -USR1 "$pid" || fail "cannot signal restored pid $pid"
expect_pass "$log" "$RESTORE_PID" 20
pass
