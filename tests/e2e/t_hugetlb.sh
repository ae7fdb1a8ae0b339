#!/bin/bash
# SPDX-License-Identifier: MIT
# e2e-lane: isolated (its own files; the huge page pool it raises by its own amount)
#
# wl_hugetlb: memory of 2 MiB huge pages of every kind (private and shared
# MAP_HUGETLB, a hugetlb memfd mapped both ways and its descriptor, a
# SHM_HUGETLB SysV segment), shared with a child, partly populated and
# mprotect'ed; checked by the workload after a checkpoint and thaw, then
# after checkpoint, kill and restore.  Before that restore the pool is
# exhausted for a moment: the restore must be refused, naming the mapping;
# so must an image whose page size the host has no pool of.
# The same again in an IPC namespace of its own.  A hugetlb memfd no
# mapping holds is refused at the freeze.
#
# The pool (nr_hugepages is 0 here) is raised by what this test needs and
# lowered by what it got, under a lock, on every exit path.
. "$(dirname "$0")/lib.sh"

HP=/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages
HP_LOCK=/run/crfs-e2e-hugetlb.lock
HP_WANT=24
hp_got=0

# hp_adjust N: add N (negative: take away) to the pool; prints what it did
hp_adjust() {
	local n=$1 cur now
	exec 9>>"$HP_LOCK"
	flock -w 20 9 || { exec 9>&-; return 1; }
	cur=$(cat "$HP")
	[ $((cur + n)) -ge 0 ] || n=$((-cur))
	echo $((cur + n)) >"$HP" 2>/dev/null
	now=$(cat "$HP")
	exec 9>&-
	echo $((now - cur))
}

# Our processes first: a pool made smaller while their pages are in use
# keeps those pages as surplus, which the next reader of nr_hugepages
# counts in (and would then give back as if they were its own).
hp_release() {
	local e
	[ "$hp_got" -gt 0 ] || return 0
	_kill_tracked
	for e in "${_tracked[@]}"; do
		wait_for 10 eval "! proc_alive ${e%%:*}"
	done
	hp_adjust "-$hp_got" >/dev/null
	hp_got=0
}

trap 'rc=$?; hp_release; (exit $rc); _cleanup' EXIT

[ -e "$HP" ] || fail "no 2048 kB huge pages on this host"
hp_got=$(hp_adjust "$HP_WANT") || fail "cannot lock $HP_LOCK"
[ "$hp_got" -ge "$HP_WANT" ] ||
	fail "the huge page pool grew by $hp_got pages, not $HP_WANT"

crfs_mount
log=$T_DIR/huge.log
start_workload "$log" "$CRFS_TESTS/wl_hugetlb" 2
pid=$WL_PID
wait_ready "$log" "$pid"
track_tree "$pid"	# the child too: its huge pages go back on any exit

# freeze -> thaw
checkpoint h1 "$pid" "$T_DIR/ckpt-h1"
grep -q 'hugetlb=2048' "$T_DIR/ckpt-h1/$pid/maps" ||
	fail "$pid/maps records no hugetlb=2048"
cr_thaw h1
timeout "$T_CTL_TIMEOUT" rmdir "$MNT/h1" || fail "rmdir h1"
kill -USR1 "$pid" || fail "cannot signal $pid"
wait_line "$log" '^ROUND 1$' 30 "$pid"

# checkpoint -> kill -> restore
checkpoint h2 "$pid" "$T_DIR/ckpt-h2"
img=$T_DIR/ckpt-h2
# only present huge pages: A's untouched one is not in pages
a_start=$(awk '$5 == "anon" && $6 ~ /hugetlb=2048/ && $3 == "rw-p" { print $1; exit }' "$img/$pid/maps")
[ -n "$a_start" ] || fail "no private hugetlb mapping in $pid/maps"
a_pages=0
while read -r addr n _; do
	[ $((addr)) -ge $((a_start)) ] && [ $((addr)) -lt $((a_start + 4194304)) ] &&
		a_pages=$((a_pages + n))
done < <(tail -n +3 "$img/$pid/pages.idx")
[ "$a_pages" = 512 ] ||
	fail "pages.idx holds $a_pages pages of A's two huge pages, not 512 (one was never touched)"
kill_and_reap h2 "$pid"

# the pool taken by another process: refused, by name, nothing left
start_workload "$T_DIR/eat.log" "$CRFS_TESTS/wl_hugetlb" eat
eater=$WL_PID
wait_ready "$T_DIR/eat.log" "$eater"
expect_restore_refused pool "$img" "$pid" \
	"$img/$pid/maps: hugetlb mapping at 0x[0-9a-f]+ needs 2048 kB pages: only [0-9]+ free"
kill "$eater"
wait_exit "$eater" 20 || fail "the pool eater did not exit"

# a page size this host has no pool of (8 kB: none anywhere)
cp -a "$img" "$T_DIR/bad" || fail "cp of the image failed"
sed -i 's/hugetlb=2048/hugetlb=8/' "$T_DIR/bad/$pid/maps"
python3 "$(dirname "$0")/reseal.py" "$T_DIR/bad" "$pid/maps" || fail "reseal failed"
expect_restore_refused size "$T_DIR/bad" "$pid" \
	"$T_DIR/bad/$pid/maps: hugetlb mapping at 0x[0-9a-f]+ needs 8 kB pages: this host has none of that size"
rm -rf "$T_DIR/bad"

restore_bg "$img" "$pid"
track_tree "$pid"
kill -USR1 "$pid" || fail "cannot signal restored pid $pid"
expect_pass "$log" "$RESTORE_PID" 30
grep -q '^ROUND 2$' "$log" || fail "no second round after the restore"

# in an IPC namespace of its own (zdtm's shm-hugetlb runs so): the
# segment is the namespace's, made again in a new one
start_workload "$T_DIR/ns.log" unshare --ipc --fork "$CRFS_TESTS/wl_hugetlb" 1
outer=$WL_PID
wait_line "$T_DIR/ns.log" '^READY$' 20 "$outer"
pid=$(pgrep -P "$outer")
[ -n "$pid" ] || fail "no child of unshare $outer"
track_tree "$pid"
checkpoint hns "$pid" "$T_DIR/ckpt-hns"
[ -s "$T_DIR/ckpt-hns/ipc/ns" ] || fail "image lacks ipc/ns"
kill_and_reap hns "$pid" "$outer"
restore_bg "$T_DIR/ckpt-hns" "$pid"
track_tree "$pid"
[ "$(readlink "/proc/$pid/ns/ipc")" != "$(readlink /proc/self/ns/ipc)" ] ||
	fail "restored pid $pid is in the host's IPC namespace"
kill -USR1 "$pid" || fail "cannot signal restored pid $pid"
expect_pass "$T_DIR/ns.log" "$RESTORE_PID" 30

# a descriptor of a hugetlb memfd alone is refused at the freeze
start_workload "$T_DIR/fdonly.log" "$CRFS_TESTS/wl_hugetlb" fdonly
wait_ready "$T_DIR/fdonly.log" "$WL_PID"
expect_refused h3 "$WL_PID" "a hugetlb memfd that no process of the tree maps is not supported yet"
pass
