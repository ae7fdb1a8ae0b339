#!/bin/bash
# SPDX-License-Identifier: MIT
# e2e-lane: isolated (its own namespaces or files only: runs beside the shared lane)
#
# wl_vfork: a parent waiting in vfork() for a child that does not exec or
# exit cannot be frozen (ptrace can neither stop it nor read its registers
# until then): the freeze is refused by name within a few seconds and the
# tree runs on, the parent still waiting until its child _exits.  A
# process that posix_spawns in a loop (a vfork until each exec) is frozen
# and thawed, and checkpointed, killed and restored: the freeze waits out
# the vfork it lands in.
. "$(dirname "$0")/lib.sh"

crfs_mount
log=$T_DIR/hold.log
start_workload "$log" "$CRFS_TESTS/wl_vfork" hold
sub=$WL_PID
wait_root "$log" "$sub"
root=$ROOT_PID
child=$(cat /proc/"$root"/task/*/children)
[ -n "$child" ] || fail "no vfork child of $root"
track_pid "$child"
wait_for 10 eval '[ "$(proc_state "$root")" = D ]' ||
	fail "$root is not waiting in vfork (state $(proc_state "$root"))"
cr_attach hold "$root"
t0=$SECONDS
ctl_write hold freeze && fail "a freeze during a vfork succeeded"
ctl=$(ctl_read hold)
grep -q "^error freeze failed: process $root (thread $root) is waiting in vfork() for a child that has not called exec or _exit in 2 s; a vfork in progress cannot be checkpointed (the parent's registers cannot be read until its child is done); the tree was left running$" <<<"$ctl" ||
	fail "no vfork refusal: $(tr '\n' '|' <<<"$ctl")"
[ $((SECONDS - t0)) -le 10 ] || fail "the refusal took $((SECONDS - t0)) s"
note "refused in $((SECONDS - t0)) s"
[ "$(proc_state "$root")" = D ] || fail "$root no longer waits in vfork"
kill -USR1 "$child" || fail "cannot signal the vfork child $child"
expect_pass "$log" "$sub" 30
[ "$(grep -c '^PASS' "$log")" = 2 ] || fail "not 2 PASS lines: $(tr '\n' '|' <"$log")"
timeout "$T_CTL_TIMEOUT" rmdir "$MNT/hold" || fail "rmdir hold"

for how in thaw restore; do
	log=$T_DIR/spawn-$how.log
	start_workload "$log" "$CRFS_TESTS/wl_vfork" spawn
	sub=$WL_PID
	wait_root "$log" "$sub"
	root=$ROOT_PID
	if [ "$how" = thaw ]; then
		cr_attach "s$how" "$root"
		cr_freeze "s$how"
		cr_thaw "s$how"
		timeout "$T_CTL_TIMEOUT" rmdir "$MNT/s$how" || fail "rmdir s$how"
		kill -USR1 "$root" || fail "cannot signal $root"
		expect_pass "$log" "$sub" 30
		continue
	fi
	checkpoint "s$how" "$root" "$T_DIR/ckpt"
	kill_and_reap "s$how" "$root" "$sub"
	restore_bg "$T_DIR/ckpt" "$root"
	kill -USR1 "$root" || fail "cannot signal restored root $root"
	expect_pass "$log" "$RESTORE_PID" 30
	note "restored: $(grep '^# ' "$log")"
done
pass
