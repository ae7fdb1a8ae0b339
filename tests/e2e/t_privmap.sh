#!/bin/bash
# SPDX-License-Identifier: MIT
# e2e-lane: isolated (its own namespaces or files only: runs beside the shared lane)
#
# wl_privmap: private mappings of memfds and of files deleted since, some
# pages copied on write, some not; with and without a descriptor still
# open.  Checked after a checkpoint and thaw, then after checkpoint, kill
# and restore: contents, the maps lines ("/memfd:NAME (deleted)",
# "PATH (deleted)", offsets), and that the file behind them is the file.
# A memfd that allows sealing, mapped privately, is refused by name.
. "$(dirname "$0")/lib.sh"

crfs_mount
for how in thaw restore; do
	mkdir -p "$T_DIR/work-$how"
	log=$T_DIR/privmap-$how.log
	start_workload "$log" "$CRFS_TESTS/wl_privmap" "$T_DIR/work-$how"
	pid=$WL_PID
	wait_ready "$log" "$pid"
	checkpoint "p$how" "$pid" "$T_DIR/ckpt-$how"
	n=$(grep -c ' deleted ' "$T_DIR/ckpt-$how/$pid/maps")
	[ "$n" -ge 5 ] || fail "$pid/maps has $n private mappings of deleted objects, want 5"
	n=$(ls "$T_DIR/ckpt-$how/mapdata" | wc -l)
	[ "$n" = 4 ] || fail "mapdata holds $n objects, want 4"
	verify_after "$how" "p$how" "$pid" "$log" "$T_DIR/ckpt-$how"
done

log=$T_DIR/sealable.log
start_workload "$log" "$CRFS_TESTS/wl_privmap" "$T_DIR" sealable
pid=$WL_PID
wait_ready "$log" "$pid"
cr_attach seal "$pid"
cr_freeze seal
timeout -k 5 "$T_COPY_TIMEOUT" cp -a "$MNT/seal" "$T_DIR/ckpt-seal" 2>"$T_DIR/cp.err" &&
	fail "cp -a of a privately mapped sealable memfd succeeded"
grep -q 'Input/output error' "$T_DIR/cp.err" ||
	fail "cp failed, but not with EIO: $(head -n 2 "$T_DIR/cp.err")"
ctl_read seal | grep -q 'memfd:wl_seal.*allows sealing' ||
	fail "ctl does not name the memfd: $(ctl_read seal | tr '\n' '|')"
cr_thaw seal
kill -USR1 "$pid" || fail "cannot signal $pid"
expect_pass "$log" "$pid" 30
timeout "$T_CTL_TIMEOUT" rmdir "$MNT/seal" || fail "rmdir seal"
pass
