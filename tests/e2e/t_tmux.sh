#!/bin/bash
# SPDX-License-Identifier: MIT
# e2e-lane: shared pty (ptys of the host's devpts)
#
# A real terminal multiplexer: a tmux server (daemonized, its clients'
# listening socket, a pty per pane, libevent's epoll loop) with an
# interactive bash in its pane that has a variable set.  After
# checkpoint, kill and restore, a new tmux client reaches the restored
# server through the socket and types into the pane; the same bash
# answers with the variable's value.  Then the same with vim in the pane,
# holding unsaved text: after the restore more is typed and :wq saves
# both.
. "$(dirname "$0")/lib.sh"

command -v tmux >/dev/null || fail "tmux not found"
sock=$T_DIR/tmux.sock
tm() { timeout 10 tmux -S "$sock" "$@"; }

crfs_mount
(close_fds; exec tmux -S "$sock" new-session -d -x 80 -y 24 "bash --norc -i") \
	</dev/null >"$T_DIR/tmux.out" 2>&1
server=$(pgrep -f "tmux -S $sock" | head -n 1)
[ -n "$server" ] || fail "no tmux server"
track_pid "$server"
shell=$(cat /proc/"$server"/task/*/children | tr -d ' ')
track_pid "$shell"
tm send-keys "X=4242" Enter
wait_for 5 eval 'tm capture-pane -p | grep -q "X=4242"' || fail "the pane did not take input"

checkpoint tx "$server" "$T_DIR/ckpt"
grep -q ' ptmx ' "$T_DIR/ckpt/files" || fail "no pty master in the image"
grep -q ' unix .*backlog=' "$T_DIR/ckpt/files" || fail "no listening socket in the image"
ctl_write tx kill || fail "echo kill > ctl failed"
timeout "$T_CTL_TIMEOUT" rmdir "$MNT/tx" 2>/dev/null
# the server's parent is init, which reaps it in its own time: restore waits
restore_detached "$T_DIR/ckpt" "$server"
tm send-keys 'echo "value-$X-$$"' Enter
wait_for 5 eval 'tm capture-pane -p | grep -q "^value-4242-$shell\$"' ||
	fail "the restored pane does not answer: $(tm capture-pane -p | grep -v '^$' | tail -n 3 | tr '\n' '|')"
tm kill-server

command -v vim >/dev/null || { note "no vim: skipping its part"; pass; }
sock=$T_DIR/vim.sock
(close_fds; exec tmux -S "$sock" new-session -d -x 100 -y 30 \
	"vim -u NONE -n $T_DIR/text") </dev/null >"$T_DIR/tmux2.out" 2>&1
server=$(pgrep -f "tmux -S $sock" | head -n 1)
[ -n "$server" ] || fail "no tmux server for vim"
track_pid "$server"
sleep 0.5
tm send-keys "ihello from before" Escape
wait_for 5 eval 'tm capture-pane -p | grep -q "hello from before"' || fail "vim did not take input"
checkpoint tv "$server" "$T_DIR/ckpt-vim"
ctl_write tv kill || fail "echo kill > ctl failed"
timeout "$T_CTL_TIMEOUT" rmdir "$MNT/tv" 2>/dev/null
restore_detached "$T_DIR/ckpt-vim" "$server"
tm send-keys "o" "and after restore" Escape ":wq" Enter
wait_for 5 eval '[ "$(cat "$T_DIR/text" 2>/dev/null)" = "hello from before
and after restore" ]' || fail "vim saved: $(cat "$T_DIR/text" 2>/dev/null | tr '\n' '|')"
tm kill-server 2>/dev/null
pass
