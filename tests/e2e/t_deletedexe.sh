#!/bin/bash
# SPDX-License-Identifier: MIT
# e2e-lane: isolated (its own namespaces or files only: runs beside the shared lane)
#
# wl_deletedexe: a process whose executable was deleted while it ran (an
# upgrade).  Its bytes come back from the image's copy of its mapping:
# /proc/PID/exe names the deleted file again, with its mode and bytes.
# Then the same with the path taken by a new file before the restore: the
# new file is left alone and the executable comes back beside it.
. "$(dirname "$0")/lib.sh"

crfs_mount
mkdir -p "$T_DIR/bin"

# run_deleted NAME ARG: a copy of the workload, started, then deleted
run_deleted() {
	exe=$T_DIR/bin/$1
	cp "$CRFS_TESTS/wl_deletedexe" "$exe"
	chmod 0751 "$exe"
	log=$T_DIR/$1.log
	start_workload "$log" "$exe" $2
	pid=$WL_PID
	wait_ready "$log" "$pid"
	rm -f "$exe"
	case $(readlink "/proc/$pid/exe") in
	*" (deleted)") ;;
	*) fail "$exe: /proc/$pid/exe does not say deleted" ;;
	esac
}

run_deleted upgraded ""
cr_attach de "$pid"
cr_freeze de
cr_copy de "$T_DIR/ckpt"
cr_thaw de
grep -q '^exe .*\\040(deleted)$' "$T_DIR/ckpt/$pid/attr" ||
	fail "$pid/attr: $(grep '^exe' "$T_DIR/ckpt/$pid/attr")"
grep -qx 'exe_mode 0751' "$T_DIR/ckpt/$pid/attr" ||
	fail "$pid/attr: $(grep '^exe_mode' "$T_DIR/ckpt/$pid/attr")"
kill_and_reap de "$pid"
restore_bg "$T_DIR/ckpt" "$pid"
[ -e "$exe" ] && fail "restore left $exe behind"
kill -USR1 "$pid" || fail "cannot signal restored pid $pid"
expect_pass "$log" "$RESTORE_PID" 20

run_deleted taken taken
checkpoint dt "$pid" "$T_DIR/ckpt-taken"
kill_and_reap dt "$pid"
echo "the new version" >"$exe"
restore_bg "$T_DIR/ckpt-taken" "$pid"
[ "$(cat "$exe")" = "the new version" ] || fail "restore changed $exe"
ls "$T_DIR/bin" | grep -q crfs-ghost && fail "restore left $(ls "$T_DIR/bin")"
kill -USR1 "$pid" || fail "cannot signal restored pid $pid"
expect_pass "$log" "$RESTORE_PID" 20
pass
