#!/bin/bash
# SPDX-License-Identifier: MIT
# e2e-lane: isolated (its own namespaces or files only: runs beside the shared lane)
#
# A zombie that dumped core (its wait status has WCOREDUMP) cannot be made
# again without dumping core: the freeze names it, the copy fails with EIO,
# and after a thaw its parent reaps it with its status intact.  Skipped
# (with a note) where this host's core_pattern makes no dump.
. "$(dirname "$0")/lib.sh"

crfs_mount
mkdir -p "$T_DIR/core"
log=$T_DIR/core.log
start_workload "$log" "$CRFS_TESTS/wl_zombies" core "$T_DIR/core"
sub=$WL_PID
wait_root "$log" "$sub"
root=$ROOT_PID
track_tree "$root"
if grep -q '^SKIP core' "$log"; then
	note "no core dump on this host: nothing to refuse"
	kill -USR1 "$root"
	expect_pass "$log" "$sub" 20
	pass
fi

cr_attach zc "$root"
cr_freeze zc
if timeout -k 5 "$T_COPY_TIMEOUT" cp -a "$MNT/zc" "$T_DIR/ckpt" 2>>"$T_DIR/cp.err"; then
	fail "cp -a of a tree with a zombie that dumped core succeeded"
fi
grep -q 'Input/output error' "$T_DIR/cp.err" ||
	fail "cp failed, but not with EIO: $(head -n 2 "$T_DIR/cp.err")"
ctl_read zc | grep -q "a zombie that dumped core is not supported" ||
	fail "ctl does not name the zombie: $(ctl_read zc | tr '\n' '|')"
cr_thaw zc
kill -USR1 "$root" || fail "cannot signal $root"
expect_pass "$log" "$sub" 20
grep -qx 'PASS R.reap.core' "$log" || fail "no 'PASS R.reap.core'"
pass
