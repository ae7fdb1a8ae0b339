#!/bin/bash
# SPDX-License-Identifier: MIT
# e2e-lane: shared net (the host's network namespace)
#
# Soak: CRFS_SOAK_CYCLES (default 60; `make soak`: 1000) freeze -> cp -a
# -> thaw cycles of one running wl_pause, then CRFS_SOAK_GENS (default 6;
# `make soak`: 100) generations of a wl_daemonkill tree (a root, a child,
# a TCP connection), each restored tree checkpointed, killed and restored
# again.  The daemon's open descriptors must not grow, nor its RSS by more
# than CRFS_SOAK_RSS_KIB (default 8192) from cycle 10 (generation 1) to
# the end; both are reported.  Each workload checks itself at the end.
# Its own network namespace: the lock table is no one else's business.
if [ -z "${CRFS_T_OWN_NET:-}" ]; then
	CRFS_T_OWN_NET=1 exec unshare --net "$0" "$@"
fi
. "$(dirname "$0")/lib.sh"
ip link set lo up || fail "cannot bring lo up"
command -v nft >/dev/null || fail "nft (nftables) not found"

CYCLES=${CRFS_SOAK_CYCLES:-60}
GENS=${CRFS_SOAK_GENS:-6}
RSS_KIB=${CRFS_SOAK_RSS_KIB:-8192}

# usage: "FDS RSS_KIB" of the daemon
usage() {
	local d
	d=$(daemon_pid)
	echo "$(ls "/proc/$d/fd" | wc -l) $(awk '/^VmRSS:/ { print $2 }' "/proc/$d/status")"
}

# no_growth WHAT "FDS RSS" "FDS RSS"
no_growth() {
	local f0 r0 f1 r1
	read -r f0 r0 <<<"$2"
	read -r f1 r1 <<<"$3"
	note "$1: daemon fds $f0 -> $f1, RSS $r0 -> $r1 KiB"
	echo "$1: daemon fds $f0 -> $f1, RSS $r0 -> $r1 KiB"
	[ "$f1" -le "$f0" ] || fail "$1: the daemon's open descriptors grew from $f0 to $f1"
	# ASan holds freed memory in quarantine: its RSS says nothing
	# (LeakSanitizer, at the daemon's exit, judges the leaks instead)
	if grep -q libasan "/proc/$(daemon_pid)/maps" 2>/dev/null; then
		note "$1: an ASan build: RSS not judged"
		return 0
	fi
	[ "$r1" -le $((r0 + RSS_KIB)) ] ||
		fail "$1: the daemon's RSS grew from $r0 to $r1 KiB (bound +$RSS_KIB)"
}

crfs_mount

# 1. cycles on one running process
LOG=$T_DIR/pause.log
start_workload "$LOG" "$CRFS_TESTS/wl_pause" pause 1
P=$WL_PID
wait_ready "$LOG" "$P" 30
cr_attach p "$P"
start=$SECONDS
for i in $(seq "$CYCLES"); do
	# the builtin echo, not ctl_write: no processes forked per cycle
	# (run.sh's timeout still ends a hang)
	echo freeze 2>>"$T_DIR/ctl.err" >"$MNT/p/ctl" ||
		fail "cycle $i: freeze failed: $(ctl_read p | tr '\n' '|')"
	cp -a "$MNT/p" "$T_DIR/img" 2>>"$T_DIR/cp.err" ||
		fail "cycle $i: cp -a failed"
	echo thaw 2>>"$T_DIR/ctl.err" >"$MNT/p/ctl" ||
		fail "cycle $i: thaw failed: $(ctl_read p | tr '\n' '|')"
	rm -rf "$T_DIR/img"
	[ "$i" = 10 ] && U10=$(usage)
done
[ "$CYCLES" -ge 10 ] || U10=$(usage)
no_growth "cycles 10 -> $CYCLES ($((SECONDS - start)) s)" "$U10" "$(usage)"
expect_state p running
timeout "$T_CTL_TIMEOUT" rmdir "$MNT/p" || fail "rmdir p failed"
kill -USR1 "$P" || fail "cannot signal $P"
expect_pass "$LOG" "$P" 30

# 2. generations: each restored tree is checkpointed again
LOG=$T_DIR/tree.log
start_workload "$LOG" "$CRFS_TESTS/wl_daemonkill" 1
R=$WL_PID
wait_ready "$LOG" "$R" 30
KID=$(pgrep -P "$R")
cp "$LOG" "$T_DIR/tree.ckpt.log"
SUB=
start=$SECONDS
for g in $(seq "$GENS"); do
	checkpoint t "$R" "$T_DIR/gen"
	ctl_write t kill || fail "gen $g: kill failed"
	if [ -z "$SUB" ]; then
		wait_exit "$R" 20 || fail "gen $g: $R not reapable after kill"
	else
		wait_exit "$SUB" 20 || fail "gen $g: the previous restore did not end"
	fi
	expect_state t dead
	timeout "$T_CTL_TIMEOUT" rmdir "$MNT/t" || fail "gen $g: rmdir failed"
	wait_gone "$KID" 10 || fail "gen $g: child $KID still there"
	rm -f "$T_DIR/gen.pid"
	# under a subreaper: the killed tree's child is reaped at once
	"$CRFS_TESTS/wl_subreaper" "$CRFS_BIN/crfs-restore" --pidfile "$T_DIR/gen.pid" \
		"$T_DIR/gen" </dev/null >/dev/null 2>"$T_DIR/restore.err" &
	SUB=$!
	track_pid "$SUB"
	wait_for "$T_RESTORE_TIMEOUT" eval '[ -s "$T_DIR/gen.pid" ] || ! proc_alive $SUB' ||
		fail "gen $g: no pidfile"
	[ "$(cat "$T_DIR/gen.pid")" = "$R" ] || fail "gen $g: restore failed: $(cat "$T_DIR/restore.err")"
	track_pid "$R"
	track_pid "$KID"
	rm -rf "$T_DIR/gen"
	[ "$g" = 1 ] && U1=$(usage)
done
no_growth "generations 1 -> $GENS ($((SECONDS - start)) s)" "$U1" "$(usage)"
cp "$T_DIR/tree.ckpt.log" "$LOG"
kill -USR1 "$R" || fail "cannot signal $R"
wait_exit "$SUB" 60 || fail "the last generation did not end"
[ "$EXIT_STATUS" = 0 ] || fail "the last generation exited with $EXIT_STATUS: $(grep -E '^(FAIL|DONE)' "$LOG" | tr '\n' '|')"
grep -q '^FAIL' "$LOG" && fail "$(grep '^FAIL' "$LOG" | tr '\n' '|')"
[ "$(grep -c '^DONE pass=[0-9]* fail=0$' "$LOG")" = 2 ] ||
	fail "root and child did not both pass: $(grep -E '^DONE' "$LOG" | tr '\n' '|')"
pass
