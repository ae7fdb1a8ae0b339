#!/bin/bash
# SPDX-License-Identifier: MIT
#
# Run the end-to-end tests: every tests/e2e/t_*.sh (or only those named on
# the command line, e.g. `run.sh state pause` or `run.sh t_tar.sh`), each
# under a timeout.  Prints one line per test, the tail of the output of
# each failed test, and finally exactly one line
#	e2e: N passed, N failed
# Exit status is non-zero if any test failed.
#
# Environment: CRFS_BIN, CRFS_TESTS (see lib.sh), CRFS_E2E_TIMEOUT
# (seconds per test, default 180), CRFS_E2E_LOGS (directory to keep each
# test's full output in; default a temporary one, removed if all passed),
# CRFS_E2E_JOBS (tests at once, default 1; see the lanes below),
# CRFS_E2E_SAN_BIN (a second directory of binaries, the ASan/UBSan build:
# every test runs once more with it, its lines tagged [san], and the lines
#	e2e plain: N passed, N failed
#	e2e san: N passed, N failed
# come before the total; the sanitizers' ASAN_OPTIONS/UBSAN_OPTIONS are passed
# through, which the plain binaries ignore).
set -u

E2E_DIR=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$E2E_DIR/../.." && pwd)
export CRFS_BIN=${CRFS_BIN:-$ROOT/build/bin}
export CRFS_TESTS=${CRFS_TESTS:-$ROOT/build/tests}
limit=${CRFS_E2E_TIMEOUT:-180}
san_bin=${CRFS_E2E_SAN_BIN:-}
logs=${CRFS_E2E_LOGS:-}
keep_logs=1
if [ -z "$logs" ]; then
	logs=$(mktemp -d /tmp/crfs-e2e-logs.XXXXXX)
	keep_logs=0
fi
mkdir -p "$logs"
[ -n "$san_bin" ] && mkdir -p "$logs/san"

# python3 may be a pyenv-style shim: a shell script that runs several
# more on every call, 1-2 s on a loaded machine, and the tests and their
# helpers (#!/usr/bin/env python3) call it hundreds of times.  The
# interpreter it stands for goes first in PATH, once for all tests.
py=$(command -v python3 2>/dev/null)
if [ -n "$py" ] && [ "$(head -c 2 "$py" 2>/dev/null)" = "#!" ] &&
   py=$(python3 -c 'import os, sys; print(os.path.dirname(sys.executable))' 2>/dev/null) &&
   [ -x "$py/python3" ]; then
	export PATH=$py:$PATH
fi

tests=()
if [ $# -eq 0 ]; then
	tests=("$E2E_DIR"/t_*.sh)
else
	for t in "$@"; do
		t=${t##*/}
		t=${t#t_}
		t=${t%.sh}
		[ -f "$E2E_DIR/t_$t.sh" ] || { echo "no such test: $t" >&2; exit 2; }
		tests+=("$E2E_DIR/t_$t.sh")
	done
fi

# run_one PASS TEST: run one test under the timeout (PASS "san": with the
# binaries of $san_bin), print its result line (and the tail of its
# output if it failed), and tally it in $logs/.tally-PASS
run_one() {
	local pass=$1 t=$2 name start rc secs result tag= dir=$logs bin=$CRFS_BIN
	name=$(basename "$t" .sh)
	if [ "$pass" = san ]; then
		tag=" [san]" dir=$logs/san bin=$san_bin
	fi
	start=$SECONDS
	# Output goes to files, never a pipe: a leaked descriptor in a
	# daemon or a restored process must not hang this loop.  SIGTERM
	# first so the test's EXIT trap can clean up, SIGKILL 15 s later.
	# Only 0-2 are passed on, as on a CI runner: what an interactive
	# shell or a harness left open above them must not move where
	# crfs-restore puts its tables and hide a bug.
	(
		for fd in /proc/$BASHPID/fd/*; do
			fd=${fd##*/}
			[ "$fd" -gt 2 ] && eval "exec $fd>&-" 2>/dev/null
		done
		CRFS_BIN=$bin exec timeout -k 15 "$limit" bash "$t"
	) </dev/null >"$dir/$name.out" 2>"$dir/$name.err"
	rc=$?
	secs=$((SECONDS - start))
	echo "$name $secs" >>"$logs/.times-$pass"
	result=$(grep -E "^(ok|FAIL) $name" "$dir/$name.out" | tail -n 1)
	if [ "$rc" = 0 ] && [ "$result" = "ok $name" ]; then
		echo pass >>"$logs/.tally-$pass"
		echo "ok $name$tag (${secs}s)"
		return
	fi
	echo fail >>"$logs/.tally-$pass"
	case $rc in
	124 | 137) result="FAIL $name: timed out after ${limit}s" ;;
	*) [ -n "$result" ] || result="FAIL $name: exit status $rc, no result line" ;;
	esac
	# one write, so that a line of another test cannot cut into it:
	# the test's diagnostics, without bash's notes on the workloads it
	# killed on purpose and without the result line again
	printf '%s\n' "$result$tag (${secs}s)
$({ cat "$dir/$name.err"; grep -Ev "^(ok|FAIL) $name" "$dir/$name.out"; } |
		grep -Ev '^[^ ]*lib\.sh: line [0-9]+: +[0-9]+ Killed ' |
		tail -n 40 | sed 's/^/    /')"
}

# lane_of TEST: what the test's "# e2e-lane:" line says, else "shared":
#   exclusive  runs alone (timing, or it sees host-wide events such as
#              uevents that any other test may cause)
#   isolated   touches nothing another test sees (its own namespaces,
#              its own files); runs beside anything but an exclusive one
#   shared     the rest; "shared" alone collides with every other shared
#              test.  "shared RES..." names what the test uses of the
#              host, and it runs beside shared tests that use other
#              things:
#                net  the host's network namespace: ports it gets back at
#                     restore, packet and raw sockets that see loopback
#                pty  ptys of the host's devpts: restore wants the same
#                     /dev/pts/N, and devpts hands the lowest free index
#                     to the next opener
#                ipc  the host's IPC namespace: SysV ids and keys (and
#                     kernel.*_next_id), POSIX queue and shm names
#                cgroup  the cgroup tree
# Prints the lane, then the resources ("all" for a bare "shared").
lane_of() {
	local l r x
	read -r l r < <(sed -n 's/^# e2e-lane: *\([a-z][a-z ]*\).*/\1/p' "$1" |
		head -n 1)
	l=${l:-shared}
	[ "$l" = shared ] && [ -z "$r" ] && r=all
	# a name not known here might be a typo: it shares nothing
	for x in $r; do
		case $x in net | pty | ipc | cgroup | all) ;; *) r=all ;; esac
	done
	echo "$l ${r:--}"
}

# The expected seconds of each test (tests/e2e/durations, measured in a
# full make test) order each lane longest first, so that no long
# test starts last and alone; a test not listed there counts as long.
declare -A est
if [ -f "$E2E_DIR/durations" ]; then
	while read -r n s; do
		[ -n "$n" ] && [ "${n#\#}" = "$n" ] && est[$n]=$s
	done <"$E2E_DIR/durations"
fi

passes=(plain)
[ -n "$san_bin" ] && passes+=(san)
for p in "${passes[@]}"; do
	: >"$logs/.tally-$p"
	: >"$logs/.times-$p"
done

# jobs, as "LANE EST PASS TEST", longest first; res[TEST]: its resources
declare -A res
mapfile -t queue < <(
	for t in "${tests[@]}"; do
		n=$(basename "$t" .sh)
		read -r l r <<<"$(lane_of "$t")"
		for p in "${passes[@]}"; do
			echo "$l ${est[$n]:-60} $p $t"
		done
	done | sort -k2,2nr -k4,4 -k3,3
)
for t in "${tests[@]}"; do
	read -r _ r <<<"$(lane_of "$t")"
	res[$t]=$r
done

# With more than one job at once, tests restore processes at their old
# pids while others fork: a pid freed by a kill must not be handed to
# another test's fork before its restore, so pid_max is raised for the
# run (the pid counter then does not wrap during it) and put back by the
# last run.sh to finish: another run beside this one (another checkout,
# another CI job) must not have it lowered under its feet.
PIDMAX_DIR=/run/crfs-e2e-pid_max
PIDMAX_HIGH=4194304

# pid_max_raise: register this run and raise pid_max; 1 if it cannot be
pid_max_raise() {
	local rc=0
	mkdir -p "$PIDMAX_DIR" 2>/dev/null || return 1
	exec 9>"$PIDMAX_DIR/lock"
	flock 9
	_pid_max_forget_dead
	if ! ls "$PIDMAX_DIR"/run.* >/dev/null 2>&1; then
		cat /proc/sys/kernel/pid_max >"$PIDMAX_DIR/orig"
	fi
	if [ "$(cat /proc/sys/kernel/pid_max)" -lt "$PIDMAX_HIGH" ] &&
	   ! echo "$PIDMAX_HIGH" >/proc/sys/kernel/pid_max 2>/dev/null; then
		rc=1
	else
		echo "$(proc_start $$)" >"$PIDMAX_DIR/run.$$"
	fi
	flock -u 9
	exec 9>&-
	return $rc
}

# proc_start PID: its start time (field 22 of stat), to tell a recycled pid
proc_start() {
	local s
	s=$(cat "/proc/$1/stat" 2>/dev/null) || return 0
	s=${s##*) }
	set -- $s
	echo "${20}"
}

# the runs that ended without a word (SIGKILL) no longer count
_pid_max_forget_dead() {
	local f p
	for f in "$PIDMAX_DIR"/run.*; do
		[ -e "$f" ] || continue
		p=${f##*.}
		[ "$(proc_start "$p")" = "$(cat "$f")" ] || rm -f "$f"
	done
}

# pid_max_restore: unregister; the last run puts the old value back
pid_max_restore() {
	exec 9>"$PIDMAX_DIR/lock"
	flock 9
	rm -f "$PIDMAX_DIR/run.$$"
	_pid_max_forget_dead
	if ! ls "$PIDMAX_DIR"/run.* >/dev/null 2>&1 &&
	   [ -s "$PIDMAX_DIR/orig" ]; then
		cat "$PIDMAX_DIR/orig" >/proc/sys/kernel/pid_max
		rm -f "$PIDMAX_DIR/orig"
	fi
	flock -u 9
	exec 9>&-
}

jobs=${CRFS_E2E_JOBS:-1}
raised=0
if [ "$jobs" -gt 1 ]; then
	if pid_max_raise; then
		raised=1
	else
		jobs=1
	fi
fi
trap '[ "$raised" = 1 ] && pid_max_restore' EXIT

# The exclusive tests first, one after the other with nothing beside
# them; then the rest, $jobs at once.
rest=()
for j in "${queue[@]}"; do
	read -r l _ p t <<<"$j"
	if [ "$l" = exclusive ]; then
		run_one "$p" "$t"
	else
		rest+=("$j")
	fi
done

declare -A running=()	# pid of a running job -> "LANE TEST"
declare -A busy_test=()	# TEST -> 1 while one of its passes runs
declare -A held=()	# resource -> how many running shared tests use it
nshared=0		# running shared tests

# may_share TEST: none of TEST's resources is in use (by a shared test)
may_share() {
	local r
	[ "${held[all]:-0}" -gt 0 ] && return 1
	[ "${res[$1]}" = all ] && [ "$nshared" -gt 0 ] && return 1
	for r in ${res[$1]}; do
		[ "${held[$r]:-0}" -gt 0 ] && return 1
	done
	return 0
}

# hold TEST N: count TEST's resources up (N = 1) or down (N = -1)
hold() {
	local r
	nshared=$((nshared + $2))
	for r in ${res[$1]}; do
		held[$r]=$((${held[$r]:-0} + $2))
	done
}

while [ "${#rest[@]}" -gt 0 ] || [ "${#running[@]}" -gt 0 ]; do
	pick=-1
	if [ "${#running[@]}" -lt "$jobs" ]; then
		# the longest shared test that may run, else the longest
		# isolated one: the shared tests are the longest path
		for i in "${!rest[@]}"; do
			l=${rest[$i]%% *} t=${rest[$i]#* * * }
			# never beside its own other pass: a test's
			# names and files are the same in both
			[ -n "${busy_test[$t]:-}" ] && continue
			if [ "$l" = shared ]; then
				may_share "$t" && { pick=$i; break; }
			elif [ "$pick" = -1 ]; then
				pick=$i
			fi
		done
	fi
	if [ "$pick" != -1 ]; then
		read -r l _ p t <<<"${rest[$pick]}"
		unset "rest[$pick]"
		rest=("${rest[@]}")
		run_one "$p" "$t" &
		running[$!]="$l $t"
		busy_test[$t]=1
		[ "$l" = shared ] && hold "$t" 1
		continue
	fi
	done_pid=
	wait -n -p done_pid
	rc=$?
	if [ -z "$done_pid" ]; then
		# 127: no child left, whatever the table says
		[ "$rc" = 127 ] && running=() busy_test=() held=() nshared=0
		continue
	fi
	read -r l t <<<"${running[$done_pid]}"
	[ "$l" = shared ] && hold "$t" -1
	unset "running[$done_pid]" "busy_test[$t]"
done

# the lines above may be of any order; the tally is what counts
npass=0 nfail=0
for p in "${passes[@]}"; do
	a=$(grep -c '^pass$' "$logs/.tally-$p")
	b=$(grep -c '^fail$' "$logs/.tally-$p")
	[ -n "$san_bin" ] && echo "e2e $p: $a passed, $b failed"
	npass=$((npass + a)) nfail=$((nfail + b))
done

if [ "$nfail" -eq 0 ] && [ "$keep_logs" = 0 ]; then
	rm -rf "$logs"
elif [ "$nfail" -ne 0 ]; then
	echo "full output in $logs"
fi
echo "e2e: $npass passed, $nfail failed"
[ "$nfail" -eq 0 ]
