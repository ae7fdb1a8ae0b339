#!/bin/bash
# SPDX-License-Identifier: MIT
# e2e-lane: shared net (the host's network namespace)
#
# wl_packet: packet sockets in the workload's own network namespace: one
# bound to lo with TPACKET_V2, auxdata, origdev, reserve, timestamping, a
# promiscuous and a multicast membership and a filter; one SOCK_DGRAM in
# a fanout group; one never bound.  Options, memberships (lo's flags and
# multicast list) and reception of a datagram sent afterwards are checked
# by the workload after freeze and thaw, then after kill and restore.
# A socket whose rx ring holds frames not yet consumed, or with a frame
# queued, or of the obsolete type SOCK_PACKET, is refused by name,
# and the thaw leaves it;
# an interface missing at restore is refused by name.
. "$(dirname "$0")/lib.sh"

crfs_mount
log=$T_DIR/packet.log
start_workload "$log" "$CRFS_TESTS/wl_packet"
pid=$WL_PID
wait_ready "$log" "$pid"
cr_attach pk "$pid"
cr_freeze pk
cr_thaw pk
kill -USR1 "$pid" || fail "cannot signal $pid"
wait_line "$log" '^CHECKED 1$' 20 "$pid"
grep -q '^FAIL' "$log" && fail "after thaw: $(grep '^FAIL' "$log" | head -n 3 | tr '\n' ';')"
cr_freeze pk
cr_copy pk "$T_DIR/ckpt"
n=$(grep -c ' packet ' "$T_DIR/ckpt/files")
[ "$n" = 3 ] || fail "files has $n packet sockets, want 3"
for want in 'ifname=lo' 'mclist=lo/0/1/01005e0000fb;lo/1/1/-' 'fanout=' \
	    'packet_version:1' 'packet_auxdata:1' 'filter:'; do
	grep -q " packet .*$want" "$T_DIR/ckpt/files" ||
		fail "files has no packet socket with $want: $(grep " packet " "$T_DIR/ckpt/files" | tr "\n" "|")"
done
kill_and_reap pk "$pid"

# an interface the restoring host does not have: refused by name, and
# nothing runs
cp -a "$T_DIR/ckpt" "$T_DIR/bad"
sed -i 's/ ifname=lo / ifname=nosuch0 /' "$T_DIR/bad/files"
python3 "$(dirname "$0")/reseal.py" "$T_DIR/bad" files || fail "reseal failed"
if "$CRFS_BIN/crfs-restore" "$T_DIR/bad" </dev/null >"$T_DIR/bad.out" 2>"$T_DIR/bad.err"; then
	fail "restore of a packet socket bound to nosuch0 succeeded"
fi
grep -q '(packet socket): interface nosuch0 is not on this host' "$T_DIR/bad.err" ||
	fail "bad restore: $(tail -n 2 "$T_DIR/bad.err" | tr '\n' '|')"
proc_alive "$pid" && fail "pid $pid is running after a refused restore"
rm -rf "$T_DIR/bad"

restore_bg "$T_DIR/ckpt" "$pid"
kill -USR1 "$pid" || fail "cannot signal restored pid $pid"
expect_pass "$log" "$RESTORE_PID" 30

# refused MODE TEXT: wl_packet MODE is refused with TEXT, and thawed, finds
# its socket as it was
refused() {
	local log=$T_DIR/$1.log pid
	start_workload "$log" "$CRFS_TESTS/wl_packet" "$1"
	pid=$WL_PID
	wait_ready "$log" "$pid"
	expect_refused "$1" "$pid" "$2"
	kill -USR1 "$pid"
	expect_pass "$log" "$pid" 20
}

refused ring "frames not yet consumed is not supported"
refused queued "a packet socket with packets queued is not supported yet"
refused spkt "a packet socket of the obsolete type SOCK_PACKET is not supported"
pass
