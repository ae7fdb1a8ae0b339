#!/bin/bash
# SPDX-License-Identifier: MIT
# e2e-lane: isolated (its own files only: runs beside the shared lane)
#
# crfs-restore --lazy: wl_lazy's 256 MiB of patterned private memory come
# back through the userfaultfd handler; the workload checks every page
# while the handler fills, across fork, madvise(DONTNEED), mremap, munmap
# and a write() from lazy memory.  The handler must then exit on its own
# (all pages in) and leave nothing behind.  A corrupted pages file: the
# handler names it and the tree is killed, never run on wrong bytes.
# Then the same in a new pid namespace.  Then a pre-copy chain (wl_writer
# rewriting 64 MiB, crfsctl checkpoint --precopy 2) restored --lazy with
# CRFS_RESTORE_PROFILE=1: the phases are printed up to "running", the
# parents' runs are checked by the handler (it says how many MiB), not by
# the load, and the writer's replay checks every byte; the same chain with
# a byte of the first (full) image flipped: the handler names that pages
# file and the tree is killed.
. "$(dirname "$0")/lib.sh"

crfs_mount
log=$T_DIR/lazy.log
start_workload "$log" "$CRFS_TESTS/wl_lazy"
wrapper=$WL_PID
wait_root "$log" "$wrapper" 60
root=$ROOT_PID
checkpoint lz "$root" "$T_DIR/ckpt"
cp -a "$T_DIR/ckpt" "$T_DIR/bad"
kill_and_reap lz "$root" "$wrapper"

# the handler fills 64 MiB/s at most: the checks run while it fills
export CRFS_LAZY_THROTTLE=64
T_RESTORE_ARGS=--lazy restore_bg "$T_DIR/ckpt" "$root"
hpf=$T_DIR/restore.pid.lazy
[ -s "$hpf" ] || fail "no handler pid in ${hpf##*/}"
handler=$(tr -dc 0-9 <"$hpf")
track_pid "$handler"
kill -USR1 "$root" || fail "cannot signal restored root $root"
expect_pass "$log" "$RESTORE_PID" 60
wait_gone "$handler" 60 || fail "the lazy handler $handler still runs 60s after the restore"
grep -q 'lazy: done: ' "$T_DIR/restore.err" ||
	fail "no 'lazy: done' from the handler: $(tail -n 3 "$T_DIR/restore.err" | tr '\n' '|')"
note "$(grep 'lazy: done' "$T_DIR/restore.err")"
grep -q 'lazy: done: .* of [2-9] processes' "$T_DIR/restore.err" ||
	fail "the handler did not follow the fork (the checks ran after it had filled everything?)"
unset CRFS_LAZY_THROTTLE

# restore_bad DIR PAGES PID WHAT NAMED: PAGES (a pages file DIR's restore
# reads) gets bytes flipped in its middle; crfs-restore --lazy DIR: the
# handler names it (the regex NAMED), the tree (root PID) is killed, the
# handler exits
restore_bad() {
	local dir=$1 pages=$2 pid=$3 what=$4 named=$5 size h=
	[ -f "$pages" ] || fail "no $pages"
	size=$(stat -c %s "$pages")
	printf 'CORRUPT!' | dd of="$pages" bs=1 seek=$((size / 2)) conv=notrunc status=none
	rm -f "$dir.pid.lazy"
	"$CRFS_BIN/crfs-restore" --lazy --pidfile "$dir.pid" "$dir" </dev/null \
		>"$T_DIR/restore.out" 2>"$T_DIR/restore.err" &
	RESTORE_PID=$!
	track_pid "$RESTORE_PID"
	wait_exit "$RESTORE_PID" 60 || fail "$what: the tree still runs after 60s"
	[ "$EXIT_STATUS" != 0 ] || fail "$what: the restored tree exited 0"
	[ -s "$dir.pid.lazy" ] && h=$(tr -dc 0-9 <"$dir.pid.lazy")
	[ -n "$h" ] && track_pid "$h"
	[ -z "$h" ] || wait_gone "$h" 60 || fail "$what: the lazy handler $h still runs"
	grep -qE "lazy: .*$named: checksum mismatch in the pages of 0x[0-9a-f]+ of process $pid \(corrupted\); the restored tree is killed" \
		"$T_DIR/restore.err" ||
		fail "$what: $pages is not named: $(tail -n 3 "$T_DIR/restore.err" | tr '\n' '|')"
	proc_alive "$pid" && fail "$what: pid $pid is alive"
}

# the bad copy: bytes of the root's pages flipped in the middle
restore_bad "$T_DIR/bad" "$T_DIR/bad/$root/pages" "$root" "a corrupted pages file" \
	"/bad/$root/pages"

# in a new pid namespace (64 MiB): the tree's init is the wrapper, the
# root its child
log=$T_DIR/lazy-ns.log
WL_LAZY_MIB=64 start_workload "$log" unshare --pid --fork "$CRFS_TESTS/wl_lazy"
top=$WL_PID
wait_for 20 eval '[ -n "$(pgrep -P '"$top"')" ]' || fail "no namespace init under $top"
init=$(pgrep -P "$top")
track_pid "$init"
wait_line "$log" 'READY ROOT=[0-9]+$' 60 "$init"
checkpoint lzns "$init" "$T_DIR/ns"
kill_and_reap lzns "$init" "$top"
export CRFS_LAZY_THROTTLE=64
T_RESTORE_ARGS=--lazy restore_newpid "$T_DIR/ns"
unset CRFS_LAZY_THROTTLE
handler=$(tr -dc 0-9 <"$T_DIR/restore.pid.lazy")
track_pid "$handler"
wait_for 20 eval '[ -n "$(pgrep -P '"$NEW_PID"')" ]' || fail "no root under the restored init $NEW_PID"
kill -USR1 "$(pgrep -P "$NEW_PID")" || fail "cannot signal the restored root"
expect_pass "$log" "$RESTORE_PID" 60
wait_gone "$handler" 60 || fail "the lazy handler $handler (namespaces) still runs"
grep -q 'lazy: done: ' "$T_DIR/restore.err" ||
	fail "namespaces: no 'lazy: done': $(tail -n 3 "$T_DIR/restore.err" | tr '\n' '|')"
note "namespaces: $(grep 'lazy: done' "$T_DIR/restore.err")"
# a pre-copy chain: ck.pre1 (full), ck.pre2, ck
log=$T_DIR/wr.log
start_workload "$log" "$CRFS_TESTS/wl_writer" 64 2048
pid=$WL_PID
wait_ready "$log" "$pid" 60
cr_attach pc "$pid"
CRFS_MNT=$MNT timeout "$T_COPY_TIMEOUT" "$CRFS_BIN/crfsctl" checkpoint \
	--precopy 2 pc "$T_DIR/ck" </dev/null >"$T_DIR/crfsctl.out" \
	2>"$T_DIR/crfsctl.err" ||
	fail "crfsctl checkpoint --precopy: $(cat "$T_DIR/crfsctl.err")"
wait_exit "$pid" 20 || fail "pid $pid still there after crfsctl's kill"
timeout "$T_CTL_TIMEOUT" rmdir "$MNT/pc" || fail "rmdir pc"
grep -q "^parent ../ck.pre2 " "$T_DIR/ck/image" || fail "ck is not incremental"
mkdir "$T_DIR/bad2" && cp -a "$T_DIR/ck" "$T_DIR/ck.pre1" "$T_DIR/ck.pre2" "$T_DIR/bad2/" ||
	fail "cannot copy the chain"
export CRFS_RESTORE_PROFILE=1 CRFS_LAZY_THROTTLE=64
T_RESTORE_ARGS=--lazy restore_bg "$T_DIR/ck" "$pid"
unset CRFS_LAZY_THROTTLE
handler=$(tr -dc 0-9 <"$T_DIR/restore.pid.lazy")
track_pid "$handler"
kill -USR1 "$pid"
expect_pass "$log" "$RESTORE_PID" 60
wait_gone "$handler" 60 || fail "the lazy handler $handler (chain) still runs"
for ph in load "load: shared and parent runs" handler running; do
	grep -qE "^crfs-restore: profile: $ph \+[0-9.]+ ms \([0-9.]+ ms\)$" "$T_DIR/restore.err" ||
		fail "no profile line for '$ph': $(grep profile "$T_DIR/restore.err" | tr '\n' '|')"
done
grep -qE "lazy: profile: first fault after [0-9]+ ms, [1-9][0-9]* MiB checked" "$T_DIR/restore.err" ||
	fail "the handler checked no parent run: $(grep 'lazy:' "$T_DIR/restore.err" | tr '\n' '|')"
note "chain: $(grep -E 'profile: (load|running) |lazy: (profile|done)' "$T_DIR/restore.err" | tr '\n' '|')"
unset CRFS_RESTORE_PROFILE

# the full image of that chain corrupted: found by the handler, not the load
# (named by its path through the chain: ck/../ck.pre2/../ck.pre1/PID/pages)
restore_bad "$T_DIR/bad2/ck" "$T_DIR/bad2/ck.pre1/$pid/pages" "$pid" "a corrupted parent" \
	"/ck\.pre1/$pid/pages"
pass
