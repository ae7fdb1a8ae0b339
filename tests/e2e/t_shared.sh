#!/bin/bash
# SPDX-License-Identifier: MIT
# e2e-lane: isolated (its own namespaces or files only: runs beside the shared lane)
#
# wl_shared: a child sharing its parent's descriptor table (CLONE_FILES)
# and one sharing its cwd, root and umask (CLONE_FS) share them again after
# a freeze and thaw, and after checkpoint, kill and restore.  A table
# shared by two siblings is refused by name, and runs on after the thaw
# (memory and handlers shared with the parent: t_vmshare).
. "$(dirname "$0")/lib.sh"

crfs_mount
mkdir -p "$T_DIR/vm"
start_workload "$T_DIR/sib.log" "$CRFS_TESTS/wl_shared" "$T_DIR/vm" sibling
sib=$WL_PID
wait_ready "$T_DIR/sib.log" "$sib"
cr_attach sib "$sib"
ctl_write sib freeze || fail "freeze of the sibling tree failed"
expect_state sib frozen 5
ctl=$(ctl_read sib)
grep -q "^unsupported process [0-9]*: shares its descriptor table (CLONE_FILES) with process [0-9]*, which is not its parent (not supported yet)" <<<"$ctl" ||
	fail "no refusal of a table shared by siblings: $(tr '\n' '|' <<<"$ctl")"
cr_thaw sib
kill_and_reap sib "$sib"

mkdir -p "$T_DIR/work"
start_workload "$T_DIR/shared.log" "$CRFS_TESTS/wl_shared" "$T_DIR/work"
pid=$WL_PID
wait_ready "$T_DIR/shared.log" "$pid"
cr_attach sh "$pid"
cr_freeze sh
cr_thaw sh
timeout "$T_CTL_TIMEOUT" rmdir "$MNT/sh" || fail "rmdir $MNT/sh failed"
checkpoint sh "$pid" "$T_DIR/ckpt"
[ "$(grep -l '^shares_files 1$' "$T_DIR"/ckpt/*/attr | wc -l)" = 1 ] ||
	fail "not one attr with shares_files 1"
[ "$(grep -l '^shares_fs 1$' "$T_DIR"/ckpt/*/attr | wc -l)" = 1 ] ||
	fail "not one attr with shares_fs 1"
kill_and_reap sh "$pid"
# a relative image path: the parent's chdir for both must wait until the
# child sharing its fs opened its files
cd "$T_DIR" || fail "cd $T_DIR"
restore_bg ckpt "$pid"
kill -USR1 "$pid" || fail "cannot signal restored pid $pid"
expect_pass "$T_DIR/shared.log" "$RESTORE_PID" 30
pass
