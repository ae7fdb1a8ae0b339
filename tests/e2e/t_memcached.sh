#!/bin/bash
# SPDX-License-Identifier: MIT
# e2e-lane: isolated (its own namespaces or files only: runs beside the shared lane)
#
# A real multi-threaded server: memcached with 4 worker threads (libevent:
# an epoll and a notify pipe or eventfd per thread) on a unix socket, its
# client in the same tree.  At the checkpoint 500 items are stored and one
# connection is in the middle of a "set" (header and half the value
# sent).  After kill and restore the same server (same pid) finishes
# that set when the rest arrives, returns every item, and exits on
# SIGTERM with status 0.
. "$(dirname "$0")/lib.sh"

command -v memcached >/dev/null || { note "memcached not found: skipped"; pass; }
PY=$(python_bin)
[ -x "$PY" ] || fail "python3 not found"

read -r -d '' DRIVER <<'EOS'
import os, sys
d = sys.argv[1]
path = d + "/mc.sock"
srv = spawn(["memcached", "-u", "root", "-s", path, "-t", "4", "-m", "64"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
conn = lambda: connect_unix(path)

def ask(s, req, end):
    s.sendall(req)
    got = b""
    while not got.endswith(end):
        got += s.recv(65536)
    return got

c = conn()
for i in range(500):
    v = b"value-%d" % (i * 13)
    assert ask(c, b"set k%d 0 0 %d\r\n%s\r\n" % (i, len(v), v), b"\r\n") == b"STORED\r\n"
pid = ask(c, b"stats\r\n", b"END\r\n").split(b"STAT pid ")[1].split(b"\r\n")[0]
half = conn()
half.sendall(b"set midway 0 0 9\r\nfirst")
time.sleep(0.3)
ready_then_wait()

fails = []
if ask(c, b"stats\r\n", b"END\r\n").split(b"STAT pid ")[1].split(b"\r\n")[0] != pid:
    fails.append("server pid changed")
if ask(half, b"half\r\n", b"\r\n") != b"STORED\r\n":
    fails.append("the set begun before the checkpoint was not finished")
if ask(c, b"get midway\r\n", b"END\r\n") != b"VALUE midway 0 9\r\nfirsthalf\r\nEND\r\n":
    fails.append("the item set across the checkpoint reads wrong")
for i in range(0, 500, 7):
    v = b"value-%d" % (i * 13)
    if ask(c, b"get k%d\r\n" % i, b"END\r\n") != b"VALUE k%d 0 %d\r\n%s\r\nEND\r\n" % (i, len(v), v):
        fails.append("item k%d lost" % i)
        break
srv.terminate()
if srv.wait(10) != 0:
    fails.append("memcached exited with %d" % srv.returncode)
print(("FAIL memcached: " + "; ".join(fails)) if fails else
      "PASS memcached: items, a set across the checkpoint and a clean exit", flush=True)
sys.exit(1 if fails else 0)
EOS

crfs_mount
log=$T_DIR/driver.log
start_workload "$log" "$PY" -c "$SUBREAPER_PY" "$log" "$PY" -c "$PY_LIB
$DRIVER" "$T_DIR"
wrapper=$WL_PID
wait_root "$log" "$wrapper"
root=$ROOT_PID
track_tree "$root"
checkpoint mc "$root" "$T_DIR/ckpt"
kill_and_reap mc "$root" "$wrapper"
restore_bg "$T_DIR/ckpt" "$root"
track_tree "$root"
kill -USR1 "$root" || fail "cannot signal restored root $root"
expect_pass "$log" "$RESTORE_PID" 30
pass
