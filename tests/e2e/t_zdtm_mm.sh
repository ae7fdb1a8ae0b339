#!/bin/bash
# SPDX-License-Identifier: MIT
# e2e-lane: isolated (its own namespaces or files only: runs beside the shared lane)
#
# wl_zdtm_mm: odd process and memory attributes (GS base, named anonymous
# mappings, MAP_GROWSDOWN, a membarrier registration, speculation control,
# I/O flusher; with WL_ZDTM_SET: NUMA policies of a thread and of a
# mapping, a child's TSC mode, PR_SET_MDWE, a MAP_DROPPABLE mapping),
# checked by the workload after a freeze and thaw, and after checkpoint ->
# kill -> restore, also a guard region (MADV_GUARD_INSTALL; in private or
# shared anonymous memory or a shared file mapping), also after a second
# checkpoint and restore of the restored tree; a freeze of a tree
# with a traced process fails and says so.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/zdtm_lib.sh"

crfs_mount
zdtm_case wl_zdtm_mm mmthaw thaw
zdtm_case wl_zdtm_mm mm restore
grep -qx 'membarrier 0x10' "$T_DIR/mm.ckpt/$ZDTM_PID/attr" ||
	fail "mm: attr lacks 'membarrier 0x10'"
# restored, then checkpointed and restored again: its child without a
# vDSO, stopped, had no syscall instruction a second freeze could find
zdtm_case wl_zdtm_mm mm2 twice

# a thread's and a mapping's NUMA policy, a child's TSC mode,
# memory-deny-write-execute, a MAP_DROPPABLE mapping
export WL_ZDTM_SET=numa,vmanuma,tsc,mdwe,droppable
zdtm_case wl_zdtm_mm prctlthaw thaw
zdtm_case wl_zdtm_mm prctl restore
unset WL_ZDTM_SET
for w in mm.numa mm.vmanuma prctl.tsc prctl.mdwe mm.droppable; do
	grep -q "^PASS $w" "$T_DIR/prctlthaw.log" || fail "prctlthaw.log: no PASS $w"
	grep -q "^PASS $w" "$T_DIR/prctl.log" || fail "prctl.log: no PASS $w"
done
grep -qx 'mdwe 0x1' "$T_DIR/prctl.ckpt/$ZDTM_PID/mm" || fail "prctl: mm lacks 'mdwe 0x1'"
grep -q ' anon [a-z,]*droppable' "$T_DIR/prctl.ckpt/$ZDTM_PID/maps" ||
	fail "prctl: maps has no droppable mapping"
# ... and no page of it is stored: the kernel may drop them at any time
# (zdtm maps11 expects zeros after a restore)
read -r ds de < <(awk '$5 == "anon" && $6 ~ /droppable/ { print $1, $2 }' \
	"$T_DIR/prctl.ckpt/$ZDTM_PID/maps")
[ -n "$de" ] || fail "prctl: no droppable mapping in maps"
drop=
while read -r a _; do
	[ $((a)) -ge $((ds)) ] && [ $((a)) -lt $((de)) ] && drop=$a
done < <(tail -n +3 "$T_DIR/prctl.ckpt/$ZDTM_PID/pages.idx")
[ -z "$drop" ] ||
	fail "prctl: pages.idx stores pages of the droppable mapping $ds-$de ($drop)"
grep -qx 'mempolicy 1' "$T_DIR/prctl.ckpt/$ZDTM_PID/task/$ZDTM_PID/sigstate" ||
	fail "prctl: sigstate lacks 'mempolicy 1'"
grep -qx '0x[0-9a-f]* 2 0x0 0x1' "$T_DIR/prctl.ckpt/$ZDTM_PID/mempolicy" ||
	fail "prctl: no MPOL_BIND mapping in mempolicy: $(tr '\n' '|' <"$T_DIR/prctl.ckpt/$ZDTM_PID/mempolicy")"

# guard regions (MADV_GUARD_INSTALL; zdtm maps12): in private anonymous
# memory, and in a shared file mapping, whose pages are the file's (not
# read through the pagemap): listed in PID/guards, installed again; the
# workload faults on the guard page
for w in guard guardfile; do
	WL_ZDTM_SET=$w zdtm_case wl_zdtm_mm ${w}thaw thaw
	WL_ZDTM_SET=$w zdtm_case wl_zdtm_mm $w restore
	grep -q '^PASS mm.guard' "$T_DIR/$w.log" || fail "$w.log: no PASS mm.guard"
	[ "$(wc -l < "$T_DIR/$w.ckpt/$ZDTM_PID/guards")" = 1 ] ||
		fail "$w: guards is not one range: $(tr '\n' '|' < "$T_DIR/$w.ckpt/$ZDTM_PID/guards")"
done
# ... in shared anonymous memory the object's page under it would be read
# through the mapping: refused, and still there after the thaw
zdtm_refused wl_zdtm_mm guardshm "process PID: a guard region (MADV_GUARD_INSTALL) at 0x"
grep -q '^PASS mm.guard' "$T_DIR/guardshm.log" || fail "guardshm.log: no PASS mm.guard"

# a process the tree traces: the freeze cannot seize it and says why; the
# tree runs on, the tracer still traces it
log=$T_DIR/ptrace.log
WL_ZDTM_SET=ptrace start_workload "$log" "$CRFS_TESTS/wl_zdtm_mm"
pid=$WL_PID
wait_ready "$log" "$pid"
kid=$(pgrep -P "$pid")
[ -n "$kid" ] || fail "ptrace: no tracee under $pid"
zdtm_freeze_fails ptrace "$pid" "process $kid (thread $kid) is traced by process $pid (ptrace); a traced task cannot be checkpointed"
kill -USR1 "$pid" || fail "cannot signal pid $pid"
expect_pass "$log" "$pid" 30
grep -q '^PASS ptrace' "$log" || fail "ptrace.log: no PASS ptrace"
pass
