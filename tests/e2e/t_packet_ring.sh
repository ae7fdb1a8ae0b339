#!/bin/bash
# SPDX-License-Identifier: MIT
#
# wl_packet_ring: packet sockets with mmapped rings (TPACKET_V2 RX and TX
# in one mapping, TPACKET_V3 RX) in the workload's own network namespace,
# nothing taken yet.  After freeze and thaw, and after kill and restore,
# the rings are mapped where they were, a datagram lands in the first
# frame and the first block, and a TX frame is sent.  A ring that has
# taken packets (its kernel place past the start) is refused by name and
# the thaw leaves it working; so are one with frames not yet consumed
# (t_packet) and one whose socket the process closed.
. "$(dirname "$0")/lib.sh"

# run NAME [MODE]: wl_packet_ring MODE, logging to NAME.log, ready; sets
# log and pid
run() {
	log=$T_DIR/$1.log
	start_workload "$log" "$CRFS_TESTS/wl_packet_ring" ${2:+"$2"}
	pid=$WL_PID
	wait_ready "$log" "$pid"
}

# checked NAME: the workload checks its rings and passes
checked() {
	kill -USR1 "$pid" || fail "$1: cannot signal $pid"
	expect_pass "$log" "${RESTORE_PID:-$pid}" 30
}

crfs_mount

run thaw
cr_attach th "$pid"
cr_freeze th
cr_thaw th
checked thaw

run restore
checkpoint rs "$pid" "$T_DIR/ckpt"
grep -q ' packet .*ring=rx/4096/4/2048/8/0/0/0;tx/4096/4/2048/8/0/0/0' "$T_DIR/ckpt/files" ||
	fail "files has no V2 socket with its rings: $(grep ' packet ' "$T_DIR/ckpt/files" | tr '\n' '|')"
grep -q ' packet .*ring=rx/8192/4/2048/16/10/0/0' "$T_DIR/ckpt/files" ||
	fail "files has no V3 socket with its ring: $(grep ' packet ' "$T_DIR/ckpt/files" | tr '\n' '|')"
n=$(grep -c ' rw-s 0x0 packet ' "$T_DIR/ckpt/$pid/maps")
[ "$n" = 2 ] || fail "maps has $n packet rings, want 2"
kill_and_reap rs "$pid"

# a ring mapping whose socket is not in the image: refused by name
cp -a "$T_DIR/ckpt" "$T_DIR/bad"
sed -i '0,/ packet \(.*\) \([0-9]*\):[0-9]* -$/s// packet \1 \2:1 -/' "$T_DIR/bad/$pid/maps"
python3 "$(dirname "$0")/reseal.py" "$T_DIR/bad" "$pid/maps" || fail "reseal failed"
expect_restore_refused bad "$T_DIR/bad" "$pid" "the packet ring at 0x[0-9a-f]+: socket 1 is no packet socket of the process"
rm -rf "$T_DIR/bad"

restore_bg "$T_DIR/ckpt" "$pid"
checked restore
RESTORE_PID=

# packets that come while the tree is frozen: the kernel fills the ring
# after the freeze checked it, so the copy holds a ring past its start;
# restore refuses it by name and leaves nothing
run late
cr_attach late "$pid"
cr_freeze late
nsenter -t "$pid" -n python3 -c 'import socket
socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(b"late", ("127.0.0.1", 4000))' ||
	fail "cannot send into the frozen tree's namespace"
cr_copy late "$T_DIR/ckpt-late"
kill_and_reap late "$pid"
expect_restore_refused late "$T_DIR/ckpt-late" "$pid" "its ring as the image holds it: a packet socket's RX ring with [0-9]+ frames not yet consumed is not supported"

run used used
expect_refused used "$pid" "a packet socket's RX ring that has taken packets is not supported (the kernel's place in it cannot be set again)"
checked used

run closed closed
expect_refused closed "$pid" "not the ring of a packet socket it holds open, is not supported"
checked closed
pass
