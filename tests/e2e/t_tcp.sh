#!/bin/bash
# SPDX-License-Identifier: MIT
#
# wl_tcp: established TCP connections with data queued both ways, to a
# peer outside the tree (IPv4) and between two sockets of the tree (IPv6),
# and one whose receiving side is shut.  First frozen and thawed, then
# checkpointed, killed and restored; the peer outside streams on while the
# tree is down and checks that every byte arrives in order with no reset
# and no early end; the tree checks its options, addresses and streams.
# While the tree is frozen or dead the connections' packets are dropped
# (nft table inet crfs_tcp_lock); after a thaw or a restore they are not.
# A connection half closed (FIN_WAIT2, CLOSE_WAIT) is refused by name.
. "$(dirname "$0")/lib.sh"

command -v nft >/dev/null || fail "nft (nftables) not found"
PY=$(python_bin)
[ -x "$PY" ] || fail "python3 not found"
crfs_mount

# locked PORT: the lock holds a connection of port PORT
locked() {
	nft list table inet crfs_tcp_lock 2>/dev/null | grep -Eq "\. $1([ ,]|\$)"
}

# start_pair NAME: the peer, then the tree connected to it; PEER_PID,
# PEER_PORT, PID once both filled their connections
start_pair() {
	local plog=$T_DIR/$1.peer.log log=$T_DIR/$1.log
	start_workload "$plog" "$CRFS_TESTS/wl_tcp" peer
	PEER_PID=$WL_PID
	wait_line "$plog" '^PORT [0-9]+$' 20 "$PEER_PID"
	PEER_PORT=$(awk '/^PORT/ { print $2 }' "$plog")
	start_workload "$log" "$CRFS_TESTS/wl_tcp" "$PEER_PORT"
	PID=$WL_PID
	wait_ready "$log" "$PID" 30
	wait_line "$plog" '^FILLED' 20 "$PEER_PID"
}

# freeze and thaw: every connection goes on
start_pair thaw
cr_attach thaw "$PID"
cr_freeze thaw
locked "$PEER_PORT" || fail "frozen: the connection to port $PEER_PORT is not locked"
cr_thaw thaw
locked "$PEER_PORT" && fail "thawed: the connection to port $PEER_PORT is still locked"
timeout "$T_CTL_TIMEOUT" rmdir "$MNT/thaw" || fail "rmdir $MNT/thaw failed"
kill -USR1 "$PID" "$PEER_PID"
expect_pass "$T_DIR/thaw.log" "$PID" 90
expect_pass "$T_DIR/thaw.peer.log" "$PEER_PID" 90

# checkpoint, kill, restore; the peer streams on meanwhile
start_pair rs
checkpoint rs "$PID" "$T_DIR/ckpt"
id=$(awk -v p="dst=127.0.0.1:$PEER_PORT" '/ inet / && index($0, p) { print $1 }' \
	"$T_DIR/ckpt/files")
[ -n "$id" ] || fail "no connection to port $PEER_PORT in files: $(grep inet "$T_DIR/ckpt/files" | tr '\n' '|')"
tcp=$T_DIR/ckpt/fdata/$id.tcp
grep -qx 'state established' "$tcp" || fail "$tcp: $(tr '\n' ' ' <"$tcp")"
[ -s "$T_DIR/ckpt/fdata/$id.sndq" ] && [ -s "$T_DIR/ckpt/fdata/$id.rcvq" ] ||
	fail "connection $id: a queue is empty: $(tr '\n' ' ' <"$tcp")"
note "connection to the peer: $(tr '\n' ' ' <"$tcp")"
n=$(ls "$T_DIR/ckpt/fdata/"*.tcp | wc -l)
[ "$n" = 5 ] || fail "$n connections saved, want 5"
kill -USR1 "$PEER_PID"
kill_and_reap rs "$PID"
locked "$PEER_PORT" || fail "killed: the connection to port $PEER_PORT is not locked"
restore_bg "$T_DIR/ckpt" "$PID"
locked "$PEER_PORT" && fail "restored: the connection to port $PEER_PORT is still locked"
kill -USR1 "$PID"
expect_pass "$T_DIR/rs.log" "$RESTORE_PID" 90
expect_pass "$T_DIR/rs.peer.log" "$PEER_PID" 90

# half closed: refused by name, and goes on after the thaw
read -r -d '' HALF <<'EOS'
import os, socket, sys
os.setsid()
l = socket.socket()
l.bind(("127.0.0.1", 0))
l.listen(1)
c = socket.create_connection(l.getsockname())
a, _ = l.accept()
c.shutdown(socket.SHUT_WR)
if a.recv(1) != b"":
    sys.exit("no end of stream")
ready_then_wait()
a.sendall(b"late")
print("PASS half" if c.recv(4) == b"late" else "FAIL half", flush=True)
EOS
start_workload "$T_DIR/half.log" "$PY" -c "$PY_LIB
$HALF"
hpid=$WL_PID
wait_ready "$T_DIR/half.log" "$hpid"
expect_refused half "$hpid" "a TCP connection in state FIN_WAIT2 is not supported yet"
timeout "$T_CTL_TIMEOUT" rmdir "$MNT/half" || fail "rmdir $MNT/half failed"
kill -USR1 "$hpid"
expect_pass "$T_DIR/half.log" "$hpid" 30
pass
