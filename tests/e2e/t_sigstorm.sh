#!/bin/bash
# SPDX-License-Identifier: MIT
# e2e-lane: exclusive (timing, or host-wide events: runs alone)
#
# wl_sigstorm: a process under a 1 ms interval timer and a 2 ms POSIX
# timer is frozen and copied five times (each thawed), then checkpointed,
# killed and restored; every freeze must succeed (signals arriving during
# it stay queued), and the restored timers must go on firing.
. "$(dirname "$0")/lib.sh"

crfs_mount
log=$T_DIR/sigstorm.log
start_workload "$log" "$CRFS_TESTS/wl_sigstorm"
pid=$WL_PID
wait_ready "$log" "$pid"
for i in 1 2 3 4 5; do
	checkpoint ss$i "$pid" "$T_DIR/ckpt$i"
	ctl_write ss$i thaw || fail "thaw $i failed"
	timeout "$T_CTL_TIMEOUT" rmdir "$MNT/ss$i" || fail "rmdir ss$i failed"
	rm -rf "$T_DIR/ckpt$i"
done
checkpoint ss "$pid" "$T_DIR/ckpt"
kill_and_reap ss "$pid"
restore_bg "$T_DIR/ckpt" "$pid"
kill -USR1 "$pid" || fail "cannot signal restored pid $pid"
expect_pass "$log" "$RESTORE_PID" 20
pass
