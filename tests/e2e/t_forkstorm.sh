#!/bin/bash
# SPDX-License-Identifier: MIT
# e2e-lane: exclusive (timing, or host-wide events: runs alone)
#
# Freeze a tree that keeps forking children (which make threads and
# grandchildren) and creating threads (wl_forkstorm.c), five times over.
# Each time, while frozen: every thread of every process of its session
# (found by session id, so a process that escaped the tree counts too) is
# in a ptrace stop (t/T) with the crfs daemon as tracer, or a zombie, and
# the set of tasks does not change for half a second.  After each thaw:
# none of those tasks is still traced or stopped, and the storm goes on
# (its counter grows).  Finally it stops, and every child it made must
# have exited 0.
#
# A freeze may meet a SIGCHLD of a child that exited just before it was
# stopped; ctl then names it in an "unsupported" line (documented: "thaw
# and try again"), which only matters for a copy, not here.  The freeze
# itself must succeed every time.
. "$(dirname "$0")/lib.sh"

ROUNDS=5

# "TID STATE TRACER" for every task of every process in session $1
session_tasks() {
	local f s st sid tracer tid
	for f in /proc/[0-9]*/task/[0-9]*/stat; do
		s=$(cat "$f" 2>/dev/null) || continue
		s=${s##*) }
		read -r st _ _ sid _ <<<"$s"
		[ "$sid" = "$1" ] || continue
		tid=${f%/stat}
		tid=${tid##*/}
		tracer=$(awk '/^TracerPid:/ { print $2 }' "${f%/stat}/status" 2>/dev/null)
		echo "$tid $st ${tracer:-?}"
	done | sort -n
}

crfs_mount
daemon=$(daemon_pid)
[ -n "$daemon" ] || fail "crfs daemon pid unknown"
log=$T_DIR/storm.log
start_workload "$log" "$CRFS_TESTS/wl_forkstorm"
pid=$WL_PID
wait_ready "$log" "$pid"
cr_attach fs "$pid"

for round in $(seq "$ROUNDS"); do
	get_count "$log" "$pid"
	c0=$COUNT
	ctl_write fs freeze ||
		fail "round $round: echo freeze > fs/ctl failed; ctl: $(ctl_read fs | tr '\n' '|')"
	expect_state fs frozen 1
	t1=$(session_tasks "$pid")
	n=$(grep -c . <<<"$t1")
	[ "$n" -ge 3 ] || fail "round $round: only $n tasks in the session while frozen"
	bad=$(awk -v d="$daemon" '!(($2 == "t" || $2 == "T") && $3 == d) && $2 != "Z"' <<<"$t1")
	[ -z "$bad" ] ||
		fail "round $round: tasks not stopped by crfs ($daemon) while frozen (tid state tracer): $(tr '\n' '|' <<<"$bad")"
	sleep 0.5
	t2=$(session_tasks "$pid")
	[ "$t1" = "$t2" ] ||
		fail "round $round: tasks changed while frozen: before $(tr '\n' '|' <<<"$t1") after $(tr '\n' '|' <<<"$t2")"
	note "round $round: $n tasks frozen ($(grep -c ' Z ' <<<"$t1") zombies), $(ctl_read fs | grep -c '^unsupported') unsupported lines"
	cr_thaw fs
	# every task seen frozen is gone or running free
	released() {
		local tid st tracer s
		while read -r tid _ _; do
			s=$(cat "/proc/$pid/task/$tid/stat" 2>/dev/null ||
				cat "/proc/$tid/stat" 2>/dev/null) || continue
			s=${s##*) }
			st=${s%% *}
			tracer=$(awk '/^TracerPid:/ { print $2 }' "/proc/$tid/status" 2>/dev/null)
			[ "$st" = t ] || [ "$st" = T ] && return 1
			[ "${tracer:-0}" = 0 ] || return 1
		done <<<"$t1"
		return 0
	}
	wait_for 5 released ||
		fail "round $round: tasks still stopped or traced after thaw: $(session_tasks "$pid" | awk '$2 == "t" || $2 == "T" || ($3 != 0 && $3 != "?")' | tr '\n' '|')"
	sleep 0.3
	get_count "$log" "$pid"
	[ "$COUNT" -gt "$c0" ] || fail "round $round: the storm stopped: count $COUNT after thaw, $c0 before the freeze"
done

timeout "$T_CTL_TIMEOUT" rmdir "$MNT/fs" 2>>"$T_DIR/ctl.err" || fail "rmdir $MNT/fs failed"
kill -USR1 "$pid" || fail "cannot signal $pid"
expect_pass "$log" "$pid" 30
# nothing of the session is left
wait_for 5 eval '[ -z "$(session_tasks "$pid")" ]' ||
	fail "tasks left in the session: $(session_tasks "$pid" | tr '\n' '|')"
pass
