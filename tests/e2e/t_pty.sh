#!/bin/bash
# SPDX-License-Identifier: MIT
# e2e-lane: shared pty (ptys of the host's devpts)
#
# A pty pair inside the container, held twice over: by PTYRUN_PY (lib.sh:
# python3's pty.fork(), the parent keeps the master and copies what it
# reads to the log), and by script(1) (master, signalfd, poll with a
# timeout).  The child, a session leader whose controlling terminal is the
# slave, set the window size, turned ECHO off and moved VINTR, and holds
# /dev/tty open.  After checkpoint, kill
# and restore, the child (SIGUSR1) checks that it has the same terminal
# (name, settings, size), still as its controlling terminal with its group
# in the foreground, and that what it prints still reaches the log.
. "$(dirname "$0")/lib.sh"

PY=$(python_bin)
[ -x "$PY" ] || fail "python3 not found"

read -r -d '' PTY_PY <<'EOS'
import fcntl, os, signal, struct, sys, termios, time
a = termios.tcgetattr(0)
a[1] &= ~termios.ONLCR              # plain \n in the log
a[3] &= ~termios.ECHO
a[6][termios.VINTR] = b'\x07'
termios.tcsetattr(0, termios.TCSANOW, a)
fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", 33, 77, 0, 0))
name = os.ttyname(0)
tty_fd = os.open("/dev/tty", os.O_RDWR)     # held across the checkpoint
go = []
signal.signal(signal.SIGUSR1, lambda s, f: go.append(1))
print("READY", flush=True)
while not go:
    time.sleep(0.02)
b = termios.tcgetattr(0)
rows, cols = struct.unpack("HHHH", fcntl.ioctl(0, termios.TIOCGWINSZ, b"\0" * 8))[:2]
checks = {
    "name": os.ttyname(0) == name,
    "echo": not (b[3] & termios.ECHO),
    "vintr": b[6][termios.VINTR] == b'\x07',
    "winsize": (rows, cols) == (33, 77),
    "ctty": os.getsid(0) == os.getpid() and
            os.fstat(os.open("/dev/tty", os.O_RDWR)) is not None and
            os.stat(name).st_rdev == os.fstat(0).st_rdev,
    "foreground": os.tcgetpgrp(0) == os.getpgrp(),
}
try:
    os.write(tty_fd, b"PASS pty.devtty\n")
except OSError as e:
    checks["devtty"] = False
for k, v in checks.items():
    print("%s pty.%s" % ("PASS" if v else "FAIL", k), flush=True)
time.sleep(0.3)
sys.exit(0 if all(checks.values()) else 1)
EOS

crfs_mount
printf "%s\n" "$PTY_PY" >"$T_DIR/ptytest.py"
for how in fork script; do
	log=$T_DIR/pty-$how.log
	if [ "$how" = fork ]; then
		start_workload "$log" "$PY" -c "$SUBREAPER_PY" "$log" \
			"$PY" -c "$PTYRUN_PY" "$log" "$PY" "$T_DIR/ptytest.py"
	else
		command -v script >/dev/null || fail "script(1) not found"
		start_workload "$log" "$PY" -c "$SUBREAPER_PY" "$log" script -q -e \
			-c "exec $PY $T_DIR/ptytest.py" /dev/null
	fi
	wrapper=$WL_PID
	wait_root "$log" "$wrapper"
	root=$ROOT_PID
	track_tree "$root"
	kid=$(cat /proc/"$root"/task/*/children | tr -d ' ')
	[ -n "$kid" ] || fail "$how: the pty holder has no child"
	checkpoint "pt$how" "$root" "$T_DIR/ckpt-$how"
	grep -q ' ptmx ' "$T_DIR/ckpt-$how/files" || fail "$how: no pty master in the image"
	kill_and_reap "pt$how" "$root" "$wrapper"
	restore_bg "$T_DIR/ckpt-$how" "$root"
	track_tree "$root"
	kill -USR1 "$kid" || fail "$how: cannot signal restored $kid"
	expect_pass "$log" "$RESTORE_PID" 30
done
pass
