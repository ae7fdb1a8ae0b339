#!/bin/bash
# SPDX-License-Identifier: MIT
# e2e-lane: isolated (its own namespaces or files only: runs beside the shared lane)
#
# MAP_SHARED|MAP_ANONYMOUS memory shared between processes of a tree: a
# parent and two children share one region (counter, tokens, patterns),
# the parent and one child a second one; each also holds its own copy of
# private memory inherited through fork (see wl_shm.c).  After the restore
# both children add to the shared counter with atomics, and each must see
# the other's and the parent's writes: the restored mappings must still be
# one shared object, not private copies.  The tree runs under a subreaper
# outside it (wl_shm's S; see lib.sh).
. "$(dirname "$0")/lib.sh"

crfs_mount
log=$T_DIR/shm.log
start_workload "$log" "$CRFS_TESTS/wl_shm" 200000
sub=$WL_PID
wait_root "$log" "$sub"
root=$ROOT_PID
track_tree "$root"
before=$(tree_layout "$root")
[ "$(grep -c . <<<"$before")" = 3 ] || fail "want 3 processes: $(tr '\n' '|' <<<"$before")"
pids=$(awk '{ print $1 }' <<<"$before")

checkpoint shm "$root" "$T_DIR/ckpt"
kill_and_reap shm "$root" "$sub"
# shellcheck disable=SC2086
none_alive $pids

restore_bg "$T_DIR/ckpt" "$root"
wait_for 15 eval '[ "$(tree_layout "$root")" = "$before" ]' ||
	fail "restored tree differs: got $(tree_layout "$root" | tr '\n' '|') want $(tr '\n' '|' <<<"$before")"
track_tree "$root"

kill -USR1 "$root" || fail "cannot signal restored root $root"
expect_pass "$log" "$RESTORE_PID" 60
for r in P K1 K2; do
	grep -qx "PASS $r.all" "$log" || fail "no 'PASS $r.all' in the log"
done
pass
