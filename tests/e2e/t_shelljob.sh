#!/bin/bash
# SPDX-License-Identifier: MIT
# e2e-lane: shared pty (ptys of the host's devpts)
#
# A shell job: a process whose terminal is outside the container (here a
# pty held by a helper standing in for the user's terminal emulator).
# Restoring it without --shell-job must be refused with a message naming
# the option; with --shell-job, crfs-restore runs on another terminal and
# the process must find itself on a terminal, and what it writes must
# arrive on crfs-restore's.
. "$(dirname "$0")/lib.sh"

PY=$(python_bin)
[ -x "$PY" ] || fail "python3 not found"

read -r -d '' JOB <<'EOS'
import os, signal, sys, time
go = []
signal.signal(signal.SIGUSR1, lambda s, f: go.append(1))
print("READY ROOT=%d" % os.getpid(), flush=True)
while not go:
    time.sleep(0.02)
# on a terminal still, and (the test checks) it is crfs-restore's one
ok = os.isatty(0) and os.isatty(1)
print("%s shelljob.terminal" % ("PASS" if ok else "FAIL"), flush=True)
sys.exit(0 if ok else 1)
EOS

crfs_mount
log=$T_DIR/job.log
start_workload "$T_DIR/helper.out" "$PY" -c "$PTYRUN_PY" "$log" "$PY" -c "$JOB"
helper=$WL_PID
wait_root "$log" "$helper"
pid=$ROOT_PID
checkpoint sj "$pid" "$T_DIR/ckpt"
grep -q ' pts .*external=1' "$T_DIR/ckpt/files" ||
	fail "the outside terminal is not marked external: $(grep pts "$T_DIR/ckpt/files")"
kill_and_reap sj "$pid" "$helper"

"$CRFS_BIN/crfs-restore" "$T_DIR/ckpt" </dev/null >"$T_DIR/r1.out" 2>&1 &&
	fail "restore without --shell-job succeeded"
grep -q -- '--shell-job' "$T_DIR/r1.out" ||
	fail "the refusal does not name --shell-job: $(cat "$T_DIR/r1.out")"

log2=$T_DIR/job2.log
start_workload "$T_DIR/helper2.out" "$PY" -c "$PTYRUN_PY" "$log2" \
	"$CRFS_BIN/crfs-restore" --shell-job --pidfile "$T_DIR/r2.pid" "$T_DIR/ckpt"
helper2=$WL_PID
# the pidfile, not /proc/PID: the pid exists long before the restore
# is done, and a signal sent then may find no handler yet
wait_for 20 eval '[ -s "$T_DIR/r2.pid" ]' || fail "pid $pid was not restored: $(cat "$log2")"
[ "$(tr -dc 0-9 <"$T_DIR/r2.pid")" = "$pid" ] ||
	fail "restored pid is '$(cat "$T_DIR/r2.pid")', want $pid"
track_pid "$pid"
kill -USR1 "$pid" || fail "cannot signal restored $pid"
expect_pass "$log2" "$helper2" 30
pass
