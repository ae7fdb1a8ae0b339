#!/bin/bash
# SPDX-License-Identifier: MIT
# e2e-lane: isolated (its own namespaces or files only: runs beside the shared lane)
#
# Incremental checkpoints: a process of 64 MiB of random memory (wl_dirty)
# is checkpointed in full with dirty tracking on, then twice more, each
# time after rewriting 1% of its pages, as images relative to the one
# before (ctl "parent ../cN").  The incremental images must store at most
# 5% of the full one's pages; each round also zaps 16 pages with
# MADV_DONTNEED, which the chain must restore as zeros, not as the parent's.
# The chain of three must restore (crfs-restore follows it) and the
# workload verify every byte of its memory.  A chain
# whose parent is missing, is from another freeze, or has a corrupted
# pages file is refused by name, leaving no process behind.
. "$(dirname "$0")/lib.sh"

crfs_mount
log=$T_DIR/wl.log
start_workload "$log" "$CRFS_TESTS/wl_dirty" 64 10 16
pid=$WL_PID
wait_ready "$log" "$pid" 60

cr_attach inc "$pid"
cr_freeze inc
ctl_write inc "parent ../c0" && fail "'parent' accepted without tracking"
ctl_write inc track || fail "track refused: $(ctl_read inc | tr '\n' '|')"
ctl_read inc | grep -q '^tracking [0-9a-f]\{32\} depth 0$' ||
	fail "ctl does not say 'tracking ID depth 0': $(ctl_read inc | tr '\n' '|')"
cr_copy inc "$T_DIR/c1"
cr_thaw inc
ctl_read inc | grep -q '^tracking ' || fail "tracking ended at thaw"

# c2 through ctl; c3 through crfsctl, which refuses a parent that is not
# the last checkpoint of the container
crfsctl() {
	CRFS_MNT=$MNT timeout "$T_COPY_TIMEOUT" "$CRFS_BIN/crfsctl" "$@" \
		</dev/null 2>"$T_DIR/crfsctl.err"
}
for n in 2 3; do
	kill -USR2 "$pid"
	wait_line "$log" "^DIRTIED ROUND $((n - 1)) " 60 "$pid"
	if [ "$n" = 2 ]; then
		ctl_write inc "parent ../c1" ||
			fail "parent refused: $(ctl_read inc | tr '\n' '|')"
		cr_freeze inc
		ctl_read inc | grep -q "^tracking .* depth 1$" ||
			fail "freeze 2: ctl: $(ctl_read inc | tr '\n' '|')"
		cr_copy inc "$T_DIR/c2"
		cr_thaw inc
	else
		crfsctl checkpoint --parent "$T_DIR/c1" inc "$T_DIR/c3" &&
			fail "crfsctl took c1, not the last checkpoint, as the parent"
		grep -q "c1 is not the last checkpoint of inc" "$T_DIR/crfsctl.err" ||
			fail "crfsctl did not say c1 is not the last: $(cat "$T_DIR/crfsctl.err")"
		[ -e "$T_DIR/c3" ] && fail "the refused crfsctl left $T_DIR/c3"
		crfsctl checkpoint --parent "$T_DIR/c2" inc "$T_DIR/c3" ||
			fail "crfsctl checkpoint --parent: $(cat "$T_DIR/crfsctl.err")"
		expect_state inc running
		cr_freeze inc	# for the kill below
	fi
	id=$(awk '$1 == "freeze_id" { print $2 }' "$T_DIR/c$((n - 1))/image")
	grep -qx "parent ../c$((n - 1)) $id" "$T_DIR/c$n/image" ||
		fail "c$n/image does not name its parent ../c$((n - 1)) $id"
	grep -qx 'version 7' "$T_DIR/c$n/image" || fail "c$n/image is not version 7"
done

full=$(stat -c %s "$T_DIR/c1/$pid/pages")
for n in 2 3; do
	incr=$(stat -c %s "$T_DIR/c$n/$pid/pages")
	note "c$n: pages $incr bytes, the full c1 $full ($((incr * 1000 / full)) permille)"
	[ $((incr * 20)) -le "$full" ] ||
		fail "c$n stores $incr bytes of pages, more than 5% of the full $full"
done
grep -q " 2:$pid " "$T_DIR/c3/$pid/pages.idx" ||
	fail "c3 has no run in its grandparent (2:$pid)"
kill_and_reap inc "$pid"

# refusals, each on a copy of the chain made wrong in one way
mkdir "$T_DIR/miss" "$T_DIR/other" "$T_DIR/bad"
cp -a "$T_DIR/c3" "$T_DIR/miss/c3"
expect_restore_refused missing "$T_DIR/miss/c3" "$pid" \
	"image .*/miss/c3: its parent \.\./c2 is missing"
cp -a "$T_DIR/c2" "$T_DIR/other/c2"
cp -a "$T_DIR/c3" "$T_DIR/other/c1"
expect_restore_refused other "$T_DIR/other/c2" "$pid" \
	"its parent \.\./c1 is from freeze [0-9a-f]{32}, not [0-9a-f]{32}"
for n in 1 2 3; do cp -a "$T_DIR/c$n" "$T_DIR/bad/c$n"; done
off=$(awk -v s="2:$pid" '$3 == s { print $4; exit }' "$T_DIR/c3/$pid/pages.idx")
printf '\xa5' | dd of="$T_DIR/bad/c1/$pid/pages" bs=1 seek=$((off + 100)) \
	conv=notrunc status=none
cmp -s "$T_DIR/bad/c1/$pid/pages" "$T_DIR/c1/$pid/pages" &&
	fail "the byte at $off + 100 was 0xa5 already: nothing corrupted"
expect_restore_refused corrupt "$T_DIR/bad/c3" "$pid" \
	"c1/$pid/pages: checksum mismatch in the pages of 0x[0-9a-f]+ .*\(corrupted\)"
# the incremental image's own pages: checked as the restorer copies them
mkdir "$T_DIR/own"
for n in 1 2 3; do cp -a "$T_DIR/c$n" "$T_DIR/own/c$n"; done
printf '\xa5' | dd of="$T_DIR/own/c3/$pid/pages" bs=1 seek=100 \
	conv=notrunc status=none
cmp -s "$T_DIR/own/c3/$pid/pages" "$T_DIR/c3/$pid/pages" &&
	fail "the byte at 100 was 0xa5 already: nothing corrupted"
expect_restore_refused own "$T_DIR/own/c3" "$pid" \
	"c3/$pid/pages: checksum mismatch in the pages of 0x[0-9a-f]+ .*\(corrupted\)"

restore_bg "$T_DIR/c3" "$pid"
kill -USR1 "$pid"
expect_pass "$log" "$RESTORE_PID" 60
pass
