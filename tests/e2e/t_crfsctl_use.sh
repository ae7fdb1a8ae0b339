#!/bin/bash
# SPDX-License-Identifier: MIT
# e2e-lane: shared pty (ptys of the host's devpts)
#
# Everyday use: --version of crfs, crfs-restore, crfsctl and crfs-send; crfsctl
# --help and its exit statuses (2 usage, 3 no such container); status
# --json (parsed by python3) running and frozen; checkpoint progress on
# a terminal (script(1) gives it one: bytes, rate) and silence on
# standard error otherwise; the mount's root shows a real time.  The
# process, checkpointed twice with --leave-running, then checks itself.
. "$(dirname "$0")/lib.sh"

CTL=$CRFS_BIN/crfsctl
VERSION=$(cat "$REPO_ROOT/VERSION")
command -v python3 >/dev/null || fail "python3 not found"
command -v script >/dev/null || fail "script (bsdutils) not found"
crfs_mount
export CRFS_MNT=$MNT PATH=$CRFS_BIN:$PATH

for b in crfs crfs-restore crfsctl crfs-send; do
	[ "$("$CRFS_BIN/$b" --version)" = "$b $VERSION" ] ||
		fail "$b --version says '$("$CRFS_BIN/$b" --version)'"
done
"$CTL" --help | grep -q '^exit status' || fail "crfsctl --help lists no exit status"
"$CTL" frobnicate 2>/dev/null
[ $? = 2 ] || fail "crfsctl with a bad command does not exit 2"
"$CTL" status nosuch 2>/dev/null
[ $? = 3 ] || fail "crfsctl status of a missing container does not exit 3"
now=$(date +%s)
mt=$(stat -c %Y "$MNT")
[ $((now - mt)) -lt 3600 ] && [ "$mt" -le "$now" ] ||
	fail "the mount's root is dated $(stat -c %y "$MNT")"

log=$T_DIR/pause.log
: >"$log"
_logs+=("$log")
pid=$(close_fds; "$CTL" run job -- sh -c "exec '$CRFS_TESTS/wl_pause' pause 64 >'$log' 2>&1") ||
	fail "crfsctl run failed"
track_pid "$pid"
wait_ready "$log" "$pid"
wait_sleeping "$pid"

# json_check EXPR: python3 asserts EXPR about j, the parsed JSON on stdin
json_check() {
	python3 -c 'import json, sys; j = json.load(sys.stdin); sys.exit(0 if ('"$1"') else 1)'
}
"$CTL" status --json | json_check "j == [dict(name='job', state='running', root=$pid, freeze_id=j[0]['freeze_id'], unsupported=[], error=None)]" ||
	fail "status --json: $("$CTL" status --json)"
ctl_write job freeze || fail "freeze failed"
"$CTL" status --json job | json_check "j['state'] == 'frozen' and j['root'] == $pid and j['freeze_id'] is not None" ||
	fail "status --json job while frozen: $("$CTL" status --json job)"
cr_thaw job

# not a terminal: nothing on standard error
"$CTL" checkpoint --leave-running job "$T_DIR/c1" >"$T_DIR/c1.out" 2>"$T_DIR/c1.err" ||
	fail "checkpoint failed: $(cat "$T_DIR/c1.err")"
[ -s "$T_DIR/c1.err" ] && fail "checkpoint wrote to a non-terminal stderr: $(head -c 200 "$T_DIR/c1.err")"
# a terminal: progress
script -qec "'$CTL' checkpoint --leave-running job '$T_DIR/c2'" /dev/null \
	</dev/null >"$T_DIR/c2.out" 2>&1 || fail "checkpoint on a terminal failed: $(tr '\r' '\n' <"$T_DIR/c2.out" | tail -n 3)"
tr '\r' '\n' <"$T_DIR/c2.out" | grep -Eq '^copied [0-9.]+ MiB in [0-9.]+ s \([0-9.]+ MiB/s\)' ||
	fail "no progress on a terminal: $(tr '\r' '\n' <"$T_DIR/c2.out" | head -n 5 | tr '\n' '|')"
note "on a terminal: $(tr '\r' '\n' <"$T_DIR/c2.out" | grep -E 'MiB' | tail -n 2 | tr '\n' '|')"
expect_state job running
kill -USR1 "$pid" || fail "cannot signal $pid"
expect_pass "$log" "$pid" 30
pass
