#!/bin/bash
# SPDX-License-Identifier: MIT
# e2e-lane: isolated (its own namespaces or files only: runs beside the shared lane)
#
# wl_tun: /dev/net/tun descriptors (never attached; a tun device; two
# queues of a multi-queue one, one detached; a tap) and a persistent device
# no descriptor holds, as zdtm's tun and tun_ns: once with the devices in
# the tree's own network namespace (the tun device up with an address: a
# datagram routed through it comes out of its descriptor after the
# restore), once in ours (the devices are made again by the descriptors,
# the tap with its MAC; the persistent one is still there).  Each checked
# by the workload after a freeze and thaw and after checkpoint, kill and
# restore.  A descriptor with a packet waiting for the program and a device
# of ours that is up are refused by name.
if [ -z "${CRFS_T_OWN_MOUNTS:-}" ]; then
	CRFS_T_OWN_MOUNTS=1 exec unshare --mount --propagation private "$0" "$@"
fi
. "$(dirname "$0")/lib.sh"

command -v unshare >/dev/null || fail "unshare (util-linux) not found"
command -v ip >/dev/null || fail "ip (iproute2) not found"
[ -c /dev/net/tun ] || fail "/dev/net/tun missing"
crfs_mount

# devices of ours carry this prefix; whatever is left of them goes at exit
PFX=h$(($$ % 100000))
del_devs() {
	local d
	for d in $(ip -o link show | grep -o "$PFX[a-z0-9]*" | sort -u); do
		ip link del "$d" 2>/dev/null
	done
}
trap 'rc=$?; del_devs; (exit $rc); _cleanup' EXIT

# run_case NAME PREFIX UNSHARE-OPTIONS...: freeze, thaw, checkpoint, kill,
# restore; the workload checks itself after each
run_case() {
	local name=$1 pfx=$2 log=$T_DIR/$1.log u pid
	shift 2
	start_workload "$log" env WL_TUN_NS="${WL_TUN_NS:-}" \
		unshare --fork --pid --mount-proc "$@" "$CRFS_TESTS/wl_tun" "$pfx"
	u=$WL_PID
	wait_for 20 eval '[ -n "$(pgrep -P '"$u"')" ]' || fail "no child under unshare"
	pid=$(pgrep -P "$u")
	track_pid "$pid"
	wait_ready "$log" "$pid" 30
	cr_attach "$name" "$pid"
	cr_freeze "$name"
	cr_thaw "$name"
	timeout "$T_CTL_TIMEOUT" rmdir "$MNT/$name" || fail "rmdir $MNT/$name failed"
	checkpoint "$name" "$pid" "$T_DIR/$name.ckpt"
	grep -q "^[0-9]* tun .*ifname=${pfx}mq .*tun_detached=1" "$T_DIR/$name.ckpt/files" ||
		fail "$name: files lacks the detached queue: $(grep ' tun ' "$T_DIR/$name.ckpt/files" | tr '\n' '|')"
	kill_and_reap "$name" "$pid" "$u"
	restore_ns "$T_DIR/$name.ckpt"
	kill -USR1 "$NEW_PID" || fail "cannot signal restored pid $NEW_PID"
	expect_pass "$log" "$RESTORE_PID" 30
}

WL_TUN_NS=1 run_case tunns tn --net
grep -q '^dev tun tnt0 ' "$T_DIR/tunns.ckpt/ns" ||
	fail "tunns: ns lacks tnt0: $(grep '^dev' "$T_DIR/tunns.ckpt/ns" | tr '\n' '|')"
run_case tunhost "$PFX"
grep -q "tun_mac" "$T_DIR/tunhost.ckpt/files" ||
	fail "tunhost: files keeps no MAC for the tap"
ip link show "${PFX}p0" >/dev/null 2>&1 &&
	fail "tunhost: the persistent ${PFX}p0 outlived the workload"

# refused_case NAME TEXT PYTHON: refused by name at freeze, runs on
refused_case() {
	expect_refused_tree "$1" "$2" unshare --fork --pid --mount-proc \
		python3 -c "$3"
}

command -v python3 >/dev/null || fail "python3 not found"
# tap_up NAME [disable_ipv6]: a python tree holding tap NAME of ours, up
tap_up() {
	cat <<EOP
import fcntl, os, struct, subprocess, time
fd = os.open('/dev/net/tun', os.O_RDWR)
fcntl.ioctl(fd, 0x400454ca, struct.pack('16sH', b'$1', 0x1002))
if '${2:-}':
    open('/proc/sys/net/ipv6/conf/$1/disable_ipv6', 'w').write('1')
subprocess.check_call(['ip', 'link', 'set', '$1', 'up'])
if not '${2:-}':
    # the kernel's IPv6 solicitations wait for the program
    while not __import__('select').select([fd], [], [], 1)[0]:
        pass
print('READY', flush=True)
time.sleep(60)
EOP
}
# up, with IPv6 off: configuration we do not save
refused_case tunup "a tun/tap device in crfs's network namespace that is up is not supported" \
	"$(tap_up "${PFX}up" 1)"
# up: a packet queued for the program
refused_case tunq "a tun/tap descriptor with packets queued for the program is not supported" \
	"$(tap_up "${PFX}q")"
pass
