#!/bin/bash
# SPDX-License-Identifier: MIT
# e2e-lane: shared net (the host's network namespace)
#
# wl_packet_ring: packet sockets with mmapped rings (TPACKET_V2 RX and TX
# in one mapping, TPACKET_V3 RX) in the workload's own network namespace,
# nothing taken yet.  After freeze and thaw, and after kill and restore,
# the rings are mapped where they were, a datagram lands in the first
# frame and the first block, and a TX frame is sent.  A ring that has
# taken packets (its kernel place past the start) is refused by name and
# the thaw leaves it working; so are one with frames not yet consumed
# (t_packet) and one whose socket the process closed.  A datagram that
# comes while the tree is frozen makes restore refuse the copy.
. "$(dirname "$0")/lib.sh"

crfs_mount

run_wl thaw wl_packet_ring
cr_attach th "$pid"
cr_freeze th
cr_thaw th
checked_wl thaw

run_wl restore wl_packet_ring
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
checked_wl restore
RESTORE_PID=

# packets that come while the tree is frozen: the kernel fills the ring
# after the freeze checked it, so the copy holds a ring past its start;
# restore refuses it by name and leaves nothing
run_wl late wl_packet_ring
cr_attach late "$pid"
cr_freeze late
nsenter -t "$pid" -n python3 -c 'import socket
socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(b"late", ("127.0.0.1", 4000))' ||
	fail "cannot send into the frozen tree's namespace"
cr_copy late "$T_DIR/ckpt-late"
kill_and_reap late "$pid"
expect_restore_refused late "$T_DIR/ckpt-late" "$pid" "its ring as the image holds it: a packet socket's RX ring with [0-9]+ frames not yet consumed is not supported"

run_wl used wl_packet_ring used
expect_refused used "$pid" "a packet socket's RX ring that has taken packets is not supported (the kernel's place in it cannot be set again)"
checked_wl used

run_wl closed wl_packet_ring closed
expect_refused closed "$pid" "not the ring of a packet socket it holds open, is not supported"
checked_wl closed
pass
