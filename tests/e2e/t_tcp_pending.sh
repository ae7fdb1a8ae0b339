#!/bin/bash
# SPDX-License-Identifier: MIT
# e2e-lane: shared net (the host's network namespace)
#
# wl_tcp_pending: listeners (IPv4 and IPv6) whose accept queues hold
# connections from clients of the tree, next to an accepted connection.
# After freeze and thaw, and after kill and restore, each queue gives its
# clients in order, from their ports, with their options, and every pair
# carries bytes.  A connection not yet accepted with data sent, and one
# from outside the tree, are refused by name; the thawed tree finds them
# as they were.
. "$(dirname "$0")/lib.sh"

# reject NAME SED ERE: the image edited by SED is refused saying ERE
reject() {
	cp -a "$T_DIR/ckpt" "$T_DIR/bad"
	sed -i "$2" "$T_DIR/bad/files"
	python3 "$(dirname "$0")/reseal.py" "$T_DIR/bad" files || fail "reseal failed"
	expect_restore_refused "$1" "$T_DIR/bad" "$pid" "$3"
	rm -rf "$T_DIR/bad"
}

crfs_mount

# freeze and thaw: nothing of the queues is touched
run_wl thaw wl_tcp_pending
cr_attach th "$pid"
cr_freeze th
cr_thaw th
checked_wl thaw

# checkpoint, kill, restore
run_wl restore wl_tcp_pending
checkpoint rs "$pid" "$T_DIR/ckpt"
n=$(grep -c ' inet .*pending=' "$T_DIR/ckpt/files")
[ "$n" = 6 ] || fail "files has $n clients not yet accepted, want 6: $(grep ' inet ' "$T_DIR/ckpt/files" | tr '\n' '|')"
grep -q ' inet .*accq=3' "$T_DIR/ckpt/files" || fail "files has no listener with accq=3"
grep -q ' inet .*accq=2' "$T_DIR/ckpt/files" || fail "files has no listener with accq=2"
kill_and_reap rs "$pid"

# bad images, refused by name with nothing running: a client naming a
# file that is no listener; a listener whose queue lost a client
reject bad '0,/ pending=[0-9]*/s// pending=1/' "'pending 1' does not name a listening TCP socket"
reject lost 's/ accq=3/ accq=4/' "its accept queue held 4 connections; the image has 3 clients for it"

restore_bg "$T_DIR/ckpt" "$pid"
checked_wl restore
RESTORE_PID=

# data sent on a connection not yet accepted: refused, the thaw keeps it
run_wl data wl_tcp_pending data
expect_refused dt "$pid" "a listening TCP socket with data sent on a connection not yet accepted is not supported"
checked_wl data

# a client outside the tree: refused by name, the thaw keeps it
run_wl outside wl_tcp_pending outside
port=$(sed -n 's/^PORT //p' "$log")
exec {cl}<>"/dev/tcp/127.0.0.1/$port" || fail "cannot connect to port $port"
expect_refused out "$pid" "a listening TCP socket with a connection not yet accepted from outside the tree (127.0.0.1:"
checked_wl outside
exec {cl}>&-
pass
