#!/bin/bash
# SPDX-License-Identifier: MIT
# e2e-lane: isolated (its own namespaces or files only: runs beside the shared lane)
#
# wl_seccomp: processes and threads in seccomp strict mode and with BPF
# filter chains (per thread, shared through TSYNC and clone, inherited by
# a child, shared by two threads beyond the main thread's, with
# SECCOMP_FILTER_FLAG_LOG).  A freeze must neither kill nor
# change them (the daemon's injected syscalls run with the filters
# suspended): after freeze and thaw every task is alive and the kernel
# shows the same modes, filters and flags.  The same holds after
# checkpoint, kill and restore; then the workload checks from inside what
# each filter does, that strict mode still kills, and that shared chains
# are shared again.  A filter that notifies user space is refused by name,
# and the process goes on after thaw.
. "$(dirname "$0")/lib.sh"

crfs_mount
nlog=$T_DIR/notif.log
start_workload "$nlog" "$CRFS_TESTS/wl_seccomp" notif
npid=$WL_PID
wait_ready "$nlog" "$npid"
cr_attach nf "$npid"
cr_freeze nf
ctl_read nf | grep -q "^unsupported process $npid thread $npid: seccomp filter 0 returns SECCOMP_RET_USER_NOTIF" ||
	fail "user notification not refused: $(ctl_read nf | tr '\n' '|')"
timeout 10 cat "$MNT/nf/image" >/dev/null 2>&1 && fail "image of a refused freeze reads"
cr_thaw nf
kill -USR1 "$npid" || fail "cannot signal $npid"
expect_pass "$nlog" "$npid" 10
timeout "$T_CTL_TIMEOUT" rmdir "$MNT/nf" || fail "rmdir nf failed"

log=$T_DIR/seccomp.log
start_workload "$log" "$CRFS_TESTS/wl_seccomp"
sub=$WL_PID
wait_root "$log" "$sub"
root=$ROOT_PID
pids=$(tree_pids "$root" | sort -n | tr '\n' ' ')
[ "$(wc -w <<<"$pids")" = 4 ] || fail "tree of $root is '$pids', want 4 processes"
track_tree "$root"

# every thread's mode, and each filter's flags, length and hash
inspect() {
	# shellcheck disable=SC2086
	"$CRFS_TESTS/wl_seccomp" inspect $pids >"$T_DIR/$1" 2>&1 ||
		fail "inspect ($1) failed"
}
inspect before
grep -q ' mode 1 ' "$T_DIR/before" && grep -q 'flags 0x2 ' "$T_DIR/before" ||
	fail "no strict task or no logged filter: $(tr '\n' '|' <"$T_DIR/before")"

cr_attach sc "$root"
cr_freeze sc
ctl_read sc | grep -q '^unsupported' &&
	fail "freeze refused: $(ctl_read sc | grep '^unsupported' | tr '\n' '|')"
cr_thaw sc
for p in $pids; do
	proc_alive "$p" || fail "pid $p died across freeze and thaw"
done
inspect thawed
diff -u "$T_DIR/before" "$T_DIR/thawed" >&2 ||
	fail "seccomp state changed across freeze and thaw"

cr_freeze sc
cr_copy sc "$T_DIR/ckpt"
grep -qx 'mode 1' "$T_DIR/ckpt/$root/task/$root/seccomp" 2>/dev/null &&
	fail "the root's main thread is recorded in strict mode"
grep -q '^filter 0x2 4$' "$T_DIR/ckpt/$root/task/$root/seccomp" ||
	fail "$root/task/$root/seccomp lacks the logged filter"
kill_and_reap sc "$root" "$sub"

restore_bg "$T_DIR/ckpt" "$root"
track_tree "$root"
inspect restored
diff -u "$T_DIR/before" "$T_DIR/restored" >&2 ||
	fail "seccomp state differs after restore"
kill -USR1 "$root" || fail "cannot signal restored pid $root"
expect_pass "$log" "$RESTORE_PID" 30
[ "$(grep -c '^PASS' "$log")" = 42 ] ||
	fail "$(grep -c '^PASS' "$log") PASS lines, want 42"
pass
