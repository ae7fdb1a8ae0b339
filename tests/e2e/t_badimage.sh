#!/bin/bash
# SPDX-License-Identifier: MIT
# e2e-lane: isolated (its own namespaces or files only: runs beside the shared lane)
#
# crfs-restore must refuse a damaged image before creating anything: exit
# non-zero, say on stderr which file or what is wrong, and leave no process
# with the image's pid.  One pristine checkpoint is damaged a different way
# in each copy; at the end the pristine one restores fine, which shows
# the refusals were about the damage.
. "$(dirname "$0")/lib.sh"

# refused DESCRIPTION DIR REGEX: crfs-restore -d DIR must fail with a
# message matching REGEX (case-insensitive) and leave no process
refused() {
	local what=$1 dir=$2 re=$3 rc msg pid
	timeout "$T_RESTORE_TIMEOUT" "$CRFS_BIN/crfs-restore" -d "$dir" </dev/null \
		>"$T_DIR/bad.out" 2>"$T_DIR/bad.err"
	rc=$?
	msg=$(head -c 300 "$T_DIR/bad.err" | tr '\n' ' ')
	if [ "$rc" = 0 ]; then
		pid=$(grep -Eo '^[0-9]+$' "$T_DIR/bad.out" | tail -n 1)
		[ -n "$pid" ] && track_pid "$pid"
		fail "$what: crfs-restore accepted the image"
	fi
	[ "$rc" = 124 ] && fail "$what: crfs-restore hung"
	[ -n "$msg" ] || fail "$what: refused (exit $rc) without a message"
	grep -Eiq -- "$re" "$T_DIR/bad.err" ||
		fail "$what: message does not say /$re/: $msg"
	wait_for 10 eval "! [ -e /proc/$PID ]" ||
		fail "$what: pid $PID exists after the refusal ($(cat /proc/$PID/comm 2>/dev/null))"
	note "$what: exit $rc: $msg"
}

# damaged NAME: a fresh copy of the pristine image to damage, in $BAD
damaged() {
	BAD=$T_DIR/bad-$1
	cp -a "$T_DIR/pristine" "$BAD" || fail "cp pristine"
}

crfs_mount
log=$T_DIR/pause.log
start_workload "$log" "$CRFS_TESTS/wl_pause" pause 1
PID=$WL_PID
wait_ready "$log" "$PID"
wait_sleeping "$PID"

cr_attach bi "$PID"
# a copy of a running container: crfs may refuse it there and then, or
# it must be refused at restore time
running_ok=0
timeout -k 5 "$T_COPY_TIMEOUT" cp -a "$MNT/bi" "$T_DIR/running" 2>/dev/null &&
	running_ok=1
cr_freeze bi
cr_copy bi "$T_DIR/pristine"
kill_and_reap bi "$PID"

P=$PID
damaged trunc
pages=$BAD/$P/pages
[ "$(stat -c %s "$pages")" -ge 4096 ] || fail "pages file smaller than a page"
truncate -s -4096 "$pages"
refused "pages truncated by 4096" "$BAD" 'pages'

damaged flip
pages=$BAD/$P/pages
flip_byte "$pages" $(($(stat -c %s "$pages") / 2))
refused "byte flipped in pages" "$BAD" 'pages'

damaged regs
regs=$BAD/$P/task/$P/regs
# a register if the format has one by that name, else any numeric value
line=$(grep -Enm1 '^(rip|rsp|rbx|r12) (0x)?[0-9a-f]+$' "$regs" | cut -d: -f1)
[ -n "$line" ] ||
	line=$(grep -Enm1 '^[a-z0-9_]+ (0x)?[0-9a-f]+$' "$regs" | cut -d: -f1)
[ -n "$line" ] || fail "no 'key value' line in $regs"
# change the last digit of that value: 0 <-> 1, anything else -> 0
sed -i -E "${line}s/[0-9a-f]\$/x&/; ${line}s/x0\$/1/; ${line}s/x[1-9a-f]\$/0/" "$regs"
note "regs: edited '$(sed -n "${line}p" "$regs")'"
cmp -s "$regs" "$T_DIR/pristine/$P/task/$P/regs" && fail "regs edit did not change anything"
refused "value edited in regs" "$BAD" 'regs'

damaged arch
grep -q '^arch ' "$BAD/image" || fail "image has no arch line"
sed -i 's/^arch .*/arch aarch64/' "$BAD/image"
refused "arch aarch64" "$BAD" 'arch|aarch64'

damaged version
grep -q '^version ' "$BAD/image" || fail "image has no version line"
sed -i 's/^version .*/version 99/' "$BAD/image"
refused "version 99" "$BAD" 'version'

damaged maps
rm "$BAD/$P/maps"
refused "maps deleted" "$BAD" 'maps'

if [ "$running_ok" = 1 ]; then
	refused "copied while running" "$T_DIR/running" '.'
else
	note "copied while running: cp -a already failed"
fi

restore_bg "$T_DIR/pristine" "$PID"
kill -USR1 "$PID" || fail "cannot signal restored pid $PID"
expect_pass "$log" "$RESTORE_PID" 20
pass
