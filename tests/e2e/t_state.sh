#!/bin/bash
# SPDX-License-Identifier: MIT
# e2e-lane: isolated (its own namespaces or files only: runs beside the shared lane)
#
# wl_state: all the process state crfs claims, checkpointed while the
# workload spins in user mode with known register contents, killed,
# restored from the cp -a copy, then checked by the workload itself.
. "$(dirname "$0")/lib.sh"

crfs_mount
mkdir -p "$T_DIR/work"
start_workload "$T_DIR/state.log" "$CRFS_TESTS/wl_state" "$T_DIR/work"
pid=$WL_PID
wait_ready "$T_DIR/state.log" "$pid"

checkpoint st "$pid" "$T_DIR/ckpt"
check_image "$T_DIR/ckpt" "$pid"
# the 1 GiB PROT_NONE reservation must not end up in the image, neither
# as data nor as a sparse file
size=$(du -s --apparent-size -B1M "$T_DIR/ckpt" | cut -f1)
used=$(du -s -B1M "$T_DIR/ckpt" | cut -f1)
note "image: ${size} MiB apparent, ${used} MiB on disk"
[ "$size" -lt 128 ] || fail "image is $size MiB: the sparse reservation was stored"

kill_and_reap st "$pid"
restore_bg "$T_DIR/ckpt" "$pid"
kill -USR1 "$pid" || fail "cannot signal restored pid $pid"
expect_pass "$T_DIR/state.log" "$RESTORE_PID" 60
pass
