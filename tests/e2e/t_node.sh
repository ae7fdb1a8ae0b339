#!/bin/bash
# SPDX-License-Identifier: MIT
# e2e-lane: shared pty (ptys of the host's devpts)
#
# Node.js: libuv's epoll loop with its eventfds and self-pipes, a pool of
# threads, a setInterval timer and a signal handler.  After checkpoint,
# kill and restore the timer ticks on from where it was, and SIGUSR1
# reaches the JavaScript handler.
. "$(dirname "$0")/lib.sh"

command -v node >/dev/null || { note "node not found: skipped"; pass; }

read -r -d '' JS <<'EOS'
let n = 0;
process.on('SIGUSR1', () => {
	console.log((n >= 30 ? 'PASS' : 'FAIL') + ' node.ticks ' + n);
	process.exit(n >= 30 ? 0 : 1);
});
setInterval(() => { n++; if (n % 10 == 0) console.log('tick ' + n); }, 20);
console.log('READY');
EOS

crfs_mount
start_workload "$T_DIR/node.log" setsid node -e "$JS"
pid=$WL_PID
wait_ready "$T_DIR/node.log" "$pid"
wait_line "$T_DIR/node.log" '^tick 20$' 20 "$pid"
checkpoint nd "$pid" "$T_DIR/ckpt"
grep -q ' epoll ' "$T_DIR/ckpt/files" || fail "no epoll in node's image"
kill_and_reap nd "$pid"
last=$(grep -c '^tick' "$T_DIR/node.log")
restore_bg "$T_DIR/ckpt" "$pid"
wait_for 10 eval '[ "$(grep -c "^tick" "$T_DIR/node.log")" -gt "$last" ]' ||
	fail "the timer did not tick after the restore"
kill -USR1 "$pid" || fail "cannot signal restored $pid"
expect_pass "$T_DIR/node.log" "$RESTORE_PID" 30
pass
