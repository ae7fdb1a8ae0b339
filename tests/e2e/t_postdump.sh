#!/bin/bash
# SPDX-License-Identifier: MIT
# e2e-lane: isolated (its own namespaces or files only: runs beside the shared lane)
#
# wl_postdump: post-dump.  'snapshot' freezes the tree, forks a
# copy-on-write twin of every process and lets the tree run on; cp -a
# reads the snapshot while the workload keeps rewriting its 256 MiB (and
# shared and MADV_WIPEONFORK pages, copied out at the freeze).  The image
# restores to the snapshot's instant exactly: the workload checks that
# every page matches the generation and position it had recorded then.
# The tree must run during the copy, the freeze must be short, and after
# 'kill' (a move) the snapshot stays readable, byte for byte the same,
# until 'release'.
. "$(dirname "$0")/lib.sh"

FROZEN_MAX_US=${CRFS_T_FROZEN_MAX_US:-2000000}	# under a load of 15

crfs_mount
log=$T_DIR/postdump.log
start_root "$log" "$CRFS_TESTS/wl_postdump" root
cr_attach pd "$ROOT"
ctl_write pd snapshot || fail "snapshot refused: $(ctl_read pd | tr '\n' '|')"
expect_state pd running
line=$(ctl_read pd | grep '^postdump ') || fail "no postdump line: $(ctl_read pd | tr '\n' '|')"
frozen=$(awk '{ print $3 }' <<<"$line")
note "after the snapshot: $line"
[ "$frozen" -lt "$FROZEN_MAX_US" ] || fail "the tree was frozen ${frozen} us"
ctl_write pd snapshot && fail "a second snapshot was taken while one is held"
ctl_read pd | grep -q '^error snapshot: a snapshot is held' ||
	fail "second snapshot: no reason given: $(ctl_read pd | tr '\n' '|')"
ctl_write pd freeze && fail "freeze was taken while a snapshot is held"

# the workload must run while the copy is made
cpu0=$(( $(proc_field "$ROOT" 14) + $(proc_field "$ROOT" 15) ))
cr_copy pd "$T_DIR/ckpt"
cpu1=$(( $(proc_field "$ROOT" 14) + $(proc_field "$ROOT" 15) ))
[ "$cpu1" -gt "$cpu0" ] || fail "the tree did not run during the copy ($cpu0 -> $cpu1 ticks)"
[ "$(proc_state "$ROOT")" != T ] || fail "the root is stopped"
line=$(ctl_read pd | grep '^postdump ')
note "after the copy ($((cpu1 - cpu0)) ticks of the workload): $line"
check_image "$T_DIR/ckpt" "$ROOT"

# a move: the tree goes, the snapshot stays until release
ctl_write pd kill || fail "kill refused: $(ctl_read pd | tr '\n' '|')"
wait_gone "$ROOT" 20 || fail "root $ROOT still alive after kill"
expect_state pd dead
cr_copy pd "$T_DIR/ckpt2"
cmp -s "$T_DIR/ckpt/$ROOT/pages" "$T_DIR/ckpt2/$ROOT/pages" ||
	fail "the snapshot changed after kill"
ctl_write pd release || fail "release refused: $(ctl_read pd | tr '\n' '|')"
[ -e "$MNT/pd/image" ] && fail "snapshot files still there after release"
ctl_read pd | grep -q '^postdump' && fail "ctl still shows a snapshot"
# the subreaper above the root collects the twin too, then exits
wait_exit "$TOP" 20 || fail "the subreaper $TOP did not exit after release"
timeout "$T_CTL_TIMEOUT" rmdir "$MNT/pd" || fail "rmdir failed"

restore_bg "$T_DIR/ckpt" "$ROOT"
kill -USR1 "$ROOT" || fail "cannot signal restored pid $ROOT"
expect_pass "$log" "$RESTORE_PID" 60
note "$(grep '^snapshot state' "$log" | tail -n 1)"
pass
