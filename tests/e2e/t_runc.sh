#!/bin/bash
# SPDX-License-Identifier: MIT
#
# A real OCI container: runc (Debian's) runs a busybox rootfs built here,
# with its own pid, mount, network, IPC and UTS namespaces, a hostname,
# loopback up, a tmpfs /tmp with files, the host's /usr and /lib bound
# read-only (for the glibc workload), a small web server (busybox httpd)
# and wl_sysvipc (SysV objects in the container's IPC namespace) as the
# container's init.  Checkpointed through crfs, killed, restored: the
# workload checks its IPC objects itself; we check the hostname, the
# files in /tmp and that the server answers inside the restored network
# namespace.
. "$(dirname "$0")/lib.sh"

command -v runc >/dev/null || fail "runc not installed"
BB=$(command -v busybox) || fail "busybox not installed"
id=crfs-t-$$
b=$T_DIR/bundle
trap 'rc=$?; runc delete -f "$id" >/dev/null 2>&1; for h in /sys/fs/cgroup/*/"$id" /sys/fs/cgroup/*/*/"$id"; do [ -d "$h" ] && rmdir "$h" 2>/dev/null; done; (exit $rc); _cleanup' EXIT

mkdir -p "$b/rootfs/bin" "$b/rootfs/tmp" "$b/rootfs/usr" "$b/rootfs/lib" \
	"$b/rootfs/lib64" "$b/rootfs/crfs-tests" "$b/rootfs/etc"
cp "$BB" "$b/rootfs/bin/busybox"
for c in sh httpd wget hostname cat mkdir echo sleep; do
	ln -s busybox "$b/rootfs/bin/$c"
done
cat >"$b/rootfs/init.sh" <<'EOS'
mkdir -p /tmp/www
echo "served from a restored container" >/tmp/www/index.html
echo "a file in tmpfs" >/tmp/note
httpd -p 127.0.0.1:8080 -h /tmp/www
exec /crfs-tests/wl_sysvipc 2
EOS
(cd "$b" && runc spec) || fail "runc spec failed"
python3 - "$b/config.json" "$CRFS_TESTS" <<'EOS' || fail "cannot write config.json"
import json, sys
path, tests = sys.argv[1], sys.argv[2]
c = json.load(open(path))
c["process"]["terminal"] = False
c["process"]["args"] = ["/bin/sh", "/init.sh"]
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
c["linux"]["cgroupsPath"] = None
json.dump(c, open(path, "w"), indent=1)
EOS

crfs_mount
log=$T_DIR/runc.log
start_workload "$log" runc run --bundle "$b" --pid-file "$T_DIR/init.pid" "$id"
runc_pid=$WL_PID
wait_line "$log" '^READY$' 30 "$runc_pid"
pid=$(cat "$T_DIR/init.pid")
track_pid "$pid"
wait_for 10 eval 'nsenter -t '"$pid"' -n -u busybox wget -qO- http://127.0.0.1:8080/index.html >/dev/null 2>&1' ||
	fail "the container's server does not answer"

checkpoint rc "$pid" "$T_DIR/ckpt"
cr_thaw rc
kill -USR1 "$pid" || fail "cannot signal $pid"
wait_line "$log" '^ROUND 1$' 10 "$pid"
grep -q '^FAIL' "$log" && fail "after thaw: $(grep '^FAIL' "$log" | tr '\n' ';')"
cr_freeze rc
cr_copy rc "$T_DIR/ckpt2"
kill_and_reap rc "$pid" "$runc_pid"
runc delete -f "$id" >/dev/null 2>&1

pf=$T_DIR/restore.pid
"$CRFS_BIN/crfs-restore" --pidfile "$pf" "$T_DIR/ckpt2" </dev/null \
	>"$T_DIR/restore.out" 2>"$T_DIR/restore.err" &
r=$!
track_pid "$r"
wait_for 60 eval '[ -s "$pf" ] || ! proc_alive '"$r" || fail "no pidfile"
[ -s "$pf" ] || fail "crfs-restore failed: $(tail -n 5 "$T_DIR/restore.err" | tr '\n' '|')"
np=$(tr -dc 0-9 <"$pf")
track_pid "$np"
[ "$(nsenter -t "$np" -u hostname)" = crfs-box ] ||
	fail "hostname in the restored container: $(nsenter -t "$np" -u hostname)"
[ "$(cat "/proc/$np/root/tmp/note")" = "a file in tmpfs" ] ||
	fail "/tmp/note in the restored container: $(cat "/proc/$np/root/tmp/note" 2>&1)"
got=$(nsenter -t "$np" -n busybox wget -qO- http://127.0.0.1:8080/index.html 2>&1)
[ "$got" = "served from a restored container" ] ||
	fail "the restored server answers '$got'"
kill -USR1 "$np" || fail "cannot signal the restored init $np"
expect_pass "$log" "$r" 30
pass
