#!/bin/bash
# SPDX-License-Identifier: MIT
# e2e-lane: shared pty (ptys of the host's devpts)
#
# wl_files holds one open file of every kind crfs restores (see the
# workload for the list), shared across dup() and fork().  First the
# checkpoint is taken and the container thawed: peeking at pipes and
# sockets must have taken nothing, and the workload checks everything
# in place.  Then a second run is checkpointed, killed and restored, and
# checks the same things again, after a second checkpoint and restore
# of the restored tree.  Last, the same in a pid namespace of its own.
# unshare --mount-proc is refused unless the mount tables differ only by
# /proc: run in a mount namespace of our own, which other tests' mounts
# and unmounts (the host's root is private) do not reach meanwhile.
if [ -z "${CRFS_T_OWN_MOUNTS:-}" ]; then
	CRFS_T_OWN_MOUNTS=1 exec unshare --mount --propagation private "$0" "$@"
fi
. "$(dirname "$0")/lib.sh"

crfs_mount
for mode in thaw restore; do
	work=$T_DIR/work-$mode
	mkdir -p "$work"
	log=$T_DIR/files-$mode.log
	start_workload "$log" "$CRFS_TESTS/wl_files" "$work"
	wrapper=$WL_PID
	wait_root "$log" "$wrapper"
	root=$ROOT_PID
	track_tree "$root"
	checkpoint "f$mode" "$root" "$T_DIR/ckpt-$mode"
	grep -q ' unix ' "$T_DIR/ckpt-$mode/files" || fail "files lists no unix socket"
	grep -q " accepted=" "$T_DIR/ckpt-$mode/files" || fail "files marks no accepted connection"
	grep -q " connect=" "$T_DIR/ckpt-$mode/files" || fail "files marks no pending connection"
	grep " ptmx " "$T_DIR/ckpt-$mode/files" | grep " input=" | grep -q " data=" ||
		fail "the pty's queues are not in the image: $(grep ptmx "$T_DIR/ckpt-$mode/files")"
	if [ "$mode" = thaw ]; then
		cr_thaw "f$mode"
		kill -USR1 "$root" || fail "cannot signal $root"
		expect_pass "$log" "$wrapper" 30
		timeout "$T_CTL_TIMEOUT" rmdir "$MNT/f$mode" || fail "rmdir f$mode"
		continue
	fi
	kill_and_reap "f$mode" "$root" "$wrapper"
	# a copy missing a payload, or with the table edited, is refused
	cp -a "$T_DIR/ckpt-$mode" "$T_DIR/bad"
	victim=$(ls "$T_DIR/bad/fdata" | head -n 1)
	rm "$T_DIR/bad/fdata/$victim"
	"$CRFS_BIN/crfs-restore" "$T_DIR/bad" </dev/null >"$T_DIR/bad.out" 2>&1 &&
		fail "restore of an image without fdata/$victim succeeded"
	grep -q "fdata/$victim" "$T_DIR/bad.out" ||
		fail "the refusal does not name fdata/$victim: $(cat "$T_DIR/bad.out")"
	rm -rf "$T_DIR/bad"
	cp -a "$T_DIR/ckpt-$mode" "$T_DIR/bad"
	sed -i 's/ backlog=7 / backlog=8 /' "$T_DIR/bad/files"
	"$CRFS_BIN/crfs-restore" "$T_DIR/bad" </dev/null >"$T_DIR/bad.out" 2>&1 &&
		fail "restore of an image with files edited succeeded"
	grep -q "files: checksum mismatch" "$T_DIR/bad.out" ||
		fail "the refusal does not name files: $(cat "$T_DIR/bad.out")"
	rm -rf "$T_DIR/bad"
	restore_bg "$T_DIR/ckpt-$mode" "$root"
	track_tree "$root"
	# what a restore made must checkpoint and restore as well
	checkpoint "g$mode" "$root" "$T_DIR/ckpt2-$mode"
	kill_and_reap "g$mode" "$root" "$RESTORE_PID"
	restore_bg "$T_DIR/ckpt2-$mode" "$root"
	track_tree "$root"
	kill -USR1 "$root" || fail "cannot signal restored root $root"
	expect_pass "$log" "$RESTORE_PID" 30
done

# once more as the tree of its own pid namespace (--mount-proc): pidfds
# name pids of that namespace
command -v unshare >/dev/null || fail "unshare (util-linux) not found"
work=$T_DIR/work-ns
mkdir -p "$work"
log=$T_DIR/files-ns.log
start_workload "$log" unshare --pid --fork --mount-proc "$CRFS_TESTS/wl_files" "$work"
u=$WL_PID
wait_line "$log" '^READY ROOT=' 20 "$u"
init=$(pgrep -P "$u")
track_tree "$init"
checkpoint fns "$init" "$T_DIR/ckpt-ns"
kill_and_reap fns "$init" "$u"
rm -f "$T_DIR/ns.pid"
"$CRFS_BIN/crfs-restore" --pidfile "$T_DIR/ns.pid" "$T_DIR/ckpt-ns" </dev/null \
	>"$T_DIR/restore-ns.out" 2>"$T_DIR/restore-ns.err" &
r=$!
track_pid "$r"
wait_for 20 eval '[ -s "$T_DIR/ns.pid" ] || ! proc_alive '"$r" ||
	fail "no pidfile from the pid namespace restore"
[ -s "$T_DIR/ns.pid" ] || fail "crfs-restore failed: $(cat "$T_DIR/restore-ns.err")"
np=$(tr -dc 0-9 <"$T_DIR/ns.pid")
track_tree "$np"
root=$(pgrep -P "$np" | head -n 1)
[ -n "$root" ] || fail "the restored init has no child"
kill -USR1 "$root" || fail "cannot signal restored root $root"
expect_pass "$log" "$r" 30
pass
