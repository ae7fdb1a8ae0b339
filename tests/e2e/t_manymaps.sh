#!/bin/bash
# SPDX-License-Identifier: MIT
# e2e-lane: isolated (its own namespaces or files only: runs beside the shared lane)
#
# wl_manymaps: 30,000 one-page mappings (two files, private and shared,
# and anonymous memory), more than RLIMIT_NOFILE allows descriptors,
# checkpointed, killed and restored: restore opens one descriptor per
# mapped file, not one per mapping.  The workload checks every mapping.
. "$(dirname "$0")/lib.sh"

# the point is a limit below the number of mappings: lower it where the
# host allows more (raising it would need CAP_SYS_RESOURCE anyway)
[ "$(ulimit -Hn)" -le 20000 ] || ulimit -n 20000
crfs_mount
mkdir -p "$T_DIR/work"
log=$T_DIR/manymaps.log
start_workload "$log" "$CRFS_TESTS/wl_manymaps" "$T_DIR/work"
pid=$WL_PID
wait_ready "$log" "$pid" 30
checkpoint mm "$pid" "$T_DIR/ckpt"
n=$(wc -l <"$T_DIR/ckpt/$pid/maps")
[ "$n" -gt 30000 ] || fail "$pid/maps has only $n mappings"
kill_and_reap mm "$pid"
restore_bg "$T_DIR/ckpt" "$pid"
kill -USR1 "$pid" || fail "cannot signal restored pid $pid"
expect_pass "$log" "$RESTORE_PID" 30
pass
