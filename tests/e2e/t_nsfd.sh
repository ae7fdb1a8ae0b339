#!/bin/bash
# SPDX-License-Identifier: MIT
# e2e-lane: isolated (its own namespaces or files only: runs beside the shared lane)
#
# Namespace files held open (wl_nsfd): a tree in its own net, uts, ipc and
# pid namespaces, with a pid namespace below, whose processes hold
# descriptors of the daemon's namespaces of every kind, of the tree's own,
# of the one below and of the one above theirs.  After a freeze and thaw,
# then after checkpoint -> kill -> restore, the processes check every
# descriptor by inode; from outside we check that the restored root holds
# our namespaces and its own.  A descriptor of a namespace that is neither
# ours nor the tree's is refused by name, and so is a namespace of the
# tree's kept alive by a bind mount.  Runs in a mount namespace of its own
# (the bind mount stays in it), unmounted at exit whatever happens.
if [ -z "${CRFS_T_OWN_MOUNTS:-}" ]; then
	CRFS_T_OWN_MOUNTS=1 exec unshare --mount --propagation private "$0" "$@"
fi
. "$(dirname "$0")/lib.sh"

_nsfd_cleanup() {
	local rc=$?
	umount -l "$T_DIR/netns" 2>/dev/null
	(exit "$rc")
	_cleanup
}
trap _nsfd_cleanup EXIT

command -v unshare >/dev/null || fail "unshare (util-linux) not found"
WL=$CRFS_TESTS/wl_nsfd
[ -x "$WL" ] || fail "no $WL (run make)"
crfs_mount

# holds PID KIND LINK: a descriptor of PID reads LINK ("net:[123]")
holds() {
	local f
	for f in /proc/"$1"/fd/*; do
		[ "$(readlink "$f" 2>/dev/null)" = "$3" ] && return 0
	done
	return 1
}

# outside PID: PID holds our namespaces of each kind and its own
outside() {
	local k mine own
	for k in net uts ipc pid mnt cgroup user time; do
		mine=$(readlink "/proc/self/ns/$k")
		holds "$1" "$k" "$mine" || fail "pid $1 holds no descriptor of our $k namespace $mine"
	done
	for k in net uts ipc pid; do
		own=$(readlink "/proc/$1/ns/$k")
		[ "$own" != "$(readlink "/proc/self/ns/$k")" ] ||
			fail "pid $1 is in our $k namespace"
		holds "$1" "$k" "$own" || fail "pid $1 holds no descriptor of its own $k namespace $own"
	done
}

# after a freeze, a copy and a thaw
log=$T_DIR/thaw.log
start_root "$log" "$WL"
checkpoint thaw "$ROOT" "$T_DIR/thaw.ckpt"
n=$(grep -c ' ns ' "$T_DIR/thaw.ckpt/files")
[ "$n" -ge 14 ] || fail "files has $n namespace files: $(grep ' ns ' "$T_DIR/thaw.ckpt/files" | tr '\n' '|')"
cr_thaw thaw
timeout "$T_CTL_TIMEOUT" rmdir "$MNT/thaw" || fail "rmdir $MNT/thaw failed"
outside "$ROOT"
kill -USR1 "$ROOT" || fail "cannot signal $ROOT"
expect_pass "$log" "$TOP" 30

# checkpoint, kill, restore
log=$T_DIR/cr.log
start_root "$log" "$WL"
checkpoint cr "$ROOT" "$T_DIR/cr.ckpt"
kill_and_reap cr "$ROOT" "$TOP"
restore_newpid "$T_DIR/cr.ckpt"
np=$NEW_PID
track_tree "$np"
outside "$np"
kill -USR1 "$np" || fail "cannot signal restored root $np"
expect_pass "$log" "$RESTORE_PID" 30

# a namespace neither ours nor the tree's, of each sort: refused by name
start_workload "$T_DIR/other.log" unshare --uts --pid --fork sleep 600
u=$WL_PID
wait_for 20 eval '[ -n "$(pgrep -P '"$u"' -x sleep)" ]' || fail "no sleep under unshare"
other=$(pgrep -P "$u" -x sleep)
track_pid "$other"
for k in uts pid; do
	start_workload "$T_DIR/holder-$k.log" sh -c \
		'exec 3<"/proc/$1/ns/$2" && echo READY && exec sleep 600' sh "$other" "$k"
	h=$WL_PID
	wait_ready "$T_DIR/holder-$k.log" "$h" 20
	wait_for 20 eval '[ "$(readlink /proc/'"$h"'/exe)" != "$(readlink -f /bin/sh)" ]' ||
		fail "sh did not exec sleep"
	if [ "$k" = pid ]; then
		expect_refused "holder-$k" "$h" "a descriptor of a pid namespace that is neither the daemon's nor one of the tree's is not supported"
	else
		expect_refused "holder-$k" "$h" "a descriptor of a namespace that is neither the daemon's nor the tree's is not supported"
	fi
done

# the tree's network namespace bind-mounted: the mount would go on naming
# the old namespace after a restore
: >"$T_DIR/netns"
start_workload "$T_DIR/bound.log" unshare --net --fork sh -c \
	'mount --bind /proc/self/ns/net "$1" && echo READY && exec sleep 600' sh "$T_DIR/netns"
u=$WL_PID
wait_for 20 eval '[ -n "$(pgrep -P '"$u"')" ]' || fail "no child under unshare"
b=$(pgrep -P "$u")
track_pid "$b"
wait_ready "$T_DIR/bound.log" "$b" 20
wait_for 20 eval '[ "$(readlink /proc/'"$b"'/exe)" != "$(readlink -f /bin/sh)" ]' ||
	fail "sh did not exec sleep"
expect_refused bound "$b" "is bind-mounted at $T_DIR/netns: a namespace kept alive by a bind mount is not supported"
umount "$T_DIR/netns" || fail "cannot unmount $T_DIR/netns"
pass
