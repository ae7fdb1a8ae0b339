#!/bin/bash
# SPDX-License-Identifier: MIT
#
# wl_sched: each of three threads has its own scheduling policy (batch,
# RR with reset-on-fork, idle), nice, rt priority, CPU affinity, I/O
# priority and timer slack.  Checked by the threads themselves after a
# freeze and thaw, and again after checkpoint, kill and restore.
. "$(dirname "$0")/lib.sh"

crfs_mount
log=$T_DIR/sched.log
start_workload "$log" "$CRFS_TESTS/wl_sched"
pid=$WL_PID
wait_ready "$log" "$pid"

cr_attach sc "$pid"
cr_freeze sc
cr_thaw sc
kill -USR2 "$pid" || fail "cannot signal $pid"
wait_line "$log" '^CHECKED thaw$' 20 "$pid"
grep -q '^FAIL' "$log" && fail "after thaw: $(grep '^FAIL' "$log" | tr '\n' '|')"

cr_freeze sc
cr_copy sc "$T_DIR/ckpt"
grep -qx 'policy rr' "$T_DIR"/ckpt/"$pid"/task/*/sched ||
	fail "no thread with 'policy rr' in the image"
grep -qx 'policy batch' "$T_DIR/ckpt/$pid/task/$pid/sched" ||
	fail "$pid/task/$pid/sched: $(tr '\n' '|' <"$T_DIR/ckpt/$pid/task/$pid/sched")"
kill_and_reap sc "$pid"
restore_bg "$T_DIR/ckpt" "$pid"
kill -USR1 "$pid" || fail "cannot signal restored pid $pid"
expect_pass "$log" "$RESTORE_PID" 30
grep -qx 'PASS restore.rr' "$log" || fail "no 'PASS restore.rr'"
pass
