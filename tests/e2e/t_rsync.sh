#!/bin/bash
# SPDX-License-Identifier: MIT
# e2e-lane: isolated (its own namespaces or files only: runs beside the shared lane)
#
# The checkpoint taken with rsync -a, twice into the same directory: once,
# then (after thawing and letting the bash counter run on) again as an
# update.  rsync skips files whose size and mtime did not change, so each
# round's result must equal a fresh cp -a copy, and the second, updated
# image must restore with the later counter value.
. "$(dirname "$0")/lib.sh"

rsync_round() {
	timeout -k 5 "$T_COPY_TIMEOUT" rsync -a --delete "$MNT/rs/" "$T_DIR/rsynced/" \
		2>>"$T_DIR/cp.err" || fail "rsync -a $MNT/rs/ $T_DIR/rsynced/ failed ($1)"
	rm -rf "$T_DIR/cp-copy"
	cr_copy rs "$T_DIR/cp-copy"
	diff -r "$T_DIR/cp-copy" "$T_DIR/rsynced" >"$T_DIR/diff.out" 2>&1 ||
		fail "rsync copy ($1) differs from cp -a copy: $(head -n 3 "$T_DIR/diff.out" | tr '\n' '|')"
}

crfs_mount
log=$T_DIR/bash.log
start_workload "$log" setsid bash -c "$BASH_COUNTER" bash "$T_DIR/want"
pid=$WL_PID
wait_ready "$log" "$pid"

cr_attach rs "$pid"
cr_freeze rs
rsync_round first
cr_thaw rs
sleep 1
get_count "$log" "$pid"
cr_freeze rs
rsync_round update
echo "$COUNT" >"$T_DIR/want"

kill_and_reap rs "$pid"
restore_bg "$T_DIR/rsynced" "$pid"
kill -USR1 "$pid" || fail "cannot signal restored pid $pid"
expect_pass "$log" "$RESTORE_PID" 30
pass
