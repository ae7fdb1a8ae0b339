#!/bin/bash
# SPDX-License-Identifier: MIT
# e2e-lane: isolated (its own namespaces or files only: runs beside the shared lane)
#
# wl_zdtm_sig: queued real-time signals (order, values), a standard signal
# pending once, a signal queued to one thread, a thread's alternate stack,
# mask and name, an expired POSIX timer's pending signal, ITIMER_PROF,
# timerfds (boottime with a period, absolute realtime, disarmed,
# non-blocking), a signalfd, SIGTRAP and SA_RESETHAND, checked by the
# workload after a freeze and thaw, and after checkpoint -> kill -> restore.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/zdtm_lib.sh"

crfs_mount
zdtm_case wl_zdtm_sig sigthaw thaw
zdtm_case wl_zdtm_sig sig restore
# what the CPU timers lost after a freeze and thaw, and after a restore
note "thaw: $(grep '^INFO cpu_charged' "$T_DIR/sigthaw.log")"
note "restore: $(grep '^INFO cpu_charged' "$T_DIR/sig.log")"
pass
