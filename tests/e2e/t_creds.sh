#!/bin/bash
# SPDX-License-Identifier: MIT
# e2e-lane: isolated (its own namespaces or files only: runs beside the shared lane)
#
# Credentials: an unprivileged process (uid/gid 65534, two supplementary
# groups, no capabilities) and a root process with a trimmed bounding set,
# an inheritable and an ambient capability.  Each records its ids and
# capability sets before the checkpoint and compares them after restore.
. "$(dirname "$0")/lib.sh"

read -r -d '' SCRIPT <<'EOS'
import os, signal, sys, time

if os.getsid(0) != os.getpid():
    os.setsid()

def creds():
    keep = ("Uid", "Gid", "Groups", "CapInh", "CapPrm", "CapEff", "CapBnd",
            "CapAmb", "NoNewPrivs")
    with open("/proc/self/status") as fh:
        return {l.split(":")[0]: l.split(":", 1)[1].split()
                for l in fh if l.split(":")[0] in keep}

before = creds()
done = {}

def on_usr1(sig, frame):
    after = creds()
    bad = [k for k in before if before[k] != after.get(k)]
    for k in sorted(before):
        ok = k not in bad
        print("PASS creds.%s" % k if ok else
              "FAIL creds.%s: %s -> %s" % (k, before[k], after.get(k)), flush=True)
    done["rc"] = 1 if bad else 0

signal.signal(signal.SIGUSR1, on_usr1)
print("READY", flush=True)
while "rc" not in done:
    time.sleep(0.02)
sys.exit(done["rc"])
EOS

PY=$(python_bin)
command -v setpriv >/dev/null || fail "setpriv (util-linux) not found"
crfs_mount

run_case() { # name, setpriv arguments...
	local name=$1 log=$T_DIR/$1.log pid
	shift
	start_workload "$log" setpriv "$@" -- "$PY" -c "$SCRIPT"
	pid=$WL_PID
	wait_ready "$log" "$pid" 60
	checkpoint "$name" "$pid" "$T_DIR/$name.ckpt"
	grep -q '^uid 65534$\|^uid 0$' "$T_DIR/$name.ckpt/$pid/creds" ||
		fail "$name: creds file has no uid line"
	kill_and_reap "$name" "$pid"
	restore_bg "$T_DIR/$name.ckpt" "$pid"
	kill -USR1 "$pid" || fail "$name: cannot signal restored pid $pid"
	expect_pass "$log" "$RESTORE_PID" 30
}

run_case nobody --reuid=65534 --regid=65534 --groups=100,65534
run_case rootcaps --bounding-set=-net_raw,-sys_time \
	--inh-caps=+net_bind_service --ambient-caps=+net_bind_service
pass
