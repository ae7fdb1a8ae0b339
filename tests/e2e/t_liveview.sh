#!/bin/bash
# SPDX-License-Identifier: MIT
# e2e-lane: isolated (its own namespaces or files only: runs beside the shared lane)
#
# wl_liveview: the live view of a running container.  While the tree runs
# (never stopped: every task's State is checked around each read, and the
# workload measures its ticker's longest gap meanwhile), tree and the
# per-process and per-thread files show what is current: the root's comm
# (renamed every 10 ms) changes between reads, an fd opened later appears
# in fds, a zombie shows only its attr, a process reaped leaves the
# listing, tree, and reads of its files (even through a descriptor opened
# before); a thread's id is no process.  The files are
# read-only, sized 0, and leave out what needs a stopped task.  A cp -a
# of the live view is refused by crfs-restore by name.  Freezing shows the
# snapshot (exact sizes, though the kernel had the live files cached), and
# thawing the live view again; the workload then checks itself.
. "$(dirname "$0")/lib.sh"

crfs_mount
LATE=$T_DIR/late
LOG=$T_DIR/lv.log
C=$MNT/lv
start_workload "$LOG" "$CRFS_TESTS/wl_liveview" "$LATE"
wait_ready "$LOG" "$WL_PID" 30
read -r _ ROOT A B < <(grep -m1 '^PIDS ' "$LOG")
[ "$ROOT" = "$WL_PID" ] || fail "PIDS line names $ROOT, started $WL_PID"
cr_attach lv "$ROOT"

# lv_read FILE: one read of a live file, under a timeout
lv_read() {
	timeout "$T_CTL_TIMEOUT" cat "$C/$1"
}

# running: every task of the tree runs on, neither stopped nor traced
running() {
	local p t
	for p in "$ROOT" "$A"; do
		for t in /proc/"$p"/task/*; do
			task_released "${t##*/}" ||
				fail "task ${t##*/} of $p is stopped or traced: $(grep -E '^(State|TracerPid):' "$t/status" | tr '\n' ' ')"
		done
	done
}

# what the directory shows: ctl, tree and the processes, nothing of a snapshot
names=$(timeout "$T_CTL_TIMEOUT" ls "$C" | sort | tr '\n' ' ')
[ "$names" = "$(printf '%s\n' "$ROOT" "$A" "$B" ctl tree | sort | tr '\n' ' ')" ] ||
	fail "live listing is '$names'"
for f in image pages files; do
	[ -e "$C/$f" ] && fail "live view shows $f"
done
names=$(timeout "$T_CTL_TIMEOUT" ls "$C/$ROOT" | tr '\n' ' ')
[ "$names" = "attr creds fds maps mm rlimits signals task " ] ||
	fail "live $ROOT/ holds '$names'"
[ "$(stat -c '%s %A' "$C/$ROOT/attr")" = "0 -r--------" ] ||
	fail "live attr is $(stat -c '%s %A' "$C/$ROOT/attr"), want 0 -r--------"
(echo x >"$C/$ROOT/attr") 2>/dev/null && fail "a live file took a write"

kill -USR2 "$ROOT"
wait_line "$LOG" '^LIVE-ON$' 20 "$ROOT"

# the root's comm changes between two reads while the tree runs
comm_now() {
	lv_read "$ROOT/attr" | sed -n 's/^comm //p'
}
wait_for 20 eval 'case $(comm_now) in lv[0-9]*) true ;; *) false ;; esac' ||
	fail "live attr's comm is '$(comm_now)', not lvN"
first=$(comm_now)
running
wait_for 20 eval '[ "$(comm_now)" != "$first" ]' ||
	fail "the root's comm stayed '$first' for 20s"
running
now=$(lv_read tree | awk -v p="$ROOT" '$1 == p { print $6 }')
case $now in lv[0-9]*) [ "$now" != "$first" ] || fail "tree shows the old comm $now" ;;
*) fail "tree shows comm '$now' for the root" ;; esac
[ "$(lv_read tree | wc -l)" = 4 ] || fail "tree: $(lv_read tree | tr '\n' '|')"
lv_read tree | grep -qE "^$A $ROOT .* 2 wl_liveview$" || fail "tree lacks $A: $(lv_read tree | tr '\n' '|')"

# the attributes /proc gives; what needs a stopped task left out
lv_read "$ROOT/attr" | grep -qx 'threads 3' || fail "attr: not 3 threads"
lv_read "$ROOT/attr" | grep -qE '^(dumpable|pdeathsig|child_subreaper|membarrier) ' &&
	fail "live attr shows keys only a stopped task tells"
lv_read "$ROOT/creds" | grep -qx "uid $(id -u)" || fail "creds: no uid $(id -u)"
lv_read "$ROOT/creds" | grep -q '^securebits' && fail "live creds shows securebits"
lv_read "$ROOT/mm" | grep -q '^start_brk 0x' || fail "mm: no start_brk"
lv_read "$ROOT/mm" | grep -q '^brk ' && fail "live mm shows brk"
lv_read "$ROOT/maps" | grep -q "$CRFS_TESTS/wl_liveview$" || fail "maps: no wl_liveview mapping"
lv_read "$ROOT/rlimits" | grep -q '^nofile ' || fail "rlimits: no nofile"
tids=$(timeout "$T_CTL_TIMEOUT" ls "$C/$ROOT/task" | tr '\n' ' ')
[ "$tids" = "$(ls /proc/"$ROOT"/task | tr '\n' ' ')" ] || fail "task/ lists '$tids'"
for t in $tids; do
	lv_read "$ROOT/task/$t/sched" | grep -q '^policy other$' || fail "task/$t/sched"
	# creds only for the thread with credentials of its own, as at freeze
	names=$(timeout "$T_CTL_TIMEOUT" ls "$C/$ROOT/task/$t" | tr '\n' ' ')
	if [ "$(cat "/proc/$ROOT/task/$t/comm")" = lv-idle ]; then
		[ "$names" = "creds sched signals " ] || fail "idle thread $t holds '$names'"
		lv_read "$ROOT/task/$t/creds" | grep -qx 'egid 4321' ||
			fail "idle thread $t: no egid 4321 in its creds"
	else
		[ "$names" = "sched signals " ] || fail "thread $t holds '$names'"
	fi
done
lv_read "$ROOT/creds" | grep -qx 'egid 4321' && fail "the process's creds are the idle thread's"
# signals: B blocked SIGPROF (27) and SIGXCPU (24) and sent the first to
# itself, the second to its thread; the sets are /proc's
sig_set() { # FILE KEY: the value as a number
	local v
	v=$(lv_read "$1" | awk -v k="$2" '$1 == k { print $2 }')
	[[ $v =~ ^0x[0-9a-f]+$ ]] && echo $((v))
}
wait_for 20 eval '[ "$(sig_set "$B/signals" shared_pending)" = $((1 << 26)) ]' ||
	fail "$B/signals: no SIGPROF pending: $(lv_read "$B/signals" | tr '\n' '|')"
[ "$(sig_set "$B/task/$B/signals" pending)" = $((1 << 23)) ] ||
	fail "task/$B/signals: no SIGXCPU pending: $(lv_read "$B/task/$B/signals" | tr '\n' '|')"
for f in "$B/signals" "$B/task/$B/signals"; do
	blk=$(sig_set "$f" blocked)
	[ -n "$blk" ] && (( (blk >> 26 & 1) && (blk >> 23 & 1) )) ||
		fail "$f: SIGPROF and SIGXCPU not blocked: $(lv_read "$f" | tr '\n' '|')"
done
[ "$(sig_set "$B/signals" caught)" = "$((16#$(awk '/^SigCgt:/ { print $2 }' /proc/"$B"/status)))" ] ||
	fail "$B/signals: caught is not /proc's SigCgt"
lv_read "$B/task/$B/signals" | grep -q '^caught' && fail "a thread's signals shows the process's caught"
# the id of a thread below the root is no process of the tree
for t in $(ls /proc/"$A"/task); do
	[ "$t" = "$A" ] || ! timeout "$T_CTL_TIMEOUT" cat "$C/$t/attr" >/dev/null 2>&1 ||
		fail "thread $t of $A shows as a process"
done
[ "$(timeout "$T_CTL_TIMEOUT" ls "$C/$A/task" | wc -l)" = 2 ] || fail "task/ of $A"
running

# an fd opened later shows up at the next read
lv_read "$A/fds" | grep -q "$LATE" && fail "fds shows $LATE before it is opened"
kill -USR2 "$A"
wait_line "$LOG" '^OPENED [0-9]+$' 20 "$A"
fd=$(sed -n 's/^OPENED //p' "$LOG")
lv_read "$A/fds" | grep -qx "$fd $LATE cloexec" ||
	fail "fds lacks '$fd $LATE cloexec': $(lv_read "$A/fds" | tr '\n' '|')"
running

# a zombie shows its attr only; once reaped it leaves the view, even a
# descriptor opened before
exec 7<"$C/$B/attr" || fail "cannot open $B/attr"
kill -TERM "$B"
wait_for 20 eval '[ "$(proc_state '"$B"')" = Z ]' || fail "$B is no zombie"
names=$(timeout "$T_CTL_TIMEOUT" ls "$C/$B" | tr '\n' ' ')
[ "$names" = "attr " ] || fail "zombie $B/ holds '$names'"
lv_read "$B/attr" | grep -qx 'zombie 1' || fail "zombie $B: attr says no zombie"
lv_read "$B/attr" | grep -qx 'exit_status 15' || fail "zombie $B: not killed by SIGTERM"
kill -HUP "$ROOT"
wait_line "$LOG" "^REAPED $B\$" 20 "$ROOT"
cat <&7 >/dev/null 2>&1 && fail "a read of exited $B's attr succeeded"
exec 7<&-
timeout "$T_CTL_TIMEOUT" cat "$C/$B/attr" >/dev/null 2>&1 && fail "exited $B's attr opens"
timeout "$T_CTL_TIMEOUT" ls "$C" | grep -qx "$B" && fail "exited $B still listed"
lv_read tree | grep -q "^$B " && fail "exited $B still in tree"
running

kill -USR2 "$ROOT"
wait_line "$LOG" '^LIVE-OFF [0-9]+$' 20 "$ROOT"
note "ticker's longest gap while the live view was read: $(sed -n 's/^LIVE-OFF //p' "$LOG") ms"

# a copy of the live view is no checkpoint
timeout "$T_COPY_TIMEOUT" cp -a "$C" "$T_DIR/livecopy" 2>>"$T_DIR/cp.err" ||
	fail "cp -a of the live view failed"
[ -s "$T_DIR/livecopy/$ROOT/attr" ] || fail "the copy's attr is empty"
[ -e "$T_DIR/livecopy/image" ] && fail "the live copy has an image"
timeout "$T_RESTORE_TIMEOUT" "$CRFS_BIN/crfs-restore" "$T_DIR/livecopy" \
	</dev/null >/dev/null 2>"$T_DIR/restore-live.err" &&
	fail "crfs-restore accepted a copy of the live view"
grep -q "livecopy/image: missing" "$T_DIR/restore-live.err" ||
	fail "restore of the live copy says: $(tr '\n' '|' <"$T_DIR/restore-live.err")"

# freeze: the snapshot, with exact sizes though live ones were cached
stat "$C/$ROOT/attr" "$C/$ROOT/mm" "$C/tree" >/dev/null
cr_freeze lv
for f in image "$ROOT/pages" "$ROOT/sigactions"; do
	[ -e "$C/$f" ] || fail "frozen: no $f"
done
for f in "$ROOT/attr" "$ROOT/mm" tree; do
	size=$(stat -c %s "$C/$f")
	[ "$size" -gt 0 ] && [ "$size" = "$(wc -c <"$C/$f")" ] ||
		fail "frozen $f: st_size $size, $(wc -c <"$C/$f") bytes"
done
grep -q '^dumpable ' "$C/$ROOT/attr" || fail "frozen attr lacks dumpable"
cr_thaw lv
[ -e "$C/image" ] && fail "thawed: image still shown"
wait_for 20 eval '! lv_read '"$ROOT"'/attr | grep -q "^dumpable "' ||
	fail "thawed: attr is still the snapshot's"
first=$(comm_now)
wait_for 20 eval '[ "$(comm_now)" != "$first" ]' ||
	fail "thawed: the root's comm stayed '$first'"

kill -USR1 "$ROOT"
expect_pass "$LOG" "$ROOT" 60
pass
