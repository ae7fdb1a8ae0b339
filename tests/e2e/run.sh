#!/bin/bash
# SPDX-License-Identifier: MIT
#
# Run the end-to-end tests: every tests/e2e/t_*.sh (or only those named on
# the command line, e.g. `run.sh state pause` or `run.sh t_tar.sh`), one
# after the other, each under a timeout.  Prints one line per test, the
# tail of the output of each failed test, and finally exactly one line
#	e2e: N passed, N failed
# Exit status is non-zero if any test failed.
#
# Environment: CRFS_BIN, CRFS_TESTS (see lib.sh), CRFS_E2E_TIMEOUT
# (seconds per test, default 180), CRFS_E2E_LOGS (directory to keep each
# test's full output in; default a temporary one, removed if all passed).
set -u

E2E_DIR=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$E2E_DIR/../.." && pwd)
export CRFS_BIN=${CRFS_BIN:-$ROOT/build/bin}
export CRFS_TESTS=${CRFS_TESTS:-$ROOT/build/tests}
limit=${CRFS_E2E_TIMEOUT:-180}
logs=${CRFS_E2E_LOGS:-}
keep_logs=1
if [ -z "$logs" ]; then
	logs=$(mktemp -d /tmp/crfs-e2e-logs.XXXXXX)
	keep_logs=0
fi
mkdir -p "$logs"

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

# run_one TEST: run one test under the timeout, print its result line (and
# the tail of its output if it failed), and tally it in $logs/.tally
run_one() {
	local t=$1 name start rc secs result
	name=$(basename "$t" .sh)
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
		exec timeout -k 15 "$limit" bash "$t"
	) </dev/null >"$logs/$name.out" 2>"$logs/$name.err"
	rc=$?
	secs=$((SECONDS - start))
	result=$(grep -E "^(ok|FAIL) $name" "$logs/$name.out" | tail -n 1)
	if [ "$rc" = 0 ] && [ "$result" = "ok $name" ]; then
		echo pass >>"$logs/.tally"
		echo "ok $name (${secs}s)"
		return
	fi
	echo fail >>"$logs/.tally"
	case $rc in
	124 | 137) result="FAIL $name: timed out after ${limit}s" ;;
	*) [ -n "$result" ] || result="FAIL $name: exit status $rc, no result line" ;;
	esac
	# one write, so that a line of the other lane cannot cut into it:
	# the test's diagnostics, without bash's notes on the workloads it
	# killed on purpose and without the result line again
	printf '%s\n' "$result (${secs}s)
$({ cat "$logs/$name.err"; grep -Ev "^(ok|FAIL) $name" "$logs/$name.out"; } |
		grep -Ev '^[^ ]*lib\.sh: line [0-9]+: +[0-9]+ Killed ' |
		tail -n 40 | sed 's/^/    /')"
}

# lane_of TEST: what the test's "# e2e-lane:" line says, else "shared".
#   exclusive  runs alone (timing, or it sees host-wide events such as
#              uevents that any other test may cause)
#   isolated   touches nothing another test sees (its own namespaces,
#              its own files); runs beside the shared lane
#   shared     the rest, one after the other
lane_of() {
	local l
	l=$(sed -n 's/^# e2e-lane: *\([a-z]*\).*/\1/p' "$1" | head -n 1)
	echo "${l:-shared}"
}

: >"$logs/.tally"
excl=() iso=() shared=()
for t in "${tests[@]}"; do
	case $(lane_of "$t") in
	exclusive) excl+=("$t") ;;
	isolated) iso+=("$t") ;;
	*) shared+=("$t") ;;
	esac
done

# Two lanes at once when asked for (CRFS_E2E_JOBS=2, make test's default):
# the isolated tests beside the shared ones.  Tests of both lanes restore
# processes at their old pids; a pid freed by a kill must not be handed to
# the other lane's next fork before its restore, so pid_max is raised for
# the run (the pid counter then does not wrap during it) and put back.
jobs=${CRFS_E2E_JOBS:-1}
old_pid_max=
if [ "$jobs" -gt 1 ] && [ "${#iso[@]}" -gt 0 ] && [ "${#shared[@]}" -gt 0 ]; then
	old_pid_max=$(cat /proc/sys/kernel/pid_max)
	if [ "$old_pid_max" -lt 4194304 ] &&
	   ! echo 4194304 >/proc/sys/kernel/pid_max 2>/dev/null; then
		old_pid_max=
		jobs=1
	fi
else
	jobs=1
fi
trap '[ -n "$old_pid_max" ] && echo "$old_pid_max" >/proc/sys/kernel/pid_max' EXIT

for t in "${excl[@]}"; do
	run_one "$t"
done
if [ "$jobs" -gt 1 ]; then
	( for t in "${iso[@]}"; do run_one "$t"; done ) &
	for t in "${shared[@]}"; do
		run_one "$t"
	done
	wait
else
	for t in "${iso[@]}" "${shared[@]}"; do
		run_one "$t"
	done
fi
npass=$(grep -c '^pass$' "$logs/.tally")
nfail=$(grep -c '^fail$' "$logs/.tally")

if [ "$nfail" -eq 0 ] && [ "$keep_logs" = 0 ]; then
	rm -rf "$logs"
elif [ "$nfail" -ne 0 ]; then
	echo "full output in $logs"
fi
echo "e2e: $npass passed, $nfail failed"
[ "$nfail" -eq 0 ]
