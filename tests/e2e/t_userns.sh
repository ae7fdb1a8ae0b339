#!/bin/bash
# SPDX-License-Identifier: MIT
# e2e-lane: isolated (its own namespaces or files only: runs beside the shared lane)
#
# wl_userns: a tree in a user namespace of its own: unshare --user
# --map-root-user --fork alone; with --pid --mount-proc --uts --net --ipc
# --time and a thread; with --uts --net --ipc --time only; maps written
# from outside as newuidmap would ("0 100000 65536", setgroups deny,
# owner uid 100000), where a child becomes uid 1000 inside; the same maps
# with setgroups allow for init of a pid namespace, whose child sets
# other groups inside.  The ns
# file saves the maps, setgroups and the owner; restore makes the user
# namespace first and the others inside it.  The processes check what
# they see of themselves (maps, ids, groups, capabilities, which
# namespaces their user namespace owns) after a freeze and thaw and after
# a restore; we check their credentials as our /proc shows them, before
# and after.  Refused by name: nested user namespaces, a process in
# another user namespace than the root's, threads without a pid namespace
# of the tree's, a namespace of the root its user namespace does not own,
# a projid_map and a user.max_* limit set inside.
# unshare --mount-proc is refused unless the mount tables differ only by
# /proc: run in a mount namespace of our own (as t_uts).
if [ -z "${CRFS_T_OWN_MOUNTS:-}" ]; then
	CRFS_T_OWN_MOUNTS=1 exec unshare --mount --propagation private "$0" "$@"
fi
. "$(dirname "$0")/lib.sh"

command -v unshare >/dev/null || fail "unshare (util-linux) not found"
crfs_mount
HOST_USER=$(readlink /proc/self/ns/user)
ROOTMAP=(--user --map-root-user)

# outside PID: the credentials of PID and its child as we see them
outside() {
	local p kid
	kid=$(pgrep -P "$1" | head -n 1)
	for p in "$1" "$kid"; do
		grep -E '^(Uid|Gid|Groups|Cap(Inh|Prm|Eff|Bnd|Amb)):' "/proc/$p/status"
		cat "/proc/$p/uid_map" "/proc/$p/gid_map" "/proc/$p/setgroups"
	done
}

# start_case NAME CMD...: the workload ready; the root's pid in PID, the
# process to reap after the kill (unshare, or wl_userns maps) in UPID
start_case() {
	local log=$T_DIR/$1.log
	shift
	start_workload "$log" "$@"
	UPID=$WL_PID
	wait_for 20 eval '[ -n "$(pgrep -P '"$UPID"')" ]' || fail "no child under $1"
	PID=$(pgrep -P "$UPID")
	track_pid "$PID"
	wait_ready "$log" "$PID" 30
	[ "$(readlink "/proc/$PID/ns/user")" != "$HOST_USER" ] ||
		fail "the workload is in our user namespace"
	wait_for 20 eval '[ -n "$(pgrep -P '"$PID"')" ]' || fail "no child of $PID"
	track_pid "$(pgrep -P "$PID")"
}

# thaw_case NAME CMD...: the state after a freeze and thaw
thaw_case() {
	local name=$1 before
	start_case "$@"
	before=$(outside "$PID")
	cr_attach "$name" "$PID"
	cr_freeze "$name"
	cr_thaw "$name"
	timeout "$T_CTL_TIMEOUT" rmdir "$MNT/$name" || fail "rmdir $MNT/$name failed"
	[ "$(outside "$PID")" = "$before" ] ||
		fail "$name: credentials changed: $(diff <(echo "$before") <(outside "$PID") | tr '\n' '|')"
	kill -USR1 "$PID" || fail "cannot signal pid $PID"
	expect_pass "$T_DIR/$name.log" "$UPID" 30
}

# restore_case NAME WANT CMD...: the state after a restore; the ns file
# must have line WANT
restore_case() {
	local name=$1 want=$2 before after
	shift 2
	start_case "$name" "$@"
	before=$(outside "$PID")
	checkpoint "$name" "$PID" "$T_DIR/$name.ckpt"
	grep -qx "$want" "$T_DIR/$name.ckpt/ns" ||
		fail "$name: ns lacks '$want': $(tr '\n' '|' <"$T_DIR/$name.ckpt/ns")"
	kill_and_reap "$name" "$PID" "$UPID"
	restore_ns "$T_DIR/$name.ckpt"
	[ "$(readlink "/proc/$NEW_PID/ns/user")" != "$HOST_USER" ] ||
		fail "$name: restored root is in our user namespace"
	wait_for 20 eval '[ -n "$(pgrep -P '"$NEW_PID"')" ]' ||
		fail "$name: no child of the restored root"
	after=$(outside "$NEW_PID")
	[ "$after" = "$before" ] ||
		fail "$name: credentials changed: $(diff <(echo "$before") <(echo "$after") | tr '\n' '|')"
	kill -USR1 "$NEW_PID" || fail "cannot signal restored pid $NEW_PID"
	expect_pass "$T_DIR/$name.log" "$RESTORE_PID" 30
}

WL=$CRFS_TESTS/wl_userns
thaw_case thaw unshare "${ROOTMAP[@]}" --fork "$WL"
thaw_case thawmaps "$WL" maps
restore_case user 'uid_map 0 0 1' unshare "${ROOTMAP[@]}" --fork "$WL"
restore_case all 'net 1' unshare "${ROOTMAP[@]}" --pid --mount-proc --uts \
	--net --ipc --time --monotonic 86400 --fork "$WL" thread
# init of a pid namespace with range maps, setgroups allowed; its child
# has groups other than the root's, set inside
restore_case pidmaps 'setgroups allow' "$WL" pidmaps
restore_case nopid 'time 1' unshare "${ROOTMAP[@]}" --uts --net --ipc --time \
	--monotonic 86400 --fork "$WL"
restore_case maps 'uid_map 0 100000 65536' "$WL" maps
grep -qx 'setgroups deny' "$T_DIR/maps.ckpt/ns" || fail "maps: ns lacks setgroups deny"
grep -qx 'user_owner 100000' "$T_DIR/maps.ckpt/ns" || fail "maps: ns lacks user_owner 100000"

# a thread in a user namespace without a pid namespace: refused by name
start_case threads unshare "${ROOTMAP[@]}" --fork "$WL" thread
expect_refused threads "$PID" "threads in a user namespace without a pid namespace of the tree's own"

# a root whose network namespace is not its user namespace's (made
# before it): refused by name
start_workload "$T_DIR/owner.log" unshare --net --fork unshare "${ROOTMAP[@]}" \
	--fork sh -c 'echo READY; exec sleep 60'
u=$WL_PID
wait_for 20 eval '[ -n "$(pgrep -P '"$u"' -x unshare)" ]' || fail "no inner unshare"
u=$(pgrep -P "$u" -x unshare)
track_pid "$u"
wait_for 20 eval '[ -n "$(pgrep -P '"$u"' -x sleep)" ]' || fail "no sleep under unshare"
pid=$(pgrep -P "$u" -x sleep)
track_pid "$pid"
expect_refused owner "$pid" "its net namespace (net:["
expect_refused owner2 "$pid" "is owned by a user namespace other than its own"

# a projid_map (project quotas) is not saved: refused by name
start_case projid unshare "${ROOTMAP[@]}" --fork "$WL"
echo "0 0 1" >"/proc/$PID/projid_map" || fail "cannot write a projid_map"
expect_refused projid "$PID" "has a projid_map: not supported"

# a user.max_* limit set inside: refused by name
start_workload "$T_DIR/limit.log" unshare "${ROOTMAP[@]}" --fork sh -c \
	'echo 100 >/proc/sys/user/max_net_namespaces && echo READY && exec sleep 60'
u=$WL_PID
wait_for 20 eval '[ -n "$(pgrep -P '"$u"')" ]' || fail "no child under unshare"
pid=$(pgrep -P "$u")
track_pid "$pid"
wait_ready "$T_DIR/limit.log" "$pid" 20
expect_refused limit "$pid" "limits user.max_net_namespaces to 100"

# a process of the tree in a user namespace of its own: refused by name
start_workload "$T_DIR/other.log" unshare "${ROOTMAP[@]}" --fork sh -c \
	'unshare --user sleep 60 & echo READY; wait'
u=$WL_PID
wait_ready "$T_DIR/other.log" "$u" 20
wait_for 20 eval '[ -n "$(pgrep -P '"$u"' -x sh)" ]' || fail "no sh under unshare"
pid=$(pgrep -P "$u" -x sh)
track_pid "$pid"
wait_for 20 eval '[ -n "$(pgrep -P '"$pid"' -x sleep)" ]' || fail "no sleep under sh"
track_pid "$(pgrep -P "$pid" -x sleep)"
expect_refused other "$pid" "in a user namespace (user:["
# ... and a root whose user namespace is nested in another
expect_refused nested "$(pgrep -P "$pid" -x sleep)" "is nested in another user namespace"
pass
