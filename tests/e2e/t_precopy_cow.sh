#!/bin/bash
# SPDX-License-Identifier: MIT
# e2e-lane: isolated (its own namespaces or files only: runs beside the shared lane)
#
# Pre-copy of a tree whose processes share pages copy-on-write (wl_cow: a
# root, three children, a grandchild): crfsctl checkpoint --precopy 2.
# A pre-dump points into no relative's pages (they are read as the tree
# runs); the final freeze shares again what is shared then, its
# children's pages pointing at the root's in the same image or at their
# own in the pre-dumps.  The restored tree holds every byte and shares
# the frames again (the private file mapping's frames are not checked,
# as in t_incremental_cow).
. "$(dirname "$0")/lib.sh"

crfs_mount
log=$T_DIR/cow.log
start_workload "$log" env WL_SKIP=frames.file. "$CRFS_TESTS/wl_cow" "$T_DIR"
sub=$WL_PID
wait_root "$log" "$sub"
root=$ROOT_PID
track_tree "$root"
before=$(tree_layout "$root")
pids=$(awk '{ print $1 }' <<<"$before")
cr_attach pc "$root"
CRFS_MNT=$MNT timeout "$T_COPY_TIMEOUT" "$CRFS_BIN/crfsctl" checkpoint \
	--precopy 2 pc "$T_DIR/ck" </dev/null >"$T_DIR/pc.out" 2>"$T_DIR/pc.err" ||
	fail "crfsctl checkpoint --precopy 2: $(cat "$T_DIR/pc.err")"
note "$(head -n 1 "$T_DIR/pc.out")"
for p in $pids; do
	[ "$p" = "$root" ] && continue
	! awk -v r="$root" '$3 == r' "$T_DIR/ck.pre1/$p/pages.idx" | grep -q . ||
		fail "pre-dump ck.pre1: $p/pages.idx points at the root's pages"
	# the root's pages in this image (ROOT) or in a pre-dump (L:ROOT)
	awk -v r="$root" '$3 == r || $3 ~ ":" r "$" { n += $2 }
		END { exit !(n >= 1000) }' "$T_DIR/ck/$p/pages.idx" ||
		fail "$p/pages.idx points at fewer than 1000 of the root's pages: $(awk 'NR > 2 { n[$3] += $2 } END { for (s in n) printf "%s:%d ", s, n[s] }' "$T_DIR/ck/$p/pages.idx")"
done
wait_exit "$sub" 20 || fail "pid $sub not reapable 20s after crfsctl's kill"
expect_state pc dead
timeout "$T_CTL_TIMEOUT" rmdir "$MNT/pc" || fail "rmdir pc"
# shellcheck disable=SC2086
none_alive $pids
restore_bg "$T_DIR/ck" "$root"
wait_for 15 eval '[ "$(tree_layout "$root")" = "$before" ]' ||
	fail "restored tree differs: got $(tree_layout "$root" | tr '\n' '|') want $(tr '\n' '|' <<<"$before")"
track_tree "$root"
kill -USR1 "$root" || fail "cannot signal restored root $root"
expect_pass "$log" "$RESTORE_PID" 30
pass
