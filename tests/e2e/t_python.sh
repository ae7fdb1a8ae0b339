#!/bin/bash
# SPDX-License-Identifier: MIT
# e2e-lane: shared pty (ptys of the host's devpts)
#
# A real interpreter: python3 with a 100k-entry dict, counting in a loop of
# time.sleep(0.01).  SIGUSR2 makes it print its counter, which the test
# hands back through a file; after the restore SIGUSR1 makes it check the
# dict, that the counter went on from that value (and no faster than the
# loop can count), and that sleeping still works.
. "$(dirname "$0")/lib.sh"

read -r -d '' SCRIPT <<'EOS'
import os, signal, sys, time

if os.getsid(0) != os.getpid():
    os.setsid()
pid = os.getpid()
want_file = sys.argv[1]
N = 100000

def f(i):
    return (i * 2654435761) % 4294967291

d = {i: f(i) for i in range(N)}
d.update({"k%d" % i: "v%d" % f(i) for i in range(0, N, 7)})
size = len(d)
digest = sum(v for k, v in d.items() if isinstance(k, int)) % (1 << 61)

counter = 0
state = {}
fails = []

def check(name, ok, why=""):
    print("PASS %s" % name if ok else "FAIL %s: %s" % (name, why), flush=True)
    if not ok:
        fails.append(name)

def on_usr2(sig, frame):
    state["usr2_t"] = time.monotonic()
    print("COUNT %d" % counter, flush=True)

def on_usr1(sig, frame):
    bad = [i for i in range(N) if d.get(i) != f(i)]
    bad += [i for i in range(0, N, 7) if d.get("k%d" % i) != "v%d" % f(i)]
    check("py.dict", not bad and len(d) == size,
          "%d wrong entries, %d of %d" % (len(bad), len(d), size))
    now = sum(v for k, v in d.items() if isinstance(k, int)) % (1 << 61)
    check("py.digest", now == digest, "%x != %x" % (now, digest))
    with open(want_file) as fh:
        want = int(fh.read())
    # at most one increment per 10 ms since the test asked for COUNT
    most = want + int((time.monotonic() - state["usr2_t"]) / 0.01) + 10
    check("py.counter", want <= counter <= most,
          "%d not in [%d, %d]" % (counter, want, most))
    check("py.pid", os.getpid() == pid, "%d != %d" % (os.getpid(), pid))
    state["usr1_at"] = counter

signal.signal(signal.SIGUSR2, on_usr2)
signal.signal(signal.SIGUSR1, on_usr1)
print("READY", flush=True)
while "usr1_at" not in state:
    time.sleep(0.01)
    counter += 1

# the loop and its sleep keep working after the restore
at = counter
t0 = time.monotonic()
for _ in range(20):
    time.sleep(0.01)
    counter += 1
dt = time.monotonic() - t0
check("py.sleep", 0.2 <= dt < 5 and counter == at + 20,
      "20 sleeps of 10 ms took %.3f s" % dt)
sys.exit(1 if fails else 0)
EOS

PY=$(python_bin)
[ -x "$PY" ] || fail "python3 not found"

crfs_mount
log=$T_DIR/python.log
start_workload "$log" "$PY" -c "$SCRIPT" "$T_DIR/want"
pid=$WL_PID
wait_ready "$log" "$pid" 60

sleep 1		# let the counter get somewhere first
get_count "$log" "$pid"
[ "$COUNT" -gt 0 ] || fail "python counter does not advance"
echo "$COUNT" >"$T_DIR/want"
checkpoint py "$pid" "$T_DIR/ckpt"
kill_and_reap py "$pid"
restore_bg "$T_DIR/ckpt" "$pid"
kill -USR1 "$pid" || fail "cannot signal restored pid $pid"
expect_pass "$log" "$RESTORE_PID" 30
pass
