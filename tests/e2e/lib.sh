# SPDX-License-Identifier: MIT
# shellcheck shell=bash
#
# tests/e2e/lib.sh - sourced by every tests/e2e/t_*.sh.
#
# Each test gets a private temporary directory ($T_DIR) holding its mount
# point ($MNT), workload logs and checkpoint images.  An EXIT trap kills
# every process the test started (by pid, checked against its start time
# so a recycled pid is never hit), unmounts and removes $T_DIR, whether
# the test passed, failed or was interrupted.
#
# A test ends with `pass` (prints "ok NAME", exit 0) or `fail REASON`
# (prints diagnostics to stderr and "FAIL NAME: REASON", exit 1).
#
# Environment:
#   CRFS_BIN     crfs, crfs-restore, crfsctl      (default: REPO/build/bin)
#   CRFS_TESTS   the workload binaries             (default: REPO/build/tests)
#   CRFS_E2E_KEEP=1  keep $T_DIR after the test, for post-mortems
#   WL_SKIP      passed through to the C workloads (see wl_common.h)
#
# Everything that touches the file system under test or waits for a
# process runs under a timeout: a hung daemon fails the test, never hangs
# it.

set -u

E2E_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd "$E2E_DIR/../.." && pwd)
CRFS_BIN=${CRFS_BIN:-$REPO_ROOT/build/bin}
CRFS_TESTS=${CRFS_TESTS:-$REPO_ROOT/build/tests}
case $CRFS_BIN in /*) ;; *) CRFS_BIN=$PWD/$CRFS_BIN ;; esac
case $CRFS_TESTS in /*) ;; *) CRFS_TESTS=$PWD/$CRFS_TESTS ;; esac

T_NAME=$(basename "$0" .sh)
T_CTL_TIMEOUT=${CRFS_E2E_CTL_TIMEOUT:-20}	# one ctl read/write, mkdir, rmdir
T_COPY_TIMEOUT=${CRFS_E2E_COPY_TIMEOUT:-120}	# one whole checkpoint copy
T_RESTORE_TIMEOUT=${CRFS_E2E_RESTORE_TIMEOUT:-60}

T_DIR=$(mktemp -d "/tmp/crfs-e2e-$T_NAME.XXXXXX") || {
	echo "FAIL $T_NAME: mktemp failed"
	exit 1
}
MNT=$T_DIR/mnt

_tracked=()	# "pid:starttime" of everything to kill at exit
_logs=()	# files worth showing when the test fails
_mounted=0
_daemon=		# "pid:starttime" of our crfs daemon
_finishing=0

# --- reporting --------------------------------------------------------------

note() {
	echo "# $*" >&2
}

_diag() {
	local f
	for f in "${_logs[@]}" "$T_DIR/restore.err" "$T_DIR/ctl.err" \
		 "$T_DIR/cp.err" "$T_DIR/crfs.err"; do
		[ -s "$f" ] || continue
		echo "# --- ${f#"$T_DIR"/} (last 30 lines)" >&2
		tail -n 30 "$f" | sed 's/^/# /' >&2
	done
	_diag_tasks
}

# where every thread of the processes this test started stands now: a
# hang shows which step waits (wchan, the syscall and its arguments)
_diag_tasks() {
	local e pid t
	for e in "${_tracked[@]}"; do
		pid=${e%%:*}
		[ "$(proc_field "$pid" 22)" = "${e#*:}" ] || continue
		for pid in $(tree_pids "$pid"); do
			for t in /proc/"$pid"/task/*; do
				[ -d "$t" ] || continue
				echo "# task ${t#/proc/} $(cat "$t/comm" 2>/dev/null) state $(cut -d' ' -f3 "$t/stat" 2>/dev/null) wchan $(cat "$t/wchan" 2>/dev/null) syscall $(cat "$t/syscall" 2>/dev/null)"
			done
		done
	done 2>/dev/null | sort -u >&2
}

fail() {
	[ "$_finishing" = 1 ] && exit 1
	_finishing=1
	_diag
	echo "FAIL $T_NAME: $*"
	exit 1
}

pass() {
	_finishing=1
	echo "ok $T_NAME"
	exit 0
}

# --- processes --------------------------------------------------------------

# Field N (as numbered in proc(5), N >= 3) of /proc/PID/stat.  The comm in
# field 2 may contain blanks and parentheses, so split after the last ')'.
proc_field() {
	local s f
	s=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	s=${s##*) }
	read -r -a f <<<"$s"
	echo "${f[$(($2 - 3))]}"
}

proc_state() {
	proc_field "$1" 3
}

# a zombie leader (main thread exited, others run on) is alive
proc_alive() {
	local st t
	st=$(proc_state "$1") || return 1
	[ "$st" = X ] && return 1
	[ "$st" != Z ] && return 0
	for t in "/proc/$1/task/"*; do
		[ "${t##*/}" != "$1" ] && [ -e "$t" ] && return 0
	done
	return 1
}

track_pid() {
	local st
	st=$(proc_field "$1" 22) || return 0
	_tracked+=("$1:$st")
}

_kill_tracked() {
	local e pid st
	for e in "${_tracked[@]}"; do
		pid=${e%%:*}
		st=$(proc_field "$pid" 22) || continue
		[ "$st" = "${e#*:}" ] && kill -KILL "$pid" 2>/dev/null
	done
}

# wait_for SECONDS CMD...: poll CMD every 50 ms until it succeeds.
# Deadlines are in microseconds (EPOCHREALTIME): SECONDS counts whole
# seconds, and a deadline of SECONDS + N could pass after N - 1 and a bit.
wait_for() {
	local deadline=$((${EPOCHREALTIME//[!0-9]/} + $1 * 1000000))
	shift
	until "$@"; do
		[ "${EPOCHREALTIME//[!0-9]/}" -ge "$deadline" ] && return 1
		sleep 0.05
	done
}

_reapable() {
	local st tracer
	st=$(proc_state "$1") || return 0	# gone: already reaped
	[ "$st" = Z ] || return 1
	# a traced zombie goes to its tracer first; wait(1) would block
	tracer=$(awk '/^TracerPid:/ { print $2 }' "/proc/$1/status" 2>/dev/null)
	[ "${tracer:-0}" = 0 ]
}

# wait_exit PID SECONDS: wait for a child of this shell to exit and put
# its exit status in EXIT_STATUS.  Returns 1 on timeout (nothing reaped).
wait_exit() {
	EXIT_STATUS=
	wait_for "$2" _reapable "$1" || return 1
	wait "$1" 2>/dev/null
	EXIT_STATUS=$?
}

# wait_gone PID SECONDS: for processes that are not our children
wait_gone() {
	wait_for "$2" eval "! proc_alive $1"
}

# close_fds: close every descriptor above 2.  Whatever started the tests
# (make, CI, a terminal multiplexer) may have left pipes open, and a
# workload inheriting one could not be checkpointed.
close_fds() {
	local f n
	for f in "/proc/$BASHPID/fd/"*; do
		n=${f##*/}
		[ "$n" -gt 2 ] 2>/dev/null && eval "exec $n>&-"
	done
	return 0
}

# start_workload LOG CMD...: run CMD in the background as a child of this
# shell, stdio on /dev/null and LOG (never a tty or pipe: crfs refuses
# those), no other descriptors.  Sets WL_PID.
start_workload() {
	local log=$1
	shift
	: >"$log"
	_logs+=("$log")
	(close_fds; exec "$@") </dev/null >"$log" 2>&1 &
	WL_PID=$!
	track_pid "$WL_PID"
}

# wait_line LOG REGEX [SECONDS] [PID]: until a line of LOG matches; fails
# early if PID dies
wait_line() {
	local log=$1 re=$2 secs=${3:-20} pid=${4:-}
	local deadline=$((${EPOCHREALTIME//[!0-9]/} + secs * 1000000))
	until grep -Eq -- "$re" "$log" 2>/dev/null; do
		if [ -n "$pid" ] && ! proc_alive "$pid"; then
			fail "pid $pid died before printing /$re/ in ${log##*/}"
		fi
		[ "${EPOCHREALTIME//[!0-9]/}" -ge "$deadline" ] &&
			fail "no /$re/ in ${log##*/} after ${secs}s"
		sleep 0.05
	done
}

wait_ready() {
	wait_line "$1" '(^|[^A-Za-z])READY$' "${3:-20}" "$2"
}

# task_released PID: runs on, neither stopped (T, t) nor traced
task_released() {
	local st tr
	st=$(awk '/^State:/ { print $2 }' "/proc/$1/status" 2>/dev/null)
	tr=$(awk '/^TracerPid:/ { print $2 }' "/proc/$1/status" 2>/dev/null)
	case $st in '' | t | T | Z | X) return 1 ;; esac
	[ "${tr:-1}" = 0 ]
}

# wait_sleeping PID: until PID sleeps interruptibly (in pause, nanosleep..)
wait_sleeping() {
	wait_for 10 eval '[ "$(proc_state '"$1"')" = S ]' ||
		fail "pid $1 never went to sleep (state $(proc_state "$1"))"
}

# --- the file system --------------------------------------------------------

crfs_mount() {
	local pid me
	[ -x "$CRFS_BIN/crfs" ] || fail "no crfs binary at $CRFS_BIN/crfs (run make)"
	[ -c /dev/fuse ] || fail "/dev/fuse missing"
	mkdir -p "$MNT"
	timeout 20 "$CRFS_BIN/crfs" "$MNT" </dev/null >"$T_DIR/crfs.out" \
		2>"$T_DIR/crfs.err" || fail "crfs $MNT exited with $?"
	_mounted=1
	wait_for 10 _is_mounted || fail "$MNT not mounted after 10s"
	# remember the daemon, to be sure it is gone after unmounting
	me=$(readlink -f "$CRFS_BIN/crfs")
	# only processes named crfs (not its crfs-watchdog, which runs the
	# same binary with the same arguments): a readlink of every
	# process's exe takes seconds on a loaded machine
	for pid in $(pgrep -x crfs); do
		[ "$(readlink "/proc/$pid/exe" 2>/dev/null)" = "$me" ] || continue
		if tr '\0' '\n' <"/proc/$pid/cmdline" 2>/dev/null | grep -qxF "$MNT"; then
			_daemon="$pid:$(proc_field "$pid" 22)"
		fi
	done
}

# daemon_pid: the pid of this test's crfs daemon (empty if unknown)
daemon_pid() {
	echo "${_daemon%%:*}"
}

# from the mount table, which (unlike stat) works on a dead FUSE mount
_is_mounted() {
	awk -v m="$MNT" '$5 == m { found = 1 } END { exit !found }' \
		/proc/self/mountinfo
}

_unmount() {
	local i pid=${_daemon%%:*}
	[ "$_mounted" = 1 ] || return 0
	_is_mounted && { timeout 10 fusermount3 -u "$MNT" 2>/dev/null ||
		timeout 10 umount -l "$MNT" 2>/dev/null; }
	# the daemon exits once unmounted; give it a moment, then insist
	if [ -n "$pid" ]; then
		for i in $(seq 50); do
			proc_alive "$pid" || break
			sleep 0.1
		done
		[ "$(proc_field "$pid" 22)" = "${_daemon#*:}" ] &&
			kill -KILL "$pid" 2>/dev/null
	fi
	_is_mounted && timeout 10 umount -l "$MNT" 2>/dev/null
	return 0
}

# ctl_write NAME LINE: succeeds iff the write to NAME/ctl succeeded
ctl_write() {
	timeout "$T_CTL_TIMEOUT" bash -c 'echo "$1" >"$2"' _ "$2" "$MNT/$1/ctl" \
		2>>"$T_DIR/ctl.err"
}

ctl_read() {
	timeout "$T_CTL_TIMEOUT" cat "$MNT/$1/ctl" 2>>"$T_DIR/ctl.err"
}

ctl_state() {
	local s
	s=$(ctl_read "$1") || return 1
	echo "${s%%$'\n'*}"
}

# expect_state NAME STATE [SECONDS]: poll until ctl's first line is STATE
expect_state() {
	wait_for "${3:-5}" eval '[ "$(ctl_state '"$1"')" = '"$2"' ]' ||
		fail "$1 is '$(ctl_state "$1")', expected '$2'; ctl: $(ctl_read "$1" | tr '\n' '|')"
}

cr_create() {
	timeout "$T_CTL_TIMEOUT" mkdir "$MNT/$1" 2>>"$T_DIR/ctl.err" ||
		fail "mkdir $MNT/$1 failed"
	expect_state "$1" empty
}

cr_attach() {
	cr_create "$1"
	ctl_write "$1" "attach $2" || fail "echo 'attach $2' > $1/ctl failed"
	expect_state "$1" running
}

cr_freeze() {
	ctl_write "$1" freeze || fail "echo freeze > $1/ctl failed"
	expect_state "$1" frozen 1
}

cr_thaw() {
	ctl_write "$1" thaw || fail "echo thaw > $1/ctl failed"
	expect_state "$1" running
}

# cr_copy NAME DIR: the checkpoint itself
cr_copy() {
	local rc
	timeout -k 5 "$T_COPY_TIMEOUT" cp -a "$MNT/$1" "$2" 2>>"$T_DIR/cp.err"
	rc=$?
	[ "$rc" = 0 ] ||
		fail "cp -a of $1 failed ($rc); ctl: $(ctl_read "$1" | tr '\n' '|')"
}

# checkpoint NAME PID DIR: attach, freeze, copy; the container stays frozen
checkpoint() {
	cr_attach "$1" "$2"
	cr_freeze "$1"
	cr_copy "$1" "$3"
	expect_state "$1" frozen 1
}

# kill_and_reap NAME PID [PARENT]: kill through ctl and reap, so the pid is
# free for the restore.  PARENT is the child of this shell to reap (for a
# restored process: its crfs-restore); default PID itself.
kill_and_reap() {
	local reap=${3:-$2}
	ctl_write "$1" kill || fail "echo kill > $1/ctl failed"
	wait_exit "$reap" 20 || fail "pid $reap not reapable 20s after kill"
	expect_state "$1" dead
	timeout "$T_CTL_TIMEOUT" rmdir "$MNT/$1" 2>>"$T_DIR/ctl.err" ||
		fail "rmdir $MNT/$1 failed"
	proc_alive "$2" && fail "pid $2 still alive after kill"
	return 0
}

# --- images -----------------------------------------------------------------

# flip_byte FILE OFFSET: that byte of FILE inverted (a damaged image)
flip_byte() {	# FILE OFFSET
	local b
	b=$(od -An -tu1 -j "$2" -N1 "$1" | tr -d ' ')
	[ -n "$b" ] || fail "cannot read byte $2 of $1"
	printf "\\$(printf %03o $((b ^ 0xff)))" |
		dd of="$1" bs=1 seek="$2" conv=notrunc status=none
}


# check_image DIR PID: the documented layout is there
check_image() {
	local d=$1 pid=$2 f
	grep -qx 'arch x86_64' "$d/image" 2>/dev/null || fail "$d/image lacks 'arch x86_64'"
	grep -qx 'version 6' "$d/image" 2>/dev/null || fail "$d/image lacks 'version 6'"
	for f in attr creds mm maps pages.idx pages fds sigactions rlimits \
		 task/$pid/regs task/$pid/xstate task/$pid/sigstate; do
		[ -f "$d/$pid/$f" ] || fail "image lacks $pid/$f"
	done
}

# --- restoring --------------------------------------------------------------

# restore_bg DIR PID: crfs-restore DIR in the background (so this shell is
# its parent and gets the root's exit status); returns once the pidfile
# says PID is running.  Sets RESTORE_PID.
restore_bg() {
	local dir=$1 want=$2 pf=$T_DIR/restore.pid pid ppid
	[ -x "$CRFS_BIN/crfs-restore" ] || fail "no crfs-restore at $CRFS_BIN"
	rm -f "$pf"
	# shellcheck disable=SC2086 # T_RESTORE_ARGS: extra words (t_lazy)
	# T_RESTORE_STDIN: its input (t_send: a stream for --stream)
	"$CRFS_BIN/crfs-restore" ${T_RESTORE_ARGS:-} --pidfile "$pf" "$dir" \
		<"${T_RESTORE_STDIN:-/dev/null}" \
		>"$T_DIR/restore.out" 2>"$T_DIR/restore.err" &
	RESTORE_PID=$!
	track_pid "$RESTORE_PID"
	wait_for "$T_RESTORE_TIMEOUT" eval '[ -s "$pf" ] || ! proc_alive $RESTORE_PID' ||
		fail "crfs-restore $dir wrote no pidfile in ${T_RESTORE_TIMEOUT}s"
	if ! [ -s "$pf" ]; then
		wait_exit "$RESTORE_PID" 5
		fail "crfs-restore $dir exited ($EXIT_STATUS) without a pidfile"
	fi
	pid=$(tr -dc 0-9 <"$pf")
	[ "$pid" = "$want" ] || fail "restored pid is '$pid', want $want"
	track_pid "$pid"
	proc_alive "$pid" || fail "restored pid $pid is not running"
	ppid=$(proc_field "$pid" 4)
	[ "$ppid" = "$RESTORE_PID" ] ||
		fail "restored pid $pid has parent $ppid, not crfs-restore $RESTORE_PID"
}

# restore_detached DIR PID: crfs-restore -d, which returns once running
# (for a root whose parent is init, after init reaped the killed one)
restore_detached() {
	local dir=$1 want=$2 rc pid
	timeout "$T_RESTORE_TIMEOUT" "$CRFS_BIN/crfs-restore" -d "$dir" </dev/null \
		>"$T_DIR/restore.out" 2>"$T_DIR/restore.err"
	rc=$?
	pid=$(grep -Eo '^[0-9]+$' "$T_DIR/restore.out" | tail -n 1)
	[ -n "$pid" ] && track_pid "$pid"
	[ "$rc" = 0 ] ||
		fail "crfs-restore -d $dir exited with $rc: $(tail -n 3 "$T_DIR/restore.err" | tr '\n' '|')"
	[ "$pid" = "$want" ] || fail "crfs-restore -d printed pid '$pid', want $want"
	proc_alive "$pid" || fail "restored pid $pid is not running"
}

# expect_restore_refused TAG DIR PID ERE: crfs-restore DIR must fail, say
# what matches ERE (grep -E) on stderr, and leave no process PID
expect_restore_refused() {
	local tag=$1 dir=$2 pid=$3 re=$4 err=$T_DIR/restore-$1.err
	timeout "$T_RESTORE_TIMEOUT" "$CRFS_BIN/crfs-restore" "$dir" </dev/null \
		>"$T_DIR/restore-$tag.out" 2>"$err" &&
		fail "$tag: crfs-restore $dir succeeded"
	grep -qE -- "$re" "$err" ||
		fail "$tag: crfs-restore does not say /$re/: $(tail -n 2 "$err" | tr '\n' '|')"
	[ -e "/proc/$pid" ] && fail "$tag: the refused restore left pid $pid"
	return 0
}

# restore_newpid DIR: crfs-restore DIR in the background, for a root that
# comes back with a pid not known before (init of a new pid namespace);
# returns once it runs.  Sets RESTORE_PID and NEW_PID.
restore_newpid() {
	local pf=$T_DIR/restore.pid
	rm -f "$pf"
	# shellcheck disable=SC2086 # T_RESTORE_ARGS: extra words (t_lazy)
	"$CRFS_BIN/crfs-restore" ${T_RESTORE_ARGS:-} --pidfile "$pf" "$1" </dev/null \
		>"$T_DIR/restore.out" 2>"$T_DIR/restore.err" &
	RESTORE_PID=$!
	track_pid "$RESTORE_PID"
	wait_for "$T_RESTORE_TIMEOUT" eval '[ -s "$pf" ] || ! proc_alive '"$RESTORE_PID" ||
		fail "crfs-restore $1 wrote no pidfile in ${T_RESTORE_TIMEOUT}s"
	[ -s "$pf" ] || fail "crfs-restore $1 failed: $(cat "$T_DIR/restore.err")"
	NEW_PID=$(tr -dc 0-9 <"$pf")
	track_pid "$NEW_PID"
}

# start_root LOG CMD...: start_workload CMD, whose only child is the tree's
# root (unshare --fork, a subreaper); waits for its READY.  Sets TOP (our
# child) and ROOT, and tracks the tree.
start_root() {
	local log=$1
	shift
	start_workload "$log" "$@"
	TOP=$WL_PID
	wait_for 20 eval '[ -n "$(pgrep -P '"$TOP"')" ]' || fail "no root under $TOP"
	ROOT=$(pgrep -P "$TOP")
	track_pid "$ROOT"
	wait_ready "$log" "$ROOT" 30
	track_tree "$ROOT"
}

# start_other_ns LOG FLAG [SETUP]: the root of a tree in a new namespace
# (unshare FLAG --fork sh, which runs SETUP) whose child sleeps in yet
# another one of its own; sets OTHER_PID to that sh once both run
start_other_ns() {
	local log=$1 flag=$2 setup=${3:-:} u
	start_workload "$log" unshare "$flag" --fork sh -c \
		"$setup; unshare $flag sleep 600 & echo READY; wait"
	u=$WL_PID
	wait_ready "$log" "$u" 20
	wait_for 20 eval '[ -n "$(pgrep -P '"$u"' -x sh)" ]' || fail "no sh under unshare"
	OTHER_PID=$(pgrep -P "$u" -x sh)
	track_pid "$OTHER_PID"
	wait_for 20 eval '[ -n "$(pgrep -P '"$OTHER_PID"' -x sleep)" ]' ||
		fail "no sleep under sh"
	track_pid "$(pgrep -P "$OTHER_PID" -x sleep)"
}

# restore_ns DIR: restore_newpid, for a tree in namespaces of its own
restore_ns() {
	restore_newpid "$@"
}

# expect_pass LOG PID [SECONDS]: wait for PID to finish and judge LOG.  If
# PID is our child (a workload, or the crfs-restore waiting for its root)
# its exit status must be 0; otherwise (crfs-restore -d) only LOG counts.
expect_pass() {
	local log=$1 pid=$2 secs=${3:-60} fails
	if [ "$(proc_field "$pid" 4)" = "$$" ] || ! [ -e "/proc/$pid" ]; then
		wait_exit "$pid" "$secs" || fail "pid $pid still running after ${secs}s"
		[ "$EXIT_STATUS" = 127 ] && ! grep -q . "$log" &&
			fail "pid $pid vanished without output"
	else
		wait_gone "$pid" "$secs" || fail "pid $pid still running after ${secs}s"
		EXIT_STATUS=0
	fi
	# A FAIL glued to the end of another writer's unfinished line counts.
	fails=$(grep -E '(^|[^A-Za-z_])FAIL([^A-Za-z]|$)' "$log" | head -n 5 | tr '\n' ';')
	[ -z "$fails" ] || fail "${log##*/}: $fails"
	grep -q '^PASS' "$log" || fail "${log##*/}: no PASS line (exit $EXIT_STATUS)"
	[ "$EXIT_STATUS" = 0 ] || fail "${log##*/}: exit status $EXIT_STATUS"
	if grep -q '^DONE' "$log"; then
		grep -q '^DONE .*fail=0$' "$log" || fail "${log##*/}: $(grep '^DONE' "$log")"
	fi
	return 0
}

# freeze_thaw_check NAME LOG PID: freeze PID's tree and thaw it, then
# SIGUSR1 and the workload's own verdict in LOG
freeze_thaw_check() {
	cr_attach "$1" "$3"
	cr_freeze "$1"
	cr_thaw "$1"
	timeout "$T_CTL_TIMEOUT" rmdir "$MNT/$1" || fail "rmdir $MNT/$1 failed"
	kill -USR1 "$3" || fail "cannot signal pid $3"
	expect_pass "$2" "$3" 30
}

# --- cleanup ----------------------------------------------------------------

_cleanup() {
	local rc=$?
	trap - EXIT INT TERM HUP
	_kill_tracked
	_unmount
	if [ -n "${CRFS_E2E_KEEP:-}" ] || _is_mounted; then
		echo "# kept $T_DIR" >&2
	else
		rm -rf --one-file-system "$T_DIR"
	fi
	exit "$rc"
}

trap _cleanup EXIT
trap 'fail "interrupted"' INT TERM HUP

# --- workloads written in other languages -----------------------------------

# A bash program that keeps counting in a busy loop made only of builtins
# (bash must not fork: children are not supported).  argv[1] is a file the
# test writes, before SIGUSR1, the counter value it saw (via SIGUSR2 ->
# "COUNT n") before the checkpoint.  On SIGUSR1 it checks that the counter
# went on from there, that an associative array survived, and that $$ is
# still the pid the kernel reports, then exits.
read -r -d '' BASH_COUNTER <<'EOS'
want_file=$1
declare -A h
for ((k = 0; k < 20000; k++)); do
	h[$k]=$(( (k * 7919) % 10007 ))
done
i=0
trap 'echo "COUNT $i"' USR2
trap '
	fails=0
	read -r want <"$want_file"
	if (( i > want )); then
		echo "PASS bash.counter $i > $want"
	else
		echo "FAIL bash.counter: $i is not > $want"; fails=1
	fi
	bad=0
	for ((k = 0; k < 20000; k++)); do
		(( h[$k] == (k * 7919) % 10007 )) || bad=$((bad + 1))
	done
	if (( bad == 0 && ${#h[@]} == 20000 )); then
		echo "PASS bash.array"
	else
		echo "FAIL bash.array: $bad wrong of ${#h[@]}"; fails=1
	fi
	if (( BASHPID == $$ )); then
		echo "PASS bash.pid"
	else
		echo "FAIL bash.pid: \$\$ $$ but getpid $BASHPID"; fails=1
	fi
	exit $fails
' USR1
echo READY
while :; do
	i=$((i + 1))
done
EOS

_more_lines() {
	[ "$(grep -c "$2" "$1")" -gt "$3" ]
}

# get_count LOG PID: ask a counter workload (bash or python) for its value
# with SIGUSR2; it answers "COUNT n" in LOG.  Sets COUNT.
get_count() {
	local before
	before=$(grep -c '^COUNT' "$1")
	kill -USR2 "$2" || fail "cannot signal $2"
	wait_for 10 _more_lines "$1" '^COUNT' "$before" ||
		fail "no COUNT reply from $2"
	COUNT=$(grep '^COUNT' "$1" | tail -n 1 | cut -d' ' -f2)
}

# The real python3 binary: a pyenv-style shim is a shell script that would
# run python as its child, and children are not supported.
python_bin() {
	python3 -c 'import sys; print(sys.executable)' 2>/dev/null ||
		echo python3-not-found
}

# --- process trees ----------------------------------------------------------
#
# A checkpointed tree is killed through ctl before the restore, and the
# root's children are then orphaned.  Re-parented to PID 1 they would stay
# zombies for seconds (init reaps lazily) and hold the pids the restore
# needs.  So tree workloads run under a child subreaper outside the tree
# (the process start_workload starts: wl_tree's S, or the
# SUBREAPER_PY wrapper below) that reaps the root and every orphan and
# exits with the root's status.  The tree's root announces itself with a
# line "READY ROOT=<pid>"; the test attaches to that pid and reaps the
# subreaper (kill_and_reap NAME ROOT SUBREAPER).

# wait_root LOG PID [SECONDS]: wait for "READY ROOT=<pid>" in LOG (failing
# early if PID, the subreaper, dies); sets ROOT_PID.
wait_root() {
	# Not anchored at the start: another writer of the log (a pty
	# copier) may have left a line unfinished just before it.
	wait_line "$1" 'READY ROOT=[0-9]+$' "${3:-30}" "$2"
	ROOT_PID=$(sed -n 's/^.*READY ROOT=\([0-9][0-9]*\)$/\1/p' "$1" | head -n 1)
	[ -n "$ROOT_PID" ] || fail "cannot parse READY ROOT= in ${1##*/}"
	track_pid "$ROOT_PID"
}

# tree_pids ROOT: ROOT and all its descendants (zombies included), one a line
tree_pids() {
	local q=("$1") i=0 p c
	while [ "$i" -lt "${#q[@]}" ]; do
		p=${q[$i]}
		i=$((i + 1))
		[ -e "/proc/$p" ] || continue
		echo "$p"
		for c in $(cat /proc/"$p"/task/*/children 2>/dev/null); do
			q+=("$c")
		done
	done
}

# tree_layout ROOT: "pid ppid pgid sid Z|L" (zombie or live) per process of
# the tree, sorted by pid; ROOT's ppid is written as "-" (it changes with
# the restore by design).
tree_layout() {
	local p st ppid pgid sid
	for p in $(tree_pids "$1"); do
		st=$(proc_state "$p") || continue
		ppid=$(proc_field "$p" 4) pgid=$(proc_field "$p" 5) sid=$(proc_field "$p" 6)
		[ "$p" = "$1" ] && ppid=-
		case $st in Z) st=Z ;; *) st=L ;; esac
		echo "$p $ppid $pgid $sid $st"
	done | sort -n
}

# none_alive PID...: fails unless every PID is gone (not even a zombie)
none_alive() {
	local p
	for p in "$@"; do
		[ -e "/proc/$p" ] && fail "pid $p ($(proc_state "$p")) still exists after the kill"
	done
	return 0
}

# track_tree ROOT: have the EXIT trap kill every process of the tree
track_tree() {
	local p
	for p in $(tree_pids "$1"); do
		track_pid "$p"
	done
}

# What python workloads share: PY_LIB goes first in their script.
#	ready_then_wait()	print READY, wait for SIGUSR1 (sent after the
#				restore); the handler is in place at once
#	spawn(argv, ...)	a subprocess.Popen that dies with its parent,
#				so a failed test leaves no server behind
#	connect_unix(path)	a stream socket connected to path, once the
#				server listens (its file exists from bind on)
read -r -d '' PY_LIB <<'EOS'
import ctypes, signal, socket, subprocess, time

_go = []
signal.signal(signal.SIGUSR1, lambda s, f: _go.append(1))

def ready_then_wait():
    print("READY", flush=True)
    while not _go:
        time.sleep(0.02)

def spawn(argv, **kw):
    libc = ctypes.CDLL(None)
    return subprocess.Popen(argv, stdin=subprocess.DEVNULL,
                            preexec_fn=lambda: libc.prctl(1, 9), **kw)

def connect_unix(path):
    for _ in range(500):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            s.connect(path)
            return s
        except OSError:
            s.close()
            time.sleep(0.01)
    raise RuntimeError("nobody listens on " + path)
EOS

# A child subreaper for programs that are not C workloads:
#	python3 -c "$SUBREAPER_PY" LOG CMD ARGS...
# runs CMD as its child in a new session, appends "READY ROOT=<CMD's pid>"
# to LOG once CMD printed a line READY there, reaps CMD and every orphan,
# and exits with CMD's status.
read -r -d '' SUBREAPER_PY <<'EOS'
import ctypes, os, sys, time
libc = ctypes.CDLL(None, use_errno=True)
if libc.prctl(36, 1, 0, 0, 0) != 0:            # PR_SET_CHILD_SUBREAPER
    sys.exit("prctl PR_SET_CHILD_SUBREAPER failed")
log = sys.argv[1]
# everybody appends to the log, or CMD would overwrite our READY ROOT line
fd = os.open("/proc/self/fd/1", os.O_WRONLY | os.O_APPEND)
os.dup2(fd, 1)
os.dup2(fd, 2)
os.close(fd)
root = os.fork()
if root == 0:
    os.setsid()     # the root leads its session and group, as restored
    os.execvp(sys.argv[2], sys.argv[2:])
ready = False
status = None
while True:
    if not ready:
        with open(log) as f:
            # a whole line only: a pty copier may have written "READY"
            # and not yet its "\n", and our line must not join it
            if any(l == "READY\n" for l in f):
                fd = os.open(log, os.O_WRONLY | os.O_APPEND)
                os.write(fd, b"READY ROOT=%d\n" % root)
                os.close(fd)
                ready = True
        try:
            pid, st = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            break
        if pid == 0:
            time.sleep(0.02)
            continue
    else:
        try:
            pid, st = os.waitpid(-1, 0)
        except ChildProcessError:
            break
    if pid == root:
        status = os.waitstatus_to_exitcode(st)
if status is None:
    sys.exit(98)
sys.exit(status if status >= 0 else 128 - status)
EOS

# --- terminals --------------------------------------------------------------

# python3 -c "$PTYRUN_PY" LOG CMD...: runs CMD on a new pty as its session
# leader, copies what it writes there to LOG (without \r), exits with CMD's
# status.  A terminal emulator in little.
read -r -d '' PTYRUN_PY <<'EOS'
import os, pty, sys
log = os.open(sys.argv[1], os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
kid, master = pty.fork()
if kid == 0:
    os.execvp(sys.argv[2], sys.argv[2:])
while True:
    try:
        d = os.read(master, 4096)
    except OSError:
        break
    if not d:
        break
    os.write(log, d.replace(b"\r", b""))
_, st = os.waitpid(kid, 0)
sys.exit(os.waitstatus_to_exitcode(st))
EOS

# run_wl NAME PROG [MODE]: the workload PROG MODE, logging to NAME.log,
# once READY; sets log and pid (for checked_wl)
run_wl() {
	log=$T_DIR/$1.log
	start_workload "$log" "$CRFS_TESTS/$2" ${3:+"$3"}
	pid=$WL_PID
	wait_ready "$log" "$pid"
}

# checked_wl NAME: run_wl's workload checks its state on SIGUSR1 and
# passes (restored: judged through RESTORE_PID when set)
checked_wl() {
	kill -USR1 "$pid" || fail "$1: cannot signal $pid"
	expect_pass "$log" "${RESTORE_PID:-$pid}" 30
}

# expect_refused NAME PID TEXT [CTL]: attach (and write CTL to ctl) and
# freeze PID; the copy must fail with EIO and ctl name TEXT; then thaw, so
# PID runs on untouched
expect_refused() {
	local name=$1 pid=$2 text=$3 ctl
	cr_attach "$name" "$pid"
	if [ -n "${4:-}" ]; then
		ctl_write "$name" "$4" || fail "echo $4 > $name/ctl failed"
	fi
	cr_freeze "$name"
	: >"$T_DIR/cp.err"
	timeout -k 5 "$T_COPY_TIMEOUT" cp -a "$MNT/$name" "$T_DIR/ckpt-$name" \
		2>>"$T_DIR/cp.err" && fail "$name: the copy succeeded"
	grep -q 'Input/output error' "$T_DIR/cp.err" ||
		fail "$name: cp failed, but not with EIO: $(head -n 2 "$T_DIR/cp.err")"
	ctl=$(ctl_read "$name")
	echo "$ctl" | grep -qF -- "$text" ||
		fail "$name: ctl does not say '$text': $(echo "$ctl" | tr '\n' '|')"
	cr_thaw "$name"
	rm -rf "$T_DIR/ckpt-$name"
}

# verify_after HOW NAME PID LOG CKPT [GAP]: after checkpoint NAME PID CKPT
# (the container frozen), the workload (SIGUSR1) checks its state and
# prints PASS in LOG: HOW=thaw in the thawed tree, which is then let go
# (rmdir); HOW=restore in the tree restored from CKPT once PID is killed,
# GAP seconds later (time the workload's clocks must see pass)
verify_after() {
	local how=$1 name=$2 pid=$3 log=$4 ckpt=$5 gap=${6:-0}
	if [ "$how" = thaw ]; then
		cr_thaw "$name"
		kill -USR1 "$pid" || fail "cannot signal $pid"
		expect_pass "$log" "$pid" 30
		timeout "$T_CTL_TIMEOUT" rmdir "$MNT/$name" || fail "rmdir $name"
		return
	fi
	kill_and_reap "$name" "$pid"
	[ "$gap" = 0 ] || sleep "$gap"
	restore_bg "$ckpt" "$pid"
	kill -USR1 "$pid" || fail "cannot signal restored pid $pid"
	expect_pass "$log" "$RESTORE_PID" 30
}
# expect_refused_tree NAME TEXT CMD...: start CMD (an unshare --fork whose
# only child is the tree, printing READY when set up), then expect_refused
# NAME TEXT of that child, which must run on
expect_refused_tree() {
	# start_root's TOP and ROOT are ours: the caller's stay as they were
	local name=$1 text=$2 TOP ROOT
	shift 2
	# the whole tree tracked (was the root alone: its children, in
	# namespaces of their own, outlived the test)
	start_root "$T_DIR/$name.log" "$@"
	expect_refused "$name" "$ROOT" "$text"
	proc_alive "$ROOT" || fail "refused tree $name died"
}
