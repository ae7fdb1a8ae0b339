#!/bin/bash
# SPDX-License-Identifier: MIT
# e2e-lane: shared ipc (the host's IPC namespace)
#
# python3's multiprocessing: a worker process fed through Queues (pipes,
# a feeder thread, and locks that are POSIX semaphores: shared mappings
# of /dev/shm files deleted right after they were made), and a shared
# Value.  After checkpoint, kill and restore, 200 jobs go through the
# worker and back, and the Value it counts in agrees.
. "$(dirname "$0")/lib.sh"

PY=$(python_bin)
[ -x "$PY" ] || fail "python3 not found"

read -r -d '' MP <<'EOS'
import multiprocessing as mp, os, signal, sys, time

def work(q_in, q_out, done):
    for x in iter(q_in.get, None):
        with done.get_lock():
            done.value += 1
        q_out.put(x * 2)

if __name__ == "__main__":
    mp.set_start_method("fork")
    q_in, q_out = mp.Queue(), mp.Queue()
    done = mp.Value("i", 0)
    p = mp.Process(target=work, args=(q_in, q_out, done))
    p.start()
    q_in.put(21)
    first = q_out.get()
    go = []
    signal.signal(signal.SIGUSR1, lambda s, f: go.append(1))
    print("READY", flush=True)
    while not go:
        time.sleep(0.02)
    for i in range(200):
        q_in.put(i)
    got = sorted(q_out.get(timeout=10) for _ in range(200))
    q_in.put(None)
    p.join(10)
    ok = first == 42 and got == [2 * i for i in range(200)] and \
         done.value == 201 and p.exitcode == 0
    print("%s multiprocessing: %d results, counter %d, worker exit %s" %
          ("PASS" if ok else "FAIL", len(got), done.value, p.exitcode),
          flush=True)
    sys.exit(0 if ok else 1)
EOS

crfs_mount
printf '%s\n' "$MP" >"$T_DIR/mp.py"
log=$T_DIR/mp.log
start_workload "$log" "$PY" -c "$SUBREAPER_PY" "$log" "$PY" "$T_DIR/mp.py"
wrapper=$WL_PID
wait_root "$log" "$wrapper"
root=$ROOT_PID
track_tree "$root"
checkpoint mp "$root" "$T_DIR/ckpt"
grep -q ' shmem .*/dev/shm/' "$T_DIR/ckpt/$root/maps" ||
	fail "no semaphore mapping in the image: $(grep shmem "$T_DIR/ckpt/$root/maps")"
kill_and_reap mp "$root" "$wrapper"
restore_bg "$T_DIR/ckpt" "$root"
track_tree "$root"
kill -USR1 "$root" || fail "cannot signal restored root $root"
expect_pass "$log" "$RESTORE_PID" 30
pass
