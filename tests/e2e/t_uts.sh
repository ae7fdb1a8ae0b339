#!/bin/bash
# SPDX-License-Identifier: MIT
# e2e-lane: isolated (its own namespaces or files only: runs beside the shared lane)
#
# wl_uts: a tree in its own UTS namespace (unshare --uts --fork, alone and
# with --pid --mount-proc).  The ns file saves hostname and domainname;
# restore makes a new UTS namespace with them, leaving ours untouched.
# Checked from outside after a freeze and thaw, by the processes
# themselves after the restore.  A child in a UTS namespace other than
# the root's is refused by name.
# unshare --mount-proc is refused unless the mount tables differ only by
# /proc: run in a mount namespace of our own, which other tests' mounts
# and unmounts (the host's root is private) do not reach meanwhile.
if [ -z "${CRFS_T_OWN_MOUNTS:-}" ]; then
	CRFS_T_OWN_MOUNTS=1 exec unshare --mount --propagation private "$0" "$@"
fi
. "$(dirname "$0")/lib.sh"

command -v unshare >/dev/null || fail "unshare (util-linux) not found"
command -v nsenter >/dev/null || fail "nsenter (util-linux) not found"
crfs_mount
HOST_UTS=$(readlink /proc/self/ns/uts)
MY_HOST=$(hostname)

# run_case NAME UNSHARE-OPTIONS...
run_case() {
	local name=$1 log=$T_DIR/$1.log u pid
	shift
	start_workload "$log" unshare --fork "$@" "$CRFS_TESTS/wl_uts"
	u=$WL_PID
	wait_for 20 eval '[ -n "$(pgrep -P '"$u"')" ]' || fail "no child under unshare"
	pid=$(pgrep -P "$u")
	track_pid "$pid"
	wait_ready "$log" "$pid" 30
	cr_attach "$name" "$pid"
	cr_freeze "$name"
	cr_thaw "$name"
	[ "$(nsenter -t "$pid" -u hostname)" = 'crfs uts\host' ] ||
		fail "$name: hostname after thaw is '$(nsenter -t "$pid" -u hostname)'"
	timeout "$T_CTL_TIMEOUT" rmdir "$MNT/$name" || fail "rmdir $MNT/$name failed"
	checkpoint "$name" "$pid" "$T_DIR/$name.ckpt"
	grep -qx 'hostname crfs\\040uts\\134host' "$T_DIR/$name.ckpt/ns" ||
		fail "$name: ns does not save the hostname: $(tr '\n' '|' <"$T_DIR/$name.ckpt/ns")"
	kill_and_reap "$name" "$pid" "$u"
	restore_ns "$T_DIR/$name.ckpt"
	[ "$(readlink "/proc/$NEW_PID/ns/uts")" != "$HOST_UTS" ] ||
		fail "$name: restored root is in our UTS namespace"
	kill -USR1 "$NEW_PID" || fail "cannot signal restored pid $NEW_PID"
	expect_pass "$log" "$RESTORE_PID" 30
	[ "$(hostname)" = "$MY_HOST" ] || fail "$name: our hostname changed to $(hostname)"
}

run_case uts --uts
run_case utspid --uts --pid --mount-proc

# a process of the tree in a UTS namespace of its own: refused by name
start_other_ns "$T_DIR/other.log" --uts
expect_refused other "$OTHER_PID" "other than the root's"
pass
