#!/bin/bash
# SPDX-License-Identifier: MIT
# e2e-lane: isolated (its own namespaces or files only: runs beside the shared lane)
#
# wl_zombies: zombies that exited with 0, 3 and 255 and that were killed
# by SIGKILL, SIGTERM, SIGSEGV, SIGUSR2 and SIGABRT, several per parent
# and at two levels; a zombie and a live process in a group whose leader
# has exited and been reaped.  After freeze and thaw the root checks them
# without reaping; after checkpoint, kill and restore the parents reap
# each zombie and compare its wait status, exactly.
. "$(dirname "$0")/lib.sh"

crfs_mount
log=$T_DIR/zombies.log
start_workload "$log" "$CRFS_TESTS/wl_zombies"
sub=$WL_PID
wait_root "$log" "$sub"
root=$ROOT_PID
track_tree "$root"
before=$(tree_layout "$root")
[ "$(grep -c ' Z$' <<<"$before")" = 11 ] ||
	fail "want 11 zombies: $(tr '\n' '|' <<<"$before")"
pids=$(awk '{ print $1 }' <<<"$before")

cr_attach zb "$root"
cr_freeze zb
cr_thaw zb
kill -USR2 "$root" || fail "cannot signal $root"
wait_line "$log" '^CHECKED thaw$' 20 "$root"
grep -q '^FAIL' "$log" && fail "after thaw: $(grep '^FAIL' "$log" | tr '\n' '|')"

cr_freeze zb
cr_copy zb "$T_DIR/ckpt"
kill_and_reap zb "$root" "$sub"
# shellcheck disable=SC2086
none_alive $pids
restore_bg "$T_DIR/ckpt" "$root"
wait_for 15 eval '[ "$(tree_layout "$root")" = "$before" ]' ||
	fail "restored tree differs: got $(tree_layout "$root" | tr '\n' '|') want $(tr '\n' '|' <<<"$before")"
track_tree "$root"
kill -USR1 "$root" || fail "cannot signal restored root $root"
expect_pass "$log" "$RESTORE_PID" 30
for z in e0 e3 e255 kill term segv usr2 abrt m; do
	grep -qx "PASS R.reap.$z" "$log" || fail "no 'PASS R.reap.$z'"
done
for z in b9 bhup; do
	grep -qx "PASS B.reap.$z" "$log" || fail "no 'PASS B.reap.$z'"
done
grep -qx 'PASS n.pgid' "$log" || fail "no 'PASS n.pgid'"
pass
