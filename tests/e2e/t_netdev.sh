#!/bin/bash
# SPDX-License-Identifier: MIT
# e2e-lane: isolated (its own namespaces or files only: runs beside the shared lane)
#
# wl_netdev: devices made inside the tree's own network namespace (a bridge
# with timers and a priority of its own, two veth pairs with both ends
# inside, one end at index 50 with MTU, MAC, promisc, addresses, a route
# and per-device sysctls, ports of the bridge, one without ARP and down)
# come back as they were: checked from outside (ip(8) through nsenter)
# after a freeze and thaw and after the restore, and by the workload itself
# after the restore (by value, and ip(8) the same as before); a macvlan on
# one of the veths too.  A bridge port with a cost of its own, a kind not
# restored (ifb) and a macvlan on a device of ours are refused by name
# (our kernel has no VLAN filtering, which is refused too).
# Run in a mount namespace of our own (unshare --mount-proc, as t_netns).
if [ -z "${CRFS_T_OWN_MOUNTS:-}" ]; then
	CRFS_T_OWN_MOUNTS=1 exec unshare --mount --propagation private "$0" "$@"
fi
. "$(dirname "$0")/lib.sh"

command -v unshare >/dev/null || fail "unshare (util-linux) not found"
command -v nsenter >/dev/null || fail "nsenter (util-linux) not found"
command -v ip >/dev/null || fail "ip (iproute2) not found"
crfs_mount

# devs PID: what ip says of PID's namespace, less what changes by itself
devs() {
	{
		nsenter -t "$1" -n ip -o link show
		nsenter -t "$1" -n ip -o addr show
		nsenter -t "$1" -n ip route show
		nsenter -t "$1" -n ip -6 route show | sort
		nsenter -t "$1" -n ip -d -o link show type bridge
	} 2>&1 | sed -E 's/ state [A-Z]+//; s/(LOWER_UP|NO-CARRIER),?//g; s/,>/>/;
		    s/ [a-z_]*timer +[0-9.]+//g; s/ tentative//'
}

log=$T_DIR/netdev.log
start_workload "$log" unshare --fork --net --pid --mount-proc \
	"$CRFS_TESTS/wl_netdev"
u=$WL_PID
wait_for 20 eval '[ -n "$(pgrep -P '"$u"')" ]' || fail "no child under unshare"
pid=$(pgrep -P "$u")
track_pid "$pid"
wait_ready "$log" "$pid" 30
before=$(devs "$pid")
cr_attach nd "$pid"
cr_freeze nd
cr_thaw nd
[ "$(devs "$pid")" = "$before" ] ||
	fail "devices after thaw: $(diff <(echo "$before") <(devs "$pid"))"
timeout "$T_CTL_TIMEOUT" rmdir "$MNT/nd" || fail "rmdir $MNT/nd failed"
checkpoint nd "$pid" "$T_DIR/nd.ckpt"
for l in 'dev veth e0 index 50 mtu 1400 flags 0x1101 mac 02:00:00:00:00:e0 master - peer e1 link -' \
	 'dev_addr e0 inet 10.50.0.1/24 scope 0 flags 0x80' \
	 'sysctl net/ipv4/conf/e0/rp_filter 2' \
	 'dev_attr br0 6 e803' \
	 'route inet 10.70.0.0/16 via 10.50.0.2 src - dev e0 metric 5 scope 0 proto 3'; do
	grep -qx "$l" "$T_DIR/nd.ckpt/ns" ||
		fail "ns lacks '$l': $(tr '\n' '|' <"$T_DIR/nd.ckpt/ns")"
done
grep -q '^dev veth e1 .* master br0 peer e0 link -$' "$T_DIR/nd.ckpt/ns" ||
	fail "ns lacks e1 on br0: $(grep '^dev' "$T_DIR/nd.ckpt/ns" | tr '\n' '|')"
kill_and_reap nd "$pid" "$u"
restore_ns "$T_DIR/nd.ckpt"
# carrier changes reach routes (linkdown) through the kernel's link
# watch, a moment after the devices came up
wait_for 10 eval '[ "$(devs "$NEW_PID")" = "$before" ]' ||
	fail "devices after restore: $(diff <(echo "$before") <(devs "$NEW_PID"))"

kill -USR1 "$NEW_PID" || fail "cannot signal restored pid $NEW_PID"
expect_pass "$log" "$RESTORE_PID" 30

# refused_case NAME TEXT SCRIPT: a tree whose namespace SCRIPT set up
refused_case() {
	expect_refused_tree "$1" "$2" unshare --net --fork sh -c \
		"$3 && echo READY && exec sleep 60"
}

refused_case cost "bridge port p0: cost is 7, a new one's 2: not supported" \
	'ip link add br1 type bridge && ip link add p0 type veth peer name p1 &&
	 ip link set p0 master br1 && ip link set p0 type bridge_slave cost 7'
refused_case ifb "device ifb0 (ifb) is not supported" \
	'ip link add ifb0 type ifb'

# a macvlan whose lower device is ours, moved into the tree's namespace
PFX=n$(($$ % 100000))
trap 'rc=$?; ip link del "${PFX}a" 2>/dev/null; (exit $rc); _cleanup' EXIT
ip link add "${PFX}a" type veth peer name "${PFX}b" || fail "cannot add veth ${PFX}a"
start_workload "$T_DIR/mvout.log" unshare --net --fork sh -c \
	'while ! ip link show mvout >/dev/null 2>&1; do sleep 0.05; done;
	 echo READY; exec sleep 60'
u=$WL_PID
wait_for 20 eval '[ -n "$(pgrep -P '"$u"')" ]' || fail "no child under unshare"
pid=$(pgrep -P "$u")
track_pid "$pid"
ip link add mvout link "${PFX}a" netns "$pid" type macvlan ||
	fail "cannot add macvlan mvout into $pid's namespace"
wait_ready "$T_DIR/mvout.log" "$pid" 20
expect_refused mvout "$pid" "macvlan mvout: its lower device is not in the namespace: not supported"
proc_alive "$pid" || fail "refused tree mvout died"
pass
