#!/bin/bash
# SPDX-License-Identifier: MIT
# e2e-lane: isolated (its own namespaces or files only: runs beside the shared lane)
#
# wl_cow: 32 MiB of private anonymous memory and a private file mapping a
# parent wrote before forking three children and a grandchild, partly
# rewritten (and partly dropped) by each since.  After a freeze and thaw,
# after freeze, cp -a and thaw (also with dirty tracking and a second,
# incremental copy), after a post-dump snapshot, copy and release,
# and after checkpoint, kill and restore: every byte reads right in each
# process, pages nobody changed since the fork are the same page frame in
# the parent and the others (and changed ones are not), also between the
# siblings for the pages the parent rewrote after forking them, and the
# tree's Pss stays close to what it was before.  The
# tree runs under a subreaper outside it.
. "$(dirname "$0")/lib.sh"

crfs_mount
for how in thaw copy tracked postdump restore; do
	log=$T_DIR/cow-$how.log
	start_workload "$log" "$CRFS_TESTS/wl_cow" "$T_DIR"
	sub=$WL_PID
	wait_root "$log" "$sub"
	root=$ROOT_PID
	track_tree "$root"
	before=$(tree_layout "$root")
	[ "$(grep -c . <<<"$before")" = 5 ] ||
		fail "want 5 processes: $(tr '\n' '|' <<<"$before")"
	if [ "$how" = postdump ]; then
		# a post-dump snapshot, copied while the tree runs, then
		# released: the twins go, the sharing stays
		cr_attach "c$how" "$root"
		ctl_write "c$how" snapshot ||
			fail "snapshot refused: $(ctl_read "c$how" | tr '\n' '|')"
		cr_copy "c$how" "$T_DIR/ckpt-$how"
		ctl_write "c$how" release ||
			fail "release refused: $(ctl_read "c$how" | tr '\n' '|')"
		expect_state "c$how" running
	elif [ "$how" != restore ]; then
		cr_attach "c$how" "$root"
		cr_freeze "c$how"
		# a checkpoint must not change the running tree: after the
		# copy, the pages are still shared as they were
		if [ "$how" = tracked ]; then
			# dirty tracking write-protects every page: a
			# second copy after the thaw reads only the dirty
			ctl_write "c$how" track ||
				fail "track refused: $(ctl_read "c$how" | tr '\n' '|')"
		fi
		[ "$how" != thaw ] && cr_copy "c$how" "$T_DIR/ckpt-$how"
		cr_thaw "c$how"
		if [ "$how" = tracked ]; then
			ctl_write "c$how" "parent ../ckpt-$how" ||
				fail "parent refused: $(ctl_read "c$how" | tr '\n' '|')"
			cr_freeze "c$how"
			cr_copy "c$how" "$T_DIR/ckpt-$how-2"
			cr_thaw "c$how"
		fi
	fi
	if [ "$how" != restore ]; then
		timeout "$T_CTL_TIMEOUT" rmdir "$MNT/c$how" || fail "rmdir c$how"
		kill -USR1 "$root" || fail "cannot signal $root"
		expect_pass "$log" "$sub" 30
		note "after $how: $(grep '^# Pss' "$log")"
		continue
	fi
	pids=$(awk '{ print $1 }' <<<"$before")
	checkpoint "c$how" "$root" "$T_DIR/ckpt"
	# the children's pages still shared with the root are stored once
	for p in $pids; do
		[ "$p" = "$root" ] && continue
		awk -v r="$root" 'NR > 2 && $3 == r { n += $2 } END { exit !(n >= 1000) }' \
			"$T_DIR/ckpt/$p/pages.idx" ||
			fail "$p/pages.idx points at fewer than 1000 of the root's pages"
	done
	# the pages the root rewrote after the forks are stored once by the
	# first of its children, which the others point at
	n=0
	for p in $pids; do
		[ "$p" = "$root" ] && continue
		k=$(awk -v r="$root" -v me="$p" 'NR > 2 && $3 != r && $3 != me { n += $2 } END { print n + 0 }' \
			"$T_DIR/ckpt/$p/pages.idx")
		n=$((n + k))
	done
	[ "$n" -ge 2048 ] || fail "only $n pages point at a sibling's, want 2048"
	note "pages stored once for siblings: $n"
	kill_and_reap "c$how" "$root" "$sub"
	# shellcheck disable=SC2086
	none_alive $pids
	restore_bg "$T_DIR/ckpt" "$root"
	wait_for 15 eval '[ "$(tree_layout "$root")" = "$before" ]' ||
		fail "restored tree differs: got $(tree_layout "$root" | tr '\n' '|') want $(tr '\n' '|' <<<"$before")"
	track_tree "$root"
	kill -USR1 "$root" || fail "cannot signal restored root $root"
	expect_pass "$log" "$RESTORE_PID" 30
	note "after restore: $(grep '^# Pss' "$log")"
done
pass
