#!/bin/bash
# SPDX-License-Identifier: MIT
# e2e-lane: isolated (its own namespaces or files only: runs beside the shared lane)
#
# wl_zdtm_attr: process attributes (rlimits, umask, groups, saved ids,
# bounding set, pdeathsig, subreaper, keepcaps, THP disable, name, timer
# slack, nice, policy, affinity, ioprio, oom_score_adj, personality, a
# thread's comm, a removed cwd), memory (madvise flags, mprotect patterns,
# mremap, private and shared file mappings, brk and [heap], mlock,
# MLOCK_ONFAULT, shared anonymous memory with a child) and descriptors
# (dup'ed offsets, O_APPEND, O_PATH, FD_CLOEXEC, pipe size with data, a
# fifo open read-write with data, flock, POSIX and OFD locks, a lease,
# O_DIRECT, an unlinked file's mode and owner), a chroot'ed child, a child
# with another uid and a parent-death signal, rseq, cmdline, exe, vdso,
# dumpable 0, mlockall(MCL_FUTURE|MCL_ONFAULT) checked by
# the workload after a freeze and thaw, and after checkpoint -> kill ->
# restore; a thread's own nice, policy, affinity, I/O priority, timer
# slack, gids, parent-death signal and no_new_privs.  Refused by name: a
# thread without no_new_privs whose main thread has it.  With
# crfs-restore --detach the root's parent-death signal is not set again,
# and crfs-restore says so.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/zdtm_lib.sh"

crfs_mount
zdtm_case wl_zdtm_attr attrthaw thaw
zdtm_case wl_zdtm_attr attr restore
export WL_ZDTM_SET=caps,nonewprivs,lease,dumpable,mlockall,securebits,thrpdeath
zdtm_case wl_zdtm_attr capsthaw thaw
zdtm_case wl_zdtm_attr caps restore
unset WL_ZDTM_SET

# a thread made before its main thread set no_new_privs cannot be made so
# again (threads inherit it from the main thread that makes them)
zdtm_refused wl_zdtm_attr mainnnp "no_new_privs is off while its main thread's is on (not supported)"

# crfs-restore --detach exits at once: the root's parent-death signal is
# not set again (it would fire), and crfs-restore says so
log=$T_DIR/detached.log
mkdir -p "$T_DIR/detached.dir"
WL_ZDTM_SET=detached,thrnnp start_workload "$log" "$CRFS_TESTS/wl_zdtm_attr" "$T_DIR/detached.dir"
pid=$WL_PID
wait_ready "$log" "$pid"
checkpoint detached "$pid" "$T_DIR/detached.ckpt"
kill_and_reap detached "$pid"
restore_detached "$T_DIR/detached.ckpt" "$pid"
grep -qF "crfs-restore: process $pid: its parent-death signal 28 is not set again (--detach: its parent, crfs-restore, exits now)" \
	"$T_DIR/restore.err" || fail "detached: crfs-restore says $(tr '\n' '|' <"$T_DIR/restore.err")"
kill -USR1 "$pid" || fail "cannot signal restored pid $pid"
expect_pass "$log" "$pid" 30
pass
