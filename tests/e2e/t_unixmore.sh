#!/bin/bash
# SPDX-License-Identifier: MIT
#
# wl_unixmore: unix sockets bound to relative names (getsockname and a
# peer's getpeername give the relative name again), sockets never bound
# nor connected, one shut down, one bound in a directory removed since,
# and a datagram server with interleaved messages from several connected
# senders (each recvfrom names its sender, replies reach it).  Checked
# after freeze and thaw, then after kill and restore.
. "$(dirname "$0")/lib.sh"

crfs_mount
log=$T_DIR/unixmore.log
mkdir -p "$T_DIR/work"
start_workload "$log" "$CRFS_TESTS/wl_unixmore" "$T_DIR/work"
pid=$WL_PID
wait_ready "$log" "$pid"
cr_attach um "$pid"
cr_freeze um
cr_thaw um
kill -USR1 "$pid" || fail "cannot signal $pid"
wait_line "$log" '^CHECKED 1$' 20 "$pid"
cr_freeze um
cr_copy um "$T_DIR/ckpt"
grep -q 'bindname=sub/rel.sock' "$T_DIR/ckpt/files" ||
	fail "files has no bindname=sub/rel.sock"
kill_and_reap um "$pid"
restore_bg "$T_DIR/ckpt" "$pid"
kill -USR1 "$pid" || fail "cannot signal restored pid $pid"
expect_pass "$log" "$RESTORE_PID" 30
pass
