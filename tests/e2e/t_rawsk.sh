#!/bin/bash
# SPDX-License-Identifier: MIT
# e2e-lane: shared net (the host's network namespace)
#
# wl_rawsk: raw inet sockets in the workload's own network namespace
# (ICMP with ICMP_FILTER and IP_TTL, ICMPv6 bound to ::1 with an
# ICMP6_FILTER, UDP with IP_HDRINCL connected to 127.0.0.1, protocol 253
# bound to 127.0.0.1):
# options, addresses and traffic (echo to 127.0.0.1 and ::1 answered)
# checked by the workload after freeze and thaw, then after kill and
# restore.  A raw socket with a packet queued is refused by name, and the
# thaw leaves the packet in place.
. "$(dirname "$0")/lib.sh"

crfs_mount
log=$T_DIR/rawsk.log
start_workload "$log" "$CRFS_TESTS/wl_rawsk"
pid=$WL_PID
wait_ready "$log" "$pid"
cr_attach rk "$pid"
cr_freeze rk
cr_thaw rk
kill -USR1 "$pid" || fail "cannot signal $pid"
wait_line "$log" '^CHECKED 1$' 20 "$pid"
grep -q '^FAIL' "$log" && fail "after thaw: $(grep '^FAIL' "$log" | head -n 3 | tr '\n' ';')"
cr_freeze rk
cr_copy rk "$T_DIR/ckpt"
n=$(grep -c ' raw ' "$T_DIR/ckpt/files")
[ "$n" = 4 ] || fail "files has $n raw sockets, want 4"
grep -q ' raw .*sockopts=.*icmp_filter:' "$T_DIR/ckpt/files" ||
	fail "files has no icmp_filter"
grep -q ' raw .*sockopts=.*icmp6_filter:' "$T_DIR/ckpt/files" ||
	fail "files has no icmp6_filter"
grep -q ' raw .*dst=127.0.0.1:' "$T_DIR/ckpt/files" ||
	fail "files has no connected raw socket"
kill_and_reap rk "$pid"
restore_bg "$T_DIR/ckpt" "$pid"
kill -USR1 "$pid" || fail "cannot signal restored pid $pid"
expect_pass "$log" "$RESTORE_PID" 30

qlog=$T_DIR/queued.log
start_workload "$qlog" "$CRFS_TESTS/wl_rawsk" queued
qpid=$WL_PID
wait_ready "$qlog" "$qpid"
expect_refused rq "$qpid" "a raw socket with packets queued is not supported yet"
kill -USR1 "$qpid"
expect_pass "$qlog" "$qpid" 20
pass
