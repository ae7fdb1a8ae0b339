#!/bin/bash
# SPDX-License-Identifier: MIT
# e2e-lane: isolated (its own namespaces or files only: runs beside the shared lane)
#
# wl_rseq: two threads running rseq critical sections through glibc's rseq
# areas, nearly always inside one when frozen (zdtm transition/rseq01).
# After a freeze and thaw, and after checkpoint -> kill -> restore, no
# section may have ended normally with its rseq_cs cleared (the freeze
# aborts a section it stopped, as the kernel would), and each thread is
# still registered and runs sections on.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/zdtm_lib.sh"

crfs_mount
zdtm_case wl_rseq rseqthaw thaw
zdtm_case wl_rseq rseq restore
pass
