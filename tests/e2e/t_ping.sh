#!/bin/bash
# SPDX-License-Identifier: MIT
# e2e-lane: isolated (its own namespaces or files only: runs beside the shared lane)
#
# wl_ping: ICMP datagram ("ping") sockets, IPv4 and IPv6, in the
# workload's own network namespace (its ping_group_range restored with
# it): bound by a first echo or to ::1 with an id, connected, a receive
# timeout, one never used; checked by the workload after a freeze and
# thaw and after checkpoint -> kill -> restore (address, id, peer,
# timeout, and a new echo answered with the same id).  A reply not read
# yet is refused by name, and is still there after the thaw.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/zdtm_lib.sh"

crfs_mount
zdtm_case wl_ping pingthaw thaw
zdtm_case wl_ping ping restore
grep -q ' inet .*proto=1 ' "$T_DIR/ping.ckpt/files" ||
	fail "files has no ICMP socket: $(grep ' inet ' "$T_DIR/ping.ckpt/files" | tr '\n' '|')"
grep -q 'ping_group_range' "$T_DIR/ping.ckpt/ns" ||
	fail "ns lacks the namespace's ping_group_range"
zdtm_refused wl_ping queued "an ICMP datagram (ping) socket with replies queued (not read yet) is not supported"
grep -q '^PASS ping.queued' "$T_DIR/queued.log" || fail "queued.log: no PASS ping.queued"
pass
