#!/bin/bash
# SPDX-License-Identifier: MIT
# e2e-lane: isolated (its own namespaces or files only: runs beside the shared lane)
#
# wl_netns with WL_VETH: a tree in its own network namespace (unshare
# --net --pid --mount-proc) linked to ours by a veth pair: vc0 inside with
# 10.8.0.2/24 and a default route via 10.8.0.1, the outside end on a
# bridge of ours that has 10.8.0.1/24,
# with fd08::1/64 of its own, both ends MTU 1400 and up.  Restore creates
# the pair again, the outside end back in our namespace with its name,
# MAC, MTU, state, bridge and address; we connect to the tree's listener
# on 10.8.0.2 through bridge and pair.  Checked from outside after a freeze
# and thaw.  With the outside name taken, restore refuses by name and
# leaves nothing behind; a sysctl set on an outside end is refused.
if [ -z "${CRFS_T_OWN_MOUNTS:-}" ]; then
	CRFS_T_OWN_MOUNTS=1 exec unshare --mount --propagation private "$0" "$@"
fi
. "$(dirname "$0")/lib.sh"

command -v unshare >/dev/null || fail "unshare (util-linux) not found"
command -v nsenter >/dev/null || fail "nsenter (util-linux) not found"
command -v ip >/dev/null || fail "ip (iproute2) not found"
VH=vhcrfs$$
BR=brcrfs$$
# the outside ends and the bridge are ours to remove, whatever happens
trap 'rc=$?; ip link del "$VH" 2>/dev/null; ip link del "${VH}t" 2>/dev/null
      ip link del "${VH}b" 2>/dev/null; ip link del "$BR" 2>/dev/null
      (exit $rc); _cleanup' EXIT
crfs_mount

# addrs: ip -o addr lines, without IPv6 DAD's passing flags
addrs() {
	cut -d' ' -f 6- | sed 's/ tentative//; s/ *\\ *valid_lft.*//' | sort | tr '\n' ' '
}

# ends PID: both ends as ip shows them: name, MAC, MTU, state, addresses
ends() {
	ip -o link show dev "$VH" |
		grep -o 'mtu [0-9]*\|state [A-Z]*\|master [a-z0-9]*\|link/ether [0-9a-f:]*' | tr '\n' ' '
	ip -o addr show dev "$VH" | addrs
	nsenter -t "$1" -n ip -o link show dev vc0 |
		grep -o 'mtu [0-9]*\|state [A-Z]*\|link/ether [0-9a-f:]*' | tr '\n' ' '
	nsenter -t "$1" -n ip -o addr show dev vc0 | addrs
	nsenter -t "$1" -n ip route show | tr '\n' ' '
}

log=$T_DIR/veth.log
start_workload "$log" env WL_VETH=1 unshare --fork --net --pid --mount-proc \
	"$CRFS_TESTS/wl_netns"
u=$WL_PID
wait_for 20 eval '[ -n "$(pgrep -P '"$u"')" ]' || fail "no child under unshare"
pid=$(pgrep -P "$u")
track_pid "$pid"
ip link add "$VH" type veth peer name vc0 netns "$pid" ||
	fail "cannot create the veth pair"
ip link add "$BR" type bridge && ip addr add 10.8.0.1/24 dev "$BR" &&
	ip link set "$BR" up || fail "cannot make the bridge $BR"
ip link set "$VH" mtu 1400 master "$BR" up &&
	ip addr add fd08::1/64 dev "$VH" nodad || fail "cannot configure $VH"
nsenter -t "$pid" -n sh -c \
	'ip link set vc0 mtu 1400 up && ip addr add 10.8.0.2/24 dev vc0 &&
	 ip route add default via 10.8.0.1' ||
	fail "cannot configure vc0"
wait_ready "$log" "$pid" 30
before=$(ends "$pid")
cr_attach veth "$pid"
cr_freeze veth
cr_thaw veth
[ "$(ends "$pid")" = "$before" ] || fail "after thaw: $(ends "$pid"), was $before"
timeout "$T_CTL_TIMEOUT" rmdir "$MNT/veth" || fail "rmdir $MNT/veth failed"
checkpoint veth "$pid" "$T_DIR/ckpt"
grep -q "^veth name vc0 mtu 1400 state up .* peer_name $VH peer_mtu 1400 peer_state up" \
	"$T_DIR/ckpt/ns" || fail "ns lacks the veth: $(tr '\n' '|' <"$T_DIR/ckpt/ns")"
grep -qx "route inet 0.0.0.0/0 via 10.8.0.1 src - dev vc0 metric 0 scope 0 proto 3" \
	"$T_DIR/ckpt/ns" || fail "ns lacks the default route: $(tr '\n' '|' <"$T_DIR/ckpt/ns")"
grep -q " peer_master $BR\$" "$T_DIR/ckpt/ns" ||
	fail "ns lacks the bridge: $(tr '\n' '|' <"$T_DIR/ckpt/ns")"
grep -qx "peer_addr vc0 inet6 fd08::1/64 scope 0 flags 0x82" "$T_DIR/ckpt/ns" ||
	fail "ns lacks the outside address: $(tr '\n' '|' <"$T_DIR/ckpt/ns")"
kill_and_reap veth "$pid" "$u"
# the pair goes with its namespace, which the kernel frees lazily
wait_for 20 eval '! ip link show dev "$VH" >/dev/null 2>&1' ||
	fail "$VH outlived its namespace"

# the outside name taken: refused by name, nothing left behind
ip link add "$VH" type veth peer name "${VH}t" || fail "cannot take $VH"
timeout 30 "$CRFS_BIN/crfs-restore" "$T_DIR/ckpt" </dev/null \
	>"$T_DIR/taken.out" 2>"$T_DIR/taken.err" &&
	fail "crfs-restore succeeded with $VH taken"
grep -q "veth vc0: its peer's name $VH is taken" "$T_DIR/taken.err" ||
	fail "crfs-restore did not name the taken veth: $(cat "$T_DIR/taken.err")"
ip link del "$VH" || fail "cannot remove our $VH"
ip link show dev vc0 >/dev/null 2>&1 && fail "vc0 left behind in our namespace"

pf=$T_DIR/restore.pid
"$CRFS_BIN/crfs-restore" --pidfile "$pf" "$T_DIR/ckpt" </dev/null \
	>"$T_DIR/restore.out" 2>"$T_DIR/restore.err" &
RESTORE_PID=$!
track_pid "$RESTORE_PID"
wait_for 20 eval '[ -s "$pf" ] || ! proc_alive '"$RESTORE_PID" || fail "no pidfile"
[ -s "$pf" ] || fail "crfs-restore failed: $(cat "$T_DIR/restore.err")"
np=$(tr -dc 0-9 <"$pf")
track_pid "$np"
[ "$(ends "$np")" = "$before" ] || fail "after restore: $(ends "$np"), was $before"
kill -USR1 "$np" || fail "cannot signal restored init $np"
# through the pair, from our side
exec 3<>/dev/tcp/10.8.0.2/7005 || fail "cannot connect to 10.8.0.2:7005"
printf ping >&3
expect_pass "$log" "$RESTORE_PID" 30
exec 3>&-

# a per-device sysctl set on the outside end: refused by name
start_workload "$T_DIR/sys.log" unshare --net --fork sh -c \
	'echo READY && exec sleep 60'
u=$WL_PID
wait_for 20 eval '[ -n "$(pgrep -P '"$u"')" ]' || fail "no child under unshare"
pid=$(pgrep -P "$u")
track_pid "$pid"
wait_ready "$T_DIR/sys.log" "$pid" 20
ip link add "${VH}b" type veth peer name vc1 netns "$pid" &&
	echo 1 >"/proc/sys/net/ipv4/conf/${VH}b/proxy_arp" ||
	fail "cannot make ${VH}b"
expect_refused sys "$pid" "sysctl net/ipv4/conf/${VH}b/proxy_arp of the outside end of veth vc1 is '1'"
pass
