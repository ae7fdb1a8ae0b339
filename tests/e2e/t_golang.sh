#!/bin/bash
# SPDX-License-Identifier: MIT
# e2e-lane: shared net (the host's network namespace)
#
# A Go program (built here with Debian's golang-go): the Go runtime's
# threads and signal handling, 50 goroutines sleeping 1 ms in a loop,
# 64 MiB of patterned memory, and a TCP ping-pong between two goroutines
# over 127.0.0.1.  Frozen and thawed, then checkpointed, killed and
# restored: SIGUSR1 makes it check its memory, that every goroutine and
# sleep still runs, and that the connection carries on in order.
. "$(dirname "$0")/lib.sh"

command -v go >/dev/null || fail "go not found (tools/install-deps installs golang-go)"
export GOCACHE=$T_DIR/gocache GOPATH=$T_DIR/gopath GOFLAGS=-mod=mod
go build -o "$T_DIR/wl_go" "$REPO_ROOT/tests/workloads/go/wl_go.go" \
	>"$T_DIR/build.log" 2>&1 || fail "go build: $(tail -n 5 "$T_DIR/build.log")"

crfs_mount
for how in thaw restore; do
	log=$T_DIR/go-$how.log
	start_workload "$log" "$T_DIR/wl_go"
	pid=$WL_PID
	wait_ready "$log" "$pid" 60
	if [ "$how" = thaw ]; then
		cr_attach "go$how" "$pid"
		cr_freeze "go$how"
		cr_thaw "go$how"
	else
		checkpoint "go$how" "$pid" "$T_DIR/ckpt"
		kill_and_reap "go$how" "$pid"
		restore_bg "$T_DIR/ckpt" "$pid"
		pid=$RESTORE_PID
	fi
	kill -USR1 "$WL_PID" || fail "$how: cannot signal $WL_PID"
	expect_pass "$log" "$pid" 30
done
pass
