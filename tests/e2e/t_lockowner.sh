#!/bin/bash
# SPDX-License-Identifier: MIT
# e2e-lane: isolated (its own namespaces or files only: runs beside the shared lane)
#
# Lock owners are exact after checkpoint, kill and restore: /proc/locks
# names the same pid for every lock.  The parent takes a flock on file a
# and a POSIX lock on b, then forks; the child inherits the descriptor of
# a (the same description), takes a flock of its own on file c through a
# descriptor it inherited, and a POSIX read lock on b through its own.  A
# flock belongs to the description but /proc/locks names who took it:
# before the fix every flock named crfs-restore.  After SIGUSR1 the parent
# checks with F_GETLK from a fresh process that the POSIX locks are owned
# by the right pids and that the flocks still exclude another description.
. "$(dirname "$0")/lib.sh"

PY=$(python_bin)
cat >"$T_DIR/w.py" <<'EOS'
import fcntl, os, signal, struct, sys, time
d = sys.argv[1]
a = os.open(d + "/a", os.O_RDWR | os.O_CREAT, 0o644)
b = os.open(d + "/b", os.O_RDWR | os.O_CREAT, 0o644)
c = os.open(d + "/c", os.O_RDWR | os.O_CREAT, 0o644)
os.write(b, b"x" * 100)
fcntl.flock(a, fcntl.LOCK_EX)
fcntl.lockf(b, fcntl.LOCK_EX, 10, 0)
kid = os.fork()
if kid == 0:
    fcntl.flock(c, fcntl.LOCK_SH)
    own = os.open(d + "/b", os.O_RDWR)
    fcntl.lockf(own, fcntl.LOCK_SH, 10, 50)
    while True:
        time.sleep(1)
go = []
signal.signal(signal.SIGUSR1, lambda s, f: go.append(1))
time.sleep(0.3)
print("READY", flush=True)
while not go:
    time.sleep(0.05)
def getlk(start):
    # from a process that holds no lock, so it sees every owner
    r, w = os.pipe()
    p = os.fork()
    if p == 0:
        fd = os.open(d + "/b", os.O_RDWR)
        fl = struct.pack("hhqqi4x", fcntl.F_WRLCK, 0, start, 1, 0)
        res = fcntl.fcntl(fd, fcntl.F_GETLK, fl)
        os.write(w, res)
        os._exit(0)
    os.close(w)
    res = os.read(r, 64)
    os.waitpid(p, 0)
    typ, _, _, _, pid = struct.unpack("hhqqi4x", res)
    return typ, pid
def flocked(name, how):
    fd = os.open(d + "/" + name, os.O_RDWR)
    try:
        fcntl.flock(fd, how | fcntl.LOCK_NB)
        return False
    except OSError:
        return True
    finally:
        os.close(fd)
checks = {
    "posix_parent": getlk(5) == (fcntl.F_WRLCK, os.getpid()),
    "posix_child": getlk(55) == (fcntl.F_RDLCK, kid),
    "flock_a": flocked("a", fcntl.LOCK_SH),
    "flock_c": flocked("c", fcntl.LOCK_EX) and not flocked("c", fcntl.LOCK_SH),
}
for k, v in checks.items():
    print("%s locks.%s" % ("PASS" if v else "FAIL", k), flush=True)
os.kill(kid, signal.SIGKILL)
os.waitpid(kid, 0)
sys.exit(0 if all(checks.values()) else 1)
EOS

# the lock lines of our three files: kind, mode, pid, range
locks_of() {
	local ia ib ic
	ia=$(stat -c %i "$T_DIR/a") ib=$(stat -c %i "$T_DIR/b") ic=$(stat -c %i "$T_DIR/c")
	grep -E ":($ia|$ib|$ic) " /proc/locks | sed 's/^[0-9]*: //' |
		awk '{ print $1, $3, $4, $5, $6, $7 }' | sort
}

crfs_mount
log=$T_DIR/locks.log
start_workload "$log" "$PY" "$T_DIR/w.py" "$T_DIR"
pid=$WL_PID
wait_ready "$log" "$pid"
track_tree "$pid"
locks_of >"$T_DIR/before"
[ "$(wc -l <"$T_DIR/before")" = 4 ] || fail "expected 4 locks: $(tr '\n' '|' <"$T_DIR/before")"
checkpoint lo "$pid" "$T_DIR/ckpt"
kill_and_reap lo "$pid"
restore_bg "$T_DIR/ckpt" "$pid"
track_tree "$pid"
locks_of >"$T_DIR/after"
cmp -s "$T_DIR/before" "$T_DIR/after" ||
	fail "lock owners differ: before $(tr '\n' '|' <"$T_DIR/before") after $(tr '\n' '|' <"$T_DIR/after")"
kill -USR1 "$pid"
expect_pass "$log" "$RESTORE_PID" 20
pass
