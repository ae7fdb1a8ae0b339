#!/bin/bash
# SPDX-License-Identifier: MIT
# e2e-lane: isolated (its own namespaces or files only: runs beside the shared lane)
#
# Generations of a tree in a mount namespace of its own: checkpoint ->
# kill -> restore, then checkpoint -> kill -> restore of the restored tree,
# and so on; the restored workload checks its mount table and files after
# each (SIGUSR2), and once more at the end.  wl_mntns (see t_mntns) with a
# rootfs of its own; with a copy of our mounts (unshare --mount-proc) plus
# a tmpfs; with a copy of our mounts plus a proc only, which stays that
# (restore makes a copy of ours again) though we mounted more since each
# copy was made; and a copy that took one of our mounts away, or made
# one read-only, which is a mount tree of its own and comes back so.
if [ -z "${CRFS_T_OWN_MOUNTS:-}" ]; then
	CRFS_T_OWN_MOUNTS=1 exec unshare --mount --propagation private "$0" "$@"
fi
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/mntns.sh"

own_mounts_plain
crfs_mount

GENS=${GENS:-3}

# generations NAME LOG: GENS times checkpoint -> kill -> restore of the
# tree in PID (its parent UNSHARE); after each restore the workload checks
# all of it (SIGUSR2) and goes on, and once more at the end (SIGUSR1).
# gen_hook PHASE G, if set, runs before the checkpoint (saving), once the
# image is in $IMG (saved) and once the tree is gone (killed).
generations() {
	local name=$1 log=$2 g
	for g in $(seq 1 "$GENS"); do
		IMG=$T_DIR/$name$g.img
		${gen_hook:-:} saving "$g"
		checkpoint "$name$g" "$PID" "$IMG"
		${gen_hook:-:} saved "$g"
		kill_and_reap "$name$g" "$PID" "$UNSHARE"
		${gen_hook:-:} killed "$g"
		restore_newpid "$IMG"
		PID=$NEW_PID
		UNSHARE=$RESTORE_PID
		kill -USR2 "$PID" || fail "$name generation $g: cannot signal restored pid $PID"
		wait_line "$log" "^CHECKED $g\$" 30 "$PID"
		grep -q '^FAIL' "$log" &&
			fail "$name generation $g: $(grep '^FAIL' "$log" | tr '\n' ';')"
	done
	kill -USR1 "$PID" || fail "cannot signal restored pid $PID"
	expect_pass "$log" "$UNSHARE" 30
}

# a rootfs of its own (t_mntns's ckpt case)
start_case gen
generations gen "$T_DIR/gen/hostdir/wl.log"

# a copy of our mounts with a tmpfs of its own
mkdir -p "$T_DIR/plain/t"
start_init "$T_DIR/plain.log" "$T_DIR/plain.log" unshare --mount --pid \
	--fork --mount-proc "$CRFS_TESTS/wl_mntns" plain "$T_DIR/plain/t"
generations plain "$T_DIR/plain.log"

# a copy of our mounts plus a proc, nothing of its own: saved as that (no
# mounts file; restore makes a copy of ours again) in every generation,
# though we mounted more (on $L) after each restore made the copy
L=$T_DIR/late
mkdir -p "$L"
trap 'rc=$?; umount -l "$L" "$T_DIR/gone" "$T_DIR/ro" 2>/dev/null; (exit $rc); _cleanup' EXIT
copy_hook() {
	[ "$2" = 1 ] && return 0
	case $1 in
	saving) mount -t tmpfs crfslate "$L" || fail "mount on $L" ;;
	saved)
		[ -e "$IMG/mounts" ] &&
			fail "copy generation $2: saved as a mount tree of its own: $(grep crfslate "$IMG/mounts")"
		grep -q '^proc_mount 1$' "$IMG/$PID/attr" ||
			fail "copy generation $2: not saved as a copy of ours plus a proc" ;;
	killed) umount "$L" || fail "umount $L" ;;
	esac
}
start_init "$T_DIR/copy.log" "$T_DIR/copy.log" unshare --mount --pid \
	--fork --mount-proc "$CRFS_TESTS/wl_mntns" copy
gen_hook=copy_hook generations copy "$T_DIR/copy.log"

# the copy without one of our mounts it had (it took it away): a mount
# tree of its own, restored without it
gone_hook() {
	[ "$1" = saved ] || return 0
	[ -e "$IMG/mounts" ] ||
		fail "gone: saved as a plain copy of our mounts, which has $T_DIR/gone"
	grep -q crfsgone "$IMG/mounts" && fail "gone: its mounts has $T_DIR/gone"
	return 0
}
mkdir -p "$T_DIR/gone"
mount -t tmpfs crfsgone "$T_DIR/gone" || fail "mount on $T_DIR/gone"
start_init "$T_DIR/gone.log" "$T_DIR/gone.log" unshare --mount --pid \
	--fork --mount-proc "$CRFS_TESTS/wl_mntns" copy "$T_DIR/gone"
GENS=1 gen_hook=gone_hook generations gone "$T_DIR/gone.log"

# the copy with one of our mounts made read-only in it: a mount tree of
# its own too, restored with it read-only (the workload checks its table)
ro_hook() {
	[ "$1" = saved ] || return 0
	grep -q " crfsro ro[ ,]" "$IMG/mounts" ||
		fail "ro: saved as a plain copy of ours, or without its ro: $(grep crfsro "$IMG/mounts" 2>&1)"
}
mkdir -p "$T_DIR/ro"
mount -t tmpfs crfsro "$T_DIR/ro" || fail "mount on $T_DIR/ro"
start_init "$T_DIR/ro.log" "$T_DIR/ro.log" unshare --mount --pid \
	--fork --mount-proc "$CRFS_TESTS/wl_mntns" copy "ro:$T_DIR/ro"
GENS=1 gen_hook=ro_hook generations ro "$T_DIR/ro.log"
pass
