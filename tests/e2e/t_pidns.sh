#!/bin/bash
# SPDX-License-Identifier: MIT
# e2e-lane: isolated (its own namespaces or files only: runs beside the shared lane)
#
# A tree in a pid namespace of its own (unshare --pid --fork): python3 as
# the namespace's init (pid 1) with a child (pid 2) and a thread.  Restore
# must create a new pid namespace in which they have the same pids and tid
# again; the processes check that themselves after the restore.
# unshare --mount-proc is refused unless the mount tables differ only by
# /proc: run in a mount namespace of our own, which other tests' mounts
# and unmounts (the host's root is private) do not reach meanwhile.
# A third tree holds a pidfd of a child reaped since, a fourth a process
# whose session leader has exited: both refused by name.
if [ -z "${CRFS_T_OWN_MOUNTS:-}" ]; then
	CRFS_T_OWN_MOUNTS=1 exec unshare --mount --propagation private "$0" "$@"
fi
. "$(dirname "$0")/lib.sh"

read -r -d '' SCRIPT <<'EOS'
import ctypes, os, signal, sys, threading, time

libc = ctypes.CDLL(None, use_errno=True)
def prctl_get(opt):
    v = ctypes.c_int(0)
    libc.prctl(opt, ctypes.byref(v), 0, 0, 0)
    return v.value

fails = []
def check(name, ok, why=""):
    print("PASS %s" % name if ok else "FAIL %s: %s" % (name, why), flush=True)
    if not ok:
        fails.append(name)

me = os.getpid()
child = os.fork()
if child == 0:
    libc.prctl(1, int(signal.SIGTERM), 0, 0, 0)	# PR_SET_PDEATHSIG
    got = {}
    signal.signal(signal.SIGUSR1, lambda s, f: got.setdefault("x", 1))
    mine = os.getpid()
    while "x" not in got:
        time.sleep(0.01)
    ok = os.getpid() == mine and os.getppid() == 1
    sys.exit(0 if ok and prctl_get(2) == signal.SIGTERM else 3)

libc.prctl(36, 1, 0, 0, 0)	# PR_SET_CHILD_SUBREAPER
state = {}
stop = threading.Event()
def worker():
    state["before"] = threading.get_native_id()
    while not stop.is_set():
        time.sleep(0.01)
    state["after"] = threading.get_native_id()

if os.environ.get("DEADPIDFD"):	# a pidfd of a child reaped since
    r, w = os.pipe()
    dead = os.fork()
    if dead == 0:
        os.close(w)
        os.read(r, 1)
        os._exit(3)
    deadfd = os.pidfd_open(dead)
    os.close(w)
    os.waitpid(dead, 0)
if os.environ.get("EXTRA"):	# a child stopped (and seen so), a zombie
    stopped = os.fork()
    if stopped == 0:
        os.kill(os.getpid(), signal.SIGSTOP)
        os._exit(0)
    os.waitpid(stopped, os.WUNTRACED)
    zombie = os.fork()
    if zombie == 0:
        os._exit(7)
    while open("/proc/%d/stat" % zombie).read().split(")")[1].split()[0] != "Z":
        time.sleep(0.01)
if os.environ.get("PROCFILE"):	# a file under /proc/PID of the namespace
    keep = open("/proc/self/status")
if os.environ.get("NOLEADER"):	# a process whose session leader exited
    nr, nw = os.pipe()
    leader = os.fork()
    if leader == 0:
        os.setsid()
        if os.fork() == 0:
            os.close(nw)
            os.read(nr, 1)	# until init closes its end
            os._exit(0)
        os._exit(0)
    os.close(nr)
    os.waitpid(leader, 0)
t = threading.Thread(target=worker)
t.start()
go = {}
signal.signal(signal.SIGUSR1, lambda s, f: go.setdefault("x", 1))
while "before" not in state:
    time.sleep(0.01)
print("READY", flush=True)
while "x" not in go:
    time.sleep(0.01)
check("ns.init", me == 1 and os.getpid() == 1, "pid %d" % os.getpid())
if os.environ.get("MOUNT_PROC"):
    check("ns.proc", os.readlink("/proc/self") == "1",
          "/proc/self is %s" % os.readlink("/proc/self"))
check("ns.subreaper", prctl_get(37) == 1, "PR_GET_CHILD_SUBREAPER is 0")
stop.set()
t.join()
check("ns.tid", state["before"] == state["after"],
      "%d != %d" % (state["before"], state["after"]))
if os.environ.get("EXTRA"):
    state = open("/proc/%d/stat" % stopped).read().split(")")[1].split()[0]
    os.kill(stopped, signal.SIGCONT)
    spid, sst = os.waitpid(stopped, 0)
    check("ns.stopped", state == "T" and os.WEXITSTATUS(sst) == 0,
          "state %s, status %d" % (state, sst))
    zpid, zst = os.waitpid(zombie, 0)
    check("ns.zombie", zpid == zombie and os.WEXITSTATUS(zst) == 7,
          "pid %d status %d" % (zpid, zst))
os.kill(child, signal.SIGUSR1)
pid, st = os.waitpid(child, 0)
check("ns.child", pid == child == 2 and os.WEXITSTATUS(st) == 0,
      "child %d status %d" % (pid, st))
sys.exit(1 if fails else 0)
EOS

PY=$(python_bin)
command -v unshare >/dev/null || fail "unshare (util-linux) not found"
crfs_mount

# start_tree LOG [ENV=VALUE...] [--mount-proc]: the script as init of a
# pid namespace of its own, ready; sets u (unshare) and pid (init)
start_tree() {
	local log=$1 env=
	shift
	while [ "${1:-}" ] && [ "${1#*=}" != "$1" ]; do
		env="$env $1"
		shift
	done
	# shellcheck disable=SC2086
	start_workload "$log" env $env ${1:+MOUNT_PROC=1} unshare --pid --fork "$@" \
		"$PY" -c "$SCRIPT"
	u=$WL_PID
	wait_for 20 eval '[ -n "$(pgrep -P '"$u"')" ]' || fail "no init under unshare"
	pid=$(pgrep -P "$u")
	track_pid "$pid"
	wait_ready "$log" "$pid" 60
}

# run_case NAME [--mount-proc]
run_case() {
	local name=$1 log=$T_DIR/$1.log u pid pf r np
	shift
	start_tree "$log" "$@"
	grep -q 'NSpid:.*[[:space:]]1$' "/proc/$pid/status" ||
		fail "pid $pid is not init of its namespace"
	checkpoint "$name" "$pid" "$T_DIR/$name.ckpt"
	grep -qx 'vpid 1' "$T_DIR/$name.ckpt/$pid/attr" || fail "attr does not say 'vpid 1'"
	kill_and_reap "$name" "$pid" "$u"

	pf=$T_DIR/$name.pid
	"$CRFS_BIN/crfs-restore" --pidfile "$pf" "$T_DIR/$name.ckpt" </dev/null \
		>"$T_DIR/restore.out" 2>"$T_DIR/restore.err" &
	r=$!
	track_pid "$r"
	wait_for 20 eval '[ -s "$pf" ] || ! proc_alive '"$r" || fail "no pidfile"
	[ -s "$pf" ] || fail "crfs-restore failed: $(cat "$T_DIR/restore.err")"
	np=$(tr -dc 0-9 <"$pf")
	track_pid "$np"
	grep -q 'NSpid:.*[[:space:]]1$' "/proc/$np/status" ||
		fail "restored root is not init of a new pid namespace: $(grep NSpid "/proc/$np/status")"
	kill -USR1 "$np" || fail "cannot signal restored init $np"
	expect_pass "$log" "$r" 30
}

run_case pidns
run_case mountproc --mount-proc
# a stopped child, its stop collected (the freeze asks its parent in the
# namespace's pids: it failed with ECHILD), and a zombie (no mount
# namespace to read: restore refused it as in another one than the root)
run_case extra EXTRA=1 --mount-proc
grep -q '^PASS ns.stopped' "$T_DIR/extra.log" || fail "extra.log: no PASS ns.stopped"
grep -q '^PASS ns.zombie' "$T_DIR/extra.log" || fail "extra.log: no PASS ns.zombie"

# a file under /proc/PID of the namespace's own proc: refused by name
# (it was taken for a plain file, its path naming the namespace's pid)
start_tree "$T_DIR/procfile.log" PROCFILE=1 --mount-proc
expect_refused procfile "$pid" "a file under /proc/PID of a tree in its own pid namespace is not supported yet"
timeout "$T_CTL_TIMEOUT" rmdir "$MNT/procfile" || fail "rmdir $MNT/procfile failed"
kill -USR1 "$pid" || fail "cannot signal pid $pid"
expect_pass "$T_DIR/procfile.log" "$u" 30

# a process whose session leader has exited, inside the namespace:
# restore would need a helper with the leader's pid there (not made yet),
# so the freeze refuses it (restore refused the copy before); the tree
# runs on and passes its checks
start_tree "$T_DIR/noleader.log" NOLEADER=1
expect_refused noleader "$pid" "a session or process group whose leader has exited, inside a pid namespace, is not supported yet"
timeout "$T_CTL_TIMEOUT" rmdir "$MNT/noleader" || fail "rmdir $MNT/noleader failed"
kill -USR1 "$pid" || fail "cannot signal pid $pid"
expect_pass "$T_DIR/noleader.log" "$u" 30

# a pidfd of a process reaped since, in a tree of its own pid namespace:
# the stand-in restore would make is not of that namespace (refused); the
# tree runs on and passes its checks
start_tree "$T_DIR/dead.log" DEADPIDFD=1
expect_refused dead "$pid" "a pidfd of a process that has exited, in a tree with a pid namespace of its own, is not supported yet"
timeout "$T_CTL_TIMEOUT" rmdir "$MNT/dead" || fail "rmdir $MNT/dead failed"
kill -USR1 "$pid" || fail "cannot signal pid $pid"
expect_pass "$T_DIR/dead.log" "$u" 30
pass
