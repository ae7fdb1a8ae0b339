#!/bin/bash
# SPDX-License-Identifier: MIT
# e2e-lane: shared net (the host's network namespace)
#
# A JVM (Debian's OpenJDK 17, its perf-data file mapped shared from
# /tmp/hsperfdata_root, JIT code, GC threads): 8 threads counting under a
# lock and sleeping, a 200k-entry HashMap, 64 MiB of arrays, and a TCP
# ping-pong between two threads over 127.0.0.1.  Frozen and thawed, then
# checkpointed, killed and restored; a file made by the test tells it to
# check memory, map, threads, sleep, a GC, and the connection.
. "$(dirname "$0")/lib.sh"

command -v javac >/dev/null ||
	fail "javac not found (tools/install-deps installs openjdk-17-jdk-headless)"
javac -d "$T_DIR" "$REPO_ROOT/tests/workloads/java/WlJava.java" \
	>"$T_DIR/build.log" 2>&1 || fail "javac: $(tail -n 5 "$T_DIR/build.log")"

crfs_mount
for how in thaw restore; do
	log=$T_DIR/java-$how.log
	start_workload "$log" java -Xmx512m -cp "$T_DIR" WlJava "$T_DIR/go-$how"
	pid=$WL_PID
	wait_ready "$log" "$pid" 60
	if [ "$how" = thaw ]; then
		cr_attach "java$how" "$pid"
		cr_freeze "java$how"
		cr_thaw "java$how"
	else
		checkpoint "java$how" "$pid" "$T_DIR/ckpt"
		kill_and_reap "java$how" "$pid"
		restore_bg "$T_DIR/ckpt" "$pid"
		pid=$RESTORE_PID
	fi
	touch "$T_DIR/go-$how"
	expect_pass "$log" "$pid" 60
done
pass
