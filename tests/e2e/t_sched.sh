#!/bin/bash
# SPDX-License-Identifier: MIT
# e2e-lane: shared (real-time and idle scheduling policies on 2 cores)
#
# wl_sched: each of three threads has its own scheduling policy (batch,
# RR with reset-on-fork, idle), nice, rt priority, CPU affinity, I/O
# priority and timer slack.  Checked by the threads themselves after a
# freeze and thaw, and again after checkpoint, kill and restore.  Then
# SCHED_DEADLINE and utilization clamps (where the kernel has them) are
# refused by name, and the process runs on after thaw.
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

log=$T_DIR/refused.log
start_workload "$log" "$CRFS_TESTS/wl_sched" refused
pid=$WL_PID
wait_ready "$log" "$pid"
cr_attach sr "$pid"
cr_freeze sr
if timeout -k 5 "$T_COPY_TIMEOUT" cp -a "$MNT/sr" "$T_DIR/ckpt-sr" 2>>"$T_DIR/cp.err"; then
	fail "cp -a of a SCHED_DEADLINE process succeeded"
fi
grep -q 'Input/output error' "$T_DIR/cp.err" ||
	fail "cp failed, but not with EIO: $(head -n 2 "$T_DIR/cp.err")"
ctl=$(ctl_read sr)
grep -q "thread $pid of process $pid: SCHED_DEADLINE is not supported" <<<"$ctl" ||
	fail "ctl does not name SCHED_DEADLINE: $(tr '\n' '|' <<<"$ctl")"
if grep -qx 'UCLAMP yes' "$log"; then
	grep -q 'utilization clamps (SCHED_FLAG_UTIL_CLAMP) are not supported' <<<"$ctl" ||
		fail "ctl does not name the clamp: $(tr '\n' '|' <<<"$ctl")"
else
	note "no utilization clamps in this kernel"
fi
cr_thaw sr
kill -USR1 "$pid" || fail "cannot signal $pid"
expect_pass "$log" "$pid" 20
pass
