#!/bin/bash
# SPDX-License-Identifier: MIT
# e2e-lane: shared net (the host's network namespace)
#
# The daemon SIGKILLed while it holds a container frozen, then while a
# copy reads it: within a second every process of the tree runs on (not
# stopped, not traced), its TCP connection is out of repair mode and no
# longer locked (the watchdog forked at mount), the reader gets an error,
# and a new daemon mounts cleanly at the same mount point (it detaches
# the dead mount).  Finally the tree is checkpointed, killed and restored,
# and wl_daemonkill checks its memory, its child and its connection.
# Its own network namespace: the lock table is no one else's business.
if [ -z "${CRFS_T_OWN_NET:-}" ]; then
	CRFS_T_OWN_NET=1 exec unshare --net "$0" "$@"
fi
. "$(dirname "$0")/lib.sh"
ip link set lo up || fail "cannot bring lo up"
command -v nft >/dev/null || fail "nft (nftables) not found"

locked() {
	nft list table inet crfs_tcp_lock 2>/dev/null | grep -Eq "\. $PORT([ ,]|\$)"
}

# every process of the tree: not stopped, not traced (bash builtins
# only, so that a poll costs little on a loaded machine)
tree_released() {
	local p k v st tr
	for p in "$PID" "$KID"; do
		st= tr=
		while read -r k v; do
			case $k in
			State:) st=${v%% *} ;;
			TracerPid:) tr=$v ;;
			esac
		done <"/proc/$p/status" || return 1
		case $st in '' | t | T | Z | X) return 1 ;; esac
		[ "$tr" = 0 ] || return 1
	done
}

# within_ms MS CMD...: CMD succeeds within MS milliseconds of now
# (wait_for counts whole seconds of $SECONDS: too coarse for one second)
within_ms() {
	local ms=$1 t0
	shift
	t0=${EPOCHREALTIME/./}
	until "$@"; do
		[ $(((${EPOCHREALTIME/./} - t0) / 1000)) -ge "$ms" ] && return 1
		sleep 0.02
	done
	RELEASED_MS=$(((${EPOCHREALTIME/./} - t0) / 1000))
}

# kill_daemon WHAT: SIGKILL the daemon; the tree goes on within a second
kill_daemon() {
	local d
	d=$(daemon_pid)
	[ -n "$d" ] || fail "no daemon pid known"
	kill -KILL "$d" || fail "cannot kill daemon $d"
	within_ms 1000 tree_released ||
		fail "$1: tree not released 1 s after the daemon's death: $(for p in "$PID" "$KID"; do grep -E '^(State|TracerPid)' /proc/$p/status | tr '\n' ' '; done)"
	note "$1: tree released ${RELEASED_MS} ms after the daemon's SIGKILL"
	wait_for 5 eval '! locked' ||
		fail "$1: connection still locked 5 s after the daemon's death: $(nft list table inet crfs_tcp_lock | tr '\n' ' ')"
}

# a new daemon at the same mount point, over the dead mount
remount() {
	note "before remount: $(grep -c " $MNT " /proc/self/mountinfo) mounts; stat: $(stat -c %i "$MNT" 2>&1); daemon $(daemon_pid) $(proc_state "$(daemon_pid)")"
	crfs_mount
	grep -q 'detached the mount of a daemon that died' "$T_DIR/crfs.err" ||
		fail "new daemon did not say it detached the dead mount: $(cat "$T_DIR/crfs.err")"
	[ -z "$(timeout 5 ls -A "$MNT")" ] || fail "new mount is not empty"
}

crfs_mount
LOG=$T_DIR/wl.log
start_workload "$LOG" "$CRFS_TESTS/wl_daemonkill" 16
PID=$WL_PID
wait_ready "$LOG" "$PID" 30
PORT=$(sed -n 's/^PORT //p' "$LOG")
KID=$(pgrep -P "$PID")
track_pid "$KID"

# 1. killed while frozen
cr_attach c "$PID"
cr_freeze c
locked || fail "connection not locked while frozen"
tree_released && fail "tree not traced while frozen"
kill_daemon frozen
remount

# 2. killed while a copy reads: one reader mid-file, one cp -a
cr_attach c "$PID"
cr_freeze c
exec 7<"$MNT/c/$PID/pages" || fail "cannot open pages"
dd bs=64k count=1 <&7 >/dev/null 2>&1 || fail "first read of pages failed"
timeout 60 cp -a "$MNT/c" "$T_DIR/partial" 2>"$T_DIR/cp-partial.err" &
CP=$!
wait_for 10 eval '[ -e "$T_DIR/partial" ] || ! kill -0 $CP 2>/dev/null'
kill_daemon copying
dd bs=64k <&7 >/dev/null 2>"$T_DIR/dd.err" &&
	fail "a read of pages after the daemon's death succeeded"
note "reader after the daemon's death: $(tr '\n' ' ' <"$T_DIR/dd.err")"
exec 7<&-
wait_exit "$CP" 30 || fail "cp still running 30 s after the daemon's death"
note "cp -a exited with $EXIT_STATUS: $(tail -n 1 "$T_DIR/cp-partial.err")"
remount

# 3. the tree is whole: checkpoint, kill, restore, verify
checkpoint c "$PID" "$T_DIR/ckpt"
kill_and_reap c "$PID"
restore_bg "$T_DIR/ckpt" "$PID"
kill -USR1 "$PID" || fail "cannot signal restored pid $PID"
expect_pass "$LOG" "$RESTORE_PID" 60
locked && fail "connection locked after the restore"
pass
