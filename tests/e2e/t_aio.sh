#!/bin/bash
# SPDX-License-Identifier: MIT
# e2e-lane: isolated (its own namespaces or files only: runs beside the shared lane)
#
# AIO contexts (io_setup): wl_aio leaves completed events unreaped in two
# rings, one with its tail wrapped past the ring's end.  Frozen and thawed,
# then checkpointed, killed and restored: the contexts keep their ids, the
# rings their head and tail, the waiting events come out in order with
# their results, and new requests complete (wl_aio checks it all).  A
# child forked after io_setup maps its parent's rings without the
# contexts: refused by name.
. "$(dirname "$0")/lib.sh"

crfs_mount
for how in thaw restore; do
	log=$T_DIR/aio-$how.log
	start_workload "$log" "$CRFS_TESTS/wl_aio" "$T_DIR/data-$how"
	pid=$WL_PID
	wait_ready "$log" "$pid"
	if [ "$how" = thaw ]; then
		cr_attach "aio$how" "$pid"
		cr_freeze "aio$how"
		cr_thaw "aio$how"
	else
		checkpoint "aio$how" "$pid" "$T_DIR/ckpt"
		grep -q ' aio ' "$T_DIR/ckpt/$pid/maps" || fail "no aio mapping in maps"
		kill_and_reap "aio$how" "$pid"
		restore_bg "$T_DIR/ckpt" "$pid"
		pid=$RESTORE_PID
	fi
	kill -USR1 "$WL_PID" || fail "$how: cannot signal $WL_PID"
	expect_pass "$log" "$pid" 30
done

start_workload "$T_DIR/fork.log" "$CRFS_TESTS/wl_aio" "$T_DIR/data-fork" fork
wait_ready "$T_DIR/fork.log" "$WL_PID"
track_tree "$WL_PID"
expect_refused aiofork "$WL_PID" "maps the AIO ring of process $WL_PID's context"
pass
