#!/bin/bash
# SPDX-License-Identifier: MIT
# e2e-lane: isolated (its own namespaces or files only: runs beside the shared lane)
#
# Concurrency: three containers frozen and copied at the same time; two
# readers copying one container at once (the copies are identical, and
# each restores to a process that passes its checks); ctl commands racing
# a copy (thaw, freeze, rmdir, kill while cp -a reads): the copy either
# completes or fails, the command takes effect, nothing hangs, the daemon
# lives on.  Every wl_pause checks its memory and signal state at the end.
. "$(dirname "$0")/lib.sh"

crfs_mount
declare -a P
for i in 1 2 3; do
	start_workload "$T_DIR/wl$i.log" "$CRFS_TESTS/wl_pause" pause 8
	P[$i]=$WL_PID
done
for i in 1 2 3; do
	wait_ready "$T_DIR/wl$i.log" "${P[$i]}" 30
	wait_sleeping "${P[$i]}"
	cr_attach "c$i" "${P[$i]}"
done

# 1. frozen at once, copied at once
for i in 1 2 3; do
	ctl_write "c$i" freeze &
	FR[$i]=$!
done
for i in 1 2 3; do
	wait "${FR[$i]}" || fail "concurrent freeze of c$i failed"
done
for i in 1 2 3; do
	expect_state "c$i" frozen 1
done
for i in 1 2 3; do
	timeout -k 5 "$T_COPY_TIMEOUT" cp -a "$MNT/c$i" "$T_DIR/all$i" 2>>"$T_DIR/cp.err" &
	CP[$i]=$!
done
for i in 1 2 3; do
	wait "${CP[$i]}" || fail "concurrent copy of c$i failed"
	check_image "$T_DIR/all$i" "${P[$i]}"
done

# 2. two readers of one container
timeout -k 5 "$T_COPY_TIMEOUT" cp -a "$MNT/c1" "$T_DIR/x" 2>>"$T_DIR/cp.err" &
A=$!
timeout -k 5 "$T_COPY_TIMEOUT" cp -a "$MNT/c1" "$T_DIR/y" 2>>"$T_DIR/cp.err" &
B=$!
wait "$A" || fail "first of two readers failed"
wait "$B" || fail "second of two readers failed"
diff -r "$T_DIR/x" "$T_DIR/y" >"$T_DIR/xy.diff" ||
	fail "two copies of one freeze differ: $(head -n 3 "$T_DIR/xy.diff" | tr '\n' '|')"
cp "$T_DIR/wl1.log" "$T_DIR/wl1.ckpt.log"

# 3. ctl racing a copy.  A copy that completed was read before the
# command (the daemon serves one request at a time); one that failed got
# an error, never wrong bytes silently.
ok=0 failed=0
race() {	# race NAME CMD...: cp -a NAME while CMD runs
	local name=$1 rc
	shift
	timeout -k 5 "$T_COPY_TIMEOUT" cp -a "$MNT/$name" "$T_DIR/race" 2>>"$T_DIR/race.err" &
	local c=$!
	"$@"
	wait "$c"
	rc=$?
	[ "$rc" = 124 ] || [ "$rc" = 137 ] && fail "cp -a of $name hung racing '$*'"
	if [ "$rc" = 0 ]; then ok=$((ok + 1)); else failed=$((failed + 1)); fi
	rm -rf "$T_DIR/race"
}
for n in 1 2 3 4 5; do
	race c2 ctl_write c2 thaw || true
	expect_state c2 running
	task_released "${P[2]}" || fail "c2 not running after a thaw that raced a copy"
	cr_freeze c2
	race c2 ctl_write c2 freeze
	expect_state c2 frozen
done
race c2 timeout "$T_CTL_TIMEOUT" rmdir "$MNT/c2"
[ -e "$MNT/c2" ] && fail "c2 still there after an rmdir that raced a copy"
wait_for 5 task_released "${P[2]}" || fail "c2's process not running after rmdir"
race c3 ctl_write c3 kill
expect_state c3 dead
wait_exit "${P[3]}" 20 || fail "c3's process not dead after a kill that raced a copy"
note "copies racing a command: $ok completed, $failed failed"
timeout "$T_CTL_TIMEOUT" rmdir "$MNT/c3" || fail "rmdir c3 failed"
proc_alive "$(daemon_pid)" || fail "the daemon died"

kill -USR1 "${P[2]}" || fail "cannot signal ${P[2]}"
expect_pass "$T_DIR/wl2.log" "${P[2]}" 30

# both copies of c1 restore
kill_and_reap c1 "${P[1]}"
for d in x y; do
	cp "$T_DIR/wl1.ckpt.log" "$T_DIR/wl1.log"
	restore_bg "$T_DIR/$d" "${P[1]}"
	kill -USR1 "${P[1]}" || fail "cannot signal restored ${P[1]}"
	expect_pass "$T_DIR/wl1.log" "$RESTORE_PID" 30
done
pass
