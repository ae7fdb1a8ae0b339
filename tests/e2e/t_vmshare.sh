#!/bin/bash
# SPDX-License-Identifier: MIT
# e2e-lane: isolated (its own namespaces or files only: runs beside the shared lane)
#
# wl_vmshare: a child sharing its parent's memory and signal handlers
# (CLONE_VM | CLONE_SIGHAND), one sharing only its memory (CLONE_VM) and
# one sharing memory, handlers, table and fs, with a thread and a pending
# signal of its own, share them again after a freeze and thaw, and after checkpoint, kill and
# restore: one mm (kcmp), a write by one seen by the other, a handler set
# by one the other's (and not the one with a table of its own).  A child
# sharing memory that has a child of its own is refused by name, and runs
# on after the thaw.  Each tree runs under a subreaper outside it.
. "$(dirname "$0")/lib.sh"

crfs_mount
start_workload "$T_DIR/kid.log" "$CRFS_TESTS/wl_vmshare" kid
sub=$WL_PID
wait_root "$T_DIR/kid.log" "$sub"
kid=$ROOT_PID
cr_attach kid "$kid"
ctl_write kid freeze || fail "freeze of the refused tree failed"
expect_state kid frozen 5
ctl=$(ctl_read kid)
grep -q "^unsupported process [0-9]*: shares its memory (CLONE_VM) with its parent $kid and has a child [0-9]* of its own (not supported yet)" <<<"$ctl" ||
	fail "no refusal of a CLONE_VM child with a child: $(tr '\n' '|' <<<"$ctl")"
cr_thaw kid
kill -0 "$kid" || fail "refused tree did not run on"
kill_and_reap kid "$kid" "$sub"

for how in thaw restore; do
	log=$T_DIR/vm-$how.log
	start_workload "$log" "$CRFS_TESTS/wl_vmshare"
	sub=$WL_PID
	wait_root "$log" "$sub"
	pid=$ROOT_PID
	if [ "$how" = thaw ]; then
		cr_attach "v$how" "$pid"
		cr_freeze "v$how"
		cr_thaw "v$how"
		timeout "$T_CTL_TIMEOUT" rmdir "$MNT/v$how" || fail "rmdir v$how"
		kill -USR1 "$pid" || fail "cannot signal $pid"
		expect_pass "$log" "$sub" 30
		[ "$(grep -c '^PASS' "$log")" = 9 ] || fail "not 9 PASS lines after thaw"
		continue
	fi
	checkpoint "v$how" "$pid" "$T_DIR/ckpt"
	[ "$(grep -l '^shares_vm 1$' "$T_DIR"/ckpt/*/attr | wc -l)" = 3 ] ||
		fail "not three attrs with shares_vm 1"
	[ "$(grep -l '^shares_sighand 1$' "$T_DIR"/ckpt/*/attr | wc -l)" = 2 ] ||
		fail "not two attrs with shares_sighand 1"
	# one mm: the children's pages are all the parent's, stored once
	for a in $(grep -l '^shares_vm 1$' "$T_DIR"/ckpt/*/attr); do
		d=$(dirname "$a")
		awk -v r="$pid" 'NR > 2 && $3 != r { bad = 1 } END { exit bad }' \
			"$d/pages.idx" || fail "$d/pages.idx stores pages of its own"
	done
	kill_and_reap "v$how" "$pid" "$sub"
	restore_bg "$T_DIR/ckpt" "$pid"
	kill -USR1 "$pid" || fail "cannot signal restored pid $pid"
	expect_pass "$log" "$RESTORE_PID" 30
	[ "$(grep -c '^PASS' "$log")" = 9 ] || fail "not 9 PASS lines after restore"
	note "restored: $(grep -c '^PASS' "$log") checks passed"
done
pass
