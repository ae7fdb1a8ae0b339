#!/bin/bash
# SPDX-License-Identifier: MIT
# e2e-lane: isolated (its own namespaces or files only: runs beside the shared lane)
#
# Real interpreters with threads and children.
#
# python3 with threading: 4 threads count in loops of time.sleep(0.01),
# under a Lock and a Condition the main thread waits on (its waits have a
# timeout: the futex is interrupted by the freeze and the restore, and
# CPython must carry on).  SIGUSR2 makes it print "COUNT total" and
# remember each thread's count; after the restore SIGUSR1 makes it check
# that every thread goes on counting from there (and no faster than it
# can), with its own native thread id, that the totals agree (the Lock
# held), that a 100k-entry dict is intact, and that all threads stop and
# join when asked.
#
# bash with children: a background subshell that keeps forking
# `sleep 0.1` (so the freeze meets a tree that changes under it) and a
# `sleep 30 &`, while bash waits in `wait` for the subshell.  After the
# restore the test sends SIGUSR1 to the subshell, whose trap exits 7:
# `wait` must return 7 (the subshell is still bash's child), then bash
# kills and waits for the sleep (status 143: also still its child), and
# checks $$ and an associative array.  The tree is killed through ctl
# before the restore, so it runs under the SUBREAPER_PY wrapper (lib.sh).
. "$(dirname "$0")/lib.sh"

PY=$(python_bin)
[ -x "$PY" ] || fail "python3 not found"

read -r -d '' PY_THREADS <<'EOS'
import os, signal, sys, threading, time

if os.getsid(0) != os.getpid():
    os.setsid()
pid = os.getpid()
want_file = sys.argv[1]
N = 100000
NT = 4

def f(i):
    return (i * 2654435761) % 4294967291

d = {i: f(i) for i in range(N)}
size = len(d)

lock = threading.Lock()
cond = threading.Condition(lock)
counts = [0] * NT
total = [0]
tids = [0] * NT
tids_now = [0] * NT
state = {"stop": False, "probe": False}
fails = []

def check(name, ok, why=""):
    print("PASS %s" % name if ok else "FAIL %s: %s" % (name, why), flush=True)
    if not ok:
        fails.append(name)

def worker(i):
    tids[i] = threading.get_native_id()
    while True:
        time.sleep(0.01)
        with cond:
            if state["stop"]:
                return
            counts[i] += 1
            total[0] += 1
            if state["probe"]:
                tids_now[i] = threading.get_native_id()
            cond.notify_all()

def on_usr2(sig, frame):
    with cond:
        state["usr2_t"] = time.monotonic()
        state["usr2_counts"] = list(counts)
        print("COUNT %d" % total[0], flush=True)

def on_usr1(sig, frame):
    state["usr1"] = True

signal.signal(signal.SIGUSR2, on_usr2)
signal.signal(signal.SIGUSR1, on_usr1)
threads = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(NT)]
for t in threads:
    t.start()
while not all(tids):
    time.sleep(0.01)
print("READY", flush=True)

# the main thread waits on the condition, woken by every count
with cond:
    while "usr1" not in state:
        cond.wait(2.0)

# checks: after the restore, SIGUSR1
bad = [i for i in range(N) if d.get(i) != f(i)]
check("py.dict", not bad and len(d) == size, "%d wrong, %d of %d" % (len(bad), len(d), size))
check("py.pid", os.getpid() == pid, "%d != %d" % (os.getpid(), pid))
with open(want_file) as fh:
    want = int(fh.read())
with cond:
    c0 = list(counts)
    t_now = time.monotonic()
    tot0 = total[0]
    state["probe"] = True
check("py.total", tot0 == sum(c0) and tot0 >= want,
      "total %d, sum of counts %d, COUNT before the checkpoint %d" % (tot0, sum(c0), want))
base = state["usr2_counts"]
most = int((t_now - state["usr2_t"]) / 0.01) + 10
check("py.counts", all(base[i] <= c0[i] <= base[i] + most for i in range(NT)),
      "counts %s, at COUNT %s, at most +%d" % (c0, base, most))
time.sleep(1.0)
with cond:
    c1 = list(counts)
check("py.threads.count", all(c1[i] >= c0[i] + 10 for i in range(NT)),
      "1 s after the check counts went from %s to %s" % (c0, c1))
check("py.threads.tid", tids_now == tids,
      "native ids now %s, at start %s" % (tids_now, tids))
alive = [t.is_alive() for t in threads]
check("py.threads.alive", all(alive), "alive: %s" % alive)
with cond:
    state["stop"] = True
    cond.notify_all()
for t in threads:
    t.join(10)
check("py.threads.join", not any(t.is_alive() for t in threads),
      "threads still running 10 s after stop")
check("py.threads.enum", threading.active_count() == 1,
      "%d threads active after join" % threading.active_count())
sys.exit(1 if fails else 0)
EOS

read -r -d '' BASH_JOBS <<'EOS'
declare -A h
for ((k = 0; k < 5000; k++)); do h[$k]=$(( (k * 7919) % 10007 )); done
me=$$
( trap 'exit 7' USR1; while :; do sleep 0.1; done ) &
job=$!
sleep 30 &
slp=$!
echo "JOB $job"
echo "SLEEP $slp"
echo READY
fails=0
wait "$job"
st=$?
if [ "$st" = 7 ]; then echo "PASS bash.wait"; else echo "FAIL bash.wait: wait $job returned $st, want 7"; fails=1; fi
kill "$slp"
wait "$slp"
st=$?
if [ "$st" = 143 ]; then echo "PASS bash.sleep"; else echo "FAIL bash.sleep: wait $slp returned $st, want 143"; fails=1; fi
bad=0
for ((k = 0; k < 5000; k++)); do (( h[$k] == (k * 7919) % 10007 )) || bad=$((bad + 1)); done
if (( bad == 0 && ${#h[@]} == 5000 )); then echo "PASS bash.array"; else echo "FAIL bash.array: $bad wrong of ${#h[@]}"; fails=1; fi
if (( BASHPID == me && $$ == me )); then echo "PASS bash.pid"; else echo "FAIL bash.pid: \$\$ $$ BASHPID $BASHPID, was $me"; fails=1; fi
exit $fails
EOS

crfs_mount

# --- python3 threading ----------------------------------------------------------
log=$T_DIR/py.log
start_workload "$log" "$PY" -c "$PY_THREADS" "$T_DIR/want"
pid=$WL_PID
wait_ready "$log" "$pid" 60
n=$(ls "/proc/$pid/task" | wc -l)
[ "$n" = 5 ] || fail "python has $n threads, want 5"
tids=$(ls "/proc/$pid/task" | sort -n)
sleep 0.5
get_count "$log" "$pid"
[ "$COUNT" -gt 0 ] || fail "python threads do not count"
echo "$COUNT" >"$T_DIR/want"
checkpoint py "$pid" "$T_DIR/ckpt-py"
kill_and_reap py "$pid"
restore_bg "$T_DIR/ckpt-py" "$pid"
[ "$(ls "/proc/$pid/task" | sort -n)" = "$tids" ] ||
	fail "python's thread ids after restore: $(ls "/proc/$pid/task" | tr '\n' ' '), before: $(tr '\n' ' ' <<<"$tids")"
kill -USR1 "$pid" || fail "cannot signal restored pid $pid"
expect_pass "$log" "$RESTORE_PID" 60

# --- bash with a background job -------------------------------------------------
log=$T_DIR/bash.log
start_workload "$log" "$PY" -c "$SUBREAPER_PY" "$log" bash -c "$BASH_JOBS"
sub=$WL_PID
wait_root "$log" "$sub"
root=$ROOT_PID
track_tree "$root"
job=$(sed -n 's/^JOB //p' "$log")
slp=$(sed -n 's/^SLEEP //p' "$log")
[ -n "$job" ] && [ -n "$slp" ] || fail "no JOB/SLEEP lines"
[ "$(proc_field "$job" 4)" = "$root" ] && [ "$(proc_field "$slp" 4)" = "$root" ] ||
	fail "job $job / sleep $slp are not children of bash $root"
sleep 0.5	# let the subshell fork a few sleeps

checkpoint ba "$root" "$T_DIR/ckpt-bash"
pids=$(awk 'NR > 1 { print $1 }' "$T_DIR/ckpt-bash/tree")
note "bash tree at the checkpoint: $(awk 'NR > 1 { print $1 "<" $2 ":" $6 }' "$T_DIR/ckpt-bash/tree" | tr '\n' ' ')"
kill_and_reap ba "$root" "$sub"
# shellcheck disable=SC2086
none_alive $pids
restore_bg "$T_DIR/ckpt-bash" "$root"
track_tree "$root"
for p in "$job" "$slp"; do
	proc_alive "$p" || fail "pid $p not running after the restore"
	[ "$(proc_field "$p" 4)" = "$root" ] ||
		fail "pid $p has parent $(proc_field "$p" 4) after the restore, want bash $root"
done
[ "$(proc_field "$job" 6)" = "$root" ] || fail "job $job is not in bash's session after the restore"
kill -USR1 "$job" || fail "cannot signal job $job"
expect_pass "$log" "$RESTORE_PID" 30
for c in wait sleep array pid; do
	grep -qx "PASS bash.$c" "$log" || fail "no 'PASS bash.$c'"
done
pass
