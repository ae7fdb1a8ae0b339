#!/bin/bash
# SPDX-License-Identifier: MIT
# e2e-lane: shared (runc: cgroups, host sysctls, SysV IPC, a server)
#
# A real OCI container: runc (Debian's) runs a busybox rootfs built here,
# with its own pid, mount, network, IPC and UTS namespaces, a hostname,
# loopback up, a tmpfs /tmp with files, the host's /usr and /lib bound
# read-only (for the glibc workload), runc's masked and read-only paths
# (binds of parts of its proc and /dev, a tmpfs on /proc/acpi and on
# /sys/firmware), its v1 devices cgroup allow list, a small web server
# (busybox httpd) and wl_sysvipc (SysV objects in the container's IPC
# namespace).  The workload is a child of the container's init, not init
# itself, and init drops the SEM_UNDO list runc's Go `runc init` left it
# (its threads made one, empty, but crfs cannot see that it is).  Freeze -> thaw, then
# checkpoint, kill, restore, and again for the restored container: the
# workload checks its IPC objects itself after each; we check the
# hostname, the files in /tmp and that the server answers a client inside
# the restored network namespace.  Last, the image with its
# rootfs directory renamed away is refused by name, nothing left behind.
. "$(dirname "$0")/lib.sh"

command -v runc >/dev/null || fail "runc not installed"
BB=$(command -v busybox) || fail "busybox not installed"
id=crfs-t-$$
b=$T_DIR/bundle
out=$T_DIR/out

# the container's cgroups (runc's, or those restore made again), once
# their tasks are gone
rm_cgroups() {
	local h ok=0
	for h in /sys/fs/cgroup/*/"$id" /sys/fs/cgroup/*/*/"$id" \
		 /sys/fs/cgroup/*/*/*/"$id"; do
		[ -d "$h" ] || continue
		wait_for 10 rmdir "$h" 2>/dev/null || ok=1
	done
	return $ok
}

runc_cleanup() {
	local rc=$? h
	_kill_tracked
	runc delete -f "$id" >/dev/null 2>&1
	rm_cgroups || echo "# cannot remove the cgroups of $id" >&2
	(exit $rc)
	_cleanup
}
trap runc_cleanup EXIT

mkdir -p "$b/rootfs/bin" "$b/rootfs/tmp" "$b/rootfs/usr" "$b/rootfs/lib" \
	"$b/rootfs/lib64" "$b/rootfs/crfs-tests" "$b/rootfs/etc" \
	"$b/rootfs/out" "$out"
cp "$BB" "$b/rootfs/bin/busybox"
for c in sh httpd wget hostname cat mkdir echo sleep; do
	ln -s busybox "$b/rootfs/bin/$c"
done
# every fd of the container on a mount of its own: init's output to /out
cat >"$b/rootfs/init.sh" <<'EOS'
exec >/out/init.log 2>&1 </dev/null
mkdir -p /tmp/www
echo "served from a restored container" >/tmp/www/index.html
echo "a file in tmpfs" >/tmp/note
httpd -p 127.0.0.1:8080 -h /tmp/www
/crfs-tests/wl_sysvipc 3 >/out/wl.log 2>&1 &
wait $!
EOS
(cd "$b" && runc spec) || fail "runc spec failed"
python3 - "$b/config.json" "$CRFS_TESTS" "$out" <<'EOS' || fail "cannot write config.json"
import json, sys
path, tests, out = sys.argv[1:4]
c = json.load(open(path))
c["process"]["terminal"] = False
# the init runc init execs holds the (empty) SEM_UNDO list the Go threads
# of runc init made; crfs cannot read it, and refuses a semaphore set
# changed by semop while any process of the tree holds one: init drops it
# (unshare(CLONE_SYSVSEM)) before it runs the shell
c["process"]["args"] = ["/usr/bin/python3", "-c",
    "import ctypes, os\n"
    "if ctypes.CDLL(None, use_errno=True).unshare(0x40000):\n"
    "    raise OSError(ctypes.get_errno(), 'unshare CLONE_SYSVSEM')\n"
    "os.execv('/bin/sh', ['sh', '/init.sh'])\n"]
c["hostname"] = "crfs-box"
c["root"]["readonly"] = False
# the cgroup v1 hierarchies of this host in the container are not for us
c["mounts"] = [m for m in c["mounts"] if m["destination"] != "/sys/fs/cgroup"]
c["mounts"].append({"destination": "/tmp", "type": "tmpfs", "source": "tmpfs",
                    "options": ["nosuid", "nodev", "mode=1777", "size=16m"]})
for d in ("/usr", "/lib", "/lib64"):
    c["mounts"].append({"destination": d, "type": "bind", "source": d,
                        "options": ["rbind", "ro"]})
c["mounts"].append({"destination": "/crfs-tests", "type": "bind",
                    "source": tests, "options": ["rbind", "ro"]})
c["mounts"].append({"destination": "/out", "type": "bind",
                    "source": out, "options": ["rbind", "rw"]})
c["linux"]["cgroupsPath"] = None
json.dump(c, open(path, "w"), indent=1)
EOS

# wl_pid INIT: the pid of the workload, a child of the container's init
wl_pid() {
	local p
	for p in $(cat /proc/"$1"/task/*/children 2>/dev/null); do
		[ "$(cat "/proc/$p/comm" 2>/dev/null)" = wl_sysvipc ] && echo "$p"
	done
}

crfs_mount
wlog=$out/wl.log
start_workload "$T_DIR/runc.log" runc run --bundle "$b" --pid-file "$T_DIR/init.pid" "$id"
runc_pid=$WL_PID
wait_for 30 test -s "$T_DIR/init.pid" || fail "runc wrote no pid file"
pid=$(cat "$T_DIR/init.pid")
track_pid "$pid"
wait_line "$wlog" '^READY$' 30 "$pid"
wl=$(wl_pid "$pid")
[ -n "$wl" ] || fail "no workload under the container's init $pid"
wait_for 10 eval 'nsenter -t '"$pid"' -n -u busybox wget -qO- http://127.0.0.1:8080/index.html >/dev/null 2>&1' ||
	fail "the container's server does not answer"

checkpoint rc "$pid" "$T_DIR/ckpt"
cr_thaw rc
kill -USR1 "$wl" || fail "cannot signal $wl"
wait_line "$wlog" '^ROUND 1$' 10 "$wl"
grep -q '^FAIL' "$wlog" && fail "after thaw: $(grep '^FAIL' "$wlog" | tr '\n' ';')"
cr_freeze rc
cr_copy rc "$T_DIR/ckpt2"
kill_and_reap rc "$pid" "$runc_pid"
runc delete -f "$id" >/dev/null 2>&1

[ -n "${T_RUNC_KEEP:-}" ] && cp -a "$T_DIR/ckpt2" "$T_RUNC_KEEP"

# restore_gen IMG: the container restored from IMG, checked from outside;
# its init in np, crfs-restore in r
restore_gen() {
	local got
	restore_newpid "$1"
	np=$NEW_PID
	r=$RESTORE_PID
	[ "$(nsenter -t "$np" -u hostname)" = crfs-box ] ||
		fail "hostname in the restored container: $(nsenter -t "$np" -u hostname)"
	[ "$(cat "/proc/$np/root/tmp/note")" = "a file in tmpfs" ] ||
		fail "/tmp/note in the restored container: $(cat "/proc/$np/root/tmp/note" 2>&1)"
	got=$(nsenter -t "$np" -n busybox wget -qO- http://127.0.0.1:8080/index.html 2>&1)
	[ "$got" = "served from a restored container" ] ||
		fail "the restored server answers '$got'"
	nwl=$(wl_pid "$np")
	[ -n "$nwl" ] || fail "no workload under the restored init $np"
}

# first generation: the workload checks its objects, then the restored
# container is checkpointed, killed and restored again (its mount tree is
# the one crfs-restore built)
restore_gen "$T_DIR/ckpt2"
kill -USR1 "$nwl" || fail "cannot signal the restored workload $nwl"
wait_line "$wlog" '^ROUND 2$' 10 "$nwl"
grep -q '^FAIL' "$wlog" && fail "after restore: $(grep '^FAIL' "$wlog" | tr '\n' ';')"
checkpoint rc2 "$np" "$T_DIR/ckpt3"
kill_and_reap rc2 "$np" "$r"
rm_cgroups || fail "cannot remove the restored container's cgroups"
restore_gen "$T_DIR/ckpt3"
kill -USR1 "$nwl" || fail "cannot signal the restored workload $nwl"
# not our child: its own verdict is its log's
wait_gone "$nwl" 30 || fail "the restored workload $nwl still runs after 30s"
grep -q '^FAIL' "$wlog" && fail "after the second restore: $(grep '^FAIL' "$wlog" | tr '\n' ';')"
grep -q '^PASS' "$wlog" || fail "the restored workload ended without PASS: $(tail -n 3 "$wlog" | tr '\n' '|')"
wait_exit "$r" 20 || fail "crfs-restore still runs after its container ended"
rm_cgroups || fail "cannot remove the restored container's cgroups"

# bad input: the rootfs directory gone; refused by name, nothing made
mv "$b/rootfs" "$b/rootfs.away"
expect_restore_refused norootfs "$T_DIR/ckpt2" "$np" \
	"mount /: its source $b/rootfs is missing"
ls -d /sys/fs/cgroup/*/"$id" /sys/fs/cgroup/*/*/"$id" \
	/sys/fs/cgroup/*/*/*/"$id" >/dev/null 2>&1 &&
	fail "the refused restore left cgroups of $id"
mv "$b/rootfs.away" "$b/rootfs"
pass
