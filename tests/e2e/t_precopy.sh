#!/bin/bash
# SPDX-License-Identifier: MIT
# e2e-lane: isolated (its own namespaces or files only: runs beside the shared lane)
#
# Pre-copy: crfsctl checkpoint --precopy 2 of a process that rewrites its
# 64 MiB of random memory all the time (wl_writer, 2 MiB/s): two post-dump
# copies made while it runs (the second relative to the first), then a
# freeze whose image holds only what changed since.  The chain restores,
# and the workload replays its writes to check every byte.
. "$(dirname "$0")/lib.sh"

crfs_mount
log=$T_DIR/wl.log
start_workload "$log" "$CRFS_TESTS/wl_writer" 64 2048
pid=$WL_PID
wait_ready "$log" "$pid" 60
cr_attach pc "$pid"
CRFS_MNT=$MNT timeout "$T_COPY_TIMEOUT" "$CRFS_BIN/crfsctl" checkpoint \
	--precopy 2 pc "$T_DIR/ck" </dev/null >"$T_DIR/crfsctl.out" \
	2>"$T_DIR/crfsctl.err" ||
	fail "crfsctl checkpoint --precopy: $(cat "$T_DIR/crfsctl.err")"
note "$(head -n 1 "$T_DIR/crfsctl.out")"
grep -q '^frozen for [0-9]* ms' "$T_DIR/crfsctl.out" ||
	fail "crfsctl did not say how long it froze: $(cat "$T_DIR/crfsctl.out")"
wait_exit "$pid" 20 || fail "pid $pid still there after crfsctl's kill"
expect_state pc dead
grep -qx 'version 4' "$T_DIR/ck.pre1/image" || fail "ck.pre1 is not a full image"
for d in ck.pre2:ck.pre1 ck:ck.pre2; do
	id=$(awk '$1 == "freeze_id" { print $2 }' "$T_DIR/${d#*:}/image")
	grep -qx "parent ../${d#*:} $id" "$T_DIR/${d%:*}/image" ||
		fail "${d%:*}/image does not name ../${d#*:} $id as its parent"
done
full=$(stat -c %s "$T_DIR/ck.pre1/$pid/pages")
last=$(stat -c %s "$T_DIR/ck/$pid/pages")
note "pages: pre-copy $full bytes, the frozen copy $last"
[ $((last * 4)) -le "$full" ] ||
	fail "the frozen copy holds $last bytes of pages, the full one $full"
timeout "$T_CTL_TIMEOUT" rmdir "$MNT/pc" || fail "rmdir pc"
restore_bg "$T_DIR/ck" "$pid"
kill -USR1 "$pid"
expect_pass "$log" "$RESTORE_PID" 60
pass
