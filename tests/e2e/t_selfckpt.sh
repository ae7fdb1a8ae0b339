#!/bin/bash
# SPDX-License-Identifier: MIT
# e2e-lane: isolated (its own namespaces or files only: runs beside the shared lane)
#
# wl_selfckpt: a process checkpoints itself by writing 'snapshot' to its
# container's ctl.  crfs answers the write and the writer stops on its way
# out of it; the post-dump snapshot is taken, and the write returns once
# it exists.  'freeze' written from inside is refused (EDEADLK).  The
# workload reports the freeze_id it saw, which must be the image's; the
# image restores (its ctl descriptor opens the container's ctl again) and
# goes on from the write, as the original did.
. "$(dirname "$0")/lib.sh"

crfs_mount
log=$T_DIR/selfckpt.log
start_root "$log" "$CRFS_TESTS/wl_selfckpt" root "$MNT/self/ctl"
cr_attach self "$ROOT"
kill -USR2 "$ROOT" || fail "cannot signal $ROOT"
wait_line "$log" '^(SNAPPED|ctl after)' 30 "$ROOT"
grep -q '^FAIL' "$log" && fail "$(grep '^FAIL' "$log" | head -n 2 | tr '\n' ';')"
id=$(sed -n 's/^SNAPPED freeze_id //p' "$log")
[ -n "$id" ] || fail "no snapshot seen from inside: $(grep '^ctl after' "$log")"
expect_state self running
ctl_read self | grep -q "^freeze_id $id\$" || fail "ctl's freeze_id is not $id"
note "$(ctl_read self | grep '^postdump')"
cr_copy self "$T_DIR/ckpt"
grep -q "^freeze_id $id\$" "$T_DIR/ckpt/image" || fail "the image is not of freeze $id"

ctl_write self kill || fail "kill refused"
wait_gone "$ROOT" 20 || fail "root $ROOT still alive after kill"
ctl_write self release || fail "release refused: $(ctl_read self | tr '\n' '|')"
wait_exit "$TOP" 20 || fail "the subreaper $TOP did not exit"
grep -q '^PASS freeze-from-inside-refused' "$log" || fail "freeze from inside was not refused"

restore_bg "$T_DIR/ckpt" "$ROOT"
kill -USR1 "$ROOT" || fail "cannot signal restored pid $ROOT"
expect_pass "$log" "$RESTORE_PID" 60
timeout "$T_CTL_TIMEOUT" rmdir "$MNT/self" || fail "rmdir failed"
pass
