#!/bin/bash
# SPDX-License-Identifier: MIT
#
# mkimage.sh OUT: the checkpoints fuzz_restore replaces files of, made
# fresh on this host (crfs-restore's loaders check the vDSO, the CPU and
# the mapped files against it): OUT/files (files of every kind, one
# process), OUT/threads (threads, timers, signals), OUT/tree (13
# processes, sessions, groups, a zombie, pages shared with children).
# Needs root and /dev/fuse, like the end-to-end tests (their lib.sh).
if [ -z "${CRFS_T_OWN_MOUNTS:-}" ]; then
	CRFS_T_OWN_MOUNTS=1 exec unshare --mount --propagation private "$0" "$@"
fi
OUT=$(realpath -m "$1")
. "$(dirname "$0")/../e2e/lib.sh"

rm -rf "$OUT" && mkdir -p "$OUT" || fail "mkdir $OUT"
crfs_mount

# ckpt NAME CMD...: checkpoint the tree CMD starts into OUT/NAME, kill it;
# a workload that says READY ROOT= is a subreaper and the tree its child
ckpt() {
	local name=$1 pid
	shift
	start_workload "$T_DIR/$name.log" "$@"
	pid=$WL_PID
	wait_line "$T_DIR/$name.log" '(^|[^A-Za-z])READY( ROOT=[0-9]+)?$' 30 "$pid"
	if grep -q 'READY ROOT=' "$T_DIR/$name.log"; then
		wait_root "$T_DIR/$name.log" "$pid"
		pid=$ROOT_PID
		track_tree "$pid"
	fi
	checkpoint "$name" "$pid" "$OUT/$name"
	kill_and_reap "$name" "$pid" "$WL_PID"
}

mkdir -p "$T_DIR/work-files"
ckpt files "$CRFS_TESTS/wl_files" "$T_DIR/work-files"
ckpt threads "$CRFS_TESTS/wl_threads" 4 2.5
ckpt tree "$CRFS_TESTS/wl_tree" "$T_DIR/rootppid"
pass
