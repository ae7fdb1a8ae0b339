#!/bin/bash
# SPDX-License-Identifier: MIT
# e2e-lane: shared ipc (the host's IPC namespace)
#
# wl_posixshm: named POSIX shared memory (/dev/shm/NAME, mapped shared by
# a process and its child, a descriptor open) is saved with its bytes,
# name, owner and mode (maps: "shmem shared,named,maywrite").  A thaw finds it as
# it was.  At restore:
#  - an object of that name that is not the image's (another owner), or
#    that a process has open, is refused by name, nothing left behind;
#  - the killed tree's leftover (overwritten here after the kill) is
#    taken and gets the image's bytes again;
#  - with no object of that name (after a reboot, on another host) it is
#    made again with its owner and mode.
# Each time the workload checks bytes, name, inode, owner, mode and that
# its child still shares the object.  A mapping of a part of an object is
# refused at freeze.
. "$(dirname "$0")/lib.sh"

NAME=
PART=
shm_cleanup() {
	[ -n "$NAME" ] && rm -f "/dev/shm$NAME"
	[ -n "$PART" ] && rm -f "/dev/shm$PART"
	return 0
}
trap 'rc=$?; shm_cleanup; (exit $rc); _cleanup' EXIT

crfs_mount

# a mapping of a part of an object: refused at freeze, the thaw leaves it
start_workload "$T_DIR/part.log" "$CRFS_TESTS/wl_posixshm" part
pid=$WL_PID
wait_ready "$T_DIR/part.log" "$pid"
PART=$(sed -n 's/^NAME \(\/crfs-wl-posixshm-part-[0-9]*\)$/\1/p' "$T_DIR/part.log")
expect_refused part "$pid" "(/dev/shm$PART): a mapping of a part of a POSIX shared memory object is not supported yet"
kill -USR1 "$pid" || fail "cannot signal $pid"
expect_pass "$T_DIR/part.log" "$pid" 10

log=$T_DIR/posixshm.log
start_workload "$log" "$CRFS_TESTS/wl_posixshm" 2
sub=$WL_PID
wait_root "$log" "$sub"
root=$ROOT_PID
track_tree "$root"
NAME=$(sed -n 's/^NAME \(\/crfs-wl-posixshm-[0-9]*\)$/\1/p' "$log")
[ -n "$NAME" ] || fail "no NAME line"
obj=/dev/shm$NAME

# freeze -> thaw: round 1
checkpoint ps "$root" "$T_DIR/ckpt0"
grep -q " shmem shared,named,maywrite 12388:[0-9]*:1234:1234:640 $obj\$" "$T_DIR/ckpt0/$root/maps" ||
	fail "$root/maps has no named shmem line for $obj: $(grep shmem "$T_DIR/ckpt0/$root/maps" | tr '\n' '|')"
cr_thaw ps
kill -USR1 "$root" || fail "cannot signal $root"
wait_line "$log" '^ROUND 1$' 20 "$root"
grep -q '^FAIL' "$log" && fail "after the thaw: $(grep '^FAIL' "$log" | tr '\n' '|')"

cr_freeze ps
cr_copy ps "$T_DIR/ckpt"
kill_and_reap ps "$root" "$sub"
[ -f "$obj" ] || fail "the kill removed $obj"
cp "$log" "$T_DIR/log.at-kill"

# not the image's: refused, the object untouched, no process made
chown 0:0 "$obj"
sum=$(md5sum <"$obj")
expect_restore_refused foreign "$T_DIR/ckpt" "$root" \
	"POSIX shared memory $obj exists and is not the image's \(owner, mode or size differ\): remove it first"
[ "$(stat -c %u:%g "$obj")" = 0:0 ] && [ "$(md5sum <"$obj")" = "$sum" ] ||
	fail "the refused restore changed $obj"

# the image's, but a process (this shell) has it open: refused too
chown 1234:1234 "$obj"
exec 7<"$obj"
expect_restore_refused open "$T_DIR/ckpt" "$root" \
	"POSIX shared memory $obj exists and a process has it open or mapped"
exec 7<&-
[ "$(md5sum <"$obj")" = "$sum" ] || fail "the refused restore changed $obj"

# the leftover, overwritten since the kill: the image's bytes again
head -c 12388 /dev/urandom | dd of="$obj" conv=notrunc status=none ||
	fail "cannot overwrite $obj"
restore_bg "$T_DIR/ckpt" "$root"
track_tree "$root"
kill -USR1 "$root" || fail "cannot signal restored $root"
expect_pass "$log" "$RESTORE_PID" 30
grep -qx 'ROUND 2' "$log" || fail "no round 2 after the first restore"
[ -e "$obj" ] && fail "$obj still there after the workload unlinked it"

# no object of that name: made again, with its owner and mode
cp "$T_DIR/log.at-kill" "$log"
restore_bg "$T_DIR/ckpt" "$root"
track_tree "$root"
kill -USR1 "$root" || fail "cannot signal restored $root"
expect_pass "$log" "$RESTORE_PID" 30
grep -qx 'ROUND 2' "$log" || fail "no round 2 after the second restore"
pass
