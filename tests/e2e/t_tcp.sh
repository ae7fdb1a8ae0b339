#!/bin/bash
# SPDX-License-Identifier: MIT
# e2e-lane: shared net (the host's network namespace)
#
# wl_tcp: established TCP connections with data queued both ways, to a
# peer outside the tree (IPv4) and between two sockets of the tree (IPv6),
# one whose receiving side is shut, an IPv4 client of a dual-stack
# listener.  First frozen and thawed, then checkpointed, killed and
# restored; the peer outside streams on while the
# tree is down and checks that every byte arrives in order with no reset
# and no early end; the tree checks its options, addresses and streams.
# While the tree is frozen or dead the connections' packets are dropped
# (nft table inet crfs_tcp_lock); after a thaw or a restore they are not.
# Then connections half closed, one in each state where a FIN waits, and
# two closed ones (both FINs taken), one with bytes not yet read.
# A connection whose address is gone at restore is refused by name, with
# nothing left and nothing sent to the peer; restored once it is back.
# Its own network namespace: the lock table, the test's own table and the
# address it adds and removes are no one else's business.
if [ -z "${CRFS_T_OWN_NET:-}" ]; then
	CRFS_T_OWN_NET=1 exec unshare --net "$0" "$@"
fi
. "$(dirname "$0")/lib.sh"
ip link set lo up || fail "cannot bring lo up"

command -v nft >/dev/null || fail "nft (nftables) not found"
crfs_mount

# locked PORT: the lock holds a connection of port PORT
locked() {
	nft list table inet crfs_tcp_lock 2>/dev/null | grep -Eq "\. $1([ ,]|\$)"
}

# Data sent but not acknowledged: once the peer has filled its way, what
# it sends is dropped by a table of this test's own until the checkpoint
# is taken, so what the tree sends it then stays in its send queue as
# sent (the peer sends it again later, as TCP does).
ACKS=crfs_t_tcp_$$
drop_acks() {
	nft -f - <<-EON || fail "cannot add nft table $ACKS"
	table inet $ACKS {
		chain in {
			type filter hook input priority 0; policy accept;
			tcp sport $1 drop
		}
	}
	EON
}
pass_acks() {
	nft delete table inet "$ACKS" 2>/dev/null
	return 0
}
trap 'acks_rc=$?; pass_acks; (exit $acks_rc); _cleanup' EXIT

# start_pair NAME [drop]: the peer, then the tree connected to it;
# PEER_PID, PEER_PORT, PID once both filled their connections
start_pair() {
	local plog=$T_DIR/$1.peer.log log=$T_DIR/$1.log
	start_workload "$plog" "$CRFS_TESTS/wl_tcp" peer
	PEER_PID=$WL_PID
	wait_line "$plog" '^PORT [0-9]+$' 20 "$PEER_PID"
	PEER_PORT=$(awk '/^PORT/ { print $2 }' "$plog")
	start_workload "$log" "$CRFS_TESTS/wl_tcp" "$PEER_PORT"
	PID=$WL_PID
	wait_line "$plog" '^FILLED' 20 "$PEER_PID"
	[ -n "${2:-}" ] && drop_acks "$PEER_PORT"
	kill -USR2 "$PID"
	wait_ready "$log" "$PID" 30
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
start_pair rs drop
checkpoint rs "$PID" "$T_DIR/ckpt"
pass_acks
id=$(awk -v p="dst=127.0.0.1:$PEER_PORT" '/ inet / && index($0, p) { print $1 }' \
	"$T_DIR/ckpt/files")
[ -n "$id" ] || fail "no connection to port $PEER_PORT in files: $(grep inet "$T_DIR/ckpt/files" | tr '\n' '|')"
tcp=$T_DIR/ckpt/fdata/$id.tcp
grep -qx 'state established' "$tcp" || fail "$tcp: $(tr '\n' ' ' <"$tcp")"
[ -s "$T_DIR/ckpt/fdata/$id.sndq" ] && [ -s "$T_DIR/ckpt/fdata/$id.rcvq" ] ||
	fail "connection $id: a queue is empty: $(tr '\n' ' ' <"$tcp")"
note "connection to the peer: $(tr '\n' ' ' <"$tcp")"
awk '$1 == "sndq" { q = $2 } $1 == "unsent" { u = $2 } END { exit !(q > u) }' "$tcp" ||
	fail "connection $id: nothing sent but unacknowledged: $(tr '\n' ' ' <"$tcp")"
n=$(ls "$T_DIR/ckpt/fdata/"*.tcp | wc -l)
[ "$n" = 7 ] || fail "$n connections saved, want 7"
kill -USR1 "$PEER_PID"
kill_and_reap rs "$PID"
locked "$PEER_PORT" || fail "killed: the connection to port $PEER_PORT is not locked"
restore_bg "$T_DIR/ckpt" "$PID"
locked "$PEER_PORT" && fail "restored: the connection to port $PEER_PORT is still locked"
kill -USR1 "$PID"
expect_pass "$T_DIR/rs.log" "$RESTORE_PID" 90
expect_pass "$T_DIR/rs.peer.log" "$PEER_PID" 90

# half closed: FIN_WAIT1, FIN_WAIT2, CLOSE_WAIT, LAST_ACK, CLOSING, and closed, after a
# thaw and after a restore
for how in thaw restore; do
	start_workload "$T_DIR/half-$how.log" "$CRFS_TESTS/wl_tcp" half
	hpid=$WL_PID
	wait_ready "$T_DIR/half-$how.log" "$hpid" 30
	if [ "$how" = thaw ]; then
		cr_attach half "$hpid"
		cr_freeze half
		cr_thaw half
		timeout "$T_CTL_TIMEOUT" rmdir "$MNT/half" || fail "rmdir $MNT/half failed"
		kill -USR1 "$hpid"
		expect_pass "$T_DIR/half-$how.log" "$hpid" 60
		continue
	fi
	checkpoint half "$hpid" "$T_DIR/ckpt-half"
	for st in fin_wait1 fin_wait2 close_wait last_ack closing; do
		grep -qx "state $st" "$T_DIR/ckpt-half/fdata/"*.tcp ||
			fail "no connection in state $st saved"
	done
	kill_and_reap half "$hpid"
	restore_bg "$T_DIR/ckpt-half" "$hpid"
	kill -USR1 "$hpid"
	expect_pass "$T_DIR/half-$how.log" "$RESTORE_PID" 60
done
# the same in a network namespace of the tree's own (unshare --net): the
# lock is in that namespace, the restore makes a new one
start_workload "$T_DIR/half-net.log" unshare --net --fork sh -c \
	'ip link set lo up && exec "$0" half' "$CRFS_TESTS/wl_tcp"
u=$WL_PID
wait_for 20 eval '[ -n "$(pgrep -P '"$u"')" ]' || fail "no child under unshare"
hpid=$(pgrep -P "$u")
track_pid "$hpid"
wait_ready "$T_DIR/half-net.log" "$hpid" 30
cr_attach halfnet "$hpid"
cr_freeze halfnet
nsenter -t "$hpid" -n nft list table inet crfs_tcp_lock | grep -q elements ||
	fail "frozen: no lock in the tree's network namespace"
cr_thaw halfnet
timeout "$T_CTL_TIMEOUT" rmdir "$MNT/halfnet" || fail "rmdir $MNT/halfnet failed"
checkpoint halfnet "$hpid" "$T_DIR/ckpt-halfnet"
kill_and_reap halfnet "$hpid" "$u"
restore_bg "$T_DIR/ckpt-halfnet" "$hpid"
[ "$(readlink "/proc/$hpid/ns/net")" != "$(readlink /proc/self/ns/net)" ] ||
	fail "restored tree is in our network namespace"
kill -USR1 "$hpid"
expect_pass "$T_DIR/half-net.log" "$RESTORE_PID" 60

nft list table inet crfs_tcp_lock 2>/dev/null | grep -q 'elements' &&
	fail "lock elements left: $(nft list table inet crfs_tcp_lock | grep -A3 elements | tr '\n' ' ')"

# an address gone: 192.0.2.7 (TEST-NET-1) on lo, then not
PY=$(python_bin)
[ -x "$PY" ] || fail "python3 not found"
ip addr add 192.0.2.7/32 dev lo || fail "cannot add 192.0.2.7 to lo"
read -r -d '' GPEER <<'EOS'
import socket, sys
l = socket.socket()
l.bind(("192.0.2.7", 0))
l.listen(1)
print("PORT %d" % l.getsockname()[1], flush=True)
a, _ = l.accept()
a.settimeout(60)
try:
    m = a.recv(16)
except OSError as e:
    m = repr(e).encode()
print("PASS gone.peer" if m == b"back" else "FAIL gone.peer: got %r" % m, flush=True)
EOS
read -r -d '' GTREE <<'EOS'
import os, socket, sys
os.setsid()
c = socket.create_connection(("192.0.2.7", int(sys.argv[1])))
ready_then_wait()
c.sendall(b"back")
print("PASS gone.tree", flush=True)
EOS
start_workload "$T_DIR/gpeer.log" "$PY" -c "$GPEER"
gpeer=$WL_PID
wait_line "$T_DIR/gpeer.log" '^PORT' 20 "$gpeer"
gport=$(awk '/^PORT/ { print $2 }' "$T_DIR/gpeer.log")
start_workload "$T_DIR/gone.log" "$PY" -c "$PY_LIB
$GTREE" "$gport"
gpid=$WL_PID
wait_ready "$T_DIR/gone.log" "$gpid"
checkpoint gone "$gpid" "$T_DIR/ckpt-gone"
kill_and_reap gone "$gpid"
ip addr del 192.0.2.7/32 dev lo || fail "cannot remove 192.0.2.7"
"$CRFS_BIN/crfs-restore" "$T_DIR/ckpt-gone" </dev/null >"$T_DIR/gone.out" 2>&1 &&
	fail "restored a connection from an address this host does not have"
grep -q "TCP connection 192.0.2.7:[0-9]* to 192.0.2.7:$gport): bind: Cannot assign requested address" "$T_DIR/gone.out" ||
	fail "refusal does not name the connection: $(cat "$T_DIR/gone.out")"
proc_alive "$gpid" && fail "pid $gpid left running by a failed restore"
locked "$gport" || fail "a failed restore lifted the lock"
ip addr add 192.0.2.7/32 dev lo || fail "cannot add 192.0.2.7 again"
restore_bg "$T_DIR/ckpt-gone" "$gpid"
kill -USR1 "$gpid"
expect_pass "$T_DIR/gone.log" "$RESTORE_PID" 30
expect_pass "$T_DIR/gpeer.log" "$gpeer" 30

# urgent data not yet read: refused by name, goes on after the thaw
read -r -d '' URG <<'EOS'
import os, socket, sys
os.setsid()
l = socket.socket()
l.bind(("127.0.0.1", 0))
l.listen(1)
c = socket.create_connection(l.getsockname())
a, _ = l.accept()
c.send(b"!", socket.MSG_OOB)
while True:
    try:
        a.recv(1, socket.MSG_OOB | socket.MSG_PEEK)
        break
    except BlockingIOError:
        pass
    except OSError:
        pass
ready_then_wait()
print("PASS urg" if a.recv(1, socket.MSG_OOB) == b"!" else "FAIL urg", flush=True)
EOS
start_workload "$T_DIR/urg.log" "$PY" -c "$PY_LIB
$URG"
upid=$WL_PID
wait_ready "$T_DIR/urg.log" "$upid"
expect_refused urg "$upid" "a TCP connection with urgent data (MSG_OOB) not yet read is not supported"
timeout "$T_CTL_TIMEOUT" rmdir "$MNT/urg" || fail "rmdir $MNT/urg failed"
kill -USR1 "$upid"
expect_pass "$T_DIR/urg.log" "$upid" 30
pass
