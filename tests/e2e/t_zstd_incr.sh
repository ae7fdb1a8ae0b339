#!/bin/bash
# SPDX-License-Identifier: MIT
# e2e-lane: isolated (its own namespaces or files only: runs beside the shared lane)
#
# compress zstd with incremental checkpoints: wl_dirty (24 MiB of random
# memory, 1% rewritten and 16 pages zapped each round) is checkpointed as
# a chain whose levels are mixed: c1 full and compressed (pages.zst), c2
# plain with c1 as parent, c3 compressed with c2 as parent (through
# crfsctl checkpoint --zstd --parent), c4 compressed with c3 as parent.
# c4 must read runs from every level up (from pages.zst and pages alike),
# restore with --lazy and without, and the workload verify every byte of
# its memory both times.  A corrupted frame of c1's pages.zst, a corrupted
# chunk header (its index) and a truncated c3/pages.zst are refused
# naming the file, leaving no process.  Then crfsctl checkpoint --zstd
# --precopy 2 of another: every copy compressed, the chain restored.
. "$(dirname "$0")/lib.sh"

E2E_DIR=$(dirname "$0")
crfs_mount
log=$T_DIR/wl.log
start_workload "$log" "$CRFS_TESTS/wl_dirty" 24 10 16
pid=$WL_PID
wait_ready "$log" "$pid" 60

crfsctl() {
	CRFS_MNT=$MNT timeout "$T_COPY_TIMEOUT" "$CRFS_BIN/crfsctl" "$@" \
		</dev/null 2>"$T_DIR/crfsctl.err"
}

# dirty N: round N of rewrites, waited for
dirty() {
	kill -USR2 "$pid"
	wait_line "$log" "^DIRTIED ROUND $1 " 60 "$pid"
}

cr_attach zi "$pid"
ctl_write zi "compress zstd" || fail "compress zstd refused"
cr_freeze zi
ctl_write zi track ||
	fail "track refused with compress zstd: $(ctl_read zi | tr '\n' '|')"
cr_copy zi "$T_DIR/c1"
cr_thaw zi

dirty 1
ctl_write zi "compress none" || fail "compress none refused while tracking"
ctl_write zi "parent ../c1" || fail "parent refused: $(ctl_read zi | tr '\n' '|')"
cr_freeze zi
cr_copy zi "$T_DIR/c2"
cr_thaw zi

dirty 2
crfsctl checkpoint --zstd --parent "$T_DIR/c2" zi "$T_DIR/c3" ||
	fail "crfsctl checkpoint --zstd --parent: $(cat "$T_DIR/crfsctl.err")"
expect_state zi running

dirty 3
ctl_read zi | grep -qx 'compress zstd' || fail "ctl does not say 'compress zstd'"
ctl_write zi "parent ../c3" || fail "parent refused: $(ctl_read zi | tr '\n' '|')"
cr_freeze zi
cr_copy zi "$T_DIR/c4"
kill_and_reap zi "$pid"

for n in 1 3 4; do
	[ -f "$T_DIR/c$n/$pid/pages.zst" ] || fail "c$n lacks $pid/pages.zst"
	[ -e "$T_DIR/c$n/$pid/pages" ] && fail "c$n has $pid/pages beside pages.zst"
done
[ -f "$T_DIR/c2/$pid/pages" ] || fail "c2 lacks $pid/pages"
[ -e "$T_DIR/c2/$pid/pages.zst" ] && fail "c2 has $pid/pages.zst"
for n in 2 3 4; do
	grep -q "^parent \.\./c$((n - 1)) " "$T_DIR/c$n/image" ||
		fail "c$n/image does not name ../c$((n - 1)) as its parent"
done
# c4 reads from its parent (compressed), grandparent (plain) and c1
for s in 1 2 3; do
	grep -q " $s:$pid " "$T_DIR/c4/$pid/pages.idx" ||
		fail "c4 has no run in level $s ($s:$pid)"
done
full=$(stat -c %s "$T_DIR/c1/$pid/pages.zst")
incr=$(stat -c %s "$T_DIR/c4/$pid/pages.zst")
note "c1/pages.zst $full bytes, c4/pages.zst $incr bytes, c2/pages $(stat -c %s "$T_DIR/c2/$pid/pages") bytes"
[ $((incr * 20)) -le "$full" ] ||
	fail "c4 stores $incr bytes of pages.zst, more than 5% of the full $full"

# refusals, each on a copy of the chain made wrong in one way
bad_chain() {	# NAME: a fresh copy of c1..c4 in $BAD
	BAD=$T_DIR/bad-$1
	mkdir "$BAD" || fail "mkdir $BAD"
	for n in 1 2 3 4; do cp -a "$T_DIR/c$n" "$BAD/c$n" || fail "cp c$n"; done
}

# a byte inside a frame of c1 (random data: each chunk one frame of ~1 MiB)
bad_chain frame
f=$BAD/c1/$pid/pages.zst
off=$((full / 2))
b=$(od -An -tu1 -j "$off" -N1 "$f" | tr -d ' ')
printf "\\$(printf %03o $((b ^ 0xff)))" |
	dd of="$f" bs=1 seek="$off" conv=notrunc status=none
expect_restore_refused frame "$BAD/c4" "$pid" \
	"c1/$pid/pages.zst: .*\(corrupted"

# the first chunk's header, which the chunk index is walked from
bad_chain header
printf '\x00' | dd of="$BAD/c1/$pid/pages.zst" bs=1 seek=1 conv=notrunc status=none
expect_restore_refused header "$BAD/c4" "$pid" \
	"c1/$pid/pages.zst: at byte 0: no chunk header here \(corrupted or truncated\)"

bad_chain trunc
truncate -s -100 "$BAD/c3/$pid/pages.zst"
expect_restore_refused trunc "$BAD/c4" "$pid" \
	"c3/$pid/pages.zst: [0-9]+ bytes, its image says [0-9]+ \(truncated\?\)"

# cut short and resealed: past the manifest's size, found in the file
bad_chain cut
truncate -s -100 "$BAD/c3/$pid/pages.zst"
python3 "$E2E_DIR/reseal.py" "$BAD/c3" "$pid/pages.zst" || fail "reseal failed"
expect_restore_refused cut "$BAD/c4" "$pid" \
	"c3/$pid/pages.zst: .*\(corrupted or truncated\)"
for t in frame header trunc cut; do
	note "$t: $(head -c 300 "$T_DIR/restore-$t.err" | tr '\n' ' ')"
done

# post-copy from the mixed chain, then a plain restore of it
T_RESTORE_ARGS=--lazy restore_bg "$T_DIR/c4" "$pid"
kill -USR1 "$pid"
expect_pass "$log" "$RESTORE_PID" 60
handler=$(tr -dc 0-9 <"$T_DIR/restore.pid.lazy")
track_pid "$handler"
wait_gone "$handler" 60 || fail "the lazy handler $handler still runs 60s after the restore"
grep -q 'lazy: done: ' "$T_DIR/restore.err" ||
	fail "no 'lazy: done' from the handler: $(tail -n 3 "$T_DIR/restore.err" | tr '\n' '|')"
note "$(grep 'lazy: done' "$T_DIR/restore.err")"
# the restored log offset is the same: its PASS is written over this one
sed -i 's/^PASS/XASS/' "$log"
restore_bg "$T_DIR/c4" "$pid"
kill -USR1 "$pid"
expect_pass "$log" "$RESTORE_PID" 60

# pre-copy rounds: the pre-dumps are plain (read from the running tree),
# the last copy compressed, its chain read from both
log=$T_DIR/pc.log
start_workload "$log" "$CRFS_TESTS/wl_dirty" 16 10 16
pid=$WL_PID
wait_ready "$log" "$pid" 60
cr_attach zpc "$pid"
crfsctl checkpoint --zstd --precopy 2 zpc "$T_DIR/pc" ||
	fail "crfsctl checkpoint --zstd --precopy 2: $(cat "$T_DIR/crfsctl.err")"
wait_exit "$pid" 20 || fail "pid $pid still there after crfsctl's kill"
[ -f "$T_DIR/pc/$pid/pages.zst" ] || fail "pc lacks $pid/pages.zst"
for d in pc.pre1 pc.pre2; do
	[ -f "$T_DIR/$d/$pid/pages" ] || fail "the pre-dump $d lacks $pid/pages"
done
# nothing was written since pc.pre1: the runs point there (2:PID)
grep -q " 2:$pid " "$T_DIR/pc/$pid/pages.idx" ||
	fail "the last copy has no run in pc.pre1 (2:$pid)"
restore_bg "$T_DIR/pc" "$pid"
kill -USR1 "$pid"
expect_pass "$log" "$RESTORE_PID" 60
pass
