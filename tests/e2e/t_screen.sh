#!/bin/bash
# SPDX-License-Identifier: MIT
# e2e-lane: shared pty (ptys of the host's devpts)
#
# GNU screen: a detached session (its socket file's mode says "detached",
# a pty with an interactive bash in it) where a variable was set.  After
# kill and restore, `screen -ls` finds the session detached as before,
# commands typed in through it reach the same bash, which still has the
# variable.
. "$(dirname "$0")/lib.sh"

command -v screen >/dev/null || { note "screen not found: skipped"; pass; }
crfs_mount
export SCREENDIR=$T_DIR/screens
mkdir -m 700 "$SCREENDIR"
sc() { timeout 10 screen -S crfs "$@"; }
shown() {	# the window's text
	rm -f "$T_DIR/hc.txt"
	sc -X hardcopy "$T_DIR/hc.txt" && cat "$T_DIR/hc.txt" 2>/dev/null
}
(close_fds; exec screen -dmS crfs bash --norc -i) </dev/null >"$T_DIR/screen.out" 2>&1
# the session is PID.crfs in our own SCREENDIR
wait_for 10 eval 'ls "$SCREENDIR" | grep -q "\.crfs$"' || fail "no screen session"
server=$(ls "$SCREENDIR" | sed -n 's/^\([0-9]*\)\.crfs$/\1/p')
track_pid "$server"
sleep 0.3
sc -X stuff 'X=4242\n'
wait_for 5 eval 'shown | grep -q "X=4242"' || fail "the window did not take input"
before=$(screen -ls | grep -o '(Detached)')
[ "$before" = "(Detached)" ] || fail "screen -ls says '$(screen -ls | tr '\n' '|')'"

checkpoint sc "$server" "$T_DIR/ckpt"
ctl_write sc kill || fail "echo kill > ctl failed"
timeout "$T_CTL_TIMEOUT" rmdir "$MNT/sc" 2>/dev/null
# its parent is init, which reaps it in its own time: restore waits
restore_detached "$T_DIR/ckpt" "$server"
screen -ls | grep -q "$server.crfs.*(Detached)" ||
	fail "after restore screen -ls says '$(screen -ls | tr '\n' '|')'"
# (screen itself would expand $X: \$ passes it to bash)
sc -X stuff 'echo "value-\$X"\n'
wait_for 5 eval 'shown | grep -q "^value-4242"' ||
	fail "the restored window does not answer: $(shown | grep -v '^$' | tail -n 3 | tr '\n' '|')"
sc -X quit
pass
