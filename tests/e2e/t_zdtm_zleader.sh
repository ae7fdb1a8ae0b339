#!/bin/bash
# SPDX-License-Identifier: MIT
# e2e-lane: isolated (its own namespaces or files only: runs beside the shared lane)
#
# wl_zdtm_zleader (zdtm's zombie_leader): a process whose main thread has
# exited while another thread runs on.  crfs cannot save it (/proc shows
# the leader as a zombie; saved as one, its threads would be lost): attach
# of it, and a freeze of a tree that holds it, are refused by name, and the
# process runs on, still checking itself after SIGUSR1.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/zdtm_lib.sh"

crfs_mount
text="its main thread has exited while other threads run on (a zombie leader): not supported"

# as the root: attach says so
log=$T_DIR/root.log
start_workload "$log" "$CRFS_TESTS/wl_zdtm_zleader"
pid=$WL_PID
wait_ready "$log" "$pid"
cr_create root
ctl_write root "attach $pid" && fail "attach of a zombie leader succeeded"
ctl_read root | grep -qF "attach: process $pid: $text" ||
	fail "root: ctl says $(ctl_read root | tr '\n' '|')"
timeout "$T_CTL_TIMEOUT" rmdir "$MNT/root" || fail "rmdir $MNT/root failed"
kill -USR1 "$pid" || fail "cannot signal pid $pid"
expect_pass "$log" "$pid" 30

# as a child of the tree's root: the freeze fails and says so
log=$T_DIR/child.log
start_workload "$log" bash -c '"$1"; exit $?' bash "$CRFS_TESTS/wl_zdtm_zleader"
sh=$WL_PID
wait_line "$log" '^READY$' 20 "$sh"
kid=$(pgrep -P "$sh")
[ -n "$kid" ] || fail "no workload under bash $sh"
zdtm_freeze_fails child "$sh" "process $kid: $text"
kill -USR1 "$kid" || fail "cannot signal pid $kid"
expect_pass "$log" "$sh" 30
pass
