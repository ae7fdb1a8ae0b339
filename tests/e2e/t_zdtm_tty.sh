#!/bin/bash
# SPDX-License-Identifier: MIT
# e2e-lane: shared pty (ptys of the host's devpts)
#
# wl_zdtm_tty: controlling terminals as zdtm's tty00, tty02, tty03 check
# them (a slave opened O_NOCTTY by a session leader stays nobody's
# terminal; a child session's terminal it holds no descriptor of names
# that session and its foreground group, and closing the master hangs it
# up), checked by the workload after a freeze and thaw, and after
# checkpoint -> kill -> restore.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/zdtm_lib.sh"

crfs_mount
zdtm_case wl_zdtm_tty ttythaw thaw
zdtm_case wl_zdtm_tty tty restore
pass
