#!/bin/bash
# SPDX-License-Identifier: MIT
# e2e-lane: isolated (its own namespaces or files only: runs beside the shared lane)
#
# A real bus: dbus-daemon (a unix listener, an epoll loop, and a netlink
# audit socket) with a dbus-monitor connected to it, both in the tree.
# After kill and restore the same daemon takes new clients (a method call
# is answered) and the monitor's old connection still carries what is
# sent on the bus.
. "$(dirname "$0")/lib.sh"

command -v dbus-daemon >/dev/null && command -v dbus-monitor >/dev/null &&
	command -v dbus-send >/dev/null || { note "dbus not found: skipped"; pass; }
PY=$(python_bin)
[ -x "$PY" ] || fail "python3 not found"

crfs_mount
bus=$T_DIR/bus
mon=$T_DIR/monitor.log
cat >"$T_DIR/tree.sh" <<EOS
dbus-daemon --session --nofork --nopidfile --address=unix:path=$bus &
for i in \$(seq 200); do
	dbus-send --bus=unix:path=$bus --dest=org.freedesktop.DBus /org/freedesktop/DBus \
		org.freedesktop.DBus.GetId 2>/dev/null && break
	sleep 0.05
done
dbus-monitor --address unix:path=$bus "type='signal',interface='com.example.Crfs'" >$mon 2>&1 &
sleep 0.5
echo READY
wait
EOS
log=$T_DIR/tree.log
start_workload "$log" "$PY" -c "$SUBREAPER_PY" "$log" bash "$T_DIR/tree.sh"
wrapper=$WL_PID
wait_root "$log" "$wrapper"
root=$ROOT_PID
track_tree "$root"
send() { timeout 10 dbus-send --bus="unix:path=$bus" "$@"; }
# again until the monitor shows it: on a slow machine the monitor may
# not have its match rule in yet when the tree says READY
wait_for 20 eval 'send --type=signal /crfs com.example.Crfs.Ping \
	string:before-checkpoint && grep -q before-checkpoint "$mon"' ||
	fail "the monitor never showed the signal before the checkpoint: $(tail -n 3 "$mon")"
daemon=$(pgrep -f -P "$root" "dbus-daemon --session") || fail "no dbus-daemon child of $root"

checkpoint db "$root" "$T_DIR/ckpt"
grep -q ' netlink ' "$T_DIR/ckpt/files" || note "dbus-daemon held no netlink socket"
kill_and_reap db "$root" "$wrapper"
restore_bg "$T_DIR/ckpt" "$root"
track_tree "$root"
proc_alive "$daemon" || fail "dbus-daemon $daemon is not back"
send --print-reply --dest=org.freedesktop.DBus /org/freedesktop/DBus \
	org.freedesktop.DBus.GetId >"$T_DIR/id.out" 2>&1 ||
	fail "the restored bus does not answer: $(cat "$T_DIR/id.out")"
send --type=signal /crfs com.example.Crfs.Ping string:after-restore ||
	fail "dbus-send after the restore failed"
wait_line "$mon" after-restore 10
kill -TERM "$daemon"
wait_gone "$daemon" 10 || fail "dbus-daemon did not exit on SIGTERM"
pass
