#!/bin/bash
# SPDX-License-Identifier: MIT
# e2e-lane: isolated (its own namespaces or files only: runs beside the shared lane)
#
# An incremental checkpoint of a tree whose processes share pages copy-on-
# write (wl_cow: a root, three children, a grandchild): a full tracked
# checkpoint, a thaw, then one relative to it.  The children's unchanged
# pages shared with the root point at the root's runs in the parent image
# (1:ROOT); the restored tree must hold every byte and share the frames
# again, as after a full checkpoint.  The frames of the private file
# mapping's pages are not checked (WL_SKIP): copying the first image and
# thawing already leaves them unshared in the running tree, incremental or
# not (a freeze, cp -a, thaw of wl_cow shows it).
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
cr_attach ic "$root"
cr_freeze ic
ctl_write ic track || fail "track refused: $(ctl_read ic | tr '\n' '|')"
cr_copy ic "$T_DIR/c1"
cr_thaw ic
ctl_write ic "parent ../c1" || fail "parent refused: $(ctl_read ic | tr '\n' '|')"
cr_freeze ic
cr_copy ic "$T_DIR/c2"
full=0
incr=0
for p in $pids; do
	full=$((full + $(stat -c %s "$T_DIR/c1/$p/pages")))
	incr=$((incr + $(stat -c %s "$T_DIR/c2/$p/pages")))
done
note "pages of the tree: full $full bytes, incremental $incr"
[ $((incr * 20)) -le "$full" ] ||
	fail "the incremental image stores $incr bytes of pages, more than 5% of $full"
for p in $pids; do
	[ "$p" = "$root" ] && continue
	awk -v r="1:$root" '$3 == r { n += $2 } END { exit !(n >= 1000) }' \
		"$T_DIR/c2/$p/pages.idx" ||
		fail "$p/pages.idx points at fewer than 1000 of the root's pages in the parent"
done
kill_and_reap ic "$root" "$sub"
# shellcheck disable=SC2086
none_alive $pids
restore_bg "$T_DIR/c2" "$root"
wait_for 15 eval '[ "$(tree_layout "$root")" = "$before" ]' ||
	fail "restored tree differs: got $(tree_layout "$root" | tr '\n' '|') want $(tr '\n' '|' <<<"$before")"
track_tree "$root"
kill -USR1 "$root" || fail "cannot signal restored root $root"
expect_pass "$log" "$RESTORE_PID" 30
note "after restore: $(grep '^# Pss' "$log")"
pass
