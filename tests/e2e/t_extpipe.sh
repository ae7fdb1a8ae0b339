#!/bin/bash
# SPDX-License-Identifier: MIT
# e2e-lane: isolated (its own namespaces or files only: runs beside the shared lane)
#
# A process whose stdout is a pipe to a reader outside the container (as
# when a harness captures its output).  The image marks that pipe
# external; crfs-restore refuses it without being told what to connect it
# to, naming --inherit-fd; given its own stdout (another pipe to another
# reader) with --inherit-fd pipe:[INO]=1, the restored process writes on
# and its words reach that reader.
. "$(dirname "$0")/lib.sh"

PY=$(python_bin)
[ -x "$PY" ] || fail "python3 not found"

read -r -d '' W <<'EOS'
import os, signal, sys, time
os.setsid()
go = []
signal.signal(signal.SIGUSR1, lambda s, f: go.append(1))
print("READY", flush=True)
while not go:
    time.sleep(0.02)
print("PASS extpipe.written", flush=True)
EOS

crfs_mount
# the reader is our child, not the workload's
exec {out}> >(exec cat >"$T_DIR/out1")
(exec 1>&"$out"; close_fds; exec "$PY" -c "$W") </dev/null 2>"$T_DIR/err" &
pid=$!
exec {out}>&-
track_pid "$pid"
wait_ready "$T_DIR/out1" "$pid"
checkpoint ep "$pid" "$T_DIR/ckpt"
line=$(grep ' pipe .*external=1' "$T_DIR/ckpt/files") ||
	fail "stdout's pipe is not marked external: $(grep pipe "$T_DIR/ckpt/files")"
ino=$(sed -n 's/.* ino=\([0-9]*\).*/\1/p' <<<"$line")
kill_and_reap ep "$pid"

"$CRFS_BIN/crfs-restore" "$T_DIR/ckpt" </dev/null >"$T_DIR/r1.out" 2>&1 &&
	fail "restore without --inherit-fd succeeded"
grep -q -- "--inherit-fd 'pipe:\[$ino\]=FD'" "$T_DIR/r1.out" ||
	fail "the refusal does not name --inherit-fd: $(cat "$T_DIR/r1.out")"

rm -f "$T_DIR/pf"
exec {out}> >(exec cat >"$T_DIR/out2")
"$CRFS_BIN/crfs-restore" --inherit-fd "pipe:[$ino]=1" --pidfile "$T_DIR/pf" \
	"$T_DIR/ckpt" </dev/null 2>"$T_DIR/r2.err" >&"$out" &
RESTORE_PID=$!
exec {out}>&-
track_pid "$RESTORE_PID"
wait_for 20 eval '[ -s "$T_DIR/pf" ]' ||
	fail "no pidfile from crfs-restore: $(cat "$T_DIR/r2.err")"
kill -USR1 "$pid" || fail "cannot signal restored $pid"
wait_exit "$RESTORE_PID" 20 || fail "the restored process did not finish"
[ "$EXIT_STATUS" = 0 ] || fail "restored process exited $EXIT_STATUS: $(cat "$T_DIR/r2.err")"
wait_for 5 grep -q '^PASS extpipe.written' "$T_DIR/out2" ||
	fail "nothing reached the new reader: $(cat "$T_DIR/out2")"
pass
