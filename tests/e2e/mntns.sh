# SPDX-License-Identifier: MIT
# shellcheck shell=bash
#
# tests/e2e/mntns.sh - sourced after lib.sh by t_mntns and t_mntns_gen, in
# a mount namespace of their own (CRFS_T_OWN_MOUNTS): wl_mntns's rootfs
# and how its trees are started.

command -v unshare >/dev/null || fail "unshare (util-linux) not found"
command -v tar >/dev/null || fail "tar not found"

# own_mounts_plain: our copy of the host's mounts made one a tree can
# copy and get back.  A host may stack a mount over another at the same
# place (this one does, on /dev/pts and /dev/shm): the lower one is
# unreachable by path, and a copy of our mounts that shows it is refused,
# rightly; take the upper ones away.  So too the FUSE mounts of other
# tests (their daemons may be gone by the time we restore), and their
# mounts in /tmp: when one removes its directory there, the kernel takes
# the mount on it away in every namespace, from a tree of ours too.
own_mounts_plain() {
	local i
	for i in 1 2 3; do
		awk '{ print $5 }' /proc/self/mountinfo | sort | uniq -d |
			while read -r mp; do umount -l "$mp" || fail "umount $mp"; done
	done
	awk '{ for (i = 7; $i != "-"; i++); if ($(i + 1) ~ /^fuse/) print $5 }' \
		/proc/self/mountinfo | while read -r mp; do umount -l "$mp"; done
	awk '$5 ~ /^\/tmp\// { print $5 }' /proc/self/mountinfo | sort -r |
		while read -r mp; do umount -l "$mp"; done
}

# make_root NAME: $T_DIR/NAME/{rootfs,hostdir,hostfile}
make_root() {
	local r=$T_DIR/$1
	mkdir -p "$r"/rootfs/{usr,proc,sys,tmp,data,ro,over,dev/mqueue,dev/pts,hostdir} \
		"$r/hostdir" || fail "mkdir $r"
	: >"$r/rootfs/dev/null"
	: >"$r/rootfs/hostfile"
	ln -s usr/lib "$r/rootfs/lib"
	ln -s usr/lib64 "$r/rootfs/lib64"
	ln -s usr/bin "$r/rootfs/bin"
	cp "$CRFS_TESTS/wl_mntns" "$r/rootfs/" || fail "cp wl_mntns"
	echo original >"$r/hostfile"
}

# start_init LOG READYLOG UNSHARE...: the child of unshare (init of its
# pid namespace) in PID once READYLOG says READY, unshare in UNSHARE
start_init() {
	local log=$1 ready=$2
	shift 2
	start_workload "$log" "$@"
	UNSHARE=$WL_PID
	wait_for 20 eval '[ -n "$(pgrep -P '"$UNSHARE"')" ]' ||
		fail "no child under unshare"
	PID=$(pgrep -P "$UNSHARE")
	track_pid "$PID"
	wait_ready "$ready" "$PID" 30
}

# start_case NAME [keep]: the workload in its rootfs; its root's pid in PID
start_case() {
	local r=$T_DIR/$1 u
	make_root "$1"
	_logs+=("$r/hostdir/wl.log")
	start_init "$T_DIR/$1.setup.log" "$r/hostdir/wl.log" \
		unshare --mount --pid --fork "$r/rootfs/wl_mntns" setup \
		"$r/rootfs" "$r/hostdir" "$r/hostfile" ${2:+"$2"}
}
