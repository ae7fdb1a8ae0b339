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

npass=0
nfail=0
for t in "${tests[@]}"; do
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
		npass=$((npass + 1))
		echo "ok $name (${secs}s)"
		continue
	fi
	nfail=$((nfail + 1))
	case $rc in
	124 | 137) result="FAIL $name: timed out after ${limit}s" ;;
	*) [ -n "$result" ] || result="FAIL $name: exit status $rc, no result line" ;;
	esac
	echo "$result (${secs}s)"
	# the test's diagnostics, without bash's notes on the workloads
	# it killed on purpose and without the result line again
	{ cat "$logs/$name.err"; grep -Ev "^(ok|FAIL) $name" "$logs/$name.out"; } |
		grep -Ev '^[^ ]*lib\.sh: line [0-9]+: +[0-9]+ Killed ' |
		tail -n 40 | sed 's/^/    /'
done

if [ "$nfail" -eq 0 ] && [ "$keep_logs" = 0 ]; then
	rm -rf "$logs"
elif [ "$nfail" -ne 0 ]; then
	echo "full output in $logs"
fi
echo "e2e: $npass passed, $nfail failed"
[ "$nfail" -eq 0 ]
