#!/bin/bash
# SPDX-License-Identifier: MIT
# e2e-lane: isolated (its own namespaces or files only: runs beside the shared lane)
#
# A listener's path at restore time: while a live socket outside holds
# it, the restore is refused by name and that socket's file is left alone;
# once only a stale file is left there, the restore replaces it and the
# restored listener takes connections again.
. "$(dirname "$0")/lib.sh"

PY=$(python_bin)
[ -x "$PY" ] || fail "python3 not found"

read -r -d '' LISTENER <<'EOS'
import sys
p = sys.argv[1]
ls = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
ls.bind(p)
ls.listen(4)
ready_then_wait()
c = connect_unix(p)
a, _ = ls.accept()
c.send(b"ping")
print("PASS unixtaken" if a.recv(8) == b"ping" else "FAIL unixtaken", flush=True)
EOS

read -r -d '' OUTSIDE <<'EOS'
import os, socket, sys, time
p = sys.argv[1]
os.unlink(p)                 # the stale file the killed process left
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(p)
s.listen(4)
print("READY", flush=True)
while True:
    s.accept()[0].close()
EOS

crfs_mount
sock=$T_DIR/srv.sock
log=$T_DIR/listener.log
start_workload "$log" setsid "$PY" -c "$PY_LIB
$LISTENER" "$sock"
pid=$WL_PID
wait_ready "$log" "$pid"
checkpoint ut "$pid" "$T_DIR/ckpt"
kill_and_reap ut "$pid"

start_workload "$T_DIR/outside.log" "$PY" -c "$OUTSIDE" "$sock"
outside=$WL_PID
wait_ready "$T_DIR/outside.log" "$outside"
timeout "$T_RESTORE_TIMEOUT" "$CRFS_BIN/crfs-restore" -d "$T_DIR/ckpt" \
	</dev/null >"$T_DIR/r1.out" 2>"$T_DIR/r1.err" &&
	fail "restore went through while a live socket holds $sock"
grep -q "$sock is taken by a live socket" "$T_DIR/r1.err" ||
	fail "the refusal does not say so: $(tr '\n' '|' <"$T_DIR/r1.err")"
proc_alive "$pid" && fail "the refused restore left pid $pid behind"
"$PY" -c 'import socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])' "$sock" ||
	fail "the outside socket no longer takes connections"

kill "$outside"
wait_exit "$outside" 10 || fail "outside server $outside did not exit"
[ -S "$sock" ] || fail "no stale socket file left to replace"
restore_bg "$T_DIR/ckpt" "$pid"
kill -USR1 "$pid" || fail "cannot signal restored pid $pid"
expect_pass "$log" "$RESTORE_PID" 30
pass
