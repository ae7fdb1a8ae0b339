#!/bin/bash
# SPDX-License-Identifier: MIT
# e2e-lane: isolated (its own namespaces or files only: runs beside the shared lane)
#
# Pre-copy: crfsctl checkpoint --precopy 2 of a process that rewrites its
# 64 MiB of random memory all the time (wl_writer, 2 MiB/s): two
# pre-dumps (ctl "predump": memory only, copied while it runs; the second
# relative to the first), then a freeze whose image holds only what
# changed since.  A pre-dump alone is refused by crfs-restore by name; the
# chain restores, and the workload replays its writes to check every
# byte.  Then --precopy auto on a fresh writer: rounds until the written
# set stops shrinking (2 to 8), each reported on stderr, and the chain
# restores too.  Then --precopy 3 of a writer at 8 MiB/s that also remakes
# small mappings at the same addresses all the time (MAP_FIXED over one,
# MADV_DONTNEED of another): pages written while a round takes its
# written set and protects memory as the tree runs, mappings made between
# a round's stop and its take; every word is checked after the restore.
. "$(dirname "$0")/lib.sh"

crfs_mount

# precopy TAG ROUNDS [KIBS CHURN]: crfsctl checkpoint --precopy ROUNDS of a
# fresh writer into $T_DIR/TAG, killed by crfsctl; sets PID
precopy() {
	local log=$T_DIR/$1.log
	start_workload "$log" "$CRFS_TESTS/wl_writer" 64 "${3:-2048}" "${4:-0}"
	PID=$WL_PID
	wait_ready "$log" "$PID" 60
	cr_attach "$1" "$PID"
	CRFS_MNT=$MNT timeout "$T_COPY_TIMEOUT" "$CRFS_BIN/crfsctl" checkpoint \
		--precopy "$2" "$1" "$T_DIR/$1" </dev/null >"$T_DIR/$1.out" \
		2>"$T_DIR/$1.err" ||
		fail "crfsctl checkpoint --precopy $2: $(cat "$T_DIR/$1.err")"
	note "$(head -n 1 "$T_DIR/$1.out")"
	grep -q '^frozen for [0-9]* ms' "$T_DIR/$1.out" ||
		fail "crfsctl did not say how long it froze: $(cat "$T_DIR/$1.out")"
	wait_exit "$PID" 20 || fail "pid $PID still there after crfsctl's kill"
	expect_state "$1" dead
	timeout "$T_CTL_TIMEOUT" rmdir "$MNT/$1" || fail "rmdir $1"
}

# parents TAG N: TAG.pre2 .. TAG.preN and TAG name the one before
parents() {
	local i=2 child parent
	while [ "$i" -le $(($2 + 1)) ]; do
		parent=$1.pre$((i - 1))
		child=$1.pre$i
		[ "$i" -gt "$2" ] && child=$1
		id=$(awk '$1 == "freeze_id" { print $2 }' "$T_DIR/$parent/image")
		grep -qx "parent ../$parent $id" "$T_DIR/$child/image" ||
			fail "$child/image does not name ../$parent $id as its parent"
		grep -qx predump "$T_DIR/$parent/image" ||
			fail "$parent/image is not a pre-dump"
		i=$((i + 1))
	done
	grep -qx predump "$T_DIR/$1/image" && fail "$1/image is a pre-dump"
	return 0
}

precopy pc 2
pid=$PID
grep -qx 'version 6' "$T_DIR/pc.pre1/image" || fail "pc.pre1 is not a full image"
parents pc 2
for i in 1 2; do
	grep -q "^crfsctl: pre-copy round $i: [0-9]* bytes of pages, the tree stopped for [0-9]* us" \
		"$T_DIR/pc.err" || fail "round $i not reported: $(cat "$T_DIR/pc.err")"
done
[ -e "$T_DIR/pc.pre1/$pid/attr" ] && fail "a pre-dump holds more than memory"
full=$(stat -c %s "$T_DIR/pc.pre1/$pid/pages")
last=$(stat -c %s "$T_DIR/pc/$pid/pages")
note "pages: pre-copy $full bytes, the frozen copy $last; $(tr '\n' ' ' <"$T_DIR/pc.err")"
[ $((last * 4)) -le "$full" ] ||
	fail "the frozen copy holds $last bytes of pages, the full one $full"
# the first round's runs are the second's base (listed after the thaw)
pre2=$(stat -c %s "$T_DIR/pc.pre2/$pid/pages")
[ $((pre2 * 4)) -le "$full" ] ||
	fail "the second pre-dump holds $pre2 bytes of pages, the first $full"
expect_restore_refused pre1 "$T_DIR/pc.pre1" "$pid" \
	'pc\.pre1: a pre-dump \(memory only, read while the tree ran\): valid only as the parent of a checkpoint'
restore_bg "$T_DIR/pc" "$pid"
kill -USR1 "$pid"
expect_pass "$T_DIR/pc.log" "$RESTORE_PID" 60

precopy pa auto
pid=$PID
n=$(grep -c '^crfsctl: pre-copy round [0-9]*: ' "$T_DIR/pa.err")
note "auto: $n rounds: $(tr '\n' ' ' <"$T_DIR/pa.err")"
[ "$n" -ge 2 ] && [ "$n" -le 8 ] || fail "--precopy auto made $n rounds"
[ -d "$T_DIR/pa.pre$n" ] && [ ! -e "$T_DIR/pa.pre$((n + 1))" ] ||
	fail "--precopy auto reported $n rounds, made $(ls -d "$T_DIR"/pa.pre*)"
parents pa "$n"
restore_bg "$T_DIR/pa" "$pid"
kill -USR1 "$pid"
expect_pass "$T_DIR/pa.log" "$RESTORE_PID" 60

precopy pw 3 8192 1
pid=$PID
parents pw 3
restore_bg "$T_DIR/pw" "$pid"
kill -USR1 "$pid"
expect_pass "$T_DIR/pw.log" "$RESTORE_PID" 60
grep -q '^PASS .*churned mappings' "$T_DIR/pw.log" ||
	fail "the writer did not check its churned mappings: $(cat "$T_DIR/pw.log")"
pass
