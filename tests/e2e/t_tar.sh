#!/bin/bash
# SPDX-License-Identifier: MIT
# e2e-lane: isolated (its own namespaces or files only: runs beside the shared lane)
#
# The checkpoint taken with tar instead of cp: streamed through a pipe and
# unpacked elsewhere, it must equal a cp -a copy of the same frozen
# container byte for byte (tar trusts st_size), and restore.
. "$(dirname "$0")/lib.sh"

crfs_mount
log=$T_DIR/pause.log
start_workload "$log" "$CRFS_TESTS/wl_pause" pause 32
pid=$WL_PID
wait_ready "$log" "$pid"
wait_sleeping "$pid"

checkpoint ta "$pid" "$T_DIR/cp-copy"
mkdir "$T_DIR/untarred"
timeout -k 5 "$T_COPY_TIMEOUT" bash -c \
	'set -o pipefail; tar -C "$1" -cf - "$2" | tar -C "$3" -xf -' \
	_ "$MNT" ta "$T_DIR/untarred" 2>>"$T_DIR/cp.err" ||
	fail "tar -C $MNT -cf - ta | tar -xf - failed"
diff -r "$T_DIR/cp-copy" "$T_DIR/untarred/ta" >"$T_DIR/diff.out" 2>&1 ||
	fail "tar copy differs from cp -a copy: $(head -n 3 "$T_DIR/diff.out" | tr '\n' '|')"

kill_and_reap ta "$pid"
restore_bg "$T_DIR/untarred/ta" "$pid"
kill -USR1 "$pid" || fail "cannot signal restored pid $pid"
expect_pass "$log" "$RESTORE_PID" 30
pass
