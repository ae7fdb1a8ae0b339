#!/bin/bash
# SPDX-License-Identifier: MIT
# e2e-lane: isolated (its own namespaces or files only: runs beside the shared lane)
#
# Processes checkpointed in the middle of a blocking call, each of which
# must go on waiting after the restore and complete once what it waits for
# happens: accept() on a listening unix socket, read() on a socket pair,
# write() into a full pipe, fcntl(F_SETLKW) on a record the parent holds,
# flock(LOCK_EX) on a file the parent holds, and epoll_wait() on an
# eventfd.  The parent, told to go on, releases each in turn and checks
# what every child got.
. "$(dirname "$0")/lib.sh"

PY=$(python_bin)
[ -x "$PY" ] || fail "python3 not found"

read -r -d '' BLOCKED <<'EOS'
import fcntl, os, select, signal, socket, struct, sys, time

d = sys.argv[1]
kids = {}

def child(name, fn):
    pid = os.fork()
    if pid == 0:
        try:
            ok = fn()
        except Exception as e:
            print("child %s: %r" % (name, e), flush=True)
            ok = False
        os._exit(0 if ok else 1)
    kids[pid] = name

# accept()
lsn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
lsn.bind(d + "/listen.sock")
lsn.listen(4)
def do_accept():
    c, _ = lsn.accept()
    return c.recv(16) == b"knock"
child("accept", do_accept)

# read() on a socket pair
sa, sb = socket.socketpair()
child("read", lambda: sb.recv(16) == b"wake")

# write() into a full pipe: 4096 + 10000 bytes, the pipe holds 4096
pr, pw = os.pipe()
fcntl.fcntl(pw, 1031, 4096)                 # F_SETPIPE_SZ
def do_write():
    # a write interrupted after a part (by the freeze, as by any signal)
    # returns that part: the rest is written again
    buf = b"a" * 4096 + b"b" * 10000
    while buf:
        buf = buf[os.write(pw, buf):]
    return True
child("write", do_write)

# fcntl(F_SETLKW) and flock(LOCK_EX) on what the parent holds
lf = os.open(d + "/lockfile", os.O_RDWR | os.O_CREAT, 0o600)
os.write(lf, b"0123456789")
fcntl.lockf(lf, fcntl.LOCK_EX, 5, 0)
ff = os.open(d + "/flockfile", os.O_RDWR | os.O_CREAT, 0o600)
fcntl.flock(ff, fcntl.LOCK_EX)
def do_lockf():
    fd = os.open(d + "/lockfile", os.O_RDWR)
    fcntl.lockf(fd, fcntl.LOCK_EX, 5, 0)
    return True
child("lockf", do_lockf)
def do_flock():
    fd = os.open(d + "/flockfile", os.O_RDWR)
    fcntl.flock(fd, fcntl.LOCK_EX)
    return True
child("flock", do_flock)

# epoll_wait() on an eventfd
efd = os.eventfd(0)
def do_epoll():
    ep = select.epoll()
    ep.register(efd, select.EPOLLIN)
    ev = ep.poll()
    return ev == [(efd, select.EPOLLIN)] and os.eventfd_read(efd) == 7
child("epoll", do_epoll)

time.sleep(0.5)                              # every child blocks
ready_then_wait()

c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
c.connect(d + "/listen.sock")
c.send(b"knock")
sa.send(b"wake")
got = b""
while len(got) < 14096:
    got += os.read(pr, 65536)
fcntl.lockf(lf, fcntl.LOCK_UN, 5, 0)
fcntl.flock(ff, fcntl.LOCK_UN)
os.eventfd_write(efd, 7)

bad = []
if got != b"a" * 4096 + b"b" * 10000:
    bad.append("pipe bytes (%d)" % len(got))
signal.alarm(20)
for _ in range(len(kids)):
    pid, st = os.wait()
    if st != 0:
        bad.append(kids[pid])
print("%s blocked: %s" % ("FAIL" if bad else "PASS",
                          ", ".join(bad) if bad else "6 waits completed"),
      flush=True)
sys.exit(1 if bad else 0)
EOS

crfs_mount
mkdir -p "$T_DIR/work"
printf '%s\n%s\n' "$PY_LIB" "$BLOCKED" >"$T_DIR/blocked.py"
log=$T_DIR/blocked.log
start_workload "$log" "$PY" -c "$SUBREAPER_PY" "$log" "$PY" "$T_DIR/blocked.py" "$T_DIR/work"
wrapper=$WL_PID
wait_root "$log" "$wrapper"
root=$ROOT_PID
track_tree "$root"
checkpoint bl "$root" "$T_DIR/ckpt"
kill_and_reap bl "$root" "$wrapper"
restore_bg "$T_DIR/ckpt" "$root"
track_tree "$root"
kill -USR1 "$root" || fail "cannot signal restored root $root"
expect_pass "$log" "$RESTORE_PID" 40
pass
