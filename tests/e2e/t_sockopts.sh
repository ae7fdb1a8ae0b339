#!/bin/bash
# SPDX-License-Identifier: MIT
# e2e-lane: shared net (the host's network namespace)
#
# wl_sockopts: valued socket options (linger, keepalive times, cork,
# congestion control, maxseg, priority, mark, IP and IPv6 options,
# UDP-Lite coverage, a device bound to) and classic BPF filters, one
# locked, on idle inet sockets and a unix pair, checked by the workload
# after freeze and thaw, then after kill and restore, with a message
# queued before its filter came.  An eBPF filter (SO_ATTACH_BPF), whose
# program the kernel does not give back, is refused by name.
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

read -r -d '' EBPF <<'EOS'
import ctypes, os, socket, struct, sys
os.setsid()
libc = ctypes.CDLL(None, use_errno=True)
# r0 = 0; exit: drop everything
code = ctypes.create_string_buffer(struct.pack("<BBhiBBhi", 0xb7, 0, 0, 0, 0x95, 0, 0, 0))
lic = ctypes.create_string_buffer(b"GPL")
attr = ctypes.create_string_buffer(struct.pack("<IIQQ", 1, 2, ctypes.addressof(code),
                                               ctypes.addressof(lic)), 128)
prog = libc.syscall(321, 5, attr, 128)      # bpf(BPF_PROG_LOAD)
if prog < 0:
    print("FAIL setup: bpf: errno %d" % ctypes.get_errno(), flush=True)
    sys.exit(2)
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 0))
s.setsockopt(socket.SOL_SOCKET, 50, prog)   # SO_ATTACH_BPF
os.close(prog)
ready_then_wait()
s.settimeout(0.3)
s.sendto(b"x", s.getsockname())
try:
    s.recv(1)
    print("FAIL ebpf: the filter is gone", flush=True)
    sys.exit(1)
except socket.timeout:
    print("PASS ebpf", flush=True)
EOS
PY=$(python_bin)
[ -x "$PY" ] || fail "python3 not found"
elog=$T_DIR/ebpf.log
start_workload "$elog" "$PY" -c "$PY_LIB
$EBPF"
epid=$WL_PID
wait_ready "$elog" "$epid"
expect_refused eb "$epid" "an eBPF socket filter (SO_ATTACH_BPF) is not supported"
kill -USR1 "$epid"
expect_pass "$elog" "$epid" 20
pass
