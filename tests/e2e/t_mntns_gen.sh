#!/bin/bash
# SPDX-License-Identifier: MIT
# e2e-lane: isolated (its own namespaces or files only: runs beside the shared lane)
#
# Generations of a tree in a mount namespace of its own: checkpoint ->
# kill -> restore, then checkpoint -> kill -> restore of the restored tree,
# and so on; the restored workload checks its mount table and files after
# each (SIGUSR2), and once more at the end.  wl_mntns (see t_mntns) with a
# rootfs of its own; with a copy of our mounts (unshare --mount-proc) plus
# a tmpfs; with a copy of our mounts plus a proc only, which stays that
# (restore makes a copy of ours again) though we mounted more since each
# copy was made; and a copy that took one of our mounts away, which is a
# mount tree of its own and comes back without it.
if [ -z "${CRFS_T_OWN_MOUNTS:-}" ]; then
	CRFS_T_OWN_MOUNTS=1 exec unshare --mount --propagation private "$0" "$@"
fi
. "$(dirname "$0")/lib.sh"

command -v unshare >/dev/null || fail "unshare (util-linux) not found"
command -v tar >/dev/null || fail "tar not found"
# stacked mounts and FUSE mounts of other tests (see t_mntns)
for i in 1 2 3; do
	awk '{ print $5 }' /proc/self/mountinfo | sort | uniq -d |
		while read -r mp; do umount -l "$mp" || fail "umount $mp"; done
done
awk '{ for (i = 7; $i != "-"; i++); if ($(i + 1) ~ /^fuse/) print $5 }' \
	/proc/self/mountinfo | while read -r mp; do umount -l "$mp"; done
# and other tests' mounts in /tmp: when one removes its directory there,
# the kernel takes the mount on it away in every namespace, from a tree
# of ours too
awk '$5 ~ /^\/tmp\// { print $5 }' /proc/self/mountinfo | sort -r |
	while read -r mp; do umount -l "$mp"; done
crfs_mount

GENS=${GENS:-3}

# checked LOG G: the restored workload checks all of it (SIGUSR2) and goes on
checked() {
	kill -USR2 "$PID" || fail "generation $2: cannot signal restored pid $PID"
	wait_line "$1" "^CHECKED $2\$" 30 "$PID"
	grep -q '^FAIL' "$1" && fail "generation $2: $(grep '^FAIL' "$1" | tr '\n' ';')"
	return 0
}
r=$T_DIR/gen
mkdir -p "$r"/rootfs/{usr,proc,sys,tmp,data,ro,over,dev/mqueue,dev/pts,hostdir} \
	"$r/hostdir" || fail "mkdir $r"
: >"$r/rootfs/dev/null"
: >"$r/rootfs/hostfile"
ln -s usr/lib "$r/rootfs/lib"
ln -s usr/lib64 "$r/rootfs/lib64"
ln -s usr/bin "$r/rootfs/bin"
cp "$CRFS_TESTS/wl_mntns" "$r/rootfs/" || fail "cp wl_mntns"
echo original >"$r/hostfile"
_logs+=("$r/hostdir/wl.log")
start_workload "$T_DIR/setup.log" unshare --mount --pid --fork \
	"$r/rootfs/wl_mntns" setup "$r/rootfs" "$r/hostdir" "$r/hostfile"
PARENT=$WL_PID
wait_for 20 eval '[ -n "$(pgrep -P '"$PARENT"')" ]' || fail "no child under unshare"
PID=$(pgrep -P "$PARENT")
track_pid "$PID"
wait_ready "$r/hostdir/wl.log" "$PID" 30

for g in $(seq 1 "$GENS"); do
	checkpoint gen$g "$PID" "$T_DIR/gen$g.img"
	kill_and_reap gen$g "$PID" "$PARENT"
	restore_newpid "$T_DIR/gen$g.img"
	PID=$NEW_PID
	PARENT=$RESTORE_PID
	checked "$r/hostdir/wl.log" "$g"
done
kill -USR1 "$PID" || fail "cannot signal restored pid $PID"
expect_pass "$r/hostdir/wl.log" "$PARENT" 30

mkdir -p "$T_DIR/plain/t"
start_workload "$T_DIR/plain.log" unshare --mount --pid --fork --mount-proc \
	"$CRFS_TESTS/wl_mntns" plain "$T_DIR/plain/t"
PARENT=$WL_PID
wait_for 20 eval '[ -n "$(pgrep -P '"$PARENT"')" ]' || fail "no child under unshare"
PID=$(pgrep -P "$PARENT")
track_pid "$PID"
wait_ready "$T_DIR/plain.log" "$PID" 30
for g in $(seq 1 "$GENS"); do
	checkpoint plain$g "$PID" "$T_DIR/plain$g.img"
	kill_and_reap plain$g "$PID" "$PARENT"
	restore_newpid "$T_DIR/plain$g.img"
	PID=$NEW_PID
	PARENT=$RESTORE_PID
	checked "$T_DIR/plain.log" "$g"
done
kill -USR1 "$PID" || fail "cannot signal restored pid $PID"
expect_pass "$T_DIR/plain.log" "$PARENT" 30

# start_copy NAME [GONE]: wl_mntns copy in a copy of our mounts plus a proc
start_copy() {
	start_workload "$T_DIR/$1.log" unshare --mount --pid --fork --mount-proc \
		"$CRFS_TESTS/wl_mntns" copy ${2:+"$2"}
	PARENT=$WL_PID
	wait_for 20 eval '[ -n "$(pgrep -P '"$PARENT"')" ]' || fail "no child under unshare"
	PID=$(pgrep -P "$PARENT")
	track_pid "$PID"
	wait_ready "$T_DIR/$1.log" "$PID" 30
}

# a copy of our mounts plus a proc, nothing of its own: saved as that (no
# mounts file; restore makes a copy of ours again) in every generation,
# though we mounted more (on $L) after each restore made the copy
L=$T_DIR/late
mkdir -p "$L"
trap 'rc=$?; umount -l "$L" "$T_DIR/gone" 2>/dev/null; (exit $rc); _cleanup' EXIT
start_copy copy
for g in $(seq 1 "$GENS"); do
	[ "$g" = 1 ] || mount -t tmpfs crfslate "$L" || fail "mount on $L"
	checkpoint copy$g "$PID" "$T_DIR/copy$g.img"
	[ -e "$T_DIR/copy$g.img/mounts" ] &&
		fail "copy generation $g: saved as a mount tree of its own: $(grep crfslate "$T_DIR/copy$g.img/mounts")"
	grep -q '^proc_mount 1$' "$T_DIR/copy$g.img/$PID/attr" ||
		fail "copy generation $g: not saved as a copy of ours plus a proc"
	kill_and_reap copy$g "$PID" "$PARENT"
	[ "$g" = 1 ] || umount "$L" || fail "umount $L"
	restore_newpid "$T_DIR/copy$g.img"
	PID=$NEW_PID
	PARENT=$RESTORE_PID
	checked "$T_DIR/copy.log" "$g"
done
kill -USR1 "$PID" || fail "cannot signal restored pid $PID"
expect_pass "$T_DIR/copy.log" "$PARENT" 30

# the copy without one of our mounts it had (it took it away): a mount
# tree of its own, restored without it
mkdir -p "$T_DIR/gone"
mount -t tmpfs crfsgone "$T_DIR/gone" || fail "mount on $T_DIR/gone"
start_copy gone "$T_DIR/gone"
checkpoint gone "$PID" "$T_DIR/gone.img"
[ -e "$T_DIR/gone.img/mounts" ] ||
	fail "gone: saved as a plain copy of our mounts, which has $T_DIR/gone"
grep -q crfsgone "$T_DIR/gone.img/mounts" && fail "gone: its mounts has $T_DIR/gone"
kill_and_reap gone "$PID" "$PARENT"
restore_newpid "$T_DIR/gone.img"
grep -q crfsgone "/proc/$NEW_PID/mountinfo" && fail "gone: restored with $T_DIR/gone"
kill -USR1 "$NEW_PID" || fail "cannot signal restored pid $NEW_PID"
expect_pass "$T_DIR/gone.log" "$RESTORE_PID" 30
pass
