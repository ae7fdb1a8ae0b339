#!/bin/bash
# SPDX-License-Identifier: MIT
# e2e-lane: shared pty (ptys of the host's devpts)
#
# The kernel caches names and sizes of a snapshot's files: a container that
# is frozen, thawed and frozen again, changing in between, must show every
# file at its new size (tar and rsync trust st_size) and, while thawed,
# none of them.  The workload keeps a pipe whose unread bytes change from
# one freeze to the next.
. "$(dirname "$0")/lib.sh"

read -r -d '' SCRIPT <<'EOS'
import os, time

r, w = os.pipe()
print("READY", flush=True)
n = 0
while True:
    os.write(w, b"z" * 97)
    n += 1
    if n % 400 == 0:
        os.read(r, 30000)
    time.sleep(0.001)
EOS

crfs_mount
log=$T_DIR/grow.log
start_workload "$log" "$(python_bin)" -c "$SCRIPT"
pid=$WL_PID
wait_ready "$log" "$pid"

cr_attach rf "$pid"
sizes=
for round in 1 2 3 4 5; do
	cr_freeze rf
	nfiles=0
	while IFS= read -r -d '' f; do
		want=$(stat -c %s "$f") || fail "round $round: stat $f failed"
		got=$(wc -c <"$f") || fail "round $round: reading $f failed"
		[ "$want" = "$got" ] ||
			fail "round $round: ${f#$MNT/} has $got bytes, stat says $want"
		nfiles=$((nfiles + 1))
	done < <(find "$MNT/rf" -type f -print0)
	[ "$nfiles" -gt 3 ] || fail "round $round: only $nfiles files"
	read -r pipe bytes < <(awk '$2 == "pipe" && / data=/ {
		for (i = 3; i <= NF; i++) if ($i ~ /^data=/) print $1, substr($i, 6)
		exit }' "$MNT/rf/files")
	[ -n "$pipe" ] || fail "round $round: no pipe with data in files"
	got=$(stat -c %s "$MNT/rf/fdata/$pipe")
	[ "$got" = "$bytes" ] ||
		fail "round $round: files says data=$bytes, fdata/$pipe has $got bytes"
	sizes="$sizes $got"
	cr_thaw rf
	for f in image files "fdata/$pipe"; do
		[ -e "$MNT/rf/$f" ] && fail "round $round: $f still there after thaw"
	done
	sleep 0.2
done
distinct=$(echo $sizes | tr ' ' '\n' | sort -u | wc -l)
[ "$distinct" -gt 1 ] || fail "the pipe kept one size over five freezes ($sizes): nothing tested"
note "pipe sizes over the freezes:$sizes"
ctl_write rf kill || fail "kill failed"
pass
