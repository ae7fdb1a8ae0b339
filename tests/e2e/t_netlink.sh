#!/bin/bash
# SPDX-License-Identifier: MIT
# e2e-lane: exclusive (timing, or host-wide events: runs alone)
#
# Netlink sockets with nothing queued: a route socket bound to group 1
# that also joined groups 33 and 34 and turned NETLINK_EXT_ACK on, an
# unbound generic netlink datagram socket, and a uevent socket bound to
# a port id of its own choosing.  After kill and restore each has its
# port id, groups and option again, and the kernel answers a link dump
# and a generic netlink family lookup on them.
. "$(dirname "$0")/lib.sh"

PY=$(python_bin)
[ -x "$PY" ] || fail "python3 not found"

read -r -d '' NL <<'EOS'
import os, signal, socket, struct, sys, time
SOL_NETLINK, ADD, LIST, EXT_ACK = 270, 1, 9, 11
os.setsid()
rt = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 0)
rt.bind((0, 1))
rt.setsockopt(SOL_NETLINK, ADD, 33)
rt.setsockopt(SOL_NETLINK, ADD, 34)
rt.setsockopt(SOL_NETLINK, EXT_ACK, 1)
gen = socket.socket(socket.AF_NETLINK, socket.SOCK_DGRAM, 16)
ue = socket.socket(socket.AF_NETLINK, socket.SOCK_DGRAM, 15)
ue.bind((0x7e570000 + os.getpid(), 1))

def state():
    return (rt.getsockname(), rt.getsockopt(SOL_NETLINK, LIST, 64),
            rt.getsockopt(SOL_NETLINK, EXT_ACK), gen.getsockname(),
            ue.getsockname(), ue.getsockopt(SOL_NETLINK, LIST, 64))

before = state()
ready_then_wait()
fails = []
after = state()
if after != before:
    fails.append("state %r, was %r" % (after, before))
# a link dump: replies to our port id, ending in NLMSG_DONE
rt.send(struct.pack("=LHHLL", 32, 18, 0x301, 7, 0) + bytes(16))
links, done = 0, False
rt.settimeout(5)
while not done:
    buf = rt.recv(65536)
    while buf:
        ln, ty, fl, seq, pid = struct.unpack("=LHHLL", buf[:16])
        if seq != 7 or pid != before[0][0]:
            fails.append("a reply for seq %d port %d" % (seq, pid))
        if ty == 3:
            done = True
        elif ty == 16:
            links += 1
        buf = buf[(ln + 3) & ~3:]
if not links:
    fails.append("no link in the dump")
# generic netlink: CTRL_CMD_GETFAMILY "nlctrl"
name = b"nlctrl\0"
attr = struct.pack("=HH", 4 + len(name), 2) + name + bytes(-len(name) % 4)
msg = struct.pack("=BBH", 3, 1, 0) + attr
gen.send(struct.pack("=LHHLL", 16 + len(msg), 16, 1, 9, 0) + msg)
gen.settimeout(5)
ln, ty, fl, seq, pid = struct.unpack("=LHHLL", gen.recv(65536)[:16])
if ty != 16 or seq != 9:
    fails.append("generic netlink answered type %d seq %d" % (ty, seq))
print(("FAIL netlink: " + "; ".join(fails)) if fails else
      "PASS netlink: port ids, groups, option; %d links dumped" % links, flush=True)
sys.exit(1 if fails else 0)
EOS

crfs_mount
log=$T_DIR/nl.log
start_workload "$log" "$PY" -c "$PY_LIB
$NL"
pid=$WL_PID
wait_ready "$log" "$pid"
checkpoint nl "$pid" "$T_DIR/ckpt"
[ "$(grep -c ' netlink ' "$T_DIR/ckpt/files")" = 3 ] ||
	fail "files lists $(grep -c ' netlink ' "$T_DIR/ckpt/files") netlink sockets, not 3"
kill_and_reap nl "$pid"
restore_bg "$T_DIR/ckpt" "$pid"
kill -USR1 "$pid" || fail "cannot signal restored pid $pid"
expect_pass "$log" "$RESTORE_PID" 30
pass
