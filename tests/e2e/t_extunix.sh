#!/bin/bash
# SPDX-License-Identifier: MIT
# e2e-lane: isolated (its own namespaces or files only: runs beside the shared lane)
#
# Unix sockets whose peer is outside the container (a syslog-like datagram
# server and a stream server, both run by the test, never checkpointed).
# Without a declaration the checkpoint is refused, naming the way out;
# after "external unix" in ctl it goes through, and the restored process
# is connected to the same servers again by name: what it sends arrives.
. "$(dirname "$0")/lib.sh"

PY=$(python_bin)
[ -x "$PY" ] || fail "python3 not found"

read -r -d '' SERVER <<'EOS'
import os, select, socket, sys
d = sys.argv[1]
dg = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
dg.bind(d + "/dg.sock")
ls = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
ls.bind(d + "/st.sock")
ls.listen(8)
out = open(d + "/got.txt", "a", buffering=1)
print("READY", flush=True)
conns = []
while True:
    r, _, _ = select.select([dg, ls] + conns, [], [])
    for s in r:
        if s is ls:
            conns.append(ls.accept()[0])
            continue
        m = s.recv(4096)
        if not m and s is not dg:
            conns.remove(s)
            continue
        out.write(m.decode() + "\n")
EOS

read -r -d '' CLIENT <<'EOS'
import os, signal, socket, sys, time
d = sys.argv[1]
go = []
signal.signal(signal.SIGUSR1, lambda s, f: go.append(1))
dg = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
dg.connect(d + "/dg.sock")
st = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
st.connect(d + "/st.sock")
dg.send(b"before-dgram")
st.send(b"before-stream")
print("READY", flush=True)
while not go:
    time.sleep(0.02)
dg.send(b"after-dgram")
st.send(b"after-stream")
time.sleep(0.2)
print("PASS extunix.sent", flush=True)
EOS

crfs_mount
start_workload "$T_DIR/server.log" "$PY" -c "$SERVER" "$T_DIR"
server=$WL_PID
wait_ready "$T_DIR/server.log" "$server"
start_workload "$T_DIR/client.log" setsid "$PY" -c "$CLIENT" "$T_DIR"
pid=$WL_PID
wait_ready "$T_DIR/client.log" "$pid"

cr_attach ex "$pid"
cr_freeze ex
ctl_read ex | grep -q "write 'external unix' to ctl" ||
	fail "ctl does not say how to declare the peer external: $(ctl_read ex | tr '\n' '|')"
cr_thaw ex
timeout "$T_CTL_TIMEOUT" rmdir "$MNT/ex" || fail "rmdir ex"

cr_attach ex2 "$pid"
ctl_write ex2 "external unix" || fail "echo external unix > ctl failed"
ctl_read ex2 | grep -qx "external unix" || fail "ctl does not show 'external unix'"
cr_freeze ex2
cr_copy ex2 "$T_DIR/ckpt"
grep -q ' unix .*external=1 .*peername=' "$T_DIR/ckpt/files" ||
	fail "no external socket in files: $(grep unix "$T_DIR/ckpt/files" | tr '\n' '|')"
kill_and_reap ex2 "$pid"
restore_bg "$T_DIR/ckpt" "$pid"
kill -USR1 "$pid" || fail "cannot signal restored $pid"
expect_pass "$T_DIR/client.log" "$RESTORE_PID" 30
for m in before-dgram before-stream after-dgram after-stream; do
	grep -qx "$m" "$T_DIR/got.txt" ||
		fail "the outside server never got '$m': $(tr '\n' '|' <"$T_DIR/got.txt")"
done
pass
