#!/bin/bash
# SPDX-License-Identifier: MIT
# e2e-lane: shared net (the host's network namespace)
#
# crfs-restore SIGKILLed half-way: at each step CRFS_RESTORE_PAUSE names
# (loaded, spawned, stopped, state), then after random delays.  Every
# task it had made dies with it (they are traced with PTRACE_O_EXITKILL
# until let go): none of the image's pids is left, not even a zombie (a
# subreaper, wl_subreaper, stands in for the init that would reap them
# lazily).  A tree let go before the kill must be whole: it runs its
# checks and ends.  Finally a restore runs to the end and
# wl_daemonkill checks its tree, memory and TCP connection.
# Its own network namespace: the lock table is no one else's business.
if [ -z "${CRFS_T_OWN_NET:-}" ]; then
	CRFS_T_OWN_NET=1 exec unshare --net "$0" "$@"
fi
. "$(dirname "$0")/lib.sh"
ip link set lo up || fail "cannot bring lo up"
command -v nft >/dev/null || fail "nft (nftables) not found"

crfs_mount
LOG=$T_DIR/wl.log
start_workload "$LOG" "$CRFS_TESTS/wl_daemonkill" 8
PID=$WL_PID
wait_ready "$LOG" "$PID" 30
KID=$(pgrep -P "$PID")
track_pid "$KID"
checkpoint c "$PID" "$T_DIR/ckpt"
cp "$LOG" "$T_DIR/wl.ckpt.log"
kill_and_reap c "$PID"
wait_gone "$KID" 10 || fail "child $KID still there after the kill"

# start_restore [STEP]: crfs-restore under a subreaper; sets SUB, RST
start_restore() {
	local step=${1:-}
	: >"$T_DIR/rk.err"
	[ "$step" = random ] && step=
	CRFS_RESTORE_PAUSE=$step "$CRFS_TESTS/wl_subreaper" \
		"$CRFS_BIN/crfs-restore" "$T_DIR/ckpt" \
		</dev/null >/dev/null 2>"$T_DIR/rk.err" &
	SUB=$!
	track_pid "$SUB"
	# a random moment from its start (no synchronisation: a fault)
	[ "${1:-}" = random ] && sleep "$(printf "0.%03d" $((RANDOM % 30)))"
	wait_for 10 eval '[ -n "$(pgrep -P $SUB)" ] || ! proc_alive $SUB' ||
		fail "no crfs-restore under the subreaper"
	RST=$(pgrep -P "$SUB")
	track_pid "$RST"
}

# kill_restore WHAT: kill crfs-restore.  Either nothing of the tree is
# left, or (it was let go before the kill) the whole tree runs, which
# then checks itself and ends.  Sets GOT_THROUGH.
kill_restore() {
	kill -KILL "$RST" 2>/dev/null
	wait_gone "$RST" 10 || fail "$1: crfs-restore not gone 10 s after SIGKILL"
	GOT_THROUGH=0
	if proc_alive "$PID"; then
		GOT_THROUGH=1
		# the tree writes at its saved offset: what it wrote before goes
		cp "$T_DIR/wl.ckpt.log" "$LOG"
		kill -USR1 "$PID"
	fi
	wait_exit "$SUB" 30 || fail "$1: the subreaper did not end 30 s after crfs-restore was killed"
	[ -e "/proc/$PID" ] && fail "$1: pid $PID ($(proc_state "$PID")) left after crfs-restore was killed"
	[ -e "/proc/$KID" ] && fail "$1: pid $KID ($(proc_state "$KID")) left after crfs-restore was killed"
	grep -q '^FAIL' "$LOG" && fail "$1: the tree that ran on failed its checks"
	[ "$GOT_THROUGH" = 0 ] ||
		[ "$(grep -c '^DONE pass=[0-9]* fail=0$' "$LOG")" = 2 ] ||
		fail "$1: the tree that ran on did not pass (root and child)"
	return 0
}

for step in loaded spawned stopped state; do
	start_restore "$step"
	wait_line "$T_DIR/rk.err" "paused at $step\$" 30 "$RST"
	kill_restore "$step"
	[ "$GOT_THROUGH" = 0 ] || fail "$step: the tree ran on"
done

# random moments; a tree let go before the kill must be whole
mid=0 done=0
for i in $(seq 10); do
	start_restore random
	kill_restore "delay $i"
	if [ "$GOT_THROUGH" = 1 ]; then
		done=$((done + 1))
	else
		mid=$((mid + 1))
	fi
done
note "random kills: $mid before the tree was let go, $done after"

cp "$T_DIR/wl.ckpt.log" "$LOG"
restore_bg "$T_DIR/ckpt" "$PID"
kill -USR1 "$PID" || fail "cannot signal restored pid $PID"
expect_pass "$LOG" "$RESTORE_PID" 60
pass
