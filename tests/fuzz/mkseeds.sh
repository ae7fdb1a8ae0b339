#!/bin/bash
# SPDX-License-Identifier: MIT
#
# mkseeds.sh OUT: the seed corpora of tests/fuzz/fuzz_parsers from real
# checkpoints.  Checkpoints a few workloads (files, pipes, threads,
# timers, seccomp, sched, fanotify, SysV IPC in an IPC and UTS namespace
# of its own), then copies each image file into OUT/PARSER/, PARSER being
# the name fuzz_parsers knows it by (its parsers[] table).  Files bigger
# than 4 KiB are cut and four of a kind are enough: a seed shows the
# shape, the fuzzer does the rest.
# Needs root and /dev/fuse, like the end-to-end tests (their lib.sh).
# OUT/tar (crfs-restore --stream's headers) is not made here: its seeds
# are the first blocks of two GNU tar archives, kept as they are.
if [ -z "${CRFS_T_OWN_MOUNTS:-}" ]; then
	CRFS_T_OWN_MOUNTS=1 exec unshare --mount --propagation private "$0" "$@"
fi
OUT=$(realpath -m "$1")
. "$(dirname "$0")/../e2e/lib.sh"

mkdir -p "$OUT" || fail "mkdir $OUT"
crfs_mount

# parser DIR REL: which parser reads image file REL, or nothing
parser() {
	local id kind
	case $2 in
	fdata/*)	# by the kind the files table gives the description
		id=${2#fdata/}
		kind=$(awk -v id="${id%%.*}" '$1 == id { print $2 }' "$1/files")
		case $kind:$id in
		*:*.tcp) echo tcp ;;
		mqueue:*.msgs) echo mq ;;
		epoll:*[0-9]|inotify:*[0-9]|fanotify:*[0-9]) echo "$kind" ;;
		esac ;;
	ipc/ns) echo ipc ;;
	ipc/*.messages) echo messages ;;
	ipc/shm/*.data) ;;
	ipc/shm/*|ipc/msg/*|ipc/sem/*) id=${2#ipc/}; echo "${id%%/*}" ;;
	*/pages|mapdata/*|ctl|tree) ;;
	cgroup|mounts|ns|image|files|locks) echo "$2" ;;
	[0-9]*) echo "${2##*/}" ;;
	esac
}

# harvest DIR: every text file of the image DIR into $OUT
harvest() {
	local d=$1 rel p n=0
	while read -r rel; do
		p=$(parser "$d" "$rel")
		[ -n "$p" ] || continue
		mkdir -p "$OUT/$p"
		# a few of each kind are enough to commit
		[ "$(ls "$OUT/$p" | wc -l)" -lt 4 ] || continue
		head -c 4096 "$d/$rel" >"$OUT/$p/$(basename "$d")-${rel//\//_}"
		n=$((n + 1))
	done < <(cd "$d" && find . -type f -printf '%P\n')
	note "$(basename "$d"): $n seeds"
}

# seed NAME CMD...: checkpoint the tree CMD starts (its pid, or the only
# child of an unshare), harvest its image, kill it
seed() {
	local name=$1 pid
	shift
	start_workload "$T_DIR/$name.log" "$@"
	pid=$WL_PID
	if [ "$1" = unshare ]; then
		wait_for 20 eval '[ -n "$(pgrep -P '"$WL_PID"')" ]' ||
			fail "$name: no child under unshare"
		pid=$(pgrep -P "$WL_PID")
		track_pid "$pid"
	fi
	wait_line "$T_DIR/$name.log" '^READY' 30 "$pid"
	if grep -q '^READY ROOT=' "$T_DIR/$name.log"; then
		wait_root "$T_DIR/$name.log" "$pid"	# a wrapper's child
		pid=$ROOT_PID
		track_tree "$pid"
	fi
	checkpoint "$name" "$pid" "$T_DIR/$name"
	harvest "$T_DIR/$name"
	kill_and_reap "$name" "$pid" "$WL_PID"
}

mkdir -p "$T_DIR/work-files" "$T_DIR/work-fan"
seed files "$CRFS_TESTS/wl_files" "$T_DIR/work-files"
seed threads "$CRFS_TESTS/wl_threads" 8 2.5
seed timers "$CRFS_TESTS/wl_timers"
seed seccomp "$CRFS_TESTS/wl_seccomp"
seed sched "$CRFS_TESTS/wl_sched"
seed fanotify "$CRFS_TESTS/wl_fanotify" "$T_DIR/work-fan"
seed ipcns unshare --ipc --uts --fork "$CRFS_TESTS/wl_sysvipc" 2
seed shm unshare --ipc --fork "$CRFS_TESTS/wl_sysvshm" 2
seed mqueue "$CRFS_TESTS/wl_mqueue" "/crfs-seed-$$"
"$CRFS_TESTS/wl_mqueue" unlink "/crfs-seed-$$" 2>/dev/null
seed epoll "$CRFS_TESTS/wl_epolldup"
pass
