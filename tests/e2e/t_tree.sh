#!/bin/bash
# SPDX-License-Identifier: MIT
# e2e-lane: isolated (its own namespaces or files only: runs beside the shared lane)
#
# A tree of 13 processes, 4 levels, 5 process groups in 2 sessions, with a
# zombie (exit status 42, reaped by its parent only after the restore) and
# an orphan re-parented to the root (see wl_tree.c for the layout).  The
# tree runs under a subreaper outside it (wl_tree's S; see lib.sh).
#
# Checked from outside: the image's tree file and the restored tree have
# the same pid, ppid, pgid, sid and zombie-ness per process as the tree
# before the checkpoint (the root's parent is crfs-restore then), and
# nothing of the tree survived the kill.  Checked from inside, after
# SIGUSR1 to the root: ids, memory, the zombie's exit status, every
# child's exit status; each of the 12 live processes says PASS ROLE.all.
. "$(dirname "$0")/lib.sh"

ROLES="R A A1 A2 B B1 C C1 C2 C2A D O"

crfs_mount
log=$T_DIR/tree.log
start_workload "$log" "$CRFS_TESTS/wl_tree" "$T_DIR/rootppid"
sub=$WL_PID
wait_root "$log" "$sub"
root=$ROOT_PID
track_tree "$root"

before=$(tree_layout "$root")
n=$(grep -c . <<<"$before")
[ "$n" = 13 ] || fail "the tree has $n processes before the checkpoint, want 13: $(tr '\n' '|' <<<"$before")"
[ "$(grep -c ' Z$' <<<"$before")" = 1 ] || fail "want exactly one zombie: $(tr '\n' '|' <<<"$before")"
[ "$(proc_field "$root" 4)" = "$sub" ] || fail "root $root is not a child of the subreaper $sub"
pids=$(awk '{ print $1 }' <<<"$before")

checkpoint tr "$root" "$T_DIR/ckpt"

# the image: one directory per process, and the tree file agrees with /proc
for p in $pids; do
	[ -f "$T_DIR/ckpt/$p/attr" ] || fail "image lacks $p/attr"
done
img=$(awk 'NR > 1 { print $1, $2, $3, $4 }' "$T_DIR/ckpt/tree" | sort -n |
	awk -v r="$root" '$1 == r { $2 = "-" } { print }')
want=$(awk '{ print $1, $2, $3, $4 }' <<<"$before")
[ "$img" = "$want" ] ||
	fail "image tree file differs from /proc: got $(tr '\n' '|' <<<"$img") want $(tr '\n' '|' <<<"$want")"

kill_and_reap tr "$root" "$sub"
# shellcheck disable=SC2086
none_alive $pids

restore_bg "$T_DIR/ckpt" "$root"
# the root re-creates the rest of the tree: give it a moment
wait_for 15 eval '[ "$(tree_layout "$root")" = "$before" ]' ||
	fail "restored tree differs: got $(tree_layout "$root" | tr '\n' '|') want $(tr '\n' '|' <<<"$before")"
track_tree "$root"
for p in $pids; do
	[ "$(proc_field "$p" 22)" != "" ] || fail "pid $p missing after restore"
done

echo "$RESTORE_PID" >"$T_DIR/rootppid"
kill -USR1 "$root" || fail "cannot signal restored root $root"
expect_pass "$log" "$RESTORE_PID" 60
for r in $ROLES; do
	grep -qx "PASS $r.all" "$log" || fail "no 'PASS $r.all' in the log"
done
grep -qx 'PASS B.zombie.reap' "$log" || fail "zombie not reaped with status 42"
# every process of the tree has exited and been reaped
wait_for 10 eval '! ls -d $(sed "s|^|/proc/|" <<<"$pids") >/dev/null 2>&1' ||
	fail "processes of the tree left behind: $(for p in $pids; do [ -e "/proc/$p" ] && echo -n "$p "; done)"
pass
