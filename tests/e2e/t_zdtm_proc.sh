#!/bin/bash
# SPDX-License-Identifier: MIT
# e2e-lane: isolated (its own namespaces or files only: runs beside the shared lane)
#
# wl_zdtm_proc: a child ignoring SIGTRAP still does after a freeze and
# thaw and after checkpoint -> kill -> restore; a child cloned with an exit signal other than SIGCHLD is
# refused by name by the freeze, and is the same kind of child after the
# thaw (waitpid sees it only with __WCLONE).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/zdtm_lib.sh"

crfs_mount
zdtm_case wl_zdtm_proc procthaw thaw
zdtm_case wl_zdtm_proc proc restore
zdtm_refused wl_zdtm_proc exitsig "its exit signal is 12, not SIGCHLD (a child made by clone with another exit signal; not supported yet)"
pass
