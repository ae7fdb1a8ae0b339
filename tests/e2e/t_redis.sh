#!/bin/bash
# SPDX-License-Identifier: MIT
# e2e-lane: shared net (the host's network namespace)
#
# A real server: redis-server (epoll loop, background threads) with its
# clients in the same tree, once over a unix listener and once over TCP on
# 127.0.0.1 (both ends of each connection in the tree, restored with
# TCP_REPAIR).  Before the checkpoint: a thousand keys, one connection
# inside a MULTI with a command queued, one blocked in BLPOP on an empty
# list.  After kill and restore the same server (same pid, same
# connections) answers: the keys are there, EXEC runs the queued command,
# an RPUSH from a new connection wakes the BLPOP, and the server shuts down
# cleanly.
. "$(dirname "$0")/lib.sh"

command -v redis-server >/dev/null || { note "redis-server not found: skipped"; pass; }
PY=$(python_bin)
[ -x "$PY" ] || fail "python3 not found"

read -r -d '' DRIVER <<'EOS'
import os, sys
d, mode = sys.argv[1], sys.argv[2]
path = d + "/redis.sock"
if mode == "tcp":
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    where = ["--port", str(port), "--bind", "127.0.0.1"]
else:
    where = ["--port", "0", "--unixsocket", path]
srv = spawn(["redis-server"] + where + ["--save", "", "--appendonly", "no",
            "--dir", d],
            stdout=open(d + "/server.log", "w"), stderr=subprocess.STDOUT)

def connect_tcp():
    for _ in range(500):
        try:
            return socket.create_connection(("127.0.0.1", port))
        except OSError:
            time.sleep(0.01)
    raise RuntimeError("nobody listens on port %d" % port)

def conn():
    s = connect_tcp() if mode == "tcp" else connect_unix(path)
    return s.makefile("rwb", buffering=0)

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
print(("FAIL redis.%s: " % mode + "; ".join(fails)) if fails else
      "PASS redis.%s: keys, MULTI, blocked BLPOP and shutdown after restore" % mode,
      flush=True)
sys.exit(1 if fails else 0)
EOS

crfs_mount
for mode in unix tcp; do
	mkdir -p "$T_DIR/$mode"
	log=$T_DIR/driver-$mode.log
	start_workload "$log" "$PY" -c "$SUBREAPER_PY" "$log" "$PY" -c "$PY_LIB
$DRIVER" "$T_DIR/$mode" "$mode"
	wrapper=$WL_PID
	wait_root "$log" "$wrapper"
	root=$ROOT_PID
	track_tree "$root"
	checkpoint "rd$mode" "$root" "$T_DIR/ckpt-$mode"
	n=$(grep -c " $([ "$mode" = tcp ] && echo inet || echo unix) .*type=stream" "$T_DIR/ckpt-$mode/files")
	# the listener and three connections, both ends
	[ "$n" -ge 7 ] || fail "$mode: expected the listener and three connections, both ends: $n"
	kill_and_reap "rd$mode" "$root" "$wrapper"
	restore_bg "$T_DIR/ckpt-$mode" "$root"
	track_tree "$root"
	kill -USR1 "$root" || fail "$mode: cannot signal restored root $root"
	expect_pass "$log" "$RESTORE_PID" 30
done
pass
