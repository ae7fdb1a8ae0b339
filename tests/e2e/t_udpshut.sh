#!/bin/bash
# SPDX-License-Identifier: MIT
# e2e-lane: isolated (its own namespaces or files only: runs beside the shared lane)
#
# wl_udpshut (zdtm socket_udp_shutdown): UDP sockets shut down for
# writing, reading and both, connected on 127.0.0.1; the workload checks
# that data still flows where it may, that sends fail with EPIPE and reads
# end at once where shut.  In our network namespace and in a tree's own
# (unshare --net --pid --mount-proc), after a freeze and thaw and after
# checkpoint -> kill -> restore; the image's sockets carry shutdown keys.
# unshare --mount-proc needs a mount namespace of our own (as t_netns).
if [ -z "${CRFS_T_OWN_MOUNTS:-}" ]; then
	CRFS_T_OWN_MOUNTS=1 exec unshare --mount --propagation private "$0" "$@"
fi
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/zdtm_lib.sh"

command -v unshare >/dev/null || fail "unshare (util-linux) not found"
crfs_mount

# has_shut IMAGE: the files of IMAGE hold the three shutdown keys
has_shut() {
	local f
	for f in 1 2 3; do
		grep -rqE "^[0-9]+ inet .* shutdown=$f( |\$)" "$1" ||
			fail "$1: no inet socket with shutdown=$f: $(grep -rh shutdown "$1" | tr '\n' '|')"
	done
}

zdtm_case wl_udpshut hostthaw thaw
zdtm_case wl_udpshut host restore
has_shut "$T_DIR/host.ckpt"

# net_case NAME thaw|restore: the tree in a network namespace of its own
net_case() {
	local name=$1 log=$T_DIR/$1.log u pid
	start_workload "$log" unshare --fork --net --pid --mount-proc \
		"$CRFS_TESTS/wl_udpshut"
	u=$WL_PID
	wait_for 20 eval '[ -n "$(pgrep -P '"$u"')" ]' || fail "no child under unshare"
	pid=$(pgrep -P "$u")
	track_pid "$pid"
	wait_ready "$log" "$pid" 30
	if [ "$2" = thaw ]; then
		cr_attach "$name" "$pid"
		cr_freeze "$name"
		cr_thaw "$name"
		timeout "$T_CTL_TIMEOUT" rmdir "$MNT/$name" || fail "rmdir $MNT/$name failed"
		kill -USR1 "$pid" || fail "cannot signal pid $pid"
		expect_pass "$log" "$u" 30
		return
	fi
	checkpoint "$name" "$pid" "$T_DIR/$name.ckpt"
	has_shut "$T_DIR/$name.ckpt"
	kill_and_reap "$name" "$pid" "$u"
	restore_ns "$T_DIR/$name.ckpt"
	kill -USR1 "$NEW_PID" || fail "cannot signal restored pid $NEW_PID"
	expect_pass "$log" "$RESTORE_PID" 30
}

net_case netthaw thaw
net_case net restore
pass
