#!/bin/bash
# SPDX-License-Identifier: MIT
# e2e-lane: isolated (its own namespaces or files only: runs beside the shared lane)
#
# A session and a process group whose leaders have exited (wl_sessions):
# restore re-creates them with helpers that take the leaders' pids, and the
# members come back under their parent, the subreaper root, with their
# pid, ppid, pgid and sid; each checks that itself.
. "$(dirname "$0")/lib.sh"

crfs_mount
log=$T_DIR/sessions.log
start_workload "$log" "$CRFS_TESTS/wl_sessions"
wrapper=$WL_PID
wait_root "$log" "$wrapper"
root=$ROOT_PID
before=$(ps -o pid=,ppid=,pgid=,sid= --ppid "$root" | sort)
checkpoint sess "$root" "$T_DIR/ckpt"
kill_and_reap sess "$root" "$wrapper"
restore_bg "$T_DIR/ckpt" "$root"
after=$(ps -o pid=,ppid=,pgid=,sid= --ppid "$root" | sort)
[ "$before" = "$after" ] || fail "ids differ: before [$before] after [$after]"
kill -USR1 "$root" || fail "cannot signal restored root $root"
expect_pass "$log" "$RESTORE_PID" 30
pass
