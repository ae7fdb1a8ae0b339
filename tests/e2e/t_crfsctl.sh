#!/bin/bash
# SPDX-License-Identifier: MIT
# e2e-lane: shared net (the host's network namespace)
#
# crfsctl as the README shows it: run starts and attaches a process,
# status reports it, checkpoint --leave-running copies it and lets it go
# on, checkpoint (by pid) copies and kills it, restore -d brings it back
# with its pid, and the process then checks itself.  A checkpoint that
# cannot be taken (a connection its listener has not accepted) fails, says why, removes its copy and
# leaves the process running.
. "$(dirname "$0")/lib.sh"

CTL=$CRFS_BIN/crfsctl
[ -x "$CTL" ] || fail "no crfsctl at $CTL"
crfs_mount
export CRFS_MNT=$MNT PATH=$CRFS_BIN:$PATH

log=$T_DIR/pause.log
: >"$log"
_logs+=("$log")
pid=$(close_fds; "$CTL" run job -- sh -c "exec '$CRFS_TESTS/wl_pause' pause 8 >'$log' 2>&1") ||
	fail "crfsctl run failed"
[[ $pid =~ ^[0-9]+$ ]] || fail "crfsctl run printed '$pid', not a pid"
track_pid "$pid"
wait_ready "$log" "$pid"
wait_sleeping "$pid"
[ "$("$CTL" status job | head -n 1)" = running ] ||
	fail "crfsctl status job: $("$CTL" status job | tr '\n' '|')"
"$CTL" status | grep -qx "job	running" ||
	fail "crfsctl status lists: $("$CTL" status | tr '\n' '|')"

"$CTL" checkpoint --leave-running job "$T_DIR/ck1" 2>>"$T_DIR/ctl.err" ||
	fail "crfsctl checkpoint --leave-running failed: $(tail -n 2 "$T_DIR/ctl.err")"
[ -f "$T_DIR/ck1/image" ] && ! [ -e "$T_DIR/ck1/ctl" ] ||
	fail "the copy lacks image or still has ctl"
[ "$(proc_state "$pid")" = S ] || fail "pid $pid is '$(proc_state "$pid")' after --leave-running"

"$CTL" checkpoint "$pid" "$T_DIR/ck2" 2>>"$T_DIR/ctl.err" ||
	fail "crfsctl checkpoint PID failed: $(tail -n 2 "$T_DIR/ctl.err")"
wait_gone "$pid" 20 || fail "pid $pid still there after checkpoint without --leave-running"

out=$(timeout "$T_RESTORE_TIMEOUT" "$CTL" restore -d "$T_DIR/ck2" 2>"$T_DIR/restore.err") ||
	fail "crfsctl restore -d failed: $(tail -n 3 "$T_DIR/restore.err")"
[ "$(echo "$out" | tail -n 1)" = "$pid" ] || fail "crfsctl restore -d printed '$out', want $pid"
track_pid "$pid"
kill -USR1 "$pid" || fail "cannot signal restored pid $pid"
expect_pass "$log" "$pid" 30

# a checkpoint that cannot be taken
PY=$(python_bin)
start_workload "$T_DIR/inet.log" "$PY" -c '
import socket, time
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen()
c = socket.create_connection(s.getsockname())    # never accepted
c.sendall(b"x")                                   # with data sent on it
print("READY", flush=True)
time.sleep(600)'
ipid=$WL_PID
wait_ready "$T_DIR/inet.log" "$ipid"
"$CTL" checkpoint "$ipid" "$T_DIR/ck3" 2>"$T_DIR/inet.err" &&
	fail "crfsctl checkpoint of a process with a connection not accepted succeeded"
grep -q "data sent on a connection not yet accepted" "$T_DIR/inet.err" || fail "the refusal does not name the connection: $(tr '\n' '|' <"$T_DIR/inet.err")"
[ -e "$T_DIR/ck3" ] && fail "the failed checkpoint left $T_DIR/ck3"
[ "$(proc_state "$ipid")" = S ] || fail "pid $ipid is '$(proc_state "$ipid")' after a failed checkpoint"
pass
