#!/bin/bash
# SPDX-License-Identifier: MIT
# e2e-lane: isolated (its own namespaces or files only: runs beside the shared lane)
#
# Generations of a tree in a mount namespace of its own: checkpoint ->
# kill -> restore, then checkpoint -> kill -> restore of the restored tree,
# and so on.  wl_mntns (see t_mntns) with a rootfs of its own, and one
# with a copy of our mounts (unshare --mount-proc) plus a tmpfs.
if [ -z "${CRFS_T_OWN_MOUNTS:-}" ]; then
	CRFS_T_OWN_MOUNTS=1 exec unshare --mount --propagation private "$0" "$@"
fi
. "$(dirname "$0")/lib.sh"

command -v unshare >/dev/null || fail "unshare (util-linux) not found"
command -v tar >/dev/null || fail "tar not found"
for i in 1 2 3; do
	awk '{ print $5 }' /proc/self/mountinfo | sort | uniq -d |
		while read -r mp; do umount -l "$mp" || fail "umount $mp"; done
done
awk '{ for (i = 7; $i != "-"; i++); if ($(i + 1) ~ /^fuse/) print $5 }' \
	/proc/self/mountinfo | while read -r mp; do umount -l "$mp"; done
crfs_mount

GENS=${GENS:-3}
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
	note "generation $g: restored as $PID"
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
	note "plain generation $g: restored as $PID"
done
kill -USR1 "$PID" || fail "cannot signal restored pid $PID"
expect_pass "$T_DIR/plain.log" "$PARENT" 30
pass
