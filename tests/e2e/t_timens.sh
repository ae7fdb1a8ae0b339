#!/bin/bash
# SPDX-License-Identifier: MIT
# e2e-lane: isolated (its own namespaces or files only: runs beside the shared lane)
#
# wl_timens: a tree in its own time namespace (unshare --time --fork with
# monotonic and boottime offsets, alone and with --pid --mount-proc).  The
# ns file saves the offsets; restore makes a new time namespace with them.
# The processes check their offsets, clocks and absolute timerfds after a
# freeze and thaw, and after a restore.  A process of the tree in a time
# namespace other than the root's, or that unshared one for its children,
# is refused by name.
# unshare --mount-proc is refused unless the mount tables differ only by
# /proc: run in a mount namespace of our own (as t_uts).
if [ -z "${CRFS_T_OWN_MOUNTS:-}" ]; then
	CRFS_T_OWN_MOUNTS=1 exec unshare --mount --propagation private "$0" "$@"
fi
. "$(dirname "$0")/lib.sh"

command -v unshare >/dev/null || fail "unshare (util-linux) not found"
[ -e /proc/self/ns/time ] || fail "no time namespaces in this kernel"
crfs_mount
HOST_TIME=$(readlink /proc/self/ns/time)
OFFS=(--time --monotonic 86400 --boottime 3600)

# start_case NAME UNSHARE-OPTIONS...: wl_timens under unshare, ready; its
# pid in PID, unshare's in UPID
start_case() {
	local log=$T_DIR/$1.log
	shift
	start_workload "$log" unshare --fork "$@" "$CRFS_TESTS/wl_timens"
	UPID=$WL_PID
	wait_for 20 eval '[ -n "$(pgrep -P '"$UPID"')" ]' || fail "no child under unshare"
	PID=$(pgrep -P "$UPID")
	track_pid "$PID"
	wait_ready "$log" "$PID" 30
}

# thaw_case NAME UNSHARE-OPTIONS...: the state after a freeze and thaw
thaw_case() {
	local name=$1
	start_case "$@"
	cr_attach "$name" "$PID"
	cr_freeze "$name"
	cr_thaw "$name"
	timeout "$T_CTL_TIMEOUT" rmdir "$MNT/$name" || fail "rmdir $MNT/$name failed"
	kill -USR1 "$PID" || fail "cannot signal pid $PID"
	expect_pass "$T_DIR/$name.log" "$UPID" 30
}

# restore_case NAME UNSHARE-OPTIONS...: the state after a restore
restore_case() {
	local name=$1
	start_case "$@"
	checkpoint "$name" "$PID" "$T_DIR/$name.ckpt"
	grep -qx 'monotonic 86400 0' "$T_DIR/$name.ckpt/ns" ||
		fail "$name: ns does not save the offsets: $(tr '\n' '|' <"$T_DIR/$name.ckpt/ns")"
	kill_and_reap "$name" "$PID" "$UPID"
	restore_ns "$T_DIR/$name.ckpt"
	[ "$(readlink "/proc/$NEW_PID/ns/time")" != "$HOST_TIME" ] ||
		fail "$name: restored root is in our time namespace"
	[ "$(readlink /proc/self/ns/time_for_children)" = "$HOST_TIME" ] ||
		fail "$name: our time namespace for children changed"
	kill -USR1 "$NEW_PID" || fail "cannot signal restored pid $NEW_PID"
	expect_pass "$T_DIR/$name.log" "$RESTORE_PID" 30
}

thaw_case thaw "${OFFS[@]}"
restore_case time "${OFFS[@]}"
restore_case timepid "${OFFS[@]}" --pid --mount-proc

# a process of the tree in a time namespace of its own: refused by name
start_workload "$T_DIR/other.log" unshare --fork "${OFFS[@]}" sh -c \
	'unshare --time --fork sleep 60 & echo READY; wait'
u=$WL_PID
wait_ready "$T_DIR/other.log" "$u" 20
wait_for 20 eval '[ -n "$(pgrep -P '"$u"' -x sh)" ]' || fail "no sh under unshare"
pid=$(pgrep -P "$u" -x sh)
track_pid "$pid"
wait_for 20 eval '[ -n "$(pgrep -P '"$pid"' -x unshare)" ]' || fail "no unshare under sh"
upid=$(pgrep -P "$pid" -x unshare)
track_pid "$upid"
wait_for 20 eval '[ -n "$(pgrep -P '"$upid"' -x sleep)" ]' || fail "no sleep under unshare"
track_pid "$(pgrep -P "$upid" -x sleep)"
expect_refused other "$pid" "in a time namespace (time:["
# ... and the process that unshared it for its children, by that name
expect_refused children "$pid" "unshared a time namespace (time:["
pass
