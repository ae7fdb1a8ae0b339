#!/bin/bash
# SPDX-License-Identifier: MIT
# e2e-lane: isolated (its own namespaces or files only: runs beside the shared lane)
#
# The ctl file's states and refusals: commands that cannot work must fail
# the write itself (so `echo ... > ctl` exits non-zero) and leave the
# state as it was; freeze and thaw must leave a sleeping process exactly
# as it was; death is noticed however it happens.
. "$(dirname "$0")/lib.sh"

refuse() {	# NAME COMMAND WHY
	if ctl_write "$1" "$2"; then
		fail "'$2' on $1 succeeded ($3)"
	fi
}

# refused_as NAME COMMAND ERROR: COMMAND refused on NAME, ctl saying ERROR
refused_as() {
	refuse "$1" "$2" "$3"
	ctl_read "$1" | grep -qxF "error $3" ||
		fail "'$2' on $1: ctl says '$(ctl_read "$1" | grep '^error')', want 'error $3'"
}

# a pid nobody has: from the top of the pid space downwards
free_pid() {
	local p
	p=$(($(cat /proc/sys/kernel/pid_max) - 1))
	while [ -e "/proc/$p" ]; do
		p=$((p - 1))
	done
	echo "$p"
}

crfs_mount

# empty container: nothing to freeze, no such pid, no such command
cr_create e1
nopid=$(free_pid)
refuse e1 "attach $nopid" "no such process"
expect_state e1 empty
ctl_read e1 | grep -q '^error' || fail "no 'error' line in ctl after a refused attach"
refuse e1 "attach banana" "not a pid"
refuse e1 "attach" "no pid"
refuse e1 "frobnicate" "no such command"
# freeze, snapshot and predump stop a tree alike: refused each by name
for cmd in freeze snapshot predump; do
	refused_as e1 $cmd "$cmd: nothing attached; write 'attach PID' first"
done
expect_state e1 empty

# freeze and thaw of a process sleeping in pause(): it must not notice
log=$T_DIR/e1.log
start_workload "$log" "$CRFS_TESTS/wl_pause" pause 1
pid=$WL_PID
wait_ready "$log" "$pid"
wait_sleeping "$pid"
ctl_write e1 "attach $pid" || fail "attach $pid failed"
expect_state e1 running
ctl_read e1 | grep -qx "root $pid" || fail "ctl does not say 'root $pid'"
cr_freeze e1
ctl_write e1 freeze	# freezing twice may or may not be refused ...
expect_state e1 frozen	# ... but changes nothing
cr_thaw e1
sleep 0.3
proc_alive "$pid" || fail "process died across freeze/thaw"
grep -q '^FAIL' "$log" && fail "pause() returned across freeze/thaw: $(grep FAIL "$log")"
[ "$(proc_state "$pid")" = S ] || fail "process not sleeping after thaw ($(proc_state "$pid"))"
# ... and finishes normally: then the container is dead, and stays so
kill -USR1 "$pid"
expect_pass "$log" "$pid" 20
expect_state e1 dead
for cmd in freeze snapshot predump; do
	refused_as e1 $cmd "$cmd: process $pid is dead"
done
expect_state e1 dead
timeout "$T_CTL_TIMEOUT" rmdir "$MNT/e1" || fail "rmdir of a dead container failed"
[ -e "$MNT/e1" ] && fail "e1 still there after rmdir"

# kill through ctl
log=$T_DIR/e2.log
start_workload "$log" "$CRFS_TESTS/wl_pause" pause 1
pid=$WL_PID
wait_ready "$log" "$pid"
cr_attach e2 "$pid"
ctl_write e2 kill || fail "kill failed"
wait_exit "$pid" 20 || fail "killed process not reapable"
[ "$EXIT_STATUS" = 137 ] || fail "killed process exit status $EXIT_STATUS, want 137 (SIGKILL)"
expect_state e2 dead
timeout "$T_CTL_TIMEOUT" rmdir "$MNT/e2" || fail "rmdir e2 failed"

# killed from outside while frozen: the daemon must let go of it
log=$T_DIR/e3.log
start_workload "$log" "$CRFS_TESTS/wl_pause" pause 1
pid=$WL_PID
wait_ready "$log" "$pid"
cr_attach e3 "$pid"
cr_freeze e3
kill -KILL "$pid"
wait_exit "$pid" 20 || fail "process killed while frozen is not reapable (tracer holds it)"
expect_state e3 dead
refuse e3 freeze "the process is gone"
timeout "$T_CTL_TIMEOUT" rmdir "$MNT/e3" || fail "rmdir e3 failed"

# rmdir of a frozen container thaws it, and the process goes on
log=$T_DIR/e4.log
start_workload "$log" "$CRFS_TESTS/wl_pause" pause 1
pid=$WL_PID
wait_ready "$log" "$pid"
wait_sleeping "$pid"
cr_attach e4 "$pid"
cr_freeze e4
timeout "$T_CTL_TIMEOUT" rmdir "$MNT/e4" || fail "rmdir of a frozen container failed"
wait_sleeping "$pid"
grep -q TracerPid:.0 "/proc/$pid/status" || fail "still traced after rmdir"
kill -USR1 "$pid"
expect_pass "$log" "$pid" 20
pass
