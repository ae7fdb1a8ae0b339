#!/bin/bash
# SPDX-License-Identifier: MIT
# e2e-lane: isolated (its own namespaces or files only: runs beside the shared lane)
#
# wl_mntns: a tree in a mount namespace of its own (unshare --mount --pid
# --fork) that pivots into a rootfs built here (binds of the host's /usr
# and /dev/null, a host directory and a host file) and mounts proc, sysfs,
# mqueue and four tmpfs with files, and runc-like masks (parts of its
# proc and of a tmpfs bound onto proc, tmpfs on proc and sysfs; see
# wl_mntns.c).  After freeze -> thaw
# and after checkpoint -> kill -> restore it checks its mount table, its
# files and its binds itself; we check that its writes reached the host.
# The image references the host's sources by path (mounts) and carries
# each tmpfs as mnt/ID.tar.  Also a tree without a rootfs of its own
# (unshare --mount-proc: a copy of our mounts) with a tmpfs.  Bad input: a missing bind source and a
# missing rootfs are refused by name, nothing left behind.  Refused at
# freeze: a host file kept open from before the pivot, a ramfs, a pty
# open on a devpts of its own, a process in a mount namespace other than
# the root's.
# Runs in a mount namespace of our own: the host's mount table is untouched.
if [ -z "${CRFS_T_OWN_MOUNTS:-}" ]; then
	CRFS_T_OWN_MOUNTS=1 exec unshare --mount --propagation private "$0" "$@"
fi
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/mntns.sh"

own_mounts_plain
crfs_mount

# host_writes NAME: what the workload wrote through its binds
host_writes() {
	local r=$T_DIR/$1
	[ "$(cat "$r/hostdir/out" 2>/dev/null)" = "through the bind" ] ||
		fail "$1: HOSTDIR/out is '$(cat "$r/hostdir/out" 2>&1)'"
	[ "$(cat "$r/hostfile")" = "written inside" ] ||
		fail "$1: HOSTFILE is '$(cat "$r/hostfile")'"
}

# Our processes carry T_MNTNS_DIR in their environment (crfs-restore and
# what it restores too): other tests' wl_mntns (t_mntns_gen, this test's
# other pass) may start or end beside us and must not count.
export T_MNTNS_DIR=$T_DIR
our_wl_mntns() {
	local p n=0
	for p in $(pgrep -x wl_mntns); do
		tr '\0' '\n' <"/proc/$p/environ" 2>/dev/null |
			grep -qxF "T_MNTNS_DIR=$T_DIR" && n=$((n + 1))
	done
	echo "$n"
}

# refused_restore DIR TEXT: crfs-restore says TEXT, and nothing runs
refused_restore() {
	local before after
	before=$(our_wl_mntns)
	"$CRFS_BIN/crfs-restore" "$1" </dev/null >"$T_DIR/restore.out" \
		2>"$T_DIR/restore.err" && fail "crfs-restore of $1 succeeded"
	grep -qF -- "$2" "$T_DIR/restore.err" ||
		fail "crfs-restore did not say '$2': $(cat "$T_DIR/restore.err")"
	after=$(our_wl_mntns)
	[ "$before" = "$after" ] || fail "a refused restore left processes behind"
}

# freeze -> thaw
start_case thaw
cr_attach thaw "$PID"
cr_freeze thaw
cr_thaw thaw
kill -USR1 "$PID"
expect_pass "$T_DIR/thaw/hostdir/wl.log" "$UNSHARE" 30
host_writes thaw

# checkpoint -> kill -> restore
start_case ckpt
t0=$EPOCHREALTIME
checkpoint ckpt "$PID" "$T_DIR/ckpt.img"
note "freeze + cp -a: $(( (${EPOCHREALTIME/./} - ${t0/./}) / 1000 )) ms, image $(du -sk "$T_DIR/ckpt.img" | cut -f1) kB, mnt/ $(du -sk "$T_DIR/ckpt.img/mnt" | cut -f1) kB"
r=$T_DIR/ckpt
grep -q " / $r/rootfs ext4 \| / $r/rootfs " "$T_DIR/ckpt.img/mounts" ||
	fail "mounts does not name the rootfs: $(head -n 3 "$T_DIR/ckpt.img/mounts")"
grep -q " /hostfile .* host $r/hostfile$" "$T_DIR/ckpt.img/mounts" ||
	fail "mounts does not name the host file"
grep -q ' /proc/sys /sys proc proc ro,.* bind [0-9]*$' "$T_DIR/ckpt.img/mounts" &&
	grep -q ' /proc/timer_list /top tmpfs .* bind [0-9]*$' "$T_DIR/ckpt.img/mounts" ||
	fail "mounts does not save the binds of parts of proc and of /over as binds"
n=$(grep -c ' tmpfs - *$' "$T_DIR/ckpt.img/mounts")
[ "$(find "$T_DIR/ckpt.img/mnt" -name '*.tar' | wc -l)" = "$n" ] && [ "$n" = 7 ] ||
	fail "want 7 tmpfs (2 of them on proc and sysfs) with 7 tar files: $n, $(ls "$T_DIR/ckpt.img/mnt")"
id=$(awk '$2 != "" && $3 == "/data" { print $1 }' "$T_DIR/ckpt.img/mounts")
tar -tf "$T_DIR/ckpt.img/mnt/$id.tar" | grep -qx './dir/f' ||
	fail "mnt/$id.tar lacks ./dir/f: $(tar -tf "$T_DIR/ckpt.img/mnt/$id.tar" | tr '\n' ' ')"
kill_and_reap ckpt "$PID" "$UNSHARE"

# bad input: a bind source, then the rootfs, missing
mv "$r/hostdir" "$r/hostdir.away"
refused_restore "$T_DIR/ckpt.img" "mount /hostdir: its source $r/hostdir is missing"
mv "$r/hostdir.away" "$r/hostdir"
mv "$r/rootfs" "$r/rootfs.away"
refused_restore "$T_DIR/ckpt.img" "mount /: its source $r/rootfs is missing"
mv "$r/rootfs.away" "$r/rootfs"

echo original >"$r/hostfile"
rm -f "$r/hostdir/out"
t0=$EPOCHREALTIME
restore_newpid "$T_DIR/ckpt.img"
note "crfs-restore until the root runs: $(( (${EPOCHREALTIME/./} - ${t0/./}) / 1000 )) ms"
kill -USR1 "$NEW_PID" || fail "cannot signal restored pid $NEW_PID"
expect_pass "$r/hostdir/wl.log" "$RESTORE_PID" 30
host_writes ckpt

# no rootfs of its own: a copy of our mounts, a proc and a tmpfs with a file
mkdir -p "$T_DIR/plain/t"
start_init "$T_DIR/plain.log" "$T_DIR/plain.log" unshare --mount --pid \
	--fork --mount-proc "$CRFS_TESTS/wl_mntns" plain "$T_DIR/plain/t"
checkpoint plain "$PID" "$T_DIR/plain.img"
grep -q " $T_DIR/plain/t / tmpfs crfsplain .* tmpfs -$" "$T_DIR/plain.img/mounts" ||
	fail "plain: mounts lacks the tmpfs: $(grep tmpfs "$T_DIR/plain.img/mounts")"
kill_and_reap plain "$PID" "$UNSHARE"
restore_newpid "$T_DIR/plain.img"
kill -USR1 "$NEW_PID" || fail "cannot signal restored pid $NEW_PID"
expect_pass "$T_DIR/plain.log" "$RESTORE_PID" 30

# start_sh NAME SCRIPT: sh -c SCRIPT in a mount namespace of its own,
# once it said READY; its pid in PID
start_sh() {
	start_workload "$T_DIR/$1.log" unshare --mount --fork sh -c "$2"
	wait_ready "$T_DIR/$1.log" "$WL_PID" 20
	PID=$(pgrep -P "$WL_PID")
	track_pid "$PID"
}

# a slave of one of our peer groups (as runc's rslave binds): after restore
# it still receives what we mount there.  The shared mount is ours: taken
# away before the test's directory is removed, whatever happens.
S=$T_DIR/shared
trap 'rc=$?; umount -l "$S" 2>/dev/null; (exit $rc); _cleanup' EXIT
mkdir -p "$S" "$T_DIR/slave/t"
mount -t tmpfs crfsshared "$S" && mount --make-shared "$S" ||
	fail "cannot make $S a shared mount"
start_init "$T_DIR/slave.log" "$T_DIR/slave.log" unshare --mount --pid \
	--fork --mount-proc --propagation unchanged sh -c \
	"mount --make-slave '$S' && exec '$CRFS_TESTS/wl_mntns' plain '$T_DIR/slave/t'"
checkpoint slave "$PID" "$T_DIR/slave.img"
grep -q " $S / tmpfs crfsshared .* slave host $S$" "$T_DIR/slave.img/mounts" ||
	fail "slave: mounts does not keep the slave: $(grep crfsshared "$T_DIR/slave.img/mounts")"
kill_and_reap slave "$PID" "$UNSHARE"
restore_newpid "$T_DIR/slave.img"
mkdir -p "$S/sub"
mount -t tmpfs crfsprop "$S/sub" || fail "mount on $S/sub"
grep -q " $S/sub .* crfsprop " "/proc/$NEW_PID/mountinfo" ||
	fail "slave: our mount on $S/sub did not reach the restored tree"
umount "$S/sub"
wait_for 10 eval '! grep -q crfsprop /proc/'"$NEW_PID"'/mountinfo' ||
	fail "slave: our unmount of $S/sub did not reach the restored tree"
kill -USR1 "$NEW_PID" || fail "cannot signal restored pid $NEW_PID"
expect_pass "$T_DIR/slave.log" "$RESTORE_PID" 30

# refused at freeze
start_sh ramfs 'mount -t ramfs crfsram /mnt && echo READY && exec sleep 60'
expect_refused ramfs "$PID" "mount /mnt: file system ramfs (source crfsram) is not the host's"

start_case outside keep
expect_refused outside "$PID" "process $PID: fd 3 ($T_DIR/outside/hostfile) is on a mount outside its mount namespace"

start_sh pty 'mount -t devpts -o newinstance,ptmxmode=0666 crfspts /mnt &&
	exec 3<>/mnt/ptmx && echo READY && exec sleep 60'
expect_refused pty "$PID" "mount /mnt: a pty of its own devpts is open (process $PID fd 3 /mnt/ptmx)"

start_other_ns "$T_DIR/other.log" --mount 'mount -t tmpfs none /mnt'
expect_refused other "$OTHER_PID" "in a mnt namespace"

# chrooted inside its namespace: mountinfo would hide what lies outside
start_sh chroot 'mount -t tmpfs crfsroot /mnt && mkdir /mnt/r &&
	mount --rbind / /mnt/r && echo READY && exec chroot /mnt/r sleep 60'
expect_refused chroot "$PID" "process $PID: chrooted to /mnt/r inside its own mount namespace"
pass
