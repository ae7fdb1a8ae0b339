#!/bin/bash
# SPDX-License-Identifier: MIT
# e2e-lane: shared net pty (the host's network namespace and devpts)
#
# A process holding something crfs cannot checkpoint (a TCP listener with
# data sent on a connection not yet accepted, a
# packet socket with PACKET_COPY_THRESH, a netlink socket with replies queued):
# freezing works, but the copy must fail loudly (cp exits non-zero with
# EIO), ctl must name the resource, and after thaw the process goes on as
# if nothing happened: its pipe or socket still carries data.
. "$(dirname "$0")/lib.sh"

read -r -d '' SCRIPT <<'EOS'
import os, signal, socket, struct, sys, time

os.setsid()
if sys.argv[1] == "netlink":
    nl = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 0)
    # RTM_GETLINK dump, its answer left unread
    nl.send(struct.pack("=LHHLL", 32, 18, 0x301, 1, 0) + bytes(16))
    rfd, wfd = os.pipe()
elif sys.argv[1] == "packet":
    pk = socket.socket(socket.AF_PACKET, socket.SOCK_DGRAM, 0)
    pk.setsockopt(263, 7, struct.pack("I", 1))   # PACKET_COPY_THRESH
    rfd, wfd = os.pipe()
else:
    # a connection the listener has not accepted yet, with a byte sent on
    # it, and one accepted (restorable) that carries the data
    a = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    a.bind(("127.0.0.1", 0))
    a.listen(2)
    b = socket.create_connection(a.getsockname())
    c, _ = a.accept()
    waiting = socket.create_connection(a.getsockname())
    waiting.send(b"w")
    rfd, wfd = c.fileno(), b.fileno()
pre = b"q"
os.write(wfd, pre)          # left unread: the freeze must not take it
state = {}
signal.signal(signal.SIGUSR1, lambda s, f: state.setdefault("go", 1))
print("READY", flush=True)
n = 0
while "go" not in state:
    time.sleep(0.01)
    n += 1
os.write(wfd, b"ping")
got = b""
end = time.time() + 5
while len(got) < 4 + len(pre) and time.time() < end:
    got += os.read(rfd, 4 + len(pre) - len(got))
ok = got == pre + b"ping" and n > 0
print("PASS unsupported.%s" % sys.argv[1] if ok else
      "FAIL unsupported.%s: read %r after %d loops" % (sys.argv[1], got, n),
      flush=True)
sys.exit(0 if ok else 1)
EOS

PY=$(python_bin)
[ -x "$PY" ] || fail "python3 not found"

crfs_mount
for kind in inet packet netlink; do
	log=$T_DIR/$kind.log
	start_workload "$log" "$PY" -c "$SCRIPT" "$kind"
	pid=$WL_PID
	wait_ready "$log" "$pid" 60

	cr_attach "un-$kind" "$pid"
	cr_freeze "un-$kind"
	: >"$T_DIR/cp.err"
	if timeout -k 5 "$T_COPY_TIMEOUT" cp -a "$MNT/un-$kind" "$T_DIR/ckpt-$kind" \
		2>>"$T_DIR/cp.err"; then
		fail "$kind: cp -a of a container holding a $kind succeeded"
	fi
	grep -q 'Input/output error' "$T_DIR/cp.err" ||
		fail "$kind: cp failed, but not with EIO: $(head -n 2 "$T_DIR/cp.err")"
	ctl=$(ctl_read "un-$kind")
	case $kind in
	inet) what="connection not yet accepted" ;;
	*) what=$kind ;;
	esac
	echo "$ctl" | grep -qi "$what" ||
		fail "$kind: ctl does not name the $kind: $(echo "$ctl" | tr '\n' '|')"
	note "$kind: ctl says: $(echo "$ctl" | grep -i "$what" | head -n 1)"

	cr_thaw "un-$kind"
	sleep 0.3
	proc_alive "$pid" || fail "$kind: process died after thaw"
	kill -USR1 "$pid"
	expect_pass "$log" "$pid" 20
	expect_state "un-$kind" dead
	timeout "$T_CTL_TIMEOUT" rmdir "$MNT/un-$kind" || fail "rmdir un-$kind"
done
pass
