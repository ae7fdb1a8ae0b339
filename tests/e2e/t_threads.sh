#!/bin/bash
# SPDX-License-Identifier: MIT
# e2e-lane: exclusive (timing, or host-wide events: runs alone)
#
# A process of 9 threads, 8 workers each caught in another state (user
# spin, nanosleep, pthread_cond_wait, pthread_mutex_lock, poll, sigwaitinfo,
# pause, FUTEX_WAIT), each with its own registers, TLS, blocked mask,
# sigaltstack and pending queued signals (see wl_threads.c).
#
# Checked from outside: the image has a task directory per thread; after
# the restore the process has the same thread ids, none left stopped or
# traced, every worker but the spinner asleep again.  From inside, after
# SIGUSR1: every piece of per-thread state, and how each wait ended.
. "$(dirname "$0")/lib.sh"

SLEEP=8		# the nanosleep worker's sleep
DELAY=3		# checkpoint this far into it ...
SLACK=2.5	# ... and allow less than that much overshoot

crfs_mount
log=$T_DIR/threads.log
start_workload "$log" "$CRFS_TESTS/wl_threads" "$SLEEP" "$SLACK"
pid=$WL_PID
wait_ready "$log" "$pid"
tids_before=$(ls "/proc/$pid/task" | sort -n)
n=$(grep -c . <<<"$tids_before")
[ "$n" = 9 ] || fail "$n threads before the checkpoint, want 9"
spin_tid=$(awk '$1 == "#" && $2 == "tid" && $4 == "spin" { print $3 }' "$log")
[ -n "$spin_tid" ] || fail "no spin thread in the log"

sleep "$DELAY"
checkpoint th "$pid" "$T_DIR/ckpt"
for t in $tids_before; do
	for f in regs xstate sigstate; do
		[ -f "$T_DIR/ckpt/$pid/task/$t/$f" ] || fail "image lacks $pid/task/$t/$f"
	done
done
kill_and_reap th "$pid"
restore_bg "$T_DIR/ckpt" "$pid"

tids_after=$(ls "/proc/$pid/task" | sort -n)
[ "$tids_after" = "$tids_before" ] ||
	fail "thread ids after restore: $(tr '\n' ' ' <<<"$tids_after"), before: $(tr '\n' ' ' <<<"$tids_before")"
# nobody left stopped or traced, every blocked worker back asleep
all_settled() {
	local t st tr
	for t in $tids_before; do
		st=$(awk '{ s = $0; sub(/.*\) /, "", s); split(s, f, " "); print f[1] }' \
			"/proc/$pid/task/$t/stat" 2>/dev/null)
		tr=$(awk '/^TracerPid:/ { print $2 }' "/proc/$pid/task/$t/status" 2>/dev/null)
		[ "${tr:-x}" = 0 ] || return 1
		case $st in t | T | "") return 1 ;; esac
		[ "$t" = "$spin_tid" ] || [ "$st" = S ] || return 1
	done
}
if ! wait_for 5 all_settled; then
	for t in $tids_before; do
		note "task $t: $(cut -d' ' -f3 "/proc/$pid/task/$t/stat" 2>/dev/null) tracer $(awk '/^TracerPid:/ { print $2 }' "/proc/$pid/task/$t/status" 2>/dev/null) syscall $(cut -d' ' -f1 "/proc/$pid/task/$t/syscall" 2>/dev/null)"
	done
	fail "restored threads not all running/asleep and untraced"
fi

kill -USR1 "$pid" || fail "cannot signal restored pid $pid"
expect_pass "$log" "$RESTORE_PID" 60
[ "$(grep -c '^PASS t[0-7]\.' "$log")" -ge 80 ] ||
	fail "only $(grep -c '^PASS t[0-7]\.' "$log") per-thread PASS lines"
note "$(grep '^# t' "$log" | tr '\n' ' ')"
pass
