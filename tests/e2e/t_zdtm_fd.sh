#!/bin/bash
# SPDX-License-Identifier: MIT
# e2e-lane: shared net pty (the host's network namespace and devpts: a pty in exclusive mode)
#
# wl_zdtm_fd: descriptor properties CRIU's zdtm suite checks (status flags,
# F_SETOWN_EX owners, a packet-mode pipe, a directory read half way, an
# unlinked sparse file, two names of one unlinked inode, O_TMPFILE, a
# removed directory, one-shot inotify and epoll, a PIDFD_THREAD pidfd,
# UDP_CORK/SEGMENT/GRO, a pty in exclusive mode, a moved SO_PEEK_OFF), checked by the workload after a freeze and thaw,
# and after checkpoint -> kill -> restore; secret memory (memfd_secret)
# and a corked UDP socket holding data are refused by name (a shut down
# UDP socket: t_udpshut).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/zdtm_lib.sh"

crfs_mount
zdtm_case wl_zdtm_fd fdthaw thaw
zdtm_case wl_zdtm_fd fd restore

# secret memory cannot be read
zdtm_refused wl_zdtm_fd secretmem "secret memory (memfd_secret) is not supported"
grep -q '^PASS secretmem' "$T_DIR/secretmem.log" || fail "secretmem.log: no PASS secretmem"
# what a cork holds back is in no queue crfs can read
zdtm_refused wl_zdtm_fd udpcork "a corked UDP socket with data not yet sent (UDP_CORK) is not supported"
zdtm_refused wl_zdtm_fd proccwd "process PID: its working directory /proc/"
grep -q '^PASS proccwd' "$T_DIR/proccwd.log" || fail "proccwd.log: no PASS proccwd"
zdtm_refused wl_zdtm_fd delsymlink "lnk-gone (deleted)): deleted files of this kind are not supported"
grep -q '^PASS symlink.deleted' "$T_DIR/delsymlink.log" || fail "delsymlink.log: no PASS symlink.deleted"
pass
