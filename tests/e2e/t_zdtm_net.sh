#!/bin/bash
# SPDX-License-Identifier: MIT
# e2e-lane: shared net (the host's network namespace)
#
# wl_zdtm_net: socket state CRIU's zdtm suite checks that no other test
# covers (timeouts of inet sockets, TCP window clamp/SYN retries/FIN_WAIT2
# time and more, IP and IPv6 options, multicast memberships over IPv4 and
# IPv6, unix stream options, SO_NO_CHECK, a socket file's mode, a unix
# pair shut down one way, the senders of queued unix datagrams), checked
# by the workload after a freeze and thaw, and after checkpoint -> kill ->
# restore; an out-of-band byte queued on a unix stream socket and queued
# messages on a SO_PASSCRED unix socket are refused by name.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/zdtm_lib.sh"

crfs_mount
zdtm_case wl_zdtm_net netthaw thaw
zdtm_case wl_zdtm_net net restore
# the byte sent out of band is not in the queue crfs reads
zdtm_refused wl_zdtm_net unixoob "a unix stream socket with an out-of-band byte queued (MSG_OOB) is not supported"
grep -q '^PASS unix.oob' "$T_DIR/unixoob.log" || fail "unixoob.log: no PASS unix.oob"
# the sender named by SCM_CREDENTIALS may not exist yet when the queue is
# filled again
zdtm_refused wl_zdtm_net scmcreds "queued messages on a unix datagram or seqpacket socket with SO_PASSCRED (their senders' SCM_CREDENTIALS) are not supported"
grep -q '^PASS unix.scm_creds' "$T_DIR/scmcreds.log" || fail "scmcreds.log: no PASS unix.scm_creds"
pass
