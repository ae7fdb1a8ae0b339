#!/bin/bash
# SPDX-License-Identifier: MIT
#
# wl_sockopts: valued socket options (linger, keepalive times, cork,
# congestion control, maxseg, priority, mark, IP and IPv6 options,
# UDP-Lite coverage, a device bound to) and classic BPF filters, one
# locked, on idle inet sockets and a unix pair, checked by the workload
# after freeze and thaw, then after kill and restore, with a message
# queued before its filter came.
. "$(dirname "$0")/lib.sh"

crfs_mount
log=$T_DIR/sockopts.log
start_workload "$log" "$CRFS_TESTS/wl_sockopts"
pid=$WL_PID
wait_ready "$log" "$pid"
cr_attach so "$pid"
cr_freeze so
cr_thaw so
kill -USR1 "$pid" || fail "cannot signal $pid"
wait_line "$log" '^CHECKED 1$' 20 "$pid"
cr_freeze so
cr_copy so "$T_DIR/ckpt"
for want in tcp_congestion:reno linger:1/5 filter: lock_filter:1 \
	    udplite_send_cscov:20 'bindtodevice:lo'; do
	grep -q "sockopts=.*$want" "$T_DIR/ckpt/files" ||
		fail "files has no $want: $(grep -c sockopts= "$T_DIR/ckpt/files") lines with sockopts"
done
kill_and_reap so "$pid"
restore_bg "$T_DIR/ckpt" "$pid"
kill -USR1 "$pid" || fail "cannot signal restored pid $pid"
expect_pass "$log" "$RESTORE_PID" 30
pass
