#!/bin/bash
# SPDX-License-Identifier: MIT
#
# wl_tcp_pending: listeners (IPv4 and IPv6) whose accept queues hold
# connections from clients of the tree, next to an accepted connection.
# After freeze and thaw, and after kill and restore, each queue gives its
# clients in order, from their ports, with their options, and every pair
# carries bytes.  A connection not yet accepted with data sent, and one
# from outside the tree, are refused by name; the thawed tree finds them
# as they were.
. "$(dirname "$0")/lib.sh"

crfs_mount

# freeze and thaw: nothing of the queues is touched
log=$T_DIR/thaw.log
start_workload "$log" "$CRFS_TESTS/wl_tcp_pending"
pid=$WL_PID
wait_ready "$log" "$pid"
cr_attach th "$pid"
cr_freeze th
cr_thaw th
kill -USR1 "$pid" || fail "cannot signal $pid"
expect_pass "$log" "$pid" 30

# checkpoint, kill, restore
log=$T_DIR/restore.log
start_workload "$log" "$CRFS_TESTS/wl_tcp_pending"
pid=$WL_PID
wait_ready "$log" "$pid"
checkpoint rs "$pid" "$T_DIR/ckpt"
n=$(grep -c ' inet .*pending=' "$T_DIR/ckpt/files")
[ "$n" = 6 ] || fail "files has $n clients not yet accepted, want 6: $(grep ' inet ' "$T_DIR/ckpt/files" | tr '\n' '|')"
grep -q ' inet .*accq=3' "$T_DIR/ckpt/files" || fail "files has no listener with accq=3"
grep -q ' inet .*accq=2' "$T_DIR/ckpt/files" || fail "files has no listener with accq=2"
kill_and_reap rs "$pid"

# a client naming a file that is no listener: refused by name, nothing runs
cp -a "$T_DIR/ckpt" "$T_DIR/bad"
sed -i '0,/ pending=[0-9]*/s// pending=1/' "$T_DIR/bad/files"
python3 "$(dirname "$0")/reseal.py" "$T_DIR/bad" files || fail "reseal failed"
expect_restore_refused bad "$T_DIR/bad" "$pid" "'pending 1' does not name a listening TCP socket"
rm -rf "$T_DIR/bad"

# a listener whose queue lost a client: refused by name
cp -a "$T_DIR/ckpt" "$T_DIR/bad"
sed -i 's/ accq=3/ accq=4/' "$T_DIR/bad/files"
python3 "$(dirname "$0")/reseal.py" "$T_DIR/bad" files || fail "reseal failed"
expect_restore_refused lost "$T_DIR/bad" "$pid" "its accept queue held 4 connections; the image has 3 clients for it"
rm -rf "$T_DIR/bad"

restore_bg "$T_DIR/ckpt" "$pid"
kill -USR1 "$pid" || fail "cannot signal restored pid $pid"
expect_pass "$log" "$RESTORE_PID" 30

# data sent on a connection not yet accepted: refused, the thaw keeps it
log=$T_DIR/data.log
start_workload "$log" "$CRFS_TESTS/wl_tcp_pending" data
pid=$WL_PID
wait_ready "$log" "$pid"
expect_refused dt "$pid" "a listening TCP socket with data sent on a connection not yet accepted is not supported"
kill -USR1 "$pid" || fail "cannot signal $pid"
expect_pass "$log" "$pid" 30

# a client outside the tree: refused by name, the thaw keeps it
log=$T_DIR/outside.log
start_workload "$log" "$CRFS_TESTS/wl_tcp_pending" outside
pid=$WL_PID
wait_ready "$log" "$pid"
port=$(sed -n 's/^PORT //p' "$log")
exec {cl}<>"/dev/tcp/127.0.0.1/$port" || fail "cannot connect to port $port"
expect_refused out "$pid" "a listening TCP socket with a connection not yet accepted from outside the tree (127.0.0.1:"
kill -USR1 "$pid" || fail "cannot signal $pid"
expect_pass "$log" "$pid" 30
exec {cl}>&-
pass
