#!/bin/bash
# SPDX-License-Identifier: MIT
# e2e-lane: isolated (its own namespaces or files only: runs beside the shared lane)
#
# wl_prctl_state: per-thread prctl state, a value of its own in each of
# three threads (NUMA policies MPOL_PREFERRED, MPOL_BIND|MPOL_F_STATIC_NODES
# with the TSC mode PR_TSC_SIGSEGV, MPOL_INTERLEAVE) and the process's
# memory-deny-write-execute, checked by each thread after freeze -> thaw
# and checkpoint -> kill -> restore.  An image whose policy names a node
# this host lacks is refused at restore, naming the file.
. "$(dirname "$0")/lib.sh"

crfs_mount
wl=$CRFS_TESTS/wl_prctl_state

log=$T_DIR/thaw.log
start_workload "$log" "$wl"
pid=$WL_PID
wait_ready "$log" "$pid"
freeze_thaw_check thaw "$log" "$pid"

log=$T_DIR/restore.log
start_workload "$log" "$wl"
pid=$WL_PID
wait_ready "$log" "$pid"
checkpoint restore "$pid" "$T_DIR/img"
grep -qx 'mdwe 0x1' "$T_DIR/img/$pid/mm" || fail "mm lacks 'mdwe 0x1'"
n=$(grep -lx 'tsc_mode 2' "$T_DIR/img/$pid/task/"*/sigstate | wc -l)
[ "$n" = 1 ] || fail "$n threads with 'tsc_mode 2' in the image, want 1"
kill_and_reap restore "$pid"

# a copy whose policy names node 5: refused, naming the file, nothing left
cp -a "$T_DIR/img" "$T_DIR/bad"
f=$(grep -lx 'tsc_mode 2' "$T_DIR/bad/$pid/task/"*/sigstate)
sed -i 's/^mempolicy_nodes 0x1$/mempolicy_nodes 0x21/' "$f"
grep -qx 'mempolicy_nodes 0x21' "$f" || fail "could not edit $f"
python3 "$(dirname "$0")/reseal.py" "$T_DIR/bad" "${f#"$T_DIR/bad/"}" || fail "reseal failed"
expect_restore_refused numa "$T_DIR/bad" "$pid" "sigstate: a NUMA policy \\(mode 2\\) on nodes 0x21, but this host has nodes 0x1 only"

restore_bg "$T_DIR/img" "$pid"
kill -USR1 "$pid" || fail "cannot signal restored pid $pid"
expect_pass "$log" "$RESTORE_PID" 30
for w in prctl.main prctl.thread1 prctl.thread2 prctl.mdwe; do
	grep -q "^PASS $w" "$log" || fail "restore.log: no PASS $w"
done
pass
