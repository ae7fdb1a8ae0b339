#!/bin/bash
# SPDX-License-Identifier: MIT
# e2e-lane: isolated (its own namespaces or files only: runs beside the shared lane)
#
# compress zstd: wl_zstd (half zero pages, half text, and random memory)
# is checkpointed as PID/pages.zst, checked after freeze -> thaw, after a
# post-dump snapshot -> release -> kill -> restore, and after checkpoint ->
# kill -> restore.  Damaged copies are refused naming
# the file, leaving no process: a flipped byte, a truncation, an image
# with both pages and pages.zst, and one with neither.
. "$(dirname "$0")/lib.sh"

E2E_DIR=$(dirname "$0")
crfs_mount

# zstd_ckpt NAME DIR: wl_zstd started, checkpointed compressed into DIR;
# it stays frozen (pid in $pid, log in $log)
zstd_ckpt() {
	log=$T_DIR/$1.log
	start_workload "$log" "$CRFS_TESTS/wl_zstd" 8 2
	pid=$WL_PID
	wait_ready "$log" "$pid"
	cr_attach "$1" "$pid"
	ctl_write "$1" "compress zstd" || fail "echo 'compress zstd' > ctl failed"
	ctl_read "$1" | grep -qx 'compress zstd' ||
		fail "ctl does not say 'compress zstd'"
	cr_freeze "$1"
	cr_copy "$1" "$2"
}

# the thaw leg: the tree runs on intact
zstd_ckpt zt "$T_DIR/ckpt-thaw"
cr_thaw zt
kill -USR1 "$pid" || fail "cannot signal $pid"
expect_pass "$log" "$pid" 30
timeout "$T_CTL_TIMEOUT" rmdir "$MNT/zt" || fail "rmdir zt"

# post-dump: compressed while the tree is stopped for the snapshot, then
# it runs on during the copy; released before the kill (its root collects
# the twin), restored and checked
log=$T_DIR/pd.log
start_workload "$log" "$CRFS_TESTS/wl_zstd" 8 2
pid=$WL_PID
wait_ready "$log" "$pid"
cr_attach zp "$pid"
ctl_write zp "compress zstd" || fail "echo 'compress zstd' > ctl failed"
ctl_write zp snapshot || fail "snapshot refused: $(ctl_read zp | tr '\n' '|')"
expect_state zp running
note "$(ctl_read zp | grep '^postdump ')"
cr_copy zp "$T_DIR/ckpt-pd"
[ -f "$T_DIR/ckpt-pd/$pid/pages.zst" ] || fail "post-dump image lacks $pid/pages.zst"
ctl_write zp release || fail "release refused: $(ctl_read zp | tr '\n' '|')"
kill_and_reap zp "$pid"
restore_bg "$T_DIR/ckpt-pd" "$pid"
kill -USR1 "$pid" || fail "cannot signal restored pid $pid"
expect_pass "$log" "$RESTORE_PID" 30

zstd_ckpt z "$T_DIR/pristine"
kill_and_reap z "$pid"

img=$T_DIR/pristine
[ -f "$img/$pid/pages.zst" ] || fail "image lacks $pid/pages.zst"
[ -e "$img/$pid/pages" ] && fail "image has $pid/pages beside pages.zst"
grep -q "^file $pid/pages.zst " "$img/image" || fail "manifest lacks $pid/pages.zst"
# pages.idx says how many bytes pages would hold: 8 MiB + 2 MiB and more
raw=$(awk 'NR > 2 { n += $2 } END { print n * 4096 }' "$img/$pid/pages.idx")
zst=$(stat -c %s "$img/$pid/pages.zst")
[ "$raw" -ge $((10 << 20)) ] || fail "pages.idx holds $raw bytes, want >= 10 MiB"
# the zero half costs nothing, the text little, the random 2 MiB all
[ "$zst" -lt $((3 << 20)) ] || fail "pages.zst is $zst bytes for $raw bytes of pages"
note "pages $raw bytes, pages.zst $zst bytes"

damaged() {	# NAME: a fresh copy of the pristine image in $BAD
	BAD=$T_DIR/bad-$1
	cp -a "$img" "$BAD" || fail "cp pristine"
}

damaged flip
f=$BAD/$pid/pages.zst
off=$((zst / 2))
b=$(od -An -tu1 -j "$off" -N1 "$f" | tr -d ' ')
printf "\\$(printf %03o $((b ^ 0xff)))" |
	dd of="$f" bs=1 seek="$off" conv=notrunc status=none
expect_restore_refused flip "$BAD" "$pid" "$pid/pages.zst: "

damaged trunc
truncate -s -4096 "$BAD/$pid/pages.zst"
expect_restore_refused trunc "$BAD" "$pid" "$pid/pages.zst: "

# cut short and resealed: past the manifest's size, found in the file
damaged cut
truncate -s -100 "$BAD/$pid/pages.zst"
python3 "$E2E_DIR/reseal.py" "$BAD" "$pid/pages.zst" || fail "reseal failed"
expect_restore_refused cut "$BAD" "$pid" "$pid/pages.zst: .*(corrupted or truncated)"

damaged both
head -c "$raw" /dev/zero > "$BAD/$pid/pages"
sed -i "s|^file $pid/pages.zst .*|&\nfile $pid/pages $raw -|" "$BAD/image"
python3 "$E2E_DIR/reseal.py" "$BAD" || fail "reseal failed"
expect_restore_refused both "$BAD" "$pid" "$pid: holds both pages and pages.zst"

damaged neither
sed -i "/^file $pid\/pages.zst /d" "$BAD/image"
python3 "$E2E_DIR/reseal.py" "$BAD" || fail "reseal failed"
expect_restore_refused neither "$BAD" "$pid" "$pid: neither pages nor pages.zst"

for t in flip trunc cut both neither; do
	note "$t: $(head -c 300 "$T_DIR/restore-$t.err" | tr '\n' ' ')"
done

restore_bg "$img" "$pid"
kill -USR1 "$pid" || fail "cannot signal restored pid $pid"
expect_pass "$log" "$RESTORE_PID" 30
pass
