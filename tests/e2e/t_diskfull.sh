#!/bin/bash
# SPDX-License-Identifier: MIT
# e2e-lane: shared (a small file system filled up: kept apart from everything shared)
#
# Faults during a copy: the destination fills up (a 4 MiB tmpfs): cp -a
# fails, a thaw lets the tree go on, and a restore of the partial copy is
# refused naming what is missing.  rmdir of the container, then a forced
# unmount (umount -f, which aborts the FUSE connection), while a reader
# is half-way through a file: the reader gets an error and the tree runs
# on, neither stopped nor traced.  Then wl_pause checks its memory and
# signal state.
# A tmpfs and a forced unmount: in a mount namespace of our own.
if [ -z "${CRFS_T_OWN_MOUNTS:-}" ]; then
	CRFS_T_OWN_MOUNTS=1 exec unshare --mount --propagation private "$0" "$@"
fi
. "$(dirname "$0")/lib.sh"

# open_mid FD: FD reads the container's pages file, 64 KiB in
open_mid() {
	eval "exec $1<\"\$MNT/c/\$PID/pages\"" || fail "cannot open pages"
	dd bs=64k count=1 <&"$1" >/dev/null 2>&1 || fail "first read of pages failed"
}

# read_fails FD WHAT: the rest of FD cannot be read
read_fails() {
	dd bs=64k <&"$1" >/dev/null 2>"$T_DIR/dd.err" &&
		fail "$2: the reader read on without an error"
	note "$2: the reader got: $(grep -v records "$T_DIR/dd.err" | tr '\n' ' ')"
	eval "exec $1<&-"
}

SMALL=$T_DIR/small
mkdir -p "$SMALL"
mount -t tmpfs -o size=4m tmpfs "$SMALL" || fail "cannot mount a tmpfs"
crfs_mount
LOG=$T_DIR/wl.log
start_workload "$LOG" "$CRFS_TESTS/wl_pause" pause 16
PID=$WL_PID
wait_ready "$LOG" "$PID" 30
wait_sleeping "$PID"

# 1. the destination fills up
cr_attach c "$PID"
cr_freeze c
timeout "$T_COPY_TIMEOUT" cp -a "$MNT/c" "$SMALL/ckpt" 2>"$T_DIR/cp-full.err" &&
	fail "cp -a to a full tmpfs succeeded"
grep -q 'No space left on device' "$T_DIR/cp-full.err" ||
	fail "cp -a failed without ENOSPC: $(head -n 3 "$T_DIR/cp-full.err")"
cr_thaw c
wait_for 5 task_released "$PID" || fail "tree not running after the thaw"
timeout "$T_RESTORE_TIMEOUT" "$CRFS_BIN/crfs-restore" "$SMALL/ckpt" \
	</dev/null >"$T_DIR/partial.out" 2>"$T_DIR/partial.err"
rc=$?
[ "$rc" = 1 ] || fail "restore of the partial copy exited with $rc, want 1"
grep -Eq "^crfs-restore: .*($PID/|image|tree|files)" "$T_DIR/partial.err" ||
	fail "restore of the partial copy names no file: $(cat "$T_DIR/partial.err")"
note "partial copy: $(cat "$T_DIR/partial.err")"
task_released "$PID" || fail "tree disturbed by the refused restore"
umount "$SMALL"

# 2. rmdir while a reader is half-way
cr_freeze c
open_mid 7
timeout "$T_CTL_TIMEOUT" rmdir "$MNT/c" || fail "rmdir of the frozen container failed"
read_fails 7 rmdir
wait_for 5 task_released "$PID" || fail "rmdir: tree not running 5 s later"

# 3. a forced unmount while a reader is half-way
cr_attach c "$PID"
cr_freeze c
open_mid 8
D=$(daemon_pid)
umount -f "$MNT" 2>/dev/null
read_fails 8 "umount -f"
wait_for 5 task_released "$PID" || fail "umount -f: tree not running 5 s later"
wait_gone "$D" 10 || fail "umount -f: the daemon still runs"

kill -USR1 "$PID" || fail "cannot signal $PID"
expect_pass "$LOG" "$PID" 30
pass
