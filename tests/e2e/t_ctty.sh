#!/bin/bash
# SPDX-License-Identifier: MIT
# e2e-lane: shared pty (ptys of the host's devpts)
#
# A session leader's controlling terminal after restore: the leader (on a
# pty, PTYRUN_PY) has a child in its foreground group.  After checkpoint,
# kill and restore, on SIGUSR1 the child opens /dev/tty afresh and checks
# it is the session's terminal, the leader checks that the terminal names
# its session (TIOCGSID) and its group as foreground, then exits: the
# kernel must hang up the foreground group, and the child logs its SIGHUP.
. "$(dirname "$0")/lib.sh"

PY=$(python_bin)
cat >"$T_DIR/leader.py" <<'EOS'
import fcntl, os, signal, struct, sys, termios, time
log = sys.argv[1]
def say(line):
    fd = os.open(log, os.O_WRONLY | os.O_APPEND)
    os.write(fd, line.encode() + b"\n")
    os.close(fd)
def sid_of(fd):     # TIOCGSID, which python's termios lacks
    return struct.unpack("i", fcntl.ioctl(fd, 0x5429, b"\0" * 4))[0]
kid = os.fork()
if kid == 0:
    def hup(s, f):
        say("PASS ctty.sighup")
        os._exit(0)
    def usr2(s, f):
        try:
            t = os.open("/dev/tty", os.O_RDWR)
            ok = sid_of(t) == os.getsid(0) and os.tcgetpgrp(t) == os.getpgrp()
            os.close(t)
        except OSError as e:
            ok = False
            say("# /dev/tty: %s" % e)
        say("%s ctty.reopen" % ("PASS" if ok else "FAIL"))
    signal.signal(signal.SIGHUP, hup)
    signal.signal(signal.SIGUSR2, usr2)
    while True:
        time.sleep(1)
def usr1(s, f):
    ok = sid_of(0) == os.getpid() and os.tcgetpgrp(0) == os.getpgrp()
    say("%s ctty.session" % ("PASS" if ok else "FAIL"))
    os.kill(kid, signal.SIGUSR2)
    time.sleep(0.5)
    os._exit(0)     # the kernel hangs up our foreground group
signal.signal(signal.SIGUSR1, usr1)
print("CHILD %d" % kid, flush=True)
print("READY", flush=True)
while True:
    time.sleep(1)
EOS

crfs_mount
log=$T_DIR/ctty.log
start_workload "$log" "$PY" -c "$SUBREAPER_PY" "$log" "$PY" -c "$PTYRUN_PY" \
	"$log" "$PY" "$T_DIR/leader.py" "$log"
wrapper=$WL_PID
wait_root "$log" "$wrapper"
root=$ROOT_PID
track_tree "$root"
leader=$(cat /proc/"$root"/task/*/children | tr -d ' ')
[ -n "$leader" ] || fail "the pty holder has no child"
kid=$(sed -n 's/^CHILD \([0-9][0-9]*\)$/\1/p' "$log" | head -n 1)
[ -n "$kid" ] || fail "no CHILD line"
checkpoint ct "$root" "$T_DIR/ckpt"
kill_and_reap ct "$root" "$wrapper"
restore_bg "$T_DIR/ckpt" "$root"
track_tree "$root"
kill -USR1 "$leader" || fail "cannot signal restored $leader"
for c in session reopen sighup; do
	wait_line "$log" "^(PASS|FAIL) ctty.$c\$" 10
	grep -q "^PASS ctty.$c\$" "$log" || fail "$(grep "ctty.$c" "$log")"
done
pass
