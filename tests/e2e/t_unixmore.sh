#!/bin/bash
# SPDX-License-Identifier: MIT
# e2e-lane: isolated (its own namespaces or files only: runs beside the shared lane)
#
# wl_unixmore: unix sockets bound to relative names (getsockname and a
# peer's getpeername give the relative name again), sockets never bound
# nor connected, one shut down, one bound in a directory removed since,
# and a datagram server with interleaved messages from several connected
# senders (each recvfrom names its sender, replies reach it).  Checked
# after freeze and thaw, then after kill and restore.  A socket bound to
# a relative name from a directory its binder left is refused by name,
# and so is one connected to an outside server's relative name.
. "$(dirname "$0")/lib.sh"

crfs_mount
log=$T_DIR/unixmore.log
mkdir -p "$T_DIR/work"
start_workload "$log" "$CRFS_TESTS/wl_unixmore" "$T_DIR/work"
pid=$WL_PID
wait_ready "$log" "$pid"
cr_attach um "$pid"
cr_freeze um
cr_thaw um
kill -USR1 "$pid" || fail "cannot signal $pid"
wait_line "$log" '^CHECKED 1$' 20 "$pid"
cr_freeze um
cr_copy um "$T_DIR/ckpt"
grep -q 'bindname=sub/rel.sock' "$T_DIR/ckpt/files" ||
	fail "files has no bindname=sub/rel.sock"
kill_and_reap um "$pid"
restore_bg "$T_DIR/ckpt" "$pid"
kill -USR1 "$pid" || fail "cannot signal restored pid $pid"
expect_pass "$log" "$RESTORE_PID" 30

read -r -d '' MOVED <<'EOS'
import os, socket, sys
os.setsid()
os.chdir(sys.argv[1])
os.mkdir("away")
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind("moved.sock")
os.chdir("away")
ready_then_wait()
os.chdir("..")
s.sendto(b"x", "moved.sock")
ok = s.recv(1) == b"x" and s.getsockname() == "moved.sock"
print("PASS moved" if ok else "FAIL moved: no datagram to itself", flush=True)
sys.exit(0 if ok else 1)
EOS
PY=$(python_bin)
[ -x "$PY" ] || fail "python3 not found"
mkdir -p "$T_DIR/moved"
mlog=$T_DIR/moved.log
start_workload "$mlog" "$PY" -c "$PY_LIB
$MOVED" "$T_DIR/moved"
mpid=$WL_PID
wait_ready "$mlog" "$mpid"
expect_refused mv "$mpid" "bound to a relative path whose socket file is in no working directory"
kill -USR1 "$mpid"
expect_pass "$mlog" "$mpid" 20

# a server outside the container, bound by a relative name
read -r -d '' OUTSIDE <<'EOS'
import os, socket, sys
os.chdir(sys.argv[1])
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind("srv.sock")
s.listen(1)
c, _ = s.accept()
c.recv(1)
EOS
read -r -d '' CLIENT <<'EOS'
import os, sys
os.setsid()
c = connect_unix(sys.argv[1] + "/srv.sock")
ready_then_wait()
c.send(b"x")
print("PASS client", flush=True)
EOS
start_workload "$T_DIR/outside.log" "$PY" -c "$OUTSIDE" "$T_DIR/moved"
start_workload "$T_DIR/client.log" "$PY" -c "$PY_LIB
$CLIENT" "$T_DIR/moved"
cpid=$WL_PID
wait_ready "$T_DIR/client.log" "$cpid"
expect_refused ext "$cpid" "connected to a socket outside the container bound to a relative path" "external unix"
kill -USR1 "$cpid"
expect_pass "$T_DIR/client.log" "$cpid" 20
pass
