#!/bin/bash
# SPDX-License-Identifier: MIT
# e2e-lane: shared net pty (the host's network namespace and devpts)
#
# wl_udpqueue: datagrams queued on UDP (IPv4, IPv6), UDP-Lite and a
# connected UDP socket, from senders alive and gone, read back with their
# senders, destinations, TTL and TOS after freeze and thaw, then after
# kill and restore (crfs-restore sends them again through a raw socket);
# also with a dual-stack socket (IPv4 datagrams v4-mapped), and all again
# in the workload's own network namespace.
# A socket with a filter and datagrams queued is refused by name, and so
# is a restore whose datagram's destination is not an address here.
. "$(dirname "$0")/lib.sh"

crfs_mount

# run_case NAME [netns]: freeze, thaw, check; checkpoint, kill, restore,
# check (in the workload's own network namespace with "netns")
run_case() {
	local name=$1 log=$T_DIR/$1.log pid n
	start_workload "$log" "$CRFS_TESTS/wl_udpqueue" ${2:-}
	pid=$WL_PID
	wait_ready "$log" "$pid"
	cr_attach "$name" "$pid"
	cr_freeze "$name"
	cr_thaw "$name"
	kill -USR1 "$pid" || fail "cannot signal $pid"
	wait_line "$log" '^CHECKED 1$' 20 "$pid"
	grep -q '^FAIL' "$log" &&
		fail "$name after thaw: $(grep '^FAIL' "$log" | head -n 3 | tr '\n' ';')"
	cr_freeze "$name"
	cr_copy "$name" "$T_DIR/ckpt-$name"
	n=$(cat "$T_DIR/ckpt-$name"/fdata/*.dgrams | grep -c .)
	[ "$n" = 10 ] || fail "$name: the image has $n queued datagrams, want 10"
	kill_and_reap "$name" "$pid"
	[ "$name" = uq ] && bad_destination "$T_DIR/ckpt-$name" "$pid"
	restore_bg "$T_DIR/ckpt-$name" "$pid"
	kill -USR1 "$pid" || fail "cannot signal restored pid $pid"
	expect_pass "$log" "$RESTORE_PID" 30
}

# bad_destination DIR PID: a datagram to an address this host does not
# have is refused by name, and nothing runs
bad_destination() {
	local f
	cp -a "$1" "$T_DIR/bad"
	f=$(grep -l '127.0.0.3:' "$T_DIR"/bad/fdata/*.dgrams | head -n 1)
	[ -n "$f" ] || fail "no datagram to 127.0.0.3 in the image"
	sed -i 's/127\.0\.0\.3:/192.0.2.9:/' "$f"
	python3 "$(dirname "$0")/reseal.py" "$T_DIR/bad" "fdata/${f##*/}" ||
		fail "reseal failed"
	if "$CRFS_BIN/crfs-restore" "$T_DIR/bad" </dev/null >"$T_DIR/bad.out" 2>"$T_DIR/bad.err"; then
		fail "restore of a datagram to 192.0.2.9 succeeded"
	fi
	grep -q 'its destination is not an address of this host' "$T_DIR/bad.err" ||
		fail "bad restore: $(tail -n 2 "$T_DIR/bad.err" | tr '\n' '|')"
	proc_alive "$2" && fail "pid $2 is running after a refused restore"
	rm -rf "$T_DIR/bad"
}

# refused_py NAME TEXT SCRIPT: the python SCRIPT (PY_LIB first) is
# refused with TEXT at freeze; thawed, it checks its state itself
refused_py() {
	local log=$T_DIR/$1.log pid
	start_workload "$log" "$PY" -c "$PY_LIB
$3"
	pid=$WL_PID
	wait_ready "$log" "$pid"
	expect_refused "$1" "$pid" "$2"
	kill -USR1 "$pid"
	expect_pass "$log" "$pid" 20
}

run_case uq
run_case un netns
PY=$(python_bin)
[ -x "$PY" ] || fail "python3 not found"

read -r -d '' FILT <<'EOS'
import os, socket, struct, sys
os.setsid()
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 0))
# ret #-1: accept everything
prog = struct.pack("HBBI", 0x06, 0, 0, 0xffffffff)
import ctypes
buf = ctypes.create_string_buffer(prog)
fprog = struct.pack("HL", 1, ctypes.addressof(buf))
s.setsockopt(socket.SOL_SOCKET, 26, fprog)  # SO_ATTACH_FILTER
s.sendto(b"q", s.getsockname())
ready_then_wait()
if s.recv(10) == b"q":
    print("PASS filtered", flush=True)
else:
    print("FAIL filtered: wrong datagram", flush=True)
EOS
refused_py fq "a UDP socket with a socket filter and datagrams queued is not supported" "$FILT"

# two sockets on one port (SO_REUSEPORT): whose a datagram sent again is,
# the kernel decides; refused by name
read -r -d '' SHARED <<'EOS'
import os, socket
os.setsid()
a = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
b = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for s in (a, b):
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
a.bind(("127.0.0.1", 0))
b.bind(a.getsockname())
a.sendto(b"q", a.getsockname())
ready_then_wait()
a.setblocking(False)
b.setblocking(False)
got = []
for s in (a, b):
    try:
        got.append(s.recv(10))
    except BlockingIOError:
        pass
print("PASS shared" if got == [b"q"] else "FAIL shared: %r" % got, flush=True)
EOS
refused_py sq "a UDP socket with datagrams queued whose port another UDP socket of the container is bound to too is not supported" "$SHARED"

# an error pending (ICMP port unreachable on a connected socket): recv
# would take it; refused by name, and the thawed program still gets it
read -r -d '' ERR <<'EOS'
import errno, os, socket
os.setsid()
closed = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
closed.bind(("127.0.0.1", 0))
port = closed.getsockname()[1]
closed.close()
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.connect(("127.0.0.1", port))
s.send(b"x")
import select
select.select([], [], [s], 5)
ready_then_wait()
try:
    s.recv(10)
    print("FAIL error: recv returned data", flush=True)
except ConnectionRefusedError:
    print("PASS error", flush=True)
EOS
refused_py eq "a UDP socket with an error pending (SO_ERROR, IP_RECVERR) is not supported" "$ERR"
pass
