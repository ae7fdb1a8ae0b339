#!/bin/bash
# SPDX-License-Identifier: MIT
#
# A real server: redis-server (epoll loop, background threads, a unix
# listener) with its clients in the same tree.  Before the checkpoint: a
# thousand keys, one connection inside a MULTI with a command queued, one
# blocked in BLPOP on an empty list.  After kill and restore the same
# server (same pid, same connections) answers: the keys are there, EXEC
# runs the queued command, an RPUSH from a new connection wakes the
# BLPOP, and the server shuts down cleanly.
. "$(dirname "$0")/lib.sh"

command -v redis-server >/dev/null || { note "redis-server not found: skipped"; pass; }
PY=$(python_bin)
[ -x "$PY" ] || fail "python3 not found"

read -r -d '' DRIVER <<'EOS'
import os, sys
d = sys.argv[1]
path = d + "/redis.sock"
srv = spawn(["redis-server", "--port", "0", "--unixsocket", path, "--save",
             "", "--appendonly", "no", "--dir", d],
            stdout=open(d + "/server.log", "w"), stderr=subprocess.STDOUT)

def conn():
    return connect_unix(path).makefile("rwb", buffering=0)

def cmd(f, *args):
    f.write(b"*%d\r\n" % len(args) + b"".join(
        b"$%d\r\n%s\r\n" % (len(a), a) for a in (x.encode() for x in args)))

def reply(f):
    line = f.readline()
    t, rest = line[:1], line[1:-2]
    if t in b"+-:":
        return rest.decode()
    if t == b"$":
        n = int(rest)
        return None if n < 0 else f.read(n + 2)[:-2].decode()
    if t == b"*":
        n = int(rest)
        return None if n < 0 else [reply(f) for _ in range(n)]
    raise RuntimeError("bad reply %r" % line)

def call(f, *args):
    cmd(f, *args)
    return reply(f)

c = conn()
for i in range(1000):
    cmd(c, "SET", "key%d" % i, "value%d" % (i * 7))
assert all(reply(c) == "OK" for _ in range(1000))
pid = call(c, "INFO", "server").split("process_id:")[1].split()[0]
tx = conn()
assert call(tx, "MULTI") == "OK" and call(tx, "INCRBY", "counter", "42") == "QUEUED"
blk = conn()
cmd(blk, "BLPOP", "queue", "0")          # blocks: nothing read yet
time.sleep(0.3)
ready_then_wait()

fails = []
if call(c, "INFO", "server").split("process_id:")[1].split()[0] != pid:
    fails.append("server pid changed")
bad = [i for i in range(0, 1000, 37) if call(c, "GET", "key%d" % i) != "value%d" % (i * 7)]
if bad or call(c, "DBSIZE") != "1000":
    fails.append("keys lost: %r" % bad[:5])
if call(tx, "EXEC") != ["42"]:
    fails.append("the queued transaction is lost")
if call(conn(), "RPUSH", "queue", "job") != "1" or reply(blk) != ["queue", "job"]:
    fails.append("the blocked BLPOP did not get the pushed job")
cmd(c, "SHUTDOWN", "NOSAVE")
if srv.wait(10) != 0:
    fails.append("redis exited with %d" % srv.returncode)
print(("FAIL redis: " + "; ".join(fails)) if fails else
      "PASS redis: keys, MULTI, blocked BLPOP and shutdown after restore", flush=True)
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
checkpoint rd "$root" "$T_DIR/ckpt"
[ "$(grep -c ' unix ' "$T_DIR/ckpt/files")" -ge 7 ] ||
	fail "expected the listener and three connections, both ends: $(grep -c ' unix ' "$T_DIR/ckpt/files")"
kill_and_reap rd "$root" "$wrapper"
restore_bg "$T_DIR/ckpt" "$root"
track_tree "$root"
kill -USR1 "$root" || fail "cannot signal restored root $root"
expect_pass "$log" "$RESTORE_PID" 30
pass
