#!/bin/bash
# SPDX-License-Identifier: MIT
# e2e-lane: isolated (its own namespaces or files only: runs beside the shared lane)
#
# Nested pid namespaces (wl_pidns_nested): a tree with pid namespaces two
# levels inside it, a process that entered one with setns before it
# forked, and a thread three levels down.  Once with the root in our pid
# namespace (under a subreaper: every pid comes back at every level), once
# with the root init of its own (unshare --pid --fork: restore makes a new
# namespace and every level below it).  Each after a freeze and thaw, then
# after checkpoint -> kill -> restore; the processes check themselves.
# Then what cannot be restored is refused by name.
# Runs in a mount namespace of its own, like t_pidns.
if [ -z "${CRFS_T_OWN_MOUNTS:-}" ]; then
	CRFS_T_OWN_MOUNTS=1 exec unshare --mount --propagation private "$0" "$@"
fi
. "$(dirname "$0")/lib.sh"

command -v unshare >/dev/null || fail "unshare (util-linux) not found"
WL=$CRFS_TESTS/wl_pidns_nested
[ -x "$WL" ] || fail "no $WL (run make)"
crfs_mount

# start MODE LOG: the workload; TOP is our child, ROOT the tree's root
start() {
	if [ "$1" = host ]; then
		start_root "$2" "$WL" --subreaper
	else
		start_root "$2" unshare --pid --fork "$WL"
	fi
}

# the image says where each process is: some three levels down, with
# pids 1 and 2 of their namespace
check_image_levels() {
	local d=$1 want=$2 n
	n=$(grep -h '^nspid ' "$d"/[0-9]*/attr | awk -v w="$want" 'NF == w + 1' | wc -l)
	[ "$n" -ge 3 ] || fail "image has $n processes $want levels down: $(grep -h '^nspid' "$d"/[0-9]*/attr | tr '\n' '|')"
	grep -qh '^nstid .* 3$' "$d"/[0-9]*/task/*/sigstate ||
		fail "no thread with tid 3 in the deepest namespace it is in"
}

run_thaw() {
	local mode=$1 name=thaw-$1 log=$T_DIR/thaw-$1.log
	start "$mode" "$log"
	checkpoint "$name" "$ROOT" "$T_DIR/$name.ckpt"
	check_image_levels "$T_DIR/$name.ckpt" "$([ "$mode" = host ] && echo 2 || echo 3)"
	cr_thaw "$name"
	timeout "$T_CTL_TIMEOUT" rmdir "$MNT/$name" || fail "rmdir $MNT/$name failed"
	kill -USR1 "$ROOT" || fail "cannot signal $ROOT"
	expect_pass "$log" "$TOP" 30
}

run_restore() {
	local mode=$1 name=cr-$1 log=$T_DIR/cr-$1.log np
	start "$mode" "$log"
	checkpoint "$name" "$ROOT" "$T_DIR/$name.ckpt"
	kill_and_reap "$name" "$ROOT" "$TOP"
	if [ "$mode" = host ]; then
		restore_bg "$T_DIR/$name.ckpt" "$ROOT"
		np=$ROOT
	else
		restore_newpid "$T_DIR/$name.ckpt"
		np=$NEW_PID
		grep -q 'NSpid:.*[[:space:]]1$' "/proc/$np/status" ||
			fail "restored root is not init of a new pid namespace"
	fi
	track_tree "$np"
	kill -USR1 "$np" || fail "cannot signal restored root $np"
	expect_pass "$log" "$RESTORE_PID" 30
}

run_thaw host
run_restore host
run_thaw ns
run_restore ns

# a process of a pid namespace whose init is not in the tree
start_workload "$T_DIR/other.log" unshare --pid --fork sh -c \
	'sleep 600 & echo READY; wait'
u=$WL_PID
wait_ready "$T_DIR/other.log" "$u" 20
wait_for 20 eval '[ -n "$(pgrep -P '"$u"' -x sh)" ]' || fail "no sh under unshare"
sh_pid=$(pgrep -P "$u" -x sh)
track_pid "$sh_pid"
wait_for 20 eval '[ -n "$(pgrep -P '"$sh_pid"' -x sleep)" ]' || fail "no sleep under sh"
sl=$(pgrep -P "$sh_pid" -x sleep)
track_pid "$sl"
expect_refused noinit "$sl" "whose init is not in the tree: not supported"

# a root two levels down
start_workload "$T_DIR/deep.log" unshare --pid --fork unshare --pid --fork sleep 600
u=$WL_PID
# u: unshare, its child (init one down) the second unshare, whose child
# (init two down) runs sleep
wait_for 20 eval '[ -n "$(pgrep -x sleep -P "$(pgrep -P '"$u"')")" ]' ||
	fail "no sleep two namespaces down"
deep=$(pgrep -x sleep -P "$(pgrep -P "$u")")
track_pid "$deep"
expect_refused deep "$deep" "the root is in a pid namespace 2 levels below ours"

# unshare(CLONE_NEWPID) with no process in the new namespace yet
start_workload "$T_DIR/empty.log" unshare --pid sleep 600
track_pid "$WL_PID"
wait_for 20 eval '[ "$(readlink /proc/'"$WL_PID"'/exe)" != "$(command -v unshare)" ]' ||
	fail "unshare did not exec sleep"
expect_refused empty "$WL_PID" "unshared a pid namespace in which no process was created yet"
pass
