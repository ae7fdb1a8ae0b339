#!/bin/bash
# SPDX-License-Identifier: MIT
# e2e-lane: isolated (its own namespaces or files only: runs beside the shared lane)
#
# wl_netns: a tree in its own network namespace (unshare --net --pid
# --mount-proc, and with --uts too): lo's state, MTU and addresses and the
# net.* sysctls that differ from a fresh namespace's are saved in ns;
# restore makes a new network namespace with them before any socket is
# opened, so the listeners come back inside and a client of the tree
# reaches them.  Checked from outside after a freeze and thaw, by the
# processes themselves after the restore.  A device of a kind not restored
# (ifb), a route outside the main table, a rule of its own and socket
# buffer defaults of its own are refused by name (t_veth: a veth pair to
# our namespace; t_netdev: bridges and veth pairs inside).
# unshare --mount-proc is refused unless the mount tables differ only by
# /proc: run in a mount namespace of our own, which other tests' mounts
# and unmounts (the host's root is private) do not reach meanwhile.
if [ -z "${CRFS_T_OWN_MOUNTS:-}" ]; then
	CRFS_T_OWN_MOUNTS=1 exec unshare --mount --propagation private "$0" "$@"
fi
. "$(dirname "$0")/lib.sh"

command -v unshare >/dev/null || fail "unshare (util-linux) not found"
command -v nsenter >/dev/null || fail "nsenter (util-linux) not found"
command -v ip >/dev/null || fail "ip (iproute2) not found"
crfs_mount
HOST_NET=$(readlink /proc/self/ns/net)

# lo_state PID: what ip says of lo inside PID's namespace
lo_state() {
	nsenter -t "$1" -n ip -o addr show dev lo | cut -d' ' -f 6- | sort | tr '\n' ' '
	nsenter -t "$1" -n ip -o link show dev lo | grep -o 'mtu [0-9]*'
	nsenter -t "$1" -n ip route show | tr '\n' ' '
	nsenter -t "$1" -n ip -6 route show | tr '\n' ' '
}

# nft_rules PID: the ruleset of PID's namespace, without counters
nft_rules() {
	[ -z "${WL_NFT:-}" ] || nsenter -t "$1" -n nft -s list ruleset
}

# run_case NAME UNSHARE-OPTIONS... (WL_NFT=1 in the environment: with an
# nftables rule, compared as nft lists it before and after)
run_case() {
	local name=$1 log=$T_DIR/$1.log u pid before extra
	shift
	start_workload "$log" env WL_NFT="${WL_NFT:-}" \
		unshare --fork --net --pid --mount-proc "$@" \
		"$CRFS_TESTS/wl_netns"
	u=$WL_PID
	wait_for 20 eval '[ -n "$(pgrep -P '"$u"')" ]' || fail "no child under unshare"
	pid=$(pgrep -P "$u")
	track_pid "$pid"
	wait_ready "$log" "$pid" 30
	before=$(lo_state "$pid"; nft_rules "$pid")
	cr_attach "$name" "$pid"
	cr_freeze "$name"
	cr_thaw "$name"
	[ "$(lo_state "$pid"; nft_rules "$pid")" = "$before" ] ||
		fail "$name: lo or rules after thaw: $(lo_state "$pid"; nft_rules "$pid"), was $before"
	timeout "$T_CTL_TIMEOUT" rmdir "$MNT/$name" || fail "rmdir $MNT/$name failed"
	checkpoint "$name" "$pid" "$T_DIR/$name.ckpt"
	for l in 'lo_mtu 9000' 'addr inet 10.7.0.1/24 scope 0 flags 0x80' \
		 'addr inet 127.0.0.2/8 scope 254 flags 0x80' \
		 'addr inet6 fd00::7/64 scope 0 flags 0x82' \
		 'sysctl net/ipv4/ip_default_ttl 77' \
		 'route inet 10.9.0.0/16 via - src - dev lo metric 0 scope 253 proto 3' \
		 'route inet6 fd09::/64 via - src - dev lo metric 77 scope 0 proto 3'; do
		grep -qx "$l" "$T_DIR/$name.ckpt/ns" ||
			fail "$name: ns lacks '$l': $(tr '\n' '|' <"$T_DIR/$name.ckpt/ns")"
	done
	# only what the workload changed differs from a fresh namespace
	# (lo's IPv6 MTU follows its MTU)
	extra=$(grep '^sysctl ' "$T_DIR/$name.ckpt/ns" | grep -v -e ip_default_ttl \
		-e somaxconn -e '^sysctl net/ipv6/conf/lo/mtu 9000$')
	[ -z "$extra" ] || fail "$name: ns saves other sysctls: $(echo "$extra" | tr '\n' '|')"
	kill_and_reap "$name" "$pid" "$u"
	restore_ns "$T_DIR/$name.ckpt"
	[ "$(readlink "/proc/$NEW_PID/ns/net")" != "$HOST_NET" ] ||
		fail "$name: restored root is in our network namespace"
	[ "$(lo_state "$NEW_PID"; nft_rules "$NEW_PID")" = "$before" ] ||
		fail "$name: lo or rules after restore: $(lo_state "$NEW_PID"; nft_rules "$NEW_PID"), was $before"
	kill -USR1 "$NEW_PID" || fail "cannot signal restored pid $NEW_PID"
	expect_pass "$log" "$RESTORE_PID" 30
}

run_case net
run_case netuts --uts
if command -v nft >/dev/null; then
	WL_NFT=1 run_case nft
	grep -q 'tcp dport 7004' "$T_DIR/nft.ckpt/nft" ||
		fail "nft: the nft file lacks the rule: $(tr '\n' '|' <"$T_DIR/nft.ckpt/nft")"
else
	note "nft is not installed: nftables rules not tested"
fi

# a device of a kind not restored (ifb): refused by name, the tree runs
# on (t_netdev: bridges, macvlans and veth pairs inside)
start_workload "$T_DIR/dev.log" unshare --net --fork sh -c \
	'ip link add ifb0 type ifb && echo READY && exec sleep 60'
u=$WL_PID
wait_for 20 eval '[ -n "$(pgrep -P '"$u"')" ]' || fail "no child under unshare"
pid=$(pgrep -P "$u")
track_pid "$pid"
wait_ready "$T_DIR/dev.log" "$pid" 20
expect_refused ifb "$pid" "device ifb0 (ifb) is not supported"
proc_alive "$pid" || fail "refused tree died"

# a route outside the main table: refused by name
start_workload "$T_DIR/route.log" unshare --net --fork sh -c \
	'ip link set lo up && ip route add 10.9.0.0/16 dev lo table 100 &&
	 echo READY && exec sleep 60'
u=$WL_PID
wait_for 20 eval '[ -n "$(pgrep -P '"$u"')" ]' || fail "no child under unshare"
pid=$(pgrep -P "$u")
track_pid "$pid"
wait_ready "$T_DIR/route.log" "$pid" 20
expect_refused route "$pid" "a route (table 100, inet, /16, protocol 3) is not supported"
proc_alive "$pid" || fail "refused tree died"

# a routing rule of its own: refused by name
start_workload "$T_DIR/rule.log" unshare --net --fork sh -c \
	'ip rule add from 10.9.0.0/16 lookup 100 && echo READY && exec sleep 60'
u=$WL_PID
wait_for 20 eval '[ -n "$(pgrep -P '"$u"')" ]' || fail "no child under unshare"
pid=$(pgrep -P "$u")
track_pid "$pid"
wait_ready "$T_DIR/rule.log" "$pid" 20
expect_refused rule "$pid" "routing rules (ip rule) other than a new namespace's are not supported"
proc_alive "$pid" || fail "refused tree died"

# socket buffer defaults of its own: refused by name
start_workload "$T_DIR/rmem.log" unshare --net --fork sh -c \
	'echo "4096 65536 1000000" >/proc/sys/net/ipv4/tcp_rmem && echo READY &&
	 exec sleep 60'
u=$WL_PID
wait_for 20 eval '[ -n "$(pgrep -P '"$u"')" ]' || fail "no child under unshare"
pid=$(pgrep -P "$u")
track_pid "$pid"
wait_ready "$T_DIR/rmem.log" "$pid" 20
expect_refused rmem "$pid" "sysctl net/ipv4/tcp_rmem is '4096"
proc_alive "$pid" || fail "refused tree died"
pass
