#!/bin/bash
# SPDX-License-Identifier: MIT
# e2e-lane: shared net (the host's network namespace)
#
# wl_zdtm_net: socket state CRIU's zdtm suite checks that no other test
# covers (timeouts of inet sockets, TCP window clamp/SYN retries/FIN_WAIT2
# time, IP_OPTIONS, a multicast membership, unix stream options, a unix
# pair shut down one way, the senders of queued unix datagrams), checked
# by the workload after a freeze and thaw, and after checkpoint -> kill ->
# restore.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/zdtm_lib.sh"

crfs_mount
zdtm_case wl_zdtm_net netthaw thaw
zdtm_case wl_zdtm_net net restore
pass
