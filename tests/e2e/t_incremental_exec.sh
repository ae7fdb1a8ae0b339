#!/bin/bash
# SPDX-License-Identifier: MIT
# e2e-lane: shared pty (ptys of the host's devpts)
#
# What tracking cannot have seen counts as written.  Between a tracked
# full checkpoint and an incremental one, a python process (16 MiB of
# random data) forks a child with 4 MiB of its own, maps a new 4 MiB
# area, rewrites part of its data, then execs itself (a new memory).  The
# incremental image must point nothing of either into the parent (the
# exec'd root's memory is new, the child was not tracked), and restores;
# root and child check their checksums.
. "$(dirname "$0")/lib.sh"

read -r -d '' SCRIPT <<'EOS'
import hashlib, mmap, os, signal, sys, time

def ready(tag, data):
    print(tag, hashlib.sha256(data).hexdigest(), flush=True)

def wait_usr1(data, want, who):
    signal.sigwait([signal.SIGUSR1])
    got = hashlib.sha256(data).hexdigest()
    print(("PASS " if got == want else "FAIL ") + who, flush=True)
    sys.exit(0 if got == want else 1)

signal.pthread_sigmask(signal.SIG_BLOCK, [signal.SIGUSR1, signal.SIGUSR2])
if len(sys.argv) > 1:           # after the exec: all new memory
    data = bytearray(os.urandom(8 << 20))
    m = mmap.mmap(-1, 1 << 20, flags=mmap.MAP_PRIVATE)
    m.write(os.urandom(1 << 20))
    want = hashlib.sha256(bytes(data) + m[:]).hexdigest()
    print("READY2", flush=True)
    wait_usr1(bytes(data) + m[:], want, "root")
data = bytearray(os.urandom(16 << 20))
print("READY", flush=True)
signal.sigwait([signal.SIGUSR2])
kid = os.fork()
if kid == 0:
    mine = bytearray(os.urandom(4 << 20))
    want = hashlib.sha256(bytes(data) + mine).hexdigest()
    print("KID", os.getpid(), flush=True)
    wait_usr1(bytes(data) + mine, want, "child")
new = mmap.mmap(-1, 4 << 20)
new.write(os.urandom(4 << 20))
data[4096:4096 * 100] = os.urandom(4096 * 99)
os.execv(sys.executable, [sys.executable, __file__, "2"])
EOS

crfs_mount
log=$T_DIR/wl.log
printf '%s\n' "$SCRIPT" > "$T_DIR/wl.py"
start_workload "$log" "$(python_bin)" "$T_DIR/wl.py"
pid=$WL_PID
wait_ready "$log" "$pid" 30
cr_attach ix "$pid"
cr_freeze ix
ctl_write ix track || fail "track refused: $(ctl_read ix | tr '\n' '|')"
cr_copy ix "$T_DIR/c1"
cr_thaw ix
kill -USR2 "$pid"
wait_line "$log" '^READY2$' 30 "$pid"
wait_line "$log" '^KID [0-9]+$' 30
kid=$(awk '/^KID/ { print $2 }' "$log")
track_pid "$kid"
ctl_write ix "parent ../c1" || fail "parent refused: $(ctl_read ix | tr '\n' '|')"
cr_freeze ix
cr_copy ix "$T_DIR/c2"
grep -q ' 1:' "$T_DIR/c2/$pid/pages.idx" &&
	fail "the exec'd root points into the parent: $(grep -m1 ' 1:' "$T_DIR/c2/$pid/pages.idx")"
grep -q ' 1:' "$T_DIR/c2/$kid/pages.idx" &&
	fail "the child forked since points into the parent"
kill_and_reap ix "$pid"
restore_bg "$T_DIR/c2" "$pid"
track_pid "$kid"
kill -USR1 "$kid"
wait_line "$log" '(PASS|FAIL) child' 30
kill -USR1 "$pid"
expect_pass "$log" "$RESTORE_PID" 30
grep -q '^PASS child' "$log" || fail "child: $(grep child "$log")"
pass
