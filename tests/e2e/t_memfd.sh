#!/bin/bash
# SPDX-License-Identifier: MIT
# e2e-lane: isolated (its own namespaces or files only: runs beside the shared lane)
#
# A memfd shared by a parent and its child (wl_memfd) comes back as one
# memfd of the same name that both map again; the processes check it.
. "$(dirname "$0")/lib.sh"

crfs_mount
log=$T_DIR/memfd.log
start_workload "$log" "$CRFS_TESTS/wl_memfd"
wrapper=$WL_PID
wait_root "$log" "$wrapper"
root=$ROOT_PID
before=$(ps -o pid=,ppid=,pgid=,sid= --ppid "$root" | sort)
checkpoint mfd "$root" "$T_DIR/ckpt"
kill_and_reap mfd "$root" "$wrapper"
restore_bg "$T_DIR/ckpt" "$root"
after=$(ps -o pid=,ppid=,pgid=,sid= --ppid "$root" | sort)
[ "$before" = "$after" ] || fail "ids differ: before [$before] after [$after]"
kill -USR1 "$root" || fail "cannot signal restored root $root"
expect_pass "$log" "$RESTORE_PID" 30
pass
