#!/bin/bash
# SPDX-License-Identifier: MIT
# e2e-lane: shared net (the host's network namespace)
#
# TCP and UDP sockets that hold no connection: an IPv4 listener (backlog,
# SO_REUSEADDR, TCP_NODELAY, SO_KEEPALIVE), an IPv6-only listener, an
# unbound TCP socket, two bound UDP sockets, one connected to the other.
# After kill and restore each has its address, port and options again,
# the listener takes a connection and the datagrams flow both ways.  Then
# a real server: python's http.server, idle at the checkpoint, answers a
# GET after the restore.
. "$(dirname "$0")/lib.sh"

PY=$(python_bin)
[ -x "$PY" ] || fail "python3 not found"

read -r -d '' INET <<'EOS'
import os, signal, socket, sys, time
S, T = socket.SOL_SOCKET, socket.IPPROTO_TCP
os.setsid()
tl = socket.socket()
tl.setsockopt(S, socket.SO_REUSEADDR, 1)
tl.setsockopt(T, socket.TCP_NODELAY, 1)
tl.setsockopt(S, socket.SO_KEEPALIVE, 1)
tl.bind(("127.0.0.1", 0))
tl.listen(5)
try:
    t6 = socket.socket(socket.AF_INET6)
    t6.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
    t6.bind(("::1", 0))
    t6.listen(3)
except OSError:
    t6 = None
tu = socket.socket()
u1 = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
u1.setsockopt(S, socket.SO_BROADCAST, 1)
u1.bind(("127.0.0.1", 0))
u2 = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
u2.bind(("127.0.0.1", 0))
u2.connect(u1.getsockname())

def state():
    st = [tl.getsockname(), tl.getsockopt(S, socket.SO_ACCEPTCONN),
          tl.getsockopt(S, socket.SO_REUSEADDR), tl.getsockopt(T, socket.TCP_NODELAY) != 0,
          tl.getsockopt(S, socket.SO_KEEPALIVE), tu.getsockname(),
          u1.getsockname(), u1.getsockopt(S, socket.SO_BROADCAST),
          u2.getsockname(), u2.getpeername()]
    if t6:
        st += [t6.getsockname()[:2], t6.getsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY)]
    return st

before = state()
ready_then_wait()
fails = []
after = state()
if after != before:
    fails.append("state %r, was %r" % (after, before))
c = socket.create_connection(tl.getsockname(), timeout=5)
a, _ = tl.accept()
c.send(b"hello")
if a.recv(16) != b"hello":
    fails.append("the listener's connection carries nothing")
u2.send(b"ping")
u1.settimeout(5)
m, frm = u1.recvfrom(16)
if m != b"ping" or frm != u2.getsockname():
    fails.append("UDP got %r from %r" % (m, frm))
u1.sendto(b"pong", frm)
u2.settimeout(5)
if u2.recv(16) != b"pong":
    fails.append("the connected UDP socket got no answer")
if t6:
    c6 = socket.create_connection(t6.getsockname()[:2], timeout=5)
    t6.accept()
print(("FAIL inet: " + "; ".join(fails)) if fails else
      "PASS inet: listeners, UDP pair, options (ipv6 %s)" % bool(t6), flush=True)
sys.exit(1 if fails else 0)
EOS

crfs_mount
log=$T_DIR/inet.log
start_workload "$log" "$PY" -c "$PY_LIB
$INET"
pid=$WL_PID
wait_ready "$log" "$pid"
checkpoint in "$pid" "$T_DIR/ckpt"
grep -q ' inet .*backlog=5' "$T_DIR/ckpt/files" ||
	fail "no listener in files: $(grep inet "$T_DIR/ckpt/files" | tr '\n' '|')"
kill_and_reap in "$pid"
restore_bg "$T_DIR/ckpt" "$pid"
kill -USR1 "$pid" || fail "cannot signal restored pid $pid"
expect_pass "$log" "$RESTORE_PID" 30

# http.server, idle
port=$("$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
mkdir -p "$T_DIR/www"
echo "served after restore" >"$T_DIR/www/index.txt"
start_workload "$T_DIR/http.log" setsid "$PY" -m http.server --bind 127.0.0.1 \
	--directory "$T_DIR/www" "$port"
hpid=$WL_PID
get() {
	"$PY" -c 'import sys, urllib.request
print(urllib.request.urlopen(sys.argv[1], timeout=5).read().decode(), end="")' \
		"http://127.0.0.1:$port/index.txt"
}
wait_for 10 get >/dev/null 2>&1 || fail "http.server does not answer"
# until the server has closed the GET's connection (a connection is
# refused at freeze): the listener is its only socket left
wait_for 10 eval '[ "$(find /proc/'"$hpid"'/fd -lname "socket:*" | wc -l)" = 1 ]' ||
	fail "http.server still holds the GET's connection"
checkpoint hs "$hpid" "$T_DIR/ckpt-http"
kill_and_reap hs "$hpid"
restore_bg "$T_DIR/ckpt-http" "$hpid"
[ "$(get 2>&1)" = "served after restore" ] || fail "GET after restore: $(get 2>&1 | tail -n 1)"
kill "$hpid"
pass
