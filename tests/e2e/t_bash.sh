#!/bin/bash
# SPDX-License-Identifier: MIT
# e2e-lane: isolated (its own namespaces or files only: runs beside the shared lane)
#
# A real interpreter: bash counting in a busy loop of builtins, with traps.
# The counter it reports before the checkpoint must be exceeded after the
# restore, and its array must be intact (BASH_COUNTER in lib.sh).
. "$(dirname "$0")/lib.sh"

crfs_mount
log=$T_DIR/bash.log
start_workload "$log" setsid bash -c "$BASH_COUNTER" bash "$T_DIR/want"
pid=$WL_PID
wait_ready "$log" "$pid"
[ "$(proc_field "$pid" 6)" = "$pid" ] || fail "bash is not a session leader (setsid forked?)"

get_count "$log" "$pid"
echo "$COUNT" >"$T_DIR/want"
checkpoint ba "$pid" "$T_DIR/ckpt"
kill_and_reap ba "$pid"
restore_bg "$T_DIR/ckpt" "$pid"
kill -USR1 "$pid" || fail "cannot signal restored pid $pid"
expect_pass "$log" "$RESTORE_PID" 30
pass
