#!/bin/bash
# SPDX-License-Identifier: MIT
# e2e-lane: isolated (its own namespaces or files only: runs beside the shared lane)
#
# wl_netns_sub: processes of the tree in network namespaces of their own
# (zdtm netns_sub, netns_sub_sysctl): two such namespaces (one with lo up,
# an address, a route and a sysctl; one with lo down and two sysctls), a
# grandchild sharing its parent's, a child in the root's.  The tree in a
# network namespace of its own (with and without --pid --mount-proc) and
# in ours.  Checked by the processes after a freeze and thaw and after
# the restore.  A socket made in such a namespace, and a veth pair in
# one, and a child in our network namespace, are refused by name.
if [ -z "${CRFS_T_OWN_MOUNTS:-}" ]; then
	CRFS_T_OWN_MOUNTS=1 exec unshare --mount --propagation private "$0" "$@"
fi
. "$(dirname "$0")/lib.sh"

command -v unshare >/dev/null || fail "unshare (util-linux) not found"
command -v ip >/dev/null || fail "ip (iproute2) not found"
crfs_mount
HOST_NET=$(readlink /proc/self/ns/net)

# run_case NAME UNSHARE-OPTIONS...
run_case() {
	local name=$1 log=$T_DIR/$1.log u pid
	shift
	start_root "$log" unshare --fork "$@" "$CRFS_TESTS/wl_netns_sub"
	u=$TOP pid=$ROOT
	cr_attach "$name" "$pid"
	cr_freeze "$name"
	cr_thaw "$name"
	timeout "$T_CTL_TIMEOUT" rmdir "$MNT/$name" || fail "rmdir $MNT/$name failed"
	checkpoint "$name" "$pid" "$T_DIR/$name.ckpt"
	[ -f "$T_DIR/$name.ckpt/netns_sub" ] && [ -f "$T_DIR/$name.ckpt/netns.2" ] ||
		fail "$name: no netns_sub or netns.2 in the image"
	kill_and_reap "$name" "$pid" "$u"
	restore_ns "$T_DIR/$name.ckpt"
	kill -USR1 "$NEW_PID" || fail "cannot signal restored pid $NEW_PID"
	expect_pass "$log" "$RESTORE_PID" 30
	[ "$(readlink /proc/self/ns/net)" = "$HOST_NET" ] || fail "$name: our netns changed"
}

# the freeze and thaw alone: checked by the processes themselves
thaw_case() {
	local name=$1 log=$T_DIR/$1.log u pid
	start_root "$log" unshare --fork --net "$CRFS_TESTS/wl_netns_sub"
	u=$TOP pid=$ROOT
	cr_attach "$name" "$pid"
	cr_freeze "$name"
	cr_thaw "$name"
	kill -USR1 "$pid" || fail "cannot signal $pid"
	expect_pass "$log" "$u" 30
	timeout "$T_CTL_TIMEOUT" rmdir "$MNT/$name" || fail "rmdir $MNT/$name failed"
}

thaw_case thaw
run_case net --net
run_case netpid --net --pid --mount-proc
run_case hostnet --uts

expect_refused_tree sock "a socket of network namespace" \
	unshare --net --fork "$CRFS_TESTS/wl_netns_sub" sock
expect_refused_tree veth "device sv0 (veth): only lo is restored in a network namespace other than the root's" \
	unshare --net --fork "$CRFS_TESTS/wl_netns_sub" veth
# a child back in our namespace (was restored into the root's, silently)
expect_refused_tree back "in crfs's network namespace while the root has one of its own" \
	unshare --net --fork sh -c \
	"nsenter --net=/proc/$$/ns/net sh -c 'echo READY; exec sleep 60' & wait"
pass
